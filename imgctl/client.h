/*
 * A small blocking HTTP/1.1 client over imgd's Unix socket: one request
 * per connection, a streamed body in both directions. Heads and chunked
 * bodies are parsed by the project's codec (http/http.h).
 */
#ifndef IMGD_IMGCTL_CLIENT_H
#define IMGD_IMGCTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

struct hc;

/* Connect to the socket. NULL on error (ctl_err set). */
struct hc *hc_open(const char *sock);
void hc_close(struct hc *);

/*
 * Send the request head. target is the origin-form path and query;
 * headers is NULL or extra field lines, each ending in CRLF; a body of
 * content_length bytes follows (-1: no body). Returns 0 or -1.
 */
int hc_request(struct hc *, const char *method, const char *target,
    const char *headers, int64_t content_length);

/*
 * Send body bytes. Returns 0, -1 on error, or HC_EARLY if the server
 * answered (or hung up) before the body was complete: read its answer
 * with hc_response() to learn why.
 */
#define HC_EARLY (-2)
int hc_send(struct hc *, const void *buf, size_t len);

/*
 * Send len bytes of file fd (from its offset) as body bytes, without
 * copying them through this process. As hc_send, and HC_SHORT if the
 * file ended before len; *sent says how many went. HC_NOSENDFILE, with
 * nothing sent and nothing said: a file sendfile cannot read (send it
 * with hc_send). Send at most HC_SENDFILE_MAX per call to show progress.
 */
#define HC_SHORT (-3)
#define HC_NOSENDFILE (-4)
#define HC_SENDFILE_MAX (4u << 20)
int hc_send_file(struct hc *, int fd, uint64_t len, uint64_t *sent);

/* Read and parse the response head. Returns 0 or -1. */
int hc_response(struct hc *);
const struct http_head *hc_head(const struct hc *);

/*
 * The next span of the decoded body (Content-Length, chunked, or up to
 * the end of the connection). Returns 1 with a span, 0 at the end of the
 * body, -1 on error. A span is valid until the next call.
 */
int hc_body(struct hc *, const uint8_t **data, size_t *len);

/* Read the whole body into a new NUL-terminated buffer of at most max. */
int hc_body_all(struct hc *, size_t max, char **out, size_t *outlen);

#endif
