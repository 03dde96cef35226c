/*
 * libFuzzer target for the IPC validation pipeline. Input: one byte that
 * picks the sending process, then a record as it would arrive; with bit
 * 0x80 of that byte, a datagram that may hold several records, through
 * a channel (ipc_recv splits it and decodes each).
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/chan.h"
#include "ipc/codec.h"

/* The datagram through a socketpair into a channel, every record taken. */
static void
datagram(int sender, int receiver, int state, const uint8_t *p, size_t n)
{
	static int sp[2] = {-1, -1};
	static struct ipc_chan c;
	struct ipc_msg m;

	if (sp[0] == -1) {
		int sz = 4 * LIM_IPC_RECORD_MAX;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == -1)
			abort();
		setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (ipc_chan_init(&c, sp[0], receiver, sender) == -1)
			abort();
	}
	c.self = receiver;
	c.peer = sender;
	c.state = state;
	c.nopen = 0;
	if (n == 0 || send(sp[1], p, n, 0) != (ssize_t)n)
		return;
	while (ipc_recv(&c, &m) == 1)
		if (m.fd != -1)
			close(m.fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int kinds[] = {
	    PROC_STORE, PROC_FRONTEND, PROC_FETCHER, PROC_UNPACKER};
	static struct ipc_arena arena;
	union imsg_any m;
	struct ipc_hdr h;
	char err[256];

	if (arena.base == NULL) {
		arena.size = IPC_ARENA_SIZE;
		arena.base = malloc(arena.size);
	}
	if (size < 1 || size > LIM_IPC_RECORD_MAX + 1)
		return 0;
	int sender = 0;
	for (size_t i = 0; i < 4; i++)
		if (data[0] & kinds[i])
			sender = kinds[i];
	if (sender == 0)
		sender = PROC_FRONTEND;
	/* The receiver is the store unless the store sent it; the state
	 * comes from the same byte. */
	int receiver = sender == PROC_STORE
			   ? (data[0] & 0x10 ? PROC_UNPACKER : PROC_FRONTEND)
			   : PROC_STORE;
	int state = data[0] & 0x20   ? CH_NEW
		    : data[0] & 0x40 ? CH_FINAL
				     : CH_READY;
	if (data[0] & 0x80) {
		datagram(sender, receiver, state, data + 1, size - 1);
		return 0;
	}
	(void)ipc_decode(sender, receiver, state, data + 1, size - 1, -1, &h,
	    &m, &arena, err, sizeof(err));
	return 0;
}
