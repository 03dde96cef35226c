/*
 * Client connections: accept, read and check a request head, frame its
 * body (Content-Length or chunked), hand it to the router, write the
 * response, then close or read the next request. Timeouts and connection
 * counts follow SECURITY.md's HTTP limits.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "frontend/jw.h"
#include "policy/names.h"
#include "ipc/codec.h"
#include "ipc/log.h"

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static const struct timeval write_timeout = {LIM_HTTP_IDLE_TIMEOUT * 2, 0};
static int nconns;

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void timer_cb(evutil_socket_t fd, short ev, void *arg);
static void more(struct conn *c, int cancel);

static void
arm_timer(struct conn *c, int seconds)
{
	struct timeval tv = {seconds, 0};

	event_add(c->timer, &tv);
}

/* A client: a uid on the unix socket, an address on HTTPS. */
static int
conns_of(uid_t uid, const char *addr)
{
	struct conn *c;
	int n = 0;

	TAILQ_FOREACH (c, &conns, entry)
		if (addr[0] ? strcmp(c->addr, addr) == 0
			    : !c->addr[0] && c->uid == uid)
			n++;
	return n;
}

struct listener_arg {
	uint32_t id;
	int kind;
};

static void
addr_text(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN + 1])
{
	out[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, INET6_ADDRSTRLEN);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    INET6_ADDRSTRLEN);
	if (sa->sa_family != AF_UNIX && !out[0])
		snprintf(out, INET6_ADDRSTRLEN, "?");
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ucred cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
	const struct listener_arg *la = arg;
	socklen_t len = sizeof(cred);
	char addr[INET6_ADDRSTRLEN + 1];
	struct conn *c;

	(void)l;
	(void)salen;
	addr_text(sa, addr);
	if (la->kind == LISTEN_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		cred.uid = (uid_t)-1;
	if (nconns >= LIM_HTTP_CONNS_MAX ||
	    conns_of(cred.uid, addr) >= (int)fe_info.conns_per_client) {
		if (addr[0])
			log_warnx("connection from %s refused: too many", addr);
		else
			log_warnx("connection from uid %d refused: too many",
			    (int)cred.uid);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->uid = cred.uid;
	c->pid = cred.pid;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	/* What the store decides from: where and who, never what may. */
	c->peer.listener = la->id;
	c->peer.uid = (uint32_t)cred.uid;
	c->peer.gid = (uint32_t)cred.gid;
	c->peer.cert = c->cert; /* "" until a TLS handshake says more */
	c->tls = la->kind == LISTEN_HTTPS;
	if (c->tls) {
		c->bev = tls_bev(fd);
		c->handshake = 1;
	} else
		c->bev =
		    bufferevent_socket_new(fe_base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(fe_base, timer_cb, c);
	if (c->bev == NULL || c->timer == NULL) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, LIM_HTTP_READ_BUF);
	/* A client that stops reading what it asked for is dropped. */
	bufferevent_set_timeouts(c->bev, NULL, &write_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	http_head_init(&c->head);
	c->state = CONN_HEAD;
	arm_timer(
	    c, c->handshake ? fe_info.header_timeout : fe_info.idle_timeout);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: keep serving the connections we have. */
	log_warn("accept");
}

void
conn_listen(int fd, uint32_t id, int kind)
{
	struct evconnlistener *l;
	struct listener_arg *la = calloc(1, sizeof(*la));

	if (la == NULL)
		fatal("calloc");
	la->id = id;
	la->kind = kind;
	evutil_make_socket_nonblocking(fd);
	/* Backlog 0: the store made it listen; listen(2) is not allowed. */
	l = evconnlistener_new(
	    fe_base, accept_cb, la, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (l == NULL)
		fatalx("evconnlistener_new");
	evconnlistener_set_error_cb(l, accept_error_cb);
	log_debug("listening on fd %d", fd);
}

void
conn_close(struct conn *c)
{
	/* A list the store is still paging for this client: cancel it. */
	if (c->reqid &&
	    (c->want == WANT_IMAGES || c->want == WANT_ALIASES ||
		c->want == WANT_SS_INDEX || c->want == WANT_SS_IMAGES) &&
	    (c->state == CONN_LIST || c->state == CONN_STORE))
		more(c, 1);
	if (c->state == CONN_UPLOAD || c->upload)
		upload_conn_gone(c);
	if (c->export)
		export_conn_gone(c);
	streams_free(c);
	events_conn_gone(c);
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	if (c->list)
		json_decref(c->list);
	if (c->items) {
		jw_free(c->items);
		free(c->items);
	}
	filter_free(c->flt);
	if (c->body)
		evbuffer_free(c->body);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

struct conn *
conn_by_reqid(uint64_t reqid)
{
	struct conn *c;

	TAILQ_FOREACH (c, &conns, entry)
		if (c->reqid == reqid && reqid != 0)
			return c;
	return NULL;
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	/* A refused body's rest, dropped for LIM_HTTP_LINGER_SECONDS. */
	if (c->discard) {
		conn_close(c);
		return;
	}
	switch (c->state) {
	case CONN_HEAD:
		if (c->handshake) {
			log_debug("%s: TLS handshake timed out", c->addr);
			conn_close(c);
			return;
		}
		/* Idle between requests, or a head that never completes. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			conn_error(c, 408, "Request header timeout");
		else
			conn_close(c);
		return;
	case CONN_BODY:
		conn_error(c, 408, "Request body timeout");
		return;
	case CONN_WRITE:
	case CONN_LIST:
		conn_close(c); /* a client that does not read */
		return;
	default:
		return;
	}
}

void
conn_discard_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	upload_stop(c);
	c->close_after = 1;
	c->discard = 1;
	c->discarded += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_enable(c->bev, EV_READ);
	arm_timer(c, LIM_HTTP_LINGER_SECONDS);
}

void
conn_foreach_state(uint64_t *up, uint64_t *down, uint64_t *all)
{
	struct conn *c;

	TAILQ_FOREACH (c, &conns, entry) {
		(*all)++;
		if (c->state == CONN_UPLOAD && !c->discard)
			(*up)++;
		else if (c->state == CONN_EXPORT)
			(*down)++;
	}
}

void
conn_respond_raw(struct conn *c, int status, const char *headers,
    const void *body, size_t len)
{
	char date[HTTP_DATE_LEN + 1];
	struct evbuffer *out = bufferevent_get_output(c->bev);

	/* An answer before the body's end (a refused upload): what the
	 * client still sends is dropped after it, then the connection
	 * closes (read_cb, write_cb). */
	if (c->state == CONN_UPLOAD)
		conn_discard_body(c);
	metrics_request(c, status);
	http_date(date, time(NULL));
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
	    http_reason(status), date);
	if (headers)
		evbuffer_add(out, headers, strlen(headers));
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add_printf(out, "Content-Length: %zu\r\n\r\n", len);
	evbuffer_add(out, body, len);
	c->state = CONN_WRITE;
	c->reqid = 0;
	bufferevent_enable(c->bev, EV_WRITE);
	arm_timer(c, (int)fe_info.idle_timeout);
}

void
conn_respond(struct conn *c, int status, const char *extra, json_t *body)
{
	char headers[1024];
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(body);
	if (text == NULL) {
		static const char oom[] = "{\"type\":\"error\",\"error_code\":"
					  "500,\"error\":\"out of memory\"}";
		c->close_after = 1;
		conn_respond_raw(c, 500, "Content-Type: application/json\r\n",
		    oom, sizeof(oom) - 1);
		return;
	}
	snprintf(headers, sizeof(headers),
	    "Content-Type: application/json\r\n%s", extra ? extra : "");
	conn_respond_raw(c, status, headers, text, strlen(text));
	free(text);
}

/*
 * Lists are streamed: the envelope and the items as chunks, as the
 * store's pages arrive, and the next page is asked for once the client
 * has taken this one (write_cb). Neither the frontend nor the store holds
 * a whole list, and a client that does not read stalls only its list.
 */
static void
chunk(struct evbuffer *out, const char *p, size_t len)
{
	evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, p, len);
	evbuffer_add(out, "\r\n", 2);
}

/* The head of a streamed answer: the status line, then head as the first
 * chunk. */
void
conn_stream_open(struct conn *c, const char *head)
{
	char date[HTTP_DATE_LEN + 1];
	struct evbuffer *out = bufferevent_get_output(c->bev);

	metrics_request(c, 200);
	http_date(date, time(NULL));
	evbuffer_add_printf(out,
	    "HTTP/1.1 200 %s\r\nDate: %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n%s\r\n",
	    http_reason(200), date,
	    c->close_after ? "Connection: close\r\n" : "");
	chunk(out, head, strlen(head));
	c->state = CONN_LIST;
	c->streamed = 0;
	bufferevent_enable(c->bev, EV_WRITE);
}

/* Text of a streamed answer, as it is. */
static void items_flush(struct conn *);

void
conn_stream_text(struct conn *c, const char *text)
{
	items_flush(c);
	if (*text)
		chunk(bufferevent_get_output(c->bev), text, strlen(text));
}

static void
stream_begin(struct conn *c)
{
	char *text = json_dumps(render_sync(json_array()),
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	size_t len = text ? strlen(text) : 0;

	/* The sync envelope of an empty list, without its closing "]}". */
	if (text == NULL || len < 2)
		fatalx("%s: cannot render the envelope", __func__);
	text[len - 2] = '\0';
	conn_stream_open(c, text);
	free(text);
}

static void
more(struct conn *c, int cancel)
{
	struct imsg_list_more m = {.cancel = (uint8_t)cancel};

	if (c->more_pending)
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	c->more_pending = 0;
	store_send_id(IMSG_LIST_MORE, c->reqid, &m, -1);
}

/* The items rendered since the last chunk go out as one chunk. */
static void
items_flush(struct conn *c)
{
	if (c->items == NULL || c->items->len == 0)
		return;
	chunk(bufferevent_get_output(c->bev), c->items->p, c->items->len);
	jw_reset(c->items);
}

/* The buffer for the next item of a streamed list, its separator written
 * (the list's head first, for its first item). The caller renders the
 * item into it, then counts the record (conn_stream_count). */
struct jw *
conn_item_begin(struct conn *c)
{
	if (c->state != CONN_LIST)
		stream_begin(c);
	if (c->items == NULL &&
	    (c->items = calloc(1, sizeof(*c->items))) == NULL)
		fatal("calloc");
	if (c->streamed++ > 0)
		jw_raw(c->items, ",", 1);
	return c->items;
}

/*
 * A record of the store's page was handled. At the page's end its items
 * go out as a chunk, and the next page is asked for at once while the
 * client has less than LIST_AHEAD bytes still to take (the store works on
 * it while the client reads this one), else once it has taken them
 * (write_cb, at that low-water mark): a client that does not read holds
 * one page and LIST_AHEAD bytes, not the list.
 */
#define LIST_AHEAD (32 * 1024)

void
conn_stream_count(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->items && c->items->len >= LIST_AHEAD)
		items_flush(c);
	if (++c->page_items == LIM_LIST_PAGE) {
		c->page_items = 0;
		items_flush(c);
		if (evbuffer_get_length(out) <= LIST_AHEAD)
			more(c, 0);
		else {
			c->more_pending = 1; /* write_cb asks */
			bufferevent_setwatermark(
			    c->bev, EV_WRITE, LIST_AHEAD, 0);
		}
	}
}

/* The end of a streamed answer opened with conn_stream_open. */
void
conn_stream_close(struct conn *c, const char *tail)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	items_flush(c);
	conn_stream_text(c, tail);
	evbuffer_add(out, "0\r\n\r\n", 5);
	c->state = CONN_WRITE;
	c->reqid = 0;
	c->page_items = c->more_pending = 0;
	arm_timer(c, (int)fe_info.idle_timeout);
}

