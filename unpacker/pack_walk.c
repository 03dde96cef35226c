/*
 * The tree of an image, walked depth first with each directory's names in
 * byte order. Every name is reached from its parent's fd (fstatat with
 * AT_SYMLINK_NOFOLLOW, openat with O_NOFOLLOW), nothing is followed, and
 * what is opened must be what lstat said; a file that changes while it is
 * read fails the image rather than giving it a torn copy. Names and
 * targets the import validator refuses are refused here first.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unpacker/pack_int.h"

#define OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
/* A hard-linked file: its node, name, the tree's node, malloc headers. */
#define LINK_COST(len) (sizeof(struct plink) + (len) + 64)
#define LIST_OVERHEAD 64
/* Retries of an xattr that grows between its size and its value. */
#define XATTR_TRIES 4

/* An inode seen with more names than one, and its first name. */
struct plink {
	dev_t dev;
	ino_t ino;
	nlink_t left; /* names still to come */
	size_t cost;
	char name[];
};

/* One directory's names, back to back, and their offsets. */
struct plist {
	char *names;
	size_t used, cap;
	uint32_t *off;
	size_t n, ncap;
	size_t charged;
};

static int walk_entry(struct pack_ctx *c, int pfd, const char *name, int depth);

static int
mem_charge(struct pack_ctx *c, size_t n)
{
	if (n > PACK_MEM_MAX - c->mem)
		return pack_fail(c,
		    "the tree's names need more than %llu MiB of memory, "
		    "more than an image may hold",
		    (unsigned long long)(PACK_MEM_MAX >> 20));
	c->mem += n;
	return 0;
}

