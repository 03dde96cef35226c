/*
 * A split image's rootfs as squashfs (what the public image servers ship),
 * read with libsquashfs (squashfs-tools-ng) from the read-only fd through
 * pread only: never mounted, no path opened. Every inode becomes the
 * archive_entry a tar member would be and passes the same entry policy
 * (entry.c) and the same limits: entries, unpacked bytes, the name index.
 * The walk is ours, breadth first with a queue, so that a directory that
 * lists itself or an ancestor (an inode loop) is refused, not followed.
 */
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "unpacker/internal.h"

#define SQ_BLOCK (256 * 1024) /* data read per call */

struct fd_file {
	sqfs_file_t base;
	int fd;
	sqfs_u64 size;
};

static int
fd_read_at(sqfs_file_t *f, sqfs_u64 off, void *buf, size_t n)
{
	struct fd_file *ff = (struct fd_file *)f;

	if (off > ff->size || n > ff->size - off)
		return SQFS_ERROR_OUT_OF_BOUNDS;
	while (n > 0) {
		ssize_t r = pread(ff->fd, buf, n, (off_t)off);

		if (r <= 0)
			return SQFS_ERROR_IO;
		buf = (char *)buf + r;
		n -= (size_t)r;
		off += (sqfs_u64)r;
	}
	return 0;
}

static int
fd_write_at(sqfs_file_t *f, sqfs_u64 off, const void *buf, size_t n)
{
	(void)f;
	(void)off;
	(void)buf;
	(void)n;
	return SQFS_ERROR_UNSUPPORTED; /* read only */
}

static sqfs_u64
fd_get_size(const sqfs_file_t *f)
{
	return ((const struct fd_file *)f)->size;
}

static int
fd_truncate(sqfs_file_t *f, sqfs_u64 size)
{
	(void)f;
	(void)size;
	return SQFS_ERROR_UNSUPPORTED;
}

static void
fd_destroy(sqfs_object_t *o)
{
	(void)o; /* on the stack, the fd the caller's */
}

/* Is the file at fd a squashfs image (its magic)? */
int
squashfs_sniff(int fd)
{
	unsigned char m[4];

	return pread(fd, m, 4, 0) == 4 && memcmp(m, "hsqs", 4) == 0;
}

static const char *
sqfs_why(int err)
{
	switch (err) {
	case SQFS_ERROR_ALLOC:
		return "out of memory";
	case SQFS_ERROR_IO:
	case SQFS_ERROR_OUT_OF_BOUNDS:
		return "truncated, or a table points past its end";
	case SQFS_ERROR_COMPRESSOR:
		return "a block does not decompress";
	case SFQS_ERROR_SUPER_MAGIC:
	case SFQS_ERROR_SUPER_VERSION:
	case SQFS_ERROR_SUPER_BLOCK_SIZE:
		return "bad superblock";
	case SQFS_ERROR_UNSUPPORTED:
		return "a compressor or feature this imgd does not read";
	case SQFS_ERROR_LINK_LOOP:
		return "a directory contains itself";
	case SQFS_ERROR_NOT_DIR:
		return "a directory entry is not a directory";
	default:
		return "corrupt";
	}
}

/* One directory still to list: its inode and its path. */
struct pending {
	sqfs_inode_generic_t *inode;
	char *path;
};

struct walk {
	struct vstate *vs;
	struct part *p;
	sqfs_dir_reader_t *dr;
	sqfs_data_reader_t *data;
	sqfs_id_table_t *ids;
	struct pending *q;
	size_t qhead, qlen, qcap;
	/* a bit per inode number: a directory seen twice is a loop */
	uint8_t *dirs;
	sqfs_u32 ninodes;
};

