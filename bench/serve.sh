#!/bin/bash
# bench/serve.sh: imgd as a public image server over HTTPS, next to a
# reference LXD serving the same public images, in one run.
#
#	sudo bench/serve.sh [N] [BIG_N]	# default 1000 and 100000
#	DURATION=5 EXPORT_MB=1024 bench/serve.sh
#
# Both daemons get the same N tiny public images (through their APIs) and
# one public image of EXPORT_MB MiB of random bytes. LXD runs in a network
# namespace of its own, with core.https_address 127.0.0.1:8443 there; wrk
# runs in the same namespace as the daemon it measures. Untrusted clients
# (no certificate) on both sides, so both answer with their public view:
#
#	wrk -c {1,16,64} GET /1.0/images?recursion=1
#	wrk -c {1,16,64} GET /1.0/images/<fp>
#	curl GET /1.0/images/<big>/export		(MB/s)
#
# with req/s, p50 and p99 latency and the imgd/LXD ratios, and each
# daemon's peak RSS. Then imgd alone with BIG_N images (rows and files
# made directly, not through the API: LXD would take hours to hold that
# many), the list and streams/v1/images.json, with the frontend's peak RSS
# against its idle RSS. Needs root and `make all`.
. "$(dirname "$0")/lib.sh"

N=${1:-1000}
BIG_N=${2:-100000}
DURATION=${DURATION:-5}
EXPORT_MB=${EXPORT_MB:-1024}
IMGD_PORT=18443
LXD_PORT=8443

need_deps wrk:wrk nsenter:util-linux ip:iproute2 python3:python3
mk_tmp
echo "== serve benchmark: $N public images, wrk ${DURATION}s per row," \
    "a $EXPORT_MB MiB export; then $BIG_N images in imgd"
need_disk $((EXPORT_MB * 4 + BIG_N / 100 + 500))
machine_info
echo "wrk: $(wrk --version 2>&1 | head -1)"
echo "kTLS: kernel $(if [ -e /proc/net/tls_stat ]; then echo has it;
    else echo has none; fi), OpenSSL $(openssl version -f |
    grep -q KTLS && echo built with it || echo built without it)"

# ---- images ----
IMGS=$B_TMP/images
mkdir -p "$IMGS" "$B_TMP/tree/rootfs/etc"
echo serve-bench >"$B_TMP/tree/rootfs/etc/hostname"
for i in $(seq 1 "$N"); do
	printf 'architecture: x86_64\ncreation_date: 1458040200\nproperties:\n  description: serve bench image %d\n  os: bench\n  release: "%d"\n' \
	    "$i" "$i" >"$B_TMP/tree/metadata.yaml"
	tar -C "$B_TMP/tree" -cf "$IMGS/img-$i.tar" metadata.yaml rootfs
done
(cd "$IMGS" && sha256sum img-*.tar) | sed 's/\.tar$//' |
    awk '{print $2, $1}' >"$B_TMP/fps"
FP1=$(awk '$1 == "img-1" {print $2}' "$B_TMP/fps")
head -c $((EXPORT_MB * 1024 * 1024)) /dev/urandom >"$B_TMP/tree/rootfs/big"
printf 'architecture: x86_64\ncreation_date: 1458040200\nproperties:\n  description: big\n' \
    >"$B_TMP/tree/metadata.yaml"
tar -C "$B_TMP/tree" -cf "$B_TMP/big.tar" metadata.yaml rootfs
rm -rf "$B_TMP/tree"
BIGFP=$(sha256sum "$B_TMP/big.tar" | cut -d' ' -f1)

printf 'https_address: 127.0.0.1:%s\n' $IMGD_PORT >"$B_TMP/imgd.yaml"
IMGD_ARGS="--config $B_TMP/imgd.yaml"
imgd_start
lxd_start
LXD_NS=/proc/$LXD_PID/ns/net
nsenter --net="$LXD_NS" ip link set lo up
LXD_DIR=$LXD_STATE lxc config set core.https_address "127.0.0.1:$LXD_PORT"

