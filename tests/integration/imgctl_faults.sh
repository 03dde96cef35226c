#!/bin/bash
# imgctl against a scripted server that misbehaves on purpose: what
# imgctl sends (headers, multipart framing, project on every request),
# and what it does when an answer is wrong (bad hash, cut body, unsafe
# file name, early rejection, failed operation, non-JSON error, stale
# ETag). Needs python3 only; runs standalone:
#
#   tests/interop/imgctl_faults.sh
#
# imgctl is $IMGD_BUILD/bin/imgctl, else build/bin/imgctl. Ends with
# "N passed, N failed" and removes what it created.
set -u
cd "$(dirname "$0")/../.." || exit 1
IMGCTL=${IMGD_BUILD:-$PWD/build}/bin/imgctl
if [ ! -x "$IMGCTL" ]; then
	echo "$IMGCTL: not built (make)" >&2
	exit 2
fi
WORK=$(mktemp -d /tmp/imgctl-faults.XXXXXX)
SRV_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID"
	rm -rf "$WORK"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

cat >"$WORK/server.py" <<'EOF'
# A scripted LXD-like server on a Unix socket. The scenario is read from
# the file "scenario" next to the socket before each request, so that
# one server serves every test.
import hashlib, http.server, json, os, socketserver, sys

DIR = sys.argv[1]
LOG = os.path.join(DIR, "requests.log")
CONTENT = b"unified image bytes\n" * 100
FP = hashlib.sha256(CONTENT).hexdigest()
META, ROOTFS = b"meta" * 50, b"rootfs\r\n--" * 500
SPLIT_FP = hashlib.sha256(META + ROOTFS).hexdigest()

def scenario():
    with open(os.path.join(DIR, "scenario")) as f:
        return f.read().strip()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # imgctl gave up: expected

    def record(self, **extra):
        e = {"m": self.command, "p": self.path,
             "h": {k.lower(): v for k, v in self.headers.items()},
             "aliases": self.headers.get_all("X-Imgd-Alias") or []}
        e.update(extra)
        with open(LOG, "a") as f:
            f.write(json.dumps(e) + "\n")

    def reply(self, code, body, ctype="application/json", hdrs=(),
              chunked=False):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in hdrs:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                c = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def sync(self, meta, code=200, **kw):
        self.reply(code, {"type": "sync", "status": "Success",
                          "status_code": 200, "error": "",
                          "metadata": meta}, **kw)

    def error(self, code, msg):
        self.reply(code, {"type": "error", "error": msg,
                          "error_code": code})

    def image(self, fp):
        return {"fingerprint": fp, "public": False, "size": 1,
                "architecture": "x86_64", "properties": {"os": "x"},
                "aliases": [], "profiles": ["default"],
                "uploaded_at": "2026-01-02T03:04:05Z"}

    def do_GET(self):
        self.record()
        s, p = scenario(), self.path.split("?")[0]
        if p == "/1.0":
            self.sync({"environment": {"server": "imgd" if s == "imgd"
                                       else "lxd"}})
        elif p.startswith("/1.0/images/aliases/"):
            self.error(404, "Image alias not found")
        elif p == "/1.0/images/aliases":
            self.sync([])
        elif p == "/1.0/images":
            if s == "500":
                self.reply(500, b"oops", ctype="text/plain")
            else:
                self.sync([self.image(FP)], chunked=True)
        elif p.startswith("/1.0/operations/"):
            if s == "opfail":
                self.sync({"status_code": 400, "status": "Failure",
                           "err": "Unpacking failed: bad tarball"})
            else:
                self.sync({"status_code": 200, "status": "Success",
                           "metadata": {"fingerprint": FP}})
        elif p.endswith("/export"):
            self.export(s)
        elif p.startswith("/1.0/images/"):
            fp = p.split("/")[3]
            for full in (FP, SPLIT_FP):
                if full.startswith(fp):
                    return self.sync(self.image(full),
                                     hdrs=[("ETag", '"etag1"')])
            self.error(404, "Image not found")
        else:
            self.error(404, "not found")

    def export(self, s):
        if s == "badhash":
            self.reply(200, CONTENT + b"x", ctype="application/octet-stream",
                       hdrs=[("Content-Disposition",
                              "inline;filename=x.tar.gz")])
        elif s == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Disposition", "inline;filename=x.tgz")
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            self.wfile.write(CONTENT[:100])
            self.close_connection = True
        elif s == "evil":
            self.reply(200, CONTENT, ctype="application/octet-stream",
                       hdrs=[("Content-Disposition",
                              'attachment; filename="../../evil.tar.gz"')])
        elif s in ("split", "badpart"):
            b = "b0und4ry"
            first = "rootfs" if s == "badpart" else "metadata"
            body = (b"--%s\r\nContent-Disposition: form-data; name=\"%s\";"
                    b" filename=\"m.tar.xz\"\r\n\r\n" % (b.encode(),
                                                        first.encode())
                    + META +
                    b"\r\n--%s\r\nContent-Disposition: form-data; "
                    b"name=\"rootfs\"; filename=\"r.tar\"\r\n\r\n" % b.encode()
                    + ROOTFS + b"\r\n--%s--\r\n" % b.encode())
            self.reply(200, body, ctype="multipart/form-data; boundary=" + b,
                       chunked=True)
        else:
            self.error(404, "Image not found")

    def do_POST(self):
        s = scenario()
        if self.path.startswith("/1.0/images/aliases"):
            n = int(self.headers.get("Content-Length", 0))
            self.record(body=self.rfile.read(n).decode())
            return self.sync({})
        if s == "early":
            self.record()
            self.error(413, "Image too large for this server")
            self.close_connection = True
            return
        n = int(self.headers["Content-Length"])
        body = self.rfile.read(n)
        parts = [l.decode("latin-1") for l in body.split(b"\r\n")
                 if l.startswith(b"Content-Disposition")]
        self.record(length=len(body), sha=hashlib.sha256(body).hexdigest(),
                    head=body[:300].decode("latin-1"), parts=parts,
                    tail=body[-100:].decode("latin-1"))
        self.reply(202, {"type": "async", "status": "Operation created",
                         "status_code": 100,
                         "operation": "/1.0/operations/0b1f-op",
                         "metadata": {"id": "0b1f-op"}})

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", 0))
        self.record(body=self.rfile.read(n).decode())
        if scenario() == "412":
            self.error(412, "ETag doesn't match: \"etag0\"")
        else:
            self.sync({})

    do_DELETE = do_GET

