/*
 * Internals of the validation library (validate.h), shared by its files and
 * by its unit tests; nothing else includes this.
 */
#ifndef IMGD_UNPACKER_INTERNAL_H
#define IMGD_UNPACKER_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "unpacker/validate.h"

struct archive_entry;

#include "policy/msg.h" /* one-line error messages */

/* ustr.c: checks of untrusted strings. */
#define USTR_TAB_NL 1 /* allow \t and \n */
/* NULL when s is valid UTF-8 without control characters, else why not. */
const char *ustr_check(const char *s, size_t len, int flags);

/* pathidx.c: every name of one tarball, as a tree of components. */
enum { NODE_DIR = 1, NODE_REG, NODE_HARDLINK, NODE_SYMLINK, NODE_DEVICE };
#define NODE_IMPLIED 0x1 /* directory only implied by deeper entries */
#define NODE_BIG 0x2	 /* regular file over LIM_TEMPLATE_SOURCE_MAX */

struct pnode {
	struct pnode *parent;
	const char *name; /* not NUL-terminated */
	uint16_t len;
	uint8_t type;
	uint8_t flags;
};

struct pidx {
	void *tree; /* tsearch() tree of all nodes but the root */
	struct pnode *root;
	uint64_t *used; /* memory budget, shared by the parts of an image */
	uint64_t max;
	/* Directory of the last entry: tar lists a directory's files. */
	struct pnode *cache;
	size_t cachelen;
	char cachepath[LIM_PATH_MAX + 1];
};

int pidx_init(struct pidx *x, uint64_t *used, uint64_t max);
void pidx_free(struct pidx *x);
/*
 * Adds a normalized path (components joined by '/', "" for the root) as an
 * explicit entry. 0, or -1 with the reason in why.
 */
int pidx_add(struct pidx *x, const char *path, size_t len, int type, int flags,
    char *why, size_t whylen);
struct pnode *pidx_find(struct pidx *x, const char *path, size_t len);
const char *node_type_name(int type);

/* entry.c: the policy every tar entry must pass. */
enum part_kind { PART_UNIFIED, PART_META, PART_ROOTFS };

struct part {
	enum part_kind kind;
	const char *label; /* message prefix: "" or "rootfs tarball: " */
	struct pidx idx;
	int has_meta;
	uint64_t csize; /* compressed bytes, from fstat */
	int rerrno;	/* errno of a failed read(), for the message */
	int no;		/* 0, or 1: a split image's rootfs */
	uint64_t base;	/* fed: the fd's offset at the start */
	uint64_t off;	/* fed: bytes read of it from there */
	struct img_part_report *rep;
};

struct tar_entry {
	const char *name; /* as in the archive */
	const char *path; /* normalized: points into name */
	size_t len;
	int type;      /* NODE_* */
	uint64_t size; /* apparent size */
	int is_meta;   /* the image's metadata.yaml */
};

/* Normalizes a tar name; 0, or -1 with the reason in why. */
int path_normalize(const char *name, const char **path, size_t *len,
    int *trailing_slash, char *why, size_t whylen);
/* 0 if the entry may be unpacked (and records it), else -1 and err. */
int entry_admit(struct part *p, struct archive_entry *ae, struct tar_entry *en,
    char *err, size_t errlen);

/* archive.c: one streaming pass over one tarball. */
struct xsink; /* extract.c: the writer behind the policy, when unpacking */

struct vstate {
	const struct img_limits *lim;
	struct xsink *xs; /* NULL: validation only */
	uint64_t unpacked, unpacked_max, csize_total, entries, index_used;
	struct img_meta meta;
	int have_meta;
	char *err;
	size_t errlen;
	struct img_feed *feed; /* NULL: the parts are complete */
	int sized;	       /* fed: csize_total is final */
};

/* read(2) of a part, or of a fed part only as far as the store hashed. */
ssize_t part_fd_read(
    struct vstate *vs, struct part *p, int fd, void *buf, size_t len);
/* Fed: waits until part p is final, or has at least n bytes. */
void part_wait(struct vstate *vs, const struct part *p, uint64_t n);
/* Fed: the unpacked limit for the bytes hashed so far (or all of them). */
void img_bound_fed(struct vstate *vs);

int part_read(struct vstate *vs, struct part *p, int fd);
/* An entry's bytes against the image's unpacked limit: 0, or -1 and err. */
int part_account(struct vstate *vs, struct part *p, const struct tar_entry *en);

/* extract.c: an admitted entry written out (or its data drained). */
struct xdata {
	/* 1 with a block, 0 at the end, -1 with vs->err set */
	int (*next)(void *arg, const void **buf, size_t *len, int64_t *off);
	void *arg;
};
int xs_entry(struct vstate *vs, struct part *p, struct archive_entry *ae,
    const struct tar_entry *en, struct xdata *d);
/* openat2 under dirfd: no symlink, no escape, no magic link. */
int xs_open_beneath(int dirfd, const char *path, int flags);
/* img_validate_limits() with a writer behind the policy (validate.c). */
int img_validate_sink(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct xsink *xs, struct img_meta *meta, struct img_report *rep, char *err,
    size_t errlen);
/* The first name a squashfs inode had, for its hard links (or NULL). */
const char *xs_inode_seen(struct vstate *vs, uint32_t ino, const char *path);

/* squashfs.c: a split image's rootfs as squashfs, with the same policy. */
int squashfs_sniff(int fd);
int squashfs_read(struct vstate *vs, struct part *p, int fd);

#endif
