#!/bin/bash
# bench/list.sh: how fast imgd lists a store of N images, next to a real
# LXD holding the same N images, in one run.
#
#	sudo bench/list.sh [N]		# default 1000
#	REPS=9 bench/list.sh 5000	# optional: runs per row (default 5)
#
# It makes N tiny distinct unified images (plain tarballs whose
# metadata.yaml differs by a property), starts an imgd and a reference LXD
# 5.0.2 (Debian's lxd, in a network namespace of its own), and fills both
# through the API: for each image `POST /1.0/images --data-binary @f`
# with curl on the unix socket, a wait on the returned operation, and
# `POST /1.0/images/aliases` for an alias img-<i>. Then it times, REPS
# times each, interleaved:
#
#	imgctl image list			-> imgd
#	lxc image list				-> imgd (LXD's client)
#	lxc image list				-> LXD
#	curl .../1.0/images?recursion=1		-> imgd and -> LXD
#	curl .../1.0				-> both: one request's floor
#	sqlite3 on imgd.db, the same rows	the database floor
#
# and prints the medians with the ratios imgd/LXD, the peak RSS of the
# client and of the daemon during the row, and how much each printed
# (bytes, and images counted in the output: both must show N).
#
# Needs root and `make all` done. Everything it starts is stopped by pid
# and its temp files are removed on exit. About 2 minutes for N=1000.
. "$(dirname "$0")/lib.sh"

N=${1:-1000}
REPS=${REPS:-5}
case "$N" in
'' | *[!0-9]*) die "usage: $0 [N]" ;;
esac
[ "$N" -ge 1 ] || die "N must be at least 1"

need_deps
mk_tmp
echo "== imgd list benchmark: $N images, $REPS runs per row"
need_disk $((N * 3 / 100 + 200))
machine_info

echo "== what runs"
echo "imgd:  $BIN/imgd --state $B_TMP/imgd --debug"
echo "LXD:   LXD_DIR=$B_TMP/lxd unshare --net lxd --group root"
echo "fill:  per image: curl --unix-socket SOCK -X POST /1.0/images" \
    "--data-binary @img-<i>.tar,"
echo "       curl GET <operation>/wait --next POST /1.0/images/aliases" \
    "(img-<i>)"
echo "rows:  IMGD_DIR=... imgctl image list; LXD_DIR=... lxc image list;"
echo "       curl -s --unix-socket SOCK 'http://x/1.0/images?recursion=1';"
echo "       curl -s --unix-socket SOCK http://x/1.0;"
echo "       sqlite3 -readonly imgd.db 'SELECT ... images, properties, aliases'"

# ---- the images: N tiny tarballs, distinct by a property ----
IMGS=$B_TMP/images
mkdir -p "$IMGS" "$B_TMP/tree/rootfs/etc"
echo "-- making $N images"
t0=$SECONDS
echo list-bench >"$B_TMP/tree/rootfs/etc/hostname"
for i in $(seq 1 "$N"); do
	printf 'architecture: x86_64\ncreation_date: 1458040200\nproperties:\n  description: list bench image %d\n  os: bench\n  release: "%d"\n' \
	    "$i" "$i" >"$B_TMP/tree/metadata.yaml"
	tar -C "$B_TMP/tree" -cf "$IMGS/img-$i.tar" metadata.yaml rootfs
done
rm -rf "$B_TMP/tree"
(cd "$IMGS" && sha256sum img-*.tar) | sed 's/\.tar$//' |
    awk '{print $2, $1}' >"$B_TMP/fps"
[ "$(cut -d' ' -f2 "$B_TMP/fps" | sort -u | wc -l)" = "$N" ] ||
    die "the $N images are not distinct"
echo "-- made in $((SECONDS - t0)) s ($(du -sh "$IMGS" | cut -f1))"

imgd_start
lxd_start

