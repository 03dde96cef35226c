#!/bin/bash
# imgctl image unpack: images made by the real tools (GNU tar in PAX
# format with xattrs, bsdtar, mksquashfs), in every compression, unified
# and split, unpacked by imgd's sandbox and compared entry by entry with
# the tree they were made from: modes and setuid bits, owners, mtimes,
# symlinks, hard links, sparse files, long names, xattrs (when asked),
# shifted owners (--shift). Then the refusals: each with its message, the
# target gone, the service still serving.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
C="$BIN/imgctl"
CMP="$(dirname "$0")/treecmp.py"

. "$(dirname "$0")/richtree.bash"
richtree "$W/src"
R=$W/src/rootfs

imgd_start || { summary; exit 1; }
ROOTS=$STATE/rootfs

# unpacked NAME: the target's path
unpacked() { echo "$ROOTS/$1"; }

# unpack_cmp WHAT ALIAS TARGET [treecmp args] [-- unpack args]
unpack_cmp() {
	local what=$1 alias=$2 target=$3
	shift 3
	local cmpargs=() upargs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmpargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	upargs=("$@")
	local out
	out=$("$C" image unpack "$alias" "$target" "${upargs[@]}" 2>&1)
	check_contains "$what: unpacked" "$out" "Unpacked into $ROOTS/$target"
	out=$(python3 "$CMP" "$R" "$(unpacked "$target")" "${cmpargs[@]}" 2>&1)
	check_contains "$what: same tree as the source" "$out" \
	    " 0 differences"
	[[ "$out" == *" 0 differences"* ]] || echo "$out" | sed 's/^/# /' | head -20
}

# Unified, GNU tar (PAX, xattrs) in each compression; bsdtar; split.
tar -C "$W/src" --format=posix --xattrs --numeric-owner -cf "$W/u.tar" \
    metadata.yaml rootfs
for algo in none gzip bzip2 xz lzma zstd; do
	f=$(compress_as "$W/u.tar" $algo)
	"$C" image import "$f" --alias "u-$algo" >/dev/null
	unpack_cmp "unified $algo" "u-$algo" "u-$algo"
done
bsdtar -C "$W/src" --numeric-owner -cJf "$W/b.tar.xz" metadata.yaml rootfs
"$C" image import "$W/b.tar.xz" --alias bsd >/dev/null
unpack_cmp "bsdtar xz" bsd bsd
tar -C "$W/src" -czf "$W/meta.tar.gz" metadata.yaml
tar -C "$R" --format=posix --xattrs --numeric-owner -cJf "$W/root.tar.xz" .
"$C" image import "$W/meta.tar.gz" "$W/root.tar.xz" --alias split >/dev/null
unpack_cmp "split gzip + xz" split split
mksquashfs "$R" "$W/root.squashfs" -noappend -quiet -no-progress \
    >/dev/null 2>&1
"$C" image import "$W/meta.tar.gz" "$W/root.squashfs" --alias sq >/dev/null
unpack_cmp "split squashfs" sq sq

# xattrs only when asked; owners shifted by a user namespace.
unpack_cmp "--xattrs keeps user.* xattrs" u-none xa --xattrs -- --xattrs
out=$(getfattr -n user.imgd --only-values "$ROOTS/u-none/etc/passwd" 2>&1)
check_eq "without --xattrs, none" "$out" \
    "$ROOTS/u-none/etc/passwd: user.imgd: No such attribute"
unpack_cmp "--shift 100000:100000:65536" u-xz shifted --shift 100000 -- \
    --shift 100000:100000:65536
check_eq "shifted: the target's root is the container's" \
    "$(stat -c %u:%g "$ROOTS/shifted")" "100000:100000"
unpack_cmp "squashfs shifted" sq sqshift --shift 200000 -- \
    --shift 200000:200000:65536

