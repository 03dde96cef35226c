#!/usr/bin/env python3
"""uploads.py SOCKET N M: holds N unfinished uploads as this user and M
more as "nobody" (in another process), then starts one more as nobody and
prints the status line it gets, or "closed" when the connection is
refused before any answer."""
import os
import socket
import subprocess
import sys
import time

HEAD = (b"POST /1.0/images HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1000000\r\n\r\n" + b"\0" * 4096)


def hold(path, n):
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(HEAD)
        held.append(s)
    return held


def last(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    try:
        s.sendall(HEAD)
        s.settimeout(10)
        data = s.recv(4096)
    except OSError:
        data = b""
    return data.split(b"\r\n")[0].decode() if data else "closed"


def main():
    path, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:            # the "nobody" side
        held = hold(path, m)
        time.sleep(0.5)
        print(last(path))
        return
    held = hold(path, n)
    if m == 0:
        time.sleep(0.5)
        print(last(path))
        return
    out = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, os.path.abspath(__file__), path, "0", str(m),
         "nobody"], capture_output=True, text=True, timeout=60)
    print(out.stdout.strip() or out.stderr.strip())
    del held


main()
