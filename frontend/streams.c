/*
 * Simplestreams, generated from the public images as the store lists them
 * (by product, then fingerprint), written out page by page:
 *
 *	GET /streams/v1/index.json	the index: one stream of products
 *	GET /streams/v1/images.json	products -> versions -> items
 *	GET /images/<fp>/<file>		an item: "unified*", "meta*", "rootfs*"
 *
 * A product is "os:release:arch:variant" (the store computes it from the
 * image's properties); a version is named after the image's "serial"
 * property when it starts with a date (as the public servers' do), else
 * its creation time, "YYYYMMDD_HH:MM". A unified image is an item of
 * ftype lxd_combined.tar.gz (and incus_combined.tar.gz); a split one a
 * lxd.tar.xz (and incus.tar.xz) metadata item carrying the combined hash,
 * and a root.tar.xz or squashfs item. The ftypes are the names clients
 * look for, whatever the compression; the paths say the real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/fe.h"
#include "policy/arch.h"
#include "policy/names.h"
#include "ipc/log.h"

/* What is open of images.json while it streams. */
struct ss {
	char product[4 * 64 + 4];
	int nproducts;
	json_t *info;	  /* the open product's fields */
	json_t *aliases;  /* its alias names */
	json_t *versions; /* its version names so far (a set) */
};

void
streams_free(struct conn *c)
{
	if (c->ss == NULL)
		return;
	json_decref(c->ss->info);
	json_decref(c->ss->aliases);
	json_decref(c->ss->versions);
	free(c->ss);
	c->ss = NULL;
}

static void
updated(char out[64])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/*
 * Direct URL (LXD's "direct" protocol): HEAD or GET /direct/<alias>
 * answers LXD-Image-URL (the image's file, on this server) and
 * LXD-Image-Hash for a public unified image, when the architectures the
 * client sends in LXD-Server-Architectures include the image's.
 */
