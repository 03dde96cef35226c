/*
 * Operations as the clients see them, and the /1.0/events websocket.
 * Operations live in the store; this file renders what it sends (answers
 * and events, IMSG_OP_UPDATE) and forwards events to the websocket
 * listeners of their project (the real lxc client waits for its
 * operations there). Nothing about an operation is kept here.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/fe.h"
#include "ipc/cause.h"
#include "ipc/log.h"

enum { EV_OPERATION = 1, EV_LIFECYCLE = 2, EV_LOGGING = 4 };

struct listener {
	TAILQ_ENTRY(listener) entry;
	struct conn *c;
};

static TAILQ_HEAD(, listener) listeners = TAILQ_HEAD_INITIALIZER(listeners);

/* LXD's status code and name for an operation's state. */
static int
state_code(int state, const char **name)
{
	switch (state) {
	case OPS_PENDING:
		*name = "Pending";
		return 105;
	case OPS_RUNNING:
		*name = "Running";
		return 103;
	case OPS_SUCCESS:
		*name = "Success";
		return 200;
	default:
		*name = "Failure";
		return 400;
	}
}

static json_t *
ts(int64_t ns)
{
	char buf[64];

	render_time(buf, sizeof(buf), ns / 1000000000LL, ns % 1000000000LL);
	return json_string(buf);
}

json_t *
render_op(const struct imsg_op_update *m)
{
	json_t *o = json_object(), *meta = NULL, *res = NULL;
	char err[LIM_ERROR_MAX + 128] = "";
	const char *status;
	int code = state_code(m->state, &status);

	if (m->nmetadata) {
		meta = json_object();
		for (uint32_t i = 0; i < m->nmetadata; i++) {
			const char *k = m->metadata[i].key,
				   *v = m->metadata[i].value;

			/* A refresh says whether it refreshed as LXD
			 * does, with a boolean (lxc reads it as one). */
			if (strcmp(k, "refreshed") == 0)
				json_object_set_new(meta, k,
				    json_boolean(strcmp(v, "true") == 0));
			else
				json_object_set_new(meta, k, json_string(v));
		}
	}
	if (m->image[0]) {
		char url[80];

		render_resource(url, sizeof(url), RES_IMAGE, m->image, 0);
		res = json_object();
		json_object_set_new(res, "images", json_pack("[s]", url));
	}
	json_object_set_new(o, "id", json_string(m->id));
	json_object_set_new(o, "class", json_string(m->class));
	json_object_set_new(o, "description", json_string(m->description));
	json_object_set_new(o, "created_at", ts(m->created_at));
	json_object_set_new(o, "updated_at", ts(m->updated_at));
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "status_code", json_integer(code));
	json_object_set_new(o, "resources", res ? res : json_null());
	json_object_set_new(o, "metadata", meta ? meta : json_null());
	json_object_set_new(o, "may_cancel", json_false());
	if (m->fault.cause != ERR_NONE)
		fault_words(&m->fault, err, sizeof(err));
	json_object_set_new(o, "err", json_string(err));
	json_object_set_new(o, "location", json_string("none"));
	return o;
}

static void
listener_drop(struct listener *l)
{
	TAILQ_REMOVE(&listeners, l, entry);
	free(l);
}

/* One event to every listener that wants it: those of its project, or
 * every one for an event of no project (NULL: the daemon's log). */