# Refusals: a clear message, no target, still serving, audited.
refused() {
	local what=$1 want=$2 target=$3
	shift 3
	local out
	out=$("$C" image unpack "$@" "$target" 2>&1)
	check_contains "$what: refused" "$out" "$want"
	check "$what: no target left" test ! -e "$ROOTS/$target"
	check "$what: still serving" "$C" image list
}
out=$("$C" image unpack u-none u-none 2>&1)
check_contains "an existing target: refused" "$out" \
    "unpack target $ROOTS/u-none already exists"
check "... and it is untouched" python3 "$CMP" "$R" "$ROOTS/u-none"
for bad in ../x .hidden a/b ""; do
	out=$("$C" image unpack u-none "$bad" 2>&1)
	check_contains "target \"$bad\" refused" "$out" "Error:"
done
check "no stray target" test ! -e "$W/x"
refused "--shift with root ids" "the container's root must not be the host's" \
    s0 u-none --shift 0:0:65536
refused "--shift with --privileged" "exclude each other" sp u-none \
    --shift 100000:100000:65536 --privileged
refused "a bad trigger" "Invalid trigger" bt u-none --trigger boot
refused "an unknown image" "not found" nf no-such-image

# Device nodes and FIFOs: only for a privileged target the policy allows.
D=$W/dev
mkdir -p "$D/rootfs/dev"
cp "$W/src/metadata.yaml" "$D/"
mknod "$D/rootfs/dev/null" c 1 3
tar -C "$D" -cf "$W/dev.tar" metadata.yaml rootfs
"$C" image import "$W/dev.tar" --alias dev >/dev/null
refused "a device node, unprivileged" \
    "entry \"rootfs/dev/null\": a character device; device nodes and FIFOs are unpacked only into a --privileged target" \
    d1 dev
refused "a device node, privileged but not allowed" "unpack_devices" d2 \
    dev --privileged
F=$W/fifo
mkdir -p "$F/rootfs"
cp "$W/src/metadata.yaml" "$F/"
mkfifo "$F/rootfs/pipe"
tar -C "$F" -cf "$W/fifo.tar" metadata.yaml rootfs
"$C" image import "$W/fifo.tar" --alias fifo >/dev/null
refused "a FIFO" "\"rootfs/pipe\": a FIFO" f1 fifo

# Templates (LXD's context), and hostile ones: nothing outside the target.
T=$W/tpl
mkdir -p "$T/rootfs/etc" "$T/templates"
ln -s /etc/passwd "$T/rootfs/etc/hostname"
ln -s ../../../../../../../../tmp/imgd-escape "$T/rootfs/etc/out"
printf '{{ container.name }}\n{%% if config_get("user.x", "") != "" %%}x={{ config_get("user.x", "none") }}{%% else %%}none{%% endif %%}\n{{ properties.default }}|{{ trigger }}|{{ path }}\n' >"$T/templates/hostname.tpl"
echo '{% for a in "0123456789" %}{% for b in "0123456789" %}{% for c in "0123456789" %}{% for d in "0123456789" %}{% for e in "0123456789" %}{% for f in "0123456789" %}xxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}' >"$T/templates/big.tpl"
echo '{% include "x" %}' >"$T/templates/inc.tpl"
echo 'once' >"$T/templates/out.tpl"
tplimage() { # NAME TEMPLATES-YAML
	{ cat "$W/src/metadata.yaml"; echo "templates:"; printf '%s\n' "$2"; } \
	    >"$T/metadata.yaml"
	tar -C "$T" -cf "$W/$1.tar" metadata.yaml rootfs templates
	"$C" image import "$W/$1.tar" --alias "$1" >/dev/null
}
tplimage tgood '  /etc/hostname:
    when: [create]
    template: hostname.tpl
    properties:
      default: eth0'