static void
direct_route(struct conn *c, const char *alias)
{
	struct imsg_alias_req r = {.project = c->project, .peer = c->peer};
	const char *host = http_head_get(&c->head, "Host");

	if (strcmp(c->method, "HEAD") != 0 && strcmp(c->method, "GET") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	if (host == NULL || !*host || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-:[]") != strlen(host)) {
		conn_error(c, 400, "A direct URL needs a valid Host header");
		return;
	}
	if (!alias_name_ok(alias)) {
		conn_error(c, 404, "Image alias not found");
		return;
	}
	r.name = (char *)alias;
	send_req(c, IMSG_ALIAS_GET_REQ, &r, WANT_DIRECT_ALIAS);
}

static int
arch_listed(const char *list, const char *arch)
{
	char buf[512], *save = NULL, *t;

	if (list == NULL || !*list)
		return 1; /* a client that does not say takes any */
	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (strcmp(t, arch) == 0 ||
		    strcmp(arch_canonical(t) ? arch_canonical(t) : "", arch) ==
			0)
			return 1;
	return 0;
}

static void
direct_reply(struct conn *c, struct ipc_msg *m)
{
	char hdr[1024];

	if (m->type == IMSG_ALIAS_INFO) {
		struct imsg_image_ref_req r = {.project = c->project,
		    .ref = m->m.alias_info.target,
		    .secret = "",
		    .peer = c->peer};

		send_req(c, IMSG_IMAGE_GET_REQ, &r, WANT_DIRECT_IMAGE);
		return;
	}
	const struct imsg_image_info *i = &m->m.image_info;

	if (i->split) {
		conn_error(c, 404,
		    "A direct URL serves unified images only; "
		    "use the LXD or simplestreams protocol for "
		    "this split image");
		return;
	}
	if (!arch_listed(http_head_get(&c->head, "LXD-Server-Architectures"),
		i->architecture)) {
		conn_error(c, 404,
		    "No image for these architectures (the image "
		    "is %s)",
		    i->architecture);
		return;
	}
	snprintf(hdr, sizeof(hdr),
	    "LXD-Image-URL: https://%s/images/%s/unified%s\r\n"
	    "LXD-Image-Hash: %s\r\n",
	    http_head_get(&c->head, "Host"), i->fingerprint,
	    tar_ext(i->compression0), i->fingerprint);
	conn_respond_raw(c, 200, hdr, "", 0);
}

/* GET /streams/v1/... and /images/<fp>/<file>; 0 when p is neither. */
int
streams_route(struct conn *c)
{
	struct imsg_images_list_req r = {
	    .project = c->project, .mode = LISTM_STREAMS, .peer = c->peer};
	const char *p = c->path;
	int index = strcmp(p, "/streams/v1/index.json") == 0;

	if (strncmp(p, "/direct/", 8) == 0) {
		direct_route(c, p + 8);
		return 1;
	}
	if (!index && strcmp(p, "/streams/v1/images.json") != 0) {
		if (strncmp(p, "/images/", 8) != 0)
			return 0;
		struct imsg_image_ref_req e = {
		    .project = c->project, .secret = "", .peer = c->peer};
		char ref[65], hex[65];
		const char *file = p + 8 + 64;

		snprintf(hex, sizeof(hex), "%.64s", p + 8);
		if (strlen(p) < 8 + 64 + 2 || *file != '/' ||
		    image_ref(hex, ref) == -1 || strlen(ref) != 64) {
			conn_error(c, 404, "not found");
			return 1;
		}
		file++;
		if (strncmp(file, "unified", 7) == 0 ||
		    strncmp(file, "meta", 4) == 0)
			e.file = EXPORT_FIRST;
		else if (strncmp(file, "rootfs", 6) == 0)
			e.file = EXPORT_ROOTFS;
		else {
			conn_error(c, 404, "not found");
			return 1;
		}
		if (strcmp(c->method, "GET") != 0) {
			conn_error(c, 405, "Method not allowed");
			return 1;
		}
		e.ref = ref;
		export_prepare(c);
		send_req(c, IMSG_IMAGE_EXPORT_REQ, &e, WANT_EXPORT);
		return 1;
	}
	if (strcmp(c->method, "GET") != 0) {
		conn_error(c, 405, "Method not allowed");
		return 1;
	}
	streams_free(c);
	if ((c->ss = calloc(1, sizeof(*c->ss))) == NULL) {
		conn_error(c, 500, "out of memory");
		return 1;
	}
	c->page_items = c->more_pending = 0;
	send_req(c, IMSG_IMAGES_LIST_REQ, &r,
	    index ? WANT_SS_INDEX : WANT_SS_IMAGES);
	return 1;
}

static const char *
prop(const struct imsg_image_info *m, const char *key)
{
	for (uint32_t i = 0; i < m->nproperties; i++)
		if (strcmp(m->properties[i].key, key) == 0)
			return m->properties[i].value;
	return NULL;
}

/* A JSON string, for writing by hand. */
static char *
jstr(const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (t == NULL)
		fatalx("out of memory");
	return t;
}

/* The product's own fields, once its versions are out. */
static void
product_close(struct conn *c)
{
	struct ss *ss = c->ss;
	size_t i, n = json_array_size(ss->aliases), len = 0;
	char *names = calloc(1, n * (LIM_ALIAS_NAME_MAX + 1) + 1), *t;
	json_t *a;

	if (names == NULL)
		fatalx("out of memory");
	json_array_foreach (ss->aliases, i, a) {
		len += (size_t)sprintf(
		    names + len, "%s%s", i ? "," : "", json_string_value(a));
	}
	json_object_set_new(ss->info, "aliases", json_string(names));
	free(names);
	t = json_dumps(ss->info, JSON_COMPACT | JSON_SORT_KEYS);
	if (t == NULL || strlen(t) < 2)
		fatalx("out of memory");
	/* {"aliases":...} without its braces, after "versions":{...} */
	t[strlen(t) - 1] = '\0';
	conn_stream_text(c, "},");
	conn_stream_text(c, t + 1);
	conn_stream_text(c, "}");
	free(t);
	json_decref(ss->info);
	json_decref(ss->aliases);
	json_decref(ss->versions);
	ss->info = ss->aliases = ss->versions = NULL;
}

static void
product_open(struct conn *c, const struct imsg_image_info *m)
{
	struct ss *ss = c->ss;
	const char *f[4] = {"os", "release", "arch", "variant"};
	char buf[sizeof(ss->product)], *save = NULL, *tok, *key;
	const char *title = prop(m, "release_title");
	int i = 0;

	snprintf(ss->product, sizeof(ss->product), "%s", m->product);
	ss->info = json_object();
	ss->aliases = json_array();
	ss->versions = json_object();
	snprintf(buf, sizeof(buf), "%s", m->product);
	for (tok = strtok_r(buf, ":", &save); tok && i < 4;
	     tok = strtok_r(NULL, ":", &save))
		json_object_set_new(ss->info, f[i++], json_string(tok));
	if (json_object_get(ss->info, "release"))
		json_object_set(ss->info, "release_title",
		    title ? json_string(title)
			  : json_object_get(ss->info, "release"));
	key = jstr(m->product);
	conn_stream_text(c, ss->nproducts++ ? "," : "");
	conn_stream_text(c, key);
	conn_stream_text(c, ":{\"versions\":{");
	free(key);
}

/* The version's name: a unique key of the product. */
static void
version_name(struct ss *ss, const struct imsg_image_info *m, char out[96])
{
	const char *serial = prop(m, "serial");
	time_t t = (time_t)m->created_at;
	struct tm tm;

	if (serial && strlen(serial) >= 8 && strlen(serial) < 64 &&
	    strspn(serial, "0123456789") >= 8)
		snprintf(out, 96, "%s", serial);
	else {
		gmtime_r(&t, &tm);
		strftime(out, 96, "%Y%m%d_%H:%M", &tm);
	}
	if (json_object_get(ss->versions, out))
		snprintf(out + strlen(out), 96 - strlen(out), "_%.12s",
		    m->fingerprint);
	json_object_set_new(ss->versions, out, json_true());
}

static json_t *
item(const char *ftype, const char *path, const char *sha, uint64_t size)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "ftype", ftype, "path", path,
	    "sha256", sha, "size", (json_int_t)size);
}

