/*
 * imgd-fetcher's parts: the network (net.c: names resolved with c-ares,
 * the address and scheme rules, libcurl transfers with our own redirect
 * handling) and the remote protocols (proto.c: LXD, simplestreams, direct
 * URL), which turn a request into a plan of files with their promised
 * hashes and sizes.
 */
#ifndef IMGD_FETCHER_FETCH_H
#define IMGD_FETCHER_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"
#include "policy/sig.h"

struct fx {
	const struct imsg_fetch_req *req;
	int pinned; /* the remote is pinned to key: only signed documents */
	struct pubkey key;
	int64_t signed_at; /* the newest signed document's "updated" */
	char *ca;	   /* the CA bundle (PEM), NUL-terminated */
	size_t calen;
	char pin[128]; /* "sha256//base64" of the pinned key, or "" */
	/* the failure, once there is one */
	int kind; /* FETCH_E_* */
	char err[LIM_ERROR_MAX + 1];
};

/* Sets the failure (the first one wins); returns -1. */
int fx_fail(struct fx *x, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A response as the transfer saw it. */
struct resp {
	long status;
	char url[LIM_URL_MAX + 1]; /* the last URL, after redirects */
	char content_type[256];
	char image_url[LIM_URL_MAX + 1]; /* LXD-Image-URL */
	char image_hash[80];		 /* LXD-Image-Hash */
	int64_t length;			 /* Content-Length, or -1 */
};

/* Where a body goes: -1 stops the transfer (after fx_fail). */
typedef int (*sink_fn)(void *arg, const uint8_t *buf, size_t n);

int net_init(void); /* before the sandbox */
int net_setup(struct fx *x);
/*
 * GET (or HEAD) url, following at most LIM_FETCH_REDIRECTS redirects,
 * each checked: https only (plain http only to a host the configuration
 * allows it for, and never after https), every address of every host
 * checked against the address rules (internal addresses only for the
 * hosts the configuration allows them for). A 2xx body goes to sink; any other
 * status fails with the server's error text. 0 or -1 (x says why).
 */
int net_get(struct fx *x, const char *url, const char *const *headers, int head,
    sink_fn sink, void *arg, struct resp *r);
/* GET a JSON document of at most LIM_FETCH_DOC_MAX bytes; the caller
 * frees *out. */
int net_get_doc(struct fx *x, const char *url, char **out, size_t *len);
/* The host of an http(s) URL (0), or -1 when url is not one. */
int net_url_host(const char *url, char *host, size_t len, int *https);

/* A file to download: its URL and what the remote promised. */
struct plan_file {
	char url[LIM_URL_MAX + 1];
	char sha[65];  /* "" = not promised */
	uint64_t size; /* 0 = not promised */
};

struct plan {
	char fingerprint[65];
	char filename[LIM_FILENAME_MAX + 1];
	int split;     /* 1, or 0 unified; -1 not known before the export */
	int multipart; /* one URL whose body may be LXD's multipart export */
	struct plan_file f[2];
	int nfiles;
	int public;
	struct ipc_kv props[LIM_META_PROPERTIES_MAX];
	uint32_t nprops;
	char *aliases[LIM_FETCH_ALIASES];
	uint32_t naliases;
	/* a pinned direct URL: the image file's minisign signature */
	char sig[1024];
	size_t siglen;
};

int proto_resolve(struct fx *x, struct plan *p);

/* sig.c: a detached signature of msg (or, for a prehashed minisign
 * signature of a file streamed by, its BLAKE2b-512) checked against the
 * pinned key: 0, or -1 after fx_fail. */
int sig_check(struct fx *x, const struct pubkey *k, const char *what,
    const char *sig, size_t siglen, const uint8_t *msg, size_t msglen,
    const uint8_t *prehash);
void plan_free(struct plan *p);
/* The plan's property key = value (copied); -1 when full. */
int plan_prop(struct plan *p, const char *key, const char *value);

#endif
