#!/bin/bash
# Validation while the body arrives: the unpacker reads an upload as the
# store hashes it, so a big image is validated by the time its last byte
# is in. Shown with the unpacker's own read counter (/proc/PID/io) while
# half the body is still held back by the client; a hostile image is
# refused from its first bytes yet answered as after the whole body;
# a client that gives up leaves nothing and no killed process; a verdict
# before the last byte is hashed is a protocol violation; and an upload
# that finds the project's streaming unpackers busy is validated once
# complete, as before; the watchdog (unpacker_timeout) starts at the end
# of the body, not at its start; and an early refusal of a split image's
# metadata reaches the client as that refusal in every round, never as the
# unpacker's death.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
POST="python3 $(dirname "$0")/slowpost.py"

# The unpacker of the running imgd has read at least $1 bytes.
unpacker_read() {
	cat >"$W/gate.sh" <<EOF
for p in \$(pgrep -P $IMGD_PID -x imgd-unpacker); do
	r=\$(awk '/^rchar/ {print \$2}' /proc/\$p/io 2>/dev/null)
	[ "\${r:-0}" -ge $1 ] && exit 0
done
exit 1
EOF
	echo "sh $W/gate.sh"
}

# The operation of a slowpost answer (its second line: the JSON body).
op_of() {
	sed -n 3p | python3 -c 'import json, sys; print(json.load(sys.stdin)["operation"])'
}

# A unified tar.xz of 16 MiB that xz cannot shrink.
mkimage_tree "$W/tree"
head -c $((16 << 20)) /dev/urandom >"$W/tree/rootfs/blob"
tar -C "$W/tree" -cf "$W/big.tar" metadata.yaml rootfs templates
xz -0 -T1 "$W/big.tar"
BIG=$W/big.tar.xz
SIZE=$(stat -c %s "$BIG")
FP=$(sha256sum <"$BIG" | cut -d' ' -f1)

# The same with an entry that climbs out of rootfs/ first.
mkdir -p "$W/evil/rootfs/aaa"
cp "$W/tree/metadata.yaml" "$W/evil/"
echo x >"$W/evil/rootfs/aaa/evil"
cp "$W/tree/rootfs/blob" "$W/evil/rootfs/blob"
tar -C "$W/evil" -cf "$W/evil.tar" \
    --transform 's|^rootfs/aaa/evil$|rootfs/../../evil|' \
    metadata.yaml rootfs/aaa/evil rootfs/blob rootfs
xz -0 -T1 "$W/evil.tar"
EVIL=$W/evil.tar.xz

IMGD_ARGS=--debug imgd_start || { summary; exit 1; }
before=$(state_snapshot)

# 1. Half the body in: the unpacker reads it before the rest is sent.
out=$($POST "$SOCK" "$BIG" $((SIZE / 2)) "$(unpacker_read $((SIZE / 4)))")
check_eq "the unpacker read a quarter while half was held back" \
    "$(echo "$out" | head -1)" "gate: ok"
check_eq "the upload is answered with an operation" \
    "$(echo "$out" | sed -n 2p)" "HTTP/1.1 202 Accepted"
check_eq "... that succeeds" "$(op_wait "$(echo "$out" | op_of)")" Success
check_contains "the log says it was validated as it arrived" \
    "$(cat "$T_TMP/imgd.log")" "validated as it arrives"
check_eq "the image is there, bytes as sent" \
    "$(sha256sum "$STATE/images/$FP" | cut -d' ' -f1)" "$FP"
"$BIN/imgctl" image delete "$FP" >/dev/null
check_eq "deleted: the store is as before" "$(state_snapshot)" "$before"

# 2. A hostile image: its unpacker is done before the client sends the
# second half, and the answer is the one a whole body gets.
: >"$T_TMP/imgd.log"
out=$($POST "$SOCK" "$EVIL" $((SIZE / 2)) \
    "grep -q 'unpacker (pid [0-9]*) exited' $T_TMP/imgd.log")
check_eq "hostile: the unpacker ended before the second half was sent" \
    "$(echo "$out" | head -1)" "gate: ok"
check_eq "hostile: still answered with an operation" \
    "$(echo "$out" | sed -n 2p)" "HTTP/1.1 202 Accepted"
check_eq "hostile: which fails with the entry's refusal" \
    "$(op_wait "$(echo "$out" | op_of)")" \
    'Failure: entry "rootfs/../../evil": ".." is not allowed'
check_eq "hostile: nothing left" "$(state_snapshot)" "$before"
check_contains "hostile: the refusal is logged with the fingerprint" \
    "$(cat "$T_TMP/imgd.log")" \
    "import $(sha256sum <"$EVIL" | cut -d' ' -f1) refused"

# 3. The client gives up half way: the unpacker is told by the end of its
# channel and exits by itself; nothing is left, nothing was killed.
: >"$T_TMP/imgd.log"
out=$($POST "$SOCK" "$BIG" $((SIZE / 2)) "$(unpacker_read $((SIZE / 4)))" \
    abort)
check_eq "aborted: the unpacker was reading" "$out" "gate: ok"
for _ in $(seq 1 100); do
	grep -q 'unpacker (pid [0-9]*) exited' "$T_TMP/imgd.log" && break
	sleep 0.1
done
check_contains "aborted: the unpacker exited by itself" \
    "$(cat "$T_TMP/imgd.log")" "exited with status 0"
