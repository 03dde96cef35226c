# Shared helpers for the integration tests (sourced, bash).
#
#	. "$(dirname "$0")/lib.bash"
#	imgd_start			# a fresh imgd on a temp state dir
#	check "what" cmd args...	# passes when cmd exits 0
#	check_eq "what" "$got" "$want"
#	summary				# "N passed, N failed", exit status
#
# Every daemon started here is stopped by pid on exit.

set -u
# imgd takes its copy proxy from the environment: tests set their own
unset https_proxy HTTPS_PROXY no_proxy NO_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY
BIN=${IMGD_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}/bin
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d /tmp/imgd-it.XXXXXX)
IMGD_PID=""
STATE=""
SOCK=""
export LXD_CONF=$T_TMP/lxc-conf
mkdir -p "$LXD_CONF"
# lxc greets a new configuration with a banner on its first run.
lxc remote list >/dev/null 2>&1

pass() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $1"
}

fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '# %s\n' "$@"
	return 0
}

check() {
	local what=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		fail "$what" "command: $*" "$(printf '%s' "$out" | head -20)"
	fi
}

check_fails() {
	local what=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		fail "$what (succeeded, expected an error)" "command: $*" "$out"
	else
		pass "$what"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:      $(printf '%s' "$2" | head -c 2000)" \
		    "expected: $(printf '%s' "$3" | head -c 2000)"
	fi
}

check_contains() {
	case "$2" in
	*"$3"*) pass "$1" ;;
	*) fail "$1" "\"$(printf '%s' "$2" | head -c 2000)\" lacks \"$3\"" ;;
	esac
}

# The lines lxc prints, without its progress redraws.
lxc_out() {
	"$@" 2>&1 | tr '\r' '\n' | grep -v '^ *$' | grep -v 'Transferring' |
	    sed 's/ *$//'
}

summary() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

imgd_start() {
	STATE=${1:-$T_TMP/state}
	SOCK=$STATE/unix.socket
	mkdir -p "$STATE"
	# shellcheck disable=SC2086
	"$BIN/imgd" --state "$STATE" ${IMGD_ARGS:-} >>"$T_TMP/imgd.log" 2>&1 &
	IMGD_PID=$!
	for _ in $(seq 1 100); do
		if [ -S "$SOCK" ] && curl -sf --unix-socket "$SOCK" \
		    http://imgd/1.0 >/dev/null 2>&1; then
			export LXD_DIR=$STATE IMGD_DIR=$STATE
			return 0
		fi
		sleep 0.1
	done
	echo "# imgd did not start:"
	sed 's/^/#   /' "$T_TMP/imgd.log" | tail -20
	return 1
}

# imgd with HTTPS on a free loopback port, and more configuration lines
# if given: sets PORT and URL (https://127.0.0.1:PORT) and W (a work dir),
# and waits until HTTPS answers.
https_start() {
	W=$T_TMP/work
	mkdir -p "$W"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	URL=https://127.0.0.1:$PORT
	{
		echo "https_address: 127.0.0.1:$PORT"
		printf '%s\n' "$@"
	} >"$W/imgd.yaml"
	IMGD_ARGS="--config $W/imgd.yaml"
	imgd_start || return 1
	for _ in $(seq 1 50); do
		curl -sk "$URL/1.0" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# imgd does not answer on $URL"
	return 1
}

# SIGTERM; the exit status of imgd is returned. Not in a subshell ($(...)
# or check): only this shell can wait for it.
imgd_stop() {
	[ -n "$IMGD_PID" ] || return 0
	kill -TERM "$IMGD_PID" 2>/dev/null
	local rc=0
	wait "$IMGD_PID" || rc=$?
	IMGD_PID=""
	return $rc
}

