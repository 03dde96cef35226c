/*
 * Templates rendered into an unpacked rootfs, as LXD does on create, copy,
 * rename and start, but without trusting the tree: a target path is
 * resolved component by component under the rootfs dirfd, each symlink
 * followed inside the rootfs (an absolute one from its root), ".." above
 * the root and loops refused. A template is parsed and rendered into
 * memory before its target is opened, so a broken template never truncates
 * a file. New files are 0644 for the container's root, new parents 0755;
 * an existing file keeps its mode and owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpacker/extract.h"
#include "unpacker/internal.h"
#include "unpacker/tpl.h"

#define SYMLINKS_MAX 40 /* as the kernel's own resolution */
#define WORK_MAX (2 * LIM_PATH_MAX + 2)

struct resolve {
	int root;
	char cur[WORK_MAX]; /* resolved so far: "a/b", "" for the root */
	char rest[WORK_MAX];
	int links;
};

/* The next component of rest, removed from it: 0 when none is left. */
static size_t
next_comp(struct resolve *r, char *comp)
{
	char *s = r->rest, *e;
	size_t n;

	while (*s == '/')
		s++;
	if (*s == '\0')
		return 0;
	e = strchr(s, '/');
	n = e ? (size_t)(e - s) : strlen(s);
	if (n > NAME_MAX)
		n = NAME_MAX + 1; /* refused by the caller */
	snprintf(comp, NAME_MAX + 2, "%.*s", (int)n, s);
	memmove(
	    r->rest, e ? e : s + strlen(s), strlen(e ? e : s + strlen(s)) + 1);
	return n;
}

static int
cur_fd(struct resolve *r)
{
	return r->cur[0]
		   ? xs_open_beneath(r->root, r->cur, O_DIRECTORY | O_RDONLY)
		   : dup(r->root);
}

static int
rest_empty(const struct resolve *r)
{
	return r->rest[strspn(r->rest, "/")] == '\0';
}

/* A symlink at cur/comp: its target goes in front of what is left. */
static int
follow(struct resolve *r, int dfd, const char *comp, char *err, size_t errlen)
{
	char t[LIM_PATH_MAX + 1], tmp[WORK_MAX];
	ssize_t n;

	if (++r->links > SYMLINKS_MAX) {
		msg_set(err, errlen, "too many levels of symlinks");
		return -1;
	}
	if ((n = readlinkat(dfd, comp, t, sizeof(t) - 1)) <= 0) {
		msg_set(err, errlen, "cannot read the symlink \"%s\"", comp);
		return -1;
	}
	t[n] = '\0';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", t, r->rest) >=
	    sizeof(tmp)) {
		msg_set(err, errlen, "the path through symlinks is too long");
		return -1;
	}
	memcpy(r->rest, tmp, strlen(tmp) + 1);
	if (t[0] == '/')
		r->cur[0] = '\0';
	return 0;
}

static int
step_up(struct resolve *r, const char *path, char *err, size_t errlen)
{
	char *slash;

	if (r->cur[0] == '\0') {
		msg_set(err, errlen,
		    "\"%s\" leads out of the rootfs (\"..\" above its root)",
		    path);
		return -1;
	}
	slash = strrchr(r->cur, '/');
	if (slash)
		*slash = '\0';
	else
		r->cur[0] = '\0';
	return 0;
}

static int
descend(struct resolve *r, const char *comp, char *err, size_t errlen)
{
	size_t n = strlen(r->cur);

	if (n + strlen(comp) + 2 > sizeof(r->cur)) {
		msg_set(err, errlen, "the path is too long");
		return -1;
	}
	snprintf(r->cur + n, sizeof(r->cur) - n, "%s%s", n ? "/" : "", comp);
	return 0;
}

/* An intermediate directory, made when missing. */
static int
dir_step(struct resolve *r, int dfd, const char *comp, uid_t uid, gid_t gid,
    char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT || mkdirat(dfd, comp, 0755) == -1 ||
		    fchownat(dfd, comp, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
			img_note_errno(errno);
			msg_set(err, errlen,
			    "cannot make the directory \"%s\": %s", comp,
			    strerror(errno));
			return -1;
		}
	} else if (S_ISLNK(st.st_mode))
		return follow(r, dfd, comp, err, errlen);
	else if (!S_ISDIR(st.st_mode)) {
		msg_set(err, errlen, "\"%s\" is not a directory", comp);
		return -1;
	}
	return descend(r, comp, err, errlen);
}

