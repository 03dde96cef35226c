#!/bin/bash
# Supervision: a child that dies costs its work, never the service. The
# frontend, a fetcher (mid-download) and an unpacker are killed (SIGKILL),
# mid-request where it matters; the store logs it, fails the job with a
# clear error, restarts the frontend, and the next request works. Also: the
# children's identities, start-up repair, the audit chain, memory that
# stays flat for a large upload, and a clean SIGTERM.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
echo "$FETCH_CONFIG" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }

# ---- who runs what ----
# A fetcher runs one download: one is kept busy by a slow remote.
slow_fetch_start
check "a slow download keeps a fetcher running" test -n "$(child_pid imgd-fetcher)"
for p in imgd-frontend imgd-fetcher; do
	pid=$(child_pid "$p")
	user=$(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ')
	check_eq "$p runs as its own user" "$user" "$p"
	check_eq "$p has no capabilities" "$(awk '/^CapEff/ {print $2}' \
	    "/proc/$pid/status")" 0000000000000000
	check_eq "$p is under seccomp" "$(awk '/^Seccomp:/ {print $2}' \
	    "/proc/$pid/status")" 2
	check_eq "$p is in an empty chroot" "$(readlink "/proc/$pid/root")" \
	    "$STATE/empty"
done

# The store keeps only the capabilities it uses (store/main.c keep_caps).
caps() { # the capability numbers set in /proc/PID/status field $2
	python3 -c '
import sys
v = int(open("/proc/%s/status" % sys.argv[1]).read().split(sys.argv[2] + ":")[1].split()[0], 16)
names = {0: "chown", 1: "dac_override", 2: "dac_read_search", 3: "fowner",
         4: "fsetid", 5: "kill", 6: "setgid", 7: "setuid", 8: "setpcap",
         18: "sys_chroot", 21: "sys_admin", 27: "mknod"}
print(" ".join(names.get(i, str(i)) for i in range(64) if v >> i & 1))' "$@" 2>&1
}
# chown..fsetid and mknod are there only to be handed to unpack and publish
# jobs (the job keeps the subset its mode needs; test_sandbox checks that).
KEEP="chown dac_override dac_read_search fowner fsetid kill setgid setuid"
KEEP="$KEEP setpcap sys_chroot sys_admin mknod"
for set in CapBnd CapEff CapPrm; do
	check_eq "the store's $set: only what it uses" "$(caps "$IMGD_PID" $set)" \
	    "$KEEP"
done
check_eq "the store's CapInh: empty" "$(caps "$IMGD_PID" CapInh)" ""
check_eq "the store's CapAmb: empty" "$(caps "$IMGD_PID" CapAmb)" ""

# ---- the frontend dies ----
old=$(child_pid imgd-frontend)
kill -KILL "$old"
check "frontend restarted and serving" wait_serving
new=$(child_pid imgd-frontend)
check "a new frontend process" test -n "$new" -a "$new" != "$old"
check_contains "the store logged the death" "$(cat "$T_TMP/imgd.log")" \
    "frontend (pid $old) killed by signal 9"
check_contains "and the restart" "$(cat "$T_TMP/imgd.log")" \
    "restarting the frontend"
f=$(mkunified "$W/after-fe.tar" gzip desc="after frontend death")
check_eq "an import works after the restart" "$(upload "$f")" "202|"

# ... and while an upload is in flight.
before=$(state_snapshot)
python3 - "$SOCK" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /1.0/images HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 50000000\r\n\r\n")
try:
    for _ in range(100):
        s.sendall(b"\0" * 65536)
        time.sleep(0.02)
except OSError:
    pass
EOF
slow=$!
sleep 0.5
kill -KILL "$(child_pid imgd-frontend)"
wait "$slow"
check "serving after a death mid-upload" wait_serving
sleep 0.3
check_eq "the dropped upload left nothing" "$(state_snapshot)" "$before"
check_contains "the store said so" "$(cat "$T_TMP/imgd.log")" \
    "dropped: the frontend went away"

# ---- a fetcher dies mid-download ----
before=$(state_snapshot)
kill -KILL "$(child_pid imgd-fetcher)"
check_contains "the download fails, saying so" "$(op_wait "$SLOW_OP" 20)" \
    "Failure: Failed remote image download: the fetcher killed by signal 9"
sleep 0.3
check_eq "the killed download left nothing" "$(state_snapshot)" "$before"
check_eq "no fetcher is left" "$(child_pid imgd-fetcher)" ""
slow_fetch_start
check "the next download gets a new fetcher" test -n "$(child_pid imgd-fetcher)"

# ---- an unpacker dies mid-job ----
mkdir -p "$W/big/rootfs"
head -c 24000000 /dev/urandom >"$W/big/rootfs/blob"
printf 'architecture: x86_64\ncreation_date: 1458040200\n' \
    >"$W/big/metadata.yaml"
# bzip2: slow to decompress, so the job lasts long enough to be killed.
tar -C "$W/big" -cjf "$W/big.tar.bz2" metadata.yaml rootfs
before=$(state_snapshot)
upload "$W/big.tar.bz2" >"$W/big.out" &
up=$!
killed=""
for _ in $(seq 1 500); do
	pid=$(child_pid imgd-unpacker)
	if [ -n "$pid" ]; then
		kill -KILL "$pid" && killed=$pid
		break
	fi
	sleep 0.01
done
wait "$up"
check "an unpacker was caught mid-job" test -n "$killed"
check_contains "the job failed with a clear error" "$(cat "$W/big.out")" \
    "image validation failed: the unpacker killed by signal 9"
check_eq "nothing left behind" "$(state_snapshot)" "$before"
check_contains "the store logged it" "$(cat "$T_TMP/imgd.log")" \
    "unpacker (pid $killed) killed by signal 9"
check_eq "the same image imports now" "$(upload "$W/big.tar.bz2")" "202|"

# ---- memory stays flat: a 256 MB upload through a 1 MB pipe ----
mkdir -p "$W/huge/rootfs"
head -c 268435456 /dev/zero >"$W/huge/rootfs/zeros"
cp "$W/big/metadata.yaml" "$W/huge/"
tar -C "$W/huge" -cf "$W/huge.tar" metadata.yaml rootfs
rm -rf "$W/huge"
fe=$(child_pid imgd-frontend)
check_eq "256 MB import" "$(upload "$W/huge.tar")" "202|"
for p in "$IMGD_PID:store" "$fe:frontend"; do
	kb=$(awk '/^VmHWM/ {print $2}' "/proc/${p%%:*}/status")
	# Peak resident memory of the whole process, not a timing.
	check "${p#*:} peak RSS ${kb} kB stays under 64 MB" test "$kb" -lt 65536
done
rm -f "$W/huge.tar" "$W/big.tar.bz2"

# ---- the audit log is a hash chain ----
audit_ok=$(python3 - "$STATE/audit.log" <<'EOF'
import hashlib, json, sys
prev = "0" * 64
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    rec = json.loads(line)
    if rec["prev"] != prev:
        print("line %d breaks the chain" % n)
        sys.exit(0)
    prev = hashlib.sha256(line.rstrip(b"\n")).hexdigest()
print("chained")
EOF
)
check_eq "audit log chain" "$audit_ok" chained
check_contains "audit log records the deaths" "$(cat "$STATE/audit.log")" \
    '"event":"process-died"'

# ---- SIGTERM, then start-up repair ----
kids=$(pgrep -P "$IMGD_PID" | tr '\n' ' ')
if imgd_stop; then
	pass "SIGTERM: exit status 0"
else
	fail "SIGTERM: exit status 0"
fi
left=""
for k in $kids; do
	kill -0 "$k" 2>/dev/null && left="$left $k"
done
check_eq "no child left running ($kids)" "$left" ""
check "socket removed" test ! -e "$SOCK"
orphan=$(printf '%064d' 7)
echo junk >"$STATE/images/$orphan"
echo junk >"$STATE/images/not-a-fingerprint"
sqlite3 "$STATE/imgd.db" "INSERT INTO images (project_id, fingerprint,
    filename, size, public, auto_update, split, architecture, type,
    created_at, expires_at, uploaded_at, compression0, compression1)
    VALUES (1, '$(printf '%064d' 8)', 'x', 1, 0, 0, 0, 'x86_64',
    'container', 1, 0, 1, 'none', '')"
