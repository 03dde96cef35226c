#!/bin/bash
# The policy (policy/authz.c, decided by the store in store/access.c):
# roles x actions for local users over the socket and for certificates
# over HTTPS; cross-project requests answered exactly as for a project
# that does not exist; refusals that name the missing role, audited, that
# leave nothing; imgd --check-policy; SIGHUP reloads (a bad file keeps the
# old policy) under 64 clients, none of which sees a half-loaded policy;
# without a policy, the socket's group is admin and other users are
# refused with a message that says why.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
chmod 711 "$T_TMP"
G=imgd-pol
getent group "$G" >/dev/null || groupadd --system "$G"
getent group imgd-pol-team >/dev/null || groupadd --system imgd-pol-team
ROLES="read import publish delete admin"
for r in $ROLES none grp srv load; do
	u=imgd-pol-$r
	id "$u" >/dev/null 2>&1 || useradd --system --no-create-home \
	    --shell /usr/sbin/nologin "$u"
	usermod -aG "$G" "$u"
done
usermod -aG imgd-pol-team imgd-pol-grp
id imgd-pol-out >/dev/null 2>&1 || useradd --system --no-create-home \
    --shell /usr/sbin/nologin imgd-pol-out

mkcert "$W/alice"
mkcert "$W/bob"
AFP=$(openssl x509 -in "$W/alice.crt" -outform der | sha256sum | cut -d' ' -f1)

# filler N: grants for uids no one has, to make a policy long.
filler() {
	for i in $(seq 1 "$1"); do
		printf '  - identity: uid:%d\n    projects: [f%d]\n' \
		    $((3000000 + i)) "$i"
		echo "    roles: [read]"
	done
}
{
	echo "grants:"
	for r in $ROLES; do
		printf '  - identity: user:imgd-pol-%s\n    projects: [t1]\n' "$r"
		echo "    roles: [$r]"
	done
	printf '  - identity: group:imgd-pol-team\n    projects: [t1]\n'
	echo "    roles: [read]"
	printf '  - identity: user:imgd-pol-srv\n    projects: ["*"]\n'
	echo "    roles: [admin]"
	printf '  - identity: cert:%s\n    projects: [t1]\n' "$AFP"
	echo "    roles: [read, import]"
	printf '  - identity: token:ci-bot\n    projects: [t1]\n'
	echo "    roles: [read]"
	printf '  - identity: user:imgd-pol-load\n    projects: [t1]\n'
	echo "    roles: [read]"
} >"$W/base.yaml"
cp "$W/base.yaml" "$W/policy.yaml"

# ---- imgd --check-policy ----
out=$("$BIN/imgd" --check-policy "$W/policy.yaml" 2>&1)
check_eq "--check-policy: a good file, exit 0" "$?" 0
check_contains "... says how many grants" "$out" "ok, 10 grants"
printf 'grants:\n  - identity: user:imgd-pol-read\n    projects: [t1]\n    roles: [read, wirte]\n' >"$W/bad.yaml"
out=$("$BIN/imgd" --check-policy "$W/bad.yaml" 2>&1)
rc=$?
check_eq "--check-policy: a bad file, exit 1" "$rc" 1
check_eq "... names the file, line, column and what is wrong" "$out" \
    "$W/bad.yaml: line 4, column 19: unknown role \"wirte\" (roles: read, import, publish, delete, admin)"
printf 'grants:\n  - identity: user:no-such-user-imgd\n    projects: [t1]\n    roles: [read]\n' >"$W/bad2.yaml"
check_contains "... an unknown user" \
    "$("$BIN/imgd" --check-policy "$W/bad2.yaml" 2>&1)" \
    "line 2, column 15: identity \"user:no-such-user-imgd\": no such user"
check_contains "... a missing file" \
    "$("$BIN/imgd" --check-policy "$W/none.yaml" 2>&1)" \
    "$W/none.yaml: No such file or directory"
# A policy that does not parse stops imgd before it serves anything.
"$BIN/imgd" --state "$T_TMP/st-bad" --policy "$W/bad.yaml" \
    >"$W/bad-start.log" 2>&1
check_eq "imgd with a bad policy does not start" "$?" 1
check_contains "... and says why" "$(cat "$W/bad-start.log")" \
    "line 4, column 19: unknown role"
check_eq "... and made no socket" "$(ls "$T_TMP/st-bad" 2>/dev/null |
    grep -c unix.socket)" 0

https_start "socket_group: $G" "policy: $W/policy.yaml" ||
    { summary; exit 1; }

