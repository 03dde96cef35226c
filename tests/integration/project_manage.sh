#!/bin/bash
# Project management as LXD has it (issue 10's first part): POST, PUT,
# PATCH, rename and DELETE on /1.0/projects, decided by the store. Config
# keys and values are checked, the default project keeps its name, features
# and life, features.images changes only on an empty project, a limit is
# never set below use, only empty projects are renamed or deleted, and a
# project without features.images shares the default project's images.
# Images in another project are missing, byte for byte. Every refusal is
# audited and leaves nothing. The real lxc drives it over the socket and
# over HTTPS (a trusted remote joined with a token); the same sequence runs
# against a reference LXD where one starts here.
. "$(dirname "$0")/lib.bash"

https_start || { summary; exit 1; }

# What a refusal could leave: projects, their config, images, aliases.
pstate() {
	sqlite3 "$STATE/imgd.db" "SELECT id, name, description FROM projects
	    ORDER BY id; SELECT * FROM project_config ORDER BY 1, 2;"
	state_snapshot
}
refused() { grep '"event":"request-refused"' "$STATE/audit.log" |
    grep -c '"action":"project-'; }
cfg() { api_body GET "/1.0/projects/$1" | jget metadata.config; }

# ---- create ----
out=$(api POST /1.0/projects -i -d \
    '{"name":"t1","description":"team one","config":{"features.images":"true"}}')
check_eq "create: 201" "$(echo "$out" | tail -1)" 201
check_contains "create: Location of the project" "$out" \
    "Location: /1.0/projects/t1"
doc=$(api_body GET /1.0/projects/t1)
check_eq "create: the name" "$(echo "$doc" | jget metadata.name)" t1
check_eq "create: the description" \
    "$(echo "$doc" | jget metadata.description)" "team one"
check_eq "create: LXD's default features, and what was asked" \
    "$(echo "$doc" | jget metadata.config)" \
    '{"features.images": "true", "features.profiles": "true", "features.storage.volumes": "true"}'
check_eq "create: listed" "$(api_body GET /1.0/projects | jget metadata)" \
    '["/1.0/projects/default", "/1.0/projects/t1"]'
check_contains "create: audited" "$(grep project-created "$STATE/audit.log")" \
    '"project":"t1"'

# ---- refusals: each leaves nothing, each the store's (audited) but those
# that cannot cross the channel ----
before=$(pstate)
r0=$(refused)
while IFS='|' read -r body status msg; do
	out=$(api POST /1.0/projects -d "$body")
	check_eq "create $body: $status" "$(echo "$out" | tail -1)" "$status"
	check_eq "create $body: says why" \
	    "$(echo "$out" | sed '$d' | jget error)" "$msg"
done <<'EOF'
{"name":"t1"}|409|Project "t1" already exists
{"config":{}}|400|No name provided
{"name":""}|400|No name provided
{"name":"a b"}|400|Project names may not contain spaces
{"name":"a_b"}|400|Project names may not contain underscores
{"name":"a\"b"}|400|Project names may not contain quotes
{"name":"."}|400|Invalid project name "."
{"name":".."}|400|Invalid project name ".."
{"name":"*"}|400|Invalid project name "*"
{"name":"a/b"}|400|Project names may not contain slashes
{"name":"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"}|400|Project names are at most 63 bytes
{"name":"x","config":{"foo":"bar"}}|400|Invalid project configuration key "foo" (imgd knows features.images, features.profiles, features.storage.volumes, features.networks, limits.images, limits.disk, limits.images.uploads, limits.images.copies, limits.images.unpacks, restricted.images.remotes, restricted.images.signed and user.*)
{"name":"x","config":{"user.":"bar"}}|400|Invalid project configuration key "user." (imgd knows features.images, features.profiles, features.storage.volumes, features.networks, limits.images, limits.disk, limits.images.uploads, limits.images.copies, limits.images.unpacks, restricted.images.remotes, restricted.images.signed and user.*)
{"name":"x","config":{"features.images":"maybe"}}|400|Invalid value for project configuration key "features.images": "maybe" is not a boolean
{"name":"x","config":{"limits.images":"-1"}}|400|Invalid value for project configuration key "limits.images": "-1" is not a number of images
{"name":"x","config":{"limits.disk":"10 parsecs"}}|400|Invalid value for project configuration key "limits.disk": "10 parsecs" is not a size (like 10GiB or 500MB)
{"name":"x","config":{"limits.disk":"99999999999EiB"}}|400|Invalid value for project configuration key "limits.disk": "99999999999EiB" is not a size (like 10GiB or 500MB)
{"name":"x","config":{"a b":"c"}}|400|Invalid project configuration key "a b"
{"name":"x","config":{"user.a":1}}|400|Invalid value for project configuration key "user.a": a string of at most 1024 characters, no control characters
{"name":"x","config":[]}|400|Invalid value for "config": expected an object of strings
{"name":5}|400|Invalid value for "name": expected a string
EOF
check_eq "create refusals: nothing left" "$(pstate)" "$before"
# 13 of them reach the store (the rest cannot cross the channel).
check_eq "create refusals: the store's audited" "$(($(refused) - r0))" 13

