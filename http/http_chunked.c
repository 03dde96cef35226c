/*
 * Chunked transfer coding (RFC 9112 7.1), decoded one byte of framing at a
 * time and one span of data at a time, so that any split of the input
 * gives the same data and the same verdict. Nothing is buffered.
 */
#include <string.h>

#include "http/http.h"
#include "http/http_priv.h"

enum {
	CH_SIZE,      /* first digit of chunk-size */
	CH_SIZE_MORE, /* more digits, extension or CRLF */
	CH_EXT_WS,    /* BWS before ';' */
	CH_EXT,	      /* chunk-ext, checked and dropped */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START, /* a trailer field or the final CRLF */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_FINAL_LF,
	CH_DONE,
	CH_ERROR,
};

static int
chunked_fail(struct http_chunked *c, int status, const char *reason)
{
	c->state = CH_ERROR;
	c->err.status = status;
	c->err.reason = reason;
	return -1;
}

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

int
http_chunked_done(const struct http_chunked *c)
{
	return c->state == CH_DONE;
}

/* The chunk-size line: 1*HEXDIG [ BWS ";" ext ] CRLF. */
static int
chunked_size(struct http_chunked *c, unsigned char b)
{
	int v;

	if (b != '\r' && ++c->line > http_limits.line_max)
		return chunked_fail(c, 400, "chunk size line too long");
	switch (c->state) {
	case CH_SIZE_MORE:
		if ((v = http_hexval(b)) >= 0) {
			/* The next shift would lose high bits. */
			if (c->left >> 60 != 0)
				return chunked_fail(
				    c, 413, "chunk size too large");
			c->left = c->left << 4 | (uint64_t)v;
			return 0;
		}
		if (b == '\r')
			c->state = CH_SIZE_LF;
		else if (b == ';')
			c->state = CH_EXT;
		else if (http_is_ows(b))
			c->state = CH_EXT_WS;
		else
			return chunked_fail(c, 400, "invalid chunk size");
		return 0;
	case CH_EXT_WS:
		if (b == ';')
			c->state = CH_EXT;
		else if (!http_is_ows(b))
			return chunked_fail(c, 400, "invalid chunk extension");
		return 0;
	default: /* CH_EXT */
		if (b == '\r')
			c->state = CH_SIZE_LF;
		else if (!http_is_field_char(b))
			return chunked_fail(c, 400, "invalid chunk extension");
		return 0;
	}
}

/* Trailer fields: token ":" field-value CRLF, bounded like a head. */
static int
chunked_trailer(struct http_chunked *c, unsigned char b)
{
	if (++c->trailer > http_limits.headers_total)
		return chunked_fail(c, 431, "trailer section too large");
	if (c->state != CH_TR_START && c->state != CH_TR_LF && b != '\r' &&
	    ++c->line > http_limits.line_max)
		return chunked_fail(c, 431, "trailer field too long");
	switch (c->state) {
	case CH_TR_START:
		if (b == '\r') {
			c->state = CH_FINAL_LF;
			return 0;
		}
		if (!http_is_tchar(b))
			return chunked_fail(c, 400, "invalid trailer field");
		if (++c->nfields > http_limits.fields)
			return chunked_fail(c, 431, "too many trailer fields");
		c->line = 1;
		c->state = CH_TR_NAME;
		return 0;
	case CH_TR_NAME:
		if (b == ':')
			c->state = CH_TR_VALUE;
		else if (!http_is_tchar(b))
			return chunked_fail(
			    c, 400, "invalid trailer field name");
		return 0;
	case CH_TR_VALUE:
		if (b == '\r')
			c->state = CH_TR_LF;
		else if (!http_is_field_char(b))
			return chunked_fail(
			    c, 400, "invalid character in trailer field");
		return 0;
	default: /* CH_TR_LF */
		if (b != '\n')
			return chunked_fail(
			    c, 400, "trailer line not ended by CRLF");
		c->state = CH_TR_START;
		return 0;
	}
}

/* One byte of framing. */
static int
chunked_byte(struct http_chunked *c, unsigned char b)
{
	switch (c->state) {
	case CH_SIZE:
		if (http_hexval(b) < 0)
			return chunked_fail(c, 400, "invalid chunk size");
		c->left = (uint64_t)http_hexval(b);
		c->line = 1;
		c->state = CH_SIZE_MORE;
		return 0;
	case CH_SIZE_MORE:
	case CH_EXT_WS:
	case CH_EXT:
		return chunked_size(c, b);
	case CH_SIZE_LF:
		if (b != '\n')
			return chunked_fail(
			    c, 400, "chunk size line not ended by CRLF");
		c->state = c->left > 0 ? CH_DATA : CH_TR_START;
		return 0;
	case CH_DATA_CR:
	case CH_DATA_LF:
		if (b != (c->state == CH_DATA_CR ? '\r' : '\n'))
			return chunked_fail(
			    c, 400, "chunk data not followed by CRLF");
		c->state = c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
		return 0;
	case CH_FINAL_LF:
		if (b != '\n')
			return chunked_fail(
			    c, 400, "chunked body not ended by CRLF");
		c->state = CH_DONE;
		return 0;
	default:
		return chunked_trailer(c, b);
	}
}

ssize_t
http_chunked_decode(struct http_chunked *c, const void *in, size_t len,
    const uint8_t **data, size_t *datalen)
{
	const uint8_t *p = in;
	size_t i = 0, n;

	*data = NULL;
	*datalen = 0;
	if (c->state == CH_ERROR)
		return -1;
	while (i < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			*data = p + i;
			*datalen = n;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			return (ssize_t)(i + n);
		}
		if (chunked_byte(c, p[i]) == -1)
			return -1;
		i++;
	}
	return (ssize_t)i;
}

uint64_t
http_chunked_data_left(const struct http_chunked *c)
{
	return c->state == CH_DATA ? c->left : 0;
}

void
http_chunked_took(struct http_chunked *c, uint64_t n)
{
	if (c->state != CH_DATA || n > c->left)
		return;
	c->left -= n;
	if (c->left == 0)
		c->state = CH_DATA_CR;
}

size_t
http_chunk_header(char out[HTTP_CHUNK_HEADER_MAX], uint64_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = hex[size & 0xf];
		size >>= 4;
	} while (size != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	memcpy(out + n, "\r\n", 3);
	return n + 2;
}
