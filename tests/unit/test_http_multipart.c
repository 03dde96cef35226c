/*
 * multipart/form-data: lxc 5.0.2's split image upload (through the
 * chunked decoder too), boundary look-alikes inside data, the same events
 * under every split of the input, one negative case per rejection rule,
 * and the writer (one close delimiter, exact Content-Length).
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tests/t.h"

#define B "0d5e4ef4db5dbd074181e36d45838d0e490b42a5f51d3867639c5b19572d"
#define B_MINUS_1 "0d5e4ef4db5dbd074181e36d45838d0e490b42a5f51d3867639c5b19572"

#define PART(name, file)                                                       \
	"Content-Disposition: form-data; name=\"" name "\"; filename=\"" file  \
	"\"\r\nContent-Type: application/octet-stream\r\n\r\n"

/* Data that looks like a delimiter but is not one. */
#define META                                                                   \
	"\x00\x01meta\r\n--0d5e\r\n--\r\n-\r\r\n--" B_MINUS_1 "X"              \
	"--" B "\r\n\xff\r\n--" B_MINUS_1
#define ROOTFS "\r\n\r\n--" B_MINUS_1 "\r"

/* As Go's mime/multipart writes it; lxc 5.0.2 closes it twice. */
static const char lxc_body[] = "--" B "\r\n" PART("metadata", "meta.tar.xz")
    META "\r\n--" B "\r\n" PART("rootfs", "rootfs.tar.xz") ROOTFS
    "\r\n--" B "--\r\n"
    "\r\n--" B "--\r\n";

/* The events of one parse; consecutive data spans are merged. */
struct ev {
	enum mp_event type;
	struct mp_part part;
	size_t off, len; /* data in log.data */
};

struct log {
	struct ev ev[16];
	size_t nev;
	char data[16384];
	size_t datalen;
	int status;
	const char *reason;
	int finish;
};

static void
log_event(struct log *l, enum mp_event type, const struct mp_parser *p,
    const uint8_t *d, size_t dl)
{
	struct ev *e;

	if (type == MP_DATA && l->nev > 0 &&
	    l->ev[l->nev - 1].type == MP_DATA) {
		e = &l->ev[l->nev - 1];
	} else {
		if (l->nev == sizeof(l->ev) / sizeof(l->ev[0])) {
			T_FAIL("too many events");
			return;
		}
		e = &l->ev[l->nev++];
		memset(e, 0, sizeof(*e));
		e->type = type;
		e->off = l->datalen;
		if (type == MP_PART_BEGIN)
			e->part = p->part;
	}
	if (dl > sizeof(l->data) - l->datalen) {
		T_FAIL("too much data");
		return;
	}
	if (dl > 0)
		memcpy(l->data + l->datalen, d, dl);
	l->datalen += dl;
	e->len += dl;
}

/* Feed one piece; 0, or -1 once the parser failed. */
static int
feed(struct mp_parser *p, struct log *l, const void *in, size_t len)
{
	const uint8_t *d;
	enum mp_event ev;
	size_t n = 0, used, dl, rounds = 0;

	for (;;) {
		ev = mp_parse(p, (const char *)in + n, len - n, &used, &d, &dl);
		n += used;
		if (ev == MP_ERROR) {
			l->status = p->err.status;
			l->reason = p->err.reason;
			return -1;
		}
		if (ev == MP_NEED_MORE) {
			T_EXPECT(!(n != len), "MP_NEED_MORE with input left");
			return 0;
		}
		T_EXPECT(!(ev == MP_DATA && dl == 0), "empty data span");
		log_event(l, ev, p, d, dl);
		if (++rounds > 4 * len + 16) {
			T_FAIL("no progress");
			return -1;
		}
	}
}

/* Parse in pieces: the first first bytes long (0: step), then step. */
static void
parse(const char *in, size_t len, size_t first, size_t step, int max_parts,
    struct log *l)
{
	struct mp_parser p;
	size_t off, piece;
	char *copy;
	int r;