host_passwd=$(sha256sum /etc/passwd)
out=$("$C" image unpack tgood t1 --config user.x=hello 2>&1)
check_contains "templates: rendered" "$out" "1 templates rendered"
check_eq "... through the rootfs's own symlink, LXD's context" \
    "$(cat "$ROOTS/t1/etc/passwd" 2>&1)" "t1
x=hello
eth0|create|/etc/hostname"
check_eq "the host's /etc/passwd is untouched" "$(sha256sum /etc/passwd)" \
    "$host_passwd"
tplimage tout '  /etc/out:
    when: [create]
    template: out.tpl'
refused "a template target leaving the rootfs" "leads out of the rootfs" \
    t2 tout
check "nothing written outside" test ! -e /tmp/imgd-escape
tplimage tbig '  /big:
    when: [create]
    template: big.tpl'
refused "a template that prints gigabytes" "big.tpl" t3 tbig
tplimage tinc '  /inc:
    when: [create]
    template: inc.tpl'
refused "include in a template" "inc.tpl" t4 tinc
check_contains "failures are audited" "$(cat "$STATE/audit.log")" \
    '"image-unpack-failed"'
check_contains "unpacks are audited" "$(cat "$STATE/audit.log")" \
    '"image-unpacked"'
imgd_stop

# With unpack_devices, a privileged target gets its device nodes.
echo "unpack_devices: true" >"$T_TMP/dev.yaml"
IMGD_ARGS="--config $T_TMP/dev.yaml" imgd_start "$T_TMP/state2" ||
    { summary; exit 1; }
"$C" image import "$W/dev.tar" --alias dev >/dev/null
out=$("$C" image unpack dev d3 --privileged 2>&1)
check_contains "privileged + unpack_devices: unpacked" "$out" "Unpacked into"
check_eq "the device node is there" \
    "$(stat -c '%F %t,%T' "$T_TMP/state2/rootfs/d3/dev/null" 2>&1)" \
    "character special file 1,3"
refused2=$("$C" image unpack dev d4 2>&1)
check_contains "... but not for an unprivileged target" "$refused2" \
    "a character device"
imgd_stop

# An unpack that a crash cut short left its partial tree (the unpacker
# writes into .<target>.imgd-partial and the store renames it when the job
# succeeded): the next start removes it, and only it.
R2=$T_TMP/state2/rootfs
mkdir -p "$R2/.cut.imgd-partial/etc/deep" "$R2/.operator-notes"
echo half >"$R2/.cut.imgd-partial/etc/deep/file"
ln -s /etc/passwd "$R2/.cut.imgd-partial/etc/link"
IMGD_ARGS="--config $T_TMP/dev.yaml" imgd_start "$T_TMP/state2" ||
    { summary; exit 1; }
check "a partial tree from a crash is removed at start" \
    test ! -e "$R2/.cut.imgd-partial"
check "... its symlink's target is untouched" test -s /etc/passwd
check "... other names under the unpack root stay" \
    test -d "$R2/.operator-notes" -a -d "$R2/d3"
check_contains "... and the store says so" "$(cat "$T_TMP/imgd.log")" \
    "repair: removed the unfinished unpack $R2/.cut.imgd-partial"
check_contains "... in the audit log too" \
    "$(cat "$T_TMP/state2/audit.log")" '"event":"repair-unpack-removed"'
out=$("$C" image unpack dev cut --privileged 2>&1)
check_contains "the target's name is free again" "$out" "Unpacked into"
check "no partial tree after a finished unpack" \
    test ! -e "$R2/.cut.imgd-partial"
# Its partial name must fit in NAME_MAX too: 241 characters at most.
long=$(printf 'n%.0s' $(seq 1 241))
out=$("$C" image unpack dev "$long" --privileged 2>&1)
check_contains "a 241-character target unpacks" "$out" "Unpacked into"
out=$("$C" image unpack dev "${long}x" --privileged 2>&1)
check_contains "a 242-character one is refused, saying why" "$out" \
    "at most 241 characters"
imgd_stop
summary