static int fail(struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct walk *w, const char *fmt, ...)
{
	char msg[LIM_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg_setp(w->vs->err, w->vs->errlen, w->p->label, "squashfs: %s", msg);
	return -1;
}

/* 1 when the directory was seen, -1 for a number out of the table. */
static int
seen_dir(struct walk *w, sqfs_u32 ino)
{
	if (ino == 0 || ino > w->ninodes)
		return -1;
	if (w->dirs[ino / 8] & (1u << (ino % 8)))
		return 1;
	w->dirs[ino / 8] |= (uint8_t)(1u << (ino % 8));
	return 0;
}

static int
push(struct walk *w, sqfs_inode_generic_t *inode, const char *path)
{
	if (w->qlen == w->qcap) {
		size_t n = w->qcap ? 2 * w->qcap : 64;
		struct pending *q = realloc(w->q, n * sizeof(*q));

		if (q == NULL)
			return -1;
		w->q = q;
		w->qcap = n;
	}
	if ((w->q[w->qlen].path = strdup(path)) == NULL)
		return -1;
	w->q[w->qlen++].inode = inode;
	return 0;
}

/* The archive_entry a tar member for this inode would be. */
static int
to_entry(struct walk *w, const char *path, const sqfs_inode_generic_t *in,
    struct archive_entry *ae)
{
	sqfs_u32 uid = 0, gid = 0;
	sqfs_u64 size = 0;
	mode_t type;

	switch (in->base.type) {
	case SQFS_INODE_DIR:
	case SQFS_INODE_EXT_DIR:
		type = AE_IFDIR;
		break;
	case SQFS_INODE_FILE:
	case SQFS_INODE_EXT_FILE: {
		const char *first = NULL;

		type = AE_IFREG;
		sqfs_inode_get_file_size(in, &size);
		/* Unpacking: the second name of an inode is a hard link. */
		if (in->base.type == SQFS_INODE_EXT_FILE &&
		    in->data.file_ext.nlink > 1)
			first =
			    xs_inode_seen(w->vs, in->base.inode_number, path);
		if (first != NULL) {
			archive_entry_set_hardlink(ae, first);
			size = 0;
		}
		break;
	}
	case SQFS_INODE_SLINK:
	case SQFS_INODE_EXT_SLINK: {
		size_t n = in->data.slink.target_size;
		char *t = malloc(n + 1);

		if (t == NULL)
			return -1;
		memcpy(t, in->extra, n);
		t[n] = '\0';
		archive_entry_set_symlink(ae, t);
		free(t);
		type = AE_IFLNK;
		break;
	}
	case SQFS_INODE_BDEV:
	case SQFS_INODE_EXT_BDEV:
		type = AE_IFBLK;
		break;
	case SQFS_INODE_CDEV:
	case SQFS_INODE_EXT_CDEV:
		type = AE_IFCHR;
		break;
	case SQFS_INODE_FIFO:
	case SQFS_INODE_EXT_FIFO:
		type = AE_IFIFO;
		break;
	case SQFS_INODE_SOCKET:
	case SQFS_INODE_EXT_SOCKET:
		type = AE_IFSOCK;
		break;
	default:
		return fail(w, "\"%s\": unknown inode type", path);
	}
	if (sqfs_id_table_index_to_id(w->ids, in->base.uid_idx, &uid) != 0 ||
	    sqfs_id_table_index_to_id(w->ids, in->base.gid_idx, &gid) != 0)
		return fail(
		    w, "\"%s\": %s", path, "an owner id out of its table");
	archive_entry_set_pathname(ae, path);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, in->base.mode & 07777);
	archive_entry_set_uid(ae, uid);
	archive_entry_set_gid(ae, gid);
	archive_entry_set_mtime(ae, in->base.mod_time, 0);
	archive_entry_set_size(ae, (la_int64_t)size);
	return 0;
}

/* A file's data for the writer: decompressed block by block. */
struct sq_data {
	struct walk *w;
	const char *path;
	const sqfs_inode_generic_t *in;
	sqfs_u64 off, size;
	uint8_t *buf;
};

static int
sq_next(void *arg, const void **buf, size_t *len, int64_t *off)
{
	struct sq_data *d = arg;
	sqfs_u32 want;
	sqfs_s32 n;

	if (d->off >= d->size)
		return 0;
	want = d->size - d->off < SQ_BLOCK ? (sqfs_u32)(d->size - d->off)
					   : (sqfs_u32)SQ_BLOCK;
	n = sqfs_data_reader_read(d->w->data, d->in, d->off, d->buf, want);
	if (n < 0)
		return fail(d->w, "\"%s\": its data: %s", d->path, sqfs_why(n));
	if (n == 0)
		return fail(d->w,
		    "\"%s\": %llu bytes of data where it declares "
		    "%llu",
		    d->path, (unsigned long long)d->off,
		    (unsigned long long)d->size);
	*buf = d->buf;
	*len = (size_t)n;
	*off = (int64_t)d->off;
	d->off += (sqfs_u64)n;
	return 1;
}

static int
admit_write(struct walk *w, const char *path, const sqfs_inode_generic_t *in,
    struct archive_entry *ae, struct tar_entry *en)
{
	static uint8_t buf[SQ_BLOCK];
	struct sq_data sd = {w, path, in, 0, 0, buf};
	struct xdata d = {sq_next, &sd};

