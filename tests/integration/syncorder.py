#!/usr/bin/env python3
"""The durability order of one commit, from an strace of the store.

    syncorder.py TRACE KIND NAME
    syncorder.py TRACE reply FP

The second form prints the line number of the trace line that starts the
reply saying the import of FP succeeded (for tests that move it).

TRACE is `strace -f -qq -yy -s 4096 -e trace=fsync,fdatasync,linkat,sendmsg`
of the store. KIND is "image" (NAME: a fingerprint; its blobs are NAME and,
for a split image, NAME.rootfs) or "row" (NAME: a string the reply carries,
for a commit that writes rows and no file: the trace is of one request).

What must hold, each step finished before the next one starts:
  image: each blob's data synced (fsync/fdatasync of the temp file, in any
         thread), then linked into images/, then the images directory
         synced, then the database's WAL synced, then the reply (the first
         IPC record out of the store that says the import of NAME
         succeeded);
  row:   the WAL synced, then the reply (the last record out of the store
         that answers a request: ERR, OK, IMAGE_INFO or ALIAS_INFO; the
         trace is of one command, whose lookups come before its commit);
         some record out of the store names NAME, so the trace is of that
         commit.
Prints one line per step and "order: ok", or what is missing or out of
order and exits 1.
"""
import re
import sys

CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")


def events(path):
    """(start, end, pid, call, text): a call's start and end positions."""
    out, open_ = [], {}
    with open(path, errors="replace") as f:
        for pos, line in enumerate(f):
            m = CALL.match(line.rstrip("\n"))
            if not m:
                continue
            pid = m.group(1)
            if m.group(2):  # the end of an unfinished call
                if pid in open_:
                    start, call, text = open_.pop(pid)
                    out.append((start, pos, pid, call, text + m.group(3)))
                continue
            call, text = m.group(4), m.group(5)
            if text.endswith("<unfinished ...>"):
                open_[pid] = (pos, call, text[: -len("<unfinished ...>")])
                continue
            if not re.search(r"= 0$|= \d+$", text):
                continue  # a call that failed did nothing
            out.append((pos, pos, pid, call, text))
    return sorted(out)


ESC = {"n": 10, "t": 9, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unescape(text):
    """The bytes of a string as strace prints it (C escapes, octal)."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode("latin-1", "replace")
            i += 1
            continue
        m = re.match(r"[0-7]{1,3}", text[i + 1:])
        if m:
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(ESC.get(text[i + 1], ord(text[i + 1])))
            i += 2
    return bytes(out)


def record(e):
    """The bytes of the IPC record a sendmsg sent, or None."""
    m = re.search(r'iov_base="((?:[^"\\]|\\.)*)"', e[4])
    return unescape(m.group(1)) if m else None


# The records that answer a request: IMSG_ERR, IMSG_OK, IMSG_IMAGE_INFO,
# IMSG_ALIAS_INFO (ipc/msg.h).
ANSWERS = (6, 7, 8, 9)


def answer(e):
    b = record(e)
    return b is not None and len(b) >= 16 and \
        int.from_bytes(b[0:2], "little") in ANSWERS


def succeeded(e, fp):
    """An IPC record IMSG_OP_UPDATE (type 11) in state OPS_SUCCESS (3)
    whose operation is about image fp: the client's answer. The record:
    type u16, version u8, flags u8, length u32, id u64, then id, project,
    class and description (each u16 length and bytes), then the state."""
    b = record(e)
    if b is None or len(b) < 16 or int.from_bytes(b[0:2], "little") != 11:
        return False
    pos = 16
    for _ in range(4):
        if pos + 2 > len(b):
            return False
        pos += 2 + int.from_bytes(b[pos:pos + 2], "little")
    return pos < len(b) and b[pos] == 3 and fp.encode() in b


def fd_of(text):
    m = re.match(r"(\d+)<([^>]*)>", text)
    return (int(m.group(1)), m.group(2)) if m else (None, "")


def is_sync(e):
    return e[3] in ("fsync", "fdatasync")


def first(evs, pred, after=-1, what=""):
    for e in evs:
        if e[0] > after and pred(e):
            return e
    sys.exit("order: no %s after position %d" % (what, after))


def main():
    trace, kind, name = sys.argv[1:4]
    evs = events(trace)
    if kind == "reply":
        said = [e for e in evs if e[3] == "sendmsg" and succeeded(e, name)]
        if not said:
            sys.exit("order: no reply names %s" % name)
        print(said[0][0] + 1)
        return
    last = -1  # where the last required step ended
    if kind == "image":
        links = [e for e in evs if e[3] == "linkat" and
                 re.search(r'"%s(\.rootfs)?"' % re.escape(name), e[4])]
        if not links:
            sys.exit("order: no link of %s into images/" % name)
        for ln in links:
            m = re.search(r'"/proc/self/fd/(\d+)"', ln[4])
            if not m:
                sys.exit("order: link from what? %s" % ln[4][:120])
            fd = int(m.group(1))
            syncs = [e for e in evs if is_sync(e) and e[1] < ln[0] and
                     fd_of(e[4])[0] == fd and "/tmp/" in fd_of(e[4])[1]]
            if not syncs:
                sys.exit("order: the blob in fd %d was linked before its "
                         "data was synced" % fd)
            print("data synced (%s %s) at %d, linked at %d" %
                  (syncs[-1][3], fd_of(syncs[-1][4])[1], syncs[-1][1], ln[0]))
        link_end = max(e[1] for e in links)
        d = first(evs, lambda e: is_sync(e) and
                  fd_of(e[4])[1].endswith("/images"), link_end,
                  "sync of the images directory")
        print("images directory synced at %d" % d[0])
        last = d[1]
    wal = first(evs, lambda e: is_sync(e) and
                fd_of(e[4])[1].endswith(".db-wal"), last,
                "sync of the database's WAL")
    print("WAL synced at %d" % wal[0])
    if kind == "image":
        said = [e for e in evs if e[3] == "sendmsg" and succeeded(e, name)]
    else:
        if not any(e[3] == "sendmsg" and name in e[4] for e in evs):
            sys.exit("order: no record names %s" % name)
        # The command's lookups come first; its commit is its last request.
        said = [e for e in evs if e[3] == "sendmsg" and answer(e)][-1:]
    if not said:
        sys.exit("order: no reply to the request")
    if said[0][0] <= wal[1]:
        sys.exit("order: the reply (at %d) went before the WAL sync "
                 "ended (at %d)" % (said[0][0], wal[1]))
    print("replied at %d" % said[0][0])
    print("order: ok")


main()
