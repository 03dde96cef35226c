/*
 * Every default limit of imgd, in one place (see ../shared/SECURITY.md,
 * "Default limits"). Each is enforced where the data is first parsed; the
 * configurable ones can be changed in the config file (policy/config.c).
 */
#ifndef IMGD_POLICY_LIMITS_H
#define IMGD_POLICY_LIMITS_H

/* clang-format off */
/* The one version string of imgd, imgctl and the API's server_version. */
#define IMGD_VERSION "0.1"

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* Images: each compressed part. */
#define LIM_IMAGE_PART_MAX		(8 * GiB)
/* Unpacked size: min(32 GiB, 20 x compressed + 256 MiB) ... */
#define LIM_UNPACKED_ABS_MAX		(32 * GiB)
#define LIM_UNPACKED_FACTOR		20
#define LIM_UNPACKED_SLACK		(256 * MiB)
/* ... and abort above 100:1 once 64 MiB are out. */
#define LIM_RATIO_MAX			100
#define LIM_RATIO_AFTER			(64 * MiB)
#define LIM_ENTRIES_MAX			1000000
#define LIM_PATH_MAX			4095
#define LIM_PATH_COMPONENT_MAX		255
#define LIM_PATH_DEPTH_MAX		128
#define LIM_XATTR_MAX			(64 * KiB)
/* xz/lzma dictionary: 4 x what xz -9 uses, well inside LIM_UNPACKER_AS. */
#define LIM_XZ_DICT_MAX			(256 * MiB)
/*
 * Memory for the index of entry names the unpacker keeps to refuse
 * duplicates, type changes and paths through symlinks (about 100 bytes a
 * name): 2.5 times what LIM_ENTRIES_MAX typical names need, well inside
 * LIM_UNPACKER_AS.
 */
#define LIM_NAME_INDEX_MAX		(256 * MiB)

/* metadata.yaml */
#define LIM_META_FILE_MAX		(1 * MiB)
#define LIM_META_DEPTH_MAX		16
#define LIM_META_PROPERTIES_MAX		256
#define LIM_META_TEMPLATES_MAX		256
/*
 * Properties travel in one IPC record (IMSG_IMAGE_INFO), so they are
 * bounded one by one and together.
 */
#define LIM_PROP_KEY_MAX		255
#define LIM_PROP_VALUE_MAX		4096
#define LIM_PROP_TOTAL_MAX		(32 * KiB)
#define LIM_ARCH_NAME_MAX		32
#define LIM_TEMPLATE_PATH_MAX		4095
#define LIM_TEMPLATE_NAME_MAX		255

/* Templates (rendered by a later issue; parsed and bounded now). */
#define LIM_TEMPLATE_SOURCE_MAX		(256 * KiB)
#define LIM_TEMPLATE_OUTPUT_MAX		(1 * MiB)
/* An unpack's instance config (what templates read through config_get):
 * one IPC record carries it. */
#define LIM_UNPACK_CONFIG_MAX		64
#define LIM_UNPACK_CONFIG_VALUE_MAX	(16 * KiB)
#define LIM_UNPACK_CONFIG_TOTAL		(40 * KiB)
#define LIM_UNPACK_TARGET_MAX		255
#define LIM_TEMPLATE_OUTPUT_TOTAL	(16 * MiB)

/* Image dates: years 1 to 9999, what RFC 3339 (and Go) can write. */
#define LIM_TIME_MIN			(-62135596800LL)
#define LIM_TIME_MAX			253402300799LL

/* Names. */
/* Alias names hold '/' ("ubuntu/22.04/amd64"); 512 bytes is twice what any
 * public server uses and, percent-encoded, still fits a request line. */
#define LIM_ALIAS_NAME_MAX		512
#define LIM_DESCRIPTION_MAX		1024
#define LIM_PROJECT_NAME_MAX		63
/* A project's config (features.*, limits.*, user.*): one IPC record. */
#define LIM_PROJECT_CONFIG_MAX		64
#define LIM_PROJECT_CONFIG_KEY_MAX	128
#define LIM_PROJECT_CONFIG_VALUE_MAX	1024
#define LIM_PROJECT_CONFIG_TOTAL	(16 * KiB)
#define LIM_FILENAME_MAX		255
#define LIM_ERROR_MAX			1024

