/*
 * The children's system users: one per program, created at start when imgd
 * runs as root and they are missing (useradd --system, no home, no shell).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static int
valid_name(const char *n)
{
	if (n[0] == '\0' || n[0] == '-' || strlen(n) > 32)
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '-' || *p == '_'))
			return 0;
	return 1;
}

static int
run_useradd(const char *name)
{
	char *argv[] = {"useradd", "--system", "--no-create-home", "--home-dir",
	    "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group",
	    "--comment", "imgd sandbox user", (char *)name, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execve("/usr/sbin/useradd", argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
users_ensure(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;

	if (!valid_name(name)) {
		snprintf(err, errlen, "invalid user name \"%s\"", name);
		return -1;
	}
	if ((pw = getpwnam(name)) == NULL) {
		log_info("creating system user %s", name);
		if (run_useradd(name) == -1 || (pw = getpwnam(name)) == NULL) {
			snprintf(err, errlen,
			    "cannot create system user %s "
			    "(useradd failed)",
			    name);
			return -1;
		}
		audit("user-created", "user", name, NULL);
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s has uid or gid 0", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}
