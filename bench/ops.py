#!/usr/bin/env python3
"""Times a sequence of API operations over a unix socket on one kept-alive
HTTP/1.1 connection (bench/policy.sh), so that what is measured is the
daemon, not a client process per request.

    ops.py SOCKET aliases N FINGERPRINT [PROJECT]
        N alias creations (POST /1.0/images/aliases), each followed by
        its deletion
    ops.py SOCKET images N DIR [PROJECT]
        N imports of DIR/img-0.tar ... (POST /1.0/images, waiting for
        the operation), then N deletions (waited for)
    ops.py fsync N DIR
        N appends of a 300-byte line to a file in DIR, each fdatasync()ed:
        the floor of a synchronous audit record

Prints "create SECONDS" and "delete SECONDS" (or "fsync SECONDS"); exits 1
on the first answer that is not a success, printing it.
"""
import http.client, json, os, socket, sys, time


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("local")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def call(c, method, url, body=None, headers=None, ok=(200, 201, 202)):
    c.request(method, url, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if r.status not in ok:
        sys.exit("%s %s: %d %s" % (method, url, r.status, data[:300]))
    return json.loads(data) if data else {}


def wait(c, d, q):
    op = d.get("operation")
    if not op:
        sys.exit("no operation in %s" % d)
    w = call(c, "GET", op + "/wait?timeout=120" + q.replace("?", "&"))
    if w["metadata"]["status"] != "Success":
        sys.exit("operation failed: %s" % w["metadata"].get("err"))
    return w["metadata"]


def main():
    if sys.argv[1] == "fsync":
        n, d = int(sys.argv[2]), sys.argv[3]
        fd = os.open(os.path.join(d, "fsync.bench"),
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        line = b"x" * 299 + b"\n"
        t = time.monotonic()
        for _ in range(n):
            os.write(fd, line)
            os.fdatasync(fd)
        print("fsync %.4f" % (time.monotonic() - t))
        os.close(fd)
        os.unlink(os.path.join(d, "fsync.bench"))
        return
    sock, mode, n, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    q = "?project=" + sys.argv[5] if len(sys.argv) > 5 else ""
    c = UnixConn(sock)
    if mode == "aliases":
        # Each created then deleted (imgd allows 32 aliases per image);
        # the two kinds timed apart.
        tc = td = 0.0
        for i in range(n):
            t0 = time.monotonic()
            call(c, "POST", "/1.0/images/aliases" + q,
                 json.dumps({"name": "b-%d" % i, "target": arg}),
                 {"Content-Type": "application/json"})
            t1 = time.monotonic()
            call(c, "DELETE", "/1.0/images/aliases/b-%d%s" % (i, q))
            td += time.monotonic() - t1
            tc += t1 - t0
        t, t1, t2 = 0.0, tc, tc + td
    else:
        bodies = [open(os.path.join(arg, "img-%d.tar" % i), "rb").read()
                  for i in range(n)]
        fps = []
        t = time.monotonic()
        for b in bodies:
            d = call(c, "POST", "/1.0/images" + q, b,
                     {"Content-Type": "application/octet-stream"})
            fps.append(wait(c, d, q)["metadata"]["fingerprint"])
        t1 = time.monotonic()
        for fp in fps:
            d = call(c, "DELETE", "/1.0/images/" + fp + q)
            wait(c, d, q)
        t2 = time.monotonic()
    print("create %.4f" % (t1 - t))
    print("delete %.4f" % (t2 - t1))


main()
