# richtree DIR: an image tree as real rootfs have them, made as root:
# DIR/metadata.yaml and DIR/rootfs with setuid and setgid files, a hard
# link, relative, absolute and dangling symlinks, a sticky and a private
# directory, other owners, a 180-byte name (PAX), random data, a sparse
# file, a user.* xattr, every mtime 1500000000. (Sourced.)
richtree() {
	mkdir -p "$1"
	local R=$1/rootfs
	mkdir -p "$R"/etc "$R"/bin "$R"/home/u "$R"/usr/share/doc "$R"/empty \
	    "$R"/private "$R"/tmp
	echo "old name" >"$R/etc/hostname"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
	printf '#!/bin/sh\necho su\n' >"$R/bin/su"
	printf '#!/bin/sh\necho sg\n' >"$R/bin/sg"
	chmod 4755 "$R/bin/su"
	chmod 2755 "$R/bin/sg"
	ln "$R/bin/su" "$R/bin/su-hard"
	ln -s ../bin/su "$R/etc/lnk"
	ln -s /nowhere/at/all "$R/etc/dangling"
	chmod 1777 "$R/tmp"
	chmod 0700 "$R/private"
	echo secret >"$R/private/key"
	chmod 0600 "$R/private/key"
	echo mine >"$R/home/u/file"
	chown -R 1000:1000 "$R/home/u"
	chown 65534:100 "$R/home/u/file"
	local long
	long=$(printf 'l%.0s' $(seq 1 180))
	echo long >"$R/usr/share/doc/$long"
	head -c 100000 /dev/urandom >"$R/usr/share/doc/random.bin"
	truncate -s 8M "$R/usr/share/sparse"
	echo tail >>"$R/usr/share/sparse"
	setfattr -n user.imgd -v kept "$R/etc/passwd"
	find "$R" -depth -exec touch -h -d @1500000000 {} +
	cat >"$1/metadata.yaml" <<-'EOF'
	architecture: x86_64
	creation_date: 1458040200
	properties:
	  os: testos
	  release: "1.0"
	EOF

}
