/*
 * Blocking HTTP/1.1 over a Unix socket. Each request opens its own
 * connection and asks the server to close it, so a response body is
 * framed by Content-Length, chunked coding, or the end of the connection.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgctl/client.h"
#include "imgctl/imgctl.h"

/* Room for the largest valid head plus a useful amount of body. */
#define HC_RBUF (HTTP_HEAD_MAX + 64 * KiB)
/* Request head without the caller's extra header lines. */
#define HC_HEAD_BASE 1024

enum hc_mode { HC_NONE, HC_LENGTH, HC_CHUNKED, HC_CLOSE };

struct hc {
	int fd;
	enum hc_mode mode;
	int done;
	uint64_t left; /* HC_LENGTH: body bytes still to come */
	size_t off, len;
	struct http_chunked ch;
	struct http_head head;
	char buf[HC_RBUF];
};

struct hc *
hc_open(const char *sock)
{
	struct sockaddr_un sun;
	struct hc *hc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		ctl_err("socket path too long: %s", sock);
		return NULL;
	}
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	if ((hc = calloc(1, sizeof(*hc))) == NULL) {
		ctl_err("out of memory");
		return NULL;
	}
	hc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (hc->fd == -1 ||
	    connect(hc->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		ctl_err("cannot connect to %s: %s (is imgd running? "
			"IMGD_DIR selects its directory)",
		    sock, strerror(errno));
		hc_close(hc);
		return NULL;
	}
	return hc;
}

void
hc_close(struct hc *hc)
{
	if (hc == NULL)
		return;
	if (hc->fd != -1)
		close(hc->fd);
	free(hc);
}

