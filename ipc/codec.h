/*
 * Table-driven encoder and validating decoder for IPC records.
 */
#ifndef IMGD_IPC_CODEC_H
#define IMGD_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/msg.h"

struct ipc_hdr {
	uint16_t type;
	uint8_t version;
	uint8_t flags;
	uint32_t len;
	uint64_t id;
};

/* Decoded strings and lists live here until the next decode. */
struct ipc_arena {
	uint8_t *base;
	size_t size;
	size_t used;
};
#define IPC_ARENA_SIZE (8 * LIM_IPC_RECORD_MAX)

/*
 * Encodes the payload struct msg of the given type into buf (header
 * included). Values are validated as the decoder would: a record the peer
 * would reject is never produced. Returns the record length, or -1 with a
 * reason in err.
 */
ssize_t ipc_encode(uint16_t type, uint64_t id, int with_fd, const void *msg,
    uint8_t *buf, size_t bufsz, char *err, size_t errlen);

/*
 * The table's routing columns: d may go from sender to receiver on a
 * channel in that state (CH_*). 0, or -1 with the reason in err.
 */
int ipc_route_check(const struct ipc_msgdef *d, int sender, int receiver,
    int state, char *err, size_t errlen);

/*
 * The validation pipeline for one received record: header, sender,
 * receiver and channel state (ipc_route_check), fd
 * policy (including the fd's file type and access mode), size bounds,
 * every field with its limits and character class, and full consumption.
 * On success fills hdr and msg (strings point into arena) and returns 0.
 * fd is the descriptor that came with the record or -1; it is never closed
 * here.
 */
/* The header alone: version, flags and length checked. 0, or -1 with err. */
int ipc_decode_hdr(const uint8_t *rec, size_t len, struct ipc_hdr *hdr,
    char *err, size_t errlen);
int ipc_decode(int sender, int receiver, int state, const uint8_t *rec,
    size_t len, int fd, struct ipc_hdr *hdr, void *msg, struct ipc_arena *arena,
    char *err, size_t errlen);

/* Character class check, exported for the tests and for input validation
 * in the processes that build records from untrusted data. */
int ipc_str_valid(const char *s, size_t len, int cs);
int utf8_valid(const unsigned char *s, size_t len);
void utf8_sanitize(char *s);

#endif
