/*
 * The imgd IPC protocol: every message type, its payload struct and (in
 * ipc/msgtab.c) its table row: who may send it, payload bounds, fd policy
 * and fields. See DESIGN.md section 3.
 *
 * Wire format of a record (one SOCK_SEQPACKET datagram), little-endian:
 *	u16 type | u8 version | u8 flags | u32 payload length | u64 id
 * followed by the payload, encoded field by field (ipc/codec.c). The id is
 * the request id (frontend requests), the job id (unpacker jobs) or 0.
 */
#ifndef IMGD_IPC_MSG_H
#define IMGD_IPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"

#define IPC_VERSION 1
#define IPC_HDR_LEN 16
#define IPC_FLAG_FD 0x01 /* an fd travels with this record */
#define IPC_FLAGS_KNOWN IPC_FLAG_FD
#define IPC_PAYLOAD_MAX (LIM_IPC_RECORD_MAX - IPC_HDR_LEN)

/* Process kinds, as bits: a table row lists the kinds that may send it. */
enum proc_kind {
	PROC_STORE = 0x01,
	PROC_FRONTEND = 0x02,
	PROC_FETCHER = 0x04,
	PROC_UNPACKER = 0x08,
};
#define PROC_CHILDREN (PROC_FRONTEND | PROC_FETCHER | PROC_UNPACKER)

/* Limits that only the protocol needs. */
#define LIM_ALIASES_PER_IMAGE 32
#define LIM_ALIAS_DESC_MAX 255
#define LIM_ETAG_MAX 64
#define LIM_OP_ID_MAX 36
#define LIM_NOTE_MAX 512
#define LIM_LOG_LINE_MAX 2048 /* ipc/log.c formats lines in 2 KiB */

struct ipc_kv {
	char *key;
	char *value;
};

/*
 * Who asks, as the frontend saw it: the listener the request came in on
 * (the id the store gave it in LISTEN) and the socket peer's credentials
 * (SO_PEERCRED on the unix socket; on HTTPS the sha256 of the client's
 * TLS certificate, DER, as LXD fingerprints it). The store derives the
 * requestor and the trust from these; the frontend never states either.
 */
struct ipc_peer {
	uint32_t listener;
	uint32_t uid;
	uint32_t gid;
	char *cert; /* 64 hex digits, or "": no client certificate */
};

/* Image layouts and parts. */
enum { IMG_UNIFIED = 0, IMG_SPLIT = 1 };
enum { PART_UNIFIED = 0, PART_METADATA = 1, PART_ROOTFS = 2 };
/* What an export sends: the image, its first file (unified or metadata)
 * or its rootfs. */
enum { EXPORT_ALL = 0, EXPORT_FIRST = 1, EXPORT_ROOTFS = 2 };

/* Update modes and which fields an update sets. */
enum { UPD_PUT = 0, UPD_PATCH = 1 };
#define UPD_PUBLIC 0x01
#define UPD_AUTO_UPDATE 0x02
#define UPD_EXPIRES_AT 0x04
#define UPD_PROPERTIES 0x08
#define UPD_TARGET 0x10
#define UPD_DESCRIPTION 0x20

/* Upload end states. */
enum { UPLOAD_COMPLETE = 0, UPLOAD_ABORTED = 1 };

