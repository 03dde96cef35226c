#!/bin/bash
# Split images whose rootfs is squashfs, as the public servers ship them:
# made with the real mksquashfs, imported with imgctl and the real lxc,
# exported, served over simplestreams as a squashfs item. Hostile squashfs
# files (each patched from a real one, uncompressed so that the patch hits
# what it means to) are refused with a clear error, leave nothing, and
# never kill the unpacker; then 64 random byte flips the same way.
. "$(dirname "$0")/lib.bash"

https_start || { summary; exit 1; }
cd "$W" || exit 1
export SSL_CERT_FILE=$STATE/server.crt

mkimage_tree "$W/tree" os=squashy desc="Squashfs rootfs"
printf 'data without the letter\n' >"$W/tree/rootfs/etc/data"
head -c 12345 /dev/zero >"$W/tree/rootfs/etc/sized"
seq 1 50000 >"$W/tree/rootfs/etc/numbers" # compressed blocks to break
mkdir -p "$W/tree/rootfs/loopdir/childdir" "$W/tree/rootfs/opt"
: >"$W/tree/rootfs/opt/qq"
: >"$W/tree/rootfs/opt/sss"
tar -C "$W/tree" -cJf "$W/meta.tar.xz" metadata.yaml templates
mksquashfs "$W/tree/rootfs" "$W/root.squashfs" -noappend -quiet -comp xz \
    >/dev/null
mksquashfs "$W/tree/rootfs" "$W/plain.squashfs" -noappend -quiet -noI -noD \
    -noF -noX -no-fragments >/dev/null
FP=$(cat "$W/meta.tar.xz" "$W/root.squashfs" | sha256sum | cut -d' ' -f1)
out=$("$BIN/imgctl" image import "$W/meta.tar.xz" "$W/root.squashfs" \
    --alias sq --public 2>&1)
check_contains "imgctl imports META + ROOTFS.squashfs" "$out" "$FP"
check_eq "... recorded as squashfs" "$(sqlite3 "$STATE/imgd.db" \
    "SELECT compression1 FROM images WHERE fingerprint = '$FP'")" squashfs
FP2=$(cat "$W/meta.tar.xz" "$W/plain.squashfs" | sha256sum | cut -d' ' -f1)
check_contains "the real lxc imports an uncompressed one" \
    "$(lxc_out lxc image import "$W/meta.tar.xz" "$W/plain.squashfs")" "$FP2"
check "lxc image export" lxc image export sq "$W/exp"
check_eq "... the rootfs comes back as it went" \
    "$(sha256sum <"$W/exp.root" | cut -d' ' -f1)" \
    "$(sha256sum <"$W/root.squashfs" | cut -d' ' -f1)"
ss=$(curl -sk "$URL/streams/v1/images.json")
check_contains "simplestreams: a squashfs item" "$ss" '"ftype":"squashfs"'
check_contains "... and the combined squashfs hash" "$ss" \
    "\"combined_squashfs_sha256\":\"$FP\""

# A reference LXD takes it from imgd, over the LXD protocol and over
# simplestreams (where it prefers squashfs, as from the public servers).
ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	export LXD_CONF=$T_TMP/lxc-sq
	mkdir -p "$LXD_CONF"
	lxc remote add pub "$URL" --public --accept-certificate >/dev/null 2>&1
	lxc remote add ss "$URL" --protocol simplestreams >/dev/null 2>&1
	check "LXD: copy the squashfs image over the LXD protocol" \
	    env LXD_DIR="$LXD_REF" timeout 120 lxc image copy pub:sq local:
	check_contains "... LXD has it" "$(LXD_DIR=$LXD_REF lxc image list \
	    local: -c f --format csv)" "${FP:0:12}"
	LXD_DIR=$LXD_REF lxc image delete "$FP" >/dev/null 2>&1
	check "LXD: copy it over simplestreams" env LXD_DIR="$LXD_REF" \
	    timeout 120 lxc image copy "ss:$FP" local:
	check_contains "... LXD has it" "$(LXD_DIR=$LXD_REF lxc image list \
	    local: -c f --format csv)" "${FP:0:12}"
	export LXD_CONF=$T_TMP/lxc-conf
