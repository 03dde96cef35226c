#!/bin/bash
# bench/import.sh: how fast imgd imports a large image, next to a real LXD
# and next to the machine's floors, in one run.
#
#	sudo bench/import.sh [SIZE_MB]		# default 1024; 4096 works too
#	REPS=5 COMPRESS=xz bench/import.sh 512	# optional knobs
#
# It builds a unified image (metadata.yaml + rootfs/ of SIZE_MB MiB of
# data, as a plain .tar by default) and a split pair of the same content
# (metadata tarball + rootfs tarball), starts an imgd and a reference LXD
# 5.0.2 (Debian's lxd, in a network namespace of its own), and times, for
# the unified image and for the split pair:
#
#	cat FILE... >/dev/null			disk read floor (page cache)
#	openssl dgst -sha256 FILE...		hash floor: any import hashes
#	cat FILE... | dd conv=fdatasync		write floor: a durable copy
#						(imgd fdatasyncs; LXD does not)
#	gzip/xz -dc FILE... | sha256sum		decompression floor (COMPRESS)
#	imgctl image import FILE... --alias	our client  -> imgd
#	lxc image import FILE... --alias	LXD's client -> imgd
#	lxc image import FILE... --alias	LXD's client -> LXD
#
# each REPS times (default 3; the image is deleted between runs, and
# `sync` runs before each), and prints the medians: seconds, MiB/s, the
# ratio to the sha256 floor, the ratio imgd/LXD, and the peak RSS of every
# process involved (clients from /usr/bin/time -v; imgd's store and
# frontend and LXD from VmHWM, reset before each run; imgd's unpackers
# from the store's --debug log), then their CPU seconds. The whole
# sequence runs at 10 MiB first and then at SIZE_MB, and a last table
# puts the peak RSS of both sizes side by side: imgd's should be flat.
# Then the goals as ratios: imgctl's wall clock over the floor (the
# slowest of hashing, the durable copy and, compressed, decompressing),
# and the CPU seconds of imgd's processes and imgctl over those of
# openssl's sha256. With perf installed, one more import of each layout
# runs under `perf record` and the busiest functions per process are
# printed (PERF=0 skips it).
#
# COMPRESS=none (default): the rootfs is random bytes, a plain .tar.
# COMPRESS=gzip (gzip -1) or xz (xz -1 -T2): the rootfs is /usr's files
# (real binaries and text, repeated to the size), so that the
# decompression costs what it costs on a real image.
#
# Needs root, `make all` done, and about 4 x SIZE_MB of free disk under
# $BENCH_TMPDIR (default /var/tmp). Everything it starts is stopped by pid
# and its temp files are removed on exit. About 3 minutes at 1024 MiB.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${1:-1024}
REPS=${REPS:-3}
COMPRESS=${COMPRESS:-none}
case "$SIZE_MB" in
'' | *[!0-9]*) die "usage: $0 [SIZE_MB]" ;;
esac
[ "$SIZE_MB" -ge 10 ] || die "SIZE_MB must be at least 10"
case "$COMPRESS" in
none) EXT=tar ;;
gzip) EXT=tar.gz ;;
xz) EXT=tar.xz ;;
*) die "COMPRESS is none, gzip or xz" ;;
esac
PERF=${PERF:-1}
command -v perf >/dev/null 2>&1 || PERF=0

need_deps gzip:gzip xz:xz-utils
mk_tmp
echo "== imgd import benchmark: $SIZE_MB MiB (and 10 MiB), $REPS runs each"
need_disk $((4 * SIZE_MB + 4 * 10 + 500))
machine_info

# ---- the images ----

