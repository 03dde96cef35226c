/*
 * HTTP/1.x message heads (RFC 9112 2-6), parsed strictly and incrementally
 * into a fixed-size struct with its own copy of every string.
 */
#include <stdint.h>
#include <string.h>

#include "http/http.h"
#include "http/http_priv.h"

struct http_limits http_limits = {
    LIM_HTTP_LINE_MAX, LIM_HTTP_HEADERS_TOTAL, LIM_HTTP_HEADER_FIELDS};

/* Offsets into http_head.buf are 16-bit to keep the field table small. */
_Static_assert(HTTP_HEAD_BUF <= UINT16_MAX, "http_head.buf too large");

enum { HEAD_START, HEAD_FIELDS, HEAD_DONE, HEAD_ERROR };

static int
head_fail(struct http_head *h, int status, const char *reason)
{
	h->stage = HEAD_ERROR;
	h->err.status = status;
	h->err.reason = reason;
	return -1;
}

void
http_head_init(struct http_head *h)
{
	h->version = 0;
	h->status = 0;
	h->content_length = -1;
	h->chunked = 0;
	h->keep_alive = 0;
	h->websocket = HTTP_WS_NONE;
	h->err.status = 0;
	h->err.reason = NULL;
	h->stage = HEAD_START;
	h->scan = h->lf_from = h->hstart = 0;
	h->method = h->target = h->reason = 0;
	h->nfields = 0;
	/* Offset 0 is the empty string, for absent method/target/reason. */
	h->buf[0] = '\0';
	h->used = 1;
}

/* Copy s[0..n) into buf as a string; returns its offset or -1. */
static int
head_store(struct http_head *h, const char *s, size_t n)
{
	size_t off = h->used;

	/* Cannot happen: the line limits bound what is stored. */
	if (n + 1 > sizeof(h->buf) - off)
		return -1;
	memcpy(h->buf + off, s, n);
	h->buf[off + n] = '\0';
	h->used = off + n + 1;
	return (int)off;
}

/*
 * Find the LF of the line that starts at h->scan. The line may hold max
 * bytes before its CRLF and must end before limit. Returns 1 with *lf set,
 * 0 if more input is needed, -1 if it cannot end in time (*toolong: 1 for
 * the line limit, 0 for limit). Only bytes inside that window decide, so
 * every prefix of an input gives 0 or the answer of the whole input.
 */
static int
head_line(struct http_head *h, const char *buf, size_t len, size_t max,
    size_t limit, size_t *lf, int *toolong)
{
	size_t start = h->scan, end, avail;
	const char *p;

	end = start + max + 2;
	if (end > limit)
		end = limit;
	avail = len < end ? len : end;
	if (h->lf_from < start)
		h->lf_from = start;
	p = NULL;
	if (avail > h->lf_from)
		p = memchr(buf + h->lf_from, '\n', avail - h->lf_from);
	if (p != NULL) {
		*lf = (size_t)(p - buf);
		return 1;
	}
	if (avail > h->lf_from)
		h->lf_from = avail;
	if (avail < end)
		return 0;
	*toolong = end == start + max + 2;
	return -1;
}

/* "HTTP/1.0" or "HTTP/1.1"; 505 for another well-formed version. */
static int
head_version(struct http_head *h, const char *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !http_is_digit(v[5]) ||
	    v[6] != '.' || !http_is_digit(v[7]))
		return head_fail(h, 400, "invalid HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return head_fail(h, 505, "HTTP version not supported");
	h->version = v[7] == '0' ? 10 : 11;
	return 0;
}

/* Origin-form (RFC 9112 3.2.1): absolute-path [ "?" query ]. */
static int
head_target(struct http_head *h, const char *t, size_t n)
{
	size_t i;
	unsigned char c;

	if (n == 0 || t[0] != '/')
		return head_fail(h, 400, "request target must start with /");
	for (i = 0; i < n; i++) {
		c = (unsigned char)t[i];
		if (c == '%') {
			if (n - i < 3 || http_hexval(t[i + 1]) < 0 ||
			    http_hexval(t[i + 2]) < 0)
				return head_fail(h, 400,
				    "bad percent-encoding in request target");
			i += 2;
			continue;
		}
		if (http_is_alpha(c) || http_is_digit(c) ||
		    http_in_set(c, "-._~!$&'()*+,;=:@/?"))
			continue;
		return head_fail(h, 400, "invalid character in request target");
	}
	return 0;
}

