#!/bin/bash
# Every refusal names the rule that made it: a table of hostile (and a few
# legitimate) images x (imgctl, the real lxc, the raw API) -> the exact
# message, nothing left behind, one audit record each. The tar cases are
# written in GNU and in PAX format and must get the same answer in both,
# so that a sandbox death or a parser's confusion can never pass for the
# policy refusal the test expects.
. "$(dirname "$0")/lib.bash"

MKBAD="python3 $(dirname "$0")/mkbad.py"
imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"

refusals() { grep -c '"event":"image-import-refused"' "$STATE/audit.log"; }

# refused WHAT MESSAGE FILE...: the same exact message from every client.
refused() {
	local what=$1 want=$2 before n0 out
	shift 2
	before=$(state_snapshot)
	n0=$(refusals)
	out=$("$BIN/imgctl" image import "$@" 2>&1)
	check_eq "$what: imgctl" "$out" "Error: $want"
	out=$(lxc_out lxc image import "$@")
	check_eq "$what: lxc" "$out" "Error: $want"
	if [ $# -eq 1 ]; then
		out=$(upload "$1")
	else
		out=$(api POST /1.0/images -F "metadata=@$1" -F "rootfs=@$2" |
		    sed '$d' | jget operation)
		out="202|$(api_body GET "$out/wait?timeout=60" | jget metadata.err)"
	fi
	check_eq "$what: API" "$out" "202|$want"
	check_eq "$what: nothing left behind" "$(state_snapshot)" "$before"
	check_eq "$what: audited, once per refusal" "$(refusals)" $((n0 + 3))
	tail -1 "$STATE/audit.log" | grep -qF "$(printf '%s' "$want" |
	    python3 -c 'import json,sys; print(json.dumps(sys.stdin.read())[1:-1])')" &&
	    pass "$what: the audit record has the cause" ||
	    fail "$what: the audit record has the cause" \
	    "$(tail -1 "$STATE/audit.log")"
}

# accepted WHAT FILE...: imports through each client (deleted between).
accepted() {
	local what=$1 fp
	shift
	fp=$(cat "$@" | sha256sum | cut -d' ' -f1)
	check_eq "$what: imgctl" "$("$BIN/imgctl" image import "$@" 2>&1)" \
	    "Image imported with fingerprint: $fp"
	"$BIN/imgctl" image delete "$fp" >/dev/null
	check_eq "$what: lxc" "$(lxc_out lxc image import "$@")" \
	    "Image imported with fingerprint: $fp"
	"$BIN/imgctl" image delete "$fp" >/dev/null
}

LONG='rootfs/ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd...'
while IFS='|' read -r name want; do
	[ -n "$name" ] || continue
	for fmt in gnu pax; do
		case $name in pax-*) [ $fmt = gnu ] && continue ;; esac
		$MKBAD "$name" "$W/$name.$fmt.tar" $fmt
		if [ "$want" = ACCEPTED ]; then
			accepted "$name ($fmt)" "$W/$name.$fmt.tar"
		else
			refused "$name ($fmt)" "${want//@LONG@/$LONG}" \
			    "$W/$name.$fmt.tar"
		fi
	done
done <<'EOF'
no-metadata|image has no metadata.yaml
two-metadata|entry "metadata.yaml": more than one metadata.yaml
alias-bomb|metadata.yaml: line 4: YAML anchors are not allowed
no-arch|metadata.yaml: architecture is missing
unknown-arch|metadata.yaml: line 1: unknown architecture "vax"
zero-date|metadata.yaml: line 2: creation_date must not be zero
no-rootfs|unified image has no rootfs/ directory
expiry-before|metadata.yaml: expiry_date (2) is before creation_date (1458040200)
year-10000|metadata.yaml: line 2: creation_date out of range (years 1 to 9999)
dotdot|entry "rootfs/../../etc/evil": ".." is not allowed
absolute|entry "/etc/evil": absolute paths are not allowed
symlink-rootfs|entry "rootfs": must be a directory, not a symlink
through-symlink|entry "rootfs/bin/evil": goes through the symlink "rootfs/bin"
hardlink-outside|entry "rootfs/passwd": hard link target "../../etc/passwd": ".." is not allowed
hardlink-missing|entry "rootfs/shadow": hard link to "rootfs/etc/shadow", which is not an earlier regular file
long-path|entry "@LONG@": path longer than 4095 bytes
long-component|entry "rootfs/ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc...": path component longer than 255 bytes
long-linkname|entry "rootfs/l": symlink target longer than 4095 bytes
deep|entry "rootfs/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d...": path deeper than 128 components
pax-size-smaller|corrupt or truncated tar archive: Damaged tar archive
pax-xattr-big|entry "rootfs/f": xattr larger than 65536 bytes
ok-long-names|ACCEPTED
pax-ok-xattr|ACCEPTED
EOF

