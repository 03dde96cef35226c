/*
 * pack_image(): an image's tarballs, their libarchive writers and their
 * output. The tree itself is walked by pack_walk.c.
 *
 * Determinism is libarchive's pax restricted format (ustar headers, pax
 * records only where ustar cannot hold a field), entries filled by us with
 * numeric owners and whole-second mtimes only (no atime, ctime, names of
 * owners), xattrs as SCHILY.xattr (what GNU tar and LXD read and write),
 * gzip without its timestamp, xz on one thread, and no padding after the
 * end of the archive (the validator refuses bytes after a compressed
 * stream; LXD's own tarballs have none either).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/msg.h"
#include "unpacker/pack_int.h"
#include "unpacker/validate.h"

#define QUOTE_MAX 256 /* room for a path in a message */
#define META_NAME "metadata.yaml"
#define MISSING_HOW "DIR must hold metadata.yaml and rootfs/"

static const struct comp {
	enum pack_comp comp;
	const char *name;
	int (*add)(struct archive *);
	/* The option that keeps the output free of time and threads. */
	const char *opt, *val;
} comps[] = {
    {PACK_NONE, "none", archive_write_add_filter_none, NULL, NULL},
    /* "!timestamp": no mtime in the gzip header (like gzip -n). */
    {PACK_GZIP, "gzip", archive_write_add_filter_gzip, "timestamp", NULL},
    {PACK_BZIP2, "bzip2", archive_write_add_filter_bzip2, NULL, NULL},
    /* One thread: no threads in the sandbox, and the same blocks. */
    {PACK_XZ, "xz", archive_write_add_filter_xz, "threads", "1"},
    {PACK_ZSTD, "zstd", archive_write_add_filter_zstd, NULL, NULL},
};
#define NCOMPS (sizeof(comps) / sizeof(comps[0]))

/* metadata.yaml: its bytes and the attributes of its entry. */
struct meta {
	const char *buf;
	char *owned;
	size_t len;
	struct stat st;
};

int
pack_comp_parse(const char *name, enum pack_comp *c)
{
	size_t i;

	for (i = 0; name != NULL && i < NCOMPS; i++) {
		if (strcmp(name, comps[i].name) == 0) {
			*c = comps[i].comp;
			return 0;
		}
	}
	return -1;
}

static const struct comp *
comp_find(enum pack_comp c)
{
	size_t i;

	for (i = 0; i < NCOMPS; i++)
		if (comps[i].comp == c)
			return &comps[i];
	return NULL;
}

const char *
pack_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "directory";
	case S_IFREG:
		return "regular file";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFIFO:
		return "FIFO";
	case S_IFSOCK:
		return "socket";
	}
	return "file of an unknown type";
}

static void
pack_vfail(struct pack_ctx *c, const char *path, const char *fmt, va_list ap)
{
	char q[QUOTE_MAX];
	int n = 0;

	if (c->err == NULL || c->errlen == 0)
		return;
	if (path != NULL) {
		msg_quote(q, sizeof(q), path, strlen(path));
		n = snprintf(c->err, c->errlen, "%s: ", q);
		if (n < 0 || (size_t)n >= c->errlen)
			return;
	}
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
}

int
pack_fail(struct pack_ctx *c, const char *fmt, ...)
{
	char path[LIM_PATH_MAX + 64];
	const char *rel, *d = c->dprefix;
	va_list ap;

	if (c->aprefix == NULL || d == NULL) {
		va_start(ap, fmt);
		pack_vfail(c, NULL, fmt, ap);
		va_end(ap);
		return -1;
	}
	rel = c->name + strlen(c->aprefix);
	/* The path as in DIR: "rootfs/etc/x", "etc/x" (a bare rootfs). */
	if (*rel == '/')
		rel++;
	if (*d == '\0' && *rel == '\0')
		rel = ".";
	snprintf(path, sizeof(path), "%s%s%s", d, *d && *rel ? "/" : "", rel);
	va_start(ap, fmt);
	pack_vfail(c, path, fmt, ap);
	va_end(ap);
	return -1;
}

