/*
 * POST /1.0/images/<fingerprint>/unpack (imgd's own call; LXD has none):
 * the image's rootfs into a new directory under the store's unpack root,
 * its templates rendered. The body:
 *	{"target": "c1", "name": "c1", "trigger": "create",
 *	 "config": {"user.meta-data": "..."}, "privileged": false,
 *	 "xattrs": false, "shift": "100000:100000:65536"}
 * The frontend checks only that the request can cross the channel; the
 * store decides. The answer is an operation.
 */
#include <stdio.h>
#include <string.h>

#include "frontend/fe.h"
#include "ipc/codec.h"
#include "unpacker/validate.h"

static int
unpack_config(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n)
{
	json_t *p = json_object_get(o, "config"), *v;
	const char *k;
	size_t total = 0;

	*n = 0;
	if (p == NULL || json_is_null(p))
		return 0;
	if (!json_is_object(p)) {
		conn_error(c, 400,
		    "Invalid value for \"config\": expected an object of "
		    "strings");
		return -1;
	}
	json_object_foreach (p, k, v) {
		if (!json_is_string(v) || *n == LIM_UNPACK_CONFIG_MAX ||
		    strlen(k) == 0 || strlen(k) > LIM_PROP_KEY_MAX ||
		    !ipc_str_valid(k, strlen(k), CS_LINE) ||
		    json_string_length(v) > LIM_UNPACK_CONFIG_VALUE_MAX ||
		    !ipc_str_valid(json_string_value(v), json_string_length(v),
			CS_ANY_UTF8) ||
		    (total += strlen(k) + json_string_length(v)) >
			LIM_UNPACK_CONFIG_TOTAL) {
			conn_error(c, 400,
			    "Invalid config \"%s\": at most %d keys of 1-%d "
			    "characters with string values up to %llu bytes "
			    "(%llu in all)",
			    k, LIM_UNPACK_CONFIG_MAX, LIM_PROP_KEY_MAX,
			    (unsigned long long)LIM_UNPACK_CONFIG_VALUE_MAX,
			    (unsigned long long)LIM_UNPACK_CONFIG_TOTAL);
			return -1;
		}
		kv[*n].key = (char *)k;
		kv[(*n)++].value = (char *)json_string_value(v);
	}
	return 0;
}

static int
unpack_trigger(struct conn *c, const char *t, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} tr[] = {{"create", TPL_WHEN_CREATE}, {"copy", TPL_WHEN_COPY},
	    {"start", TPL_WHEN_START}, {"rename", TPL_WHEN_RENAME}};

	*out = TPL_WHEN_CREATE;
	if (t == NULL || !t[0])
		return 0;
	for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++)
		if (strcmp(t, tr[i].name) == 0) {
			*out = tr[i].bit;
			return 0;
		}
	conn_error(
	    c, 400, "Invalid trigger \"%s\": create, copy, start or rename", t);
	return -1;
}

static int
unpack_shift(struct conn *c, const char *s, struct imsg_image_unpack_req *r)
{
	unsigned long long u, g, n;
	char end;

	if (s == NULL || !s[0])
		return 0;
	if (sscanf(s, "%llu:%llu:%llu%c", &u, &g, &n, &end) != 3 ||
	    u > UINT32_MAX || g > UINT32_MAX || n == 0 || n > UINT32_MAX) {
		conn_error(
		    c, 400, "Invalid shift \"%s\": HOSTUID:HOSTGID:RANGE", s);
		return -1;
	}
	r->shift_uid = (uint32_t)u;
	r->shift_gid = (uint32_t)g;
	r->shift_range = (uint32_t)n;
	return 0;
}

