#!/bin/bash
# The rejection paths the other suites do not reach: multipart shapes,
# framing, headers, alias and property limits, websocket handshakes,
# upload caps and rates, configured limits (part size, validation time),
# and start-up refusals. Each checks the error and, where the daemon runs,
# that nothing was left behind and that it still serves.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
read -r M R <<<"$(mksplit "$W/s" gzip none desc=parts)"
U=$(mkunified "$W/u.tar" none desc=unified)
UFP=$(sha256sum "$U" | cut -d' ' -f1)
check_eq "one good image" "$(upload "$U")" "202|"

# Slow clients first: they take the limits' time, checked at the end.
python3 - "$SOCK" >"$W/slow-upload" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /1.0/images HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n")
s.settimeout(90)
start = time.time()
data = b""
try:
    while not data.endswith(b"}") and time.time() - start < 80:
        s.send(b"\0")          # 1 byte every 2 s: far under the minimum rate
        time.sleep(2)
        s.setblocking(False)
        try:
            data += s.recv(4096)
        except BlockingIOError:
            pass
        s.setblocking(True)
except OSError:
    pass
print(data.split(b"\r\n")[0].decode(), data[data.find(b"{"):].decode())
PY
slow_upload=$!
python3 - "$SOCK" >"$W/slow-body" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"PUT /1.0/images/ab HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
s.settimeout(90)
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
slow_body=$!

# expect STATUS TEXT WHAT curl-args...: an API call refused as said, with
# nothing left behind.
expect() {
	local status=$1 text=$2 what=$3
	shift 3
	local before out
	before=$(state_snapshot)
	out=$(api "$@")
	check_eq "$what: $status" "$(echo "$out" | tail -1)" "$status"
	check_contains "$what: says why" "$out" "$text"
	check_eq "$what: nothing left behind" "$(state_snapshot)" "$before"
}

# ---- multipart shapes ----
expect 400 'the first part must be \"metadata\"' "first part misnamed" \
    POST /1.0/images -F "meta=@$M" -F "rootfs=@$R"
expect 400 "Virtual-machine images are not supported" "VM rootfs part" \
    POST /1.0/images -F "metadata=@$M" -F "rootfs.img=@$R"
expect 400 'the second part must be \"rootfs\"' "second part misnamed" \
    POST /1.0/images -F "metadata=@$M" -F "root=@$R"
expect 400 'needs a \"metadata\" and a \"rootfs\" part' "one part only" \
    POST /1.0/images -F "metadata=@$M"
expect 400 "Invalid multipart body" "multipart without a boundary" \
    POST /1.0/images -H 'Content-Type: multipart/form-data' \
    --data-binary "@$M"
expect 400 'needs a \"metadata\" and a \"rootfs\" part' "multipart garbage" \
    POST /1.0/images -H 'Content-Type: multipart/form-data; boundary=xyz' \
    --data-binary 'this is not multipart'

# ---- framing ----
before=$(state_snapshot)
out=$(printf 'POST /1.0/images HTTP/1.1\r\nHost: x\r\n\r\n' | raw)
check_eq "upload without a length: 411" "$out" "HTTP/1.1 411 Length Required"
out=$(printf 'POST /1.0/images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n' | raw)
check_eq "upload with a bad chunk: 400" "$out" "HTTP/1.1 400 Bad Request"
out=$(printf 'PUT /1.0/images/ab HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}\r\nxx\r\n' | raw)
check_eq "JSON body with a bad chunk: 400" "$out" "HTTP/1.1 400 Bad Request"
check_eq "framing errors left nothing" "$(state_snapshot)" "$before"
expect 400 "bad percent-encoding" "bad query encoding" GET '/1.0/images?a=%zz'
expect 404 "Image not found" "unknown image subresource" \
    GET "/1.0/images/$UFP/secrets"

# ---- headers of an upload ----
expect 400 'X-Imgd-Alias: invalid alias name \"a/./b\": empty' \
    "alias header with a dot segment" \
    POST /1.0/images --data-binary "@$U" -H 'X-Imgd-Alias: a%2F.%2Fb'
expect 400 'X-Imgd-Alias: alias \"a\" is given twice' "the same alias twice" \
    POST /1.0/images --data-binary "@$U" -H 'X-Imgd-Alias: a' \
    -H 'X-Imgd-Alias: a'

# ---- aliases ----
expect 400 "name and target are required" "alias without a target" \
    POST /1.0/images/aliases -d '{"name":"x"}'
expect 400 "name and target are required" "alias without a name" \
    POST /1.0/images/aliases -d "{\"target\":\"$UFP\"}"
expect 400 'Invalid value for \"description\"' "alias description too long" \
    POST /1.0/images/aliases -d "{\"name\":\"x\",\"target\":\"$UFP\",\"description\":\"$(head -c 300 /dev/zero | tr '\0' d)\"}"
