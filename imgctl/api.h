/*
 * LXD's REST API as imgd speaks it: JSON envelopes, errors, background
 * operations, and naming an image by alias or fingerprint prefix.
 */
#ifndef IMGD_IMGCTL_API_H
#define IMGD_IMGCTL_API_H

#include <jansson.h>

#include "imgctl/imgctl.h"

struct hc;

/* Longest API path imgctl builds, query included. */
#define API_PATH_MAX 4096
#define API_ETAG_MAX 256

/* A parsed answer. */
struct resp {
	int status;   /* HTTP status */
	json_t *root; /* the envelope, owned */
	json_t *meta; /* root's "metadata", borrowed */
	char etag[API_ETAG_MAX];
};

/*
 * Format a path and add ?project= (or &project=) when --project was
 * given. Returns 0, or -1 if it does not fit API_PATH_MAX.
 */
int api_path(const struct ctl *, char out[API_PATH_MAX], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Percent-encode s (all but RFC 3986 unreserved bytes), plus: ' ' as '+'. */
int api_escape(const char *s, int plus, char *out, size_t outlen);

/*
 * One request with an optional JSON body and If-Match. A 4xx/5xx answer
 * or an error envelope fails with the server's message (r->status stays
 * set so that a caller can tell 404 from the rest). Free r with
 * resp_free() whatever the result.
 */
int api_call(struct ctl *, const char *method, const char *path, json_t *body,
    const char *ifmatch, struct resp *r);
void resp_free(struct resp *);

/* Read the answer on an open connection (after hc_response()). */
int api_read(struct hc *, struct resp *);

/*
 * Wait for the background operation a 202 answer started. Returns 0 when
 * it succeeded, with its "metadata" in *opmeta (a new reference, may be
 * NULL), or -1 with the operation's error.
 */
int api_wait(struct ctl *, const struct resp *, json_t **opmeta);
/* "/1.0/operations/<id>" of a 202 answer; -1 when it has none. */
int api_op_path(const struct resp *r, char *out, size_t outlen);

/*
 * Resolve an IMAGE argument: an alias name, else a fingerprint or unique
 * prefix. Gives the full fingerprint, the image object (new reference)
 * and its ETag. image and etag may be NULL.
 */
int api_image(struct ctl *, const char *name, char fp[IMGCTL_FP_LEN + 1],
    json_t **image, char etag[API_ETAG_MAX]);

/* api_image(), the image normalized through lxc's struct (sch_image). */
json_t *api_image_get(struct ctl *, const char *name,
    char fp[IMGCTL_FP_LEN + 1], char etag[API_ETAG_MAX]);

/* PUT an api.ImagePut object, with If-Match: etag when it is not "". */
int api_image_put(struct ctl *, const char *fp, json_t *put, const char *etag);

/* 1 if the server is imgd (GET /1.0), 0 if another, -1 on error. */
int api_is_imgd(struct ctl *);

/* Typed reads of a JSON object's member, with Go's zero values. */
const char *js_str(const json_t *obj, const char *key);
int js_bool(const json_t *obj, const char *key);
json_int_t js_int(const json_t *obj, const char *key);

#endif
