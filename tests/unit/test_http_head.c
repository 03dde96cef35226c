/*
 * HTTP heads: real requests from lxc 5.0.2, derived fields, one negative
 * case per rejection rule, and the same verdict whatever prefixes of the
 * input the parser saw first.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tests/t.h"

/* What lxc 5.0.2 sends for "lxc image import meta.tar.xz rootfs". */
#define LXC_IMPORT                                                             \
	"POST /1.0/images HTTP/1.1\r\n"                                        \
	"Host: unix.socket\r\n"                                                \
	"User-Agent: LXD 5.0.2\r\n"                                            \
	"Transfer-Encoding: chunked\r\n"                                       \
	"Content-Type: multipart/form-data; boundary=0d5e4ef4db5dbd074181"     \
	"e36d45838d0e490b42a5f51d3867639c5b19572d\r\n"                         \
	"X-Lxd-Filename: meta.tar.xz\r\n"                                      \
	"Accept-Encoding: gzip\r\n"                                            \
	"Connection: close\r\n"                                                \
	"\r\n"

/* ... and for "lxc monitor" (gorilla/websocket). */
#define LXC_EVENTS                                                             \
	"GET /1.0/events HTTP/1.1\r\n"                                         \
	"Host: unix.socket\r\n"                                                \
	"User-Agent: LXD 5.0.2\r\n"                                            \
	"Connection: Upgrade\r\n"                                              \
	"Sec-WebSocket-Key: bQhGf0n8ofOi48Q3M1chpw==\r\n"                      \
	"Sec-WebSocket-Version: 13\r\n"                                        \
	"Upgrade: websocket\r\n"                                               \
	"\r\n"

static struct http_head h_whole, h_part;

static ssize_t
parse(struct http_head *h, const char *buf, size_t len, int request)
{
	return request ? http_parse_request_head(h, buf, len)
		       : http_parse_response_head(h, buf, len);
}

/* Parse a heap copy of exactly len bytes, so ASan sees any overread. */
static ssize_t
parse_copy(struct http_head *h, const char *in, size_t len, int request)
{
	char *c = malloc(len ? len : 1);
	ssize_t r;

	memcpy(c, in, len);
	r = parse(h, c, len, request);
	free(c);
	return r;
}

static int
same_head(const struct http_head *a, const struct http_head *b)
{
	const char *an, *av, *bn, *bv;
	size_t i;

	if (a->err.status != b->err.status ||
	    (a->err.reason != b->err.reason &&
		strcmp(a->err.reason, b->err.reason) != 0))
		return 0;
	if (a->err.status != 0)
		return 1;
	if (a->version != b->version || a->status != b->status ||
	    a->content_length != b->content_length ||
	    a->chunked != b->chunked || a->keep_alive != b->keep_alive ||
	    a->websocket != b->websocket || a->nfields != b->nfields ||
	    strcmp(http_head_method(a), http_head_method(b)) != 0 ||
	    strcmp(http_head_target(a), http_head_target(b)) != 0 ||
	    strcmp(http_head_reason(a), http_head_reason(b)) != 0)
		return 0;
	for (i = 0; i < a->nfields; i++) {
		http_head_field(a, i, &an, &av);
		http_head_field(b, i, &bn, &bv);
		if (strcmp(an, bn) != 0 || strcmp(av, bv) != 0)
			return 0;
	}
	return 1;
}

/*
 * Parse in whole, then growing one byte at a time, then in two calls
 * split at every offset: every way must give the whole's answer, and
 * never before the bytes that decide it have arrived.
 */
static ssize_t
parse_all_ways(const char *in, size_t len, int request)
{
	/* Large inputs: no copy per byte, and every 61st split only. */
	int small = len <= 4096;
	ssize_t whole, r;
	size_t k;

	http_head_init(&h_whole);
	whole = parse_copy(&h_whole, in, len, request);
	http_head_init(&h_part);
	for (k = 0, r = 0; k <= len && r == 0; k++)
		r = small ? parse_copy(&h_part, in, k, request)
			  : parse(&h_part, in, k, request);
	T_EXPECT(!(r != whole || !same_head(&h_whole, &h_part)),
	    "byte at a time: %zd, whole: %zd", r, whole);
	T_EXPECT(!(whole > 0 && (size_t)whole != k - 1),
	    "head complete at %zu, not %zd", k - 1, whole);
	for (k = 0; k <= len; k += small ? 1 : 61) {
		http_head_init(&h_part);
		r = parse_copy(&h_part, in, k, request);
		if (r == 0)
			r = parse_copy(&h_part, in, len, request);
		if (r != whole || !same_head(&h_whole, &h_part)) {
			T_FAIL("split at %zu: %zd, whole: %zd", k, r, whole);
			break;
		}
	}
	return whole;
}

