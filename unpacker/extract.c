/*
 * The writer behind the entry policy: every entry that entry_admit() let
 * through is created under the target's dirfd, never by a joined path.
 * Parents are opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS),
 * so even an entry the policy missed cannot be written through a symlink
 * or leave the target; the entry itself is made with O_EXCL/O_NOFOLLOW.
 * Ownership, modes (setuid bits after chown, which clears them) and times
 * are set from the archive; directories get their final mode and mtime
 * last, once nothing more is written into them. The templates/ files are
 * kept in memory for render.c. Runs chrooted into the target.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unpacker/extract.h"
#include "unpacker/internal.h"

#define TPL_PREFIX "templates/"
#define ROOTFS_PREFIX "rootfs/"

struct xdir {
	char *path; /* "" for the root */
	mode_t mode;
	struct timespec mtime;
};

struct xsink {
	int root;
	unsigned flags;
	struct img_xresult *xr;
	/* the parent of the last entry: tar lists a directory's files */
	int pfd;
	char ppath[LIM_PATH_MAX + 1];
	struct xdir *dirs;
	size_t ndirs, capdirs;
	/* squashfs inode number -> first path, for hard links */
	char **inodes;
	uint32_t ninodes;
};

int
xs_open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
		       RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int img_nospace;

void
img_note_errno(int e)
{
	if (e == ENOSPC || e == EDQUOT)
		img_nospace = 1;
}

static int
xs_fail(struct vstate *vs, struct part *p, const struct tar_entry *en,
    const char *what)
{
	char q[MSG_QUOTE_MAX];
	int e = errno;

	img_note_errno(e);
	msg_setp(vs->err, vs->errlen, p->label, "entry \"%s\": %s: %s",
	    msg_quote(q, sizeof(q), en->name, strlen(en->name)), what,
	    strerror(e));
	return -1;
}

/* Where an entry lands: NULL when it is not part of the rootfs. */
static const char *
xs_target(const struct part *p, const char *path, size_t len, size_t *tlen)
{
	if (p->kind == PART_ROOTFS) {
		*tlen = len;
		return path;
	}
	if (p->kind != PART_UNIFIED)
		return NULL;
	if (len == 6 && memcmp(path, "rootfs", 6) == 0) {
		*tlen = 0;
		return "";
	}
	if (len > 7 && memcmp(path, ROOTFS_PREFIX, 7) == 0) {
		*tlen = len - 7;
		return path + 7;
	}
	return NULL;
}

static int
xs_drain(struct xdata *d)
{
	const void *b;
	size_t n;
	int64_t off;
	int r;

	while ((r = d->next(d->arg, &b, &n, &off)) == 1)
		;
	return r;
}

/* A file under templates/, read into memory (the validator bounds it). */
static int
xs_template(struct vstate *vs, struct xsink *x, const struct tar_entry *en,
    struct xdata *d)
{
	struct img_xresult *xr = x->xr;
	struct img_xsrc *t, *n;
	const void *b;
	size_t len;
	int64_t off;
	int r;

	if (en->size > LIM_TEMPLATE_SOURCE_MAX)
		return xs_drain(d);
	if ((n = realloc(xr->tpls, (xr->ntpls + 1) * sizeof(*n))) == NULL)
		goto oom;
	xr->tpls = n;
	t = &xr->tpls[xr->ntpls];
	t->name = strndup(
	    en->path + strlen(TPL_PREFIX), en->len - strlen(TPL_PREFIX));
	t->src = calloc(1, en->size + 1);
	t->len = en->size;
	if (t->name == NULL || t->src == NULL) {
		free(t->name);
		free(t->src);
		goto oom;
	}
	xr->ntpls++;
	while ((r = d->next(d->arg, &b, &len, &off)) == 1) {
		if (off < 0 || (uint64_t)off > en->size ||
		    len > en->size - (uint64_t)off) {
			msg_set(vs->err, vs->errlen,
			    "template file \"%s\": data beyond its size",
			    t->name);
			return -1;
		}
		memcpy(t->src + off, b, len);
	}
	return r;
oom:
	msg_set(vs->err, vs->errlen, "out of memory");
	return -1;
}

/* Makes each missing directory of path (0755, the container's root). */
static int
xs_mkparents(struct xsink *x, const char *path)
{
	char sub[LIM_PATH_MAX + 1];
	const char *s;

	for (s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		int fd;

		snprintf(sub, sizeof(sub), "%.*s", (int)(s - path), path);
		if ((fd = xs_open_beneath(
			 x->root, sub, O_DIRECTORY | O_RDONLY)) != -1) {
			close(fd);
			continue;
		}
		if (errno != ENOENT || mkdirat(x->root, sub, 0755) == -1)
			return -1;
		if (fchownat(x->root, sub, 0, 0, AT_SYMLINK_NOFOLLOW) == -1)
			return -1;
	}
	return 0;
}

