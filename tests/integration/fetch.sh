#!/bin/bash
# Copies over LXD's protocol (POST /1.0/images with a source), through the
# sandboxed fetcher: from another imgd over HTTPS (its certificate pinned)
# by alias, by fingerprint prefix, unified, split and squashfs images, a
# private image through a one-time secret; the real lxc client driving
# the copy against imgd's socket (public and trusted remotes); a reference
# LXD as the source (public, and private with a secret); the progress in
# the operation's metadata; an image that is here already and two copies
# at once (one download); a wrong pin and an unverifiable server refused.
. "$(dirname "$0")/lib.bash"

# ---- A: the source imgd ----
https_start || { summary; exit 1; }
A_STATE=$STATE A_SOCK=$SOCK A_URL=$URL
FAKE_PIDS="$IMGD_PID"
IMGD_PID=
cd "$W" || exit 1
U=$(mkunified "$W/u.tar" gzip os=alpine desc="Alpine unified")
UFP=$(sha256sum "$U" | cut -d' ' -f1)
lxc image import "$U" --public --alias alpine/edge >/dev/null
read -r m r <<<"$(mksplit "$W/s" xz xz os=debian desc="Debian split")"
SFP=$(cat "$m" "$r" | sha256sum | cut -d' ' -f1)
lxc image import "$m" "$r" --public --alias debian/test >/dev/null
mkimage_tree "$W/sq" os=squashy desc="Squashfs rootfs"
seq 1 20000 >"$W/sq/rootfs/etc/numbers"
tar -C "$W/sq" -cJf "$W/sq-meta.tar.xz" metadata.yaml templates
mksquashfs "$W/sq/rootfs" "$W/sq.squashfs" -noappend -quiet -comp xz >/dev/null
QFP=$(cat "$W/sq-meta.tar.xz" "$W/sq.squashfs" | sha256sum | cut -d' ' -f1)
lxc image import "$W/sq-meta.tar.xz" "$W/sq.squashfs" --public --alias sq \
    >/dev/null
P=$(mkunified "$W/p.tar" gzip os=secretos desc="Private")
PFP=$(sha256sum "$P" | cut -d' ' -f1)
lxc image import "$P" --alias hidden >/dev/null
curl -s --unix-socket "$A_SOCK" -X PATCH -H 'Content-Type: application/json' \
    -d '{"properties": {"remote-edit": "kept"}}' \
    "http://imgd/1.0/images/$UFP" >/dev/null
CERT=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' \
    "$A_STATE/server.crt")

# ---- B: the target imgd ----
mkdir -p "$T_TMP/b"
echo "$FETCH_CONFIG" >"$T_TMP/b/imgd.yaml"
IMGD_ARGS="--config $T_TMP/b/imgd.yaml" imgd_start "$T_TMP/bstate" ||
    { summary; exit 1; }

