/*
 * Unpacker jobs: one sandboxed imgd-unpacker process per validation, given
 * read-only fds of the uploaded parts. Its answer is a claim: the records
 * must come in order (META, TEMPLATE x ntemplates, DONE, or FAIL), once,
 * on the channel of the child that runs this job, and the store re-checks
 * what it will act on. A job that outlives its wall-clock budget is killed.
 * At most cfg.unpackers_per_project jobs run per project; the rest wait.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"
#include "policy/arch.h"

enum { JOB_QUEUED, JOB_RUNNING, JOB_FINISHED };

struct job {
	TAILQ_ENTRY(job) entry;
	int state;
	char project[LIM_PROJECT_NAME_MAX + 1];
	int fds[2];
	uint64_t sizes[2];
	int nparts;
	void (*done)(void *, const struct fault *, const struct job_result *);
	void *arg;
	void (*running)(void *); /* when it leaves the queue, if set */
	struct child *child;
	struct event *ev_timeout;
	int got_meta;
	uint32_t templates;
	struct job_result res;
	char arch[LIM_ARCH_NAME_MAX + 1];
	int fail;	       /* set when the job cannot run at all: its
				  cause (ERR_*) */
	struct job_extract *x; /* an unpack job */
	int got_written;
	/* A streaming validation: how far the files are hashed, what the
	 * unpacker has been told of it, and whether it has its inputs. */
	int follow, inputs_sent;
	uint64_t avail[2], told[2];
	int final[2], told_final[2];
};

static TAILQ_HEAD(, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);

static void job_run(struct job *j);

static void
result_free(struct job_result *r)
{
	for (uint32_t i = 0; i < r->meta.nproperties; i++) {
		free(r->meta.properties[i].key);
		free(r->meta.properties[i].value);
	}
	free(r->meta.properties);
	r->meta.properties = NULL;
	r->meta.nproperties = 0;
}

static void
job_free(struct job *j)
{
	TAILQ_REMOVE(&jobs, j, entry);
	for (int i = 0; i < 2; i++)
		if (j->fds[i] != -1)
			close(j->fds[i]);
	if (j->ev_timeout)
		event_free(j->ev_timeout);
	if (j->child)
		j->child->job = NULL;
	result_free(&j->res);
	if (j->x) {
		for (uint32_t i = 0; i < j->x->x.nconfig; i++) {
			free(j->x->x.config[i].key);
			free(j->x->x.config[i].value);
		}
		free(j->x->x.config);
		free(j->x->x.name);
		free(j->x);
	}
	free(j);
}

static int
running(const char *project)
{
	struct job *j;
	int n = 0;

	TAILQ_FOREACH (j, &jobs, entry)
		if (j->state == JOB_RUNNING && !j->follow &&
		    strcmp(j->project, project) == 0)
			n++;
	return n;
}

/* A streaming validation's files are all final (or it is none). */
static int
fed_all(const struct job *j)
{
	return !j->follow || (j->final[0] && (j->nparts == 1 || j->final[1]));
}

/* The unpacker was told every file is final. */
static int
told_all(const struct job *j)
{
	return j->told_final[0] && (j->nparts == 1 || j->told_final[1]);
}

/* Streaming validations of a project, running or about to. */
static int
following(const char *project)
{
	struct job *j;
	int n = 0;

	TAILQ_FOREACH (j, &jobs, entry)
		if (j->follow && j->state != JOB_FINISHED &&
		    strcmp(j->project, project) == 0)
			n++;
	return n;
}

/* Starts the next waiting job of a project, if its turn has come. */
static void
job_next(const char *project)
{
	struct job *j;

	TAILQ_FOREACH (j, &jobs, entry)
		if (j->state == JOB_QUEUED &&
		    strcmp(j->project, project) == 0 &&
		    running(project) < (int)S->cfg.unpackers_per_project) {
			job_run(j);
			return;
		}
}

/* Reports once, frees the job, and lets the next one in. */
static void
job_end(struct job *j, const struct fault *err)
{
	char project[sizeof(j->project)];

	if (j->state == JOB_FINISHED)
		return;
	j->state = JOB_FINISHED;
	snprintf(project, sizeof(project), "%s", j->project);
	j->done(j->arg, err, err ? NULL : &j->res);
	if (j->child) {
		/* Done talking to it: it exits by itself, or is made to. */
		j->child->job = NULL;
		proc_expect_exit(j->child, 5);
		j->child = NULL;
	}
	job_free(j);
	job_next(project);
}

