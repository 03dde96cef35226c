/*
 * The one table of imgd's IPC messages. Each row: number, name, who may send
 * it, fd policy, and its fields with per-field limits and character classes.
 * The codec, the logs, the fuzz dictionary and the negative tests all walk
 * this table; nothing else knows the wire layout.
 */
#include <stddef.h>

#include "ipc/msg.h"

/* clang-format off */
#define F_INT(S, m, t, lo, hi)                                          \
	{ .name = #m, .type = (t), .off = offsetof(S, m), .min = (lo),  \
	  .max = (hi) }
#define F_U8(S, m, hi)		F_INT(S, m, FT_U8, 0, hi)
#define F_BOOL(S, m)		F_INT(S, m, FT_BOOL, 0, 1)
#define F_U16(S, m, lo, hi)	F_INT(S, m, FT_U16, lo, hi)
#define F_U32(S, m)		F_INT(S, m, FT_U32, 0, UINT32_MAX)
#define F_U64(S, m)		F_INT(S, m, FT_U64, 0, 0)
#define F_I64(S, m)		F_INT(S, m, FT_I64, 0, 0)
#define F_STR(S, m, lo, hi, c)                                          \
	{ .name = #m, .type = FT_STR, .cs = (c), .off = offsetof(S, m), \
	  .min = (lo), .max = (hi) }
