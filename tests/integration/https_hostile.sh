#!/bin/bash
# Hostile clients over HTTPS (tls_hostile.py): heads over the limits,
# Content-Length with Transfer-Encoding, deep and large JSON, traversal,
# a handshake that never finishes, slowloris, connections beyond the
# per-client cap, clients that stop reading exports. The service keeps
# serving others throughout, and is still up at the end.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A header timeout of 3 s (the default is 10): the configured one holds.
printf "https_address: 127.0.0.1:%s\nhttp_header_timeout: 3\n" "$PORT" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml"
imgd_start || { summary; exit 1; }
for _ in $(seq 1 50); do
	curl -sk "https://127.0.0.1:$PORT/1.0" >/dev/null 2>&1 && break
	sleep 0.1
done

# A 16 MiB public image, for the exports that stall.
mkimage_tree "$W/tree"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$W/tree/rootfs/big"
tar -C "$W/tree" -cf "$W/big.tar" metadata.yaml rootfs templates
FP=$(sha256sum "$W/big.tar" | cut -d' ' -f1)
check "import the big public image" lxc image import "$W/big.tar" --public
FE=$(child_pid imgd-frontend)

out=$(timeout 120 python3 "$(dirname "$0")/tls_hostile.py" "$PORT" "$SOCK" \
    "$FP" "$FE" 2>&1)
printf '%s\n' "$out"
T_PASS=$((T_PASS + $(grep -c '^ok - ' <<<"$out")))
T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' <<<"$out")))
check_contains "the script ran to its end" "$out" "exports stall"
check_eq "the same frontend throughout" "$(child_pid imgd-frontend)" "$FE"
check_eq "still serving" "$(curl -sk -o /dev/null -w '%{http_code}' \
    "https://127.0.0.1:$PORT/1.0")" 200

summary
