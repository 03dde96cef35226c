#!/usr/bin/env python3
"""After a kill and a restart: is the store whole, and is everything that
was acknowledged still there?

    verify.py STATE POOL MODEL LEDGER AUDIT_SEQ IMGCTL

STATE: imgd's state dir (imgd runs again, its start-up repair done).
POOL: pool.json. MODEL: model.json, what earlier rounds settled (made
here when missing, rewritten at the end). LEDGER: this round's operations
(tests/chaos/workload.py). AUDIT_SEQ: the audit log's last seq before the
round. IMGCTL: the imgctl binary (audit verify).

The store must be whole whatever the ledger says: the database passes
PRAGMA integrity_check and foreign_key_check; every image row's files are
there and hash to its fingerprint; no file under images/ without a row
(repair moved those to quarantine/); tmp/ empty; no alias to a missing
image; no partial unpack; every tree under rootfs/ is a whole image tree;
the audit chain verifies.

Then the ledger: an acknowledged operation is there (and audited); one
that was not acknowledged may have happened or not, but wholly. Keys and
the values they may hold:
    img:FP    "present" / "absent"
    prop:FP   the image's "chaos" property (null: none)
    alias:N   the fingerprint it points to (null: no alias)
    tree:T    the fingerprint whose rootfs rootfs/T holds (null: none)
Each key has the set of values it may hold; an acknowledged operation
makes it one value, one that was not adds its value. What is seen becomes
the model for the next round.

Prints one line per problem ("not ok ...") and a last line "verify: ok" or
"verify: N problems"; exit 1 on any problem.
"""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys

problems = []


def bad(msg):
    problems.append(msg)
    print("not ok " + msg)


