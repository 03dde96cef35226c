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

# The size limits are configuration too, lowered only.
imgd_stop
printf 'https_address: 127.0.0.1:%s\nhttp_line_max: 1024\njson_depth: 8\n' \
    "$PORT" >"$W/low.yaml"
IMGD_ARGS="--config $W/low.yaml"
imgd_start "$STATE"
for _ in $(seq 1 50); do
	curl -sk "https://127.0.0.1:$PORT/1.0" >/dev/null 2>&1 && break
	sleep 0.1
done
long=$(head -c 1500 /dev/zero | tr '\0' a)
check_eq "http_line_max 1024: a 1.5 KiB request line is 414" \
    "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/$long")" 414
check_eq "... a short one is served" "$(curl -sk -o /dev/null \
    -w '%{http_code}' "https://127.0.0.1:$PORT/1.0")" 200
deep=$(printf '%.0s[' $(seq 1 10))$(printf '%.0s]' $(seq 1 10))
check_contains "json_depth 8: 10 levels refused" "$(curl -s --unix-socket \
    "$SOCK" -X POST -d "$deep" http://x/1.0/images/aliases)" \
    "deeper than 8 levels"
imgd_stop
printf 'http_line_max: 65536\n' >"$W/high.yaml"
out=$("$BIN/imgd" --state "$T_TMP/s2" --config "$W/high.yaml" 2>&1)
check_contains "a limit above the compiled one is refused" "$out" \
    'bad value for http_line_max: "65536"'

summary