# wrapped_bin DIR PROG LINE: a copy of imgd's programs in DIR whose PROG is
# a wrapper script that runs LINE, where $REAL is the real PROG (kept as
# PROG.real). Point BIN at DIR to run imgd from it.
wrapped_bin() {
	local dir=$1 prog=$2 line=$3
	mkdir -p "$dir"
	chmod 755 "$T_TMP" "$dir"
	cp "$BIN"/imgd "$BIN"/imgd-frontend "$BIN"/imgd-fetcher \
	    "$BIN"/imgd-unpacker "$BIN"/imgctl "$dir/"
	mv "$dir/$prog" "$dir/$prog.real"
	printf '#!/bin/sh\nREAL=%s\n%s\n' "$dir/$prog.real" "$line" \
	    >"$dir/$prog"
	chmod 755 "$dir"/*
}

# The pid of a child of the running imgd by program name.
child_pid() {
	pgrep -P "$IMGD_PID" -x "$1" | head -1
}

# curl on the local socket: api METHOD PATH [curl args...]; prints the
# body, then a last line with the HTTP status.
api() {
	local m=$1 p=$2
	shift 2
	curl -s --unix-socket "$SOCK" -X "$m" -w '\n%{http_code}' "$@" \
	    "http://imgd$p"
}

api_status() {
	api "$@" | tail -1
}

api_body() {
	api "$@" | sed '$d'
}

# raw SOCKET: sends stdin as it is and prints the status line of the
# answer (for requests curl will not make: bad framing, bad chunks).
raw() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.settimeout(10)
data = b""
while b"\r\n" not in data:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode())
' "$SOCK"
}

# What lies in the state dir (blobs, temp files) and the DB rows: a test
# compares it before and after a rejected request.
state_snapshot() {
	(cd "$STATE" && find images tmp -mindepth 1 | sort)
	sqlite3 "$STATE/imgd.db" "SELECT 'images', count(*) FROM images;
	    SELECT 'properties', count(*) FROM image_properties;
	    SELECT 'aliases', count(*) FROM image_aliases;" 2>&1
}

# A reference LXD daemon on its own state dir ($LXD_REF), stopped by pid
# on exit; returns 1 when none starts here.
ref_start() {
	command -v lxd >/dev/null || return 1
	LXD_REF=$T_TMP/lxd
	mkdir -p "$LXD_REF"
	LXD_DIR=$LXD_REF lxd --group root >"$T_TMP/lxd.log" 2>&1 &
	LXD_REF_PID=$!
	LXD_DIR=$LXD_REF timeout 30 lxd waitready --timeout 30 >/dev/null \
	    2>&1
}

# ref_start, or say why the comparison is skipped; sets HAVE_REF to 1/0.
ref_or_skip() {
	HAVE_REF=0
	if ref_start; then
		HAVE_REF=1
	else
		echo "# no reference LXD here: the comparison with LXD is skipped"
	fi
}

# Waits for the frontend to serve again (after it was killed).
wait_serving() {
	for _ in $(seq 1 150); do
		curl -sf --unix-socket "$SOCK" http://imgd/1.0 >/dev/null \
		    2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ---- remotes for the fetcher ----

# test_ca DIR: a CA (DIR/ca.crt) and a server certificate it signed for
# 127.0.0.1 and localhost (DIR/srv.crt, DIR/srv.key).
test_ca() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=imgd test CA" \
	    >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=127.0.0.1" \
	    >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:imgd-test.example\n' \
	    >"$d/ext" &&
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/srv.crt" \
	    >/dev/null 2>&1
}

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# fake_start IMAGE [CERT KEY]: tests/integration/fakeremote.py serving
# IMAGE on a loopback port; sets FAKE_URL (http or https), FAKE_PID.
fake_start() {
	local pf=$T_TMP/fake.$RANDOM
	python3 "$LIB_DIR/fakeremote.py" "$pf" "$@" \
	    >>"$T_TMP/fake.log" 2>&1 &
	FAKE_PID=$!
	FAKE_PIDS="${FAKE_PIDS:-} $FAKE_PID"
	for _ in $(seq 1 50); do
		[ -s "$pf" ] && break
		sleep 0.1
	done
	FAKE_LOG=$pf.log
	FAKE_URL=$([ $# -gt 1 ] && echo https || echo http)://127.0.0.1:$(cat "$pf")
}

# copy_req JSON: POST /1.0/images with that body on the socket; prints
# the operation's URL path (or the error body).
copy_req() {
	curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	    -d "$1" http://imgd/1.0/images | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d.get("operation") or d.get("error"))'
}

# op_wait PATH: waits for the operation; prints "Success" or the error.
op_wait() {
	curl -s --unix-socket "$SOCK" "http://imgd$1/wait?timeout=${2:-60}" |
	    python3 -c '
import json, sys
m = json.load(sys.stdin)["metadata"]
print(m["status"] if m["status"] != "Failure" else "Failure: " + m["err"])'
}

# A download that keeps a fetcher busy (imgd must allow plain http and
# loopback for 127.0.0.1): from a fake remote that sends 20 KiB/s. Sets
# SLOW_OP; returns once a fetcher runs.
slow_fetch_start() {
	head -c 2000000 /dev/urandom >"$T_TMP/slow.bin"
	fake_start "$T_TMP/slow.bin"
	SLOW_OP=$(copy_req "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}")
	for _ in $(seq 1 150); do
		[ -n "$(child_pid imgd-fetcher)" ] && return 0
		sleep 0.1
	done
	return 1
}

FETCH_CONFIG="fetch_allow_http: 127.0.0.1
fetch_allow_private: 127.0.0.1"

# nginx_start ROOT CADIR [LINES]: nginx from Debian serving ROOT as static
# files over HTTPS on a loopback port with CADIR's server certificate
# (test_ca), LINES added to its server block. Sets NURL; 1 if it does
# not serve.
nginx_start() {
	local root=$1 ca=$2 extra=${3:-} port conf nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || return 1
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	NGINX_DIR=$T_TMP/nginx.$port
	mkdir -p "$NGINX_DIR"
	NURL=https://127.0.0.1:$port
	conf=$NGINX_DIR/nginx.conf
	cat >"$conf" <<NGINX
daemon off;
master_process off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events {}
http {
	access_log $NGINX_DIR/access.log;
	types { application/json json; application/octet-stream xz squashfs gz; }
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $ca/srv.crt;
		ssl_certificate_key $ca/srv.key;
		ssl_protocols TLSv1.2 TLSv1.3; # LXD speaks TLS 1.3 only
		root $root;
		$extra
	}
}
NGINX
	"$nginx" -c "$conf" -p "$NGINX_DIR" >"$NGINX_DIR/out" 2>&1 &
	FAKE_PIDS="${FAKE_PIDS:-} $!"
	for _ in $(seq 1 50); do
		curl -s --cacert "$ca/ca.crt" -o /dev/null "$NURL/" && return 0
		sleep 0.1
	done
	return 1
}

cleanup() {
	[ -n "${KEEP_LOG:-}" ] && cp "$T_TMP/imgd.log" "$KEEP_LOG"
	imgd_stop >/dev/null 2>&1
	for p in ${FAKE_PIDS:-}; do kill "$p" 2>/dev/null; done
	[ -n "${LXD_REF_PID:-}" ] && kill "$LXD_REF_PID" 2>/dev/null &&
	    wait "$LXD_REF_PID" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# ---- test images ----

# mkimage DIR [key=value...]: a rootfs and metadata.yaml under DIR.
# Keys: arch, date, desc, os, extra (appended to metadata.yaml).
mkimage_tree() {
	local dir=$1
	shift
	local arch=x86_64 date=1458040200 desc="Test image" os=testos extra=""
	for kv in "$@"; do
		case "$kv" in
		arch=*) arch=${kv#arch=} ;;
		date=*) date=${kv#date=} ;;
		desc=*) desc=${kv#desc=} ;;
		os=*) os=${kv#os=} ;;
		extra=*) extra=${kv#extra=} ;;
		esac
	done
	rm -rf "$dir"
	mkdir -p "$dir/rootfs/etc" "$dir/rootfs/bin" "$dir/templates"
	echo "host-$RANDOM" >"$dir/rootfs/etc/hostname"
	printf '#!/bin/sh\necho hi\n' >"$dir/rootfs/bin/hello"
	ln -s hello "$dir/rootfs/bin/hi"
	echo '{{ container.name }}' >"$dir/templates/hostname.tpl"
	{
		[ -n "$arch" ] && echo "architecture: \"$arch\""
		[ -n "$date" ] && echo "creation_date: $date"
		echo "properties:"
		echo "  description: \"$desc\""
		echo "  os: \"$os\""
		echo "  release: \"1.0\""
		echo "templates:"
		echo "  /etc/hostname:"
		echo "    when: [create, copy]"
		echo "    template: hostname.tpl"
		[ -n "$extra" ] && printf '%s\n' "$extra"
	} >"$dir/metadata.yaml"
}

# compress FILE ALGO -> prints the output name
compress_as() {
	case "$2" in
	none) echo "$1" ;;
	gzip) gzip -n -c "$1" >"$1.gz" && echo "$1.gz" ;;
	bzip2) bzip2 -c "$1" >"$1.bz2" && echo "$1.bz2" ;;
	xz) xz -c "$1" >"$1.xz" && echo "$1.xz" ;;
	lzma) xz --format=lzma -c "$1" >"$1.lzma" && echo "$1.lzma" ;;
	zstd) zstd -q -c "$1" >"$1.zst" && echo "$1.zst" ;;
	esac
}

# mkcert PATH: a self-signed client certificate PATH.crt and its key
# PATH.key (EC P-256, CN = the file name).
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.crt" -days 30 -subj "/CN=${1##*/}" \
	    >/dev/null 2>&1
}

