#!/bin/bash
# imgctl audit verify and audit list: the hash-chained audit log read from
# the file, with the daemon running and on a copy without it. Each kind
# of tampering (an edited byte, a removed record, a reordered pair, a cut
# tail, a record that is not JSON, records cut from the start) is found
# and named by its record number, with exit status 1.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
C=$BIN/imgctl
api POST /1.0/projects -d '{"name":"t1","config":{"features.images":"true"}}' \
    >/dev/null
A=$(mkunified "$W/a.tar" gzip)
"$C" --project t1 image import "$A" --alias a1 >/dev/null
B=$(mkunified "$W/b.tar" gzip)
"$C" image import "$B" --alias b1 >/dev/null
"$C" image alias delete nope >/dev/null 2>&1
"$C" --project t1 image alias create a2 "$(sha256sum "$A" | cut -c1-12)" \
    >/dev/null
out=$("$C" audit verify 2>&1)
check_eq "verify while imgd runs: exit 0" "$?" 0
check_contains "... counts the records and prints the head" "$out" \
    "$STATE/audit.log: $(wc -l <"$STATE/audit.log") records, the chain holds; head "
imgd_stop
cp "$STATE/audit.log" "$W/copy.log"
N=$(wc -l <"$W/copy.log")
out=$("$C" audit verify "$W/copy.log")
check_eq "verify a copy, without the daemon: exit 0" "$?" 0
check_eq "... the same head" "${out##* }" \
    "$(tail -1 "$STATE/audit.log" | tr -d '\n' | sha256sum | cut -d' ' -f1)"

# tamper NAME WANT CMD...: CMD makes $W/NAME.log from copy.log; verify
# must fail and say WANT.
tamper() {
	local name=$1 want=$2 out rc
	shift 2
	"$@" <"$W/copy.log" >"$W/$name.log"
	out=$("$C" audit verify "$W/$name.log" 2>&1)
	rc=$?
	check_eq "$name: exit 1" "$rc" 1
	check_contains "$name: named" "$out" "$want"
}
tamper "an edited byte" "record 5 (" \
    python3 -c 'import sys; l = sys.stdin.read().split("\n"); l[3] = l[3].replace("\"event\":\"", "\"event\":\"x"); sys.stdout.write("\n".join(l))'
tamper "a removed record" "record 4 (" sed 4d
tamper "a reordered pair" "record 3 (" \
    python3 -c 'import sys; l = sys.stdin.readlines(); l[2], l[3] = l[3], l[2]; sys.stdout.write("".join(l))'
tamper "a cut tail" "record $N is incomplete (no end of line)" head -c -7
tamper "a record that is not JSON" "record 2 is not a JSON object" \
    sed '2s/^{/[/'
tamper "records removed from the start" "the first record's \"prev\" is not zeros" \
    sed 1,2d
check_contains "an edited record: says what may have happened" \
    "$("$C" audit verify "$W/a removed record.log" 2>&1)" \
    "record 3 was changed, or records were removed or reordered before record 4; the first 2 records are intact"
check_contains "a missing file: a clear error" \
    "$("$C" audit verify "$W/none.log" 2>&1)" "none.log: No such file or directory"

# ---- list ----
out=$("$C" audit list "$W/copy.log" -f csv)
check_eq "list: one row per record" "$(wc -l <<<"$out")" "$N"
check_contains "... the import, with its project and requestor" "$out" \
    "image-created,t1,\"root (uid 0, unix socket)\",$(sha256sum "$A" | cut -d' ' -f1),ok"
check_contains "... a refusal, with its cause" "$out" \
    "request-refused,default,\"root (uid 0, unix socket)\",nope,refused: Image alias not found"
out=$("$C" audit list "$W/copy.log" --project t1 -f csv)
check_eq "--project t1: only t1's records" \
    "$(cut -d, -f3 <<<"$out" | sort -u)" t1
check_eq "-f json: a JSON array of the records" "$("$C" audit list \
    "$W/copy.log" -f json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$N"
t=$(sed -n 4p "$W/copy.log" | jget time)
check_eq "--since: from that time on" \
    "$("$C" audit list "$W/copy.log" --since "$t" -f csv | wc -l)" $((N - 3))
check_contains "--since with a bad time: a clear error" \
    "$("$C" audit list "$W/copy.log" --since yesterday 2>&1)" \
    "--since yesterday: give a UTC date or time"

check_contains "list: a record that is not JSON is named" \
    "$("$C" audit list "$W/a record that is not JSON.log" 2>&1)" \
    "record 2 is not JSON"
check_contains "list: a missing file" \
    "$("$C" audit list "$W/none.log" 2>&1)" "none.log: No such file or directory"
check_contains "list: -f yaml is refused" \
    "$("$C" audit list "$W/copy.log" -f yaml 2>&1)" \
    "formats are table, compact, csv and json"
check_contains "verify: two files is one too many" \
    "$("$C" audit verify "$W/copy.log" "$W/copy.log" 2>&1)" "Error:"

# ---- kill -9 of the store while records are written ----
# A client creates aliases one after another and notes each one imgd
# acknowledged (201); the store is killed in the middle. After a restart
# the chain verifies, and every acknowledged alias has its record (each
# record is synced before the answer) and is in the database.
imgd_start || { summary; exit 1; }
FA=$(sha256sum "$A" | cut -d' ' -f1)
: >"$W/acked"
(
	for i in $(seq 1 3000); do
		code=$(curl -s -o /dev/null -w '%{http_code}' \
		    --unix-socket "$SOCK" -X POST \
		    -d "{\"name\":\"k-$i\",\"target\":\"$FA\"}" \
		    'http://imgd/1.0/images/aliases?project=t1')
		[ "$code" = 201 ] && echo "k-$i" >>"$W/acked"
		[ "$code" = 000 ] && break
	done
) &
client=$!
for _ in $(seq 1 100); do
	[ "$(wc -l <"$W/acked")" -ge 20 ] && break
	sleep 0.05
done
kill -KILL "$IMGD_PID"
wait "$IMGD_PID" 2>/dev/null
IMGD_PID=""
wait "$client"
acked=$(wc -l <"$W/acked")
check "some aliases were acknowledged before the kill ($acked)" \
    test "$acked" -ge 20
for _ in $(seq 1 50); do pgrep -f "imgd-frontend" >/dev/null || break; sleep 0.1; done
imgd_start || { summary; exit 1; }
out=$("$C" audit verify 2>&1)
check_eq "after kill -9 and a restart: the chain verifies" "$?" 0
missing=0
indb=0
while read -r a; do
	grep -q "\"alias\":\"$a\"" "$STATE/audit.log" || missing=$((missing + 1))
	[ "$(sqlite3 "$STATE/imgd.db" "SELECT count(*) FROM image_aliases WHERE name = '$a'")" = 1 ] &&
	    indb=$((indb + 1))
done <"$W/acked"
check_eq "... no acknowledged change is missing from the log" "$missing" 0
check_eq "... and each is in the database" "$indb" "$acked"
summary
