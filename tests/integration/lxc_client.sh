#!/bin/bash
# The real lxc client (Debian's lxd-client) against imgd's unix socket:
# import (unified and split, every compression, --alias, --public,
# properties), list with filters, info, show, edit, properties, aliases,
# export and delete. When a reference LXD daemon starts here, the same
# images go into it too and the outputs must match (upload dates aside).
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
cd "$W" || exit 1

# ---- imports: unified in every compression, split in several pairs ----
for algo in none gzip bzip2 xz lzma zstd; do
	f=$(mkunified "$W/u-$algo.tar" "$algo" desc="Unified $algo" \
	    os="os-$algo")
	want=$(sha256sum "$f" | cut -d' ' -f1)
	out=$(lxc_out lxc image import "$f" --alias "u-$algo")
	check_eq "import unified $algo: LXD's fingerprint" "$out" \
	    "Image imported with fingerprint: $want"
done
for pair in "xz gzip" "none zstd" "bzip2 lzma" "gzip none"; do
	set -- $pair
	read -r m r <<<"$(mksplit "$W/s-$1-$2" "$1" "$2" desc="Split $1 $2")"
	want=$(cat "$m" "$r" | sha256sum | cut -d' ' -f1)
	out=$(lxc_out lxc image import "$m" "$r" --alias "s-$1-$2")
	check_eq "import split $1+$2: sha256(meta || rootfs)" "$out" \
	    "Image imported with fingerprint: $want"
done
f=$(mkunified "$W/pub.tar" gzip desc="Public one")
PUB=$(sha256sum "$f" | cut -d' ' -f1)
check "import --public with properties" lxc image import "$f" --public \
    --alias pub --alias pub2 os=override extra=yes
doc=$(api_body GET "/1.0/images/$PUB")
check_contains "public flag stored" "$doc" '"public":true'
check_contains "header property overrides metadata.yaml" "$doc" \
    '"os":"override"'
check_contains "extra property added" "$doc" '"extra":"yes"'
check_contains "metadata property kept" "$doc" '"description":"Public one"'
check_contains "both aliases" "$doc" \
    '"aliases":[{"name":"pub","description":""},{"name":"pub2"'
out=$(lxc image import "$f" 2>&1)
check_contains "same bytes twice: clear error" "$out" \
    "Image with same fingerprint already exists"

# ---- list and filters ----
n=$(lxc image list -f csv | wc -l)
check_eq "list shows every image" "$n" 11
out=$(lxc image list u-xz -f csv -c l)
check_eq "filter: alias substring" "$out" "u-xz"
out=$(lxc image list "${PUB:0:10}" -f csv -c l)
check_eq "filter: fingerprint substring" "$out" "pub (1 more)"
out=$(lxc image list os=os-zstd -f csv -c l)
check_eq "filter: property key=value" "$out" "u-zstd"
out=$(lxc image list public=true -f csv -c l)
check_eq "filter: field (server-side filter=)" "$out" "pub (1 more)"
out=$(lxc image list architecture=x86_64 os=os-gzip -f csv -c l)
check_eq "filters are ANDed" "$out" "u-gzip"
out=$(lxc image list u- os=os-none -f csv -c l)
check_eq "bare word and key=value ANDed" "$out" "u-none"
check_eq "no match: empty" \
    "$(lxc image list nothing-like-this -f csv 2>&1; echo "exit $?")" \
    "exit 0"

# ---- info, show, edit, properties ----
out=$(lxc image info pub)
check_contains "info: fingerprint" "$out" "Fingerprint: $PUB"
check_contains "info: public" "$out" "Public: yes"
check_contains "info: created" "$out" "Created: 2016/03/15 11:10 UTC"
check_contains "info: aliases" "$out" "    - pub"
out=$(lxc image show pub)
check_contains "show: writable fields" "$out" "public: true"
lxc image show pub | sed 's/os: override/os: edited/; s/public: true/public: false/' \
    >"$W/edit.yaml"
check "edit from stdin" sh -c "lxc image edit pub <'$W/edit.yaml'"
out=$(lxc image show pub)
check_contains "edit applied: property" "$out" "os: edited"
check_contains "edit applied: public" "$out" "public: false"
printf 'architecture: armv7l\ncreated_at: 2020-01-01T00:00:00Z\npublic: true\nproperties:\n  os: x\n' \
    >"$W/immutable.yaml"
check "edit with immutable fields" sh -c \
    "lxc image edit pub <'$W/immutable.yaml'"
out=$(lxc image info pub)
check_contains "architecture stays" "$out" "Architecture: x86_64"
check_contains "creation date stays" "$out" "Created: 2016/03/15 11:10 UTC"
check_contains "mutable part applied" "$out" "Public: yes"
check "set-property" lxc image set-property pub colour blue
check_eq "get-property" "$(lxc image get-property pub colour)" "blue"

# ---- aliases ----
check "alias create by prefix" lxc image alias create byprefix \
    "${PUB:0:12}"
