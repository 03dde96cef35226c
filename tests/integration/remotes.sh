#!/bin/bash
# imgctl's remotes, kept client-side as lxc keeps them: add (pinning an
# LXD-protocol server's certificate, which must match what the server
# presents), list, rename, set-url, switch, get-default, remove, and the
# refusals (bad names and URLs, duplicates, "local", the default, an
# unpinned LXD server). The fetcher that uses them comes with issue 8.
. "$(dirname "$0")/lib.bash"

https_start || { summary; exit 1; }
export IMGCTL_CONF=$T_TMP/imgctl-conf
C() { "$BIN/imgctl" "$@" 2>&1; }

check_contains "a fresh configuration lists local" "$(C remote list -f csv)" \
    "local,unix://,lxd,NO,YES"
check_eq "... and it is the default" "$(C remote get-default)" local
out=$(C remote add srv "$URL")
check_contains "an LXD server must be pinned" "$out" "--accept-certificate"
out=$(C remote add srv "$URL" --accept-certificate)
SFP=$(openssl x509 -in "$STATE/server.crt" -outform der | sha256sum |
    cut -d' ' -f1)
check_contains "add --accept-certificate prints the fingerprint" "$out" \
    "Certificate fingerprint: $SFP"
check_eq "the pinned certificate is the server's" \
    "$(openssl x509 -in "$IMGCTL_CONF/servercerts/srv.crt" -outform der |
	sha256sum | cut -d' ' -f1)" "$SFP"
check "add a simplestreams remote" "$BIN/imgctl" remote add ss "$URL" \
    --protocol simplestreams
check_contains "list shows both" "$(C remote list -f csv)" \
    "ss,$URL,simplestreams,YES,"
check_contains "a duplicate is refused" "$(C remote add ss "$URL" \
    --protocol simplestreams)" "Remote ss exists"
check_contains "local cannot be added" "$(C remote add local "$URL" \
    --accept-certificate)" "Remote local exists"
check_contains "a bad name is refused" "$(C remote add 'a/b' "$URL")" \
    "invalid remote name"
check_contains "http:// is refused" "$(C remote add h http://127.0.0.1:1)" \
    "only https://"
check_contains "a URL with a path is refused" "$(C remote add h \
    "$URL/1.0" --accept-certificate)" "without a path"
check_contains "an unknown protocol is refused" "$(C remote add h "$URL" \
    --protocol ftp)" "unknown protocol"
check_contains "nothing listening: a clear error" "$(C remote add h \
    https://127.0.0.1:1 --accept-certificate)" "Connection refused"
check "rename" "$BIN/imgctl" remote rename srv main
check "... the pinned certificate moves along" test -f \
    "$IMGCTL_CONF/servercerts/main.crt"
check "switch" "$BIN/imgctl" remote switch main
check_eq "get-default" "$(C remote get-default)" main
check_contains "the default cannot be removed" "$(C remote remove main)" \
    "Can't remove the default"
check "set-url" "$BIN/imgctl" remote set-url ss "https://[::1]:$PORT"
check_contains "... listed" "$(C remote list -f csv)" "ss,https://[::1]:$PORT"
check_contains "local cannot change" "$(C remote rename local x)" \
    "cannot change"
check "switch back" "$BIN/imgctl" remote switch local
check "remove" "$BIN/imgctl" remote remove main
check_eq "... and its certificate goes" \
    "$(ls "$IMGCTL_CONF/servercerts")" ""
check_contains "a missing remote" "$(C remote remove main)" \
    "Remote main doesn't exist"
echo '{"default": 1}' >"$IMGCTL_CONF/remotes.json"
check_contains "a broken configuration file is named" "$(C remote list)" \
    "not an imgctl remotes file"

summary