/* The parent directory of a target path, cached; *name its last part. */
static int
xs_parent(struct xsink *x, const char *path, size_t len, char *name)
{
	const char *slash = memrchr(path, '/', len);
	size_t plen = slash ? (size_t)(slash - path) : 0;
	char dir[LIM_PATH_MAX + 1];

	snprintf(name, NAME_MAX + 1, "%.*s",
	    (int)(len - (slash ? plen + 1 : 0)), slash ? slash + 1 : path);
	snprintf(dir, sizeof(dir), "%.*s", (int)plen, path);
	if (x->pfd != -1 && strcmp(dir, x->ppath) == 0)
		return x->pfd;
	if (x->pfd != -1 && x->pfd != x->root)
		close(x->pfd);
	x->pfd = -1;
	if (plen == 0) {
		x->ppath[0] = '\0';
		return x->pfd = x->root;
	}
	x->pfd = xs_open_beneath(x->root, dir, O_DIRECTORY | O_RDONLY);
	if (x->pfd == -1 && errno == ENOENT) {
		/* A tarball need not list its directories. */
		snprintf(dir + plen, sizeof(dir) - plen, "/");
		if (xs_mkparents(x, dir) == -1)
			return -1;
		dir[plen] = '\0';
		x->pfd = xs_open_beneath(x->root, dir, O_DIRECTORY | O_RDONLY);
	}
	if (x->pfd != -1)
		snprintf(x->ppath, sizeof(x->ppath), "%s", dir);
	return x->pfd;
}

static void
xs_times(struct archive_entry *ae, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(ae);
	ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
	if (archive_entry_atime_is_set(ae)) {
		ts[0].tv_sec = archive_entry_atime(ae);
		ts[0].tv_nsec = archive_entry_atime_nsec(ae);
	} else
		ts[0] = ts[1];
	if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
		ts[0].tv_nsec = 0;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
		ts[1].tv_nsec = 0;
}

/* user.* and security.capability; anything else is counted, not set. */
static int
xs_xattrs(struct xsink *x, int fd, struct archive_entry *ae)
{
	const char *name;
	const void *value;
	size_t size;

	if (!(x->flags & IMG_X_XATTRS))
		return 0;
	archive_entry_xattr_reset(ae);
	while (
	    archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
		if (strncmp(name, "user.", 5) != 0 &&
		    strcmp(name, "security.capability") != 0) {
			x->xr->xattrs_skipped++;
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) == -1)
			return -1;
		x->xr->xattrs++;
	}
	return 0;
}

/* Owner, xattrs, then the mode (chown clears setuid bits), then times. */
static int
xs_attrs(struct xsink *x, int fd, struct archive_entry *ae, int is_dir)
{
	struct timespec ts[2];

	if (fchown(fd, (uid_t)archive_entry_uid(ae),
		(gid_t)archive_entry_gid(ae)) == -1 ||
	    xs_xattrs(x, fd, ae) == -1)
		return -1;
	if (is_dir)
		return 0; /* mode and mtime at the end */
	xs_times(ae, ts);
	if (fchmod(fd, archive_entry_perm(ae) & 07777) == -1 ||
	    futimens(fd, ts) == -1)
		return -1;
	return 0;
}

static int
xs_file(struct vstate *vs, struct part *p, struct xsink *x, int pfd,
    const char *name, struct archive_entry *ae, const struct tar_entry *en,
    struct xdata *d)
{
	const void *b;
	size_t len;
	int64_t off;
	int fd, r;

	fd = openat(pfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return xs_fail(vs, p, en, "cannot be created");
	while ((r = d->next(d->arg, &b, &len, &off)) == 1) {
		const char *c = b;

		if (off < 0 || (uint64_t)off > en->size ||
		    len > en->size - (uint64_t)off) {
			errno = EFBIG;
			close(fd);
			return xs_fail(vs, p, en, "data beyond its size");
		}
		while (len > 0) {
			ssize_t n = pwrite(fd, c, len, off);

			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fd);
				return xs_fail(vs, p, en, "cannot be written");
			}
			c += n, len -= (size_t)n, off += n;
		}
	}
	if (r == -1) {
		close(fd);
		return -1;
	}
	/* Sparse holes and a trailing hole. */
	if (ftruncate(fd, (off_t)en->size) == -1 ||
	    xs_attrs(x, fd, ae, 0) == -1) {
		close(fd);
		return xs_fail(vs, p, en, "cannot be written");
	}
	close(fd);
	x->xr->files++;
	x->xr->bytes += en->size;
	return 0;
}