# ---- the stream around the archive ----
GOOD=$(mkunified "$W/good.tar" none)
# -b 1: no record padding, the archive ends with its two zero blocks.
mkimage_tree "$W/tree"
tar -b 1 -C "$W/tree" -cf "$W/b1.tar" metadata.yaml rootfs templates
{ cat "$W/b1.tar"; head -c 512 /dev/zero; printf 'hidden entry'; } \
    >"$W/trail.tar"
refused "data after the end-of-archive blocks" \
    "524 bytes of trailing data after the archive" "$W/trail.tar"
{ cat "$GOOD"; head -c 4096 /dev/zero; } >"$W/pad.tar"
accepted "zero padding after the archive" "$W/pad.tar"
{ gzip -n -c "$GOOD"; printf 'GARBAGE!'; } >"$W/trail.tar.gz"
refused "bytes after the gzip stream" \
    "8 bytes of trailing data after the gzip stream" "$W/trail.tar.gz"
{ bzip2 -c "$GOOD"; printf 'GARBAGE!'; } >"$W/trail.tar.bz2"
refused "bytes after the bzip2 stream" \
    "8 bytes of trailing data after the bzip2 stream" "$W/trail.tar.bz2"
printf 'architecture: x86_64\n' | gzip -n >"$W/text.gz"
refused "gzip data that is no tar" "not a tar archive (gzip data)" \
    "$W/text.gz"
xz -c </dev/null >"$W/empty.xz"
refused "xz data of nothing" \
    "xz data that decompresses to nothing, not a tar archive" "$W/empty.xz"
# An xz stream whose block asks for a 1.5 GiB dictionary (LZMA2 property
# 37; the block header's CRC32 fixed up).
python3 - "$GOOD" "$W/dict.tar.xz" <<'PY'
import lzma, sys, zlib
b = bytearray(lzma.compress(open(sys.argv[1], "rb").read(),
                            format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64))
assert b[13] == 0 and b[14] == 0x21 and b[15] == 1
b[16] = 37
hl = (b[12] + 1) * 4
b[12 + hl - 4:12 + hl] = zlib.crc32(bytes(b[12:12 + hl - 4])).to_bytes(4, "little")
open(sys.argv[2], "wb").write(b)
PY
refused "xz dictionary past the limit" \
    "xz stream needs a 1536 MiB dictionary; the limit is 256 MiB" \
    "$W/dict.tar.xz"

# ---- split images: the metadata tarball holds metadata and templates ----
read -r M R <<<"$(mksplit "$W/split" none none)"
mkdir -p "$W/extra/rootfs/etc"
echo 'root:x:0:0::/root:/bin/sh' >"$W/extra/rootfs/etc/passwd"
cp "$M" "$W/meta-extra.tar"
tar -C "$W/extra" -rf "$W/meta-extra.tar" rootfs/etc/passwd
refused "split: a rootfs entry in the metadata tarball" \
    'metadata tarball: entry "rootfs/etc/passwd": a metadata tarball holds only metadata.yaml and templates/' \
    "$W/meta-extra.tar" "$R"
accepted "split: metadata and templates only" "$M" "$R"

# Refused by the frontend before the store heard of the upload (its
# headers): audited all the same, as the frontend's word.
n0=$(refusals)
out=$(upload "$GOOD" -H 'X-LXD-properties: os=a&os=b')
check_eq "a header refusal" "$out" \
    '400|X-LXD-properties: "os" is given twice'
check_eq "a header refusal: audited" "$(refusals)" $((n0 + 1))
check_contains "a header refusal: the record says who refused" \
    "$(tail -1 "$STATE/audit.log")" '"by":"frontend"'

log=$(cat "$T_TMP/imgd.log")
case "$log" in
*SIGSYS* | *"killed by"*) fail "no sandbox died" \
    "$(grep -E 'SIGSYS|killed by' "$T_TMP/imgd.log" | head -3)" ;;
*) pass "no sandbox died" ;;
esac
summary
