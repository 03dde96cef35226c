#!/bin/bash
# bench/fetch.sh: how fast imgd copies images from remote servers, next to
# a real LXD copying the same images from the same servers, and next to
# curl downloading the same bytes, in one run.
#
#	sudo bench/fetch.sh [SIZE_MB]		# default 1024
#	REPS=5 SS_MB=256 CONC=8 bench/fetch.sh 512	# optional knobs
#
# Two sources, both on 127.0.0.1 in the host's network namespace:
#
#   LXD protocol: a reference LXD 5.0.2 (Debian's lxd) with
#   core.https_address on a loopback port, holding a public split image
#   (metadata tarball + an uncompressed squashfs rootfs of SIZE_MB MiB of
#   random bytes) under the alias "big".
#
#   simplestreams: nginx (Debian's) serving, over HTTPS with a test CA, a
#   static tree in the shape of the public image servers, made by
#   tests/integration/mkstreams.py, holding a split squashfs image of
#   SS_MB MiB (default SIZE_MB / 2) under the alias "big".
#
# For each source it times, REPS times (default 3), interleaved:
#
#	curl -o FILE				the floor: the bytes to disk
#	curl | dd conv=fdatasync		the same, made durable (imgd
#						fdatasyncs; LXD 5.0.2 does not)
#	POST /1.0/images -> imgd		curl on imgd's socket, then a wait
#						on the operation
#	lxc image copy REMOTE:big local: -> imgd	LXD's client, our daemon
#	lxc image copy REMOTE:big local: -> LXD	the reference: a second LXD
#
# and then, once, CONC (default 16) copies of the simplestreams image at
# once into imgd (CONC parallel POST /1.0/images) and into the second LXD
# (CONC parallel lxc image copy), counting in nginx's access log how many
# times the rootfs was downloaded.
#
# Every copy must succeed and give the source's fingerprint; a copy that
# fails, or that makes no progress for STALL seconds (default 30; the
# bytes read and written by the daemon's processes stop growing), is
# reported on stderr and as FAILED in the tables, imgd is restarted, that
# row is not run again, and the script exits with status 1 at the end.
# There are no thresholds on speed.
#
# Peak RSS: imgd's store and frontend, both LXDs and nginx from VmHWM
# (reset with clear_refs before each run); imgd's per-copy fetcher and
# unpacker from the lines the store logs (--debug) when it reaps them
# (getrusage's max RSS), the fetcher's VmHWM also polled while it runs;
# clients from /usr/bin/time -v.
#
# Needs root, `make all` done (IMGD_BUILD=DIR for another build directory)
# and about 4 x SIZE_MB + 4 x SS_MB MiB free under $BENCH_TMPDIR (default
# /var/tmp). Everything it starts is stopped by pid and its temp files
# are removed on exit. About 5 minutes at 1024 MiB.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${1:-1024}
case "$SIZE_MB" in
'' | *[!0-9]*) die "usage: $0 [SIZE_MB]" ;;
esac
SS_MB=${SS_MB:-$((SIZE_MB / 2))}
REPS=${REPS:-3}
CONC=${CONC:-16}
STALL=${STALL:-30}
for v in SS_MB REPS CONC STALL; do
	case "${!v}" in
	'' | *[!0-9]*) die "$v must be a number" ;;
	esac
done
[ "$SIZE_MB" -ge 4 ] || die "SIZE_MB must be at least 4"
[ "$SS_MB" -ge 2 ] || die "SS_MB must be at least 2"
if [ "$REPS" -lt 1 ] || [ "$CONC" -lt 1 ] || [ "$STALL" -lt 5 ]; then
	die "REPS and CONC must be at least 1, STALL at least 5"
fi

need_deps mksquashfs:squashfs-tools nginx:nginx python3:python3 xz:xz-utils
[ -r "$ROOT/tests/integration/mkstreams.py" ] ||
    die "$ROOT/tests/integration/mkstreams.py is missing"

# Background helpers of this script (the watchdog, a copy it gave up on),
# stopped by pid before the servers and imgd.
WD_PID=""
bg_stop() {
	local rc=$?
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	return $rc
}
trap 'bg_stop; extra_stop; cleanup' EXIT

mk_tmp
T0_ALL=$SECONDS
echo "== imgd fetch benchmark: LXD protocol $SIZE_MB MiB, simplestreams" \
    "$SS_MB MiB, $REPS runs per row, $CONC concurrent copies"
need_disk $((4 * SIZE_MB + 4 * SS_MB + 600))
machine_info
echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
echo "mksquashfs: $(mksquashfs -version 2>&1 | head -1)"

case "$(uname -m)" in
x86_64) ARCH=x86_64 SARCH=amd64 ;;
aarch64) ARCH=aarch64 SARCH=arm64 ;;
*) die "unknown architecture $(uname -m)" ;;
esac

# ---- the servers ----

CA=$B_TMP/ca
bench_ca "$CA"
SRC_PORT=$(free_port)
SRC_URL=https://127.0.0.1:$SRC_PORT
cat >"$B_TMP/imgd.yaml" <<EOF
fetch_allow_private: 127.0.0.1
fetch_ca_file: $CA/ca.crt
EOF
export IMGD_ARGS="--config $B_TMP/imgd.yaml"

