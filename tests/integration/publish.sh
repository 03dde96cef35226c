#!/bin/bash
# imgctl publish DIR: a directory made into an image inside imgd's
# sandbox. The same tree gives the same fingerprint (twice, and from a
# cp -a copy); every compression, unified and split, passes import
# validation and the real tools read it; unpack then publish round-trips
# the tree; a bare rootfs gets a generated metadata.yaml; refusals are
# clear and leave nothing.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/richtree.bash"

W=$T_TMP/work
mkdir -p "$W"
C="$BIN/imgctl"
CMP="$(dirname "$0")/treecmp.py"
richtree "$W/src"
R=$W/src/rootfs
mkdir -p "$W/src/templates"
echo '{{ container.name }}' >"$W/src/templates/hostname.tpl"
touch -h -d @1500000000 "$W/src/templates/hostname.tpl" "$W/src/templates"
cp -a "$W/src" "$W/copy"
# A local user who is not root, admin through the socket's group (no
# policy file: the socket is for root and its group).
U=imgd-test-user
id "$U" >/dev/null 2>&1 || useradd --system --no-create-home \
    --shell /usr/sbin/nologin "$U"
echo "socket_group: $U" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml"

imgd_start || { summary; exit 1; }

fp_of() { sed -n 's/^Image published with fingerprint: //p' <<<"$1"; }

for comp in gzip xz bzip2 zstd none; do
	for split in "" --split; do
		what="$comp${split:+ split}"
		out=$("$C" publish "$W/src" --compression $comp $split \
		    --alias "p-$comp$split" 2>&1)
		fp=$(fp_of "$out")
		check_eq "$what: published" "${#fp}" 64
		[ ${#fp} = 64 ] || echo "# $out"
		out=$("$C" publish "$W/copy" --compression $comp $split 2>&1)
		check_eq "$what: a cp -a copy is the same image" "$out" \
		    "Error: Image with same fingerprint already exists"
		rm -rf "$W/exp" && mkdir "$W/exp"
		"$C" image export "p-$comp$split" "$W/exp/img" >/dev/null
		ok=1
		for f in "$W"/exp/*; do
			tar -tvf "$f" >/dev/null 2>&1 || ok=0
			bsdtar -tvf "$f" >/dev/null 2>&1 || ok=0
		done
		check_eq "$what: GNU tar and bsdtar read the export" "$ok" 1
	done
done
info=$("$C" image info p-gzip)
check_contains "its metadata.yaml is the tree's" "$info" "os: testos"

# Round trip: unpack, publish the result as a rootfs, unpack again.
"$C" image unpack p-xz rt1 >/dev/null
check "unpack of a published image: the same tree" python3 "$CMP" "$R" \
    "$STATE/rootfs/rt1" --ignore etc/hostname
check_eq "its template was rendered" "$(cat "$STATE/rootfs/rt1/etc/hostname" 2>&1)" \
    "old name"
out=$("$C" publish "$STATE/rootfs/rt1" --arch x86_64 --os testos \
    --release 2.0 --alias bare 2>&1)
fp=$(fp_of "$out")
check_eq "a bare rootfs with --arch: published" "${#fp}" 64
info=$("$C" image info bare)
check_contains "... its generated metadata" "$info" "release: 2.0"
check_contains "... and architecture" "$info" "Architecture: x86_64"
out2=$("$C" publish "$STATE/rootfs/rt1" --arch x86_64 --os testos \
    --release 2.0 2>&1)
check_eq "... deterministic too" "$out2" \
    "Error: Image with same fingerprint already exists"
"$C" image unpack bare rt2 >/dev/null
check "unpack, publish, unpack: the same tree" python3 "$CMP" \
    "$STATE/rootfs/rt1" "$STATE/rootfs/rt2"

# Refusals: a clear message, nothing new in the store.
before=$(state_snapshot)
refused() {
	local what=$1 want=$2
	shift 2
	local out
	out=$("$C" publish "$@" 2>&1)
	check_contains "$what: refused" "$out" "$want"
	check_eq "$what: nothing left" "$(state_snapshot)" "$before"
}
refused "a missing directory" "no such directory" "$W/nope"
mkdir -p "$W/bare"
echo x >"$W/bare/file"
refused "no metadata.yaml and no --arch" "give --arch" "$W/bare"
refused "an unknown --arch" "unknown architecture" "$W/bare" --arch vax
mkdir -p "$W/symroot"
cp "$W/src/metadata.yaml" "$W/symroot/"
ln -s /etc "$W/symroot/rootfs"
refused "rootfs/ a symlink" "rootfs: must be a directory" "$W/symroot"
mkdir -p "$W/symmeta/rootfs"
ln -s /etc/shadow "$W/symmeta/metadata.yaml"
refused "metadata.yaml a symlink" "metadata.yaml: must not be a symlink" \
    "$W/symmeta"
mkdir -p "$W/badmeta/rootfs"
echo "architecture: [" >"$W/badmeta/metadata.yaml"
refused "a broken metadata.yaml" "metadata.yaml" "$W/badmeta"
refused "a bad compression" "Invalid compression_algorithm" "$W/src" \
    --compression lz4
check_eq "unpack_root is 0711: users reach their targets" \
    "$(stat -c %a "$STATE/rootfs")" 711
# A client that is not root (in the socket's group) publishes only under
# unpack_root; a symlink there that leads out is resolved before the
# check, and the child chroots into the directory the store opened, not
# into a path that could be swapped.
chmod 711 "$T_TMP"
as_user() {
	setpriv --reuid="$U" --regid="$U" --clear-groups \
	    env HOME="$T_TMP" IMGD_DIR="$STATE" "$C" "$@"
}
out=$(as_user publish "$STATE/rootfs/rt1" --arch x86_64 --os u \
    --release 1 --alias by-user 2>&1)
check_contains "a user publishes under unpack_root" "$out" \
    "Image published with fingerprint:"
check_eq "... and it is an image" "$("$C" image list -f csv -c l | \
    grep -c '^by-user$')" 1
before=$(state_snapshot)
out=$(as_user publish "$W/src" 2>&1)
check_contains "a user cannot publish outside unpack_root" "$out" \
    "only root on the local socket may publish a directory outside"
check_eq "... nothing left" "$(state_snapshot)" "$before"
ln -s "$W/src" "$STATE/rootfs/leads-out"
out=$(as_user publish "$STATE/rootfs/leads-out" 2>&1)
check_contains "nor through a symlink under it" "$out" \
    "only root on the local socket may publish a directory outside"
check_eq "... nothing left" "$(state_snapshot)" "$before"
rm "$STATE/rootfs/leads-out"
check "still serving" "$C" image list
check_contains "publishes are audited" "$(cat "$STATE/audit.log")" \
    '"image-publish"'
imgd_stop
summary
