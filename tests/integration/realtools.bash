# A corpus of images made by the tools users have, not by our generators:
# GNU tar in each of its formats and with its options, bsdtar in each of
# its formats with ACLs and file flags, Python's tarfile in each format,
# and (in the test itself) `lxc image import DIR`. Sourced by
# real_archives.sh after lib.bash.
#
#	rt_trees DIR		the source trees: DIR/basic, DIR/full, DIR/latin1
#	rt_build DIR OUT	every archive; prints "NAME FILE [ROOTFS]" lines
#
# "basic" holds what every tar format can store (short ASCII names, hard
# links, symlinks, empty files, setuid); "full" adds long names and link
# targets, UTF-8 names, timestamps before 1970 and after 2038, xattrs, an
# ACL, a file flag and a sparse file. "latin1" has a name that is not
# UTF-8.

rt_meta() {
	cat >"$1/metadata.yaml" <<EOF
architecture: x86_64
creation_date: 1458040200
properties:
  description: "$2"
  os: realtools
  release: "1.0"
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
EOF
	mkdir -p "$1/templates"
	echo '{{ container.name }}' >"$1/templates/hostname.tpl"
}

rt_basic() {
	local d=$1
	mkdir -p "$d/rootfs/bin" "$d/rootfs/etc" "$d/rootfs/var/empty"
	printf '#!/bin/sh\necho hi\n' >"$d/rootfs/bin/hello"
	chmod 755 "$d/rootfs/bin/hello"
	ln -s hello "$d/rootfs/bin/hi"
	ln "$d/rootfs/bin/hello" "$d/rootfs/bin/hello.hard"
	: >"$d/rootfs/etc/empty"
	echo host >"$d/rootfs/etc/hostname"
	printf 'su\n' >"$d/rootfs/bin/su"
	chmod 4755 "$d/rootfs/bin/su"
	chown -R 0:0 "$d"
	# Fixed times, so the same tool makes the same bytes for each client.
	find "$d" -exec touch -h -d '2016-03-15 11:10:00Z' {} +
}

rt_full() {
	local d=$1 long
	rt_basic "$d"
	long=$d/rootfs/usr/share/a-directory-name-of-sixty-characters-for-long-paths-xxxxxxx
	mkdir -p "$long/and-another-directory-name-to-pass-the-hundred-bytes"
	echo deep >"$long/and-another-directory-name-to-pass-the-hundred-bytes/$(printf 'f%.0s' $(seq 1 200))"
	ln -s "../../usr/share/a-directory-name-of-sixty-characters-for-long-paths-xxxxxxx/and-another-directory-name-to-pass-the-hundred-bytes" \
	    "$d/rootfs/etc/long-link"
	echo utf8 >"$d/rootfs/etc/café-ünïcødé-日本"
	echo old >"$d/rootfs/etc/before-1970"
	echo new >"$d/rootfs/etc/after-2038"
	echo attr >"$d/rootfs/etc/with-xattr"
	setfattr -n user.imgd.test -v value "$d/rootfs/etc/with-xattr"
	echo acl >"$d/rootfs/etc/with-acl"
	setfacl -m u:1234:r "$d/rootfs/etc/with-acl"
	echo flag >"$d/rootfs/etc/with-flag"
	chattr +d "$d/rootfs/etc/with-flag" 2>/dev/null || true
	# 1 MiB apparent, 2 blocks of data: what --sparse is for.
	printf 'head' >"$d/rootfs/var/sparse"
	truncate -s 1M "$d/rootfs/var/sparse"
	printf 'tail' >>"$d/rootfs/var/sparse"
	find "$d" -exec touch -h -d '2016-03-15 11:10:00Z' {} +
	touch -d '1960-01-01 00:00:00Z' "$d/rootfs/etc/before-1970"
	touch -d '2100-06-01 00:00:00Z' "$d/rootfs/etc/after-2038"
}

rt_trees() {
	local t=$1
	rm -rf "$t"
	mkdir -p "$t/basic" "$t/full" "$t/latin1" "$t/huge"
	rt_meta "$t/basic" "basic tree"
	rt_basic "$t/basic"
	rt_meta "$t/full" "full tree"
	rt_full "$t/full"
	rt_meta "$t/latin1" "latin1 names"
	rt_basic "$t/latin1"
	echo latin1 >"$t/latin1/rootfs/etc/$(printf 'caf\351')"
	# Long enough for a PAX path record, which then cannot be UTF-8.
	echo latin1 >"$t/latin1/rootfs/etc/$(printf 'caf\351-%0120d' 0)"
	# Over 4 GiB apparent (past ustar's 8 GiB octal size too), sparse.
	rt_meta "$t/huge" "huge sparse file"
	rt_basic "$t/huge"
	truncate -s 9G "$t/huge/rootfs/var/huge"
	printf 'end' >>"$t/huge/rootfs/var/huge"
}

