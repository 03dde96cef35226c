/*
 * sandbox_probe: the tests' way to prove that a forbidden system call kills
 * a child (tests/unit/test_sandbox.c). Each probe makes one call with
 * harmless arguments; under the filter it never returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/sandbox.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

void
sandbox_probe(const char *name)
{
	char *argv[] = {"true", NULL};
	long rc = 0;

	if (strcmp(name, "none") == 0)
		return;
	else if (strcmp(name, "socket") == 0)
		rc = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(name, "socket-unix") == 0)
		rc = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(name, "open") == 0)
		rc = open("/", O_RDONLY | O_DIRECTORY);
	else if (strcmp(name, "execve") == 0)
		rc = execve("/bin/true", argv, argv + 1);
	else if (strcmp(name, "ptrace") == 0)
		rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (strcmp(name, "fork") == 0)
		rc = syscall(SYS_fork);
	else if (strcmp(name, "x32") == 0)
		rc = syscall(__X32_SYSCALL_BIT | SYS_getpid);
	else if (strcmp(name, "mprotect-exec") == 0) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		rc = mprotect(p, 4096, PROT_READ | PROT_EXEC);
	} else if (strcmp(name, "io_uring") == 0)
		rc = syscall(SYS_io_uring_setup, 1, NULL);
	else if (strcmp(name, "setuid") == 0)
		rc = setuid(0);
	else if (strcmp(name, "mount") == 0)
		rc = syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
	else if (strcmp(name, "chroot") == 0)
		rc = syscall(SYS_chroot, "/");
	else if (strcmp(name, "unshare") == 0)
		rc = syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
	else if (strcmp(name, "mknod") == 0)
		rc = syscall(SYS_mknodat, AT_FDCWD, "/probe-fifo", 010600, 0);
	else if (strcmp(name, "kill") == 0)
		rc = syscall(SYS_kill, 1, 0);
	else if (strcmp(name, "unlink") == 0)
		rc = syscall(SYS_unlinkat, AT_FDCWD, "/probe", 0);
	else
		fatalx("%s: unknown probe %s", __func__, name);
	log_warnx(
	    "probe %s was allowed (returned %ld, errno %d)", name, rc, errno);
}
