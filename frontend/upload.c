/*
 * Streaming image uploads (POST /1.0/images with a raw or multipart body).
 * The body is never held: it is framed (Content-Length or chunked), split
 * into parts when multipart, and written into a pipe per part whose read
 * end the store got with UPLOAD_BEGIN / UPLOAD_PART. When a pipe is full,
 * reading from the client stops until the store drains it, so memory stays
 * at the socket and pipe buffers whatever the image size.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "policy/names.h"
#include "ipc/codec.h"
#include "ipc/log.h"

/*
 * Where one part's bytes go: a pipe to the store, and what it could not
 * take yet. A split upload has two; the metadata sink may still be
 * draining when the rootfs part begins (the store reads the pipes in
 * order), and is closed once it has drained.
 */
struct sink {
	int fd; /* write end, or -1 */
	struct evbuffer *pending;
	struct event *ev; /* writable again */
	int finished;	  /* no more data: close once drained */
	uint64_t bytes;	  /* passed to the store */
};

struct upload {
	int split;
	struct sink sink[2];
	int cur; /* the sink that takes new data */
	struct event *ev_rate;
	uint64_t seen; /* raw bytes from the client */
	uint64_t seen_at_check;
	int blocked; /* waiting on the store, not the client */
	int done;
	struct mp_parser mp;
};

static void pipe_cb(evutil_socket_t fd, short ev, void *arg);

static int
sink_open(struct conn *c, int i, int *rd)
{
	struct sink *k = &c->upload->sink[i];
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("upload: pipe");
		return -1;
	}
	/* Bigger pipe, fewer wakeups; the default is fine if refused. */
	(void)fcntl(p[1], F_SETPIPE_SZ, LIM_UPLOAD_PIPE);
	k->fd = p[1];
	k->ev = event_new(fe_base, p[1], EV_WRITE, pipe_cb, c);
	*rd = p[0];
	return 0;
}

static void
sink_close(struct sink *k)
{
	if (k->ev)
		event_free(k->ev);
	k->ev = NULL;
	if (k->fd != -1)
		close(k->fd);
	k->fd = -1;
}

/* Writes what it can now; the rest waits in pending. 0, or -1 if the
 * store closed the pipe (it refused the upload and will say why). */
static int
sink_write(struct sink *k, const uint8_t *p, size_t len)
{
	fe_stats.upload_bytes += len;
	while (len > 0 && evbuffer_get_length(k->pending) == 0) {
		ssize_t n = write(k->fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
		k->bytes += (uint64_t)n;
	}
	if (len > 0)
		evbuffer_add(k->pending, p, len);
	return 0;
}

/* 0: drained (and closed if finished); 1: the pipe is full; -1: gone. */
static int
sink_flush(struct sink *k)
{
	while (k->fd != -1 && evbuffer_get_length(k->pending) > 0) {
		struct evbuffer_iovec v;
		ssize_t n;

		evbuffer_peek(k->pending, -1, NULL, &v, 1);
		n = write(k->fd, v.iov_base, v.iov_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n == -1)
			return -1;
		evbuffer_drain(k->pending, (size_t)n);
		k->bytes += (uint64_t)n;
	}
	if (k->finished)
		sink_close(k);
	return 0;
}

/* Flushes the sinks in order; *blocked is the first that is full. */
static int
flush_all(struct upload *u, struct sink **blocked)
{
	for (int i = 0; i < 2; i++) {
		int rc = sink_flush(&u->sink[i]);

		if (rc != 0) {
			*blocked = &u->sink[i];
			return rc;
		}
	}
	return 0;
}

static void
upload_free(struct conn *c)
{
	struct upload *u = c->upload;

	if (u == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		sink_close(&u->sink[i]);
		evbuffer_free(u->sink[i].pending);
	}
	if (u->ev_rate)
		event_free(u->ev_rate);
	free(u);
	c->upload = NULL;
}

static void
send_end(struct conn *c, int status, const char *reason)
{
	struct upload *u = c->upload;
	struct imsg_upload_end e = {.status = (uint8_t)status,
	    .bytes = u->sink[0].bytes + u->sink[1].bytes,
	    .part0_bytes = u->sink[0].bytes,
	    .reason = (char *)reason};

	u->done = 1;
	sink_close(&u->sink[0]);
	sink_close(&u->sink[1]);
	store_send_id(IMSG_UPLOAD_END, c->reqid, &e, -1);
}

/* The upload fails here (bad input): the store forgets it, the client is
 * told why. */
static void
upload_abort(struct conn *c, int status, const char *msg)
{
	if (c->upload && !c->upload->done && c->reqid)
		send_end(c, UPLOAD_ABORTED, msg);
	else if (c->upload && !c->upload->done) {
		/* Refused before the store heard of it: for its audit log. */
		struct imsg_upload_refused r = {.project = c->project,
		    .peer = c->peer,
		    .reason = (char *)msg};
		uint64_t id;

		store_send(IMSG_UPLOAD_REFUSED, &r, -1, &id);
	}
	upload_free(c);
	c->reqid = 0;
	conn_error(c, status, "%s", msg);
}

static void
rate_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;
	struct upload *u = c->upload;
	struct timeval tv = {LIM_HTTP_SLOW_SECONDS, 0};

	(void)fd;
	(void)ev;
	if (u == NULL || u->done)
		return;
	/* Only the client's own slowness counts, not the store's. */
	if (!u->blocked &&
	    u->seen - u->seen_at_check <
		(uint64_t)LIM_HTTP_MIN_RATE * LIM_HTTP_SLOW_SECONDS) {
		upload_abort(c, 408, "Upload too slow: dropped");
		return;
	}
	u->seen_at_check = u->seen;
	event_add(u->ev_rate, &tv);
}