static int
head_request_line(struct http_head *h, const char *s, size_t n)
{
	size_t m, t, e;
	int off;

	for (m = 0; m < n && http_is_tchar(s[m]); m++)
		;
	if (m == 0 || m == n || s[m] != ' ')
		return head_fail(h, 400, "invalid method");
	t = m + 1;
	for (e = t; e < n && s[e] != ' '; e++)
		;
	if (head_target(h, s + t, e - t) == -1)
		return -1;
	if (e == n)
		return head_fail(h, 400, "request line has no HTTP version");
	if (head_version(h, s + e + 1, n - e - 1) == -1)
		return -1;
	if ((off = head_store(h, s, m)) == -1)
		return head_fail(h, 414, "request line too long");
	h->method = off;
	if ((off = head_store(h, s + t, e - t)) == -1)
		return head_fail(h, 414, "request line too long");
	h->target = off;
	return 0;
}

/* HTTP-version SP 3DIGIT [ SP reason ]: a missing reason is tolerated. */
static int
head_status_line(struct http_head *h, const char *s, size_t n)
{
	size_t i;
	int off;

	if (head_version(h, s, n < 8 ? n : 8) == -1)
		return -1;
	if (n < 12 || s[8] != ' ' || s[9] < '1' || s[9] > '5' ||
	    !http_is_digit(s[10]) || !http_is_digit(s[11]) ||
	    (n > 12 && s[12] != ' '))
		return head_fail(h, 400, "invalid status line");
	h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	for (i = 13; i < n; i++)
		if (!http_is_field_char(s[i]))
			return head_fail(h, 400, "invalid reason phrase");
	if (n > 13) {
		if ((off = head_store(h, s + 13, n - 13)) == -1)
			return head_fail(h, 400, "status line too long");
		h->reason = off;
	}
	return 0;
}

int
http_field_split(const char *s, size_t n, size_t *namelen, const char **value,
    size_t *valuelen, const char **why)
{
	size_t i, v, e;

	if (n > 0 && http_is_ows(s[0])) {
		*why = "obsolete line folding in header";
		return -1;
	}
	for (i = 0; i < n && http_is_tchar(s[i]); i++)
		;
	if (i == n || s[i] != ':' || i == 0) {
		if (i < n && http_is_ows(s[i]))
			*why = "whitespace before colon in header field";
		else
			*why = "invalid header field name";
		return -1;
	}
	for (v = i + 1; v < n; v++)
		if (!http_is_field_char(s[v])) {
			*why = "invalid character in header field value";
			return -1;
		}
	for (v = i + 1; v < n && http_is_ows(s[v]); v++)
		;
	for (e = n; e > v && http_is_ows(s[e - 1]); e--)
		;
	*namelen = i;
	*value = s + v;
	*valuelen = e - v;
	return 0;
}

static int
head_field(struct http_head *h, const char *s, size_t n)
{
	const char *why, *v;
	size_t nl, vl;
	int name, value;

	if (http_field_split(s, n, &nl, &v, &vl, &why) == -1)
		return head_fail(h, 400, why);
	if (h->nfields >= http_limits.fields)
		return head_fail(h, 431, "too many header fields");
	if ((name = head_store(h, s, nl)) == -1 ||
	    (value = head_store(h, v, vl)) == -1)
		return head_fail(h, 431, "header section too large");
	h->fields[h->nfields].name = name;
	h->fields[h->nfields].value = value;
	h->nfields++;
	return 0;
}

