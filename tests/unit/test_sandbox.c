/*
 * Sandbox tests, run as root against the real child programs: each one
 * reports a READY self-check that /proc confirms; a forbidden system call
 * (network in the unpacker, file open in the frontend, exec anywhere, ...)
 * kills it with SIGSYS; and a positive twin shows it still does its normal
 * work under the same filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/chan.h"
#include "tests/t.h"

#define TEST_UID 65534
#define TEST_GID 65534

static char bindir[512];
static char emptydir[64] = "/tmp/imgd-sandbox-XXXXXX";

static int kid_debug; /* start children in seccomp debug mode */

struct kid {
	pid_t pid;
	int err; /* the child's stderr: a pipe, as in the store */
	struct ipc_chan chan;
};

/* Starts a child as the store would: channel on fd 3, ids and chroot on
 * the command line. */
/* Extra arguments for the next kid_start (an unpack job's), or NULL. */
static const char *kid_extra[8];
static const char *kid_root = NULL; /* its chroot instead of emptydir */

static int
kid_start(struct kid *k, const char *prog, int kind, const char *probe)
{
	char path[600], uid[16], gid[16], parent[16];
	int sp[2], ep[2];

	snprintf(path, sizeof(path), "%s/%s", bindir, prog);
	snprintf(uid, sizeof(uid), "%d", TEST_UID);
	snprintf(gid, sizeof(gid), "%d", TEST_GID);
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	k->pid = fork();
	if (k->pid == 0) {
		char *argv[24] = {path, "--uid", uid, "--gid", gid, "--chroot",
		    kid_root ? (char *)kid_root : emptydir, "--parent", parent,
		    "--probe", (char *)(probe ? probe : "none"), NULL};
		int n = 11;

		for (int i = 0; i < 8 && kid_extra[i]; i++)
			argv[n++] = (char *)kid_extra[i];
		argv[n] = NULL;
		char *envp[] = {
		    kid_debug ? "IMGD_SECCOMP_DEBUG=1" : NULL, NULL};
		int null = open("/dev/null", O_RDWR);

		dup2(sp[1], 3);
		dup2(null, 0);
		dup2(null, 1);
		dup2(ep[1], 2);
		execve(path, argv, envp);
		_exit(127);
	}
	close(sp[1]);
	close(ep[1]);
	k->err = ep[0];
	fcntl(k->err, F_SETFL, O_NONBLOCK);
	ipc_chan_init(&k->chan, sp[0], PROC_STORE, kind);
	return 0;
}

/* Waits (bounded) for one record. */
static int
kid_recv(struct kid *k, struct ipc_msg *m)
{
	for (int i = 0; i < 1000; i++) {
		int rc = ipc_recv(&k->chan, m);

		if (rc != 0)
			return rc;
		usleep(10000);
	}
	return 0;
}

/* What the last child that ended logged (its first 16 KiB). */
static char last_log[16384];

/* What the child logged, as test comments. */
static void
kid_drain(struct kid *k)
{
	char buf[4096];
	ssize_t n;

	last_log[0] = '\0';
	while ((n = read(k->err, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		strncat(last_log, buf, sizeof(last_log) - strlen(last_log) - 1);
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   child: %s\n", l);
	}
	close(k->err);
}

/* Waits (bounded) for the child to end; returns its wait status. */
static int
kid_wait(struct kid *k)
{
	int st = 0;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(k->pid, &st, WNOHANG) == k->pid) {
			ipc_chan_close(&k->chan);
			kid_drain(k);
			return st;
		}
		usleep(10000);
	}
	kill(k->pid, SIGKILL);
	waitpid(k->pid, &st, 0);
	ipc_chan_close(&k->chan);
	kid_drain(k);
	return -1;
}

/* The kernel's view of a process, from /proc/PID/status. */
static long long
proc_field(pid_t pid, const char *key, int hex)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 &&
		    line[strlen(key)] == ':') {
			v = strtoll(
			    line + strlen(key) + 1, NULL, hex ? 16 : 10);
			break;
		}
	fclose(f);
	return v;
}

/* alive: the child is not about to die, so /proc can confirm the claim
 * (a process being killed by seccomp shows "Seccomp: 3"). */
