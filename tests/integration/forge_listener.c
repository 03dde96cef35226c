/*
 * A test-only preload for the frontend (tests/integration/contract.sh):
 * it plays a compromised frontend by rewriting the listener id in the
 * first image-list request it sends, to FORGE_LISTENER. No production
 * code knows about it: the wrapper script that starts the frontend sets
 * LD_PRELOAD before exec.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipc/msg.h"

static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static long forged = -1;

__attribute__((constructor)) static void
forge_init(void)
{
	const char *v = getenv("FORGE_LISTENER");

	real_sendmsg = (ssize_t(*)(int, const struct msghdr *, int))dlsym(
	    RTLD_NEXT, "sendmsg");
	if (v != NULL)
		forged = strtol(v, NULL, 10);
}

ssize_t
sendmsg(int fd, const struct msghdr *mh, int flags)
{
	uint8_t *p = mh->msg_iovlen ? mh->msg_iov[0].iov_base : NULL;
	size_t len = mh->msg_iovlen ? mh->msg_iov[0].iov_len : 0;

	/* u16 type | u8 version | u8 flags | u32 len | u64 id | project
	 * (u16 length + bytes) | u8 mode | u32 listener | u32 uid | u32 gid */
	if (forged >= 0 && p != NULL && len >= IPC_HDR_LEN + 2 &&
	    (p[0] | p[1] << 8) == IMSG_IMAGES_LIST_REQ) {
		size_t plen = p[IPC_HDR_LEN] | p[IPC_HDR_LEN + 1] << 8;
		size_t off = IPC_HDR_LEN + 2 + plen + 1;

		if (off + 4 <= len) {
			uint32_t v = (uint32_t)forged;
			for (int i = 0; i < 4; i++)
				p[off + i] = (uint8_t)(v >> (8 * i));
			forged = -1; /* once */
		}
	}
	return real_sendmsg(fd, mh, flags);
}