/* The end of a list: an empty one is an ordinary response. */
void
conn_stream_end(struct conn *c)
{
	struct evbuffer *out;

	if (c->state != CONN_LIST) {
		conn_respond(c, 200, NULL, render_sync(json_array()));
		return;
	}
	items_flush(c);
	out = bufferevent_get_output(c->bev);
	chunk(out, "]}", 2);
	evbuffer_add(out, "0\r\n\r\n", 5);
	c->state = CONN_WRITE;
	c->reqid = 0;
	c->page_items = c->more_pending = 0;
	arm_timer(c, (int)fe_info.idle_timeout);
}

void
conn_error(struct conn *c, int status, const char *fmt, ...)
{
	char msg[LIM_ERROR_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The rest of an unread body would be taken for the next request. */
	if (!c->body_done)
		c->close_after = 1;
	conn_respond(c, status, NULL, render_error(status, msg));
}

/* Framing done: the small body is complete. */
static void
body_complete(struct conn *c)
{
	size_t len = evbuffer_get_length(c->body);
	char *p = (char *)evbuffer_pullup(c->body, -1);

	c->state = CONN_STORE;
	c->body_done = 1;
	event_del(c->timer);
	route_request(c, p ? p : "", len);
}

/* Collects a JSON-sized body, Content-Length or chunked. */
static void
body_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (evbuffer_get_length(in) > 0) {
		size_t avail = evbuffer_get_length(in);
		const uint8_t *p = evbuffer_pullup(in, (ssize_t)avail);

		if (c->chunked) {
			const uint8_t *data;
			size_t dlen;
			ssize_t n =
			    http_chunked_decode(&c->ch, p, avail, &data, &dlen);

			if (n < 0) {
				conn_error(c, c->ch.err.status, "%s",
				    c->ch.err.reason);
				return;
			}
			if (dlen)
				evbuffer_add(c->body, data, dlen);
			evbuffer_drain(in, (size_t)n);
			if (http_chunked_done(&c->ch))
				break;
		} else {
			size_t take = avail < (size_t)c->body_left
					  ? avail
					  : (size_t)c->body_left;
			evbuffer_add(c->body, p, take);
			evbuffer_drain(in, take);
			c->body_left -= (int64_t)take;
			if (c->body_left == 0)
				break;
		}
		if (evbuffer_get_length(c->body) > fe_info.json_max) {
			conn_error(c, 413,
			    "Request body larger than %llu bytes",
			    (unsigned long long)fe_info.json_max);
			return;
		}
	}
	if (evbuffer_get_length(c->body) > fe_info.json_max)
		conn_error(c, 413, "Request body larger than %llu bytes",
		    (unsigned long long)fe_info.json_max);
	else if (c->chunked ? http_chunked_done(&c->ch) : c->body_left == 0)
		body_complete(c);
}