T_TEST(test_lxc_import)
{
	const char *in = LXC_IMPORT "5\r\nhello";
	size_t i;

	T_EQ_INT(parse_all_ways(in, strlen(in), 1), strlen(LXC_IMPORT));
	T_EQ_STR(http_head_method(&h_whole), "POST");
	T_EQ_STR(http_head_target(&h_whole), "/1.0/images");
	T_EQ_INT(h_whole.version, 11);
	T_EQ_INT(h_whole.chunked, 1);
	T_EQ_INT(h_whole.content_length, -1);
	T_EQ_INT(h_whole.keep_alive, 0);
	T_EQ_INT(h_whole.websocket, HTTP_WS_NONE);
	T_EQ_INT(h_whole.nfields, 7);
	T_EQ_STR(http_head_get(&h_whole, "x-lxd-filename"), "meta.tar.xz");
	T_EQ_STR(http_head_get(&h_whole, "CONTENT-TYPE"),
	    "multipart/form-data; boundary=0d5e4ef4db5dbd074181e36d45838d0e"
	    "490b42a5f51d3867639c5b19572d");
	T_CHECK(http_head_get(&h_whole, "Content-Length") == NULL);
	i = 0;
	T_CHECK(http_head_next(&h_whole, "X-Lxd-Filename", &i) != NULL);
	T_CHECK(http_head_next(&h_whole, "X-Lxd-Filename", &i) == NULL);
}

T_TEST(test_lxc_events)
{
	T_EQ_INT(parse_all_ways(LXC_EVENTS, strlen(LXC_EVENTS), 1),
	    strlen(LXC_EVENTS));
	T_EQ_INT(h_whole.websocket, HTTP_WS_OK);
	T_EQ_INT(h_whole.keep_alive, 1);
	T_EQ_STR(http_head_get(&h_whole, "sec-websocket-key"),
	    "bQhGf0n8ofOi48Q3M1chpw==");
}

T_TEST(test_repeated_fields)
{
	const char *in = "PUT /1.0/images/abc HTTP/1.1\r\nHost: x\r\n"
			 "X-LXD-properties: os=debian\r\n"
			 "Other: 1\r\n"
			 "x-lxd-PROPERTIES:   release=bookworm \t\r\n"
			 "X-LXD-properties:\r\n\r\n";
	const char *v, *name;
	size_t i = 0;

	T_EQ_INT(parse_all_ways(in, strlen(in), 1), strlen(in));
	T_EQ_INT(http_head_count(&h_whole, "X-LXD-Properties"), 3);
	T_EQ_STR(http_head_next(&h_whole, "X-LXD-Properties", &i), "os=debian");
	T_EQ_STR(http_head_next(&h_whole, "X-LXD-Properties", &i),
	    "release=bookworm");
	T_EQ_STR(http_head_next(&h_whole, "X-LXD-Properties", &i), "");
	T_CHECK(http_head_next(&h_whole, "X-LXD-Properties", &i) == NULL);
	T_EQ_INT(http_head_field(&h_whole, 2, &name, &v), 0);
	T_EQ_STR(name, "Other");
	T_EQ_INT(http_head_field(&h_whole, 5, &name, &v), -1);
}

struct derived {
	const char *in;
	int request;
	int version, status, keep_alive, chunked;
	long long content_length;
	enum http_ws ws;
	const char *reason;
};

