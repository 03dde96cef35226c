/*
 * Chunked bodies: decoding under every split of the input, one negative
 * case per rejection rule, and the encoder's round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tests/t.h"

/* What a decode produced: the data, where it stopped, and the verdict. */
struct result {
	char data[4096];
	size_t datalen;
	size_t consumed;
	int done;
	int status;
	const char *reason;
};

/*
 * Feed in[0..len) in pieces of at most step bytes, the first piece being
 * first bytes long (0: step), each from its own heap copy.
 */
static void
decode(const char *in, size_t len, size_t first, size_t step, struct result *r)
{
	struct http_chunked c;
	const uint8_t *d;
	size_t off = 0, piece, dl, n;
	ssize_t got;
	char *copy;

	memset(r, 0, sizeof(*r));
	http_chunked_init(&c);
	while (off < len && !http_chunked_done(&c)) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		copy = malloc(piece);
		memcpy(copy, in + off, piece);
		for (n = 0; n < piece && !http_chunked_done(&c); n += got) {
			got = http_chunked_decode(
			    &c, copy + n, piece - n, &d, &dl);
			if (got == -1) {
				free(copy);
				r->status = c.err.status;
				r->reason = c.err.reason;
				return;
			}
			if (got == 0 || dl > (size_t)got) {
				T_FAIL("no progress or a bad span");
				free(copy);
				return;
			}
			if (dl > 0 && r->datalen + dl <= sizeof(r->data)) {
				memcpy(r->data + r->datalen, d, dl);
				r->datalen += dl;
			}
		}
		free(copy);
		off += n;
	}
	r->consumed = off;
	r->done = http_chunked_done(&c);
}

static int
same(const struct result *a, const struct result *b)
{
	return a->datalen == b->datalen &&
	       memcmp(a->data, b->data, a->datalen) == 0 &&
	       a->consumed == b->consumed && a->done == b->done &&
	       a->status == b->status &&
	       (a->reason == b->reason || strcmp(a->reason, b->reason) == 0);
}

/* Whole, byte at a time, and split in two at every offset. */
static void
decode_all_ways(const char *in, size_t len, struct result *whole)
{
	struct result r;
	size_t k;

	decode(in, len, 0, len ? len : 1, whole);
	decode(in, len, 0, 1, &r);
	T_EXPECT(same(whole, &r), "byte at a time differs from whole");
	for (k = 1; k < len; k++) {
		decode(in, len, k, len, &r);
		if (!same(whole, &r)) {
			T_FAIL("split at %zu differs from whole", k);
			break;
		}
	}
}

struct good {
	const char *in;
	const char *data;
	size_t consumed; /* 0: all of in */
};

static const struct good good[] = {
    {"5\r\nhello\r\n0\r\n\r\n", "hello", 0},
    {"3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n", "abcd", 0},
    {"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", "01234567890123456789",
	0},
    {"0005\r\nhello\r\n000\r\n\r\n", "hello", 0},
    {"5;name=value\r\nhello\r\n0\r\n\r\n", "hello", 0},
    {"5 \t; a ; b=\"c d\"\r\nhello\r\n0;last\r\n\r\n", "hello", 0},
    {"2\r\n\r\n\r\n0\r\n\r\n", "\r\n", 0},
    {"0\r\nX-Trailer: 1\r\nY:\r\n\r\n", "", 0},
    {"0\r\nChecksum: sha256=abc \t\r\n\r\n", "", 0},
    /* A pipelined request after the body is left alone. */
    {"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "x", 11},
};

T_TEST(test_good)
{
	struct result r;
	size_t i, want;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		decode_all_ways(good[i].in, strlen(good[i].in), &r);
		want = good[i].consumed ? good[i].consumed : strlen(good[i].in);
		T_EXPECT(!(r.status != 0 || !r.done || r.consumed != want ||
			     r.datalen != strlen(good[i].data) ||
			     memcmp(r.data, good[i].data, r.datalen) != 0),
		    "case %zu: status %d (%s), done %d, consumed "
		    "%zu",
		    i, r.status, r.reason ? r.reason : "", r.done, r.consumed);
	}
}

T_TEST(test_incomplete)
{
	struct result r;

	const char *in = "5\r\nhel";

	decode_all_ways(in, strlen(in), &r);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.done, 0);
	T_EQ_INT(r.datalen, 3);
	in = "5\r\nhello\r\n0\r\n\r";
	decode_all_ways(in, strlen(in), &r);
	T_EQ_INT(r.done, 0);
	T_EQ_INT(r.consumed, strlen(in));
}

struct bad {
	const char *in;
	int status;
	const char *reason;
};

