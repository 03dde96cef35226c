/*
 * The process table: which programs the store runs, as whom, and what it
 * does when one dies. Each child is fork+exec'd with its channel on fd 3
 * and its stderr on a pipe that the store relays to its own log (a child
 * may not write files: RLIMIT_FSIZE is 0). No work reaches a child before
 * its READY self-check has been verified against /proc.
 */
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

enum { USER_FRONTEND, USER_FETCHER, USER_UNPACKER };

static const struct proc_def procs[] = {
    {"frontend", PROC_FRONTEND, "imgd-frontend", USER_FRONTEND, 1},
    {"fetcher", PROC_FETCHER, "imgd-fetcher", USER_FETCHER, 0},
    {"unpacker", PROC_UNPACKER, "imgd-unpacker", USER_UNPACKER, 0},
};

/* Long-lived children: restarted with back-off, 1 s doubling to 60 s,
 * reset once a child has stayed up for a minute. */
struct slot {
	const struct proc_def *def;
	struct child *cur;
	unsigned backoff;
	time_t started;
	struct event *ev_restart;
};
/* One supervised slot: the frontend. Fetchers and unpackers run one
 * download or one job each. */
#define NSLOTS 1
static struct slot slots[NSLOTS];

/* Long-lived children answer a ping every LIM_PING_EVERY seconds, or are
 * killed after LIM_PING_LIMIT: a wedged frontend must not wedge the API. */
static struct event *ev_ping;

static TAILQ_HEAD(, child) children = TAILQ_HEAD_INITIALIZER(children);

static void chan_cb(evutil_socket_t fd, short ev, void *arg);
static void write_cb(evutil_socket_t fd, short ev, void *arg);

static const struct proc_def *
def_of(int kind)
{
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (procs[i].kind == kind)
			return &procs[i];
	return NULL;
}

static void
exec_child(const struct proc_def *d, int chan, int errw, uid_t uid, gid_t gid,
    const struct proc_opts *o)
{
	char path[4200], u[16], g[16], parent[16], caps[24], shift[48];
	char *argv[20], *envp[2] = {NULL, NULL};
	static char dbg[] = "IMGD_SECCOMP_DEBUG=1";
	const char *e = getenv("IMGD_SECCOMP_DEBUG");
	sigset_t none;
	int n = 0, null, cfd = -1;

	/* Back to a clean signal state: libevent's handlers are ours. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	snprintf(path, sizeof(path), "%s/%s", S->bindir, d->binary);
	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(parent, sizeof(parent), "%d", (int)S->pid);
	argv[n++] = path;
	argv[n++] = "--uid";
	argv[n++] = u;
	argv[n++] = "--gid";
	argv[n++] = g;
	argv[n++] = "--chroot";
	argv[n++] = o && o->chroot_fd > 0 ? "/proc/self/fd/4"
		    : o && o->chroot	  ? (char *)o->chroot
					  : S->empty;
	argv[n++] = "--parent";
	argv[n++] = parent;
	if (o && o->mode) {
		argv[n++] = "--mode";
		argv[n++] = (char *)o->mode;
	}
	if (o && o->caps) {
		snprintf(
		    caps, sizeof(caps), "%llx", (unsigned long long)o->caps);
		argv[n++] = "--caps";
		argv[n++] = caps;
	}
	if (o && o->shift_range) {
		snprintf(shift, sizeof(shift), "%u:%u:%u", o->shift_uid,
		    o->shift_gid, o->shift_range);
		argv[n++] = "--shift";
		argv[n++] = shift;
	}
	if (S->cfg.debug)
		argv[n++] = "--debug";
	argv[n] = NULL;
	if (e && strcmp(e, "1") == 0)
		envp[0] = dbg;
	/* Above every fd the dup2s below write (and not one of theirs). */
	if (o && o->chroot_fd > 0 &&
	    (cfd = fcntl(o->chroot_fd, F_DUPFD, 100)) == -1)
		_exit(126);
	/* The old stdin goes first: a store at its RLIMIT_NOFILE has no
	 * slot for /dev/null otherwise (the child exited 126). */
	if (chan != 0 && errw != 0 && cfd != 0)
		close(0);
	if ((null = open("/dev/null", O_RDWR)) == -1 || dup2(null, 0) == -1 ||
	    dup2(null, 1) == -1 || dup2(errw, 2) == -1 || dup2(chan, 3) == -1)
		_exit(126);
	if (cfd != -1 && dup2(cfd, 4) == -1)
		_exit(126);
	if (close_range(cfd != -1 ? 5 : 4, ~0U, 0) == -1)
		_exit(126);
	execve(path, argv, envp);
	_exit(127);
}

