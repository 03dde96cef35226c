/*
 * Test helper: builds tarballs with libarchive's write API into a memfd,
 * so that every test makes the exact archive it needs, hostile ones
 * included (libarchive writes names and links as given).
 */
#ifndef IMGD_TESTS_TARMK_H
#define IMGD_TESTS_TARMK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tarmk;

/* comp: "none", "gzip", ..., or layers joined by '+' ("gzip+xz"). */
struct tarmk *tm_new(const char *comp);
/* The same, with a libarchive format code (ARCHIVE_FORMAT_TAR_*). */
struct tarmk *tm_new_format(const char *comp, int format);
void tm_file(struct tarmk *t, const char *name, const char *data);
void tm_data(struct tarmk *t, const char *name, const void *data, size_t len);
void tm_zeros(struct tarmk *t, const char *name, uint64_t size);
void tm_dir(struct tarmk *t, const char *name);
void tm_symlink(struct tarmk *t, const char *name, const char *target);
void tm_hardlink(struct tarmk *t, const char *name, const char *target);
void tm_node(struct tarmk *t, const char *name, mode_t type);
/* A file with an xattr of size bytes. */
void tm_xattr(struct tarmk *t, const char *name, size_t size);
/* A sparse file: apparent size, one byte of data at offset 0. */
void tm_sparse(struct tarmk *t, const char *name, uint64_t size);
/* Finishes the archive: a read-only-use fd at offset 0. */
int tm_fd(struct tarmk *t);

/* A memfd holding len bytes. */
int tm_memfd(const void *buf, size_t len);
/* Reads a whole fd (from offset 0) into malloc'ed memory. */
void *tm_slurp(int fd, size_t *len);

/* metadata.yaml of a valid image with one template, hostname.tpl. */
extern const char tm_meta_yaml[];
/* A valid unified image, and a split one, in comp. */
int tm_unified(const char *comp);
void tm_split(const char *comp, int *fd_meta, int *fd_rootfs);

#endif