fi

# ---- hostile ones: each refused, with its reason, nothing left ----
patch() { # patch OUT PYTHON-EXPRESSION-ON-bytearray-b [BASE]
	python3 - "${3:-$W/plain.squashfs}" "$1" "$2" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
u32 = lambda o: struct.unpack_from("<I", b, o)[0]
u64 = lambda o: struct.unpack_from("<Q", b, o)[0]
dirs = u64(72)
def name_at(name):
    i = b.find(name, dirs)
    assert i > 0 and b.find(name, i + 1) < 0, name
    return i
exec(sys.argv[3])
open(sys.argv[2], "wb").write(b)
PY
}
refused() { # refused WHAT FILE EXPECTED-TEXT
	local before out
	before=$(state_snapshot)
	out=$("$BIN/imgctl" image import "$W/meta.tar.xz" "$2" 2>&1)
	check_contains "$1: refused with its reason" "$out" "$3"
	check_eq "$1: nothing left" "$(state_snapshot)" "$before"
}
patch "$W/h-trunc.squashfs" "del b[200:]"
refused "truncated" "$W/h-trunc.squashfs" "the superblock says"
patch "$W/h-inodes.squashfs" "struct.pack_into('<I', b, 4, 0x7fffffff)"
refused "2^31 inodes declared" "$W/h-inodes.squashfs" "inodes, more than"
patch "$W/h-dotdot.squashfs" "i = name_at(b'qq'); b[i:i+2] = b'..'"
refused "a '..' name" "$W/h-dotdot.squashfs" 'lists the name ".."'
patch "$W/h-slash.squashfs" "i = name_at(b'sss'); b[i:i+3] = b's/s'"
refused "a name with a slash" "$W/h-slash.squashfs" 'lists the name "s/s"'
patch "$W/h-loop.squashfs" "c = name_at(b'childdir') - 8; l = name_at(b'loopdir') - 8; b[c:c+2] = b[l:l+2]"
refused "a directory that contains itself" "$W/h-loop.squashfs" \
    "contains itself or an ancestor"
patch "$W/h-size.squashfs" "it = u64(64); i = b.find(struct.pack('<I', 12345), it, dirs); assert i > 0; struct.pack_into('<I', b, i, 0xffffffff)"
patch "$W/h-data.squashfs" "it = u64(64); b[(96 + it) // 2] ^= 0x55" \
    "$W/root.squashfs"
refused "a data block that does not decompress" "$W/h-data.squashfs" \
    "its data"
refused "a file declaring 4 GiB" "$W/h-size.squashfs" '"etc/sized"'

# Random byte flips, in the tables of the uncompressed image and anywhere
# in the compressed one: each import either succeeds or is refused with a
# message; the unpacker is never killed.
python3 - "$W/plain.squashfs" "$W/root.squashfs" "$W/flip" <<'PY'
import random, struct, sys
random.seed(7)
for k in range(64):
    src = sys.argv[1 + k % 2]
    c = bytearray(open(src, "rb").read())
    lo = struct.unpack_from("<Q", c, 64)[0] if k % 2 == 0 else 96
    for _ in range(3):
        c[random.randrange(lo, len(c))] ^= 1 << random.randrange(8)
    open("%s-%02d.squashfs" % (sys.argv[3], k), "wb").write(c)
PY
ok=0 refused_n=0 bad=0
for f in "$W"/flip-*.squashfs; do
	out=$("$BIN/imgctl" image import "$W/meta.tar.xz" "$f" 2>&1)
	case "$out" in
	*"fingerprint"*) ok=$((ok + 1)) ;;
	*"Error: "*squashfs*) refused_n=$((refused_n + 1)) ;;
	*) bad=$((bad + 1)); echo "# $f: $out" ;;
	esac
done
echo "# 64 flipped images: $ok imported, $refused_n refused"
check_eq "64 flipped images: each imported or refused as squashfs" "$bad" 0
check_eq "... and no unpacker was killed" \
    "$(grep -c 'unpacker.*killed\|unpacker.*signal' "$T_TMP/imgd.log")" 0

summary
