/*
 * Entering a child's sandbox, in the one fixed order of DESIGN.md section 2:
 * namespaces/chroot, bounding set, setgroups/setresgid/setresuid, verify the
 * old ids cannot be regained, clear capabilities, PR_SET_PDEATHSIG, rlimits,
 * NO_NEW_PRIVS, seccomp. Every step fails closed when imgd runs as root.
 */
#ifndef IMGD_POLICY_SANDBOX_H
#define IMGD_POLICY_SANDBOX_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "ipc/msg.h"

struct sc_group;

struct sandbox_rlimit {
	int resource;
	rlim_t value;
	const char *why;
};

struct sandbox_spec {
	const char *name; /* for logs: "frontend" */
	int kind;	  /* PROC_* */
	int ns_flags;	  /* CLONE_NEW* to unshare */
	const struct sandbox_rlimit *rlimits;
	size_t nrlimits;
	const struct sc_group *const *groups; /* seccomp allow-list */
};

/* Where to drop to: given by the store on the command line. */
struct sandbox_target {
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;
	pid_t parent; /* the store's pid, for PDEATHSIG */
	const char *mode; /* --mode: the child's job kind ("extract"), or NULL */
	uint64_t keep_caps; /* --caps: capabilities ownership needs (a mask) */
	/* --shift U:G:R: a user namespace mapping 0..R-1 to U.. and G.. on
	 * the host; the child then runs as root of that namespace */
	uint32_t shift_uid, shift_gid, shift_range;
};

/*
 * Enters the sandbox and fills the READY self-check (notes says what could
 * not be dropped when not root). Exits the process on any failure that
 * matters: nothing is read from a peer before this returns.
 */
void sandbox_enter(const struct sandbox_spec *spec,
    const struct sandbox_target *t, struct imsg_ready *ready, char *notes,
    size_t noteslen);

/* Parses the child command line: --uid N --gid N --chroot DIR --parent PID
 * [--debug] [--probe NAME] [--mode NAME] [--caps HEX] [--shift U:G:R].
 * Exits on error. */
void sandbox_args(int argc, char **argv, struct sandbox_target *t, int *debug,
    const char **probe);

/*
 * Test hook (tests/unit/test_sandbox.c): after the sandbox is entered, make
 * one named system call ("socket", "open", "execve", "ptrace", "x32",
 * "mprotect-exec", "io_uring", ...). Returns only if the call was allowed.
 */
void sandbox_probe(const char *name);

/* seccomp (policy/seccomp.c) */
struct sc_group {
	const char *name;
	const char *why;
	const int *calls; /* terminated by -1 */
};
int seccomp_install(
    const struct sc_group *const *groups, char *err, size_t errlen);

/* Named groups, composed into the per-process profiles. */
extern const struct sc_group sc_base, sc_ipc, sc_selfcheck, sc_events,
    sc_server, sc_pipes, sc_client_net, sc_fetch, sc_archive_read,
    sc_archive_write, sc_mknod, sc_tree_read;

#endif
