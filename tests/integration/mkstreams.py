#!/usr/bin/env python3
"""A static simplestreams tree in the shape of images.linuxcontainers.org.

    mkstreams.py ROOT SPEC.json

SPEC is a list of products:
    {"os": "Alpine", "release": "3.19", "arch": "amd64", "variant": "default",
     "aliases": "alpine/3.19/default,alpine/3.19",
     "versions": {"20240101_13:00": {"meta": FILE, "squashfs": FILE,
                                     "rootxz": FILE}
                  "20240102_13:00": {"unified": FILE}}}
Files are copied to images/OS/RELEASE/ARCH/VARIANT/VERSION/ under ROOT
with the names the public servers use; ROOT/streams/v1/index.json and
images.json list them with sha256, size and LXD's combined hashes. A
version may set "bad_sha": ITEM to publish a wrong sha256 for that item.
Both documents say they were updated at $MKSTREAMS_UPDATED (RFC 2822;
a fixed day by default).
"""
import hashlib
import json
import os
import shutil
import sys

root, spec = sys.argv[1], json.load(open(sys.argv[2]))


def sha(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


products = {}
for p in spec:
    key = "%s:%s:%s:%s" % (p["os"].lower(), p["release"], p["arch"], p["variant"])
    versions = {}
    for ver, files in p["versions"].items():
        rel = "images/%s/%s/%s/%s/%s" % (p["os"].lower(), p["release"],
                                         p["arch"], p["variant"], ver)
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        items = {}

        def put(name, src, ftype):
            dst = os.path.join(root, rel, name)
            shutil.copyfile(src, dst)
            items[name] = {"ftype": ftype, "path": rel + "/" + name,
                           "sha256": sha(dst), "size": os.path.getsize(dst)}
            return dst

        if "unified" in files:
            put("lxd_combined.tar.gz", files["unified"], "lxd_combined.tar.gz")
        if "meta" in files:
            m = put("lxd.tar.xz", files["meta"], "lxd.tar.xz")
            if "squashfs" in files:
                r = put("rootfs.squashfs", files["squashfs"], "squashfs")
                items["lxd.tar.xz"]["combined_squashfs_sha256"] = sha(m, r)
            if "rootxz" in files:
                r = put("rootfs.tar.xz", files["rootxz"], "root.tar.xz")
                items["lxd.tar.xz"]["combined_rootxz_sha256"] = sha(m, r)
                items["lxd.tar.xz"]["combined_sha256"] = sha(m, r)
        if "bad_sha" in files:
            items[files["bad_sha"]]["sha256"] = "0" * 64
        versions[ver] = {"items": items}
    products[key] = {"aliases": p["aliases"], "arch": p["arch"],
                     "os": p["os"], "release": p["release"],
                     "release_title": p["release"], "variant": p["variant"],
                     "requirements": {}, "versions": versions}

os.makedirs(os.path.join(root, "streams/v1"), exist_ok=True)
updated = os.environ.get("MKSTREAMS_UPDATED", "Thu, 03 Dec 2026 10:00:00 +0000")
with open(os.path.join(root, "streams/v1/images.json"), "w") as f:
    json.dump({"content_id": "images", "datatype": "image-downloads",
               "format": "products:1.0", "updated": updated,
               "products": products}, f, indent=1, sort_keys=True)
with open(os.path.join(root, "streams/v1/index.json"), "w") as f:
    json.dump({"format": "index:1.0", "updated": updated,
               "index": {"images": {"datatype": "image-downloads",
                                    "format": "products:1.0",
                                    "path": "streams/v1/images.json",
                                    "products": sorted(products),
                                    "updated": updated}}},
              f, indent=1, sort_keys=True)