static void
check_ready(struct kid *k, const char *prog, int alive)
{
	struct ipc_msg m;

	if (kid_recv(k, &m) != 1 || m.type != IMSG_READY) {
		T_FAIL("%s: no READY (%s)", prog, k->chan.err);
		return;
	}
	struct imsg_ready *r = &m.m.ready;
	T_EQ_INT(r->euid, TEST_UID);
	T_EQ_INT(r->ruid, TEST_UID);
	T_EQ_INT(r->suid, TEST_UID);
	T_EQ_INT(r->egid, TEST_GID);
	T_EQ_INT(r->cap_eff, 0);
	T_EQ_INT(r->cap_prm, 0);
	T_EQ_INT(r->cap_bnd, 0);
	T_EQ_INT(r->no_new_privs, 1);
	T_EQ_INT(r->seccomp, 2);
	T_EQ_INT(r->chrooted, 1);
	if (!alive)
		return;
	/* The claim is checked against the kernel, as the store does. */
	T_EQ_INT(proc_field(k->pid, "Seccomp", 0), 2);
	T_EQ_INT(proc_field(k->pid, "NoNewPrivs", 0), 1);
	T_EQ_INT(proc_field(k->pid, "CapEff", 1), 0);
	T_EQ_INT(proc_field(k->pid, "CapBnd", 1), 0);
	T_EQ_INT(proc_field(k->pid, "Uid", 0), TEST_UID);
}

/* prog with probe must die of SIGSYS right after READY. */
static void
expect_sigsys(const char *prog, int kind, const char *probe)
{
	struct kid k;
	int st;

	if (kid_start(&k, prog, kind, probe) == -1) {
		T_FAIL("%s: spawn", prog);
		return;
	}
	check_ready(&k, prog, 0);
	st = kid_wait(&k);
	T_EXPECT((st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS),
	    "%s --probe %s: status 0x%x, expected SIGSYS", prog, probe, st);
}

static const char *const deadly_everywhere[] = {"execve", "fork", "ptrace",
    "x32", "mprotect-exec", "io_uring", "setuid", "open", "socket-unix", NULL};

/*
 * Debug mode names the call and the child still dies of SIGSYS, for a
 * call refused outright and for calls refused by their arguments (whose
 * replay with other arguments could have passed).
 */
T_TEST(debug_mode_names_the_call_and_still_kills)
{
	static const struct {
		const char *probe, *call;
	} cases[] = {
	    {"execve", "(execve)"}, {"mprotect-exec", "(mprotect)"},
	    {"socket-unix", "(socket)"}, {"open", "(open"}, /* open or openat */
	};

	kid_debug = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_sigsys("imgd-fetcher", PROC_FETCHER, cases[i].probe);
		T_CONTAINS(last_log, "seccomp: forbidden system call");
		T_CONTAINS(last_log, cases[i].call);
	}
	kid_debug = 0;
}

T_TEST(fetcher_sandbox)
{
	struct kid k;
	struct ipc_msg m;
	struct imsg_ping p = {.nonce = 0xfeedface};

	for (size_t i = 0; deadly_everywhere[i]; i++)
		expect_sigsys(
		    "imgd-fetcher", PROC_FETCHER, deadly_everywhere[i]);
	/* Positive twin: it answers the store under the same filter... */
	T_CHECK(kid_start(&k, "imgd-fetcher", PROC_FETCHER, NULL) == 0);
	check_ready(&k, "imgd-fetcher", 1);
	T_CHECK(ipc_send(&k.chan, IMSG_PING, 9, &p, -1) == 0);
	T_CHECK(kid_recv(&k, &m) == 1 && m.type == IMSG_PONG &&
		m.m.ping.nonce == 0xfeedface && m.id == 9);
	/* ...and may open an Internet socket (its job), probed separately. */
	kill(k.pid, SIGTERM);
	kid_wait(&k);
	T_CHECK(kid_start(&k, "imgd-fetcher", PROC_FETCHER, "socket") == 0);
	check_ready(&k, "imgd-fetcher", 1);
	T_CHECK(ipc_send(&k.chan, IMSG_PING, 10, &p, -1) == 0);
	T_CHECK(kid_recv(&k, &m) == 1 && m.type == IMSG_PONG);
	kill(k.pid, SIGTERM);
	int st = kid_wait(&k);
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

static int
listening_socket(char *path, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", emptydir);
	snprintf(path, len, "%s", sa.sun_path);
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 8) == -1)
		return -1;
	return fd;
}

