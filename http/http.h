/*
 * Strict, streaming HTTP/1.1 codec: message heads, chunked bodies,
 * multipart/form-data, WebSocket frames, request targets, and the small
 * writers that go with them.
 *
 * Pure code: no I/O, no allocation, no global state. Every parser takes
 * untrusted bytes, is bounded by policy/limits.h, and keeps its error in
 * its own state (a struct http_error) so that a caller can answer it and
 * later calls keep failing the same way. Bodies are streamed: decoders
 * hand back spans that point into the caller's input (or, for multipart,
 * into the parser's own copy of the delimiter) and never buffer a body.
 *
 * Users: the frontend (requests), imgctl and the fetcher (responses).
 * Link: HTTP_CODEC_OBJS and $(LIB_CRYPTO) (http/module.mk).
 */
#ifndef IMGD_FRONTEND_HTTP_H
#define IMGD_FRONTEND_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "policy/limits.h"

/*
 * Why a parser refused its input. status is the HTTP status to answer
 * (400, 413, 414, 431, 501, 505); for ws_* it is the WebSocket close code
 * to send (1002, 1007, 1009). reason is a static one-line message.
 */
struct http_error {
	int status;
	const char *reason;
};

/* ------------------------------------------------------------------ */
/* Message heads (http_head.c)                                        */
/* ------------------------------------------------------------------ */

/* What a request says about switching to WebSocket (RFC 6455 4.2.1). */
enum http_ws {
	HTTP_WS_NONE,	     /* no "Upgrade: websocket" */
	HTTP_WS_OK,	     /* a complete, valid opening handshake */
	HTTP_WS_BAD,	     /* asks for websocket but is malformed: 400 */
	HTTP_WS_BAD_VERSION, /* Sec-WebSocket-Version is not 13: 426 */
};

/*
 * The limits the parsers apply, at most the compiled ones (which size the
 * buffers): a server may lower them (imgd's configuration does).
 */
struct http_limits {
	size_t line_max;      /* request line, each field line */
	size_t headers_total; /* the header section */
	size_t fields;	      /* header fields */
};
extern struct http_limits http_limits;

/* Storage for the copied head: the start line and all header fields. */
#define HTTP_HEAD_BUF (LIM_HTTP_LINE_MAX + LIM_HTTP_HEADERS_TOTAL)
/* The most bytes a valid head can take: a caller never needs more. */
#define HTTP_HEAD_MAX (LIM_HTTP_LINE_MAX + 2 + LIM_HTTP_HEADERS_TOTAL)

struct http_field {
	uint16_t name;	/* offsets of NUL-terminated strings in buf */
	uint16_t value; /* leading and trailing whitespace removed */
};

/*
 * A parsed head. Strings live in buf (a copy), so the struct does not
 * point into the caller's input and can be kept after it is drained.
 * Read the strings with the http_head_* accessors.
 */
struct http_head {
	int version;		/* 10 or 11 */
	int status;		/* responses: 100-599 */
	int64_t content_length; /* -1: no Content-Length */
	int chunked;		/* Transfer-Encoding: chunked */
	int keep_alive;		/* 0: close after this message */
	enum http_ws websocket; /* requests only */
	struct http_error err;	/* set when a parse returns -1 */

	/* Parser state: see http_parse_request_head(). */
	int stage;
	uint32_t scan;	  /* start of the next unparsed line */
	uint32_t lf_from; /* where the search for its LF resumes */
	uint32_t hstart;  /* start of the header section */

	uint16_t method, target, reason; /* offsets in buf */
	uint16_t nfields;
	uint16_t used;
	struct http_field fields[LIM_HTTP_HEADER_FIELDS];
	char buf[HTTP_HEAD_BUF];
};

void http_head_init(struct http_head *);

/*
 * Parse a request (or response) head from buf[0..len). Returns the length
 * of the head (through its CRLF CRLF) once it is complete, 0 if more bytes
 * are needed, -1 on error with h->err set. The parse is incremental: after
 * http_head_init(), call again with the same message bytes from its first
 * byte and more appended (buf may move); work done is linear in the head.
 * Bytes after the head (a body, a pipelined request) are not looked at.
 *
 * Strict: CRLF only; token method; origin-form target; HTTP/1.0 or 1.1;
 * token field names, no space before ':', no obs-fold; start line and each
 * field line <= LIM_HTTP_LINE_MAX, the header section (CRLFs included)
 * <= LIM_HTTP_HEADERS_TOTAL, <= LIM_HTTP_HEADER_FIELDS fields;
 * Content-Length digits only, repeats must agree; Transfer-Encoding only
 * "chunked", never with Content-Length; requests: one Host in HTTP/1.1.
 */
ssize_t http_parse_request_head(
    struct http_head *h, const char *buf, size_t len);
