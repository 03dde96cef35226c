#!/bin/bash
# Projects: GET /1.0/projects (with and without recursion) and
# /1.0/projects/<name> from the store, and their management (POST, PUT,
# PATCH, rename, DELETE) as LXD has it, decided by the store: config keys
# and values checked, the default project kept, only empty projects
# renamed or deleted, a project without features.images sharing the
# default project's images; every refusal leaves nothing and is audited.
# The real lxc client drives it over the socket and over HTTPS, and the
# same sequence is compared with a reference LXD where one starts here.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"

# ---- the API ----
check_eq "list: the default project" "$(api_body GET /1.0/projects |
    jget metadata)" '["/1.0/projects/default"]'
doc=$(api_body GET /1.0/projects/default)
check_eq "get: name" "$(echo "$doc" | jget metadata.name)" default
check_eq "get: the default project's features, as LXD's" \
    "$(echo "$doc" | jget metadata.config)" \
    '{"features.images": "true", "features.networks": "true", "features.profiles": "true", "features.storage.volumes": "true"}'
check_eq "get: description" "$(echo "$doc" | jget metadata.description)" \
    "Default project"
check_eq "get: used by nothing yet" "$(echo "$doc" | jget metadata.used_by)" \
    "[]"
F=$(mkunified "$W/a.tar" gzip)
FP=$(sha256sum "$F" | cut -d' ' -f1)
"$BIN/imgctl" image import "$F" >/dev/null
check_eq "get: used by its image" "$(api_body GET /1.0/projects/default |
    jget metadata.used_by)" "[\"/1.0/images/$FP\"]"
rec=$(api_body GET '/1.0/projects?recursion=1')
check_eq "recursion: one project" "$(echo "$rec" | jget metadata.0.name)" \
    default
check_eq "recursion: the same document as get" \
    "$(echo "$rec" | jget metadata.0)" \
    "$(api_body GET /1.0/projects/default | jget metadata)"
check_eq "recursion=0: URLs" "$(api_body GET '/1.0/projects?recursion=0' |
    jget metadata)" '["/1.0/projects/default"]'

# used_by comes from the store a page at a time (128 per page): cross two.
for i in $(seq 1 140); do
	mkunified "$W/m.tar" none >/dev/null
	upload "$W/m.tar" >/dev/null
done
for _ in $(seq 1 300); do
	[ "$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM images')" -ge 141 ] &&
	    break
	sleep 0.1
done
n=$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM images')
check_eq "141 images stored" "$n" 141
ub=$(api_body GET /1.0/projects/default | python3 -c '
import json, sys
u = json.load(sys.stdin)["metadata"]["used_by"]
print(len(u), len(set(u)), u == sorted(u),
      all(x.startswith("/1.0/images/") and len(x) == 76 for x in u))')
check_eq "used_by: every image once, in order, as image URLs" "$ub" \
    "141 141 True True"
check_eq "used_by: the same set as the image list" \
    "$(api_body GET /1.0/projects/default | jget metadata.used_by |
	tr -d '[]" ' | tr ',' '\n' | sort)" \
    "$(api_body GET /1.0/images | jget metadata | tr -d '[]" ' |
	tr ',' '\n' | sort)"

# ---- what is refused ----
err404='{"type":"error","status":"","status_code":0,"operation":"","error_code":404,"error":"Project not found","metadata":null}'
check_eq "unknown project: LXD's 404 body" \
    "$(api_body GET /1.0/projects/nope)" "$err404"
check_eq "unknown project: 404" "$(api_status GET /1.0/projects/nope)" 404
long=$(printf 'p%.0s' $(seq 1 64))
check_eq "a name too long: 404" "$(api_status GET "/1.0/projects/$long")" 404
check_eq "an empty name: 404" "$(api_status GET /1.0/projects/)" 404
check_eq "a control character: 400 (as for any path)" \
    "$(api_status GET /1.0/projects/a%01b)" 400
check_eq "deeper project endpoints: 501 naming them" \
    "$(api_body GET /1.0/projects/default/state | jget error)" \
    "not implemented: imgd does not implement /1.0/projects/default/state"
check_eq "other methods: 405" "$(api_status OPTIONS /1.0/projects)" 405
# ---- the real lxc ----
check "lxc remote add over unix://" lxc remote add viasock "unix://$SOCK"
check_contains "lxc image list through that remote" \
    "$(lxc image list viasock: -c f -f csv)" "${FP:0:12}"
check "lxc remote remove" lxc remote remove viasock
out=$(lxc_out lxc project list -f csv)
check_eq "lxc project list" "$out" \
    "default (current),YES,YES,YES,YES,Default project,141"
out=$(lxc_out lxc project show default)
check_contains "lxc project show: config" "$out" 'features.images: "true"'
check_contains "lxc project show: used_by" "$out" "- /1.0/images/$FP"
check_eq "lxc project show of an unknown project" \
    "$(lxc_out lxc project show nope)" "Error: Project not found"
check_eq "lxc --project nope image list" \
    "$(lxc_out lxc --project nope image list)" "Error: Project not found"

# ---- the same against a reference LXD ----
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	RS=$LXD_REF/unix.socket
	rapi() { curl -s --unix-socket "$RS" "http://lxd$1"; }
	check_eq "[ref] the same project list" \
	    "$(rapi /1.0/projects)" "$(api_body GET /1.0/projects)"
	check_eq "[ref] the same 404 body" "$(rapi /1.0/projects/nope)" \
	    "$err404"
	check_eq "[ref] the same document keys" \
	    "$(rapi /1.0/projects/default | python3 -c '
import json, sys; print(sorted(json.load(sys.stdin)["metadata"]))')" \
	    "$(api_body GET /1.0/projects/default | python3 -c '
import json, sys; print(sorted(json.load(sys.stdin)["metadata"]))')"
	check_eq "[ref] LXD has its own images too" \
	    "$(rapi /1.0/projects/default | python3 -c '
import json, sys
print(json.load(sys.stdin)["metadata"]["config"]["features.images"])')" true
	LXD_DIR=$LXD_REF lxc image import "$F" >/dev/null
	check_contains "[ref] LXD lists an image in used_by the same way" \
	    "$(rapi /1.0/projects/default | jget metadata.used_by)" \
	    "\"/1.0/images/$FP\""
	check "[ref] lxc remote add over unix:// to LXD" lxc remote add \
	    refsock "unix://$RS"
	check_contains "[ref] and its image list" \
	    "$(lxc image list refsock: -c f -f csv)" "${FP:0:12}"
	lxc remote remove refsock
	# The columns are the same; imgd has only images, so the other
	# features say NO, and used_by has no profile.
	cols() { sed -n 2p | tr -s ' |' ' '; }
	check_eq "[ref] lxc project list: the same columns" \
	    "$(LXD_DIR=$LXD_REF lxc project list | cols)" \
	    "$(lxc project list | cols)"
	check_eq "[ref] lxc project show nope: the same error" \
	    "$(LXD_DIR=$LXD_REF lxc_out lxc project show nope)" \
	    "Error: Project not found"
fi
summary