class S(socketserver.UnixStreamServer):
    pass

srv = S(os.path.join(DIR, "unix.socket"), H)
open(os.path.join(DIR, "ready"), "w").close()
srv.serve_forever()
EOF

mkdir -p "$WORK/srv"
echo ok >"$WORK/srv/scenario"
python3 "$WORK/server.py" "$WORK/srv" &
SRV_PID=$!
for _ in $(seq 50); do [ -e "$WORK/srv/ready" ] && break; sleep 0.1; done
export IMGD_DIR=$WORK/srv
FP=$(python3 -c 'import hashlib
print(hashlib.sha256(b"unified image bytes\n" * 100).hexdigest())')
LOG=$WORK/srv/requests.log

scen() { echo "$1" >"$WORK/srv/scenario"; : >"$LOG"; }
# run: imgctl's exit code in $rc, stderr in $err, stdout in $out.
run() {
	out=$("$IMGCTL" "$@" 2>"$WORK/err")
	rc=$?
	err=$(cat "$WORK/err")
}
# logged PYTHON-EXPR: evaluate over the logged requests (list "r").
logged() {
	python3 -c "import json,sys; r=[json.loads(l) for l in open('$LOG')]
sys.exit(0 if ($1) else 1)"
}

# --- export faults --------------------------------------------------------
mkdir -p "$WORK/out"
scen badhash
run image export "${FP:0:8}" "$WORK/out"
check "bad hash: exit 1" [ $rc -eq 1 ]
check "bad hash: says so" [ "${err#Error: Image fingerprint doesn}" != "$err" ]
check "bad hash: nothing left" [ -z "$(ls -A "$WORK/out")" ]
run image export "${FP:0:8}" "$WORK/out/named"
check "bad hash to a file: nothing left" [ -z "$(ls -A "$WORK/out")" ]

scen drop
run image export "${FP:0:8}" "$WORK/out"
check "cut body: exit 1" [ $rc -eq 1 ]
check "cut body: says so" [ "$err" == "Error: the server closed the \
connection in the middle of its answer" ]
check "cut body: nothing left" [ -z "$(ls -A "$WORK/out")" ]

scen badpart
run image export "${FP:0:8}" "$WORK/out"
check "wrong part: refused" [ "$err" == "Error: Invalid multipart image: \
unexpected part \"rootfs\"" ]
check "wrong part: nothing left" [ -z "$(ls -A "$WORK/out")" ]

scen evil
mkdir -p "$WORK/out/sub"
run image export "${FP:0:8}" "$WORK/out/sub"
check "unsafe name: exported" [ $rc -eq 0 ]
check "unsafe name: kept inside the target" \
    cmp -s "$WORK/out/sub/evil.tar.gz" <(python3 -c \
    'import sys; sys.stdout.buffer.write(b"unified image bytes\n" * 100)')
check "unsafe name: nothing outside" \
    [ -z "$(find "$WORK" -name evil.tar.gz ! -path "$WORK/out/sub/*")" ]
rm -rf "$WORK/out"/*

# --- import ---------------------------------------------------------------
head -c 200000 /dev/zero >"$WORK/meta.tar"
head -c 300000 /dev/zero >"$WORK/root fs.tar"
scen ok
run image import "$WORK/meta.tar" "$WORK/root fs.tar" "a b=c d" x=1 \
    --public --alias first
check "split import: exit 0" [ $rc -eq 0 ]
check "split import: says the fingerprint" \
    [ "$out" == "Image imported with fingerprint: $FP" ]
check "split import: body as long as Content-Length" \
    logged "r[1]['length'] == int(r[1]['h']['content-length'])"
check "split import: multipart parts, metadata first" logged \
    "'name=\"metadata\"; filename=\"meta.tar\"' in r[1]['head'] and
     r[1]['h']['content-type'].startswith('multipart/form-data; boundary=')"
check "split import: two parts named as lxc names them" logged \
    "[p.split('; ', 1)[1] for p in r[1]['parts']] == [
     'name=\"metadata\"; filename=\"meta.tar\"',
     'name=\"rootfs\"; filename=\"root fs.tar\"']"
check "split import: closed once" logged \
    "r[1]['tail'].endswith('--' + r[1]['h']['content-type'].split('=')[1]
     + '--\r\n')"
check "split import: properties, filename and public headers" logged \
    "r[1]['h']['x-lxd-properties'] == 'a+b=c+d&x=1' and
     r[1]['h']['x-lxd-filename'] == 'meta.tar' and
     r[1]['h']['x-lxd-public'] == 'true'"
check "not imgd: alias created afterwards as lxc does" logged \
    "any(e['m'] == 'POST' and e['p'] == '/1.0/images/aliases' and
         json.loads(e['body'])['name'] == 'first' for e in r)"

scen imgd
run image import "$WORK/meta.tar" --alias "my alias" --alias b/c
check "imgd: unified import" [ $rc -eq 0 ]
check "imgd: aliases in X-Imgd-Alias headers" \
    logged "r[1]['aliases'] == ['my%20alias', 'b/c']"
check "imgd: no alias request afterwards" \
    logged "not any(e['p'].startswith('/1.0/images/aliases') for e in r)"
check "unified import: raw body" logged \
    "r[1]['length'] == 200000 and
     r[1]['h']['content-type'] == 'application/octet-stream'"

head -c 30000000 /dev/zero >"$WORK/big.tar"
scen early
run image import "$WORK/big.tar"
check "early rejection: the server's message" \
    [ "$err" == "Error: Image too large for this server" ]

scen opfail
run image import "$WORK/meta.tar"
check "failed operation: its error" \
    [ "$err" == "Error: Unpacking failed: bad tarball" ]
check "failed operation: no success message" [ -z "$out" ]

scen ok
run --project p1 image import "$WORK/meta.tar" -q
check "project on every request, operations too" logged \
    "len(r) >= 2 and all('project=p1' in e['p'] for e in r)"
check "quiet import prints nothing" [ -z "$out" ]

run image import "$WORK/nope.tar"
check "missing file: named" \
    [ "$err" == "Error: cannot open $WORK/nope.tar: No such file or \
directory" ]
run image import "$WORK"
check "directory: refused" [ "${err%%: imgctl imports*}" == \
    "Error: $WORK is a directory" ]

# --- other answers --------------------------------------------------------
scen 500
run image list
check "non-JSON error: status shown" \
    [ "$err" == "Error: the server answered 500 Internal Server Error" ]
scen ok
run image list -f csv -c F
check "chunked answer: parsed" [ "$out" == "$FP" ]

scen 412
run image set-property "${FP:0:8}" os y
check "stale ETag: the server's message" \
    [ "$err" == "Error: ETag doesn't match: \"etag0\"" ]
check "PUT carries If-Match" \
    logged "any(e['m'] == 'PUT' and e['h']['if-match'] == '\"etag1\"'
                for e in r)"
scen ok
echo 'properties: {os: z}' | "$IMGCTL" image edit "${FP:0:8}"
check "edit PUTs ImagePut" logged \
    "json.loads([e for e in r if e['m'] == 'PUT'][0]['body']) ==
     {'auto_update': False, 'properties': {'os': 'z'}, 'public': False,
      'expires_at': '0001-01-01T00:00:00Z', 'profiles': None}"

run image info "zz"
check "unknown image: server's message" [ "$err" == "Error: Image not found" ]

kill "$SRV_PID" && wait "$SRV_PID" 2>/dev/null
SRV_PID=
run image list
check "no server: says where it looked" [ "$err" == "Error: cannot connect \
to $WORK/srv/unix.socket: Connection refused (is imgd running? IMGD_DIR \
selects its directory)" ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
