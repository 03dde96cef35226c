#!/bin/bash
# imgd over HTTPS: its own TLS identity, TLS 1.2+ AEAD only, trust by
# client certificate (added, or joined with a one-time token), the public
# view an untrusted client gets (public images only; private, missing and
# aliases to private answer alike), one-time image secrets, Range, ETag,
# and the real lxc client and a reference LXD daemon as its clients.
. "$(dirname "$0")/lib.bash"

https_start "trust_token_expiry: 3" "image_secret_expiry: 3" ||
    { summary; exit 1; }
cd "$W" || exit 1

# curl over HTTPS, as an untrusted client (no certificate) unless CERT is
# set; prints the body, then the status on its own line.
tapi() {
	local m=$1 p=$2
	shift 2
	curl -sk ${CERT:+--cert "$CERT" --key "$KEY"} -X "$m" \
	    -w '\n%{http_code}' "$@" "$URL$p"
}
tbody() { tapi "$@" | sed '$d'; }
tstatus() { tapi "$@" | tail -1; }

# ---- the identity ----
check "server.crt made on first start" test -s "$STATE/server.crt"
check_eq "server.key is 0600" "$(stat -c %a "$STATE/server.key")" 600
SFP=$(openssl x509 -in "$STATE/server.crt" -outform der |
    sha256sum | cut -d' ' -f1)
check_eq "the certificate is EC P-384" \
    "$(openssl x509 -in "$STATE/server.crt" -noout -text |
	grep -o 'P-384' | head -1)" "P-384"
served=$(openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null |
    openssl x509 -outform der 2>/dev/null | sha256sum | cut -d' ' -f1)
check_eq "the served certificate is server.crt" "$served" "$SFP"

# ---- TLS versions and ciphers ----
tls_ok() { openssl s_client -connect "127.0.0.1:$PORT" "$@" </dev/null \
    >/dev/null 2>&1; }
check "TLS 1.3 handshake" tls_ok -tls1_3
check "TLS 1.2 with ECDHE + AES-GCM" tls_ok -tls1_2 \
    -cipher ECDHE-ECDSA-AES128-GCM-SHA256
check_fails "TLS 1.1 refused" tls_ok -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
check_fails "TLS 1.2 CBC suite refused" tls_ok -tls1_2 \
    -cipher ECDHE-ECDSA-AES128-SHA256
check_fails "TLS 1.2 without forward secrecy refused" tls_ok -tls1_2 \
    -cipher AES128-GCM-SHA256

# ---- images: public, private, split public ----
f=$(mkunified "$W/pub.tar" gzip desc="Public one" os=pubos)
PUB=$(sha256sum "$f" | cut -d' ' -f1)
check "import public" lxc image import "$f" --public --alias pub/one
f=$(mkunified "$W/priv.tar" xz desc="Private one" os=privos)
PRIV=$(sha256sum "$f" | cut -d' ' -f1)
check "import private" lxc image import "$f" --alias priv
f=$(mkunified "$W/priv2.tar" gzip desc="Private two" os=privos)
PRIV2=$(sha256sum "$f" | cut -d' ' -f1)
check "import a second private image" lxc image import "$f"
read -r m r <<<"$(mksplit "$W/sp" xz gzip desc="Split public")"
SPLIT=$(cat "$m" "$r" | sha256sum | cut -d' ' -f1)
check "import split public" lxc image import "$m" "$r" --public --alias sp

# ---- the public view ----
doc=$(tbody GET /1.0)
check_eq "GET /1.0 untrusted: auth" "$(jget metadata.auth <<<"$doc")" \
    untrusted
check_eq "GET /1.0 untrusted: public" "$(jget metadata.public <<<"$doc")" \
    True
check_contains "GET /1.0 untrusted: nothing about the host" \
    "$(jget metadata.environment <<<"$doc")" "(no metadata.environment)"
check_eq "GET / lists /1.0" "$(tbody GET / | jget metadata.0)" /1.0
list=$(tbody GET /1.0/images)
check_contains "list has the public image" "$list" "$PUB"
check_contains "list has the split public image" "$list" "$SPLIT"
case "$list" in *"$PRIV"*) fail "list hides the private image" ;;
*) pass "list hides the private image" ;; esac
n=$(tbody GET '/1.0/images?recursion=1' | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["metadata"]))')
check_eq "recursion=1: only the two public images" "$n" 2
n=$(tbody GET '/1.0/images?recursion=1&filter=properties.os+eq+pubos' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["metadata"]))')
check_eq "filter= over the public view" "$n" 1
check_eq "a public image: 200" "$(tstatus GET "/1.0/images/$PUB")" 200
missing=$(tapi GET /1.0/images/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef)
private=$(tapi GET "/1.0/images/$PRIV")
check_eq "a private image answers as a missing one" "$private" "$missing"
check_eq "... with 404" "$(tail -1 <<<"$private")" 404
check_eq "a prefix of a private image: the same" \
    "$(tapi GET "/1.0/images/${PRIV:0:12}")" "$missing"