# make_images MB DIR: DIR/unified.EXT, DIR/meta.EXT + DIR/rootfs.EXT.
make_images() {
	local mb=$1 d=$2
	local t=$d/tree
	mkdir -p "$t/rootfs/etc" "$t/rootfs/bin" "$t/rootfs/data"
	cat >"$t/metadata.yaml" <<-EOF
	architecture: x86_64
	creation_date: 1458040200
	properties:
	  description: imgd import benchmark, $mb MiB
	  os: bench
	  release: "$mb"
	EOF
	echo bench >"$t/rootfs/etc/hostname"
	printf '#!/bin/sh\necho hi\n' >"$t/rootfs/bin/hello"
	ln -s hello "$t/rootfs/bin/hi"
	# The bulk, in files of at most 64 MiB: random bytes, or (to be
	# compressed) /usr's files as one tar stream, repeated.
	fill_blobs "$t/rootfs/data" "$mb" \
	    "$([ "$COMPRESS" = none ] || echo usr_bytes)"
	tar -C "$t" -cf "$d/unified.tar" metadata.yaml rootfs
	tar -C "$t" -cf "$d/meta.tar" metadata.yaml
	tar -C "$t/rootfs" -cf "$d/rootfs.tar" .
	rm -rf "$t"
	case "$COMPRESS" in
	gzip) gzip -1 -n "$d/unified.tar" "$d/meta.tar" "$d/rootfs.tar" ;;
	xz) xz -1 -T2 "$d/unified.tar" "$d/meta.tar" "$d/rootfs.tar" ;;
	esac
}

# usr_bytes SKIP_MB MB: MB MiB of /usr's files as a tar stream, from
# SKIP_MB on (modulo its length), made once.
usr_bytes() {
	local usr=$B_TMP/usr.tar
	if [ ! -s "$usr" ]; then
		tar -C /usr -cf - lib share bin 2>/dev/null |
		    head -c $((1024 * 1048576)) >"$usr"
	fi
	local total=$(($(stat -c %s "$usr") / 1048576))
	[ "$total" -ge 64 ] || die "/usr holds less than 64 MiB"
	local skip=$(($1 % total)) _
	{
		tail -c +$((skip * 1048576 + 1)) "$usr"
		for _ in $(seq 0 $(($2 / total))); do cat "$usr"; done
	} 2>/dev/null | head -c "${2}M"
	return 0
}

# ---- one measured run ----
#
# run_row ROW LAYOUT: one run of ROW (cat sha imgctl lxc-imgd lxc-lxd) on
# LAYOUT (unified split) of the current size. Appends to the arrays below.
declare -A SEC CKB CCPU SKB FKB UKB LKB SCPU FCPU UCPU LCPU PUP PPOST
declare -A PEAK_STORE PEAK_FE PEAK_UNP PEAK_LXD

add() { # add ARRAY KEY VALUE: space-separated list per key
	local -n a=$1
	a[$2]="${a[$2]:-} $3"
}

