/*
 * imgd: the store process. Usage:
 *
 *	imgd --state DIR [--config FILE] [--debug]
 *
 * Runs in the foreground until SIGTERM (or SIGINT), then stops every child
 * and exits 0.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static struct store store;
struct store *S = &store;

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t len = strlen(s);

	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned v;

		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		out[i / 2] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: imgd --state DIR [--config FILE] "
			"[--policy FILE] [--debug] [--repair]\n"
			"       imgd --check-policy FILE\n");
	exit(2);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];

	if (strlen(path) >= sizeof(tmp))
		return -1;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1) {
			if (errno != EEXIST)
				return -1;
		} else if (chmod(tmp, 0755) == -1) /* past the umask */
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* As root we exec these: nobody else may be able to change them. */
static void
check_binaries(void)
{
	static const char *progs[] = {
	    "imgd-frontend", "imgd-fetcher", "imgd-unpacker"};
	struct stat st;
	char path[4200];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", S->bindir, progs[i]);
		if (stat(path, &st) == -1)
			fatal("cannot find %s (install every imgd program in "
			      "one directory)",
			    path);
		if (S->root && (st.st_uid != 0 || (st.st_mode & 022)))
			fatalx("%s must be owned by root and writable by "
			       "nobody else",
			    path);
	}
	if (S->root && (stat(S->bindir, &st) == -1 || st.st_uid != 0 ||
			   (st.st_mode & 022)))
		fatalx("%s must be owned by root and writable by nobody "
		       "else",
		    S->bindir);
}

static void
find_bindir(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(S->bindir, sizeof(S->bindir), "%s", dirname(exe));
}

static void
detect_architectures(void)
{
	struct utsname u;

	uname(&u);
	snprintf(S->server_name, sizeof(S->server_name), "%s", u.nodename);
	if (strcmp(u.machine, "x86_64") == 0) {
		S->archs[S->narchs++] = "x86_64";
		S->archs[S->narchs++] = "i686";
	} else if (strcmp(u.machine, "aarch64") == 0) {
		S->archs[S->narchs++] = "aarch64";
		S->archs[S->narchs++] = "armv7l";
	} else {
		S->archs[S->narchs++] = strdup(u.machine);
	}
}

/* <state>/unix.socket: the local API, trusted like LXD's. */
static void
open_unix_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	struct group *gr;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/unix.socket",
		S->state) >= sizeof(sa.sun_path))
		fatalx("state path too long for a socket: %s", S->state);
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("%s exists and is not a socket", sa.sun_path);
		unlink(sa.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	mode_t old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		fatal("bind %s", sa.sun_path);
	umask(old);
	S->socket_gid = getegid();
	if (S->cfg.socket_group[0]) {
		if ((gr = getgrnam(S->cfg.socket_group)) == NULL)
			fatalx("unknown socket_group %s", S->cfg.socket_group);
		if (chown(sa.sun_path, getuid(), gr->gr_gid) == -1)
			fatal("chown %s", sa.sun_path);
		S->socket_gid = gr->gr_gid;
	}
	if (chmod(sa.sun_path, S->cfg.socket_mode) == -1)
		fatal("chmod %s", sa.sun_path);
	if (listen(fd, 128) == -1)
		fatal("listen");
	S->unix_fd = fd;
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		proc_sigchld();
		break;
	case SIGHUP:
		/* The policy only: the rest of the configuration sizes
		 * buffers and sandboxes, and needs a restart. */
		access_reload();
		break;
	default:
		if (S->stopping)
			break;
		log_info("%s: stopping", strsignal(sig));
		S->stopping = 1;
		event_base_loopexit(S->base, NULL);
	}
}

/*
 * The store holds a descriptor per upload file, pipe and child channel:
 * its soft RLIMIT_NOFILE goes up to the hard one, and a low hard limit is
 * said at start, not found under load. Out of descriptors, the store
 * fails the work that needed one (and ipc/chan.c does not blame a child
 * for a descriptor the store could not take).
 */