/* The last component: 1 opened (fd), 0 skipped, 2 followed, -1 error. */
static int
last_step(struct resolve *r, int dfd, const char *comp, int create_only,
    uid_t uid, gid_t gid, int *fd, int *created, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return follow(r, dfd, comp, err, errlen) == -1 ? -1 : 2;
		if (!S_ISREG(st.st_mode)) {
			msg_set(err, errlen, "\"%s\" exists and is not a file",
			    comp);
			return -1;
		}
		if (create_only)
			return 0;
		*fd = openat(dfd, comp,
		    O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		*created = 0;
	} else if (errno == ENOENT) {
		*fd = openat(dfd, comp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (*fd != -1 &&
		    (fchown(*fd, uid, gid) == -1 || fchmod(*fd, 0644) == -1)) {
			close(*fd);
			*fd = -1;
		}
		*created = 1;
	} else
		*fd = -1;
	if (*fd == -1) {
		img_note_errno(errno);
		msg_set(err, errlen, "cannot open \"%s\": %s", comp,
		    strerror(errno));
		return -1;
	}
	return 1;
}

int
img_open_target(int rootfd, const char *path, int create_only, uid_t uid,
    gid_t gid, int *fd, int *created, char *err, size_t errlen)
{
	struct resolve *r = calloc(1, sizeof(*r));
	char comp[NAME_MAX + 2];
	int rc = -1;

	*fd = -1;
	if (r == NULL) {
		msg_set(err, errlen, "out of memory");
		return -1;
	}
	r->root = rootfd;
	snprintf(r->rest, sizeof(r->rest), "%s", path);
	for (;;) {
		size_t n = next_comp(r, comp);
		int dfd, last, s;

		if (n == 0) {
			msg_set(err, errlen, "\"%s\" names a directory", path);
			break;
		}
		if (n > NAME_MAX) {
			msg_set(err, errlen, "a path component is too long");
			break;
		}
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (step_up(r, path, err, errlen) == -1)
				break;
			continue;
		}
		if ((dfd = cur_fd(r)) == -1) {
			msg_set(err, errlen, "cannot open a directory: %s",
			    strerror(errno));
			break;
		}
		last = rest_empty(r);
		s = last ? last_step(r, dfd, comp, create_only, uid, gid, fd,
			       created, err, errlen)
			 : dir_step(r, dfd, comp, uid, gid, err, errlen);
		close(dfd);
		if (s == -1)
			break;
		if (last && s != 2) {
			rc = s == 1 ? 1 : 0;
			break;
		}
	}
	free(r);
	return rc;
}

static int
write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w, n -= (size_t)w;
	}
	return 0;
}

static const char *
trigger_name(unsigned t)
{
	switch (t) {
	case TPL_WHEN_CREATE:
		return "create";
	case TPL_WHEN_COPY:
		return "copy";
	case TPL_WHEN_RENAME:
		return "rename";
	default:
		return "start";
	}
}

static const struct img_xsrc *
source_of(const struct img_xresult *xr, const char *name)
{
	for (size_t i = 0; i < xr->ntpls; i++)
		if (strcmp(xr->tpls[i].name, name) == 0)
			return &xr->tpls[i];
	return NULL;
}

/* One template: parsed, rendered, then written to its target. */
static int
render_one(int rootfd, const struct img_meta *meta,
    const struct img_template *t, const struct img_xresult *xr,
    const struct img_render_args *a, unsigned trig,
    struct img_render_report *rr, char *err, size_t errlen)
{
	const struct img_xsrc *src = source_of(xr, t->template);
	struct tpl_kv props[LIM_META_PROPERTIES_MAX];
	struct tpl_limits lim;
	struct tpl_ctx ctx;
	struct tpl *tp = NULL;
	char name[LIM_TEMPLATE_NAME_MAX + 16], terr[LIM_ERROR_MAX];
	char *out = NULL;
	size_t outlen = 0;
	int fd, created, r;

	snprintf(name, sizeof(name), "templates/%s", t->template);
	if (src == NULL) {
		msg_set(err, errlen, "template %s is missing", name);
		return -1;
	}
	tpl_limits_default(&lim);
	memset(&ctx, 0, sizeof(ctx));
	ctx.trigger = trigger_name(trig);
	ctx.path = t->path;
	ctx.name = a->name;
	ctx.type = "container";
	ctx.architecture = meta->architecture;
	ctx.privileged = a->privileged;
	ctx.config = (const struct tpl_kv *)a->config;
	ctx.nconfig = a->nconfig;
	for (size_t i = 0; i < t->nprops && i < LIM_META_PROPERTIES_MAX; i++) {
		props[i].key = t->props[i].key;
		props[i].value = t->props[i].value;
	}
	ctx.properties = props;
	ctx.nproperties = t->nprops;
	if (tpl_parse(name, src->src, src->len, &lim, &tp, terr,
		sizeof(terr)) == -1 ||
	    tpl_render(tp, &ctx, &lim, &out, &outlen, terr, sizeof(terr)) ==
		-1) {
		tpl_free(tp);
		msg_set(err, errlen, "template %s", terr);
		return -1;
	}
	tpl_free(tp);
	if (rr->bytes + outlen > LIM_TEMPLATE_OUTPUT_TOTAL) {
		free(out);
		msg_set(err, errlen,
		    "templates render more than %llu bytes in all (at %s)",
		    (unsigned long long)LIM_TEMPLATE_OUTPUT_TOTAL, name);
		return -1;
	}
	r = img_open_target(rootfd, t->path, t->create_only, a->root_uid,
	    a->root_gid, &fd, &created, terr, sizeof(terr));
	if (r == 1 && write_all(fd, out, outlen) == -1) {
		int e = errno;

		snprintf(terr, sizeof(terr), "cannot write: %s", strerror(e));
		img_note_errno(e);
		r = -1;
	}
	if (fd != -1)
		close(fd);
	free(out);
	if (r == -1) {
		msg_set(
		    err, errlen, "template %s for %s: %s", name, t->path, terr);
		return -1;
	}
	if (r == 0)
		rr->skipped++;
	else {
		rr->rendered++;
		rr->bytes += outlen;
	}
	return 0;
}

int
img_render(int rootfd, const struct img_meta *meta,
    const struct img_xresult *xr, const struct img_render_args *a,
    struct img_render_report *rr, char *err, size_t errlen)
{
	unsigned order[2] = {a->trigger, TPL_WHEN_START};
	int passes = a->trigger == TPL_WHEN_START ? 1 : 2;

	memset(rr, 0, sizeof(*rr));
	for (int p = 0; p < passes; p++)
		for (size_t i = 0; i < meta->ntemplates; i++)
			if ((meta->templates[i].when & order[p]) &&
			    render_one(rootfd, meta, &meta->templates[i], xr, a,
				order[p], rr, err, errlen) == -1)
				return -1;
	return 0;
}