static int
part_begin(struct conn *c)
{
	struct upload *u = c->upload;
	struct mp_part *p = &u->mp.part;
	struct imsg_upload_part msg = {.part = PART_ROOTFS, .filename = ""};
	int rd;

	if (p->index == 0) {
		if (strcmp(p->name, "metadata") != 0) {
			upload_abort(c, 400,
			    "Invalid multipart image: "
			    "the first part must be \"metadata\"");
			return -1;
		}
		return 0;
	}
	if (strcmp(p->name, "rootfs.img") == 0) {
		upload_abort(c, 400,
		    "Virtual-machine images are not "
		    "supported");
		return -1;
	}
	if (strcmp(p->name, "rootfs") != 0) {
		upload_abort(c, 400,
		    "Invalid multipart image: the "
		    "second part must be \"rootfs\"");
		return -1;
	}
	if (strlen(p->filename) <= LIM_FILENAME_MAX &&
	    ipc_str_valid(p->filename, strlen(p->filename), CS_LINE))
		msg.filename = p->filename;
	/* The metadata pipe closes once what it still holds is out. */
	u->sink[0].finished = 1;
	if (sink_open(c, 1, &rd) == -1) {
		upload_abort(c, 500, "cannot open a pipe");
		return -1;
	}
	u->cur = 1;
	if (store_send_id(IMSG_UPLOAD_PART, c->reqid, &msg, rd) == -1) {
		upload_abort(c, 503, "imgd is busy, try again");
		return -1;
	}
	return 0;
}

/* Body bytes, after the transfer coding: into the pipe, or through the
 * multipart parser first. 1: paused (pipe full), -1: failed. */
static int
body_data(struct conn *c, const uint8_t *p, size_t len)
{
	struct upload *u = c->upload;

	while (u->split) {
		const uint8_t *data;
		size_t used = 0, dlen = 0;
		enum mp_event ev =
		    mp_parse(&u->mp, p, len, &used, &data, &dlen);

		p += used;
		len -= used;
		switch (ev) {
		case MP_NEED_MORE:
			return 0;
		case MP_PART_BEGIN:
			if (part_begin(c) == -1)
				return -1;
			break;
		case MP_DATA:
			if (sink_write(&u->sink[u->cur], data, dlen) == -1)
				return -1;
			break;
		case MP_PART_END:
		case MP_DONE:
			break;
		case MP_ERROR:
			char msg[256];

			snprintf(msg, sizeof(msg), "Invalid multipart body: %s",
			    u->mp.err.reason);
			upload_abort(c, u->mp.err.status, msg);
			return -1;
		}
	}
	return sink_write(&u->sink[u->cur], p, len);
}

