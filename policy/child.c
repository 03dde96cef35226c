/*
 * Common start of imgd-frontend, imgd-fetcher and imgd-unpacker.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/child.h"

static struct sandbox_target target;
static const char *target_probe;

void
child_init(const struct sandbox_spec *spec, int argc, char **argv)
{
	struct stat st;
	int debug, type, keep;
	socklen_t len = sizeof(type);

	log_init(spec->name, 0);
	sandbox_args(argc, argv, &target, &debug, &target_probe);
	log_setdebug(debug);
	/* fd 3 must be our SOCK_SEQPACKET channel, and nothing else open. */
	if (fstat(IMGD_IPC_FD, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(IMGD_IPC_FD, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_SEQPACKET)
		fatalx("fd %d is not the store channel", IMGD_IPC_FD);
	/* fd 4 too when the store gave the chroot as a directory fd (it is
	 * closed once we are inside: sandbox.c chroot_fd_close). */
	keep = IMGD_IPC_FD;
	if (strcmp(target.chroot_dir, "/proc/self/fd/4") == 0) {
		if (fstat(IMGD_IPC_FD + 1, &st) == -1 || !S_ISDIR(st.st_mode))
			fatalx("fd %d is not the chroot directory",
			    IMGD_IPC_FD + 1);
		keep = IMGD_IPC_FD + 1;
	}
	if (close_range((unsigned)keep + 1, ~0U, 0) == -1)
		fatal("close_range");
	/* A peer that goes away must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

void
child_enter(
    const struct sandbox_spec *spec, struct ipc_chan *chan, const char **probe)
{
	struct imsg_ready rd;
	char notes[LIM_NOTE_MAX + 1];

	*probe = target_probe;
	sandbox_enter(spec, &target, &rd, notes, sizeof(notes));
	rd.notes = notes;
	if (ipc_chan_init(chan, IMGD_IPC_FD, spec->kind, PROC_STORE) == -1)
		fatalx("out of memory");
	chan->blocking = 1;
	if (ipc_send(chan, IMSG_READY, 0, &rd, -1) == -1)
		fatalx("READY: %s", chan->err);
	chan->blocking = 0;
	log_debug("sandboxed: uid %u, seccomp %u", rd.euid, rd.seccomp);
}