enum imsg_type {
	IMSG_NONE = 0,
	/* any child -> store */
	IMSG_READY,
	/* store -> child */
	IMSG_PING,
	/* child -> store */
	IMSG_PONG,
	/* store -> frontend */
	IMSG_LISTEN,
	IMSG_SERVER_INFO,
	IMSG_ERR,
	IMSG_OK,
	IMSG_IMAGE_INFO,
	IMSG_ALIAS_INFO,
	IMSG_LIST_END,
	IMSG_OP_UPDATE,
	IMSG_LIFECYCLE,
	IMSG_EXPORT_PART,
	IMSG_PROJECT_INFO,
	IMSG_PROJECT_USED,
	IMSG_LOG,
	IMSG_TLS_IDENTITY,
	IMSG_SERVER_AUTH,
	IMSG_CERT_INFO,
	IMSG_TRUST_TOKEN,
	/* frontend -> store */
	IMSG_IMAGES_LIST_REQ,
	IMSG_IMAGE_GET_REQ,
	IMSG_IMAGE_UPDATE_REQ,
	IMSG_IMAGE_DELETE_REQ,
	IMSG_IMAGE_EXPORT_REQ,
	IMSG_ALIAS_LIST_REQ,
	IMSG_ALIAS_GET_REQ,
	IMSG_ALIAS_CREATE_REQ,
	IMSG_ALIAS_UPDATE_REQ,
	IMSG_ALIAS_RENAME_REQ,
	IMSG_ALIAS_DELETE_REQ,
	IMSG_UPLOAD_BEGIN,
	IMSG_UPLOAD_PART,
	IMSG_UPLOAD_END,
	IMSG_UPLOAD_REFUSED,
	IMSG_PROJECT_REQ,
	IMSG_OP_GET_REQ,
	IMSG_OP_LIST_REQ,
	IMSG_OP_WAIT_REQ,
	IMSG_LIST_MORE,
	IMSG_SERVER_REQ,
	IMSG_CERT_REQ,
	IMSG_IMAGE_SECRET_REQ,
	/* store -> unpacker */
	IMSG_UNPACK_INPUT,
	IMSG_UNPACK_EXTRACT,
	IMSG_UNPACK_PACK,
	IMSG_UNPACK_OUTPUT,
	/* unpacker -> store */
	IMSG_UNPACK_META,
	IMSG_UNPACK_TEMPLATE,
	IMSG_UNPACK_DONE,
	IMSG_UNPACK_FAIL,
	IMSG_UNPACK_WRITTEN,
	IMSG_UNPACK_PACKED,
	/* frontend -> store: POST /1.0/images with a source */
	IMSG_IMAGE_COPY_REQ,
	/* store <-> fetcher */
	IMSG_FETCH_REQ,
	IMSG_FETCH_INFO,
	IMSG_FETCH_GO,
	IMSG_FETCH_PROGRESS,
	IMSG_FETCH_DONE,
	IMSG_FETCH_FAIL,
	/* frontend -> store: POST /1.0/images/<fp>/refresh */
	IMSG_IMAGE_REFRESH_REQ,
	/* frontend -> store: POST /1.0/images/<fp>/unpack */
	IMSG_IMAGE_UNPACK_REQ,
	/* frontend -> store: POST /1.0/images/publish (imgd's own) */
	IMSG_PUBLISH_REQ,
	/* frontend -> store: POST/PUT/PATCH/DELETE on /1.0/projects */
	IMSG_PROJECT_CHANGE_REQ,
	IMSG_METRIC,
	IMSG_EVENTS_CLOSE,
	/* store -> unpacker: how far a part that is still arriving may be
	 * read (a streaming validation) */
	IMSG_UNPACK_GROWN,
	IMSG_TYPE_COUNT
};

/* Sandbox self-check, sent once before any work (DESIGN.md section 2). */
struct imsg_ready {
	uint32_t ruid, euid, suid, rgid, egid, sgid;
	uint64_t cap_eff, cap_prm, cap_bnd;
	uint8_t no_new_privs;
	uint8_t seccomp; /* prctl(PR_GET_SECCOMP): 2 = filter */
	uint8_t chrooted;
	char *notes; /* what could not be dropped, or "" */
};

struct imsg_ping {
	uint64_t nonce;
};

struct imsg_listen {
	uint32_t id;  /* what requests from it carry as peer.listener */
	uint8_t kind; /* LISTEN_* (the store decides what it may do) */
	char *name;   /* "unix", or the HTTPS address as configured */
};
enum { LISTEN_UNIX = 0, LISTEN_HTTPS = 1 };

/* The HTTPS server's certificate and key (PEM), each a read-only file fd,
 * sent before the HTTPS listener. */
struct imsg_tls_identity {
	uint8_t part; /* TLS_CERT, TLS_KEY */
};
enum { TLS_CERT = 0, TLS_KEY = 1 };

/* GET /1.0: what the store makes of this peer. */
/* GET /1.0, or may this client listen to events (the store decides:
 * SERVER_AUTH, or ERR with the refusal). */
enum { SRV_INFO = 0, SRV_EVENTS = 1, SRV_EVENTS_ALL = 2, SRV_METRICS = 3 };
struct imsg_server_req {
	struct ipc_peer peer;
	uint8_t what;  /* SRV_* */
	char *project; /* SRV_EVENTS: whose events */
};
struct imsg_server_auth {
	uint8_t trusted;
	uint8_t logging; /* SRV_EVENTS*: the daemon's log lines too */
};

/* The trust store: /1.0/certificates and join tokens. */
enum {
	CERT_LIST = 0, /* CERT_INFO x n, LIST_END */
	CERT_GET,      /* fingerprint (or a prefix): CERT_INFO */
	CERT_ADD,      /* der, name: OK */
	CERT_JOIN,     /* the peer's own certificate (der), with secret: OK */
	CERT_TOKEN,    /* name: TRUST_TOKEN */
	CERT_TOKENS,   /* TRUST_TOKEN x n (no token text), LIST_END */
	CERT_REVOKE,   /* name: a token: OK */
	CERT_DELETE,   /* fingerprint (or a prefix): OK */
	CERT_ACTION_MAX = CERT_DELETE
};
struct imsg_cert_req {
	uint8_t action; /* CERT_* */
	char *name;
	char *fingerprint;
	char *der;    /* the certificate, DER in hex */
	char *secret; /* a join token's secret, as the client sent it */
	struct ipc_peer peer;
};
struct imsg_cert_info {
	char *fingerprint;
	char *name;
	char *der;
	int64_t created_at; /* seconds */
};
struct imsg_trust_token {
	char *name;
	char *token;	    /* base64 of LXD's token JSON; "" in a list */
	int64_t expires_at; /* seconds */
};