static int
xs_dir_note(
    struct xsink *x, const char *path, size_t len, struct archive_entry *ae)
{
	struct timespec ts[2];
	struct xdir *d;

	if (x->ndirs == x->capdirs) {
		size_t n = x->capdirs ? 2 * x->capdirs : 256;

		if ((d = realloc(x->dirs, n * sizeof(*d))) == NULL)
			return -1;
		x->dirs = d;
		x->capdirs = n;
	}
	d = &x->dirs[x->ndirs];
	if ((d->path = strndup(path, len)) == NULL)
		return -1;
	xs_times(ae, ts);
	d->mode = archive_entry_perm(ae) & 07777;
	d->mtime = ts[1];
	x->ndirs++;
	return 0;
}

static int
xs_dir(struct vstate *vs, struct part *p, struct xsink *x, const char *path,
    size_t len, struct archive_entry *ae, const struct tar_entry *en)
{
	char name[NAME_MAX + 1];
	int pfd, fd;

	if (len == 0)
		fd = dup(x->root);
	else {
		if ((pfd = xs_parent(x, path, len, name)) == -1)
			return xs_fail(vs, p, en, "its directory");
		if (mkdirat(pfd, name, 0700) == -1 && errno != EEXIST)
			return xs_fail(vs, p, en, "cannot be created");
		fd = openat(
		    pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1)
		return xs_fail(vs, p, en, "cannot be opened");
	if (xs_attrs(x, fd, ae, 1) == -1) {
		close(fd);
		return xs_fail(vs, p, en, "cannot be set up");
	}
	close(fd);
	if (xs_dir_note(x, path, len, ae) == -1) {
		msg_set(vs->err, vs->errlen, "out of memory");
		return -1;
	}
	x->xr->dirs++;
	return 0;
}

static int
xs_symlink(struct vstate *vs, struct part *p, struct xsink *x, int pfd,
    const char *name, struct archive_entry *ae, const struct tar_entry *en)
{
	struct timespec ts[2];

	xs_times(ae, ts);
	if (symlinkat(archive_entry_symlink(ae), pfd, name) == -1)
		return xs_fail(vs, p, en, "cannot be created");
	if (fchownat(pfd, name, (uid_t)archive_entry_uid(ae),
		(gid_t)archive_entry_gid(ae), AT_SYMLINK_NOFOLLOW) == -1 ||
	    utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) == -1)
		return xs_fail(vs, p, en, "cannot be set up");
	x->xr->symlinks++;
	return 0;
}

static int
xs_hardlink(struct vstate *vs, struct part *p, struct xsink *x, int pfd,
    const char *name, struct archive_entry *ae, const struct tar_entry *en)
{
	const char *t = archive_entry_hardlink(ae), *tp, *slash;
	char tdir[LIM_PATH_MAX + 1];
	size_t tlen;
	int tfd, r;

	/* entry_admit() normalized and checked it: an earlier file. */
	if (t[0] == '.' && t[1] == '/')
		t += 2;
	if ((tp = xs_target(p, t, strlen(t), &tlen)) == NULL || tlen == 0) {
		errno = EINVAL;
		return xs_fail(vs, p, en, "hard link outside the rootfs");
	}
	slash = memrchr(tp, '/', tlen);
	snprintf(tdir, sizeof(tdir), "%.*s", slash ? (int)(slash - tp) : 0, tp);
	if ((tfd = slash
		       ? xs_open_beneath(x->root, tdir, O_DIRECTORY | O_RDONLY)
		       : dup(x->root)) == -1)
		return xs_fail(vs, p, en, "its target's directory");
	r = linkat(tfd, slash ? slash + 1 : tp, pfd, name, 0);
	close(tfd);
	if (r == -1)
		return xs_fail(vs, p, en, "cannot be linked");
	x->xr->hardlinks++;
	return 0;
}

static int
xs_device(struct vstate *vs, struct part *p, struct xsink *x, int pfd,
    const char *name, struct archive_entry *ae, const struct tar_entry *en)
{
	struct timespec ts[2];
	mode_t ft = archive_entry_filetype(ae);
	char q[MSG_QUOTE_MAX];

	if (!(x->flags & IMG_X_DEVICES)) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "entry \"%s\": %s; device nodes and FIFOs are unpacked "
		    "only into a --privileged target, where the policy allows "
		    "them (unpack_devices)",
		    msg_quote(q, sizeof(q), en->name, strlen(en->name)),
		    ft == AE_IFIFO   ? "a FIFO"
		    : ft == AE_IFBLK ? "a block device"
				     : "a character device");
		return -1;
	}
	xs_times(ae, ts);
	if (mknodat(pfd, name, ft | 0600, archive_entry_rdev(ae)) == -1)
		return xs_fail(vs, p, en, "cannot be created");
	if (fchownat(pfd, name, (uid_t)archive_entry_uid(ae),
		(gid_t)archive_entry_gid(ae), AT_SYMLINK_NOFOLLOW) == -1 ||
	    fchmodat(pfd, name, archive_entry_perm(ae) & 07777, 0) == -1 ||
	    utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) == -1)
		return xs_fail(vs, p, en, "cannot be set up");
	x->xr->devices++;
	return 0;
}

