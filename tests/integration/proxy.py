#!/usr/bin/env python3
"""A small HTTP CONNECT proxy on loopback for tests/integration/fetch_proxy.sh.

    proxy.py PORTFILE LOGFILE

Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE once it
listens), answers each CONNECT host:port by tunnelling to it, and appends
"CONNECT host:port" to LOGFILE for every tunnel it opens. Anything else
gets 405. It is the operator's proxy: it goes wherever it is asked.
"""
import socket
import sys
import threading


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(c, log):
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 16384:
        d = c.recv(4096)
        if not d:
            c.close()
            return
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    parts = head.split(b"\r\n")[0].split()
    if len(parts) != 3 or parts[0] != b"CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    target = parts[1].decode("ascii", "replace")
    host, _, port = target.rpartition(":")
    with open(log, "a") as f:
        f.write("CONNECT %s\n" % target)
    try:
        u = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        u.settimeout(None)
    except (OSError, ValueError):
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if rest:
        u.sendall(rest)
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
    pipe(c, u)


def main():
    portfile, log = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, log), daemon=True).start()


if __name__ == "__main__":
    main()