/* Uploads being received at once (each holds a pipe and a temp file);
 * validations wait in per-project queues after that. */
#define LIM_UPLOADS_MAX			64
#define LIM_JOBS_QUEUED_MAX		256

/* Unpacker resources. */
#define LIM_UNPACKER_AS			(1 * GiB)
#define LIM_UNPACKER_CPU_SECONDS	600
#define LIM_UNPACKER_WALL_SECONDS	900
#define LIM_UNPACKER_PER_TENANT		2

/* HTTP (frontend). */
#define LIM_HTTP_LINE_MAX		(8 * KiB)
#define LIM_HTTP_HEADERS_TOTAL		(32 * KiB)
#define LIM_HTTP_HEADER_FIELDS		100
#define LIM_HTTP_HEADER_TIMEOUT		10
#define LIM_HTTP_IDLE_TIMEOUT		30
#define LIM_HTTP_JSON_MAX		(1 * MiB)
#define LIM_HTTP_JSON_DEPTH		64
#define LIM_HTTP_CONNS_PER_CLIENT	64
#define LIM_HTTP_CONNS_MAX		1024
/* An upload slower than this for LIM_HTTP_SLOW_SECONDS is dropped. */
#define LIM_HTTP_MIN_RATE		(1 * KiB)
#define LIM_HTTP_SLOW_SECONDS		30
/* After refusing a body it did not read to its end, the frontend answers,
 * then reads and drops what the client still sends (so that the client
 * sees the answer, not a reset) for at most this long and this much. */
#define LIM_HTTP_LINGER_SECONDS		10
#define LIM_HTTP_LINGER_BYTES		(256 * MiB)
#define LIM_WS_FRAME_MAX		(64 * KiB)
/* A TLS handshake that has not finished by then is dropped. */
#define LIM_TLS_HANDSHAKE_TIMEOUT	LIM_HTTP_HEADER_TIMEOUT

/* Trust (HTTPS clients). LXD's client certificates are under 2 KiB; a
 * whole list (in hex) stays well below LIM_IPC_QUEUE_BYTES. */
#define LIM_CERT_DER_MAX		(4 * KiB)
#define LIM_CERT_NAME_MAX		64
#define LIM_TRUSTED_CERTS_MAX		1024
#define LIM_TRUST_TOKENS_MAX		256
#define LIM_TOKEN_SECRET_MAX		128
#define LIM_TOKEN_MAX			1024 /* base64 of the token's JSON */
#define LIM_TRUST_TOKEN_SECONDS		86400 /* a join token lives a day */
/* One-time image secrets: live an hour, at most this many at once. */
#define LIM_IMAGE_SECRET_SECONDS	3600
#define LIM_IMAGE_SECRETS_MAX		1024
/*
 * multipart/form-data uploads: each part's header block, and the preamble
 * and the epilogue around the parts (RFC 2046 sets no bound on them).
 */
#define LIM_MP_HEADERS_MAX		(8 * KiB)
#define LIM_MP_HEADER_FIELDS		16
#define LIM_MP_PREAMBLE_MAX		(8 * KiB)

/* Image and alias lists: records per page from the store, and the lists
 * the store pages for the frontend at once (one per connection at most). */
#define LIM_LIST_PAGE			256
#define LIM_LISTS_MAX			1024

/* Clients waiting for operations (GET .../wait), kept by the store until
 * the operation ends or the wait times out, whether or not the client is
 * still connected: bounded. */
#define LIM_OP_WAITS_MAX		4096

/* IPC */
#define LIM_IPC_RECORD_MAX		(64 * KiB)
/* Records queued for a peer that does not read: past this it is stuck,
 * and killed. Traffic the store makes itself (lists, operations after a
 * restart) waits for drains well below it (LIM_IPC_QUEUE_SOFT). */
#define LIM_IPC_QUEUE_MAX		16384
#define LIM_IPC_QUEUE_SOFT		256
/* ...and in bytes: 16384 records of 64 KiB would be 1 GiB of queue. */
#define LIM_IPC_QUEUE_BYTES		(32 * MiB)
/* Multi-record requests open on a channel at once: one upload per HTTP
 * connection at most, so more is a frontend bug. */