def sha256_of(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
    return h.hexdigest()


def tree_paths(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def main():
    state, pool_p, model_p, ledger_p, audit_seq, imgctl = sys.argv[1:7]
    audit_seq = int(audit_seq)
    pool = json.load(open(pool_p))
    trees = {i["fp"]: set(i["tree"]) for i in pool["images"]}
    model = json.load(open(model_p)) if os.path.exists(model_p) else {}
    allowed = {k: set(map(json.dumps, v)) for k, v in model.items()}

    # ---- the store is whole ----
    db = sqlite3.connect("file:%s/imgd.db?mode=ro" % state, uri=True)
    ic = db.execute("PRAGMA integrity_check").fetchall()
    if ic != [("ok",)]:
        bad("integrity_check: %s" % ic[:5])
    fk = db.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        bad("foreign_key_check: %s" % fk[:5])
    rows = db.execute("SELECT i.id, i.fingerprint, i.split, i.size FROM "
                      "images i JOIN projects p ON p.id = i.project_id "
                      "WHERE p.name = 'default'").fetchall()
    allrows = db.execute("SELECT fingerprint, split FROM images").fetchall()
    want_files = set()
    for fp, split in allrows:
        want_files.add(fp)
        if split:
            want_files.add(fp + ".rootfs")
    present = {}
    for iid, fp, split, size in rows:
        files = [os.path.join(state, "images", fp)]
        if split:
            files.append(files[0] + ".rootfs")
        missing = [f for f in files if not os.path.exists(f)]
        if missing:
            bad("image %s: a row without its file %s" % (fp, missing))
            continue
        got = sha256_of(files)
        if got != fp:
            bad("image %s: its files hash to %s" % (fp, got))
        total = sum(os.path.getsize(f) for f in files)
        if total != size:
            bad("image %s: size %d in its row, %d on disk" % (fp, size,
                                                               total))
        prop = db.execute("SELECT value FROM image_properties WHERE "
                          "image_id = ? AND key = 'chaos'",
                          (iid,)).fetchone()
        present[fp] = prop[0] if prop else None
    on_disk = set(os.listdir(os.path.join(state, "images")))
    on_disk.discard(".imgd-images")
    for n in sorted(on_disk - want_files):
        if not n.startswith("."):
            bad("images/%s: a file without a row (repair missed it)" % n)
        else:
            bad("images/%s: an unexpected name" % n)
    left = os.listdir(os.path.join(state, "tmp"))
    if left:
        bad("tmp/ not empty after the restart: %s" % left[:5])
    aliases = dict(db.execute(
        "SELECT a.name, i.fingerprint FROM image_aliases a JOIN images i ON "
        "i.id = a.image_id JOIN projects p ON p.id = a.project_id WHERE "
        "p.name = 'default'").fetchall())
    dangling = db.execute("SELECT name FROM image_aliases WHERE image_id NOT "
                          "IN (SELECT id FROM images)").fetchall()
    if dangling:
        bad("aliases to missing images: %s" % dangling)
    db.close()

    rootfs = os.path.join(state, "rootfs")
    seen_trees = {}
    for n in sorted(os.listdir(rootfs)) if os.path.isdir(rootfs) else []:
        if n.endswith(".imgd-partial"):
            bad("rootfs/%s: a partial unpack left after the restart" % n)
            continue
        got = tree_paths(os.path.join(rootfs, n))
        match = [fp for fp, t in trees.items() if t == got]
        if not match:
            bad("rootfs/%s: not a whole image tree (%d paths)" % (n,
                                                                 len(got)))
            continue
        seen_trees[n] = match  # images can share a tree (published ones)

    files = sorted(f for f in os.listdir(state) if f.startswith("audit.log"))
    files.sort(key=lambda f: int(f.rsplit(".", 1)[1])
               if f != "audit.log" else 1 << 30)
    r = subprocess.run([imgctl, "audit", "verify"] +
                       [os.path.join(state, f) for f in files],
                       capture_output=True, text=True)
    if r.returncode != 0:
        bad("audit verify: %s %s" % (r.stdout.strip()[-300:],
                                    r.stderr.strip()[-300:]))
    audit = []
    for f in files:
        for line in open(os.path.join(state, f)):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if int(rec.get("seq", 0)) > audit_seq:
                audit.append(rec)

    # ---- the ledger ----
    # An operation not acknowledged may still be running in the store (an
    # async one whose wait was cut by a frontend kill): its value stays
    # possible for the rest of the round, after later acknowledged ones.
    pending = {}

    def allow(k, v, sure):
        v = json.dumps(v)
        if sure:
            allowed[k] = {v} | pending.get(k, set())
        else:
            allowed.setdefault(k, {json.dumps(default(k))}).add(v)
            pending.setdefault(k, set()).add(v)

    def default(k):
        return "absent" if k.startswith("img:") else None

    def audited(event, **kv):
        for a in audit:
            if a.get("event") == event and all(a.get(x) == y
                                               for x, y in kv.items()):
                return True
        return False

    tally = {}
    for line in open(ledger_p) if os.path.exists(ledger_p) else []:
        rec = json.loads(line)
        op, ok, fp = rec["op"], rec["ok"], rec.get("fp")
        if rec.get("wrong_fp"):
            bad("%s of %s acknowledged as %s" % (op, fp, rec["wrong_fp"]))
        tally.setdefault(op, [0, 0])[0 if ok else 1] += 1
        if op in ("import", "copy", "publish"):
            allow("img:" + fp, "present", ok)
            allow("prop:" + fp, None, ok)
            if ok and not audited("image-created", fingerprint=fp):
                bad("%s of %s acknowledged but not audited" % (op, fp))
        elif op == "delete":
            allow("img:" + fp, "absent", ok)
            for k in [k for k in allowed if k.startswith("alias:")]:
                if json.dumps(fp) in allowed[k]:
                    if ok and json.dumps(fp) not in pending.get(k, ()):
                        allowed[k].discard(json.dumps(fp))
                    allowed[k].add(json.dumps(None))
                    if not ok:
                        pending.setdefault(k, set()).add(json.dumps(None))
            if ok and not audited("image-deleted", fingerprint=fp):
                bad("delete of %s acknowledged but not audited" % fp)
        elif op in ("alias_create", "alias_move"):
            allow("alias:" + rec["name"], fp, ok)
            if ok:
                allow("img:" + fp, "present", True)
                ev = ("image-alias-created" if op == "alias_create"
                      else "image-alias-updated")
                if not audited(ev, alias=rec["name"], target=fp):
                    bad("%s %s acknowledged but not audited" %
                        (op, rec["name"]))
        elif op == "alias_delete":
            allow("alias:" + rec["name"], None, ok)
            if ok and not audited("image-alias-deleted", alias=rec["name"]):
                bad("alias_delete %s acknowledged but not audited" %
                    rec["name"])
        elif op == "edit":
            allow("prop:" + fp, rec["value"], ok)
            if ok:
                allow("img:" + fp, "present", True)
                if not audited("image-updated", fingerprint=fp):
                    bad("edit of %s acknowledged but not audited" % fp)
        elif op == "unpack":
            allow("tree:" + rec["target"], fp, ok)
            if ok and not audited("image-unpacked", fingerprint=fp):
                bad("unpack of %s acknowledged but not audited" % fp)

    seen = {}
    for i in pool["images"]:
        fp = i["fp"]
        seen["img:" + fp] = "present" if fp in present else "absent"
        if fp in present:
            seen["prop:" + fp] = present[fp]
    for k in list(allowed):
        if k.startswith("alias:"):
            seen.setdefault(k, None)
        if k.startswith("tree:"):
            seen.setdefault(k, None)
    for n, fp in aliases.items():
        seen["alias:" + n] = fp
    for n, fps in seen_trees.items():
        may = allowed.get("tree:" + n, set())
        seen["tree:" + n] = next((fp for fp in fps if json.dumps(fp) in may),
                                 fps[0])
    for k, v in sorted(seen.items()):
        if k.startswith("prop:") and seen.get("img:" + k[5:]) != "present":
            continue
        may = allowed.get(k, {json.dumps(default(k))})
        if json.dumps(v) not in may:
            bad("%s is %s, but it may only be one of %s" %
                (k, json.dumps(v), sorted(may)))
    # What was seen is what the next round starts from; unpacked trees
    # are removed between rounds (run.sh), so they are not carried.
    json.dump({k: [v] for k, v in seen.items() if not k.startswith("tree:")},
              open(model_p, "w"))
    print("ops: " + " ".join("%s %d/%d" % (k, v[0], v[0] + v[1])
                              for k, v in sorted(tally.items())))
    if problems:
        print("verify: %d problems" % len(problems))
        sys.exit(1)
    print("verify: ok (%d images, %d aliases, %d trees)" %
          (len(present), len(aliases), len(seen_trees)))


if __name__ == "__main__":
    main()