	memset(l, 0, sizeof(*l));
	if (mp_init(&p, B, max_parts) == -1) {
		T_FAIL("mp_init");
		return;
	}
	for (off = 0; off < len; off += piece) {
		piece = off == 0 && first > 0 ? first : step;
		if (piece > len - off)
			piece = len - off;
		copy = malloc(piece);
		memcpy(copy, in + off, piece);
		r = feed(&p, l, copy, piece);
		free(copy);
		if (r == -1)
			return;
	}
	l->finish = mp_finish(&p);
	l->status = p.err.status;
	l->reason = p.err.reason;
}

static int
same(const struct log *a, const struct log *b)
{
	size_t i;

	if (a->nev != b->nev || a->datalen != b->datalen ||
	    memcmp(a->data, b->data, a->datalen) != 0 ||
	    a->status != b->status || a->finish != b->finish ||
	    (a->reason != b->reason && strcmp(a->reason, b->reason) != 0))
		return 0;
	for (i = 0; i < a->nev; i++)
		if (a->ev[i].type != b->ev[i].type ||
		    a->ev[i].len != b->ev[i].len ||
		    memcmp(&a->ev[i].part, &b->ev[i].part,
			sizeof(a->ev[i].part)) != 0)
			return 0;
	return 1;
}

static struct log whole, other;

/* Whole, byte at a time, and split in two at every offset. */
static void
parse_all_ways(const char *in, size_t len, int max_parts)
{
	size_t k;

	parse(in, len, 0, len ? len : 1, max_parts, &whole);
	parse(in, len, 0, 1, max_parts, &other);
	T_EXPECT(same(&whole, &other), "byte at a time differs from whole");
	for (k = 1; k < len; k++) {
		parse(in, len, k, len, max_parts, &other);
		if (!same(&whole, &other)) {
			T_FAIL("split at %zu differs from whole", k);
			break;
		}
	}
}

static void
check_part(const struct ev *e, const char *name, const char *file)
{
	T_EQ_INT(e->type, MP_PART_BEGIN);
	T_EQ_STR(e->part.name, name);
	T_EQ_INT(e->part.has_filename, 1);
	T_EQ_STR(e->part.filename, file);
	T_EQ_STR(e->part.content_type, "application/octet-stream");
}

static void
check_lxc(const struct log *l)
{
	static const enum mp_event want[] = {MP_PART_BEGIN, MP_DATA,
	    MP_PART_END, MP_PART_BEGIN, MP_DATA, MP_PART_END, MP_DONE};
	size_t i;

	T_EQ_INT(l->status, 0);
	T_EQ_INT(l->finish, 0);
	T_EQ_INT(l->nev, 7);
	for (i = 0; i < l->nev && i < 7; i++)
		T_EQ_INT(l->ev[i].type, want[i]);
	if (l->nev != 7)
		return;
	check_part(&l->ev[0], "metadata", "meta.tar.xz");
	check_part(&l->ev[3], "rootfs", "rootfs.tar.xz");
	T_EQ_INT(l->ev[0].part.index, 0);
	T_EQ_INT(l->ev[3].part.index, 1);
	T_EQ_INT(l->ev[1].len, sizeof(META) - 1);
	T_CHECK(memcmp(l->data + l->ev[1].off, META, sizeof(META) - 1) == 0);
	T_EQ_INT(l->ev[4].len, sizeof(ROOTFS) - 1);
	T_CHECK(
	    memcmp(l->data + l->ev[4].off, ROOTFS, sizeof(ROOTFS) - 1) == 0);
}

T_TEST(test_lxc_upload)
{
	parse_all_ways(lxc_body, sizeof(lxc_body) - 1, 2);
	check_lxc(&whole);
}