struct imsg_server_info {
	char *version;
	char *server_name;
	char **architectures;
	uint32_t narchitectures;
	/* HTTP limits of the configuration (policy/limits.h's by default) */
	uint32_t conns_per_client;
	uint32_t header_timeout; /* seconds, also a TLS handshake's */
	uint32_t idle_timeout;	 /* seconds */
	uint32_t line_max, headers_max, header_fields; /* at most the LIM_s */
	uint32_t json_max, json_depth;
};

/* What an answer, an event or a refusal is about; the frontend makes it a
 * URL or a word. */
enum {
	RES_NONE = 0,
	RES_IMAGE = 1,
	RES_ALIAS = 2,
	RES_PROJECT = 3,
	RES_OPERATION = 4,
	RES_CERTIFICATE = 5,
	RES_TOKEN = 6,
	RES_MAX = RES_TOKEN
};

/*
 * Why a request or an operation failed. The store names the cause and its
 * facts; the frontend maps the cause to an HTTP status (frontend/reply.c)
 * and both use ipc/cause.c's words: the frontend for the client, the store
 * only for its log and audit. The facts each cause reads are listed.
 */
enum err_cause {
	ERR_NONE = 0,
	ERR_INVALID,	      /* detail: what was wrong with the input */
	ERR_NOT_FOUND,	      /* subject */
	ERR_AMBIGUOUS,	      /* a fingerprint prefix matches several */
	ERR_EXISTS,	      /* subject, name (an alias: its name) */
	ERR_CHANGED,	      /* subject: If-Match does not match */
	ERR_FP_MISMATCH,      /* name: computed, detail: expected */
	ERR_LAYOUT,	      /* name: "split" or "unified", as stored */
	ERR_TOO_MANY_PROPS,   /* limit: properties, bytes: their size */
	ERR_TOO_MANY_ALIASES, /* limit */
	ERR_ALIAS_TYPE,	      /* name: the type asked for */
	ERR_NO_TARGET,	      /* an alias without a target */
	ERR_TOO_LARGE,	      /* bytes: the limit of one image part */
	ERR_ABORTED,	      /* detail: why the upload ended early */
	ERR_TRUNCATED,	      /* the body is shorter than it said */
	ERR_EMPTY,	      /* no image data */
	ERR_NO_ROOTFS,	      /* a split upload without its rootfs */
	ERR_SEQUENCE,	      /* upload records out of order */
	ERR_BUSY,	      /* subject: RES_IMAGE uploads, RES_OPERATION
				 waits, RES_NONE lists */
	ERR_STOPPING,	      /* imgd is stopping */
	ERR_NO_SPACE,	      /* storing failed: no space */
	ERR_STORAGE,	      /* storing or reading a file failed */
	ERR_FILE_MISSING,     /* an image's file is gone */
	ERR_DATABASE,	      /* internal database error */
	ERR_INTERNAL,	      /* any other fault of imgd's */
	ERR_TIMEOUT,	      /* the validation took too long */
	ERR_UNPACKER,	      /* name: what happened, detail: when */
	ERR_UNPACKER_BUG,     /* name, detail: as ERR_UNPACKER */
	ERR_UNPACKER_PROTO,   /* the unpacker broke the protocol */
	ERR_FORBIDDEN,	      /* name: what the requestor may not do */
	ERR_BAD_TOKEN,	      /* a join token or image secret that is wrong,
				 used or expired (which, the log says) */
	ERR_FETCH,	      /* name: the server, detail: what went wrong */
	ERR_FETCH_REFUSED,    /* name: the server, detail: which rule */
	ERR_FETCH_VERIFY,     /* name: the server, detail: what differed */
	ERR_FETCHER,	      /* name: how the fetcher died, detail: when */
	ERR_SIGNATURE,	      /* detail: why an import's signature fails */
	ERR_IN_USE,	      /* a non-empty project: name, detail: the
			       * change ("deleted", "renamed"), limit: its
			       * images, bytes: its aliases */
	ERR_QUOTA,	      /* a project's limit: name: the project,
			       * detail: the key, limit: its value, bytes:
			       * what the project would hold */
	ERR_NO_FDS,	      /* the store is out of file descriptors */
	ERR_MAX = ERR_NO_FDS
};

