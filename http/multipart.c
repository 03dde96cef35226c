/*
 * Streaming multipart/form-data parser (RFC 2046 5.1, RFC 7578).
 *
 * The body of a part ends at the delimiter CRLF "--" boundary. Data is
 * reported as soon as it cannot be the start of a delimiter; bytes that
 * could be are held back. A held-back tail always equals a prefix of the
 * delimiter (a match can only start at CR, and CR occurs in the delimiter
 * only at its start), so only its length is kept, and if the next input
 * shows it was data it is reported as a span of p->delim.
 */
#include <stddef.h>
#include <string.h>

#include "http/http.h"
#include "http/http_priv.h"

enum {
	MPS_PREAMBLE,	 /* before the first delimiter: dropped */
	MPS_AFTER_DELIM, /* "--" (close), padding or CRLF */
	MPS_CLOSE_DASH,	 /* second '-' of a close delimiter */
	MPS_PADDING,	 /* transport padding before CRLF */
	MPS_DELIM_LF,
	MPS_HEADERS, /* a part's header block, copied to hbuf */
	MPS_BODY,
	MPS_EPILOGUE, /* after the close delimiter: dropped */
	MPS_ERROR,
};

enum scan { SCAN_DATA, SCAN_FOUND, SCAN_MORE };

static enum mp_event
mp_fail(struct mp_parser *p, int status, const char *reason)
{
	p->state = MPS_ERROR;
	p->err.status = status;
	p->err.reason = reason;
	return MP_ERROR;
}

int
mp_init(struct mp_parser *p, const char *boundary, int max_parts)
{
	size_t n;

	if (!mp_boundary_valid(boundary) || max_parts < 1)
		return -1;
	memset(p, 0, offsetof(struct mp_parser, hbuf));
	n = strlen(boundary);
	memcpy(p->delim, "\r\n--", 4);
	memcpy(p->delim + 4, boundary, n + 1);
	p->dlen = 4 + n;
	p->max_parts = max_parts;
	p->state = MPS_PREAMBLE;
	/*
	 * The first delimiter may open the body without a CRLF before it:
	 * start as if that CRLF had been matched already.
	 */
	p->held = 2;
	return 0;
}

int
mp_finish(struct mp_parser *p)
{
	if (p->state == MPS_EPILOGUE)
		return 0;
	if (p->state != MPS_ERROR)
		mp_fail(
		    p, 400, "multipart body ends before its close delimiter");
	return -1;
}

/* How many bytes of s[0..n) match d[0..dn), stopping at the first miss. */
static size_t
mp_match(const char *d, size_t dn, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < dn && i < n; i++)
		if ((uint8_t)d[i] != s[i])
			break;
	return i;
}

/* Continue a match of p->held delimiter bytes into s[0..n), n > 0. */
static enum scan
mp_scan_held(struct mp_parser *p, const uint8_t *s, size_t n, size_t *used,
    const uint8_t **d, size_t *dl)
{
	size_t m;

	m = mp_match(p->delim + p->held, p->dlen - p->held, s, n);
	if (p->held + m == p->dlen) {
		p->held = 0;
		*used = m;
		return SCAN_FOUND;
	}
	if (m == n) {
		p->held += m;
		*used = n;
		return SCAN_MORE;
	}
	/* Not a delimiter: the held bytes were data, s is scanned anew. */
	*d = (const uint8_t *)p->delim;
	*dl = p->held;
	p->held = 0;
	*used = 0;
	return SCAN_DATA;
}

/*
 * Look for the delimiter in s[0..n), n > 0. SCAN_DATA: *used bytes were
 * consumed and *d, *dl is data (possibly held-back bytes, *used 0).
 * SCAN_FOUND: the delimiter ends after *used bytes. SCAN_MORE: all was
 * consumed and nothing can be reported yet.
 */
static enum scan
mp_scan(struct mp_parser *p, const uint8_t *s, size_t n, size_t *used,
    const uint8_t **d, size_t *dl)
{
	const uint8_t *cr;
	size_t pos = 0, m = 0;

	if (p->held > 0)
		return mp_scan_held(p, s, n, used, d, dl);
	while ((cr = memchr(s + pos, '\r', n - pos)) != NULL) {
		pos = (size_t)(cr - s);
		m = mp_match(p->delim, p->dlen, cr, n - pos);
		if (m == p->dlen || pos + m == n)
			break;
		if (++pos == n) {
			cr = NULL;
			break;
		}
	}
	*d = s;
	if (cr == NULL) {
		*dl = *used = n;
		return SCAN_DATA;
	}
	if (m == p->dlen && pos == 0) {
		*used = m;
		return SCAN_FOUND;
	}
	*dl = *used = pos;
	if (m < p->dlen) {
		/* A possible delimiter runs to the end: hold it back. */
		p->held = m;
		*used = n;
	}
	return pos > 0 ? SCAN_DATA : SCAN_MORE;
}

