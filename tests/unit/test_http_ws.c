/*
 * WebSocket: the accept key (RFC 6455 and lxc's), server frame headers,
 * close payloads, and client frames under every split of the input with
 * one negative case per rejection rule.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tests/t.h"

T_TEST(test_accept)
{
	char out[WS_ACCEPT_LEN + 1];

	/* RFC 6455 1.3. */
	T_EQ_INT(ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	T_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* What lxc 5.0.2 sent for "lxc monitor". */
	T_EQ_INT(ws_accept("bQhGf0n8ofOi48Q3M1chpw==", out), 0);
	T_EQ_STR(out, "B3a0cUu1a7kwLjQYoRgEO6TZY0k=");
	T_EQ_INT(ws_accept("dGhlIHNhbXBsZSBub25jZQ=", out), -1);
	T_EQ_INT(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="), 1);
	T_EQ_INT(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="), 0);
	T_EQ_INT(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==="), 0);
	T_EQ_INT(ws_key_valid("dGhlIHNhbXBsZSBub25jZ*=="), 0);
	T_EQ_INT(ws_key_valid("dGhlIHNhbXBsZSBub25jZQAA"), 0);
	T_EQ_INT(ws_key_valid(NULL), 0);
}

T_TEST(test_frame_header)
{
	static const struct {
		enum ws_opcode op;
		int fin;
		uint64_t len;
		size_t n;
		const char *out;
	} hdr[] = {
	    {WS_OP_TEXT, 1, 5, 2, "\x81\x05"},
	    {WS_OP_TEXT, 0, 0, 2, "\x01\x00"},
	    {WS_OP_CONT, 1, 125, 2, "\x80\x7d"},
	    {WS_OP_BINARY, 1, 126, 4, "\x82\x7e\x00\x7e"},
	    {WS_OP_TEXT, 1, 65535, 4, "\x81\x7e\xff\xff"},
	    {WS_OP_TEXT, 1, 65536, 10,
		"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
	    {WS_OP_TEXT, 1, (1ULL << 63) - 1, 10,
		"\x81\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"},
	    {WS_OP_TEXT, 1, 1ULL << 63, 0, ""},
	    {WS_OP_PING, 1, 125, 2, "\x89\x7d"},
	    {WS_OP_PONG, 1, 0, 2, "\x8a\x00"},
	    {WS_OP_CLOSE, 1, 2, 2, "\x88\x02"},
	    {WS_OP_PING, 1, 126, 0, ""},
	    {WS_OP_CLOSE, 0, 2, 0, ""},
	    {3, 1, 0, 0, ""},
	    {0xb, 1, 0, 0, ""},
	};
	uint8_t out[WS_HEADER_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		n = ws_frame_header(out, hdr[i].op, hdr[i].fin, hdr[i].len);
		T_EXPECT(!(n != hdr[i].n || memcmp(out, hdr[i].out, n) != 0),
		    "case %zu: length %zu", i, n);
	}
}

T_TEST(test_close_payload)
{
	uint8_t out[WS_CONTROL_MAX];
	char reason[200];
	ssize_t n;
	size_t i;

	T_EQ_INT(ws_close_payload(out, 1000, "bye"), 5);
	T_CHECK(memcmp(out,
		    "\x03\xe8"
		    "bye",
		    5) == 0);
	T_EQ_INT(ws_close_code(out, 5), 1000);
	T_EQ_INT(ws_close_code(out, 0), WS_CLOSE_NO_STATUS);
	T_EQ_INT(ws_close_payload(out, 1001, NULL), 2);
	T_EQ_INT(ws_close_payload(out, 4999, ""), 2);
	T_EQ_INT(ws_close_payload(out, 3000, ""), 2);
	T_EQ_INT(ws_close_payload(out, 1014, ""), 2);
	T_EQ_INT(ws_close_payload(out, 999, ""), -1);
	T_EQ_INT(ws_close_payload(out, 1004, ""), -1);
	T_EQ_INT(ws_close_payload(out, 1005, ""), -1);
	T_EQ_INT(ws_close_payload(out, 1006, ""), -1);
	T_EQ_INT(ws_close_payload(out, 1015, ""), -1);
	T_EQ_INT(ws_close_payload(out, 2999, ""), -1);
	T_EQ_INT(ws_close_payload(out, 5000, ""), -1);
	T_EQ_INT(ws_close_payload(out, 1000, "\xff"), -1);
	T_EQ_INT(ws_close_payload(out, 1000, "\xc3"), -1);
	/* Long reasons are cut to 123 bytes, at a character boundary. */
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	T_EQ_INT(ws_close_payload(out, 1000, reason), WS_CONTROL_MAX);
	for (i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[i] = '\0';
	n = ws_close_payload(out, 1000, reason);
	T_EQ_INT(n, 2 + 122);
	T_CHECK(memcmp(out + 2, reason, 122) == 0);
}

T_TEST(test_unmask)
{
	uint8_t buf[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
	const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};

	/* RFC 6455 5.7 "Hello", unmasked from offset 0 in two pieces. */
	ws_unmask(buf, 2, mask, 0);
	ws_unmask(buf + 2, 3, mask, 2);
	T_CHECK(memcmp(buf, "Hello", 5) == 0);
}

/* A masked client frame. */
static size_t
frame(uint8_t *out, int b0, const void *payload, size_t len, int len_form)
{
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t n = 0, i;

	out[n++] = (uint8_t)b0;
	if (len_form == 0 && len < 126)
		out[n++] = 0x80 | (uint8_t)len;
	else if (len_form <= 16) {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			out[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(out + n, mask, 4);
	n += 4;
	for (i = 0; i < len; i++)
		out[n + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
	return n + len;
}

struct ev {
	enum ws_event type;
	int opcode, fin;
	uint64_t len;
	size_t off, dlen; /* unmasked payload in log.data */
};

struct log {
	struct ev ev[32];
	size_t nev;
	uint8_t data[70000];
	size_t datalen;
	int status;
	const char *reason;
};

static void
log_event(struct log *l, const struct ws_parser *p, enum ws_event type,
    const uint8_t *d, size_t dl)
{
	struct ev *e;

	if (type == WS_DATA && l->nev > 0 && l->ev[l->nev - 1].type == WS_DATA)
		e = &l->ev[l->nev - 1];
	else {
		if (l->nev == sizeof(l->ev) / sizeof(l->ev[0])) {
			T_FAIL("too many events");
			return;
		}
		e = &l->ev[l->nev++];
		memset(e, 0, sizeof(*e));
		e->type = type;
		e->opcode = p->frame.opcode;
		e->fin = p->frame.fin;
		e->len = p->frame.len;
		e->off = l->datalen;
	}
	/* Control payloads arrive unmasked at the end of the frame. */
	if (type == WS_FRAME_END && p->frame.opcode >= WS_OP_CLOSE) {
		d = p->ctl;
		dl = (size_t)p->frame.len;
	}
	if (type != WS_DATA && type != WS_FRAME_END)
		return;
	/* Spans of one frame come in payload order, without gaps. */
	T_EXPECT(!(type == WS_DATA && p->frame.off != e->dlen),
	    "span offset %llu", (unsigned long long)p->frame.off);
	if (dl > sizeof(l->data) - l->datalen) {
		T_FAIL("too much data");
		return;
	}
	if (dl > 0)
		memcpy(l->data + l->datalen, d, dl);
	if (type == WS_DATA)
		ws_unmask(
		    l->data + l->datalen, dl, p->frame.mask, p->frame.off);
	l->datalen += dl;
	e->dlen += dl;
}

static void
parse(const uint8_t *in, size_t len, size_t first, size_t step, struct log *l)
{
	struct ws_parser p;
	const uint8_t *d;
	enum ws_event ev;
	size_t off, piece, n, used, dl, rounds;
	uint8_t *copy;

	l->nev = l->datalen = 0;
	l->status = 0;
	l->reason = NULL;
	ws_parser_init(&p);
	for (off = 0; off < len; off += piece) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		copy = malloc(piece);
		memcpy(copy, in + off, piece);
		for (n = 0, rounds = 0;;) {
			ev = ws_parse(&p, copy + n, piece - n, &used, &d, &dl);
			n += used;
			if (ev == WS_NEED_MORE || ev == WS_ERROR)
				break;
			if ((ev == WS_DATA && dl == 0) ||
			    ++rounds > 3 * piece) {
				T_FAIL("no progress");
				ev = WS_ERROR;
				break;
			}
			log_event(l, &p, ev, d, dl);
		}
		free(copy);
		if (ev == WS_ERROR) {
			l->status = p.err.status;
			l->reason = p.err.reason;
			return;
		}
	}
}

static int
same(const struct log *a, const struct log *b)
{
	size_t i;

	if (a->nev != b->nev || a->datalen != b->datalen ||
	    memcmp(a->data, b->data, a->datalen) != 0 ||
	    a->status != b->status ||
	    (a->reason != b->reason && strcmp(a->reason, b->reason) != 0))
		return 0;
	for (i = 0; i < a->nev; i++)
		if (a->ev[i].type != b->ev[i].type ||
		    a->ev[i].opcode != b->ev[i].opcode ||
		    a->ev[i].dlen != b->ev[i].dlen)
			return 0;
	return 1;
}

static struct log whole, other;

static void
parse_all_ways(const uint8_t *in, size_t len)
{
	size_t k, stride = len > 4096 ? 997 : 1;

	parse(in, len, 0, len ? len : 1, &whole);
	parse(in, len, 0, 1, &other);
	T_EXPECT(same(&whole, &other), "byte at a time differs from whole");
	for (k = 1; k < len; k += stride) {
		parse(in, len, k, len, &other);
		if (!same(&whole, &other)) {
			T_FAIL("split at %zu differs from whole", k);
			break;
		}
	}
}

static uint8_t in[140000];

T_TEST(test_rfc_examples)
{
	/* RFC 6455 5.7: a masked "Hello" from a client. */
	static const uint8_t hello[] = {
	    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};

	parse_all_ways(hello, sizeof(hello));
	T_EQ_INT(whole.status, 0);
	T_EQ_INT(whole.nev, 3);
	T_EQ_INT(whole.ev[0].type, WS_FRAME_BEGIN);
	T_EQ_INT(whole.ev[0].opcode, WS_OP_TEXT);
	T_EQ_INT(whole.ev[0].fin, 1);
	T_EQ_INT(whole.ev[0].len, 5);
	T_EQ_INT(whole.ev[1].type, WS_DATA);
	T_EQ_INT(whole.ev[2].type, WS_FRAME_END);
	T_CHECK(memcmp(whole.data, "Hello", 5) == 0);
}

T_TEST(test_sequences)
{
	static uint8_t payload[65536];
	size_t n = 0;

	memset(payload, 'b', sizeof(payload));
	/* Fragmented UTF-8 text with a ping in the middle, then close. */
	n += frame(in + n, 0x01, "H\xe2", 2, 0);
	n += frame(in + n, 0x89, "ping", 4, 0);
	n += frame(in + n, 0x00, "\x82", 1, 0);
	n += frame(in + n, 0x80, "\xac!", 2, 0);
	n += frame(in + n, 0x8a, "", 0, 0);
	n += frame(in + n, 0x81, "", 0, 0);
	n += frame(in + n, 0x82, payload, 200, 16);
	n += frame(in + n, 0x82, payload, 65536, 64);
	n += frame(in + n, 0x88,
	    "\x03\xe8"
	    "done",
	    6, 0);
	parse_all_ways(in, n);
	T_EQ_INT(whole.status, 0);
	T_EQ_INT(whole.nev, 23);
	T_EQ_INT(whole.ev[3].opcode, WS_OP_PING);
	T_EQ_INT(whole.ev[4].type, WS_FRAME_END);
	T_EQ_INT(whole.ev[4].dlen, 4);
	T_CHECK(memcmp(whole.data + whole.ev[4].off, "ping", 4) == 0);
	T_CHECK(memcmp(whole.data, "H\xe2", 2) == 0);
	T_CHECK(memcmp(whole.data + 6, "\x82\xac!", 3) == 0);
	T_EQ_INT(whole.ev[22].opcode, WS_OP_CLOSE);
	T_EQ_INT(whole.ev[22].dlen, 6);
	T_EQ_INT(ws_close_code(whole.data + whole.ev[22].off, 6), 1000);
	T_EQ_INT(whole.datalen, 2 + 4 + 1 + 2 + 200 + 65536 + 6);
}

struct bad {
	int b0;
	const char *payload;
	size_t len;
	int len_form;
	int status;
	const char *reason;
};

static const struct bad bad[] = {
    {0xc1, "a", 1, 0, 1002, "reserved bits"},
    {0xa1, "a", 1, 0, 1002, "reserved bits"},
    {0x91, "a", 1, 0, 1002, "reserved bits"},
    {0x83, "a", 1, 0, 1002, "unknown opcode"},
    {0x87, "a", 1, 0, 1002, "unknown opcode"},
    {0x8b, "a", 1, 0, 1002, "unknown opcode"},
    {0x8f, "a", 1, 0, 1002, "unknown opcode"},
    {0x09, "a", 1, 0, 1002, "fragmented control frame"},
    {0x89, NULL, 126, 16, 1002, "control frame too long"},
    {0x81, "a", 1, 16, 1002, "not minimally encoded"},
    {0x82, NULL, 125, 16, 1002, "not minimally encoded"},
    {0x81, "a", 1, 64, 1002, "not minimally encoded"},
    {0x82, NULL, 65535, 64, 1002, "not minimally encoded"},
    {0x82, NULL, 65537, 64, 1009, "frame too big"},
    {0x80, "a", 1, 0, 1002, "continuation frame without"},
    {0x81, "a\xff", 2, 0, 1007, "invalid UTF-8"},
    {0x81, "\xc0\x80", 2, 0, 1007, "invalid UTF-8"},
    {0x81, "\xed\xa0\x80", 3, 0, 1007, "invalid UTF-8"},
    {0x81, "\xf4\x90\x80\x80", 4, 0, 1007, "invalid UTF-8"},
    {0x81, "ab\xe2\x82", 4, 0, 1007, "ends inside a UTF-8"},
    {0x88, "\x03", 1, 0, 1002, "invalid close frame status"},
    {0x88, "\x03\xed", 2, 0, 1002, "invalid close frame status"},
    {0x88, "\x03\xe7", 2, 0, 1002, "invalid close frame status"},
    {0x88, "\x03\xe8\xff", 3, 0, 1007, "invalid UTF-8 in close"},
};

T_TEST(test_rejections)
{
	static uint8_t zeros[70000];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = frame(in, bad[i].b0,
		    bad[i].payload ? bad[i].payload : (const char *)zeros,
		    bad[i].len, bad[i].len_form);
		parse_all_ways(in, n);
		T_EXPECT(!(whole.status != bad[i].status ||
			     strstr(whole.reason ? whole.reason : "",
				 bad[i].reason) == NULL),
		    "case %zu: %d %s, expected %d %s", i, whole.status,
		    whole.reason ? whole.reason : "", bad[i].status,
		    bad[i].reason);
	}
	/* Only the bytes before a bad one are reported. */
	n = frame(in, 0x81, "abc\xff", 4, 0);
	parse_all_ways(in, n);
	T_EQ_INT(whole.datalen, 3);
}

T_TEST(test_sequence_rejections)
{
	static uint8_t big[40000];
	size_t n;

	/* An unmasked frame. */
	memcpy(in,
	    "\x81\x01"
	    "a",
	    3);
	parse_all_ways(in, 3);
	T_EQ_INT(whole.status, 1002);
	T_CONTAINS(whole.reason, "not masked");
	/* A new message before the fragmented one ended. */
	n = frame(in, 0x01, "a", 1, 0);
	n += frame(in + n, 0x82, "b", 1, 0);
	parse_all_ways(in, n);
	T_EQ_INT(whole.status, 1002);
	T_CONTAINS(whole.reason, "before the last one ended");
	/* Fragments of one message adding up to too much. */
	n = frame(in, 0x02, big, sizeof(big), 16);
	n += frame(in + n, 0x80, big, sizeof(big), 16);
	parse_all_ways(in, n);
	T_EQ_INT(whole.status, 1009);
	T_CONTAINS(whole.reason, "message too big");
	/* UTF-8 validation spans fragments. */
	n = frame(in, 0x01, "\xe2", 1, 0);
	n += frame(in + n, 0x80, "\x28", 1, 0);
	parse_all_ways(in, n);
	T_EQ_INT(whole.status, 1007);
	T_EQ_INT(whole.nev, 4);
}

T_TEST(test_errors_stick)
{
	struct ws_parser p;
	const uint8_t *d;
	size_t used, dl;

	ws_parser_init(&p);
	T_EQ_INT(ws_parse(&p, "\x81\x01", 2, &used, &d, &dl), WS_ERROR);
	T_EQ_INT(used, 2);
	T_EQ_INT(ws_parse(&p, "\x81\x81", 2, &used, &d, &dl), WS_ERROR);
	T_EQ_INT(used, 0);
	T_EQ_INT(p.err.status, WS_CLOSE_PROTOCOL);
	/* A frame with no payload ends on a call with no input. */
	ws_parser_init(&p);
	T_EQ_INT(ws_parse(&p, "\x8a\x80\x01\x02\x03\x04", 6, &used, &d, &dl),
	    WS_FRAME_BEGIN);
	T_EQ_INT(used, 6);
	T_EQ_INT(ws_parse(&p, "", 0, &used, &d, &dl), WS_FRAME_END);
	T_EQ_INT(ws_parse(&p, "", 0, &used, &d, &dl), WS_NEED_MORE);
}

int
main(void)
{
	T_RUN(test_accept);
	T_RUN(test_frame_header);
	T_RUN(test_close_payload);
	T_RUN(test_unmask);
	T_RUN(test_rfc_examples);
	T_RUN(test_sequences);
	T_RUN(test_rejections);
	T_RUN(test_sequence_rejections);
	T_RUN(test_errors_stick);
	return T_DONE();
}
