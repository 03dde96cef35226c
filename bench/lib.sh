# Shared helpers for bench/import.sh and bench/list.sh (sourced, bash).
#
# Starts an imgd and a reference LXD on private temp directories, times
# commands under /usr/bin/time -v, reads peak RSS (VmHWM) and CPU time of
# the daemons, and cleans up on exit: every daemon it started is stopped by
# its pid, and the temp directory (large files included) is removed.
#
# Environment:
#   BENCH_TMPDIR   where temp files go (default /var/tmp: on disk, not tmpfs)
#   IMGD_BUILD     the build directory (default ../build)

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BIN=${IMGD_BUILD:-$ROOT/build}/bin
CLK_TCK=$(getconf CLK_TCK)

IMGD_PID=""
LXD_PID=""
B_TMP=""

cleanup() {
	local rc=$?
	imgd_stop
	lxd_stop
	[ -n "$B_TMP" ] && rm -rf "$B_TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

# ---- dependencies: installed here, and only here, when missing ----
need_deps() {
	local pkgs="" pair cmd pkg
	for pair in /usr/bin/time:time openssl:openssl curl:curl jq:jq \
	    lxd:lxd lxc:lxd-client sqlite3:sqlite3 unshare:util-linux \
	    top:procps \
	    "$@"; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || pkgs="$pkgs $pkg"
	done
	if [ -n "$pkgs" ]; then
		echo "# missing commands: installing Debian packages:$pkgs"
		[ "$(id -u)" = 0 ] || die "run as root to install:$pkgs"
		apt-get update -qq || die "apt-get update failed"
		# shellcheck disable=SC2086 # a list of package names
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs \
		    >/dev/null || die "apt-get install$pkgs failed"
	fi
	[ "$(id -u)" = 0 ] || die "run as root (imgd and LXD both need it)"
	for f in imgd imgd-frontend imgd-fetcher imgd-unpacker imgctl; do
		[ -x "$BIN/$f" ] || die "$BIN/$f is missing: run 'make all' first"
	done
}

# mk_tmp: the private temp directory, B_TMP.
mk_tmp() {
	local base=${BENCH_TMPDIR:-/var/tmp}
	B_TMP=$(mktemp -d "$base/imgd-bench.XXXXXX") || die "mktemp in $base"
	export LXD_CONF=$B_TMP/lxc-conf
	mkdir -p "$LXD_CONF"
	# lxc greets each new configuration directory with a banner, once.
	lxc remote list >/dev/null 2>&1
}

# need_disk MB: dies unless the temp directory's filesystem has MB free.
need_disk() {
	local want=$1 have
	have=$(df -Pm "$B_TMP" | awk 'NR == 2 {print $4}')
	if [ "$have" -lt "$want" ]; then
		die "need about $want MB free in $B_TMP, have $have MB" \
		    "(set BENCH_TMPDIR, or a smaller size)"
	fi
	echo "disk: need about $want MB in $(dirname "$B_TMP"), $have MB free: ok"
}

# other_load: the load average and any process using more than 20% CPU
# right now. The bench shares the machine: this says when numbers are
# taken under someone else's load.
other_load() {
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); busy processes:"
	command top -bn2 -d 0.5 -w 200 | awk '/^top -/ {n++} n == 2 && $9 + 0 > 20 &&
	    $1 ~ /^[0-9]+$/ {printf "  pid %s %s %s%% CPU\n", $1, $12, $9; b = 1}
	    END {if (!b) print "  none"}'
}

machine_info() {
	echo "== machine"
	echo "host: $(uname -srm), $(nproc) cores," \
	    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	free -g | sed 's/^/  /'
	echo "work dir and temp dir:"
	df -h "$ROOT" "$B_TMP" | sed 's/^/  /'
	other_load
	echo "== versions"
	echo "imgd: $("$BIN/imgd" --version 2>&1 | head -1)"
	echo "lxd: $(lxd --version 2>&1 | head -1) (Debian package lxd" \
	    "$(dpkg-query -W -f '${Version}' lxd 2>/dev/null))"
	echo "lxc: $(lxc --version 2>&1 | head -1)"
	echo "openssl: $(openssl version)"
	echo "curl: $(curl --version | head -1 | cut -d' ' -f1-2)"
}

