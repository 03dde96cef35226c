/*
 * libFuzzer target for multipart/form-data. Input: one byte (bits 0-1:
 * max parts - 1, bits 2-3: which boundary, bits 4-7: split point), then
 * the body; or, when bits 2-3 are all set, a Content-Type whose boundary
 * is checked and written back. Whole, byte at a time and split in two
 * must give the same events, data and verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *boundaries[] = {
    "b",
    "0d5e4ef4db5dbd074181e36d45838d0e490b42a5f51d3867639c5b19572d",
    "a' b",
};

struct result {
	uint64_t hash;
	int finish;
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

/* Feed one piece; -1 once the parser failed. */
static int
feed(struct mp_parser *p, const uint8_t *in, size_t len, struct result *r)
{
	const uint8_t *d;
	enum mp_event ev;
	size_t n = 0, used, dl;
	uint8_t t;

	for (;;) {
		ev = mp_parse(p, in + n, len - n, &used, &d, &dl);
		if (used > len - n)
			abort();
		n += used;
		if (ev == MP_ERROR)
			return -1;
		if (ev == MP_NEED_MORE) {
			if (n != len)
				abort();
			return 0;
		}
		if (ev == MP_DATA) {
			/* Data is in the input or held-back delimiter bytes. */
			if (dl == 0 || ((d < in || d + dl > in + n) &&
					   (d != (const uint8_t *)p->delim ||
					       dl >= p->dlen)))
				abort();
			mix(r, d, dl);
			continue;
		}
		t = (uint8_t)ev;
		mix(r, &t, 1);
		if (ev == MP_PART_BEGIN)
			mix(r, &p->part, sizeof(p->part));
	}
}

static void
parse(const uint8_t *in, size_t len, size_t first, size_t step,
    const char *boundary, int max_parts, struct result *r)
{
	struct mp_parser p;
	size_t off, piece;

	r->hash = 14695981039346656037ULL;
	if (mp_init(&p, boundary, max_parts) == -1)
		abort();
	for (off = 0; off < len; off += piece) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		if (feed(&p, in + off, piece, r) == -1)
			break;
	}
	r->finish = mp_finish(&p);
	r->reason = p.err.reason;
}

static void
check_same(const struct result *a, const struct result *b)
{
	if (a->hash != b->hash || a->finish != b->finish ||
	    a->reason != b->reason)
		abort();
}

/* A Content-Type: its boundary must survive the writer and parse back. */
static void
content_type(const uint8_t *in, size_t len)
{
	char ctype[1024], b[MP_BOUNDARY_MAX + 1], b2[MP_BOUNDARY_MAX + 1];
	struct http_error err;
	struct mp_writer w;
	struct mp_parser p;

	if (len >= sizeof(ctype))
		return;
	memcpy(ctype, in, len);
	ctype[len] = '\0';
	if (mp_boundary_parse(ctype, b, &err) == -1) {
		if (err.reason == NULL)
			abort();
		return;
	}
	if (mp_init(&p, b, 1) == -1 || mp_writer_init(&w, b) == -1 ||
	    mp_writer_content_type(&w, ctype, sizeof(ctype)) <= 0 ||
	    mp_boundary_parse(ctype, b2, &err) == -1 || strcmp(b, b2) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, other;
	const char *boundary;
	int max_parts;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((data[0] >> 2 & 3) == 3) {
		content_type(data + 1, len);
		return 0;
	}
	max_parts = (data[0] & 3) + 1;
	boundary = boundaries[data[0] >> 2 & 3];
	parse(data + 1, len, 0, len ? len : 1, boundary, max_parts, &whole);
	parse(data + 1, len, 0, 1, boundary, max_parts, &other);
	check_same(&whole, &other);
	parse(data + 1, len, (size_t)(data[0] >> 4) * len / 15 + 1, len,
	    boundary, max_parts, &other);
	check_same(&whole, &other);
	return 0;
}