imgd_start "$STATE" || { summary; exit 1; }
log=$(cat "$T_TMP/imgd.log")
check_contains "repair: orphan file reported" "$log" \
    "$STATE/images/$orphan has no image row: moved to $STATE/quarantine/"
check "repair: orphan file moved aside" test ! -e "$STATE/images/$orphan" \
    -a -e "$STATE/quarantine/$orphan"
check "repair: stray file moved aside" test -e \
    "$STATE/quarantine/not-a-fingerprint"
check_contains "repair: row without file reported" "$log" \
    "image $(printf '%064d' 8) has no file"
check_eq "repair: the row is gone" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT count(*) FROM images WHERE fingerprint = '$(printf '%064d' 8)'")" 0
check_eq "the real images survived" "$(lxc image list -f csv | wc -l)" 3

# ---- nothing in the state dir is for other users ----
for f in imgd.db imgd.db-wal audit.log images tmp quarantine; do
	check_eq "$f: owner only" "$(stat -c %a "$STATE/$f" | sed 's/^.\(..\)$/\1/')" 00
done
check_eq "state dir: traversable for the socket only" \
    "$(stat -c %a "$STATE")" 711

# ---- a split upload whose parts meet while the store is stopped ----
read -r M R <<<"$(mksplit "$W/slow" none none desc="slow split")"
mkdir -p "$W/padtree/templates"
head -c 3000000 /dev/urandom >"$W/padtree/templates/pad"
# A metadata part larger than the pipes, so that the frontend holds some
# of it when the rootfs part begins (a metadata tarball holds only
# metadata.yaml and templates/).
tar -C "$W/padtree" -rf "$M" templates/pad
want=$(cat "$M" "$R" | sha256sum | cut -d' ' -f1)
kill -STOP "$IMGD_PID"
api POST /1.0/images -F "metadata=@$M" -F "rootfs=@$R" >"$W/slow.out" &
up=$!
sleep 1
kill -CONT "$IMGD_PID"
wait "$up"
op=$(sed '$d' "$W/slow.out" | jget operation)
check_eq "split parts meeting in a stalled store: both arrive whole" \
    "$(api_body GET "$op/wait?timeout=30" | jget metadata.status)" Success