run_row() {
	local row=$1 layout=$2 key="$SIZE/$2/$1"
	local files fp out=$B_TMP/out.txt fe sc0 fc0 lc0 logn
	if [ "$layout" = unified ]; then
		files=("$IMG/unified.$EXT")
		fp=$FP_UNIFIED
	else
		files=("$IMG/meta.$EXT" "$IMG/rootfs.$EXT")
		fp=$FP_SPLIT
	fi
	sync
	fe=$(imgd_frontend_pid)
	reset_hwm "$IMGD_PID" "$fe" "$LXD_PID"
	sc0=$(cpu_of "$IMGD_PID")
	fc0=$(cpu_of "$fe")
	lc0=$(cpu_tree "$LXD_PID")
	logn=$(wc -l <"$IMGD_LOG")
	case "$row" in
	cat)
		run_timed /dev/null cat "${files[@]}" ;;
	sha)
		run_timed "$out" openssl dgst -sha256 "${files[@]}" ;;
	write)
		run_timed "$out" sh -c 'cat "$@" | dd of="$0" bs=1M \
		    conv=fdatasync status=none' "$B_TMP/copy" "${files[@]}" ;;
	unz)
		run_timed "$out" sh -c '"$0" -dc "$@" | sha256sum' \
		    "$COMPRESS" "${files[@]}" ;;
	imgctl)
		run_timed "$out" env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" \
		    image import "${files[@]}" --alias bench ;;
	lxc-imgd)
		run_timed "$out" env LXD_DIR="$IMGD_STATE" lxc image import \
		    "${files[@]}" --alias bench ;;
	lxc-lxd)
		run_timed "$out" env LXD_DIR="$LXD_STATE" lxc image import \
		    "${files[@]}" --alias bench ;;
	esac || { cat "$out" >&2; die "$row $layout failed"; }
	add SEC "$key" "$R_SEC"
	add CKB "$key" "$R_KB"
	add CCPU "$key" "$R_CPU"
	case "$row" in
	cat | sha | write | unz)
		rm -f "$B_TMP/copy"
		[ "$row/$layout" != sha/unified ] || grep -q "$fp" "$out" ||
		    die "openssl printed $(cat "$out"), expected $fp"
		return ;;
	esac
	grep -q "fingerprint: $fp" "$out" ||
	    die "$row $layout printed: $(cat "$out")"
	if [ "$row" = lxc-lxd ]; then
		local k
		k=$(hwm "$LXD_PID")
		add LKB "$key" "$k"
		add LCPU "$key" "$(awk -v a="$lc0" -v b="$(cpu_tree "$LXD_PID")" \
		    'BEGIN {printf "%.3f", b - a}')"
		PEAK_LXD[$SIZE]=$(max_of "${PEAK_LXD[$SIZE]:-0}" "$k")
		delete_image "$LXD_SOCK" "$fp"
		return
	fi
	# imgd: the store and the frontend from /proc, the unpacker from the
	# log line the store writes when it reaps it (just after the reply).
	local s f u="" uc="" _ lines
	s=$(hwm "$IMGD_PID")
	f=$(hwm "$fe")
	add SKB "$key" "$s"
	add FKB "$key" "$f"
	add SCPU "$key" "$(awk -v a="$sc0" -v b="$(cpu_of "$IMGD_PID")" \
	    'BEGIN {printf "%.3f", b - a}')"
	add FCPU "$key" "$(awk -v a="$fc0" -v b="$(cpu_of "$fe")" \
	    'BEGIN {printf "%.3f", b - a}')"
	for _ in $(seq 1 50); do
		lines=$(tail -n +"$((logn + 1))" "$IMGD_LOG" |
		    grep 'unpacker (pid [0-9]*) exited')
		[ -n "$lines" ] && break
		sleep 0.1
	done
	u=$(sed -n 's/.*max RSS \([0-9]*\) kB.*/\1/p' <<<"$lines" | sort -g |
	    tail -1)
	uc=$(sed -n 's/.*cpu \([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2/p' \
	    <<<"$lines" | awk '{s += $1 + $2} END {printf "%.3f", s}')
	add UKB "$key" "${u:--}"
	add UCPU "$key" "${uc:--}"
	# Phases from the log's timestamps (ms): the operation starts when
	# the body has arrived; "imported" is logged at the commit.
	local all t_up t_done
	all=$(tail -n +"$((logn + 1))" "$IMGD_LOG")
	t_up=$(grep -m1 'debug: operation .* started' <<<"$all" | cut -d' ' -f1)
	t_done=$(grep -m1 'info: imported image' <<<"$all" | cut -d' ' -f1)
	if [ -n "$t_up" ] && [ -n "$t_done" ]; then
		t_up=$(date -d "$t_up" +%s%N)
		t_done=$(date -d "$t_done" +%s%N)
		add PUP "$key" "$(awk -v a="$R_T0" -v b="$t_up" \
		    'BEGIN {printf "%.3f", (b - a) / 1e9}')"
		add PPOST "$key" "$(awk -v a="$t_up" -v b="$t_done" \
		    'BEGIN {printf "%.3f", (b - a) / 1e9}')"
	fi
	PEAK_STORE[$SIZE]=$(max_of "${PEAK_STORE[$SIZE]:-0}" "$s")
	PEAK_FE[$SIZE]=$(max_of "${PEAK_FE[$SIZE]:-0}" "$f")
	PEAK_UNP[$SIZE]=$(max_of "${PEAK_UNP[$SIZE]:-0}" "${u:-0}")
	delete_image "$IMGD_SOCK" "$fp"
}