echo "== what runs"
echo "imgd:   $BIN/imgd --state $B_TMP/imgd --debug $IMGD_ARGS"
echo "        (fetch_allow_private: 127.0.0.1, fetch_ca_file: the test CA)"
echo "source: LXD_DIR=$B_TMP/src lxd --group root, core.https_address" \
    "127.0.0.1:$SRC_PORT"
echo "target: SSL_CERT_FILE=<test CA> LXD_DIR=$B_TMP/dst lxd --group root"
echo "nginx:  nginx -c $B_TMP/nginx/nginx.conf (HTTPS, static files, test CA)"
echo "rows:   curl -o FILE; curl | dd bs=1M conv=fdatasync;"
echo "        POST /1.0/images {source: {type: image, protocol, server," \
    "alias: big[, certificate]}} + GET <op>/wait;"
echo "        LXD_DIR=<imgd state> lxc image copy REMOTE:big local:;"
echo "        LXD_DIR=<target LXD> lxc image copy REMOTE:big local:"
echo "        (REMOTE: src, or ss = --protocol simplestreams); sync before"
echo "        each run; the copy deleted (API) after each"

imgd_start
lxd_host_start src
SRC_PID=${HLXD_PID[src]}
LXD_DIR=$B_TMP/src lxc config set core.https_address "127.0.0.1:$SRC_PORT" ||
    die "could not set core.https_address"
lxd_host_start dst SSL_CERT_FILE="$CA/ca.crt"
DST_PID=${HLXD_PID[dst]}
DST_DIR=$B_TMP/dst
DST_SOCK=$DST_DIR/unix.socket

# ---- the images ----

# make_split MB DIR: DIR/meta.tar.xz (metadata.yaml) and DIR/rootfs.squashfs
# (MB MiB of random bytes in files of at most 64 MiB, uncompressed
# squashfs: random bytes do not compress).
make_split() {
	local mb=$1 d=$2 t=$2/tree
	mkdir -p "$t/rootfs/etc" "$t/rootfs/bin" "$t/rootfs/data"
	cat >"$t/metadata.yaml" <<-EOF
	architecture: $ARCH
	creation_date: 1458040200
	properties:
	  description: imgd fetch benchmark, $mb MiB
	  os: bench
	  release: "$mb"
	EOF
	echo bench >"$t/rootfs/etc/hostname"
	printf '#!/bin/sh\necho hi\n' >"$t/rootfs/bin/hello"
	ln -s hello "$t/rootfs/bin/hi"
	fill_blobs "$t/rootfs/data" "$mb"
	tar -C "$t" -cJf "$d/meta.tar.xz" metadata.yaml
	mksquashfs "$t/rootfs" "$d/rootfs.squashfs" -noappend -quiet \
	    -no-progress -noI -noD -noF -noX -all-root >/dev/null ||
	    die "mksquashfs failed"
	rm -rf "$t"
}

fsize() { stat -c %s "$1"; }

echo
t0=$SECONDS
echo "-- building the $SIZE_MB MiB image for the LXD source"
mkdir -p "$B_TMP/img"
make_split "$SIZE_MB" "$B_TMP/img"
FP_LXD=$(cat "$B_TMP/img/meta.tar.xz" "$B_TMP/img/rootfs.squashfs" |
    sha256sum | cut -d' ' -f1)
LXD_BYTES=$(($(fsize "$B_TMP/img/meta.tar.xz") + \
    $(fsize "$B_TMP/img/rootfs.squashfs")))
t1=$SECONDS
out=$(LXD_DIR=$B_TMP/src lxc image import "$B_TMP/img/meta.tar.xz" \
    "$B_TMP/img/rootfs.squashfs" --public --alias big 2>&1)
grep -q "fingerprint: $FP_LXD" <<<"$out" ||
    die "the source LXD's import printed: $out"
rm -rf "$B_TMP/img"
echo "-- built in $((t1 - t0)) s, imported into the source LXD in" \
    "$((SECONDS - t1)) s: $FP_LXD, $LXD_BYTES bytes"

t0=$SECONDS
echo "-- building the $SS_MB MiB image and the simplestreams tree"
mkdir -p "$B_TMP/ssimg"
make_split "$SS_MB" "$B_TMP/ssimg"
cat >"$B_TMP/spec.json" <<EOF
[{"os": "Bench", "release": "1", "arch": "$SARCH", "variant": "default",
  "aliases": "big",
  "versions": {"20261204_00:00": {"meta": "$B_TMP/ssimg/meta.tar.xz",
                                  "squashfs": "$B_TMP/ssimg/rootfs.squashfs"}}}]
EOF
python3 "$ROOT/tests/integration/mkstreams.py" "$B_TMP/tree" \
    "$B_TMP/spec.json" || die "mkstreams.py failed"
rm -rf "$B_TMP/ssimg"
SS_REL=images/bench/1/$SARCH/default/20261204_00:00
SS_META=$B_TMP/tree/$SS_REL/lxd.tar.xz
SS_ROOT=$B_TMP/tree/$SS_REL/rootfs.squashfs
FP_SS=$(cat "$SS_META" "$SS_ROOT" | sha256sum | cut -d' ' -f1)
SS_BYTES=$(($(fsize "$SS_META") + $(fsize "$SS_ROOT")))
[ "$(jq -r '.. | .combined_squashfs_sha256? // empty' \
    "$B_TMP/tree/streams/v1/images.json")" = "$FP_SS" ] ||
    die "images.json does not list $FP_SS"