expect 400 'Unsupported alias type' "alias of a VM type" \
    POST /1.0/images/aliases -d "{\"name\":\"x\",\"target\":\"$UFP\",\"type\":\"virtual-machine\"}"
expect 400 'Invalid value for \"name\"' "alias name not a string" \
    POST /1.0/images/aliases -d "{\"name\":7,\"target\":\"$UFP\"}"
for i in $(seq 1 32); do
	api POST /1.0/images/aliases -d "{\"name\":\"n$i\",\"target\":\"$UFP\"}" \
	    >/dev/null
done
check_eq "32 aliases on one image" "$(api_body GET "/1.0/images/$UFP" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["metadata"]["aliases"]))')" 32
expect 400 "An image has at most 32 aliases" "a 33rd alias" \
    POST /1.0/images/aliases -d "{\"name\":\"n33\",\"target\":\"$UFP\"}"
expect 404 "Image not found" "alias retargeted to a non-hex name" \
    PUT /1.0/images/aliases/n1 -d '{"target":"not-hex"}'
expect 400 "name is required" "alias renamed to nothing" \
    POST /1.0/images/aliases/n1 -d '{}'
expect 400 'Invalid alias name \"a//b\": empty' \
    "alias renamed to an empty segment" \
    POST /1.0/images/aliases/n1 -d '{"name":"a//b"}'

# ---- properties over the limit after a PATCH merge ----
P=$(python3 -c 'import json; print(json.dumps({"properties": {"k%d" % i: "v" for i in range(200)}}))')
check_eq "200 properties by PUT" "$(api_status PUT "/1.0/images/$UFP" -d "$P")" 200
P=$(python3 -c 'import json; print(json.dumps({"properties": {"n%d" % i: "v" for i in range(100)}}))')
expect 400 "Too many properties" "PATCH merging to 300 properties" \
    PATCH "/1.0/images/$UFP" -d "$P"

# ---- operations and events ----
op=$(api_body DELETE /1.0/images/aliases/n1 >/dev/null; api_body GET \
    /1.0/operations | jget metadata.success.0)
if [ -z "$op" ]; then
	resp=$(api POST /1.0/images --data-binary "@$U")
	op=$(echo "$resp" | sed '$d' | jget operation)
fi
expect 403 "can't be cancelled" "cancel an operation" DELETE "$op"
ws() {
	printf 'GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%b\r\n' \
	    "$1" "$2" | raw
}
K='Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
check_eq "websocket on another path: 404" "$(ws /1.0/nothing \
    "${K}Sec-WebSocket-Version: 13\r\n")" "HTTP/1.1 404 Not Found"
check_eq "websocket version 12: 426" "$(ws /1.0/events \
    "${K}Sec-WebSocket-Version: 12\r\n")" "HTTP/1.1 426 Upgrade Required"
check_eq "websocket without a key: 400" "$(ws /1.0/events \
    'Sec-WebSocket-Version: 13\r\n')" "HTTP/1.1 400 Bad Request"
check_eq "websocket for unknown event types: 400" "$(ws \
    '/1.0/events?type=bogus' "${K}Sec-WebSocket-Version: 13\r\n")" \
    "HTTP/1.1 400 Bad Request"

wait "$slow_upload" "$slow_body"
check_contains "an upload under the minimum rate: dropped" \
    "$(cat "$W/slow-upload")" "Upload too slow"
check_eq "a JSON body that never completes: 408" "$(cat "$W/slow-body")" \
    "HTTP/1.1 408 Request Timeout"

# ---- at most 64 connections per user ----
# (after the slow clients above are gone: they were connections too)
out=$(python3 "$(dirname "$0")/uploads.py" "$SOCK" 64 0 2>&1)
check_eq "a 65th connection of one user: closed" "$out" "closed"
check_contains "and logged" "$(cat "$T_TMP/imgd.log")" \
    "connection from uid 0 refused: too many"
check_eq "still serving" "$(api_status GET /1.0)" 200
imgd_stop

# ---- configured limits: part size, validation time ----
cat >"$W/imgd.conf" <<'CONF'
# small limits, for the test
upload_max: 1M
socket_group: nogroup
CONF
IMGD_ARGS="--config $W/imgd.conf" imgd_start "$T_TMP/state2" ||
    { summary; exit 1; }
head -c 2000000 /dev/zero >"$W/big.bin"
before=$(state_snapshot)
out=$(upload "$W/big.bin")
check_contains "a part over upload_max: 413" "$out" \
    "413|image part larger than the limit of 1048576 bytes"
check_eq "over upload_max: nothing left behind" "$(state_snapshot)" "$before"

