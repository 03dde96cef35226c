#!/bin/bash
# bench/list.sh: how fast imgd lists a store of N images, next to a real
# LXD holding the same images (up to the N it can reach), in one run.
#
#	sudo bench/list.sh [N]		# default 1000; up to 100000 for imgd
#	REPS=9 LXD_N=500 PAR=4 bench/list.sh 20000
#
# It makes N tiny distinct unified images (tarballs whose metadata.yaml
# differs by a property; os=ubuntu on 100 of them, os=bench on the rest),
# starts an imgd and a reference LXD 5.0.2 (Debian's lxd, in a network
# namespace of its own), and fills both through the API, as a client
# would: per image `POST /1.0/images --data-binary @f` with curl on the
# unix socket (retried on 503, uploads at their limit), a wait on the
# returned operation, and `POST /1.0/images/aliases` for img-<i>. imgd is
# filled PAR (4) images at a time, in ten rounds whose rates are printed
# (the per-image cost must not grow with the store); LXD, one at a time,
# with the first LXD_N (default: N, at most 1000) of them. Then it times,
# REPS times each, interleaved:
#
#	imgctl image list			-> imgd
#	lxc image list				-> imgd (LXD's client) and -> LXD
#	curl .../1.0/images?recursion=1		-> imgd and -> LXD
#	curl ...?recursion=1&filter=properties.os eq ubuntu -> both
#	curl .../1.0				-> both: one request's floor
#	sqlite3 on imgd.db, the same rows	the database floor
#
# and prints the medians with the ratios imgd/LXD, the peak RSS of the
# client and of the daemon during the row, how much each printed (bytes,
# and images counted in the output), and where imgd's time goes in the
# full list: the CPU of the store (query, records) and of the frontend
# (decode, JSON) from /proc/PID/schedstat, and of curl, next to the wall
# time above the floor and the images streamed per second.
#
# Needs root and `make all` done. Everything it starts is stopped by pid
# and its temp files are removed on exit. About 2 minutes for N=1000,
# 15 for N=100000 (most of it the fill).
. "$(dirname "$0")/lib.sh"

N=${1:-1000}
REPS=${REPS:-5}
PAR=${PAR:-4}
case "$N" in
'' | *[!0-9]*) die "usage: $0 [N]" ;;
esac
[ "$N" -ge 1 ] || die "N must be at least 1"
LXD_N=${LXD_N:-$((N < 1000 ? N : 1000))}
[ "$LXD_N" -le "$N" ] || LXD_N=$N

need_deps
mk_tmp
echo "== imgd list benchmark: $N images (LXD: $LXD_N), $REPS runs per row"
need_disk $((N * 3 / 100 + 200))
machine_info

echo "== what runs"
echo "imgd:  $BIN/imgd --state $B_TMP/imgd --debug"
echo "LXD:   LXD_DIR=$B_TMP/lxd unshare --net lxd --group root"
echo "fill:  per image ($PAR at a time for imgd): curl --unix-socket SOCK" \
    "-X POST /1.0/images --data-binary @img-<i>.tar,"
echo "       curl GET <operation>/wait --next POST /1.0/images/aliases" \
    "(img-<i>)"
echo "rows:  IMGD_DIR=... imgctl image list; LXD_DIR=... lxc image list;"
echo "       curl -s --unix-socket SOCK 'http://x/1.0/images?recursion=1';"
echo "       curl ... '/1.0/images?recursion=1&filter=properties.os+eq+ubuntu';"
echo "       curl -s --unix-socket SOCK http://x/1.0;"
echo "       sqlite3 -readonly imgd.db 'SELECT ... images, properties, aliases'"