/* The frontend's path: chunked body -> decoder spans -> multipart. */
T_TEST(test_lxc_upload_chunked)
{
	static char enc[8192];
	struct http_chunked c;
	struct mp_parser p;
	struct log l;
	const uint8_t *d;
	size_t len = sizeof(lxc_body) - 1, off, n, elen, dl, step, k;
	char hdr[HTTP_CHUNK_HEADER_MAX];
	ssize_t got;

	for (step = 1; step < 40; step += 7) {
		/* Go writes chunks of whatever size; try several. */
		for (off = elen = 0; off < len; off += n) {
			n = len - off < step * 13 ? len - off : step * 13;
			elen += http_chunk_header(hdr, n);
			memcpy(enc + elen - strlen(hdr), hdr, strlen(hdr));
			memcpy(enc + elen, lxc_body + off, n);
			memcpy(enc + elen + n, "\r\n", 2);
			elen += n + 2;
		}
		memcpy(enc + elen, "0\r\n\r\n", 5);
		elen += 5;
		memset(&l, 0, sizeof(l));
		http_chunked_init(&c);
		mp_init(&p, B, 2);
		for (k = 0; k < elen && !http_chunked_done(&c); k += got) {
			/* Decode step bytes at a time. */
			n = elen - k < step ? elen - k : step;
			got = http_chunked_decode(&c, enc + k, n, &d, &dl);
			if (got <= 0) {
				T_FAIL("chunked: %s", c.err.reason);
				break;
			}
			if (dl > 0 && feed(&p, &l, d, dl) == -1)
				break;
		}
		T_CHECK(http_chunked_done(&c));
		l.finish = mp_finish(&p);
		check_lxc(&l);
	}
}

/* Bodies that must parse to one part holding exactly data. */
static const struct {
	const char *body;
	const char *data;
} tricky[] = {
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "\r\n--" B "--",
	""},
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "\r\n\r\n--" B "--\r\n",
	"\r\n"},
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "\r\r\r\n--" B "--\r\n",
	"\r\r"},
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "--" B "\r\n--" B "--\r\n",
	"--" B},
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "\r\n--" B_MINUS_1 "\r\n--" B "--\r\n",
	"\r\n--" B_MINUS_1},
    {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
     "x\r\n--" B_MINUS_1 "\r\n\r\n--" B "--\r\n",
	"x\r\n--" B_MINUS_1 "\r\n"},
    /* Preamble, padding after delimiters, epilogue. */
    {"preamble\r\n--\r\n--" B_MINUS_1 "\r\n--" B " \t\r\n"
     "Content-Disposition: form-data; name=a\r\n\r\nd"
     "\r\n--" B "-- \r\nepilogue\r\n--" B "\r\n",
	"d"},
    {"\r\n--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nd"
     "\r\n--" B "--",
	"d"},
};

T_TEST(test_lookalikes)
{
	size_t i;

	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		parse_all_ways(tricky[i].body, strlen(tricky[i].body), 1);
		if (whole.status != 0 || whole.finish != 0 || whole.nev < 3) {
			T_FAIL("case %zu: %s", i, whole.reason);
			continue;
		}
		T_EXPECT(
		    !(whole.datalen != strlen(tricky[i].data) ||
			memcmp(whole.data, tricky[i].data, whole.datalen) != 0),
		    "case %zu: data differs", i);
	}
}

T_TEST(test_part_fields)
{
	const char *body =
	    "--" B "\r\ncontent-disposition:FORM-DATA ;NAME=\"a\\\"b\\\\c\" ;"
	    " filename=\"\"; other=x\r\nX-Ignored: 1\r\n\r\n"
	    "\r\n--" B "\r\nContent-Disposition: form-data; name=n;;\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n\r\n--" B "--";

	parse_all_ways(body, strlen(body), 2);
	T_EQ_INT(whole.status, 0);
	T_EQ_INT(whole.nev, 5);
	T_EQ_STR(whole.ev[0].part.name, "a\"b\\c");
	T_EQ_INT(whole.ev[0].part.has_filename, 1);
	T_EQ_STR(whole.ev[0].part.filename, "");
	T_EQ_STR(whole.ev[0].part.content_type, "");
	T_EQ_STR(whole.ev[2].part.name, "n");
	T_EQ_INT(whole.ev[2].part.has_filename, 0);
	T_EQ_STR(whole.ev[2].part.content_type, "text/plain; charset=utf-8");
}

