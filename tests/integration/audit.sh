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
    "$(wc -l <"$STATE/audit.log") records (1 to $(wc -l <"$STATE/audit.log")) in 1 file, the chain holds; head "
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
check_contains "verify: the same file twice does not chain" \
    "$("$C" audit verify "$W/copy.log" "$W/copy.log" 2>&1)" \
    "its \"prev\" is not the sha256 of the last record of $W/copy.log"

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
imgd_stop

# ---- rotation by size, and anchors ----
R=$W/r
mkdir -p "$R"
printf 'audit_rotate_size: 4096\naudit_keep: 3\naudit_anchor_file: %s\naudit_anchor_every: 5\n' \
    "$R/anchors" >"$R/imgd.yaml"
IMGD_ARGS="--config $R/imgd.yaml" imgd_start "$R/state" || { summary; exit 1; }
"$C" image import "$A" >/dev/null
for i in $(seq 1 30); do
	"$C" image alias create "r-$i" "$FA" >/dev/null
done
for i in $(seq 1 30); do
	"$C" image alias delete "r-$i" >/dev/null
done
nrot=$(ls "$STATE" | grep -c '^audit\.log\.[0-9]*$')
check_eq "rotated past 4096 bytes, audit_keep 3 files kept" "$nrot" 3
check "the oldest were removed, and that is recorded" \
    grep -q '"event":"audit-log-removed"' "$STATE/audit.log" \
    "$STATE"/audit.log.*
check "no file is over the size (but for its one last record)" bash -c \
    "for f in '$STATE'/audit.log*; do [ \$(head -n -1 \"\$f\" | wc -c) -le 4096 ] || exit 1; done"
# Each file starts where the one before it ended.
chained=0
prevf=""
for f in $(ls "$STATE"/audit.log.* | sort -t. -k3 -n) "$STATE/audit.log"; do
	if [ -n "$prevf" ]; then
		h=$(tail -1 "$prevf" | tr -d '\n' | sha256sum | cut -d' ' -f1)
		first=$(head -1 "$f")
		case $first in *'"event":"audit-log-rotated"'*"\"prev\":\"$h\""*) chained=$((chained + 1)) ;; esac
	fi
	prevf=$f
done
check_eq "each new file's first record is audit-log-rotated, prev = the old file's last hash" \
    "$chained" 3
out=$("$C" audit verify 2>&1)
check_eq "verify walks the files in order: exit 0" "$?" 0
check_contains "... over 4 files, from the oldest kept record on" "$out" \
    "in 4 files, the chain holds"
check "the anchor file gets a head every 5 records" \
    test "$(wc -l <"$R/anchors")" -ge 12
out=$("$C" audit verify --anchor "$R/anchors" 2>&1)
check_eq "verify --anchor: exit 0" "$?" 0
check_contains "... anchors match, the older ones said" "$out" \
    "are older than the oldest file"
imgd_stop
check_eq "a clean stop anchors the last record" \
    "$(tail -1 "$R/anchors" | jget head)" \
    "$(tail -1 "$STATE/audit.log" | tr -d '\n' | sha256sum | cut -d' ' -f1)"
L=$(ls "$STATE"/audit.log.* | sort -t. -k3 -n | tr '\n' ' ')
# shellcheck disable=SC2086
check "the files in order, without the daemon" "$C" audit verify $L "$STATE/audit.log"
# The tampering a chain alone cannot see, and the anchors do.
mkdir -p "$R/t"
cp "$STATE"/audit.log* "$R/t/"
head -n -1 "$STATE/audit.log" >"$R/t/audit.log"
T="$(ls "$R"/t/audit.log.* | sort -t. -k3 -n | tr '\n' ' ') $R/t/audit.log"
# shellcheck disable=SC2086
check "the last record cut: the chain alone still holds" "$C" audit verify $T
# shellcheck disable=SC2086
check_contains "... --anchor sees it" \
    "$("$C" audit verify --anchor "$R/anchors" $T 2>&1)" \
    "records were cut from the end"
sed '$ s/"event":"stop"/"event":"stoq"/' "$STATE/audit.log" >"$R/t/audit.log"
# shellcheck disable=SC2086
check "the last record edited: the chain alone still holds" "$C" audit verify $T
# shellcheck disable=SC2086
check_contains "... --anchor sees it" \
    "$("$C" audit verify --anchor "$R/anchors" $T 2>&1)" \
    "it was changed (or the log rewritten)"
# A rewrite: one alias record dropped, the chain and numbers made again.
cp "$STATE/audit.log" "$R/t/audit.log"
# shellcheck disable=SC2086
python3 - $T <<'PY'
import hashlib, json, sys
prev, seq, first, dropped = None, None, True, False
for path in sys.argv[1:]:
    out = []
    for line in open(path).read().splitlines():
        o = json.loads(line)
        if first:
            prev, seq, first = o["prev"], int(o["seq"]) - 1, False
        if o.get("alias") == "r-30" and not dropped:
            dropped = True
            continue
        seq += 1
        o["prev"], o["seq"] = prev, str(seq)
        line = json.dumps(o, separators=(",", ":"), sort_keys=True)
        prev = hashlib.sha256(line.encode()).hexdigest()
        out.append(line)
    open(path, "w").write("\n".join(out) + "\n")
PY
# shellcheck disable=SC2086
check "a record removed and the chain rewritten: the chain alone holds" \
    "$C" audit verify $T
# shellcheck disable=SC2086
check_contains "... --anchor sees it" \
    "$("$C" audit verify --anchor "$R/anchors" $T 2>&1)" "Error:"
check_contains "a line that is not an anchor is named" \
    "$(echo junk >>"$R/t/anchors"; cp "$R/anchors" "$R/t/a2"; echo junk >>"$R/t/a2";
    "$C" audit verify --anchor "$R/t/a2" 2>&1)" "is not an anchor"
# A crash between the rename and the new file: the next start goes on.
last=$(ls "$STATE" | sed -n 's/^audit\.log\.\([0-9]*\)$/\1/p' | sort -n | tail -1)
mv "$STATE/audit.log" "$STATE/audit.log.$((last + 1))"
IMGD_ARGS="--config $R/imgd.yaml" imgd_start "$R/state" || { summary; exit 1; }
check_contains "after a cut-short rotation, audit.log goes on from the last file" \
    "$(head -1 "$STATE/audit.log")" '"why":"a new audit.log after a restart"'
check "... and the chain verifies, anchors too" "$C" audit verify --anchor "$R/anchors"
imgd_stop
# Bad settings stop imgd at start, saying why.
for bad in 'audit_rotate_size: 100' 'audit_anchor_every: 0' \
    "audit_anchor_file: $R/no/such/dir/anchors"; do
	echo "$bad" >"$R/bad.yaml"
	timeout 20 "$BIN/imgd" --state "$R/bad" --config "$R/bad.yaml" >"$R/bad.out" 2>&1
	rc=$?
	check "imgd refuses to start with \"$bad\" (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	check_contains "... saying why" "$(cat "$R/bad.out")" \
	    "$(case $bad in *file*) echo 'audit_anchor_file' ;; *) echo "bad value for ${bad%%:*}" ;; esac)"
done
summary
