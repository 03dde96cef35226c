#!/bin/bash
# Full disks and exhausted inodes, beyond an import's body (body_paths.sh):
# an unpack whose unpack root fills up or runs out of inodes, a copy from
# a remote into a store with no room, an import into a store with no free
# inode. Each fails with a clear error, leaves nothing (no partial tree, no
# temp file, no row), the database stays whole, and the same operation
# works once there is room again. Small tmpfs mounts (the test runs as
# root), unmounted on exit.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
MOUNTS=()
mnt() { # DIR OPTIONS: a tmpfs
	mkdir -p "$1"
	mount -t tmpfs -o "$2" tmpfs "$1" && MOUNTS+=("$1")
}
unmount_all() {
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
}
trap 'imgd_stop >/dev/null 2>&1; unmount_all; cleanup' EXIT

# big IMAGE_OUT KIB [FILES]: a unified image with KIB of random data (it
# does not compress) and FILES small files more.
big() {
	mkimage_tree "$W/tree" desc="big $2"
	head -c $(($2 * 1024)) /dev/urandom >"$W/tree/rootfs/etc/payload"
	mkdir -p "$W/tree/rootfs/many"
	for i in $(seq 1 "${3:-0}"); do echo "$i" >"$W/tree/rootfs/many/f$i"; done
	tar -C "$W/tree" -czf "$1" metadata.yaml rootfs templates
}
db_ok() {
	sqlite3 "$1/imgd.db" 'PRAGMA integrity_check' 2>&1
}
op_err() { # the JSON answer of a POST that made an operation: its error
	local op
	op=$(jget operation <<<"$1")
	case $op in
	/1.0/operations/*) api_body GET "$op/wait?timeout=60" | jget metadata.err ;;
	*) jget error <<<"$1" ;;
	esac
}
unpack() { # FP TARGET: the operation's error ("" on success)
	op_err "$(api_body POST "/1.0/images/$1/unpack" -d "{\"target\": \"$2\"}")"
}

# ---- unpack: the unpack root fills up ----
UR=$T_TMP/ur
mnt "$UR" size=4m || fail "mount a 4 MiB tmpfs for the unpack root"
printf 'unpack_root: %s\n%s\n' "$UR" "$FETCH_CONFIG" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
big "$W/big.tar.gz" 6144
check_eq "a 6 MiB image imports" "$(upload "$W/big.tar.gz")" "202|"
BFP=$(sha256sum <"$W/big.tar.gz" | cut -d' ' -f1)
before=$(state_snapshot)
err=$(unpack "$BFP" c1)
check_contains "unpack into a full unpack root: a clear error" "$err" \
    "no space left under the unpack root $UR ("
check_contains "... that names the entry" "$err" \
    'entry "rootfs/etc/payload": cannot be written: No space left on device' 
echo "# the error: $err"
check_eq "... nothing left under the unpack root" "$(ls -A "$UR")" ""
check_eq "... the store unchanged" "$(state_snapshot)" "$before"
check_contains "... and the store logged it" "$(cat "$T_TMP/imgd.log")" \
    "unpack: removed $UR/.c1.imgd-partial"
f=$(mkunified "$W/small.tar" gzip desc=small)
check_eq "a small image imports" "$(upload "$f")" "202|"
SFP=$(sha256sum <"$f" | cut -d' ' -f1)
check_eq "... and unpacks into the same root" "$(unpack "$SFP" c1)" ""
check "... whole" test -s "$UR/c1/bin/hello"
rm -rf "${UR:?}/c1"

# ---- unpack: no inode left under the unpack root ----
big "$W/many.tar.gz" 16 300
check_eq "an image of 300 files imports" "$(upload "$W/many.tar.gz")" "202|"
MFP=$(sha256sum <"$W/many.tar.gz" | cut -d' ' -f1)
umount "$UR" && mount -t tmpfs -o size=64m,nr_inodes=100 tmpfs "$UR"
err=$(unpack "$MFP" c2)
check_contains "unpack with no inode left: a clear error" "$err" \
    "no space left under the unpack root $UR ("
check_contains "... with the inodes free there" "$err" " 0 inodes free): "
echo "# the error: $err"
check_eq "... nothing left under the unpack root" "$(ls -A "$UR")" ""
umount "$UR" && mount -t tmpfs -o size=64m,nr_inodes=1000 tmpfs "$UR"
check_eq "... with inodes, the same unpack works" "$(unpack "$MFP" c2)" ""
check "... whole" test -f "$UR/c2/many/f300"
check_eq "the database is whole" "$(db_ok "$STATE")" ok
imgd_stop

# ---- import: no inode left in the store ----
ST=$T_TMP/ist
mnt "$ST" size=64m,nr_inodes=400 || fail "mount a tmpfs for the store"
imgd_start "$ST/state" || { summary; exit 1; }
free=$(df --output=iavail "$ST" | tail -1)
mkdir "$ST/filler"
for i in $(seq 1 "$free"); do : 2>/dev/null >"$ST/filler/$i" || break; done
before=$(state_snapshot)
out=$(upload "$f")
check_contains "import with no inode left: a clear error" "$out" \
    "|no space left on the image store"
echo "# the answer: $out"
check_eq "... nothing left behind" "$(state_snapshot)" "$before"
check_eq "... still serving" "$(api_status GET /1.0)" 200
rm -rf "$ST/filler"
check_eq "... with inodes again, the import works" "$(upload "$f")" "202|"
check_eq "the database is whole" "$(db_ok "$ST/state")" ok
imgd_stop

# ---- descriptors: a store started with a low hard RLIMIT_NOFILE ----
# The frontend wants 4096 and cannot raise past the store's hard limit: it
# keeps the lower one and says so (it failed every start before), and the
# store says at start that the limit is low.
IMGD_PID=
STATE=$T_TMP/nofile
SOCK=$STATE/unix.socket
mkdir -p "$STATE"
prlimit --nofile=200:200 "$BIN/imgd" --state "$STATE" >>"$T_TMP/imgd.log" 2>&1 &
IMGD_PID=$!
check "imgd with RLIMIT_NOFILE 200 serves" wait_serving
check_contains "... the store says the limit is low" "$(cat "$T_TMP/imgd.log")" \
    "RLIMIT_NOFILE is 200: under load imgd will run out of file descriptors"
check_contains "... the frontend keeps the lower limit" \
    "$(cat "$T_TMP/imgd.log")" "4096 wanted, the hard limit imgd was started with is 200: keeping it"
check_eq "... and an import works" "$(upload "$f")" "202|"
imgd_stop

# The store runs out of descriptors under load (its soft limit lowered to
# what it holds idle, plus three): six imports at once. (With ten to spare
# some imports get through, and now and then an unpacker started at the
# limit fails its sandbox self-check: a known defect, see issue 12.) Each one succeeds
# or is told 503 "out of file descriptors"; the store does not blame the
# frontend for a pipe it could not take (it killed it, and every client on
# it, as a sender of bad records); nothing is left; with the limit back,
# imports work.
STATE=$T_TMP/nofile2
SOCK=$STATE/unix.socket
imgd_start "$STATE" || { summary; exit 1; }
fe=$(child_pid imgd-frontend)
for i in 1 2 3 4 5 6; do
	mkunified "$W/n$i.tar" gzip desc="nofile $i" >/dev/null
done
hard=$(prlimit --pid "$IMGD_PID" --nofile --output HARD --noheadings | tr -d ' ')
soft=$(prlimit --pid "$IMGD_PID" --nofile --output SOFT --noheadings | tr -d ' ')
prlimit --pid "$IMGD_PID" \
    --nofile=$(($(ls "/proc/$IMGD_PID/fd" | wc -l) + 3)):"$hard"
pids=""
for i in 1 2 3 4 5 6; do
	upload "$W/n$i.tar.gz" >"$W/n$i.out" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
prlimit --pid "$IMGD_PID" --nofile="$soft":"$hard"
ok=0 nofd=0 other=""
for i in 1 2 3 4 5 6; do
	case $(cat "$W/n$i.out") in
	"202|") ok=$((ok + 1)) ;;
	*"imgd is out of file descriptors (its RLIMIT_NOFILE)"*) nofd=$((nofd + 1)) ;;
	*) other="$other $(cat "$W/n$i.out")" ;;
	esac
done
echo "# out of descriptors: $ok imported, $nofd refused"
check "out of descriptors: some imports are refused" test "$nofd" -gt 0
check_eq "... each either imported or told why" "$other" ""
check_eq "... the frontend was not killed for it" "$(child_pid imgd-frontend)" "$fe"
# (whether a pipe is what it ran out for depends on timing: test_ipc
# store_out_of_fds_is_not_the_peers_fault checks that case at a real limit)
check_eq "... no temp file left" "$(ls -A "$STATE/tmp")" ""
check_eq "... a row for each import that worked" \
    "$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM images')" "$ok"
g=$(mkunified "$W/n7.tar" gzip desc="nofile 7")
check_eq "... with the limit back, an import works" "$(upload "$g")" "202|"
imgd_stop

# ---- copy: the store fills up ----
https_start || { summary; exit 1; }
A_URL=$URL
FAKE_PIDS="$IMGD_PID"
IMGD_PID=
# (the remote runs on the state of the first part: it has both images)
for fp in "$BFP" "$SFP"; do
	check_eq "the remote serves $fp publicly" "$(api_status PATCH \
	    "/1.0/images/$fp" -d '{"public": true}')" 200
done
CERT=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' \
    "$STATE/server.crt")
CS=$T_TMP/cst
mnt "$CS" size=5m || fail "mount a 5 MiB tmpfs for the store"
echo "$FETCH_CONFIG" >"$W/b.yaml"
IMGD_ARGS="--config $W/b.yaml" imgd_start "$CS/state" || { summary; exit 1; }
copy() { # FP: the copy's error
	op_err "$(api_body POST /1.0/images -H 'Content-Type: application/json' \
	    -d "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$A_URL\", \"fingerprint\": \"$1\", \"certificate\": $CERT}}")"
}
before=$(state_snapshot)
err=$(copy "$BFP")
check_contains "copy into a full store: refused before the download" \
    "$err" "no space left on the image store: $(stat -c %s \
    "$W/big.tar.gz") bytes needed, "
check_contains "... logged with the remote's claim" \
    "$(cat "$T_TMP/imgd.log")" "download of $BFP: the remote says "
echo "# the error: $err"
check_eq "... nothing left behind" "$(state_snapshot)" "$before"
check_eq "... the small image copies" "$(copy "$SFP")" ""
check_eq "the database is whole" "$(db_ok "$CS/state")" ok
imgd_stop
summary
