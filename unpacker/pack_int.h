/*
 * Internals of the image writer (pack.h), shared by pack.c (the image, its
 * tarballs and their output) and pack_walk.c (the tree); nothing else
 * includes this.
 */
#ifndef IMGD_UNPACKER_PACK_INT_H
#define IMGD_UNPACKER_PACK_INT_H

#include <sys/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"
#include "unpacker/pack.h"

struct archive;
struct archive_entry;

/* read() size for file data and getdents64(): one pipe's worth. */
#define PACK_IO_BLOCK (64 * 1024)
/*
 * Memory for the names the walk holds (the listings of the directories
 * open on the current path, the first names of hard-linked files): the
 * validator indexes every name of the image within the same budget, so a
 * tree over it could not be imported anyway.
 */
#define PACK_MEM_MAX LIM_NAME_INDEX_MAX

/* One output fd: a tarball, written with write() only. */
struct pack_out {
	int fd;
	const char *what; /* "image", "metadata tarball", "rootfs tarball" */
	uint64_t bytes;	  /* written to fd */
	int err;	  /* errno of the write() that failed, or 0 */
	int toobig;	  /* over LIM_IMAGE_PART_MAX */
	int dead;	  /* the image failed: write nothing more */
};

struct pack_ctx {
	int closed0; /* out[0] is done and closed */
	const struct pack_opts *o;
	struct pack_report *rep;
	char *err;
	size_t errlen;
	struct archive *a;	  /* the tarball being written */
	struct pack_out *out;	  /* ... and its output */
	struct archive_entry *ae; /* reused for every entry */
	uint64_t mem;		  /* bytes held against PACK_MEM_MAX */
	void *links;		  /* tsearch() tree of hard-linked inodes */
	/* The tree being written: archive names start with aprefix ... */
	const char *aprefix; /* "rootfs", "templates" or "." */
	const char *dprefix; /* ... messages with dprefix ("" for DIR) */
	int templates;	     /* the templates/ tree: no devices */
	/* The archive name of the current entry, without a trailing '/'. */
	char name[LIM_PATH_MAX + 2];
	size_t nlen;
	_Alignas(16) unsigned char buf[PACK_IO_BLOCK]; /* dirents too */
};

/* pack.c */
/* err = "<path of the current entry>: <fmt>"; returns -1. */
int pack_fail(struct pack_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* err = "<fmt>" (no path); returns -1. */
int pack_failx(struct pack_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A libarchive failure: the output's error if it was one, else the entry's. */
int pack_fail_archive(struct pack_ctx *c);
/* "directory", "symlink", ... for messages. */
const char *pack_type_name(mode_t mode);
/* c->ae cleared and filled from st, named c->name. */
void pack_entry_fill(struct pack_ctx *c, const struct stat *st);
/*
 * Writes c->ae (filled by the caller) after the image-wide limits: the
 * number of entries and the unpacked size. 0, or -1 and err.
 */
int pack_header(struct pack_ctx *c);
/* The entry's data: 0, or -1 and err. */
int pack_data(struct pack_ctx *c, const void *buf, size_t len);

/* pack_walk.c */
/*
 * The tree rooted at name (a directory under pfd: "rootfs", "templates",
 * or "." for pfd itself), its root entry named c->aprefix, depth path
 * components deep in the archive. 0, or -1 and err.
 */
int walk_tree(struct pack_ctx *c, int pfd, const char *name, int depth);
/* Forgets the hard links of the last tree: they never cross trees. */
void walk_links_free(struct pack_ctx *c);

#endif
