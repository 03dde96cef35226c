/*
 * seccomp allow-lists, built with libseccomp from named groups of system
 * calls, each with a one-line reason. Kill-by-default (the whole process),
 * native architecture only (x32 and 32-bit entry points are killed too).
 * Some calls are allowed only with safe arguments (see sc_cond below).
 *
 * IMGD_SECCOMP_DEBUG=1 in the environment turns the kill into a trap whose
 * handler names the offending call on stderr, then dies the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/sandbox.h"

#define END -1

/* clang-format off */
static const int base_calls[] = {
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(close),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(write),
	SCMP_SYS(getpid), END
};
const struct sc_group sc_base = { "base",
	"malloc, clocks, logging to stderr, exit", base_calls };

static const int ipc_calls[] = {
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(fcntl),
	SCMP_SYS(getsockopt), END
};
const struct sc_group sc_ipc = { "ipc",
	"records and fds on the store socket; fd checks (fstat, F_GETFL, "
	"SO_ACCEPTCONN)", ipc_calls };

static const int selfcheck_calls[] = {
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(capget),
	SCMP_SYS(prctl), END
};
const struct sc_group sc_selfcheck = { "selfcheck",
	"the READY self-check reads ids, capabilities, seccomp and nnp state",
	selfcheck_calls };

static const int events_calls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(read), END
};
const struct sc_group sc_events = { "events",
	"libevent's epoll loop (created before the filter)", events_calls };

static const int server_calls[] = {
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(shutdown),
	SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(getpeername), SCMP_SYS(getsockname),
	SCMP_SYS(setsockopt), SCMP_SYS(ioctl), SCMP_SYS(lseek),
	SCMP_SYS(pread64), SCMP_SYS(sendfile), SCMP_SYS(splice), END
};
const struct sc_group sc_server = { "server",
	"accept and serve client connections on sockets handed over; "
	"stream exported files (pread under TLS, sendfile without); "
	"splice a plain socket's upload into its pipe; FIONREAD only",
	server_calls };

static const int pipes_calls[] = { SCMP_SYS(pipe2), END };
const struct sc_group sc_pipes = { "pipes",
	"one pipe per upload part, its read end passed to the store",
	pipes_calls };

static const int client_net_calls[] = {
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(setsockopt),
	SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(getpeername), SCMP_SYS(getsockname),
	SCMP_SYS(poll), SCMP_SYS(ioctl), END
};
const struct sc_group sc_client_net = { "client_net",
	"outbound TCP (AF_INET/AF_INET6 only) for downloads", client_net_calls };

static const int fetch_calls[] = {
	SCMP_SYS(read), SCMP_SYS(socketpair), SCMP_SYS(ppoll),
	SCMP_SYS(getsockopt), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(futex), END
};
const struct sc_group sc_fetch = { "fetch",
	"TLS reads on sockets, libcurl's wakeup socketpair (AF_UNIX only), "
	"futex for its locks (one thread: never contended), "
	"c-ares' UDP queries, the pipes handed over by the store",
	fetch_calls };

static const int archive_read_calls[] = {
	SCMP_SYS(read), SCMP_SYS(lseek), SCMP_SYS(pread64), END
};
const struct sc_group sc_archive_read = { "archive_read",
	"read the read-only image fds handed over by the store",
	archive_read_calls };

static const int archive_write_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(mkdirat),
	SCMP_SYS(symlinkat), SCMP_SYS(linkat), SCMP_SYS(readlinkat),
	SCMP_SYS(fchown), SCMP_SYS(fchownat), SCMP_SYS(fchmod),
	SCMP_SYS(fchmodat), SCMP_SYS(utimensat), SCMP_SYS(pwrite64),
	SCMP_SYS(ftruncate), SCMP_SYS(fsetxattr), SCMP_SYS(dup),
	SCMP_SYS(getdents64), SCMP_SYS(fgetxattr), SCMP_SYS(flistxattr),
	SCMP_SYS(syncfs), END
};
const struct sc_group sc_archive_write = { "archive_write",
	"make the image's files under the target it is chrooted into "
	"(openat2 confines each lookup), read a tree to publish, sync it once",
	archive_write_calls };

