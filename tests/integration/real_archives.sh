#!/bin/bash
# Images made by the real tools (GNU tar in every format, bsdtar, Python's
# tarfile, `lxc image import DIR`), each compression, imported through
# imgctl and the real lxc client, and into a reference LXD: every one LXD
# imports must import into imgd with the same fingerprint, and no archive
# may kill a sandbox. The corpus is made here, at test time
# (tests/integration/realtools.bash), by the tools `make deps` installs.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/realtools.bash"

imgd_start || { summary; exit 1; }
BEFORE=$(state_snapshot)
W=$T_TMP/work
mkdir -p "$W"
ref_or_skip

rt_trees "$W/trees"
rt_build "$W/trees" "$W/corpus" >"$W/list" || true
check_eq "every tool made its archive" \
    "$(wc -l <"$W/list")" 23

# The refusal imgd makes on purpose, by the rule that makes it: counted
# at its apparent size (SECURITY.md), a 9 GiB sparse file in a 30 KiB
# tarball breaks the unpacked-size bound. LXD, which unpacks only
# metadata.yaml at import, takes it.
HUGE_WHY='^Error: image unpacks to more than [0-9]+ bytes \(at entry "rootfs/var/huge"\), the limit for [0-9]+ compressed bytes \(20 x \+ 256 MiB; sparse files count at their full size\)$'

# imgd_import NAME CLIENT FILE...: imports, checks the fingerprint, deletes.
imgd_import() {
	local name=$1 client=$2 want out
	shift 2
	want=$(cat "$@" | sha256sum | cut -d' ' -f1)
	if [ "$client" = imgctl ]; then
		out=$("$BIN/imgctl" image import "$@" 2>&1)
	else
		out=$(lxc_out lxc image import "$@")
	fi
	case "$name" in
	*huge*)
		if [[ "$out" =~ $HUGE_WHY ]]; then
			pass "$name via $client: refused by the size rule"
		else
			fail "$name via $client: refused by the size rule" \
			    "got: $out"
		fi
		return
		;;
	esac
	check_eq "$name via $client: LXD's fingerprint" "$out" \
	    "Image imported with fingerprint: $want"
	"$BIN/imgctl" image delete "$want" >/dev/null 2>&1
}

ref_import() {
	local name=$1 want out
	shift
	want=$(cat "$@" | sha256sum | cut -d' ' -f1)
	# LXD answers a refusal before it has read the body, and then at
	# times neither reads nor closes: the client would wait for ever.
	out=$(LXD_DIR=$LXD_REF lxc_out sh -c \
	    'timeout 60 lxc image import "$@"; [ $? != 124 ] || echo TIMEOUT' \
	    sh "$@")
	if [ "$name" = gnutar-v7.none ]; then
		# LXD picks the decompressor by magic, and a v7 header has
		# none; imgd's reader knows v7 tar, so imgd imports it.
		if [ "$out" = TIMEOUT ] &&
		    ! LXD_DIR=$LXD_REF timeout 30 lxc image info "$want" \
			>/dev/null 2>&1; then
			echo "# $name: the reference LXD hung after refusing it"
			out="Error: Unsupported compression"
		fi
		check_eq "$name: a reference LXD refuses it (no magic)" "$out" \
		    "Error: Unsupported compression"
		return
	fi
	check_eq "$name: a reference LXD imports it, same fingerprint" \
	    "$out" "Image imported with fingerprint: $want"
	LXD_DIR=$LXD_REF lxc image delete "$want" >/dev/null 2>&1
}

ALGOS="none gzip bzip2 xz lzma zstd"
while read -r name f1 f2; do
	for algo in $ALGOS; do
		c1=$(rt_compress "$f1" "$algo")
		files=("$c1")
		[ -n "${f2:-}" ] && files+=("$(rt_compress "$f2" "$algo")")
		imgd_import "$name.$algo" imgctl "${files[@]}"
		imgd_import "$name.$algo" lxc "${files[@]}"
		[ "$HAVE_REF" = 1 ] && ref_import "$name.$algo" "${files[@]}"
	done
done <"$W/list"

# Compressed streams with an empty first member, as concatenating tools
# write them.
for algo in gzip-empty-member xz-empty-stream bzip2-empty-stream \
    zstd-empty-frame; do
	c=$(rt_compress "$W/corpus/gnutar-pax.tar" "$algo")
	imgd_import "gnutar-pax.$algo" imgctl "$c"
	imgd_import "gnutar-pax.$algo" lxc "$c"
	[ "$HAVE_REF" = 1 ] && ref_import "gnutar-pax.$algo" "$c"
done

# `lxc image import DIR`: the client packs the directory itself (a new
# tarball each time, so compare by re-importing imgd's copy into LXD).
for tree in full latin1; do
	out=$(lxc_out lxc image import "$W/trees/$tree" --alias "dir-$tree")
	fp=${out#Image imported with fingerprint: }
	check_eq "lxc image import DIR ($tree) imports" "${#fp}" 64
	check_eq "lxc image import DIR ($tree): stored bytes hash to it" \
	    "$(sha256sum "$STATE/images/$fp" 2>/dev/null | cut -d' ' -f1)" \
	    "$fp"
	if [ "$HAVE_REF" = 1 ]; then
		ref_import "lxc image import DIR ($tree), as imgd stored it" \
		    "$STATE/images/$fp"
	fi
	"$BIN/imgctl" image delete "$fp" >/dev/null 2>&1
done

log=$(cat "$T_TMP/imgd.log")
case "$log" in
*SIGSYS* | *"killed by"*)
	fail "no sandbox died on real archives" \
	    "$(grep -E 'SIGSYS|killed by' "$T_TMP/imgd.log" | head -5)" ;;
*) pass "no sandbox died on real archives" ;;
esac
check_eq "nothing left behind" "$(state_snapshot)" "$BEFORE"
summary