struct child *
proc_spawn(int kind)
{
	return proc_spawn_opts(kind, NULL);
}

/* Unpackers start in a pid namespace of their own (as its init): they
 * cannot see or signal any other process. */
static pid_t
fork_kind(int kind)
{
	if (kind == PROC_UNPACKER && S->root)
		return (pid_t)syscall(
		    SYS_clone, SIGCHLD | CLONE_NEWPID, NULL, NULL, NULL, NULL);
	return fork();
}

/* Logged, errno kept for the caller's fault (EMFILE: out of fds). */
static void
spawn_failed(const struct proc_def *d, const char *what)
{
	int e = errno;

	log_warn("%s: %s", d->title, what);
	errno = e;
}

struct child *
proc_spawn_opts(int kind, const struct proc_opts *o)
{
	const struct proc_def *d = def_of(kind);
	struct child *c;
	uid_t uid = getuid();
	gid_t gid = getgid();
	char err[256];
	int sp[2], ep[2];

	if (S->root && users_ensure(S->cfg.users[d->user], &uid, &gid, err,
			   sizeof(err)) == -1) {
		log_warnx("%s: %s", d->title, err);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		spawn_failed(d, "socketpair");
		return NULL;
	}
	if (pipe2(ep, O_CLOEXEC) == -1) {
		/* the pair goes too (out of fds, it leaked two more) */
		int e = errno;

		close(sp[0]);
		close(sp[1]);
		errno = e;
		spawn_failed(d, "pipe");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	static uint64_t gen;

	c->def = d;
	c->gen = ++gen;
	TAILQ_INIT(&c->drains);
	c->uid = c->self_uid = uid;
	c->gid = c->self_gid = gid;
	if (o && o->shift_range) {
		c->uid = o->shift_uid;
		c->gid = o->shift_gid;
		c->self_uid = c->self_gid = 0;
	}
	c->caps = o ? o->caps : 0;
	c->pipes[0] = c->pipes[1] = -1;
	c->pid = fork_kind(kind);
	if (c->pid == -1) {
		log_warn("%s: fork", d->title);
		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		free(c);
		return NULL;
	}
	if (c->pid == 0)
		exec_child(d, sp[1], ep[1], uid, gid, o);
	close(sp[1]);
	close(ep[1]);
	evutil_make_socket_nonblocking(sp[0]);
	evutil_make_socket_nonblocking(ep[0]);
	if (ipc_chan_init(&c->chan, sp[0], PROC_STORE, kind) == -1)
		fatalx("out of memory");
	c->errfd = ep[0];
	c->ev_chan =
	    event_new(S->base, sp[0], EV_READ | EV_PERSIST, chan_cb, c);
	c->ev_write = event_new(S->base, sp[0], EV_WRITE, write_cb, c);
	c->ev_err =
	    event_new(S->base, ep[0], EV_READ | EV_PERSIST, proc_relay_cb, c);
	event_add(c->ev_chan, NULL);
	event_add(c->ev_err, NULL);
	TAILQ_INSERT_TAIL(&children, c, entry);
	log_debug("%s started, pid %d", d->title, (int)c->pid);
	return c;
}

void
proc_kill(struct child *c, const char *why)
{
	if (c->killed)
		return;
	c->killed = 1;
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (!c->reaped)
		kill(c->pid, SIGKILL);
}

void
proc_release(struct child *c)
{
	c->released = 1;
	(void)shutdown(c->chan.fd, SHUT_WR);
	proc_expect_exit(c, 5);
}

static void
linger_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	proc_kill(arg, "did not exit after its job");
}

/* A child whose work is done must exit on its own within seconds. */
void
proc_expect_exit(struct child *c, int seconds)
{
	struct timeval tv = {seconds, 0};

	if (c->ev_linger == NULL)
		c->ev_linger = evtimer_new(S->base, linger_cb, c);
	event_add(c->ev_linger, &tv);
}