/* A part's header block, one byte at a time, ended by an empty line. */
static enum mp_event
mp_header_byte(struct mp_parser *p, uint8_t b)
{
	const char *why;
	char prev;

	if (++p->count > LIM_MP_HEADERS_MAX)
		return mp_fail(p, 413, "multipart part header too large");
	prev = p->hlen > p->lstart ? p->hbuf[p->hlen - 1] : '\0';
	if (prev == '\r' && b != '\n')
		return mp_fail(p, 400, "bare CR in multipart part header");
	if (b == '\n' && prev != '\r')
		return mp_fail(p, 400, "bare LF in multipart part header");
	p->hbuf[p->hlen++] = (char)b;
	if (b != '\n')
		return MP_NEED_MORE;
	if (p->hlen - p->lstart > 2) {
		if (++p->nfields > LIM_MP_HEADER_FIELDS)
			return mp_fail(p, 400,
			    "too many fields in a multipart part header");
		p->lstart = p->hlen;
		return MP_NEED_MORE;
	}
	if (mp_part_head(&p->part, p->hbuf, p->lstart, &why) == -1)
		return mp_fail(p, 400, why);
	p->state = MPS_BODY;
	return MP_PART_BEGIN;
}

/* Start the header block of a new part. */
static enum mp_event
mp_part_start(struct mp_parser *p)
{
	if (p->nparts == p->max_parts)
		return mp_fail(p, 400, "too many parts in multipart body");
	memset(&p->part, 0, sizeof(p->part));
	p->part.index = p->nparts++;
	p->hlen = p->lstart = 0;
	p->nfields = 0;
	p->state = MPS_HEADERS;
	return MP_NEED_MORE;
}

/* What follows a delimiter: "--", or transport padding and CRLF. */
static enum mp_event
mp_delim_byte(struct mp_parser *p, uint8_t b)
{
	if (p->state != MPS_DELIM_LF && ++p->count > LIM_MP_HEADERS_MAX)
		return mp_fail(p, 413, "multipart transport padding too long");
	switch (p->state) {
	case MPS_AFTER_DELIM:
	case MPS_PADDING:
		if (b == '-' && p->state == MPS_AFTER_DELIM)
			p->state = MPS_CLOSE_DASH;
		else if (http_is_ows(b))
			p->state = MPS_PADDING;
		else if (b == '\r')
			p->state = MPS_DELIM_LF;
		else
			return mp_fail(p, 400,
			    "multipart delimiter followed by other bytes");
		return MP_NEED_MORE;
	case MPS_CLOSE_DASH:
		if (b != '-')
			return mp_fail(p, 400,
			    "multipart delimiter followed by other bytes");
		p->state = MPS_EPILOGUE;
		p->count = 0;
		return MP_DONE;
	default: /* MPS_DELIM_LF */
		if (b != '\n')
			return mp_fail(
			    p, 400, "multipart delimiter not ended by CRLF");
		return mp_part_start(p);
	}
}

/* Preamble: dropped, bounded by stream position so splits agree. */
static void
mp_preamble(struct mp_parser *p, const uint8_t *s, size_t n, size_t *used)
{
	const uint8_t *d;
	size_t dl;

	if (mp_scan(p, s, n, used, &d, &dl) == SCAN_FOUND) {
		p->state = MPS_AFTER_DELIM;
		/* The delimiter itself is allowed on top of the limit. */
		if (p->count + *used > LIM_MP_PREAMBLE_MAX + p->dlen)
			mp_fail(p, 413, "multipart preamble too long");
		p->count = 0;
	} else if ((p->count += *used) > LIM_MP_PREAMBLE_MAX + p->dlen)
		mp_fail(p, 413, "multipart preamble too long");
}

static enum mp_event
mp_step(struct mp_parser *p, const uint8_t *s, size_t n, size_t *used,
    const uint8_t **data, size_t *datalen)
{
	enum scan r;

	*used = 1;
	switch (p->state) {
	case MPS_PREAMBLE:
		mp_preamble(p, s, n, used);
		return p->state == MPS_ERROR ? MP_ERROR : MP_NEED_MORE;
	case MPS_BODY:
		r = mp_scan(p, s, n, used, data, datalen);
		if (r == SCAN_FOUND) {
			p->state = MPS_AFTER_DELIM;
			p->count = 0;
			return MP_PART_END;
		}
		return r == SCAN_DATA ? MP_DATA : MP_NEED_MORE;
	case MPS_HEADERS:
		return mp_header_byte(p, s[0]);
	case MPS_EPILOGUE:
		*used = n;
		if ((p->count += n) > LIM_MP_PREAMBLE_MAX)
			return mp_fail(p, 413, "multipart epilogue too long");
		return MP_NEED_MORE;
	default:
		return mp_delim_byte(p, s[0]);
	}
}

enum mp_event
mp_parse(struct mp_parser *p, const void *in, size_t len, size_t *used,
    const uint8_t **data, size_t *datalen)
{
	const uint8_t *s = in;
	enum mp_event ev;
	size_t i = 0, n;

	*data = NULL;
	*datalen = 0;
	while (i < len && p->state != MPS_ERROR) {
		ev = mp_step(p, s + i, len - i, &n, data, datalen);
		if (ev == MP_ERROR)
			break;
		i += n;
		if (ev != MP_NEED_MORE) {
			*used = i;
			return ev;
		}
	}
	*used = i;
	return p->state == MPS_ERROR ? MP_ERROR : MP_NEED_MORE;
}
