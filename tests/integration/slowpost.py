#!/usr/bin/env python3
"""slowpost.py SOCKET FILE BYTES GATE [abort]: POSTs FILE to /1.0/images
over the Unix socket in two halves: the first BYTES, then, once the shell
command GATE succeeds (tried for up to 60 s), the rest -- or with "abort",
closes the connection instead. Prints "gate: ok" or "gate: timeout", then
the answer's status line and body (or "closed")."""
import socket
import subprocess
import sys
import time


def gate(cmd):
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if subprocess.call(["sh", "-c", cmd]) == 0:
            return "ok"
        time.sleep(0.1)
    return "timeout"


def main():
    path, name, first, cmd = sys.argv[1:5]
    abort = len(sys.argv) > 5 and sys.argv[5] == "abort"
    with open(name, "rb") as f:
        body = f.read()
    first = int(first)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"POST /1.0/images HTTP/1.1\r\nHost: imgd\r\n"
              b"Content-Type: application/octet-stream\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    s.sendall(body[:first])
    print("gate: " + gate(cmd), flush=True)
    if abort:
        s.close()
        return
    try:
        s.sendall(body[first:])
        s.settimeout(60)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        data = b""
    if not data:
        print("closed")
        return
    head, _, rest = data.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode())
    print(rest.decode(errors="replace"))


main()