T_TEST(frontend_sandbox)
{
	static const char *const deadly[] = {"socket", NULL};
	struct imsg_listen l = {.kind = 0, .name = "unix"};
	char *archs[] = {"x86_64"};
	struct imsg_server_info si = {.version = "0.1",
	    .server_name = "t",
	    .architectures = archs,
	    .narchitectures = 1,
	    .conns_per_client = 8,
	    .header_timeout = 10,
	    .idle_timeout = 30,
	    .line_max = 8192,
	    .headers_max = 32768,
	    .header_fields = 100,
	    .json_max = 1048576,
	    .json_depth = 64};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[200], resp[4096] = "";
	struct kid k;
	int fd, c;

	/* File open, network socket, exec, ...: each kills it. */
	for (size_t i = 0; deadly_everywhere[i]; i++)
		expect_sigsys(
		    "imgd-frontend", PROC_FRONTEND, deadly_everywhere[i]);
	for (size_t i = 0; deadly[i]; i++)
		expect_sigsys("imgd-frontend", PROC_FRONTEND, deadly[i]);
	/* Positive twin: it serves HTTP on a socket handed over. */
	T_CHECK(kid_start(&k, "imgd-frontend", PROC_FRONTEND, NULL) == 0);
	check_ready(&k, "imgd-frontend", 1);
	T_CHECK((fd = listening_socket(path, sizeof(path))) != -1);
	T_CHECK(ipc_send(&k.chan, IMSG_LISTEN, 0, &l, fd) == 0);
	T_CHECK(ipc_send(&k.chan, IMSG_SERVER_INFO, 0, &si, -1) == 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	T_CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	const char req[] = "GET /1.0 HTTP/1.1\r\nHost: x\r\n"
			   "Connection: close\r\n\r\n";
	T_CHECK(write(c, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
	/* GET /1.0 asks the store what the client is: answer as it does. */
	{
		struct ipc_msg m;
		struct imsg_server_auth sa_ = {.trusted = 1};

		T_CHECK(kid_recv(&k, &m) == 1);
		T_EQ_INT(m.type, IMSG_SERVER_REQ);
		T_CHECK(
		    ipc_send(&k.chan, IMSG_SERVER_AUTH, m.id, &sa_, -1) == 0);
	}
	for (size_t n = 0; n < sizeof(resp) - 1;) {
		ssize_t r = read(c, resp + n, sizeof(resp) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(c);
	T_CONTAINS(resp, "HTTP/1.1 200 OK");
	T_CONTAINS(resp, "\"server\":\"imgd\"");
	T_EQ_INT(proc_field(k.pid, "Seccomp", 0), 2);
	kill(k.pid, SIGTERM);
	kid_wait(&k);
	unlink(path);
}

/* A good unified image, made with tar(1) in a temp dir. */
static int
good_image(const char *dir, char *out, size_t len)
{
	char cmd[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
	    "mkdir -p %s/rootfs/etc && echo x > "
	    "%s/rootfs/etc/hostname",
	    dir, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/metadata.yaml", dir);
	if ((f = fopen(cmd, "w")) == NULL)
		return -1;
	fprintf(f, "architecture: amd64\ncreation_date: 1458040200\n"
		   "properties:\n  os: sandboxed\n");
	fclose(f);
	snprintf(out, len, "%s.tar.xz", dir);
	snprintf(cmd, sizeof(cmd), "tar -C %s -cJf %s metadata.yaml rootfs",
	    dir, out);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A validation fed as the store hashes an upload, through the sandbox:
 * an image told in two halves is validated; a store word that takes bytes
 * back makes the unpacker exit with no verdict.
 */
T_TEST(unpacker_fed)
{
	char dir[] = "/tmp/imgd-unpack-XXXXXX", img[128];
	struct imsg_unpack_input in = {
	    .part = PART_UNIFIED, .nparts = 1, .follow = 1};
	struct ipc_msg m;
	struct stat st;
	struct kid k;

	T_CHECK(mkdtemp(dir) != NULL);
	T_CHECK(good_image(dir, img, sizeof(img)) == 0);
	T_CHECK(stat(img, &st) == 0);
	for (int lie = 0; lie < 2; lie++) {
		struct imsg_unpack_grown g = {
		    .avail = (uint64_t)st.st_size / 2};
		int seen_meta = 0, seen_done = 0, s;

		T_CHECK(
		    kid_start(&k, "imgd-unpacker", PROC_UNPACKER, NULL) == 0);
		check_ready(&k, "imgd-unpacker", 1);
		T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_INPUT, 1, &in,
			    open(img, O_RDONLY)) == 0);
		T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_GROWN, 1, &g, -1) == 0);
		g.avail = lie ? 1 : (uint64_t)st.st_size;
		g.final = 1;
		T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_GROWN, 1, &g, -1) == 0);
		while (kid_recv(&k, &m) == 1) {
			seen_meta |= m.type == IMSG_UNPACK_META;
			if (m.type == IMSG_UNPACK_DONE) {
				seen_done = 1;
				T_EQ_STR(m.m.unpack_done.compression0, "xz");
				break;
			}
		}
		s = kid_wait(&k);
		if (lie) {
			T_CHECK(!seen_meta && !seen_done);
			T_CHECK(s != -1 && WIFEXITED(s) && WEXITSTATUS(s) != 0);
		} else {
			T_CHECK(seen_meta && seen_done);
			T_CHECK(s != -1 && WIFEXITED(s) && WEXITSTATUS(s) == 0);
		}
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, img);
	T_CHECK(system(cmd) == 0);
}

T_TEST(unpacker_sandbox)
{
	static const char *const deadly[] = {"socket", NULL};
	char dir[] = "/tmp/imgd-unpack-XXXXXX", img[128];
	struct imsg_unpack_input in = {.part = PART_UNIFIED, .nparts = 1};
	struct ipc_msg m;
	struct kid k;
	int seen_meta = 0, seen_done = 0;

	/* Network in the unpacker, file open, exec, ...: each kills it. */
	for (size_t i = 0; deadly_everywhere[i]; i++)
		expect_sigsys(
		    "imgd-unpacker", PROC_UNPACKER, deadly_everywhere[i]);
	for (size_t i = 0; deadly[i]; i++)
		expect_sigsys("imgd-unpacker", PROC_UNPACKER, deadly[i]);
	/* Positive twin: it validates an image from a read-only fd. */
	T_CHECK(mkdtemp(dir) != NULL);
	T_CHECK(good_image(dir, img, sizeof(img)) == 0);
	T_CHECK(kid_start(&k, "imgd-unpacker", PROC_UNPACKER, NULL) == 0);
	check_ready(&k, "imgd-unpacker", 1);
	int fd = open(img, O_RDONLY);
	T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_INPUT, 1, &in, fd) == 0);
	while (kid_recv(&k, &m) == 1) {
		if (m.type == IMSG_UNPACK_META) {
			seen_meta = 1;
			T_EQ_STR(m.m.unpack_meta.architecture, "x86_64");
			T_EQ_INT(m.m.unpack_meta.creation_date, 1458040200);
		} else if (m.type == IMSG_UNPACK_DONE) {
			seen_done = 1;
			T_EQ_STR(m.m.unpack_done.compression0, "xz");
			break;
		} else {
			T_FAIL("unexpected %s", ipc_typename(m.type));
			break;
		}
	}
	T_CHECK(seen_meta && seen_done);
	int st = kid_wait(&k);
	T_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, img);
	T_CHECK(system(cmd) == 0);
}

