/*
 * Publish requests: a directory on imgd's host becomes an image. The
 * store decides which directory (under unpack_root, or any for root on
 * the Unix socket: publishing reads every file in the tree), opens
 * nothing in it itself, and starts an unpacker in pack mode chrooted into
 * it with CAP_DAC_READ_SEARCH alone (it reads the tree whatever its
 * modes). The tarball(s) come back through pipes into the upload
 * machinery, as a download's do: hashed and stored by the store,
 * validated by a second unpacker, committed in one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/arch.h"
#include "store/api.h"
#include "store/store.h"

struct publish {
	struct child *child;
	struct upload *up;
	struct op *op;
	struct imsg_unpack_pack pack;
	char yaml[2048];
	char dir[PATH_MAX];
	int dirfd; /* O_PATH, until the child holds it */
	char project[LIM_PROJECT_NAME_MAX + 1];
	int ended;
};

static void
publish_free(struct publish *p)
{
	if (p->child) {
		p->child->publish = NULL;
		proc_expect_exit(p->child, 5);
	}
	free(p);
}

static void
sink_done(void *arg, const char *fp, const struct fault *f)
{
	struct publish *p = arg;

	if (fp)
		log_info("published %s as %s", p->dir, fp);
	else if (f)
		log_info("publishing %s failed", p->dir);
	p->up = NULL;
	/* The upload machinery finishes the operation after this. */
	if (p->child == NULL || p->ended)
		publish_free(p);
	else
		p->op = NULL; /* the child's end frees it */
}

static int
refuse(uint64_t reqid, const char *msg)
{
	struct fault f;

	fault_invalid(&f, "%s", msg);
	reply_fault(reqid, &f);
	return -1;
}

/* The directory, resolved; may this requestor publish it? */
static int
publish_dir(uint64_t reqid, const struct imsg_publish_req *r, char *dir,
    int *dirfd, int *has_meta)
{
	char root[PATH_MAX], real[PATH_MAX], msg[LIM_ERROR_MAX];
	int is_root =
	    r->peer.listener == peer_unix_listener() && r->peer.uid == 0;
	struct stat st;
	size_t n;

	if (r->path[0] != '/' || realpath(r->path, dir) == NULL ||
	    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(msg, sizeof(msg),
		    "cannot publish \"%s\": not an absolute path to a "
		    "directory on imgd's host",
		    r->path);
		return refuse(reqid, msg);
	}
	if (S->cfg.unpack_root[0])
		snprintf(root, sizeof(root), "%s", S->cfg.unpack_root);
	else
		snprintf(root, sizeof(root), "%s/rootfs", S->state);
	if (realpath(root, real) == NULL)
		real[0] = '\0';
	n = strlen(real);
	if (!is_root &&
	    (n == 0 || strncmp(dir, real, n) != 0 || dir[n] != '/')) {
		snprintf(msg, sizeof(msg),
		    "cannot publish \"%s\": only root on the local socket "
		    "may publish a directory outside %s",
		    r->path, root);
		return refuse(reqid, msg);
	}
	/*
	 * The checked path could change before the child's chroot (a user
	 * who owns a component renames it and leaves a symlink): open it
	 * now without following any symlink, check that the fd is the
	 * directory we checked, and give the child the fd, not the path.
	 */
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	char link[64];
	ssize_t k;

	*dirfd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", *dirfd);
	if (*dirfd == -1 ||
	    (k = readlink(link, real, sizeof(real) - 1)) == -1 ||
	    ((real[k] = '\0'), strcmp(real, dir) != 0)) {
		if (*dirfd != -1)
			close(*dirfd);
		*dirfd = -1;
		snprintf(msg, sizeof(msg),
		    "cannot publish \"%s\": the directory changed while it "
		    "was being checked",
		    r->path);
		return refuse(reqid, msg);
	}
	*has_meta =
	    fstatat(*dirfd, "metadata.yaml", &st, AT_SYMLINK_NOFOLLOW) == 0;
	return 0;
}

/* metadata.yaml for a bare rootfs: --arch, --os, --release; its date the
 * directory's mtime, so that the same tree gives the same image. */
static int
publish_meta(
    uint64_t reqid, const struct imsg_publish_req *r, struct publish *p)
{
	const char *arch = arch_canonical(r->architecture);
	struct stat st;

	if (!r->architecture[0])
		return refuse(reqid,
		    "the directory has no metadata.yaml: give --arch (and "
		    "--os, --release) to publish it as a root filesystem");
	if (arch == NULL)
		return refuse(reqid, "unknown architecture");
	if (stat(p->dir, &st) == -1)
		return refuse(reqid, "cannot read the directory");
	for (const char *c = r->os; *c; c++)
		if (*c == '"' || *c == '\\')
			return refuse(reqid, "--os: no quotes or backslashes");
	for (const char *c = r->release; *c; c++)
		if (*c == '"' || *c == '\\')
			return refuse(
			    reqid, "--release: no quotes or backslashes");
	snprintf(p->yaml, sizeof(p->yaml),
	    "architecture: \"%s\"\ncreation_date: %lld\nproperties:\n"
	    "  architecture: \"%s\"\n  os: \"%s\"\n  release: \"%s\"\n"
	    "  description: \"%s %s %s (published)\"\n",
	    arch, (long long)st.st_mtime, arch, r->os, r->release, r->os,
	    r->release, arch);
	p->pack.meta_yaml = p->yaml;
	p->pack.meta_mtime = st.st_mtime;
	p->pack.dir_is_rootfs = 1;
	return 0;
}