static const struct derived derived[] = {
    {"GET / HTTP/1.0\r\n\r\n", 1, 10, 0, 0, 0, -1, HTTP_WS_NONE, ""},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1, 10, 0, 1, 0, -1,
	HTTP_WS_NONE, ""},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, 11, 0, 1, 0, -1, HTTP_WS_NONE, ""},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: x, , CLOSE\r\n\r\n", 1, 11, 0, 0,
	0, -1, HTTP_WS_NONE, ""},
    {"POST /a?b=c HTTP/1.1\r\nHost: [::1]:8443\r\n"
     "Content-Length: 007\r\nContent-Length: 7\r\n\r\n",
	1, 11, 0, 1, 0, 7, HTTP_WS_NONE, ""},
    {"POST / HTTP/1.1\r\nHost:\r\n"
     "Content-Length: 9223372036854775807\r\n\r\n",
	1, 11, 0, 1, 0, 9223372036854775807LL, HTTP_WS_NONE, ""},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", 1, 11,
	0, 1, 1, -1, HTTP_WS_NONE, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
     "Connection: keep-alive, upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_OK, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_BAD, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: short==\r\n"
     "Sec-WebSocket-Version: 13\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_BAD, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_BAD, ""},
    {"POST /e HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_BAD, ""},
    {"GET /e HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\n\r\n",
	1, 10, 0, 0, 0, -1, HTTP_WS_BAD, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 8\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_BAD_VERSION, ""},
    {"GET /e HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n"
     "Connection: Upgrade\r\n\r\n",
	1, 11, 0, 1, 0, -1, HTTP_WS_NONE, ""},
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 0, 11, 200, 1, 0, 2,
	HTTP_WS_NONE, "OK"},
    {"HTTP/1.1 204\r\n\r\n", 0, 11, 204, 1, 0, -1, HTTP_WS_NONE, ""},
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n\r\n",
	0, 11, 101, 1, 0, -1, HTTP_WS_NONE, "Switching Protocols"},
    {"HTTP/1.0 404 Not  Found\t\r\nConnection: close\r\n\r\n", 0, 10, 404, 0, 0,
	-1, HTTP_WS_NONE, "Not  Found\t"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 11, 200, 1, 1,
	-1, HTTP_WS_NONE, "OK"},
};

T_TEST(test_derived)
{
	const struct derived *d;
	size_t i;

	for (i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
		d = &derived[i];
		if (parse_all_ways(d->in, strlen(d->in), d->request) !=
		    (ssize_t)strlen(d->in)) {
			T_FAIL("case %zu: %s", i, h_whole.err.reason);
			continue;
		}
		T_EXPECT(
		    !(h_whole.version != d->version ||
			h_whole.status != d->status ||
			h_whole.keep_alive != d->keep_alive ||
			h_whole.chunked != d->chunked ||
			h_whole.content_length != d->content_length ||
			h_whole.websocket != d->ws ||
			strcmp(http_head_reason(&h_whole), d->reason) != 0),
		    "case %zu: derived fields differ", i);
	}
}

struct bad {
	const char *in;
	int request;
	int status;
	const char *reason;
};

