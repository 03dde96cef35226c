/*
 * WebSocket (RFC 6455), server side: the opening handshake's accept key,
 * server frame headers, close payloads, and a streaming parser of client
 * frames for the /1.0/events stream.
 */
#include <string.h>

#include <openssl/evp.h>

#include "http/http.h"
#include "http/http_priv.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum { WSS_HEADER, WSS_PAYLOAD, WSS_ERROR };

static int
ws_is_b64(unsigned char c)
{
	return http_is_alpha(c) || http_is_digit(c) || c == '+' || c == '/';
}

int
ws_key_valid(const char *key)
{
	size_t i;

	if (key == NULL || strlen(key) != WS_KEY_LEN)
		return 0;
	for (i = 0; i < WS_KEY_LEN - 2; i++)
		if (!ws_is_b64(key[i]))
			return 0;
	return key[22] == '=' && key[23] == '=';
}

int
ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char buf[WS_KEY_LEN + sizeof(WS_GUID)];
	unsigned int mdlen;

	if (!ws_key_valid(key))
		return -1;
	memcpy(buf, key, WS_KEY_LEN);
	memcpy(buf + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID));
	if (EVP_Digest(buf, WS_KEY_LEN + sizeof(WS_GUID) - 1, md, &mdlen,
		EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return -1;
	if (EVP_EncodeBlock((unsigned char *)out, md, 20) != WS_ACCEPT_LEN)
		return -1;
	return 0;
}

size_t
ws_frame_header(
    uint8_t out[WS_HEADER_MAX], enum ws_opcode op, int fin, uint64_t len)
{
	int i;

	switch (op) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!fin || len > WS_CONTROL_MAX)
			return 0;
		break;
	default:
		return 0;
	}
	out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	if (len >> 63 != 0)
		return 0;
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

/*
 * One step of UTF-8 validation (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF). *st holds the bytes still expected and the
 * range of the next one; it is left unchanged on an invalid byte.
 */
static int
ws_utf8(uint32_t *st, uint8_t b)
{
	uint32_t need = *st & 0xff, lo = 0x80, hi = 0xbf;

	if (need > 0) {
		if (b < ((*st >> 8) & 0xff) || b > ((*st >> 16) & 0xff))
			return -1;
		need--;
	} else if (b < 0x80)
		return 0;
	else if (b >= 0xc2 && b <= 0xdf)
		need = 1;
	else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		lo = b == 0xe0 ? 0xa0 : 0x80;
		hi = b == 0xed ? 0x9f : 0xbf;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		lo = b == 0xf0 ? 0x90 : 0x80;
		hi = b == 0xf4 ? 0x8f : 0xbf;
	} else
		return -1;
	*st = need | lo << 8 | hi << 16;
	return 0;
}

/* 0 if s[0..n) is complete, valid UTF-8. */
static int
ws_utf8_valid(const uint8_t *s, size_t n)
{
	uint32_t st = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (ws_utf8(&st, s[i]) == -1)
			return -1;
	return (st & 0xff) == 0 ? 0 : -1;
}

/* Codes an endpoint may put in a close frame (RFC 6455 7.4, IANA). */
static int
ws_code_valid(int code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

ssize_t
ws_close_payload(uint8_t out[WS_CONTROL_MAX], int code, const char *reason)
{
	size_t n;

	if (reason == NULL)
		reason = "";
	n = strlen(reason);
	if (!ws_code_valid(code) ||
	    ws_utf8_valid((const uint8_t *)reason, n) == -1)
		return -1;
	if (n > WS_CONTROL_MAX - 2) {
		/* Cut before a continuation byte, so at a character. */
		n = WS_CONTROL_MAX - 2;
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	}
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	memcpy(out + 2, reason, n);
	return (ssize_t)(n + 2);
}

int
ws_close_code(const uint8_t *payload, size_t len)
{
	if (len < 2)
		return WS_CLOSE_NO_STATUS;
	return payload[0] << 8 | payload[1];
}

void
ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] ^= mask[(off + i) & 3];
}

void
ws_parser_init(struct ws_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = WSS_HEADER;
}

static enum ws_event
ws_fail(struct ws_parser *p, int code, const char *reason)
{
	p->state = WSS_ERROR;
	p->err.status = code;
	p->err.reason = reason;
	return WS_ERROR;
}

static int
ws_is_control(int op)
{
	return op >= WS_OP_CLOSE;
}

/* The first two bytes: flags, opcode, mask bit, 7-bit length. */
static enum ws_event
ws_header_start(struct ws_parser *p)
{
	uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
	int op = b0 & 0x0f, len7 = b1 & 0x7f;

	if (b0 & 0x70)
		return ws_fail(p, WS_CLOSE_PROTOCOL, "reserved bits set");
	if ((op > WS_OP_BINARY && op < WS_OP_CLOSE) || op > WS_OP_PONG)
		return ws_fail(p, WS_CLOSE_PROTOCOL, "unknown opcode");
	if (!(b1 & 0x80))
		return ws_fail(p, WS_CLOSE_PROTOCOL, "client frame not masked");
	if (ws_is_control(op) && !(b0 & 0x80))
		return ws_fail(
		    p, WS_CLOSE_PROTOCOL, "fragmented control frame");
	if (ws_is_control(op) && len7 > WS_CONTROL_MAX)
		return ws_fail(p, WS_CLOSE_PROTOCOL, "control frame too long");
	p->hneed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
	return WS_NEED_MORE;
}