# copy NAME [MORE JSON MEMBERS] [SOURCE MEMBERS]: from A, pinned.
copy() {
	local op
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$A_URL\", \"fingerprint\": \"$1\", \"certificate\": $CERT${3:+, $3}}${2:+, $2}}")
	case $op in
	/1.0/operations/*) echo "$op" >"$W/last_op"; op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}
exported() { # FP [PART]: sha256 of B's export
	api GET "/1.0/images/$1/export" -o "$W/exp.bin" >/dev/null
	sha256sum <"$W/exp.bin" | cut -d' ' -f1
}

check_eq "copy a unified image by alias" \
    "$(copy alpine/edge '"aliases": [{"name": "mine", "description": "from A"}]')" \
    Success
check_eq "... same fingerprint, under the new alias" \
    "$(api_body GET /1.0/images/aliases/mine | jget metadata.target)" "$UFP"
check_eq "... the operation says which" \
    "$(api_body GET "$(cat "$W/last_op")" | jget metadata.metadata.fingerprint)" "$UFP"
check_eq "... the bytes are the remote's" "$(exported "$UFP")" "$UFP"
check_eq "... the remote's properties came with it" \
    "$(api_body GET "/1.0/images/$UFP" | jget metadata.properties.remote-edit)" \
    kept
check_eq "... private here (the request did not say public)" \
    "$(api_body GET "/1.0/images/$UFP" | jget metadata.public)" False
check_eq "copy a split image by fingerprint prefix, public" \
    "$(copy "${SFP:0:12}" '"public": true')" Success
check_eq "... split, same fingerprint" \
    "$(sqlite3 "$STATE/imgd.db" "SELECT split FROM images WHERE fingerprint='$SFP'")" 1
check_eq "... public as asked" \
    "$(api_body GET "/1.0/images/$SFP" | jget metadata.public)" True
api GET "/1.0/images/$SFP/export" -o "$W/split.exp" >/dev/null
check_eq "... its export is the two files" \
    "$(grep -a -c 'name="metadata"\|name="rootfs"' "$W/split.exp")" 2
check_eq "copy a squashfs split image, with the remote's aliases" \
    "$(copy sq '"copy_aliases": true')" Success
check_eq "... the remote's alias came too" \
    "$(api_body GET /1.0/images/aliases/sq | jget metadata.target)" "$QFP"
check_eq "... recorded as squashfs" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT compression1 FROM images WHERE fingerprint='$QFP'")" squashfs
check_contains "a private image without a secret: not there" \
    "$(copy "$PFP")" "Failure: Failed remote image download from 127.0.0.1"
SECRET=$(curl -s --unix-socket "$A_SOCK" -X POST \
    "http://imgd/1.0/images/$PFP/secret" | jget metadata.metadata.secret)
check_eq "a private image with a secret from its server" \
    "$(copy "$PFP" "" "\"secret\": \"$SECRET\"")" Success
check_eq "... here" "$(exported "$PFP")" "$PFP"

# An image here already: no download, the aliases are added.
n=$(grep -c "copy from $A_URL: image $UFP (" "$T_TMP/imgd.log")
check_eq "copying an image that is here: success" \
    "$(copy alpine/edge '"aliases": [{"name": "again"}]')" Success
check_contains "... nothing downloaded" "$(cat "$T_TMP/imgd.log")" \
    "image $UFP is here already"
check_eq "... the alias added" \
    "$(api_body GET /1.0/images/aliases/again | jget metadata.target)" "$UFP"

# The progress, in the operation's metadata while it runs.
slow_fetch_start
sleep 1
check_contains "the operation shows the progress as LXD does" \
    "$(api_body GET "$SLOW_OP" | jget metadata.metadata.download_progress)" \
    "rootfs: "
kill -9 "$(child_pid imgd-fetcher)" 2>/dev/null
op_wait "$SLOW_OP" 20 >/dev/null

# Two copies of one image at once: one download.
mkimage_tree "$W/two" os=twice desc="Twice"
head -c 100000 /dev/urandom >"$W/two/rootfs/blob"
tar -C "$W/two" -cf "$W/two.tar" metadata.yaml rootfs templates
TFP=$(sha256sum "$W/two.tar" | cut -d' ' -f1)
fake_start "$W/two.tar"
o1=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}, \"aliases\": [{\"name\": \"one\"}]}")
sleep 0.5
o2=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}, \"aliases\": [{\"name\": \"two\"}]}")
check_eq "two copies at once: the first succeeds" "$(op_wait "$o1" 120)" Success
check_eq "... and the second" "$(op_wait "$o2" 120)" Success
check_eq "... one download" "$(grep -c 'GET /file/slow' "$FAKE_LOG")" 1
check_contains "... the second waited for it" "$(cat "$T_TMP/imgd.log")" \
    "image $TFP is being downloaded: waiting for that download"
check_eq "... both aliases" "$(api_body GET /1.0/images/aliases/one |
    jget metadata.target) $(api_body GET /1.0/images/aliases/two |
    jget metadata.target)" "$TFP $TFP"

# Refused: a pin that is not the server's, no pin and no CA that signs it.
test_ca "$W/ca"
WRONG=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' \
    "$W/ca/srv.crt")
before=$(state_snapshot)
op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$A_URL\", \"fingerprint\": \"debian/test\", \"certificate\": $WRONG}}")
check_contains "a certificate that is not the pinned one" "$(op_wait "$op")" \
    "the server's certificate is not the pinned one"
op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$A_URL\", \"fingerprint\": \"debian/test\"}}")
check_contains "no pin, and no trusted CA signed it" "$(op_wait "$op")" \
    "SSL certificate problem"
op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$A_URL\", \"alias\": \"no-such\", \"certificate\": $CERT}}")
check_contains "an alias the remote does not have" "$(op_wait "$op")" \
    "no image or alias \"no-such\" on $A_URL"
check_eq "the refusals left nothing" "$(state_snapshot)" "$before"

# Untrusted clients may not make imgd download anything.
check_eq "an untrusted HTTPS client: 403" "$(curl -sk -o /dev/null \
    -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"source": {"type": "url", "url": "https://127.0.0.1:1/"}}' \
    "$A_URL/1.0/images")" 403

# ---- the real lxc client drives the copy into imgd ----
export LXD_CONF=$T_TMP/lxc-conf
mkdir -p "$LXD_CONF"
lxc remote add a "$A_URL" --accept-certificate --public >/dev/null 2>&1
out=$(lxc image copy a:alpine/edge local: --alias via-lxc 2>&1)
check_contains "lxc image copy REMOTE:ALIAS local: --alias" "$out" \
    "Image copied successfully"
check_eq "... the alias lxc made" \
    "$(api_body GET /1.0/images/aliases/via-lxc | jget metadata.target)" "$UFP"
api DELETE "/1.0/images/$SFP" >/dev/null
sleep 0.5
out=$(lxc image copy "a:${SFP:0:12}" local: --copy-aliases --public 2>&1)
check_contains "lxc image copy by fingerprint, --copy-aliases" "$out" \
    "Image copied successfully"
check_eq "... with the remote's alias" \
    "$(api_body GET /1.0/images/aliases/debian/test | jget metadata.target)" \
    "$SFP"
tok=$(IMGD_DIR=$A_STATE "$BIN/imgctl" -q config trust add --token lxc-user)
lxc remote add at "$tok" >/dev/null 2>&1
api DELETE "/1.0/images/$PFP" >/dev/null
sleep 0.5
out=$(lxc image copy "at:$PFP" local: --alias priv 2>&1)
check_contains "lxc image copy of a private image (lxc asks for a secret)" \
    "$out" "Image copied successfully"
check_eq "... here" "$(exported "$PFP")" "$PFP"
unset LXD_CONF

# ---- imgctl ----
export IMGCTL_CONF=$T_TMP/imgctl-conf
"$BIN/imgctl" remote add a "$A_URL" --accept-certificate >/dev/null 2>&1
api DELETE "/1.0/images/$QFP" >/dev/null
sleep 0.5
out=$("$BIN/imgctl" image copy a:sq local: --alias by-imgctl --copy-aliases 2>&1)
check_eq "imgctl image copy REMOTE:ALIAS local: --alias --copy-aliases" \
    "$out" "Image copied successfully!"
check_eq "... both aliases" "$(api_body GET /1.0/images/aliases/by-imgctl |
    jget metadata.target) $(api_body GET /1.0/images/aliases/sq |
    jget metadata.target)" "$QFP $QFP"
check_contains "imgctl image copy into another server: refused" \
    "$("$BIN/imgctl" image copy a:sq a: 2>&1)" \
    'imgctl copies into imgd (local:), not into "a:"'
check_contains "imgctl image copy from an unknown remote" \
    "$("$BIN/imgctl" image copy nope:sq local: 2>&1)" "Remote nope doesn't exist"
mkimage_tree "$W/three" os=three desc="Three"
head -c 60000 /dev/urandom >"$W/three/rootfs/blob"
tar -C "$W/three" -cf "$W/three.tar" metadata.yaml rootfs templates
HFP=$(sha256sum "$W/three.tar" | cut -d' ' -f1)
fake_start "$W/three.tar"
script -qec "$BIN/imgctl image import $FAKE_URL/direct/slow --alias by-url" \
    "$W/tty.out" >/dev/null 2>&1
check_contains "imgctl image import URL: the progress bar, from the operation" \
    "$(tr '\r' '\n' <"$W/tty.out")" "Transferring image: rootfs: "
check_contains "... then the fingerprint" "$(cat "$W/tty.out")" \
    "Image imported with fingerprint: $HFP"
check_eq "... under its alias" \
    "$(api_body GET /1.0/images/aliases/by-url | jget metadata.target)" "$HFP"
check_contains "imgctl image import of a URL that fails: the error" \
    "$("$BIN/imgctl" image import "$FAKE_URL/direct/nohash" 2>&1)" \
    "Error: Failed remote image download from 127.0.0.1: $FAKE_URL/direct/nohash did not answer"
unset IMGCTL_CONF

# ---- a reference LXD as the source ----
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	LXD_DIR=$LXD_REF lxc config set core.https_address "127.0.0.1:$RPORT"
	R=$(mkunified "$W/r.tar" xz os=refos desc="From LXD")
	RFP=$(sha256sum "$R" | cut -d' ' -f1)
	LXD_DIR=$LXD_REF lxc image import "$R" --public --alias ref/pub >/dev/null
	read -r m r <<<"$(mksplit "$W/rs" gzip xz os=refpriv desc="LXD private")"
	RPFP=$(cat "$m" "$r" | sha256sum | cut -d' ' -f1)
	LXD_DIR=$LXD_REF lxc image import "$m" "$r" >/dev/null
	RCERT=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' \
	    "$LXD_REF/server.crt")
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"https://127.0.0.1:$RPORT\", \"alias\": \"ref/pub\", \"certificate\": $RCERT}, \"aliases\": [{\"name\": \"from-lxd\"}]}")
	check_eq "from a reference LXD: a public image by alias" \
	    "$(op_wait "$op")" Success
	check_eq "... the bytes are LXD's" "$(exported "$RFP")" "$RFP"
	RSEC=$(curl -s --unix-socket "$LXD_REF/unix.socket" -X POST \
	    "http://lxd/1.0/images/$RPFP/secret" | jget metadata.metadata.secret)
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"https://127.0.0.1:$RPORT\", \"fingerprint\": \"$RPFP\", \"secret\": \"$RSEC\", \"certificate\": $RCERT}}")
	check_eq "from a reference LXD: a private split image with its secret" \
	    "$(op_wait "$op")" Success
	check_eq "... split, the same fingerprint" "$(sqlite3 "$STATE/imgd.db" \
	    "SELECT split FROM images WHERE fingerprint='$RPFP'")" 1
fi
summary
