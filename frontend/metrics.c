/*
 * GET /1.0/metrics (Prometheus text format 0.0.4, as LXD serves it): the
 * store decides who may read them (read on "*"; a trusted certificate
 * without a policy) and sends its samples; the frontend adds what only it
 * sees (requests by endpoint, method and status; uploads and downloads in
 * flight and their bytes) and writes the text. Label values are the
 * store's checked names or fixed words; they are escaped anyway.
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "ipc/log.h"

struct fe_stats fe_stats;

/* The store's metrics: name, type, help, label names. */
static const struct {
	const char *name, *type, *help, *l1, *l2;
} defs[METRIC_STORE_MAX + 1] = {
    [METRIC_IMAGES] = {"imgd_images", "gauge", "Images a project holds.",
	"project", NULL},
    [METRIC_IMAGE_BYTES] = {"imgd_image_bytes", "gauge",
	"Bytes of the images a project holds.", "project", NULL},
    [METRIC_ALIASES] = {"imgd_aliases", "gauge",
	"Image aliases a project holds.", "project", NULL},
    [METRIC_RUNNING] = {"imgd_project_operations", "gauge",
	"Uploads, copies and unpacks under way in a project "
	"(limits.images.uploads, .copies, .unpacks).",
	"project", "kind"},
    [METRIC_CHILD_DEATHS] = {"imgd_child_deaths_total", "counter",
	"Sandboxed children that ended unexpectedly, by cause (sigsys: a "
	"sandbox violation; killed: by imgd, at a time limit).",
	"process", "cause"},
    [METRIC_SANDBOX_VIOLATIONS] = {"imgd_sandbox_violations_total", "counter",
	"Children killed by seccomp (SIGSYS) for a forbidden system call.",
	"process", NULL},
    [METRIC_AUDIT_RECORDS] = {"imgd_audit_records_total", "counter",
	"Audit records written since the store started.", NULL, NULL},
    [METRIC_PROJECTS] = {"imgd_projects", "gauge", "Projects.", NULL, NULL},
};

/* Endpoints as route patterns: never the client's own text. */
static const char *
endpoint_of(const char *p)
{
	static const struct {
		const char *prefix, *label;
		int exact;
	} t[] = {
	    {"/", "/", 1},
	    {"/1.0", "/1.0", 1},
	    {"/1.0/", "/1.0", 1},
	    {"/1.0/metrics", "/1.0/metrics", 1},
	    {"/1.0/events", "/1.0/events", 1},
	    {"/1.0/certificates", "/1.0/certificates", 1},
	    {"/1.0/certificates/", "/1.0/certificates/{fingerprint}", 0},
	    {"/1.0/images", "/1.0/images", 1},
	    {"/1.0/images/aliases", "/1.0/images/aliases", 1},
	    {"/1.0/images/aliases/", "/1.0/images/aliases/{name}", 0},
	    {"/1.0/operations", "/1.0/operations", 1},
	    {"/1.0/projects", "/1.0/projects", 1},
	    {"/1.0/projects/", "/1.0/projects/{name}", 0},
	    {"/streams/", "/streams/v1", 0},
	    {"/direct/", "/direct/{alias}", 0},
	    {"/images/", "/images/{file}", 0},
	};
	static const char *const sub[] = {
	    "export", "secret", "refresh", "unpack", "wait", "websocket"};
	static char label[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].exact
			? strcmp(p, t[i].prefix) == 0
			: strncmp(p, t[i].prefix, strlen(t[i].prefix)) == 0)
			return t[i].label;
	if (strncmp(p, "/1.0/images/", 12) == 0 ||
	    strncmp(p, "/1.0/operations/", 16) == 0) {
		int img = p[6] == 'm';
		const char *rest = strchr(p + (img ? 12 : 16), '/');

		for (size_t i = 0; rest && i < sizeof(sub) / sizeof(sub[0]);
		     i++)
			if (strcmp(rest + 1, sub[i]) == 0) {
				snprintf(label, sizeof(label), "%s/%s",
				    img ? "/1.0/images/{fingerprint}"
					: "/1.0/operations/{id}",
				    sub[i]);
				return label;
			}
		return img ? "/1.0/images/{fingerprint}"
			   : "/1.0/operations/{id}";
	}
	return "other";
}

static const char *
method_of(const char *m)
{
	static const char *const t[] = {
	    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i]) == 0)
			return t[i];
	return "other";
}

/* Requests by (endpoint, method, status): a small table; the labels are
 * the static strings above, so that they can be compared by address. */
#define NREQ 512
static struct {
	const char *ep, *method;
	int status;
	uint64_t n;
} reqs[NREQ];
static size_t nreqs;
static uint64_t reqs_dropped;