amiss=$(tapi GET /1.0/images/aliases/nosuch)
check_eq "an alias of a private image answers as a missing one" \
    "$(tapi GET /1.0/images/aliases/priv)" "$amiss"
check_eq "... with 404" "$(tail -1 <<<"$amiss")" 404
check_eq "an alias with a slash, of a public image" \
    "$(tbody GET /1.0/images/aliases/pub%2Fone | jget metadata.target)" "$PUB"
check_eq "the alias list is 403 for untrusted clients" \
    "$(tstatus GET /1.0/images/aliases)" 403
tbody GET "/1.0/images/$PUB/export" -o "$W/exp.bin" >/dev/null
check_eq "export of a public image: its bytes" \
    "$(sha256sum <"$W/exp.bin" | cut -d' ' -f1)" "$PUB"
check_eq "export of a private image: 404" \
    "$(tstatus GET "/1.0/images/$PRIV/export")" 404
check_eq "path traversal: 400" "$(tstatus GET '/1.0/images/..%2f..%2fetc')" 400

# Nothing that changes, nothing private, for the public.
before=$(state_snapshot)
check_eq "untrusted DELETE: 403" "$(tstatus DELETE "/1.0/images/$PUB")" 403
check_eq "untrusted PATCH: 403" "$(tstatus PATCH "/1.0/images/$PUB" \
    -d '{"public":false}')" 403
code=$(tstatus POST /1.0/images --data-binary "@$W/pub.tar.gz" \
    -H 'Content-Type: application/octet-stream')
check_eq "untrusted upload: 403" "$code" 403
check_eq "untrusted alias create: 403" "$(tstatus POST /1.0/images/aliases \
    -d "{\"name\":\"x\",\"target\":\"$PUB\"}")" 403
check_eq "untrusted secret request: 403" \
    "$(tstatus POST "/1.0/images/$PRIV/secret")" 403
check_eq "untrusted operations: 403" "$(tstatus GET /1.0/operations)" 403
check_eq "untrusted certificates: 403" "$(tstatus GET /1.0/certificates)" 403
check_eq "untrusted projects: 403" "$(tstatus GET /1.0/projects)" 403
check_eq "untrusted events: 403" "$(tstatus GET /1.0/events \
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')" 403
check_eq "the refusals changed nothing" "$(state_snapshot)" "$before"
check_contains "a refusal is audited" "$(cat "$STATE/audit.log")" \
    '"fault":"forbidden"'

# ---- Range, ETag, If-None-Match ----
size=$(stat -c %s "$W/pub.tar.gz")
h=$(curl -sk -D - -o "$W/r1" -H 'Range: bytes=0-9' "$URL/1.0/images/$PUB/export")
check_contains "Range 0-9: 206" "$h" "206 Partial Content"
check_contains "Range 0-9: Content-Range" "$h" "Content-Range: bytes 0-9/$size"
check_eq "Range 0-9: the first 10 bytes" "$(cmp "$W/r1" <(head -c 10 "$W/pub.tar.gz") && echo same)" same
curl -sk -o "$W/r2" -H 'Range: bytes=-7' "$URL/1.0/images/$PUB/export"
check_eq "Range -7: the last 7 bytes" "$(cmp "$W/r2" <(tail -c 7 "$W/pub.tar.gz") && echo same)" same
curl -sk -o "$W/r3" -H "Range: bytes=100-" "$URL/1.0/images/$PUB/export"
check_eq "Range 100-: the rest" "$(cmp "$W/r3" <(tail -c +101 "$W/pub.tar.gz") && echo same)" same
h=$(curl -sk -D - -o /dev/null -H "Range: bytes=$size-" "$URL/1.0/images/$PUB/export")
check_contains "a range past the end: 416" "$h" "416"
check_contains "... with the size" "$h" "Content-Range: bytes */$size"
h=$(curl -sk -D - -o /dev/null "$URL/1.0/images/$PUB/export")
check_contains "export carries the fingerprint as ETag" "$h" "ETag: \"$PUB\""
check_eq "If-None-Match of the fingerprint: 304" "$(curl -sk -o /dev/null \
    -w '%{http_code}' -H "If-None-Match: \"$PUB\"" \
    "$URL/1.0/images/$PUB/export")" 304
