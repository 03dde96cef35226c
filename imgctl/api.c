/*
 * The JSON side of the API: envelopes ({"type", "error", "metadata"}),
 * background operations and image names. Every failure leaves the
 * server's own message in ctl_err() when the server gave one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/api.h"
#include "imgctl/client.h"
#include "imgctl/schema.h"

int
api_escape(const char *s, int plus, char *out, size_t outlen)
{
	return http_pct_encode(s, plus, out, outlen);
}

int
api_path(const struct ctl *ctl, char out[API_PATH_MAX], const char *fmt, ...)
{
	char proj[3 * LIM_PROJECT_NAME_MAX + 1];
	va_list ap;
	size_t n;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out, API_PATH_MAX, fmt, ap);
	va_end(ap);
	if (r < 0 || r >= API_PATH_MAX) {
		ctl_err("request path too long");
		return -1;
	}
	if (ctl->project == NULL)
		return 0;
	if (api_escape(ctl->project, 1, proj, sizeof(proj)) == -1) {
		ctl_err("project name too long: %s", ctl->project);
		return -1;
	}
	n = (size_t)r;
	r = snprintf(out + n, API_PATH_MAX - n, "%cproject=%s",
	    strchr(out, '?') ? '&' : '?', proj);
	if (r < 0 || (size_t)r >= API_PATH_MAX - n) {
		ctl_err("request path too long");
		return -1;
	}
	return 0;
}

const char *
js_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

int
js_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

json_int_t
js_int(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

void
resp_free(struct resp *r)
{
	json_decref(r->root);
	r->root = r->meta = NULL;
}

/* The message of a failed answer: the server's, else the HTTP status. */
static void
api_fail(const struct http_head *h, const json_t *root)
{
	static const struct {
		const char *header, *words;
	} said[] = {
	    /* The headers imgctl sends, named as the user gave them. */
	    {"X-LXD-properties: ", "properties: "},
	    {"X-Imgd-Alias: ", "--alias: "},
	};
	const char *msg = js_str(root, "error");

	for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++)
		if (strncmp(msg, said[i].header, strlen(said[i].header)) == 0) {
			ctl_err("%s%s", said[i].words,
			    msg + strlen(said[i].header));
			return;
		}
	if (*msg != '\0')
		ctl_err("%s", msg);
	else
		ctl_err("the server answered %d %s", h->status,
		    http_head_reason(h));
}

int
api_read(struct hc *hc, struct resp *r)
{
	const struct http_head *h = hc_head(hc);
	const char *etag;
	json_error_t jerr;
	size_t len;
	char *body;

	memset(r, 0, sizeof(*r));
	r->status = h->status;
	if ((etag = http_head_get(h, "ETag")) != NULL)
		snprintf(r->etag, sizeof(r->etag), "%s", etag);
	if (hc_body_all(hc, IMGCTL_JSON_MAX, &body, &len) == -1)
		return -1;
	if (len > 0)
		r->root = json_loadb(body, len, 0, &jerr);
	free(body);
	if (h->status >= 400 || json_is_object(r->root) == 0 ||
	    strcmp(js_str(r->root, "type"), "error") == 0) {
		if (h->status < 400 && !json_is_object(r->root))
			ctl_err("the server's answer is not a JSON object "
				"(HTTP %d)",
			    h->status);
		else
			api_fail(h, r->root);
		return -1;
	}
	r->meta = json_object_get(r->root, "metadata");
	return 0;
}

int
api_call(struct ctl *ctl, const char *method, const char *path, json_t *body,
    const char *ifmatch, struct resp *r)
{
	char *data = NULL, hdrs[API_ETAG_MAX + 64] = "";
	struct hc *hc;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (body != NULL) {
		if ((data = json_dumps(body, JSON_COMPACT)) == NULL) {
			ctl_err("out of memory");
			return -1;
		}
		snprintf(
		    hdrs, sizeof(hdrs), "Content-Type: application/json\r\n");
	}
	if (ifmatch != NULL && *ifmatch != '\0')
		snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs),
		    "If-Match: %s\r\n", ifmatch);
	if ((hc = hc_open(ctl->sock)) == NULL)
		goto out;
	if (hc_request(hc, method, path, hdrs,
		data ? (int64_t)strlen(data) : -1) == -1)
		goto out;
	/* An early answer is read below like any other. */
	if (data != NULL && hc_send(hc, data, strlen(data)) == -1)
		goto out;
	if (hc_response(hc) == -1)
		goto out;
	rc = api_read(hc, r);
out:
	hc_close(hc);
	free(data);
	return rc;
}