#define CD "Content-Disposition: form-data; name=a\r\n"
#define OPEN "--" B "\r\n"
#define END "\r\n--" B "--\r\n"

static const struct {
	const char *body;
	int status;
	const char *reason;
} bad[] = {
    {OPEN CD "\r\nx\r\n--" B "\r\n" CD "\r\ny" END, 400, "too many parts"},
    {OPEN CD "\r\nx\r\n--" B "X", 400, "followed by other bytes"},
    {OPEN CD "\r\nx\r\n--" B "-x", 400, "followed by other bytes"},
    {OPEN CD "\r\nx\r\n--" B " x", 400, "followed by other bytes"},
    {"--" B "\n" CD "\r\nx" END, 400, "followed by other bytes"},
    {"--" B "\r\r" CD "\r\nx" END, 400, "not ended by CRLF"},
    {OPEN "Content-Type: a/b\r\n\r\nx" END, 400, "has no Content-Disposition"},
    {OPEN "\r\nx" END, 400, "has no Content-Disposition"},
    {OPEN "Content-Disposition: attachment; name=a\r\n\r\nx" END, 400,
	"not form-data"},
    {OPEN "Content-Disposition: form-data\r\n\r\nx" END, 400, "has no name"},
    {OPEN "Content-Disposition: form-data; filename=a\r\n\r\nx" END, 400,
	"has no name"},
    {OPEN "Content-Disposition: form-data; name=a; NAME=b\r\n\r\nx" END, 400,
	"repeated parameter"},
    {OPEN "Content-Disposition: form-data; name=a; filename=b; "
	  "filename=c\r\n\r\nx" END,
	400, "repeated parameter"},
    {OPEN CD CD "\r\nx" END, 400, "repeated Content-Disposition"},
    {OPEN CD "Content-Type: a\r\nContent-Type: a\r\n\r\nx" END, 400,
	"bad Content-Type"},
    {OPEN "Content-Disposition: form-data; name=\r\n\r\nx" END, 400,
	"invalid multipart Content-Disposition"},
    {OPEN "Content-Disposition: form-data; name=\"a\r\n\r\nx" END, 400,
	"invalid multipart Content-Disposition"},
    {OPEN "Content-Disposition: form-data; name=a b\r\n\r\nx" END, 400,
	"invalid multipart Content-Disposition"},
    {OPEN "Content-Disposition: form-data; name = a\r\n\r\nx" END, 400,
	"invalid multipart Content-Disposition"},
    {OPEN "Content-Disposition: form-data name=a\r\n\r\nx" END, 400,
	"invalid multipart Content-Disposition"},
    {OPEN "Content-Disposition: form-datax; name=a\r\n\r\nx" END, 400,
	"not form-data"},
    {OPEN "Content-Disposition: form-data; name=a\n\r\nx" END, 400, "bare LF"},
    {OPEN "Content-Disposition: form-data; name=a\rx\r\n\r\nx" END, 400,
	"bare CR"},
    {OPEN CD " folded\r\n\r\nx" END, 400, "obsolete line folding"},
    {OPEN CD "X-No-Colon\r\n\r\nx" END, 400, "invalid header field name"},
    {OPEN CD "X : 1\r\n\r\nx" END, 400, "whitespace before colon"},
    {OPEN CD "X: \x01\r\n\r\nx" END, 400, "invalid character"},
    {OPEN CD "\r\nx", 400, "ends before its close delimiter"},
    {OPEN CD "\r\nx\r\n--" B "-", 400, "ends before its close delimiter"},
    {"", 400, "ends before its close delimiter"},
};