int
proc_send(struct child *c, uint16_t type, uint64_t id, const void *msg, int fd)
{
	if (c->killed) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (ipc_send(&c->chan, type, id, msg, fd) == -1) {
		/* A child that has exited is reaped and reported as such. */
		if (c->chan.gone) {
			log_debug("%s (pid %d): %s", c->def->title, (int)c->pid,
			    c->chan.err);
			return -1;
		}
		/* A peer that does not drain its queue is stuck. */
		log_warnx("%s: %s", c->def->title, c->chan.err);
		proc_kill(c, c->chan.err);
		return -1;
	}
	if (ipc_pending(&c->chan))
		event_add(c->ev_write, NULL);
	return 0;
}

void
proc_on_drain(struct child *c, void (*cb)(void *, int), void *arg)
{
	struct drain *d = calloc(1, sizeof(*d));

	if (d == NULL)
		fatal("calloc");
	d->cb = cb;
	d->arg = arg;
	TAILQ_INSERT_TAIL(&c->drains, d, entry);
	if (ipc_pending(&c->chan))
		event_add(c->ev_write, NULL);
}

/* Runs the drain callbacks registered so far (they may register again). */
static void
run_drains(struct child *c, int gone)
{
	TAILQ_HEAD(, drain) now = TAILQ_HEAD_INITIALIZER(now);
	struct drain *d;

	TAILQ_CONCAT(&now, &c->drains, entry);
	while ((d = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, d, entry);
		d->cb(d->arg, gone);
		free(d);
	}
}

static void
write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *c = arg;
	int rc = ipc_flush(&c->chan);

	(void)fd;
	(void)ev;
	if (rc == 1)
		event_add(c->ev_write, NULL);
	else if (rc == -1 && !c->released && !c->chan.gone)
		proc_kill(c, c->chan.err); /* not if told, or exited */
	else
		run_drains(c, 0);
}

static void
on_ready(struct child *c)
{
	c->ready = 1;
	log_debug("%s (pid %d) ready", c->def->title, (int)c->pid);
	switch (c->def->kind) {
	case PROC_FRONTEND:
		api_frontend_ready(c);
		break;
	case PROC_UNPACKER:
		if (c->publish)
			publish_child_ready(c);
		else
			job_child_ready(c);
		break;
	case PROC_FETCHER:
		fetch_child_ready(c);
		break;
	default:
		break;
	}
}

static void
dispatch(struct child *c, struct ipc_msg *m)
{
	if (m->type == IMSG_PONG && c->ready) {
		if (c->ping_nonce == 0 || m->m.ping.nonce != c->ping_nonce)
			proc_kill(c, "unexpected pong");
		c->ping_nonce = 0;
		return;
	}
	if (c->released)
		return; /* its work was dropped: what it still sends is not */
	if (!c->ready) {
		if (m->type != IMSG_READY) {
			proc_kill(c, "spoke before READY");
			return;
		}
		if (proc_verify_ready(c, &m->m.ready) == -1)
			proc_kill(c, "sandbox self-check failed");
		else
			on_ready(c);
		return;
	}
	switch (c->def->kind) {
	case PROC_FRONTEND:
		api_dispatch(c, m);
		break;
	case PROC_UNPACKER:
		if (c->publish)
			publish_dispatch(c, m);
		else
			job_dispatch(c, m);
		break;
	case PROC_FETCHER:
		fetch_dispatch(c, m);
		break;
	default:
		proc_kill(c, "unexpected record");
	}
}

static void
chan_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *c = arg;
	struct ipc_msg m;
	int rc;

	(void)fd;
	(void)ev;
	/* A few records per wakeup, so one child cannot starve the rest. */
	for (int i = 0; i < 64 && !c->killed; i++) {
		rc = ipc_recv(&c->chan, &m);
		if (rc == 0)
			return;
		if (rc == -1 && c->chan.lost_fd) {
			/* The store's own shortage costs the request the
			 * record belonged to (an upload: the only requests
			 * that bring an fd), not the child and all its work. */
			log_warnx("%s (pid %d): %s", c->def->title, (int)c->pid,
			    c->chan.err);
			upload_lost_fd(c->chan.lost_id, c->chan.lost_type);
			continue;
		}
		if (rc == -1) {
			event_del(c->ev_chan);
			if (!c->chan.eof) {
				/* A bad record from a child kills it. */
				log_warnx("%s (pid %d): bad record: %s",
				    c->def->title, (int)c->pid, c->chan.err);
				proc_kill(c, "sent a bad record");
			} else if (c->def->long_lived || c->job || c->fetch) {
				/* Deaf to us but alive would hold its work
				 * (an empty record reads as EOF, too). */
				proc_kill(c, "closed its channel");
			}
			return;
		}
		/* A handler that keeps the fd sets m.fd to -1. */
		dispatch(c, &m);
		if (m.fd != -1)
			close(m.fd);
	}
	/* Records of a datagram still to take: the socket will not say. */
	if (!c->killed && ipc_buffered(&c->chan))
		event_active(c->ev_chan, EV_READ, 0);
}