static void
broadcast(int type, const char *tname, const char *project, json_t *meta)
{
	struct listener *l, *next;
	char stamp[64];
	struct timespec now;
	json_t *ev = json_object();
	char *text;

	clock_gettime(CLOCK_REALTIME, &now);
	render_time(stamp, sizeof(stamp), now.tv_sec, now.tv_nsec);
	json_object_set_new(ev, "type", json_string(tname));
	json_object_set_new(ev, "timestamp", json_string(stamp));
	json_object_set(ev, "metadata", meta);
	json_object_set_new(ev, "location", json_string("none"));
	if (project)
		json_object_set_new(ev, "project", json_string(project));
	text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	if (text == NULL)
		return;
	for (l = TAILQ_FIRST(&listeners); l; l = next) {
		struct conn *c = l->c;
		struct evbuffer *out = bufferevent_get_output(c->bev);
		uint8_t hdr[WS_HEADER_MAX];
		size_t len = strlen(text), hl;

		next = TAILQ_NEXT(l, entry);
		if (!(c->event_types & type) || c->ws_closing ||
		    (project && !c->all_projects &&
			strcmp(c->project, project) != 0))
			continue;
		if (evbuffer_get_length(out) > LIM_EVENTS_LISTENER_QUEUE) {
			log_warnx("events listener too slow: dropped");
			conn_close(c); /* calls events_conn_gone */
			continue;
		}
		hl = ws_frame_header(hdr, WS_OP_TEXT, 1, len);
		evbuffer_add(out, hdr, hl);
		evbuffer_add(out, text, len);
	}
	free(text);
}

/* A change of an operation, for the listeners of its project. */
void
events_operation(struct imsg_op_update *m)
{
	json_t *doc = render_op(m);

	broadcast(EV_OPERATION, "operation", m->project, doc);
	json_decref(doc);
}

/* A connection closes: it listens no more. */
void
events_conn_gone(struct conn *c)
{
	struct listener *l, *ln;

	for (l = TAILQ_FIRST(&listeners); l; l = ln) {
		ln = TAILQ_NEXT(l, entry);
		if (l->c == c)
			listener_drop(l);
	}
}

void
events_lifecycle(struct imsg_lifecycle *m)
{
	json_t *meta = json_object(), *ctx = NULL, *req = json_object();

	json_object_set_new(meta, "action", json_string(m->action));
	char src[LIM_ALIAS_NAME_MAX + 64];

	render_resource(src, sizeof(src), m->kind, m->name, 0);
	json_object_set_new(meta, "source", json_string(src));
	if (m->ncontext) {
		ctx = json_object();
		for (uint32_t i = 0; i < m->ncontext; i++)
			json_object_set_new(ctx, m->context[i].key,
			    json_string(m->context[i].value));
		json_object_set_new(meta, "context", ctx);
	}
	json_object_set_new(req, "username", json_string(m->requestor));
	json_object_set_new(req, "protocol", json_string("unix"));
	json_object_set_new(req, "address", json_string("@"));
	json_object_set_new(meta, "requestor", req);
	broadcast(EV_LIFECYCLE, "lifecycle", m->project, meta);
	json_decref(meta);
}

/*
 * A line of the daemon's log, as LXD sends it: logrus level names, no
 * filtering by level here (lxc monitor --loglevel filters), no project.
 * Every listener on the unix socket is trusted; untrusted clients never
 * get an events socket.
 */
void
events_logging(struct imsg_log *m)
{
	static const char *names[] = {"debug", "info", "warning", "error"};
	json_t *meta = json_object(), *ctx = json_object();

	json_object_set_new(meta, "message", json_string(m->message));
	json_object_set_new(meta, "level", json_string(names[m->level]));
	json_object_set_new(ctx, "process", json_string(m->process));
	json_object_set_new(meta, "context", ctx);
	broadcast(EV_LOGGING, "logging", NULL, meta);
	json_decref(meta);
}

static unsigned
parse_types(const char *s)
{
	unsigned t = 0;
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "operation") == 0)
			t |= EV_OPERATION;
		else if (strcmp(tok, "lifecycle") == 0)
			t |= EV_LIFECYCLE;
		else if (strcmp(tok, "logging") == 0)
			t |= EV_LOGGING;
		else
			return 0;
	}
	return t;
}