chmod -R a+rX "$B_TMP/tree"
chmod 755 "$B_TMP"
nginx_static "$B_TMP/tree" "$CA"
echo "-- built in $((SECONDS - t0)) s: $FP_SS, $SS_BYTES bytes, served at" \
    "$NURL/"

# ---- the remotes and requests ----

lxc remote add src "$SRC_URL" --accept-certificate --public >/dev/null 2>&1 ||
    die "lxc remote add src $SRC_URL failed"
SSL_CERT_FILE=$CA/ca.crt lxc remote add ss "$NURL" \
    --protocol simplestreams >/dev/null 2>&1 ||
    die "lxc remote add ss $NURL failed"
CERT=$(jq -Rs . <"$B_TMP/src/server.crt")
REQ_LXD="{\"source\": {\"type\": \"image\", \"protocol\": \"lxd\", \"server\": \"$SRC_URL\", \"alias\": \"big\", \"certificate\": $CERT}}"
REQ_SS="{\"source\": {\"type\": \"image\", \"protocol\": \"simplestreams\", \"server\": \"$NURL\", \"alias\": \"big\"}}"

# copy.sh SOCK JSON: POST /1.0/images, wait for its operation, print it.
cat >"$B_TMP/copy.sh" <<'EOF'
#!/bin/bash
r=$(curl -s --unix-socket "$1" -X POST -H 'Content-Type: application/json' \
    -d "$2" http://imgd/1.0/images) || exit 1
op=$(jq -r '.operation // empty' <<<"$r")
[ -n "$op" ] || { echo "$r"; exit 1; }
while :; do
	r=$(curl -s --unix-socket "$1" "http://imgd$op/wait?timeout=600") ||
	    exit 1
	[ "$(jq -r .metadata.status <<<"$r")" = Running ] || break
done
echo "$r"
EOF
# par.sh N DIR CMD...: CMD N times at once, outputs in DIR/1.out ...
cat >"$B_TMP/par.sh" <<'EOF'
#!/bin/bash
n=$1 d=$2
shift 2
mkdir -p "$d"
rm -f "$d"/*.out
pids=()
for i in $(seq 1 "$n"); do
	"$@" >"$d/$i.out" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
exit $rc
EOF
chmod 755 "$B_TMP/copy.sh" "$B_TMP/par.sh"

# ---- one watched, timed command ----

# progress WATCH CMD_PID: sets IO to a count that grows while the work
# goes on. WATCH "imgd": the bytes read and written by imgd's fetchers and
# unpackers plus what its store has sent to storage (write_bytes): not
# the store's or the frontend's other traffic, which a client's polling
# would feed. WATCH a pid: the bytes read and written by it and its
# descendants. WATCH "": the same for CMD_PID (a curl).
progress() {
	local watch=$1 p k v name
	case "$watch" in
	imgd)
		IO=0
		tree_pids "$IMGD_PID"
		for p in "${TREE[@]}"; do
			read -r name 2>/dev/null <"/proc/$p/comm" || continue
			case "$name" in
			imgd-fetcher | imgd-unpacker) ;;
			imgd)
				while read -r k v; do
					[ "$k" = write_bytes: ] && IO=$((IO + v))
				done 2>/dev/null <"/proc/$p/io"
				continue ;;
			*) continue ;;
			esac
			while read -r k v; do
				case "$k" in
				rchar: | wchar:) IO=$((IO + v)) ;;
				esac
			done 2>/dev/null <"/proc/$p/io"
		done ;;
	'') io_tree "$2" ;;
	*) io_tree "$watch" ;;
	esac
}

# watchdog CMD_PID WATCH: every 0.5 s, progress WATCH; when it stops
# growing for STALL seconds, or after HARD seconds, it says why in
# $B_TMP/stalled and kills CMD_PID's processes. Also the highest VmHWM of
# any imgd-fetcher seen, in $B_TMP/wd.fetch. No process is started but
# sleep (times are $EPOCHREALTIME in microseconds).
watchdog() {
	local cmd=$1 watch=$2 last=-1 now since start p k v fmax=0 name
	since=${EPOCHREALTIME/./}
	start=$since
	while kill -0 "$cmd" 2>/dev/null; do
		sleep 0.5
		now=${EPOCHREALTIME/./}
		progress "$watch" "$cmd"
		tree_pids "$IMGD_PID"
		for p in "${TREE[@]}"; do
			read -r name 2>/dev/null <"/proc/$p/comm" || continue
			[ "$name" = imgd-fetcher ] || continue
			while read -r k v _; do
				[ "$k" = VmHWM: ] && [ "$v" -gt "$fmax" ] && fmax=$v
			done 2>/dev/null <"/proc/$p/status"
			echo "$fmax" >"$B_TMP/wd.fetch"
		done
		if [ "$IO" != "$last" ]; then
			last=$IO
			since=$now
		elif [ $((now - since)) -gt $((STALL * 1000000)) ]; then
			echo "no progress for $STALL s" >"$B_TMP/stalled"
		fi
		[ $((now - start)) -gt $((HARD * 1000000)) ] &&
		    echo "not done after $HARD s" >"$B_TMP/stalled"
		if [ -s "$B_TMP/stalled" ]; then
			# Where imgd's processes were, for the report.
			tree_pids "$IMGD_PID"
			for p in "${TREE[@]}"; do
				printf '  pid %s %s: in %s\n' "$p" \
				    "$(cat "/proc/$p/comm" 2>/dev/null)" \
				    "$(cat "/proc/$p/wchan" 2>/dev/null)"
			done >"$B_TMP/stalled.ps"
			tree_pids "$cmd"
			for p in "${TREE[@]}"; do
				kill -TERM "$p" 2>/dev/null
			done
			return 0
		fi
	done
}

# run_watched OUT WATCH CMD...: CMD under /usr/bin/time -v, stdout and
# stderr to OUT, with the watchdog on WATCH (see progress). Sets R_SEC,
# R_KB, R_CPU, R_T0 (ns since the epoch), R_STALL (why it was stopped, or
# empty); returns CMD's status (124 when the watchdog stopped it).
run_watched() {
	local out=$1 watch=$2 t0 t1 rc=0 pid
	shift 2
	rm -f "$B_TMP/stalled" "$B_TMP/stalled.ps" "$B_TMP/wd.fetch"
	t0=$(date +%s%N)
	R_T0=$t0
	/usr/bin/time -v -o "$B_TMP/time.txt" "$@" >"$out" 2>&1 &
	pid=$!
	watchdog "$pid" "$watch" &
	WD_PID=$!
	wait "$pid" || rc=$?
	t1=$(date +%s%N)
	kill "$WD_PID" 2>/dev/null
	wait "$WD_PID" 2>/dev/null
	WD_PID=""
	R_STALL=$(cat "$B_TMP/stalled" 2>/dev/null)
	R_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
	R_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' \
	    "$B_TMP/time.txt" 2>/dev/null)
	R_CPU=$(awk -F': ' '/User time|System time/ {s += $2}
	    END {printf "%.3f", s}' "$B_TMP/time.txt" 2>/dev/null)
	[ -z "$R_STALL" ] || return 124
	return $rc
}

# ---- the rows ----

declare -A SEC CKB SKB FKB XKB UKB DKB OKB CCPU SCPU FCPU XCPU UCPU DCPU OCPU
declare -A PDL PPOST XPOLL FAILED
NFAIL=0

add() { # add ARRAY KEY VALUE: space-separated list per key
	local -n a=$1
	a[$2]="${a[$2]:-} $3"
}

# fail_row KEY WHY: said loudly now, shown in the tables, exit status 1.
fail_row() {
	FAILED[$1]=$2
	NFAIL=$((NFAIL + 1))
	{
		echo "bench: FAILED: $(label "${1#*/}") ($1): $2"
		if [ -n "$R_STALL" ] && [ -s "$B_TMP/stalled.ps" ]; then
			echo "  imgd's processes when it was stopped:"
			cat "$B_TMP/stalled.ps"
			grep -q 'imgd-fetcher: in .*pipe_write' \
			    "$B_TMP/stalled.ps" &&
			    grep -q ' imgd: in do_epoll_wait' "$B_TMP/stalled.ps" &&
			    echo "  (a fetcher is blocked writing into its pipe" \
				"to the store, and the store is idle in" \
				"epoll_wait: it is not reading that pipe)"
		fi
		[ -s "$B_TMP/out.txt" ] && tr '\r' '\n' <"$B_TMP/out.txt" |
		    grep -v '^ *$' | tail -3 | sed 's/^/  output: /'
	} >&2
}

