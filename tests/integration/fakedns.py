#!/usr/bin/env python3
"""A DNS server on loopback UDP for the fetcher's resolver tests.

    fakedns.py PORTFILE NAME=ADDR...

Answers A queries for each NAME with ADDR, and NXDOMAIN for every other
name (AAAA for a known name: an empty answer). Writes its port to PORTFILE.
"""
import os
import socket
import struct
import sys

portfile = sys.argv[1]
names = dict(a.split("=", 1) for a in sys.argv[2:])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    addr = names.get(name)
    rcode = 0 if addr else 3
    answers = b""
    n = 0
    if addr and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + \
            socket.inet_aton(addr)
        n = 1
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, n, 0, 0)
    s.sendto(hdr + question + answers, peer)
