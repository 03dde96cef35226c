#!/bin/bash
# Bad input, one case at a time: each must get a clear error that says what
# was wrong, and leave nothing behind -- no blob, no temp file, no DB row --
# with the service still serving. Images are fed through the API (curl)
# and, where it matters, through the real lxc client.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
MKBAD="python3 $(dirname "$0")/mkbad.py"

# One good image, so that "nothing changed" is checked against a store
# that has content.
GOOD=$(mkunified "$W/good.tar" gzip desc=good)
GOOD_FP=$(sha256sum "$GOOD" | cut -d' ' -f1)
check_eq "good image imports" "$(upload "$GOOD" -H 'X-Imgd-Alias: good')" \
    "202|"

# Open fds of the store and the frontend: the same at the end.
fds() {
	echo "store $(ls "/proc/$IMGD_PID/fd" | wc -l)" \
	    "frontend $(ls "/proc/$(child_pid imgd-frontend)/fd" | wc -l)"
}
FDS_BEFORE=$(fds)

# expect_refused WHAT EXPECTED-TEXT upload-args...
expect_refused() {
	local what=$1 want=$2
	shift 2
	local before after out
	before=$(state_snapshot)
	out=$(upload "$@")
	check_contains "$what: error says why" "$out" "$want"
	after=$(state_snapshot)
	check_eq "$what: nothing left behind" "$after" "$before"
	check_eq "$what: still serving" "$(api_status GET /1.0)" 200
}

# ---- archives and metadata ----
$MKBAD junk "$W/junk"
expect_refused "not a tarball" "not a tar archive" "$W/junk"
head -c 200 "$GOOD" >"$W/trunc.tar.gz"
expect_refused "truncated gzip" "gzip" "$W/trunc.tar.gz"
cp "$GOOD" "$W/corrupt.tar.gz"
printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of="$W/corrupt.tar.gz" \
    bs=1 seek=40 conv=notrunc 2>/dev/null
expect_refused "corrupt gzip" "gzip" "$W/corrupt.tar.gz"
xz -c "$W/good.tar" | head -c 300 >"$W/trunc.tar.xz"
expect_refused "truncated xz" "rror" "$W/trunc.tar.xz"
for c in no-metadata:"no metadata.yaml" \
    two-metadata:"more than one metadata.yaml" \
    invalid-yaml:"metadata.yaml" alias-bomb:"anchors are not allowed" \
    no-arch:"architecture" unknown-arch:'unknown architecture "vax"' \
    zero-date:"creation_date" no-rootfs:"rootfs" \
    year-10000:"creation_date out of range" \
    expiry-huge:"expiry_date out of range" \
    dotdot:'".."' absolute:"absolute" symlink-rootfs:"rootfs" \
    through-symlink:"symlink" hardlink-outside:'".."' \
    hardlink-missing:"hard link"; do
	name=${c%%:*}
	$MKBAD "$name" "$W/$name.tar"
	expect_refused "$name" "${c#*:}" "$W/$name.tar"
done

# ---- fingerprints ----
expect_refused "same bytes twice" "Image with same fingerprint already exists" \
    "$GOOD"
expect_refused "X-LXD-fingerprint mismatch" "Fingerprint mismatch" \
    "$(mkunified "$W/other.tar" none desc=other)" \
    -H "X-LXD-fingerprint: $GOOD_FP"
expect_refused "X-LXD-fingerprint not hex" "X-LXD-fingerprint" \
    "$W/other.tar" -H "X-LXD-fingerprint: zz"
expect_refused "alias taken by another image" "Alias \"good\" already exists" \
    "$W/other.tar" -H 'X-Imgd-Alias: good'
expect_refused "bad X-LXD-properties" \
    "X-LXD-properties: bad percent-encoding or a control character (expected key=value&..., form-encoded)" \
    "$W/other.tar" -H 'X-LXD-properties: a=%zz'
expect_refused "a key twice in X-LXD-properties" \
    'X-LXD-properties: "os" is given twice' \
    "$W/other.tar" -H 'X-LXD-properties: os=a&os=b'
expect_refused "a key twice across X-LXD-properties headers" \
    'X-LXD-properties: "os" is given twice' \
    "$W/other.tar" -H 'X-LXD-properties: os=a' -H 'X-LXD-properties: os=b'
expect_refused "a long value in X-LXD-properties" \
    'X-LXD-properties: value of "k" is longer than 4096 bytes' \
    "$W/other.tar" -H "X-LXD-properties: k=$(printf 'v%.0s' $(seq 1 4097))"
expect_refused "a control character in X-LXD-properties" \
    'X-LXD-properties: bad percent-encoding or a control character' \
    "$W/other.tar" -H 'X-LXD-properties: k=a%01b'
expect_refused "empty body" "empty upload" /dev/null
P=$(python3 -c 'print("&".join("k%d=v" % i for i in range(256)) + "&one=more")')
expect_refused "257 properties in X-LXD-properties" \
    "X-LXD-properties: at most 256 properties" \
    "$W/other.tar" -H "X-LXD-properties: $P"

# ---- a client that goes away mid-upload ----
before=$(state_snapshot)
python3 - "$SOCK" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /1.0/images HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 10000000\r\n\r\n" + b"\0" * 1000000)
time.sleep(0.3)
s.close()
EOF
sleep 0.5
check_eq "disconnect mid-upload: nothing left behind" "$(state_snapshot)" \
    "$before"
check_contains "disconnect mid-upload: logged" "$(cat "$T_TMP/imgd.log")" \
    "client disconnected"
check_eq "disconnect mid-upload: still serving" "$(api_status GET /1.0)" 200