check_eq "If-None-Match of another: 200" "$(curl -sk -o /dev/null \
    -w '%{http_code}' -H "If-None-Match: \"$PRIV\"" \
    "$URL/1.0/images/$PUB/export")" 200

# ---- trust by certificate ----
mkcert "$W/alice"
mkcert "$W/mallory"
AFP=$(openssl x509 -in "$W/alice.crt" -outform der | sha256sum | cut -d' ' -f1)
CERT=$W/mallory.crt KEY=$W/mallory.key
check_eq "an untrusted certificate: the public view" \
    "$(tbody GET /1.0 | jget metadata.auth)" untrusted
check_eq "... and no private image" "$(tstatus GET "/1.0/images/$PRIV")" 404
unset CERT KEY
echo "not a certificate" >"$W/bad.pem"
before=$(state_snapshot)
out=$("$BIN/imgctl" config trust add "$W/bad.pem" 2>&1)
check_contains "a file that is not a certificate: refused" "$out" \
    "Invalid certificate"
check_eq "... and nothing trusted" \
    "$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM certificates')" 0
check "imgctl config trust add CERT" "$BIN/imgctl" config trust add \
    "$W/alice.crt"
check_contains "trust list shows it" "$("$BIN/imgctl" config trust list)" \
    "${AFP:0:12}"
check_contains "added twice: a clear error" \
    "$("$BIN/imgctl" config trust add "$W/alice.crt" 2>&1)" "already"
CERT=$W/alice.crt KEY=$W/alice.key
check_eq "the trusted certificate: auth trusted" \
    "$(tbody GET /1.0 | jget metadata.auth)" trusted
check_eq "... the server's fingerprint in GET /1.0" \
    "$(tbody GET /1.0 | jget metadata.environment.certificate_fingerprint)" \
    "$SFP"
check_eq "... sees the private image" "$(tstatus GET "/1.0/images/$PRIV")" 200
check_eq "... lists the aliases" "$(tstatus GET /1.0/images/aliases)" 200
unset CERT KEY
check "trust remove" "$BIN/imgctl" config trust remove "${AFP:0:16}"
CERT=$W/alice.crt KEY=$W/alice.key
check_eq "removed: untrusted again" "$(tbody GET /1.0 | jget metadata.auth)" \
    untrusted
unset CERT KEY
check_contains "removal audited" "$(cat "$STATE/audit.log")" '"trust-removed"'

# ---- one-time join tokens, with the real lxc client ----
tok=$("$BIN/imgctl" -q config trust add --token bob)
check_contains "a token is LXD's token JSON" "$(base64 -d <<<"$tok")" \
    "\"fingerprint\":\"$SFP\""
check_contains "list-tokens shows it" \
    "$("$BIN/imgctl" config trust list-tokens)" "bob"
export LXD_CONF=$T_TMP/lxc-bob
mkdir -p "$LXD_CONF"
check "lxc remote add NAME TOKEN" lxc remote add imgd "$tok"
check_contains "bob is trusted" "$("$BIN/imgctl" config trust list)" bob
check_contains "the trusted remote sees the private image" \
    "$(lxc_out lxc image list imgd:)" "${PRIV:0:12}"
f=$(mkunified "$W/bob.tar" gzip desc="Bob's")
BOB=$(sha256sum "$f" | cut -d' ' -f1)
check "... imports" lxc image import "$f" imgd: --alias bobs
check "... aliases" lxc image alias create imgd:bob2 "$BOB"
check "... edits" sh -c "printf 'public: true\nproperties:\n  os: bob\n' |
    lxc image edit imgd:bobs"
check_eq "... the edit landed" "$(api_body GET /1.0/images/aliases/bob2 |
    jget metadata.target | xargs -I{} curl -s --unix-socket "$SOCK" \
    http://imgd/1.0/images/{} | jget metadata.properties.os)" bob
check "... deletes" lxc image delete imgd:bobs
export LXD_CONF=$T_TMP/lxc-eve
mkdir -p "$LXD_CONF"
out=$(lxc remote add imgd "$tok" 2>&1)
check_contains "a used token is refused" "$out" "not valid"
tok2=$("$BIN/imgctl" -q config trust add --token late)
sleep 4
out=$(lxc remote add imgd "$tok2" 2>&1)
check_contains "an expired token is refused" "$out" "not valid"
tok3=$("$BIN/imgctl" -q config trust add --token gone)
check "revoke-token" "$BIN/imgctl" config trust revoke-token gone
out=$(lxc remote add imgd "$tok3" 2>&1)
check_contains "a revoked token is refused" "$out" "not valid"
check_eq "eve was never trusted" \
    "$("$BIN/imgctl" config trust list -f csv | grep -c -e late -e gone)" 0