ssize_t http_parse_response_head(
    struct http_head *h, const char *buf, size_t len);

const char *http_head_method(const struct http_head *);
const char *http_head_target(const struct http_head *);
const char *http_head_reason(const struct http_head *);

/* Field i (0 <= i < h->nfields) in the order received; -1 if out of range. */
int http_head_field(
    const struct http_head *h, size_t i, const char **name, const char **value);

/*
 * Case-insensitive lookup. http_head_next() returns the next value of the
 * field name at or after index *i and moves *i past it, NULL at the end:
 * start with *i = 0 to read every value of a repeated field.
 */
const char *http_head_next(
    const struct http_head *h, const char *name, size_t *i);
const char *http_head_get(const struct http_head *h, const char *name);
size_t http_head_count(const struct http_head *h, const char *name);

/*
 * 1 if the comma-separated list value contains token (case-insensitive),
 * 0 if not, -1 if value is not a valid list of tokens.
 */
int http_list_has(const char *value, const char *token);

/* ------------------------------------------------------------------ */
/* Chunked transfer coding (http_chunked.c)                           */
/* ------------------------------------------------------------------ */

struct http_chunked {
	int state;
	uint64_t left;	/* data bytes left in the current chunk */
	size_t line;	/* bytes of the current size or trailer line */
	size_t trailer; /* bytes of the trailer section */
	size_t nfields; /* trailer fields */
	struct http_error err;
};

void http_chunked_init(struct http_chunked *);

/*
 * Decode in[0..len). Returns the bytes consumed, -1 on error (c->err).
 * When the consumed bytes include chunk data, *data and *datalen give it
 * (a span inside in); otherwise *datalen is 0. Consumption is > 0 whenever
 * len > 0 and the body is not done, so a caller loops:
 *	while (len > 0 && !http_chunked_done(c)) { n = decode(...); ... }
 * Bytes after the body are not consumed. Extensions and trailers are
 * checked, bounded (LIM_HTTP_LINE_MAX, LIM_HTTP_HEADERS_TOTAL) and dropped.
 */
ssize_t http_chunked_decode(struct http_chunked *c, const void *in, size_t len,
    const uint8_t **data, size_t *datalen);
int http_chunked_done(const struct http_chunked *);
/*
 * For a reader that moves chunk data without passing it through decode
 * (splice): how many data bytes of the current chunk are still to come
 * (0 outside chunk data), and "n of them were taken" (n at most that).
 */
uint64_t http_chunked_data_left(const struct http_chunked *);
void http_chunked_took(struct http_chunked *, uint64_t n);

/* "<hex size>\r\n" with its NUL: 16 digits + CRLF + NUL. */
#define HTTP_CHUNK_HEADER_MAX 19
/*
 * Write the header of a chunk of size bytes; the caller then writes the
 * data and HTTP_CRLF. A chunk of size 0 (with its CRLF) ends the body.
 * Returns the length written, without the NUL.
 */
size_t http_chunk_header(char out[HTTP_CHUNK_HEADER_MAX], uint64_t size);
#define HTTP_CRLF "\r\n"

/* ------------------------------------------------------------------ */
/* multipart/form-data (multipart.c, multipart_hdr.c)                 */
/* ------------------------------------------------------------------ */

#define MP_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */
/* "\r\n--" boundary */
#define MP_DELIM_MAX (4 + MP_BOUNDARY_MAX)

/* The fields of one part's header block (RFC 7578 4.2, 4.4). */
struct mp_part {
	int index;	  /* 0-based */
	int has_filename; /* a filename parameter was present */
	char name[LIM_FILENAME_MAX + 1];
	char filename[LIM_FILENAME_MAX + 1];	 /* as sent: not a safe path */
	char content_type[LIM_FILENAME_MAX + 1]; /* "" when absent */
};

enum mp_event {
	MP_NEED_MORE,  /* all input consumed, nothing to report */
	MP_PART_BEGIN, /* p->part holds the new part's fields */
	MP_DATA,       /* *data, *datalen: part body bytes */
	MP_PART_END,   /* the current part's body is complete */
	MP_DONE,       /* close delimiter seen; the rest is epilogue */
	MP_ERROR,      /* p->err says why; every later call repeats it */
};

struct mp_parser {
	int state;
	int max_parts;
	int nparts;
	int nfields;
	size_t dlen;   /* length of delim */
	size_t held;   /* delimiter bytes matched and held back */
	size_t count;  /* bytes of the bounded section being read */
	size_t hlen;   /* bytes in hbuf */
	size_t lstart; /* start of the header line being read */
	struct mp_part part;
	struct http_error err;
	char delim[MP_DELIM_MAX + 1];
	char hbuf[LIM_MP_HEADERS_MAX];
};

