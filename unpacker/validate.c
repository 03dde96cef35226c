/*
 * img_validate(): the parts of an image, their limits, and the checks that
 * need the whole pass (metadata.yaml present, rootfs/ present, templates
 * present), so that templates may come before or after metadata.yaml.
 */
#include <sys/stat.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpacker/internal.h"

#define TPL_DIR "templates/"

/*
 * libarchive converts every PAX string record (path, linkpath, uname, ACL
 * text) from UTF-8 to the locale's charset. In the C locale that is an
 * iconv conversion, and glibc's iconv opens its module cache lazily, on
 * the first PAX header: in the sandbox, an openat after the filter closed,
 * i.e. SIGSYS. With a UTF-8 LC_CTYPE libarchive copies UTF-8 to UTF-8
 * itself and never calls iconv, so names reach the entry policy byte for
 * byte (a header marked hdrcharset=BINARY is never converted).
 */
int
img_locale_init(char *err, size_t errlen)
{
	if (setlocale(LC_CTYPE, "C.UTF-8") != NULL &&
	    strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		return 0;
	snprintf(err, errlen,
	    "the C.UTF-8 locale is missing (glibc's /usr/lib/locale/C.utf8, "
	    "Debian package libc-bin): PAX archives cannot be read without "
	    "it");
	return -1;
}

void
img_limits_default(struct img_limits *lim)
{
	lim->part_max = LIM_IMAGE_PART_MAX;
	lim->unpacked_abs_max = LIM_UNPACKED_ABS_MAX;
	lim->unpacked_factor = LIM_UNPACKED_FACTOR;
	lim->unpacked_slack = LIM_UNPACKED_SLACK;
	lim->ratio_max = LIM_RATIO_MAX;
	lim->ratio_after = LIM_RATIO_AFTER;
	lim->entries_max = LIM_ENTRIES_MAX;
	lim->name_index_max = LIM_NAME_INDEX_MAX;
}

/* A regular file, and the offset it is read from: 0, or -1 and err. */
static int
img_fd_check(struct vstate *vs, struct part *p, int fd, struct stat *st)
{
	off_t off;

	if (fd < 0 || fstat(fd, st) == -1) {
		msg_setp(vs->err, vs->errlen, p->label, "bad file descriptor");
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		msg_setp(vs->err, vs->errlen, p->label, "not a regular file");
		return -1;
	}
	if ((off = lseek(fd, 0, SEEK_CUR)) == -1) {
		msg_setp(vs->err, vs->errlen, p->label, "cannot seek");
		return -1;
	}
	p->base = (uint64_t)off;
	return 0;
}

static int
img_part_max(struct vstate *vs, struct part *p)
{
	p->rep->compressed_bytes = p->csize;
	if (p->csize <= vs->lim->part_max)
		return 0;
	msg_setp(vs->err, vs->errlen, p->label, "larger than %llu bytes",
	    (unsigned long long)vs->lim->part_max);
	return -1;
}

/* Compressed size: what is left of the file from the current offset. */
static int
img_csize(struct vstate *vs, struct part *p, int fd)
{
	struct stat st;

	if (img_fd_check(vs, p, fd, &st) == -1)
		return -1;
	p->csize =
	    (uint64_t)st.st_size > p->base ? (uint64_t)st.st_size - p->base : 0;
	return img_part_max(vs, p);
}

/* min(absolute, factor x compressed + slack) over the whole image. */
static void
img_bound(struct vstate *vs)
{
	const struct img_limits *lim = vs->lim;
	uint64_t rel = UINT64_MAX;

	if (lim->unpacked_factor == 0 ||
	    vs->csize_total <=
		(UINT64_MAX - lim->unpacked_slack) / lim->unpacked_factor)
		rel = vs->csize_total * lim->unpacked_factor +
		      lim->unpacked_slack;
	vs->unpacked_max =
	    rel < lim->unpacked_abs_max ? rel : lim->unpacked_abs_max;
}

static int
img_template(struct vstate *vs, struct part *p, const struct img_template *t)
{
	char path[sizeof(TPL_DIR) + LIM_TEMPLATE_NAME_MAX];
	char qp[MSG_QUOTE_MAX], qn[MSG_QUOTE_MAX];
	struct pnode *n;
	int len;

	len = snprintf(path, sizeof(path), TPL_DIR "%s", t->template);
	msg_quote(qp, sizeof(qp), t->path, strlen(t->path));
	msg_quote(qn, sizeof(qn), path, len < 0 ? 0 : strlen(path));
	n = len < 0 || (size_t)len >= sizeof(path)
		? NULL
		: pidx_find(&p->idx, path, (size_t)len);
	if (n == NULL || (n->flags & NODE_IMPLIED))
		msg_setp(vs->err, vs->errlen, p->label,
		    "template \"%s\": %s is missing", qp, qn);
	else if (n->type != NODE_REG)
		msg_setp(vs->err, vs->errlen, p->label,
		    "template \"%s\": %s is a %s, not a regular file", qp, qn,
		    node_type_name(n->type));
	else if (n->flags & NODE_BIG)
		msg_setp(vs->err, vs->errlen, p->label,
		    "template \"%s\": %s is larger than %llu bytes", qp, qn,
		    (unsigned long long)LIM_TEMPLATE_SOURCE_MAX);
	else
		return 0;
	return -1;
}

static int
img_complete(struct vstate *vs, struct part *parts)
{
	struct pnode *n;
	size_t i;

	if (!vs->have_meta) {
		msg_set(vs->err, vs->errlen, "image has no metadata.yaml");
		return -1;
	}
	if (parts[0].kind == PART_UNIFIED) {
		n = pidx_find(&parts[0].idx, "rootfs", strlen("rootfs"));
		if (n == NULL || n->type != NODE_DIR) {
			msg_set(vs->err, vs->errlen,
			    "unified image has no rootfs/ directory");
			return -1;
		}
	}
	for (i = 0; i < vs->meta.ntemplates; i++)
		if (img_template(vs, &parts[0], &vs->meta.templates[i]) == -1)
			return -1;
	return 0;
}

/* Fed: a part's size once it is final, as img_csize() would see it. */
static int
img_csize_fed(struct vstate *vs, struct part *p)
{
	part_wait(vs, p, UINT64_MAX);
	p->csize = vs->feed->avail[p->no];
	return img_part_max(vs, p);
}

ssize_t
part_fd_read(struct vstate *vs, struct part *p, int fd, void *buf, size_t len)
{
	struct img_feed *f = vs->feed;
	ssize_t n;

	if (f == NULL) {
		do
			n = read(fd, buf, len);
		while (n == -1 && errno == EINTR);
		return n;
	}
	part_wait(vs, p, p->off + 1);
	if (p->off >= f->avail[p->no])
		return 0; /* final, and all read */
	if (len > f->avail[p->no] - p->off)
		len = (size_t)(f->avail[p->no] - p->off);
	do
		n = pread(fd, buf, len, (off_t)(p->base + p->off));
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		errno = EIO; /* shorter than the store said it hashed */
		return -1;
	}
	if (n > 0)
		p->off += (uint64_t)n;
	return n;
}

