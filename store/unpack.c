/*
 * Unpack requests: an image's rootfs written into a new directory under
 * unpack_root (default <state>/rootfs) by an unpacker chrooted there, its
 * templates rendered by the same sandbox. The store decides everything
 * here: the target's name, that it is new, the owner ids and the
 * capabilities the job keeps; the unpacker only writes inside it. A job
 * that fails for any reason leaves no target behind.
 *
 * The unpacker writes into ".<name>.imgd-partial" (a name no request can
 * ask for: targets do not start with '.'), renamed to <name> when the job
 * has succeeded: a tree under its final name is whole. A store killed
 * mid-unpack leaves only the partial directory, which unpack_repair()
 * removes at the next start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/cause.h"
#include "ipc/log.h"
#include "store/api.h"
#include "store/store.h"
#include "unpacker/validate.h"

#define RM_DEPTH_MAX 1024 /* deeper than any tree an unpack can make */
#define PARTIAL_SUFFIX ".imgd-partial"
/* A target's name, so that its partial name fits in NAME_MAX. */
#define TARGET_NAME_MAX (NAME_MAX - 1 - (sizeof(PARTIAL_SUFFIX) - 1))

struct unpack {
	struct op *op;
	char project[LIM_PROJECT_NAME_MAX + 1];
	char fp[65];
	char name[LIM_UNPACK_TARGET_MAX + 1];
	char partial[LIM_UNPACK_TARGET_MAX + sizeof(PARTIAL_SUFFIX) + 1];
	char requestor[160];
	char path[4096];
};

static const char *
unpack_root(char *buf, size_t len)
{
	if (S->cfg.unpack_root[0])
		snprintf(buf, len, "%s", S->cfg.unpack_root);
	else
		snprintf(buf, len, "%s/rootfs", S->state);
	return buf;
}

/* Removes name under dfd and everything below it, following nothing. */
static int
rm_at(int dfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	if (depth > RM_DEPTH_MAX || (d = fdopendir(fd)) == NULL) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN ||
		    unlinkat(fd, de->d_name, 0) == -1)
			if (rm_at(fd, de->d_name, depth + 1) == -1)
				rc = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

static void
target_remove(const struct unpack *u)
{
	char root[4096];
	int rfd = open(unpack_root(root, sizeof(root)),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (rfd == -1 || rm_at(rfd, u->partial, 0) == -1)
		log_warn("unpack: could not remove %s/%s", root, u->partial);
	else
		log_info("unpack: removed %s/%s", root, u->partial);
	if (rfd != -1)
		close(rfd);
}

/* The finished tree takes its name; a name taken meanwhile is not replaced.
 * 0, or -1 with f set (the partial tree is still there). */
static int
target_finish(const struct unpack *u, struct fault *f)
{
	char root[4096];
	int rfd = open(unpack_root(root, sizeof(root)),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e;

	if (rfd != -1 &&
	    renameat2(rfd, u->partial, rfd, u->name, RENAME_NOREPLACE) == 0) {
		/* The tree was synced before DONE; now its name. */
		if (fsync(rfd) == -1)
			log_warn("unpack: fsync %s", root);
		close(rfd);
		return 0;
	}
	e = errno;
	if (rfd != -1)
		close(rfd);
	if (e == EEXIST) {
		fault_set(f, ERR_EXISTS, RES_NONE, NULL);
		snprintf(f->detail, sizeof(f->detail),
		    "unpack target %s was created while the image was unpacked",
		    u->path);
	} else {
		errno = e;
		log_warn(
		    "unpack: rename %s/%s to %s", root, u->partial, u->name);
		fault_set(f, fault_storage(e), RES_NONE, NULL);
	}
	return -1;
}

static void
unpack_done(void *arg, const struct fault *f, const struct job_result *r)
{
	struct unpack *u = arg;
	struct fault ff;
	char n[10][24];

	if (!f && target_finish(u, &ff) == -1)
		f = &ff;
	if (f) {
		char msg[LIM_ERROR_MAX + 128];

		target_remove(u);
		audit("image-unpack-failed", "project", u->project,
		    "fingerprint", u->fp, "target", u->path, "requestor",
		    u->requestor, "fault", fault_token(f->cause), "cause",
		    fault_text(f, msg, sizeof(msg)), NULL);
		op_finish(u->op, f);
		project_busy_leave(u->project, BUSY_UNPACK);
		free(u);
		return;
	}
	const struct imsg_unpack_written *w = &r->written;
	const uint64_t v[10] = {w->files, w->dirs, w->symlinks, w->hardlinks,
	    w->devices, w->bytes, w->xattrs, w->xattrs_skipped, w->rendered,
	    w->skipped};
	static const char *const keys[10] = {"files", "directories", "symlinks",
	    "hardlinks", "devices", "bytes", "xattrs", "xattrs_skipped",
	    "templates_rendered", "templates_skipped"};

	op_set_meta(u->op, "target", u->path);
	for (int i = 0; i < 10; i++) {
		snprintf(n[i], sizeof(n[i]), "%llu", (unsigned long long)v[i]);
		op_set_meta(u->op, keys[i], n[i]);
	}
	audit("image-unpacked", "project", u->project, "fingerprint", u->fp,
	    "target", u->path, "requestor", u->requestor, "files", n[0],
	    "templates", n[8], NULL);
	log_info("unpacked %s into %s: %s files, %s bytes, %s templates", u->fp,
	    u->path, n[0], n[5], n[8]);
	op_finish(u->op, NULL);
	project_busy_leave(u->project, BUSY_UNPACK);
	free(u);
}

static int
target_name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > TARGET_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
			*s == '.'))
			return 0;
	return 1;
}