# ---- the daemons ----

# imgd_start: a fresh imgd on $B_TMP/imgd, --debug (the log gives the
# unpackers' peak RSS). Sets IMGD_PID, IMGD_STATE, IMGD_SOCK, IMGD_LOG.
imgd_start() {
	IMGD_STATE=$B_TMP/imgd
	IMGD_SOCK=$IMGD_STATE/unix.socket
	IMGD_LOG=$B_TMP/imgd.log
	mkdir -p "$IMGD_STATE"
	# shellcheck disable=SC2086 # IMGD_ARGS: extra options, word-split
	"$BIN/imgd" --state "$IMGD_STATE" --debug ${IMGD_ARGS:-} \
	    2>>"$IMGD_LOG" &
	IMGD_PID=$!
	local _
	for _ in $(seq 1 100); do
		curl -sf --unix-socket "$IMGD_SOCK" http://imgd/1.0 \
		    >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tail -20 "$IMGD_LOG" >&2
	die "imgd did not start"
}

imgd_stop() {
	[ -n "$IMGD_PID" ] || return 0
	kill -TERM "$IMGD_PID" 2>/dev/null
	local rc=0
	wait "$IMGD_PID" 2>/dev/null || rc=$?
	[ $rc = 0 ] || echo "bench: imgd exited with status $rc" >&2
	IMGD_PID=""
}

imgd_frontend_pid() {
	pgrep -P "$IMGD_PID" -x imgd-frontend | head -1
}

# lxd_start: a reference LXD on $B_TMP/lxd, in a network namespace of its
# own (loopback only: LXD looks up images.linuxcontainers.org at start;
# there it finds no route). Sets LXD_PID, LXD_STATE, LXD_SOCK.
lxd_start() {
	LXD_STATE=$B_TMP/lxd
	LXD_SOCK=$LXD_STATE/unix.socket
	mkdir -p "$LXD_STATE"
	LXD_DIR=$LXD_STATE unshare --net lxd --group root \
	    >"$B_TMP/lxd.log" 2>&1 &
	LXD_PID=$!
	LXD_DIR=$LXD_STATE timeout 60 lxd waitready --timeout 30 \
	    >/dev/null 2>&1 || {
		tail -20 "$B_TMP/lxd.log" >&2
		die "the reference LXD did not start"
	}
}

lxd_stop() {
	[ -n "$LXD_PID" ] || return 0
	kill -TERM "$LXD_PID" 2>/dev/null
	local _
	for _ in $(seq 1 300); do
		kill -0 "$LXD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$LXD_PID" 2>/dev/null
	wait "$LXD_PID" 2>/dev/null
	# LXD unmounts these on SIGTERM; after a SIGKILL they would stay.
	umount "$LXD_STATE/devlxd" "$LXD_STATE/shmounts" 2>/dev/null
	LXD_PID=""
}

# ---- the API ----

# api SOCK METHOD PATH [curl args...]: prints the body.
api() {
	local s=$1 m=$2 p=$3
	shift 3
	curl -s --unix-socket "$s" -X "$m" "$@" "http://local$p"
}

# api_op SOCK METHOD PATH [curl args...]: an async request and a wait on
# its operation; fails unless the operation succeeded.
api_op() {
	local s=$1 resp op
	resp=$(api "$@") || return 1
	op=$(jq -r '.operation // empty' <<<"$resp")
	[ -n "$op" ] || { echo "$resp" >&2; return 1; }
	resp=$(api "$s" GET "$op/wait?timeout=600")
	[ "$(jq -r '.metadata.status' <<<"$resp")" = Success ] || {
		echo "$resp" >&2
		return 1
	}
}