/*
 * Check that content_type is multipart/form-data and copy its boundary
 * parameter (token or quoted-string, 1-70 RFC 2046 bchars) to out.
 * Returns 0, or -1 with err set (415: another type, 400: bad boundary).
 */
int mp_boundary_parse(const char *content_type, char out[MP_BOUNDARY_MAX + 1],
    struct http_error *err);

/* Returns -1 if boundary is not valid or max_parts < 1. */
int mp_init(struct mp_parser *p, const char *boundary, int max_parts);

/*
 * Parse in[0..len) and return the next event; *used is how much of in was
 * consumed (possibly 0). Call again with the rest until MP_NEED_MORE (all
 * of in consumed) or MP_ERROR.
 *
 * Holdback: bytes that could begin the delimiter are consumed but not
 * reported until the next input decides; since they always equal a prefix
 * of the delimiter, the parser keeps only their count and later reports
 * them, if they were data, as a span of p->delim (which never changes).
 * So MP_DATA spans point into in or into p->delim; the caller never has
 * to keep or re-present input.
 *
 * The preamble, the epilogue (LIM_MP_PREAMBLE_MAX each) and each part's
 * header block (LIM_MP_HEADERS_MAX, LIM_MP_HEADER_FIELDS fields) are
 * bounded; a part needs Content-Disposition: form-data with a name.
 */
enum mp_event mp_parse(struct mp_parser *p, const void *in, size_t len,
    size_t *used, const uint8_t **data, size_t *datalen);

/* At the end of the body: 0 if the close delimiter was seen, else -1. */
int mp_finish(struct mp_parser *p);

/* Writer. A part as imgctl sends it; size is used by mp_body_length(). */
struct mp_part_spec {
	const char *name;
	const char *filename;	  /* NULL: no filename parameter */
	const char *content_type; /* NULL: no Content-Type field */
	uint64_t size;
};

struct mp_writer {
	char boundary[MP_BOUNDARY_MAX + 1];
	int nparts;
	int closed;
};

/* The most any mp_writer_* call writes (with its NUL). */
#define MP_WRITE_MAX 2048

/* 60 random hex digits from getrandom(2). Returns 0 or -1 (errno). */
int mp_boundary_make(char out[MP_BOUNDARY_MAX + 1]);
/* boundary NULL: make a random one. Returns 0 or -1. */
int mp_writer_init(struct mp_writer *w, const char *boundary);
/* "multipart/form-data; boundary=...", quoted when needed. */
ssize_t mp_writer_content_type(
    const struct mp_writer *w, char *out, size_t outlen);
/*
 * The delimiter and header block that start a part; the caller then
 * writes spec->size bytes. Returns the length written (NUL-terminated),
 * -1 if a string has a control character or is longer than
 * LIM_FILENAME_MAX, if out is too small, or after mp_writer_close().
 */
ssize_t mp_writer_part(struct mp_writer *w, const struct mp_part_spec *spec,
    char *out, size_t outlen);
/* The close delimiter, exactly once: a second call returns -1. */
ssize_t mp_writer_close(struct mp_writer *w, char *out, size_t outlen);
/* The Content-Length of the body those calls produce. Returns 0 or -1. */
int mp_body_length(const char *boundary, const struct mp_part_spec *parts,
    size_t nparts, uint64_t *total);

/* ------------------------------------------------------------------ */
/* WebSocket, server side (ws.c)                                      */
/* ------------------------------------------------------------------ */

#define WS_KEY_LEN 24	   /* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28   /* base64 of a SHA-1 digest */
#define WS_HEADER_MAX 10   /* an unmasked frame header */
#define WS_CONTROL_MAX 125 /* control frame payload */

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_NO_STATUS 1005 /* received, never sent */
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_TOO_BIG 1009

/* 1 if key is base64 of 16 bytes (RFC 6455 4.1), else 0. */
int ws_key_valid(const char *key);
/* Sec-WebSocket-Accept for key. Returns 0, or -1 if the key is invalid. */
int ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);

/*
 * Header of an unmasked server frame. Returns its length (2, 4 or 10), or
 * 0 for an unknown opcode or a control frame that is fragmented or longer
 * than WS_CONTROL_MAX.
 */
size_t ws_frame_header(
    uint8_t out[WS_HEADER_MAX], enum ws_opcode op, int fin, uint64_t len);

/*
 * Close frame payload: code, then reason cut to fit at a UTF-8 character
 * boundary. Returns its length, or -1 if code may not be sent or reason
 * is not UTF-8.
 */
ssize_t ws_close_payload(
    uint8_t out[WS_CONTROL_MAX], int code, const char *reason);
/* The code of a received close payload (WS_CLOSE_NO_STATUS if empty). */
int ws_close_code(const uint8_t *payload, size_t len);

/* XOR buf with mask, buf being the payload bytes from offset off on. */
void ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t off);

