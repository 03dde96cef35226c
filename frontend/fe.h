/*
 * imgd-frontend: the unprivileged network face of imgd. It parses HTTP,
 * JSON, multipart and websocket frames from clients, turns each request
 * into a typed IPC request for the store, and renders the store's answers
 * in LXD's shapes. It holds no files and decides nothing.
 */
#ifndef IMGD_FRONTEND_FE_H
#define IMGD_FRONTEND_FE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "http/http.h"
#include "ipc/chan.h"
#include "policy/timefmt.h"

struct bufferevent;
struct evbuffer;
struct event;
struct event_base;
struct upload;
struct export;
struct ss;

/* What a connection is doing. */
enum conn_state {
	CONN_HEAD,   /* reading a request head */
	CONN_BODY,   /* collecting a small (JSON) body */
	CONN_UPLOAD, /* streaming an image body to the store */
	CONN_STORE,  /* waiting for the store's answer */
	CONN_WRITE,  /* writing a response, then close or next request */
	CONN_EXPORT, /* streaming an exported image */
	CONN_EVENTS, /* a websocket event listener */
	CONN_LIST,   /* streaming a list, a page at a time from the store */
};

/* What the store's answer is for (the route decides). */
enum want {
	WANT_NONE,
	WANT_IMAGE,  /* one IMAGE_INFO */
	WANT_IMAGES, /* IMAGE_INFO x n, LIST_END */
	WANT_ALIAS,
	WANT_ALIASES,
	WANT_OK,	/* OK: 200 empty sync, or 201 + Location */
	WANT_OP,	/* OP_UPDATE: 202 async */
	WANT_EXPORT,	/* EXPORT_PART x nparts */
	WANT_PROJECT,	/* PROJECT_INFO, PROJECT_USED x n, LIST_END */
	WANT_PROJECTS,	/* that for each project */
	WANT_OP_GET,	/* OP_UPDATE: 200 sync (GET, /wait) or 403 (DELETE) */
	WANT_OPS,	/* OP_UPDATE x n, LIST_END: grouped by status */
	WANT_SERVER,	/* SERVER_AUTH: GET /1.0, or may it have events */
	WANT_CERT,	/* CERT_INFO */
	WANT_CERTS,	/* CERT_INFO x n, LIST_END */
	WANT_TOKEN,	/* TRUST_TOKEN */
	WANT_TOKENS,	/* TRUST_TOKEN x n, LIST_END */
	WANT_SS_INDEX,	/* IMAGE_INFO x n, LIST_END: streams/v1/index.json */
	WANT_SS_IMAGES, /* the same: streams/v1/images.json */
	WANT_DIRECT_ALIAS, /* ALIAS_INFO, then an IMAGE_GET: a direct URL */
	WANT_DIRECT_IMAGE, /* IMAGE_INFO: LXD-Image-URL and -Hash */
	WANT_METRICS,	   /* METRIC x n, LIST_END */
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct bufferevent *bev;
	struct event *timer;
	enum conn_state state;
	uid_t uid; /* SO_PEERCRED of the unix socket peer */
	pid_t pid;
	char addr[46];	      /* an HTTPS client's address, or "" */
	int tls;	      /* came in on the HTTPS listener */
	int handshake;	      /* its TLS handshake is not done yet */
	char cert[65];	      /* its client certificate's sha256, or "" */
	struct ipc_peer peer; /* what requests carry to the store */
	struct http_head head;
	int chunked;
	struct http_chunked ch;
	int64_t body_left;     /* Content-Length bodies */
	int body_done;	       /* the whole request body was read */
	int head_started;      /* a head's first byte came: deadline armed */
	struct evbuffer *body; /* small bodies */
	int close_after;
	/* the request */
	char method[16];
	char path[1024];
	char query[2048];
	char project[LIM_PROJECT_NAME_MAX + 1];
	/* the store's answer */
	uint64_t reqid;
	enum want want;
	int recursion;
	char filter[1024];
	struct filter *flt; /* parsed ?filter= of an image list */
	int status_ok;	    /* 200 or 201 */
	json_t *list;
	struct jw *items; /* list items not yet written as a chunk */
	int streamed;	  /* list items written (CONN_LIST) */
	int page_items;	  /* of the store's current page */
	int more_pending; /* ask for the next page once the output drains */
	struct upload *upload;
	struct export *export;
	struct ss *ss; /* simplestreams being written */
	/* an export's Range (bytes=lo-hi; lo < 0: the last -lo bytes) and
	 * If-None-Match */
	int has_range;
	int64_t range_lo, range_hi; /* hi < 0: to the end */
	int not_modified_if;	    /* If-None-Match names the image */
	char inm[LIM_ETAG_MAX + 8];
	/* events */
	unsigned event_types;
	int all_projects;
	int log_events; /* the store let it read the daemon's log */
	int discard;	/* the rest of a refused body: read and dropped */
	uint64_t discarded;
	struct ws_parser ws;
	int ws_closing;
	int counted; /* this request is in the metrics */
};