struct ipc_fault {
	uint8_t cause;	 /* ERR_* */
	uint8_t subject; /* RES_* */
	uint64_t limit;
	uint64_t bytes;
	char *name;   /* or "" */
	char *detail; /* or "" */
};

struct imsg_err {
	struct ipc_fault fault;
};

struct imsg_ok {
	uint8_t kind; /* RES_*: the created resource, if any */
	char *name;   /* its fingerprint or alias name, or "" */
};

struct imsg_image_info {
	char *fingerprint;
	char *project;
	char *filename;
	uint64_t size;
	uint8_t public;
	uint8_t auto_update;
	uint8_t cached;
	uint8_t split;
	char *architecture;
	char *type;
	int64_t created_at;   /* seconds */
	int64_t expires_at;   /* seconds, 0 = never */
	int64_t uploaded_at;  /* nanoseconds */
	int64_t last_used_at; /* nanoseconds, 0 = never */
	struct ipc_kv *properties;
	uint32_t nproperties;
	struct ipc_kv *aliases; /* name -> description */
	uint32_t naliases;
	char *etag; /* "" in a list (only a GET answers with it) */
	/* for simplestreams: the product, each file's sha256 and size, its
	 * compression (a unified image has one file) */
	char *product;
	char *compression0, *compression1;
	char *part0_sha256, *part1_sha256;
	uint64_t part0_size, part1_size;
};

struct imsg_alias_info {
	char *name;
	char *description;
	char *target;
	char *type;
	char *etag;
};

struct imsg_list_end {
	uint32_t count;
};

/* GET /1.0/metrics: the store's samples (METRIC x n, LIST_END); the
 * frontend adds its own and renders them (frontend/metrics.c names them,
 * with their labels). */
enum {
	METRIC_IMAGES,	     /* project */
	METRIC_IMAGE_BYTES,  /* project */
	METRIC_ALIASES,	     /* project */
	METRIC_RUNNING,	     /* project, kind (uploads, copies, unpacks) */
	METRIC_CHILD_DEATHS, /* process, cause (sigsys, signal, exit) */
	METRIC_SANDBOX_VIOLATIONS, /* process */
	METRIC_AUDIT_RECORDS,	   /* none */
	METRIC_PROJECTS,	   /* none: how many in all */
	METRIC_STORE_MAX = METRIC_PROJECTS
};
/* The policy changed: every events listener is closed, so that each one
 * asks again (and the store decides again) when it reconnects. */
struct imsg_events_close {
	char *reason;
};

struct imsg_metric {
	uint8_t metric; /* METRIC_* */
	char *label1, *label2;
	uint64_t value;
};

/* An operation's state; the frontend shows LXD's status codes for them. */
enum {
	OPS_PENDING = 1,
	OPS_RUNNING = 2,
	OPS_SUCCESS = 3,
	OPS_FAILURE = 4,
	OPS_MAX = OPS_FAILURE
};

struct imsg_op_update {
	char *id;
	char *project;
	char *class;
	char *description;
	uint8_t state;	    /* OPS_* */
	int64_t created_at; /* nanoseconds */
	int64_t updated_at;
	struct ipc_fault fault; /* cause ERR_NONE unless it failed */
	struct ipc_kv *metadata;
	uint32_t nmetadata;
	char *image; /* the image it is about (fingerprint), or "" */
};

struct imsg_lifecycle {
	char *project;
	char *action;
	uint8_t kind; /* RES_IMAGE or RES_ALIAS */
	char *name;
	struct ipc_kv *context;
	uint32_t ncontext;
	char *requestor;
};

struct imsg_export_part {
	uint8_t part;	/* PART_* */
	uint8_t nparts; /* 1 unified, 2 split */
	uint64_t size;
	char *filename;
	char *fingerprint; /* the image's, for ETag and If-None-Match */
};

struct imsg_images_list_req {
	char *project;
	uint8_t mode; /* LISTM_* */
	struct ipc_peer peer;
	/* "" or a property every image of the answer has with this value,
	 * but for ASCII case: the frontend's filter=, narrowed (it still
	 * applies the whole filter to what comes). */
	char *prop_key;
	char *prop_value;
};
/* LISTM_API: the images the requestor may see, by fingerprint;
 * LISTM_STREAMS: public images only, by simplestreams product. */
enum { LISTM_API = 0, LISTM_STREAMS = 1 };

struct imsg_image_ref_req { /* get, delete, export, secret */
	char *project;
	char *ref;    /* fingerprint or unique hex prefix */
	uint8_t file; /* export: EXPORT_ALL, or one file (simplestreams) */
	char *secret; /* an untrusted client's one-time image secret, or "" */
	struct ipc_peer peer;
};