static const int tree_read_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(getdents64), SCMP_SYS(readlinkat),
	SCMP_SYS(fgetxattr), SCMP_SYS(flistxattr), SCMP_SYS(lgetxattr),
	SCMP_SYS(llistxattr), SCMP_SYS(dup), SCMP_SYS(sysinfo), END
};
const struct sc_group sc_tree_read = { "tree_read",
	"read the tree to publish, inside the chroot it is (no writes: its "
	"tarballs go to the pipes handed over); sysinfo: glibc's qsort sizes "
	"its buffer from the physical memory", tree_read_calls };

static const int mknod_calls[] = { SCMP_SYS(mknodat), END };
const struct sc_group sc_mknod = { "mknod",
	"device nodes and FIFOs, only for a privileged target the policy "
	"allows them in", mknod_calls };

/* Calls allowed only with these arguments (any one rule suffices). */
struct sc_cond {
	int call;
	unsigned arg;
	enum scmp_compare op;
	uint64_t a, b;
};
static const struct sc_cond sc_conds[] = {
	/* No executable memory: a foothold must not get to map code. */
	{ SCMP_SYS(mmap), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 },
	{ SCMP_SYS(mprotect), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 },
	/* libevent sizes its reads with FIONREAD; nothing else. */
	{ SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONREAD, 0 },
	/* Self-check reads; no prctl that changes anything. */
	{ SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_GET_SECCOMP, 0 },
	{ SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_GET_NO_NEW_PRIVS, 0 },
	{ SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_CAPBSET_READ, 0 },
	/* fd flags and checks only: no F_SETOWN, leases, seals. */
	{ SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_GETFL, 0 },
	{ SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_SETFL, 0 },
	{ SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_GETFD, 0 },
	{ SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_SETFD, 0 },
	{ SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_SETPIPE_SZ, 0 },
	/* Internet sockets only: no AF_UNIX/AF_NETLINK/AF_PACKET. */
	{ SCMP_SYS(socket), 0, SCMP_CMP_EQ, AF_INET, 0 },
	{ SCMP_SYS(socket), 0, SCMP_CMP_EQ, AF_INET6, 0 },
	/* A pair of connected local sockets reaches nothing outside. */
	{ SCMP_SYS(socketpair), 0, SCMP_CMP_EQ, AF_UNIX, 0 },
};

/* clang-format on */

static int
add_call(scmp_filter_ctx ctx, int call)
{
	int conditional = 0, rc;

	for (size_t i = 0; i < sizeof(sc_conds) / sizeof(sc_conds[0]); i++) {
		const struct sc_cond *c = &sc_conds[i];

		if (c->call != call)
			continue;
		conditional = 1;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, call, 1,
		    SCMP_CMP(c->arg, c->op, c->a, c->b));
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	if (conditional)
		return 0;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, call, 0);
	return rc == -EEXIST ? 0 : rc;
}

static void
sigsys_debug(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	char *name =
	    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	int n = snprintf(msg, sizeof(msg),
	    "seccomp: forbidden system call %d (%s)\n", si->si_syscall,
	    name ? name : "?");

	(void)sig;
	(void)uc;
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n);
	/*
	 * Die of SIGSYS, as without debug mode. Each step either works or
	 * is itself forbidden, and a forbidden call now traps with SIGSYS
	 * blocked or at its default action: the kernel kills us with SIGSYS
	 * either way. (Replaying the call with other arguments could pass a
	 * filter that looks at them.)
	 */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t set;

	sigaction(SIGSYS, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), SIGSYS);
	_exit(128 + SIGSYS); /* not reached */
}

int
seccomp_install(const struct sc_group *const *groups, char *err, size_t errlen)
{
	const char *dbg = getenv("IMGD_SECCOMP_DEBUG");
	int debug = dbg != NULL && strcmp(dbg, "1") == 0;
	uint32_t deny = debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int rc = 0;

	if (debug) {
		struct sigaction sa = {
		    .sa_sigaction = sigsys_debug, .sa_flags = SA_SIGINFO};
		sigaction(SIGSYS, &sa, NULL);
	}
	if ((ctx = seccomp_init(deny)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* A call from a foreign ABI (i386, x32) is killed, not translated. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	for (size_t g = 0; rc == 0 && groups[g] != NULL; g++)
		for (const int *c = groups[g]->calls; rc == 0 && *c != END;
		     c++) {
			rc = add_call(ctx, *c);
			if (rc < 0)
				snprintf(err, errlen, "seccomp rule %s/%d: %s",
				    groups[g]->name, *c, strerror(-rc));
		}
	if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
		snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}
