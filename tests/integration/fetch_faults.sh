#!/bin/bash
# The fetcher against a hostile remote (tests/integration/fakeremote.py,
# over HTTPS with a test CA that imgd is told to trust) and a fake DNS
# server: every fault fails the copy with a clear error, leaves nothing
# (no image, no temp file, no row), and the next copy works. Each case
# is a separate download, so each runs in a new fetcher.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
test_ca "$W/ca" || { fail "cannot make a test CA"; summary; exit 1; }
python3 "$LIB_DIR/fakedns.py" "$W/dns.port" \
    imgd-test.example=127.0.0.1 >/dev/null 2>&1 &
FAKE_PIDS="$!"
for _ in $(seq 1 50); do [ -s "$W/dns.port" ] && break; sleep 0.1; done
cat >"$W/imgd.yaml" <<EOF
fetch_allow_private: 127.0.0.1, imgd-test.example
fetch_ca_file: $W/ca/ca.crt
nameservers: 127.0.0.1:$(cat "$W/dns.port")
fetch_low_speed_time: 2
upload_max: 4M
EOF
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }

IMG=$(mkunified "$W/u.tar" gzip os=alpine desc="fault test")
FP=$(sha256sum "$IMG" | cut -d' ' -f1)
fake_start "$IMG" "$W/ca/srv.crt" "$W/ca/srv.key"
PORT=${FAKE_URL##*:}

# copy_url URL: a direct-URL copy; prints the operation's outcome.
copy_url() {
	local op
	op=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$1\"}}")
	case $op in
	/1.0/operations/*) op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}

# fault NAME URL EXPECTED: the copy fails saying EXPECTED, nothing is left.
fault() {
	local before out
	before=$(state_snapshot)
	out=$(copy_url "$2")
	check_contains "$1: refused" "$out" "$3"
	sleep 0.2
	check_eq "$1: nothing left" "$(state_snapshot)" "$before"
}

fault "closed mid-download" "$FAKE_URL/direct/close" \
    "Failure: Failed remote image download from 127.0.0.1"
fault "a byte changed" "$FAKE_URL/direct/corrupt" \
    "failed verification: $FAKE_URL/file/corrupt: sha256"
fault "LXD-Image-Hash not the file's" "$FAKE_URL/direct/wronghash" \
    "failed verification: $FAKE_URL/file/ok: sha256 $FP where"
fault "no LXD-Image-* headers" "$FAKE_URL/direct/nohash" \
    "did not answer with LXD-Image-URL and LXD-Image-Hash"
fault "an endless body" "$FAKE_URL/direct/endless" \
    "a file larger than the limit of 4194304 bytes"
fault "a drip below the minimum rate" "$FAKE_URL/direct/drip" \
    "Operation too slow"
fault "a redirect loop" "$FAKE_URL/direct/redirect-loop" \
    "more than 5 redirects"
fault "a redirect from https to http" "$FAKE_URL/direct/redirect-http" \
    "a redirect from https to plain http"
fault "a redirect to a loopback name not allowed" \
    "$FAKE_URL/direct/redirect-localhost" \
    "localhost resolves to 127.0.0.1 (a loopback address), which is refused"
fault "an unknown name" "https://no-such-host.example:$PORT/direct/ok" \
    "cannot resolve no-such-host.example"
fault "plain http not allowed" "http://127.0.0.1:$PORT/direct/ok" \
    "plain http is not allowed for 127.0.0.1"
fault "loopback for a host not allowed" "https://localhost:$PORT/direct/ok" \
    "which is refused for remote servers"
fault "not a URL of a host" "https://user@127.0.0.1:$PORT/direct/ok" \
    "The server must be an https:// URL of a host name or address"

# simplestreams documents that make no sense
ss_fault() {
	local before out op
	before=$(state_snapshot)
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"simplestreams\", \"server\": \"$2\", \"alias\": \"x\"}}")
	out=$(op_wait "$op" 60)
	check_contains "$1: refused" "$out" "$3"
	check_eq "$1: nothing left" "$(state_snapshot)" "$before"
}
ss_fault "index.json not JSON" "$FAKE_URL/bad" "not a JSON object"
ss_fault "index.json of 65 MiB" "$FAKE_URL/huge" "a document larger than 64 MiB"
ss_fault "no index.json" "$FAKE_URL/none" "answered 404: not found"

# What works: a name through the fake DNS, a checked redirect.
check_eq "a name resolved in the sandbox, an allowed loopback address" \
    "$(copy_url "https://imgd-test.example:$PORT/direct/ok")" Success
check_eq "the image is the remote's" \
    "$(lxc image list -f csv -c f | head -1)" "${FP:0:12}"
api DELETE "/1.0/images/$FP" >/dev/null
sleep 0.5
check_eq "through a relative redirect" \
    "$(copy_url "$FAKE_URL/direct/redirect-ok")" Success
check_contains "the redirect was followed" "$(cat "$FAKE_LOG")" \
    "GET /redirect/ok"

# A server whose certificate no trusted CA signed.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$W/self.key" -out "$W/self.crt" -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TRUSTED_URL=$FAKE_URL
fake_start "$IMG" "$W/self.crt" "$W/self.key"
fault "a certificate no trusted CA signed" "$FAKE_URL/direct/ok" \
    "SSL certificate problem"
FAKE_URL=$TRUSTED_URL

# Bad requests: 400, nothing kept.
before=$(state_snapshot)
bad() { # NAME JSON EXPECTED
	local out
	out=$(api POST /1.0/images -H 'Content-Type: application/json' -d "$2")
	check_contains "$1: 400" "$out" "$3"
	check_eq "$1: status" "$(tail -1 <<<"$out")" 400
}
bad "no source" '{"aliases": []}' 'A JSON request needs a \"source\" object'
bad "an unknown type" '{"source": {"type": "instance", "name": "c1"}}' \
    'Unsupported source type \"instance\"'
bad "push mode" '{"source": {"type": "image", "mode": "push", "server": "https://x", "fingerprint": "ab"}}' \
    'Only the \"pull\" mode is supported'
bad "no server" '{"source": {"type": "image", "alias": "x"}}' \
    'A source of type image needs a server'
bad "no name" '{"source": {"type": "image", "server": "https://x"}}' \
    'needs a fingerprint or an alias'
bad "an unknown protocol" '{"source": {"type": "image", "protocol": "ftp", "server": "https://x", "alias": "a"}}' \
    'Unsupported protocol \"ftp\"'
bad "a bad alias" '{"source": {"type": "url", "url": "https://x/"}, "aliases": [{"name": "a/../b:c"}]}' \
    'alias'
check_eq "bad requests kept nothing" "$(state_snapshot)" "$before"
check_eq "every fault left no fetcher behind" "$(child_pid imgd-fetcher)" ""
check_eq "the audit log has each refused download" \
    "$(grep -c '"event":"image-copy-refused"' "$STATE/audit.log")" 16
check_eq "and the refused request" \
    "$(grep '"request-refused"' "$STATE/audit.log" | grep -c 'The server must be')" 1
summary
