#!/bin/bash
# imgctl against lxc (LXD 5.0.2's client) on the same server: both must
# print the same, and files must round-trip byte for byte.
#
#   tests/interop/imgctl_vs_lxc.sh SOCKET_DIR
#
# SOCKET_DIR holds an LXD-compatible unix.socket (imgd's, or a real LXD's
# for checking imgctl itself). imgctl is $IMGD_BUILD/bin/imgctl, else
# build/bin/imgctl. Everything the test creates (images, aliases, files)
# is removed at the end. Ends with "N passed, N failed".
set -u
if [ $# -ne 1 ] || [ ! -S "$1/unix.socket" ]; then
	echo "usage: $0 SOCKET_DIR (a directory with unix.socket)" >&2
	exit 2
fi
cd "$(dirname "$0")/../.."
IMGCTL=${IMGD_BUILD:-$PWD/build}/bin/imgctl
if [ ! -x "$IMGCTL" ]; then
	echo "$IMGCTL: not built (make)" >&2
	exit 2
fi
if ! command -v lxc >/dev/null; then
	echo "lxc not found: install lxd-client" >&2
	exit 2
fi

WORK=$(mktemp -d /tmp/imgctl-interop.XXXXXX)
export LXD_DIR=$1 IMGD_DIR=$1 LXD_CONF=$WORK/lxdconf
mkdir -p "$LXD_CONF"
pass=0 fail=0
FPS=() ALIASES=()

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}

# same NAME CMD...: imgctl and lxc print the same (stdout and exit code).
same() {
	local name=$1; shift
	local a b ra rb
	a=$("$IMGCTL" "$@" 2>/dev/null); ra=$?
	b=$(lxc "$@" 2>/dev/null); rb=$?
	if [ "$a" == "$b" ] && [ $ra -eq $rb ]; then
		ok "$name"
	else
		not_ok "$name" "exit $ra vs lxc $rb" \
		    "$(diff <(echo "$b") <(echo "$a") | head -20)"
	fi
}

# same_sorted: the same, line order aside (lxc prints Go maps at random).
same_sorted() {
	local name=$1; shift
	local a b
	a=$("$IMGCTL" "$@" 2>/dev/null | sort)
	b=$(lxc "$@" 2>/dev/null | sort)
	if [ "$a" == "$b" ] && [ -n "$a" ]; then
		ok "$name"
	else
		not_ok "$name" "$(diff <(echo "$b") <(echo "$a") | head -20)"
	fi
}

# same_error: both fail, with the same last line on stderr.
same_error() {
	local name=$1; shift
	local a b
	a=$("$IMGCTL" "$@" 2>&1 >/dev/null | tail -1)
	"$IMGCTL" "$@" >/dev/null 2>&1 && a="(exit 0)"
	b=$(lxc "$@" 2>&1 >/dev/null | tail -1)
	if [ "$a" == "$b" ] && [ -n "$a" ]; then
		ok "$name"
	else
		not_ok "$name" "imgctl: $a" "lxc:    $b"
	fi
}

check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

