#!/bin/bash
# Upload bodies over the Unix socket in every framing (Content-Length with
# a pipelined request after it, chunked, multipart, and a client that
# hangs up mid-chunk), sent in pieces of random sizes with pauses, so that
# the frontend's two ways of reading a body (libevent's buffer, and its own
# reads and splices straight into the store's pipe) meet at every kind of
# boundary: the image must come out with the right fingerprint, the
# pipelined request must be answered, and a cut body must leave nothing.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
SEND="python3 $(dirname "$0")/body_paths.py $SOCK"

# A unified image of some MiB (random bytes: several pipe-fulls).
mkimage_tree "$W/tree"
head -c $((5 * 1048576 + 12345)) /dev/urandom >"$W/tree/rootfs/bulk"
tar -C "$W/tree" -cf "$W/u.tar" metadata.yaml rootfs templates
tar -C "$W/tree" -cf "$W/m.tar" metadata.yaml templates
tar -C "$W/tree/rootfs" -cf "$W/r.tar" .
UFP=$(sha256sum <"$W/u.tar" | cut -d' ' -f1)
SFP=$(cat "$W/m.tar" "$W/r.tar" | sha256sum | cut -d' ' -f1)

# op_fp OP: the fingerprint the operation ended with, or its error.
op_fp() {
	local body
	body=$(api_body GET "$1/wait?timeout=60")
	local err
	err=$(echo "$body" | jget metadata.err)
	[ -n "$err" ] && { echo "error: $err"; return; }
	echo "$body" | jget metadata.metadata.fingerprint
}

# imported MODE SEED FP FILES...: one upload, the image checked and removed.
imported() {
	local mode=$1 seed=$2 fp=$3
	shift 3
	local out op
	out=$($SEND "$mode" "$@" "$seed" 2>&1)
	check_contains "$mode ($seed): accepted" "$out" "HTTP/1.1 202"
	op=$(echo "$out" | grep '^/1.0/operations/' | head -1)
	check_eq "$mode ($seed): fingerprint" "$(op_fp "$op")" "$fp"
	api DELETE "/1.0/images/$fp" >/dev/null
}

for seed in 1 2 3; do
	imported length "$seed" "$UFP" "$W/u.tar"
	imported chunked "$seed" "$UFP" "$W/u.tar"
	imported multipart "$seed" "$SFP" "$W/m.tar" "$W/r.tar"
done

# The request after a Content-Length body is read as a request: the body
# was taken to its last byte, not one past it.
out=$($SEND length "$W/u.tar" 7 2>&1)
check_eq "pipelined GET after the body: answered" \
    "$(echo "$out" | grep -c '^HTTP/1.1 ')" 2
check_contains "pipelined GET after the body: 200" "$out" "HTTP/1.1 200"
op=$(echo "$out" | grep '^/1.0/operations/' | head -1)
check_eq "pipelined: the image is whole" "$(op_fp "$op")" "$UFP"
api DELETE "/1.0/images/$UFP" >/dev/null

# A chunked body cut in the middle of a chunk's data: nothing is left.
before=$(state_snapshot)
for seed in 4 5; do
	$SEND cut "$W/u.tar" "$seed" >/dev/null 2>&1
done
sleep 0.5
check_eq "cut mid-chunk: nothing left behind" "$(state_snapshot)" "$before"
check_contains "cut mid-chunk: logged" "$(cat "$T_TMP/imgd.log")" \
    "client disconnected"
check_eq "cut mid-chunk: still serving" "$(api_status GET /1.0)" 200
check_eq "no image at the end" \
    "$(api_body GET /1.0/images | jget metadata)" "[]"

# imgctl sends files with sendfile; where sendfile cannot read the file
# (a preload that fails it with EINVAL), it reads and sends them instead.
for how in sendfile fallback; do
	pre=()
	rm -f "$W/sendfile.log"
	[ "$how" = fallback ] && pre=(env "LD_PRELOAD=${BIN%/bin}/tests/no_sendfile.so"
	    "NO_SENDFILE_LOG=$W/sendfile.log")
	out=$("${pre[@]}" "$BIN/imgctl" image import "$W/u.tar" 2>&1)
	check_contains "imgctl ($how), unified: fingerprint" "$out" "$UFP"
	out=$("${pre[@]}" "$BIN/imgctl" image import "$W/m.tar" "$W/r.tar" 2>&1)
	check_contains "imgctl ($how), split: fingerprint" "$out" "$SFP"
	if [ "$how" = fallback ]; then
		check_eq "imgctl ($how): sendfile was refused, once a file" \
		    "$(cat "$W/sendfile.log" 2>/dev/null | wc -l)" 3
	fi
	api DELETE "/1.0/images/$UFP" >/dev/null
	api DELETE "/1.0/images/$SFP" >/dev/null
