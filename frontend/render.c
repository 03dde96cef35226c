/*
 * LXD's JSON shapes: the sync/async/error envelopes, images, aliases and
 * the server description. Field order follows LXD's structs so that the
 * real client (and a diff against a real LXD) sees the same documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/fe.h"
#include "frontend/jw.h"
#include "http/http.h"
#include "ipc/log.h"
#include "policy/lxdapi.h"

/* Go's RFC3339Nano: fraction without trailing zeros, none when 0. */
void
render_time(char *out, size_t len, int64_t sec, int64_t nsec)
{
	struct ts t = {.sec = sec, .nsec = (int32_t)(nsec > 0 ? nsec : 0)};
	struct ts_tm tm;
	char buf[TS_STR_MAX];

	/* Go's zero time (INT64_MIN) is "never"; the store only keeps years
	 * 1-9999, and anything else is not shown as a date Go cannot
	 * parse. */
	if (sec != INT64_MIN)
		ts_fields(&t, 0, &tm);
	if (sec == INT64_MIN || tm.year < 1 || tm.year > 9999)
		ts_zero(&t);
	ts_rfc3339(&t, buf);
	snprintf(out, len, "%s", buf);
}

static json_t *
time_ns(int64_t ns)
{
	char buf[64];

	if (ns == 0)
		render_time(buf, sizeof(buf), INT64_MIN, 0);
	else
		render_time(
		    buf, sizeof(buf), ns / 1000000000LL, ns % 1000000000LL);
	return json_string(buf);
}

static json_t *
time_s(int64_t s)
{
	char buf[64];

	render_time(buf, sizeof(buf), s, 0);
	return json_string(buf);
}

static json_t *
envelope(const char *type, const char *status, int status_code,
    const char *operation, int error_code, const char *error, json_t *meta)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "status_code", json_integer(status_code));
	json_object_set_new(o, "operation", json_string(operation));
	json_object_set_new(o, "error_code", json_integer(error_code));
	json_object_set_new(o, "error", json_string(error));
	json_object_set_new(o, "metadata", meta ? meta : json_null());
	return o;
}

json_t *
render_sync(json_t *metadata)
{
	return envelope("sync", "Success", 200, "", 0, "", metadata);
}

json_t *
render_error(int code, const char *msg)
{
	json_t *m = json_string(msg);

	/* Never NULL: a message that is not UTF-8 is replaced. */
	if (m == NULL)
		m = json_string("invalid request");
	json_t *o = envelope("error", "", 0, "", code, "", NULL);
	json_object_set_new(o, "error", m);
	return o;
}

/* o in the shape of LXD's struct (policy/lxdapi.c), o released. */
static json_t *
normalized(json_t *o, const struct sch_field *fields)
{
	json_t *n = sch_normalize(o, fields);

	json_decref(o);
	if (n == NULL)
		fatalx("out of memory");
	return n;
}

json_t *
render_image(const struct imsg_image_info *m)
{
	json_t *o = json_object(), *props = json_object(),
	       *aliases = json_array(), *profiles = json_array();

	for (uint32_t i = 0; i < m->nproperties; i++)
		json_object_set_new(props, m->properties[i].key,
		    json_string(m->properties[i].value));
	for (uint32_t i = 0; i < m->naliases; i++) {
		json_t *a = json_object();
		json_object_set_new(a, "name", json_string(m->aliases[i].key));
		json_object_set_new(
		    a, "description", json_string(m->aliases[i].value));
		json_array_append_new(aliases, a);
	}
	json_array_append_new(profiles, json_string("default"));
	json_object_set_new(o, "auto_update", json_boolean(m->auto_update));
	json_object_set_new(o, "properties", props);
	json_object_set_new(o, "public", json_boolean(m->public));
	json_object_set_new(o, "expires_at", time_s(m->expires_at));
	json_object_set_new(o, "profiles", profiles);
	json_object_set_new(o, "aliases", aliases);
	json_object_set_new(o, "architecture", json_string(m->architecture));
	json_object_set_new(o, "cached", json_boolean(m->cached));
	json_object_set_new(o, "filename", json_string(m->filename));
	json_object_set_new(o, "fingerprint", json_string(m->fingerprint));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "type", json_string(m->type));
	json_object_set_new(o, "created_at", time_s(m->created_at));
	json_object_set_new(o, "last_used_at", time_ns(m->last_used_at));
	json_object_set_new(o, "uploaded_at", time_ns(m->uploaded_at));
	return normalized(o, sch_image);
}

