/*
 * Privilege drop for imgd's children. The order is fixed and every step
 * fails closed when running as root (fatalx). Started by an ordinary user,
 * the same code runs what it can (user namespace + chroot when the kernel
 * allows, then capabilities, rlimits, NO_NEW_PRIVS and seccomp) and says in
 * the READY notes what it could not do.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/sandbox.h"

static void
note(char *notes, size_t len, const char *what)
{
	size_t n = strlen(notes);

	snprintf(notes + n, len - n, "%s%s", n ? "; " : "", what);
}

static int
write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

/* All but keep (the capabilities a job's ownership work needs). */
static void
drop_bounding_set(uint64_t keep)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(keep & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			fatal("%s: PR_CAPBSET_DROP %d", __func__, cap);
}

/* The helper that writes the maps: a process may not map ids it has no
 * right to in the parent namespace, so a child still root outside does
 * it through /proc/<our pid>, opened before the namespace changed. */
static void __attribute__((noreturn))
map_helper(int procfd, int rd, const struct sandbox_target *t)
{
	char map[64], c;
	int fd, ok = 1;

	if (read(rd, &c, 1) != 1)
		_exit(1);
	snprintf(map, sizeof(map), "0 %u %u", t->shift_uid, t->shift_range);
	fd = openat(procfd, "uid_map", O_WRONLY | O_CLOEXEC);
	ok &= fd != -1 && write(fd, map, strlen(map)) == (ssize_t)strlen(map);
	if (fd != -1)
		close(fd);
	snprintf(map, sizeof(map), "0 %u %u", t->shift_gid, t->shift_range);
	fd = openat(procfd, "gid_map", O_WRONLY | O_CLOEXEC);
	ok &= fd != -1 && write(fd, map, strlen(map)) == (ssize_t)strlen(map);
	_exit(ok ? 0 : 1);
}

/* --shift: root of a user namespace whose ids are the host's U.., G... */
/* A chroot given as the store's directory fd (store/proc.c) is left
 * open by the chroot: close it, so nothing refers to the old root. */
static void
chroot_fd_close(const struct sandbox_target *t)
{
	if (strcmp(t->chroot_dir, "/proc/self/fd/4") == 0 && close(4) == -1)
		fatal("%s: close", __func__);
}