as() {
	local u=imgd-pol-$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups "$@"
}
# uapi ROLE METHOD PATH [curl args]: the body, then the status.
uapi() {
	local r=$1 m=$2 p=$3
	shift 3
	as "$r" curl -s --unix-socket "$SOCK" -X "$m" -w '\n%{http_code}' \
	    "$@" "http://imgd$p"
}
# sc ROLE ...: "STATUS error" of a request.
sc() {
	local out
	out=$(uapi "$@" | tr -d '\000')
	echo "$(tail -1 <<<"$out") $(sed '$d' <<<"$out" | jget error)"
}
tapi() {
	local m=$1 p=$2
	shift 2
	curl -sk ${CERT:+--cert "$CERT" --key "$KEY"} -X "$m" \
	    -w '\n%{http_code}' "$@" "$URL$p"
}
tsc() {
	local out
	out=$(tapi "$@")
	echo "$(tail -1 <<<"$out") $(sed '$d' <<<"$out" | jget error)"
}
rows() { sqlite3 "$STATE/imgd.db" "SELECT count(*) FROM images"; }

for p in t1 t2; do
	api POST /1.0/projects -d "{\"name\":\"$p\",\"config\":
	    {\"features.images\":\"true\"}}" >/dev/null
done
A=$(mkunified "$W/a.tar" gzip)
"$BIN/imgctl" --project t1 image import "$A" --alias a1 >/dev/null
FA=$(sha256sum "$A" | cut -d' ' -f1)
B=$(mkunified "$W/b.tar" gzip)
"$BIN/imgctl" --project t2 image import "$B" --alias b1 >/dev/null
FB=$(sha256sum "$B" | cut -d' ' -f1)
check_eq "two private images, one per project" "$(rows)" 2

# ---- roles x actions over the socket ----
# action|role it needs|method|path|curl args (word-split)
actions() {
	cat <<EOF
list|read|GET|/1.0/images?project=t1|
info|read|GET|/1.0/images/$FA?project=t1|
export|read|GET|/1.0/images/$FA/export?project=t1|
aliases|read|GET|/1.0/images/aliases?project=t1|
alias-get|read|GET|/1.0/images/aliases/a1?project=t1|
operations|read|GET|/1.0/operations?project=t1|
project-get|read|GET|/1.0/projects/t1|
edit|import|PATCH|/1.0/images/$FA?project=t1|-d {"properties":{"by":"ROLE"}}
upload|import|POST|/1.0/images?project=t1|--data-binary @$W/up-ROLE.tar -H Content-Type:application/octet-stream
alias-create|publish|POST|/1.0/images/aliases?project=t1|-d {"name":"al-ROLE","target":"$FA"}
alias-delete|publish|DELETE|/1.0/images/aliases/del-ROLE?project=t1|
secret|publish|POST|/1.0/images/$FA/secret?project=t1|
delete|delete|DELETE|/1.0/images/FPDEL?project=t1|
project-edit|server|PATCH|/1.0/projects/t1|-d {"description":"by-ROLE"}
project-create|server|POST|/1.0/projects|-d {"name":"new-ROLE"}
EOF
}
allowed=0
denied=0
for r in $ROLES; do
	# What each role's turn needs: an image to upload, one to delete,
	# an alias to delete.
	mkunified "$W/up-$r.tar" none >/dev/null
	D=$(mkunified "$W/del-$r.tar" gzip)
	"$BIN/imgctl" --project t1 image import "$D" >/dev/null
	FD=$(sha256sum "$D" | cut -d' ' -f1)
	check_eq "(an alias for $r to delete)" "$(api_status POST \
	    '/1.0/images/aliases?project=t1' \
	    -d "{\"name\":\"del-$r\",\"target\":\"$FA\"}")" 201
	while IFS='|' read -r act need m p args; do
		p=${p//FPDEL/$FD}
		p=${p//ROLE/$r}
		args=${args//ROLE/$r}
		before=$(state_snapshot)
		# shellcheck disable=SC2086
		got=$(sc "$r" "$m" "$p" $args)
		if [ "$need" = "$r" ] || { [ "$r" = admin ] &&
		    [ "$need" != server ]; }; then
			case "$got" in
			2??\ *) pass "$r may $act"; allowed=$((allowed + 1)) ;;
			*) fail "$r may $act: $got" ;;
			esac
		else
			want="not authorized: you need the \"$need\" role in project \"t1\""
			[ "$need" = server ] &&
			    want="not authorized: you need the \"admin\" role on every project (\"*\")"
			check_eq "$r may not $act" "$got" "403 $want"
			check_eq "... $act refused by $r left nothing" \
			    "$(state_snapshot)" "$before"
			denied=$((denied + 1))
		fi
	done < <(actions)
done
check_eq "the table: allowed" "$allowed" 26
check_eq "the table: denied" "$denied" 49
# Making an image public is publishing: import alone, or publish alone,
# is not enough.
check_eq "import may not make an image public" \
    "$(sc import PATCH "/1.0/images/$FA?project=t1" -d '{"public":true}')" \
    "403 not authorized: you need the \"publish\" role in project \"t1\""
check_eq "... nor may publish (an edit is import)" \
    "$(sc publish PATCH "/1.0/images/$FA?project=t1" -d '{"public":true}')" \
    "403 not authorized: you need the \"import\" role in project \"t1\""
check_eq "... the image stays private" "$(api_body GET \
    "/1.0/images/$FA?project=t1" | jget metadata.public)" False
check_eq "an upload with an alias needs publish" "$(sc import POST \
    '/1.0/images?project=t1' --data-binary "@$W/up-read.tar" \
    -H 'X-Imgd-Alias: x1' -H 'Content-Type: application/octet-stream')" \
    "403 not authorized: you need the \"publish\" role in project \"t1\""
check_eq "a group grant: group:imgd-pol-team reads t1" \
    "$(sc grp GET "/1.0/images/$FA?project=t1" | cut -c1-3)" 200
check_eq "... and only reads" "$(sc grp DELETE "/1.0/images/$FA?project=t1")" \
    "403 not authorized: you need the \"delete\" role in project \"t1\""
check_eq "admin on \"*\": any project" \
    "$(sc srv GET "/1.0/images/$FB?project=t2" | cut -c1-3)" 200
check_eq "... and the server's actions" "$(sc srv POST /1.0/projects \
    -d '{"name":"t3"}' | cut -c1-3)" 201
check_eq "... trust too" "$(sc srv GET /1.0/certificates | cut -c1-3)" 200
check_eq "a project admin may not touch trust" \
    "$(sc admin GET /1.0/certificates)" \
    "403 not authorized: you need the \"admin\" role on every project (\"*\")"
check_eq "a user with no grant: refused, and told why" \
    "$(sc none GET /1.0/images)" \
    "403 not authorized: imgd-pol-none (uid $(id -u imgd-pol-none), unix socket) has no role in imgd's policy ($W/policy.yaml); ask its operator for a grant"
check_eq "root is admin whatever the policy" \
    "$(api_status GET "/1.0/images/$FB?project=t2")" 200
check_eq "GET /1.0: a user with a role is trusted" \
    "$(uapi read GET /1.0 | sed '$d' | jget metadata.auth)" trusted
n=$(grep -c 'you need the.*"event":"request-refused"' "$STATE/audit.log")
check "denials are audited, with the missing role ($n)" test "$n" -ge 49
check_contains "... naming the project and who" \
    "$(grep 'you need the.*"request-refused".*"project":"t1"' \
    "$STATE/audit.log" | tail -1)" \
    "\"project\":\"t1\",\"requestor\":\"imgd-pol-"

# ---- cross-project: the same answer as a project that does not exist ----
# An admin of t1 asks about t2 (which holds B) and about t9 (no such
# project); each answer must be the same, and B untouched.
cross() {
	cat <<EOF
info|GET|/1.0/images/$FB?project=P|
export|GET|/1.0/images/$FB/export?project=P|
list|GET|/1.0/images?project=P|
list-recursion|GET|/1.0/images?project=P&recursion=1|
aliases|GET|/1.0/images/aliases?project=P|
alias-get|GET|/1.0/images/aliases/b1?project=P|
edit|PATCH|/1.0/images/$FB?project=P|-d {"properties":{"x":"y"}}
make-public|PUT|/1.0/images/$FB?project=P|-d {"public":true,"properties":{}}
alias-create|POST|/1.0/images/aliases?project=P|-d {"name":"z","target":"$FB"}
alias-move|PUT|/1.0/images/aliases/b1?project=P|-d {"target":"$FA"}
alias-delete|DELETE|/1.0/images/aliases/b1?project=P|
delete|DELETE|/1.0/images/$FB?project=P|
secret|POST|/1.0/images/$FB/secret?project=P|
refresh|POST|/1.0/images/$FB/refresh?project=P|
copy|POST|/1.0/images?project=P|-d {"source":{"type":"image","mode":"pull","protocol":"simplestreams","server":"https://127.0.0.1:1","alias":"x"}}
upload|POST|/1.0/images?project=P|--data-binary @$W/up-read.tar -H Content-Type:application/octet-stream
project-get|GET|/1.0/projects/P|
project-edit|PATCH|/1.0/projects/P|-d {"description":"x"}
operations|GET|/1.0/operations?project=P|
EOF
}
before=$(state_snapshot)
while IFS='|' read -r act m p args; do
	# The whole answer, body and status.
	# shellcheck disable=SC2086
	a2=$(uapi admin "$m" "${p//P/t2}" $args | tr -d '\000')
	# shellcheck disable=SC2086
	a9=$(uapi admin "$m" "${p//P/t9}" $args | tr -d '\000')
	check_eq "cross-project $act: as for a missing project ($(tail -1 \
	    <<<"$a9") $(sed '$d' <<<"$a9" | jget error))" "$a2" "$a9"
done < <(cross)
check_eq "... nothing of t2 changed" "$(state_snapshot)" "$before"
check_eq "... B still private, its alias in place" "$(api_body GET \
    "/1.0/images/$FB?project=t2" | jget metadata.public) $(api_body GET \
    '/1.0/images/aliases/b1?project=t2' | jget metadata.target)" "False $FB"
check_eq "the project list shows a tenant its projects only" \
    "$(uapi admin GET /1.0/projects | sed '$d' | jget metadata)" \
    '["/1.0/projects/t1"]'
check_eq "... and all of them to root" \
    "$(api_body GET /1.0/projects | jget metadata | tr -d ' ')" \
    '["/1.0/projects/default","/1.0/projects/t1","/1.0/projects/t2","/1.0/projects/t3"]'

# ---- events: a tenant hears its projects only ----
WS="$(cd "$(dirname "$0")" && pwd)/wsevents.py"
mkdir -p "$W/ev" && chmod 777 "$W/ev"
# ulisten ROLE NAME QUERY: a listener as that user, for 5 s.
ulisten() {
	as "$1" /usr/bin/python3 "$WS" "$SOCK" "$3" 5 "$W/ev/$2.ready" \
	    >"$W/ev/$2.out" 2>&1 &
	for _ in $(seq 1 100); do
		[ -e "$W/ev/$2.ready" ] && return
		grep -q "^HTTP" "$W/ev/$2.out" 2>/dev/null &&
		    ! grep -q "^HTTP/1.1 101" "$W/ev/$2.out" && return
		sleep 0.05
	done
}
ulisten admin t1 'type=lifecycle,logging&project=t1'
ulisten srv all 'type=lifecycle,logging&all-projects=true'
ulisten admin t2 'type=lifecycle&project=t2'
ulisten admin t9 'type=lifecycle&project=t9'
ulisten admin every 'type=lifecycle&all-projects=true'
api PATCH "/1.0/images/$FA?project=t1" -d '{"properties":{"ev":"t1"}}' \
    >/dev/null
C=$(mkunified "$W/c.tar" gzip)
"$BIN/imgctl" --project t2 image import "$C" >/dev/null
FC=$(sha256sum "$C" | cut -d' ' -f1)
sleep 1
check_eq "events of t1: the tenant listens" \
    "$(head -1 "$W/ev/t1.out")" "HTTP/1.1 101 Switching Protocols"
check_contains "... and hears t1's change" "$(cat "$W/ev/t1.out")" \
    "\"source\": \"/1.0/images/$FA\"}, \"project\": \"t1\""
check_eq "... nothing of t2, not even in the daemon's log" \
    "$(grep -c "$FC" "$W/ev/t1.out")" 0
check_eq "... no log lines (the daemon's log is for admins of \"*\")" \
    "$(grep -c '"type": "logging"' "$W/ev/t1.out")" 0
check_contains "an admin of \"*\" hears all projects" \
    "$(cat "$W/ev/all.out")" "\"source\": \"/1.0/images/$FC\"}, \"project\": \"t2\""
check_contains "... and the log" "$(cat "$W/ev/all.out")" '"type": "logging"'
check_eq "events of t2: as for a missing project" \
    "$(head -1 "$W/ev/t2.out")" "$(head -1 "$W/ev/t9.out")"
check_eq "... which is 404" "$(head -1 "$W/ev/t9.out")" \
    "HTTP/1.1 404 Not Found"
check_eq "the events of all projects: 403 for a tenant" \
    "$(head -1 "$W/ev/every.out")" "HTTP/1.1 403 Forbidden"

# ---- over HTTPS: certificates and token names ----
"$BIN/imgctl" config trust add "$W/alice.crt" >/dev/null
"$BIN/imgctl" config trust add "$W/bob.crt" >/dev/null
CERT=$W/alice.crt KEY=$W/alice.key
check_eq "cert grant: alice reads t1" \
    "$(tsc GET "/1.0/images/$FA?project=t1" | cut -c1-3)" 200
check_eq "... edits in t1 (import)" "$(tsc PATCH "/1.0/images/$FA?project=t1" \
    -d '{"properties":{"by":"alice"}}' | cut -c1-3)" 200
check_eq "... may not delete" "$(tsc DELETE "/1.0/images/$FA?project=t1")" \
    "403 not authorized: you need the \"delete\" role in project \"t1\""
check_eq "... may not create an alias" "$(tsc POST \
    '/1.0/images/aliases?project=t1' -d "{\"name\":\"c\",\"target\":\"$FA\"}")" \
    "403 not authorized: you need the \"publish\" role in project \"t1\""
check_eq "... t2's image as a missing project's" \
    "$(tsc DELETE "/1.0/images/$FB?project=t2")" \
    "$(tsc DELETE "/1.0/images/$FB?project=t9")"
check_eq "... t2's image unseen, as a missing one" \
    "$(tsc GET "/1.0/images/$FB?project=t2")" \
    "$(tsc GET "/1.0/images/0000000000000000000000000000000000000000000000000000000000000000?project=t2")"
check_eq "... GET /1.0: trusted" "$(tapi GET /1.0 | sed '$d' |
    jget metadata.auth)" trusted
CERT=$W/bob.crt KEY=$W/bob.key
check_eq "a trusted cert with no grant: the public view" \
    "$(tsc GET "/1.0/images/$FA?project=t1" | cut -c1-3)" 404
check_eq "... and no changes, and told why" \
    "$(tsc DELETE "/1.0/images/$FA?project=t1")" \
    "403 not authorized: certificate $(openssl x509 -in "$W/bob.crt" \
    -outform der | sha256sum | cut -c1-12) is trusted but has no role in imgd's policy; ask its operator for a grant"
unset CERT KEY
tok=$("$BIN/imgctl" -q config trust add --token ci-bot)
check "lxc joins with the token ci-bot" lxc remote add pol "$tok"
check_contains "token grant: lxc lists t1's images" \
    "$(lxc image list pol: --project t1 -c l -f csv 2>&1)" a1
check_contains "... may not delete, and lxc says why" \
    "$(lxc image delete pol:a1 --project t1 2>&1)" \
    "you need the \"delete\" role in project \"t1\""
check_eq "... t2 holds nothing it sees" \
    "$(lxc image list pol: --project t2 -f csv 2>&1)" ""

# ---- SIGHUP: a bad file keeps the old policy, a good one replaces it ----
logn() { grep -c "$1" "$T_TMP/imgd.log"; }
waitlog() {
	for _ in $(seq 1 50); do
		[ "$(logn "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
echo "grants: [" >"$W/policy.yaml"
kill -HUP "$IMGD_PID"
check "SIGHUP with a bad file: logged" waitlog "policy not reloaded" 1
check_contains "... with the reason" "$(grep 'policy not reloaded' \
    "$T_TMP/imgd.log")" "the old one stays in force: $W/policy.yaml: line 2"
check_contains "... audited" "$(tail -3 "$STATE/audit.log")" '"policy-refused"'
check_eq "... the old policy holds" \
    "$(sc read GET "/1.0/images/$FA?project=t1" | cut -c1-3)" 200
# A listener let in by the old policy is closed by the new one (1008),
# so that it asks again when it reconnects.
rm -f "$W/ev/hup.ready"
as admin env WS_SHOW_CLOSE=1 /usr/bin/python3 "$WS" "$SOCK" \
    'type=lifecycle&project=t1' 30 "$W/ev/hup.ready" >"$W/ev/hup.out" 2>&1 &
hup_pid=$!
for _ in $(seq 1 100); do [ -e "$W/ev/hup.ready" ] && break; sleep 0.05; done
{
	cat "$W/base.yaml"
	printf '  - identity: user:imgd-pol-read\n    projects: [t1]\n'
	echo "    roles: [delete]"
} >"$W/policy.yaml"
kill -HUP "$IMGD_PID"
check "a good file: reloaded" waitlog "policy.*reloaded: 11 grants" 1
for _ in $(seq 1 50); do kill -0 "$hup_pid" 2>/dev/null || break; sleep 0.1; done
check "... an open events listener is closed at once" bash -c "! kill -0 $hup_pid 2>/dev/null"
check_contains "... with 1008 and the reason" "$(cat "$W/ev/hup.out")" \
    "close 1008 imgd's policy changed: reconnect"
wait "$hup_pid" 2>/dev/null
check_contains "... audited" "$(tail -3 "$STATE/audit.log")" '"policy-loaded"'
D=$(mkunified "$W/d2.tar" gzip)
"$BIN/imgctl" --project t1 image import "$D" >/dev/null
check_eq "... read now deletes" "$(sc read DELETE \
    "/1.0/images/$(sha256sum "$D" | cut -d' ' -f1)?project=t1" | cut -c1-3)" 202

# Under load: 64 clients read (which both policies allow, from the first
# grant in one and the last in the other, behind 2000 others) and edit
# (which only the second allows) while the policy is swapped 40 times.
{
	echo "grants:"
	printf '  - identity: user:imgd-pol-load\n    projects: [t1]\n'
	echo "    roles: [read]"
	filler 2000
} >"$W/p1.yaml"
{
	echo "grants:"
	filler 2000
	printf '  - identity: user:imgd-pol-load\n    projects: [t1]\n'
	echo "    roles: [read, import]"
} >"$W/p2.yaml"
cp "$W/p1.yaml" "$W/policy.yaml"
kill -HUP "$IMGD_PID"
waitlog "reloaded: 2001 grants" 1
cat >"$W/client.sh" <<EOF
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" \
	    "http://imgd/1.0/images/$FA?project=t1"
	curl -s -w '\n%{http_code}\n' --unix-socket "$SOCK" -X PATCH \
	    -d '{"properties":{"load":"x"}}' "http://imgd/1.0/images/$FA?project=t1" |
	    tr -d '\n' | sed 's/\$/\n/'
done
EOF
pids=""
for c in $(seq 1 64); do
	as load bash "$W/client.sh" >"$W/load.$c" 2>&1 &
	pids="$pids $!"
done
for i in $(seq 1 40); do
	if [ $((i % 2)) = 1 ]; then f=p2; else f=p1; fi
	cp "$W/$f.yaml" "$W/policy.new" && mv "$W/policy.new" "$W/policy.yaml"
	kill -HUP "$IMGD_PID"
	sleep 0.05
done
# shellcheck disable=SC2086
wait $pids
cat "$W"/load.* >"$W/load.all"
reads=$(grep -cx 200 "$W/load.all")
edits_ok=$(grep -c '"status_code":200.*}200$' "$W/load.all")
edits_no=$(grep -c 'you need the \\"import\\" role in project \\"t1\\".*}403$' \
    "$W/load.all")
total=$(wc -l <"$W/load.all")
check_eq "under reloads: every read allowed (64 x 6)" "$reads" 384
check_eq "... every edit either allowed or refused for import ($edits_ok + $edits_no)" \
    "$((edits_ok + edits_no))" 384
check_eq "... and nothing else answered" "$total" 768
check "... the reloads happened" waitlog "reloaded: 2001 grants" 3
check_eq "... imgd still serves" "$(api_status GET /1.0)" 200

# ---- no policy: the socket's group is admin, others are told why ----
imgd_stop
https_start "socket_group: $G" 'policy: ""' || { summary; exit 1; }
check_contains "no policy: logged" "$(cat "$T_TMP/imgd.log")" \
    'no policy file (policy: "")'
check_eq "no policy: a member of the socket's group is admin" \
    "$(sc none PATCH "/1.0/images/$FA?project=t1" \
    -d '{"properties":{"by":"none"}}' | cut -c1-3)" 200
chmod 666 "$SOCK"
out=$(setpriv --reuid=imgd-pol-out --regid=imgd-pol-out --init-groups \
    curl -s --unix-socket "$SOCK" http://imgd/1.0/images | jget error)
check_eq "... a user outside it (socket opened by hand): refused, told why" \
    "$out" "not authorized: imgd-pol-out (uid $(id -u imgd-pol-out), unix socket) is not root and not in imgd's socket group \"$G\", and imgd has no policy file to grant it a role"
CERT=$W/bob.crt KEY=$W/bob.key
check_eq "... a trusted certificate is admin" \
    "$(tsc GET "/1.0/images/$FB?project=t2" | cut -c1-3)" 200
unset CERT KEY
lxc remote remove pol >/dev/null 2>&1
summary