# imgd_restart: after a copy that would not end (its operation cannot be
# cancelled): a fresh start on the same state.
imgd_restart() {
	echo "bench: restarting imgd" >&2
	tail -n +"$((LOGN + 1))" "$IMGD_LOG" | tail -4 | cut -c1-200 |
	    sed 's/^/  log: /' >&2
	imgd_stop
	imgd_start
}

label() {
	case "$1" in
	curl) echo "curl -o FILE (floor)" ;;
	curlsync) echo "curl | dd fdatasync" ;;
	api) echo "POST /1.0/images -> imgd" ;;
	lxc-imgd) echo "lxc image copy -> imgd" ;;
	lxc-lxd) echo "lxc image copy -> LXD" ;;
	conc-imgd) echo "$CONC x POST /1.0/images -> imgd" ;;
	conc-lxd) echo "$CONC x lxc image copy -> LXD" ;;
	esac
}

# The store's log lines since LOGN: the fetchers' and unpackers' peak RSS
# (kB, max) and CPU seconds (sum), and the phases.
log_since() { tail -n +"$((LOGN + 1))" "$IMGD_LOG"; }
child_usage() { # child_usage TITLE: "maxrss cpu" over its reaped ones
	log_since | grep "debug: $1 (pid [0-9]*) .*max RSS" |
	    sed -n 's/.*max RSS \([0-9]*\) kB, cpu \([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2 \3/p' |
	    awk '{if ($1 > m) m = $1; c += $2 + $3; n++}
		END {if (n) printf "%d %.3f\n", m, c; else print "- -"}'
}
log_ns() { # log_ns PATTERN: the first matching line's time, ns
	local t
	t=$(log_since | grep -m1 -- "$1" | cut -d' ' -f1)
	[ -n "$t" ] && date -d "$t" +%s%N
}

