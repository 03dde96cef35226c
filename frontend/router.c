/*
 * The LXD-compatible API on the local socket: each route checks and
 * converts the request into one typed IPC request (reply.c renders the
 * store's answer). Untrusted text is parsed here and nowhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontend/fe.h"
#include "policy/names.h"
#include "ipc/codec.h"
#include "ipc/log.h"

#define ROUTE_IMAGES "/1.0/images"
#define ROUTE_ALIASES "/1.0/images/aliases"
#define ROUTE_OPERATIONS "/1.0/operations"
#define ROUTE_PROJECTS "/1.0/projects"

/* A fingerprint or prefix: hex only, so that it can never be a pattern. */
int
image_ref(const char *in, char out[65])
{
	size_t n = strlen(in);

	if (n == 0 || n > 64)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		char ch = in[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (i < n &&
		    !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -1;
		out[i] = ch;
	}
	return 0;
}

void
send_req(struct conn *c, uint16_t type, const void *msg, enum want want)
{
	c->want = want;
	c->state = CONN_STORE;
	if (store_send(type, msg, -1, &c->reqid) == -1)
		conn_error(c, 503, "imgd is busy, try again");
}

/* The If-Match header: "" when absent, else its 64 hex digits. */
int
if_match(struct conn *c, char out[LIM_ETAG_MAX + 1])
{
	const char *v = http_head_get(&c->head, "If-Match");
	size_t n;

	out[0] = '\0';
	if (v == NULL || *v == '\0')
		return 0;
	if (v[0] == '"')
		v++;
	n = strlen(v);
	if (n > 0 && v[n - 1] == '"')
		n--;
	if (n != 64 || !ipc_str_valid(v, n, CS_HEX)) {
		conn_error(c, 412, "ETag doesn't match");
		return -1;
	}
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int
recursion_of(struct conn *c)
{
	char v[16];

	if (http_query_get(c->query, "recursion", v, sizeof(v)) != 1)
		return 0;
	return atoi(v) > 0;
}

/* ---- JSON bodies ---- */

json_t *
body_object(struct conn *c, const char *body, size_t len)
{
	char err[256];
	json_t *j = json_parse_limited(body, len, err, sizeof(err));

	if (j == NULL) {
		conn_error(c, 400, "%s", err);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		conn_error(c, 400, "Invalid request: expected a JSON object");
		return NULL;
	}
	return j;
}

/* A string member: absent (0), present (1), or wrong (-1, answered). */
int
get_str(struct conn *c, json_t *o, const char *key, size_t max, int cs,
    const char **out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		conn_error(c, 400,
		    "Invalid value for \"%s\": expected a "
		    "string",
		    key);
		return -1;
	}
	if (json_string_length(v) > max ||
	    !ipc_str_valid(json_string_value(v), json_string_length(v), cs)) {
		conn_error(c, 400,
		    "Invalid value for \"%s\": at most %zu "
		    "characters, no control characters",
		    key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int
get_bool_member(struct conn *c, json_t *o, const char *key, uint8_t *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		conn_error(c, 400,
		    "Invalid value for \"%s\": expected true "
		    "or false",
		    key);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int
get_props_member(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n)
{
	json_t *p = json_object_get(o, "properties"), *v;
	const char *k;
	size_t total = 0;

	*n = 0;
	if (p == NULL || json_is_null(p))
		return 0;
	if (!json_is_object(p)) {
		conn_error(c, 400,
		    "Invalid value for \"properties\": "
		    "expected an object of strings");
		return -1;
	}
	json_object_foreach (p, k, v) {
		if (!json_is_string(v)) {
			conn_error(c, 400,
			    "Invalid value for property "
			    "\"%s\": expected a string",
			    k);
			return -1;
		}
		if (*n == LIM_META_PROPERTIES_MAX) {
			conn_error(c, 400, "Too many properties (at most %d)",
			    LIM_META_PROPERTIES_MAX);
			return -1;
		}
		if (strlen(k) == 0 || strlen(k) > LIM_PROP_KEY_MAX ||
		    !ipc_str_valid(k, strlen(k), CS_LINE) ||
		    json_string_length(v) > LIM_PROP_VALUE_MAX ||
		    !ipc_str_valid(json_string_value(v), json_string_length(v),
			CS_ANY_UTF8)) {
			conn_error(c, 400,
			    "Invalid property \"%s\": keys "
			    "1-%d and values up to %d characters, no control "
			    "characters",
			    k, LIM_PROP_KEY_MAX, LIM_PROP_VALUE_MAX);
			return -1;
		}
		total += strlen(k) + json_string_length(v);
		kv[*n].key = (char *)k;
		kv[(*n)++].value = (char *)json_string_value(v);
	}
	if (total > LIM_PROP_TOTAL_MAX) {
		conn_error(c, 400, "Properties larger than %llu bytes in all",
		    (unsigned long long)LIM_PROP_TOTAL_MAX);
		return -1;
	}
	return 1;
}

/* ---- images ---- */

/* "profiles": absent, null, or only "default" (imgd has no others). */
static int
profiles_ok(struct conn *c, json_t *prof)
{
	size_t i;
	json_t *p;

	if (prof == NULL || json_is_null(prof))
		return 0;
	if (!json_is_array(prof)) {
		conn_error(
		    c, 400, "Invalid value for \"profiles\": expected a list");
		return -1;
	}
	json_array_foreach (prof, i, p)
		if (!json_is_string(p) ||
		    strcmp(json_string_value(p), "default") != 0) {
			conn_error(c, 400, "Profile '%s' doesn't exist",
			    json_is_string(p) ? json_string_value(p) : "?");
			return -1;
		}
	return 0;
}

static void
image_put(struct conn *c, const char *ref, const char *body, size_t len)
{
	static struct ipc_kv kv[LIM_META_PROPERTIES_MAX];
	struct imsg_image_update_req r = {0};
	char etag[LIM_ETAG_MAX + 1];
	const char *exp = NULL;
	json_t *o;
	int rc;

	if (if_match(c, etag) == -1 || (o = body_object(c, body, len)) == NULL)
		return;
	r.project = c->project;
	r.ref = (char *)ref;
	r.if_match = etag;
	r.peer = c->peer;
	r.mode = strcmp(c->method, "PUT") == 0 ? UPD_PUT : UPD_PATCH;
	if ((rc = get_bool_member(c, o, "public", &r.public)) == -1)
		goto out;
	r.set |= rc ? UPD_PUBLIC : 0;
	if ((rc = get_bool_member(c, o, "auto_update", &r.auto_update)) == -1)
		goto out;
	r.set |= rc ? UPD_AUTO_UPDATE : 0;
	if ((rc = get_props_member(c, o, kv, &r.nproperties)) == -1)
		goto out;
	r.properties = kv;
	r.set |= rc ? UPD_PROPERTIES : 0;
	if ((rc = get_str(c, o, "expires_at", 64, CS_LINE, &exp)) == -1)
		goto out;
	if (rc && parse_rfc3339(exp, &r.expires_at) == -1) {
		conn_error(c, 400,
		    "Invalid value for \"expires_at\": "
		    "expected an RFC 3339 time");
		goto out;
	}
	/* Go's zero time means "not given", as in LXD. */
	if (rc && r.expires_at != INT64_MIN)
		r.set |= UPD_EXPIRES_AT;
	if (profiles_ok(c, json_object_get(o, "profiles")) == -1)
		goto out;
	/* architecture, created_at, fingerprint...: immutable, ignored. */
	c->status_ok = 200;
	send_req(c, IMSG_IMAGE_UPDATE_REQ, &r, WANT_OK);
out:
	json_decref(o);
}

static void
image_route(struct conn *c, const char *rest, const char *body, size_t len)
{
	struct imsg_image_ref_req r = {
	    .project = c->project, .secret = "", .peer = c->peer};
	char ref[65], name[128], secret[72];
	const char *slash = strchr(rest, '/');
	int rc;

	snprintf(name, sizeof(name), "%.*s",
	    slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	/* Not hex: no image can have that name. Say nothing more. */
	if (image_ref(name, ref) == -1 ||
	    (slash && strcmp(slash, "/export") != 0 &&
		strcmp(slash, "/secret") != 0 &&
		strcmp(slash, "/refresh") != 0 &&
		strcmp(slash, "/unpack") != 0)) {
		conn_error(c, 404, "Image not found");
		return;
	}
	r.ref = ref;
	/* A one-time secret (an untrusted client's): hex, else none. */
	rc = http_query_get(c->query, "secret", secret, sizeof(secret));
	if (rc == 1 && strlen(secret) == 64 &&
	    ipc_str_valid(secret, 64, CS_HEX))
		r.secret = secret;
	if (slash && strcmp(slash, "/secret") == 0) {
		if (strcmp(c->method, "POST") != 0)
			goto method;
		send_req(c, IMSG_IMAGE_SECRET_REQ, &r, WANT_OP);
	} else if (slash && strcmp(slash, "/unpack") == 0) {
		if (strcmp(c->method, "POST") != 0)
			goto method;
		image_unpack(c, ref, body, len);
	} else if (slash && strcmp(slash, "/refresh") == 0) {
		if (strcmp(c->method, "POST") != 0)
			goto method;
		send_req(c, IMSG_IMAGE_REFRESH_REQ, &r, WANT_OP);
	} else if (slash) {
		if (strcmp(c->method, "GET") != 0)
			goto method;
		export_prepare(c);
		send_req(c, IMSG_IMAGE_EXPORT_REQ, &r, WANT_EXPORT);
	} else if (strcmp(c->method, "GET") == 0) {
		send_req(c, IMSG_IMAGE_GET_REQ, &r, WANT_IMAGE);
	} else if (strcmp(c->method, "DELETE") == 0) {
		send_req(c, IMSG_IMAGE_DELETE_REQ, &r, WANT_OP);
	} else if (strcmp(c->method, "PUT") == 0 ||
		   strcmp(c->method, "PATCH") == 0) {
		image_put(c, ref, body, len);
	} else
		goto method;
	return;
method:
	conn_error(c, 405, "Method not allowed");
}

static void
images_route(struct conn *c, const char *body, size_t len)
{
	struct imsg_images_list_req r = {
	    .project = c->project, .peer = c->peer};
	char err[256];
	int rc;

	if (strcmp(c->method, "POST") == 0) {
		/* An upload never gets here (route_is_upload). */
		image_copy(c, body, len);
		return;
	}
	if (strcmp(c->method, "GET") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	c->recursion = recursion_of(c);
	rc = http_query_get(c->query, "filter", c->filter, sizeof(c->filter));
	if (rc == -1) {
		conn_error(c, 400, "Invalid filter");
		return;
	}
	if (rc == 0)
		c->filter[0] = '\0';
	filter_free(c->flt);
	c->flt = NULL;
	if (c->filter[0] &&
	    (c->flt = filter_parse(c->filter, err, sizeof(err))) == NULL) {
		conn_error(c, 400, "%s", err);
		return;
	}
	r.prop_key = r.prop_value = "";
	if (c->flt != NULL)
		(void)filter_narrowing(c->flt, (const char **)&r.prop_key,
		    (const char **)&r.prop_value);
	c->page_items = c->more_pending = 0;
	send_req(c, IMSG_IMAGES_LIST_REQ, &r, WANT_IMAGES);
}

/* ---- aliases ---- */

/* ---- operations ---- */

static void
operations_route(struct conn *c, const char *rest)
{
	struct imsg_op_req r = {
	    .project = c->project, .id = "", .timeout = -1, .peer = c->peer};
	char id[LIM_OP_ID_MAX + 8], tmo[16];
	const char *slash;
	int wait;

	if (rest == NULL) {
		if (strcmp(c->method, "GET") != 0) {
			conn_error(c, 405, "Method not allowed");
			return;
		}
		c->recursion = recursion_of(c);
		json_decref(c->list);
		c->list = json_object();
		send_req(c, IMSG_OP_LIST_REQ, &r, WANT_OPS);
		return;
	}
	slash = strchr(rest, '/');
	wait = slash && strcmp(slash, "/wait") == 0 &&
	       strcmp(c->method, "GET") == 0;
	if ((slash && !wait) || strlen(rest) > LIM_OP_ID_MAX + (wait ? 5 : 0)) {
		conn_error(c, 404, "Operation not found");
		return;
	}
	snprintf(id, sizeof(id), "%.*s",
	    slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	if (!ipc_str_valid(id, strlen(id), CS_TOKEN) || id[0] == '\0') {
		conn_error(c, 404, "Operation not found");
		return;
	}
	if (!wait && strcmp(c->method, "GET") != 0 &&
	    strcmp(c->method, "DELETE") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	r.id = id;
	if (wait && http_query_get(c->query, "timeout", tmo, sizeof(tmo)) == 1)
		r.timeout = atoi(tmo);
	send_req(c, wait ? IMSG_OP_WAIT_REQ : IMSG_OP_GET_REQ, &r, WANT_OP_GET);
}

/* ---- dispatch ---- */

int
route_is_upload(struct conn *c)
{
	const char *ct = http_head_get(&c->head, "Content-Type");
	/* JSON means a source to fetch from; anything else is the image. */
	int json = ct && strncasecmp(ct, "application/json", 16) == 0 &&
		   (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');

	return strcmp(c->method, "POST") == 0 &&
	       strcmp(c->path, ROUTE_IMAGES) == 0 && !json;
}

void
route_request(struct conn *c, const char *body, size_t len)
{
	const char *p = c->path;

	if (strcmp(p, "/") == 0) {
		json_t *a = json_array();
		json_array_append_new(a, json_string("/1.0"));
		conn_respond(c, 200, NULL, render_sync(a));
	} else if (strcmp(p, "/1.0") == 0 || strcmp(p, "/1.0/") == 0) {
		server_route(c);
	} else if (strcmp(p, "/1.0/metrics") == 0) {
		metrics_route(c);
	} else if (strcmp(p, "/1.0/certificates") == 0 ||
		   strncmp(p, "/1.0/certificates/", 18) == 0) {
		certificates_route(c, body, len);
	} else if (strcmp(p, ROUTE_IMAGES) == 0) {
		images_route(c, body, len);
	} else if (strcmp(p, ROUTE_ALIASES) == 0) {
		aliases_route(c, NULL, body, len);
	} else if (strncmp(p, ROUTE_ALIASES "/", sizeof(ROUTE_ALIASES)) == 0) {
		aliases_route(c, p + sizeof(ROUTE_ALIASES), body, len);
	} else if (strncmp(p, ROUTE_IMAGES "/", sizeof(ROUTE_IMAGES)) == 0) {
		image_route(c, p + sizeof(ROUTE_IMAGES), body, len);
	} else if (strcmp(p, ROUTE_OPERATIONS) == 0) {
		operations_route(c, NULL);
	} else if (strncmp(p, ROUTE_OPERATIONS "/", sizeof(ROUTE_OPERATIONS)) ==
		   0) {
		operations_route(c, p + sizeof(ROUTE_OPERATIONS));
	} else if (strcmp(p, ROUTE_PROJECTS) == 0) {
		projects_route(c, NULL, body, len);
	} else if (strncmp(p, ROUTE_PROJECTS "/", sizeof(ROUTE_PROJECTS)) ==
		   0) {
		projects_route(c, p + sizeof(ROUTE_PROJECTS), body, len);
	} else if (streams_route(c)) {
		/* simplestreams: answered there */
	} else if (strncmp(p, "/1.0/", 5) == 0) {
		/* LXD's API, beyond what an image server serves: say so. */
		size_t n = strcspn(p + 5, "/");

		conn_error(c, 501,
		    "not implemented: imgd is an image server and does not "
		    "implement /1.0/%.*s",
		    (int)(n < 48 ? n : 48), p + 5);
	} else
		conn_error(c, 404, "not found");
}