struct ws_frame {
	int fin;
	enum ws_opcode opcode;
	uint64_t len; /* payload length */
	uint64_t off; /* payload offset of the last WS_DATA span */
	uint8_t mask[4];
};

enum ws_event {
	WS_NEED_MORE,	/* all input consumed, nothing to report */
	WS_FRAME_BEGIN, /* p->frame holds the new frame's header */
	WS_DATA,	/* a data frame's payload, still masked */
	WS_FRAME_END,	/* frame complete; control payload in p->ctl */
	WS_ERROR,	/* p->err.status is the close code to send */
};

struct ws_parser {
	int state;
	size_t hlen;	 /* header bytes in hdr */
	size_t hneed;	 /* header length once known */
	uint64_t done;	 /* payload bytes seen of this frame */
	uint64_t msglen; /* bytes of the message so far */
	int msgop;	 /* opcode of an unfinished message, 0 if none */
	uint32_t utf8;	 /* UTF-8 validator state for text */
	struct ws_frame frame;
	struct http_error err;
	uint8_t hdr[14];
	uint8_t ctl[WS_CONTROL_MAX]; /* unmasked control payload */
};

void ws_parser_init(struct ws_parser *);

/*
 * Parse client frames from in[0..len) and return the next event; *used
 * is how much of in was consumed. Keep calling, with the rest of in and
 * even with len 0, until WS_NEED_MORE or WS_ERROR: the end of a frame is
 * reported on the call after its last byte.
 *
 * Data frame payloads come as WS_DATA spans of in, still masked: copy
 * and ws_unmask(copy, n, p->frame.mask, p->frame.off). Control payloads
 * are collected, unmasked, in p->ctl (p->frame.len bytes) by
 * WS_FRAME_END. Enforced: client frames masked, RSV bits 0, known
 * opcodes, minimal lengths, control frames unfragmented and <= 125
 * bytes, fragments in order, frames and messages <= LIM_WS_FRAME_MAX,
 * text and close reasons valid UTF-8, close codes valid.
 */
enum ws_event ws_parse(struct ws_parser *p, const void *in, size_t len,
    size_t *used, const uint8_t **data, size_t *datalen);

/* ------------------------------------------------------------------ */
/* Request targets (url.c)                                            */
/* ------------------------------------------------------------------ */

#define HTTP_PATH_NO_SLASH 0x1 /* refuse %2F: a "/" inside a segment */
#define HTTP_PATH_NO_DOTS 0x2  /* refuse "." and ".." segments */

/*
 * Split an origin-form target at its first '?': the path is
 * target[0..*pathlen); *query is what follows '?' (NULL if there is no
 * '?'). A fragment cannot occur: the head parser refuses '#'.
 */
void http_target_split(const char *target, size_t *pathlen, const char **query);

/*
 * Percent-decode path[0..len) into out (NUL-terminated). Returns the
 * decoded length, or -1 on a bad escape, %00, a control character (raw
 * or decoded), a refused flag case, or if out is too small.
 */
ssize_t http_path_decode(
    const char *path, size_t len, char *out, size_t outlen, int flags);

/*
 * Look up name in a query string (without '?'), decoding %XX and '+'.
 * Returns 1 with the value in out, 0 if absent, -1 if any pair of the
 * query is badly encoded or has a control character, if name appears
 * twice, or if the value does not fit in out (outlen >= 1). query may be
 * NULL.
 */
int http_query_get(
    const char *query, const char *name, char *out, size_t outlen);

/*
 * Read the next key=value pair of a query string (or of a header such as
 * X-LXD-properties, encoded the same way) at *cur, decoded as above, and
 * move *cur past it; empty pairs are skipped, a pair without '=' has an
 * empty value. Returns 1 with a pair, 0 at the end, -1 on bad encoding, a
 * control character or a key or value that does not fit.
 */
int http_query_next(
    const char **cur, char *key, size_t keylen, char *val, size_t vallen);

/*
 * Percent-encode s into out: everything but RFC 3986's unreserved
 * characters, and '/' kept for a path (form 0: alias names hold '/'), or
 * for a query value or form field (form 1) '/' encoded and ' ' as '+'.
 * 0, or -1 if out (3 bytes per input byte + 1 is enough) is too small.
 */
int http_pct_encode(const char *s, int form, char *out, size_t outlen);

/* ------------------------------------------------------------------ */
/* Small helpers (http_util.c)                                        */
/* ------------------------------------------------------------------ */

/* The reason phrase of status ("Unknown" for codes we never send). */
const char *http_reason(int status);

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */
/* RFC 7231 IMF-fixdate. Returns 0, or -1 if t cannot be represented. */
int http_date(char out[HTTP_DATE_LEN + 1], time_t t);

#endif
