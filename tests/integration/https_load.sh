#!/bin/bash
# Load over HTTPS: 64 concurrent clients listing images and fetching image
# info while a 1 GiB export streams and an upload (from a trusted client)
# runs. Every request must succeed and the export's sha256 be right. (No
# timing is asserted: the figures are printed for the record.)
. "$(dirname "$0")/lib.bash"

# 64 clients, the export and the upload: 66 connections from one address,
# more than the default cap of 64 per client.
https_start "http_conns_per_client: 128" || { summary; exit 1; }
cd "$W" || exit 1

# A 1 GiB public image (incompressible), and 20 small ones to list.
mkimage_tree "$W/tree"
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$W/tree/rootfs/big"
tar -C "$W/tree" -cf "$W/big.tar" metadata.yaml rootfs templates
rm -f "$W/tree/rootfs/big"
BIG=$(sha256sum "$W/big.tar" | cut -d' ' -f1)
check "import the 1 GiB image" lxc image import "$W/big.tar" --public
for i in $(seq 1 20); do
	lxc image import "$(mkunified "$W/s$i.tar" gzip desc="small $i")" \
	    --public >/dev/null 2>&1
done
FP=$(sha256sum "$W/s1.tar.gz" | cut -d' ' -f1)
check_eq "21 public images" "$(api_body GET /1.0/images | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["metadata"]))')" 21

# A trusted client for the upload.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$W/c.key" -out "$W/c.crt" -days 2 -subj /CN=loader \
    >/dev/null 2>&1
"$BIN/imgctl" config trust add "$W/c.crt" >/dev/null
mkimage_tree "$W/tree2"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$W/tree2/rootfs/mid"
tar -C "$W/tree2" -cf "$W/up.tar" metadata.yaml rootfs templates
UP=$(sha256sum "$W/up.tar" | cut -d' ' -f1)

t0=$(date +%s.%N)
curl -sk "$URL/1.0/images/$BIG/export" | sha256sum | cut -d' ' -f1 \
    >"$W/export.sha" &
EXP=$!
curl -sk --cert "$W/c.crt" --key "$W/c.key" -X POST --data-binary \
    "@$W/up.tar" -H 'Content-Type: application/octet-stream' \
    "$URL/1.0/images" >"$W/upload.json" &
UPL=$!
out=$(python3 - "$PORT" "$FP" <<'PY'
import http.client, json, ssl, sys, threading, time
port, fp = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
fails, done, lat = [], [0], []
lock = threading.Lock()
def client(n):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    for i in range(20):
        path = "/1.0/images?recursion=1" if i % 2 else "/1.0/images/" + fp
        t = time.time()
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            ok = r.status == 200 and json.loads(body)["status_code"] == 200
            if ok and i % 2:
                ok = len(json.loads(body)["metadata"]) == 21
        except Exception as e:
            ok, body = False, repr(e).encode()
        with lock:
            lat.append(time.time() - t)
            done[0] += 1
            if not ok:
                fails.append("%s: %s" % (path, body[:120]))
    c.close()
ts = [threading.Thread(target=client, args=(n,)) for n in range(64)]
[t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
print("requests %d failed %d p50 %.1f ms p99 %.1f ms" % (done[0], len(fails),
      1000 * lat[len(lat) // 2], 1000 * lat[int(len(lat) * .99)]))
for f in fails[:5]:
    print("fail " + f)
PY
)
echo "# 64 clients: $out"
check_contains "1280 requests from 64 clients, none failed" "$out" \
    "requests 1280 failed 0 "
wait "$UPL"
op=$(jget operation <"$W/upload.json")
check_eq "the upload over HTTPS succeeded" "$(api_body GET "$op/wait?timeout=120" |
    jget metadata.status)" Success
check_eq "... with the right fingerprint" "$(api_status GET "/1.0/images/$UP")" 200
wait "$EXP"
t1=$(date +%s.%N)
check_eq "the 1 GiB export's sha256" "$(cat "$W/export.sha")" "$BIG"
echo "# export + load took $(echo "$t1 - $t0" | bc) s"
check_eq "the frontend did not restart" "$(grep -c 'frontend.*killed\|restarting the frontend' "$T_TMP/imgd.log")" 0
summary