# snapshot before a run, and the daemons' usage after it.
before_run() {
	sync
	FE=$(imgd_frontend_pid)
	reset_hwm "$IMGD_PID" "$FE" "$SRC_PID" "$DST_PID" "$NGINX_PID"
	C_S=$(cpu_of "$IMGD_PID")
	C_F=$(cpu_of "$FE")
	C_D=$(cpu_tree "$DST_PID")
	C_SRC=$(cpu_tree "$SRC_PID")
	C_NG=$(cpu_of "$NGINX_PID")
	LOGN=$(wc -l <"$IMGD_LOG")
	NGN=$(wc -l <"$NGINX_LOG")
}
delta() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# after_run KEY SRC: records the peaks and CPU of everything for KEY.
after_run() {
	local key=$1 src=$2 k c _
	add SEC "$key" "$R_SEC"
	add CKB "$key" "${R_KB:--}"
	add CCPU "$key" "${R_CPU:--}"
	add SKB "$key" "$(hwm "$IMGD_PID")"
	add FKB "$key" "$(hwm "$FE")"
	add DKB "$key" "$(hwm "$DST_PID")"
	add SCPU "$key" "$(delta "$C_S" "$(cpu_of "$IMGD_PID")")"
	add FCPU "$key" "$(delta "$C_F" "$(cpu_of "$FE")")"
	add DCPU "$key" "$(delta "$C_D" "$(cpu_tree "$DST_PID")")"
	if [ "$src" = lxd ]; then
		add OKB "$key" "$(hwm "$SRC_PID")"
		add OCPU "$key" "$(delta "$C_SRC" "$(cpu_tree "$SRC_PID")")"
	else
		add OKB "$key" "$(hwm "$NGINX_PID")"
		add OCPU "$key" "$(delta "$C_NG" "$(cpu_of "$NGINX_PID")")"
	fi
	case "$key" in
	*/api | */lxc-imgd | */conc-imgd) ;;
	*) return 0 ;;
	esac
	# imgd's children: the unpacker is reaped just after the reply.
	for _ in $(seq 1 50); do
		log_since | grep -q 'debug: unpacker (pid [0-9]*) .*max RSS' &&
		    break
		sleep 0.1
	done
	read -r k c <<<"$(child_usage fetcher)"
	add XKB "$key" "$k"
	add XCPU "$key" "$c"
	read -r k c <<<"$(child_usage unpacker)"
	add UKB "$key" "$k"
	add UCPU "$key" "$c"
	add XPOLL "$key" "$(cat "$B_TMP/wd.fetch" 2>/dev/null || echo -)"
	# Phases: until the unpacker starts (the bytes are in, hashed and
	# written), then validation + fdatasync + commit.
	local t_unp t_done
	t_unp=$(log_ns 'debug: unpacker started')
	t_done=$(log_ns 'info: downloaded image')
	if [ -n "$t_unp" ] && [ -n "$t_done" ]; then
		add PDL "$key" "$(awk -v a="$R_T0" -v b="$t_unp" \
		    'BEGIN {printf "%.3f", (b - a) / 1e9}')"
		add PPOST "$key" "$(awk -v a="$t_unp" -v b="$t_done" \
		    'BEGIN {printf "%.3f", (b - a) / 1e9}')"
	fi
}

# has_image SOCK FP: the daemon on SOCK has FP (by its full fingerprint).
has_image() {
	[ "$(api "$1" GET "/1.0/images/$2" | jq -r '.metadata.fingerprint // empty')" = "$2" ]
}

