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