# fill SOCK: every image, one after the other; sets FILL_SEC. Two curl
# processes per image (the wait and the alias share one), and no jq: a
# process start costs more than the request here.
fill() {
	local s=$1 name fp t0 resp op re='"operation":"([^"]+)"'
	t0=$(date +%s%N)
	while read -r name fp; do
		resp=$(curl -s --unix-socket "$s" -X POST \
		    -H 'Content-Type: application/octet-stream' \
		    --data-binary "@$IMGS/$name.tar" http://x/1.0/images)
		[[ $resp =~ $re ]] || die "upload of $name failed: $resp"
		op=${BASH_REMATCH[1]}
		resp=$(curl -s --unix-socket "$s" "http://x$op/wait?timeout=60" \
		    --next --unix-socket "$s" -X POST \
		    -d "{\"name\":\"$name\",\"target\":\"$fp\"}" \
		    http://x/1.0/images/aliases)
		# The operation's "err" is empty, and both answers have
		# error_code 0.
		case "$resp" in
		*'"err":""'*'"error_code":0'*) ;;
		*) die "import or alias of $name failed: $resp" ;;
		esac
		case "$resp" in
		*'"status":"Failure"'*) die "import of $name failed: $resp" ;;
		esac
	done <"$B_TMP/fps"
	FILL_SEC=$(awk -v a="$t0" -v b="$(date +%s%N)" \
	    'BEGIN {printf "%.1f", (b - a) / 1e9}')
}

echo "-- filling imgd"
fill "$IMGD_SOCK"
FILL_IMGD=$FILL_SEC
echo "-- filling LXD"
fill "$LXD_SOCK"
FILL_LXD=$FILL_SEC
for s in "$IMGD_SOCK" "$LXD_SOCK"; do
	n=$(api "$s" GET /1.0/images | jq '.metadata | length')
	[ "$n" = "$N" ] || die "$s holds $n images, expected $N"
done

# ---- the rows ----
ROWS="imgctl lxc-imgd lxc-lxd curl-imgd curl-lxd req-imgd req-lxd sqlite"
label() {
	case "$1" in
	imgctl) echo "imgctl image list -> imgd" ;;
	lxc-imgd) echo "lxc image list    -> imgd" ;;
	lxc-lxd) echo "lxc image list    -> LXD" ;;
	curl-imgd) echo "curl recursion=1  -> imgd" ;;
	curl-lxd) echo "curl recursion=1  -> LXD" ;;
	req-imgd) echo "curl /1.0 (floor) -> imgd" ;;
	req-lxd) echo "curl /1.0 (floor) -> LXD" ;;
	sqlite) echo "sqlite3 rows (DB floor)" ;;
	esac
}
# Which row each one is compared with (imgd / LXD).
ref_of() {
	case "$1" in
	imgctl | lxc-imgd) echo lxc-lxd ;;
	curl-imgd) echo curl-lxd ;;
	req-imgd) echo req-lxd ;;
	esac
}
SQL="SELECT i.fingerprint, i.filename, i.size, i.public, i.architecture,
    i.type, i.created_at, i.uploaded_at, p.key, p.value, a.name
    FROM images i LEFT JOIN image_properties p ON p.image_id = i.id
    LEFT JOIN image_aliases a ON a.image_id = i.id ORDER BY i.id"

declare -A SEC CKB DKB BYTES COUNT
add() {
	local -n a=$1
	a[$2]="${a[$2]:-} $3"
}

run_row() {
	local row=$1 out=$B_TMP/out-$1 daemon="" fe=""
	case "$row" in
	*-lxd) daemon=$LXD_PID ;;
	sqlite) ;;
	*) daemon=$IMGD_PID fe=$(imgd_frontend_pid) ;;
	esac
	reset_hwm $daemon $fe
	case "$row" in
	imgctl)
		run_timed "$out" env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" \
		    image list ;;
	lxc-imgd)
		run_timed "$out" env LXD_DIR="$IMGD_STATE" lxc image list ;;
	lxc-lxd)
		run_timed "$out" env LXD_DIR="$LXD_STATE" lxc image list ;;
	curl-imgd)
		run_timed "$out" curl -sf --unix-socket "$IMGD_SOCK" \
		    'http://x/1.0/images?recursion=1' ;;
	curl-lxd)
		run_timed "$out" curl -sf --unix-socket "$LXD_SOCK" \
		    'http://x/1.0/images?recursion=1' ;;
	req-imgd)
		run_timed "$out" curl -sf --unix-socket "$IMGD_SOCK" \
		    http://x/1.0 ;;
	req-lxd)
		run_timed "$out" curl -sf --unix-socket "$LXD_SOCK" \
		    http://x/1.0 ;;
	sqlite)
		run_timed "$out" sqlite3 -readonly "$IMGD_STATE/imgd.db" "$SQL" ;;
	esac || { head -c 2000 "$out" >&2; die "$row failed"; }
	add SEC "$row" "$R_SEC"
	add CKB "$row" "$R_KB"
	if [ -n "$daemon" ]; then
		local k
		k=$(hwm "$daemon")
		[ -n "$fe" ] && k="$k/$(hwm "$fe")"
		add DKB "$row" "$k"
	fi
	BYTES[$row]=$(stat -c %s "$out")
	case "$row" in
	imgctl | lxc-*)	# table rows: one per image, with its fingerprint
		COUNT[$row]=$(grep -cE '^\| [^|]* \| [0-9a-f]{12} +\|' "$out") ;;
	curl-*)
		COUNT[$row]=$(jq '.metadata | length' "$out") ;;
	sqlite)
		COUNT[$row]=$(cut -d'|' -f1 "$out" | sort -u | wc -l) ;;
	*)
		COUNT[$row]=- ;;
	esac
}