#define F_STRLIST(S, m, n, hi, c)                                       \
	{ .name = #m, .type = FT_STRLIST, .cs = (c),                    \
	  .off = offsetof(S, m), .count_off = offsetof(S, n),           \
	  .max = (hi), .max_value = (hi##_LEN) }
#define F_KV(S, m, n, hi, k, v, ck, cv, tot)                            \
	{ .name = #m, .type = FT_KVLIST, .cs = (ck), .cs_value = (cv),  \
	  .off = offsetof(S, m), .count_off = offsetof(S, n),           \
	  .max = (hi), .max_key = (k), .max_value = (v),                \
	  .max_total = (tot) }

/* Lists whose element length is named after the list bound. */
#define LIM_ARCHS		32
#define LIM_ARCHS_LEN		LIM_ARCH_NAME_MAX

#define FP_LEN		64	/* hex sha256 */
#define PROPS(S, m, n)                                                  \
	F_KV(S, m, n, LIM_META_PROPERTIES_MAX, LIM_PROP_KEY_MAX,        \
	    LIM_PROP_VALUE_MAX, CS_LINE, CS_ANY_UTF8, LIM_PROP_TOTAL_MAX)
#define PROJECT(S)	F_STR(S, project, 1, LIM_PROJECT_NAME_MAX, CS_NAME)
#define REQUESTOR(S)	F_STR(S, requestor, 0, 128, CS_LINE)
#define PEER(S)		F_U32(S, peer.listener), F_U32(S, peer.uid),   \
			F_U32(S, peer.gid),                             \
			F_STR(S, peer.cert, 0, FP_LEN, CS_HEX)
/* A certificate, DER in hex: LXD's are under 2 KiB. */
#define CERT_DER_HEX	(2 * LIM_CERT_DER_MAX)

#define S struct imsg_ready
static const struct ipc_field f_ready[] = {
	F_U32(S, ruid), F_U32(S, euid), F_U32(S, suid),
	F_U32(S, rgid), F_U32(S, egid), F_U32(S, sgid),
	F_U64(S, cap_eff), F_U64(S, cap_prm), F_U64(S, cap_bnd),
	F_BOOL(S, no_new_privs), F_U8(S, seccomp, 2), F_BOOL(S, chrooted),
	F_STR(S, notes, 0, LIM_NOTE_MAX, CS_LINE),
};
#undef S

static const struct ipc_field f_ping[] = {
	F_U64(struct imsg_ping, nonce),
};

#define S struct imsg_listen
static const struct ipc_field f_listen[] = {
	F_U32(S, id),
	F_U8(S, kind, LISTEN_HTTPS),
	F_STR(S, name, 1, 64, CS_PATH),
};
#undef S

static const struct ipc_field f_tls_identity[] = {
	F_U8(struct imsg_tls_identity, part, TLS_KEY),
};

#define S struct imsg_server_req
static const struct ipc_field f_server_req[] = {
	PEER(S),
	F_U8(S, what, SRV_METRICS),
	PROJECT(S),
};
#undef S

static const struct ipc_field f_server_auth[] = {
	F_BOOL(struct imsg_server_auth, trusted),
	F_BOOL(struct imsg_server_auth, logging),
};

#define S struct imsg_cert_req
static const struct ipc_field f_cert_req[] = {
	F_U8(S, action, CERT_ACTION_MAX),
	F_STR(S, name, 0, LIM_CERT_NAME_MAX, CS_LINE),
	F_STR(S, fingerprint, 0, FP_LEN, CS_HEX),
	F_STR(S, der, 0, CERT_DER_HEX, CS_HEX),
	F_STR(S, secret, 0, LIM_TOKEN_SECRET_MAX, CS_LINE),
	PEER(S),
};
#undef S

#define S struct imsg_cert_info
static const struct ipc_field f_cert_info[] = {
	F_STR(S, fingerprint, FP_LEN, FP_LEN, CS_HEX),
	F_STR(S, name, 0, LIM_CERT_NAME_MAX, CS_LINE),
	F_STR(S, der, 2, CERT_DER_HEX, CS_HEX),
	F_I64(S, created_at),
};
#undef S

#define S struct imsg_trust_token
static const struct ipc_field f_trust_token[] = {
	F_STR(S, name, 1, LIM_CERT_NAME_MAX, CS_LINE),
	F_STR(S, token, 0, LIM_TOKEN_MAX, CS_PATH),
	F_I64(S, expires_at),
};
#undef S

#define S struct imsg_server_info
static const struct ipc_field f_server_info[] = {
	F_STR(S, version, 1, 32, CS_TOKEN),
	F_STR(S, server_name, 1, 64, CS_LINE),
	F_STRLIST(S, architectures, narchitectures, LIM_ARCHS, CS_TOKEN),
	F_INT(S, conns_per_client, FT_U32, 1, LIM_HTTP_CONNS_MAX),
	F_INT(S, header_timeout, FT_U32, 1, 3600),
	F_INT(S, idle_timeout, FT_U32, 1, 3600),
	F_INT(S, line_max, FT_U32, 256, LIM_HTTP_LINE_MAX),
	F_INT(S, headers_max, FT_U32, 1024, LIM_HTTP_HEADERS_TOTAL),
	F_INT(S, header_fields, FT_U32, 8, LIM_HTTP_HEADER_FIELDS),
	F_INT(S, json_max, FT_U32, 1024, LIM_HTTP_JSON_MAX),
	F_INT(S, json_depth, FT_U32, 2, LIM_HTTP_JSON_DEPTH),
};
#undef S

/* A fault: its cause (at least lo), subject and facts. */
#define FAULT(S, m, lo)                                                  \
	F_INT(S, m.cause, FT_U8, lo, ERR_MAX), F_U8(S, m.subject, RES_MAX), \
	    F_U64(S, m.limit), F_U64(S, m.bytes),                          \
	    F_STR(S, m.name, 0, LIM_ALIAS_NAME_MAX, CS_LINE),              \
	    F_STR(S, m.detail, 0, LIM_ERROR_MAX, CS_LINE)

static const struct ipc_field f_err[] = {
	FAULT(struct imsg_err, fault, ERR_INVALID),
};

static const struct ipc_field f_ok[] = {
	F_U8(struct imsg_ok, kind, RES_CERTIFICATE),
	F_STR(struct imsg_ok, name, 0, LIM_ALIAS_NAME_MAX, CS_LINE),
};

#define S struct imsg_image_info
static const struct ipc_field f_image_info[] = {
	F_STR(S, fingerprint, FP_LEN, FP_LEN, CS_HEX),
	PROJECT(S),
	F_STR(S, filename, 0, LIM_FILENAME_MAX, CS_LINE),
	F_U64(S, size),
	F_BOOL(S, public), F_BOOL(S, auto_update), F_BOOL(S, cached),
	F_BOOL(S, split),
	F_STR(S, architecture, 1, LIM_ARCH_NAME_MAX, CS_TOKEN),
	F_STR(S, type, 1, 32, CS_TOKEN),
	F_I64(S, created_at), F_I64(S, expires_at), F_I64(S, uploaded_at),
	F_I64(S, last_used_at),
	PROPS(S, properties, nproperties),
	F_KV(S, aliases, naliases, LIM_ALIASES_PER_IMAGE, LIM_ALIAS_NAME_MAX,
	    LIM_ALIAS_DESC_MAX, CS_LINE, CS_LINE, 32 * KiB),
	F_STR(S, etag, 0, LIM_ETAG_MAX, CS_HEX), /* "": an item of a list */
	F_STR(S, product, 0, 4 * 64 + 3, CS_LINE),
	F_STR(S, compression0, 0, 15, CS_TOKEN),
	F_STR(S, compression1, 0, 15, CS_TOKEN),
	F_STR(S, part0_sha256, 0, FP_LEN, CS_HEX),
	F_STR(S, part1_sha256, 0, FP_LEN, CS_HEX),
	F_U64(S, part0_size), F_U64(S, part1_size),
};
#undef S

#define S struct imsg_alias_info
static const struct ipc_field f_alias_info[] = {
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, description, 0, LIM_ALIAS_DESC_MAX, CS_LINE),
	F_STR(S, target, FP_LEN, FP_LEN, CS_HEX),
	F_STR(S, type, 1, 32, CS_TOKEN),
	F_STR(S, etag, 1, LIM_ETAG_MAX, CS_HEX),
};
#undef S

static const struct ipc_field f_list_more[] = {
	F_BOOL(struct imsg_list_more, cancel),
};

#define S struct imsg_op_req
static const struct ipc_field f_op_req[] = {
	PROJECT(S),
	F_STR(S, id, 0, LIM_OP_ID_MAX, CS_TOKEN),
	F_I64(S, timeout),
	PEER(S),
};
#undef S

#define S struct imsg_project_req
static const struct ipc_field f_project_req[] = {
	F_STR(S, name, 0, LIM_PROJECT_NAME_MAX, CS_NAME),
	F_BOOL(S, used_by),
	PEER(S),
};
#undef S

#define PROJECT_CONFIG(S)                                               \
	F_KV(S, config, nconfig, LIM_PROJECT_CONFIG_MAX,                \
	    LIM_PROJECT_CONFIG_KEY_MAX, LIM_PROJECT_CONFIG_VALUE_MAX,   \
	    CS_TOKEN, CS_LINE, LIM_PROJECT_CONFIG_TOTAL)

#define S struct imsg_project_info
static const struct ipc_field f_project_info[] = {
	F_STR(S, name, 1, LIM_PROJECT_NAME_MAX, CS_NAME),
	F_STR(S, description, 0, LIM_DESCRIPTION_MAX, CS_LINE),
	PROJECT_CONFIG(S),
};
#undef S

#define S struct imsg_project_change_req
static const struct ipc_field f_project_change_req[] = {
	F_U8(S, action, PROJ_DELETE),
	F_STR(S, name, 1, LIM_PROJECT_NAME_MAX, CS_NAME),
	F_STR(S, new_name, 0, LIM_PROJECT_NAME_MAX, CS_NAME),
	F_INT(S, set, FT_U32, 0, PROJ_SET_DESCRIPTION | PROJ_SET_CONFIG),
	F_STR(S, description, 0, LIM_DESCRIPTION_MAX, CS_LINE),
	PROJECT_CONFIG(S),
	PEER(S),
};
#undef S

static const struct ipc_field f_project_used[] = {
	F_STR(struct imsg_project_used, fingerprint, FP_LEN, FP_LEN, CS_HEX),
};

#define S struct imsg_log
static const struct ipc_field f_log[] = {
	F_U8(S, level, LOGLEVEL_ERROR),
	F_STR(S, process, 1, 16, CS_TOKEN),
	F_STR(S, message, 1, LIM_LOG_LINE_MAX, CS_LINE),
};
#undef S

static const struct ipc_field f_events_close[] = {
	F_STR(struct imsg_events_close, reason, 1, 120, CS_LINE),
};

#define S struct imsg_metric
static const struct ipc_field f_metric[] = {
	F_U8(S, metric, METRIC_STORE_MAX),
	F_STR(S, label1, 0, LIM_PROJECT_NAME_MAX, CS_NAME),
	F_STR(S, label2, 0, 32, CS_TOKEN),
	F_U64(S, value),
};
#undef S

static const struct ipc_field f_list_end[] = {
	F_U32(struct imsg_list_end, count),
};

#define S struct imsg_op_update
static const struct ipc_field f_op_update[] = {
	F_STR(S, id, LIM_OP_ID_MAX, LIM_OP_ID_MAX, CS_TOKEN),
	PROJECT(S),
	F_STR(S, class, 1, 16, CS_TOKEN),
	F_STR(S, description, 1, 128, CS_LINE),
	F_INT(S, state, FT_U8, OPS_PENDING, OPS_MAX),
	F_I64(S, created_at), F_I64(S, updated_at),
	FAULT(S, fault, ERR_NONE),
	F_KV(S, metadata, nmetadata, LIM_OP_META_MAX, 32, 1024, CS_TOKEN, CS_LINE,
	    8192),
	F_STR(S, image, 0, FP_LEN, CS_HEX),
};
#undef S

#define S struct imsg_lifecycle
static const struct ipc_field f_lifecycle[] = {
	PROJECT(S),
	F_STR(S, action, 1, 64, CS_TOKEN),
	F_U8(S, kind, RES_PROJECT),
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_KV(S, context, ncontext, 8, 32, LIM_ALIAS_NAME_MAX + 64, CS_TOKEN,
	    CS_LINE, 4096),
	REQUESTOR(S),
};
#undef S

#define S struct imsg_export_part
static const struct ipc_field f_export_part[] = {
	F_U8(S, part, PART_ROOTFS),
	F_U8(S, nparts, 2),
	F_U64(S, size),
	F_STR(S, filename, 1, LIM_FILENAME_MAX, CS_TOKEN),
	F_STR(S, fingerprint, FP_LEN, FP_LEN, CS_HEX),
};
#undef S

#define S struct imsg_images_list_req
static const struct ipc_field f_images_list_req[] = {
	PROJECT(S),
	F_U8(S, mode, LISTM_STREAMS),
	PEER(S),
	F_STR(S, prop_key, 0, LIM_PROP_KEY_MAX, CS_LINE),
	F_STR(S, prop_value, 0, LIM_FILTER_VALUE, CS_TOKEN),
};
#undef S

#define S struct imsg_image_ref_req
static const struct ipc_field f_image_ref_req[] = {
	PROJECT(S),
	F_STR(S, ref, 1, FP_LEN, CS_HEX),
	F_U8(S, file, EXPORT_ROOTFS),
	F_STR(S, secret, 0, FP_LEN, CS_HEX),
	PEER(S),
};
#undef S

#define S struct imsg_image_update_req
static const struct ipc_field f_image_update_req[] = {
	PROJECT(S),
	F_STR(S, ref, 1, FP_LEN, CS_HEX),
	F_STR(S, if_match, 0, LIM_ETAG_MAX, CS_HEX),
	PEER(S),
	F_U8(S, mode, UPD_PATCH),
	F_INT(S, set, FT_U32, 0, UPD_PUBLIC | UPD_AUTO_UPDATE |
	    UPD_EXPIRES_AT | UPD_PROPERTIES),
	F_BOOL(S, public), F_BOOL(S, auto_update),
	F_I64(S, expires_at),
	PROPS(S, properties, nproperties),
};
#undef S

#define S struct imsg_alias_list_req
static const struct ipc_field f_alias_list_req[] = {
	PROJECT(S),
	PEER(S),
};
#undef S

#define S struct imsg_alias_req
static const struct ipc_field f_alias_req[] = {
	PROJECT(S),
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	PEER(S),
};
#undef S

#define S struct imsg_alias_create_req
static const struct ipc_field f_alias_create_req[] = {
	PROJECT(S),
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, description, 0, LIM_ALIAS_DESC_MAX, CS_LINE),
	F_STR(S, target, 1, FP_LEN, CS_HEX),
	F_STR(S, type, 0, 32, CS_TOKEN),
	PEER(S),
};
#undef S