void
metrics_request(struct conn *c, int status)
{
	const char *ep, *m;
	char ebuf[64];

	if (c->counted)
		return;
	c->counted = 1;
	ep = endpoint_of(c->path);
	if (ep != NULL && strchr(ep, '{') != NULL) { /* the shared buffer */
		snprintf(ebuf, sizeof(ebuf), "%s", ep);
		ep = NULL;
	}
	m = method_of(c->method);
	for (size_t i = 0; i < nreqs; i++)
		if (reqs[i].method == m && reqs[i].status == status &&
		    strcmp(reqs[i].ep, ep ? ep : ebuf) == 0) {
			reqs[i].n++;
			return;
		}
	if (nreqs == NREQ) {
		reqs_dropped++;
		return;
	}
	reqs[nreqs].ep = ep ? ep : strdup(ebuf);
	if (reqs[nreqs].ep == NULL) {
		reqs_dropped++;
		return;
	}
	reqs[nreqs].method = m;
	reqs[nreqs].status = status;
	reqs[nreqs].n = 1;
	nreqs++;
}

void
metrics_route(struct conn *c)
{
	struct imsg_server_req r = {
	    .peer = c->peer, .what = SRV_METRICS, .project = c->project};

	if (strcmp(c->method, "GET") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	json_decref(c->list);
	c->list = json_array();
	send_req(c, IMSG_SERVER_REQ, &r, WANT_METRICS);
}

void
metrics_sample(struct conn *c, const struct imsg_metric *m)
{
	json_array_append_new(
	    c->list, json_pack("[i,s,s,I]", (int)m->metric, m->label1,
			 m->label2, (json_int_t)m->value));
}

/* A label value as the text format wants it: \, " and newline escaped. */
static void
label(struct evbuffer *out, const char *name, const char *v, int first)
{
	evbuffer_add_printf(out, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(out, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, v, 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void
head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_end(struct conn *c)
{
	struct evbuffer *out = evbuffer_new();
	json_t *list = c->list;
	size_t len;
	char *text;
	uint64_t up = 0, down = 0, conns = 0;

	c->list = NULL;
	if (out == NULL) {
		json_decref(list);
		conn_error(c, 500, "out of memory");
		return;
	}
	for (int k = 0; k <= METRIC_STORE_MAX; k++) {
		size_t i;
		json_t *s;

		head(out, defs[k].name, defs[k].type, defs[k].help);
		json_array_foreach (list, i, s) {
			if (json_integer_value(json_array_get(s, 0)) != k)
				continue;
			evbuffer_add_printf(out, "%s", defs[k].name);
			if (defs[k].l1) {
				evbuffer_add(out, "{", 1);
				label(out, defs[k].l1,
				    json_string_value(json_array_get(s, 1)), 1);
				if (defs[k].l2)
					label(out, defs[k].l2,
					    json_string_value(
						json_array_get(s, 2)),
					    0);
				evbuffer_add(out, "}", 1);
			}
			evbuffer_add_printf(out, " %lld\n",
			    (long long)json_integer_value(
				json_array_get(s, 3)));
		}
	}
	json_decref(list);
	/* The frontend's own. */
	conn_foreach_state(&up, &down, &conns);
	head(out, "imgd_http_requests_total", "counter",
	    "HTTP requests answered, by endpoint, method and status (since "
	    "the frontend started).");
	for (size_t i = 0; i < nreqs; i++) {
		evbuffer_add(out, "imgd_http_requests_total{", 25);
		label(out, "endpoint", reqs[i].ep, 1);
		label(out, "method", reqs[i].method, 0);
		evbuffer_add_printf(out, ",code=\"%d\"} %llu\n", reqs[i].status,
		    (unsigned long long)reqs[i].n);
	}
	head(out, "imgd_http_requests_uncounted_total", "counter",
	    "Requests past the table of endpoint, method and status.");
	evbuffer_add_printf(out, "imgd_http_requests_uncounted_total %llu\n",
	    (unsigned long long)reqs_dropped);
	head(out, "imgd_http_connections", "gauge", "Open HTTP connections.");
	evbuffer_add_printf(
	    out, "imgd_http_connections %llu\n", (unsigned long long)conns);
	head(out, "imgd_uploads_in_flight", "gauge",
	    "Image uploads being received.");
	evbuffer_add_printf(
	    out, "imgd_uploads_in_flight %llu\n", (unsigned long long)up);
	head(out, "imgd_upload_bytes_total", "counter",
	    "Bytes of image uploads received.");
	evbuffer_add_printf(out, "imgd_upload_bytes_total %llu\n",
	    (unsigned long long)fe_stats.upload_bytes);
	head(out, "imgd_downloads_in_flight", "gauge",
	    "Image exports being sent.");
	evbuffer_add_printf(
	    out, "imgd_downloads_in_flight %llu\n", (unsigned long long)down);
	head(out, "imgd_download_bytes_total", "counter",
	    "Bytes of image exports sent.");
	evbuffer_add_printf(out, "imgd_download_bytes_total %llu\n",
	    (unsigned long long)fe_stats.download_bytes);
	len = evbuffer_get_length(out);
	text = (char *)evbuffer_pullup(out, (ev_ssize_t)len);
	conn_respond_raw(c, 200,
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", text,
	    len);
	evbuffer_free(out);
}
