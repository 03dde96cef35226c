#!/bin/bash
# bench/import_load.sh: imgd importing under load, in one run.
#
#	sudo bench/import_load.sh [SIZE_MB] [BIG_MB]	# defaults 1024, 4096
#
# 1. Four unified images of SIZE_MB MiB each (random data, so distinct
#    fingerprints) imported at once with imgctl, next to the disk's floor
#    measured the same way: four `cat FILE | dd conv=fdatasync` at once
#    (and one of each alone). Prints the aggregate MiB/s of each and the
#    ratio (goal: imgd >= 0.9 x the disk's durable write rate).
# 2. 64 clients listing: each is one curl that runs LISTS requests of
#    GET /1.0/images?recursion=1 on one connection (100 images in the
#    store), all 64 at once; first on an idle imgd, then while a BIG_MB
#    image is imported. Prints the median, 95th percentile and max time
#    of one list in each case, side by side (measured here, never tested:
#    the machine is shared), and the big import's wall clock with and
#    without the listers.
#
# Needs root, `make all` done, and about 3 x (4 x SIZE_MB + BIG_MB) MB of
# free disk under $BENCH_TMPDIR (default /var/tmp). Everything it starts is
# stopped by pid, its temp files removed on exit. About 3 minutes.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${1:-1024}
BIG_MB=${2:-4096}
LISTS=${LISTS:-20}
for v in "$SIZE_MB" "$BIG_MB" "$LISTS"; do
	case "$v" in
	'' | *[!0-9]*) die "usage: $0 [SIZE_MB] [BIG_MB]" ;;
	esac
done
need_deps
mk_tmp
echo "== imgd import under load: 4 x $SIZE_MB MiB at once; 64 listers" \
    "during a $BIG_MB MiB import"
need_disk $((3 * (4 * SIZE_MB + BIG_MB) + 500))
machine_info

# image DIR MB TAG: DIR/TAG.tar, a unified image of MB MiB of random data.
image() {
	local d=$1 mb=$2 tag=$3 t=$1/tree-$3
	mkdir -p "$t"
	printf 'architecture: x86_64\ncreation_date: 1458040200\n%s\n' \
	    "properties: {description: \"load bench $tag\", os: bench}" \
	    >"$t/metadata.yaml"
	fill_blobs "$t/rootfs/data" "$mb"
	tar -C "$t" -cf "$d/$tag.tar" metadata.yaml rootfs
	rm -rf "$t"
}

IMG=$B_TMP/img
mkdir -p "$IMG"
t0=$SECONDS
for i in 1 2 3 4; do
	image "$IMG" "$SIZE_MB" "c$i" &
done
wait
image "$IMG" "$BIG_MB" big
echo "-- images built in $((SECONDS - t0)) s"

# 64 listers and an import come from one uid: room for them all.
printf 'http_conns_per_client: 128\n' >"$B_TMP/imgd.yaml"
IMGD_ARGS="--config $B_TMP/imgd.yaml"
imgd_start
echo "imgd: $BIN/imgd --state $IMGD_STATE --debug $IMGD_ARGS" \
    "(http_conns_per_client: 128)"

# wall SECONDS of CMD... (stdout and stderr to $B_TMP/out.txt)
wall() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$B_TMP/out.txt" 2>&1 || { cat "$B_TMP/out.txt" >&2; die "$* failed"; }
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}'
}