# ---- the images: N tiny tarballs, distinct by a property ----
IMGS=$B_TMP/images
mkdir -p "$IMGS"
echo "-- making $N images"
t0=$SECONDS
# Python's tarfile, not a tar per image: 100000 of them in seconds. Each
# is a plain ustar archive of metadata.yaml and rootfs/etc/hostname.
python3 - "$IMGS" "$N" <<'PY'
import io, sys, tarfile
out, n = sys.argv[1], int(sys.argv[2])
every = max(1, n // 100)  # os=ubuntu on 100 of them (all when n <= 100)
host = b"list-bench\n"
for i in range(1, n + 1):
    os_ = "ubuntu" if i % every == 0 and i // every <= 100 else "bench"
    meta = ("architecture: x86_64\ncreation_date: 1458040200\n"
            "properties:\n  description: list bench image %d\n"
            "  os: %s\n  release: \"%d\"\n" % (i, os_, i)).encode()
    with tarfile.open("%s/img-%d.tar" % (out, i), "w",
                      format=tarfile.USTAR_FORMAT) as t:
        for name, data, mode in (("metadata.yaml", meta, 0o644),
                                 ("rootfs/etc/hostname", host, 0o644)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, 1458040200
            t.addfile(ti, io.BytesIO(data))
PY
(cd "$IMGS" && find . -name 'img-*.tar' -print0 | xargs -0 sha256sum) |
    sed 's|  \./| |; s/\.tar$//' | awk '{print $2, $1}' |
    sort -t- -k2 -n >"$B_TMP/fps"
[ "$(cut -d' ' -f2 "$B_TMP/fps" | sort -u | wc -l)" = "$N" ] ||
    die "the $N images are not distinct"
UBUNTU=$(awk -v n="$N" 'BEGIN {e = int(n / 100); if (e < 1) e = 1;
    c = int(n / e); print c < 100 ? c : 100}')
echo "-- made in $((SECONDS - t0)) s ($(du -sh "$IMGS" | cut -f1));" \
    "$UBUNTU with os=ubuntu"

imgd_start
lxd_start

# One image into SOCK: upload (again while the daemon says 503: uploads
# at their limit), wait for the operation, add the alias. Two curl
# processes per image (the wait and the alias share one), no jq: a
# process start costs more than the request here.
cat >"$B_TMP/fill1.sh" <<'SH'
s=$1 imgs=$2 name=$3 fp=$4 re='"operation":"([^"]+)"'
for _ in $(seq 1 600); do
	resp=$(curl -s --unix-socket "$s" -X POST -w '\n%{http_code}' \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$imgs/$name.tar" http://x/1.0/images)
	[ "${resp##*$'\n'}" = 503 ] || break
	sleep 0.05
done
[[ $resp =~ $re ]] || { echo "upload of $name failed: $resp" >&2; exit 255; }
op=${BASH_REMATCH[1]}
resp=$(curl -s --unix-socket "$s" "http://x$op/wait?timeout=60" \
    --next --unix-socket "$s" -X POST \
    -d "{\"name\":\"$name\",\"target\":\"$fp\"}" \
    http://x/1.0/images/aliases)
# The operation's "err" is empty, and both answers have error_code 0.
case "$resp" in
*'"status":"Failure"'*) echo "import of $name failed: $resp" >&2; exit 255 ;;
*'"err":""'*'"error_code":0'*) ;;
*) echo "import or alias of $name failed: $resp" >&2; exit 255 ;;
esac
SH

# fill SOCK LIST PAR: the images of LIST, PAR at a time; sets FILL_SEC.
fill() {
	local s=$1 list=$2 par=$3 t0
	t0=$(date +%s%N)
	xargs -P "$par" -L 1 bash "$B_TMP/fill1.sh" "$s" "$IMGS" <"$list" ||
	    die "filling $s failed"
	FILL_SEC=$(awk -v a="$t0" -v b="$(date +%s%N)" \
	    'BEGIN {printf "%.2f", (b - a) / 1e9}')
}

# imgd in ten rounds (of N/10 images, at least one), each one's rate kept:
# the first and the last say whether an import costs more in a full store.
echo "-- filling imgd ($PAR at a time)"
ROUNDS=10
[ "$N" -lt 10 ] && ROUNDS=$N
per=$(((N + ROUNDS - 1) / ROUNDS))
split -l "$per" -d -a 2 "$B_TMP/fps" "$B_TMP/round."
RATES=() FILL_IMGD=0
for r in "$B_TMP"/round.*; do
	fill "$IMGD_SOCK" "$r" "$PAR"
	RATES+=("$(awk -v n="$(wc -l <"$r")" -v s="$FILL_SEC" \
	    'BEGIN {printf "%.0f", n / s}')")
	FILL_IMGD=$(awk -v a="$FILL_IMGD" -v b="$FILL_SEC" \
	    'BEGIN {printf "%.1f", a + b}')
done
echo "-- imgd: $N in $FILL_IMGD s; images/s per round: ${RATES[*]}"
echo "-- filling LXD (one at a time, $LXD_N images)"
head -n "$LXD_N" "$B_TMP/fps" >"$B_TMP/fps.lxd"
fill "$LXD_SOCK" "$B_TMP/fps.lxd" 1
FILL_LXD=$FILL_SEC
n=$(api "$IMGD_SOCK" GET /1.0/images | jq '.metadata | length')
[ "$n" = "$N" ] || die "imgd holds $n images, expected $N"
n=$(api "$LXD_SOCK" GET /1.0/images | jq '.metadata | length')
[ "$n" = "$LXD_N" ] || die "LXD holds $n images, expected $LXD_N"
FE=$(imgd_frontend_pid)
FE_IDLE=$(awk '/^VmRSS/ {print $2}' "/proc/$FE/status")

# ---- the rows ----
ROWS="imgctl lxc-imgd lxc-lxd curl-imgd curl-lxd flt-imgd flt-lxd"
ROWS="$ROWS req-imgd req-lxd sqlite"
label() {
	case "$1" in
	imgctl) echo "imgctl image list -> imgd" ;;
	lxc-imgd) echo "lxc image list    -> imgd" ;;
	lxc-lxd) echo "lxc image list    -> LXD" ;;
	curl-imgd) echo "curl recursion=1  -> imgd" ;;
	curl-lxd) echo "curl recursion=1  -> LXD" ;;
	flt-imgd) echo "curl os=ubuntu    -> imgd" ;;
	flt-lxd) echo "curl os=ubuntu    -> LXD" ;;
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
	flt-imgd) echo flt-lxd ;;
	req-imgd) echo req-lxd ;;
	esac
}
SQL="SELECT i.fingerprint, i.filename, i.size, i.public, i.architecture,
    i.type, i.created_at, i.uploaded_at, p.key, p.value, a.name
    FROM images i LEFT JOIN image_properties p ON p.image_id = i.id
    LEFT JOIN image_aliases a ON a.image_id = i.id ORDER BY i.id"

