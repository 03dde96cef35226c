#!/bin/bash
# The order a commit's writes reach the disk in, which a kill -9 cannot
# show (the page cache survives it, a power loss does not): traced with
# strace on the running store. An import syncs each blob's data, links it
# into images/, syncs the directory, commits the row with the WAL synced
# (sqlite synchronous=FULL), and only then tells the client; an alias or an
# edit syncs the WAL before its reply. The checker is shown to fail on the
# same trace with any one step taken out or the reply moved first.
. "$(dirname "$0")/lib.bash"

ORDER="python3 $(dirname "$0")/syncorder.py"
W=$T_TMP/work
mkdir -p "$W"

if ! command -v strace >/dev/null; then
	fail "strace is installed (make deps)"
	summary
	exit 1
fi
imgd_start || { summary; exit 1; }

# traced OUT CMD...: CMD run with the store (all its threads) traced.
traced() {
	local out=$1 st
	shift
	strace -f -qq -yy -s 4096 -e trace=fsync,fdatasync,linkat,sendmsg \
	    -p "$IMGD_PID" -o "$out" 2>"$out.err" &
	st=$!
	# Attached once every thread of the store has a tracer.
	for _ in $(seq 1 100); do
		! grep -qs '^TracerPid:[[:space:]]*0$' \
		    /proc/"$IMGD_PID"/task/*/status && break
		sleep 0.05
	done
	"$@" >"$out.cmd" 2>&1
	sleep 0.3 # the last replies
	kill -INT "$st"
	wait "$st"
}

# ---- an import, unified and split ----
img=$(mkunified "$W/one.tar" none)
FP=$(sha256sum <"$img" | cut -d' ' -f1)
traced "$W/unified" "$BIN/imgctl" image import "$img"
check_eq "unified: imported" "$(cat "$W/unified.cmd")" \
    "Image imported with fingerprint: $FP"
out=$($ORDER "$W/unified" image "$FP" 2>&1)
check_contains "unified: blob synced, linked, directory synced, WAL synced, reply" \
    "$out" "order: ok"

read -r M R <<<"$(mksplit "$W/split" gzip none)"
SFP=$(cat "$M" "$R" | sha256sum | cut -d' ' -f1)
traced "$W/split" "$BIN/imgctl" image import "$M" "$R"
check_eq "split: imported" "$(cat "$W/split.cmd")" \
    "Image imported with fingerprint: $SFP"
out=$($ORDER "$W/split" image "$SFP" 2>&1)
check_contains "split: both blobs in that order" "$out" "order: ok"
check_eq "split: two blobs linked" \
    "$(grep -c "linkat(.*\"$SFP\(\.rootfs\)\?\"" "$W/split")" 2

# ---- commits of rows only: an alias, an edit ----
traced "$W/alias" "$BIN/imgctl" image alias create durable-alias "$FP"
check_eq "alias: created" "$(api_status GET /1.0/images/aliases/durable-alias)" 200
out=$($ORDER "$W/alias" row durable-alias 2>&1)
check_contains "alias: WAL synced before the reply" "$out" "order: ok"

traced "$W/edit" api PUT "/1.0/images/$FP" \
    -d '{"properties": {"description": "durable-edit"}, "public": false}'
check_eq "edit: answered" "$(tail -1 "$W/edit.cmd")" 200
check_contains "edit: applied" "$(api GET "/1.0/images/$FP")" durable-edit
# The edit's reply is an OK; its lifecycle event names the image.
out=$($ORDER "$W/edit" row "$FP" 2>&1)
check_contains "edit: WAL synced before the reply" "$out" "order: ok"

# ---- the checker fails when any one step is missing ----
# mutant NAME SED WHY: the unified trace edited by SED is refused for WHY.
mutant() {
	sed "$2" "$W/unified" >"$W/mut"
	refused_for "$1" "$3"
}
refused_for() {
	if out=$($ORDER "$W/mut" image "$FP" 2>&1); then
		fail "checker: refuses a trace with $1" "$out"
	else
		check_contains "checker: refuses a trace with $1" "$out" "$2"
	fi
}
mutant "no sync of the blob's data" '/sync([0-9]*<[^>]*\/tmp\//d' \
    "linked before its data was synced"
mutant "no link" "/linkat(.*\"$FP\"/d" "no link of $FP"
mutant "no sync of images/" '/sync([0-9]*<[^>]*\/images>/d' \
    "no sync of the images directory"
mutant "no WAL sync (synchronous=NORMAL)" '/sync([0-9]*<[^>]*\.db-wal>/d' \
    "no sync of the database's WAL"
# The success moved to just after the link, before the WAL sync.
reply=$($ORDER "$W/unified" reply "$FP")
link=$(grep -n "linkat(.*\"$FP\"" "$W/unified" | head -1 | cut -d: -f1)
if [ -n "$reply" ] && [ -n "$link" ]; then
	sed -n "${reply}p" "$W/unified" >"$W/reply.line"
	sed -e "${reply}d" -e "${link}r $W/reply.line" "$W/unified" >"$W/mut"
	refused_for "the reply before the WAL sync" "went before the WAL sync"
else
	fail "the trace has the reply and the link" "reply=$reply link=$link"
fi

# A row's commit with its WAL sync taken out, or with the reply first.
sed '/sync([0-9]*<[^>]*\.db-wal>/d' "$W/alias" >"$W/mut"
out=$($ORDER "$W/mut" row durable-alias 2>&1) &&
    fail "checker: refuses an alias trace without the WAL sync" "$out" ||
    check_contains "checker: refuses an alias trace without the WAL sync" \
	"$out" "no sync of the database's WAL"
wal=$(grep -n 'sync([0-9]*<[^>]*\.db-wal>' "$W/alias" | head -1 | cut -d: -f1)
{ grep -v 'sync([0-9]*<[^>]*\.db-wal>' "$W/alias"
  sed -n "${wal:-1}p" "$W/alias"; } >"$W/mut"
out=$($ORDER "$W/mut" row durable-alias 2>&1) &&
    fail "checker: refuses an alias trace with the reply first" "$out" ||
    check_contains "checker: refuses an alias trace with the reply first" \
	"$out" "went before the WAL sync"

# The store still says which sqlite sync level it runs.
check_contains "the log names the database's sync level" \
    "$(cat "$T_TMP/imgd.log")" "synchronous=FULL"
imgd_stop
summary