void
part_wait(struct vstate *vs, const struct part *p, uint64_t n)
{
	struct img_feed *f = vs->feed;

	while (f != NULL && !f->final[p->no] && f->avail[p->no] < n)
		f->next(f->arg, f);
}

void
img_bound_fed(struct vstate *vs)
{
	struct img_feed *f = vs->feed;

	if (f == NULL || vs->sized)
		return;
	vs->csize_total = f->avail[0] + f->avail[1];
	vs->sized = f->final[0] && f->final[1];
	img_bound(vs);
}

static int
img_run(struct vstate *vs, struct part *parts, int nparts, const int *fds)
{
	int i;

	for (i = 0; i < nparts; i++) {
		struct stat st;

		if (vs->feed != NULL) {
			if (img_fd_check(vs, &parts[i], fds[i], &st) == -1)
				return -1;
		} else if (img_csize(vs, &parts[i], fds[i]) == -1)
			return -1;
		vs->csize_total += parts[i].csize;
	}
	if (vs->feed && nparts == 1)
		vs->feed->final[1] = 1; /* no second part: never more of it */
	img_bound(vs);
	img_bound_fed(vs);
	for (i = 0; i < nparts; i++) {
		if (pidx_init(&parts[i].idx, &vs->index_used,
			vs->lim->name_index_max) == -1) {
			msg_set(vs->err, vs->errlen, "out of memory");
			return -1;
		}
	}
	for (i = 0; i < nparts; i++) {
		int sq;

		/* A squashfs is read where its tables point: only whole. */
		part_wait(vs, &parts[i], 4);
		sq = parts[i].kind == PART_ROOTFS && squashfs_sniff(fds[i]);
		if (sq)
			parts[i].label = "rootfs squashfs: ";
		if (sq && vs->feed && img_csize_fed(vs, &parts[i]) == -1)
			return -1;
		if ((sq ? squashfs_read(vs, &parts[i], fds[i])
			: part_read(vs, &parts[i], fds[i])) == -1)
			return -1;
		if (vs->feed && img_csize_fed(vs, &parts[i]) == -1)
			return -1;
	}
	return img_complete(vs, parts);
}