struct imsg_image_update_req {
	char *project;
	char *ref;
	char *if_match;
	struct ipc_peer peer;
	uint8_t mode; /* UPD_PUT / UPD_PATCH */
	uint32_t set; /* UPD_* bits present in the request */
	uint8_t public;
	uint8_t auto_update;
	int64_t expires_at;
	struct ipc_kv *properties;
	uint32_t nproperties;
};

/* Image and alias lists come a page (LIM_LIST_PAGE records) at a time;
 * the frontend asks for the next page, with the list's request id, once
 * its client has taken the last one, or cancels the list. */
struct imsg_list_more {
	uint8_t cancel;
};

/* Operations live in the store only: GET one (OP_UPDATE or ERR), list a
 * project's (OP_UPDATE x n, LIST_END), or wait for one to end (OP_UPDATE
 * when it does, or after timeout seconds; < 0: the longest wait). */
struct imsg_op_req {
	char *project;
	char *id; /* "" for a list */
	int64_t timeout;
	struct ipc_peer peer;
};

/* Projects, read-only: one (name) or all (""), with or without the images
 * that use them. Answered by PROJECT_INFO, each followed by its
 * PROJECT_USED records when used_by is set, then LIST_END. */
struct imsg_project_req {
	char *name;
	uint8_t used_by;
	struct ipc_peer peer;
};

struct imsg_project_info {
	char *name;
	char *description;
	struct ipc_kv *config; /* features.*, limits.*, user.* */
	uint32_t nconfig;
};

/* Project management (LXD's POST/PUT/PATCH/DELETE and rename). The store
 * validates the config; a rename is answered with an operation, the others
 * with OK or ERR. */
enum {
	PROJ_CREATE = 0,
	PROJ_PUT = 1,
	PROJ_PATCH = 2,
	PROJ_RENAME = 3,
	PROJ_DELETE = 4
};
enum { PROJ_SET_DESCRIPTION = 1, PROJ_SET_CONFIG = 2 };
struct imsg_project_change_req {
	uint8_t action;
	char *name;
	char *new_name; /* PROJ_RENAME */
	uint32_t set;	/* PATCH: PROJ_SET_*; CREATE and PUT set both */
	char *description;
	struct ipc_kv *config;
	uint32_t nconfig;
	struct ipc_peer peer;
};

struct imsg_project_used { /* an image of the last PROJECT_INFO */
	char *fingerprint;
};

/* A line of the store's log, for the events websocket (type=logging). */
enum {
	LOGLEVEL_DEBUG = 0,
	LOGLEVEL_INFO = 1,
	LOGLEVEL_WARNING = 2,
	LOGLEVEL_ERROR = 3 /* a child's last words (fatal) */
};

struct imsg_log {
	uint8_t level;
	char *process; /* whose line it is */
	char *message;
};

struct imsg_alias_list_req {
	char *project;
	struct ipc_peer peer;
};

struct imsg_alias_req { /* get, delete */
	char *project;
	char *name;
	struct ipc_peer peer;
};

struct imsg_alias_create_req {
	char *project;
	char *name;
	char *description;
	char *target;
	char *type;
	struct ipc_peer peer;
};

struct imsg_alias_update_req {
	char *project;
	char *name;
	char *if_match;
	struct ipc_peer peer;
	uint8_t mode;
	uint32_t set;
	char *target;
	char *description;
};

struct imsg_alias_rename_req {
	char *project;
	char *name;
	char *new_name;
	struct ipc_peer peer;
};

/* The first part's pipe travels with UPLOAD_BEGIN, a split rootfs's with
 * UPLOAD_PART; UPLOAD_END says whether the body arrived whole. */
struct imsg_upload_begin {
	char *project;
	char *filename;
	char *fingerprint; /* X-LXD-fingerprint, or "" */
	struct ipc_peer peer;
	uint8_t public;
	uint8_t layout; /* IMG_UNIFIED / IMG_SPLIT */
	uint64_t length; /* the body's Content-Length; 0: chunked, unknown */
	struct ipc_kv *properties;
	uint32_t nproperties;
	struct ipc_kv *aliases; /* created atomically with the image */
	uint32_t naliases;
	/* X-Imgd-Signature (the image, or a split image's metadata) and
	 * X-Imgd-Rootfs-Signature, parsed by the frontend: hex of the key
	 * id, the signature and the global signature (SIG_WIRE_HEX), and
	 * the trusted comment; "" when not sent */
	char *sig0;
	char *sig0_comment;
	char *sig1;
	char *sig1_comment;
};

#define SIG_WIRE_BYTES (8 + 64 + 64)
#define SIG_WIRE_HEX (2 * SIG_WIRE_BYTES)

struct imsg_upload_part {
	uint8_t part;
	char *filename;
};

struct imsg_upload_end {
	uint8_t status;	      /* UPLOAD_* */
	uint64_t bytes;	      /* body bytes the frontend passed on */
	uint64_t part0_bytes; /* of which the first part (split: metadata) */
	char *reason;
};