T_TEST(test_rejections)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_all_ways(bad[i].body, strlen(bad[i].body), 1);
		T_EXPECT(!(whole.status != bad[i].status ||
			     strstr(whole.reason ? whole.reason : "",
				 bad[i].reason) == NULL),
		    "case %zu: %d %s, expected %d %s", i, whole.status,
		    whole.reason ? whole.reason : "", bad[i].status,
		    bad[i].reason);
	}
}

static char big[40000];
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

static void
expect(int status, const char *reason)
{
	parse(big, biglen, 0, biglen, 1, &whole);
	parse(big, biglen, 0, 1, 1, &other);
	T_CHECK(same(&whole, &other));
	T_EQ_INT(whole.status, status);
	if (status != 0)
		T_CONTAINS(whole.reason, reason);
}

T_TEST(test_limits)
{
	size_t i;

	/* Preamble: LIM_MP_PREAMBLE_MAX bytes are fine, one more is not. */
	for (i = 0; i < 2; i++) {
		biglen = 0;
		add_fill('p', LIM_MP_PREAMBLE_MAX + i);
		add("\r\n--" B "\r\n" CD "\r\nx" END);
		expect(i ? 413 : 0, "preamble too long");
	}
	/* Epilogue, counted from after the "--". */
	for (i = 0; i < 2; i++) {
		biglen = 0;
		add(OPEN CD "\r\nx\r\n--" B "--");
		add_fill('e', LIM_MP_PREAMBLE_MAX + i);
		expect(i ? 413 : 0, "epilogue too long");
	}
	/* A header block of LIM_MP_HEADERS_MAX bytes, padding included. */
	for (i = 0; i < 2; i++) {
		biglen = 0;
		add("--" B "  \r\n" CD "X: ");
		add_fill('v', LIM_MP_HEADERS_MAX - strlen(CD) - 10 + i);
		add("\r\n\r\nx" END);
		expect(i ? 413 : 0, "part header too large");
	}
	/* LIM_MP_HEADER_FIELDS fields, then one more. */
	for (i = 0; i < 2; i++) {
		size_t f;

		biglen = 0;
		add(OPEN CD);
		for (f = 1; f < LIM_MP_HEADER_FIELDS + i; f++)
			add("X: 1\r\n");
		add("\r\nx" END);
		expect(i ? 400 : 0, "too many fields");
	}
	/* Transport padding counts against the header block. */
	biglen = 0;
	add("--" B);
	add_fill(' ', LIM_MP_HEADERS_MAX + 1);
	expect(413, "transport padding too long");
	/* A name longer than LIM_FILENAME_MAX. */
	biglen = 0;
	add(OPEN "Content-Disposition: form-data; name=");
	add_fill('n', LIM_FILENAME_MAX + 1);
	add("\r\n\r\nx" END);
	expect(400, "invalid multipart Content-Disposition");
}

T_TEST(test_errors_stick)
{
	struct mp_parser p;
	const uint8_t *d;
	size_t used, dl;

	T_EQ_INT(mp_init(&p, B, 0), -1);
	T_EQ_INT(mp_init(&p, "bad\x01", 1), -1);
	T_EQ_INT(mp_init(&p, B, 1), 0);
	T_EQ_INT(
	    mp_parse(&p, "--" B "x", strlen(B) + 3, &used, &d, &dl), MP_ERROR);
	T_EQ_INT(mp_parse(&p, "\r\n", 2, &used, &d, &dl), MP_ERROR);
	T_EQ_INT(used, 0);
	T_EQ_INT(mp_finish(&p), -1);
	T_CONTAINS(p.err.reason, "followed by other bytes");
}