static int
refuse(uint64_t reqid, const char *msg)
{
	struct fault f;

	fault_invalid(&f, "%s", msg);
	reply_fault(reqid, &f);
	return -1;
}

/* What the request asks for, checked; x filled. 0, or -1 (answered). */
static int
unpack_check(uint64_t reqid, const struct imsg_image_unpack_req *r,
    struct job_extract *x)
{
	uint32_t t = r->trigger ? r->trigger : TPL_WHEN_CREATE;
	char msg[LIM_ERROR_MAX];

	if (!S->root)
		return refuse(reqid,
		    "unpacking needs imgd to run as root (it sets the image's "
		    "owners)");
	if (!target_name_ok(r->target)) {
		snprintf(msg, sizeof(msg),
		    "bad unpack target \"%s\": a name of letters, digits, "
		    "'-', '_' and '.' under the unpack root, not starting "
		    "with '.', at most %zu characters",
		    r->target, (size_t)TARGET_NAME_MAX);
		return refuse(reqid, msg);
	}
	if (t != TPL_WHEN_CREATE && t != TPL_WHEN_COPY && t != TPL_WHEN_START &&
	    t != TPL_WHEN_RENAME)
		return refuse(
		    reqid, "bad trigger: one of create, copy, start, rename");
	if (r->shift_range && r->privileged)
		return refuse(reqid,
		    "--shift and --privileged exclude each other: a shifted "
		    "target is an unprivileged container's");
	if (r->shift_range && (r->shift_uid == 0 || r->shift_gid == 0 ||
				  r->shift_range > UINT32_MAX - r->shift_uid ||
				  r->shift_range > UINT32_MAX - r->shift_gid))
		return refuse(reqid,
		    "bad --shift: HOSTUID:HOSTGID:RANGE with ids above 0 "
		    "(the container's root must not be the host's) and the "
		    "range inside 32 bits");
	memset(x, 0, sizeof(*x));
	x->x.trigger = (uint8_t)t;
	x->x.privileged = r->privileged;
	x->x.flags =
	    (uint8_t)((r->xattrs ? UNPACK_X_XATTRS : 0) |
		      (r->privileged && S->cfg.unpack_devices ? UNPACK_X_DEVICES
							      : 0));
	x->x.name = (char *)(r->name[0] ? r->name : r->target);
	x->x.config = r->config;
	x->x.nconfig = r->nconfig;
	x->shift_uid = r->shift_uid;
	x->shift_gid = r->shift_gid;
	x->shift_range = r->shift_range;
	x->caps = (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) |
		  (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID);
	if (x->x.flags & UNPACK_X_DEVICES)
		x->caps |= 1ULL << CAP_MKNOD;
	return 0;
}

/* The new target's partial directory, owned by the container's root; the
 * target's own name must be free. */