/* An upload the frontend refused before it began (its headers): for the
 * audit log only, the store acts on nothing in it. */
struct imsg_upload_refused {
	char *project;
	struct ipc_peer peer;
	char *reason;
};

struct imsg_unpack_input {
	uint8_t part;
	uint8_t nparts;
	uint64_t size;
	/* The part is still arriving: read it only as far as the store's
	 * IMSG_UNPACK_GROWN words say it has hashed, to their final one. */
	uint8_t follow;
};

struct imsg_unpack_grown {
	uint8_t part;  /* 0, or 1 (a split image's rootfs) */
	uint64_t avail; /* bytes of it hashed: never less than before */
	uint8_t final;	/* that is all of it */
};

struct imsg_unpack_meta {
	char *architecture;
	int64_t creation_date;
	int64_t expiry_date;
	struct ipc_kv *properties;
	uint32_t nproperties;
	uint32_t ntemplates;
};

struct imsg_unpack_template {
	char *path;
	char *template;
	uint8_t when;
	uint8_t create_only;
	struct ipc_kv *properties;
	uint32_t nproperties;
};

struct imsg_unpack_done {
	char *compression0;
	char *compression1;
	uint64_t entries;
	uint64_t unpacked_bytes;
	uint64_t devices;
};

struct imsg_unpack_fail {
	char *message;
	uint8_t nospace; /* an unpack's write failed with ENOSPC/EDQUOT */
};

/* Unpack mode: what the templates see (before the inputs). */
#define UNPACK_X_XATTRS 0x1
#define UNPACK_X_DEVICES 0x2
struct imsg_unpack_extract {
	uint8_t trigger; /* TPL_WHEN_* bit */
	uint8_t flags;	 /* UNPACK_X_* */
	uint8_t privileged;
	char *name;		     /* the instance's */
	uint32_t root_uid, root_gid; /* owner of new template files */
	struct ipc_kv *config;
	uint32_t nconfig;
};

/* Unpack mode: what was written, before DONE. */
struct imsg_unpack_written {
	uint64_t files, dirs, symlinks, hardlinks, devices, bytes;
	uint64_t xattrs, xattrs_skipped, rendered, skipped;
};

/* Pack mode (publish): how to build the image from the chroot's tree. */
struct imsg_unpack_pack {
	uint8_t comp; /* PACK_* of unpacker/pack.h */
	uint8_t split;
	uint8_t dir_is_rootfs;
	uint8_t xattrs;
	char *meta_yaml; /* generated, when dir_is_rootfs */
	int64_t meta_mtime;
};

struct imsg_unpack_output {
	uint8_t part; /* 0: unified or metadata, 1: rootfs */
};

struct imsg_unpack_packed {
	uint64_t entries;
	uint64_t bytes; /* the entries' content bytes */
};

struct imsg_publish_req {
	char *project;
	char *path; /* the directory, on imgd's host */
	uint8_t comp;
	uint8_t split;
	uint8_t public;
	uint8_t xattrs;
	char *architecture, *os, *release; /* for a bare rootfs */
	struct ipc_kv *aliases;		   /* name -> description */
	uint32_t naliases;
	struct ipc_kv *properties;
	uint32_t nproperties;
	struct ipc_peer peer;
};

struct imsg_image_unpack_req {
	char *project;
	char *ref;
	char *target; /* a name under unpack_root */
	char *name;   /* instance name, or "" (the target's) */
	uint8_t trigger;
	uint8_t privileged;
	uint8_t xattrs;
	uint32_t shift_uid, shift_gid, shift_range; /* range 0: no shift */
	struct ipc_kv *config;
	uint32_t nconfig;
	struct ipc_peer peer;
};

/*
 * Fetching (store/fetch.c, fetcher/): one sandboxed fetcher process per
 * download. The store sends FETCH_REQ (with the CA bundle's fd); the
 * fetcher resolves the image on the remote and claims what it is
 * (FETCH_INFO); the store decides whether it wants the bytes and hands
 * one pipe write end per file (FETCH_GO); the fetcher streams and hashes,
 * reports FETCH_PROGRESS, and ends with FETCH_DONE (its hashes, which the
 * store compares with its own) or FETCH_FAIL.
 */
enum { SRC_LXD = 0, SRC_SIMPLESTREAMS = 1, SRC_URL = 2, SRC_MAX = SRC_URL };