static json_t *
items(const struct imsg_image_info *m)
{
	json_t *it = json_object(), *meta;
	char path[2][160];

	if (!m->split) {
		snprintf(path[0], sizeof(path[0]), "images/%s/unified%s",
		    m->fingerprint, tar_ext(m->compression0));
		json_object_set_new(it, "lxd_combined.tar.gz",
		    item("lxd_combined.tar.gz", path[0], m->fingerprint,
			m->size));
		json_object_set_new(it, "incus_combined.tar.gz",
		    item("incus_combined.tar.gz", path[0], m->fingerprint,
			m->size));
		return it;
	}
	int squash = strcmp(m->compression1, "squashfs") == 0;

	snprintf(path[0], sizeof(path[0]), "images/%s/meta%s", m->fingerprint,
	    tar_ext(m->compression0));
	snprintf(path[1], sizeof(path[1]), "images/%s/rootfs%s", m->fingerprint,
	    tar_ext(m->compression1));
	for (int i = 0; i < 2; i++) {
		meta = item(i ? "incus.tar.xz" : "lxd.tar.xz", path[0],
		    m->part0_sha256, m->part0_size);
		json_object_set_new(
		    meta, "combined_sha256", json_string(m->fingerprint));
		json_object_set_new(meta,
		    squash ? "combined_squashfs_sha256"
			   : "combined_rootxz_sha256",
		    json_string(m->fingerprint));
		json_object_set_new(
		    it, i ? "incus.tar.xz" : "lxd.tar.xz", meta);
	}
	json_object_set_new(it, squash ? "root.squashfs" : "root.tar.xz",
	    item(squash ? "squashfs" : "root.tar.xz", path[1], m->part1_sha256,
		m->part1_size));
	return it;
}

