#!/usr/bin/env python3
"""Send an image upload over the Unix socket the way a real client might,
in pieces of random sizes with pauses between them, so that the frontend's
two ways of reading a body (libevent's buffer, and its own reads and
splices into the store's pipe) meet at every kind of boundary.

    body_paths.py SOCK MODE FILE [FILE2] [SEED]

MODE: length (Content-Length, then a pipelined GET /1.0 in the same
write), chunked (random chunk sizes, extensions, a trailer), multipart
(FILE + FILE2 as a split image), cut (chunked, then the connection is
closed in the middle of a chunk's data). Prints the status line of each
response, and for an upload the operation's path, one per line.
"""
import json
import os
import random
import socket
import sys
import time


def trickle(s, data, rnd):
    """data in pieces of 1 byte .. 256 KiB, sometimes with a pause."""
    i = 0
    while i < len(data):
        n = rnd.choice((1, 2, 7, 100, 4095, 4096, 4097, 65536, 200000,
                        262144))
        s.sendall(data[i:i + n])
        i += n
        if rnd.random() < 0.05:
            time.sleep(0.002)


def responses(s, count):
    """count responses: (status line, body)."""
    buf = b""
    out = []
    s.settimeout(30)
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return out
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        while len(buf) < length:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        out.append((lines[0], buf[:length]))
        buf = buf[length:]
    return out


def chunked(data, rnd, stop=None):
    """data as a chunked body; stop: cut in the middle of a chunk there."""
    out = []
    i = 0
    while i < len(data):
        n = rnd.choice((1, 3, 4096, 32768, 65536, 100000, 1 << 20))
        part = data[i:i + n]
        ext = b";x=y" if rnd.random() < 0.2 else b""
        out.append(b"%x%s\r\n" % (len(part), ext))
        if stop is not None and i + len(part) > stop:
            out.append(part[:len(part) // 2])
            return b"".join(out)
        out.append(part + b"\r\n")
        i += len(part)
    out.append(b"0\r\nX-Trailer: done\r\n\r\n")
    return b"".join(out)


def main():
    sock, mode, path = sys.argv[1:4]
    rest = sys.argv[4:]
    seed = int(rest.pop()) if rest and rest[-1].isdigit() else 1
    rnd = random.Random(seed)
    data = open(path, "rb").read()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    head = b"POST /1.0/images HTTP/1.1\r\nHost: x\r\n"
    want = 1
    if mode == "length":
        body = (head + b"Content-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\n\r\n" % len(data) + data +
                b"GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
        want = 2
    elif mode in ("chunked", "cut"):
        stop = len(data) // 2 if mode == "cut" else None
        body = (head + b"Content-Type: application/octet-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" +
                chunked(data, rnd, stop))
    elif mode == "multipart":
        rootfs = open(rest[0], "rb").read()
        b = b"b0undary" + str(seed).encode()
        mp = (b"--" + b + b"\r\nContent-Disposition: form-data; "
              b"name=\"metadata\"; filename=\"meta.tar\"\r\n\r\n" + data +
              b"\r\n--" + b + b"\r\nContent-Disposition: form-data; "
              b"name=\"rootfs\"; filename=\"rootfs.tar\"\r\n\r\n" + rootfs +
              b"\r\n--" + b + b"--\r\n")
        body = (head + b"Content-Type: multipart/form-data; boundary=" + b +
                b"\r\nContent-Length: %d\r\n\r\n" % len(mp) + mp)
    else:
        sys.exit("unknown mode " + mode)
    trickle(s, body, rnd)
    if mode == "cut":
        time.sleep(0.2)
        s.close()
        print("closed")
        return
    for status, payload in responses(s, want):
        print(status)
        if status.split()[1] == "202":
            print(json.loads(payload)["operation"])
    s.close()


if __name__ == "__main__":
    main()
