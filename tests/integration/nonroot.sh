#!/bin/bash
# Started by an ordinary user, imgd still runs: same processes, seccomp,
# a user namespace with chroot where the kernel allows it, and a log line
# saying what it could not drop.
. "$(dirname "$0")/lib.bash"

U=imgd-test-user
id "$U" >/dev/null 2>&1 || useradd --system --no-create-home \
    --shell /usr/sbin/nologin "$U" || { fail "cannot create $U"; summary; \
    exit 1; }
chmod 755 "$T_TMP"
mkdir -p "$T_TMP/st"
chown "$U" "$T_TMP/st"
f=$(mkunified "$T_TMP/img.tar" xz desc="as a user")
chmod 644 "$f"
echo "$FETCH_CONFIG" >"$T_TMP/imgd.yaml"
chmod 644 "$T_TMP/imgd.yaml"
setpriv --reuid="$U" --regid="$U" --init-groups \
    "$BIN/imgd" --state "$T_TMP/st" --config "$T_TMP/imgd.yaml" \
    >"$T_TMP/imgd.log" 2>&1 &
IMGD_PID=$!
STATE=$T_TMP/st
SOCK=$STATE/unix.socket
check "imgd starts as $U" wait_serving
export LXD_DIR=$STATE
check_contains "import works" "$(lxc_out lxc image import "$f" --alias me)" \
    "Image imported with fingerprint: $(sha256sum "$f" | cut -d' ' -f1)"
check_eq "list works" "$(lxc image list -f csv -c l)" me
# A fetcher runs one download: one is kept busy by a slow remote.
slow_fetch_start
log=$(cat "$T_TMP/imgd.log")
check_contains "it says it is not root" "$log" "not root: reduced sandbox"
check_contains "and what each child could not drop" "$log" \
    "frontend (pid"
for p in imgd-frontend imgd-fetcher; do
	pid=$(child_pid "$p")
	check_eq "$p runs as $U" "$(ps -o user= -p "$pid" | tr -d ' ')" "$U"
	check_eq "$p is under seccomp" "$(awk '/^Seccomp:/ {print $2}' \
	    "/proc/$pid/status")" 2
	check_eq "$p has no effective capabilities" \
	    "$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")" \
	    0000000000000000
done
if imgd_stop; then
	pass "stops with status 0"
else
	fail "stops with status 0"
fi
summary