# ---- PUT and PATCH ----
check_eq "PATCH description: 200" "$(api_status PATCH /1.0/projects/t1 -d \
    '{"description":"team 1"}')" 200
check_eq "PATCH description: config kept" "$(cfg t1)" \
    '{"features.images": "true", "features.profiles": "true", "features.storage.volumes": "true"}'
check_eq "PATCH config: keys merged" "$(api_status PATCH /1.0/projects/t1 \
    -d '{"config":{"user.team":"one","limits.images":"5"}}')" 200
check_eq "PATCH config: merged" "$(cfg t1)" \
    '{"features.images": "true", "features.profiles": "true", "features.storage.volumes": "true", "limits.images": "5", "user.team": "one"}'
check_eq "PATCH config: an empty value removes a key" \
    "$(api_status PATCH /1.0/projects/t1 -d '{"config":{"limits.images":""}}')" 200
check_eq "PATCH: removed" "$(cfg t1 | grep -c limits)" 0
check_eq "PUT: replaces config and description" \
    "$(api_status PUT /1.0/projects/t1 -d \
    '{"config":{"features.images":"true","limits.disk":"1GiB"}}')" 200
check_eq "PUT: replaced" "$(cfg t1)" \
    '{"features.images": "true", "limits.disk": "1GiB"}'
check_eq "PUT: description emptied" "$(api_body GET /1.0/projects/t1 |
    jget metadata.description)" ""
check_eq "PUT on an unknown project: 404" \
    "$(api_status PUT /1.0/projects/nope -d '{"config":{}}')" 404
check_eq "PATCH on the default project: description" \
    "$(api_status PATCH /1.0/projects/default -d '{"description":"Main"}')" 200
check_eq "PATCH on the default project: user keys" \
    "$(api_status PATCH /1.0/projects/default -d '{"config":{"user.a":"b"}}')" 200

# ---- images per project ----
W=$T_TMP/work
A=$(mkunified "$W/a.tar" gzip)
FA=$(sha256sum "$A" | cut -d' ' -f1)
B=$(mkunified "$W/b.tar" xz)
FB=$(sha256sum "$B" | cut -d' ' -f1)
check "imgctl --project t1 image import" "$BIN/imgctl" --project t1 image \
    import "$A" --alias a-t1