# ---- one-time image secrets ----
resp=$(api_body POST "/1.0/images/$PRIV/secret")
SECRET=$(jget metadata.metadata.secret <<<"$resp")
check_eq "a secret is a running token operation" \
    "$(jget metadata.class <<<"$resp")/$(jget metadata.status <<<"$resp")" \
    token/Running
check_eq "the secret opens the private image" \
    "$(tstatus GET "/1.0/images/$PRIV?secret=$SECRET")" 200
check_eq "a wrong secret: 404" "$(tstatus GET \
    "/1.0/images/$PRIV?secret=${SECRET:1}0")" 404
check_eq "the secret does not open another private image" "$(tstatus GET \
    "/1.0/images/$PRIV2?secret=$SECRET")" 404
tbody GET "/1.0/images/$PRIV/export?secret=$SECRET" -o "$W/priv.bin" \
    >/dev/null
check_eq "export with the secret: the bytes" \
    "$(sha256sum <"$W/priv.bin" | cut -d' ' -f1)" "$PRIV"
check_eq "a used secret: 404" \
    "$(tstatus GET "/1.0/images/$PRIV/export?secret=$SECRET")" 404
SECRET=$(api_body POST "/1.0/images/$PRIV/secret" | jget metadata.metadata.secret)
sleep 4
check_eq "an expired secret: 404" \
    "$(tstatus GET "/1.0/images/$PRIV?secret=$SECRET")" 404

# ---- the real lxc client on the public view ----
export LXD_CONF=$T_TMP/lxc-public
mkdir -p "$LXD_CONF"
check "lxc remote add --public --accept-certificate" lxc remote add pub \
    "$URL" --public --accept-certificate
out=$(lxc_out lxc image list pub:)
check_contains "lxc image list pub: the public image" "$out" "${PUB:0:12}"
case "$out" in *"${PRIV:0:12}"*) fail "lxc image list pub: no private" ;;
*) pass "lxc image list pub: no private" ;; esac
check_contains "lxc image info pub:ALIAS" "$(lxc_out lxc image info \
    pub:pub/one)" "Fingerprint: $PUB"
check_contains "lxc image show pub:FP" "$(lxc_out lxc image show \
    "pub:$PUB")" "public: true"
check "lxc image export pub:" lxc image export pub:pub/one "$W/lxcexp"
check_eq "... the bytes" "$(sha256sum "$W"/lxcexp* | cut -d' ' -f1)" "$PUB"
check_contains "lxc image info of a private image: not found" \
    "$(lxc_out lxc image info "pub:$PRIV")" "not found"
check_contains "lxc image alias list pub: not authorized" \
    "$(lxc_out lxc image alias list pub:)" "not authorized"

# ---- a reference LXD daemon pulls from imgd ----
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	R() { LXD_DIR=$LXD_REF LXD_CONF=$T_TMP/lxc-public "$@"; }
	check "LXD: copy a unified image with --copy-aliases --auto-update" \
	    R timeout 120 lxc image copy pub:pub/one local: --copy-aliases \
	    --auto-update
	check_contains "LXD has it under its alias" \
	    "$(R lxc image list local: -c lf --format csv)" "pub/one,${PUB:0:12}"
	check "LXD: copy a split image" R timeout 120 lxc image copy pub:sp \
	    local: --copy-aliases --auto-update
	check_contains "LXD has the split image" \
	    "$(R lxc image list local: -c lf --format csv)" "sp,${SPLIT:0:12}"
	check "LXD: copy a private image (a secret, through a trusted remote)" \
	    env LXD_DIR="$LXD_REF" LXD_CONF="$T_TMP/lxc-bob" timeout 120 \
	    lxc image copy imgd:priv local: --copy-aliases
	check_contains "LXD has the private image" \
	    "$(R lxc image list local: -c lf --format csv)" "priv,${PRIV:0:12}"
	# A newer image under the same alias: the refresh picks it up.
	f=$(mkunified "$W/pub2.tar" gzip desc="Public two" os=pubos)
	PUB2=$(sha256sum "$f" | cut -d' ' -f1)
	lxc image import "$f" --public >/dev/null 2>&1
	check "move the alias to the newer image" sh -c "curl -sf \
	    --unix-socket '$SOCK' -X PUT -d '{\"target\":\"$PUB2\"}' \
	    http://imgd/1.0/images/aliases/pub%2Fone >/dev/null"
	check "LXD: lxc image refresh" R timeout 120 lxc image refresh pub/one
	check_contains "LXD now has the newer image under the alias" \
	    "$(R lxc image list local: -c lf --format csv)" "pub/one,${PUB2:0:12}"
fi

summary