static struct slot *
slot_of(struct child *c)
{
	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].cur == c)
			return &slots[i];
	return NULL;
}

static void
restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct slot *s = arg;

	(void)fd;
	(void)ev;
	if (S->stopping || s->cur != NULL)
		return;
	s->cur = proc_spawn(s->def->kind);
	s->started = time(NULL);
	if (s->cur == NULL) {
		struct timeval tv = {s->backoff, 0};
		s->backoff = s->backoff < 60 ? s->backoff * 2 : 60;
		event_add(s->ev_restart, &tv);
	}
}

static void
describe(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		snprintf(buf, len, "killed by SIGSYS (sandbox violation)");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "ended (status 0x%x)", st);
}

/* How the child ended, into how and why (with our reason if we killed
 * it), its usage logged. */
static void
gone_describe(struct child *c, int st, const struct rusage *ru, char how[128],
    char why[256])
{
	describe(st, how, 128);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS &&
	    c->sigsys_call[0] != '\0')
		snprintf(how, 128,
		    "killed by SIGSYS (sandbox violation: forbidden system "
		    "call %s)",
		    c->sigsys_call);
	if (ru)
		log_debug("%s (pid %d) %s: max RSS %ld kB, cpu %ld.%03ld s "
			  "user, %ld.%03ld s system",
		    c->def->title, (int)c->pid, how, ru->ru_maxrss,
		    (long)ru->ru_utime.tv_sec,
		    (long)ru->ru_utime.tv_usec / 1000,
		    (long)ru->ru_stime.tv_sec,
		    (long)ru->ru_stime.tv_usec / 1000);
	/* Our reason only when our SIGKILL is what ended it. */
	if (c->killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		snprintf(why, 256, "%s: %s", how, c->why);
	else
		snprintf(why, 256, "%s", how);
}

/* An unexpected end is logged (as a bug for SIGSYS) and audited. */
static void
gone_report(struct child *c, int st, const char *why, int sigsys)
{
	if (S->stopping || (!c->def->long_lived && WIFEXITED(st) &&
			       WEXITSTATUS(st) == 0 && !c->killed))
		return;
	/* Killed by imgd for a reason of its own, not for a channel the
	 * child's death closed. */
	metrics_child_death(c->def->title, sigsys, WIFSIGNALED(st),
	    c->killed && strcmp(c->why, "closed its channel") != 0);
	if (sigsys)
		log_warnx("BUG: %s (pid %d) %s; imgd's sandbox is "
			  "missing a call it needs or the child was "
			  "subverted: please report this with the "
			  "log lines above%s",
		    c->def->title, (int)c->pid, why,
		    c->sigsys_call[0] ? ""
				      : " (IMGD_SECCOMP_DEBUG=1 in "
					"imgd's environment names "
					"the call)");
	else
		log_warnx("%s (pid %d) %s", c->def->title, (int)c->pid, why);
	audit("process-died", "process", c->def->title, "why", why, NULL);
}

/* A supervised slot's child is restarted, with a backoff. */
static void
gone_restart(struct child *c, struct slot *s)
{
	s->cur = NULL;
	if (c->def->kind == PROC_FRONTEND)
		upload_frontend_gone();
	if (S->stopping)
		return;
	if (time(NULL) - s->started > 60)
		s->backoff = 1;
	struct timeval tv = {s->backoff, 0};
	log_info("restarting the %s in %u s", c->def->title, s->backoff);
	s->backoff = s->backoff < 60 ? s->backoff * 2 : 60;
	event_add(s->ev_restart, &tv);
}

/*
 * What a child sent before it exited is still in the socket: SIGCHLD may
 * be handled before the channel's read event in the same loop turn, and
 * an unpacker that sent its verdict and exited 0 must not read as one
 * that died in the middle of the image.
 */
