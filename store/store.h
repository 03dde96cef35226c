/*
 * imgd, the store: the privileged parent. It owns the state directory, the
 * database, the blobs, every decision, and supervises the children.
 */
#ifndef IMGD_STORE_STORE_H
#define IMGD_STORE_STORE_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <time.h>

#include "ipc/chan.h"
#include "ipc/msg.h"
#include "policy/authz.h"

struct event_base;
struct event;
struct job;
struct upload;
struct who;

/* ---- configuration (store/config.c) ---- */

struct config {
	char users[3][64];     /* frontend, fetcher, unpacker */
	char socket_group[64]; /* "" = root's group */
	unsigned socket_mode;
	int debug;
	uint64_t upload_max;	   /* bytes per part */
	uint64_t upload_hash_lag;  /* spliced, not hashed, before a pause */
	unsigned unpacker_timeout; /* seconds, wall clock */
	unsigned unpackers_per_project;
	char https_address[128];      /* "" = no HTTPS */
	unsigned trust_token_expiry;  /* seconds */
	unsigned image_secret_expiry; /* seconds */
	unsigned http_conns_per_client, http_header_timeout, http_idle_timeout;
	/* at most the compiled limits (they size the frontend's buffers) */
	unsigned http_line_max, http_headers_max, http_header_fields;
	unsigned json_max, json_depth;
	/* fetching */
	char fetch_allow_http[512];    /* hosts, comma-separated, or "*" */
	char fetch_allow_private[512]; /* hosts whose internal addresses
					  are allowed */
	char fetch_ca_file[1024];
	char fetch_keys_dir[1024]; /* HOST.pub pins HOST to that key */
	char import_key[1024];	   /* file imports must be signed by it */
	char unpack_root[1024];	   /* "" = <state>/rootfs */
	char policy[1024];	   /* the policy file (policy/authz.h) */
	int unpack_devices;	   /* device nodes in privileged unpacks */
	char nameservers[LIM_NAMESERVERS_MAX + 1]; /* "" = resolv.conf */
	char proxy_https[LIM_URL_MAX + 1];
	char proxy_ignore_hosts[512];
	unsigned fetch_low_speed_time, fetch_connect_timeout, fetchers_max;
	unsigned auto_update_interval; /* seconds, 0 = never */
	unsigned remote_cache_expiry;  /* seconds unused, 0 = never */
	/* the audit log (store/audit.c) */
	uint64_t audit_rotate_size; /* bytes, 0 = never */
	unsigned audit_keep;	    /* rotated files kept, 0 = all */
	char audit_anchor_file[1024];
	unsigned audit_anchor_every; /* records */
};
#define IMGD_POLICY_DEFAULT "/etc/imgd/policy.yaml"
int config_load(struct config *c, const char *path, char *err, size_t errlen);
void config_defaults(struct config *c);

/* ---- the process table (store/proc.c) ---- */

struct proc_def {
	const char *title;  /* log and audit name */
	int kind;	    /* PROC_* */
	const char *binary; /* in the store's own directory */
	int user;	    /* index into config.users */
	int long_lived;	    /* restarted with back-off when it dies */
};

struct child {
	TAILQ_ENTRY(child) entry;
	const struct proc_def *def;
	pid_t pid;
	uid_t uid; /* as /proc shows it */
	gid_t gid;
	uid_t self_uid; /* as the child sees itself (in its namespace) */
	gid_t self_gid;
	uint64_t caps; /* what it may keep (unpack jobs) */
	int ready;
	int killed;   /* we sent SIGKILL: say why in the log */
	int released; /* its job was dropped: it reads EOF and exits */
	int reaped;   /* waited for: its pid may be another process's now */
	char why[128];
	struct ipc_chan chan;
	struct event *ev_chan;
	struct event *ev_write;
	struct event *ev_err;
	struct event *ev_linger;
	int errfd;
	char errbuf[2048];
	size_t errlen;
	time_t log_window; /* rate limit of relayed log bytes */
	size_t log_bytes, log_dropped;
	struct job *job;	 /* unpackers: the job it runs */
	struct publish *publish; /* or the publish job */
	int pipes[2];		 /* its outputs, handed over once it is READY */
	struct fetch *fetch;	 /* fetchers: the download it runs */
	/* The call a dying child named in seccomp debug mode (its claim, for
	 * the log and the error only). */
	char sigsys_call[32];
	uint64_t gen;	     /* unique per spawn */
	uint64_t ping_nonce; /* outstanding liveness ping, or 0 */
	time_t ping_sent;
	TAILQ_HEAD(, drain) drains;
};