static int
has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static int
link_cmp(const void *a, const void *b)
{
	const struct plink *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

void
walk_links_free(struct pack_ctx *c)
{
	if (c->links != NULL)
		tdestroy(c->links, free);
	c->links = NULL;
}

/*
 * The first name of a hard-linked regular file (link_used() after it is
 * written), or NULL: then this name is remembered for the next ones.
 */
static struct plink *
link_seen(struct pack_ctx *c, const struct stat *st, int *rc)
{
	struct plink key = {st->st_dev, st->st_ino, 0, 0}, *l, **found;

	*rc = 0;
	if ((found = tfind(&key, &c->links, link_cmp)) != NULL)
		return *found;
	if ((*rc = mem_charge(c, LINK_COST(c->nlen))) == -1)
		return NULL;
	if ((l = malloc(sizeof(*l) + c->nlen + 1)) == NULL) {
		c->mem -= LINK_COST(c->nlen);
		*rc = pack_failx(c, "out of memory");
		return NULL;
	}
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->left = st->st_nlink - 1;
	l->cost = LINK_COST(c->nlen);
	memcpy(l->name, c->name, c->nlen + 1);
	if (tsearch(l, &c->links, link_cmp) == NULL) {
		c->mem -= l->cost;
		free(l);
		*rc = pack_failx(c, "out of memory");
	}
	return NULL;
}

/* One more name of l written: forgotten after the last one lstat counts. */
static void
link_used(struct pack_ctx *c, struct plink *l)
{
	if (--l->left > 0)
		return;
	tdelete(l, &c->links, link_cmp);
	c->mem -= l->cost;
	free(l);
}

static int
xattr_keep(const char *name)
{
	return strncmp(name, "user.", 5) == 0 ||
	       strcmp(name, "security.capability") == 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One xattr's value onto c->ae; 0 or -1 and err. */
static int
xattr_add(struct pack_ctx *c, int fd, const char *name)
{
	ssize_t n = -1, size;
	void *v = NULL;
	int i;

	for (i = 0; i < XATTR_TRIES; i++) {
		if ((size = fgetxattr(fd, name, NULL, 0)) == -1)
			break;
		if ((size_t)size > LIM_XATTR_MAX) {
			free(v);
			return pack_fail(c,
			    "xattr %s is larger than %llu bytes", name,
			    (unsigned long long)LIM_XATTR_MAX);
		}
		free(v);
		if ((v = malloc(size ? (size_t)size : 1)) == NULL)
			return pack_failx(c, "out of memory");
		if ((n = fgetxattr(fd, name, v, (size_t)size)) >= 0 ||
		    errno != ERANGE)
			break;
	}
	if (n >= 0)
		archive_entry_xattr_add_entry(c->ae, name, v, (size_t)n);
	free(v);
	if (n >= 0)
		return 0;
	if (errno == ENODATA || errno == ERANGE)
		return pack_fail(
		    c, "changed while it was read (xattr %s)", name);
	return pack_fail(
	    c, "cannot be read: xattr %s: %s", name, strerror(errno));
}

/*
 * The kept xattrs of an open file or directory, in byte order of their
 * names (the filesystem's order is its own). Other xattrs are counted.
 */
static int
walk_xattrs(struct pack_ctx *c, int fd)
{
	char *list = (char *)c->buf, **keep = NULL, *p;
	size_t nkeep = 0, i;
	ssize_t n;
	int rc = 0;

	if (!c->o->xattrs)
		return 0;
	/* XATTR_LIST_MAX is 64 KiB: the list fits the I/O block. */
	if ((n = flistxattr(fd, list, sizeof(c->buf))) == -1) {
		if (errno == ENOTSUP)
			return 0;
		return pack_fail(
		    c, "cannot be read: xattrs: %s", strerror(errno));
	}
	if ((keep = calloc((size_t)n / 2 + 1, sizeof(*keep))) == NULL)
		return pack_failx(c, "out of memory");
	for (p = list; p < list + n; p += strlen(p) + 1) {
		if (xattr_keep(p))
			keep[nkeep++] = p;
		else
			c->rep->skipped_xattrs++;
	}
	qsort(keep, nkeep, sizeof(*keep), str_cmp);
	for (i = 0; i < nkeep && rc == 0; i++)
		rc = xattr_add(c, fd, keep[i]);
	free(keep);
	return rc;
}

/* The name of the child, appended to c->name (and taken off by walk_pop). */
static int
walk_push(struct pack_ctx *c, const char *name, size_t len)
{
	size_t room = sizeof(c->name) - 2 - c->nlen;

	c->name[c->nlen] = '/';
	if (len > LIM_PATH_MAX - 1 - c->nlen) {
		/* Shown cut: messages shorten it anyway. */
		memcpy(c->name + c->nlen + 1, name, len < room ? len : room);
		c->name[c->nlen + 1 + (len < room ? len : room)] = '\0';
		c->nlen += 1 + (len < room ? len : room);
		return pack_fail(c,
		    "path longer than %d bytes, the most an "
		    "image allows",
		    LIM_PATH_MAX);
	}
	memcpy(c->name + c->nlen + 1, name, len + 1);
	c->nlen += 1 + len;
	return 0;
}

static void
walk_pop(struct pack_ctx *c, size_t len)
{
	c->nlen = len;
	c->name[len] = '\0';
}

static void
list_free(struct pack_ctx *c, struct plist *l)
{
	free(l->names);
	free(l->off);
	c->mem -= l->charged;
	memset(l, 0, sizeof(*l));
}

static int
list_grow(struct pack_ctx *c, struct plist *l, size_t len)
{
	size_t cap = l->cap, ncap = l->ncap, cost;
	void *p;

	while (cap - l->used < len + 1)
		cap = cap ? 2 * cap : 4096;
	if (l->n == ncap)
		ncap = ncap ? 2 * ncap : 64;
	cost = cap + ncap * sizeof(*l->off) + LIST_OVERHEAD;
	if (cost > l->charged && mem_charge(c, cost - l->charged) == -1)
		return -1;
	if (cost > l->charged)
		l->charged = cost;
	if (cap != l->cap) {
		if ((p = realloc(l->names, cap)) == NULL)
			return pack_failx(c, "out of memory");
		l->names = p;
		l->cap = cap;
	}
	if (ncap != l->ncap) {
		if ((p = realloc(l->off, ncap * sizeof(*l->off))) == NULL)
			return pack_failx(c, "out of memory");
		l->off = p;
		l->ncap = ncap;
	}
	return 0;
}

static int
list_add(struct pack_ctx *c, struct plist *l, const char *name)
{
	size_t len = strlen(name);

	if (l->n >= LIM_ENTRIES_MAX)
		return pack_fail(c,
		    "holds more than %d names, the most an image may hold",
		    LIM_ENTRIES_MAX);
	if (list_grow(c, l, len) == -1)
		return -1;
	l->off[l->n++] = (uint32_t)l->used;
	memcpy(l->names + l->used, name, len + 1);
	l->used += len + 1;
	return 0;
}

static int
off_cmp(const void *a, const void *b, void *names)
{
	return strcmp((char *)names + *(const uint32_t *)a,
	    (char *)names + *(const uint32_t *)b);
}

/* A directory's names (not . and ..), sorted by their bytes. */
static int
list_read(struct pack_ctx *c, int fd, struct plist *l)
{
	struct dirent64 *d;
	ssize_t n, pos;

	for (;;) {
		n = getdents64(fd, c->buf, sizeof(c->buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return pack_fail(
			    c, "cannot be read: %s", strerror(errno));
		if (n == 0)
			break;
		for (pos = 0; pos < n; pos += d->d_reclen) {
			d = (struct dirent64 *)(void *)(c->buf + pos);
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			if (list_add(c, l, d->d_name) == -1)
				return -1;
		}
	}
	if (l->n > 1)
		qsort_r(l->off, l->n, sizeof(*l->off), off_cmp, l->names);
	/* A directory changed while it was listed can repeat a name. */
	for (size_t i = 1; i < l->n; i++)
		if (off_cmp(&l->off[i - 1], &l->off[i], l->names) == 0)
			return pack_fail(c, "changed while it was read");
	return 0;
}

/* The open thing is the one lstat saw. */
static int
same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT);
}

static int
changed(struct pack_ctx *c)
{
	return pack_fail(c, "changed while it was read");
}

static int
walk_dir(struct pack_ctx *c, int pfd, const char *name, const struct stat *st,
    int depth)
{
	struct plist l;
	struct stat fst;
	size_t i, len = c->nlen;
	int fd, rc = -1;

	if (c->nlen + 1 > LIM_PATH_MAX)
		return pack_fail(c,
		    "path longer than %d bytes, the most an "
		    "image allows",
		    LIM_PATH_MAX);
	if ((fd = openat(pfd, name, OPEN_FLAGS | O_DIRECTORY)) == -1) {
		if (errno == ELOOP || errno == ENOTDIR || errno == ENOENT)
			return changed(c);
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	memset(&l, 0, sizeof(l));
	if (fstat(fd, &fst) == -1 || !same_inode(st, &fst)) {
		changed(c);
		goto out;
	}
	pack_entry_fill(c, &fst);
	if (walk_xattrs(c, fd) == -1 || pack_header(c) == -1 ||
	    list_read(c, fd, &l) == -1)
		goto out;
	for (i = 0, rc = 0; i < l.n && rc == 0; i++) {
		const char *n = l.names + l.off[i];

		if ((rc = walk_push(c, n, strlen(n))) == 0)
			rc = walk_entry(c, fd, n, depth + 1);
		walk_pop(c, len);
	}
out:
	list_free(c, &l);
	close(fd);
	return rc;
}

/* The data of an open regular file: exactly its size, then nothing. */
static int
walk_data(struct pack_ctx *c, int fd, const struct stat *st)
{
	uint64_t left = (uint64_t)st->st_size;
	struct stat end;
	ssize_t n;

	for (;;) {
		size_t want =
		    left < sizeof(c->buf) ? (size_t)left : sizeof(c->buf);

		/* At the end, one more read: it must find nothing. */
		n = read(fd, c->buf, left ? want : 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return pack_fail(
			    c, "cannot be read: %s", strerror(errno));
		if (left == 0 && n == 0)
			break;
		if (n == 0 || left == 0)
			return changed(c);
		if (pack_data(c, c->buf, (size_t)n) == -1)
			return -1;
		left -= (uint64_t)n;
	}
	if (fstat(fd, &end) == -1 || end.st_size != st->st_size ||
	    end.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    end.st_mtim.tv_nsec != st->st_mtim.tv_nsec ||
	    end.st_ctim.tv_sec != st->st_ctim.tv_sec ||
	    end.st_ctim.tv_nsec != st->st_ctim.tv_nsec)
		return changed(c);
	return 0;
}

static int
walk_file(struct pack_ctx *c, int pfd, const char *name, const struct stat *st)
{
	struct plink *first;
	struct stat fst;
	int fd, rc = -1;

	/* Later names of a file: links to the first, in this tree. */
	if (st->st_nlink > 1) {
		if ((first = link_seen(c, st, &rc)) == NULL && rc == -1)
			return -1;
		if (first != NULL) {
			pack_entry_fill(c, st);
			archive_entry_set_size(c->ae, 0);
			archive_entry_copy_hardlink(c->ae, first->name);
			link_used(c, first);
			return pack_header(c);
		}
	}
	if ((fd = openat(pfd, name, OPEN_FLAGS)) == -1) {
		if (errno == ELOOP || errno == ENOENT)
			return changed(c);
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	rc = -1;
	if (fstat(fd, &fst) == -1 || !same_inode(st, &fst) ||
	    fst.st_size != st->st_size)
		changed(c);
	else {
		pack_entry_fill(c, &fst);
		if (walk_xattrs(c, fd) == 0 && pack_header(c) == 0)
			rc = walk_data(c, fd, &fst);
	}
	close(fd);
	return rc;
}

static int
walk_symlink(
    struct pack_ctx *c, int pfd, const char *name, const struct stat *st)
{
	char *t = (char *)c->buf;
	struct stat st2;
	ssize_t n;

	if ((n = readlinkat(pfd, name, t, LIM_PATH_MAX + 1)) == -1) {
		if (errno == EINVAL || errno == ENOENT)
			return changed(c);
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	if (n > LIM_PATH_MAX)
		return pack_fail(c,
		    "symlink target longer than %d bytes, the most an image "
		    "allows",
		    LIM_PATH_MAX);
	t[n] = '\0';
	if (n == 0 || has_control(t, (size_t)n))
		return pack_fail(c,
		    "symlink target %s, which an image may "
		    "not hold",
		    n == 0 ? "is empty" : "holds control characters");
	if (fstatat(pfd, name, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !same_inode(st, &st2))
		return changed(c);
	pack_entry_fill(c, st);
	archive_entry_copy_symlink(c->ae, t);
	return pack_header(c);
}

static int
walk_entry(struct pack_ctx *c, int pfd, const char *name, int depth)
{
	struct stat st;

	if (depth > LIM_PATH_DEPTH_MAX)
		return pack_fail(c,
		    "deeper than %d path components, the most an image allows",
		    LIM_PATH_DEPTH_MAX);
	if (has_control(name, strlen(name)))
		return pack_fail(c, "name holds control characters, which an "
				    "image may not hold");
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return pack_fail(c, "disappeared while it was read");
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return walk_dir(c, pfd, name, &st, depth);
	case S_IFREG:
		return walk_file(c, pfd, name, &st);
	case S_IFLNK:
		return walk_symlink(c, pfd, name, &st);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		/* As themselves, never opened. */
		if (c->templates)
			return pack_fail(c,
			    "is a %s: devices and FIFOs belong in rootfs/ "
			    "only",
			    pack_type_name(st.st_mode));
		pack_entry_fill(c, &st);
		return pack_header(c);
	case S_IFSOCK:
		/* No tar format holds one; counted for the caller. */
		c->rep->skipped_sockets++;
		return 0;
	}
	return pack_fail(c, "is a %s, which an image cannot hold",
	    pack_type_name(st.st_mode));
}

int
walk_tree(struct pack_ctx *c, int pfd, const char *name, int depth)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return pack_fail(c, "cannot be read: %s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pack_fail(c, "must be a directory, not a %s",
		    pack_type_name(st.st_mode));
	return walk_dir(c, pfd, name, &st, depth);
}
