/*
 * Unpacking an image into a target directory: the validation pass of
 * validate.h with a writer behind the entry policy (extract.c), then the
 * image's templates rendered into the result (render.c). Both work only
 * through the target's dirfd, never by joining paths, and run inside the
 * unpacker's sandbox, chrooted into that target.
 */
#ifndef IMGD_UNPACKER_EXTRACT_H
#define IMGD_UNPACKER_EXTRACT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "unpacker/validate.h"

/* Set when a write into the target failed for want of space or inodes
 * (ENOSPC, EDQUOT): the failure is the disk's, not the image's. */
extern int img_nospace;
void img_note_errno(int e);

#define IMG_X_XATTRS 0x1  /* write user.* and security.capability xattrs */
#define IMG_X_DEVICES 0x2 /* create device nodes and FIFOs */

/* A file under templates/, kept in memory from the pass. */
struct img_xsrc {
	char *name; /* relative to templates/ */
	char *src;
	size_t len;
};

struct img_xresult {
	uint64_t files, dirs, symlinks, hardlinks, devices, bytes;
	uint64_t xattrs, xattrs_skipped;
	struct img_xsrc *tpls;
	size_t ntpls;
};

/*
 * Validates and unpacks a unified (fd_rootfs == -1) or split image into
 * the directory rootfd: the rootfs's content lands at rootfd itself. 0, or
 * -1 with one clear line in err (what was written stays: the caller
 * removes the target).
 */
int img_extract(int fd_main, int fd_rootfs, const struct img_limits *lim,
    int rootfd, unsigned flags, struct img_meta *meta, struct img_report *rep,
    struct img_xresult *xr, char *err, size_t errlen);
void img_xresult_free(struct img_xresult *xr);

struct img_kvc {
	const char *key;
	const char *value;
};

/* What the templates see of the instance (LXD's template context). */
struct img_render_args {
	unsigned trigger;	  /* TPL_WHEN_* */
	const char *name;	  /* instance name */
	const char *architecture; /* the image's */
	int privileged;
	const struct img_kvc *config;
	size_t nconfig;
	uid_t root_uid; /* owner of new files: the container's root */
	gid_t root_gid;
};

struct img_render_report {
	uint64_t rendered, skipped, bytes;
};

/*
 * Renders the templates whose when: names a->trigger, then the start ones
 * (as LXD's first start does), into rootfd. Each template is parsed before
 * its target is opened. 0, or -1 with "template NAME:LINE:COL: ..." or the
 * target's problem in err.
 */
int img_render(int rootfd, const struct img_meta *meta,
    const struct img_xresult *xr, const struct img_render_args *a,
    struct img_render_report *rr, char *err, size_t errlen);

/*
 * Opens path (absolute inside the rootfs) for writing, resolving every
 * symlink inside rootfd: ".." above the root and loops are errors, missing
 * parents are made 0755 for a->root_uid. Returns the fd, 0 (nothing to do:
 * exists and create_only), or -1 with err. *created says it is new.
 */
int img_open_target(int rootfd, const char *path, int create_only, uid_t uid,
    gid_t gid, int *fd, int *created, char *err, size_t errlen);

#endif