fill() {
	local s=$1 name fp resp re='"operation":"([^"]+)"'
	while read -r name fp; do
		resp=$(curl -s --unix-socket "$s" -X POST \
		    -H 'Content-Type: application/octet-stream' \
		    -H 'X-LXD-public: true' \
		    --data-binary "@$IMGS/$name.tar" http://x/1.0/images)
		[[ $resp =~ $re ]] || die "upload of $name failed: $resp"
		curl -s --unix-socket "$s" \
		    "http://x${BASH_REMATCH[1]}/wait?timeout=60" >/dev/null
	done <"$B_TMP/fps"
	api_op "$s" POST /1.0/images -H 'X-LXD-public: true' \
	    -H 'Content-Type: application/octet-stream' \
	    -T "$B_TMP/big.tar" || die "the big import failed"
}
echo "-- filling imgd and LXD"
fill "$IMGD_SOCK"
fill "$LXD_SOCK"
for s in "$IMGD_SOCK" "$LXD_SOCK"; do
	n=$(api "$s" GET /1.0/images | jq '.metadata | length')
	[ "$n" = $((N + 1)) ] || die "$s holds $n images, expected $((N + 1))"
done

# wrk_row WHO URL CONNS: prints "req/s p50_ms p99_ms".
wrk_row() {
	local who=$1 url=$2 c=$3 pre=() t=2
	[ "$who" = lxd ] && pre=(nsenter --net="$LXD_NS")
	[ "$c" -lt 2 ] && t=1 # wrk wants a connection per thread at least
	"${pre[@]}" wrk -t "$t" -c "$c" -d "${DURATION}s" --latency "$url" \
	    2>&1 | awk '
	    function ms(v) { if (v ~ /us$/) return v / 1000;
		if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000 }
	    /Requests\/sec/ {r = $2} / 50%/ {p50 = ms($2)} / 99%/ {p99 = ms($2)}
	    /Non-2xx/ {bad = $NF}
	    END {printf "%.1f %.2f %.2f %s\n", r, p50, p99, bad ? bad : 0}'
}

echo
echo "== untrusted HTTPS clients, $N public images (+1 big)"
printf '%-34s %5s %10s %10s %9s %9s %9s %9s %8s\n' request conns \
    "imgd req/s" "LXD req/s" "imgd p50" "LXD p50" "imgd p99" "LXD p99" \
    "req/s x"
reset_hwm "$IMGD_PID" "$(imgd_frontend_pid)" "$LXD_PID"
for path in "/1.0/images?recursion=1" "/1.0/images/$FP1"; do
	for c in 1 16 64; do
		read -r ir ip50 ip99 ibad <<<"$(wrk_row imgd \
		    "https://127.0.0.1:$IMGD_PORT$path" "$c")"
		read -r lr lp50 lp99 lbad <<<"$(wrk_row lxd \
		    "https://127.0.0.1:$LXD_PORT$path" "$c")"
		[ "$ibad$lbad" = 00 ] ||
		    echo "!! non-2xx answers: imgd $ibad, LXD $lbad"
		printf '%-34s %5s %10s %10s %7sms %7sms %7sms %7sms %8s\n' \
		    "${path:0:34}" "$c" "$ir" "$lr" "$ip50" "$lp50" "$ip99" \
		    "$lp99" "$(ratio "$ir" "$lr")"
	done
done

echo
echo "== a $EXPORT_MB MiB export to one untrusted client"
export_mbs() {
	local pre=() port=$2 out
	[ "$1" = lxd ] && pre=(nsenter --net="$LXD_NS")
	out=$("${pre[@]}" curl -sk -o >(sha256sum >"$B_TMP/exp.sha") \
	    -w '%{speed_download}' \
	    "https://127.0.0.1:$port/1.0/images/$BIGFP/export")
	sleep 0.5
	[ "$(cut -d' ' -f1 "$B_TMP/exp.sha")" = "$BIGFP" ] ||
	    echo "!! $1: the export's sha256 is wrong"
	awk -v b="$out" 'BEGIN {printf "%.0f", b / 1e6}'
}
im=$(export_mbs imgd $IMGD_PORT)
lm=$(export_mbs lxd $LXD_PORT)
printf 'imgd %s MB/s, LXD %s MB/s: imgd/LXD %s\n' "$im" "$lm" \
    "$(ratio "$im" "$lm")"
echo "(imgd reads each block into user space and OpenSSL encrypts it:"
echo " no kTLS with this OpenSSL, so no sendfile under TLS)"

echo
echo "== peak RSS over the rows above"
printf 'imgd store %s MiB + frontend %s MiB; LXD %s MiB\n' \
    "$(mib "$(hwm "$IMGD_PID")")" "$(mib "$(hwm "$(imgd_frontend_pid)")")" \
    "$(mib "$(hwm "$LXD_PID")")"
lxd_stop

# ---- imgd alone with BIG_N images ----
echo
echo "== imgd alone: $BIG_N public images (rows and files made directly)"
imgd_stop
python3 - "$IMGD_STATE" "$BIG_N" <<'PY'
import hashlib, os, sqlite3, sys, time
state, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(os.path.join(state, "imgd.db"))
now = int(time.time())
with db:
    for i in range(n):
        data = b"bulk image %d\n" % i
        fp = hashlib.sha256(data).hexdigest()
        with open(os.path.join(state, "images", fp), "wb") as f:
            f.write(data)
        cur = db.execute(
            "INSERT INTO images (project_id, fingerprint, filename, size, "
            "public, auto_update, cached, split, architecture, type, "
            "created_at, expires_at, uploaded_at, last_used_at, "
            "compression0, compression1, part0_sha256, part0_size, "
            "part1_sha256, part1_size, product) VALUES (1, ?, ?, ?, 1, 0, "
            "0, 0, 'x86_64', 'container', 1458040200, 0, ?, 0, 'none', '', "
            "?, ?, '', 0, ?)",
            (fp, "bulk-%d.tar" % i, len(data), now * 10**9, fp, len(data),
             "bulk:%d:amd64:default" % (i % 1000)))
        db.execute("INSERT INTO image_properties VALUES (?, 'os', 'bulk')",
                   (cur.lastrowid,))
PY
imgd_start
FE=$(imgd_frontend_pid)
sleep 1
idle=$(awk '/^VmRSS/ {print $2}' "/proc/$FE/status")
reset_hwm "$FE"
for path in "/1.0/images?recursion=1" /streams/v1/images.json; do
	run_timed "$B_TMP/big.out" curl -sk -o "$B_TMP/big.json" \
	    "https://127.0.0.1:$IMGD_PORT$path" || die "$path failed"
	printf '%-28s %8.2f s  %6.1f MiB  (%s images in it)\n' "$path" "$R_SEC" \
	    "$(awk -v b="$(stat -c %s "$B_TMP/big.json")" 'BEGIN {print b / 1048576}')" \
	    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
m = d.get("metadata"); print(len(m) if m is not None else
    sum(len(p["versions"]) for p in d["products"].values()))' "$B_TMP/big.json")"
done
printf 'frontend RSS: idle %s MiB, peak while serving %s MiB\n' \
    "$(mib "$idle")" "$(mib "$(hwm "$FE")")"
read -r r p50 p99 bad <<<"$(wrk_row imgd \
    "https://127.0.0.1:$IMGD_PORT/1.0/images/$FP1" 16)"
echo "GET /1.0/images/<fp> with $BIG_N images, 16 conns: $r req/s," \
    "p50 ${p50} ms, p99 ${p99} ms"