/* Called once the child's outbound queue is empty, or with gone = 1 when
 * the child died first. */
struct drain {
	TAILQ_ENTRY(drain) entry;
	void (*cb)(void *arg, int gone);
	void *arg;
};

struct child *proc_spawn(int kind);
/* An unpack job's child: chrooted into its target, with the capabilities
 * ownership needs, or as root of a user namespace (shift_range > 0). */
struct proc_opts {
	const char *chroot;
	/* > 0: chroot into this directory (the child sees it as fd 4 and
	 * chroots to /proc/self/fd/4): no path lookup after the check. */
	int chroot_fd;
	const char *mode; /* --mode */
	uint64_t caps;	  /* kept: their mask */
	uint32_t shift_uid, shift_gid, shift_range;
};
struct child *proc_spawn_opts(int kind, const struct proc_opts *o);
void proc_kill(struct child *c, const char *why);
/* The child's work is no longer wanted: it reads EOF and exits on its
 * own (within seconds, or it is killed); what it still sends is dropped. */
void proc_release(struct child *c);
void proc_expect_exit(struct child *c, int seconds);
void proc_on_drain(struct child *c, void (*cb)(void *, int), void *arg);
int proc_send(
    struct child *c, uint16_t type, uint64_t id, const void *msg, int fd);
struct child *proc_frontend(void); /* the ready frontend, or NULL */
/* proc_relay.c: a child's stderr pipe is readable */
void proc_relay_cb(int fd, short ev, void *arg);
void proc_relay_last(struct child *c);
/* proc_verify.c: 0 if the READY matches /proc, else -1 (logged, audited) */
int proc_verify_ready(struct child *c, const struct imsg_ready *r);
void proc_start_all(void);
void proc_stop_all(void);
void proc_sigchld(void);

/* ---- faults: why a request or an operation failed (store/fault.c) ---- */