	if (en->type == NODE_REG)
		sqfs_inode_get_file_size(in, &sd.size);
	return xs_entry(w->vs, w->p, ae, en, &d);
}

static int
admit(struct walk *w, const char *path, const sqfs_inode_generic_t *in)
{
	struct archive_entry *ae = archive_entry_new();
	struct tar_entry en;
	int rc = -1;

	if (ae == NULL) {
		msg_set(w->vs->err, w->vs->errlen, "out of memory");
		return -1;
	}
	w->p->rep->entries++;
	if (++w->vs->entries > w->vs->lim->entries_max)
		msg_setp(w->vs->err, w->vs->errlen, w->p->label,
		    "image has more than %llu entries",
		    (unsigned long long)w->vs->lim->entries_max);
	else if (to_entry(w, path, in, ae) == 0 &&
		 entry_admit(w->p, ae, &en, w->vs->err, w->vs->errlen) == 0)
		rc = part_account(w->vs, w->p, &en);
	if (rc == 0 && w->vs->xs != NULL)
		rc = admit_write(w, path, in, ae, &en);
	archive_entry_free(ae);
	return rc;
}

/* A regular file's bytes, all decompressed (as a tarball is read whole):
 * a corrupt block is refused at import, not found at unpack. */
static int
read_data(struct walk *w, const char *path, const sqfs_inode_generic_t *in)
{
	static uint8_t buf[SQ_BLOCK];
	sqfs_u64 size = 0, off = 0;

	sqfs_inode_get_file_size(in, &size);
	while (off < size) {
		sqfs_u32 want = size - off < sizeof(buf)
				    ? (sqfs_u32)(size - off)
				    : (sqfs_u32)sizeof(buf);
		sqfs_s32 n = sqfs_data_reader_read(w->data, in, off, buf, want);

		if (n < 0)
			return fail(
			    w, "\"%s\": its data: %s", path, sqfs_why(n));
		if (n == 0)
			return fail(w,
			    "\"%s\": %llu bytes of data where it declares %llu",
			    path, (unsigned long long)off,
			    (unsigned long long)size);
		off += (sqfs_u64)n;
	}
	return 0;
}

/* Lists one directory: its entries admitted, its subdirectories queued. */
static int
list_dir(struct walk *w, const struct pending *d)
{
	sqfs_dir_entry_t *ent;
	sqfs_inode_generic_t *in;
	char path[LIM_PATH_MAX + 2];
	int r;

	if ((r = sqfs_dir_reader_open_dir(w->dr, d->inode, 0)) != 0)
		return fail(w, "directory \"%s\": %s", d->path, sqfs_why(r));
	while ((r = sqfs_dir_reader_read(w->dr, &ent)) == 0) {
		const char *name = (const char *)ent->name;
		size_t n = (size_t)ent->size + 1;

		if (n == 0 || memchr(name, '/', n) || memchr(name, '\0', n) ||
		    (n == 1 && name[0] == '.') ||
		    (n == 2 && name[0] == '.' && name[1] == '.')) {
			char q[MSG_QUOTE_MAX];

			msg_quote(q, sizeof(q), name, n);
			free(ent);
			return fail(w, "directory \"%s\" lists the name \"%s\"",
			    d->path, q);
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s%.*s", d->path,
			d->path[0] ? "/" : "", (int)n,
			name) >= sizeof(path) - 1) {
			free(ent);
			return fail(w,
			    "a path under \"%s\" is longer than %d bytes",
			    d->path, LIM_PATH_MAX);
		}
		free(ent);
		if ((r = sqfs_dir_reader_get_inode(w->dr, &in)) != 0)
			return fail(w, "\"%s\": %s", path, sqfs_why(r));
		if (admit(w, path, in) == -1 ||
		    (w->vs->xs == NULL &&
			(in->base.type == SQFS_INODE_FILE ||
			    in->base.type == SQFS_INODE_EXT_FILE) &&
			read_data(w, path, in) == -1)) {
			free(in);
			return -1;
		}
		if (in->base.type == SQFS_INODE_DIR ||
		    in->base.type == SQFS_INODE_EXT_DIR) {
			int s = seen_dir(w, in->base.inode_number);

			if (s != 0) {
				free(in);
				return s == 1 ? fail(w,
						    "\"%s\": a directory that "
						    "contains itself or an "
						    "ancestor",
						    path)
					      : fail(w,
						    "\"%s\": an inode number "
						    "out of the table",
						    path);
			}
			if (push(w, in, path) == -1) {
				free(in);
				return fail(w, "out of memory");
			}
		} else
			free(in);
	}
	if (r < 0)
		return fail(w, "directory \"%s\": %s", d->path, sqfs_why(r));
	return 0;
}