four_dd() {
	local pids=()
	for i in 1 2 3 4; do
		cat "$IMG/c$i.tar" | dd of="$B_TMP/copy$i" bs=1M conv=fdatasync \
		    status=none &
		pids+=($!)
	done
	wait "${pids[@]}"
}
four_imgctl() {
	local pids=() rc=0
	for i in 1 2 3 4; do
		env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image import \
		    "$IMG/c$i.tar" >"$B_TMP/imp$i.txt" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
clear_images() {
	local fp
	for fp in $(curl -s --unix-socket "$IMGD_SOCK" \
	    http://imgd/1.0/images | jq -r '.metadata[]' | sed 's|.*/||'); do
		delete_image "$IMGD_SOCK" "$fp"
	done
}

# ---- 1. four imports at once (FOUR=0 skips it) ----
if [ "${FOUR:-1}" != 0 ]; then
bytes=$(stat -c %s "$IMG/c1.tar")
cat "$IMG"/c*.tar >/dev/null
declare -a DD1 DD4 IM1 IM4
for rep in 1 2 3; do
	sync
	DD1+=("$(wall sh -c 'cat "$0" | dd of="$1" bs=1M conv=fdatasync \
	    status=none' "$IMG/c1.tar" "$B_TMP/copy1")")
	rm -f "$B_TMP"/copy*
	sync
	DD4+=("$(wall four_dd)")
	rm -f "$B_TMP"/copy*
	sync
	IM1+=("$(wall env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image import \
	    "$IMG/c1.tar")")
	clear_images
	sync
	IM4+=("$(wall four_imgctl)")
	for i in 1 2 3 4; do
		grep -q "fingerprint: $(sha256sum <"$IMG/c$i.tar" | cut -d' ' -f1)" \
		    "$B_TMP/imp$i.txt" || die "import $i: $(cat "$B_TMP/imp$i.txt")"
	done
	clear_images
	echo "-- round $rep of 3 done"
done
rate() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / 1048576 / s}'; }
dd1=$(median "${DD1[@]}")
dd4=$(median "${DD4[@]}")
im1=$(median "${IM1[@]}")
im4=$(median "${IM4[@]}")
echo
echo "== four $SIZE_MB MiB imports at once (median of 3; $bytes bytes each)"
printf '%-40s %8s %8s %10s\n' what seconds MiB/s "vs disk"
printf '%-40s %8s %8s %10s\n' "one cat | dd conv=fdatasync" "$dd1" \
    "$(rate "$bytes" "$dd1")" -
printf '%-40s %8s %8s %10s\n' "four at once (the disk's durable rate)" \
    "$dd4" "$(rate $((4 * bytes)) "$dd4")" "(ref)"
printf '%-40s %8s %8s %10s\n' "one imgctl import" "$im1" \
    "$(rate "$bytes" "$im1")" "$(ratio "$dd1" "$im1")"
printf '%-40s %8s %8s %10s\n' "four imgctl imports at once" "$im4" \
    "$(rate $((4 * bytes)) "$im4")" "$(ratio "$dd4" "$im4")"
echo "goal: four imports' aggregate rate / the disk's (four dd) =" \
    "$(ratio "$dd4" "$im4") (>= 0.9)"
fi

# ---- 2. 64 listers, idle and during a big import ----
echo
echo "-- 100 small images for the listers"
mkdir -p "$B_TMP/small/rootfs"
for i in $(seq 1 100); do
	printf 'architecture: x86_64\ncreation_date: %d\nproperties: {os: s%d}\n' \
	    "$i" "$i" >"$B_TMP/small/metadata.yaml"
	tar -C "$B_TMP/small" -cf "$B_TMP/s.tar" metadata.yaml rootfs
	curl -sf --unix-socket "$IMGD_SOCK" -X POST --data-binary "@$B_TMP/s.tar" \
	    http://imgd/1.0/images >/dev/null || die "small import $i"
done
sleep 2
[ "$(curl -s --unix-socket "$IMGD_SOCK" http://imgd/1.0/images |
    jq '.metadata | length')" = 100 ] || die "the 100 images did not all land"

# listers OUTDIR [CLIENTS [LISTS]]: CLIENTS curls (64), each LISTS lists
# on one connection, at once; each line of OUTDIR/N is one list's seconds.
listers() {
	local out=$1 n=${2:-64} urls=() i
	mkdir -p "$out"
	for i in $(seq 1 "${3:-$LISTS}"); do
		urls+=(-o /dev/null "http://imgd/1.0/images?recursion=1")
	done
	local pids=()
	for i in $(seq 1 "$n"); do
		curl -s --unix-socket "$IMGD_SOCK" \
		    -w '%{http_code} %{time_total}\n' "${urls[@]}" >"$out/$i" &
		pids+=($!)
	done
	# Not a bare wait: imgd is a child of this shell too.
	wait "${pids[@]}"
}
# until_done OUTDIR FILE [CLIENTS [LISTS]]: listers in rounds until FILE
# exists.
until_done() {
	local r=0
	while [ ! -e "$2" ]; do
		listers "$1/r$r" "${3:-64}" "${4:-$LISTS}"
		r=$((r + 1))
	done
}
# busy_import OUTDIR CLIENTS LISTS: the big import, with listers until it
# ends; prints its wall clock.
busy_import() {
	local lpid t
	rm -f "$B_TMP/big.done"
	( until_done "$1" "$B_TMP/big.done" "$2" "$3" ) &
	lpid=$!
	sleep 0.2
	t=$(wall env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image import \
	    "$IMG/big.tar")
	touch "$B_TMP/big.done"
	wait "$lpid"
	delete_image "$IMGD_SOCK" "$(sha256sum <"$IMG/big.tar" | cut -d' ' -f1)"
	sync
	echo "$t"
}
# stats DIR: median p95 max (ms) of the lists answered 200, their count,
# and the count of the others (refused or failed).
stats() {
	local all
	all=$(find "$1" -type f -exec cat {} +)
	awk '$1 == 200 {print $2}' <<<"$all" | sort -g |
	    awk -v bad="$(awk '$1 != 200' <<<"$all" | wc -l)" \
	    '{v[NR] = $1 * 1000}
	    END {if (NR == 0) {print "- - - 0", bad; exit}
	         printf "%.1f %.1f %.1f %d %d\n", v[int((NR + 1) / 2)],
	             v[int(NR * 0.95 + 0.5)], v[NR], NR, bad}'
}

listers "$B_TMP/idle"
idle64=$(stats "$B_TMP/idle")
listers "$B_TMP/idle1" 1 $((LISTS * 10))
idle1=$(stats "$B_TMP/idle1")
cat "$IMG/big.tar" >/dev/null
sync
big_alone=$(wall env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image import \
    "$IMG/big.tar")
delete_image "$IMGD_SOCK" "$(sha256sum <"$IMG/big.tar" | cut -d' ' -f1)"
sync
big_busy=$(busy_import "$B_TMP/busy" 64 "$LISTS")
busy64=$(stats "$B_TMP/busy")
big_one=$(busy_import "$B_TMP/busy1" 1 $((LISTS * 10)))
busy1=$(stats "$B_TMP/busy1")
# list_table TITLE IDLE BUSY: two rows of stats (median p95 max n bad),
# and the difference of their medians.
list_table() {
	local i b
	echo
	echo "$1"
	printf '%-34s %8s %8s %8s %7s %7s\n' "" median p95 max lists failed
	read -ra i <<<"$2"
	read -ra b <<<"$3"
	printf '%-34s %8s %8s %8s %7s %7s\n' "idle imgd" "${i[@]}"
	printf '%-34s %8s %8s %8s %7s %7s\n' "during a $BIG_MB MiB import" \
	    "${b[@]}"
	echo -n "difference of the medians: $(awk -v a="${b[0]}" \
	    -v b="${i[0]}" 'BEGIN {printf "%.1f", a - b}') ms; "
}
list_table "== 64 clients listing 100 images (GET /1.0/images?recursion=1,\
 ms per list)" "$idle64" "$busy64"
echo "the $BIG_MB MiB import took $big_alone s alone, $big_busy s with the" \
    "listers"
list_table "== one client listing 100 images, $((LISTS * 10)) lists on one\
 connection (ms per list): the loop's own delay, without 64 clients' share\
 of the two cores" "$idle1" "$busy1"
echo "the import took $big_one s with the one lister"
echo "at the end, $(other_load)"
