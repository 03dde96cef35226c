/*
 * GET /1.0/images/<fp>/export: the original bytes, from read-only fds the
 * store opened. Unified: one body with Content-Disposition, as LXD sends
 * it. Split: multipart/form-data with parts "metadata" and "rootfs" and a
 * single closing delimiter. Both with a Content-Length, so that clients
 * show progress. Read only as fast as the client takes it.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "ipc/log.h"


struct export
{
	int nparts, got, cur;
	int fd[2];
	uint64_t size[2], left;
	char name[2][LIM_FILENAME_MAX + 1];
	struct mp_writer mw;
	int started;
};

static void
export_free(struct conn *c)
{
	struct export *e = c->export;

	if (e == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (e->fd[i] != -1)
			close(e->fd[i]);
	free(e);
	c->export = NULL;
}

void
export_conn_gone(struct conn *c)
{
	export_free(c);
}

static void
send_headers(struct conn *c)
{
	struct export *e = c->export;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char date[HTTP_DATE_LEN + 1], ct[256];
	uint64_t total;

	http_date(date, time(NULL));
	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nDate: %s\r\n", date);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	if (e->nparts == 1) {
		evbuffer_add_printf(out,
		    "Content-Type: application/octet-"
		    "stream\r\nContent-Disposition: inline;filename=%s\r\n"
		    "Content-Length: %llu\r\n\r\n",
		    e->name[0], (unsigned long long)e->size[0]);
		return;
	}
	struct mp_part_spec parts[2] = {
	    {"metadata", e->name[0], "application/octet-stream", e->size[0]},
	    {"rootfs", e->name[1], "application/octet-stream", e->size[1]},
	};
	mp_writer_content_type(&e->mw, ct, sizeof(ct));
	mp_body_length(e->mw.boundary, parts, 2, &total);
	evbuffer_add_printf(out,
	    "Content-Type: %s\r\nContent-Length: %llu"
	    "\r\n\r\n",
	    ct, (unsigned long long)total);
}

static int
part_header(struct conn *c)
{
	struct export *e = c->export;
	char buf[MP_WRITE_MAX];
	struct mp_part_spec spec = {e->cur == 0 ? "metadata" : "rootfs",
	    e->name[e->cur], "application/octet-stream", e->size[e->cur]};
	ssize_t n = mp_writer_part(&e->mw, &spec, buf, sizeof(buf));

	if (n < 0)
		return -1;
	evbuffer_add(bufferevent_get_output(c->bev), buf, (size_t)n);
	return 0;
}

/* Called when the output buffer drained: add the next chunks. */
void
export_pump(struct conn *c)
{
	struct export *e = c->export;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	static uint8_t buf[LIM_EXPORT_CHUNK];

	if (e == NULL)
		return;
	while (evbuffer_get_length(out) < LIM_EXPORT_QUEUE) {
		if (e->left == 0) {
			char tail[MP_WRITE_MAX];
			ssize_t n;

			if (++e->cur < e->nparts) {
				e->left = e->size[e->cur];
				if (part_header(c) == -1)
					goto fail;
				continue;
			}
			if (e->nparts == 2) {
				if ((n = mp_writer_close(
					 &e->mw, tail, sizeof(tail))) < 0)
					goto fail;
				evbuffer_add(out, tail, (size_t)n);
			}
			export_free(c);
			c->state = CONN_WRITE;
			c->reqid = 0;
			bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
			return;
		}
		size_t want =
		    e->left < sizeof(buf) ? (size_t)e->left : sizeof(buf);
		ssize_t n = read(e->fd[e->cur], buf, want);
		if (n <= 0) {
			log_warnx("export %s: file shorter than announced",
			    e->name[e->cur]);
			goto fail;
		}
		evbuffer_add(out, buf, (size_t)n);
		e->left -= (uint64_t)n;
	}
	return;
fail:
	/* Headers are out: the only honest signal is a cut connection. */
	conn_close(c);
}

void
export_part(struct conn *c, struct imsg_export_part *p, int fd)
{
	struct export *e = c->export;
	int slot = p->part == PART_ROOTFS ? 1 : 0;

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			close(fd);
			conn_error(c, 500, "out of memory");
			return;
		}
		e->fd[0] = e->fd[1] = -1;
		e->nparts = p->nparts;
		c->export = e;
	}
	if (e->fd[slot] != -1 || p->nparts != e->nparts) {
		close(fd);
		export_free(c);
		conn_error(c, 500, "internal error");
		return;
	}
	e->fd[slot] = fd;
	e->size[slot] = p->size;
	snprintf(e->name[slot], sizeof(e->name[slot]), "%s", p->filename);
	if (++e->got < e->nparts)
		return;
	if (e->nparts == 2 && mp_writer_init(&e->mw, NULL) == -1) {
		export_free(c);
		conn_error(c, 500, "internal error");
		return;
	}
	c->state = CONN_EXPORT;
	send_headers(c);
	e->cur = 0;
	e->left = e->size[0];
	if (e->nparts == 2 && part_header(c) == -1) {
		conn_close(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, LIM_EXPORT_QUEUE / 4, 0);
	export_pump(c);
}