cleanup() {
	local a f
	for a in "${ALIASES[@]}"; do
		"$IMGCTL" image alias delete "$a" >/dev/null 2>&1
	done
	for f in "${FPS[@]}"; do
		"$IMGCTL" image delete "$f" >/dev/null 2>&1
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# Images unique to this run, so their fingerprints are new to the server.
TAG=t$$$RANDOM
mkimage() { # dir description os
	mkdir -p "$1/rootfs/etc"
	cat >"$1/metadata.yaml" <<-EOF
	architecture: x86_64
	creation_date: 1458040200
	properties:
	  description: $2
	  os: $3
	  release: "1.0"
	EOF
	echo "$TAG $1" >"$1/rootfs/etc/tag"
}
mkimage "$WORK/u" "Unified $TAG" testos
tar -C "$WORK/u" -czf "$WORK/unified.tar.gz" metadata.yaml rootfs
mkimage "$WORK/s" "Split image $TAG" splitos
tar -C "$WORK/s" -cJf "$WORK/meta.tar.xz" metadata.yaml
tar -C "$WORK/s/rootfs" -cf "$WORK/rootfs.tar" .
mkimage "$WORK/l" "By lxc $TAG" lxcos
tar -C "$WORK/l" -cjf "$WORK/bylxc.tar.bz2" metadata.yaml rootfs

fp_of() { sha256sum "$@" | awk '{print $1}' | head -1; }
FP_U=$(fp_of "$WORK/unified.tar.gz")
FP_S=$(cat "$WORK/meta.tar.xz" "$WORK/rootfs.tar" | sha256sum | cut -c1-64)
FP_L=$(fp_of "$WORK/bylxc.tar.bz2")
FPS=("$FP_U" "$FP_S" "$FP_L")
A_U=$TAG-u A_U2=$TAG-unified A_S=$TAG-s A_L=$TAG-l
ALIASES=("$A_U" "$A_U2" "$A_S" "$A_L" "$TAG-new" "$TAG-renamed")

# --- import ---------------------------------------------------------------
out=$("$IMGCTL" image import "$WORK/unified.tar.gz" --alias "$A_U" \
    --alias "$A_U2" "note=imported by imgctl" 2>&1)
check "import unified prints the fingerprint" \
    [ "$out" == "Image imported with fingerprint: $FP_U" ]
out=$("$IMGCTL" image import "$WORK/meta.tar.xz" "$WORK/rootfs.tar" \
    --public --alias "$A_S" 2>&1)
check "import split prints the fingerprint" \
    [ "$out" == "Image imported with fingerprint: $FP_S" ]
# lxc ends its progress line with "\r" and a message.
out=$(lxc image import "$WORK/bylxc.tar.bz2" --alias "$A_L" 2>/dev/null |
    tr '\r' '\n' | tail -1)
check "lxc imports too" [ "$out" == "Image imported with fingerprint: $FP_L" ]
check "import -q prints nothing" [ -z "$("$IMGCTL" -q image import \
    "$WORK/unified.tar.gz" 2>/dev/null)" ]
same_error "importing an image twice" image import "$WORK/unified.tar.gz"
check "imported properties" [ "$(lxc image get-property "$A_U" note \
    2>/dev/null)" == "imported by imgctl" ]

# --- list -----------------------------------------------------------------
for f in table csv json yaml compact; do
	same "list -f $f" image list -f "$f"
done
same "list -c lLFpdastu" image list -c lLFpdastu
same "list -c with commas" image list -c l,F,d -f csv
same "list filter: alias part" image list "$TAG"
same "list filter: fingerprint prefix" image list "${FP_S:0:8}"
same "list filter: property" image list os=splitos "$TAG"
same "list filter: property regex" image list "release=1\.." "$TAG"
same "list filter: property prefix" image list "o=testos" "$TAG"
same "list filter: architecture" image list architecture=x86_64 "$TAG" \
    -f csv
same "list filter: none match" image list os=nothing-$TAG
same_error "list: unknown column" image list -c lz
same_error "list: empty column" image list -c l,,f
same_error "list: bad format" image list -f xml

# --- info, show, properties -------------------------------------------------
for img in "$A_U" "$A_S" "$A_L" "${FP_S:0:12}"; do
	same_sorted "info $img" image info "$img"
	same "show $img" image show "$img"
done
same "get-property" image get-property "$A_S" description
same_error "get-property: missing" image get-property "$A_S" nope
same_error "info: unknown image" image info "nope-$TAG"
same_error "show: unknown image" image show "nope-$TAG"

"$IMGCTL" image set-property "$A_U" tricky 'a: "b" #c'
check "set-property" [ "$(lxc image get-property "$A_U" tricky \
    2>/dev/null)" == 'a: "b" #c' ]
same "show after set-property" image show "$A_U"
"$IMGCTL" image unset-property "$A_U" tricky
same_error "unset-property" image get-property "$A_U" tricky

lxc image show "$A_S" 2>/dev/null | sed -e 's/^  os: splitos/  os: edited/' \
    -e 's/^public: true/public: false/' >"$WORK/edit.yaml"
"$IMGCTL" image edit "$A_S" <"$WORK/edit.yaml"
check "edit from stdin" [ "$(lxc image show "$A_S" 2>/dev/null)" == \
    "$(cat "$WORK/edit.yaml")" ]
echo "nonsense: 1" | "$IMGCTL" image edit "$A_S" 2>/dev/null
check "edit refuses unknown fields" [ $? -eq 1 ]

# --- aliases --------------------------------------------------------------
for f in table csv json yaml compact; do
	same "alias list -f $f" image alias list -f "$f"
done
same "alias list filter" image alias list "$TAG"
"$IMGCTL" image alias create "$TAG-new" "${FP_L:0:16}" \
    --description "made by imgctl"
same "alias create" image alias list "$TAG-new"
"$IMGCTL" image alias rename "$TAG-new" "$TAG-renamed"
same "alias rename" image alias list "$TAG"
"$IMGCTL" image alias delete "$TAG-renamed"
same "alias delete" image alias list "$TAG"
same_error "alias delete: unknown" image alias delete "nope-$TAG"

# --- export ---------------------------------------------------------------
mkdir -p "$WORK/e1" "$WORK/e2"
out=$(cd "$WORK/e1" && "$IMGCTL" image export "$A_U")
check "export prints lxc's message" [ "$out" == "Image exported successfully!" ]
(cd "$WORK/e1" && "$IMGCTL" image export "$A_S" >/dev/null)
(cd "$WORK/e2" && lxc image export "$A_U" >/dev/null 2>&1 &&
    lxc image export "$A_S" >/dev/null 2>&1)
check "export names files as lxc" [ "$(ls -A "$WORK/e1")" == \
    "$(ls -A "$WORK/e2")" ]
check "export unified round-trips" cmp -s "$WORK/unified.tar.gz" \
    "$WORK/e1/$FP_U.tar.gz"
for f in "$WORK"/e2/*; do
	check "export $(basename "$f") as lxc's" cmp -s "$f" \
	    "$WORK/e1/$(basename "$f")"
done
"$IMGCTL" image export "$A_U" "$WORK/e1/named" >/dev/null
check "export to a file name keeps the extension" cmp -s \
    "$WORK/unified.tar.gz" "$WORK/e1/named.tar.gz"
"$IMGCTL" image export "$A_S" "$WORK/e1/split" >/dev/null
check "export split round-trips" cmp -s "$WORK/meta.tar.xz" \
    "$WORK/e1/split"
check "export split rootfs round-trips" cmp -s "$WORK/rootfs.tar" \
    "$WORK/e1/split.root"
"$IMGCTL" image export "$A_L" "$WORK/e1" >/dev/null
check "export of lxc's import round-trips" cmp -s "$WORK/bylxc.tar.bz2" \
    "$WORK/e1/$FP_L.tar.bz2"
"$IMGCTL" image export "nope-$TAG" "$WORK/e3" 2>/dev/null
check "failed export creates no file" [ ! -e "$WORK/e3" ]
check "failed export leaves no temporary file" \
    [ -z "$(ls -A "$WORK" "$WORK/e1" | grep imgctl-export)" ]

# --- delete ---------------------------------------------------------------
"$IMGCTL" image delete "$A_L" "${FP_S:0:12}"
check "delete" [ -z "$(lxc image list -c F -f csv 2>/dev/null |
    grep -e "$FP_L" -e "$FP_S")" ]
same_error "delete: unknown image" image delete "nope-$TAG"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
