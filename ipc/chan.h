/*
 * An IPC channel: one end of a SOCK_SEQPACKET socketpair, a bounded outbound
 * queue, and the receive side of the validation pipeline. Event-loop
 * agnostic: the owner polls the fd and calls ipc_flush/ipc_recv.
 */
#ifndef IMGD_IPC_CHAN_H
#define IMGD_IPC_CHAN_H

#include <stdint.h>

#include "ipc/codec.h"
#include "ipc/msg.h"

struct ipc_out;

/* A multi-record request in progress, and whether its RQ_ONCE came. */
struct ipc_open {
	uint64_t id;
	int once;
};

struct ipc_chan {
	int fd;
	int self;  /* PROC_* of this end */
	int peer;  /* PROC_* of the other end */
	int state; /* CH_*: what may pass now (ipc/msg.h) */
	struct ipc_out *head, *tail;
	size_t qlen;   /* records queued */
	size_t qbytes; /* and their bytes */
	int blocking;  /* ipc_recv waits for a record */
	int eof;       /* the peer closed (or sent an empty record) */
	int gone;      /* a send found the peer's end closed (EPIPE) */
	int corked;    /* ipc_send queues only: the owner flushes */
	int lost_fd;   /* the last ipc_recv failed because this process had
			  no descriptor left for the record's fd: the
			  fault is ours, not the peer's (the record is gone,
			  its request step taken: lost_type, lost_id) */
	uint16_t lost_type;
	uint64_t lost_id;
	uint8_t *rbuf, *wbuf;
	size_t rlen, rpos; /* the datagram in rbuf, and what was decoded */
	struct ipc_arena arena;
	struct ipc_open *open; /* requests open (RQ_*), allocated on use */
	size_t nopen;
	char err[256]; /* why the last call failed */
};

struct ipc_msg {
	uint16_t type;
	uint64_t id;
	int fd; /* owned by the receiver, or -1 */
	union imsg_any m;
};

int ipc_chan_init(struct ipc_chan *c, int fd, int self, int peer);
/* Closes the socket and every fd still queued. */
void ipc_chan_close(struct ipc_chan *c);

/*
 * Queues one record and tries to send what is queued. Takes ownership of
 * fd (closed once sent, or on failure). -1 when the message does not
 * encode or the queue is full (c->err says which).
 */
int ipc_send(
    struct ipc_chan *c, uint16_t type, uint64_t id, const void *msg, int fd);
/*
 * Sends what is queued, consecutive records without an fd together in
 * one datagram of at most LIM_IPC_RECORD_MAX bytes. 0: queue empty; 1:
 * records wait for the socket to be writable; -1: the peer is gone.
 */
int ipc_flush(struct ipc_chan *c);
/* corked: ipc_send only queues (for many records in a row, sent in the
 * fewest datagrams by the next ipc_flush). */
void ipc_cork(struct ipc_chan *c, int corked);
int ipc_pending(const struct ipc_chan *c);

/*
 * Receives and validates one record (a datagram may hold several; one
 * with an fd holds one). 1: m is valid (strings valid until the
 * next call); 0: nothing to read; -1: EOF or a bad record (c->err says
 * which; any fd that came with it is closed).
 */
int ipc_recv(struct ipc_chan *c, struct ipc_msg *m);
/* Records of the last datagram not yet taken by ipc_recv: the owner must
 * call it again, the socket will not say so. */
int ipc_buffered(const struct ipc_chan *c);

#endif