int
pack_failx(struct pack_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pack_vfail(c, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int
pack_fail_archive(struct pack_ctx *c)
{
	const char *m = c->a ? archive_error_string(c->a) : NULL;
	char q[QUOTE_MAX];

	if (c->out != NULL && c->out->toobig)
		return pack_failx(c,
		    "the %s is larger than %llu bytes compressed, the most an "
		    "image part may be",
		    c->out->what, (unsigned long long)LIM_IMAGE_PART_MAX);
	if (c->out != NULL && c->out->err != 0)
		return pack_failx(c, "cannot write the %s: %s%s", c->out->what,
		    strerror(c->out->err),
		    c->out->err == EPIPE ? " (its reader went away)" : "");
	msg_quote(q, sizeof(q), m ? m : "unknown error", m ? strlen(m) : 13);
	return pack_fail(c, "cannot be archived: %s", q);
}

/* libarchive's output: write(2) only, whole blocks, nothing else. */
static la_ssize_t
out_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct pack_out *o = arg;
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	if (o->dead) {
		archive_set_error(a, EIO, "the image failed");
		return -1;
	}
	if (len > LIM_IMAGE_PART_MAX - o->bytes) {
		o->toobig = 1;
		archive_set_error(a, EFBIG, "image part too large");
		return -1;
	}
	while (done < len) {
		n = write(o->fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EAGAIN too: the fd must block, we have no poll. */
			o->err = n == 0 ? EIO : errno;
			archive_set_error(
			    a, o->err, "write: %s", strerror(o->err));
			return -1;
		}
		done += (size_t)n;
	}
	o->bytes += len;
	return (la_ssize_t)len;
}

static int
tar_open(struct pack_ctx *c, struct pack_out *out)
{
	const struct comp *k = comp_find(c->o->comp);
	struct archive *a;

	if ((a = archive_write_new()) == NULL)
		return pack_failx(c, "out of memory");
	c->a = a;
	c->out = out;
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_format_option(
		a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK)
		return pack_failx(c, "libarchive lacks pax support");
	/* ARCHIVE_WARN here means libarchive would run a program. */
	if (k->add(a) != ARCHIVE_OK ||
	    (k->opt != NULL && archive_write_set_filter_option(
				   a, k->name, k->opt, k->val) != ARCHIVE_OK))
		return pack_failx(
		    c, "libarchive lacks built-in %s support", k->name);
	if (archive_write_set_bytes_per_block(a, PACK_IO_BLOCK) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, out_write, NULL) != ARCHIVE_OK) {
		if (out->err != 0 || out->toobig)
			return pack_fail_archive(c);
		return pack_failx(c, "cannot start the %s: %s", out->what,
		    archive_error_string(a) ? archive_error_string(a)
					    : "libarchive failed");
	}
	return 0;
}

/* The end of a tarball: everything written, or -1 and err. */
static int
tar_close(struct pack_ctx *c)
{
	int r = archive_write_close(c->a);

	if (r != ARCHIVE_OK)
		pack_fail_archive(c);
	/* Freed either way: a second close would free the filters twice. */
	archive_write_free(c->a);
	c->a = NULL;
	return r == ARCHIVE_OK ? 0 : -1;
}

void
pack_entry_fill(struct pack_ctx *c, const struct stat *st)
{
	struct archive_entry *ae = c->ae;
	int dir = S_ISDIR(st->st_mode);

	archive_entry_clear(ae);
	/* Directories end in '/', as every tar writes them. */
	if (dir)
		memcpy(c->name + c->nlen, "/", 2);
	archive_entry_copy_pathname(ae, c->name);
	c->name[c->nlen] = '\0';
	archive_entry_set_filetype(ae, st->st_mode & S_IFMT);
	archive_entry_set_perm(ae, st->st_mode & 07777);
	archive_entry_set_uid(ae, st->st_uid);
	archive_entry_set_gid(ae, st->st_gid);
	/* Whole seconds: a nanosecond part would need a pax record. */
	archive_entry_set_mtime(ae, st->st_mtim.tv_sec, 0);
	archive_entry_set_size(ae, S_ISREG(st->st_mode) ? st->st_size : 0);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		archive_entry_set_rdev(ae, st->st_rdev);
}

int
pack_header(struct pack_ctx *c)
{
	uint64_t size = (uint64_t)archive_entry_size(c->ae);
	int r;

	if (c->rep->entries >= LIM_ENTRIES_MAX)
		return pack_fail(c,
		    "one entry too many: an image holds at most %d entries",
		    LIM_ENTRIES_MAX);
	if (size > LIM_UNPACKED_ABS_MAX - c->rep->bytes)
		return pack_fail(c,
		    "the tree holds more than %llu bytes, the most an image "
		    "may unpack to",
		    (unsigned long long)LIM_UNPACKED_ABS_MAX);
	/* ARCHIVE_WARN: a name that is not UTF-8, kept as bytes. */
	r = archive_write_header(c->a, c->ae);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return pack_fail_archive(c);
	c->rep->entries++;
	c->rep->bytes += size;
	return 0;
}

int
pack_data(struct pack_ctx *c, const void *buf, size_t len)
{
	if (archive_write_data(c->a, buf, len) != (la_ssize_t)len)
		return pack_fail_archive(c);
	return 0;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode;
}