#define H "Host: a\r\n"
static const struct bad bad[] = {
    {"GET / HTTP/1.1\n" H "\r\n", 1, 400, "not ended by CRLF"},
    {"GET / HTTP/1.1\r\nHost: a\n\r\n", 1, 400, "not ended by CRLF"},
    {"GET / HTTP/1.1\r\n" H "\n", 1, 400, "not ended by CRLF"},
    {"GET / HTTP/1.1\r\nX: a\rb\r\n" H "\r\n", 1, 400,
	"invalid character in header field value"},
    {"GET / HTTP/1.1\r\r\n" H "\r\n", 1, 400, "invalid HTTP version"},
    {"G(T / HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid method"},
    {" / HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid method"},
    {"GET\r\n" H "\r\n", 1, 400, "invalid method"},
    {"GET  / HTTP/1.1\r\n" H "\r\n", 1, 400, "must start with /"},
    {"GET http://a/ HTTP/1.1\r\n" H "\r\n", 1, 400, "must start with /"},
    {"OPTIONS * HTTP/1.1\r\n" H "\r\n", 1, 400, "must start with /"},
    {"GET /a\"b HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid character in r"},
    {"GET /a#b HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid character in r"},
    {"GET /\x80 HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid character in r"},
    {"GET /a\tb HTTP/1.1\r\n" H "\r\n", 1, 400, "invalid character in r"},
    {"GET /%zz HTTP/1.1\r\n" H "\r\n", 1, 400, "bad percent-encoding"},
    {"GET /%4 HTTP/1.1\r\n" H "\r\n", 1, 400, "bad percent-encoding"},
    {"GET /\r\n" H "\r\n", 1, 400, "has no HTTP version"},
    {"GET / HTTP/1.1 \r\n" H "\r\n", 1, 400, "invalid HTTP version"},
    {"GET / http/1.1\r\n" H "\r\n", 1, 400, "invalid HTTP version"},
    {"GET / HTTP/1.10\r\n" H "\r\n", 1, 400, "invalid HTTP version"},
    {"GET / HTTP/2.0\r\n" H "\r\n", 1, 505, "not supported"},
    {"GET / HTTP/1.2\r\n" H "\r\n", 1, 505, "not supported"},
    {"GET / HTTP/0.9\r\n" H "\r\n", 1, 505, "not supported"},
    {"GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n", 1, 400,
	"obsolete line folding"},
    {"GET / HTTP/1.1\r\n\tX: a\r\n" H "\r\n", 1, 400, "obsolete line folding"},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 1, 400, "whitespace before colon"},
    {"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 1, 400, "invalid header field name"},
    {"GET / HTTP/1.1\r\nHost\r\n\r\n", 1, 400, "invalid header field name"},
    {"GET / HTTP/1.1\r\n: a\r\n" H "\r\n", 1, 400, "invalid header field name"},
    {"GET / HTTP/1.1\r\nX: a\x7f\r\n" H "\r\n", 1, 400,
	"invalid character in header field value"},
    {"GET / HTTP/1.1\r\nX: \x01\r\n" H "\r\n", 1, 400,
	"invalid character in header field value"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: 1a\r\n\r\n", 1, 400,
	"invalid Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", 1, 400,
	"invalid Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 1, 400,
	"invalid Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 1, 400,
	"invalid Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", 1, 400,
	"invalid Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775808\r\n\r\n", 1,
	413, "Content-Length too large"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", 1,
	413, "Content-Length too large"},
    {"POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	1, 400, "conflicting Content-Length"},
    {"POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", 1, 501,
	"unsupported Transfer-Encoding"},
    {"POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", 1, 501,
	"unsupported Transfer-Encoding"},
    {"POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
     "Transfer-Encoding: chunked\r\n\r\n",
	1, 400, "repeated Transfer-Encoding"},
    {"POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
     "Content-Length: 5\r\n\r\n",
	1, 400, "both Content-Length and Transfer-Encoding"},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 400,
	"in an HTTP/1.0 message"},
    {"GET / HTTP/1.1\r\n\r\n", 1, 400, "missing Host"},
    {"GET / HTTP/1.0\r\n" H H "\r\n", 1, 400, "repeated Host"},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 1, 400, "invalid Host"},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 1, 400, "invalid Host"},
    {"GET / HTTP/1.1\r\n" H "Connection: close;x\r\n\r\n", 1, 400,
	"invalid Connection"},
    {"HTTP/1.1 20 OK\r\n\r\n", 0, 400, "invalid status line"},
    {"HTTP/1.1 600 X\r\n\r\n", 0, 400, "invalid status line"},
    {"HTTP/1.1 200OK\r\n\r\n", 0, 400, "invalid status line"},
    {"HTTP/1.1 200 O\x01K\r\n\r\n", 0, 400, "invalid reason phrase"},
    {"HTTP/3 200 OK\r\n\r\n", 0, 400, "invalid HTTP version"},
    {"HTTP/2.0 200 OK\r\n\r\n", 0, 505, "not supported"},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: x\r\n\r\n", 0, 501,
	"unsupported Transfer-Encoding"},
};
#undef H

T_TEST(test_rejections)
{
	const struct bad *b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = &bad[i];
		if (parse_all_ways(b->in, strlen(b->in), b->request) != -1) {
			T_FAIL("case %zu accepted", i);
			continue;
		}
		T_EXPECT(!(h_whole.err.status != b->status ||
			     strstr(h_whole.err.reason, b->reason) == NULL),
		    "case %zu: %d %s, expected %d %s", i, h_whole.err.status,
		    h_whole.err.reason, b->status, b->reason);
	}
}

/* Append to a growing test input. */
static char big[2 * HTTP_HEAD_MAX];
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

/* A request line of exactly n bytes. */
static void
add_request_line(size_t n)
{
	biglen = 0;
	add("GET /");
	add_fill('a', n - strlen("GET / HTTP/1.1"));
	add(" HTTP/1.1\r\n");
}

