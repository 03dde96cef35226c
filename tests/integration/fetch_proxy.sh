#!/bin/bash
# Copies through an https proxy, as LXD's core.proxy_https: the config's
# proxy_https, else imgd's https_proxy environment; proxy_ignore_hosts
# (else no_proxy) bypasses it. The proxy is tests/integration/proxy.py, a
# CONNECT proxy that logs every tunnel; the remote is nginx serving a
# simplestreams tree over HTTPS. A proxy that is down fails the copy with
# a clear error and leaves nothing.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
chmod 755 "$T_TMP"
test_ca "$W/ca" || { fail "cannot make a test CA"; summary; exit 1; }

mkimage_tree "$W/img" os=alpine desc="Alpine proxied"
tar -C "$W/img" -cJf "$W/meta.tar.xz" metadata.yaml templates
mksquashfs "$W/img/rootfs" "$W/root.squashfs" -noappend -quiet -comp xz >/dev/null
FP=$(cat "$W/meta.tar.xz" "$W/root.squashfs" | sha256sum | cut -d' ' -f1)
cat >"$W/spec.json" <<SPEC
[{"os": "Alpine", "release": "3.19", "arch": "amd64", "variant": "default",
  "aliases": "alpine/3.19",
  "versions": {"20241204_00:00": {"meta": "$W/meta.tar.xz",
                                  "squashfs": "$W/root.squashfs"}}}]
SPEC
python3 "$LIB_DIR/mkstreams.py" "$W/tree" "$W/spec.json"
nginx_start "$W/tree" "$W/ca" ||
    { fail "nginx does not serve (make deps)"; summary; exit 1; }
NPORT=${NURL##*:}

python3 "$LIB_DIR/proxy.py" "$W/proxy.port" "$W/proxy.log" &
FAKE_PIDS="${FAKE_PIDS:-} $!"
for _ in $(seq 1 50); do [ -s "$W/proxy.port" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$W/proxy.port")
touch "$W/proxy.log"

ss() { # a simplestreams copy of alpine/3.19; its outcome
	local op
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"simplestreams\", \"server\": \"$NURL\", \"alias\": \"alpine/3.19\"}}")
	case $op in
	/1.0/operations/*) op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}
tunnels() { grep -c "^CONNECT 127.0.0.1:$NPORT\$" "$W/proxy.log"; }
restart() { # CONFIG_LINES...: imgd again, with these lines
	imgd_stop
	{
		echo "fetch_allow_private: 127.0.0.1"
		echo "fetch_ca_file: $W/ca/ca.crt"
		printf '%s\n' "$@"
	} >"$W/imgd.yaml"
	IMGD_ARGS="--config $W/imgd.yaml" imgd_start "$T_TMP/state"
}
gone() { api DELETE "/1.0/images/$FP" >/dev/null; sleep 0.3; }

# ---- proxy_https in the config ----
restart "proxy_https: $PROXY" || { summary; exit 1; }
check_eq "proxy_https: a copy goes through the proxy" "$(ss)" Success
check_eq "... the image" "$(api_status GET "/1.0/images/$FP")" 200
check "... every request tunnelled to the remote" test "$(tunnels)" -ge 3
check_contains "... imgd says so when it starts" "$(cat "$T_TMP/imgd.log")" \
    "copies go through the proxy $PROXY"
gone

# ---- proxy_ignore_hosts ----
restart "proxy_https: $PROXY" "proxy_ignore_hosts: 127.0.0.1" || { summary; exit 1; }
n=$(tunnels)
check_eq "proxy_ignore_hosts: a listed host is reached directly" "$(ss)" Success
check_eq "... nothing through the proxy" "$(tunnels)" "$n"
gone

# ---- the environment, as LXD ----
imgd_stop
printf 'fetch_allow_private: 127.0.0.1\nfetch_ca_file: %s\n' "$W/ca/ca.crt" >"$W/imgd.yaml"
n=$(tunnels)
https_proxy=$PROXY IMGD_ARGS="--config $W/imgd.yaml" imgd_start "$T_TMP/state" ||
    { summary; exit 1; }
check_eq "https_proxy in imgd's environment: used" "$(ss)" Success
check "... through the proxy" test "$(tunnels)" -gt "$n"
gone
imgd_stop
n=$(tunnels)
HTTPS_PROXY=$PROXY NO_PROXY=127.0.0.1 IMGD_ARGS="--config $W/imgd.yaml" \
    imgd_start "$T_TMP/state" || { summary; exit 1; }
check_eq "HTTPS_PROXY with NO_PROXY naming the host: direct" "$(ss)" Success
check_eq "... nothing through the proxy" "$(tunnels)" "$n"
gone
imgd_stop
printf 'proxy_https: ""\n' >>"$W/imgd.yaml"
https_proxy=$PROXY IMGD_ARGS="--config $W/imgd.yaml" \
    imgd_start "$T_TMP/state" || { summary; exit 1; }
n=$(tunnels)
check_eq 'proxy_https: "" turns the environment'"'"'s proxy off' "$(ss)" Success
check_eq "... nothing through the proxy" "$(tunnels)" "$n"
gone

# ---- a proxy that is down ----
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
restart "proxy_https: http://127.0.0.1:$DEAD" || { summary; exit 1; }
before=$(state_snapshot)
out=$(ss)
check_contains "a proxy that is down: the copy fails" "$out" "Failure"
check_contains "... naming the proxy it could not reach" "$out" \
    "(copies go through the proxy http://127.0.0.1:$DEAD)"
check_eq "... nothing left" "$(state_snapshot)" "$before"
restart "proxy_https: not a url at all" || { summary; exit 1; }
check_contains "a proxy_https that is not a URL: the copy fails, saying so" \
    "$(ss)" "proxy"
check_eq "... nothing left" "$(state_snapshot)" "$before"
summary