#define LIM_IPC_OPEN_REQS		LIM_HTTP_CONNS_MAX


/* The configuration file, at most. */
#define LIM_CONFIG_MAX			(64 * 1024)
/* The policy file (policy/authz.c): its bytes, grants, projects of one
 * grant; groups of a socket peer looked at (its gid and its user's). */
#define LIM_POLICY_MAX			(1024 * 1024)
#define LIM_POLICY_GRANTS_MAX		4096
#define LIM_POLICY_PROJECTS_MAX		256
#define LIM_PEER_GROUPS			64

/* Buffers, queues and timers of the daemons. */
/* log lines waiting for the frontend (events); more are counted, dropped */
#define LIM_LOG_EVENTS_QUEUE		64
/* a finished operation stays visible this long, for clients that look late */
#define LIM_OP_KEEP_SECONDS		60
/* metadata entries of an operation (fingerprint, size, ...) */
#define LIM_OP_META_MAX			12
/* GET .../wait without a timeout waits this long */
#define LIM_OP_WAIT_SECONDS		3600
/* seconds between pings of a long-lived child */
#define LIM_PING_EVERY			10
/* seconds without a pong before the child is killed */
#define LIM_PING_LIMIT			30
/* bytes of log a child may have relayed per second */
#define LIM_CHILD_LOG_RATE		(64 * KiB)
/* bytes moved from an upload pipe per read */
#define LIM_UPLOAD_CHUNK			(256 * KiB)
/* dirty bytes of a temp file before the store starts writeback */
#define LIM_UPLOAD_WRITEBACK		(16 * MiB)
/* a streaming validation hears of the hashed bytes in steps of this */
#define LIM_UPLOAD_FEED_STEP		(1 * MiB)
/* bytes one upload may move per wakeup, so that uploads share fairly */
#define LIM_UPLOAD_BUDGET		(4 * MiB)
/* input buffered per connection before reading stops */
#define LIM_HTTP_READ_BUF		(256 * KiB)
/* events queued for a websocket listener; past it, it is dropped */
#define LIM_EVENTS_LISTENER_QUEUE	(4 * MiB)
/* bytes read from an exported blob at a time */
#define LIM_EXPORT_CHUNK			(64 * KiB)
/* export output buffered per connection at most */
#define LIM_EXPORT_QUEUE			(1 * MiB)
/* clauses of one ?filter= */
#define LIM_FILTER_CLAUSES		32
/* bytes of one ?filter= value */
#define LIM_FILTER_VALUE			256
/* pipe buffer from the frontend to the store, per upload part */
#define LIM_UPLOAD_PIPE			(1 * MiB)
/* bytes an upload's hashing thread maps and hashes at a time */
#define LIM_HASH_PIECE			(4 * MiB)
/* spliced but not yet hashed bytes at which reading the pipe pauses
 * (upload_hash_lag's default) */
#define LIM_HASH_LAG			(64 * MiB)
/* the stack of a hashing thread (the digests need a few KiB) */
#define LIM_HASH_STACK			(256 * KiB)

/* Fetching (fetcher/, store/fetch.c). */
#define LIM_URL_MAX			2048
#define LIM_CERT_PEM_MAX		(8 * KiB)
#define LIM_SECRET_MAX			256
#define LIM_NAMESERVERS_MAX		512
/* A JSON document from a remote (simplestreams products, LXD answers). */
#define LIM_FETCH_DOC_MAX		(64 * MiB)
#define LIM_FETCH_REDIRECTS		5
/* A transfer slower than this for low_speed_time seconds is dropped. */
#define LIM_FETCH_MIN_RATE		(1 * KiB)
#define LIM_FETCH_LOW_SPEED_SECONDS	30
#define LIM_FETCH_CONNECT_SECONDS	30
#define LIM_FETCHERS_MAX		4 /* fetcher processes at once */
#define LIM_FETCH_ALIASES		32
#define LIM_FETCH_ALIASES_LEN		LIM_ALIAS_NAME_MAX
/* The CA bundle handed to a fetcher. */
#define LIM_CA_BUNDLE_MAX		(4 * MiB)

/* clang-format on */

#endif