static int
target_make(uint64_t reqid, const struct job_extract *x, const char *final,
    const char *name, char *path, size_t len)
{
	struct stat st;
	char root[4096];
	struct fault f;
	int rfd;

	unpack_root(root, sizeof(root));
	/* 0711 past the store's umask: users reach their targets by name,
	 * as under LXD's containers/; an existing root keeps its mode. */
	if (mkdir(root, 0711) == 0 ? chmod(root, 0711) == -1
				   : errno != EEXIST) {
		log_warn("unpack root %s", root);
		api_refuse(reqid, ERR_STORAGE, RES_NONE, NULL);
		return -1;
	}
	if ((rfd = open(root,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("unpack root %s", root);
		api_refuse(reqid, ERR_STORAGE, RES_NONE, NULL);
		return -1;
	}
	snprintf(path, len, "%s/%s", root, final);
	if (fstatat(rfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(rfd);
		fault_set(&f, ERR_EXISTS, RES_NONE, NULL);
		snprintf(f.detail, sizeof(f.detail),
		    "unpack target %s already exists", path);
		reply_fault(reqid, &f);
		return -1;
	}
	if (mkdirat(rfd, name, 0755) == -1) {
		int e = errno;

		close(rfd);
		if (e == EEXIST) {
			fault_set(&f, ERR_EXISTS, RES_NONE, NULL);
			snprintf(f.detail, sizeof(f.detail),
			    "unpack target %s is being unpacked already", path);
			reply_fault(reqid, &f);
		} else {
			log_warn("unpack target %s", path);
			api_refuse(reqid,
			    e == ENOSPC ? ERR_NO_SPACE : ERR_STORAGE, RES_NONE,
			    NULL);
		}
		return -1;
	}
	if (x->shift_range && fchownat(rfd, name, x->shift_uid, x->shift_gid,
				  AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("unpack target %s: chown", path);
		unlinkat(rfd, name, AT_REMOVEDIR);
		close(rfd);
		api_refuse(reqid, ERR_STORAGE, RES_NONE, NULL);
		return -1;
	}
	close(rfd);
	return 0;
}

void
unpack_start(uint64_t reqid, const char *project, const struct image *img,
    const struct imsg_image_unpack_req *r, const char *requestor)
{
	struct job_extract x;
	struct unpack *u;
	uint64_t sizes[2] = {0, 0};
	int fds[2] = {-1, -1}, nparts = img->split ? 2 : 1;
	struct job *j;

	if (unpack_check(reqid, r, &x) == -1)
		return;
	for (int i = 0; i < nparts; i++) {
		struct stat st;

		fds[i] = blob_open(
		    img->fingerprint, i == 0 ? PART_UNIFIED : PART_ROOTFS);
		if (fds[i] == -1 || fstat(fds[i], &st) == -1) {
			log_warn("unpack %s: open", img->fingerprint);
			api_refuse(reqid, ERR_FILE_MISSING, RES_IMAGE,
			    img->fingerprint);
			goto out;
		}
		sizes[i] = (uint64_t)st.st_size;
	}
	struct fault flt;
	if (project_busy_enter(project, BUSY_UNPACK, &flt) == -1) {
		reply_fault(reqid, &flt);
		goto out;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("calloc");
	snprintf(u->project, sizeof(u->project), "%s", project);
	snprintf(u->fp, sizeof(u->fp), "%s", img->fingerprint);
	snprintf(u->name, sizeof(u->name), "%s", r->target);
	snprintf(
	    u->partial, sizeof(u->partial), ".%s" PARTIAL_SUFFIX, r->target);
	snprintf(u->requestor, sizeof(u->requestor), "%s", requestor);
	if (target_make(reqid, &x, u->name, u->partial, u->path,
		sizeof(u->path)) == -1) {
		project_busy_leave(project, BUSY_UNPACK);
		free(u);
		goto out;
	}
	{
		char root[4096];

		snprintf(x.target, sizeof(x.target), "%s/%s",
		    unpack_root(root, sizeof(root)), u->partial);
	}
	if (img->cached)
		db_image_used(img->id, now_ns(), 1);
	u->op = op_new(project, "Unpacking image", img->fingerprint);
	op_reply(u->op, reqid);
	op_start(u->op);
	j = job_start(project, fds, sizes, nparts, unpack_done, u);
	job_set_extract(j, &x);
	log_info(
	    "unpacking %s into %s (%s)", img->fingerprint, u->path, requestor);
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/*
 * Start-up: the partial trees of unpacks a crash cut short are removed
 * (only names unpack_start makes: ".<target>.imgd-partial").
 */
void
unpack_repair(void)
{
	char root[4096];
	struct dirent *de;
	DIR *d;
	int rfd, fd;

	unpack_root(root, sizeof(root));
	if ((rfd = open(root,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("repair: unpack root %s", root);
		return;
	}
	if ((fd = dup(rfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("repair: unpack root %s", root);
		if (fd != -1)
			close(fd);
		close(rfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n), sl = strlen(PARTIAL_SUFFIX);

		if (n[0] != '.' || len <= sl + 1 ||
		    strcmp(n + len - sl, PARTIAL_SUFFIX) != 0)
			continue;
		if (rm_at(rfd, n, 0) == -1) {
			log_warn("repair: could not remove the unfinished "
				 "unpack %s/%s",
			    root, n);
			continue;
		}
		log_warnx(
		    "repair: removed the unfinished unpack %s/%s", root, n);
		audit("repair-unpack-removed", "target", n, NULL);
	}
	closedir(d);
	close(rfd);
}
