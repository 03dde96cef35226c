/*
 * IPC channels over SOCK_SEQPACKET: whole records in each datagram (one,
 * or several without fds up to LIM_IPC_RECORD_MAX in all), at most one fd
 * per datagram (SCM_RIGHTS) and then one record, bounded outbound queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/chan.h"
#include "ipc/log.h"

struct ipc_out {
	struct ipc_out *next;
	int fd;
	size_t len;
	uint8_t data[];
};

int
ipc_chan_init(struct ipc_chan *c, int fd, int self, int peer)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->self = self;
	c->peer = peer;
	c->state = CH_NEW;
	c->rbuf = malloc(LIM_IPC_RECORD_MAX + 1);
	c->wbuf = malloc(LIM_IPC_RECORD_MAX);
	c->arena.base = malloc(IPC_ARENA_SIZE);
	c->arena.size = IPC_ARENA_SIZE;
	if (c->rbuf == NULL || c->wbuf == NULL || c->arena.base == NULL) {
		free(c->rbuf);
		free(c->wbuf);
		free(c->arena.base);
		memset(c, 0, sizeof(*c));
		c->fd = -1;
		return -1;
	}
	return 0;
}

void
ipc_chan_close(struct ipc_chan *c)
{
	struct ipc_out *o, *next;

	for (o = c->head; o != NULL; o = next) {
		next = o->next;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	c->head = c->tail = NULL;
	c->qlen = 0;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	free(c->wbuf);
	free(c->arena.base);
	free(c->open);
	c->rbuf = c->wbuf = NULL;
	c->arena.base = NULL;
	c->open = NULL;
	c->nopen = 0;
}

/*
 * A record's place in its request's sequence (the table's rq column):
 * checked, then (commit) recorded. Both ends run it, so both agree on
 * which requests are open. 0, or -1 with the reason in c->err.
 */
static int
req_step(
    struct ipc_chan *c, const struct ipc_msgdef *d, uint64_t id, int commit)
{
	size_t i;

	if (d->rq == RQ_NONE)
		return 0;
	for (i = 0; i < c->nopen; i++)
		if (c->open[i].id == id)
			break;
	if (d->rq == RQ_OPEN) {
		if (i < c->nopen) {
			snprintf(c->err, sizeof(c->err),
			    "%s: request %llu is open already", d->name,
			    (unsigned long long)id);
			return -1;
		}
		if (c->nopen == LIM_IPC_OPEN_REQS) {
			snprintf(c->err, sizeof(c->err),
			    "%s: %d requests open already", d->name,
			    LIM_IPC_OPEN_REQS);
			return -1;
		}
		if (c->open == NULL && (c->open = calloc(LIM_IPC_OPEN_REQS,
					    sizeof(*c->open))) == NULL) {
			snprintf(c->err, sizeof(c->err), "out of memory");
			return -1;
		}
		if (commit)
			c->open[c->nopen++] = (struct ipc_open){.id = id};
		return 0;
	}
	if (i == c->nopen || (d->rq == RQ_ONCE && c->open[i].once)) {
		snprintf(c->err, sizeof(c->err), "%s: request %llu %s", d->name,
		    (unsigned long long)id,
		    i == c->nopen ? "is not open" : "had one already");
		return -1;
	}
	if (commit && d->rq == RQ_ONCE)
		c->open[i].once = 1;
	else if (commit) /* RQ_CLOSE */
		c->open[i] = c->open[--c->nopen];
	return 0;
}

int
ipc_pending(const struct ipc_chan *c)
{
	return c->head != NULL;
}

int
ipc_send(
    struct ipc_chan *c, uint16_t type, uint64_t id, const void *msg, int fd)
{
	const struct ipc_msgdef *d = ipc_msgdef(type);
	struct ipc_out *o;
	ssize_t n;