static void
jw_time(struct jw *w, int64_t sec, int64_t nsec)
{
	char buf[64];

	render_time(buf, sizeof(buf), sec, nsec);
	jw_str(w, buf);
}

static void
jw_time_ns(struct jw *w, int64_t ns)
{
	if (ns == 0)
		jw_time(w, INT64_MIN, 0);
	else
		jw_time(w, ns / 1000000000LL, ns % 1000000000LL);
}

static const struct ipc_kv *sort_props;

/* By key (Go's map order: bytes), the last of equal keys first. */
static int
prop_cmp(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int c = strcmp(sort_props[i].key, sort_props[j].key);

	return c ? c : (i < j) - (i > j);
}

/* The properties as a JSON object: in key order, a repeated key once
 * with its last value, as the tree has them. The store sends them sorted
 * and unique: then they are written as they come. */
static void
jw_props(struct jw *w, const struct ipc_kv *p, uint32_t n)
{
	uint32_t idx[LIM_META_PROPERTIES_MAX], k = 0;
	int sorted = 1;

	for (uint32_t i = 1; i < n && sorted; i++)
		sorted = strcmp(p[i - 1].key, p[i].key) < 0;
	if (sorted || n > LIM_META_PROPERTIES_MAX) {
		for (uint32_t i = 0; i < n; i++) {
			jw_key(w, i > 0, p[i].key);
			jw_str(w, p[i].value);
		}
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	sort_props = p;
	qsort(idx, n, sizeof(idx[0]), prop_cmp);
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(p[idx[i]].key, p[idx[i - 1]].key) == 0)
			continue;
		jw_key(w, k++ > 0, p[idx[i]].key);
		jw_str(w, p[idx[i]].value);
	}
}

/*
 * The image as JSON text: the bytes json_dumps(render_image(m),
 * JSON_COMPACT | JSON_PRESERVE_ORDER) writes (tests/unit/test_render.c
 * compares them), without building the tree: lists are streamed through
 * this, a single GET and a filtered list go through render_image.
 */
void
render_image_text(struct jw *w, const struct imsg_image_info *m)
{
	jw_lit(w, "{\"auto_update\":");
	jw_bool(w, m->auto_update);
	jw_lit(w, ",\"properties\":{");
	jw_props(w, m->properties, m->nproperties);
	jw_lit(w, "},\"public\":");
	jw_bool(w, m->public);
	jw_lit(w, ",\"expires_at\":");
	jw_time(w, m->expires_at, 0);
	jw_lit(w, ",\"profiles\":[\"default\"],\"aliases\":[");
	for (uint32_t i = 0; i < m->naliases; i++) {
		jw_lit(w, i > 0 ? ",{\"name\":" : "{\"name\":");
		jw_str(w, m->aliases[i].key);
		jw_lit(w, ",\"description\":");
		jw_str(w, m->aliases[i].value);
		jw_lit(w, "}");
	}
	jw_lit(w, "],\"architecture\":");
	jw_str(w, m->architecture);
	jw_lit(w, ",\"cached\":");
	jw_bool(w, m->cached);
	jw_lit(w, ",\"filename\":");
	jw_str(w, m->filename);
	jw_lit(w, ",\"fingerprint\":");
	jw_str(w, m->fingerprint);
	jw_lit(w, ",\"size\":");
	jw_int(w, (int64_t)m->size);
	jw_lit(w, ",\"type\":");
	jw_str(w, m->type);
	jw_lit(w, ",\"created_at\":");
	jw_time(w, m->created_at, 0);
	jw_lit(w, ",\"last_used_at\":");
	jw_time_ns(w, m->last_used_at);
	jw_lit(w, ",\"uploaded_at\":");
	jw_time_ns(w, m->uploaded_at);
	jw_lit(w, "}");
}

/* The alias as JSON text (as render_image_text is to render_image). */
void
render_alias_text(struct jw *w, const struct imsg_alias_info *m)
{
	jw_lit(w, "{\"description\":");
	jw_str(w, m->description);
	jw_lit(w, ",\"target\":");
	jw_str(w, m->target);
	jw_lit(w, ",\"name\":");
	jw_str(w, m->name);
	jw_lit(w, ",\"type\":");
	jw_str(w, m->type);
	jw_lit(w, "}");
}