#define S struct imsg_alias_update_req
static const struct ipc_field f_alias_update_req[] = {
	PROJECT(S),
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, if_match, 0, LIM_ETAG_MAX, CS_HEX),
	PEER(S),
	F_U8(S, mode, UPD_PATCH),
	F_INT(S, set, FT_U32, 0, UPD_TARGET | UPD_DESCRIPTION),
	F_STR(S, target, 0, FP_LEN, CS_HEX),
	F_STR(S, description, 0, LIM_ALIAS_DESC_MAX, CS_LINE),
};
#undef S

#define S struct imsg_alias_rename_req
static const struct ipc_field f_alias_rename_req[] = {
	PROJECT(S),
	F_STR(S, name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, new_name, 1, LIM_ALIAS_NAME_MAX, CS_LINE),
	PEER(S),
};
#undef S

#define S struct imsg_upload_begin
static const struct ipc_field f_upload_begin[] = {
	PROJECT(S),
	F_STR(S, filename, 0, LIM_FILENAME_MAX, CS_LINE),
	F_STR(S, fingerprint, 0, FP_LEN, CS_HEX),
	PEER(S),
	F_BOOL(S, public),
	F_U8(S, layout, IMG_SPLIT),
	F_U64(S, length),
	PROPS(S, properties, nproperties),
	F_KV(S, aliases, naliases, LIM_ALIASES_PER_IMAGE, LIM_ALIAS_NAME_MAX,
	    LIM_ALIAS_DESC_MAX, CS_LINE, CS_LINE, 16 * KiB),
	F_STR(S, sig0, 0, SIG_WIRE_HEX, CS_HEX),
	F_STR(S, sig0_comment, 0, 1024, CS_ANY_UTF8),
	F_STR(S, sig1, 0, SIG_WIRE_HEX, CS_HEX),
	F_STR(S, sig1_comment, 0, 1024, CS_ANY_UTF8),
};
#undef S