	if (d == NULL) {
		snprintf(c->err, sizeof(c->err), "unknown type %u", type);
		goto fail;
	}
	if (ipc_route_check(
		d, c->self, c->peer, c->state, c->err, sizeof(c->err)) == -1 ||
	    req_step(c, d, id, 0) == -1)
		goto fail;
	if (c->qlen >= LIM_IPC_QUEUE_MAX) {
		snprintf(c->err, sizeof(c->err), "queue to the %s is full",
		    ipc_procname(c->peer));
		goto fail;
	}
	n = ipc_encode(type, id, fd != -1, msg, c->wbuf, LIM_IPC_RECORD_MAX,
	    c->err, sizeof(c->err));
	if (n == -1)
		goto fail;
	if (c->qbytes + (size_t)n > LIM_IPC_QUEUE_BYTES) {
		snprintf(c->err, sizeof(c->err),
		    "queue to the %s is full (%zu bytes)",
		    ipc_procname(c->peer), c->qbytes);
		goto fail;
	}
	if ((o = malloc(sizeof(*o) + (size_t)n)) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto fail;
	}
	memcpy(o->data, c->wbuf, (size_t)n);
	o->len = (size_t)n;
	o->fd = fd;
	o->next = NULL;
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->qlen++;
	c->qbytes += (size_t)n;
	if (d->moves_to)
		c->state = d->moves_to;
	req_step(c, d, id, 1);
	if (c->corked)
		return 0;
	return ipc_flush(c) == -1 ? -1 : 0;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

void
ipc_cork(struct ipc_chan *c, int corked)
{
	c->corked = corked;
}

/* Records per datagram: the iovec's bound. */
#define IPC_BATCH_MAX 256

/* The next datagram: the head record, and if it has no fd the records
 * without one that follow it, within LIM_IPC_RECORD_MAX. Returns how many
 * records it holds, or -1 (errno set). */
static int
send_next(int sock, const struct ipc_out *o)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[IPC_BATCH_MAX];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 1};
	struct cmsghdr *cmsg;
	size_t total = o->len;

	iov[0] = (struct iovec){.iov_base = (void *)o->data, .iov_len = o->len};
	if (o->fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
	} else
		for (o = o->next; o != NULL && o->fd == -1 &&
				  mh.msg_iovlen < IPC_BATCH_MAX &&
				  total + o->len <= LIM_IPC_RECORD_MAX;
		     o = o->next) {
			iov[mh.msg_iovlen++] = (struct iovec){
			    .iov_base = (void *)o->data, .iov_len = o->len};
			total += o->len;
		}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) == -1)
		return -1;
	return (int)mh.msg_iovlen;
}

int
ipc_flush(struct ipc_chan *c)
{
	struct ipc_out *o;
	int n;

	while (c->head != NULL) {
		if ((n = send_next(c->fd, c->head)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 1;
			if (errno == EPIPE || errno == ECONNRESET ||
			    errno == ECONNREFUSED)
				c->gone = 1;
			snprintf(c->err, sizeof(c->err), "send to the %s: %s",
			    ipc_procname(c->peer), strerror(errno));
			return -1;
		}
		while (n-- > 0) {
			o = c->head;
			c->head = o->next;
			if (c->head == NULL)
				c->tail = NULL;
			c->qlen--;
			c->qbytes -= o->len;
			if (o->fd != -1)
				close(o->fd);
			free(o);
		}
	}
	return 0;
}

/* Closes every fd carried by the control messages. */
static void
close_fds(struct msghdr *mh)
{
	struct cmsghdr *cmsg;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			close(fd);
		}
	}
}

/* The one fd a record carries, -1 for none, -2 when there is anything
 * else in the control data (more fds, other messages). */
static int
the_fd(struct msghdr *mh)
{
	struct cmsghdr *cmsg;
	int fd = -1, nfds = 0;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
			return -2;
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
		nfds++;
	}
	return nfds > 1 ? -2 : fd;
}

int
ipc_buffered(const struct ipc_chan *c)
{
	return c->rpos < c->rlen;
}

/* The length of the record at p, from its header (it may lie: the
 * decoder checks the rest). */
static size_t
rec_len(const uint8_t *p, size_t avail)
{
	if (avail < IPC_HDR_LEN)
		return avail + 1; /* cut */
	return IPC_HDR_LEN + ((size_t)p[4] | (size_t)p[5] << 8 |
				 (size_t)p[6] << 16 | (size_t)p[7] << 24);
}