json_t *
render_alias(const struct imsg_alias_info *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "description", json_string(m->description));
	json_object_set_new(o, "target", json_string(m->target));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "type", json_string(m->type));
	return normalized(o, sch_alias_entry);
}

/*
 * Exactly the LXD API extensions whose behaviour imgd has, so that the
 * client's feature checks fail honestly: ETags and If-Match, PATCH,
 * filter=, ?project= on every image call, image "type", POST
 * /1.0/images/<fp>/refresh. Not image_create_aliases: lxc would then
 * leave the aliases of an import to the request, and ensures them
 * itself either way.
 */
static const char *const extensions[] = {
    "etag",
    "patch",
    "api_filtering",
    "projects",
    "image_types",
    "image_force_refresh",
};

json_t *
render_server(int trusted, const char *project)
{
	json_t *o = json_object(), *env, *ext = json_array(), *archs,
	       *auth = json_array(), *addrs;

	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		json_array_append_new(ext, json_string(extensions[i]));
	json_array_append_new(auth, json_string("tls"));
	json_object_set_new(o, "api_extensions", ext);
	json_object_set_new(o, "api_status", json_string("stable"));
	json_object_set_new(o, "api_version", json_string("1.0"));
	json_object_set_new(
	    o, "auth", json_string(trusted ? "trusted" : "untrusted"));
	/* To the public, an image server: lxc adds it without a password. */
	json_object_set_new(o, "public", trusted ? json_false() : json_true());
	json_object_set_new(o, "auth_methods", auth);
	if (!trusted)
		return o; /* LXD's ServerUntrusted: nothing about the host */
	env = json_object();
	archs = json_array();
	addrs = json_array();
	for (int i = 0; i < fe_info.narchs; i++)
		json_array_append_new(archs, json_string(fe_info.archs[i]));
	if (fe_info.https_address[0])
		json_array_append_new(
		    addrs, json_string(fe_info.https_address));
	json_object_set_new(o, "config", json_object());
	json_object_set_new(env, "addresses", addrs);
	json_object_set_new(env, "architectures", archs);
	json_object_set_new(env, "certificate", json_string(tls_server_pem()));
	json_object_set_new(
	    env, "certificate_fingerprint", json_string(tls_server_fp()));
	json_object_set_new(env, "driver", json_string(""));
	json_object_set_new(env, "driver_version", json_string(""));
	json_object_set_new(env, "kernel", json_string(fe_info.kernel));
	json_object_set_new(
	    env, "kernel_architecture", json_string(fe_info.machine));
	json_object_set_new(
	    env, "kernel_version", json_string(fe_info.kernel_version));
	json_object_set_new(env, "project",
	    json_string(project && project[0] ? project : "default"));
	json_object_set_new(env, "server", json_string("imgd"));
	json_object_set_new(env, "server_clustered", json_false());
	json_object_set_new(env, "server_event_mode", json_string("full-mesh"));
	json_object_set_new(
	    env, "server_name", json_string(fe_info.server_name));
	json_object_set_new(env, "server_pid", json_integer(fe_info.pid));
	json_object_set_new(
	    env, "server_version", json_string(fe_info.version));
	json_object_set_new(env, "storage", json_string(""));
	json_object_set_new(env, "storage_version", json_string(""));
	json_object_set_new(o, "environment", env);
	return o;
}

/* The URL of what the store named (RES_*): LXD's paths, built here only.
 * escape: percent-encoded (for a Location header). "" for RES_NONE. */
void
render_resource(char *out, size_t len, int kind, const char *name, int escape)
{
	char *esc = escape ? url_escape(name) : NULL;
	const char *n = esc ? esc : name;

	if (kind == RES_IMAGE)
		snprintf(out, len, "/1.0/images/%s", n);
	else if (kind == RES_ALIAS)
		snprintf(out, len, "/1.0/images/aliases/%s", n);
	else if (kind == RES_CERTIFICATE)
		snprintf(out, len, "/1.0/certificates/%s", n);
	else if (kind == RES_PROJECT)
		snprintf(out, len, "/1.0/projects/%s", n);
	else
		snprintf(out, len, "%s", "");
	free(esc);
}

/* Percent-encodes a URL path (http_pct_encode), in a malloc'd string. */
char *
url_escape(const char *s)
{
	size_t len = strlen(s) * 3 + 1;
	char *out = malloc(len);

	if (out != NULL && http_pct_encode(s, 0, out, len) == -1) {
		free(out);
		out = NULL;
	}
	return out;
}
