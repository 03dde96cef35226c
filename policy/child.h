/*
 * The start of every child program: parse the store's command line, enter
 * the sandbox, open the store channel (fd 3) and report READY.
 */
#ifndef IMGD_POLICY_CHILD_H
#define IMGD_POLICY_CHILD_H

#include "ipc/chan.h"
#include "policy/sandbox.h"

#define IMGD_IPC_FD 3 /* the store socket, placed there by the store */

/*
 * child_init: parses the command line, checks fd 3 and closes every other
 * inherited fd. Then the child prepares what it cannot get later (an event
 * base, uname), and child_enter runs the sandbox entry and sends READY on
 * the returned channel. *probe is the test hook to run afterwards (NULL
 * normally).
 */
void child_init(const struct sandbox_spec *spec, int argc, char **argv);
void child_enter(
    const struct sandbox_spec *spec, struct ipc_chan *chan, const char **probe);

#endif