done

imgd_stop

# The store hashes in a thread behind its splices; a pipe that runs more
# than upload_hash_lag ahead waits for the hashing. At 1 MiB, a 48 MiB
# image waits many times: it must still come out whole, and an upload cut
# while its hashing runs must leave nothing.
printf 'upload_hash_lag: 1M\ndebug: true\n' >"$W/lag.yaml"
IMGD_ARGS="--config $W/lag.yaml" imgd_start "$T_TMP/state_lag" ||
    { summary; exit 1; }
mkimage_tree "$W/big"
head -c $((48 * 1048576)) /dev/urandom >"$W/big/rootfs/bulk"
tar -C "$W/big" -cf "$W/bu.tar" metadata.yaml rootfs templates
tar -C "$W/big" -cf "$W/bm.tar" metadata.yaml templates
tar -C "$W/big/rootfs" -cf "$W/br.tar" .
BUFP=$(sha256sum <"$W/bu.tar" | cut -d' ' -f1)
BSFP=$(cat "$W/bm.tar" "$W/br.tar" | sha256sum | cut -d' ' -f1)
: >"$T_TMP/imgd.log"
out=$("$BIN/imgctl" image import "$W/bu.tar" 2>&1)
check_contains "lag 1M, unified 48 MiB: fingerprint" "$out" "$BUFP"
out=$("$BIN/imgctl" image import "$W/bm.tar" "$W/br.tar" 2>&1)
check_contains "lag 1M, split 48 MiB: fingerprint" "$out" "$BSFP"
check_eq "lag 1M, split: each file's own sha256" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT part0_sha256 || ' ' || part1_sha256 FROM images
     WHERE fingerprint = '$BSFP'")" \
    "$(sha256sum <"$W/bm.tar" | cut -d' ' -f1) $(sha256sum <"$W/br.tar" |
    cut -d' ' -f1)"
paused=$(grep -c 'bytes hashed, reading paused [1-9][0-9]* times' \
    "$T_TMP/imgd.log")
check_eq "lag 1M: both uploads waited for their hashing" "$paused" 2
before=$(state_snapshot)
$SEND cut "$W/bu.tar" 6 >/dev/null 2>&1
api DELETE "/1.0/images/$BUFP" >/dev/null
api DELETE "/1.0/images/$BSFP" >/dev/null
sleep 0.5
check_eq "lag 1M, cut mid-chunk: nothing left behind" \
    "$(api_body GET /1.0/images | jget metadata)" "[]"
check_eq "lag 1M: still serving" "$(api_status GET /1.0)" 200
imgd_stop

# A store with no room for the image. A body whose Content-Length is more
# than the free space is refused before it is read; a chunked one fills
# the disk (the splice into the temp file fails with ENOSPC). Either way
# the client is told what the image needs and what is free, nothing is
# left, and a small image still imports.
FULL=$T_TMP/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=4m tmpfs "$FULL"; then
	imgd_start "$FULL/state" || fail "imgd on a 4 MiB tmpfs starts"
	before=$(state_snapshot)
	out=$(upload "$W/u.tar")
	check_contains "no space, declared: the client is told what it needs" \
	    "$out" "507|no space left on the image store: $(stat -c %s \
	    "$W/u.tar") bytes needed, "
	check_eq "no space, declared: nothing left behind" \
	    "$(state_snapshot)" "$before"
	check_contains "no space, declared: logged" \
	    "$(cat "$T_TMP/imgd.log")" "bytes declared, "
	out=$(upload "$W/u.tar" -H 'Transfer-Encoding: chunked')
	check_contains "no space, chunked: the client is told" "$out" \
	    "|no space left on the image store: it filled after "
	check_eq "no space, chunked: nothing left behind" \
	    "$(state_snapshot)" "$before"
	check_contains "no space, chunked: logged" \
	    "$(cat "$T_TMP/imgd.log")" "No space left on device"
	check_eq "no space: a small image still imports" \
	    "$(upload "$(mkunified "$W/small.tar" none desc=small)")" "202|"
	imgd_stop
	umount "$FULL"
else
	fail "mount a 4 MiB tmpfs (the test runs as root)"
fi
summary
