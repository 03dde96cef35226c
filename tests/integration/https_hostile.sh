#!/bin/bash
# Hostile clients over HTTPS (tls_hostile.py): heads over the limits,
# Content-Length with Transfer-Encoding, deep and large JSON, traversal,
# a handshake that never finishes, slowloris, connections beyond the
# per-client cap, clients that stop reading exports. The service keeps
# serving others throughout, and is still up at the end.
. "$(dirname "$0")/lib.bash"

# A header timeout of 3 s (the default is 10): the configured one holds.
https_start "http_header_timeout: 3" || { summary; exit 1; }

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
