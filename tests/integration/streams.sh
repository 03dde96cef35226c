#!/bin/bash
# Simplestreams and direct URLs over HTTPS, generated from the public
# images: the documents' shape and every item's hash and size checked
# against the bytes served at its path; private images absent; the real
# lxc client with --protocol simplestreams; a reference LXD copying from
# it and importing a direct URL; a database from before the per-file
# hashes, migrated and filled in at start.
. "$(dirname "$0")/lib.bash"

https_start || { summary; exit 1; }
cd "$W" || exit 1
# Simplestreams clients verify the server against the system's CAs, as
# for the public servers: here imgd's own certificate is that CA.
export SSL_CERT_FILE=$STATE/server.crt

# An empty server: valid, empty documents.
check_eq "no public image: index.json" "$(curl -sk "$URL/streams/v1/index.json" |
    jget format)" "index:1.0"
check_eq "no public image: images.json" "$(curl -sk "$URL/streams/v1/images.json" |
    jget products)" "{}"

f=$(mkunified "$W/u.tar" gzip os=alpine desc="Alpine unified")
UNI=$(sha256sum "$f" | cut -d' ' -f1)
check "import a public unified image" lxc image import "$f" --public \
    --alias alpine/edge serial=20240101_0000
read -r m r <<<"$(mksplit "$W/s" xz xz os=debian desc="Debian split")"
SPL=$(cat "$m" "$r" | sha256sum | cut -d' ' -f1)
check "import a public split image" lxc image import "$m" "$r" --public \
    --alias debian/test
f=$(mkunified "$W/p.tar" gzip os=secretos desc="Private")
PRIV=$(sha256sum "$f" | cut -d' ' -f1)
check "import a private image" lxc image import "$f" --alias hidden

curl -sk "$URL/streams/v1/index.json" -o "$W/index.json"
curl -sk "$URL/streams/v1/images.json" -o "$W/images.json"
check_eq "index.json lists both public products" \
    "$(jget index.images.products <"$W/index.json")" \
    '["alpine:1.0:amd64:default", "debian:1.0:amd64:default"]'
check_eq "index.json points at images.json" \
    "$(jget index.images.path <"$W/index.json")" streams/v1/images.json
case "$(cat "$W/images.json")" in *"$PRIV"* | *secretos*)
	fail "images.json has nothing of the private image" ;;
*) pass "images.json has nothing of the private image" ;; esac

# Every item: its bytes at its path have its sha256 and size; the
# combined hashes are the fingerprints; versions start with a date.
out=$(python3 - "$W/images.json" "$URL" "$UNI" "$SPL" <<'PY'
import hashlib, json, re, ssl, sys, urllib.request
doc = json.load(open(sys.argv[1]))
url, uni, spl = sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ok = lambda c, w: print(("ok - " if c else "not ok - ") + w)
ok(doc["format"] == "products:1.0" and doc["datatype"] == "image-downloads",
   "images.json: products:1.0, image-downloads")
fps = {}
for pid, p in doc["products"].items():
    ok(pid == "%s:%s:%s:%s" % (p["os"], p["release"], p["arch"], p["variant"]),
       "product %s: its id from os, release, arch, variant" % pid)
    for vname, v in p["versions"].items():
        ok(re.match(r"^\d{8}", vname) is not None,
           "%s %s: the version starts with a date" % (pid, vname))
        for key, it in v["items"].items():
            data = urllib.request.urlopen(url + "/" + it["path"], context=ctx).read()
            ok(hashlib.sha256(data).hexdigest() == it["sha256"] and
               len(data) == it["size"],
               "%s %s: sha256 and size of the bytes at its path" % (pid, key))
            for k in ("combined_sha256", "combined_rootxz_sha256"):
                if k in it:
                    fps[it[k]] = key
            if it["ftype"].endswith("_combined.tar.gz"):
                fps[it["sha256"]] = key
ok(fps.get(uni) in ("lxd_combined.tar.gz", "incus_combined.tar.gz"),
   "the unified image is an lxd_combined.tar.gz item")
ok(fps.get(spl) in ("lxd.tar.xz", "incus.tar.xz"),
   "the split image: lxd.tar.xz with its combined hash")
items = doc["products"]["alpine:1.0:amd64:default"]["versions"]["20240101_0000"]["items"]
ok(set(items) == {"lxd_combined.tar.gz", "incus_combined.tar.gz"},
   "the serial property names the version; lxd and incus ftypes")
dv = list(doc["products"]["debian:1.0:amd64:default"]["versions"].values())[0]
ok(set(dv["items"]) == {"lxd.tar.xz", "incus.tar.xz", "root.tar.xz"},
   "a split image: metadata (lxd, incus) and root.tar.xz")
ok(doc["products"]["debian:1.0:amd64:default"]["aliases"] == "debian/test",
   "the product's aliases are the images' aliases")
PY
)
printf '%s\n' "$out"
T_PASS=$((T_PASS + $(grep -c '^ok - ' <<<"$out")))
T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' <<<"$out")))
check_eq "an item of a private image: 404" "$(curl -sk -o /dev/null \
    -w '%{http_code}' "$URL/images/$PRIV/unified.tar.gz")" 404
