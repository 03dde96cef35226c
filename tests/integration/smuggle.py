#!/usr/bin/env python3
"""An upload the store refuses (unknown project) whose body is made of
requests: the connection must end after the one answer, or the body would
be taken for more requests. Prints "<responses> <first status line>"."""
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
inner = b"GET /1.0/images/aliases/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
body = inner * 20000
s.sendall(b"POST /1.0/images?project=nope HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body))
try:
    s.sendall(body)
except OSError:
    pass
s.settimeout(5)
data = b""
while True:
    try:
        d = s.recv(65536)
    except (socket.timeout, OSError):
        break
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 "), data.split(b"\r\n")[0].decode())