/* DIR's metadata.yaml: a regular file (not a symlink), at most 1 MiB. */
static int
meta_read(struct pack_ctx *c, int dirfd, struct meta *m)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	if (fstatat(dirfd, META_NAME, &m->st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return pack_fail(c, "missing: " MISSING_HOW);
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	if (S_ISLNK(m->st.st_mode))
		return pack_fail(
		    c, "must not be a symlink: it must be a regular file");
	if (!S_ISREG(m->st.st_mode))
		return pack_fail(c, "must be a regular file, not a %s",
		    pack_type_name(m->st.st_mode));
	if ((uint64_t)m->st.st_size > LIM_META_FILE_MAX)
		return pack_fail(c, "larger than %llu bytes",
		    (unsigned long long)LIM_META_FILE_MAX);
	fd = openat(dirfd, META_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !same_file(&st, &m->st)) {
		pack_fail(c, "changed while it was read");
		goto out;
	}
	/* One byte more than its size: growing is changing. */
	if ((m->owned = malloc((size_t)st.st_size + 1)) == NULL) {
		pack_failx(c, "out of memory");
		goto out;
	}
	while (len <= (size_t)st.st_size) {
		n = read(fd, m->owned + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			pack_fail(c, "cannot be read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len != (size_t)st.st_size) {
		pack_fail(c, "changed while it was read");
		goto out;
	}
	m->buf = m->owned;
	m->len = len;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* metadata.yaml, given or DIR's, parsed as the import will parse it. */
static int
meta_load(struct pack_ctx *c, int dirfd, struct meta *m)
{
	char e[LIM_ERROR_MAX];
	struct img_meta im;

	c->aprefix = c->dprefix = META_NAME;
	snprintf(c->name, sizeof(c->name), META_NAME);
	c->nlen = strlen(META_NAME);
	if (c->o->meta_yaml != NULL) {
		memset(&m->st, 0, sizeof(m->st));
		m->st.st_mode = S_IFREG | 0644;
		m->st.st_mtim.tv_sec = (time_t)c->o->meta_mtime;
		m->st.st_size = (off_t)c->o->meta_len;
		m->buf = c->o->meta_yaml;
		m->len = c->o->meta_len;
		if (m->len > LIM_META_FILE_MAX)
			return pack_fail(c, "larger than %llu bytes",
			    (unsigned long long)LIM_META_FILE_MAX);
	} else if (c->o->dir_is_rootfs) {
		return pack_failx(c, "a bare rootfs needs its metadata.yaml "
				     "given (meta_yaml)");
	} else if (meta_read(c, dirfd, m) == -1)
		return -1;
	if (meta_parse(m->buf, m->len, &im, e, sizeof(e)) == -1) {
		if (strncmp(e, META_NAME, strlen(META_NAME)) == 0)
			return pack_failx(c, "%s", e);
		return pack_fail(c, "%s", e);
	}
	img_meta_free(&im);
	return 0;
}

static int
meta_write(struct pack_ctx *c, const struct meta *m)
{
	c->aprefix = c->dprefix = META_NAME;
	snprintf(c->name, sizeof(c->name), META_NAME);
	c->nlen = strlen(META_NAME);
	pack_entry_fill(c, &m->st);
	archive_entry_set_size(c->ae, (la_int64_t)m->len);
	if (pack_header(c) == -1 || pack_data(c, m->buf, m->len) == -1)
		return -1;
	return 0;
}

/* rootfs/ (need) or templates/ of DIR: 1 a directory, 0 absent, -1. */
static int
top_dir(struct pack_ctx *c, int dirfd, const char *name, int need)
{
	struct stat st;

	c->aprefix = c->dprefix = name;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->nlen = strlen(name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT && !need)
			return 0;
		if (errno == ENOENT)
			return pack_fail(c, "missing: " MISSING_HOW);
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return pack_fail(c, "must be a directory, not a %s",
		    pack_type_name(st.st_mode));
	return 1;
}

/* A tree under its prefix: rootfs/ or templates/ of DIR, or DIR itself. */
static int
tree(struct pack_ctx *c, int dirfd, const char *aprefix, const char *name)
{
	int rc;

	c->aprefix = aprefix;
	c->dprefix = strcmp(name, ".") == 0 ? "" : name;
	c->templates = strcmp(aprefix, "templates") == 0;
	snprintf(c->name, sizeof(c->name), "%s", aprefix);
	c->nlen = strlen(aprefix);
	/* "./x" names split rootfs entries, a component fewer. */
	rc = walk_tree(c, dirfd, name, strcmp(aprefix, ".") == 0 ? 0 : 1);
	/* Hard links never cross from one tree into another. */
	walk_links_free(c);
	return rc;
}

static int
pack_parts(
    struct pack_ctx *c, int dirfd, struct pack_out outs[2], struct meta *m)
{
	const struct pack_opts *o = c->o;
	/* With DIR as the rootfs, the tree is DIR itself: ".". */
	const char *rootfs = o->dir_is_rootfs ? "." : "rootfs";
	uint64_t csize, max;
	int tpl = 0;

	if (meta_load(c, dirfd, m) == -1 ||
	    (!o->dir_is_rootfs &&
		(top_dir(c, dirfd, "rootfs", 1) == -1 ||
		    (tpl = top_dir(c, dirfd, "templates", 0)) == -1)))
		return -1;
	if (tar_open(c, &outs[0]) == -1 || meta_write(c, m) == -1 ||
	    (!o->split && tree(c, dirfd, "rootfs", rootfs) == -1) ||
	    (tpl && tree(c, dirfd, "templates", "templates") == -1) ||
	    tar_close(c) == -1)
		return -1;
	/* out[0] ends before the first byte of out[1]: the store reads the
	 * parts in order, so a rootfs larger than a pipe's buffer would
	 * block both processes while out[0] stayed open. */
	if (o->close_out0) {
		close(outs[0].fd);
		c->closed0 = 1;
	}
	if (o->split &&
	    (tar_open(c, &outs[1]) == -1 || tree(c, dirfd, ".", rootfs) == -1 ||
		tar_close(c) == -1))
		return -1;
	/* The import's bound: min(absolute, factor x compressed + slack). */
	csize = outs[0].bytes + outs[1].bytes;
	max = csize * LIM_UNPACKED_FACTOR + LIM_UNPACKED_SLACK;
	if (c->rep->bytes > max)
		return pack_failx(c,
		    "the image unpacks to %llu bytes, more than the %llu its "
		    "%llu compressed bytes allow an import (%d x + %llu MiB): "
		    "use another compression",
		    (unsigned long long)c->rep->bytes, (unsigned long long)max,
		    (unsigned long long)csize, LIM_UNPACKED_FACTOR,
		    (unsigned long long)(LIM_UNPACKED_SLACK >> 20));
	return 0;
}

static int
pack_run(struct pack_ctx *c, int dirfd, const int out[2], struct meta *m)
{
	struct pack_out outs[2] = {
	    {.fd = out[0], .what = c->o->split ? "metadata tarball" : "image"},
	    {.fd = c->o->split ? out[1] : -1, .what = "rootfs tarball"}};
	int rc = pack_parts(c, dirfd, outs, m);

	if (c->a != NULL) {
		/*
		 * Failed mid-tarball: closed with its output cut off, so that
		 * nothing more reaches the fd but the compressor's state is
		 * freed (archive_write_fail() leaks it in libarchive 3.6).
		 */
		c->out->dead = 1;
		archive_write_close(c->a);
		archive_write_free(c->a);
		c->a = NULL;
	}
	return rc;
}

static int
pack_check(struct pack_ctx *c, const struct pack_opts *o, const int out[2])
{
	const char *cs = nl_langinfo(CODESET);

	if (comp_find(o->comp) == NULL)
		return pack_failx(c, "unknown compression %d", (int)o->comp);
	if (out == NULL || out[0] < 0 || (o->split && out[1] < 0))
		return pack_failx(c, "no output fd for the %s",
		    out != NULL && out[0] >= 0 ? "rootfs tarball" : "image");
	/* Names byte for byte, and no iconv (which opens files) either. */
	if (cs == NULL || strcmp(cs, "UTF-8") != 0)
		return pack_failx(c, "pack_image() needs a UTF-8 LC_CTYPE "
				     "(img_locale_init())");
	return 0;
}

int
pack_image(int dirfd, const struct pack_opts *o, const int out[2],
    struct pack_report *rep, char *err, size_t errlen)
{
	struct pack_ctx *c;
	struct meta m;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&m, 0, sizeof(m));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* On the heap: a path and an I/O block. */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->ae = archive_entry_new()) == NULL) {
		free(c);
		msg_set(err, errlen, "out of memory");
		return -1;
	}
	c->o = o;
	c->rep = rep;
	c->err = err;
	c->errlen = errlen;
	if (pack_check(c, o, out) == 0)
		rc = pack_run(c, dirfd, out, &m);
	if (o->close_out0 && !c->closed0 && out != NULL && out[0] >= 0)
		close(out[0]);
	walk_links_free(c);
	archive_entry_free(c->ae);
	free(m.owned);
	free(c);
	return rc;
}