/* Fragments must form messages (RFC 6455 5.4), bounded as a whole. */
static enum ws_event
ws_message(struct ws_parser *p)
{
	struct ws_frame *f = &p->frame;

	if (ws_is_control(f->opcode))
		return WS_FRAME_BEGIN;
	if (f->opcode == WS_OP_CONT && p->msgop == 0)
		return ws_fail(p, WS_CLOSE_PROTOCOL,
		    "continuation frame without a message");
	if (f->opcode != WS_OP_CONT && p->msgop != 0)
		return ws_fail(p, WS_CLOSE_PROTOCOL,
		    "new message before the last one ended");
	if (f->opcode != WS_OP_CONT) {
		p->msgop = f->opcode;
		p->msglen = 0;
		p->utf8 = 0;
	}
	if (f->len > LIM_WS_FRAME_MAX - p->msglen)
		return ws_fail(p, WS_CLOSE_TOO_BIG, "message too big");
	p->msglen += f->len;
	return WS_FRAME_BEGIN;
}

/* The whole header is in: length, mask, and sequencing. */
static enum ws_event
ws_header_end(struct ws_parser *p)
{
	struct ws_frame *f = &p->frame;
	uint64_t len = p->hdr[1] & 0x7f;
	size_t i, m = p->hneed - 4;

	if (len == 126) {
		len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
		if (len < 126)
			return ws_fail(p, WS_CLOSE_PROTOCOL,
			    "frame length not minimally encoded");
	} else if (len == 127) {
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | p->hdr[i];
		if (len >> 63 != 0 || len <= 0xffff)
			return ws_fail(p, WS_CLOSE_PROTOCOL,
			    "frame length not minimally encoded");
	}
	if (len > LIM_WS_FRAME_MAX)
		return ws_fail(p, WS_CLOSE_TOO_BIG, "frame too big");
	f->fin = (p->hdr[0] & 0x80) != 0;
	f->opcode = p->hdr[0] & 0x0f;
	f->len = len;
	f->off = 0;
	memcpy(f->mask, p->hdr + m, 4);
	p->done = 0;
	p->state = WSS_PAYLOAD;
	return ws_message(p);
}

static enum ws_event
ws_header_byte(struct ws_parser *p, uint8_t b)
{
	enum ws_event ev;

	p->hdr[p->hlen++] = b;
	if (p->hlen == 2 && (ev = ws_header_start(p)) != WS_NEED_MORE)
		return ev;
	if (p->hlen < 2 || p->hlen < p->hneed)
		return WS_NEED_MORE;
	return ws_header_end(p);
}

/* The payload is complete: check what only the whole can show. */
static enum ws_event
ws_frame_end(struct ws_parser *p)
{
	struct ws_frame *f = &p->frame;
	int code;

	p->state = WSS_HEADER;
	p->hlen = p->hneed = 0;
	if (f->opcode == WS_OP_CLOSE && f->len > 0) {
		code = ws_close_code(p->ctl, (size_t)f->len);
		if (f->len == 1 || !ws_code_valid(code))
			return ws_fail(
			    p, WS_CLOSE_PROTOCOL, "invalid close frame status");
		if (ws_utf8_valid(p->ctl + 2, (size_t)f->len - 2) == -1)
			return ws_fail(p, WS_CLOSE_BAD_DATA,
			    "invalid UTF-8 in close reason");
	}
	if (!ws_is_control(f->opcode) && f->fin) {
		if (p->msgop == WS_OP_TEXT && (p->utf8 & 0xff) != 0)
			return ws_fail(p, WS_CLOSE_BAD_DATA,
			    "text message ends inside a UTF-8 character");
		p->msgop = 0;
	}
	return WS_FRAME_END;
}

/*
 * Payload bytes s[0..n) of the current frame. Text is checked unmasked;
 * only the valid bytes before a bad one are reported, so that the data
 * seen before an error does not depend on how the input was split.
 */
static enum ws_event
ws_payload(struct ws_parser *p, const uint8_t *s, size_t n, size_t *used,
    const uint8_t **data, size_t *datalen)
{
	struct ws_frame *f = &p->frame;
	size_t i;

	*used = 0;
	if (n > f->len - p->done)
		n = (size_t)(f->len - p->done);
	if (ws_is_control(f->opcode)) {
		for (i = 0; i < n; i++)
			p->ctl[p->done + i] = s[i] ^ f->mask[(p->done + i) & 3];
		p->done += n;
		*used = n;
		return WS_NEED_MORE;
	}
	for (i = 0; p->msgop == WS_OP_TEXT && i < n; i++)
		if (ws_utf8(&p->utf8, s[i] ^ f->mask[(p->done + i) & 3]) == -1)
			break;
	if (i == 0 && n > 0 && p->msgop == WS_OP_TEXT)
		return ws_fail(
		    p, WS_CLOSE_BAD_DATA, "invalid UTF-8 in text message");
	if (p->msgop == WS_OP_TEXT)
		n = i;
	f->off = p->done;
	p->done += n;
	*used = n;
	*data = s;
	*datalen = n;
	return WS_DATA;
}

enum ws_event
ws_parse(struct ws_parser *p, const void *in, size_t len, size_t *used,
    const uint8_t **data, size_t *datalen)
{
	const uint8_t *s = in;
	enum ws_event ev;
	size_t i = 0, n;

	*data = NULL;
	*datalen = 0;
	for (;;) {
		*used = i;
		if (p->state == WSS_ERROR)
			return WS_ERROR;
		if (p->state == WSS_PAYLOAD && p->done == p->frame.len)
			return ws_frame_end(p);
		if (i == len)
			return WS_NEED_MORE;
		if (p->state == WSS_HEADER) {
			ev = ws_header_byte(p, s[i++]);
			n = 0;
		} else
			ev = ws_payload(p, s + i, len - i, &n, data, datalen);
		i += n;
		if (ev != WS_NEED_MORE) {
			*used = i;
			return ev;
		}
	}
}