# mkunified OUT ALGO [mkimage args...] -> prints the file
mkunified() {
	local out=$1 algo=$2
	shift 2
	mkimage_tree "$T_TMP/tree.$$" "$@"
	tar -C "$T_TMP/tree.$$" -cf "$out" metadata.yaml rootfs templates
	compress_as "$out" "$algo"
}

# mksplit OUT ALGO_META ALGO_ROOTFS [mkimage args...] -> prints two files
mksplit() {
	local out=$1 am=$2 ar=$3
	shift 3
	mkimage_tree "$T_TMP/tree.$$" "$@"
	tar -C "$T_TMP/tree.$$" -cf "$out.meta.tar" metadata.yaml templates
	tar -C "$T_TMP/tree.$$/rootfs" -cf "$out.rootfs.tar" .
	echo "$(compress_as "$out.meta.tar" "$am") $(compress_as \
	    "$out.rootfs.tar" "$ar")"
}

# jget PATH: a field of the JSON document on stdin ("metadata.err").
# A field that is not there prints "(no PATH)", so that an error body never
# matches an expected "" (JSON null still prints as "").
jget() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("(not JSON)"); sys.exit(0)
for k in sys.argv[1].split("."):
    if isinstance(d, list) and k.isdigit() and int(k) < len(d):
        d = d[int(k)]
    elif isinstance(d, dict) and k in d:
        d = d[k]
    else:
        print("(no %s)" % sys.argv[1]); sys.exit(0)
print("" if d is None else (json.dumps(d) if isinstance(d, (dict, list)) else d))
' "$1" 2>&1
}

# upload FILE [curl args...]: POST the file as a unified image and wait for
# the operation; prints "STATUS|ERROR" (the HTTP status of the POST, then
# the operation's error, empty on success).
upload() {
	local f=$1
	shift
	local resp code op
	resp=$(api POST /1.0/images --data-binary "@$f" \
	    -H 'Content-Type: application/octet-stream' "$@")
	code=$(printf '%s' "$resp" | tail -1)
	if [ "$code" != 202 ]; then
		echo "$code|$(printf '%s' "$resp" | sed '$d' | jget error)"
		return
	fi
	op=$(printf '%s' "$resp" | sed '$d' | jget operation)
	echo "$code|$(api_body GET "$op/wait?timeout=60" | jget metadata.err)"
}
