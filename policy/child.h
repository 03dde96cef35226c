/*
 * The start of every child program: parse the store's command line, enter
 * the sandbox, open the store channel (fd 3) and report READY.
 */
#ifndef IMGD_POLICY_CHILD_H
#define IMGD_POLICY_CHILD_H

#include "ipc/chan.h"
#include "policy/sandbox.h"

#define IMGD_IPC_FD 3	/* the store socket, placed there by the store */

/*
 * Runs the sandbox entry for spec and sends READY on the returned channel.
 * *probe is the test hook to run afterwards (NULL normally). Before calling,
 * a child prepares what it cannot get later (event base, time zone).
 */
void child_start(const struct sandbox_spec *spec, int argc, char **argv,
    struct ipc_chan *chan, const char **probe);

#endif