/* "/1.0/operations/<id>" from a 202 answer, checked for a request line. */
int
api_op_path(const struct resp *r, char *out, size_t outlen)
{
	const char *op = js_str(r->root, "operation"), *p;
	size_t n;

	if (*op == '\0') {
		if (*js_str(r->meta, "id") == '\0') {
			ctl_err("the server started no operation");
			return -1;
		}
		snprintf(
		    out, outlen, "/1.0/operations/%s", js_str(r->meta, "id"));
		op = out;
	}
	n = strcspn(op, "?");
	for (p = op; p < op + n; p++)
		if (strchr("/-_.", *p) == NULL && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			break;
	if (p < op + n || n >= outlen ||
	    strncmp(op, "/1.0/operations/", 16) != 0) {
		ctl_err("the server named an invalid operation: %s", op);
		return -1;
	}
	memmove(out, op, n);
	out[n] = '\0';
	return 0;
}

int
api_wait(struct ctl *ctl, const struct resp *started, json_t **opmeta)
{
	char op[API_PATH_MAX / 2], path[API_PATH_MAX];
	struct resp r;
	json_int_t sc;
	const char *err;

	if (opmeta != NULL)
		*opmeta = NULL;
	if (api_op_path(started, op, sizeof(op)) == -1 ||
	    api_path(ctl, path, "%s/wait?timeout=-1", op) == -1)
		return -1;
	for (;;) {
		if (api_call(ctl, "GET", path, NULL, NULL, &r) == -1) {
			resp_free(&r);
			return -1;
		}
		sc = js_int(r.meta, "status_code");
		/* 1xx: still running; timeout=-1 should not return then. */
		if (sc >= 100 && sc < 200) {
			resp_free(&r);
			continue;
		}
		break;
	}
	if (sc != 200) {
		err = js_str(r.meta, "err");
		if (*err != '\0')
			ctl_err("%s", err);
		else
			ctl_err("operation %s", *js_str(r.meta, "status")
						    ? js_str(r.meta, "status")
						    : "failed");
		resp_free(&r);
		return -1;
	}
	if (opmeta != NULL &&
	    json_is_object(json_object_get(r.meta, "metadata")))
		*opmeta = json_incref(json_object_get(r.meta, "metadata"));
	resp_free(&r);
	return 0;
}

static int
api_fp_valid(const char *fp)
{
	size_t i;

	for (i = 0; fp[i] != '\0'; i++)
		if (!(fp[i] >= '0' && fp[i] <= '9') &&
		    !(fp[i] >= 'a' && fp[i] <= 'f'))
			return 0;
	return i == IMGCTL_FP_LEN;
}

/* The alias's target, or name itself when no alias has that name. */
static int
api_dealias(struct ctl *ctl, const char *name, char *target, size_t len)
{
	char esc[3 * LIM_ALIAS_NAME_MAX + 1], path[API_PATH_MAX];
	struct resp r;
	int rc = 0;

	if (api_escape(name, 0, esc, sizeof(esc)) == -1) {
		ctl_err("image name too long: %s", name);
		return -1;
	}
	if (api_path(ctl, path, "/1.0/images/aliases/%s", esc) == -1)
		return -1;
	if (api_call(ctl, "GET", path, NULL, NULL, &r) == 0)
		snprintf(target, len, "%s", js_str(r.meta, "target"));
	else if (r.status == 404)
		snprintf(target, len, "%s", name);
	else
		rc = -1;
	resp_free(&r);
	return rc;
}

int
api_image(struct ctl *ctl, const char *name, char fp[IMGCTL_FP_LEN + 1],
    json_t **image, char etag[API_ETAG_MAX])
{
	char target[LIM_ALIAS_NAME_MAX + 1], esc[3 * LIM_ALIAS_NAME_MAX + 1];
	char path[API_PATH_MAX];
	struct resp r;

	if (*name == '\0') {
		ctl_err("Image identifier missing");
		return -1;
	}
	if (strlen(name) > LIM_ALIAS_NAME_MAX) {
		ctl_err("image name too long (more than %d bytes): %s",
		    LIM_ALIAS_NAME_MAX, name);
		return -1;
	}
	if (api_dealias(ctl, name, target, sizeof(target)) == -1)
		return -1;
	if (api_escape(target, 0, esc, sizeof(esc)) == -1 ||
	    api_path(ctl, path, "/1.0/images/%s", esc) == -1)
		return -1;
	if (api_call(ctl, "GET", path, NULL, NULL, &r) == -1) {
		resp_free(&r);
		return -1;
	}
	if (!api_fp_valid(js_str(r.meta, "fingerprint"))) {
		ctl_err("the server sent an image without a valid "
			"fingerprint");
		resp_free(&r);
		return -1;
	}
	memcpy(fp, js_str(r.meta, "fingerprint"), IMGCTL_FP_LEN + 1);
	if (image != NULL)
		*image = json_incref(r.meta);
	if (etag != NULL)
		memcpy(etag, r.etag, API_ETAG_MAX);
	resp_free(&r);
	return 0;
}

json_t *
api_image_get(struct ctl *ctl, const char *name, char fp[IMGCTL_FP_LEN + 1],
    char etag[API_ETAG_MAX])
{
	json_t *raw, *img;

	if (api_image(ctl, name, fp, &raw, etag) == -1)
		return NULL;
	img = sch_normalize(raw, sch_image);
	json_decref(raw);
	if (img == NULL)
		ctl_err("out of memory");
	return img;
}

int
api_image_put(struct ctl *ctl, const char *fp, json_t *put, const char *etag)
{
	char path[API_PATH_MAX];
	struct resp r;
	int rc;

	if (api_path(ctl, path, "/1.0/images/%s", fp) == -1)
		return -1;
	rc = api_call(ctl, "PUT", path, put, etag, &r);
	resp_free(&r);
	return rc;
}

int
api_is_imgd(struct ctl *ctl)
{
	char path[API_PATH_MAX];
	struct resp r;
	int rc;

	if (api_path(ctl, path, "/1.0") == -1)
		return -1;
	if (api_call(ctl, "GET", path, NULL, NULL, &r) == -1)
		rc = -1;
	else
		rc = strcmp(js_str(json_object_get(r.meta, "environment"),
				"server"),
			 "imgd") == 0;
	resp_free(&r);
	return rc;
}
