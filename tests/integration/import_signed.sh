#!/bin/bash
# Pinned file import (config import_key): every image uploaded from a file
# must carry a minisign signature by that key, FILE.minisig made by the
# real minisign and sent by imgctl as X-Imgd-Signature (and
# X-Imgd-Rootfs-Signature for a split image's rootfs). The frontend parses
# the signature file; the store checks it over the BLAKE2b-512 of the bytes
# it hashed itself, and keeps nothing it has not verified. Unsigned (imgctl
# without FILE.minisig, the real lxc client), signed by another key,
# another file's signature, half a split image signed, a legacy signature,
# garbage, an edited trusted comment, an unreadable or bad key file: each
# refused with a clear error, nothing left behind, audited.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
command -v minisign >/dev/null || { fail "minisign is not installed (make deps)"; summary; exit 1; }
minisign -G -W -p "$W/a.pub" -s "$W/a.key" >/dev/null 2>&1
minisign -G -W -p "$W/b.pub" -s "$W/b.key" >/dev/null 2>&1
check "minisign made two keys" test -s "$W/a.pub" -a -s "$W/b.pub"
keyid() { sed -n 2p "$1" | base64 -d | head -c 10 | tail -c 8 | od -An -tx1 |
	tr -d ' \n' | tr a-f A-F | fold -w2 | tac | tr -d '\n'; }
A_ID=$(keyid "$W/a.pub")
B_ID=$(keyid "$W/b.pub")
msign() { # KEY FILE [minisign args]: FILE.minisig
	local k=$1 f=$2
	shift 2
	minisign -S -s "$k" -m "$f" "$@" >/dev/null 2>&1 </dev/null
}

# ---- the images ----
U1=$(mkunified "$W/u1.tar" gzip os=signed1)
U2=$(mkunified "$W/u2.tar" gzip os=signed2)
msign "$W/a.key" "$U1"
mkimage_tree "$W/sp" os=split desc="Split signed"
tar -C "$W/sp" -cJf "$W/sp.meta.tar.xz" metadata.yaml templates
mksquashfs "$W/sp/rootfs" "$W/sp.squashfs" -noappend -quiet -comp xz >/dev/null
msign "$W/a.key" "$W/sp.meta.tar.xz"
msign "$W/a.key" "$W/sp.squashfs"
check "minisign signed the files" test -s "$U1.minisig" -a -s "$W/sp.squashfs.minisig"
U1FP=$(sha256sum "$U1" | cut -d' ' -f1)
SPFP=$(cat "$W/sp.meta.tar.xz" "$W/sp.squashfs" | sha256sum | cut -d' ' -f1)

cat >"$W/imgd.yaml" <<EOF
import_key: $W/a.pub
EOF
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
ctl() { "$BIN/imgctl" "$@" 2>&1; }
# refused NAME OUTPUT EXPECTED: the refusal says so, and nothing is left
refused() {
	check_contains "$1" "$2" "$3"
	check_eq "... nothing left" "$(state_snapshot)" "$before"
}

# ---- signed by the pinned key ----
check_contains "a unified image signed by the import_key: imported" \
    "$(ctl image import "$U1" --alias su)" "$U1FP"
check_eq "... under its alias" \
    "$(api_body GET /1.0/images/aliases/su | jget metadata.target)" "$U1FP"
check_contains "... logged with the key" "$(cat "$T_TMP/imgd.log")" \
    "import $U1FP: signed by the import_key $A_ID"
check_contains "a split image (metadata + squashfs), both signed: imported" \
    "$(ctl image import "$W/sp.meta.tar.xz" "$W/sp.squashfs")" "$SPFP"
check_eq "... split, squashfs" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT split || compression1 FROM images WHERE fingerprint='$SPFP'")" 1squashfs

# ---- refusals ----
before=$(state_snapshot)
refused "imgctl, no FILE.minisig: refused before the body" \
    "$(ctl image import "$U2")" \
    "this server takes only images signed by the key $A_ID, and the image has no signature"
out=$(lxc_out lxc image import "$U2")
refused "the real lxc client (it cannot sign): refused with the reason" \
    "$out" "has no signature"

