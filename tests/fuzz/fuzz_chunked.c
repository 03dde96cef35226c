/*
 * libFuzzer target for the chunked decoder. Input: one byte that picks a
 * split point, then the body. Whole, byte at a time and split in two
 * must give the same data, stopping point and verdict.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	uint64_t hash, datalen;
	size_t consumed;
	int done;
	const char *reason;
};

/* Decode in pieces: first bytes (0: all), then step bytes at a time. */
static void
decode(
    const uint8_t *in, size_t len, size_t first, size_t step, struct result *r)
{
	struct http_chunked c;
	const uint8_t *d;
	size_t off = 0, piece, n, dl, i;
	ssize_t got;

	r->hash = 14695981039346656037ULL;
	r->datalen = r->consumed = 0;
	r->reason = NULL;
	http_chunked_init(&c);
	while (off < len && !http_chunked_done(&c)) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		for (n = 0; n < piece && !http_chunked_done(&c); n += got) {
			got = http_chunked_decode(
			    &c, in + off + n, piece - n, &d, &dl);
			if (got == -1) {
				r->reason = c.err.reason;
				r->done = 0;
				return;
			}
			if (got == 0 || (size_t)got > piece - n ||
			    dl > (size_t)got ||
			    (dl > 0 && (d < in + off + n ||
					   d + dl > in + off + n + got)))
				abort();
			for (i = 0; i < dl; i++)
				r->hash = (r->hash ^ d[i]) * 1099511628211ULL;
			r->datalen += dl;
		}
		off += n;
	}
	r->consumed = off;
	r->done = http_chunked_done(&c);
}

static void
check_same(const struct result *a, const struct result *b)
{
	if (a->hash != b->hash || a->datalen != b->datalen ||
	    a->consumed != b->consumed || a->done != b->done ||
	    a->reason != b->reason)
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
	decode(data + 1, len, 0, len ? len : 1, &whole);
	decode(data + 1, len, 0, 1, &other);
	check_same(&whole, &other);
	decode(data + 1, len, (size_t)data[0] * len / 255 + 1, len, &other);
	check_same(&whole, &other);
	return 0;
}