check "imgctl image import (default)" "$BIN/imgctl" image import "$B"
check_eq "t1 lists its image only" "$(api_body GET '/1.0/images?project=t1' |
    jget metadata)" "[\"/1.0/images/$FA\"]"
check_eq "default lists its image only" "$(api_body GET /1.0/images |
    jget metadata)" "[\"/1.0/images/$FB\"]"
check_eq "t1's used_by: its image" "$(api_body GET /1.0/projects/t1 |
    jget metadata.used_by)" "[\"/1.0/images/$FA?project=t1\"]"
missing=$(api GET "/1.0/images/$(printf 0%.0s $(seq 1 64))")
before=$(pstate)
for req in "GET /1.0/images/$FA" "GET /1.0/images/${FA:0:12}" \
    "GET /1.0/images/$FA/export" "DELETE /1.0/images/$FA" \
    "PATCH /1.0/images/$FA" "PUT /1.0/images/$FA" \
    "POST /1.0/images/$FA/refresh" "POST /1.0/images/$FA/secret"; do
	m=${req%% *} p=${req#* }
	check_eq "from default, $m on t1's image: as a missing one" \
	    "$(api "$m" "$p" -d '{"public":true,"properties":{}}')" "$missing"
done
check_eq "from default, t1's alias: missing" \
    "$(api_status GET /1.0/images/aliases/a-t1)" 404
check_eq "from default, an alias onto t1's image: refused as missing" \
    "$(api_body POST /1.0/images/aliases -d \
    "{\"name\":\"x\",\"target\":\"$FA\"}" | jget error)" "Image not found"
check_eq "from t1, default's image: missing" \
    "$(api_status GET "/1.0/images/$FB?project=t1")" 404
check_eq "cross-project attempts left nothing" "$(pstate)" "$before"

# ---- what a project holding images may not do ----
before=$(pstate)
r0=$(refused)
while IFS='|' read -r req body status msg; do
	m=${req%% *} p=${req#* }
	out=$(api "$m" "$p" -d "$body")
	check_eq "$req $body: $status" "$(echo "$out" | tail -1)" "$status"
	check_eq "$req $body: says why" "$(echo "$out" | sed '$d' |
	    jget error)" "$msg"
done <<'EOF'
PATCH /1.0/projects/t1|{"config":{"features.images":"false"}}|400|Features can only be changed on empty projects: project "t1" holds 1 images and 1 aliases
PUT /1.0/projects/t1|{"config":{}}|400|Features can only be changed on empty projects: project "t1" holds 1 images and 1 aliases
PATCH /1.0/projects/t1|{"config":{"limits.images":"0"}}|400|limits.images 0 is below what project "t1" holds: 1 images
DELETE /1.0/projects/t1|{}|409|Only empty projects can be deleted: project "t1" holds 1 images and 1 aliases
POST /1.0/projects/t1|{"name":"t9"}|409|Only empty projects can be renamed: project "t1" holds 1 images and 1 aliases
DELETE /1.0/projects/default|{}|400|The 'default' project cannot be deleted
POST /1.0/projects/default|{"name":"zz"}|400|The 'default' project cannot be renamed
PATCH /1.0/projects/default|{"config":{"features.images":"false"}}|400|You can't change the features of the default project
PUT /1.0/projects/default|{"config":{}}|400|You can't change the features of the default project
DELETE /1.0/projects/nope|{}|404|Project not found
POST /1.0/projects/nope|{"name":"zz"}|404|Project not found
EOF
check_eq "in-use refusals: nothing changed" "$(pstate)" "$before"
check_eq "in-use refusals: audited" "$(($(refused) - r0))" 11
check_contains "the disk refusal names the bytes used" \
    "$(api_body PATCH /1.0/projects/t1 -d '{"config":{"limits.disk":"10B"}}' |
    jget error)" "holds: $(stat -c %s "$A") bytes"

# ---- a project that shares the default project's images ----
check_eq "create shared (features.images=false)" "$(api_status POST \
    /1.0/projects -d '{"name":"sh","config":{"features.images":"false"}}')" 201
check_eq "shared: lists the default project's images" \
    "$(api_body GET '/1.0/images?project=sh' | jget metadata)" \
    "[\"/1.0/images/$FB\"]"
check_eq "shared: gets one" "$(api_status GET "/1.0/images/$FB?project=sh")" \
    200
C=$(mkunified "$W/c.tar" bzip2)
FC=$(sha256sum "$C" | cut -d' ' -f1)
check "shared: an import" "$BIN/imgctl" --project sh image import "$C" \
    --alias c-shared
check_contains "shared: lands in the default project" \
    "$(api_body GET /1.0/images | jget metadata)" "$FC"
check_eq "shared: its alias too" \
    "$(api_body GET /1.0/images/aliases/c-shared | jget metadata.target)" "$FC"
check_eq "shared: used_by holds none of its own" \
    "$(api_body GET /1.0/projects/sh | jget metadata.used_by)" "[]"
check_eq "shared: features.images on while it is empty of its own" \
    "$(api_status PATCH /1.0/projects/sh -d \
    '{"config":{"features.images":"true"}}')" 200
check_eq "shared no longer: its own (empty) image list" \
    "$(api_body GET '/1.0/images?project=sh' | jget metadata)" "[]"

# ---- rename and delete ----
out=$(api POST /1.0/projects/sh -d '{"name":"sh2"}')
check_eq "rename: 202" "$(echo "$out" | tail -1)" 202
op=$(echo "$out" | sed '$d' | jget operation)
check_eq "rename: the operation succeeds" "$(op_wait "$op")" Success
check_eq "rename: the old name is gone" "$(api_status GET /1.0/projects/sh)" 404
check_eq "rename: the new one has its config" "$(cfg sh2)" \
    '{"features.images": "true", "features.profiles": "true", "features.storage.volumes": "true"}'
check_eq "rename onto an existing name: 409" "$(api_status POST \
    /1.0/projects/sh2 -d '{"name":"t1"}')" 409
check_eq "rename to a bad name: 400" "$(api_body POST /1.0/projects/sh2 -d \
    '{"name":"a b"}' | jget error)" "Project names may not contain spaces"
check_eq "delete: 200" "$(api_status DELETE /1.0/projects/sh2)" 200
check_eq "delete: gone" "$(api_status GET /1.0/projects/sh2)" 404
check_eq "delete: no config left behind" "$(sqlite3 "$STATE/imgd.db" \
    'SELECT count(*) FROM project_config WHERE project_id NOT IN
	(SELECT id FROM projects)')" 0
check "t1's image deleted" "$BIN/imgctl" --project t1 image delete "$FA"
check_eq "t1, empty now, is deleted" "$(api_status DELETE /1.0/projects/t1)" \
    200
check_eq "only default is left" "$(sqlite3 "$STATE/imgd.db" \
    'SELECT name FROM projects')" default
for ev in project-created project-updated project-renamed project-deleted; do
	check_contains "audit: $ev" "$(cat "$STATE/audit.log")" "\"event\":\"$ev\""
done

# ---- the real lxc over the socket ----
check "lxc project create -c features.images=true" \
    lxc project create p1 -c features.images=true
check_contains "lxc project list" "$(lxc project list -f csv)" "p1,YES,YES,YES,NO"
check "lxc project set" lxc project set p1 user.owner alice
check_eq "lxc project get" "$(lxc project get p1 user.owner)" alice
check "lxc project unset" lxc project unset p1 user.owner
check_eq "lxc project get: unset" "$(lxc project get p1 user.owner)" ""
check "lxc project edit (yaml on stdin)" lxc project edit p1 <<'EOF'
description: edited by lxc
config:
  features.images: "true"
  user.k: v
EOF
check_eq "lxc project edit: applied" "$(api_body GET /1.0/projects/p1 |
    jget metadata.description)" "edited by lxc"