struct imsg_image_copy_req {
	char *project;
	struct ipc_peer peer;
	uint8_t protocol;  /* SRC_* */
	char *server;	   /* the remote's URL, or the direct URL */
	char *name;	   /* alias, fingerprint or prefix; "" for SRC_URL */
	char *secret;	   /* a private image's secret on an LXD remote */
	char *certificate; /* the remote's certificate (PEM) to pin, or "" */
	uint8_t public;
	uint8_t auto_update;
	uint8_t copy_aliases;	/* also create the remote's aliases */
	uint8_t cached;		/* fetched for use, expires when unused */
	struct ipc_kv *aliases; /* name -> description */
	uint32_t naliases;
	struct ipc_kv *properties; /* over the remote's */
	uint32_t nproperties;
};

struct imsg_fetch_req {
	uint8_t protocol;
	char *server;
	char *name;
	char *secret;
	char *certificate;
	/* hosts (comma-separated, "*" any) that may be reached by plain
	 * http, and whose loopback, private or link-local addresses may be
	 * used: the configuration's, applied to every hop */
	char *allow_http;
	char *allow_private;
	uint64_t part_max;	 /* bytes of one file */
	uint32_t low_speed_time; /* seconds below LIM_FETCH_MIN_RATE */
	uint32_t connect_timeout;
	char *nameservers;    /* "addr[:port],...", or "" */
	char **architectures; /* the host's (LXD names), primary first */
	uint32_t narchitectures;
	char *version;
	char *proxy;   /* an https proxy URL, or "" */
	char *noproxy; /* hosts that bypass it */
	char *pubkey;  /* the key the server is pinned to (minisign or
			  signify public key file), or "" */
};

struct imsg_fetch_info {
	char *fingerprint;
	char *filename;
	uint8_t split;	       /* 0 unified, 1 split, 2 not known yet */
	uint64_t size0, size1; /* each file's size, 0 = not promised */
	char *sha0, *sha1;     /* each file's sha256, "" = not promised */
	uint8_t public;
	struct ipc_kv *properties; /* the remote's */
	uint32_t nproperties;
	char **aliases; /* the remote's aliases of the image */
	uint32_t naliases;
	char *url;	   /* where it came from, for the log */
	int64_t signed_at; /* a pinned remote: its signed index's "updated"
			      (seconds), else 0 */
};

struct imsg_fetch_go {
	uint8_t part; /* 0 the first file, 1 a split rootfs */
};

struct imsg_fetch_progress {
	uint8_t part;
	uint64_t bytes;
	uint64_t total; /* 0 = unknown */
	uint64_t rate;	/* bytes per second */
};

struct imsg_fetch_done {
	char *sha0, *sha1;
	uint64_t size0, size1;
};

enum {
	FETCH_E_NETWORK = 0, /* connect, TLS, reset, DNS */
	FETCH_E_REMOTE,	     /* the server answered with an error */
	FETCH_E_NOT_FOUND,   /* no such image there */
	FETCH_E_REFUSED,     /* a rule said no: address, scheme, redirect */
	FETCH_E_VERIFY,	     /* hash, size or signature */
	FETCH_E_PROTOCOL,    /* a document that makes no sense */
	FETCH_E_MAX = FETCH_E_PROTOCOL
};

struct imsg_fetch_fail {
	uint8_t kind; /* FETCH_E_* */
	char *message;
};

union imsg_any {
	struct imsg_metric metric;
	struct imsg_events_close events_close;
	struct imsg_ready ready;
	struct imsg_ping ping;
	struct imsg_listen listen;
	struct imsg_server_info server_info;
	struct imsg_err err;
	struct imsg_ok ok;
	struct imsg_image_info image_info;
	struct imsg_alias_info alias_info;
	struct imsg_list_end list_end;
	struct imsg_op_update op_update;
	struct imsg_lifecycle lifecycle;
	struct imsg_export_part export_part;
	struct imsg_images_list_req images_list_req;
	struct imsg_image_ref_req image_ref_req;
	struct imsg_image_update_req image_update_req;
	struct imsg_alias_list_req alias_list_req;
	struct imsg_project_req project_req;
	struct imsg_op_req op_req;
	struct imsg_list_more list_more;
	struct imsg_project_info project_info;
	struct imsg_project_used project_used;
	struct imsg_project_change_req project_change_req;
	struct imsg_log log;
	struct imsg_tls_identity tls_identity;
	struct imsg_server_req server_req;
	struct imsg_server_auth server_auth;
	struct imsg_cert_req cert_req;
	struct imsg_cert_info cert_info;
	struct imsg_trust_token trust_token;
	struct imsg_alias_req alias_req;
	struct imsg_alias_create_req alias_create_req;
	struct imsg_alias_update_req alias_update_req;
	struct imsg_alias_rename_req alias_rename_req;
	struct imsg_upload_begin upload_begin;
	struct imsg_upload_part upload_part;
	struct imsg_upload_end upload_end;
	struct imsg_upload_refused upload_refused;
	struct imsg_unpack_input unpack_input;
	struct imsg_unpack_grown unpack_grown;
	struct imsg_unpack_meta unpack_meta;
	struct imsg_unpack_template unpack_template;
	struct imsg_unpack_done unpack_done;
	struct imsg_unpack_fail unpack_fail;
	struct imsg_unpack_extract unpack_extract;
	struct imsg_unpack_written unpack_written;
	struct imsg_image_unpack_req image_unpack_req;
	struct imsg_unpack_pack unpack_pack;
	struct imsg_unpack_output unpack_output;
	struct imsg_unpack_packed unpack_packed;
	struct imsg_publish_req publish_req;
	struct imsg_image_copy_req image_copy_req;
	struct imsg_fetch_req fetch_req;
	struct imsg_fetch_info fetch_info;
	struct imsg_fetch_go fetch_go;
	struct imsg_fetch_progress fetch_progress;
	struct imsg_fetch_done fetch_done;
	struct imsg_fetch_fail fetch_fail;
};