#define S struct imsg_upload_part
static const struct ipc_field f_upload_part[] = {
	F_INT(S, part, FT_U8, PART_ROOTFS, PART_ROOTFS),
	F_STR(S, filename, 0, LIM_FILENAME_MAX, CS_LINE),
};
#undef S

#define S struct imsg_upload_end
static const struct ipc_field f_upload_end[] = {
	F_U8(S, status, UPLOAD_ABORTED),
	F_U64(S, bytes),
	F_U64(S, part0_bytes),
	F_STR(S, reason, 0, LIM_ERROR_MAX, CS_LINE),
};
#undef S

#define S struct imsg_upload_refused
static const struct ipc_field f_upload_refused[] = {
	PROJECT(S),
	PEER(S),
	F_STR(S, reason, 1, LIM_ERROR_MAX, CS_LINE),
};
#undef S

#define S struct imsg_unpack_input
static const struct ipc_field f_unpack_input[] = {
	F_U8(S, part, PART_ROOTFS),
	F_INT(S, nparts, FT_U8, 1, 2),
	F_U64(S, size),
	F_BOOL(S, follow),
};
#undef S

#define S struct imsg_unpack_grown
static const struct ipc_field f_unpack_grown[] = {
	F_U8(S, part, 1),
	F_U64(S, avail),
	F_BOOL(S, final),
};
#undef S

#define S struct imsg_unpack_meta
static const struct ipc_field f_unpack_meta[] = {
	F_STR(S, architecture, 1, LIM_ARCH_NAME_MAX, CS_TOKEN),
	F_I64(S, creation_date),
	F_I64(S, expiry_date),
	PROPS(S, properties, nproperties),
	F_INT(S, ntemplates, FT_U32, 0, LIM_META_TEMPLATES_MAX),
};
#undef S

#define S struct imsg_unpack_template
static const struct ipc_field f_unpack_template[] = {
	F_STR(S, path, 1, LIM_TEMPLATE_PATH_MAX, CS_PATH),
	F_STR(S, template, 1, LIM_TEMPLATE_NAME_MAX, CS_PATH),
	F_U8(S, when, 15),
	F_BOOL(S, create_only),
	PROPS(S, properties, nproperties),
};
#undef S

#define S struct imsg_unpack_done
static const struct ipc_field f_unpack_done[] = {
	F_STR(S, compression0, 1, 15, CS_TOKEN),
	F_STR(S, compression1, 0, 15, CS_TOKEN),
	F_U64(S, entries),
	F_U64(S, unpacked_bytes),
	F_U64(S, devices),
};
#undef S