check "alias rename" lxc image alias rename byprefix renamed
out=$(lxc image alias list -f csv)
check_contains "alias list: renamed" "$out" "renamed,${PUB:0:12},CONTAINER"
check_fails "alias to an unknown image" lxc image alias create x ffff
check_fails "duplicate alias" lxc image alias create renamed "$PUB"
check "alias delete" lxc image alias delete renamed
check_fails "deleted alias is gone" lxc image alias delete renamed

# ---- export: the original bytes ----
mkdir -p "$W/exp"
check "export unified" lxc image export u-zstd "$W/exp"
f=$(ls "$W/exp"/*.tar.zst 2>/dev/null | head -1)
check_eq "export unified: same bytes" "$(cmp "$f" "$W/u-zstd.tar.zst" \
    && echo same)" same
check "export split" lxc image export s-xz-gzip "$W/exp"
m=$(ls "$W/exp"/meta-*.tar.xz 2>/dev/null | head -1)
r=$(ls "$W/exp"/*.tar.gz 2>/dev/null | grep -v meta- | head -1)
check_eq "export split: metadata bytes" "$(cmp "$m" \
    "$W/s-xz-gzip.meta.tar.xz" && echo same)" same
check_eq "export split: rootfs bytes" "$(cmp "$r" \
    "$W/s-xz-gzip.rootfs.tar.gz" && echo same)" same
check "export to a file name" lxc image export u-none "$W/exp/named"
check_eq "export named: .tar appended" "$(cmp "$W/exp/named.tar" \
    "$W/u-none.tar" && echo same)" same

# ---- delete ----
check "delete by alias" lxc image delete u-bzip2
check_fails "deleted image is gone" lxc image info u-bzip2
check_eq "delete removed the blob" "$(ls "$STATE/images" | wc -l)" 14

# ---- what imgd does not serve says so, never a bare "not found" ----
for what in "profile list:profiles" "list:containers"; do
	cmd=${what%%:*}
	# shellcheck disable=SC2086
	out=$(lxc_out lxc $cmd)
	check_eq "lxc $cmd: not implemented, naming the endpoint" "$out" \
	    "Error: not implemented: imgd is an image server and does not implement /1.0/${what#*:}"
done
# Where lxc checks an extension first, imgd's honest list answers.
check_eq "lxc network list: the missing extension is named" \
    "$(lxc_out lxc network list)" \
    'Error: The server is missing the required "network" API extension'
check_eq "unknown LXD endpoint: 501" \
    "$(api_status GET /1.0/instances/x)" 501
check_eq "outside LXD's API: 404" "$(api_status GET /2.0/x)" 404
# Exactly the extensions imgd implements.
check_eq "api_extensions" "$(api_body GET /1.0 | jget metadata.api_extensions)" \
    '["etag", "patch", "api_filtering", "projects", "image_types", "image_force_refresh"]'
check_eq "lxc image refresh of an imported image: nothing to refresh from" \
    "$(lxc_out lxc image refresh u-xz)" 'Image already up to date.'

# ---- the same against a reference LXD, when one starts here ----
# Upload dates differ, and lxc prints info's properties in map order.
norm() {
	sed -e '/Uploaded:/d' -e 's/[A-Z][a-z][a-z] [0-9]*, [0-9]* at [0-9:apm]* (UTC)/DATE/'
}
compare_ref() {
	local what=$1
	shift
	local a b
	a=$(LXD_DIR=$STATE "$@" 2>&1 | norm | sort)
	b=$(LXD_DIR=$LXD_REF "$@" 2>&1 | norm | sort)
	check_eq "same as LXD: $what" "$a" "$b"
}
if ref_start; then
	for f in "$W/u-gzip.tar.gz" "$W/u-none.tar"; do
		LXD_DIR=$LXD_REF lxc image import "$f" --alias \
		    "$(basename "$f" | cut -d. -f1)" >/dev/null
	done
	read -r m r <<<"$(echo "$W"/s-none-zstd.meta.tar \
	    "$W"/s-none-zstd.rootfs.tar.zst)"
	LXD_DIR=$LXD_REF lxc image import "$m" "$r" --alias s-none-zstd \
	    >/dev/null
	for img in u-gzip u-none s-none-zstd; do
		compare_ref "info $img" lxc image info "$img"
		compare_ref "show $img" lxc image show "$img"
		compare_ref "list $img" lxc image list "$img"
		compare_ref "list $img csv" lxc image list "$img" -f csv
		compare_ref "list $img json" sh -c "lxc image list $img \
		    -f json | sed 's/\"uploaded_at\":\"[^\"]*\"//'"
	done
	compare_ref "alias list u-" sh -c "lxc image alias list -f csv | \
	    grep -E '^(u-gzip|u-none|s-none-zstd),'"
	compare_ref "unknown image" lxc image info nosuchimage
	compare_ref "unknown alias delete" lxc image alias delete nosuch
else
	echo "# no reference LXD here: comparison with LXD skipped"
	sed 's/^/#   /' "$T_TMP/lxd.log" 2>/dev/null | tail -5
fi

if imgd_stop; then
	pass "imgd stops on SIGTERM with status 0"
else
	fail "imgd stops on SIGTERM with status 0"
fi
summary