# tarball NAME TREE OUT cmd...: runs cmd in TREE writing OUT/NAME.tar
rt_tar() {
	local name=$1 tree=$2 out=$3
	shift 3
	(cd "$tree" && "$@") >"$out/$name.tar" 2>"$out/$name.err" ||
	    { echo "# $name: $(head -3 "$out/$name.err")" >&2; return 1; }
	echo "$name $out/$name.tar"
}

rt_python() {
	python3 - "$1" <<'EOF'
import os, sys, tarfile
fmt = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT,
       "pax": tarfile.PAX_FORMAT}[sys.argv[1]]
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=fmt) as t:
    for top in ("metadata.yaml", "templates", "rootfs"):
        t.add(top)
EOF
}

rt_build() {
	local t=$1 o=$2 f
	local top="metadata.yaml rootfs templates"
	mkdir -p "$o"
	# GNU tar, every format it writes.
	for f in gnu oldgnu pax posix; do
		rt_tar "gnutar-$f" "$t/full" "$o" tar --format=$f -cf - $top
	done
	for f in ustar v7; do
		rt_tar "gnutar-$f" "$t/basic" "$o" tar --format=$f -cf - $top
	done
	rt_tar gnutar-pax-xattrs-acls-selinux "$t/full" "$o" \
	    tar --format=pax --xattrs --xattrs-include='*' --acls --selinux \
	    -cf - $top
	rt_tar gnutar-gnu-sparse "$t/full" "$o" tar --format=gnu --sparse \
	    -cf - $top
	rt_tar gnutar-pax-sparse "$t/full" "$o" tar --format=pax --sparse \
	    -cf - $top
	rt_tar gnutar-default "$t/full" "$o" tar -cf - $top
	rt_tar gnutar-gnu-latin1 "$t/latin1" "$o" env LC_ALL=C tar \
	    --format=gnu -cf - $top
	rt_tar gnutar-pax-latin1 "$t/latin1" "$o" env LC_ALL=C tar \
	    --format=pax -cf - $top
	rt_tar gnutar-dot "$t/full" "$o" tar --format=pax -cf - .
	rt_tar gnutar-pax-huge-sparse "$t/huge" "$o" tar --format=pax --sparse \
	    -cf - $top
	# bsdtar, every format it writes, with ACLs, xattrs and file flags.
	for f in pax paxr gnutar; do
		rt_tar "bsdtar-$f" "$t/full" "$o" bsdtar --format $f --acls \
		    --xattrs --fflags -cf - $top
	done
	rt_tar bsdtar-ustar "$t/basic" "$o" bsdtar --format ustar -cf - $top
	rt_tar bsdtar-pax-latin1 "$t/latin1" "$o" env LC_ALL=C bsdtar \
	    --format pax -cf - $top
	# Python's tarfile, each of its formats.
	for f in gnu pax; do
		rt_tar "python-$f" "$t/full" "$o" rt_python $f
	done
	rt_tar python-ustar "$t/basic" "$o" rt_python ustar
	# Split images: a metadata tarball and a rootfs tarball.
	(cd "$t/full" && tar --format=pax -cf - metadata.yaml templates) \
	    >"$o/split-meta.tar"
	(cd "$t/full/rootfs" && bsdtar --format pax --acls --xattrs -cf - .) \
	    >"$o/split-rootfs.tar"
	echo "split-gnutar-bsdtar $o/split-meta.tar $o/split-rootfs.tar"
}

# rt_compress FILE ALGO: the compressed copy (prints its name); "0-byte
# members": concatenated streams whose first member holds no data.
rt_compress() {
	local f=$1
	case "$2" in
	none) echo "$f" ;;
	gzip) gzip -n -c "$f" >"$f.gz" && echo "$f.gz" ;;
	bzip2) bzip2 -c "$f" >"$f.bz2" && echo "$f.bz2" ;;
	xz) xz -T1 -c "$f" >"$f.xz" && echo "$f.xz" ;;
	lzma) xz --format=lzma -c "$f" >"$f.lzma" && echo "$f.lzma" ;;
	zstd) zstd -q -c "$f" >"$f.zst" && echo "$f.zst" ;;
	gzip-empty-member)
		{ gzip -n -c </dev/null; gzip -n -c "$f"; } >"$f.e.gz" &&
		    echo "$f.e.gz" ;;
	xz-empty-stream)
		{ xz -c </dev/null; xz -T1 -c "$f"; } >"$f.e.xz" &&
		    echo "$f.e.xz" ;;
	bzip2-empty-stream)
		{ bzip2 -c </dev/null; bzip2 -c "$f"; } >"$f.e.bz2" &&
		    echo "$f.e.bz2" ;;
	zstd-empty-frame)
		{ zstd -q -c </dev/null; zstd -q -c "$f"; } >"$f.e.zst" &&
		    echo "$f.e.zst" ;;
	esac
}
