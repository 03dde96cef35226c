#!/usr/bin/env python3
"""Hostile and broken images for tests/integration/bad_input.sh and
refusals.sh.

    mkbad.py CASE OUT [gnu|pax]   writes an uncompressed tarball (or junk)
                                  to OUT, in GNU (default) or PAX format
"""
import io
import sys
import tarfile

META = b"architecture: x86_64\ncreation_date: 1458040200\n" \
    b"properties:\n  description: bad\n"

BOMB = b"""architecture: x86_64
creation_date: 1458040200
properties:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]
"""


def entry(t, name, data=b"", kind=tarfile.REGTYPE, link="", pax=None):
    ti = tarfile.TarInfo(name)
    if pax:
        ti.pax_headers = pax
    ti.type = kind
    ti.linkname = link
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def image(t, meta=META, rootfs=True):
    if meta is not None:
        entry(t, "metadata.yaml", meta)
    if rootfs:
        entry(t, "rootfs", kind=tarfile.DIRTYPE)
        entry(t, "rootfs/etc", kind=tarfile.DIRTYPE)
        entry(t, "rootfs/etc/hostname", b"x\n")


def deep(n):
    return "rootfs/" + "/".join(["d"] * (n - 2)) + "/f"


CASES = {
    "no-metadata": lambda t: image(t, meta=None),
    "two-metadata": lambda t: (image(t), entry(t, "metadata.yaml", META)),
    "invalid-yaml": lambda t: image(t, b"architecture: [x86_64\n  : :\n"),
    "alias-bomb": lambda t: image(t, BOMB),
    "no-arch": lambda t: image(t, b"creation_date: 1458040200\n"),
    "unknown-arch": lambda t: image(
        t, b"architecture: vax\ncreation_date: 1458040200\n"),
    "zero-date": lambda t: image(
        t, b"architecture: x86_64\ncreation_date: 0\n"),
    "no-rootfs": lambda t: image(t, rootfs=False),
    "year-10000": lambda t: image(
        t, b"architecture: x86_64\ncreation_date: 253402300800\n"),
    "expiry-huge": lambda t: image(
        t, b"architecture: x86_64\ncreation_date: 1\n"
        b"expiry_date: 9223372036854775807\n"),
    "expiry-before": lambda t: image(
        t, b"architecture: x86_64\ncreation_date: 1458040200\n"
        b"expiry_date: 2\n"),
    "dotdot": lambda t: (image(t), entry(t, "rootfs/../../etc/evil", b"x")),
    "absolute": lambda t: (image(t), entry(t, "/etc/evil", b"x")),
    "symlink-rootfs": lambda t: (
        entry(t, "metadata.yaml", META),
        entry(t, "rootfs", kind=tarfile.SYMTYPE, link="/etc"),
        entry(t, "rootfs/evil", b"x")),
    "through-symlink": lambda t: (
        image(t), entry(t, "rootfs/bin", kind=tarfile.SYMTYPE, link="/etc"),
        entry(t, "rootfs/bin/evil", b"x")),
    "hardlink-outside": lambda t: (
        image(t), entry(t, "rootfs/passwd", kind=tarfile.LNKTYPE,
                        link="../../etc/passwd")),
    "hardlink-missing": lambda t: (
        image(t), entry(t, "rootfs/shadow", kind=tarfile.LNKTYPE,
                        link="rootfs/etc/shadow")),
    # What PAX (or GNU's long-name records) carries past ustar's fields.
    "long-path": lambda t: (
        image(t), entry(t, "rootfs/" + "/".join(["d" * 200] * 21) + "/f",
                        b"x")),
    "long-component": lambda t: (image(t), entry(t, "rootfs/" + "c" * 256)),
    "long-linkname": lambda t: (
        image(t), entry(t, "rootfs/l", kind=tarfile.SYMTYPE, link="t" * 4096)),
    "deep": lambda t: (image(t), entry(t, deep(129), b"x")),
    "ok-long-names": lambda t: (
        image(t), entry(t, "rootfs/" + "/".join(["d" * 200] * 19) + "/f",
                        b"x"),
        entry(t, "rootfs/l", kind=tarfile.SYMTYPE, link="t" * 4095),
        entry(t, deep(128), b"x")),
}

# PAX records only PAX can carry.
PAX_CASES = {
    "pax-size-smaller": lambda t: (
        image(t), entry(t, "rootfs/f", b"x" * 1000, pax={"size": "10"})),
    "pax-xattr-big": lambda t: (
        image(t), entry(t, "rootfs/f", b"x",
                        pax={"SCHILY.xattr.user.big": "v" * 70000})),
    "pax-ok-xattr": lambda t: (
        image(t), entry(t, "rootfs/f", b"x",
                        pax={"SCHILY.xattr.user.a": "v" * 65536})),
}


def main():
    case, out = sys.argv[1], sys.argv[2]
    if case == "junk":
        with open(out, "wb") as f:
            f.write(b"this is not a tarball at all\n" * 100)
        return
    fmt = sys.argv[3] if len(sys.argv) > 3 else "gnu"
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT if fmt == "gnu"
                      else tarfile.PAX_FORMAT) as t:
        (CASES.get(case) or PAX_CASES[case])(t)


if __name__ == "__main__":
    main()