# A split upload whose rootfs part never ends.
before=$(state_snapshot)
python3 - "$SOCK" <<'EOF'
import socket, sys, time
b = b"0123456789abcdef"
body = (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"metadata\"; "
        b"filename=\"m.tar\"\r\n\r\n" + b"m" * 1000 + b"\r\n--" + b +
        b"\r\nContent-Disposition: form-data; name=\"rootfs\"; "
        b"filename=\"r.tar\"\r\n\r\n" + b"r" * 1000)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /1.0/images HTTP/1.1\r\nHost: x\r\nContent-Type: "
          b"multipart/form-data; boundary=" + b + b"\r\n"
          b"Content-Length: 999999\r\n\r\n" + body)
time.sleep(0.3)
s.close()
EOF
sleep 0.5
check_eq "split disconnect: nothing left behind" "$(state_snapshot)" "$before"

# ---- aliases and names ----
before=$(state_snapshot)
out=$(api POST /1.0/images/aliases -d '{"name":"x","target":"ffff"}')
check_eq "alias to an unknown image: 404" "$(echo "$out" | tail -1)" 404
check_contains "alias to an unknown image: says so" "$out" "Image not found"
out=$(api POST /1.0/images/aliases -d "{\"name\":\"good\",\"target\":\"$GOOD_FP\"}")
check_eq "duplicate alias: 409" "$(echo "$out" | tail -1)" 409
check_contains "duplicate alias: says so" "$out" 'Alias \"good\" already exists'
out=$(api POST /1.0/images/aliases -d '{"name":"..","target":"ab"}')
check_eq "alias named ..: 400" "$(echo "$out" | tail -1)" 400
check_contains "alias named ..: says why" "$out" \
    'Invalid alias name \"..\": empty'
check_eq "alias errors left nothing" "$(state_snapshot)" "$before"

# An ambiguous prefix: import until two fingerprints share a first digit.
declare -A first
amb=""
for i in $(seq 1 17); do
	f=$(mkunified "$W/amb$i.tar" none desc="amb $i")
	fp=$(sha256sum "$f" | cut -d' ' -f1)
	upload "$f" >/dev/null
	if [ -n "${first[${fp:0:1}]:-}" ]; then
		amb=${fp:0:1}
		break
	fi
	first[${fp:0:1}]=1
done
out=$(api GET "/1.0/images/$amb")
check_eq "ambiguous prefix: 400" "$(echo "$out" | tail -1)" 400
check_contains "ambiguous prefix: says so" "$out" "More than one image matches"
out=$(lxc image info "$amb" 2>&1)
check_contains "ambiguous prefix via lxc" "$out" "More than one image matches"

# No SQL wildcards, no fingerprint in a 404 body.
for p in '%25' '_' '*' 'g' "${GOOD_FP}0"; do
	out=$(api GET "/1.0/images/$p")
	check_eq "image \"$p\": 404" "$(echo "$out" | tail -1)" 404
done
out=$(api GET "/1.0/images/${GOOD_FP:0:8}zz")
case "$out" in
*"$GOOD_FP"*) fail "404 body leaks a fingerprint" "$out" ;;
*) pass "404 body leaks no fingerprint" ;;
esac

# ---- edits ----
before=$(state_snapshot)
for body in '{"public":"yes"}' '{"properties":{"a":1}}' '{"properties":[]}' \
    '{"auto_update":1}' '{"expires_at":"tomorrow"}' '[1,2]' 'not json' \
    '{"profiles":["nope"]}'; do
	out=$(api PUT "/1.0/images/$GOOD_FP" -d "$body")
	check_eq "edit $body: 400" "$(echo "$out" | tail -1)" 400
done
deep=$(printf '%.0s[' $(seq 1 100))
check_eq "JSON nested too deep: 400" \
    "$(api_status PUT "/1.0/images/$GOOD_FP" -d "$deep")" 400
check_eq "bad edits changed nothing" "$(state_snapshot)" "$before"
doc=$(api_body GET "/1.0/images/$GOOD_FP")
out=$(api PUT "/1.0/images/$GOOD_FP" -d '{"architecture":"armv7l",
    "created_at":"2001-01-01T00:00:00Z","fingerprint":"00",
    "properties":{"description":"good"}}')
check_eq "immutable fields in an edit: accepted" "$(echo "$out" | tail -1)" 200
doc2=$(api_body GET "/1.0/images/$GOOD_FP")
check_eq "immutable fields ignored: architecture" \
    "$(echo "$doc2" | jget metadata.architecture)" x86_64
check_eq "immutable fields ignored: created_at" \
    "$(echo "$doc2" | jget metadata.created_at)" "2016-03-15T11:10:00Z"
check_eq "immutable fields ignored: fingerprint" \
    "$(echo "$doc2" | jget metadata.fingerprint)" "$GOOD_FP"

# ---- a refused upload ends its connection (no request smuggling) ----
out=$(python3 "$(dirname "$0")/smuggle.py" "$SOCK")
check_eq "refused upload: one response, then the connection ends" "$out" \
    "1 HTTP/1.1 404 Not Found"

# ---- HTTP framing ----
out=$(printf 'GET /1.0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n' |
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(200).decode().split("\r\n")[0])' "$SOCK")
check_eq "Content-Length with Transfer-Encoding: 400" "$out" \
    "HTTP/1.1 400 Bad Request"
check_eq "still serving after all of it" "$(api_status GET /1.0)" 200
sleep 0.5
check_eq "no fd leaked by the store or the frontend" "$(fds)" "$FDS_BEFORE"
check_eq "no child died" "$(grep -c 'killed by' "$T_TMP/imgd.log")" 0
summary