/* ---- unpack jobs: chrooted into their target, with the ownership
 * capabilities (or as root of a --shift user namespace) ---- */

#define X_CAPS "c00b" /* CHOWN DAC_OVERRIDE FOWNER FSETID, + MKNOD 8000 */
#define X_CAPS_MASK 0xc00bLL
#define X_SHIFT_UID 200000

static void
x_args(const char *mode, const char *shift)
{
	int n = 0;

	memset(kid_extra, 0, sizeof(kid_extra));
	kid_extra[n++] = "--mode";
	kid_extra[n++] = mode;
	kid_extra[n++] = "--caps";
	kid_extra[n++] = X_CAPS;
	if (shift) {
		kid_extra[n++] = "--shift";
		kid_extra[n++] = shift;
	}
}

/* READY of an unpack job: its kept caps, its ids (in its namespace), and
 * /proc's view of them from here. */
static void
check_ready_x(struct kid *k, int shifted, int alive)
{
	struct ipc_msg m;
	uint32_t id = shifted ? 0 : TEST_UID;

	if (kid_recv(k, &m) != 1 || m.type != IMSG_READY) {
		T_FAIL("unpack job: no READY (%s)", k->chan.err);
		return;
	}
	struct imsg_ready *r = &m.m.ready;
	T_EQ_INT(r->euid, id);
	T_EQ_INT(r->egid, id);
	T_EQ_INT(r->cap_eff, X_CAPS_MASK);
	T_EQ_INT(r->cap_prm, X_CAPS_MASK);
	T_EQ_INT(r->cap_bnd, X_CAPS_MASK);
	T_EQ_INT(r->no_new_privs, 1);
	T_EQ_INT(r->seccomp, 2);
	T_EQ_INT(r->chrooted, 1);
	if (!alive)
		return;
	T_EQ_INT(proc_field(k->pid, "Seccomp", 0), 2);
	T_EQ_INT(proc_field(k->pid, "CapEff", 1), X_CAPS_MASK);
	T_EQ_INT(proc_field(k->pid, "CapInh", 1), 0);
	T_EQ_INT(proc_field(k->pid, "CapAmb", 1), 0);
	T_EQ_INT(
	    proc_field(k->pid, "Uid", 0), shifted ? X_SHIFT_UID : TEST_UID);
}