delete_image() {
	api_op "$1" DELETE "/1.0/images/$2" || die "could not delete $2 on $1"
}

# ---- measures ----

# kB of peak RSS (VmHWM) of a pid; reset_hwm sets it back to the current
# RSS (clear_refs 5), so each run's peak is its own.
hwm() {
	awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null
}
reset_hwm() {
	local p
	for p in "$@"; do
		[ -n "$p" ] && echo 5 >"/proc/$p/clear_refs"
	done
}

# CPU seconds (user + system) a pid has used so far, all its threads;
# cpu_tree adds its reaped children (LXD runs tar to read metadata.yaml).
cpu_of() {
	awk -v t="$CLK_TCK" '{printf "%.3f", ($14 + $15) / t}' \
	    "/proc/$1/stat" 2>/dev/null
}
cpu_tree() {
	awk -v t="$CLK_TCK" '{printf "%.3f", ($14 + $15 + $16 + $17) / t}' \
	    "/proc/$1/stat" 2>/dev/null
}

# run_timed OUT CMD...: runs CMD with stdout and stderr to OUT, under
# /usr/bin/time -v. Sets R_SEC (wall seconds, from date around it),
# R_KB (the command's peak RSS), R_CPU (its user + system seconds), R_T0
# (its start, ns since the epoch).
run_timed() {
	local out=$1 t0 t1 rc=0
	shift
	t0=$(date +%s%N)
	R_T0=$t0
	/usr/bin/time -v -o "$B_TMP/time.txt" "$@" >"$out" 2>&1 || rc=$?
	t1=$(date +%s%N)
	R_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
	R_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' \
	    "$B_TMP/time.txt")
	R_CPU=$(awk -F': ' '/User time|System time/ {s += $2}
	    END {printf "%.3f", s}' "$B_TMP/time.txt")
	return $rc
}

# fill_blobs DIR MB [GEN]: MB MiB in DIR/blob0, blob1, ... of at most
# 64 MiB each: random bytes, or what `GEN SKIP_MB MB` prints.
fill_blobs() {
	local dir=$1 left=$2 gen=${3:-} chunk n=0
	mkdir -p "$dir"
	while [ "$left" -gt 0 ]; do
		chunk=$((left > 64 ? 64 : left))
		if [ -n "$gen" ]; then
			"$gen" $((n * 64)) "$chunk"
		else
			head -c "${chunk}M" /dev/urandom
		fi >"$dir/blob$n"
		left=$((left - chunk))
		n=$((n + 1))
	done
}

# median and max of numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
	    END {if (NR % 2) print v[(NR + 1) / 2];
	         else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
max_of() {
	printf '%s\n' "$@" | sort -g | tail -1
}

# a / b with N decimals, "-" when either is missing or b is 0.
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" -v n="${3:-2}" 'BEGIN {
	    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0)
		print "-"; else printf "%.*f\n", n, a / b }'
}

# kB -> "12.3" (MiB), "-" when missing.
mib() {
	awk -v k="${1:-}" 'BEGIN {
	    if (k == "" || k == "-") print "-"; else printf "%.1f\n", k / 1024 }'
}

# ---- for bench/fetch.sh: servers on the host's loopback ----
#
# lxd_start shuts LXD in a network namespace of its own. A copy needs the
# source servers (a reference LXD, nginx) and imgd on one loopback, so
# these start them in the host's namespace, listening on 127.0.0.1 only.
# Each is stopped by its pid by extra_stop, which a script that uses them
# calls from its EXIT trap before cleanup (extra_stop keeps $? for it).

declare -A HLXD_PID=()
NGINX_PID=""