check_contains "lxc project show" "$(lxc project show p1)" "user.k: v"
check "lxc --project p1 image import --alias" lxc --project p1 image import \
    "$A" --alias lx1
check_contains "lxc --project p1 image list" \
    "$(lxc --project p1 image list -c lf -f csv)" "lx1,${FA:0:12}"
check_eq "lxc image list (default) has not got it" \
    "$(lxc image list -c f -f csv | grep -c "${FA:0:12}")" 0
check "lxc --project p1 image alias create" lxc --project p1 image alias \
    create lx2 "$FA"
check_contains "lxc --project p1 image alias list" \
    "$(lxc --project p1 image alias list -f csv)" "lx2"
check_eq "lxc project delete of a project with images" \
    "$(lxc_out lxc project delete p1)" \
    'Error: Only empty projects can be deleted: project "p1" holds 1 images and 2 aliases'
check_eq "lxc project set a bad key" "$(lxc_out lxc project set p1 foo bar)" \
    'Error: Invalid project configuration key "foo" (imgd knows features.images, features.profiles, features.storage.volumes, features.networks, limits.images, limits.disk, limits.images.uploads, limits.images.copies, limits.images.unpacks, restricted.images.remotes, restricted.images.signed and user.*)'
check "lxc --project p1 image delete" lxc --project p1 image delete lx1
check "lxc project rename" lxc project rename p1 p2
check_contains "lxc project list after rename" "$(lxc project list -f csv)" \
    "p2,YES"