static void
body_complete(struct conn *c)
{
	struct upload *u = c->upload;

	if (u->split && (mp_finish(&u->mp) == -1 || u->mp.nparts != 2)) {
		upload_abort(c, 400,
		    "Invalid multipart image: it needs "
		    "a \"metadata\" and a \"rootfs\" part");
		return;
	}
	send_end(c, UPLOAD_COMPLETE, "");
	c->body_done = 1;
	/* Now the store decides: an operation, or an error. */
	c->state = CONN_STORE;
	bufferevent_disable(c->bev, EV_READ);
}

/*
 * Plain sockets: body bytes straight from the socket when libevent's
 * input buffer is empty, not through its reads of at most 4 KiB. An
 * image's own bytes (a unified body, by Content-Length or inside a chunk)
 * are spliced into the part's pipe, never copied through this process;
 * framing (chunk lines, multipart) is read into the input buffer in
 * pieces of LIM_UPLOAD_CHUNK. 1: bytes came, go on; 0: nothing now (the
 * wait is set up); -1: the store closed the pipe; -2: the client is gone
 * (the connection is closed here).
 */
static int
direct_input(struct conn *c, struct evbuffer *in)
{
	struct upload *u = c->upload;
	struct sink *k = &u->sink[u->cur];
	int fd = bufferevent_getfd(c->bev), avail = 0;
	uint64_t raw = 0;
	ssize_t n;

	if (!u->split)
		raw = c->chunked ? http_chunked_data_left(&c->ch)
				 : (uint64_t)c->body_left;
	if (raw > 0) {
		n = splice(fd, NULL, k->fd, NULL,
		    raw < LIM_UPLOAD_PIPE ? (size_t)raw : LIM_UPLOAD_PIPE,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0) {
			if (c->chunked)
				http_chunked_took(&c->ch, (uint64_t)n);
			else
				c->body_left -= n;
			u->seen += (uint64_t)n;
			k->bytes += (uint64_t)n;
			fe_stats.upload_bytes += (uint64_t)n;
			return 1;
		}
		if (n == -1 && errno == EPIPE)
			return -1;
	} else {
		struct evbuffer_iovec v[2];
		int nv;

		/* The bufferevent keeps its input's end frozen but while it
		 * reads; so do we. */
		evbuffer_unfreeze(in, 0);
		if ((nv = evbuffer_reserve_space(in, LIM_UPLOAD_CHUNK, v, 2)) <
		    1) {
			evbuffer_freeze(in, 0);
			return 0; /* out of memory: libevent's own reads */
		}
		do
			n = readv(fd, (struct iovec *)v, nv);
		while (n == -1 && errno == EINTR);
		if (n > 0) {
			size_t left = (size_t)n;

			for (int i = 0; i < nv; i++) {
				v[i].iov_len =
				    left < v[i].iov_len ? left : v[i].iov_len;
				left -= v[i].iov_len;
			}
		}
		evbuffer_commit_space(in, v, n > 0 ? nv : 0);
		evbuffer_freeze(in, 0);
		if (n > 0)
			return 1;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		log_debug("%s: upload: %s", c->addr,
		    n == 0 ? "the client closed the connection"
			   : strerror(errno));
		conn_close(c);
		return -2;
	}
	/* Nothing to read, or nowhere to put it: a splice cannot say
	 * which, the socket can. */
	if (raw > 0 && ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		u->blocked = 1;
		bufferevent_disable(c->bev, EV_READ);
		event_add(k->ev, NULL);
		return 0;
	}
	bufferevent_enable(c->bev, EV_READ);
	return 0;
}