/* The next record of the datagram in rbuf, decoded and checked. */
static int
recv_next(struct ipc_chan *c, struct ipc_msg *m, int fd)
{
	struct ipc_hdr hdr;
	size_t len = rec_len(c->rbuf + c->rpos, c->rlen - c->rpos);

	if (len > c->rlen - c->rpos) {
		snprintf(c->err, sizeof(c->err),
		    "a record cut short (%zu "
		    "bytes of %zu left in the datagram)",
		    c->rlen - c->rpos, len);
		c->rpos = c->rlen = 0;
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (ipc_decode(c->peer, c->self, c->state, c->rbuf + c->rpos, len, fd,
		&hdr, &m->m, &c->arena, c->err, sizeof(c->err)) == -1 ||
	    req_step(c, ipc_msgdef(hdr.type), hdr.id, 0) == -1) {
		/* The rest of a datagram with a bad record is not read. */
		c->rpos = c->rlen = 0;
		if (fd != -1)
			close(fd);
		return -1;
	}
	c->rpos += len;
	req_step(c, ipc_msgdef(hdr.type), hdr.id, 1);
	if (ipc_msgdef(hdr.type)->moves_to)
		c->state = ipc_msgdef(hdr.type)->moves_to;
	m->type = hdr.type;
	m->id = hdr.id;
	m->fd = fd;
	return 1;
}

/* Whether this process can open one more descriptor (have: one it has). */
static int
fd_left(int have)
{
	int fd = fcntl(have, F_DUPFD_CLOEXEC, 0);

	if (fd == -1)
		return errno != EMFILE && errno != ENFILE;
	close(fd);
	return 1;
}

/*
 * A record whose fd this process could not take: if it is one whole
 * record of a request that may pass now and carries an fd, its request
 * step is taken as if it had come (so that the request's later records
 * are in sequence) and lost_id/lost_type name it for the owner, who fails
 * that request. 0, or -1: not such a record (a bad one after all).
 */
static int
lost_step(struct ipc_chan *c, size_t n)
{
	const struct ipc_msgdef *d;
	struct ipc_hdr hdr;
	char err[sizeof(c->err)];

	if (ipc_decode_hdr(c->rbuf, n, &hdr, err, sizeof(err)) == -1)
		return -1;
	d = ipc_msgdef(hdr.type);
	if (d == NULL || d->fd == FD_NONE || d->rq == RQ_NONE ||
	    ipc_route_check(d, c->peer, c->self, c->state, err, sizeof(err)) ==
		-1 ||
	    req_step(c, d, hdr.id, 0) == -1)
		return -1;
	req_step(c, d, hdr.id, 1);
	c->lost_type = d->type;
	c->lost_id = hdr.id;
	return 0;
}

int
ipc_recv(struct ipc_chan *c, struct ipc_msg *m)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = {
	    .iov_base = c->rbuf, .iov_len = LIM_IPC_RECORD_MAX + 1};
	struct msghdr mh = {.msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = cm.buf,
	    .msg_controllen = sizeof(cm.buf)};
	ssize_t n;
	int fd;

	c->lost_fd = 0;
	if (c->rpos < c->rlen)
		return recv_next(c, m, -1);
	c->rpos = c->rlen = 0;
	n = recvmsg(
	    c->fd, &mh, MSG_CMSG_CLOEXEC | (c->blocking ? 0 : MSG_DONTWAIT));
	if (n == -1 && errno == ECONNRESET) {
		/* The peer exited with records of ours unread. The kernel
		 * says so before the records the peer sent first (its last
		 * word, a verdict), and only once: read on, to them and then
		 * to the EOF, not a bad record. */
		mh.msg_controllen = sizeof(cm.buf);
		n = recvmsg(c->fd, &mh,
		    MSG_CMSG_CLOEXEC | (c->blocking ? 0 : MSG_DONTWAIT));
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1) {
		snprintf(c->err, sizeof(c->err), "receive from the %s: %s",
		    ipc_procname(c->peer), strerror(errno));
		return -1;
	}
	if (n == 0) {
		c->eof = 1;
		snprintf(c->err, sizeof(c->err), "the %s closed the channel",
		    ipc_procname(c->peer));
		close_fds(&mh);
		return -1;
	}
	/* The control buffer has room for more fds than a peer may send, so
	 * a cut control part with a short record is this process at its
	 * RLIMIT_NOFILE (the kernel could not install the fd), not a peer
	 * sending too much: say so, for the owner to decide. Only the store
	 * asks (its peers are children; a child's seccomp filter has no
	 * F_DUPFD, and a child out of fds is the child's fault). */
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC &&
	    (size_t)n <= LIM_IPC_RECORD_MAX && c->peer != PROC_STORE &&
	    !fd_left(c->fd) && lost_step(c, (size_t)n) == 0) {
		struct rlimit rl;

		c->lost_fd = 1;
		getrlimit(RLIMIT_NOFILE, &rl);
		snprintf(c->err, sizeof(c->err),
		    "out of file descriptors (RLIMIT_NOFILE %llu): the fd of a "
		    "record from the %s was lost",
		    (unsigned long long)rl.rlim_cur, ipc_procname(c->peer));
		close_fds(&mh);
		return -1;
	}
	/* Transport: one whole record, at most one fd, nothing else. */
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) ||
	    (size_t)n > LIM_IPC_RECORD_MAX) {
		snprintf(c->err, sizeof(c->err), "oversized record");
		close_fds(&mh);
		return -1;
	}
	if ((fd = the_fd(&mh)) == -2) {
		snprintf(c->err, sizeof(c->err), "more than one fd");
		close_fds(&mh);
		return -1;
	}
	c->rlen = (size_t)n;
	/* An fd travels with a datagram of one record only. */
	if (fd != -1 && rec_len(c->rbuf, c->rlen) != c->rlen) {
		snprintf(
		    c->err, sizeof(c->err), "an fd with more than one record");
		close(fd);
		c->rlen = 0;
		return -1;
	}
	return recv_next(c, m, fd);
}