int
img_validate_limits(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct img_meta *meta, struct img_report *rep, char *err, size_t errlen)
{
	return img_validate_sink(
	    fd_main, fd_rootfs, lim, NULL, meta, rep, err, errlen);
}

static int
img_validate_run(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct xsink *xs, struct img_feed *feed, struct img_meta *meta,
    struct img_report *rep, char *err, size_t errlen)
{
	struct vstate vs;
	struct part *parts;
	int fds[2] = {fd_main, fd_rootfs}, nparts, i, rc;

	memset(meta, 0, sizeof(*meta));
	memset(rep, 0, sizeof(*rep));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&vs, 0, sizeof(vs));
	vs.lim = lim;
	vs.xs = xs;
	vs.err = err;
	vs.errlen = errlen;
	vs.feed = feed;
	nparts = fd_rootfs == -1 ? 1 : 2;
	/* On the heap: each name index carries a path-sized cache. */
	if ((parts = calloc(2, sizeof(*parts))) == NULL) {
		msg_set(err, errlen, "out of memory");
		return -1;
	}
	parts[0].kind = nparts == 1 ? PART_UNIFIED : PART_META;
	parts[0].label = nparts == 1 ? "" : "metadata tarball: ";
	parts[1].kind = PART_ROOTFS;
	parts[1].label = "rootfs tarball: ";
	for (i = 0; i < 2; i++) {
		parts[i].rep = &rep->part[i];
		parts[i].no = i;
	}
	rc = img_run(&vs, parts, nparts, fds);
	for (i = 0; i < nparts; i++)
		if (parts[i].idx.root != NULL)
			pidx_free(&parts[i].idx);
	free(parts);
	if (rc == 0) {
		*meta = vs.meta;
		return 0;
	}
	img_meta_free(&vs.meta);
	memset(rep, 0, sizeof(*rep));
	return -1;
}

int
img_validate_sink(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct xsink *xs, struct img_meta *meta, struct img_report *rep, char *err,
    size_t errlen)
{
	return img_validate_run(
	    fd_main, fd_rootfs, lim, xs, NULL, meta, rep, err, errlen);
}

int
img_validate_feed(int fd_main, int fd_rootfs, const struct img_limits *lim,
    struct img_feed *feed, struct img_meta *meta, struct img_report *rep,
    char *err, size_t errlen)
{
	return img_validate_run(
	    fd_main, fd_rootfs, lim, NULL, feed, meta, rep, err, errlen);
}

int
img_validate(int fd_main, int fd_rootfs, struct img_meta *meta,
    struct img_report *rep, char *err, size_t errlen)
{
	struct img_limits lim;

	img_limits_default(&lim);
	return img_validate_limits(
	    fd_main, fd_rootfs, &lim, meta, rep, err, errlen);
}