void
upload_input(struct conn *c)
{
	struct upload *u = c->upload;
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (u == NULL || u->done || c->state != CONN_UPLOAD)
		return;
	for (;;) {
		struct evbuffer_iovec v;
		struct sink *blocked = NULL;
		const uint8_t *data = NULL;
		size_t dlen = 0, used;
		int rc = flush_all(u, &blocked);

		if (rc == -1)
			goto store_gone;
		if (rc == 1) {
			/* The store is behind: stop reading the client. */
			u->blocked = 1;
			bufferevent_disable(c->bev, EV_READ);
			event_add(blocked->ev, NULL);
			return;
		}
		u->blocked = 0;
		bufferevent_enable(c->bev, EV_READ);
		if (c->chunked ? http_chunked_done(&c->ch) : c->body_left == 0)
			break;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0) {
			if (c->tls)
				return;
			rc = direct_input(c, in);
			if (rc == 1)
				continue;
			if (rc == -1)
				goto store_gone;
			return;
		}
		if (c->chunked) {
			ssize_t n = http_chunked_decode(
			    &c->ch, v.iov_base, v.iov_len, &data, &dlen);
			if (n < 0) {
				upload_abort(
				    c, c->ch.err.status, c->ch.err.reason);
				return;
			}
			used = (size_t)n;
		} else {
			used = v.iov_len < (uint64_t)c->body_left
				   ? v.iov_len
				   : (size_t)c->body_left;
			data = v.iov_base;
			dlen = used;
			c->body_left -= (int64_t)used;
		}
		u->seen += used;
		rc = dlen ? body_data(c, data, dlen) : 0;
		if (c->upload == NULL)
			return; /* refused above */
		evbuffer_drain(in, used);
		if (rc == -1)
			goto store_gone;
	}
	body_complete(c);
	return;
store_gone:
	/* The store closed the pipe: its IMSG_ERR explains, or will. The
	 * rest of the body is unread: this connection cannot go on. */
	c->state = CONN_STORE;
	conn_discard_body(c);
}

void
upload_stop(struct conn *c)
{
	struct upload *u = c->upload;

	if (u == NULL)
		return;
	sink_close(&u->sink[0]);
	sink_close(&u->sink[1]);
	u->done = 1; /* no end record, no slowness check: the store said */
}

static void
pipe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->state == CONN_UPLOAD)
		upload_input(c);
}

int
upload_start(struct conn *c)
{
	char msg[300];
	struct imsg_upload_begin b = {.project = c->project, .peer = c->peer};
	const char *ct = http_head_get(&c->head, "Content-Type");
	char boundary[MP_BOUNDARY_MAX + 1];
	struct timeval tv = {LIM_HTTP_SLOW_SECONDS, 0};
	struct http_error err;
	struct upload *u;
	int rd;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		conn_error(c, 500, "out of memory");
		return -1;
	}
	c->upload = u;
	for (int i = 0; i < 2; i++) {
		u->sink[i].fd = -1;
		u->sink[i].pending = evbuffer_new();
	}
	if (!c->chunked && c->head.content_length < 0) {
		upload_abort(c, 411,
		    "An image upload needs a "
		    "Content-Length or a chunked body");
		return -1;
	}
	if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
		if (mp_boundary_parse(ct, boundary, &err) == -1 ||
		    mp_init(&u->mp, boundary, 2) == -1) {
			snprintf(msg, sizeof(msg), "Invalid multipart body: %s",
			    err.reason);
			upload_abort(c, 400, msg);
			return -1;
		}
		u->split = 1;
	}
	b.layout = u->split ? IMG_SPLIT : IMG_UNIFIED;
	/* The store refuses at once a body its disk cannot hold. */
	b.length = c->chunked || c->head.content_length < 0
		       ? 0
		       : (uint64_t)c->head.content_length;
	if (upload_headers(c, &b, msg, sizeof(msg)) == -1) {
		upload_abort(c, 400, msg);
		return -1;
	}
	if (sink_open(c, 0, &rd) == -1) {
		upload_abort(c, 500, "cannot open a pipe");
		return -1;
	}
	c->want = WANT_OP;
	if (store_send(IMSG_UPLOAD_BEGIN, &b, rd, &c->reqid) == -1) {
		upload_abort(c, 503, "imgd is busy, try again");
		return -1;
	}
	u->ev_rate = evtimer_new(fe_base, rate_cb, c);
	event_add(u->ev_rate, &tv);
	/* Bulk bytes: reads as large as a pipe write, not libevent's 16 KiB
	 * (16 times fewer reads, writes and wakeups of the store). */
	bufferevent_set_max_single_read(c->bev, LIM_UPLOAD_CHUNK);
	return 0;
}

void
upload_conn_gone(struct conn *c)
{
	struct upload *u = c->upload;

	if (u && !u->done && c->reqid)
		send_end(c, UPLOAD_ABORTED, "client disconnected");
	upload_free(c);
}