/* main.c */
extern struct event_base *fe_base;
extern struct ipc_chan fe_chan;
int store_send(uint16_t type, const void *msg, int fd, uint64_t *reqid);
int store_send_id(uint16_t type, uint64_t id, const void *msg, int fd);
void store_flush(void);
struct server_info_view {
	char version[33];
	char server_name[65];
	char archs[8][LIM_ARCH_NAME_MAX + 1];
	int narchs;
	char kernel[65], kernel_version[129], machine[65];
	char https_address[65]; /* "" when there is no HTTPS listener */
	unsigned conns_per_client, header_timeout, idle_timeout;
	unsigned json_max, json_depth;
	pid_t pid;
};
extern struct server_info_view fe_info;

/* events.c: after a policy change */
void events_close_all(const char *reason);

/* metrics.c */
struct fe_stats {
	uint64_t upload_bytes, download_bytes;
};
extern struct fe_stats fe_stats;
void metrics_route(struct conn *c);
void metrics_sample(struct conn *c, const struct imsg_metric *m);
void metrics_end(struct conn *c);
/* Counts c's request with the status answered (once per request). */
void metrics_request(struct conn *c, int status);

/* conn.c */
/* Connections now: uploading, exporting, all. */
void conn_foreach_state(uint64_t *up, uint64_t *down, uint64_t *all);
void conn_listen(int fd, uint32_t id, int kind);
void conn_close(struct conn *c);
struct conn *conn_by_reqid(uint64_t reqid);
void conn_respond(
    struct conn *c, int status, const char *extra_headers, json_t *body);
void conn_respond_raw(struct conn *c, int status, const char *headers,
    const void *body, size_t len);
/* A body that will not be read to its end (a refused upload): what the
 * client still sends is dropped, at most LIM_HTTP_LINGER_*, and the
 * connection closes after the answer. */