static const struct bad bad[] = {
    {"x\r\n", 400, "invalid chunk size"},
    {"\r\n", 400, "invalid chunk size"},
    {"-5\r\n", 400, "invalid chunk size"},
    {"0x5\r\n", 400, "invalid chunk size"},
    {"5 \r\nhello\r\n", 400, "invalid chunk extension"},
    {"5 x\r\nhello\r\n", 400, "invalid chunk extension"},
    {"5;a\x01\r\nhello\r\n", 400, "invalid chunk extension"},
    {"5;a\nhello\r\n", 400, "invalid chunk extension"},
    {"5\nhello\r\n", 400, "invalid chunk size"},
    {"5\r\rhello\r\n", 400, "chunk size line not ended by CRLF"},
    {"5\r\nhelloX\r\n", 400, "chunk data not followed by CRLF"},
    {"5\r\nhello\rX", 400, "chunk data not followed by CRLF"},
    {"5\r\nhello\n0\r\n\r\n", 400, "chunk data not followed by CRLF"},
    {"10000000000000000\r\n", 413, "chunk size too large"},
    {"0\r\n X: 1\r\n\r\n", 400, "invalid trailer field"},
    {"0\r\nX Y: 1\r\n\r\n", 400, "invalid trailer field name"},
    {"0\r\nX : 1\r\n\r\n", 400, "invalid trailer field name"},
    {"0\r\nX\r\n\r\n", 400, "invalid trailer field name"},
    {"0\r\nX: \x01\r\n\r\n", 400, "invalid character in trailer"},
    {"0\r\nX: 1\n\r\n", 400, "invalid character in trailer"},
    {"0\r\nX: 1\r\r\n", 400, "trailer line not ended by CRLF"},
    {"0\r\n\r\r", 400, "chunked body not ended by CRLF"},
    {"0\r\n\n", 400, "invalid trailer field"},
};

T_TEST(test_rejections)
{
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode_all_ways(bad[i].in, strlen(bad[i].in), &r);
		T_EXPECT(!(r.status != bad[i].status ||
			     strstr(r.reason ? r.reason : "", bad[i].reason) ==
				 NULL),
		    "case %zu: %d %s, expected %d %s", i, r.status,
		    r.reason ? r.reason : "", bad[i].status, bad[i].reason);
	}
}

static char big[64 * 1024];
static size_t biglen;

static void
add(const char *s)
{
	size_t n = strlen(s);

	memcpy(big + biglen, s, n);
	biglen += n;
}

static void
add_fill(char c, size_t n)
{
	memset(big + biglen, c, n);
	biglen += n;
}