static void
chan_drain_dead(struct child *c)
{
	struct ipc_msg m;
	int rc = 0;

	while (!c->killed && (rc = ipc_recv(&c->chan, &m)) == 1) {
		dispatch(c, &m);
		if (m.fd != -1)
			close(m.fd);
	}
	if (!c->killed && rc == -1 && !c->chan.eof)
		log_warnx("%s (pid %d): bad last record: %s", c->def->title,
		    (int)c->pid, c->chan.err);
}

static void
child_gone(struct child *c, int st, const struct rusage *ru)
{
	struct slot *s = slot_of(c);
	char how[128], why[256];
	int sigsys = WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;

	c->reaped = 1;
	chan_drain_dead(c);
	proc_relay_last(c);
	gone_describe(c, st, ru, how, why);
	gone_report(c, st, why, sigsys);
	run_drains(c, 1);
	event_free(c->ev_chan);
	event_free(c->ev_write);
	event_free(c->ev_err);
	if (c->ev_linger)
		event_free(c->ev_linger);
	close(c->errfd);
	ipc_chan_close(&c->chan);
	TAILQ_REMOVE(&children, c, entry);
	if (c->def->kind == PROC_UNPACKER && c->job == NULL)
		publish_child_gone(c, why, sigsys);
	if (c->def->kind == PROC_UNPACKER)
		job_child_gone(c, why, sigsys);
	if (c->def->kind == PROC_FETCHER)
		fetch_child_gone(c, why, sigsys);
	if (s != NULL)
		gone_restart(c, s);
	free(c);
}

void
proc_sigchld(void)
{
	struct rusage ru;
	struct child *c;
	pid_t pid;
	int st;

	/* wait4: the log says what each child cost (debug level). */
	while ((pid = wait4(-1, &st, WNOHANG, &ru)) > 0) {
		TAILQ_FOREACH (c, &children, entry)
			if (c->pid == pid)
				break;
		if (c != NULL)
			child_gone(c, st, &ru);
	}
}

struct child *
proc_frontend(void)
{
	struct child *c = slots[0].cur;

	return c && c->ready && !c->killed ? c : NULL;
}

static void
ping_cb(evutil_socket_t fd, short ev, void *arg)
{
	static uint64_t nonce;
	struct timeval tv = {LIM_PING_EVERY, 0};
	time_t now = time(NULL);

	(void)fd;
	(void)ev;
	(void)arg;
	for (size_t i = 0; i < NSLOTS; i++) {
		struct child *c = slots[i].cur;
		struct imsg_ping p;

		if (c == NULL || !c->ready || c->killed)
			continue;
		if (c->ping_nonce) {
			if (now - c->ping_sent >= LIM_PING_LIMIT)
				proc_kill(c, "unresponsive: no answer to a "
					     "ping");
			continue;
		}
		p.nonce = c->ping_nonce = ++nonce;
		c->ping_sent = now;
		proc_send(c, IMSG_PING, 0, &p, -1);
	}
	event_add(ev_ping, &tv);
}

void
proc_start_all(void)
{
	struct timeval tv = {LIM_PING_EVERY, 0};

	ev_ping = evtimer_new(S->base, ping_cb, NULL);
	event_add(ev_ping, &tv);
	for (size_t i = 0; i < NSLOTS; i++) {
		slots[i].def = &procs[i];
		slots[i].backoff = 1;
		slots[i].ev_restart =
		    evtimer_new(S->base, restart_cb, &slots[i]);
		restart_cb(-1, 0, &slots[i]);
	}
}

/* SIGTERM, then SIGKILL after 5 s; every child is reaped. */
void
proc_stop_all(void)
{
	struct child *c;
	int st;

	if (ev_ping)
		event_free(ev_ping);
	ev_ping = NULL;
	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].ev_restart)
			event_del(slots[i].ev_restart);
	TAILQ_FOREACH (c, &children, entry)
		kill(c->pid, SIGTERM);
	for (int i = 0; i < 500 && !TAILQ_EMPTY(&children); i++) {
		proc_sigchld();
		if (!TAILQ_EMPTY(&children))
			usleep(10000);
	}
	TAILQ_FOREACH (c, &children, entry)
		kill(c->pid, SIGKILL);
	while (!TAILQ_EMPTY(&children)) {
		c = TAILQ_FIRST(&children);
		waitpid(c->pid, &st, 0);
		child_gone(c, st, NULL);
	}
	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].ev_restart)
			event_free(slots[i].ev_restart);
}