/* Content-Length = 1*DIGIT; repeats must agree (RFC 9110 8.6). */
static int
head_content_length(struct http_head *h)
{
	const char *v;
	size_t i = 0;
	int64_t cl = -1, x;
	int d;

	while ((v = http_head_next(h, "Content-Length", &i)) != NULL) {
		if (*v == '\0')
			return head_fail(h, 400, "invalid Content-Length");
		for (x = 0; *v != '\0'; v++) {
			if (!http_is_digit(*v))
				return head_fail(
				    h, 400, "invalid Content-Length");
			d = *v - '0';
			if (x > (INT64_MAX - d) / 10)
				return head_fail(
				    h, 413, "Content-Length too large");
			x = x * 10 + d;
		}
		if (cl != -1 && x != cl)
			return head_fail(
			    h, 400, "conflicting Content-Length values");
		cl = x;
	}
	h->content_length = cl;
	return 0;
}

/* Only "chunked", once, never with Content-Length (RFC 9112 6.1-6.3). */
static int
head_transfer_encoding(struct http_head *h)
{
	const char *v;
	size_t i = 0;
	int n = 0;

	while ((v = http_head_next(h, "Transfer-Encoding", &i)) != NULL) {
		if (!http_caseeq(v, strlen(v), "chunked"))
			return head_fail(h, 501,
			    "unsupported Transfer-Encoding (only chunked)");
		n++;
	}
	if (n > 1)
		return head_fail(h, 400, "repeated Transfer-Encoding");
	if (n == 1 && h->version == 10)
		return head_fail(
		    h, 400, "Transfer-Encoding in an HTTP/1.0 message");
	if (n == 1 && h->content_length != -1)
		return head_fail(
		    h, 400, "both Content-Length and Transfer-Encoding");
	h->chunked = n;
	return 0;
}

static int
head_connection(struct http_head *h)
{
	const char *v;
	size_t i = 0;
	int close = 0, keep = 0, r;

	while ((v = http_head_next(h, "Connection", &i)) != NULL) {
		if ((r = http_list_has(v, "close")) == -1)
			return head_fail(h, 400, "invalid Connection header");
		close |= r;
		keep |= http_list_has(v, "keep-alive");
	}
	if (h->version == 11)
		h->keep_alive = !close;
	else
		h->keep_alive = keep && !close;
	return 0;
}

/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. */
static int
head_host(struct http_head *h)
{
	const char *v;
	size_t n;

	n = http_head_count(h, "Host");
	if (n > 1)
		return head_fail(h, 400, "repeated Host header");
	if (n == 0) {
		if (h->version == 11)
			return head_fail(h, 400, "missing Host header");
		return 0;
	}
	for (v = http_head_get(h, "Host"); *v != '\0'; v++)
		if (!http_is_alpha(*v) && !http_is_digit(*v) &&
		    !http_in_set(*v, "-._~!$&'()*+,;=:[]%"))
			return head_fail(h, 400, "invalid Host header");
	return 0;
}

/* RFC 6455 4.2.1: what the frontend must check before switching. */
static enum http_ws
head_websocket(const struct http_head *h)
{
	const char *v;
	size_t i = 0;
	int up = 0, conn = 0;

	while ((v = http_head_next(h, "Upgrade", &i)) != NULL)
		up |= http_list_has(v, "websocket") == 1;
	if (!up)
		return HTTP_WS_NONE;
	i = 0;
	while ((v = http_head_next(h, "Connection", &i)) != NULL)
		conn |= http_list_has(v, "upgrade") == 1;
	if (!conn || h->version != 11 ||
	    strcmp(http_head_method(h), "GET") != 0 ||
	    http_head_count(h, "Sec-WebSocket-Key") != 1 ||
	    !ws_key_valid(http_head_get(h, "Sec-WebSocket-Key")))
		return HTTP_WS_BAD;
	if (http_head_count(h, "Sec-WebSocket-Version") != 1 ||
	    strcmp(http_head_get(h, "Sec-WebSocket-Version"), "13") != 0)
		return HTTP_WS_BAD_VERSION;
	return HTTP_WS_OK;
}

static int
head_derive(struct http_head *h, int request)
{
	if (head_content_length(h) == -1 || head_transfer_encoding(h) == -1 ||
	    head_connection(h) == -1)
		return -1;
	if (request) {
		if (head_host(h) == -1)
			return -1;
		h->websocket = head_websocket(h);
	}
	return 0;
}

