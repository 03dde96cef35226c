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
	char fp[65];
	struct mp_writer mw;
	int started;
	uint64_t lo, hi; /* a unified export's range, inclusive */
	int partial;
	/* Without TLS the bytes go by sendfile(2) from the file itself:
	 * libevent's file segments, which own the fds once made. */
	struct evbuffer_file_segment *seg[2];
	uint64_t pos; /* the current file's next offset */
};

/*
 * Range (RFC 9110 14.2) for a unified image: one range, "bytes=a-b",
 * "bytes=a-" or "bytes=-n"; anything else (several ranges, another unit)
 * is ignored and the whole image sent, as the RFC allows. A split image
 * is a multipart body made here: sent whole.
 */
void
export_prepare(struct conn *c)
{
	const char *r = http_head_get(&c->head, "Range");
	const char *inm = http_head_get(&c->head, "If-None-Match");
	char *end;
	long long a = -1, b = -1;

	c->has_range = 0;
	c->inm[0] = '\0';
	if (inm && strlen(inm) < sizeof(c->inm))
		snprintf(c->inm, sizeof(c->inm), "%s", inm);
	if (r == NULL || strncmp(r, "bytes=", 6) != 0 || strchr(r, ','))
		return;
	r += 6;
	if (*r == '-') {
		if (r[1] < '0' || r[1] > '9')
			return;
		b = strtoll(r + 1, &end, 10);
		if (*end || b <= 0)
			return;
		c->range_lo = -b;
		c->range_hi = -1;
		c->has_range = 1;
		return;
	}
	if (*r < '0' || *r > '9')
		return;
	a = strtoll(r, &end, 10);
	if (*end != '-')
		return;
	r = end + 1;
	if (*r) {
		if (*r < '0' || *r > '9')
			return;
		b = strtoll(r, &end, 10);
		if (*end || b < a)
			return;
	}
	c->range_lo = a;
	c->range_hi = b;
	c->has_range = 1;
}

/* If-None-Match: "*", or a list of entity tags one of which is ours. */
static int
not_modified(const char *inm, const char *fp)
{
	const char *p = inm;

	if (!*inm)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	while ((p = strstr(p, fp)) != NULL) {
		int before =
		    p == inm || p[-1] == '"' || p[-1] == ' ' || p[-1] == ',';
		char after = p[64];

		if (before && (after == '"' || after == '\0' || after == ',' ||
				  after == ' '))
			return 1;
		p += 64;
	}
	return 0;
}

static void
export_free(struct conn *c)
{
	struct export *e = c->export;

	if (e == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		if (e->fd[i] != -1)
			close(e->fd[i]);
		if (e->seg[i])
			evbuffer_file_segment_free(e->seg[i]);
	}
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

	metrics_request(c, e->partial ? 206 : 200);
	http_date(date, time(NULL));
	evbuffer_add_printf(out, "HTTP/1.1 %s\r\nDate: %s\r\nETag: \"%s\"\r\n",
	    e->partial ? "206 Partial Content" : "200 OK", date, e->fp);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	if (e->nparts == 1) {
		evbuffer_add_printf(out,
		    "Content-Type: application/octet-"
		    "stream\r\nContent-Disposition: inline;filename=%s\r\n"
		    "Accept-Ranges: bytes\r\n",
		    e->name[0]);
		if (e->partial)
			evbuffer_add_printf(out,
			    "Content-Range: bytes %llu-%llu/%llu\r\n",
			    (unsigned long long)e->lo,
			    (unsigned long long)e->hi,
			    (unsigned long long)e->size[0]);
		evbuffer_add_printf(out, "Content-Length: %llu\r\n\r\n",
		    (unsigned long long)(e->hi - e->lo + 1) * (e->size[0] > 0));
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

/* want bytes of the current file at pos, as a reference to the file. */
static int
zero_copy(struct export *e, struct evbuffer *out, size_t want)
{
	int i = e->cur;

	if (e->seg[i] == NULL) {
		e->seg[i] = evbuffer_file_segment_new(
		    e->fd[i], 0, (ev_off_t)e->size[i], EVBUF_FS_CLOSE_ON_FREE);
		if (e->seg[i] == NULL) {
			log_warnx("export %s: file segment", e->name[i]);
			return -1;
		}
		e->fd[i] = -1; /* the segment's now */
	}
	if (evbuffer_add_file_segment(
		out, e->seg[i], (ev_off_t)e->pos, (ev_off_t)want) == -1)
		return -1;
	e->left -= want;
	fe_stats.download_bytes += want;
	e->pos += want;
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
				e->pos = 0;
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
		if (!c->tls) {
			if (zero_copy(e, out, want) == -1)
				goto fail;
			continue;
		}
		ssize_t n = pread(e->fd[e->cur], buf, want, (off_t)e->pos);
		if (n <= 0) {
			log_warnx("export %s: file shorter than announced",
			    e->name[e->cur]);
			goto fail;
		}
		evbuffer_add(out, buf, (size_t)n);
		e->left -= (uint64_t)n;
		fe_stats.download_bytes += (uint64_t)n;
		e->pos += (uint64_t)n;
	}
	return;
fail:
	/* Headers are out: the only honest signal is a cut connection. */
	conn_close(c);
}

/* A unified export's bytes: the range asked for, or all; -1 after a 416. */
static int
range_apply(struct conn *c, struct export *e)
{
	uint64_t size = e->size[0];
	char hdr[96];

	e->lo = 0;
	e->hi = size ? size - 1 : 0;
	if (!c->has_range)
		return 0;
	if (c->range_lo < 0) { /* the last n bytes */
		uint64_t n = (uint64_t)-c->range_lo;

		e->lo = n >= size ? 0 : size - n;
	} else {
		if ((uint64_t)c->range_lo >= size) {
			export_free(c);
			snprintf(hdr, sizeof(hdr),
			    "Content-Range: bytes */%llu\r\n",
			    (unsigned long long)size);
			conn_respond_raw(c, 416, hdr, "", 0);
			return -1;
		}
		e->lo = (uint64_t)c->range_lo;
		if (c->range_hi >= 0 && (uint64_t)c->range_hi < size)
			e->hi = (uint64_t)c->range_hi;
	}
	if (size == 0)
		return 0;
	e->pos = e->lo;
	e->partial = 1;
	return 0;
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
	snprintf(e->fp, sizeof(e->fp), "%s", p->fingerprint);
	if (++e->got < e->nparts)
		return;
	if (not_modified(c->inm, e->fp)) {
		char hdr[96];

		export_free(c);
		snprintf(hdr, sizeof(hdr), "ETag: \"%s\"\r\n", p->fingerprint);
		conn_respond_raw(c, 304, hdr, "", 0);
		return;
	}
	if (e->nparts == 1 && range_apply(c, e) == -1)
		return;
	if (e->nparts == 2 && mp_writer_init(&e->mw, NULL) == -1) {
		export_free(c);
		conn_error(c, 500, "internal error");
		return;
	}
	c->state = CONN_EXPORT;
	send_headers(c);
	e->cur = 0;
	e->left = e->nparts == 1 ? e->hi - e->lo + 1 : e->size[0];
	if (e->size[0] == 0)
		e->left = 0;
	if (e->nparts == 2 && part_header(c) == -1) {
		conn_close(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, LIM_EXPORT_QUEUE / 4, 0);
	export_pump(c);
}