void
publish_request(uint64_t reqid, const struct imsg_publish_req *r)
{
	struct proc_opts o = {
	    .mode = "pack", .caps = 1ULL << CAP_DAC_READ_SEARCH};
	struct publish *p;
	int has_meta, pp[2][2] = {{-1, -1}, {-1, -1}};
	int64_t pid;

	if (!S->root) {
		refuse(reqid, "publishing needs imgd to run as root");
		return;
	}
	if (api_project(reqid, r->project, &pid) == -1)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->dirfd = -1;
	if (publish_dir(reqid, r, p->dir, &p->dirfd, &has_meta) == -1 ||
	    (!has_meta && publish_meta(reqid, r, p) == -1)) {
		if (p->dirfd != -1)
			close(p->dirfd);
		free(p);
		return;
	}
	snprintf(p->project, sizeof(p->project), "%s", r->project);
	p->pack.comp = r->comp;
	p->pack.split = r->split;
	p->pack.xattrs = r->xattrs;
	if (p->pack.meta_yaml == NULL)
		p->pack.meta_yaml = "";
	for (int i = 0; i < 2; i++)
		if (pipe2(pp[i], O_CLOEXEC) == -1) {
			log_warn("publish: pipe");
			api_refuse(reqid, ERR_INTERNAL, RES_NONE, NULL);
			goto fail;
		}
	o.chroot = p->dir;
	o.chroot_fd = p->dirfd;
	p->child = proc_spawn_opts(PROC_UNPACKER, &o);
	close(p->dirfd);
	p->dirfd = -1;
	if (p->child == NULL) {
		api_refuse(reqid, ERR_INTERNAL, RES_NONE, NULL);
		goto fail;
	}
	p->child->publish = p;
	p->op = op_new(r->project, "Publishing image", "");
	op_reply(p->op, reqid);
	op_start(p->op);
	struct fetch_sink k = {.project = r->project,
	    .requestor = peer_current()->requestor,
	    .username = peer_current()->username,
	    .filename = "",
	    .fingerprint = "",
	    .public = r->public,
	    .props = r->properties,
	    .nprops = r->nproperties,
	    .aliases = r->aliases,
	    .naliases = r->naliases,
	    .op = p->op,
	    .done = sink_done,
	    .arg = p};
	int rfd[2] = {pp[0][0], r->split ? pp[1][0] : -1};

	if (!r->split)
		close(pp[1][0]);
	/* The write ends wait for the child's READY. */
	p->child->pipes[0] = pp[0][1];
	p->child->pipes[1] = pp[1][1];
	log_info("publishing %s (%s)", p->dir, peer_current()->requestor);
	if ((p->up = upload_fetch(&k, rfd)) == NULL)
		return; /* sink_done has run: the child is made to exit */
	return;
fail:
	if (p->dirfd != -1)
		close(p->dirfd);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (pp[i][j] != -1)
				close(pp[i][j]);
	free(p);
}

/* The sandbox is verified: the job, then its outputs. */
void
publish_child_ready(struct child *c)
{
	struct publish *p = c->publish;

	for (int i = 0; i < 2; i++) {
		struct imsg_unpack_output out = {.part = (uint8_t)i};
		int fd = c->pipes[i];

		c->pipes[i] = -1;
		if (p == NULL || (i == 1 && !p->pack.split)) {
			close(fd);
			continue;
		}
		if (i == 0 &&
		    proc_send(c, IMSG_UNPACK_PACK, 1, &p->pack, -1) == -1) {
			close(fd);
			continue;
		}
		if (proc_send(c, IMSG_UNPACK_OUTPUT, 1, &out, fd) == -1)
			log_warn("publish: passing the pipe");
	}
	if (p == NULL)
		proc_kill(c, "no publish job");
}

void
publish_dispatch(struct child *c, struct ipc_msg *m)
{
	struct publish *p = c->publish;
	struct upload *up;
	struct fault f;

	if (p == NULL) {
		proc_kill(c, "record for no publish job");
		return;
	}
	/* Done with the child first: the upload may end (and sink_done
	 * free p) inside the calls below. */
	c->publish = NULL;
	p->child = NULL;
	p->ended = 1;
	up = p->up;
	if (m->type == IMSG_UNPACK_PACKED || m->type == IMSG_UNPACK_FAIL)
		proc_expect_exit(c, 5);
	else
		proc_kill(c, "protocol violation");
	if (up == NULL) {
		publish_free(p);
		return;
	}
	if (m->type == IMSG_UNPACK_PACKED) {
		log_debug("packed %llu entries, %llu bytes",
		    (unsigned long long)m->m.unpack_packed.entries,
		    (unsigned long long)m->m.unpack_packed.bytes);
		upload_fetch_end_own(up);
	} else if (m->type == IMSG_UNPACK_FAIL) {
		fault_invalid(&f, "%s", m->m.unpack_fail.message);
		upload_fetch_abort(up, &f);
	} else {
		fault_set(&f, ERR_UNPACKER_PROTO, RES_NONE, NULL);
		upload_fetch_abort(up, &f);
	}
}

void
publish_child_gone(struct child *c, const char *why, int sigsys)
{
	struct publish *p = c->publish;
	struct fault f;

	for (int i = 0; i < 2; i++)
		if (c->pipes[i] != -1)
			close(c->pipes[i]);
	if (p == NULL)
		return;
	c->publish = NULL;
	p->child = NULL;
	fault_set(&f, sigsys ? ERR_UNPACKER_BUG : ERR_UNPACKER, RES_NONE, why);
	snprintf(f.detail, sizeof(f.detail), "while it packed the directory");
	if (p->up)
		upload_fetch_abort(p->up, &f);
	else
		publish_free(p);
}