check_eq "a rootfs item of a unified image: 404" "$(curl -sk -o /dev/null \
    -w '%{http_code}' "$URL/images/$UNI/rootfs.tar")" 404
check_eq "an item honours Range" "$(curl -sk -H 'Range: bytes=0-1' \
    "$URL/images/$UNI/unified.tar.gz" | od -An -tx1 | tr -d ' ')" 1f8b

# Direct URLs.
h=$(curl -skI -H 'LXD-Server-Architectures: x86_64, i686' \
    "$URL/direct/alpine/edge")
check_contains "direct: LXD-Image-Hash" "$h" "LXD-Image-Hash: $UNI"
check_contains "direct: LXD-Image-URL on this server" "$h" \
    "LXD-Image-URL: $URL/images/$UNI/unified.tar.gz"
check_eq "direct: another architecture: 404" "$(curl -skI -o /dev/null \
    -w '%{http_code}' -H 'LXD-Server-Architectures: aarch64' \
    "$URL/direct/alpine/edge")" 404
check_contains "direct: a split image is refused with the reason" \
    "$(curl -sk "$URL/direct/debian/test")" "unified images only"
check_eq "direct: an alias of a private image: 404" "$(curl -skI -o /dev/null \
    -w '%{http_code}' "$URL/direct/hidden")" 404

# The real lxc client.
export LXD_CONF=$T_TMP/lxc-ss
mkdir -p "$LXD_CONF"
check "lxc remote add --protocol simplestreams" lxc remote add ss "$URL" \
    --protocol simplestreams
out=$(lxc_out lxc image list ss: -c f --format csv)
check_eq "lxc image list ss: the two public images" "$(sort <<<"$out")" \
    "$(printf '%s\n%s\n' "${UNI:0:12}" "${SPL:0:12}" | sort)"
check_contains "lxc image info ss:ALIAS" "$(lxc_out lxc image info \
    ss:debian/test)" "Fingerprint: $SPL"
check "lxc image export ss:" lxc image export "ss:$SPL" "$W/ssexp"
check_eq "... the metadata's bytes" "$(ls "$W" | grep ssexp | grep -v '\.root$' |
    sed "s|^|$W/|" | xargs cat | sha256sum | cut -d' ' -f1)" \
    "$(sha256sum "$m" | cut -d' ' -f1)"
check_eq "... the rootfs's bytes" "$(sha256sum "$W"/ssexp.root |
    cut -d' ' -f1)" "$(sha256sum "$r" | cut -d' ' -f1)"

ref_or_skip
if [ "$HAVE_REF" = 1 ]; then
	R() { LXD_DIR=$LXD_REF "$@"; }
	check "LXD: copy a unified image over simplestreams" R timeout 120 \
	    lxc image copy ss:alpine/edge local: --copy-aliases --auto-update
	check "LXD: copy a split image over simplestreams" R timeout 120 \
	    lxc image copy "ss:$SPL" local:
	out=$(R lxc image list local: -c f --format csv)
	check_contains "LXD has the unified image" "$out" "${UNI:0:12}"
	check_contains "LXD has the split image" "$out" "${SPL:0:12}"
	R lxc image delete "$UNI" >/dev/null 2>&1
	check "LXD: lxc image import of a direct URL" R timeout 120 \
	    lxc image import "$URL/direct/alpine/edge" --alias viadirect
	check_contains "LXD has it, by its hash" \
	    "$(R lxc image list local: -c lf --format csv)" "viadirect,${UNI:0:12}"
fi

# A database from before per-file hashes and products: the columns come
# back at start and are filled in from the files.
imgd_stop
sqlite3 "$STATE/imgd.db" "DROP INDEX images_product;
    ALTER TABLE images DROP COLUMN part0_sha256;
    ALTER TABLE images DROP COLUMN part0_size;
    ALTER TABLE images DROP COLUMN part1_sha256;
    ALTER TABLE images DROP COLUMN part1_size;
    ALTER TABLE images DROP COLUMN product;"
imgd_start "$STATE"
for _ in $(seq 1 50); do
	curl -sk "$URL/1.0" >/dev/null 2>&1 && break
	sleep 0.1
done
check_contains "an old database: the start-up fills the hashes in" \
    "$(cat "$T_TMP/imgd.log")" "3 images given their file hashes"
check_eq "... and images.json is the same as before" \
    "$(curl -sk "$URL/streams/v1/images.json" | python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["products"], sort_keys=True))')" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["products"], sort_keys=True))' "$W/images.json")"

summary
