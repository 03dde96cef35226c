#!/usr/bin/env python3
"""A misbehaving image server for the fetcher's tests, on loopback.

    fakeremote.py PORTFILE IMAGE [CERT KEY]

Serves over HTTPS when CERT and KEY are given, else plain HTTP, and writes
its port to PORTFILE. Direct-URL images (LXD's HEAD protocol):

    /direct/MODE       LXD-Image-URL: BASE/file/MODE (redirect-X:
                       BASE/redirect/X), LXD-Image-Hash: sha256 of IMAGE
                       ("wronghash": of something else; "nohash": none)
    /file/ok           IMAGE, with its Content-Length
    /file/slow         IMAGE, 4 KiB every 0.2 s
    /file/close        half of IMAGE, then the connection closes
    /file/corrupt      IMAGE with one byte changed
    /file/endless      zeros, no Content-Length, until the client goes
    /file/drip         10 bytes a second
    /redirect/ok       302 to /file/ok           (relative Location)
    /redirect/loop     302 to itself
    /redirect/http     302 to http://127.0.0.1:PORT/file/ok
    /redirect/localhost 302 to https://localhost:PORT/file/ok
    /bad/streams/v1/index.json    not JSON
    /huge/streams/v1/index.json   65 MiB of spaces
Every request line is appended to PORTFILE.log.
"""
import hashlib
import http.server
import os
import socketserver
import ssl
import sys
import time

portfile, image = sys.argv[1], sys.argv[2]
data = open(image, "rb").read()
digest = hashlib.sha256(data).hexdigest()
tls = len(sys.argv) > 4


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        with open(portfile + ".log", "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if tls else "http",
                                      self.server.server_address[1])

    def send(self, code, headers=(), body=b""):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path
        port = self.server.server_address[1]
        if p.startswith("/direct/"):
            mode = p[len("/direct/"):]
            where = ("/redirect/" + mode[9:] if mode.startswith("redirect-")
                     else "/file/" + mode)
            h = [("LXD-Image-URL", self.base() + where),
                 ("LXD-Image-Hash", hashlib.sha256(b"x").hexdigest()
                  if mode == "wronghash" else digest)]
            if mode == "wronghash":
                h[0] = ("LXD-Image-URL", self.base() + "/file/ok")
            return self.send(200, [] if mode == "nohash" else h)
        if p == "/file/ok":
            return self.send(200, [("Content-Type", "application/octet-stream")], data)
        if p == "/file/corrupt":
            b = bytearray(data)
            b[len(b) // 2] ^= 0xff
            return self.send(200, (), bytes(b))
        if p in ("/file/slow", "/file/close", "/file/drip"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if p == "/file/close":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            step, pause = (4096, 0.2) if p == "/file/slow" else (10, 1.0)
            try:
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:
                pass
            return
        if p == "/file/endless":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                while True:
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                return
        if p == "/redirect/ok":
            return self.send(302, [("Location", "/file/ok")])
        if p == "/redirect/loop":
            return self.send(302, [("Location", "/redirect/loop")])
        if p == "/redirect/http":
            return self.send(302, [("Location", "http://127.0.0.1:%d/file/ok" % port)])
        if p == "/redirect/localhost":
            return self.send(302, [("Location", "https://localhost:%d/file/ok" % port)])
        if p == "/bad/streams/v1/index.json":
            return self.send(200, [("Content-Type", "application/json")], b"{not json")
        if p == "/huge/streams/v1/index.json":
            self.send_response(200)
            n = 65 * 1024 * 1024
            self.send_header("Content-Length", str(n))
            self.end_headers()
            try:
                for _ in range(n // 65536):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            return
        self.send(404, [("Content-Type", "application/json")],
                  b'{"error": "not found", "error_code": 404, "type": "error"}')


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S(("127.0.0.1", 0), H)
if tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
