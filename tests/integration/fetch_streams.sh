#!/bin/bash
# Simplestreams and direct URLs from a plain static web server (nginx from
# Debian, over HTTPS on loopback with a test CA): a tree in the shape of
# the public image servers (index.json -> products -> versions -> items,
# combined hashes), made by mkstreams.py from images built with the real
# tar, xz and mksquashfs. Aliases as LXD derives them ("ALIAS" for the
# host's architecture, "ALIAS/ARCH"), the newest version, squashfs before
# root.tar.xz, a fingerprint that names the root.tar.xz pair, a unified
# item, a lying sha256; the real lxc client driving imgd, and a reference
# LXD copying from the same tree (the tree is what LXD expects).
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
chmod 755 "$T_TMP"
test_ca "$W/ca" || { fail "cannot make a test CA"; summary; exit 1; }
export SSL_CERT_FILE=$W/ca/ca.crt # for lxc and the reference LXD

# ---- the images and the tree ----
mkver() { # DIR SERIAL: metadata, squashfs and root.tar.xz of one build
	mkimage_tree "$1" os=alpine desc="Alpine $2"
	echo "$2" >"$1/rootfs/etc/build"
	tar -C "$1" -cJf "$1.meta.tar.xz" metadata.yaml templates
	mksquashfs "$1/rootfs" "$1.squashfs" -noappend -quiet -comp xz >/dev/null
	tar -C "$1/rootfs" --numeric-owner -cJf "$1.root.tar.xz" .
}
mkver "$W/old" 20240101
mkver "$W/new" 20240202
mkver "$W/arm" 20240202
# A rootfs larger than a pipe's buffer: the fetcher must end the metadata
# before it sends the rootfs (the store reads the parts in order).
mkimage_tree "$W/big" os=big desc="Big"
head -c $((4 << 20)) /dev/urandom >"$W/big/rootfs/blob"
tar -C "$W/big" -cJf "$W/big.meta.tar.xz" metadata.yaml templates
mksquashfs "$W/big/rootfs" "$W/big.squashfs" -noappend -quiet >/dev/null
U=$(mkunified "$W/uni.tar.gz" gzip os=busybox desc="Unified")
cat >"$W/spec.json" <<EOF
[{"os": "Alpine", "release": "3.19", "arch": "amd64", "variant": "default",
  "aliases": "alpine/3.19/default,alpine/3.19",
  "versions": {
   "20240101_13:00": {"meta": "$W/old.meta.tar.xz", "squashfs": "$W/old.squashfs",
                      "rootxz": "$W/old.root.tar.xz"},
   "20240202_13:00": {"meta": "$W/new.meta.tar.xz", "squashfs": "$W/new.squashfs",
                      "rootxz": "$W/new.root.tar.xz"}}},
 {"os": "Alpine", "release": "3.19", "arch": "arm64", "variant": "default",
  "aliases": "alpine/3.19/default,alpine/3.19",
  "versions": {"20240202_13:00": {"meta": "$W/arm.meta.tar.xz",
                                  "squashfs": "$W/arm.squashfs"}}},
 {"os": "Busybox", "release": "1.36", "arch": "amd64", "variant": "default",
  "aliases": "busybox",
  "versions": {"20240303_00:00": {"unified": "$U"}}},
 {"os": "Big", "release": "1", "arch": "amd64", "variant": "default",
  "aliases": "big",
  "versions": {"20240303_00:00": {"meta": "$W/big.meta.tar.xz",
                                  "squashfs": "$W/big.squashfs"}}},
 {"os": "Broken", "release": "1", "arch": "amd64", "variant": "default",
  "aliases": "broken",
  "versions": {"20240303_00:00": {"meta": "$W/new.meta.tar.xz",
                                  "squashfs": "$W/old.squashfs",
                                  "bad_sha": "rootfs.squashfs"}}}]
EOF
python3 "$LIB_DIR/mkstreams.py" "$W/tree" "$W/spec.json"
NEW_SQ=$(cat "$W/new.meta.tar.xz" "$W/new.squashfs" | sha256sum | cut -d' ' -f1)
OLD_XZ=$(cat "$W/old.meta.tar.xz" "$W/old.root.tar.xz" | sha256sum | cut -d' ' -f1)
UFP=$(sha256sum "$U" | cut -d' ' -f1)

# ---- nginx, static files only, plus a direct URL's two headers ----
nginx_start "$W/tree" "$W/ca" "location = /direct/busybox {
			add_header LXD-Image-URL \"https://\$http_host/images/busybox/1.36/amd64/default/20240303_00:00/lxd_combined.tar.gz\";
			add_header LXD-Image-Hash \"$UFP\";
			return 200 \"\";
		}" || { fail "nginx does not serve (make deps)"; summary; exit 1; }
check_eq "nginx serves the tree" "$(curl -s --cacert "$W/ca/ca.crt" \
    "$NURL/streams/v1/index.json" | jget format)" index:1.0

cat >"$W/imgd.yaml" <<EOF
fetch_allow_private: 127.0.0.1
fetch_ca_file: $W/ca/ca.crt
EOF
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }

ss() { # NAME [MORE MEMBERS]: a simplestreams copy; its outcome
	local op
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"simplestreams\", \"server\": \"$NURL\", \"alias\": \"$1\"}${2:+, $2}}")
	case $op in
	/1.0/operations/*) op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}
prop() { api_body GET "/1.0/images/$1" | jget "metadata.properties.$2"; }

check_eq "by alias: success" "$(ss alpine/3.19 '"aliases": [{"name": "a319"}]')" \
    Success
check_eq "... the newest version, with its squashfs rootfs" \
    "$(api_body GET /1.0/images/aliases/a319 | jget metadata.target)" "$NEW_SQ"
check_eq "... its properties from the product" \
    "$(prop "$NEW_SQ" os) $(prop "$NEW_SQ" release) $(prop "$NEW_SQ" serial) $(prop "$NEW_SQ" type)" \
    "Alpine 3.19 20240202_13:00 squashfs"
check_eq "... recorded as squashfs" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT compression1 FROM images WHERE fingerprint='$NEW_SQ'")" squashfs
check_eq "... the same files as the tree's" \
    "$(api_body GET "/1.0/images/$NEW_SQ" | jget metadata.size)" \
    "$(($(stat -c %s "$W/new.meta.tar.xz") + $(stat -c %s "$W/new.squashfs")))"
check_contains "... fetched from the items' paths" "$(cat "$NGINX_DIR/access.log")" \
    "GET /images/alpine/3.19/amd64/default/20240202_13:00/rootfs.squashfs"
check_eq "by ALIAS/ARCH: the same image, here already" \
    "$(ss alpine/3.19/default/amd64 '"aliases": [{"name": "medium"}]')" Success
check_eq "... the alias added to it" \
    "$(api_body GET /1.0/images/aliases/medium | jget metadata.target)" "$NEW_SQ"
check_contains "another architecture's alias: not for this host" \
    "$(ss alpine/3.19/arm64)" "no image \"alpine/3.19/arm64\" for this host's architecture"
check_eq "by the fingerprint of the older root.tar.xz pair" \
    "$(ss "${OLD_XZ:0:16}")" Success
check_eq "... split, root.tar.xz" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT split || compression1 FROM images WHERE fingerprint='$OLD_XZ'")" 1xz
check_eq "a unified item" "$(ss busybox '"copy_aliases": true')" Success
check_eq "... with the aliases LXD derives" \
    "$(api_body GET /1.0/images/aliases/busybox/amd64 | jget metadata.target)" "$UFP"
check_eq "a split image whose rootfs outgrows a pipe's buffer" \
    "$(ss big '"aliases": [{"name": "big"}]')" Success
check_eq "... all of it" \
    "$(api_body GET /1.0/images/aliases/big | jget metadata.target)" \
    "$(cat "$W/big.meta.tar.xz" "$W/big.squashfs" | sha256sum | cut -d' ' -f1)"
before=$(state_snapshot)
check_contains "an item whose sha256 the tree lies about: refused" \
    "$(ss broken)" "rootfs.squashfs: sha256"
check_eq "... nothing left" "$(state_snapshot)" "$before"

# ---- a direct URL on the same server ----
api DELETE "/1.0/images/$UFP" >/dev/null
sleep 0.3
op=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$NURL/direct/busybox\"}, \"aliases\": [{\"name\": \"direct\"}]}")
check_eq "a direct URL: LXD-Image-URL, checked against LXD-Image-Hash" \
    "$(op_wait "$op")" Success
check_eq "... the image" \
    "$(api_body GET /1.0/images/aliases/direct | jget metadata.target)" "$UFP"
check_contains "... asked with HEAD first" "$(cat "$NGINX_DIR/access.log")" \
    "HEAD /direct/busybox"

# ---- the real lxc client drives imgd ----
export LXD_CONF=$T_TMP/lxc-conf
mkdir -p "$LXD_CONF"
lxc remote add ss "$NURL" --protocol simplestreams >/dev/null 2>&1
api DELETE "/1.0/images/$NEW_SQ" >/dev/null
sleep 0.3
out=$(lxc image copy ss:alpine/3.19 local: 2>&1)
check_contains "lxc image copy SIMPLESTREAMS:ALIAS local:" "$out" \
    "Image copied successfully"
check_eq "... the newest squashfs image" \
    "$(api_body GET "/1.0/images/$NEW_SQ" | jget metadata.fingerprint)" "$NEW_SQ"
unset LXD_CONF

# ---- the reference LXD reads the same tree ----
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	export LXD_CONF=$T_TMP/ref-conf
	mkdir -p "$LXD_CONF"
	LXD_DIR=$LXD_REF lxc remote add ss "$NURL" --protocol simplestreams \
	    >/dev/null 2>&1
	out=$(LXD_DIR=$LXD_REF lxc image copy ss:alpine/3.19 local: 2>&1)
	check_contains "the reference LXD copies from the tree too" "$out" \
	    "Image copied successfully"
	check_eq "... and picks the same image" "$(LXD_DIR=$LXD_REF lxc image \
	    list -f csv -c F | grep -c "$NEW_SQ")" 1
	unset LXD_CONF
fi
summary