static const struct {
	const char *ctype;
	int status;
	const char *boundary; /* or the reason */
} ctypes[] = {
    {"multipart/form-data; boundary=" B, 0, B},
    {"Multipart/Form-Data;BOUNDARY=\"a b\"", 0, "a b"},
    {"multipart/form-data; charset=utf-8; boundary=abc", 0, "abc"},
    {"multipart/form-data; boundary=\"a\\bc\"", 0, "abc"},
    {"multipart/form-data; boundary=\"'()+_,-./:=?\"", 0, "'()+_,-./:=?"},
    {"multipart/form-data;; boundary=a ;", 0, "a"},
    {"application/json", 415, "must be multipart/form-data"},
    {"multipart/mixed; boundary=a", 415, "must be multipart/form-data"},
    {"multipart/form-dataa; boundary=a", 415, "must be multipart"},
    {"multipart/form-data", 400, "has no boundary"},
    {"multipart/form-data;", 400, "has no boundary"},
    {"multipart/form-data; boundary=", 400, "invalid multipart Content"},
    {"multipart/form-data; boundary", 400, "invalid multipart Content"},
    {"multipart/form-data boundary=a", 400, "invalid multipart Content"},
    {"multipart/form-data; boundary=\"a", 400, "invalid multipart Con"},
    {"multipart/form-data; boundary=\"\"", 400, "invalid multipart bo"},
    {"multipart/form-data; boundary=\"abc \"", 400, "invalid multipart b"},
    {"multipart/form-data; boundary=\"a;b\"", 400, "invalid multipart b"},
    {"multipart/form-data; boundary=a; boundary=a", 400,
	"invalid multipart boundary"},
    {"multipart/form-data; boundary=" B "0123456789a", 400,
	"invalid multipart boundary"},
    {"multipart/form-data; boundary=" B "0123456789ab", 400,
	"invalid multipart Content-Type"},
};

T_TEST(test_boundary_parse)
{
	char out[MP_BOUNDARY_MAX + 1];
	struct http_error err;
	size_t i;
	int r;

	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		memset(&err, 0, sizeof(err));
		r = mp_boundary_parse(ctypes[i].ctype, out, &err);
		if (ctypes[i].status == 0) {
			T_EXPECT(
			    !(r != 0 || strcmp(out, ctypes[i].boundary) != 0),
			    "case %zu: %s", i, err.reason);
		} else if (r != -1 || err.status != ctypes[i].status ||
			   strstr(err.reason, ctypes[i].boundary) == NULL)
			T_FAIL("case %zu: %d %d %s", i, r, err.status,
			    err.reason ? err.reason : "");
	}
	/* 70 bchars is the most RFC 2046 allows. */
	T_EQ_INT(
	    mp_boundary_parse(
		"multipart/form-data; boundary=" B "0123456789", out, &err),
	    0);
}

static char wbody[8192];

T_TEST(test_writer)
{
	struct mp_part_spec parts[2] = {
	    {"metadata", "meta.tar.xz", "application/octet-stream",
		sizeof(META) - 1},
	    {"rootfs", "rootfs.tar.xz", "application/octet-stream",
		sizeof(ROOTFS) - 1},
	};
	struct mp_writer w;
	char out[MP_WRITE_MAX];
	size_t len = 0, once;
	uint64_t total;
	ssize_t n;

	T_EQ_INT(mp_writer_init(&w, B), 0);
	n = mp_writer_content_type(&w, out, sizeof(out));
	T_EQ_INT(n, strlen(out));
	T_EQ_STR(out, "multipart/form-data; boundary=" B);
	n = mp_writer_part(&w, &parts[0], out, sizeof(out));
	T_EQ_STR(out, "--" B "\r\n" PART("metadata", "meta.tar.xz"));
	memcpy(wbody + len, out, (size_t)n);
	len += (size_t)n;
	memcpy(wbody + len, META, sizeof(META) - 1);
	len += sizeof(META) - 1;
	n = mp_writer_part(&w, &parts[1], out, sizeof(out));
	memcpy(wbody + len, out, (size_t)n);
	len += (size_t)n;
	memcpy(wbody + len, ROOTFS, sizeof(ROOTFS) - 1);
	len += sizeof(ROOTFS) - 1;
	n = mp_writer_close(&w, out, sizeof(out));
	T_EQ_STR(out, "\r\n--" B "--\r\n");
	memcpy(wbody + len, out, (size_t)n);
	len += (size_t)n;
	/* Exactly once: unlike lxc 5.0.2, no second trailer. */
	T_EQ_INT(mp_writer_close(&w, out, sizeof(out)), -1);
	T_EQ_INT(mp_writer_part(&w, &parts[0], out, sizeof(out)), -1);
	once = sizeof(lxc_body) - 1 - strlen("\r\n--" B "--\r\n");
	T_EQ_INT(len, once);
	T_CHECK(memcmp(wbody, lxc_body, once) == 0);
	T_EQ_INT(mp_body_length(B, parts, 2, &total), 0);
	T_EQ_INT(total, len);
	parse_all_ways(wbody, len, 2);
	check_lxc(&whole);
}