#define CONFIG(S)                                                       \
	F_KV(S, config, nconfig, LIM_UNPACK_CONFIG_MAX, LIM_PROP_KEY_MAX, \
	    LIM_UNPACK_CONFIG_VALUE_MAX, CS_LINE, CS_ANY_UTF8,          \
	    LIM_UNPACK_CONFIG_TOTAL)
#define S struct imsg_unpack_extract
static const struct ipc_field f_unpack_extract[] = {
	F_U8(S, trigger, 8),
	F_U8(S, flags, 3),
	F_BOOL(S, privileged),
	F_STR(S, name, 1, LIM_UNPACK_TARGET_MAX, CS_NAME),
	F_U32(S, root_uid), F_U32(S, root_gid),
	CONFIG(S),
};
#undef S

#define S struct imsg_unpack_written
static const struct ipc_field f_unpack_written[] = {
	F_U64(S, files), F_U64(S, dirs), F_U64(S, symlinks),
	F_U64(S, hardlinks), F_U64(S, devices), F_U64(S, bytes),
	F_U64(S, xattrs), F_U64(S, xattrs_skipped), F_U64(S, rendered),
	F_U64(S, skipped),
};
#undef S

#define S struct imsg_image_unpack_req
static const struct ipc_field f_image_unpack_req[] = {
	PROJECT(S),
	F_STR(S, ref, 1, FP_LEN, CS_HEX),
	F_STR(S, target, 1, LIM_UNPACK_TARGET_MAX, CS_LINE),
	F_STR(S, name, 0, LIM_UNPACK_TARGET_MAX, CS_NAME),
	F_U8(S, trigger, 8),
	F_BOOL(S, privileged),
	F_BOOL(S, xattrs),
	F_U32(S, shift_uid), F_U32(S, shift_gid), F_U32(S, shift_range),
	CONFIG(S),
	PEER(S),
};
#undef S

#define S struct imsg_unpack_pack
static const struct ipc_field f_unpack_pack[] = {
	F_U8(S, comp, 4),
	F_BOOL(S, split),
	F_BOOL(S, dir_is_rootfs),
	F_BOOL(S, xattrs),
	F_STR(S, meta_yaml, 0, 16384, CS_ANY_UTF8),
	F_I64(S, meta_mtime),
};
#undef S

static const struct ipc_field f_unpack_output[] = {
	F_U8(struct imsg_unpack_output, part, 1),
};

#define S struct imsg_unpack_packed
static const struct ipc_field f_unpack_packed[] = {
	F_U64(S, entries), F_U64(S, bytes),
};
#undef S

#define S struct imsg_publish_req
static const struct ipc_field f_publish_req[] = {
	PROJECT(S),
	F_STR(S, path, 1, 4095, CS_PATH),
	F_U8(S, comp, 4),
	F_BOOL(S, split),
	F_BOOL(S, public),
	F_BOOL(S, xattrs),
	F_STR(S, architecture, 0, LIM_ARCH_NAME_MAX, CS_TOKEN),
	F_STR(S, os, 0, 64, CS_LINE),
	F_STR(S, release, 0, 64, CS_LINE),
	F_KV(S, aliases, naliases, LIM_ALIASES_PER_IMAGE, LIM_ALIAS_NAME_MAX,
	    LIM_ALIAS_DESC_MAX, CS_LINE, CS_LINE, 16384),
	PROPS(S, properties, nproperties),
	PEER(S),
};
#undef S

static const struct ipc_field f_unpack_fail[] = {
	F_STR(struct imsg_unpack_fail, message, 1, LIM_ERROR_MAX, CS_LINE),
	F_BOOL(struct imsg_unpack_fail, nospace),
};

#define S struct imsg_image_copy_req
static const struct ipc_field f_image_copy_req[] = {
	PROJECT(S),
	PEER(S),
	F_U8(S, protocol, SRC_MAX),
	F_STR(S, server, 1, LIM_URL_MAX, CS_PATH),
	F_STR(S, name, 0, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, secret, 0, LIM_SECRET_MAX, CS_LINE),
	F_STR(S, certificate, 0, LIM_CERT_PEM_MAX, CS_ANY_UTF8),
	F_BOOL(S, public),
	F_BOOL(S, auto_update),
	F_BOOL(S, copy_aliases),
	F_BOOL(S, cached),
	F_KV(S, aliases, naliases, LIM_ALIASES_PER_IMAGE, LIM_ALIAS_NAME_MAX,
	    LIM_ALIAS_DESC_MAX, CS_LINE, CS_LINE, 16 * KiB),
	PROPS(S, properties, nproperties),
};
#undef S

#define S struct imsg_fetch_req
static const struct ipc_field f_fetch_req[] = {
	F_U8(S, protocol, SRC_MAX),
	F_STR(S, server, 1, LIM_URL_MAX, CS_PATH),
	F_STR(S, name, 0, LIM_ALIAS_NAME_MAX, CS_LINE),
	F_STR(S, secret, 0, LIM_SECRET_MAX, CS_LINE),
	F_STR(S, certificate, 0, LIM_CERT_PEM_MAX, CS_ANY_UTF8),
	F_STR(S, allow_http, 0, 512, CS_LINE),
	F_STR(S, allow_private, 0, 512, CS_LINE),
	F_U64(S, part_max),
	F_INT(S, low_speed_time, FT_U32, 1, 3600),
	F_INT(S, connect_timeout, FT_U32, 1, 3600),
	F_STR(S, nameservers, 0, LIM_NAMESERVERS_MAX, CS_LINE),
	F_STRLIST(S, architectures, narchitectures, LIM_ARCHS, CS_TOKEN),
	F_STR(S, version, 1, 32, CS_TOKEN),
	F_STR(S, proxy, 0, LIM_URL_MAX, CS_PATH),
	F_STR(S, noproxy, 0, LIM_URL_MAX, CS_LINE),
	F_STR(S, pubkey, 0, 512, CS_ANY_UTF8),
};
#undef S