echo "-- $REPS runs of ${ROWS// /, }"
t0=$SECONDS
for rep in $(seq 1 "$REPS"); do
	for row in $ROWS; do
		run_row "$row"
	done
done
echo "-- done in $((SECONDS - t0)) s"

med() {
	# shellcheck disable=SC2086
	median ${SEC[$1]}
}
# The peak of the daemon's VmHWM over the runs: "store/frontend" for imgd.
dpeak() {
	local v=${DKB[$1]:-} s=0 f=0 x
	[ -n "$v" ] || { echo -; return; }
	for x in $v; do
		[ "${x%/*}" -gt "$s" ] && s=${x%/*}
		if [ "$x" != "${x#*/}" ] && [ "${x#*/}" -gt "$f" ]; then
			f=${x#*/}
		fi
	done
	if [ "$f" -gt 0 ]; then
		echo "$(mib "$s")+$(mib "$f")"
	else
		mib "$s"
	fi
}

echo
echo "== listing $N images (each with 3 properties and 1 alias);" \
    "median of $REPS runs"
printf '%-27s %8s %8s %7s %9s | %10s %8s\n' "" "" "imgd /" "client" \
    "daemon" "output" "images"
printf '%-27s %8s %8s %7s %9s | %10s %8s\n' "what" "seconds" "LXD" \
    "RSS MiB" "RSS MiB" "bytes" "listed"
for row in $ROWS; do
	ref=$(ref_of "$row")
	r=-
	[ -n "$ref" ] && r=$(ratio "$(med "$row")" "$(med "$ref")")
	printf '%-27s %8s %8s %7s %9s | %10s %8s\n' "$(label "$row")" \
	    "$(med "$row")" "$r" "$(mib "$(max_of ${CKB[$row]})")" \
	    "$(dpeak "$row")" "${BYTES[$row]}" "${COUNT[$row]}"
done
echo "daemon RSS: VmHWM during the row (reset before each run), the most"
echo "of the runs; for imgd, store+frontend. Images listed: table rows with"
echo "a fingerprint, or JSON array entries, or distinct fingerprints (sqlite)."
echo
echo "fill ($N x: curl POST /1.0/images; curl wait + POST alias; in" \
    "sequence):"
echo "  imgd $FILL_IMGD s ($(awk -v n="$N" -v s="$FILL_IMGD" \
    'BEGIN {printf "%.0f", n / s}') images/s), LXD $FILL_LXD s" \
    "($(awk -v n="$N" -v s="$FILL_LXD" 'BEGIN {printf "%.0f", n / s}')" \
    "images/s), imgd/LXD $(ratio "$FILL_IMGD" "$FILL_LXD")"
FE=$(imgd_frontend_pid)
echo "VmRSS now: imgd store $(mib "$(awk '/^VmRSS/ {print $2}' \
    "/proc/$IMGD_PID/status")") MiB, frontend $(mib "$(awk '/^VmRSS/ \
    {print $2}' "/proc/$FE/status")") MiB; LXD $(mib "$(awk '/^VmRSS/ \
    {print $2}' "/proc/$LXD_PID/status")") MiB"
echo "imgd state: $(du -sh "$IMGD_STATE" | cut -f1); LXD dir:" \
    "$(du -sh "$LXD_STATE" 2>/dev/null | cut -f1)"
echo "at the end, $(other_load)"