ROWS="cat sha write imgctl lxc-imgd lxc-lxd"
[ "$COMPRESS" = none ] || ROWS="cat sha write unz imgctl lxc-imgd lxc-lxd"
label() {
	case "$1" in
	cat) echo "cat >/dev/null (read floor)" ;;
	sha) echo "openssl sha256 (hash floor)" ;;
	write) echo "copy + fdatasync (write)" ;;
	unz) echo "$COMPRESS -dc | sha256sum" ;;
	imgctl) echo "imgctl import -> imgd" ;;
	lxc-imgd) echo "lxc import    -> imgd" ;;
	lxc-lxd) echo "lxc import    -> LXD" ;;
	esac
}

# med ARRAY KEY / most ARRAY KEY: median / max of the runs, "-" if none.
med() {
	local -n a=$1
	local v=${a[$2]:-}
	[ -n "${v// /}" ] || { echo -; return; }
	# shellcheck disable=SC2086
	median $v
}
most() {
	local -n a=$1
	local v=${a[$2]:-}
	[ -n "${v// /}" ] || { echo -; return; }
	# shellcheck disable=SC2086
	max_of $v
}

print_tables() {
	local layout bytes row k s sha lxd
	for layout in unified split; do
		if [ "$layout" = unified ]; then
			bytes=$(stat -c %s "$IMG/unified.$EXT")
			echo
			echo "== unified image, $SIZE MiB of data: unified.$EXT," \
			    "$bytes bytes; median of $REPS runs"
		else
			bytes=$(($(stat -c %s "$IMG/meta.$EXT") + \
			    $(stat -c %s "$IMG/rootfs.$EXT")))
			echo
			echo "== split image, $SIZE MiB of data: meta.$EXT +" \
			    "rootfs.$EXT, $bytes bytes; median of $REPS runs"
		fi
		sha=$(med SEC "$SIZE/$layout/sha")
		lxd=$(med SEC "$SIZE/$layout/lxc-lxd")
		printf '%-29s %8s %8s %8s %8s | %s\n' "" "" "" "time /" \
		    "time /" "peak RSS, MiB (max of runs)"
		printf '%-29s %8s %8s %8s %8s | %7s %6s %6s %6s %6s\n' \
		    "what" "seconds" "MiB/s" "sha256" "LXD's" "client" \
		    "store" "front" "unpack" "LXD"
		for row in $ROWS; do
			k="$SIZE/$layout/$row"
			s=$(med SEC "$k")
			case "$row" in
			imgctl | lxc-imgd) r=$(ratio "$s" "$lxd") ;;
			lxc-lxd) r="(ref)" ;;
			*) r="-" ;;
			esac
			printf '%-29s %8s %8s %8s %8s | %7s %6s %6s %6s %6s\n' \
			    "$(label "$row")" "$s" \
			    "$(awk -v b="$bytes" -v s="$s" \
			    'BEGIN {printf "%.0f", b / 1048576 / s}')" \
			    "$(ratio "$s" "$sha")" "$r" \
			    "$(mib "$(most CKB "$k")")" "$(mib "$(most SKB "$k")")" \
			    "$(mib "$(most FKB "$k")")" "$(mib "$(most UKB "$k")")" \
			    "$(mib "$(most LKB "$k")")"
		done
		echo "CPU seconds per run (median), next to the wall clock:"
		printf '%-29s %8s | %7s %6s %6s %6s %6s %6s\n' "what" "wall" \
		    "client" "store" "front" "unpack" "LXD" "sum"
		for row in imgctl lxc-imgd lxc-lxd; do
			k="$SIZE/$layout/$row"
			local c sc fc uc lc
			c=$(med CCPU "$k")
			sc=$(med SCPU "$k")
			fc=$(med FCPU "$k")
			uc=$(med UCPU "$k")
			lc=$(med LCPU "$k")
			printf '%-29s %8s | %7s %6s %6s %6s %6s %6s\n' \
			    "$(label "$row")" "$(med SEC "$k")" "$c" "$sc" \
			    "$fc" "$uc" "$lc" "$(awk -v a="$c" -v b="$sc" \
			    -v c="$fc" -v d="$uc" -v e="$lc" \
			    'BEGIN {printf "%.2f", a + b + c + d + e}')"
		done
		for row in imgctl lxc-imgd; do
			k="$SIZE/$layout/$row"
			echo "imgd phases, $(label "$row"): body received after" \
			    "$(med PUP "$k") s, then validation + fdatasync +" \
			    "commit $(med PPOST "$k") s (median, from the log)"
		done
		goals "$layout"
	done
}