static int
parse_target(struct conn *c)
{
	const char *target = http_head_target(&c->head), *query;
	char project[256];
	size_t plen;
	int rc;

	snprintf(
	    c->method, sizeof(c->method), "%s", http_head_method(&c->head));
	http_target_split(target, &plen, &query);
	/* %2F decodes to '/': alias names hold '/', and the lxc client
	 * escapes it. Dot segments are refused after decoding. */
	if (http_path_decode(target, plen, c->path, sizeof(c->path),
		HTTP_PATH_NO_DOTS) < 0) {
		conn_error(c, 400, "Invalid request path");
		return -1;
	}
	if (query && strlen(query) >= sizeof(c->query)) {
		conn_error(c, 414, "Query string too long");
		return -1;
	}
	snprintf(c->query, sizeof(c->query), "%s", query ? query : "");
	rc = http_query_get(c->query, "project", project, sizeof(project));
	if (rc == -1) {
		conn_error(c, 400, "Invalid query string");
		return -1;
	}
	if (rc == 0)
		snprintf(project, sizeof(project), "default");
	if (!project_name_ok(project)) {
		conn_error(c, 400, "Invalid project name");
		return -1;
	}
	snprintf(c->project, sizeof(c->project), "%s", project);
	return 0;
}

static void
request_start(struct conn *c)
{
	c->body_done = 0;
	c->counted = 0;
	c->close_after = !c->head.keep_alive;
	c->chunked = c->head.chunked;
	c->body_left = c->head.content_length > 0 ? c->head.content_length : 0;
	if (c->chunked)
		http_chunked_init(&c->ch);
	if (parse_target(c) == -1)
		return;
	if (c->head.websocket != HTTP_WS_NONE) {
		/* Only once the store says this client may listen to
		 * these events (router_trust.c). */
		server_route(c);
		return;
	}
	if (route_is_upload(c)) {
		c->state = CONN_UPLOAD;
		event_del(c->timer);
		if (upload_start(c) == 0)
			upload_input(c);
		return;
	}
	if (!c->chunked && c->body_left > (int64_t)fe_info.json_max) {
		conn_error(c, 413, "Request body larger than %llu bytes",
		    (unsigned long long)fe_info.json_max);
		return;
	}
	if (c->body == NULL)
		c->body = evbuffer_new();
	else
		evbuffer_drain(c->body, evbuffer_get_length(c->body));
	c->state = CONN_BODY;
	arm_timer(c, (int)fe_info.idle_timeout);
	body_input(c);
}

