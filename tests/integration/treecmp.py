#!/usr/bin/env python3
"""Compares two trees entry by entry: type, mode (setuid bits included),
owner, mtime (seconds), size and content, symlink target, hard-link
groups, and (with --xattrs) user.* xattrs.

    treecmp.py A B [--shift N] [--ignore REL]... [--xattrs]

--shift N: B's owners are A's plus N (a shifted unpack). Prints each
difference; exits 1 if there is any.
"""
import hashlib
import os
import stat
import sys


def walk(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = p
    return out


def digest(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def describe(p, xattrs):
    st = os.lstat(p)
    d = {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    if not stat.S_ISLNK(st.st_mode):
        d["mtime"] = int(st.st_mtime)
    if stat.S_ISREG(st.st_mode):
        d["size"] = st.st_size
        d["sha"] = digest(p)
    if stat.S_ISLNK(st.st_mode):
        d["link"] = os.readlink(p)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        d["rdev"] = st.st_rdev
    if xattrs and not stat.S_ISLNK(st.st_mode):
        d["xattrs"] = sorted((k, os.getxattr(p, k, follow_symlinks=False))
                             for k in os.listxattr(p, follow_symlinks=False)
                             if k.startswith("user."))
    return d, (st.st_ino if stat.S_ISREG(st.st_mode) and st.st_nlink > 1
               else None)


def main():
    args = sys.argv[1:]
    shift, ignore, xattrs = 0, set(), False
    a, b = args[0], args[1]
    i = 2
    while i < len(args):
        if args[i] == "--shift":
            shift = int(args[i + 1])
            i += 2
        elif args[i] == "--ignore":
            ignore.add(args[i + 1])
            i += 2
        elif args[i] == "--xattrs":
            xattrs = True
            i += 1
        else:
            sys.exit("unknown option " + args[i])
    ta, tb = walk(a), walk(b)
    bad = 0
    for rel in sorted(set(ta) | set(tb)):
        if rel in ignore:
            continue
        if rel not in tb or rel not in ta:
            print("only in %s: %s" % (a if rel in ta else b, rel))
            bad += 1
            continue
        da, _ = describe(ta[rel], xattrs)
        db, _ = describe(tb[rel], xattrs)
        da["uid"] += shift
        da["gid"] += shift
        for k in sorted(set(da) | set(db)):
            if da.get(k) != db.get(k):
                print("%s: %s %r != %r" % (rel, k, da.get(k), db.get(k)))
                bad += 1
    # Hard-link groups: the same names share an inode on both sides.
    def groups(t):
        g = {}
        for rel, p in t.items():
            if rel in ignore:
                continue
            _, ino = describe(p, False)
            if ino is not None:
                g.setdefault(ino, set()).add(rel)
        return sorted(sorted(s) for s in g.values() if len(s) > 1)
    ga, gb = groups(ta), groups(tb)
    if ga != gb:
        print("hard links differ: %r != %r" % (ga, gb))
        bad += 1
    print("%d entries compared, %d differences" % (len(ta), bad))
    sys.exit(1 if bad else 0)


main()