#define S struct imsg_fetch_info
static const struct ipc_field f_fetch_info[] = {
	F_STR(S, fingerprint, FP_LEN, FP_LEN, CS_HEX),
	F_STR(S, filename, 0, LIM_FILENAME_MAX, CS_LINE),
	F_U8(S, split, 2),
	F_U64(S, size0),
	F_U64(S, size1),
	F_STR(S, sha0, 0, FP_LEN, CS_HEX),
	F_STR(S, sha1, 0, FP_LEN, CS_HEX),
	F_BOOL(S, public),
	PROPS(S, properties, nproperties),
	F_STRLIST(S, aliases, naliases, LIM_FETCH_ALIASES, CS_LINE),
	F_STR(S, url, 1, LIM_URL_MAX, CS_PATH),
	F_I64(S, signed_at),
};
#undef S

static const struct ipc_field f_fetch_go[] = {
	F_U8(struct imsg_fetch_go, part, 1),
};

#define S struct imsg_fetch_progress
static const struct ipc_field f_fetch_progress[] = {
	F_U8(S, part, 1),
	F_U64(S, bytes),
	F_U64(S, total),
	F_U64(S, rate),
};
#undef S

#define S struct imsg_fetch_done
static const struct ipc_field f_fetch_done[] = {
	F_STR(S, sha0, FP_LEN, FP_LEN, CS_HEX),
	F_STR(S, sha1, 0, FP_LEN, CS_HEX),
	F_U64(S, size0),
	F_U64(S, size1),
};
#undef S

#define S struct imsg_fetch_fail
static const struct ipc_field f_fetch_fail[] = {
	F_U8(S, kind, FETCH_E_MAX),
	F_STR(S, message, 1, LIM_ERROR_MAX, CS_LINE),
};
#undef S

/* A row: type, sender -> receiver, the channel states it may come in
 * and the state it moves to (0: none), fd policy, payload. */
#define ROWQ(t, snd, rcv, sts, mv, rqs, fdp, st, f)                     \
	[t] = { .type = (t), .name = #t, .senders = (snd),              \
		.receivers = (rcv), .states = (sts), .moves_to = (mv),  \
		.rq = (rqs), .fd = (fdp), .structsz = sizeof(st),       \
		.fields = (f), .nfields = sizeof(f) / sizeof((f)[0]) }
#define ROW(t, snd, rcv, sts, mv, fdp, st, f)                           \
	ROWQ(t, snd, rcv, sts, mv, RQ_NONE, fdp, st, f)
#define FE	PROC_FRONTEND
#define ST	PROC_STORE
#define R	CH_READY
#define FT	PROC_FETCHER