T_TEST(test_line_limits)
{
	add_request_line(LIM_HTTP_LINE_MAX);
	add("Host: a\r\nX: ");
	add_fill('v', LIM_HTTP_LINE_MAX - 3);
	add("\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 1), biglen);

	add_request_line(LIM_HTTP_LINE_MAX + 1);
	add("Host: a\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 1), -1);
	T_EQ_INT(h_whole.err.status, 414);
	T_CONTAINS(h_whole.err.reason, "request line too long");

	/* Refused before the line ends. */
	add_request_line(LIM_HTTP_LINE_MAX + 1);
	biglen -= 1;
	http_head_init(&h_whole);
	T_EQ_INT(parse_copy(&h_whole, big, biglen, 1), -1);
	T_EQ_INT(h_whole.err.status, 414);

	biglen = 0;
	add("HTTP/1.1 200 ");
	add_fill('r', LIM_HTTP_LINE_MAX - 12);
	add("\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 0), -1);
	T_EQ_INT(h_whole.err.status, 400);
	T_CONTAINS(h_whole.err.reason, "status line too long");
	biglen -= 5;
	add("\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 0), biglen);

	add_request_line(20);
	add("Host: a\r\nX: ");
	add_fill('v', LIM_HTTP_LINE_MAX - 2);
	add("\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 1), -1);
	T_EQ_INT(h_whole.err.status, 431);
	T_CONTAINS(h_whole.err.reason, "header field too long");
}

/* Header section of exactly n bytes, with fields of about 4 KiB. */
static void
add_section(size_t n)
{
	size_t left = n - strlen("Host: a\r\n") - 2, line;

	add("Host: a\r\n");
	while (left > 0) {
		line = left > 4096 ? 4096 : left;
		if (left - line < 8 && left - line > 0)
			line = left - 8;
		add("X: ");
		add_fill('v', line - 5);
		add("\r\n");
		left -= line;
	}
	add("\r\n");
}

T_TEST(test_section_limits)
{
	size_t i;

	/* The largest head: a full request line and a full section. */
	add_request_line(LIM_HTTP_LINE_MAX);
	add_section(LIM_HTTP_HEADERS_TOTAL);
	T_EQ_INT(biglen, HTTP_HEAD_MAX);
	T_EQ_INT(parse_all_ways(big, biglen, 1), biglen);

	add_request_line(LIM_HTTP_LINE_MAX);
	add_section(LIM_HTTP_HEADERS_TOTAL + 1);
	T_EQ_INT(parse_all_ways(big, biglen, 1), -1);
	T_EQ_INT(h_whole.err.status, 431);
	T_CONTAINS(h_whole.err.reason, "header section too large");

	add_request_line(16);
	add("Host: a\r\n");
	for (i = 1; i < LIM_HTTP_HEADER_FIELDS; i++)
		add("X-Many: 1\r\n");
	add("\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 1), biglen);
	T_EQ_INT(h_whole.nfields, LIM_HTTP_HEADER_FIELDS);
	biglen -= 2;
	add("X-Many: 1\r\n\r\n");
	T_EQ_INT(parse_all_ways(big, biglen, 1), -1);
	T_EQ_INT(h_whole.err.status, 431);
	T_CONTAINS(h_whole.err.reason, "too many header fields");
}

T_TEST(test_misuse)
{
	const char *in = "GET / HTTP/1.1\r\nHost: a\r\n";

	http_head_init(&h_whole);
	T_EQ_INT(http_parse_request_head(&h_whole, in, strlen(in)), 0);
	T_EQ_INT(http_parse_request_head(&h_whole, in, 3), -1);
	T_EQ_INT(h_whole.err.status, 500);
	/* Errors stick. */
	T_EQ_INT(http_parse_request_head(&h_whole, in, strlen(in)), -1);
	/* A complete head keeps its answer. */
	in = LXC_EVENTS;
	http_head_init(&h_whole);
	T_EQ_INT(http_parse_request_head(&h_whole, in, strlen(in)), strlen(in));
	T_EQ_INT(http_parse_request_head(&h_whole, in, strlen(in)), strlen(in));
}

T_TEST(test_list_has)
{
	T_EQ_INT(http_list_has("Upgrade", "upgrade"), 1);
	T_EQ_INT(http_list_has(" keep-alive ,Upgrade ", "upgrade"), 1);
	T_EQ_INT(http_list_has(",,close,", "close"), 1);
	T_EQ_INT(http_list_has("closed", "close"), 0);
	T_EQ_INT(http_list_has("", "close"), 0);
	T_EQ_INT(http_list_has("a b", "a"), -1);
	T_EQ_INT(http_list_has("a;b", "a"), -1);
}

int
main(void)
{
	T_RUN(test_lxc_import);
	T_RUN(test_lxc_events);
	T_RUN(test_repeated_fields);
	T_RUN(test_derived);
	T_RUN(test_rejections);
	T_RUN(test_line_limits);
	T_RUN(test_section_limits);
	T_RUN(test_misuse);
	T_RUN(test_list_has);
	return T_DONE();
}