int
events_start(struct conn *c)
{
	char accept[WS_ACCEPT_LEN + 1], types[128];
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct listener *l;
	int rc;

	c->close_after = 1;
	if (strcmp(c->path, "/1.0/events") != 0 ||
	    strcmp(c->method, "GET") != 0) {
		conn_error(c, 404, "not found");
		return -1;
	}
	if (c->head.websocket == HTTP_WS_BAD_VERSION) {
		conn_respond_raw(
		    c, 426, "Sec-WebSocket-Version: 13\r\n", "", 0);
		return -1;
	}
	if (c->head.websocket != HTTP_WS_OK ||
	    ws_accept(http_head_get(&c->head, "Sec-WebSocket-Key"), accept) ==
		-1) {
		conn_error(c, 400, "Invalid websocket handshake");
		return -1;
	}
	rc = http_query_get(c->query, "type", types, sizeof(types));
	c->event_types = rc == 1 ? parse_types(types)
				 : EV_OPERATION | EV_LIFECYCLE | EV_LOGGING;
	if (rc == -1 || c->event_types == 0) {
		conn_error(c, 400, "Invalid event types");
		return -1;
	}
	/* The store said whether this client may read the daemon's log. */
	if (!c->log_events)
		c->event_types &= ~EV_LOGGING;
	/* c->all_projects: read by server_route, allowed by the store. */
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		conn_error(c, 500, "out of memory");
		return -1;
	}
	l->c = c;
	TAILQ_INSERT_TAIL(&listeners, l, entry);
	evbuffer_add_printf(out,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n",
	    accept);
	ws_parser_init(&c->ws);
	c->state = CONN_EVENTS;
	event_del(c->timer);
	events_input(c);
	return 0;
}

static void
ws_send(struct conn *c, enum ws_opcode op, const uint8_t *p, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t hdr[WS_HEADER_MAX];
	size_t hl = ws_frame_header(hdr, op, 1, len);

	evbuffer_add(out, hdr, hl);
	evbuffer_add(out, p, len);
}

/* Client frames: pings are answered, a close is echoed, data ignored. */
void
events_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t close[WS_CONTROL_MAX];
	ssize_t cl;

	while (!c->ws_closing) {
		struct evbuffer_iovec v;
		const uint8_t *data;
		size_t used = 0, dlen;
		size_t avail =
		    evbuffer_peek(in, -1, NULL, &v, 1) ? v.iov_len : 0;
		enum ws_event ev = ws_parse(&c->ws, avail ? v.iov_base : "",
		    avail, &used, &data, &dlen);

		evbuffer_drain(in, used);
		switch (ev) {
		case WS_NEED_MORE:
			if (evbuffer_get_length(in) == 0)
				return;
			break;
		case WS_FRAME_END:
			if (c->ws.frame.opcode == WS_OP_PING)
				ws_send(c, WS_OP_PONG, c->ws.ctl,
				    (size_t)c->ws.frame.len);
			else if (c->ws.frame.opcode == WS_OP_CLOSE) {
				cl = ws_close_payload(
				    close, WS_CLOSE_NORMAL, "");
				ws_send(c, WS_OP_CLOSE, close, (size_t)cl);
				goto closing;
			}
			break;
		case WS_ERROR:
			cl = ws_close_payload(
			    close, c->ws.err.status, c->ws.err.reason);
			if (cl > 0)
				ws_send(c, WS_OP_CLOSE, close, (size_t)cl);
			goto closing;
		default:
			break;
		}
	}
	return;
closing:
	/* Close once the close frame is out (conn.c's write path). */
	c->ws_closing = 1;
	c->state = CONN_WRITE;
	c->close_after = 1;
	bufferevent_disable(c->bev, EV_READ);
}

/* The store says so (a new policy): every listener is closed with 1008
 * and the reason; a client that reconnects is decided on afresh. */
void
events_close_all(const char *reason)
{
	struct listener *l;
	uint8_t close[WS_CONTROL_MAX];
	ssize_t cl;
	int n = 0;

	TAILQ_FOREACH (l, &listeners, entry) {
		struct conn *c = l->c;

		if (c->ws_closing)
			continue;
		cl = ws_close_payload(close, WS_CLOSE_POLICY, reason);
		if (cl > 0)
			ws_send(c, WS_OP_CLOSE, close, (size_t)cl);
		c->ws_closing = 1;
		c->state = CONN_WRITE;
		c->close_after = 1;
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_enable(c->bev, EV_WRITE);
		n++;
	}
	if (n)
		log_info("closed %d events listeners: %s", n, reason);
}