static struct ipc_msgdef ipc_table[IMSG_TYPE_COUNT] = {
	ROW(IMSG_READY, PROC_CHILDREN, PROC_STORE, CH_NEW, CH_READY, FD_NONE,
	    struct imsg_ready, f_ready),
	ROW(IMSG_PING, ST, PROC_CHILDREN, CH_ANY, 0, FD_NONE, struct imsg_ping,
	    f_ping),
	ROW(IMSG_PONG, PROC_CHILDREN, PROC_STORE, CH_ANY, 0, FD_NONE,
	    struct imsg_ping, f_ping),
	ROW(IMSG_LISTEN, ST, FE, R, 0, FD_SOCKET, struct imsg_listen, f_listen),
	ROW(IMSG_SERVER_INFO, ST, FE, R, 0, FD_NONE, struct imsg_server_info,
	    f_server_info),
	ROW(IMSG_ERR, ST, FE, R, 0, FD_NONE, struct imsg_err, f_err),
	ROW(IMSG_OK, ST, FE, R, 0, FD_NONE, struct imsg_ok, f_ok),
	ROW(IMSG_IMAGE_INFO, ST, FE, R, 0, FD_NONE, struct imsg_image_info,
	    f_image_info),
	ROW(IMSG_ALIAS_INFO, ST, FE, R, 0, FD_NONE, struct imsg_alias_info,
	    f_alias_info),
	ROW(IMSG_LIST_END, ST, FE, R, 0, FD_NONE, struct imsg_list_end,
	    f_list_end),
	ROW(IMSG_METRIC, ST, FE, R, 0, FD_NONE, struct imsg_metric, f_metric),
	ROW(IMSG_EVENTS_CLOSE, ST, FE, R, 0, FD_NONE, struct imsg_events_close,
	    f_events_close),
	ROW(IMSG_OP_UPDATE, ST, FE, R, 0, FD_NONE, struct imsg_op_update,
	    f_op_update),
	ROW(IMSG_LIFECYCLE, ST, FE, R, 0, FD_NONE, struct imsg_lifecycle,
	    f_lifecycle),
	ROW(IMSG_EXPORT_PART, ST, FE, R, 0, FD_FILE_RD, struct imsg_export_part,
	    f_export_part),
	ROW(IMSG_PROJECT_INFO, ST, FE, R, 0, FD_NONE, struct imsg_project_info,
	    f_project_info),
	ROW(IMSG_PROJECT_USED, ST, FE, R, 0, FD_NONE, struct imsg_project_used,
	    f_project_used),
	ROW(IMSG_LOG, ST, FE, R, 0, FD_NONE, struct imsg_log, f_log),
	ROW(IMSG_TLS_IDENTITY, ST, FE, R, 0, FD_FILE_RD,
	    struct imsg_tls_identity, f_tls_identity),
	ROW(IMSG_SERVER_AUTH, ST, FE, R, 0, FD_NONE, struct imsg_server_auth,
	    f_server_auth),
	ROW(IMSG_CERT_INFO, ST, FE, R, 0, FD_NONE, struct imsg_cert_info,
	    f_cert_info),
	ROW(IMSG_TRUST_TOKEN, ST, FE, R, 0, FD_NONE, struct imsg_trust_token,
	    f_trust_token),
	ROW(IMSG_IMAGES_LIST_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_images_list_req, f_images_list_req),
	ROW(IMSG_IMAGE_GET_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_ref_req, f_image_ref_req),
	ROW(IMSG_IMAGE_UPDATE_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_update_req, f_image_update_req),
	ROW(IMSG_IMAGE_DELETE_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_ref_req, f_image_ref_req),
	ROW(IMSG_IMAGE_EXPORT_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_ref_req, f_image_ref_req),
	ROW(IMSG_ALIAS_LIST_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_alias_list_req, f_alias_list_req),
	ROW(IMSG_ALIAS_GET_REQ, FE, ST, R, 0, FD_NONE, struct imsg_alias_req,
	    f_alias_req),
	ROW(IMSG_ALIAS_CREATE_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_alias_create_req, f_alias_create_req),
	ROW(IMSG_ALIAS_UPDATE_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_alias_update_req, f_alias_update_req),
	ROW(IMSG_ALIAS_RENAME_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_alias_rename_req, f_alias_rename_req),
	ROW(IMSG_ALIAS_DELETE_REQ, FE, ST, R, 0, FD_NONE, struct imsg_alias_req,
	    f_alias_req),
	ROWQ(IMSG_UPLOAD_BEGIN, FE, ST, R, 0, RQ_OPEN, FD_PIPE_RD,
	    struct imsg_upload_begin, f_upload_begin),
	ROWQ(IMSG_UPLOAD_PART, FE, ST, R, 0, RQ_ONCE, FD_PIPE_RD,
	    struct imsg_upload_part, f_upload_part),
	ROWQ(IMSG_UPLOAD_END, FE, ST, R, 0, RQ_CLOSE, FD_NONE,
	    struct imsg_upload_end, f_upload_end),
	ROW(IMSG_UPLOAD_REFUSED, FE, ST, R, 0, FD_NONE,
	    struct imsg_upload_refused, f_upload_refused),
	ROW(IMSG_PROJECT_REQ, FE, ST, R, 0, FD_NONE, struct imsg_project_req,
	    f_project_req),
	ROW(IMSG_OP_GET_REQ, FE, ST, R, 0, FD_NONE, struct imsg_op_req,
	    f_op_req),
	ROW(IMSG_OP_LIST_REQ, FE, ST, R, 0, FD_NONE, struct imsg_op_req,
	    f_op_req),
	ROW(IMSG_OP_WAIT_REQ, FE, ST, R, 0, FD_NONE, struct imsg_op_req,
	    f_op_req),
	ROW(IMSG_LIST_MORE, FE, ST, R, 0, FD_NONE, struct imsg_list_more,
	    f_list_more),
	ROW(IMSG_SERVER_REQ, FE, ST, R, 0, FD_NONE, struct imsg_server_req,
	    f_server_req),
	ROW(IMSG_CERT_REQ, FE, ST, R, 0, FD_NONE, struct imsg_cert_req,
	    f_cert_req),
	ROW(IMSG_IMAGE_SECRET_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_ref_req, f_image_ref_req),
	ROW(IMSG_UNPACK_INPUT, ST, PROC_UNPACKER, R, 0, FD_FILE_RD,
	    struct imsg_unpack_input, f_unpack_input),
	ROW(IMSG_UNPACK_GROWN, ST, PROC_UNPACKER, R, 0, FD_NONE,
	    struct imsg_unpack_grown, f_unpack_grown),
	ROW(IMSG_UNPACK_EXTRACT, ST, PROC_UNPACKER, R, 0, FD_NONE,
	    struct imsg_unpack_extract, f_unpack_extract),
	ROW(IMSG_UNPACK_WRITTEN, PROC_UNPACKER, ST, CH_META, 0, FD_NONE,
	    struct imsg_unpack_written, f_unpack_written),
	ROW(IMSG_UNPACK_PACK, ST, PROC_UNPACKER, R, 0, FD_NONE,
	    struct imsg_unpack_pack, f_unpack_pack),
	ROW(IMSG_UNPACK_OUTPUT, ST, PROC_UNPACKER, R, 0, FD_PIPE_WR,
	    struct imsg_unpack_output, f_unpack_output),
	ROW(IMSG_UNPACK_PACKED, PROC_UNPACKER, ST, R, CH_FINAL, FD_NONE,
	    struct imsg_unpack_packed, f_unpack_packed),
	ROW(IMSG_UNPACK_META, PROC_UNPACKER, ST, R, CH_META, FD_NONE,
	    struct imsg_unpack_meta, f_unpack_meta),
	ROW(IMSG_UNPACK_TEMPLATE, PROC_UNPACKER, ST, CH_META, 0, FD_NONE,
	    struct imsg_unpack_template, f_unpack_template),
	ROW(IMSG_UNPACK_DONE, PROC_UNPACKER, PROC_STORE, CH_META, CH_FINAL,
	    FD_NONE, struct imsg_unpack_done, f_unpack_done),
	ROW(IMSG_UNPACK_FAIL, PROC_UNPACKER, PROC_STORE, R | CH_META, CH_FINAL,
	    FD_NONE, struct imsg_unpack_fail, f_unpack_fail),
	ROW(IMSG_IMAGE_COPY_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_copy_req, f_image_copy_req),
	ROW(IMSG_FETCH_REQ, ST, FT, R, 0, FD_FILE_RD, struct imsg_fetch_req,
	    f_fetch_req),
	ROW(IMSG_FETCH_INFO, FT, ST, R, CH_META, FD_NONE,
	    struct imsg_fetch_info, f_fetch_info),
	ROW(IMSG_FETCH_GO, ST, FT, CH_META, 0, FD_PIPE_WR,
	    struct imsg_fetch_go, f_fetch_go),
	ROW(IMSG_FETCH_PROGRESS, FT, ST, CH_META, 0, FD_NONE,
	    struct imsg_fetch_progress, f_fetch_progress),
	ROW(IMSG_FETCH_DONE, FT, ST, CH_META, CH_FINAL, FD_NONE,
	    struct imsg_fetch_done, f_fetch_done),
	ROW(IMSG_FETCH_FAIL, FT, ST, R | CH_META, CH_FINAL, FD_NONE,
	    struct imsg_fetch_fail, f_fetch_fail),
	ROW(IMSG_IMAGE_REFRESH_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_ref_req, f_image_ref_req),
	ROW(IMSG_IMAGE_UNPACK_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_image_unpack_req, f_image_unpack_req),
	ROW(IMSG_PUBLISH_REQ, FE, ST, R, 0, FD_NONE, struct imsg_publish_req,
	    f_publish_req),
	ROW(IMSG_PROJECT_CHANGE_REQ, FE, ST, R, 0, FD_NONE,
	    struct imsg_project_change_req, f_project_change_req),
};