T_TEST(test_writer_rejects)
{
	struct mp_part_spec ok = {"a", NULL, NULL, 1}, spec;
	char out[MP_WRITE_MAX], longname[LIM_FILENAME_MAX + 2];
	struct mp_writer w, w2;
	uint64_t total;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_EQ_INT(mp_writer_init(&w, "bad\"boundary"), -1);
	T_EQ_INT(mp_writer_init(&w, B), 0);
	T_EQ_INT(mp_writer_close(&w, out, sizeof(out)), -1);
	spec = ok;
	spec.name = "a\nb";
	T_EQ_INT(mp_writer_part(&w, &spec, out, sizeof(out)), -1);
	spec = ok;
	spec.name = NULL;
	T_EQ_INT(mp_writer_part(&w, &spec, out, sizeof(out)), -1);
	spec = ok;
	spec.filename = longname;
	T_EQ_INT(mp_writer_part(&w, &spec, out, sizeof(out)), -1);
	spec.filename = longname + 1;
	T_CHECK(mp_writer_part(&w, &spec, out, sizeof(out)) > 0);
	spec = ok;
	spec.content_type = "text/plain\r\nX-Evil: 1";
	T_EQ_INT(mp_writer_part(&w, &spec, out, sizeof(out)), -1);
	T_EQ_INT(mp_writer_part(&w, &ok, out, 10), -1);
	T_EQ_INT(w.nparts, 1);
	/* Quotes and backslashes are escaped, and parse back. */
	spec = ok;
	spec.name = "a\"b\\c";
	T_CHECK(mp_writer_part(&w, &spec, out, sizeof(out)) > 0);
	T_CONTAINS(out, "name=\"a\\\"b\\\\c\"\r\n");
	T_EQ_INT(mp_body_length(B, &ok, 1, &total), 0);
	spec = ok;
	spec.size = UINT64_MAX;
	T_EQ_INT(mp_body_length(B, &spec, 1, &total), -1);
	T_EQ_INT(mp_body_length(B, &ok, 0, &total), -1);
	T_EQ_INT(mp_body_length(NULL, &ok, 1, &total), -1);
	/* Random boundaries: 60 hex digits, valid, different. */
	T_EQ_INT(mp_writer_init(&w, NULL), 0);
	T_EQ_INT(mp_writer_init(&w2, NULL), 0);
	T_EQ_INT(strlen(w.boundary), 60);
	T_EQ_INT(strspn(w.boundary, "0123456789abcdef"), 60);
	T_CHECK(strcmp(w.boundary, w2.boundary) != 0);
	T_EQ_INT(mp_writer_init(&w, "a b"), 0);
	T_EQ_INT(mp_writer_content_type(&w, out, sizeof(out)),
	    strlen("multipart/form-data; boundary=\"a b\""));
	T_EQ_STR(out, "multipart/form-data; boundary=\"a b\"");
}

int
main(void)
{
	T_RUN(test_lxc_upload);
	T_RUN(test_lxc_upload_chunked);
	T_RUN(test_lookalikes);
	T_RUN(test_part_fields);
	T_RUN(test_rejections);
	T_RUN(test_limits);
	T_RUN(test_errors_stick);
	T_RUN(test_boundary_parse);
	T_RUN(test_writer);
	T_RUN(test_writer_rejects);
	return T_DONE();
}
