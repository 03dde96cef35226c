/*
 * libFuzzer target for the IPC validation pipeline. Input: one byte that
 * picks the sending process, then a record as it would arrive.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ipc/codec.h"

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
	int state = data[0] & 0x20 ? CH_NEW : data[0] & 0x40 ? CH_FINAL
							     : CH_READY;
	(void)ipc_decode(sender, receiver, state, data + 1, size - 1, -1, &h,
	    &m, &arena, err, sizeof(err));
	return 0;
}
