#!/bin/bash
# bench/import_rate.sh: a compressed image uploaded at a network's rate,
# where validating while the body arrives matters (bench/import.sh sends
# over loopback at memory speed: there the upload is a few % of the time).
#
#	sudo bench/import_rate.sh [RATE] [SIZE_MB]	# default 20M, 160
#	REPS=5 bench/import_rate.sh 50M 320
#
# It builds a unified .tar.xz (xz -1) of real files (/usr/share/doc and
# /usr/lib's perl modules, repeated to SIZE_MB MiB), then times, REPS
# times each (default 3), medians printed:
#
#	bytes / RATE				the upload alone (floor)
#	xz -dc FILE | sha256sum			the decompression (floor)
#	curl --limit-rate RATE -> imgd		POST /1.0/images to the end
#						of its operation
#	curl --limit-rate RATE -> LXD		the same to a reference LXD
#
# and the ratio of imgd's time to the slower floor (goal of issue 11:
# <= 1.1) and to LXD's (RATE in curl's units: 20M is 20 MiB/s, which curl
# keeps to within a few %). Each time is also split into the body's time
# (until the answer with the operation) and the total.
. "$(dirname "$0")/lib.sh"

RATE=${1:-20M}
SIZE_MB=${2:-160}
REPS=${REPS:-3}
case "$SIZE_MB" in
'' | *[!0-9]*) die "usage: $0 [RATE] [SIZE_MB]" ;;
esac
need_deps curl:curl jq:jq xz:xz-utils lxd:lxd bc:bc
[ -x "$BIN/imgd" ] || die "build imgd first (make all)"
mk_tmp
need_disk $((SIZE_MB * 3))

echo "== bench/import_rate.sh: a .tar.xz of $SIZE_MB MiB of files uploaded at $RATE/s"
machine_info

# The image: real files, copied until SIZE_MB.
T=$B_TMP/tree
mkdir -p "$T/rootfs"
printf 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: bench\n' \
    >"$T/metadata.yaml"
n=0
while [ "$(du -sm "$T/rootfs" | cut -f1)" -lt "$SIZE_MB" ]; do
	mkdir -p "$T/rootfs/copy$n"
	cp -a /usr/share/doc "$T/rootfs/copy$n/" 2>/dev/null
	cp -a /usr/lib/x86_64-linux-gnu/perl* "$T/rootfs/copy$n/" 2>/dev/null
	n=$((n + 1))
	[ $n -lt 64 ] || die "not enough files under /usr to fill $SIZE_MB MiB"
done
IMG=$B_TMP/img.tar.xz
tar -C "$T" -cf - metadata.yaml rootfs | xz -1 -T2 >"$IMG"
rm -rf "$T"
BYTES=$(stat -c %s "$IMG")
FP=$(sha256sum "$IMG" | cut -d' ' -f1)
echo "image: $BYTES bytes of xz ($(du -sm "$IMG" | cut -f1) MiB), fingerprint ${FP:0:12}"

now() { date +%s.%N; }
secs() { printf '%.3f\n' "$(echo "$2 - $1" | bc)"; }
case "$RATE" in
*[kK]) RATE_B=$((${RATE%?} * 1024)) ;;
*[mM]) RATE_B=$((${RATE%?} * 1048576)) ;;
*[gG]) RATE_B=$((${RATE%?} * 1073741824)) ;;
*) RATE_B=$RATE ;;
esac
case "$RATE_B" in
'' | *[!0-9]*) die "RATE is a number of bytes/s, with k, M or G" ;;
esac

# post SOCK: the upload at RATE and the wait for its operation; prints
# "BODY TOTAL" seconds. Fails unless the operation succeeded.
post() {
	local s=$1 t0 t1 t2 op st
	t0=$(now)
	op=$(curl -s --unix-socket "$s" --limit-rate "$RATE" -X POST \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary @"$IMG" http://local/1.0/images | jq -r .operation)
	t1=$(now)
	st=$(api "$s" GET "$op/wait?timeout=600" | jq -r .metadata.status)
	t2=$(now)
	[ "$st" = Success ] || die "import on $s: $st"
	echo "$(secs "$t0" "$t1") $(secs "$t0" "$t2")"
}

imgd_start
lxd_start
declare -a dec ib it lb lt
for r in $(seq 1 "$REPS"); do
	t0=$(now)
	xz -dc "$IMG" | sha256sum >/dev/null
	dec+=("$(secs "$t0" "$(now)")")
	sync
	read -r b t < <(post "$IMGD_SOCK")
	ib+=("$b") it+=("$t")
	delete_image "$IMGD_SOCK" "$FP"
	sync
	read -r b t < <(post "$LXD_SOCK")
	lb+=("$b") lt+=("$t")
	delete_image "$LXD_SOCK" "$FP"
	echo "-- run $r of $REPS done"
done

UP=$(printf '%.3f' "$(echo "$BYTES / $RATE_B" | bc -l)")
DEC=$(median "${dec[@]}")
FLOOR=$(max_of "$UP" "$DEC")
IT=$(median "${it[@]}")
LT=$(median "${lt[@]}")
printf '\n%-40s %8s %8s %8s\n' "median of $REPS (seconds)" body total "/floor"
printf '%-40s %8s %8s %8s\n' "$BYTES bytes at $RATE/s (floor)" "$UP" "$UP" "$(ratio "$UP" "$FLOOR")"
printf '%-40s %8s %8s %8s\n' "xz -dc | sha256sum (floor)" - "$DEC" "$(ratio "$DEC" "$FLOOR")"
printf '%-40s %8s %8s %8s\n' "curl at $RATE -> imgd" "$(median "${ib[@]}")" "$IT" "$(ratio "$IT" "$FLOOR")"
printf '%-40s %8s %8s %8s\n' "curl at $RATE -> LXD (reference)" "$(median "${lb[@]}")" "$LT" "$(ratio "$LT" "$FLOOR")"
echo "sum of the floors (what validating after the body costs): $(echo "$UP + $DEC" | bc) s"
echo "goal, wall: imgd $IT s / floor $FLOOR s = $(ratio "$IT" "$FLOOR") (goal <= 1.1); imgd / LXD = $(ratio "$IT" "$LT")"
echo "notes: LXD does not decompress an image to validate it, nor fsync it;"
echo "imgd validates every entry and fdatasyncs before its commit."