# run_row SRC ROW: one run of ROW (curl curlsync api lxc-imgd lxc-lxd)
# from SRC (lxd, ss).
run_row() {
	local src=$1 row=$2 key="$1/$2" fp bytes out=$B_TMP/out.txt remote
	local rc=0 got
	[ -z "${FAILED[$key]:-}" ] || return 0
	if [ "$src" = lxd ]; then
		fp=$FP_LXD bytes=$LXD_BYTES remote=src
	else
		fp=$FP_SS bytes=$SS_BYTES remote=ss
	fi
	HARD=$((120 + bytes / 2000000))
	mkdir -p "$B_TMP/dl"
	before_run
	case "$row" in
	curl)
		if [ "$src" = lxd ]; then
			run_watched "$out" "" curl -sSfk -o "$B_TMP/dl/export" \
			    "$SRC_URL/1.0/images/$fp/export"
		else
			run_watched "$out" "" curl -sSf --cacert "$CA/ca.crt" \
			    -o "$B_TMP/dl/meta" "$NURL/$SS_REL/lxd.tar.xz" \
			    -o "$B_TMP/dl/rootfs" "$NURL/$SS_REL/rootfs.squashfs"
		fi ;;
	curlsync)
		if [ "$src" = lxd ]; then
			run_watched "$out" "" sh -c 'curl -sSfk "$1" |
			    dd of="$0" bs=1M conv=fdatasync status=none' \
			    "$B_TMP/dl/export" "$SRC_URL/1.0/images/$fp/export"
		else
			run_watched "$out" "" sh -c 'curl -sSf --cacert "$1" \
			    "$2" "$3" | dd of="$0" bs=1M conv=fdatasync \
			    status=none' "$B_TMP/dl/export" "$CA/ca.crt" \
			    "$NURL/$SS_REL/lxd.tar.xz" \
			    "$NURL/$SS_REL/rootfs.squashfs"
		fi ;;
	api)
		if [ "$src" = lxd ]; then
			run_watched "$out" imgd "$B_TMP/copy.sh" \
			    "$IMGD_SOCK" "$REQ_LXD"
		else
			run_watched "$out" imgd "$B_TMP/copy.sh" \
			    "$IMGD_SOCK" "$REQ_SS"
		fi ;;
	lxc-imgd)
		run_watched "$out" imgd env \
		    SSL_CERT_FILE="$CA/ca.crt" LXD_DIR="$IMGD_STATE" \
		    lxc image copy "$remote:big" local: ;;
	lxc-lxd)
		run_watched "$out" "$DST_PID" env \
		    SSL_CERT_FILE="$CA/ca.crt" LXD_DIR="$DST_DIR" \
		    lxc image copy "$remote:big" local: ;;
	esac || rc=$?
	if [ "$rc" != 0 ]; then
		fail_row "$key" "${R_STALL:+stopped: }${R_STALL:-exit status $rc}"
		case "$row" in
		api | lxc-imgd) imgd_restart ;;
		esac
		rm -rf "$B_TMP/dl"
		has_image "$IMGD_SOCK" "$fp" && delete_image "$IMGD_SOCK" "$fp"
		has_image "$DST_SOCK" "$fp" && delete_image "$DST_SOCK" "$fp"
		return 0
	fi
	after_run "$key" "$src"
	case "$row" in
	curl | curlsync)
		got=$(du -cb "$B_TMP"/dl/* | tail -1 | cut -f1)
		rm -rf "$B_TMP/dl"
		# An LXD export is multipart: the two files and its headers.
		if [ "$got" -lt "$bytes" ] || { [ "$src" = ss ] &&
		    [ "$row" = curl ] && [ "$got" != "$bytes" ]; }; then
			fail_row "$key" "downloaded $got bytes, expected $bytes"
		fi
		return 0 ;;
	api)
		got=$(jq -r '.metadata.status + " " +
		    (.metadata.metadata.fingerprint // "-") + " " +
		    (.metadata.err // "")' "$out" 2>/dev/null)
		[ "$got" = "Success $fp " ] ||
		    fail_row "$key" "the operation: ${got:-$(head -c 300 "$out")}" ;;
	lxc-imgd | lxc-lxd)
		grep -q 'Image copied successfully' "$out" ||
		    fail_row "$key" "lxc printed: $(tr '\r' '\n' <"$out" |
			grep -v '^ *$' | tail -2)" ;;
	esac
	if [ "$row" = lxc-lxd ]; then
		has_image "$DST_SOCK" "$fp" || fail_row "$key" \
		    "the target LXD has no image $fp after the copy"
		delete_image "$DST_SOCK" "$fp"
	else
		has_image "$IMGD_SOCK" "$fp" || fail_row "$key" \
		    "imgd has no image $fp after the copy"
		delete_image "$IMGD_SOCK" "$fp"
	fi
	[ -n "${FAILED[$key]:-}" ] && [ "$row" != lxc-lxd ] &&
	    log_since | tail -5 | sed 's/^/  log: /' >&2
	return 0
}

ROWS="curl curlsync api lxc-imgd lxc-lxd"

# run_conc TARGET: CONC copies of the simplestreams image at once into
# imgd or the target LXD; counts the downloads in nginx's log.
declare -A C_OK C_DL C_META C_IDX C_FETCHERS C_WAITED C_HERE
run_conc() {
	local target=$1 key="ss/conc-$1" out=$B_TMP/out.txt rc=0 ok=0 f
	local lines
	HARD=$((180 + SS_BYTES / 2000000))
	before_run
	if [ "$target" = imgd ]; then
		run_watched "$out" imgd "$B_TMP/par.sh" "$CONC" \
		    "$B_TMP/conc" "$B_TMP/copy.sh" "$IMGD_SOCK" "$REQ_SS" || rc=$?
	else
		run_watched "$out" "$DST_PID" "$B_TMP/par.sh" "$CONC" \
		    "$B_TMP/conc" env SSL_CERT_FILE="$CA/ca.crt" \
		    LXD_DIR="$DST_DIR" lxc image copy ss:big local: || rc=$?
	fi
	for f in "$B_TMP"/conc/*.out; do
		if [ "$target" = imgd ]; then
			[ "$(jq -r '.metadata.status + " " +
			    (.metadata.metadata.fingerprint // "")' "$f" \
			    2>/dev/null)" = "Success $FP_SS" ] && ok=$((ok + 1))
		else
			grep -q 'Image copied successfully' "$f" && ok=$((ok + 1))
		fi
	done
	C_OK[$key]=$ok
	lines=$(tail -n +"$((NGN + 1))" "$NGINX_LOG")
	C_DL[$key]=$(grep -c "GET /$SS_REL/rootfs.squashfs" <<<"$lines")
	C_META[$key]=$(grep -c "GET /$SS_REL/lxd.tar.xz" <<<"$lines")
	C_IDX[$key]=$(grep -c "GET /streams/v1/index.json" <<<"$lines")
	if [ "$rc" != 0 ] || [ "$ok" != "$CONC" ]; then
		fail_row "$key" "$ok of $CONC copies succeeded${R_STALL:+; stopped: $R_STALL}"
		local silent=0
		for f in "$B_TMP"/conc/*.out; do
			grep -q 'Success\|Image copied successfully' "$f" &&
			    continue
			if [ -s "$f" ]; then
				echo "  $(basename "$f"): $(tr '\r' '\n' <"$f" |
				    grep -v '^ *$' | tail -1 | head -c 300)"
			else
				silent=$((silent + 1))
			fi
		done >&2
		[ "$silent" = 0 ] || echo "  $silent copies gave no answer" \
		    "before they were stopped" >&2
		[ "$target" = imgd ] && [ -n "$R_STALL" ] && imgd_restart
	fi
	[ -n "$R_STALL" ] || after_run "$key" ss
	if [ "$target" = imgd ]; then
		C_FETCHERS[$key]=$(log_since | grep -c 'debug: fetcher started')
		C_WAITED[$key]=$(log_since | grep -c 'is being downloaded: waiting')
		C_HERE[$key]=$(log_since | grep -c "image $FP_SS is here already")
		has_image "$IMGD_SOCK" "$FP_SS" && delete_image "$IMGD_SOCK" "$FP_SS"
	else
		has_image "$DST_SOCK" "$FP_SS" && delete_image "$DST_SOCK" "$FP_SS"
	fi
	rm -rf "$B_TMP/conc"
}

# ---- the runs ----

FE=$(imgd_frontend_pid)
echo "idle after start: imgd store $(mib "$(hwm "$IMGD_PID")") MiB," \
    "frontend $(mib "$(hwm "$FE")") MiB; source LXD" \
    "$(mib "$(hwm "$SRC_PID")") MiB, target LXD $(mib "$(hwm "$DST_PID")")" \
    "MiB; nginx $(mib "$(hwm "$NGINX_PID")") MiB (VmHWM)"
echo "-- running $REPS x 2 x 5 rows, then $CONC concurrent copies x 2"
t0=$SECONDS
for rep in $(seq 1 "$REPS"); do
	for src in lxd ss; do
		for row in $ROWS; do
			run_row "$src" "$row"
		done
	done
	echo "-- run $rep of $REPS done ($((SECONDS - t0)) s)"
done
run_conc imgd
run_conc lxd
echo "-- concurrent copies done ($((SECONDS - t0)) s)"

# ---- the tables ----

# med ARRAY KEY / most ARRAY KEY: median / max of the runs, "-" if none.
med() {
	local -n a=$1
	local v=${a[$2]:-}
	v=${v//-/}
	[ -n "${v// /}" ] || { echo -; return; }
	# shellcheck disable=SC2086
	median $v
}
most() {
	local -n a=$1
	local v=${a[$2]:-}
	v=${v//-/}
	[ -n "${v// /}" ] || { echo -; return; }
	# shellcheck disable=SC2086
	max_of $v
}
mbps() {
	awk -v b="$1" -v s="$2" 'BEGIN {
	    if (s == "-" || s + 0 == 0) print "-"; else printf "%.0f", b / 1e6 / s }'
}

print_part() {
	local src=$1 bytes floor lxd row k s r what
	if [ "$src" = lxd ]; then
		bytes=$LXD_BYTES
		echo
		echo "== LXD protocol: from the source LXD ($SRC_URL), split image" \
		    "meta.tar.xz + rootfs.squashfs, $bytes bytes; median of $REPS runs"
	else
		bytes=$SS_BYTES
		echo
		echo "== simplestreams: from nginx ($NURL), split image" \
		    "lxd.tar.xz + rootfs.squashfs, $bytes bytes; median of $REPS runs"
	fi
	floor=$(med SEC "$src/curl")
	lxd=$(med SEC "$src/lxc-lxd")
	printf '%-27s %8s %6s %6s %6s | %s\n' "" "" "" "time/" "time/" \
	    "peak RSS, MiB (max of runs)"
	printf '%-27s %8s %6s %6s %6s | %6s %5s %5s %5s %6s %6s %6s\n' \
	    "what" "seconds" "MB/s" "curl" "LXD's" "client" "store" "front" \
	    "fetch" "unpack" "LXD" "source"
	for row in $ROWS; do
		k=$src/$row
		s=$(med SEC "$k")
		case "$row" in
		api | lxc-imgd) r=$(ratio "$s" "$lxd") ;;
		lxc-lxd) r="(ref)" ;;
		*) r="-" ;;
		esac
		what=$(label "$row")
		if [ -n "${FAILED[$k]:-}" ] && [ "$s" = - ]; then
			printf '%-27s %8s   %s\n' "$what" FAILED \
			    "$(head -c 70 <<<"${FAILED[$k]}" | head -1)"
			continue
		fi
		[ -n "${FAILED[$k]:-}" ] && what="$what (FAILED)"
		case "$row" in
		api | lxc-imgd) ;;
		*) SKB[$k]="" FKB[$k]="" ;;
		esac
		[ "$row" = lxc-lxd ] || DKB[$k]=""
		printf '%-27s %8s %6s %6s %6s | %6s %5s %5s %5s %6s %6s %6s\n' \
		    "$what" "$s" "$(mbps "$bytes" "$s")" "$(ratio "$s" "$floor")" \
		    "$r" "$(mib "$(most CKB "$k")")" "$(mib "$(most SKB "$k")")" \
		    "$(mib "$(most FKB "$k")")" "$(mib "$(most XKB "$k")")" \
		    "$(mib "$(most UKB "$k")")" "$(mib "$(most DKB "$k")")" \
		    "$(mib "$(most OKB "$k")")"
	done
	echo "CPU seconds per run (median), next to the wall clock:"
	printf '%-27s %8s | %6s %5s %5s %5s %6s %6s %6s %6s\n' "what" "wall" \
	    "client" "store" "front" "fetch" "unpack" "LXD" "source" "sum"
	for row in $ROWS; do
		k=$src/$row
		[ "$(med SEC "$k")" != - ] || continue
		local c sc fc xc uc dc oc
		c=$(med CCPU "$k")
		oc=$(med OCPU "$k")
		case "$row" in
		api | lxc-imgd)
			sc=$(med SCPU "$k") fc=$(med FCPU "$k")
			xc=$(med XCPU "$k") uc=$(med UCPU "$k") dc=- ;;
		lxc-lxd)
			sc=- fc=- xc=- uc=- dc=$(med DCPU "$k") ;;
		*)
			sc=- fc=- xc=- uc=- dc=- ;;
		esac
		printf '%-27s %8s | %6s %5s %5s %5s %6s %6s %6s %6s\n' \
		    "$(label "$row")" "$(med SEC "$k")" "$c" "$sc" "$fc" "$xc" \
		    "$uc" "$dc" "$oc" "$(awk -v a="$c" -v b="$sc" -v c="$fc" \
		    -v d="$xc" -v e="$uc" -v f="$dc" -v g="$oc" \
		    'BEGIN {printf "%.2f", a + b + c + d + e + f + g}')"
	done
	for row in api lxc-imgd; do
		k=$src/$row
		[ "$(med SEC "$k")" != - ] || continue
		echo "imgd phases, $(label "$row"): download + hash + write" \
		    "$(med PDL "$k") s, then validation + fdatasync + commit" \
		    "$(med PPOST "$k") s (median, from the log); fetcher VmHWM" \
		    "polled: $(mib "$(most XPOLL "$k")") MiB"
	done
}

print_conc() {
	local t k s what
	echo
	echo "== $CONC concurrent copies of the simplestreams image" \
	    "($SS_BYTES bytes), from nginx; once"
	printf '%-30s %7s %5s %5s %5s %5s | %5s %5s %5s %5s %6s %6s %6s\n' \
	    "what" "wall s" "ok" "rootf" "meta" "index" "store" "front" "fetch" \
	    "unpk" "client" "LXD" "nginx"
	for t in imgd lxd; do
		k=ss/conc-$t
		s=$(med SEC "$k")
		what=$(label "conc-$t")
		[ -n "${FAILED[$k]:-}" ] && what="$what (FAILED)"
		if [ "$t" = lxd ]; then
			SKB[$k]="" FKB[$k]=""
		else
			DKB[$k]=""
		fi
		printf '%-30s %7s %5s %5s %5s %5s | %5s %5s %5s %5s %6s %6s %6s\n' \
		    "$what" "$s" "${C_OK[$k]:--}/$CONC" "${C_DL[$k]:--}" \
		    "${C_META[$k]:--}" "${C_IDX[$k]:--}" \
		    "$(mib "$(most SKB "$k")")" "$(mib "$(most FKB "$k")")" \
		    "$(mib "$(most XKB "$k")")" "$(mib "$(most UKB "$k")")" \
		    "$(mib "$(most CKB "$k")")" "$(mib "$(most DKB "$k")")" \
		    "$(mib "$(most OKB "$k")")"
	done
	echo "(ok: copies that succeeded with the right fingerprint; rootf," \
	    "meta, index: GETs of rootfs.squashfs, lxd.tar.xz, index.json in"
	echo "nginx's access log; client: par.sh, the parent of the $CONC" \
	    "clients; RSS in MiB)"
	k=ss/conc-imgd
	echo "imgd's log: ${C_FETCHERS[$k]:--} fetchers started (one per copy," \
	    "at most 4 at once: each resolves the image), ${C_WAITED[$k]:--}" \
	    "copies waited for another's download,"
	echo "${C_HERE[$k]:--} 'is here already' (copies resolved after the" \
	    "commit, and the waiting ones when they end)"
}

print_part lxd
print_part ss
print_conc

echo
echo "notes: MB/s is 10^6 bytes per second of wall time. The sources serve"
echo "from the page cache (the files were just written and fit in RAM); curl"
echo "-o does not sync, the dd row does (as imgd does before its commit);"
echo "LXD 5.0.2 does not sync. imgd's fetcher and unpacker RSS are"
echo "getrusage's max RSS of the reaped process, from the store's log."
echo "at the end, $(other_load)"
echo "whole run: $((SECONDS - T0_ALL)) s"
if [ "$NFAIL" -gt 0 ]; then
	echo
	echo "FAILED ($NFAIL):"
	for k in "${!FAILED[@]}"; do
		echo "  $(label "${k#*/}") ($k): ${FAILED[$k]}"
	done | sort
	exit 1
fi