# goals LAYOUT: the issue's two ratios for imgctl -> imgd.
goals() {
	local k="$SIZE/$1" floor what="sha256, durable copy" goal=1.05
	floor=$(max_of "$(med SEC "$k/sha")" "$(med SEC "$k/write")")
	if [ "$COMPRESS" != none ]; then
		floor=$(max_of "$floor" "$(med SEC "$k/unz")")
		what="$what, $COMPRESS -dc | sha256sum"
		goal=1.1
	fi
	local cpu sha_cpu
	cpu=$(awk -v a="$(med CCPU "$k/imgctl")" -v b="$(med SCPU "$k/imgctl")" \
	    -v c="$(med FCPU "$k/imgctl")" -v d="$(med UCPU "$k/imgctl")" \
	    'BEGIN {printf "%.2f", a + b + c + d}')
	sha_cpu=$(med CCPU "$k/sha")
	echo "goal, wall: imgctl $(med SEC "$k/imgctl") s / floor $floor s" \
	    "(the slowest of $what) = $(ratio "$(med SEC "$k/imgctl")" \
	    "$floor") (goal <= $goal)"
	echo "goal, CPU: imgd + imgctl $cpu s / openssl sha256 $sha_cpu s =" \
	    "$(ratio "$cpu" "$sha_cpu") (goal <= 1.5, uncompressed)"
	# A split image's bytes are hashed twice: the image's sha256 (its
	# fingerprint) and their own file's, which it also reports.
	if [ "$1" = split ]; then
		local sha2
		sha2=$(awk -v a="$sha_cpu" 'BEGIN {printf "%.2f", 2 * a}')
		echo "  split's own floor, two sha256 per byte: $cpu s / $sha2 s =" \
		    "$(ratio "$cpu" "$sha2")"
	fi
}

# profile LAYOUT: one more import under perf record (store, frontend and
# the unpacker the store forks), then the busiest functions of each.
profile() {
	local layout=$1 files data=$B_TMP/perf.data rec fe
	if [ "$layout" = unified ]; then
		files=("$IMG/unified.$EXT")
	else
		files=("$IMG/meta.$EXT" "$IMG/rootfs.$EXT")
	fi
	cat "${files[@]}" >/dev/null
	sync
	fe=$(imgd_frontend_pid)
	perf record -q -o "$data" -p "$IMGD_PID,$fe" 2>/dev/null &
	rec=$!
	sleep 0.5
	env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image import "${files[@]}" \
	    --alias bench >/dev/null || die "imgctl under perf failed"
	kill -INT "$rec"
	wait "$rec" 2>/dev/null
	echo
	echo "== where the cycles go, $layout, imgctl -> imgd (perf record:" \
	    "share of all samples per process and library, then functions" \
	    "above 2%)"
	perf report -i "$data" --no-children --sort comm,dso \
	    --percent-limit 1 2>/dev/null | grep -E '^ +[0-9]' | head -8
	perf report -i "$data" --no-children --sort comm,sym \
	    --percent-limit 2 2>/dev/null | grep -E '^ +[0-9]' | head -12
	rm -f "$data"
	delete_image "$IMGD_SOCK" "$([ "$layout" = unified ] &&
	    echo "$FP_UNIFIED" || echo "$FP_SPLIT")"
}

