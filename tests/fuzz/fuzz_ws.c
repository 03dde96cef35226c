/*
 * libFuzzer target for WebSocket client frames. Input: one byte that
 * picks a split point, then the frames. Whole, byte at a time and split
 * in two must give the same events, unmasked data and verdict; the
 * writers are exercised on what was parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	uint64_t hash;
	int code;
	const char *reason;
};

static void
mix(struct result *r, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		r->hash = (r->hash ^ s[i]) * 1099511628211ULL;
}

/* What the frontend does with a complete control frame. */
static void
answer(const struct ws_parser *p)
{
	uint8_t hdr[WS_HEADER_MAX], out[WS_CONTROL_MAX];
	int code;

	if (p->frame.opcode == WS_OP_PING &&
	    ws_frame_header(hdr, WS_OP_PONG, 1, p->frame.len) == 0)
		abort();
	if (p->frame.opcode == WS_OP_CLOSE) {
		code = ws_close_code(p->ctl, (size_t)p->frame.len);
		if (code != WS_CLOSE_NO_STATUS &&
		    ws_close_payload(out, code, "") != 2)
			abort();
	}
}

static void
event(struct ws_parser *p, enum ws_event ev, const uint8_t *d, size_t dl,
    struct result *r)
{
	uint8_t buf[4096], t = (uint8_t)ev;
	size_t n, k;

	if (ev == WS_DATA) {
		if (dl == 0)
			abort();
		/* Unmask in pieces, at the span's payload offset. */
		for (n = 0; n < dl; n += k) {
			k = dl - n < sizeof(buf) ? dl - n : sizeof(buf);
			memcpy(buf, d + n, k);
			ws_unmask(buf, k, p->frame.mask, p->frame.off + n);
			mix(r, buf, k);
		}
		return;
	}
	mix(r, &t, 1);
	if (ev == WS_FRAME_BEGIN) {
		mix(r, &p->frame.opcode, sizeof(p->frame.opcode));
		mix(r, &p->frame.fin, sizeof(p->frame.fin));
		mix(r, &p->frame.len, sizeof(p->frame.len));
	} else if (p->frame.opcode >= WS_OP_CLOSE) {
		mix(r, p->ctl, (size_t)p->frame.len);
		answer(p);
	}
}

static void
parse(
    const uint8_t *in, size_t len, size_t first, size_t step, struct result *r)
{
	struct ws_parser p;
	const uint8_t *d;
	enum ws_event ev = WS_NEED_MORE;
	size_t off, piece, n, used, dl;

	r->hash = 14695981039346656037ULL;
	ws_parser_init(&p);
	for (off = 0; off < len && ev != WS_ERROR; off += piece) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		for (n = 0;;) {
			ev = ws_parse(
			    &p, in + off + n, piece - n, &used, &d, &dl);
			if (used > piece - n)
				abort();
			n += used;
			if (ev == WS_NEED_MORE || ev == WS_ERROR)
				break;
			event(&p, ev, d, dl, r);
		}
	}
	r->code = p.err.status;
	r->reason = p.err.reason;
}

static void
check_same(const struct result *a, const struct result *b)
{
	if (a->hash != b->hash || a->code != b->code || a->reason != b->reason)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, other;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	parse(data + 1, len, 0, len ? len : 1, &whole);
	parse(data + 1, len, 0, 1, &other);
	check_same(&whole, &other);
	parse(data + 1, len, (size_t)data[0] * len / 255 + 1, len, &other);
	check_same(&whole, &other);
	return 0;
}