#undef FE
#undef ST
#undef R
#undef FT
/* clang-format on */

/* Wire size of a field at its smallest and largest. */
static void
field_bounds(const struct ipc_field *f, uint64_t *lo, uint64_t *hi)
{
	switch (f->type) {
	case FT_U8:
	case FT_BOOL:
		*lo = *hi = 1;
		break;
	case FT_U16:
		*lo = *hi = 2;
		break;
	case FT_U32:
		*lo = *hi = 4;
		break;
	case FT_U64:
	case FT_I64:
		*lo = *hi = 8;
		break;
	case FT_STR:
		*lo = 2 + (uint64_t)f->min;
		*hi = 2 + (uint64_t)f->max;
		break;
	case FT_STRLIST:
		*lo = 2;
		*hi = 2 + (uint64_t)f->max * (2 + f->max_value);
		break;
	case FT_KVLIST:
		*lo = 2;
		*hi = 2 + (uint64_t)f->max * 4 + f->max_total;
		break;
	default:
		*lo = *hi = 0;
	}
}

static void
ipc_table_init(void)
{
	static int done;
	uint64_t lo, hi, flo, fhi;

	if (done)
		return;
	for (size_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		struct ipc_msgdef *d = &ipc_table[t];

		lo = hi = 0;
		for (size_t i = 0; i < d->nfields; i++) {
			field_bounds(&d->fields[i], &flo, &fhi);
			lo += flo;
			hi += fhi;
		}
		d->minlen = (uint32_t)lo;
		d->maxlen =
		    hi > IPC_PAYLOAD_MAX ? IPC_PAYLOAD_MAX : (uint32_t)hi;
	}
	done = 1;
}

const struct ipc_msgdef *
ipc_msgdef(uint16_t type)
{
	ipc_table_init();
	if (type == IMSG_NONE || type >= IMSG_TYPE_COUNT ||
	    ipc_table[type].name == NULL)
		return NULL;
	return &ipc_table[type];
}

const char *
ipc_typename(uint16_t type)
{
	const struct ipc_msgdef *d = ipc_msgdef(type);

	return d ? d->name + 5 : "unknown"; /* skip "IMSG_" */
}

const char *
ipc_procname(int kind)
{
	switch (kind) {
	case PROC_STORE:
		return "store";
	case PROC_FRONTEND:
		return "frontend";
	case PROC_FETCHER:
		return "fetcher";
	case PROC_UNPACKER:
		return "unpacker";
	default:
		return "unknown";
	}
}