int
xs_entry(struct vstate *vs, struct part *p, struct archive_entry *ae,
    const struct tar_entry *en, struct xdata *d)
{
	struct xsink *x = vs->xs;
	char name[NAME_MAX + 1];
	const char *path;
	size_t len;
	int pfd, r;

	path = xs_target(p, en->path, en->len, &len);
	if (path == NULL) {
		if (p->kind != PART_ROOTFS && en->type == NODE_REG &&
		    en->len > strlen(TPL_PREFIX) &&
		    memcmp(en->path, TPL_PREFIX, strlen(TPL_PREFIX)) == 0)
			return xs_template(vs, x, en, d);
		return xs_drain(d);
	}
	if (en->type == NODE_DIR)
		r = xs_dir(vs, p, x, path, len, ae, en);
	else if ((pfd = xs_parent(x, path, len, name)) == -1)
		r = xs_fail(vs, p, en, "its directory");
	else if (en->type == NODE_REG)
		return xs_file(vs, p, x, pfd, name, ae, en, d);
	else if (en->type == NODE_SYMLINK)
		r = xs_symlink(vs, p, x, pfd, name, ae, en);
	else if (en->type == NODE_HARDLINK)
		r = xs_hardlink(vs, p, x, pfd, name, ae, en);
	else
		r = xs_device(vs, p, x, pfd, name, ae, en);
	if (r == -1)
		return -1;
	return xs_drain(d);
}

const char *
xs_inode_seen(struct vstate *vs, uint32_t ino, const char *path)
{
	struct xsink *x = vs->xs;

	if (x == NULL || x->inodes == NULL || ino == 0 || ino > x->ninodes)
		return NULL;
	if (x->inodes[ino] != NULL)
		return x->inodes[ino];
	x->inodes[ino] = strdup(path);
	return NULL;
}

/* Directories last, deepest first: their final modes and mtimes. */
static int
xs_finish(struct xsink *x, char *err, size_t errlen)
{
	for (size_t i = x->ndirs; i-- > 0;) {
		struct xdir *d = &x->dirs[i];
		struct timespec ts[2] = {d->mtime, d->mtime};
		int fd = d->path[0] ? xs_open_beneath(x->root, d->path,
					  O_DIRECTORY | O_RDONLY)
				    : dup(x->root);

		if (fd == -1 || fchmod(fd, d->mode) == -1 ||
		    futimens(fd, ts) == -1) {
			char q[MSG_QUOTE_MAX];

			msg_set(err, errlen, "directory \"%s\": %s",
			    msg_quote(q, sizeof(q), d->path, strlen(d->path)),
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void
xs_free(struct xsink *x)
{
	if (x->pfd != -1 && x->pfd != x->root)
		close(x->pfd);
	for (size_t i = 0; i < x->ndirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	if (x->inodes)
		for (uint32_t i = 0; i <= x->ninodes; i++)
			free(x->inodes[i]);
	free(x->inodes);
}

void
img_xresult_free(struct img_xresult *xr)
{
	for (size_t i = 0; i < xr->ntpls; i++) {
		free(xr->tpls[i].name);
		free(xr->tpls[i].src);
	}
	free(xr->tpls);
	memset(xr, 0, sizeof(*xr));
}

int
img_extract(int fd_main, int fd_rootfs, const struct img_limits *lim,
    int rootfd, unsigned flags, struct img_meta *meta, struct img_report *rep,
    struct img_xresult *xr, char *err, size_t errlen)
{
	struct xsink x = {.root = rootfd, .flags = flags, .xr = xr, .pfd = -1};
	int rc;

	memset(xr, 0, sizeof(*xr));
	/* Squashfs hard links: a name per inode number, made on demand. */
	x.ninodes = (uint32_t)(lim->entries_max + 1);
	if ((x.inodes = calloc((size_t)x.ninodes + 1, sizeof(char *))) ==
	    NULL) {
		msg_set(err, errlen, "out of memory");
		return -1;
	}
	rc = img_validate_sink(
	    fd_main, fd_rootfs, lim, &x, meta, rep, err, errlen);
	if (rc == 0 && (rc = xs_finish(&x, err, errlen)) == -1)
		img_meta_free(meta);
	xs_free(&x);
	if (rc == -1)
		img_xresult_free(xr);
	return rc;
}