# At most 64 uploads at once, whoever sends them (two users here: the
# per-user connection cap alone would stop one).
chmod 755 "$T_TMP"
before=$(state_snapshot)
out=$(python3 "$(dirname "$0")/uploads.py" "$SOCK" 40 24 2>&1)
check_eq "a 65th upload at once: 503" "$out" \
    "HTTP/1.1 503 Service Unavailable"
sleep 0.5
check_eq "65 uploads: nothing left behind" "$(state_snapshot)" "$before"
mkdir -p "$W/slow/rootfs"
head -c 24000000 /dev/urandom >"$W/slow/rootfs/blob"
printf 'architecture: x86_64\ncreation_date: 1458040200\n' \
    >"$W/slow/metadata.yaml"
tar -C "$W/slow" -cjf "$W/slow.tar.bz2" metadata.yaml rootfs
rm -rf "$W/slow"
cat >"$W/imgd.conf" <<'CONF'
unpacker_timeout: 1
CONF
imgd_stop
IMGD_ARGS="--config $W/imgd.conf" imgd_start "$T_TMP/state2" ||
    { summary; exit 1; }
before=$(state_snapshot)
out=$(upload "$W/slow.tar.bz2")
check_eq "validation over unpacker_timeout" "$out" \
    "202|image validation timed out"
check_eq "timed out: nothing left behind" "$(state_snapshot)" "$before"
check_contains "the unpacker was killed for it" "$(cat "$T_TMP/imgd.log")" \
    "validation took too long"
imgd_stop

# ---- start-up refusals ----
refuse() {
	local what=$1 text=$2
	shift 2
	local out rc=0
	out=$(timeout 20 "$@" 2>&1) || rc=$?
	check_eq "$what: exits 1" "$rc" 1
	check_contains "$what: says why" "$out" "$text"
}
printf 'colour: blue\n' >"$W/bad.conf"
refuse "config with an unknown key" 'line 1: unknown key "colour"' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
printf 'socket_mode: 0777\n' >"$W/bad.conf"
refuse "config with a bad value" 'bad value for socket_mode' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
for v in 512K 2G 64X; do
	printf 'upload_hash_lag: %s\n' "$v" >"$W/bad.conf"
	refuse "config with upload_hash_lag $v" 'bad value for upload_hash_lag' \
	    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
done
printf 'just words\n' >"$W/bad.conf"
refuse "config that is not key: value" \
    "line 1: the top level must be a mapping" \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
# The config file is read with metadata.yaml's strict YAML reader.
printf 'debug: true\n# again\ndebug: false\n' >"$W/bad.conf"
refuse "config with a key twice" 'line 3: duplicate key "debug"' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
printf 'upload_max: &m 1M\n' >"$W/bad.conf"
refuse "config with a YAML anchor" 'line 1: YAML anchors are not allowed' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
printf 'unpacker_timeout:\n  - 60\n' >"$W/bad.conf"
refuse "config with a list for a value" \
    'line 2: unpacker_timeout must be a string' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
printf 'debug: true\n---\ndebug: false\n' >"$W/bad.conf"
refuse "config with two documents" 'only one YAML document is allowed' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
printf '%070d: 1\n' 0 >"$W/bad.conf"
refuse "config with a key over 63 bytes" 'line 1: unknown key "0000' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
{ echo 'debug: true'; head -c 70000 /dev/zero | tr '\0' '#'; echo; } \
    >"$W/bad.conf"
refuse "config over 64 KiB" 'larger than 65536 bytes' \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/bad.conf"
check "no state was made by the refused starts" test ! -e "$T_TMP/state3/imgd.db"
refuse "missing config file" "No such file" \
    "$BIN/imgd" --state "$T_TMP/state3" --config "$W/none.conf"
imgd_start "$T_TMP/state3" || { summary; exit 1; }
refuse "a second imgd on the same state" "another imgd is running" \
    "$BIN/imgd" --state "$T_TMP/state3"
check_eq "the first one still serves" "$(api_status GET /1.0)" 200
imgd_stop
touch "$T_TMP/state3/empty/planted"
refuse "a chroot dir that is not empty" "empty is not empty" \
    "$BIN/imgd" --state "$T_TMP/state3"
rm -f "$T_TMP/state3/empty/planted"
mkdir -p "$W/bin"
cp "$BIN"/imgd "$BIN"/imgd-frontend "$BIN"/imgd-fetcher "$BIN"/imgd-unpacker \
    "$W/bin/"
chmod 0755 "$W/bin"
chmod g+w "$W/bin/imgd-frontend"
refuse "a child program others may change" \
    "imgd-frontend must be owned by root and writable by nobody else" \
    "$W/bin/imgd" --state "$T_TMP/state3"
summary