/* Ends the job with a fault of no facts. */
static void
job_fail(struct job *j, int cause)
{
	struct fault f;

	fault_set(&f, cause, RES_NONE, NULL);
	job_end(j, &f);
}

static void
timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)ev;
	if (j->child)
		proc_kill(j->child, "validation took too long");
	job_fail(j, ERR_TIMEOUT);
}

static void
job_run(struct job *j)
{
	struct timeval tv = {S->cfg.unpacker_timeout, 0};

	j->state = JOB_RUNNING;
	if (j->running)
		j->running(j->arg);
	if (j->fail) {
		job_fail(j, j->fail);
		return;
	}
	if (j->x) {
		struct proc_opts o = {
		    .chroot = j->x->target,
		    .mode = (j->x->x.flags & UNPACK_X_DEVICES) ? "extract-dev"
							       : "extract",
		    .caps = j->x->caps,
		    .shift_uid = j->x->shift_uid,
		    .shift_gid = j->x->shift_gid,
		    .shift_range = j->x->shift_range,
		};

		j->child = proc_spawn_opts(PROC_UNPACKER, &o);
	} else
		j->child = proc_spawn(PROC_UNPACKER);
	if (j->child == NULL) {
		int e = errno;

		log_warnx("cannot start an unpacker");
		job_fail(
		    j, e == EMFILE || e == ENFILE ? ERR_NO_FDS : ERR_INTERNAL);
		return;
	}
	j->child->job = j;
	/* The kick timer becomes the wall-clock watchdog; a streaming
	 * validation's starts once all has arrived (job_feed). */
	event_free(j->ev_timeout);
	j->ev_timeout = evtimer_new(S->base, timeout_cb, j);
	if (fed_all(j))
		event_add(j->ev_timeout, &tv);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg, *k;

	(void)fd;
	(void)ev;
	/* The job may have been cancelled since. */
	TAILQ_FOREACH (k, &jobs, entry)
		if (k == j)
			break;
	if (k == NULL || j->state != JOB_QUEUED)
		return;
	if (j->follow ||
	    running(j->project) < (int)S->cfg.unpackers_per_project)
		job_run(j);
	else
		log_debug("job for %s waits for a free unpacker", j->project);
}

/*
 * Queues a validation. done() is never called from here, only from the
 * event loop: the caller may keep using its state after this returns.
 */
struct job *
job_start(const char *project, int fds[2], uint64_t sizes[2], int nparts,
    void (*done)(void *, const struct fault *, const struct job_result *),
    void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	struct timeval zero = {0, 0};

	if (j == NULL)
		fatal("calloc");
	snprintf(j->project, sizeof(j->project), "%s", project);
	for (int i = 0; i < 2; i++) {
		j->fds[i] = i < nparts ? blob_reopen_ro(fds[i]) : -1;
		j->sizes[i] = sizes[i];
	}
	j->nparts = nparts;
	j->done = done;
	j->arg = arg;
	j->state = JOB_QUEUED;
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	if (j->fds[0] == -1 || (nparts == 2 && j->fds[1] == -1)) {
		int e = errno;

		log_warn("%s: reopen", __func__);
		/* logged here, failed when it runs */
		j->fail =
		    e == EMFILE || e == ENFILE ? ERR_NO_FDS : ERR_INTERNAL;
	}
	j->ev_timeout = evtimer_new(S->base, kick_cb, j);
	event_add(j->ev_timeout, &zero);
	return j;
}

struct job *
job_follow(const char *project, int fds[2], int nparts,
    void (*done)(void *, const struct fault *, const struct job_result *),
    void *arg)
{
	uint64_t none[2] = {0, 0};
	struct job *j;

	if (following(project) >= (int)S->cfg.unpackers_per_project)
		return NULL;
	j = job_start(project, fds, none, nparts, done, arg);
	j->follow = 1;
	return j;
}

/* What the unpacker has not been told yet; -1 if it cannot be. */
static int
feed_send(struct job *j)
{
	for (int i = 0; i < j->nparts; i++) {
		struct imsg_unpack_grown g = {
		    .part = (uint8_t)i, .avail = j->avail[i], .final = 0};

		if (j->told_final[i] ||
		    (j->avail[i] == j->told[i] && !j->final[i]))
			continue;
		g.final = (uint8_t)j->final[i];
		if (proc_send(j->child, IMSG_UNPACK_GROWN, 1, &g, -1) == -1)
			return -1;
		j->told[i] = j->avail[i];
		j->told_final[i] = j->final[i];
	}
	return 0;
}

