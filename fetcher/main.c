/*
 * imgd-fetcher: the sandboxed downloader. Until remote image sources land
 * it only proves its sandbox (READY) and answers the store's liveness
 * pings; it has no file system (empty chroot) and no way to start programs.
 */
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "ipc/log.h"
#include "policy/child.h"

static const struct sandbox_rlimit fetcher_rlimits[] = {
    {RLIMIT_NPROC, 0, "no new processes"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, 0, "writes no files"},
    {RLIMIT_NOFILE, 256, "a few sockets and pipes at a time"},
};

/* Outbound network is its job, so no network namespace. */
static const struct sc_group *const fetcher_groups[] = {
    &sc_base, &sc_ipc, &sc_selfcheck, &sc_client_net, NULL};

static const struct sandbox_spec fetcher_spec = {
    .name = "fetcher",
    .kind = PROC_FETCHER,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS,
    .rlimits = fetcher_rlimits,
    .nrlimits = sizeof(fetcher_rlimits) / sizeof(fetcher_rlimits[0]),
    .groups = fetcher_groups,
};

int
main(int argc, char **argv)
{
	struct ipc_chan chan;
	struct ipc_msg m;
	const char *probe;

	child_init(&fetcher_spec, argc, argv);
	child_enter(&fetcher_spec, &chan, &probe);
	if (probe)
		sandbox_probe(probe);
	chan.blocking = 1;
	for (;;) {
		int rc = ipc_recv(&chan, &m);

		if (rc == -1)
			fatalx("%s", chan.err);
		if (rc == 0)
			continue;
		switch (m.type) {
		case IMSG_PING:
			if (ipc_send(&chan, IMSG_PONG, m.id, &m.m.ping, -1) ==
			    -1)
				fatalx("%s", chan.err);
			break;
		default:
			/* The table lets the store send nothing else here. */
			fatalx("unexpected %s", ipc_typename(m.type));
		}
	}
}