/* The store's copy of an ipc_fault (ipc/msg.h), with its own strings. */
struct fault {
	uint8_t cause;	 /* ERR_* */
	uint8_t subject; /* RES_* */
	uint64_t limit, bytes;
	char name[LIM_ALIAS_NAME_MAX + 1];
	char detail[LIM_ERROR_MAX + 1];
};
/* f = cause about subject, name (NULL: none); no other facts. */
void fault_set(struct fault *f, int cause, int subject, const char *name);
/* f = ERR_INVALID: what was wrong with the input, printf-style. */
void fault_invalid(struct fault *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The record's view of f (pointing into f). */
void fault_to_ipc(const struct fault *f, struct ipc_fault *out);
/* The cause for a failed write of errno e: no space, or storage. */
int fault_storage(int e);
/* f = too many properties, with the limits; returns f. */
struct fault *fault_props(struct fault *f);
/* f's words, for the log and audit. */
const char *fault_text(const struct fault *f, char *buf, size_t len);

/* ---- state on disk (store/blob.c) ---- */

int blob_init(const char *state, int has_rows, char *err, size_t errlen);
int blob_tmp_create(void);
int blob_reopen_ro(int fd);
int blob_commit(int fd, const char *fp, int part, char *err, size_t errlen);
int blob_open(const char *fp, int part);
void blob_remove(const char *fp);
int blob_exists(const char *fp, int part);
void blob_repair(int force);
const char *blob_ext(const char *compression);

/* ---- the database (store/db.c) ---- */

struct image {
	int64_t id;
	int64_t project_id;
	char fingerprint[65];
	char filename[LIM_FILENAME_MAX + 1];
	uint64_t size;
	int public, auto_update, cached, split;
	char architecture[LIM_ARCH_NAME_MAX + 1];
	char type[32];
	int64_t created_at, expires_at, uploaded_at, last_used_at;
	char compression[2][16];
	/* each file's sha256 and size (a unified image: one), and its
	 * simplestreams product ("os:release:arch:variant") */
	char part_sha[2][65];
	uint64_t part_size[2];
	char product[4 * 64 + 4];
	struct ipc_kv *props;
	uint32_t nprops;
	struct ipc_kv *aliases; /* name -> description, by name */
	uint32_t naliases;
};

struct alias {
	int64_t id;
	char name[LIM_ALIAS_NAME_MAX + 1];
	char description[LIM_ALIAS_DESC_MAX + 1];
	char target[65];
	int64_t image_id;
};

/* Statuses the API maps to HTTP codes. */
enum {
	DB_OK = 0,
	DB_NOTFOUND = 404,
	DB_CONFLICT = 409,
	DB_AMBIGUOUS = 400,
	DB_ERROR = 500
};

int db_open(const char *path, char *err, size_t errlen);
void db_close(void);
void db_release(void);
int db_begin(void);
int db_commit(void);
void db_rollback(void);
int64_t db_last_rowid(void);

/* A project's own row and config (store/db_project.c). */
struct project {
	int64_t id;
	char name[LIM_PROJECT_NAME_MAX + 1];
	char description[LIM_DESCRIPTION_MAX + 1];
	struct {
		char key[LIM_PROJECT_CONFIG_KEY_MAX + 1];
		char value[LIM_PROJECT_CONFIG_VALUE_MAX + 1];
	} config[LIM_PROJECT_CONFIG_MAX];
	uint32_t nconfig;
};
#define DB_DEFAULT_PROJECT 1
/* The project whose images and aliases a name means: its own when its
 * features.images is true, else the default project's. */
int db_project_id(const char *name, int64_t *id);
int db_project_next(const char *after, int64_t *id, char *name, size_t len);
int db_project_get(const char *name, struct project *p);
const char *project_config_get(const struct project *p, const char *key);
int db_project_create(struct project *p);
int db_project_update(const struct project *p);
int db_project_rename(int64_t id, const char *new_name);
int db_project_delete(int64_t id);
void db_project_usage(
    int64_t id, int64_t *images, int64_t *aliases, int64_t *bytes);
/* POST/PUT/PATCH/DELETE /1.0/projects (store/project.c). */
void project_change(uint64_t reqid, struct imsg_project_change_req *r);
/* The limit a project's limits.images or limits.disk sets, UINT64_MAX for
 * none; LXD's byte sizes ("10GiB") to bytes. */
uint64_t project_limit(const struct project *p, const char *key);
/* What may run at once in a project (limits.images.uploads/copies/
 * unpacks): enter is -1 with f (ERR_QUOTA) at the limit; leave once for
 * each enter that returned 0. */
enum busy_kind { BUSY_UPLOAD, BUSY_COPY, BUSY_UNPACK, BUSY_MAX };
int project_busy_enter(const char *project, int kind, struct fault *f);
void project_busy_leave(const char *project, int kind);
uint32_t project_busy(const char *project, int kind);
/* -1 and f (ERR_FETCH_REFUSED) when project may not copy from host:
 * restricted.images.remotes, restricted.images.signed (pinned: the host
 * has a key in fetch_keys_dir). */
int project_remote_refusal(
    const char *project, const char *host, int pinned, struct fault *f);
int project_host_listed(const char *list, const char *host);
int project_bytes(const char *v, uint64_t *out);
int db_image_fps(int64_t project, const char *after, int public_only, int limit,
    char (*fps)[65]);
int db_image_resolve(
    int64_t project, const char *ref, int public_only, struct image *img);
int db_image_by_fp(int64_t project, const char *fp, struct image *img);
int db_images_page(int64_t project, const char *after, int public_only,
    const char *pkey, const char *pval, int limit,
    int (*cb)(struct image *, void *), void *arg);
/* Public images in product order, after (product, fingerprint). */
int db_images_by_product(int64_t project, const char *after_product,
    const char *after_fp, int limit, int (*cb)(struct image *, void *),
    void *arg);
/* Rows made before part hashes were kept: cb fills them in. */
int db_images_without_parts(int (*cb)(struct image *, void *), void *arg);
int db_image_set_parts(const struct image *img);
/* store/image.c: the simplestreams product of an image */
void image_product(struct image *img);
void image_backfill(void);
int db_image_insert(int64_t project, struct image *img);
int db_image_update(const struct image *img);
int db_image_delete(int64_t image_id);
int db_fp_refs(const char *fp);
int db_image_count(void);
int db_fp_split(const char *fp);
int db_fp_all(int (*cb)(const char *fp, int split, void *), void *arg);
int db_fp_forget(const char *fp);
void image_free(struct image *img);
int image_set_props(struct image *img, const struct ipc_kv *kv, uint32_t n);
int db_alias_get(int64_t project, const char *name, struct alias *a);
int db_alias_page(int64_t project, const char *after, int limit,
    int (*cb)(struct alias *, void *), void *arg);
int db_alias_insert(
    int64_t project, const char *name, const char *desc, int64_t image_id);
int db_alias_update(int64_t alias_id, int64_t image_id, const char *desc);
int db_alias_rename(int64_t alias_id, const char *new_name);
int db_alias_delete(int64_t alias_id);

/* db_trust.c: trusted certificates and join tokens */
struct cert {
	char fingerprint[65];
	char name[LIM_CERT_NAME_MAX + 1];
	uint8_t der[LIM_CERT_DER_MAX];
	size_t derlen;
	int64_t created_at;
};
int db_cert_trusted(const char *fp);
int db_cert_resolve(const char *ref, struct cert *c);
int db_cert_page(
    const char *after, int limit, int (*cb)(struct cert *, void *), void *arg);
int db_cert_insert(const struct cert *c);
int db_cert_delete(const char *fp);
int db_cert_count(void);
struct token {
	char name[LIM_CERT_NAME_MAX + 1];
	int64_t created_at, expires_at;
};
int db_token_insert(const struct token *t, const char *secret_sha256);
/* The token with this secret, removed: DB_OK once, then DB_NOTFOUND. */
int db_token_take(const char *secret_sha256, struct token *t);
int db_token_list(int (*cb)(struct token *, void *), void *arg);
int db_token_delete(const char *name);
int db_token_purge(int64_t now);
int db_token_count(void);
int db_alias_count(int64_t image_id);
/* db_source.c: where a copy by alias came from */
struct source {
	char server[LIM_URL_MAX + 1];
	int protocol; /* SRC_* */
	char alias[LIM_ALIAS_NAME_MAX + 1];
	char certificate[LIM_CERT_PEM_MAX + 1];
};
int db_source_set(int64_t image_id, const struct source *src);
int db_source_get(int64_t image_id, struct source *src);
int db_images_auto_update(
    int (*cb)(int64_t id, int64_t project, void *), void *arg);
int db_images_expired(
    int64_t cutoff, int (*cb)(int64_t id, int64_t project, void *), void *arg);
int db_image_used(int64_t image_id, int64_t when, int cached);
int db_aliases_move(int64_t from, int64_t to);
/* The newest signed index time accepted from a server (0: none). */
int64_t db_remote_signed_at(const char *server);
int db_remote_signed_set(const char *server, int64_t t);
int db_image_by_id(int64_t id, struct image *img);
const char *db_errmsg(void);

/* ---- operations (store/ops.c) ---- */

struct op;
/* image: the fingerprint of the image it is about, or NULL. */
struct op *op_new(
    const char *project, const char *description, const char *image);
void op_set_meta(struct op *op, const char *key, const char *value);
void op_set_token(struct op *op);
const char *op_id(const struct op *op);
void op_reply(struct op *op, uint64_t reqid);
void op_start(struct op *op);
/* Success when f is NULL, else Failure with that fault. */
void op_finish(struct op *op, const struct fault *f);
void ops_request(uint64_t reqid, uint16_t type, const struct imsg_op_req *r);
void ops_frontend_gone(void);
void ops_init(void);

/* ---- uploads and unpacker jobs (store/upload.c, store/job.c) ---- */

void upload_begin(uint64_t reqid, struct imsg_upload_begin *b, int fd);
void upload_lost_fd(uint64_t reqid, uint16_t type);
void upload_part(uint64_t reqid, struct imsg_upload_part *p, int fd);
void upload_end(uint64_t reqid, struct imsg_upload_end *e);
void upload_frontend_gone(void);
/* A download's sink (store/fetch.c hands the fetcher's pipes here). */
struct fetch_sink {
	const char *project, *requestor, *username;
	const char *filename, *fingerprint; /* the fingerprint expected */
	int public, auto_update;
	const struct ipc_kv *props, *aliases;
	uint32_t nprops, naliases;
	uint64_t length; /* the remote's sizes added up, 0 = not promised */
	struct op *op;
	void (*done)(void *arg, const char *fp, const struct fault *f);
	void *arg;
};
struct upload *upload_fetch(const struct fetch_sink *k, int rfd[2]);
void upload_fetch_end(struct upload *u, uint64_t size0, uint64_t size1);
void upload_fetch_abort(struct upload *u, const struct fault *f);
void upload_fetch_end_own(struct upload *u);

/* store/fetch.c: copies from remote servers, one fetcher per download */
void fetch_request(uint64_t reqid, const struct imsg_image_copy_req *r);
void fetch_child_ready(struct child *c);
void fetch_dispatch(struct child *c, struct ipc_msg *m);
void fetch_child_gone(struct child *c, const char *why, int sigsys);
/* A refresh of img from its source (reqid 0: the auto-update timer, who
 * NULL); an image without a source is "up to date". */
void fetch_refresh(uint64_t reqid, const char *project, const struct image *img,
    const struct who *who);
void fetch_timers_init(void);
int db_project_name(int64_t id, char *name, size_t len);

/* An unpack job: where and how (job_set_extract before it runs). */
struct job_extract {
	char target[4096];	      /* absolute: the chroot */
	struct imsg_unpack_extract x; /* strings owned by the job */
	uint64_t caps;
	uint32_t shift_uid, shift_gid, shift_range;
};

struct job_result {
	struct imsg_unpack_written written; /* unpack jobs */
	struct imsg_unpack_meta meta;	    /* strings owned by the job */
	char compression[2][16];
	uint64_t entries, unpacked, devices;
};
/* done(err == NULL on success) is called exactly once. */
struct job *job_start(const char *project, int fds[2], uint64_t sizes[2],
    int nparts,
    void (*done)(
	void *arg, const struct fault *err, const struct job_result *r),
    void *arg);
void job_on_run(struct job *j, void (*fn)(void *));
/*
 * A validation of an upload that is still arriving: its unpacker starts
 * now, outside the project's queue (at most unpackers_per_project of these
 * per project: NULL when that many run, and the upload is validated when
 * complete). It reads each file only as far as job_feed says is hashed;
 * its watchdog starts at the final word, and a verdict before that is a
 * protocol violation.
 */
struct job *job_follow(const char *project, int fds[2], int nparts,
    void (*done)(
	void *arg, const struct fault *err, const struct job_result *r),
    void *arg);
/* Bytes of each file hashed; final: all of them, the sizes are these. */
void job_feed(struct job *j, const uint64_t avail[2], const int final[2]);
/* store/publish.c: a directory packed into an image by an unpacker. */
struct publish;
void publish_request(uint64_t reqid, const struct imsg_publish_req *r);
void publish_child_ready(struct child *c);
void publish_dispatch(struct child *c, struct ipc_msg *m);
void publish_child_gone(struct child *c, const char *why, int sigsys);
/* store/unpack.c: POST /1.0/images/<fp>/unpack, for a resolved image. */
void unpack_repair(void);
void unpack_start(uint64_t reqid, const char *project, const struct image *img,
    const struct imsg_image_unpack_req *r, const char *requestor);
/* Makes the job an unpack into x->target (copied). */
void job_set_extract(struct job *j, const struct job_extract *x);
void job_cancel(struct job *j);
void job_child_ready(struct child *c);
void job_dispatch(struct child *c, struct ipc_msg *m);
void job_child_gone(struct child *c, const char *why, int sigsys);

/* ---- API requests from the frontend (store/api.c) ---- */

void api_dispatch(struct child *fe, struct ipc_msg *m);
/* The answer to reqid: refused with f, audited if it asked for a change. */
void reply_fault(uint64_t reqid, const struct fault *f);
/* The same for a fault of no facts but its subject (RES_*) and name. */
void api_refuse(uint64_t reqid, int cause, int subject, const char *name);
/* An event about an image or alias (kind RES_*, name); the frontend makes
 * the source URL. */
void api_lifecycle(const char *project, const char *action, int kind,
    const char *name, const char *requestor, const char *ckey,
    const char *cval);
void api_frontend_ready(struct child *fe);

/* peer.c: who asks, derived by the store */
/* Trust will come from the listener's kind here once there are listeners
 * that are not trusted (HTTPS); today every listener is the unix socket. */
struct who {
	int trusted;	       /* the full API; else the public view */
	struct authz_ident id; /* for the policy (store/access.c) */
	/* a refusal access_check made (ERR_*, RES_*, its name), or 0 */
	int deny_cause, deny_subject;
	char deny_name[300];
	char username[64]; /* "root", or "uid N" */
	char
	    requestor[128]; /* for the audit log: "root (uid 0, unix socket)" */
};
uint32_t peer_unix_listener(void);
uint32_t peer_https_listener(void);
int peer_derive(const struct ipc_peer *p, struct who *w);
void peer_set_current(const struct who *w);
const struct who *peer_current(void);

/* access.c: the policy's decision for each request */
void access_init(const char *path);
void access_reload(void);
int access_check_file(const char *path);
const char *access_policy_path(void);
/* 0: go on (w->trusted says full or public view); -1: refused, the
 * refusal in w->deny_* (uploads are refused by upload_admit). */
int access_check(const struct ipc_msg *m, struct who *w);
/* A further role the request needs (publish, when an edit makes an image
 * public): 0, or -1 after refusing it. */
int access_need(uint64_t reqid, const char *project, unsigned roles);
/* Whether its events may carry the daemon's log (admin on "*"). */
int access_reads_log(const struct authz_ident *id);
/* The project a request names, for its audit record ("" if none). */
const char *access_project_of(const struct ipc_msg *m);
int access_sees_project(const struct authz_ident *id, const char *project);

/* logfwd.c: the log, to the events websocket */
void logfwd_init(void);
void logfwd_stop(void);
void logfwd_child(
    const char *title, const char *text, size_t len, int formatted);
int image_to_info(const struct image *img, const char *project,
    struct imsg_image_info *info, char etag[65]);
#define PROPS_REPLACE 0x1
#define PROPS_DROP_EMPTY 0x2
int image_merge_props(
    struct image *img, const struct ipc_kv *kv, uint32_t n, int flags);
int image_commit(const char *project, struct image *img,
    const struct ipc_kv *aliases, uint32_t naliases, int fds[2],
    struct fault *f);

/* ---- audit log (store/audit.c) ---- */

int audit_open(const char *state, char *err, size_t errlen);
/* key/value pairs, NULL-terminated: audit("image-deleted", "fingerprint",
 * fp, NULL) */
void audit(const char *event, ...) __attribute__((sentinel));
/* store/metrics.c: GET /1.0/metrics (METRIC x n, LIST_END) and what it
 * counts. */
void metrics_send(uint64_t reqid);
void metrics_child_death(
    const char *process, int sigsys, int signaled, int killed);
void metrics_audit_record(void);
/* At a clean stop: the head to the anchor file. */
void audit_close(void);

/* ---- users (store/users.c) ---- */

int users_ensure(
    const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/* ---- TLS and trust (store/tls.c, store/trust.c) ---- */

void tls_identity_init(void);
const char *tls_server_fingerprint(void);
int tls_identity_open(int part); /* TLS_CERT, TLS_KEY */
int https_open(const char *addr, char *err, size_t errlen);
void trust_request(uint64_t reqid, const struct imsg_cert_req *r);
void secret_new(uint64_t reqid, const char *project, const struct image *img);
int secret_check(
    const char *project, const char *fp, const char *secret, int consume);

/* ---- the store itself (store/main.c) ---- */

struct store {
	struct event_base *base;
	char state[4096];
	char bindir[4096];
	char empty[4200]; /* the children's chroot */
	struct config cfg;
	int root; /* running as root */
	int stopping;
	int unix_fd;  /* the local API's listening socket */
	int https_fd; /* https_address's, or -1 */
	pid_t pid;
	char server_name[64];
	char *archs[4];
	uint32_t narchs;
	gid_t socket_gid; /* unix.socket's group: admin without a policy */
	struct authz_policy *policy; /* NULL: no policy file */
};
extern struct store *S;

int64_t now_ns(void);
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Hex to at most max bytes (*n of them): 0, or -1. */
int hex_decode(const char *s, uint8_t *out, size_t max, size_t *n);

#endif