static void
nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_max);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		log_warnx("RLIMIT_NOFILE is %llu: under load imgd will run out "
			  "of file descriptors (give it 1024 or more)",
		    (unsigned long long)rl.rlim_cur);
}

static int
lock_state(void)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/imgd.lock", S->state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		fatal("open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		fatalx("another imgd is running on %s", S->state);
	return fd;
}

/*
 * What the store does as root once it has started, and the capability
 * each needs; everything else leaves its bounding, permitted, effective
 * and inheritable sets (DESIGN section 2). Children inherit no more.
 */
static const struct {
	int cap;
	const char *why;
} keep_caps[] = {
    {CAP_KILL, "stop and kill children that run as other users"},
    {CAP_SETGID, "children: setgroups, setresgid"},
    {CAP_SETUID, "children: setresuid"},
    {CAP_SETPCAP, "children: drop their bounding set"},
    {CAP_SYS_CHROOT, "children: chroot to the empty dir"},
    {CAP_SYS_ADMIN, "children: unshare mount, ipc, uts and net namespaces"},
    {CAP_CHOWN, "unpack jobs: the image's owners; shifted targets' root"},
    {CAP_DAC_OVERRIDE, "unpack jobs write into the image's directories; "
		       "failed targets are removed"},
    {CAP_FOWNER, "unpack jobs set modes and times of files they chowned"},
    {CAP_FSETID, "unpack jobs keep setuid and setgid bits"},
    {CAP_MKNOD, "privileged unpack jobs: device nodes, where allowed"},
    {CAP_DAC_READ_SEARCH, "publish jobs read the whole tree they pack"},
};

/* The sandbox users, made now: useradd needs more than the store keeps. */
static void
ensure_users(void)
{
	char err[256];
	uid_t uid;
	gid_t gid;

	for (size_t i = 0; i < 3; i++)
		if (users_ensure(
			S->cfg.users[i], &uid, &gid, err, sizeof(err)) == -1)
			fatalx("%s", err);
}

static void
cut_capabilities(void)
{
	cap_value_t keep[sizeof(keep_caps) / sizeof(keep_caps[0])];
	size_t n = sizeof(keep) / sizeof(keep[0]);
	cap_t caps;

	for (size_t i = 0; i < n; i++)
		keep[i] = keep_caps[i].cap;
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		size_t i;

		for (i = 0; i < n && keep[i] != cap; i++)
			;
		if (i == n && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			fatal("PR_CAPBSET_DROP %d", cap);
	}
	if ((caps = cap_init()) == NULL ||
	    cap_set_flag(caps, CAP_PERMITTED, (int)n, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, (int)n, keep, CAP_SET) == -1 ||
	    cap_set_proc(caps) == -1)
		fatal("cap_set_proc");
	cap_free(caps);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	log_debug("capabilities cut to the %zu the store uses", n);
}

/* The command line, into state, config and the flags. */
static void
parse_args(int argc, char **argv, const char **state, const char **config,
    const char **policy, int *debug, int *repair)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			*state = argv[++i];
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			*policy = argv[++i];
		else if (strcmp(argv[i], "--check-policy") == 0 &&
			 i + 1 < argc && argc == 3)
			exit(access_check_file(argv[++i]));
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			*config = argv[++i];
		else if (strcmp(argv[i], "--debug") == 0)
			*debug = 1;
		else if (strcmp(argv[i], "--repair") == 0)
			*repair = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("imgd %s\n", IMGD_VERSION);
			exit(0);
		} else
			usage();
	}
	if (*state == NULL)
		usage();
}

/* The state dir, the database, the blobs and the audit log, checked and
 * repaired; then the socket, the users and the capability cut. */