check "lxc project delete" lxc project delete p2
check_eq "lxc project list: default only" "$(lxc project list -f csv |
    cut -d, -f1)" "default (current)"
check_eq "lxc project delete default" "$(lxc_out lxc project delete default)" \
    "Error: The 'default' project cannot be deleted"

# ---- imgctl project ... ----
ic() { lxc_out "$BIN/imgctl" "$@"; }
check_eq "imgctl project create" "$(ic project create i1 -c features.images=true \
    -c user.a=b --description 'by imgctl')" "Project i1 created"
check_eq "imgctl project get" "$(ic project get i1 user.a)" b
check "imgctl project set KEY VALUE" "$BIN/imgctl" project set i1 user.a c
check "imgctl project set KEY=VALUE" "$BIN/imgctl" project set i1 limits.images=4
check "imgctl project unset" "$BIN/imgctl" project unset i1 user.a
check_eq "imgctl project show: as lxc shows it" "$(ic project show i1)" \
    "$(lxc_out lxc project show i1)"
check_eq "imgctl project list: as lxc lists it" \
    "$(ic project list -f csv)" "$(lxc project list -f csv)"
check_eq "imgctl project list --project i1 marks it" \
    "$(ic --project i1 project list -f csv | grep current | cut -d, -f1)" \
    "i1 (current)"
check_eq "imgctl project list -f json: the lxc struct" \
    "$(ic project list -f json)" "$(lxc project list -f json)"
check_eq "imgctl project set: a bad value, the store's words" \
    "$(ic project set i1 limits.images lots)" \
    'Error: Invalid value for project configuration key "limits.images": "lots" is not a number of images'
check_eq "imgctl project create: a bad name" "$(ic project create 'a b')" \
    "Error: Project names may not contain spaces"
check "imgctl --project i1 image import" "$BIN/imgctl" --project i1 image \
    import "$A" --alias ia
check_eq "imgctl project delete of a project with an image" \
    "$(ic project delete i1)" \
    'Error: Only empty projects can be deleted: project "i1" holds 1 images and 1 aliases'
check "imgctl --project i1 image delete" "$BIN/imgctl" --project i1 image \
    delete ia
check_eq "imgctl project rename" "$(ic project rename i1 i2)" \
    "Project i1 renamed to i2"
check_eq "imgctl project delete" "$(ic project delete i2)" "Project i2 deleted"
check_eq "imgctl project show of a missing one" "$(ic project show i2)" \
    "Error: Project not found"

# ---- over HTTPS: a trusted lxc remote, and an untrusted client ----
tok=$("$BIN/imgctl" -q config trust add --token ops)
check "lxc remote add over HTTPS with a token" lxc remote add imgd "$tok"
check "lxc project create imgd:h1" lxc project create imgd:h1 \
    -c features.images=true
check "lxc --project h1 image import to imgd:" lxc --project h1 image import \
    "$B" imgd: --alias hb