# free_port: a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# lxd_host_start NAME [VAR=VALUE...]: a reference LXD on $B_TMP/NAME in
# the host's network namespace, with VAR=VALUE in its environment (say
# SSL_CERT_FILE). Its pid is HLXD_PID[NAME], its socket
# $B_TMP/NAME/unix.socket, its log $B_TMP/NAME.log.
lxd_host_start() {
	local name=$1 dir=$B_TMP/$1
	shift
	mkdir -p "$dir"
	env "$@" LXD_DIR="$dir" lxd --group root >"$B_TMP/$name.log" 2>&1 &
	HLXD_PID[$name]=$!
	LXD_DIR=$dir timeout 60 lxd waitready --timeout 30 >/dev/null 2>&1 || {
		tail -20 "$B_TMP/$name.log" >&2
		die "the reference LXD $name did not start"
	}
}

lxd_host_stop() {
	local name=$1 pid=${HLXD_PID[$1]:-} _
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	umount "$B_TMP/$name/devlxd" "$B_TMP/$name/shmounts" 2>/dev/null
	unset "HLXD_PID[$name]"
}

# bench_ca DIR: a CA (DIR/ca.crt) and a certificate it signed for
# 127.0.0.1 and localhost (DIR/srv.crt, DIR/srv.key), as the tests'
# test_ca makes them.
bench_ca() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj "/CN=imgd bench CA" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=127.0.0.1" \
	    >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext" &&
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/srv.crt" \
	    >/dev/null 2>&1 || die "could not make a test CA in $d"
}

# nginx_static ROOT CADIR: Debian's nginx serving ROOT as static files
# over HTTPS on a free loopback port with CADIR's certificate (bench_ca),
# one process (master_process off). Sets NGINX_PID, NGINX_DIR, NGINX_LOG
# (its access log) and NURL.
nginx_static() {
	local root=$1 ca=$2 port _
	port=$(free_port)
	NGINX_DIR=$B_TMP/nginx
	NGINX_LOG=$NGINX_DIR/access.log
	NURL=https://127.0.0.1:$port
	mkdir -p "$NGINX_DIR"
	cat >"$NGINX_DIR/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events {}
http {
	access_log $NGINX_LOG;
	sendfile on;
	types { application/json json; application/octet-stream xz squashfs gz; }
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $ca/srv.crt;
		ssl_certificate_key $ca/srv.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $root;
	}
}
NGINX
	nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" \
	    >"$NGINX_DIR/out" 2>&1 &
	NGINX_PID=$!
	for _ in $(seq 1 50); do
		curl -s --cacert "$ca/ca.crt" -o /dev/null "$NURL/" && return 0
		sleep 0.1
	done
	cat "$NGINX_DIR/out" "$NGINX_DIR/error.log" >&2 2>/dev/null
	die "nginx does not serve on $NURL"
}

nginx_stop() {
	[ -n "$NGINX_PID" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=""
}

# extra_stop: every server started above, by its pid; returns the $? it
# was called with, for cleanup.
extra_stop() {
	local rc=$? n
	nginx_stop
	for n in "${!HLXD_PID[@]}"; do
		lxd_host_stop "$n"
	done
	return $rc
}

# tree_pids PID...: sets TREE to those pids and all their descendants
# (from /proc/PID/task/*/children; no process is started).
tree_pids() {
	local q=("$@") p t c
	TREE=()
	while [ ${#q[@]} -gt 0 ]; do
		p=${q[0]}
		q=("${q[@]:1}")
		if [ -z "$p" ] || [ ! -d "/proc/$p" ]; then
			continue
		fi
		TREE+=("$p")
		for t in /proc/"$p"/task/*/children; do
			c=()
			read -r -a c 2>/dev/null <"$t" || true
			q+=("${c[@]}")
		done
	done
}

# io_tree PID...: sets IO to the bytes read and written (rchar + wchar)
# by those processes and their descendants so far.
io_tree() {
	local p k v
	IO=0
	tree_pids "$@"
	for p in "${TREE[@]}"; do
		while read -r k v; do
			case "$k" in
			rchar: | wchar:) IO=$((IO + v)) ;;
			esac
		done 2>/dev/null <"/proc/$p/io"
	done
}