void
image_unpack(struct conn *c, const char *ref, const char *body, size_t len)
{
	struct imsg_image_unpack_req r = {
	    .project = c->project, .ref = (char *)ref, .peer = c->peer};
	struct ipc_kv config[LIM_UNPACK_CONFIG_MAX];
	const char *target = NULL, *name = NULL, *trig = NULL, *shift = NULL;
	json_t *o;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (get_str(c, o, "target", LIM_UNPACK_TARGET_MAX, CS_LINE, &target) ==
		-1 ||
	    get_str(c, o, "name", LIM_UNPACK_TARGET_MAX, CS_NAME, &name) ==
		-1 ||
	    get_str(c, o, "trigger", 16, CS_TOKEN, &trig) == -1 ||
	    get_str(c, o, "shift", 64, CS_LINE, &shift) == -1)
		goto out;
	if (target == NULL || !target[0]) {
		conn_error(c, 400, "An unpack needs a \"target\"");
		goto out;
	}
	r.target = (char *)target;
	r.name = (char *)(name ? name : "");
	if (unpack_trigger(c, trig, &r.trigger) == -1 ||
	    unpack_shift(c, shift, &r) == -1 ||
	    get_bool_member(c, o, "privileged", &r.privileged) == -1 ||
	    get_bool_member(c, o, "xattrs", &r.xattrs) == -1 ||
	    unpack_config(c, o, config, &r.nconfig) == -1)
		goto out;
	r.config = config;
	c->status_ok = 202;
	send_req(c, IMSG_IMAGE_UNPACK_REQ, &r, WANT_OP);
out:
	json_decref(o);
}

/*
 * POST /1.0/images {"source": {"type": "directory", "path": "/dir",
 * "architecture": ..., "os": ..., "release": ...}, "aliases": [...],
 * "public": b, "properties": {...}, "compression_algorithm": "xz",
 * "split": b, "xattrs": b}: imgd's publish, in the shape of LXD's (whose
 * source is an instance).
 */
void
image_publish(struct conn *c, json_t *o, json_t *src)
{
	static const char *const comps[] = {
	    "none", "gzip", "bzip2", "xz", "zstd"};
	struct imsg_publish_req r = {.project = c->project,
	    .peer = c->peer,
	    .architecture = "",
	    .os = "",
	    .release = "",
	    .comp = 1}; /* gzip, LXD's default for publish */
	struct ipc_kv aliases[LIM_ALIASES_PER_IMAGE];
	struct ipc_kv props[LIM_META_PROPERTIES_MAX];
	const char *path = NULL, *arch = NULL, *os = NULL, *rel = NULL;
	const char *comp = NULL;
	size_t i;

	if (get_str(c, src, "path", 4095, CS_PATH, &path) == -1 ||
	    get_str(c, src, "architecture", LIM_ARCH_NAME_MAX, CS_TOKEN,
		&arch) == -1 ||
	    get_str(c, src, "os", 64, CS_LINE, &os) == -1 ||
	    get_str(c, src, "release", 64, CS_LINE, &rel) == -1 ||
	    get_str(c, o, "compression_algorithm", 16, CS_TOKEN, &comp) == -1)
		return;
	if (path == NULL || path[0] != '/') {
		conn_error(c, 400,
		    "A source of type directory needs an absolute \"path\"");
		return;
	}
	r.path = (char *)path;
	if (arch)
		r.architecture = (char *)arch;
	if (os)
		r.os = (char *)os;
	if (rel)
		r.release = (char *)rel;
	for (i = 0; comp && i < sizeof(comps) / sizeof(comps[0]); i++)
		if (strcmp(comp, comps[i]) == 0)
			break;
	if (comp && i == sizeof(comps) / sizeof(comps[0])) {
		conn_error(c, 400,
		    "Invalid compression_algorithm \"%s\": none, gzip, bzip2, "
		    "xz or zstd",
		    comp);
		return;
	}
	if (comp)
		r.comp = (uint8_t)i;
	if (get_bool_member(c, o, "public", &r.public) == -1 ||
	    get_bool_member(c, o, "split", &r.split) == -1 ||
	    get_bool_member(c, o, "xattrs", &r.xattrs) == -1 ||
	    copy_aliases(c, o, aliases, &r.naliases) == -1 ||
	    get_props_member(c, o, props, &r.nproperties) == -1)
		return;
	r.aliases = aliases;
	r.properties = props;
	c->status_ok = 202;
	send_req(c, IMSG_PUBLISH_REQ, &r, WANT_OP);
}