check_contains "lxc --project h1 image list imgd:" \
    "$(lxc --project h1 image list imgd: -c l -f csv)" hb
check_eq "lxc project delete imgd:h1 with an image" \
    "$(lxc_out lxc project delete imgd:h1)" \
    'Error: Only empty projects can be deleted: project "h1" holds 1 images and 1 aliases'
check "lxc --project h1 image delete imgd:hb" lxc --project h1 image delete \
    imgd:hb
check "lxc project delete imgd:h1" lxc project delete imgd:h1
before=$(pstate)
for req in "POST /1.0/projects" "PATCH /1.0/projects/default" \
    "DELETE /1.0/projects/default" "POST /1.0/projects/default"; do
	m=${req%% *} p=${req#* }
	check_eq "untrusted $req: 403" "$(curl -sk -o /dev/null -w '%{http_code}' \
	    -X "$m" "$URL$p" -d '{"name":"u1","config":{}}')" 403
done
check_eq "untrusted: no project list either (403)" \
    "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/1.0/projects")" 403
check_eq "untrusted attempts left nothing" "$(pstate)" "$before"
lxc remote remove imgd

# ---- persistence and migration ----
check "a project for the restart" lxc project create keep -c user.x=y
imgd_stop
check_eq "stopped" "$?" 0
# An older database: projects without description and no project_config.
sqlite3 "$STATE/imgd.db" "DELETE FROM project_config WHERE project_id = 1;
    ALTER TABLE projects DROP COLUMN description;"
https_start >/dev/null || true
check_eq "migrated: the default project's description" \
    "$(api_body GET /1.0/projects/default | jget metadata.description)" \
    "Default project"
check_eq "migrated: the default project's features" "$(cfg default)" \
    '{"features.images": "true", "features.networks": "true", "features.profiles": "true", "features.storage.volumes": "true"}'
check_eq "kept over the restart: the project and its config" \
    "$(cfg keep)" '{"features.images": "true", "features.profiles": "true", "features.storage.volumes": "true", "user.x": "y"}'

# ---- the same sequence against a reference LXD ----
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	seq_run() {
		lxc_out lxc project create q1 -c features.images=true
		lxc_out lxc project create q1
		lxc_out lxc project create "a b"
		lxc_out lxc project create a_b
		lxc project get q1 features.images
		lxc project get q1 features.profiles
		lxc_out lxc project set q1 user.owner bob
		lxc project get q1 user.owner
		lxc_out lxc project set q1 features.images maybe |
		    cut -c1-55
		lxc_out lxc project delete default
		lxc_out lxc project rename default zz
		lxc_out lxc project set default features.images false
		lxc --project q1 image import "$A" --alias r1 >/dev/null
		lxc --project q1 image list -c lf -f csv
		lxc image list -c l -f csv | grep -c r1
		lxc_out lxc project delete q1 | cut -c1-33
		lxc --project q1 image delete r1
		lxc_out lxc project rename q1 q2
		lxc project list -f csv | cut -d, -f1-3 | grep q
		lxc_out lxc project delete q2
		lxc project list -f csv | grep -c q
		lxc_out lxc project show nope
	}
	mine=$(seq_run 2>&1)
	ref=$(LXD_DIR=$LXD_REF seq_run 2>&1)
	# Where the words differ on purpose (imgd names the cause and the
	# count; LXD's wraps its database's message), the refusal is the same
	# kind: say which lines differ and check those are the expected ones.
	diffs=$(diff <(echo "$ref") <(echo "$mine") | grep '^[<>]')
	check_eq "[ref] the same sequence: only the expected lines differ" \
	    "$diffs" '< Error: Failed creating project "q1": Failed adding database record: This "projects" entry already exists
> Error: Project "q1" already exists
< Error: Invalid project configuration key "features.imag
> Error: Invalid value for project configuration key "fea'
	echo "# [ref] the sequence's output (imgd):"
	echo "$mine" | sed 's/^/#   /'
fi
summary