/* Send all of buf; the server may hang up at any time, so no SIGPIPE. */
static int
hc_write_all(struct hc *hc, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(hc->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_err("cannot send the request: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hc_request(struct hc *hc, const char *method, const char *target,
    const char *headers, int64_t content_length)
{
	size_t cap =
	    HC_HEAD_BASE + strlen(target) + (headers ? strlen(headers) : 0);
	char *buf, clen[48] = "";
	int n, r;

	if (content_length >= 0)
		snprintf(clen, sizeof(clen), "Content-Length: %" PRId64 "\r\n",
		    content_length);
	if ((buf = malloc(cap)) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	n = snprintf(buf, cap,
	    "%s %s HTTP/1.1\r\nHost: unix.socket\r\n"
	    "User-Agent: imgctl/" IMGCTL_VERSION "\r\n"
	    "Connection: close\r\n%s%s\r\n",
	    method, target, clen, headers ? headers : "");
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		ctl_err("request head too long");
		return -1;
	}
	r = hc_write_all(hc, buf, (size_t)n);
	free(buf);
	return r;
}

/*
 * Before each piece of a body: 0 when the socket takes more, HC_EARLY if
 * the server answered (or hung up) before the body is all sent, -1.
 */
static int
send_ready(struct hc *hc)
{
	struct pollfd pfd = {.fd = hc->fd, .events = POLLIN | POLLOUT};

	while (poll(&pfd, 1, -1) == -1) {
		if (errno != EINTR) {
			ctl_err("poll: %s", strerror(errno));
			return -1;
		}
	}
	return pfd.revents & (POLLIN | POLLHUP | POLLERR) ? HC_EARLY : 0;
}

/* After a failed send or sendfile: 1 to try again, else what to return. */
static int
send_failed(void)
{
	if (errno == EINTR || errno == EAGAIN)
		return 1;
	if (errno == EPIPE || errno == ECONNRESET)
		return HC_EARLY;
	ctl_err("cannot send the request body: %s", strerror(errno));
	return -1;
}

int
hc_send(struct hc *hc, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;
	int r;

	while (len > 0) {
		if ((r = send_ready(hc)) != 0)
			return r;
		n = send(hc->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if ((r = send_failed()) == 1)
				continue;
			return r;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * len bytes of file fd from its offset, by sendfile: the kernel hands the
 * file's pages to the socket, no copy through this process. SIGPIPE is
 * held off for the call (sendfile has no MSG_NOSIGNAL). 0, -1, HC_EARLY,
 * HC_SHORT if the file ended first, HC_NOSENDFILE; *sent counts what went.
 */
int
hc_send_file(struct hc *hc, int fd, uint64_t len, uint64_t *sent)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int rc = 0;
	ssize_t n;

	*sent = 0;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (len > 0 && (rc = send_ready(hc)) == 0) {
		n = sendfile(hc->fd, fd, NULL,
		    len < HC_SENDFILE_MAX ? (size_t)len : HC_SENDFILE_MAX);
		if (n == -1 && (errno == EINVAL || errno == ENOSYS) &&
		    *sent == 0) {
			rc = HC_NOSENDFILE; /* a file sendfile cannot read */
			break;
		}
		if (n == -1) {
			if ((rc = send_failed()) == 1) {
				rc = 0;
				continue;
			}
			break;
		}
		if (n == 0) {
			rc = HC_SHORT;
			break;
		}
		len -= (uint64_t)n;
		*sent += (uint64_t)n;
	}
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

/* Read more bytes into buf[len..]. Returns the count, 0 at EOF, -1. */
static ssize_t
hc_fill(struct hc *hc)
{
	ssize_t n;

	for (;;) {
		n = recv(
		    hc->fd, hc->buf + hc->len, sizeof(hc->buf) - hc->len, 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		ctl_err("cannot read the response: %s", strerror(errno));
		return -1;
	}
	hc->len += (size_t)n;
	return n;
}

static void
hc_body_mode(struct hc *hc)
{
	int st = hc->head.status;

	if ((st >= 100 && st < 200) || st == 204 || st == 304)
		hc->mode = HC_NONE;
	else if (hc->head.chunked) {
		hc->mode = HC_CHUNKED;
		http_chunked_init(&hc->ch);
	} else if (hc->head.content_length >= 0) {
		hc->mode = HC_LENGTH;
		hc->left = (uint64_t)hc->head.content_length;
	} else
		hc->mode = HC_CLOSE;
}

int
hc_response(struct hc *hc)
{
	ssize_t r, n;

	http_head_init(&hc->head);
	for (;;) {
		r = http_parse_response_head(&hc->head, hc->buf, hc->len);
		if (r == -1) {
			ctl_err("malformed response from the server: %s",
			    hc->head.err.reason);
			return -1;
		}
		if (r > 0 && hc->head.status >= 100 && hc->head.status < 200) {
			/* An interim answer (100 Continue): skip it. */
			memmove(hc->buf, hc->buf + r, hc->len - (size_t)r);
			hc->len -= (size_t)r;
			http_head_init(&hc->head);
			continue;
		}
		if (r > 0)
			break;
		if ((n = hc_fill(hc)) == -1)
			return -1;
		if (n == 0) {
			ctl_err("the server closed the connection without "
				"answering");
			return -1;
		}
	}
	hc->off = (size_t)r;
	hc_body_mode(hc);
	return 0;
}

const struct http_head *
hc_head(const struct hc *hc)
{
	return &hc->head;
}

/* Decode what is buffered. Returns 1 with data, 0 if more is needed. */
static int
hc_decode(struct hc *hc, const uint8_t **data, size_t *len)
{
	size_t take;
	ssize_t n;

	*len = 0;
	switch (hc->mode) {
	case HC_LENGTH:
		take = hc->len - hc->off;
		if (take > hc->left)
			take = (size_t)hc->left;
		*data = (const uint8_t *)hc->buf + hc->off;
		*len = take;
		hc->off += take;
		hc->left -= take;
		hc->done = hc->left == 0;
		break;
	case HC_CHUNKED:
		while (hc->off < hc->len && *len == 0 &&
		       !http_chunked_done(&hc->ch)) {
			n = http_chunked_decode(&hc->ch, hc->buf + hc->off,
			    hc->len - hc->off, data, len);
			if (n == -1) {
				ctl_err("malformed response body: %s",
				    hc->ch.err.reason);
				return -1;
			}
			hc->off += (size_t)n;
		}
		hc->done = http_chunked_done(&hc->ch);
		break;
	case HC_CLOSE:
		*data = (const uint8_t *)hc->buf + hc->off;
		*len = hc->len - hc->off;
		hc->off = hc->len;
		break;
	case HC_NONE:
		hc->done = 1;
		break;
	}
	return *len > 0;
}

int
hc_body(struct hc *hc, const uint8_t **data, size_t *len)
{
	ssize_t n;
	int r;

	for (;;) {
		if (hc->off < hc->len || hc->mode == HC_NONE ||
		    (hc->mode == HC_LENGTH && hc->left == 0)) {
			if ((r = hc_decode(hc, data, len)) != 0)
				return r;
		}
		if (hc->done)
			return 0;
		hc->off = hc->len = 0;
		if ((n = hc_fill(hc)) == -1)
			return -1;
		if (n == 0) {
			if (hc->mode == HC_CLOSE)
				return 0;
			ctl_err("the server closed the connection in the "
				"middle of its answer");
			return -1;
		}
	}
}

int
hc_body_all(struct hc *hc, size_t max, char **out, size_t *outlen)
{
	const uint8_t *d;
	size_t n, len = 0, cap = 0;
	char *buf = NULL, *nb;
	int r;

	while ((r = hc_body(hc, &d, &n)) == 1) {
		if (n > max - len) {
			free(buf);
			ctl_err("the server's answer is larger than %zu bytes",
			    max);
			return -1;
		}
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				ctl_err("out of memory");
				return -1;
			}
			buf = nb;
		}
		memcpy(buf + len, d, n);
		len += n;
	}
	if (r == -1 || (buf == NULL && (buf = malloc(1)) == NULL)) {
		free(buf);
		if (r != -1)
			ctl_err("out of memory");
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}