# bench_size MB: make the images, run every row REPS times, print.
bench_size() {
	SIZE=$1
	IMG=$B_TMP/img-$SIZE
	mkdir -p "$IMG"
	local t0=$SECONDS rep layout row
	echo
	echo "-- building the $SIZE MiB images ($COMPRESS) in $IMG"
	make_images "$SIZE" "$IMG"
	FP_UNIFIED=$(sha256sum <"$IMG/unified.$EXT" | cut -d' ' -f1)
	FP_SPLIT=$(cat "$IMG/meta.$EXT" "$IMG/rootfs.$EXT" | sha256sum |
	    cut -d' ' -f1)
	sync
	echo "-- built in $((SECONDS - t0)) s; running $REPS x 2 x" \
	    "$(wc -w <<<"$ROWS") rows"
	t0=$SECONDS
	for rep in $(seq 1 "$REPS"); do
		for layout in unified split; do
			for row in $ROWS; do
				run_row "$row" "$layout"
			done
		done
		echo "-- run $rep of $REPS done ($((SECONDS - t0)) s)"
	done
	print_tables
	if [ "$PERF" = 1 ] && [ "$SIZE" -ne 10 ]; then
		profile unified
		profile split
	fi
	rm -rf "$IMG"
}

echo "== what runs"
echo "imgd:  $BIN/imgd --state $B_TMP/imgd --debug"
echo "LXD:   LXD_DIR=$B_TMP/lxd unshare --net lxd --group root"
echo "rows:  cat FILES >/dev/null; openssl dgst -sha256 FILES;"
echo "       cat FILES | dd of=<temp> bs=1M conv=fdatasync;"
echo "       IMGD_DIR=... imgctl image import FILES --alias bench;"
echo "       LXD_DIR=<imgd state> lxc image import FILES --alias bench;"
echo "       LXD_DIR=<LXD dir> lxc image import FILES --alias bench"
echo "       (FILES: unified.$EXT, or meta.$EXT rootfs.$EXT);"
echo "       sync before each run; the image deleted (API) after each"
imgd_start
lxd_start
FE=$(imgd_frontend_pid)
echo "idle after start: imgd store $(mib "$(hwm "$IMGD_PID")") MiB," \
    "frontend $(mib "$(hwm "$FE")") MiB; LXD $(mib "$(hwm "$LXD_PID")") MiB" \
    "(VmHWM)"

bench_size 10
[ "$SIZE_MB" -ne 10 ] && bench_size "$SIZE_MB"

echo
echo "== peak RSS, 10 MiB vs $SIZE_MB MiB (MiB; max over unified and split)"
printf '%-34s %9s %9s\n' "process" "10 MiB" "$SIZE_MB MiB"
peak_row() {
	printf '%-34s %9s %9s\n' "$1" "$(mib "$2")" "$(mib "$3")"
}
client_peak() { # client_peak SIZE ROW
	max_of "$(most CKB "$1/unified/$2")" "$(most CKB "$1/split/$2")"
}
peak_row "imgd store" "${PEAK_STORE[10]}" "${PEAK_STORE[$SIZE_MB]}"
peak_row "imgd-frontend" "${PEAK_FE[10]}" "${PEAK_FE[$SIZE_MB]}"
peak_row "imgd-unpacker" "${PEAK_UNP[10]}" "${PEAK_UNP[$SIZE_MB]}"
peak_row "imgctl (client -> imgd)" "$(client_peak 10 imgctl)" \
    "$(client_peak "$SIZE_MB" imgctl)"
peak_row "lxc (client -> imgd)" "$(client_peak 10 lxc-imgd)" \
    "$(client_peak "$SIZE_MB" lxc-imgd)"
peak_row "LXD daemon (reference)" "${PEAK_LXD[10]}" "${PEAK_LXD[$SIZE_MB]}"
peak_row "lxc (client -> LXD)" "$(client_peak 10 lxc-lxd)" \
    "$(client_peak "$SIZE_MB" lxc-lxd)"
FE=$(imgd_frontend_pid)
echo "after the runs (VmRSS now): imgd store" \
    "$(mib "$(awk '/^VmRSS/ {print $2}' "/proc/$IMGD_PID/status")") MiB," \
    "frontend $(mib "$(awk '/^VmRSS/ {print $2}' "/proc/$FE/status")") MiB;" \
    "LXD $(mib "$(awk '/^VmRSS/ {print $2}' "/proc/$LXD_PID/status")") MiB"
echo "notes: cat and openssl read the page cache (the files fit in RAM);"
echo "imgd fdatasyncs each image before its commit (like the write floor),"
echo "LXD 5.0.2 does not sync (its copy may still be in the page cache)."
echo "at the end, $(other_load)"