void
job_feed(struct job *j, const uint64_t avail[2], const int final[2])
{
	struct timeval tv = {S->cfg.unpacker_timeout, 0};

	for (int i = 0; i < j->nparts; i++) {
		if (j->final[i])
			continue; /* its word is given */
		if (avail[i] > j->avail[i])
			j->avail[i] = avail[i];
		j->final[i] = final[i];
	}
	if (fed_all(j) && j->state == JOB_RUNNING && j->ev_timeout &&
	    !evtimer_pending(j->ev_timeout, NULL))
		event_add(j->ev_timeout, &tv);
	if (j->child == NULL || !j->inputs_sent)
		return; /* told when its inputs go */
	/* A send fails when the unpacker has ended (its verdict or its
	 * death, still unread, ends the job) or stopped reading (the
	 * channel's bound kills it): neither is for this call to judge. */
	if (feed_send(j) == -1)
		log_debug("unpacker (pid %d) not told of the upload: %s",
		    (int)j->child->pid, j->child->chan.err);
}

void
job_set_extract(struct job *j, const struct job_extract *x)
{
	struct job_extract *c = malloc(sizeof(*c));

	if (c == NULL)
		fatal("malloc");
	*c = *x;
	c->x.name = strdup(x->x.name);
	c->x.config = calloc(x->x.nconfig + 1, sizeof(*c->x.config));
	if (c->x.name == NULL || c->x.config == NULL)
		fatal("strdup");
	for (uint32_t i = 0; i < x->x.nconfig; i++) {
		c->x.config[i].key = strdup(x->x.config[i].key);
		c->x.config[i].value = strdup(x->x.config[i].value);
		if (!c->x.config[i].key || !c->x.config[i].value)
			fatal("strdup");
	}
	j->x = c;
}

/* fn(arg) runs when the job leaves its queue (before any done()). */
void
job_on_run(struct job *j, void (*fn)(void *))
{
	j->running = fn;
}

void
job_cancel(struct job *j)
{
	/* A streaming validation waits for bytes that will not come: it
	 * reads the end of its channel instead and exits. */
	if (j->child && j->follow)
		proc_release(j->child);
	else if (j->child)
		proc_kill(j->child, "job cancelled");
	j->state = JOB_FINISHED;
	job_free(j);
}

/* The sandbox is verified: hand over the read-only inputs. */
void
job_child_ready(struct child *c)
{
	struct job *j = c->job;

	if (j == NULL) {
		proc_kill(c, "no job");
		return;
	}
	if (j->x && proc_send(c, IMSG_UNPACK_EXTRACT, 1, &j->x->x, -1) == -1) {
		log_warn("passing the unpack job to the unpacker");
		job_fail(j, ERR_INTERNAL);
		return;
	}
	for (int i = 0; i < j->nparts; i++) {
		struct imsg_unpack_input in = {
		    .part = j->nparts == 1
				? PART_UNIFIED
				: (i == 0 ? PART_METADATA : PART_ROOTFS),
		    .nparts = (uint8_t)j->nparts,
		    .size = j->sizes[i],
		    .follow = (uint8_t)j->follow,
		};
		int fd = dup(j->fds[i]);

		if (fd == -1 ||
		    proc_send(c, IMSG_UNPACK_INPUT, 1, &in, fd) == -1) {
			log_warn("passing the upload to the unpacker");
			job_fail(j, ERR_INTERNAL);
			return;
		}
	}
	j->inputs_sent = 1;
	if (j->follow && feed_send(j) == -1)
		log_debug("unpacker (pid %d) not told of the upload: %s",
		    (int)c->pid, c->chan.err);
}

static int
copy_meta(struct job *j, const struct imsg_unpack_meta *m)
{
	const char *canon = arch_canonical(m->architecture);
	struct imsg_unpack_meta *r = &j->res.meta;

	/* Re-checked here: the unpacker's word is not enough. */
	if (canon == NULL || strcmp(canon, m->architecture) != 0) {
		log_warnx("unpacker reported a non-canonical architecture");
		return -1;
	}
	if (m->creation_date == 0 || m->creation_date < LIM_TIME_MIN ||
	    m->creation_date > LIM_TIME_MAX || m->expiry_date < LIM_TIME_MIN ||
	    m->expiry_date > LIM_TIME_MAX) {
		log_warnx("unpacker reported impossible dates");
		return -1;
	}
	snprintf(j->arch, sizeof(j->arch), "%s", canon);
	*r = *m;
	r->architecture = j->arch;
	r->properties = calloc(m->nproperties + 1, sizeof(*r->properties));
	if (r->properties == NULL)
		fatal("calloc");
	for (uint32_t i = 0; i < m->nproperties; i++) {
		r->properties[i].key = strdup(m->properties[i].key);
		r->properties[i].value = strdup(m->properties[i].value);
		if (!r->properties[i].key || !r->properties[i].value)
			fatal("strdup");
	}
	return 0;
}

