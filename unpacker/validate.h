/*
 * Image validation: one streaming pass over the tarballs of an uploaded
 * image (unified, or split into metadata and rootfs), applying the entry
 * policy of ../shared/SECURITY.md and returning metadata.yaml as typed data.
 * Pure library: it reads only the fds it is given, opens no path, spawns
 * nothing, so that it runs inside the unpacker's seccomp sandbox.
 */
#ifndef IMGD_UNPACKER_VALIDATE_H
#define IMGD_UNPACKER_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "policy/arch.h"
#include "policy/limits.h"

struct img_kv {
	char *key;
	char *value;
};

/* Template triggers: LXD's TemplateTrigger set (lxd/instance). */
enum {
	TPL_WHEN_CREATE = 1,
	TPL_WHEN_COPY = 2,
	TPL_WHEN_START = 4,
	TPL_WHEN_RENAME = 8
};

struct img_template {
	char *path;	/* absolute path inside the instance */
	char *template; /* file name under templates/ */
	unsigned when;	/* TPL_WHEN_* bits */
	int create_only;
	struct img_kv *props; /* in file order */
	size_t nprops;
};

struct img_meta {
	char architecture[LIM_ARCH_NAME_MAX + 1]; /* canonical LXD name */
	int64_t creation_date;			  /* non-zero */
	int64_t expiry_date;			  /* 0 = never */
	struct img_kv *props;			  /* in file order */
	size_t nprops;
	struct img_template *templates; /* in file order */
	size_t ntemplates;
};

struct img_part_report {
	char compression[16]; /* none gzip bzip2 xz lzma zstd */
	uint64_t entries, unpacked_bytes, compressed_bytes, devices;
};

struct img_report {
	/* [0] unified or metadata tarball, [1] split rootfs */
	struct img_part_report part[2];
};

/*
 * The limits img_validate() applies; img_limits_default() fills them from
 * policy/limits.h, the config may lower them (and tests do).
 */
struct img_limits {
	uint64_t part_max;	   /* compressed bytes of each part */
	uint64_t unpacked_abs_max; /* unpacked bytes of the whole image ... */
	uint64_t unpacked_factor;  /* ... and at most factor x compressed */
	uint64_t unpacked_slack;   /* ... + slack */
	uint64_t ratio_max;	   /* decompressed:compressed, checked ... */
	uint64_t ratio_after;	   /* ... once this many bytes are out */
	uint64_t entries_max;	   /* entries of the whole image */
	uint64_t name_index_max;   /* memory for the entry-name index */
};

/*
 * Parses metadata.yaml held in memory. 0, or -1 with a one-line message in
 * err (and out zeroed).
 */
int meta_parse(const void *buf, size_t len, struct img_meta *out, char *err,
    size_t errlen);
void img_meta_free(struct img_meta *m);

/*
 * Validates a unified image (fd_rootfs == -1) or a split image, reading each
 * fd from its current offset to EOF once. On success fills meta and rep,
 * returns 0; else -1 with a clear one-line message in err and nothing
 * allocated.
 */
int img_validate(int fd_main, int fd_rootfs, struct img_meta *meta,
    struct img_report *rep, char *err, size_t errlen);

/*
 * Sets a UTF-8 LC_CTYPE, which img_validate() needs; call it once before
 * any sandbox (it reads the locale's files). -1 with a message if the
 * C.UTF-8 locale is missing.
 */
int img_locale_init(char *err, size_t errlen);

/*
 * An image still arriving (a streaming validation): the parts may be read
 * only as far as avail, which next() raises by blocking for the store's
 * next word; final says a part has no more. Both are only ever raised.
 */
struct img_feed {
	uint64_t avail[2];
	int final[2];
	void (*next)(void *arg, struct img_feed *f);
	void *arg;
};

/* img_validate() of parts that are still arriving. Each part's size, and
 * the unpacked limit that depends on it, is known once it is final; an
 * entry over the limit for the bytes so far waits for that. */
int img_validate_feed(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct img_feed *feed, struct img_meta *meta, struct img_report *rep,
    char *err, size_t errlen);

void img_limits_default(struct img_limits *lim);
/* img_validate() with explicit limits. */
int img_validate_limits(int fd_main, int fd_rootfs,
    const struct img_limits *lim, struct img_meta *meta, struct img_report *rep,
    char *err, size_t errlen);

#endif