void conn_discard_body(struct conn *c);
void conn_error(struct conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct jw *conn_item_begin(struct conn *c);
void conn_stream_open(struct conn *c, const char *head);
void conn_stream_text(struct conn *c, const char *text);
void conn_stream_count(struct conn *c);
void conn_stream_close(struct conn *c, const char *tail);
void conn_stream_end(struct conn *c);

/* tls.c */
void tls_preinit(void);
void tls_identity(int part, int fd);
const char *tls_server_pem(void);
const char *tls_server_fp(void);
struct bufferevent *tls_bev(int fd);
void tls_peer(struct bufferevent *bev, char fp[65]);
int tls_peer_der_hex(struct bufferevent *bev, char *out, size_t len);
int tls_cert_der_hex(const char *b64, char *out, size_t len);

/* streams.c */
int streams_route(struct conn *c);
int streams_reply(struct conn *c, struct ipc_msg *m);
void streams_free(struct conn *c);

/* router_trust.c */
void server_route(struct conn *c);
void certificates_route(struct conn *c, const char *body, size_t len);
int trust_reply(struct conn *c, struct ipc_msg *m);

/* router.c */
void route_request(struct conn *c, const char *body, size_t len);
/* router.c: what the route files share */
int image_ref(const char *in, char out[65]);
void send_req(struct conn *c, uint16_t type, const void *msg, enum want want);
int if_match(struct conn *c, char out[LIM_ETAG_MAX + 1]);
int recursion_of(struct conn *c);
json_t *body_object(struct conn *c, const char *body, size_t len);
int get_bool_member(struct conn *c, json_t *o, const char *key, uint8_t *out);
int get_props_member(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n);
/* router_copy.c: POST /1.0/images with a source */
void image_copy(struct conn *c, const char *body, size_t len);
int copy_aliases(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n);
/* router_unpack.c: POST /1.0/images/<fp>/unpack */
void image_unpack(
    struct conn *c, const char *ref, const char *body, size_t len);
/* router_unpack.c: POST /1.0/images with a source of type directory */
void image_publish(struct conn *c, json_t *o, json_t *src);
int get_str(struct conn *c, json_t *o, const char *key, size_t max, int cs,
    const char **out);
/* router_project.c: rest is what follows /1.0/projects/, or NULL */
void projects_route(
    struct conn *c, const char *rest, const char *body, size_t len);
/* router_alias.c: rest is what follows /1.0/images/aliases/, or NULL */
int alias_name_ok(const char *s);
void aliases_route(
    struct conn *c, const char *rest, const char *body, size_t len);
void route_store_reply(struct conn *c, struct ipc_msg *m);
/* The HTTP status for a fault's cause (ERR_*). */
int fault_status(int cause);
int route_is_upload(struct conn *c);

/* render.c */
json_t *render_sync(json_t *metadata);
json_t *render_error(int code, const char *msg);
json_t *render_image(const struct imsg_image_info *m);
json_t *render_alias(const struct imsg_alias_info *m);
struct jw;
void render_image_text(struct jw *w, const struct imsg_image_info *m);
void render_alias_text(struct jw *w, const struct imsg_alias_info *m);
json_t *render_server(int trusted, const char *project);
void render_time(char *out, size_t len, int64_t sec, int64_t nsec);
char *url_escape(const char *s);
void render_resource(
    char *out, size_t len, int kind, const char *name, int escape);

/* jsonin.c */
json_t *json_parse_limited(
    const char *buf, size_t len, char *err, size_t errlen);
int parse_rfc3339(const char *s, int64_t *sec);

/* filter.c */
struct filter;
struct filter *filter_parse(const char *s, char *err, size_t errlen);
int filter_match(const struct filter *f, json_t *image);
void filter_free(struct filter *f);
int filter_narrowing(
    const struct filter *f, const char **key, const char **value);

/* upload.c */
#define HDR_ALIAS "X-Imgd-Alias"
/* upload_hdr.c: the headers with data (X-LXD-public, -filename,
 * -fingerprint, -properties, X-Imgd-Alias) into b; -1 with why in msg. */
int upload_headers(
    struct conn *c, struct imsg_upload_begin *b, char *msg, size_t msglen);
int upload_start(struct conn *c);
void upload_input(struct conn *c);
void upload_conn_gone(struct conn *c);
/* The store answered or refused: the upload reads and sends no more. */
void upload_stop(struct conn *c);

/* export.c */
void export_prepare(struct conn *c);
void export_part(struct conn *c, struct imsg_export_part *p, int fd);
void export_conn_gone(struct conn *c);
void export_pump(struct conn *c);

/* events.c */
json_t *render_op(const struct imsg_op_update *m);
void events_operation(struct imsg_op_update *m);
void events_lifecycle(struct imsg_lifecycle *l);
void events_logging(struct imsg_log *m);
int events_start(struct conn *c);
void events_input(struct conn *c);
void events_conn_gone(struct conn *c);

#endif