declare -A SEC CKB DKB BYTES COUNT STC FEC CLC
FLT='http://x/1.0/images?recursion=1&filter=properties.os+eq+ubuntu'
# Nanoseconds a process has run on a CPU (all its threads: the first
# field of /proc/PID/schedstat is the main thread's; imgd's are single).
oncpu() { awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
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
	local st0=0 fe0=0
	if [ -n "$fe" ]; then
		st0=$(oncpu "$daemon")
		fe0=$(oncpu "$fe")
	fi
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
	flt-imgd)
		run_timed "$out" curl -sf --unix-socket "$IMGD_SOCK" "$FLT" ;;
	flt-lxd)
		run_timed "$out" curl -sf --unix-socket "$LXD_SOCK" "$FLT" ;;
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
	add CLC "$row" "$R_CPU"
	if [ -n "$fe" ]; then
		# The daemon's work for this one request (nothing else runs).
		add STC "$row" "$(awk -v a="$st0" -v b="$(oncpu "$daemon")" \
		    'BEGIN {printf "%.2f", (b - a) / 1e6}')"
		add FEC "$row" "$(awk -v a="$fe0" -v b="$(oncpu "$fe")" \
		    'BEGIN {printf "%.2f", (b - a) / 1e6}')"
	fi
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
	curl-* | flt-*)
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
[ "$LXD_N" = "$N" ] || echo "(LXD holds $LXD_N images, imgd $N:" \
    "the imgd/LXD ratios compare different sizes)"
