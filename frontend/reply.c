/*
 * The store's answers to the frontend's requests, rendered as LXD's
 * responses (lists streamed as they come).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontend/fe.h"
#include "frontend/jw.h"
#include "policy/names.h"
#include "ipc/cause.h"
#include "ipc/codec.h"
#include "ipc/log.h"

/* The HTTP status for a fault's cause: LXD's where LXD has one. */
int
fault_status(int cause)
{
	switch (cause) {
	case ERR_NOT_FOUND:
		return 404;
	case ERR_FORBIDDEN:
	case ERR_BAD_TOKEN:
	case ERR_QUOTA:
		return 403;
	case ERR_EXISTS:
	case ERR_IN_USE:
		return 409;
	case ERR_CHANGED:
		return 412;
	case ERR_TOO_LARGE:
		return 413;
	case ERR_BUSY:
	case ERR_STOPPING:
	case ERR_NO_FDS:
		return 503;
	case ERR_NO_SPACE:
		return 507;
	case ERR_STORAGE:
	case ERR_FILE_MISSING:
	case ERR_DATABASE:
	case ERR_INTERNAL:
	case ERR_TIMEOUT:
	case ERR_UNPACKER:
	case ERR_UNPACKER_BUG:
	case ERR_UNPACKER_PROTO:
	case ERR_FETCHER:
		return 500;
	case ERR_FETCH:
		return 502;
	default: /* the request's own fault */
		return 400;
	}
}

/* An item of a streamed list: its URL (recursion=0). */
static void
list_url(struct conn *c, const char *url)
{
	jw_str(conn_item_begin(c), url);
	conn_stream_count(c);
}

static void
image_reply(struct conn *c, struct imsg_image_info *m)
{
	char hdr[128], url[128];
	int keep = 1;

	if (c->want == WANT_IMAGE) {
		snprintf(hdr, sizeof(hdr), "ETag: \"%s\"\r\n", m->etag);
		conn_respond(c, 200, hdr, render_sync(render_image(m)));
		return;
	}
	/* A list: written as it comes, a tree only for the filter. */
	if (c->flt != NULL) {
		json_t *doc = render_image(m);

		keep = filter_match(c->flt, doc);
		json_decref(doc);
	}
	if (keep && c->recursion)
		render_image_text(conn_item_begin(c), m);
	else if (keep) {
		snprintf(url, sizeof(url), "/1.0/images/%s", m->fingerprint);
		jw_str(conn_item_begin(c), url);
	}
	/* Filtered out or not, it counts towards the page. */
	conn_stream_count(c);
}

static void
alias_reply(struct conn *c, struct imsg_alias_info *m)
{
	char hdr[128];

	if (c->want == WANT_ALIAS) {
		snprintf(hdr, sizeof(hdr), "ETag: \"%s\"\r\n", m->etag);
		conn_respond(c, 200, hdr, render_sync(render_alias(m)));
		return;
	}
	if (c->recursion) {
		render_alias_text(conn_item_begin(c), m);
		conn_stream_count(c);
		return;
	}
	char *esc = url_escape(m->name), url[3 * LIM_ALIAS_NAME_MAX + 32];
	snprintf(url, sizeof(url), "/1.0/images/aliases/%s", esc ? esc : "");
	free(esc);
	list_url(c, url);
}

static void
project_reply(struct conn *c, struct imsg_project_info *m)
{
	json_t *doc, *cfg;
	char *esc;

	if (!c->recursion) {
		char url[3 * LIM_PROJECT_NAME_MAX + 32];

		esc = url_escape(m->name);
		snprintf(url, sizeof(url), "/1.0/projects/%s", esc ? esc : "");
		free(esc);
		json_array_append_new(c->list, json_string(url));
		return;
	}
	cfg = json_object();
	for (uint32_t i = 0; i < m->nconfig; i++)
		json_object_set_new(
		    cfg, m->config[i].key, json_string(m->config[i].value));
	doc = json_pack("{s:o, s:s, s:s, s:[]}", "config", cfg, "description",
	    m->description, "name", m->name, "used_by");
	json_array_append_new(c->list, doc);
}

/* An image of the project last sent: its URL in that one's used_by. */
static void
project_used(struct conn *c, struct imsg_project_used *m)
{
	json_t *doc = json_array_get(c->list, json_array_size(c->list) - 1);
	const char *name = json_string_value(json_object_get(doc, "name"));
	char url[256];

	if (name == NULL)
		return;
	snprintf(url, sizeof(url), "/1.0/images/%s%s%s", m->fingerprint,
	    strcmp(name, "default") ? "?project=" : "",
	    strcmp(name, "default") ? name : "");
	json_array_append_new(
	    json_object_get(doc, "used_by"), json_string(url));
}

/* An operation of a list, in LXD's groups by status ("running": [...]). */
static void
ops_group(struct conn *c, struct imsg_op_update *m)
{
	json_t *doc = render_op(m), *g;
	const char *st = json_string_value(json_object_get(doc, "status"));
	char key[32], url[80];

	snprintf(key, sizeof(key), "%s", st ? st : "unknown");
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if ((g = json_object_get(c->list, key)) == NULL) {
		g = json_array();
		json_object_set_new(c->list, key, g);
	}
	snprintf(url, sizeof(url), "/1.0/operations/%s", m->id);
	json_array_append_new(g, c->recursion ? doc : json_string(url));
	if (!c->recursion)
		json_decref(doc);
}