/* Field kinds of the codec. */
enum ipc_ftype {
	FT_U8,
	FT_BOOL, /* u8, 0 or 1 */
	FT_U16,
	FT_U32,
	FT_U64,
	FT_I64,
	FT_STR,	    /* u16 length + bytes, no NUL, charset-checked */
	FT_STRLIST, /* u16 count + FT_STR each */
	FT_KVLIST,  /* u16 count + (key, value) FT_STR pairs */
};

/* Character classes for strings. Every class excludes NUL. */
enum ipc_charset {
	CS_ANY_UTF8, /* valid UTF-8, no control characters but \t \n */
	CS_LINE,     /* valid UTF-8, no control characters at all */
	CS_HEX,	     /* lowercase hex digits */
	CS_TOKEN,    /* [A-Za-z0-9._-] */
	CS_NAME,     /* project names: CS_LINE without '/' */
	CS_PATH,     /* CS_LINE, for file paths and URLs */
};

struct ipc_field {
	const char *name;
	uint8_t type;	    /* enum ipc_ftype */
	uint8_t cs;	    /* enum ipc_charset, strings only */
	uint8_t cs_value;   /* charset of KV values */
	uint16_t off;	    /* offset in the payload struct */
	uint16_t count_off; /* lists: offset of the uint32_t count */
	uint32_t min;	    /* strings: min length; ints: min value */
	uint32_t max;	    /* strings/lists: max length/count; ints: max */
	uint32_t max_key;   /* KV: key max length */
	uint32_t max_value; /* KV: value max length */
	uint32_t max_total; /* lists: max bytes of all strings together */
};

enum ipc_fdpolicy {
	FD_NONE,    /* no fd may travel */
	FD_PIPE_RD, /* the read end of a pipe */
	FD_PIPE_WR, /* the write end of a pipe */
	FD_FILE_RD, /* a regular file opened read-only */
	FD_SOCKET,  /* a listening socket */
};

/*
 * Channel states. Both ends of a channel see every record, so both keep
 * the same state: a child's channel is NEW until its READY, then READY.
 * An unpacker's channel carries one job: it is META once the metadata
 * came (templates and the verdict only then, the metadata once), and
 * FINAL with its verdict (UNPACK_DONE or UNPACK_FAIL), after which only
 * pings pass. A record outside the states of its row is refused by the
 * decoder (and never encoded).
 */
enum {
	CH_NEW = 0x01,
	CH_READY = 0x02,
	CH_FINAL = 0x04,
	CH_META = 0x08,
};
#define CH_ANY (CH_NEW | CH_READY | CH_FINAL | CH_META)

/*
 * Requests that take more than one record (an upload: BEGIN, its rootfs
 * PART, END): OPEN starts a request id, ONCE may come at most once while
 * it is open, CLOSE ends it. Both ends track the open ids (ipc/chan.c), as
 * they track the state; a record out of its request's sequence is never
 * encoded and is refused on receipt.
 */
enum {
	RQ_NONE = 0,
	RQ_OPEN = 1,
	RQ_ONCE = 2,
	RQ_CLOSE = 3,
};

struct ipc_msgdef {
	uint16_t type;
	const char *name;
	uint8_t senders;   /* PROC_* bits that may send it */
	uint8_t receivers; /* PROC_* bits it may be sent to */
	uint8_t states;	   /* CH_* the channel may be in */
	uint8_t moves_to;  /* CH_* after it, or 0: unchanged */
	uint8_t rq;	   /* RQ_*: its place in a request's sequence */
	uint8_t fd;	   /* enum ipc_fdpolicy */
	uint32_t minlen;   /* payload bounds, computed from the fields */
	uint32_t maxlen;
	size_t structsz;
	const struct ipc_field *fields;
	size_t nfields;
};

const struct ipc_msgdef *ipc_msgdef(uint16_t type);
const char *ipc_typename(uint16_t type);
const char *ipc_procname(int kind);

#endif