static void
head_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n;

	if (len == 0)
		return;
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	n = http_parse_request_head(
	    &c->head, (const char *)evbuffer_pullup(in, (ssize_t)len), len);
	if (n < 0) {
		conn_error(c, c->head.err.status, "%s", c->head.err.reason);
		return;
	}
	if (n == 0) {
		/* The first byte starts the header deadline; more bytes do
		 * not move it (a trickling client is not "active"). */
		if (!c->head_started) {
			c->head_started = 1;
			arm_timer(c, (int)fe_info.header_timeout);
		}
		return;
	}
	evbuffer_drain(in, (size_t)n);
	request_start(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->discard) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		size_t n = evbuffer_get_length(in);

		c->discarded += n;
		evbuffer_drain(in, n);
		if (c->discarded > LIM_HTTP_LINGER_BYTES)
			conn_close(c);
		return;
	}
	switch (c->state) {
	case CONN_HEAD:
		head_input(c);
		break;
	case CONN_BODY:
		body_input(c);
		break;
	case CONN_UPLOAD:
		upload_input(c);
		break;
	case CONN_EVENTS:
		events_input(c);
		break;
	default:
		/* Pipelined bytes wait in the (bounded) input buffer. */
		break;
	}
}

/* The response is out: next request, or close. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == CONN_EXPORT) {
		export_pump(c);
		return;
	}
	if (c->state == CONN_LIST) {
		if (c->more_pending &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) <=
			LIST_AHEAD)
			more(c, 0);
		return;
	}
	if (c->state != CONN_WRITE ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	if (c->close_after && c->discard) {
		/* The answer is out; the client may still be sending the
		 * body that was refused: the end of our side, then what it
		 * sends is dropped until it closes or the linger ends. */
		if (!c->tls)
			(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		c->state = CONN_STORE; /* no more answers */
		arm_timer(c, LIM_HTTP_LINGER_SECONDS);
		return;
	}
	if (c->close_after) {
		conn_close(c);
		return;
	}
	/* What the last request held on a kept-alive connection. */
	if (c->upload)
		upload_conn_gone(c);
	if (c->list) {
		json_decref(c->list);
		c->list = NULL;
	}
	filter_free(c->flt);
	c->flt = NULL;
	http_head_init(&c->head);
	c->head_started = 0;
	c->state = CONN_HEAD;
	c->want = WANT_NONE;
	/* An upload stopped reading while it waited for the store. */
	bufferevent_enable(c->bev, EV_READ);
	arm_timer(c, (int)fe_info.idle_timeout);
	head_input(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if ((what & BEV_EVENT_CONNECTED) && c->handshake) {
		c->handshake = 0;
		tls_peer(bev, c->cert);
		arm_timer(c, (int)fe_info.idle_timeout);
		return;
	}
	if (what & BEV_EVENT_ERROR && c->handshake)
		log_debug("%s: TLS handshake failed", c->addr);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(c);
}
