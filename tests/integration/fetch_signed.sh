#!/bin/bash
# Remotes pinned to a signing key (fetch_keys_dir/HOST.pub): a
# simplestreams index.json and products file must carry a detached
# signature by that key, made here by the real minisign and
# signify-openbsd; a direct URL's image file its .minisig. Unsigned,
# tampered, signed by another key, or older than a signed index already
# accepted from that server (a rollback): refused with a clear error,
# nothing left. Trees from mkstreams.py, served by nginx over HTTPS.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W/keys"
chmod 755 "$T_TMP"
test_ca "$W/ca" || { fail "cannot make a test CA"; summary; exit 1; }
for t in minisign signify-openbsd; do
	command -v $t >/dev/null || { fail "$t is not installed (make deps)"; summary; exit 1; }
done

# ---- keys: two minisign keys, one signify key ----
minisign -G -W -p "$W/a.pub" -s "$W/a.key" >/dev/null 2>&1
minisign -G -W -p "$W/b.pub" -s "$W/b.key" >/dev/null 2>&1
signify-openbsd -G -n -p "$W/s.pub" -s "$W/s.sec" >/dev/null 2>&1
check "minisign and signify made their keys" \
    test -s "$W/a.pub" -a -s "$W/b.pub" -a -s "$W/s.pub"
msign() { # KEY FILE...: minisign signatures FILE.minisig
	local k=$1
	shift
	minisign -S -s "$k" -m "$@" >/dev/null 2>&1 </dev/null
}

# ---- the trees ----
mkimage_tree "$W/img" os=alpine desc="Alpine signed"
tar -C "$W/img" -cJf "$W/meta.tar.xz" metadata.yaml templates
mksquashfs "$W/img/rootfs" "$W/root.squashfs" -noappend -quiet -comp xz >/dev/null
U=$(mkunified "$W/uni.tar.gz" gzip os=busybox desc="Unified")
UFP=$(sha256sum "$U" | cut -d' ' -f1)
FP=$(cat "$W/meta.tar.xz" "$W/root.squashfs" | sha256sum | cut -d' ' -f1)
cat >"$W/spec.json" <<EOF
[{"os": "Alpine", "release": "3.19", "arch": "amd64", "variant": "default",
  "aliases": "alpine/3.19",
  "versions": {"20241204_00:00": {"meta": "$W/meta.tar.xz",
                                  "squashfs": "$W/root.squashfs"}}},
 {"os": "Busybox", "release": "1.36", "arch": "amd64", "variant": "default",
  "aliases": "busybox",
  "versions": {"20241204_00:00": {"unified": "$U"}}}]
EOF
MKSTREAMS_UPDATED="Fri, 04 Dec 2026 10:00:00 +0000" \
    python3 "$LIB_DIR/mkstreams.py" "$W/new" "$W/spec.json"
MKSTREAMS_UPDATED="Thu, 03 Dec 2026 10:00:00 +0000" \
    python3 "$LIB_DIR/mkstreams.py" "$W/old" "$W/spec.json"