check_eq "... with the right fingerprint" "$(api_body GET "$op" | \
    jget metadata.metadata.fingerprint)" "$want"

# ---- a torn audit log line does not stop imgd ----
if imgd_stop; then pass "stopped again"; else fail "stopped again"; fi
printf '{"event":"torn' >>"$STATE/audit.log"
imgd_start "$STATE" || { summary; exit 1; }
check_contains "torn audit line: cut and said" "$(cat "$T_TMP/imgd.log")" \
    "an incomplete last line was cut off"
check_contains "torn audit line: recorded" "$(cat "$STATE/audit.log")" \
    '"event":"audit-log-repaired"'

# ---- storage gone: refuse, do not "repair" everything away ----
imgd_stop
mv "$STATE/images" "$STATE/images.offline"
"$BIN/imgd" --state "$STATE" >"$T_TMP/refuse.log" 2>&1
check_eq "images/ missing: imgd refuses to start" "$?" 1
check_contains "and says why" "$(cat "$T_TMP/refuse.log")" \
    "images/ is missing but the database lists images"
mkdir "$STATE/images"
"$BIN/imgd" --state "$STATE" >"$T_TMP/refuse.log" 2>&1
check_contains "an empty images/ in its place: refused too" \
    "$(cat "$T_TMP/refuse.log")" "no .imgd-images marker"
rmdir "$STATE/images"
check_eq "the rows are all still there" "$(sqlite3 "$STATE/imgd.db" \
    'SELECT count(*) FROM images')" 4
mv "$STATE/images.offline" "$STATE/images"
imgd_start "$STATE" || { summary; exit 1; }
check_eq "storage back: every image is listed" \
    "$(lxc image list -f csv | wc -l)" 4
summary