static void
open_state(const char *state, int repair)
{
	char err[512];

	/* Nothing in the state dir is for other users: the DB lists private
	 * images. The dir itself stays traversable for unix.socket. */
	umask(077);
	if (mkdir_p(state, 0711) == -1 || chmod(state, 0711) == -1)
		fatal("mkdir %s", state);
	if (realpath(state, S->state) == NULL)
		fatal("realpath %s", state);
	find_bindir();
	check_binaries();
	detect_architectures();
	lock_state();
	nofile_raise();
	snprintf(err, sizeof(err), "%s/imgd.db", S->state);
	if (db_open(err, err, sizeof(err)) == -1)
		fatalx("database: %s", err);
	if (blob_init(S->state, db_image_count() > 0, err, sizeof(err)) == -1)
		fatalx("%s", err);
	snprintf(S->empty, sizeof(S->empty), "%s/empty", S->state);
	if (audit_open(S->state, err, sizeof(err)) == -1)
		fatalx("audit log: %s", err);
	blob_repair(repair);
	unpack_repair();
	image_backfill();
	open_unix_socket();
	if (S->cfg.https_address[0]) {
		tls_identity_init();
		if ((S->https_fd = https_open(
			 S->cfg.https_address, err, sizeof(err))) == -1)
			fatalx("%s", err);
	}
	if (S->root) {
		ensure_users();
		cut_capabilities();
	}
}

/* After the loop: the socket gone, the children stopped, the log closed. */
static void
shut_down(void)
{
	char path[PATH_MAX];

	S->stopping = 1;
	close(S->unix_fd);
	if (S->https_fd != -1)
		close(S->https_fd);
	snprintf(path, sizeof(path), "%s/unix.socket", S->state);
	unlink(path);
	upload_frontend_gone();
	proc_stop_all();
	audit("stop", NULL);
	audit_close();
	logfwd_stop();
	db_close();
}

int
main(int argc, char **argv)
{
	const char *state = NULL, *config = NULL, *policy = NULL;
	struct event *sigs[4];
	static const int signos[] = {SIGTERM, SIGINT, SIGCHLD, SIGHUP};
	char err[512];
	int debug = 0, repair = 0;
	struct rlimit rl;

	log_init("imgd", 0);
	parse_args(argc, argv, &state, &config, &policy, &debug, &repair);
	S->root = geteuid() == 0;
	S->pid = getpid();
	S->unix_fd = -1;
	S->https_fd = -1;
	config_defaults(&S->cfg);
	if (config && config_load(&S->cfg, config, err, sizeof(err)) == -1)
		fatalx("%s: %s", config, err);
	if (debug)
		S->cfg.debug = 1;
	log_setdebug(S->cfg.debug);
	/* Before the state: a policy that does not parse stops the start. */
	access_init(policy);
	signal(SIGPIPE, SIG_IGN);
	/* Uploads hold a pipe and a temp file each: allow what the system
	 * allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	open_state(state, repair);

	if ((S->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (size_t i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(S->base, signos[i], on_signal, NULL);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatalx("signal events");
	}
	ops_init();
	fetch_timers_init();
	logfwd_init();
	audit("start", "state", S->state, "version", IMGD_VERSION, NULL);
	proc_start_all();
	log_info("imgd %s on %s: local API at %s/unix.socket%s", IMGD_VERSION,
	    S->state, S->state, S->root ? "" : " (not root: reduced sandbox)");
	if (S->https_fd != -1)
		log_info("HTTPS API at https://%s (certificate fingerprint %s)",
		    S->cfg.https_address, tls_server_fingerprint());
	if (S->cfg.proxy_https[0])
		log_info("copies go through the proxy %s%s%s",
		    S->cfg.proxy_https,
		    S->cfg.proxy_ignore_hosts[0] ? ", except to " : "",
		    S->cfg.proxy_ignore_hosts);

	/* The loop, a turn at a time: after each, the statements its
	 * callbacks left mid-way are ended (db_release). */
	while (event_base_loop(S->base, EVLOOP_ONCE) == 0 &&
	       !event_base_got_exit(S->base) && !event_base_got_break(S->base))
		db_release();

	shut_down();
	for (size_t i = 0; i < 4; i++)
		event_free(sigs[i]);
	event_base_free(S->base);
	log_info("stopped");
	return 0;
}
