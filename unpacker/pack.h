/*
 * The image writer behind `imgctl publish DIR`: walks a directory tree
 * (inside the sandboxed imgd-unpacker, chrooted into DIR) and writes an LXD
 * image -- unified, or split into a metadata and a rootfs tarball -- into
 * the fds it is given, for the store to hash and import.
 *
 * The tree is hostile and may change while it is read: every name is
 * reached with *at() calls from the dirfd given, never following a
 * symlink; a file that changes while it is read fails the image. The
 * output is deterministic (same tree, same bytes, same fingerprint) and
 * passes img_validate(): a tree over the import limits (policy/limits.h)
 * fails here with a clear error instead.
 *
 * Needs a UTF-8 LC_CTYPE (img_locale_init()) so that names are written
 * byte for byte, whatever the caller's locale; the caller ignores SIGPIPE.
 * Opens nothing but the tree, writes only to out[], spawns nothing.
 */
#ifndef IMGD_UNPACKER_PACK_H
#define IMGD_UNPACKER_PACK_H

#include <stddef.h>
#include <stdint.h>

enum pack_comp { PACK_NONE, PACK_GZIP, PACK_BZIP2, PACK_XZ, PACK_ZSTD };

struct pack_opts {
	enum pack_comp comp;
	/*
	 * 0: one unified tarball to out[0] (metadata.yaml, rootfs/,
	 *    templates/);
	 * 1: metadata tarball (metadata.yaml, templates/) to out[0], then the
	 *    rootfs tarball (entries at its top level, as LXD's split images
	 *    are: "./", "./etc/", ...) to out[1].
	 */
	int split;
	/*
	 * 0: dirfd holds metadata.yaml, rootfs/ and optionally templates/;
	 * 1: dirfd is the rootfs itself; metadata.yaml comes from meta_yaml.
	 */
	int dir_is_rootfs;
	/* When dir_is_rootfs (or to replace DIR's metadata.yaml): its bytes. */
	const char *meta_yaml;
	size_t meta_len;
	/* Keep user.* and security.capability xattrs (others skipped, counted).
	 */
	int xattrs;
	/* mtime for a generated metadata.yaml entry (mode 0644, owner 0:0). */
	int64_t meta_mtime;
	int close_out0; /* close out[0] once it is complete (see pack_image) */
};

struct pack_report {
	uint64_t entries;	  /* tar entries written, every part */
	uint64_t bytes;		  /* their sizes: what the validator unpacks */
	uint64_t skipped_sockets; /* sockets: not in images */
	uint64_t skipped_xattrs;  /* xattrs other than user.*, caps */
};

/*
 * Writes the image. The library calls nothing on out[] but write() (and,
 * with close_out0, close() on out[0] once that part is done, success or
 * not, before the first byte of out[1]: the store reads the parts of a
 * split image in order through pipes, so out[0] must end first). 0, or -1 with
 * one clear line in err naming the path and what was wrong.
 */
int pack_image(int dirfd, const struct pack_opts *o, const int out[2],
    struct pack_report *rep, char *err, size_t errlen);

/* "none" "gzip" "bzip2" "xz" "zstd": 0, or -1 for any other name. */
int pack_comp_parse(const char *name, enum pack_comp *c);

#endif
