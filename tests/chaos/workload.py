#!/usr/bin/env python3
"""One client's operations against imgd until a stop file appears.

    workload.py SOCKET POOL LEDGER STOPFILE SEED [FAVOUR]

POOL is pool.json (tests/chaos/run.sh): the images this client can import,
copy, publish and unpack. Each operation ends with one JSON line in LEDGER, flushed
before the next begins: {"op", its keys, "ok": true when imgd acknowledged
it (the HTTP answer, or the operation's Success)}. Anything else (an error,
a reset connection, a daemon that is gone) is "ok": false: the operation
may or may not have happened, and tests/chaos/verify.py accepts either, but
never half of it. FAVOUR names an operation (import, copy, unpack...) to
run eight times as often: a round that kills a fetcher needs copies.
"""
import http.client
import json
import os
import random
import socket
import sys
import time


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("imgd", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def call(sock, method, path, body=None, headers=None, timeout=30):
    c = UnixConn(sock, timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = {}
        return r.status, doc
    finally:
        c.close()


def call_json(sock, method, path, obj, timeout=30):
    return call(sock, method, path, body=json.dumps(obj),
                headers={"Content-Type": "application/json"},
                timeout=timeout)


def wait_op(sock, resp):
    status, doc = resp
    if status != 202 or not doc.get("operation"):
        return False, "%d %s" % (status, doc.get("error", ""))
    st, w = call(sock, "GET", doc["operation"] + "/wait?timeout=60",
                 timeout=70)
    m = w.get("metadata") or {}
    if st == 200 and m.get("status") == "Success":
        return True, m.get("metadata") or {}
    return False, m.get("err") or "%d %s" % (st, w.get("error", ""))


def multipart(meta, rootfs, rootfs_name):
    b = "chaos%08x" % random.getrandbits(32)
    head = ('--%s\r\nContent-Disposition: form-data; name="metadata"; '
            'filename="meta.tar"\r\n\r\n' % b).encode()
    mid = ('\r\n--%s\r\nContent-Disposition: form-data; name="rootfs"; '
           'filename="%s"\r\n\r\n' % (b, rootfs_name)).encode()
    tail = ("\r\n--%s--\r\n" % b).encode()
    return head + meta + mid + rootfs + tail, \
        "multipart/form-data; boundary=" + b


class Client:
    def __init__(self, sock, pool, ledger, stop, seed, favour=""):
        self.sock, self.pool, self.stop = sock, pool, stop
        self.ledger = open(ledger, "a")
        self.rnd = random.Random(seed)
        self.n = 0
        self.view = set()      # fingerprints this client believes present
        self.aliases = {}      # name -> fingerprint
        self.seed = seed
        self.favour = favour

    def log(self, rec):
        self.ledger.write(json.dumps(rec) + "\n")
        self.ledger.flush()
        os.fsync(self.ledger.fileno())

    def refresh_view(self):
        try:
            st, d = call(self.sock, "GET", "/1.0/images", timeout=10)
            if st == 200:
                self.view = {u.rsplit("/", 1)[1] for u in d["metadata"]}
            st, d = call(self.sock, "GET", "/1.0/images/aliases?recursion=1",
                         timeout=10)
            if st == 200:
                self.aliases = {a["name"]: a["target"] for a in d["metadata"]}
        except (OSError, http.client.HTTPException, KeyError, ValueError):
            pass

    # ---- operations: each returns (record, acknowledged) ----
    def op_import(self):
        free = [i for i in self.pool["images"]
                if i["fp"] not in self.view and i["local"]]
        if not free:
            return None
        img = self.rnd.choice(free)
        rec = self.cur = {"op": "import", "fp": img["fp"], "kind": img["kind"]}
        if img["kind"] == "unified":
            body = open(img["files"][0], "rb").read()
            ctype = "application/octet-stream"
        else:
            body, ctype = multipart(open(img["files"][0], "rb").read(),
                                    open(img["files"][1], "rb").read(),
                                    os.path.basename(img["files"][1]))
        ok, m = wait_op(self.sock, call(
            self.sock, "POST", "/1.0/images", body=body,
            headers={"Content-Type": ctype,
                     "X-LXD-fingerprint": img["fp"]}, timeout=60))
        if ok and m.get("fingerprint") != img["fp"]:
            # Never "maybe": a store that acknowledges another image
            # than the one sent is wrong (verify.py fails the round).
            self.cur["wrong_fp"] = m.get("fingerprint")
        return rec, ok, m

    def op_copy(self):
        free = [i for i in self.pool["images"]
                if i["fp"] not in self.view and i["remote"]]
        if not free or not self.pool.get("remote"):
            return None
        img = self.rnd.choice(free)
        self.cur = {"op": "copy", "fp": img["fp"], "kind": img["kind"]}
        src = {"type": "image", "protocol": "lxd",
               "server": self.pool["remote"]["url"],
               "certificate": self.pool["remote"]["certificate"],
               "fingerprint": img["fp"]}
        ok, m = wait_op(self.sock, call_json(
            self.sock, "POST", "/1.0/images", {"source": src}))
        return self.cur, ok, m

    def op_publish(self):
        free = [i for i in self.pool["images"]
                if i["fp"] not in self.view and i.get("publish")]
        if not free:
            return None
        img = self.rnd.choice(free)
        self.cur = {"op": "publish", "fp": img["fp"], "kind": img["kind"]}
        # The fields imgctl publish sends, so that the fingerprint is the
        # one the remote got for the same directory (run.sh).
        body = {"source": {"type": "directory", "path": img["publish"]},
                "aliases": [], "properties": {}, "public": False,
                "split": False, "xattrs": False,
                "compression_algorithm": "gzip"}
        ok, m = wait_op(self.sock, call_json(
            self.sock, "POST", "/1.0/images", body))
        if ok and m.get("fingerprint") != img["fp"]:
            # Never "maybe": a store that acknowledges another image
            # than the one sent is wrong (verify.py fails the round).
            self.cur["wrong_fp"] = m.get("fingerprint")
        return self.cur, ok, m

    def op_delete(self):
        if not self.view:
            return None
        fp = self.rnd.choice(sorted(self.view))
        self.cur = {"op": "delete", "fp": fp}
        ok, m = wait_op(self.sock, call(self.sock, "DELETE",
                                        "/1.0/images/" + fp))
        return self.cur, ok, m

    def op_alias(self):
        names = ["a%d" % i for i in range(6)]
        name = self.rnd.choice(names)
        if name in self.aliases:
            if self.rnd.random() < 0.5 or not self.view:
                self.cur = {"op": "alias_delete", "name": name}
                st, d = call(self.sock, "DELETE",
                             "/1.0/images/aliases/" + name)
                return self.cur, st == 200, \
                    d.get("error", "")
            fp = self.rnd.choice(sorted(self.view))
            self.cur = {"op": "alias_move", "name": name, "fp": fp}
            st, d = call_json(self.sock, "PUT", "/1.0/images/aliases/" + name,
                              {"target": fp, "description": "moved"})
            return self.cur, st == 200, d.get("error", "")
        if not self.view:
            return None
        fp = self.rnd.choice(sorted(self.view))
        self.cur = {"op": "alias_create", "name": name, "fp": fp}
        st, d = call_json(self.sock, "POST", "/1.0/images/aliases",
                          {"name": name, "target": fp})
        return self.cur, st in (200, 201), d.get("error", "")

    def op_edit(self):
        if not self.view:
            return None
        fp = self.rnd.choice(sorted(self.view))
        value = "v%d-%d" % (self.seed, self.n)
        self.cur = {"op": "edit", "fp": fp, "value": value}
        st, d = call_json(self.sock, "PATCH", "/1.0/images/" + fp,
                          {"properties": {"chaos": value}})
        return self.cur, st == 200, \
            d.get("error", "")

    def op_unpack(self):
        if not self.view:
            return None
        fp = self.rnd.choice(sorted(self.view))
        target = "t%d-%d" % (self.seed, self.n)
        self.cur = {"op": "unpack", "fp": fp, "target": target}
        ok, m = wait_op(self.sock, call_json(
            self.sock, "POST", "/1.0/images/%s/unpack" % fp,
            {"target": target}))
        return self.cur, ok, m

    def run(self):
        self.refresh_view()
        ops = [(self.op_import, 5), (self.op_copy, 2), (self.op_publish, 1),
               (self.op_delete, 3),
               (self.op_alias, 4), (self.op_edit, 3), (self.op_unpack, 2)]
        fns = [f for f, w in ops
               for _ in range(w * (8 if f.__name__ == "op_" + self.favour
                                   else 1))]
        while not os.path.exists(self.stop):
            self.cur = None
            try:
                r = self.rnd.choice(fns)()
            except (OSError, http.client.HTTPException) as e:
                if self.cur is None:
                    raise
                r = (self.cur, False, "%s: %s" % (type(e).__name__, e))
            if r is None:
                continue
            rec, ok, detail = r
            self.n += 1
            rec["ok"] = bool(ok)
            if not ok:
                rec["err"] = str(detail)[:200]
            self.log(rec)
            if ok:
                fp = rec.get("fp")
                if rec["op"] in ("import", "copy", "publish"):
                    self.view.add(fp)
                elif rec["op"] == "delete":
                    self.view.discard(fp)
                    self.aliases = {k: v for k, v in self.aliases.items()
                                    if v != fp}
                elif rec["op"] in ("alias_create", "alias_move"):
                    self.aliases[rec["name"]] = fp
                elif rec["op"] == "alias_delete":
                    self.aliases.pop(rec["name"], None)
            else:
                # The daemon may be restarting: look again before going on.
                time.sleep(0.05)
                self.refresh_view()


def main():
    sock, pool, ledger, stop, seed = sys.argv[1:6]
    pool = json.load(open(pool))
    c = Client(sock, pool, ledger, stop, int(seed),
               sys.argv[6] if len(sys.argv) > 6 else "")
    try:
        c.run()
    except (OSError, http.client.HTTPException) as e:
        # Unexpected here (each call catches its own errors), but a client
        # failure must never look like a clean run.
        print("workload: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