static void
enter_shifted(const struct sandbox_spec *s, const struct sandbox_target *t)
{
	int procfd, pp[2], st;
	uid_t r, e, sv;
	gid_t rg, eg, sg;
	pid_t h;

	if (t->shift_uid == 0 || t->shift_gid == 0 || t->shift_range == 0)
		fatalx("%s: refusing to map the %s's root to the host's",
		    __func__, s->name);
	if ((procfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
		-1 ||
	    pipe2(pp, O_CLOEXEC) == -1)
		fatal("%s: /proc/self", __func__);
	if ((h = fork()) == -1)
		fatal("%s: fork", __func__);
	if (h == 0) {
		close(pp[1]);
		map_helper(procfd, pp[0], t);
	}
	close(pp[0]);
	if (unshare(CLONE_NEWUSER | s->ns_flags) == -1)
		fatal("%s: unshare", __func__);
	if (write(pp[1], "m", 1) != 1 || waitpid(h, &st, 0) != h ||
	    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fatalx("%s: the id maps could not be written", __func__);
	close(pp[1]);
	close(procfd);
	if (chroot(t->chroot_dir) == -1 || chdir("/") == -1)
		fatal("%s: chroot %s", __func__, t->chroot_dir);
	chroot_fd_close(t);
	drop_bounding_set(t->keep_caps);
	if (setgroups(0, NULL) == -1 || setresgid(0, 0, 0) == -1 ||
	    setresuid(0, 0, 0) == -1)
		fatal("%s: the namespace's root", __func__);
	if (getresuid(&r, &e, &sv) == -1 || r || e || sv ||
	    getresgid(&rg, &eg, &sg) == -1 || rg || eg || sg)
		fatalx("%s: ids did not change", __func__);
}

static void
enter_root(const struct sandbox_spec *s, const struct sandbox_target *t)
{
	uid_t r, e, sv;
	gid_t rg, eg, sg;

	if (t->shift_range) {
		enter_shifted(s, t);
		return;
	}
	if (t->uid == 0 || t->gid == 0)
		fatalx("%s: refusing to run the %s as root", __func__, s->name);
	if (s->ns_flags && unshare(s->ns_flags) == -1)
		fatal("%s: unshare", __func__);
	if (chroot(t->chroot_dir) == -1 || chdir("/") == -1)
		fatal("%s: chroot %s", __func__, t->chroot_dir);
	chroot_fd_close(t);
	/* Needs CAP_SETPCAP, so before the uid change. */
	drop_bounding_set(t->keep_caps);
	/* The kept ones survive the uid change; clear_caps() sets them. */
	if (t->keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_KEEPCAPS", __func__);
	if (setgroups(0, NULL) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(t->gid, t->gid, t->gid) == -1)
		fatal("%s: setresgid", __func__);
	if (setresuid(t->uid, t->uid, t->uid) == -1)
		fatal("%s: setresuid", __func__);
	/* The old ids must be gone for good. */
	if (getresuid(&r, &e, &sv) == -1 || r != t->uid || e != t->uid ||
	    sv != t->uid || getresgid(&rg, &eg, &sg) == -1 || rg != t->gid ||
	    eg != t->gid || sg != t->gid)
		fatalx("%s: ids did not change", __func__);
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setegid(0) != -1)
		fatalx("%s: could regain root", __func__);
}

/* Not root: a user namespace gives chroot and namespaces when allowed. */
static void
enter_user(const struct sandbox_spec *s, const struct sandbox_target *t,
    char *notes, size_t noteslen)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | s->ns_flags) == -1) {
		note(notes, noteslen,
		    "no user namespace: no chroot, no "
		    "namespaces, runs as the invoking user");
		return;
	}
	/* Our own ids map to themselves: the store sees who it expects, and
	 * the capabilities unshare grants (chroot) are cleared just after. */
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/setgroups", "deny") == -1 ||
	    write_file("/proc/self/uid_map", map) == -1)
		fatal("%s: uid_map", __func__);
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) == -1)
		fatal("%s: gid_map", __func__);
	if (chroot(t->chroot_dir) == -1 || chdir("/") == -1)
		fatal("%s: chroot %s", __func__, t->chroot_dir);
	drop_bounding_set(0);
	note(notes, noteslen, "not root: shares the invoking user's uid");
}

/* Everything but keep, which is permitted and effective, never inherited. */
static void
clear_caps(uint64_t keep)
{
	cap_t caps = cap_init();

	if (caps == NULL || cap_clear(caps) == -1)
		fatal("%s: cap_init", __func__);
	for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; cap++)
		if ((keep & (1ULL << cap)) &&
		    (cap_set_flag(caps, CAP_PERMITTED, 1, &cap, CAP_SET) ==
			    -1 ||
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &cap, CAP_SET) ==
			    -1))
			fatal("%s: cap_set_flag", __func__);
	if (cap_set_proc(caps) == -1)
		fatal("%s: cap_set_proc", __func__);
	cap_free(caps);
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_KEEPCAPS", __func__);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
}

static void
set_rlimits(const struct sandbox_spec *s)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = {s->rlimits[i].value, s->rlimits[i].value};
		struct rlimit now;

		/* A limit above the inherited hard one cannot be set (the
		 * store was started with less): the lower one is stricter,
		 * so keep it and say so, rather than fail every start. */
		if (getrlimit(s->rlimits[i].resource, &now) == 0 &&
		    now.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max > now.rlim_max) {
			log_warnx("rlimit %d (%s): %llu wanted, the hard limit "
				  "imgd was started with is %llu: keeping it",
			    s->rlimits[i].resource, s->rlimits[i].why,
			    (unsigned long long)rl.rlim_max,
			    (unsigned long long)now.rlim_max);
			rl.rlim_cur = rl.rlim_max = now.rlim_max;
		}
		if (setrlimit(s->rlimits[i].resource, &rl) == -1)
			fatal("%s: setrlimit %d (%s)", __func__,
			    s->rlimits[i].resource, s->rlimits[i].why);
	}
}

static uint64_t
cap_mask(cap_t caps, cap_flag_t which)
{
	cap_flag_value_t v;
	uint64_t m = 0;

	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap_get_flag(caps, cap, which, &v) == 0 && v == CAP_SET)
			m |= 1ULL << cap;
	return m;
}