/* An unpack that ran out of room: where, what is free there, and the
 * unpacker's line. */
static void
nospace_fault(struct fault *f, const char *target, const char *msg)
{
	char dir[sizeof(((struct job_extract *)0)->target)];
	struct statvfs sv;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", target);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	fault_set(f, ERR_NO_SPACE, RES_NONE, NULL);
	if (statvfs(dir, &sv) == 0)
		snprintf(f->detail, sizeof(f->detail),
		    "no space left under the unpack root %s (%llu bytes and "
		    "%llu inodes free): %s",
		    dir, (unsigned long long)sv.f_bavail * sv.f_frsize,
		    (unsigned long long)sv.f_favail, msg);
	else
		snprintf(f->detail, sizeof(f->detail),
		    "no space left under the unpack root %s: %s", dir, msg);
	log_warnx("unpack into %s: %s", target, f->detail);
}

void
job_dispatch(struct child *c, struct ipc_msg *m)
{
	struct job *j = c->job;
	struct fault f;

	if (j == NULL) {
		proc_kill(c, "record for no job");
		return;
	}
	switch (m->type) {
	case IMSG_UNPACK_META:
		/* Streaming: the metadata is a verdict's first half (and
		 * DONE comes after it), and a verdict before the last byte
		 * was hashed and told is about bytes the store has not
		 * vouched for. */
		if (j->follow && !told_all(j))
			goto violation;
		if (j->got_meta || copy_meta(j, &m->m.unpack_meta) == -1)
			goto violation;
		j->got_meta = 1;
		break;
	case IMSG_UNPACK_TEMPLATE:
		if (!j->got_meta || j->templates >= j->res.meta.ntemplates)
			goto violation;
		j->templates++;
		break;
	case IMSG_UNPACK_WRITTEN:
		if (!j->x || j->got_written || !j->got_meta ||
		    j->templates != j->res.meta.ntemplates)
			goto violation;
		j->res.written = m->m.unpack_written;
		j->got_written = 1;
		break;
	case IMSG_UNPACK_DONE:
		if (!j->got_meta || j->templates != j->res.meta.ntemplates ||
		    (j->x != NULL) != j->got_written)
			goto violation;
		snprintf(j->res.compression[0], 16, "%s",
		    m->m.unpack_done.compression0);
		snprintf(j->res.compression[1], 16, "%s",
		    m->m.unpack_done.compression1);
		j->res.entries = m->m.unpack_done.entries;
		j->res.unpacked = m->m.unpack_done.unpacked_bytes;
		j->res.devices = m->m.unpack_done.devices;
		if ((j->nparts == 2) != (j->res.compression[1][0] != '\0'))
			goto violation;
		job_end(j, NULL);
		break;
	case IMSG_UNPACK_FAIL:
		if (m->m.unpack_fail.nospace) {
			/* Only an unpack writes: a validation cannot fill a
			 * disk. The store looks at the target's filesystem
			 * itself for the figures. */
			if (j->x == NULL)
				goto violation;
			nospace_fault(
			    &f, j->x->target, m->m.unpack_fail.message);
		} else {
			/* The sandbox's verdict on the client's image. */
			fault_invalid(&f, "%s", m->m.unpack_fail.message);
		}
		job_end(j, &f);
		break;
	default:
		goto violation;
	}
	return;
violation:
	log_warnx("unpacker (pid %d): %s out of order", (int)c->pid,
	    ipc_typename(m->type));
	proc_kill(c, "protocol violation");
	job_fail(j, ERR_UNPACKER_PROTO);
}

/* Where the job was when its unpacker died, from what the store saw. */
static const char *
job_stage(const struct job *j, const struct child *c)
{
	if (!c->ready)
		return "while it started";
	if (!j->got_meta)
		return j->x ? "while it unpacked the image"
			    : "while it read the image";
	return "while it passed the metadata on";
}

void
job_child_gone(struct child *c, const char *why, int sigsys)
{
	struct job *j = c->job;
	struct fault f;

	if (j == NULL)
		return;
	j->child = NULL;
	/* Not the image's fault: the log has the bug report. */
	fault_set(&f, sigsys ? ERR_UNPACKER_BUG : ERR_UNPACKER, RES_NONE, why);
	snprintf(f.detail, sizeof(f.detail), "%s", job_stage(j, c));
	job_end(j, &f);
}