static void
images_item(struct conn *c, const struct imsg_image_info *m)
{
	struct ss *ss = c->ss;
	char ver[96], *key, *text;
	json_t *v;

	if (c->state != CONN_LIST) {
		char head[256], when[64];

		updated(when);
		snprintf(head, sizeof(head),
		    "{\"content_id\":\"images\",\"datatype\":\"image-"
		    "downloads\",\"format\":\"products:1.0\",\"updated\":\"%"
		    "s\","
		    "\"products\":{",
		    when);
		conn_stream_open(c, head);
	}
	if (ss->info && strcmp(ss->product, m->product) != 0)
		product_close(c);
	if (ss->info == NULL)
		product_open(c, m);
	else
		conn_stream_text(c, ",");
	for (uint32_t i = 0; i < m->naliases; i++)
		json_array_append_new(
		    ss->aliases, json_string(m->aliases[i].key));
	version_name(ss, m, ver);
	v = json_pack("{s:o}", "items", items(m));
	key = jstr(ver);
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		fatalx("out of memory");
	conn_stream_text(c, key);
	conn_stream_text(c, ":");
	conn_stream_text(c, text);
	free(key);
	free(text);
	json_decref(v);
}

static void
index_item(struct conn *c, const struct imsg_image_info *m)
{
	struct ss *ss = c->ss;
	char *key;

	if (c->state != CONN_LIST) {
		char head[384], when[64];

		updated(when);
		snprintf(head, sizeof(head),
		    "{\"format\":\"index:1.0\",\"updated\":\"%s\",\"index\":{"
		    "\"images\":{\"datatype\":\"image-downloads\",\"path\":"
		    "\"streams/v1/images.json\",\"format\":\"products:1.0\","
		    "\"updated\":\"%s\",\"products\":[",
		    when, when);
		conn_stream_open(c, head);
	}
	if (ss->nproducts > 0 && strcmp(ss->product, m->product) == 0)
		return; /* the same product: listed once */
	snprintf(ss->product, sizeof(ss->product), "%s", m->product);
	key = jstr(m->product);
	conn_stream_text(c, ss->nproducts++ ? "," : "");
	conn_stream_text(c, key);
	free(key);
}

/* 1 when m was an answer for these routes. */
int
streams_reply(struct conn *c, struct ipc_msg *m)
{
	int index = c->want == WANT_SS_INDEX;

	if ((c->want == WANT_DIRECT_ALIAS && m->type == IMSG_ALIAS_INFO) ||
	    (c->want == WANT_DIRECT_IMAGE && m->type == IMSG_IMAGE_INFO)) {
		direct_reply(c, m);
		return 1;
	}
	if (c->want != WANT_SS_INDEX && c->want != WANT_SS_IMAGES)
		return 0;
	if (m->type == IMSG_IMAGE_INFO) {
		if (index)
			index_item(c, &m->m.image_info);
		else
			images_item(c, &m->m.image_info);
		conn_stream_count(c);
		return 1;
	}
	if (m->type != IMSG_LIST_END)
		return 0;
	if (c->state != CONN_LIST) {
		/* No public image: an empty stream. */
		json_t *empty =
		    index ? json_pack(
				"{s:s, s:{}}", "format", "index:1.0", "index")
			  : json_pack("{s:s, s:s, s:s, s:{}}", "content_id",
				"images", "datatype", "image-downloads",
				"format", "products:1.0", "products");
		streams_free(c);
		conn_respond(c, 200, NULL, empty);
		return 1;
	}
	if (!index && c->ss->info)
		product_close(c);
	streams_free(c);
	conn_stream_close(c, index ? "]}}}" : "}}");
	return 1;
}