static void
ok_reply(struct conn *c, struct imsg_ok *m)
{
	char hdr[3 * (LIM_ALIAS_NAME_MAX + 64) + 16] = "";
	char url[3 * LIM_ALIAS_NAME_MAX + 64];

	if (m->kind != RES_NONE) {
		render_resource(url, sizeof(url), m->kind, m->name, 1);
		snprintf(hdr, sizeof(hdr), "Location: %s\r\n", url);
	}
	conn_respond(
	    c, c->status_ok ? c->status_ok : 200, hdr, render_sync(NULL));
}

static void
op_reply(struct conn *c, struct imsg_op_update *m)
{
	char hdr[128], url[80];
	json_t *op = render_op(m), *o;

	snprintf(url, sizeof(url), "/1.0/operations/%s", m->id);
	snprintf(hdr, sizeof(hdr), "Location: %s\r\n", url);
	o = render_sync(op);
	json_object_set_new(o, "type", json_string("async"));
	json_object_set_new(o, "status", json_string("Operation created"));
	json_object_set_new(o, "status_code", json_integer(100));
	json_object_set_new(o, "operation", json_string(url));
	conn_respond(c, 202, hdr, o);
}

/* A refusal: the cause's status and words, or a cut connection when the
 * head of the answer is out already. */
static void
reply_err(struct conn *c, struct ipc_msg *m)
{
	char msg[LIM_ERROR_MAX + 128];

	if (c->state == CONN_EXPORT || c->state == CONN_LIST)
		conn_close(c); /* headers are out: cut it short */
	else if (c->state == CONN_UPLOAD || c->state == CONN_STORE) {
		fault_words(&m->m.err.fault, msg, sizeof(msg));
		conn_error(c, fault_status(m->m.err.fault.cause), "%s", msg);
	}
}

/* A record of the answer; 0 when it is not what c wants. */
static int
reply_item(struct conn *c, struct ipc_msg *m)
{
	switch (c->want) {
	case WANT_IMAGE:
	case WANT_IMAGES:
		if (m->type == IMSG_IMAGE_INFO) {
			image_reply(c, &m->m.image_info);
			return 1;
		}
		break;
	case WANT_ALIAS:
	case WANT_ALIASES:
		if (m->type == IMSG_ALIAS_INFO) {
			alias_reply(c, &m->m.alias_info);
			return 1;
		}
		break;
	case WANT_OK:
		if (m->type == IMSG_OK) {
			ok_reply(c, &m->m.ok);
			return 1;
		}
		break;
	case WANT_OP:
		if (m->type == IMSG_OP_UPDATE) {
			op_reply(c, &m->m.op_update);
			return 1;
		}
		break;
	case WANT_EXPORT:
		if (m->type == IMSG_EXPORT_PART) {
			export_part(c, &m->m.export_part, m->fd);
			m->fd = -1;
			return 1;
		}
		break;
	case WANT_OP_GET:
		if (m->type == IMSG_OP_UPDATE) {
			if (strcmp(c->method, "DELETE") == 0)
				conn_error(c, 403,
				    "This operation can't be cancelled");
			else
				conn_respond(c, 200, NULL,
				    render_sync(render_op(&m->m.op_update)));
			return 1;
		}
		break;
	case WANT_OPS:
		if (m->type == IMSG_OP_UPDATE) {
			ops_group(c, &m->m.op_update);
			return 1;
		}
		break;
	case WANT_PROJECT:
	case WANT_PROJECTS:
		if (m->type == IMSG_PROJECT_INFO) {
			project_reply(c, &m->m.project_info);
			return 1;
		}
		if (m->type == IMSG_PROJECT_USED && c->recursion &&
		    json_array_size(c->list) > 0) {
			project_used(c, &m->m.project_used);
			return 1;
		}
		break;
	case WANT_METRICS:
		if (m->type == IMSG_METRIC) {
			metrics_sample(c, &m->m.metric);
			return 1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* The end of a list; 0 when c does not want one. */
static int
reply_end(struct conn *c, struct ipc_msg *m)
{
	if (m->type != IMSG_LIST_END)
		return 0;
	if (c->want == WANT_PROJECT && json_array_size(c->list) == 1) {
		json_t *doc = json_incref(json_array_get(c->list, 0));
		conn_respond(c, 200, NULL, render_sync(doc));
		return 1;
	}
	if (c->want == WANT_IMAGES || c->want == WANT_ALIASES) {
		conn_stream_end(c);
		return 1;
	}
	if (c->want == WANT_METRICS) {
		metrics_end(c);
		return 1;
	}
	if (c->want == WANT_PROJECTS || c->want == WANT_OPS) {
		json_t *list = c->list;
		c->list = NULL;
		conn_respond(c, 200, NULL, render_sync(list));
		return 1;
	}
	return 0;
}

void
route_store_reply(struct conn *c, struct ipc_msg *m)
{
	if (m->type == IMSG_ERR) {
		reply_err(c, m);
		return;
	}
	if (streams_reply(c, m) || trust_reply(c, m) || reply_item(c, m) ||
	    reply_end(c, m))
		return;
	/* The table let it through, but it answers another kind of
	 * request: the two processes disagree; restart rather than guess. */
	fatalx("BUG: the store sent %s for a request that wants %d",
	    ipc_typename(m->type), (int)c->want);
}