/* Reject a line that is too long for its place in the head. */
static int
head_toolong(struct http_head *h, int request, int toolong)
{
	if (h->stage == HEAD_START)
		return head_fail(h, request ? 414 : 400,
		    request ? "request line too long" : "status line too long");
	if (toolong)
		return head_fail(h, 431, "header field too long");
	return head_fail(h, 431, "header section too large");
}

static ssize_t
head_parse(struct http_head *h, const char *buf, size_t len, int request)
{
	size_t lf, limit, n;
	int r, toolong = 0;

	if (h->stage == HEAD_DONE)
		return h->scan;
	if (h->stage == HEAD_ERROR)
		return -1;
	if (len < h->lf_from)
		return head_fail(h, 500, "head parser input shrank");
	for (;;) {
		limit = SIZE_MAX;
		if (h->stage == HEAD_FIELDS)
			limit = h->hstart + http_limits.headers_total;
		r = head_line(
		    h, buf, len, http_limits.line_max, limit, &lf, &toolong);
		if (r == 0)
			return 0;
		if (r == -1)
			return head_toolong(h, request, toolong);
		if (lf == h->scan || buf[lf - 1] != '\r')
			return head_fail(h, 400, "line not ended by CRLF");
		n = lf - 1 - h->scan;
		if (h->stage == HEAD_START) {
			r = request ? head_request_line(h, buf + h->scan, n)
				    : head_status_line(h, buf + h->scan, n);
			h->stage = HEAD_FIELDS;
			h->hstart = lf + 1;
		} else if (n == 0) {
			r = head_derive(h, request);
			h->stage = HEAD_DONE;
		} else
			r = head_field(h, buf + h->scan, n);
		if (r == -1) {
			h->stage = HEAD_ERROR;
			return -1;
		}
		h->scan = h->lf_from = lf + 1;
		if (h->stage == HEAD_DONE)
			return h->scan;
	}
}

ssize_t
http_parse_request_head(struct http_head *h, const char *buf, size_t len)
{
	return head_parse(h, buf, len, 1);
}

ssize_t
http_parse_response_head(struct http_head *h, const char *buf, size_t len)
{
	return head_parse(h, buf, len, 0);
}

const char *
http_head_method(const struct http_head *h)
{
	return h->buf + h->method;
}

const char *
http_head_target(const struct http_head *h)
{
	return h->buf + h->target;
}

const char *
http_head_reason(const struct http_head *h)
{
	return h->buf + h->reason;
}

int
http_head_field(
    const struct http_head *h, size_t i, const char **name, const char **value)
{
	if (i >= h->nfields)
		return -1;
	*name = h->buf + h->fields[i].name;
	*value = h->buf + h->fields[i].value;
	return 0;
}

const char *
http_head_next(const struct http_head *h, const char *name, size_t *i)
{
	const char *n;

	for (; *i < h->nfields; (*i)++) {
		n = h->buf + h->fields[*i].name;
		if (http_caseeq(name, strlen(name), n))
			return h->buf + h->fields[(*i)++].value;
	}
	return NULL;
}

const char *
http_head_get(const struct http_head *h, const char *name)
{
	size_t i = 0;

	return http_head_next(h, name, &i);
}

size_t
http_head_count(const struct http_head *h, const char *name)
{
	size_t i = 0, n = 0;

	while (http_head_next(h, name, &i) != NULL)
		n++;
	return n;
}

int
http_list_has(const char *value, const char *token)
{
	const char *s = value, *t;
	int found = 0;

	for (;;) {
		while (http_is_ows(*s))
			s++;
		for (t = s; http_is_tchar(*t); t++)
			;
		if (t > s && http_caseeq(s, (size_t)(t - s), token))
			found = 1;
		while (http_is_ows(*t))
			t++;
		/* Empty list elements are allowed (RFC 9110 5.6.1). */
		if (*t == '\0')
			return found;
		if (*t != ',')
			return -1;
		s = t + 1;
	}
}