cp "$U2" "$W/u2b.tar.gz"
msign "$W/b.key" "$W/u2b.tar.gz"
refused "signed by another key: both keys named" \
    "$(ctl image import "$W/u2b.tar.gz")" \
    "the image is signed by another key ($B_ID), not the pinned one ($A_ID)"

cp "$U2" "$W/u2c.tar.gz"
cp "$U1.minisig" "$W/u2c.tar.gz.minisig"
refused "another file's signature (by the pinned key)" \
    "$(ctl image import "$W/u2c.tar.gz")" \
    "the image: the signature does not verify"

cp "$W/sp.meta.tar.xz" "$W/half.meta.tar.xz"
cp "$W/sp.meta.tar.xz.minisig" "$W/half.meta.tar.xz.minisig"
cp "$W/sp.squashfs" "$W/half.squashfs"
api DELETE "/1.0/images/$SPFP" >/dev/null
sleep 0.3
before=$(state_snapshot)
refused "a split image with only its metadata signed" \
    "$(ctl image import "$W/half.meta.tar.xz" "$W/half.squashfs")" \
    "the rootfs file has no signature (X-Imgd-Rootfs-Signature"
cp "$W/sp.meta.tar.xz.minisig" "$W/half.squashfs.minisig"
refused "... the rootfs signed with the metadata's signature" \
    "$(ctl image import "$W/half.meta.tar.xz" "$W/half.squashfs")" \
    "the rootfs file: the signature does not verify"

cp "$U2" "$W/u2d.tar.gz"
msign "$W/a.key" "$W/u2d.tar.gz" -l
refused "a legacy (minisign -l) signature: refused by the frontend" \
    "$(ctl image import "$W/u2d.tar.gz")" \
    "X-Imgd-Signature: not a prehashed minisign signature"

cp "$U2" "$W/u2e.tar.gz"
msign "$W/a.key" "$W/u2e.tar.gz" -t "built by the CI"
sed -i '3s/built by the CI/built by me/' "$W/u2e.tar.gz.minisig"
refused "a trusted comment edited after signing" \
    "$(ctl image import "$W/u2e.tar.gz")" \
    "the trusted comment's signature does not verify"

st=$(api_status POST /1.0/images --data-binary "@$U2" \
    -H 'Content-Type: application/octet-stream' -H 'X-Imgd-Signature: !!!!')
check_eq "a header that is not base64: 400" "$st" 400
refused "... saying so" "$(upload "$U2" -H 'X-Imgd-Signature: !!!!')" \
    "X-Imgd-Signature: not base64 of a .minisig file"
refused "base64 of garbage: not a signature" \
    "$(upload "$U2" -H "X-Imgd-Signature: $(head -c 300 /dev/urandom | base64 -w0)")" \
    "X-Imgd-Signature:"
big=$(head -c 6000 /dev/zero | base64 -w0)
refused "an 8 KiB header: refused" \
    "$(upload "$U2" -H "X-Imgd-Signature: $big")" "X-Imgd-Signature"
check "the service still answers" api_status GET /1.0
check_eq "the audit log has the store's refusals" \
    "$(grep '"event":"image-import-refused"' "$STATE/audit.log" | grep -c '"fault":"signature"')" 7
check_eq "... and the frontend's" \
    "$(grep '"event":"image-import-refused"' "$STATE/audit.log" | grep '"by":"frontend"' | grep -c 'X-Imgd-Signature')" 5

# ---- the key file ----
imgd_stop
echo "not a key" >"$W/bad.pub"
echo "import_key: $W/bad.pub" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
before=$(state_snapshot)
refused "a key file that holds no key: refused, the file named" \
    "$(ctl image import "$U1")" \
    "the server's import_key $W/bad.pub is not a minisign or signify public key"
imgd_stop
echo "import_key: $W/missing.pub" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
refused "a key file that is not there: refused, the file named" \
    "$(ctl image import "$U1")" \
    "the server's import_key $W/missing.pub cannot be read"
imgd_stop

# ---- without import_key, as before ----
IMGD_ARGS="" imgd_start || { summary; exit 1; }
check_contains "without import_key: an unsigned image is imported" \
    "$(ctl image import "$U2")" "$(sha256sum "$U2" | cut -d' ' -f1)"
summary