int
squashfs_read(struct vstate *vs, struct part *p, int fd)
{
	struct fd_file ff = {.base = {.base = {.destroy = fd_destroy},
				 .read_at = fd_read_at,
				 .write_at = fd_write_at,
				 .get_size = fd_get_size,
				 .truncate = fd_truncate},
	    .fd = fd};
	sqfs_file_t *file = &ff.base;
	struct walk w = {.vs = vs, .p = p};
	sqfs_compressor_config_t cfg;
	sqfs_compressor_t *cmp = NULL;
	sqfs_inode_generic_t *root = NULL;
	sqfs_super_t super;
	struct stat st;
	int r, rc = -1;

	snprintf(p->rep->compression, sizeof(p->rep->compression), "squashfs");
	if (fstat(fd, &st) == -1 || st.st_size <= 0) {
		msg_setp(vs->err, vs->errlen, p->label, "squashfs: unreadable");
		return -1;
	}
	ff.size = (sqfs_u64)st.st_size;
	if ((r = sqfs_super_read(&super, file)) != 0) {
		msg_setp(
		    vs->err, vs->errlen, p->label, "squashfs: %s", sqfs_why(r));
		return -1;
	}
	if (super.bytes_used > ff.size) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "squashfs: the superblock says %llu bytes, the file has "
		    "%llu",
		    (unsigned long long)super.bytes_used,
		    (unsigned long long)ff.size);
		return -1;
	}
	/* One bit per inode, and no more inodes than entries allowed. */
	if (super.inode_count > vs->lim->entries_max + 1) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "squashfs: declares %u inodes, more than an image may hold "
		    "(%llu)",
		    super.inode_count,
		    (unsigned long long)vs->lim->entries_max);
		return -1;
	}
	w.ninodes = super.inode_count;
	if ((w.dirs = calloc(1, (size_t)super.inode_count / 8 + 1)) == NULL) {
		msg_set(vs->err, vs->errlen, "out of memory");
		return -1;
	}
	if ((r = sqfs_compressor_config_init(&cfg, super.compression_id,
		 super.block_size, SQFS_COMP_FLAG_UNCOMPRESS)) != 0 ||
	    (r = sqfs_compressor_create(&cfg, &cmp)) != 0) {
		msg_setp(
		    vs->err, vs->errlen, p->label, "squashfs: %s", sqfs_why(r));
		free(w.dirs);
		return -1;
	}
	if ((w.ids = sqfs_id_table_create(0)) == NULL ||
	    (r = sqfs_id_table_read(w.ids, file, &super, cmp)) != 0) {
		fail(&w, "the id table: %s", sqfs_why(w.ids ? r : 1));
		goto out;
	}
	if ((w.dr = sqfs_dir_reader_create(&super, cmp, file, 0)) == NULL ||
	    (w.data = sqfs_data_reader_create(
		 file, super.block_size, cmp, 0)) == NULL) {
		fail(&w, "out of memory");
		goto out;
	}
	if ((r = sqfs_data_reader_load_fragment_table(w.data, &super)) != 0) {
		fail(&w, "the fragment table: %s", sqfs_why(r));
		goto out;
	}
	if ((r = sqfs_dir_reader_get_root_inode(w.dr, &root)) != 0) {
		fail(&w, "the root inode: %s", sqfs_why(r));
		goto out;
	}
	if (root->base.type != SQFS_INODE_DIR &&
	    root->base.type != SQFS_INODE_EXT_DIR) {
		fail(&w, "the root is not a directory");
		free(root);
		goto out;
	}
	if (seen_dir(&w, root->base.inode_number) != 0) {
		free(root);
		fail(&w, "the root's inode number is out of the table");
		goto out;
	}
	if (push(&w, root, "") == -1) {
		free(root);
		fail(&w, "out of memory");
		goto out;
	}
	while (w.qhead < w.qlen) {
		struct pending d = w.q[w.qhead++];

		r = list_dir(&w, &d);
		free(d.inode);
		free(d.path);
		if (r == -1)
			goto out;
	}
	rc = 0;
out:
	for (; w.qhead < w.qlen; w.qhead++) {
		free(w.q[w.qhead].inode);
		free(w.q[w.qhead].path);
	}
	free(w.q);
	free(w.dirs);
	if (w.dr)
		sqfs_destroy(w.dr);
	if (w.data)
		sqfs_destroy(w.data);
	if (w.ids)
		sqfs_destroy(w.ids);
	sqfs_destroy(cmp);
	return rc;
}