check_eq "aborted: no process killed or died" \
    "$(grep -c 'killed by\|process-died' "$T_TMP/imgd.log" "$STATE/audit.log" |
    awk -F: '{ n += $2 } END { print n }')" 0
check_eq "aborted: nothing left" "$(state_snapshot)" "$before"
check_eq "aborted: still serving" "$(api_status GET /1.0)" 200
imgd_stop

# 4. An unpacker that claims a verdict before the last byte is hashed:
# a protocol violation, not an image.
wrapped_bin "$T_TMP/bin" imgd-unpacker \
    'exec "$REAL" "$@" --probe input:early-verdict'
REALBIN=$BIN
BIN=$T_TMP/bin
: >"$T_TMP/imgd.log"
IMGD_ARGS=--debug imgd_start "$T_TMP/state-lie" || { summary; exit 1; }
lie_before=$(state_snapshot)
out=$($POST "$SOCK" "$BIG" $((SIZE / 2)) \
    "grep -q 'UNPACK_META out of order' $T_TMP/imgd.log")
check_eq "lying unpacker: refused while half the body was held back" \
    "$(echo "$out" | head -1)" "gate: ok"
[ "$(echo "$out" | head -1)" = "gate: ok" ] ||
    grep -v '^unpacker\[' "$T_TMP/imgd.log" | tail -20 | sed 's/^/#   /'
check_contains "lying unpacker: the import fails as imgd's fault" \
    "$(op_wait "$(echo "$out" | op_of)")" \
    "Failure: image validation failed: the unpacker misbehaved"
check_eq "lying unpacker: nothing kept" "$(state_snapshot)" "$lie_before"
imgd_stop
BIN=$REALBIN

# 5. The watchdog starts at the body's end: an upload that takes longer
# than unpacker_timeout to arrive is still validated.
printf 'unpacker_timeout: 2\n' >"$W/short.yaml"
IMGD_ARGS="--debug --config $W/short.yaml" imgd_start "$T_TMP/state-short" ||
    { summary; exit 1; }
out=$($POST "$SOCK" "$BIG" $((SIZE / 2)) "sleep 4")
check_eq "slow body: held back for twice unpacker_timeout" \
    "$(echo "$out" | head -1)" "gate: ok"
check_eq "slow body: validated all the same" \
    "$(op_wait "$(echo "$out" | op_of)")" Success
imgd_stop

# 6. One streaming unpacker per project: a second upload meanwhile is
# validated once complete, and both succeed.
printf 'unpackers_per_project: 1\n' >"$W/one.yaml"
: >"$T_TMP/imgd.log"
IMGD_ARGS="--debug --config $W/one.yaml" imgd_start "$T_TMP/state-one" ||
    { summary; exit 1; }
$POST "$SOCK" "$BIG" $((SIZE / 2)) "test -e $W/go" >"$W/first.out" &
post=$!
for _ in $(seq 1 100); do
	grep -q "validated as it arrives" "$T_TMP/imgd.log" && break
	sleep 0.1
done
small=$(mkunified "$W/small.tar" gzip)
out=$("$BIN/imgctl" image import "$small" 2>&1)
check_contains "busy: the second upload imports" "$out" \
    "Image imported with fingerprint:"
check_contains "busy: ... validated once complete" \
    "$(cat "$T_TMP/imgd.log")" "validated once complete"
touch "$W/go"
wait "$post"
check_eq "busy: the streaming one succeeds too" \
    "$(op_wait "$(op_of <"$W/first.out")")" Success
imgd_stop

# 7. An early refusal is never lost to the unpacker's exit: it refuses a
# split image's metadata tarball and exits while the store is still busy
# with the rootfs and still feeding it, so it leaves records unread. The
# kernel reports that (ECONNRESET) before the verdict it sent; read as the
# end of the channel, the verdict was lost and the refusal read as a
# death ("exited with status 0"). Rounds, since it is a race.
read -r M R <<<"$(mksplit "$W/split" none none)"
mkdir -p "$W/extra/rootfs/etc"
echo 'root:x:0:0::/root:/bin/sh' >"$W/extra/rootfs/etc/passwd"
cp "$M" "$W/meta-extra.tar"
tar -C "$W/extra" -rf "$W/meta-extra.tar" rootfs/etc/passwd
head -c $((32 << 20)) /dev/urandom >"$W/rootfs.big"
want='metadata tarball: entry "rootfs/etc/passwd": a metadata tarball holds only metadata.yaml and templates/'
imgd_start "$T_TMP/state-race" || { summary; exit 1; }
race_before=$(state_snapshot)
right=0 wrong=
for round in $(seq 1 ${RACE_ROUNDS:-25}); do
	op=$(api POST /1.0/images -F "metadata=@$W/meta-extra.tar" \
	    -F "rootfs=@$W/rootfs.big" | sed '$d' | jget operation)
	got=$(api_body GET "$op/wait?timeout=60" | jget metadata.err)
	[ "$got" = "$want" ] && right=$((right + 1)) ||
	    wrong="${wrong:-round $round: $got}"
done
check_eq "early refusal: the verdict, in every round" \
    "$right${wrong:+ ($wrong)}" "${RACE_ROUNDS:-25}"
check_eq "early refusal: no unpacker died" \
    "$(grep -c '"event":"process-died"' "$STATE/audit.log")" 0
check_eq "early refusal: nothing left" "$(state_snapshot)" "$race_before"
imgd_stop
summary