/* What the process can see of itself once the filter is in place. */
static void
self_check(struct imsg_ready *rd, int chrooted)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	cap_t caps;

	memset(rd, 0, sizeof(*rd));
	if (getresuid(&r, &e, &s) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("%s: getresuid", __func__);
	rd->ruid = r;
	rd->euid = e;
	rd->suid = s;
	rd->rgid = rg;
	rd->egid = eg;
	rd->sgid = sg;
	if ((caps = cap_get_proc()) == NULL)
		fatal("%s: cap_get_proc", __func__);
	rd->cap_eff = cap_mask(caps, CAP_EFFECTIVE);
	rd->cap_prm = cap_mask(caps, CAP_PERMITTED);
	cap_free(caps);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			rd->cap_bnd |= 1ULL << cap;
	rd->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	rd->seccomp = (uint8_t)prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	rd->chrooted = (uint8_t)chrooted;
}

void
sandbox_enter(const struct sandbox_spec *s, const struct sandbox_target *t,
    struct imsg_ready *rd, char *notes, size_t noteslen)
{
	int root = geteuid() == 0;
	char err[256];

	notes[0] = '\0';
	if (root)
		enter_root(s, t);
	else
		enter_user(s, t, notes, noteslen);
	/* No core dumps, no ptrace by the same uid, no /proc peeking. After
	 * the namespaces: a non-dumpable process cannot write its uid_map. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	clear_caps(root ? t->keep_caps : 0);
	/* The uid change cleared any earlier death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("%s: PR_SET_PDEATHSIG", __func__);
	/* In a pid namespace of its own the parent is outside it: 0. */
	if (t->parent > 0 && getppid() != t->parent &&
	    !(getpid() == 1 && getppid() == 0))
		fatalx("%s: the store is gone", __func__);
	set_rlimits(s);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	if (seccomp_install(s->groups, err, sizeof(err)) == -1)
		fatalx("%s: %s", __func__, err);
	self_check(rd, root || strstr(notes, "no user namespace") == NULL);
	if (root &&
	    (rd->cap_eff != t->keep_caps || rd->cap_prm != t->keep_caps ||
		rd->cap_bnd != t->keep_caps ||
		rd->euid != (t->shift_range ? 0 : t->uid) ||
		!rd->no_new_privs || rd->seccomp != 2))
		fatalx("%s: self-check failed", __func__);
}

static long
num_arg(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0 || v > max)
		fatalx("bad number \"%s\"", s);
	return v;
}

void
sandbox_args(int argc, char **argv, struct sandbox_target *t, int *debug,
    const char **probe)
{
	memset(t, 0, sizeof(*t));
	t->uid = t->gid = (uid_t)-1;
	*debug = 0;
	*probe = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--debug") == 0) {
			*debug = 1;
			continue;
		}
		if (v == NULL)
			fatalx("usage: %s --uid N --gid N --chroot DIR "
			       "--parent PID [--debug]",
			    argv[0]);
		if (strcmp(a, "--uid") == 0)
			t->uid = (uid_t)num_arg(v, 0x7fffffff);
		else if (strcmp(a, "--gid") == 0)
			t->gid = (gid_t)num_arg(v, 0x7fffffff);
		else if (strcmp(a, "--chroot") == 0)
			t->chroot_dir = v;
		else if (strcmp(a, "--parent") == 0)
			t->parent = (pid_t)num_arg(v, 0x7fffffff);
		else if (strcmp(a, "--probe") == 0)
			*probe = v;
		else if (strcmp(a, "--mode") == 0)
			t->mode = v;
		else if (strcmp(a, "--caps") == 0)
			t->keep_caps = strtoull(v, NULL, 16);
		else if (strcmp(a, "--shift") == 0) {
			if (sscanf(v, "%u:%u:%u", &t->shift_uid, &t->shift_gid,
				&t->shift_range) != 3)
				fatalx("bad --shift \"%s\"", v);
		} else
			fatalx("unknown option %s", a);
		i++;
	}
	if (t->chroot_dir == NULL || t->chroot_dir[0] != '/' ||
	    (geteuid() == 0 && (t->uid == (uid_t)-1 || t->gid == (gid_t)-1)))
		fatalx(
		    "%s: needs --uid, --gid and an absolute --chroot", argv[0]);
}
