#!/usr/bin/env python3
"""Hostile HTTPS clients against imgd; imgd must keep serving others.

    tls_hostile.py PORT UNIX_SOCKET FINGERPRINT FRONTEND_PID

Prints TAP-ish lines "ok - ..." / "not ok - ..." that https_hostile.sh
counts. FINGERPRINT is a public image of at least 8 MiB (the stalled
export)."""
import os
import socket
import ssl
import sys
import time

PORT = int(sys.argv[1])
UNIX = sys.argv[2]
FP = sys.argv[3]
FE = sys.argv[4]
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def report(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what)
    if not ok and detail:
        print("# " + detail.replace("\n", "\n# "))
    sys.stdout.flush()


def tls(timeout=10):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    return CTX.wrap_socket(s)


def read_all(s, limit=1 << 20):
    data = b""
    try:
        while len(data) < limit:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (socket.timeout, ssl.SSLError, ConnectionResetError):
        pass
    return data


def request(raw, timeout=10):
    s = tls(timeout)
    s.sendall(raw)
    data = read_all(s)
    s.close()
    return data


def status(data):
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return parts[1] if len(parts) > 1 else "(none: %r)" % line[:60]


def served(timeout=5):
    """Another client, served promptly: GET /1.0 over HTTPS."""
    try:
        d = request(b"GET /1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    timeout)
        return status(d) == "200"
    except OSError:
        return False


def closed_by_server(s, wait):
    """Did the server close s within wait seconds (reading nothing)?"""
    s.settimeout(wait)
    try:
        d = s.recv(4096)
        return True, d
    except socket.timeout:
        return False, b""
    except (OSError, ssl.SSLError):
        return True, b""


def rss_kib():
    with open("/proc/%s/status" % FE) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    # Heads beyond the limits.
    d = request(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    report(status(d) == "414", "request line over 8 KiB: 414", status(d))
    d = request(b"GET /1.0 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 +
                b"\r\n\r\n")
    report(status(d) == "431", "a header over 8 KiB: 431", status(d))
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(120))
    d = request(b"GET /1.0 HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    report(status(d) == "431", "120 header fields: 431", status(d))
    d = request(b"POST /1.0/images/aliases HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0\r\n\r\n")
    report(status(d) == "400", "Content-Length with Transfer-Encoding: 400",
           status(d))
    report(b"connection: close" in d.lower(), "... and the connection closes")
    deep = b"[" * 100 + b"]" * 100
    d = request(b"POST /1.0/images/aliases HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n" % len(deep) + deep)
    report(status(d) == "400", "JSON nested 100 deep: 400", status(d))
    d = request(b"POST /1.0/images/aliases HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 2000000\r\nConnection: close\r\n\r\n")
    report(status(d) == "413", "a JSON body over 1 MiB: 413", status(d))
    d = request(b"GET /1.0/images/..%2f..%2fetc%2fpasswd HTTP/1.1\r\n"
                b"Host: x\r\nConnection: close\r\n\r\n")
    report(status(d) == "400", "path traversal in the URL: 400", status(d))

    # A handshake that never finishes, and a slowloris head: both closed
    # after the header timeout (3 s here) while others are served.
    raw = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    loris = tls(30)
    loris.sendall(b"GET /1.0 HTTP/1.1\r\n")
    t0 = time.time()
    ok_served = True
    while time.time() - t0 < 2:
        loris.sendall(b"X")  # a byte at a time does not move the deadline
        ok_served = ok_served and served()
        time.sleep(1)
    report(ok_served, "others are served during both")
    gone, _ = closed_by_server(raw, 25)
    report(gone, "a TLS handshake that never finishes is closed")
    gone, d = closed_by_server(loris, 25)
    report(gone, "a slowloris head is closed after the header timeout",
           repr(d[:80]))

    raw.close()
    loris.close()

    # Connections beyond the per-client cap (64 per address).
    conns = []
    for _ in range(64):
        c = tls()
        c.sendall(b"GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
        read_some = c.recv(1)
        conns.append((c, read_some))
    extra_ok = False
    try:
        e = tls(5)
        e.sendall(b"GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
        extra_ok = status(read_all(e)) == "200"
        e.close()
    except (OSError, ssl.SSLError):
        extra_ok = False
    report(not extra_ok, "the 65th connection from one address is refused")
    u = socket.socket(socket.AF_UNIX)
    u.connect(UNIX)
    u.sendall(b"GET /1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    report(status(read_all(u)) == "200",
           "... while the unix socket serves")
    u.close()
    for c, _ in conns:
        c.close()
    time.sleep(0.5)
    report(served(), "after they close, that address is served again")

    # Clients that stop reading an export: the frontend reads the image
    # only as fast as each client takes it.
    before = rss_kib()
    stalled = []
    for _ in range(8):
        s = tls()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /1.0/images/%s/export HTTP/1.1\r\nHost: x\r\n\r\n"
                  % FP.encode())
        s.recv(1)
        stalled.append(s)
    time.sleep(2)
    grown = rss_kib() - before
    report(grown < 16 * 1024,
           "8 stalled exports of a 16 MiB image: frontend RSS grows %d KiB "
           "(< 16 MiB)" % grown)
    report(served(), "others are served while exports stall")
    for s in stalled:
        s.close()


main()