UNI=images/busybox/1.36/amd64/default/20241204_00:00/lxd_combined.tar.gz
S1=$W/new/streams/v1
msign "$W/a.key" "$S1/index.json" "$S1/images.json" "$W/new/$UNI"
msign "$W/a.key" "$W/old/streams/v1/index.json" "$W/old/streams/v1/images.json"
check "minisign signed the tree" test -s "$S1/images.json.minisig"
variant() { # NAME: a copy of the signed tree to spoil
	cp -a "$W/new" "$W/$1"
	echo "$W/$1/streams/v1"
}
V=$(variant unsigned)
rm "$V/images.json.minisig"
V=$(variant tampered)
sed -i 's/"Alpine"/"Alpine "/' "$V/images.json" # same hashes, other text
V=$(variant wrongkey)
msign "$W/b.key" "$V/index.json" "$V/images.json"
V=$(variant garbage)
printf 'untrusted comment: x\nnot base64 at all\n' >"$V/index.json.minisig"
V=$(variant huge)
head -c 8192 /dev/zero | tr '\0' A >>"$V/index.json.minisig"
V=$(variant comment) # the trusted comment edited after signing
sed -i '3s/.*/trusted comment: timestamp:1 file:index.json/' "$V/index.json.minisig"
V=$(variant signify)
rm "$V"/*.minisig
for f in index.json images.json; do
	signify-openbsd -S -s "$W/s.sec" -m "$V/$f" -x "$V/$f.sig"
done
check "signify signed a copy" test -s "$V/images.json.sig"
# a direct URL's other files: an image whose .minisig is another file's,
# and an image with none
cp "$U" "$W/new/other.tar.gz"
cp "$W/new/$UNI.minisig" "$W/new/other.tar.gz.minisig"
head -c 100 /dev/urandom >>"$W/new/other.tar.gz"
OFP=$(sha256sum "$W/new/other.tar.gz" | cut -d' ' -f1)
cp "$U" "$W/new/nosig.tar.gz"
NFP=$(sha256sum "$W/new/nosig.tar.gz" | cut -d' ' -f1)

# nginx serves $W/serve, a symlink switched from tree to tree
ln -sfn "$W/new" "$W/serve"
direct() { # NAME FILE HASH: a direct URL location
	printf 'location = /direct/%s { add_header LXD-Image-URL "https://$http_host/%s"; add_header LXD-Image-Hash "%s"; return 200 ""; }\n' "$1" "$2" "$3"
}
nginx_start "$W/serve" "$W/ca" "$(direct uni "$UNI" "$UFP")
$(direct other other.tar.gz "$OFP")
$(direct nosig nosig.tar.gz "$NFP")" ||
    { fail "nginx does not serve (make deps)"; summary; exit 1; }
serve() { ln -sfn "$W/$1" "$W/serve"; }

cat >"$W/imgd.yaml" <<EOF
fetch_allow_private: 127.0.0.1
fetch_ca_file: $W/ca/ca.crt
fetch_keys_dir: $W/keys
EOF
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
pin() { cp "$W/$1" "$W/keys/127.0.0.1.pub"; }

ss() { # ALIAS: a simplestreams copy from the nginx tree; its outcome
	local op
	op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"simplestreams\", \"server\": \"$NURL\", \"alias\": \"$1\"}}")
	case $op in
	/1.0/operations/*) op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}
url() { # NAME: a direct URL copy; its outcome
	local op
	op=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$NURL/direct/$1\"}}")
	case $op in
	/1.0/operations/*) op_wait "$op" 60 ;;
	*) echo "refused: $op" ;;
	esac
}
# refused WHAT OUTCOME WANT: the copy failed with WANT, and left nothing
refused() {
	check_contains "$1: refused" "$2" "$3"
	check_eq "... nothing left" "$(state_snapshot)" "$before"
}
has() { api_status GET "/1.0/images/$1"; }

# ---- not pinned: the same tree copies unsigned ----
serve unsigned
check_eq "not pinned: an unsigned tree copies" "$(ss alpine/3.19)" Success
api DELETE "/1.0/images/$FP" >/dev/null
sleep 0.3

pin a.pub
before=$(state_snapshot)
refused "pinned, a tree without images.json's signature" "$(ss alpine/3.19)" \
    "images.json is not signed (no .minisig or .sig next to it), and this remote is pinned to a key"
check_contains "... the store logged why" "$(cat "$T_TMP/imgd.log")" \
    "pinned to the key in $W/keys/127.0.0.1.pub"

serve new
check_eq "pinned, signed by the pinned key (minisign)" "$(ss alpine/3.19)" Success
check_eq "... the image" "$(has "$FP")" 200
check_eq "... the signed index's time kept for the rollback check" \
    "$(sqlite3 "$STATE/imgd.db" "SELECT signed_at FROM remote_state WHERE server='$NURL'")" \
    "$(date -d 'Fri, 04 Dec 2026 10:00:00 +0000' +%s)"
api DELETE "/1.0/images/$FP" >/dev/null
sleep 0.3
before=$(state_snapshot)

serve tampered
refused "a products file changed after it was signed" "$(ss alpine/3.19)" \
    "images.json: the signature does not verify"
serve wrongkey
refused "a tree signed by another key" "$(ss alpine/3.19)" \
    "index.json is signed by another key ("
check_contains "... naming the pinned key's id" "$(ss alpine/3.19)" \
    "not the pinned one ($(sed -n 2p "$W/a.pub" | base64 -d | od -An -tx1 -j2 -N8 |
	tr -d ' \n' | fold -w2 | tac | tr -d '\n' | tr a-f A-F))"
serve garbage
refused "a signature file that is not a signature" "$(ss alpine/3.19)" \
    "index.json: its signature is not a minisign or signify signature"
serve huge
refused "a signature file of 8 KiB" "$(ss alpine/3.19)" \
    "index.json.minisig: a signature file of"
serve comment
refused "a minisign trusted comment changed after signing" "$(ss alpine/3.19)" \
    "index.json: the trusted comment's signature does not verify"
serve old
refused "a validly signed index older than the one accepted (a rollback)" \
    "$(ss alpine/3.19)" "a rollback: its signed index is from"
check_contains "... the rollback audited" \
    "$(grep '"event":"image-copy-refused"' "$STATE/audit.log" | tail -1)" "rollback"
check_eq "... the newer time still kept" \
    "$(sqlite3 "$STATE/imgd.db" "SELECT signed_at FROM remote_state WHERE server='$NURL'")" \
    "$(date -d 'Fri, 04 Dec 2026 10:00:00 +0000' +%s)"
serve new
refused "pinned, LXD's protocol (nothing to sign)" \
    "$(op=$(copy_req "{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$NURL\", \"alias\": \"x\"}}"); op_wait "$op")" \
    "pinned to a signing key, and LXD's protocol signs nothing"

# ---- signify ----
pin s.pub
serve signify
check_eq "pinned to a signify key, signed with signify" "$(ss alpine/3.19)" Success
check_eq "... the image" "$(has "$FP")" 200
api DELETE "/1.0/images/$FP" >/dev/null
sleep 0.3
before=$(state_snapshot)
serve new
refused "pinned to the signify key, signed with minisign's key" \
    "$(ss alpine/3.19)" "is signed by another key"

# ---- a direct URL: the image file's .minisig ----
pin a.pub
check_eq "a direct URL, its image signed by the pinned key" "$(url uni)" Success
check_eq "... the image" "$(has "$UFP")" 200
before=$(state_snapshot)
refused "a direct URL whose signature is another file's" "$(url other)" \
    "other.tar.gz: the signature does not verify"
refused "a direct URL without a signature" "$(url nosig)" \
    "nosig.tar.gz is not signed"

# ---- the key file itself ----
echo "not a key" >"$W/keys/127.0.0.1.pub"
refused "a pinned key that is not a key" "$(url nosig)" \
    "the pinned key is not a minisign or signify public key"
check_eq "the fetcher sandbox survived every refusal: a copy still works" \
    "$(pin a.pub; api DELETE "/1.0/images/$UFP" >/dev/null; sleep 0.3; url uni)" Success
summary