static void
expect_sigsys_x(const char *probe, const char *shift)
{
	struct kid k;
	int st;

	if (kid_start(&k, "imgd-unpacker", PROC_UNPACKER, probe) == -1) {
		T_FAIL("spawn");
		return;
	}
	check_ready_x(&k, shift != NULL, 0);
	st = kid_wait(&k);
	T_EXPECT((st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS),
	    "unpack job%s --probe %s: status 0x%x, expected SIGSYS",
	    shift ? " (shifted)" : "", probe, st);
}

/* One whole unpack job into target: its records, then its files. */
static void
unpack_job(const char *target, const char *img, const char *shift)
{
	struct imsg_unpack_input in = {.part = PART_UNIFIED, .nparts = 1};
	struct imsg_unpack_extract x = {.trigger = 1, .name = "c1"};
	struct ipc_msg m;
	struct stat st;
	struct kid k;
	char path[300];
	int seen = 0, fd;

	kid_root = target;
	T_CHECK(kid_start(&k, "imgd-unpacker", PROC_UNPACKER, NULL) == 0);
	check_ready_x(&k, shift != NULL, 1);
	T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_EXTRACT, 1, &x, -1) == 0);
	fd = open(img, O_RDONLY);
	T_CHECK(ipc_send(&k.chan, IMSG_UNPACK_INPUT, 1, &in, fd) == 0);
	while (kid_recv(&k, &m) == 1) {
		if (m.type == IMSG_UNPACK_META)
			seen |= 1;
		else if (m.type == IMSG_UNPACK_WRITTEN) {
			seen |= 2;
			T_EQ_INT(m.m.unpack_written.files, 1);
		} else if (m.type == IMSG_UNPACK_DONE) {
			seen |= 4;
			break;
		} else {
			T_FAIL("unexpected %s: %s", ipc_typename(m.type),
			    m.type == IMSG_UNPACK_FAIL ? m.m.unpack_fail.message
						       : "");
			break;
		}
	}
	T_EQ_INT(seen, 7);
	int s = kid_wait(&k);
	T_CHECK(s != -1 && WIFEXITED(s) && WEXITSTATUS(s) == 0);
	kid_root = NULL;
	snprintf(path, sizeof(path), "%s/etc/hostname", target);
	T_CHECK(stat(path, &st) == 0);
	T_EQ_INT(st.st_uid, shift ? X_SHIFT_UID : 0);
}