echo "daemon RSS: VmHWM during the row (reset before each run), the most"
echo "of the runs; for imgd, store+frontend. Images listed: table rows with"
echo "a fingerprint, or JSON array entries, or distinct fingerprints (sqlite)."
medof() {
	local -n a=$1
	# shellcheck disable=SC2086
	median ${a[$2]:-0}
}
FLOOR=$(awk -v s="$(med req-imgd)" 'BEGIN {printf "%.1f", s * 1000}')
echo
echo "== where imgd's time goes (ms, median of $REPS; CPU of each process" \
    "during the request)"
printf '%-27s %8s %8s %8s %8s %8s %10s\n' "what" "wall" "-floor" \
    "store" "frontend" "client" "images/s"
for row in curl-imgd flt-imgd imgctl lxc-imgd req-imgd; do
	w=$(awk -v s="$(med "$row")" 'BEGIN {printf "%.1f", s * 1000}')
	above=$(awk -v w="$w" -v f="$FLOOR" 'BEGIN {printf "%.1f", w - f}')
	rate=-
	case "$row" in
	curl-imgd | imgctl | lxc-imgd)
		rate=$(awk -v n="$N" -v a="$above" \
		    'BEGIN {if (a > 0) printf "%.0f", n / a * 1000; else print "-"}')
		;;
	esac
	printf '%-27s %8s %8s %8s %8s %8s %10s\n' "$(label "$row")" "$w" \
	    "$above" "$(medof STC "$row")" "$(medof FEC "$row")" \
	    "$(awk -v c="$(medof CLC "$row")" 'BEGIN {printf "%.1f", c * 1000}')" \
	    "$rate"
done
echo "-floor: the wall time above curl /1.0 -> imgd (client start, connect,"
echo "one tiny request); images/s: N over that. store: query, records and"
echo "their sending; frontend: decoding them and the JSON; client: user +"
echo "system CPU of curl, imgctl or lxc (/usr/bin/time, 10 ms ticks)."
echo "DB floor: $(awk -v s="$(med sqlite)" 'BEGIN {printf "%.1f", s * 1000}')" \
    "ms for sqlite3 to read and print the same rows (a process start"
echo "included). Frontend VmRSS idle $(mib "$FE_IDLE") MiB."
echo
echo "fill ($N x: curl POST /1.0/images; curl wait + POST alias; imgd $PAR" \
    "at a time, LXD in sequence, $LXD_N):"
echo "  imgd $FILL_IMGD s ($(awk -v n="$N" -v s="$FILL_IMGD" \
    'BEGIN {printf "%.0f", n / s}') images/s), LXD $FILL_LXD s" \
    "($(awk -v n="$LXD_N" -v s="$FILL_LXD" 'BEGIN {printf "%.0f", n / s}')" \
    "images/s)"
echo "  imgd images/s in each tenth of the fill: ${RATES[*]};" \
    "last/first $(ratio "${RATES[-1]}" "${RATES[0]}")"
FE=$(imgd_frontend_pid)
echo "VmRSS now: imgd store $(mib "$(awk '/^VmRSS/ {print $2}' \
    "/proc/$IMGD_PID/status")") MiB, frontend $(mib "$(awk '/^VmRSS/ \
    {print $2}' "/proc/$FE/status")") MiB; LXD $(mib "$(awk '/^VmRSS/ \
    {print $2}' "/proc/$LXD_PID/status")") MiB"
echo "imgd state: $(du -sh "$IMGD_STATE" | cut -f1); LXD dir:" \
    "$(du -sh "$LXD_STATE" 2>/dev/null | cut -f1)"
echo "at the end, $(other_load)"