T_TEST(test_limits)
{
	struct result r;
	size_t i;

	/* The largest chunk size that fits, then one digit more. */
	biglen = 0;
	add("ffffffffffffffff\r\nab");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.datalen, 2);
	biglen = 0;
	add("00000000000000000000001\r\na\r\n0\r\n\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.done, 1);

	/* A size line of exactly LIM_HTTP_LINE_MAX, then one byte more. */
	biglen = 0;
	add("1;");
	add_fill('e', LIM_HTTP_LINE_MAX - 2);
	add("\r\nx\r\n0\r\n\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.done, 1);
	biglen = 0;
	add("1;");
	add_fill('e', LIM_HTTP_LINE_MAX - 1);
	add("\r\nx\r\n0\r\n\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.status, 400);
	T_CONTAINS(r.reason, "chunk size line too long");

	/* Trailer field too long, section too large, too many fields. */
	biglen = 0;
	add("0\r\nX: ");
	add_fill('v', LIM_HTTP_LINE_MAX - 2);
	add("\r\n\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.status, 431);
	T_CONTAINS(r.reason, "trailer field too long");
	biglen = 0;
	add("0\r\n");
	for (i = 0; i < 5; i++) {
		add("X: ");
		add_fill('v', 7000);
		add("\r\n");
	}
	add("\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.status, 431);
	T_CONTAINS(r.reason, "trailer section too large");
	biglen = 0;
	add("0\r\n");
	for (i = 0; i <= LIM_HTTP_HEADER_FIELDS; i++)
		add("X: 1\r\n");
	add("\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.status, 431);
	T_CONTAINS(r.reason, "too many trailer fields");
	biglen -= 8;
	add("\r\n");
	decode_all_ways(big, biglen, &r);
	T_EQ_INT(r.done, 1);
}

T_TEST(test_errors_stick)
{
	struct http_chunked c;
	const uint8_t *d;
	size_t dl;

	http_chunked_init(&c);
	T_EQ_INT(http_chunked_decode(&c, "z", 1, &d, &dl), -1);
	T_EQ_INT(http_chunked_decode(&c, "5\r\n", 3, &d, &dl), -1);
	T_EQ_INT(c.err.status, 400);
}

T_TEST(test_encoder)
{
	static const struct {
		uint64_t size;
		const char *out;
	} enc[] = {
	    {0, "0\r\n"},
	    {1, "1\r\n"},
	    {255, "ff\r\n"},
	    {4096, "1000\r\n"},
	    {UINT64_MAX, "ffffffffffffffff\r\n"},
	};
	char hdr[HTTP_CHUNK_HEADER_MAX];
	struct result r;
	const char *body = "the quick brown fox jumps over the lazy dog";
	size_t i, off, n, step;

	for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		T_EQ_INT(
		    http_chunk_header(hdr, enc[i].size), strlen(enc[i].out));
		T_EQ_STR(hdr, enc[i].out);
	}
	/* Encode with chunks of 1..7 bytes, then decode. */
	for (step = 1; step < 8; step++) {
		biglen = 0;
		for (off = 0; off < strlen(body); off += n) {
			n = strlen(body) - off < step ? strlen(body) - off
						      : step;
			http_chunk_header(hdr, n);
			add(hdr);
			memcpy(big + biglen, body + off, n);
			biglen += n;
			add(HTTP_CRLF);
		}
		http_chunk_header(hdr, 0);
		add(hdr);
		add(HTTP_CRLF);
		decode_all_ways(big, biglen, &r);
		T_EQ_INT(r.done, 1);
		T_EQ_INT(r.datalen, strlen(body));
		T_CHECK(memcmp(r.data, body, r.datalen) == 0);
	}
}

/*
 * A reader that splices chunk data past the decoder (frontend/upload.c):
 * decode() for the framing, http_chunked_took() for up to `take` data
 * bytes at a time, read straight from the input. Same data, same end.
 */
static void
test_took(void)
{
	static const char in[] = "5\r\nhello\r\n1a;x=y\r\n"
				 "abcdefghijklmnopqrstuvwxyz\r\n"
				 "3\r\n123\r\n0\r\nT: v\r\n\r\nNEXT";
	struct result plain;

	decode(in, sizeof(in) - 1, 0, sizeof(in), &plain);
	T_EQ_INT(plain.done, 1);
	for (size_t take = 1; take <= 30; take++) {
		struct http_chunked c;
		char data[64];
		size_t off = 0, dlen = 0, spliced = 0;

		http_chunked_init(&c);
		T_EQ_INT(http_chunked_data_left(&c), 0);
		while (off < sizeof(in) - 1 && !http_chunked_done(&c)) {
			uint64_t left = http_chunked_data_left(&c);
			const uint8_t *d;
			size_t dl;
			ssize_t n;

			if (left > 0) {
				size_t k = left < take ? (size_t)left : take;

				memcpy(data + dlen, in + off, k);
				dlen += k;
				off += k;
				spliced += k;
				http_chunked_took(&c, k);
				continue;
			}
			/* Only the framing goes through decode: one byte. */
			n = http_chunked_decode(&c, in + off, 1, &d, &dl);
			if (n != 1 || dl != 0) {
				T_FAIL(
				    "decode took data or failed at %zu", off);
				break;
			}
			off++;
		}
		T_EQ_INT(http_chunked_done(&c), 1);
		T_EQ_INT(off, plain.consumed);
		T_EQ_INT(dlen, plain.datalen);
		T_EQ_INT(spliced, 5 + 26 + 3);
		T_CHECK(memcmp(data, plain.data, dlen) == 0);
		/* Taking outside chunk data, or more than is left, is
		 * ignored. */
		http_chunked_took(&c, 1);
		T_EQ_INT(http_chunked_done(&c), 1);
	}
	struct http_chunked c;
	const uint8_t *d;
	size_t dl;

	http_chunked_init(&c);
	T_EQ_INT(http_chunked_decode(&c, "4\r\n", 3, &d, &dl), 3);
	T_EQ_INT(http_chunked_data_left(&c), 4);
	http_chunked_took(&c, 5); /* more than is left: ignored */
	T_EQ_INT(http_chunked_data_left(&c), 4);
	http_chunked_took(&c, 4);
	T_EQ_INT(http_chunked_data_left(&c), 0);
	T_EQ_INT(http_chunked_decode(&c, "x", 1, &d, &dl), -1);
	T_EQ_INT(c.err.status, 400);
}

int
main(void)
{
	T_RUN(test_took);
	T_RUN(test_good);
	T_RUN(test_incomplete);
	T_RUN(test_rejections);
	T_RUN(test_limits);
	T_RUN(test_errors_stick);
	T_RUN(test_encoder);
	return T_DONE();
}