T_TEST(unpack_job_sandbox)
{
	/* No network, exec, ptrace, mounts, chroot, namespaces, devices,
	 * signals to others or unlinking: each kills the job. */
	static const char *const deadly[] = {"execve", "fork", "ptrace", "x32",
	    "mprotect-exec", "io_uring", "setuid", "socket", "socket-unix",
	    "mount", "chroot", "unshare", "mknod", "kill", "unlink", NULL};
	char dir[] = "/tmp/imgd-unpack-XXXXXX", img[128], t1[160], t2[160];
	char cmd[600];

	T_CHECK(mkdtemp(dir) != NULL);
	T_CHECK(good_image(dir, img, sizeof(img)) == 0);
	snprintf(t1, sizeof(t1), "%s-t1", dir);
	snprintf(t2, sizeof(t2), "%s-t2", dir);
	T_CHECK(mkdir(t1, 0755) == 0 && mkdir(t2, 0755) == 0);
	T_CHECK(chown(t2, X_SHIFT_UID, X_SHIFT_UID) == 0);
	kid_root = t1;
	x_args("extract", NULL);
	for (size_t i = 0; deadly[i]; i++)
		expect_sigsys_x(deadly[i], NULL);
	x_args("extract", "200000:200000:65536");
	kid_root = t2;
	for (size_t i = 0; deadly[i]; i++)
		expect_sigsys_x(deadly[i], "shift");
	/* Positive twins: a whole job, as root-owned and shifted trees. */
	x_args("extract", NULL);
	unpack_job(t1, img, NULL);
	x_args("extract", "200000:200000:65536");
	unpack_job(t2, img, "shift");
	memset(kid_extra, 0, sizeof(kid_extra));
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s %s", dir, img, t1, t2);
	T_CHECK(system(cmd) == 0);
}

/* A child fed a record it may not receive exits (fail closed). */
T_TEST(child_exits_on_bad_record)
{
	struct kid k;
	struct imsg_ok ok = {.kind = RES_NONE, .name = ""};

	T_CHECK(kid_start(&k, "imgd-fetcher", PROC_FETCHER, NULL) == 0);
	check_ready(&k, "imgd-fetcher", 1);
	static uint8_t rec[LIM_IPC_RECORD_MAX];
	char err[256];
	ssize_t n;

	/* ipc_send refuses it (OK is for the frontend): encode it raw. */
	T_CHECK(ipc_send(&k.chan, IMSG_OK, 1, &ok, -1) == -1);
	n = ipc_encode(IMSG_OK, 1, 0, &ok, rec, sizeof(rec), err, sizeof(err));
	T_CHECK(n > 0 && send(k.chan.fd, rec, (size_t)n, 0) == n);
	int st = kid_wait(&k);
	T_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
	T_CONTAINS(last_log, "OK is not for the fetcher");
}

/* The frontend gets an answer to a request it never made: it exits,
 * rather than answer some client with it. */
T_TEST(frontend_exits_on_a_reply_it_never_asked_for)
{
	struct kid k;
	struct imsg_ok ok = {.kind = RES_NONE, .name = ""};

	T_CHECK(kid_start(&k, "imgd-frontend", PROC_FRONTEND, NULL) == 0);
	check_ready(&k, "imgd-frontend", 1);
	T_CHECK(ipc_send(&k.chan, IMSG_OK, 4242, &ok, -1) == 0);
	int st = kid_wait(&k);
	T_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
	T_CONTAINS(last_log, "BUG: the store sent OK for request 4242, which "
			     "this frontend never made");
}

int
main(void)
{
	const char *b = getenv("IMGD_BUILD");

	if (geteuid() != 0) {
		printf("# sandbox tests need root\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	snprintf(bindir, sizeof(bindir), "%s/bin", b ? b : "build");
	if (mkdtemp(emptydir) == NULL)
		return 1;
	chmod(emptydir, 0555);
	signal(SIGPIPE, SIG_IGN);
	T_RUN(fetcher_sandbox);
	T_RUN(debug_mode_names_the_call_and_still_kills);
	T_RUN(frontend_sandbox);
	T_RUN(unpacker_sandbox);
	T_RUN(unpacker_fed);
	T_RUN(unpack_job_sandbox);
	T_RUN(child_exits_on_bad_record);
	T_RUN(frontend_exits_on_a_reply_it_never_asked_for);
	rmdir(emptydir);
	return T_DONE();
}
