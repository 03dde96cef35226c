#!/usr/bin/env python3
"""Listens on imgd's (or LXD's) /1.0/events websocket and prints each event
as one line of JSON, for the shell tests.

    wsevents.py SOCKET QUERY SECONDS [READY_FILE]

QUERY is the query string ("type=logging"); the first line printed is the
handshake's status line. Stops after SECONDS, or when the server closes.
READY_FILE, if given, is created once the handshake is done. With
WS_PING=1 in the environment it sends a masked ping first and prints the
pong as "pong PAYLOAD". With WS_SHOW_CLOSE=1 a close frame from the server
is printed as "close CODE REASON".
"""
import base64, json, os, socket, struct, sys, time

sock, query, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /1.0/events?%s HTTP/1.1\r\nHost: x\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" %
           (query, key)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        print("closed before the handshake")
        sys.exit(1)
    buf += d
head, buf = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode(), flush=True)
if os.environ.get("WS_PING") == "1":
    mask = os.urandom(4)
    s.sendall(bytes([0x89, 0x84]) + mask +
              bytes(b ^ mask[i % 4] for i, b in enumerate(b"ping")))
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
end = time.time() + seconds
while True:
    while len(buf) >= 2:
        op, ln = buf[0] & 15, buf[1] & 127
        off = 2
        if ln == 126:
            ln = struct.unpack(">H", buf[2:4])[0]; off = 4
        elif ln == 127:
            ln = struct.unpack(">Q", buf[2:10])[0]; off = 10
        if len(buf) < off + ln:
            break
        payload, buf = buf[off:off + ln], buf[off + ln:]
        if op == 10:
            print("pong", payload.decode(), flush=True)
        elif op == 1:
            print(json.dumps(json.loads(payload), sort_keys=True), flush=True)
        elif op == 8:
            if os.environ.get("WS_SHOW_CLOSE") == "1":
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
                print("close", code, payload[2:].decode(), flush=True)
            sys.exit(0)
    left = end - time.time()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
