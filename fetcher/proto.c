/*
 * The remote protocols, each turning (server, name) into a plan: which
 * files to download and what the remote promises about them.
 *
 * LXD: GET /1.0/images/aliases/NAME (public images only; a name that is
 * no alias is a fingerprint or prefix), GET /1.0/images/FP[?secret=], then
 * the export (one file, or LXD's multipart of metadata and rootfs).
 * Simplestreams: streams/v1/index.json, its image-downloads products file,
 * and the newest version of the product the alias names (LXD's derivation:
 * "ALIAS" for the host's architecture, "ALIAS/ARCH" for any), preferring a
 * squashfs rootfs over root.tar.xz, or the version whose combined hash
 * the fingerprint starts. Direct: HEAD with LXD-Server-Architectures, then
 * LXD-Image-URL, whose sha256 must be LXD-Image-Hash.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher/fetch.h"
#include "http/http.h"
#include "ipc/log.h"
#include "policy/arch.h"

void
plan_free(struct plan *p)
{
	for (uint32_t i = 0; i < p->nprops; i++) {
		free(p->props[i].key);
		free(p->props[i].value);
	}
	for (uint32_t i = 0; i < p->naliases; i++)
		free(p->aliases[i]);
	p->nprops = p->naliases = 0;
}

int
plan_prop(struct plan *p, const char *key, const char *value)
{
	if (value == NULL || !value[0])
		return 0;
	if (strlen(key) > LIM_PROP_KEY_MAX ||
	    strlen(value) > LIM_PROP_VALUE_MAX)
		return 0; /* the store refuses what it would not keep */
	for (uint32_t i = 0; i < p->nprops; i++)
		if (strcmp(p->props[i].key, key) == 0) {
			free(p->props[i].value);
			if ((p->props[i].value = strdup(value)) == NULL)
				fatal("strdup");
			return 0;
		}
	if (p->nprops >= LIM_META_PROPERTIES_MAX)
		return -1;
	p->props[p->nprops].key = strdup(key);
	p->props[p->nprops].value = strdup(value);
	if (!p->props[p->nprops].key || !p->props[p->nprops].value)
		fatal("strdup");
	p->nprops++;
	return 0;
}

static void
plan_alias(struct plan *p, const char *name)
{
	if (p->naliases >= LIM_FETCH_ALIASES || !name[0] ||
	    strlen(name) > LIM_ALIAS_NAME_MAX)
		return;
	for (uint32_t i = 0; i < p->naliases; i++)
		if (strcmp(p->aliases[i], name) == 0)
			return;
	if ((p->aliases[p->naliases++] = strdup(name)) == NULL)
		fatal("strdup");
}

static int
is_fp(const char *s, size_t min)
{
	size_t n = strspn(s, "0123456789abcdef");

	return s[n] == '\0' && n >= min && n <= 64;
}

/* base + "/" + path; path must be a plain relative path. */
static int
join(struct fx *x, char *out, size_t len, const char *path)
{
	const char *base = x->req->server;
	size_t bl = strlen(base);

	while (bl && base[bl - 1] == '/')
		bl--;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == '?' || *c == '#' ||
		    *c == '\\' || (unsigned char)*c >= 0x7f)
			return fx_fail(x, FETCH_E_PROTOCOL,
			    "a path with unsafe characters from the server");
	if (path[0] == '/' || strstr(path, "..") ||
	    (size_t)snprintf(out, len, "%.*s/%s", (int)bl, base, path) >= len)
		return fx_fail(x, FETCH_E_PROTOCOL,
		    "a path that leaves the server's tree: %.100s", path);
	return 0;
}

/* url + query (our own, already encoded). */
static int
with_query(struct fx *x, char *url, size_t len, const char *query)
{
	size_t n = strlen(url);

	if (n + strlen(query) >= len)
		return fx_fail(x, FETCH_E_PROTOCOL, "a URL too long");
	memcpy(url + n, query, strlen(query) + 1);
	return 0;
}

static json_t *
get_json(struct fx *x, const char *url)
{
	json_error_t je;
	json_t *j;
	char *buf;
	size_t len;

	if (net_get_doc(x, url, &buf, &len) == -1)
		return NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		fx_fail(x, FETCH_E_PROTOCOL, "%s: not a JSON object (%s)", url,
		    je.text);
		return NULL;
	}
	return j;
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* ---- signed documents (a pinned remote) ---- */

/* url's detached signature: url.minisig, else url.sig; -1 when neither
 * is there (a pinned remote never falls back to unsigned). */
static int
get_sig(struct fx *x, const char *url, char **sig, size_t *len)
{
	static const char *const ext[] = {".minisig", ".sig"};
	char surl[LIM_URL_MAX + 16];

	for (int i = 0; i < 2; i++) {
		snprintf(surl, sizeof(surl), "%s%s", url, ext[i]);
		if (net_get_doc(x, surl, sig, len) == 0) {
			if (*len <= 4096)
				return 0;
			free(*sig);
			*sig = NULL; /* the caller frees it too */
			return fx_fail(x, FETCH_E_VERIFY,
			    "%s: a signature file of %zu bytes", surl, *len);
		}
		if (x->kind != FETCH_E_NOT_FOUND)
			return -1;
		x->err[0] = '\0';
	}
	return fx_fail(x, FETCH_E_VERIFY,
	    "%s is not signed (no .minisig or .sig next to it), and this "
	    "remote is pinned to a key",
	    url);
}

/* "Thu, 03 Dec 2026 10:00:00 +0000" (the public servers' form), or RFC
 * 3339; -1 when it is neither. */
static int64_t
updated_of(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%a, %d %b %Y %H:%M:%S %z", &tm)) != NULL &&
	    *end == '\0')
		return (int64_t)timegm(&tm) - tm.tm_gmtoff;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
	    (*end == 'Z' || *end == '\0'))
		return (int64_t)timegm(&tm);
	return -1;
}

/* A JSON document; from a pinned remote, only with a good signature and
 * a readable "updated" time (kept, the newest, for the rollback check). */
static json_t *
get_json_checked(struct fx *x, const char *url)
{
	json_error_t je;
	json_t *j;
	char *buf, *sig = NULL;
	size_t len, siglen;

	if (net_get_doc(x, url, &buf, &len) == -1)
		return NULL;
	if (x->pinned && (get_sig(x, url, &sig, &siglen) == -1 ||
			     sig_check(x, &x->key, url, sig, siglen,
				 (const uint8_t *)buf, len, NULL) == -1)) {
		free(sig);
		free(buf);
		return NULL;
	}
	free(sig);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		fx_fail(x, FETCH_E_PROTOCOL, "%s: not a JSON object (%s)", url,
		    je.text);
		return NULL;
	}
	if (x->pinned) {
		const char *u =
		    json_string_value(json_object_get(j, "updated"));
		int64_t t = u ? updated_of(u) : -1;

		if (t < 0) {
			json_decref(j);
			fx_fail(x, FETCH_E_VERIFY,
			    "%s: no \"updated\" time that imgd can read, so "
			    "a rollback could not be told",
			    url);
			return NULL;
		}
		if (t > x->signed_at)
			x->signed_at = t;
	}
	return j;
}

/* ---- LXD ---- */

static json_t *
lxd_sync(struct fx *x, const char *url)
{
	json_t *j = get_json(x, url), *m;

	if (j == NULL)
		return NULL;
	m = json_object_get(j, "metadata");
	if (!json_is_object(m)) {
		json_decref(j);
		fx_fail(x, FETCH_E_PROTOCOL, "%s: no metadata object", url);
		return NULL;
	}
	json_incref(m);
	json_decref(j);
	return m;
}

static int
lxd_resolve(struct fx *x, struct plan *p)
{
	const struct imsg_fetch_req *q = x->req;
	char enc[3 * LIM_ALIAS_NAME_MAX + 1], sec[3 * LIM_SECRET_MAX + 16];
	char path[4096], url[LIM_URL_MAX + 1], fp[65];
	json_t *m, *v;
	const char *k;

	if (x->pinned)
		return fx_fail(x, FETCH_E_REFUSED,
		    "%s is pinned to a signing key, and LXD's protocol signs "
		    "nothing (pin its certificate instead)",
		    q->server);
	snprintf(fp, sizeof(fp), "%.64s", q->name);
	sec[0] = '\0';
	if (q->secret[0]) {
		memcpy(sec, "?secret=", 9);
		http_pct_encode(q->secret, 1, sec + 8, sizeof(sec) - 8);
	}
	if (!q->secret[0]) {
		http_pct_encode(q->name, 0, enc, sizeof(enc));
		snprintf(path, sizeof(path), "1.0/images/aliases/%s", enc);
		if (join(x, url, sizeof(url), path) == -1)
			return -1;
		if ((m = lxd_sync(x, url)) != NULL) {
			snprintf(fp, sizeof(fp), "%s", str(m, "target"));
			json_decref(m);
		} else if (x->kind == FETCH_E_NOT_FOUND && is_fp(q->name, 1)) {
			x->err[0] = '\0'; /* not an alias: a fingerprint */
		} else if (x->kind == FETCH_E_NOT_FOUND) {
			x->err[0] = '\0';
			return fx_fail(x, FETCH_E_NOT_FOUND,
			    "no image or alias \"%s\" on %s", q->name,
			    q->server);
		} else
			return -1;
	}
	if (!is_fp(fp, 1))
		return fx_fail(
		    x, FETCH_E_PROTOCOL, "a bad fingerprint: %.70s", fp);
	snprintf(path, sizeof(path), "1.0/images/%s", fp);
	if (join(x, url, sizeof(url), path) == -1 ||
	    with_query(x, url, sizeof(url), sec) == -1 ||
	    (m = lxd_sync(x, url)) == NULL)
		return -1;
	snprintf(p->fingerprint, sizeof(p->fingerprint), "%s",
	    str(m, "fingerprint"));
	if (!is_fp(p->fingerprint, 64) ||
	    strncmp(p->fingerprint, fp, strlen(fp)))
		return json_decref(m),
		       fx_fail(x, FETCH_E_PROTOCOL,
			   "the server answered for another image");
	if (str(m, "type")[0] && strcmp(str(m, "type"), "container") != 0)
		return json_decref(m),
		       fx_fail(x, FETCH_E_NOT_FOUND,
			   "%s is a %s image; imgd keeps container images", fp,
			   str(m, "type"));
	snprintf(p->filename, sizeof(p->filename), "%s", str(m, "filename"));
	p->public = json_is_true(json_object_get(m, "public"));
	json_object_foreach (json_object_get(m, "properties"), k, v)
		if (json_is_string(v) && plan_prop(p, k, json_string_value(v)))
			break;
	size_t i;
	json_array_foreach (json_object_get(m, "aliases"), i, v)
		plan_alias(p, str(v, "name"));
	p->split = -1;
	p->multipart = 1;
	p->nfiles = 1;
	json_int_t size = json_integer_value(json_object_get(m, "size"));
	p->f[0].size = size > 0 ? (uint64_t)size : 0;
	json_decref(m);
	snprintf(path, sizeof(path), "1.0/images/%s/export", p->fingerprint);
	if (join(x, p->f[0].url, sizeof(p->f[0].url), path) == -1)
		return -1;
	return with_query(x, p->f[0].url, sizeof(p->f[0].url), sec);
}

/* ---- simplestreams ---- */

struct ss_pick {
	json_t *product, *meta, *root; /* borrowed */
	const char *pname, *version;
	char fp[65];
};

/* The image a version offers: unified, or metadata with a rootfs, the
 * squashfs one first as LXD prefers it; with want (a fingerprint or its
 * prefix), the one whose fingerprint it starts. 0 with k set, or -1. */
static int
ss_version(json_t *items, const char *want, struct ss_pick *k)
{
	const char *key, *order[] = {"squashfs", "root.tar.xz"};
	json_t *it, *meta = NULL;

	json_object_foreach (items, key, it) {
		const char *ft = str(it, "ftype");

		if (strcmp(ft, "lxd.tar.xz") == 0 ||
		    strcmp(ft, "incus.tar.xz") == 0)
			meta = it;
	}
	for (size_t o = 0; meta && o < 2; o++)
		json_object_foreach (items, key, it) {
			const char *fp;

			if (strcmp(str(it, "ftype"), order[o]) != 0)
				continue;
			fp = o == 0 ? str(meta, "combined_squashfs_sha256")
				    : str(meta, "combined_rootxz_sha256");
			if (o == 1 && !fp[0])
				fp = str(meta, "combined_sha256");
			if (!is_fp(fp, 64) ||
			    (want && strncmp(fp, want, strlen(want)) != 0))
				continue;
			k->meta = meta;
			k->root = it;
			snprintf(k->fp, sizeof(k->fp), "%s", fp);
			return 0;
		}
	json_object_foreach (items, key, it) {
		const char *ft = str(it, "ftype"), *fp = str(it, "sha256");

		if ((strcmp(ft, "lxd_combined.tar.gz") == 0 ||
			strcmp(ft, "incus_combined.tar.gz") == 0) &&
		    is_fp(fp, 64) &&
		    (!want || strncmp(fp, want, strlen(want)) == 0)) {
			k->meta = it;
			k->root = NULL;
			snprintf(k->fp, sizeof(k->fp), "%s", fp);
			return 0;
		}
	}
	return -1;
}

/* Does alias name this product, as LXD derives its aliases? */
static int
ss_alias_match(json_t *prod, const char *name, const char *primary)
{
	const char *list = str(prod, "aliases"), *arch = str(prod, "arch");
	size_t nl = strlen(name);

	while (*list) {
		size_t n = strcspn(list, ",");

		if (n == nl && strncmp(list, name, n) == 0 &&
		    strcmp(arch, primary) == 0)
			return 1;
		if (nl == n + 1 + strlen(arch) && strncmp(list, name, n) == 0 &&
		    name[n] == '/' && strcmp(name + n + 1, arch) == 0)
			return 1;
		list += n + (list[n] == ',');
	}
	return 0;
}

static int
host_arch(struct fx *x, const char *debian)
{
	for (uint32_t i = 0; i < x->req->narchitectures; i++)
		if (strcmp(arch_debian(x->req->architectures[i]), debian) == 0)
			return 1;
	return 0;
}

/* One pass: by alias (byfp 0) or by fingerprint prefix. 1 found, 0 not,
 * -1 (an ambiguous prefix). */
static int
ss_pass(struct fx *x, json_t *products, int byfp, struct ss_pick *best)
{
	const char *name = x->req->name, *pk, *vk;
	const char *primary =
	    x->req->narchitectures ? arch_debian(x->req->architectures[0]) : "";
	int found = 0;
	json_t *prod, *ver;

	json_object_foreach (products, pk, prod) {
		if (!host_arch(x, str(prod, "arch")) ||
		    (!byfp && !ss_alias_match(prod, name, primary)))
			continue;
		json_object_foreach (
		    json_object_get(prod, "versions"), vk, ver) {
			struct ss_pick k = {
			    .product = prod, .pname = pk, .version = vk};

			if (ss_version(json_object_get(ver, "items"),
				byfp ? name : NULL, &k) == -1)
				continue;
			if (byfp && found && strcmp(k.fp, best->fp) != 0)
				return fx_fail(x, FETCH_E_NOT_FOUND,
				    "fingerprint prefix \"%s\" is ambiguous on "
				    "%s",
				    name, x->req->server);
			/* The newest version: serials sort by date. */
			if (found && !byfp && strcmp(vk, best->version) <= 0)
				continue;
			*best = k;
			found = 1;
		}
	}
	return found;
}

/* An alias first, then a fingerprint or its prefix, as LXD resolves. */
static int
ss_search(struct fx *x, json_t *products, struct ss_pick *best)
{
	int rc = ss_pass(x, products, 0, best);

	if (rc == 0 && is_fp(x->req->name, 1))
		rc = ss_pass(x, products, 1, best);
	if (rc == 0)
		return fx_fail(x, FETCH_E_NOT_FOUND,
		    "no image \"%s\" for this host's architecture on %s",
		    x->req->name, x->req->server);
	return rc == 1 ? 0 : -1;
}

static int
ss_file(struct fx *x, struct plan_file *f, json_t *item)
{
	json_int_t size = json_integer_value(json_object_get(item, "size"));

	if (!is_fp(str(item, "sha256"), 64) || size <= 0)
		return fx_fail(
		    x, FETCH_E_PROTOCOL, "an item without its sha256 or size");
	snprintf(f->sha, sizeof(f->sha), "%s", str(item, "sha256"));
	f->size = (uint64_t)size;
	return join(x, f->url, sizeof(f->url), str(item, "path"));
}

static int
ss_plan(struct fx *x, struct plan *p, const struct ss_pick *k)
{
	json_t *pr = k->product;
	const char *path = str(k->meta, "path"), *slash = strrchr(path, '/');
	char desc[512], *list, *tok, *save = NULL;

	snprintf(p->fingerprint, sizeof(p->fingerprint), "%s", k->fp);
	snprintf(
	    p->filename, sizeof(p->filename), "%s", slash ? slash + 1 : path);
	p->public = 1;
	p->split = k->root != NULL;
	p->nfiles = k->root ? 2 : 1;
	if (ss_file(x, &p->f[0], k->meta) == -1 ||
	    (k->root && ss_file(x, &p->f[1], k->root) == -1))
		return -1;
	snprintf(desc, sizeof(desc), "%s %s %s (%s)", str(pr, "os"),
	    str(pr, "release_title"), str(pr, "arch"), k->version);
	plan_prop(p, "os", str(pr, "os"));
	plan_prop(p, "release", str(pr, "release"));
	plan_prop(p, "version", str(pr, "version"));
	plan_prop(p, "architecture", str(pr, "arch"));
	plan_prop(p, "variant", str(pr, "variant"));
	plan_prop(p, "serial", k->version);
	plan_prop(p, "description", desc);
	plan_prop(p, "type", k->root ? str(k->root, "ftype") : "tar.gz");
	if ((list = strdup(str(pr, "aliases"))) == NULL)
		fatal("strdup");
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char medium[LIM_ALIAS_NAME_MAX + 1];

		if (x->req->narchitectures &&
		    strcmp(str(pr, "arch"),
			arch_debian(x->req->architectures[0])) == 0)
			plan_alias(p, tok);
		snprintf(medium, sizeof(medium), "%s/%s", tok, str(pr, "arch"));
		plan_alias(p, medium);
	}
	free(list);
	return 0;
}

static int
ss_resolve(struct fx *x, struct plan *p)
{
	char url[LIM_URL_MAX + 1];
	json_t *index, *prods = NULL, *e = NULL, *products;
	const char *key;
	struct ss_pick k;
	int rc = -1, found = 0;

	if (join(x, url, sizeof(url), "streams/v1/index.json") == -1 ||
	    (index = get_json_checked(x, url)) == NULL)
		return -1;
	json_object_foreach (json_object_get(index, "index"), key, e)
		if (strcmp(str(e, "datatype"), "image-downloads") == 0 &&
		    str(e, "path")[0]) {
			if (join(x, url, sizeof(url), str(e, "path")) == -1)
				goto out;
			found = 1;
			break;
		}
	if (!found) {
		fx_fail(x, FETCH_E_PROTOCOL,
		    "%s: index.json lists no image-downloads", x->req->server);
		goto out;
	}
	if ((prods = get_json_checked(x, url)) == NULL)
		goto out;
	products = json_object_get(prods, "products");
	if (!json_is_object(products)) {
		fx_fail(x, FETCH_E_PROTOCOL, "%s: no products", url);
		goto out;
	}
	if (ss_search(x, products, &k) == 0)
		rc = ss_plan(x, p, &k);
out:
	json_decref(prods);
	json_decref(index);
	return rc;
}

/* ---- direct URL ---- */

static int
url_resolve(struct fx *x, struct plan *p)
{
	char archs[512] = "LXD-Server-Architectures: ", ver[64];
	const char *hdrs[] = {archs, ver, NULL};
	const char *slash;
	struct resp r;
	size_t o = strlen(archs);

	for (uint32_t i = 0; i < x->req->narchitectures && o < sizeof(archs);
	     i++)
		o += (size_t)snprintf(archs + o, sizeof(archs) - o, "%s%s",
		    i ? ", " : "", x->req->architectures[i]);
	snprintf(ver, sizeof(ver), "LXD-Server-Version: %s", x->req->version);
	if (net_get(x, x->req->server, hdrs, 1, NULL, NULL, &r) == -1)
		return -1;
	if (!is_fp(r.image_hash, 64) || !r.image_url[0])
		return fx_fail(x, FETCH_E_PROTOCOL,
		    "%s did not answer with LXD-Image-URL and LXD-Image-Hash",
		    x->req->server);
	snprintf(p->fingerprint, sizeof(p->fingerprint), "%s", r.image_hash);
	snprintf(p->f[0].sha, sizeof(p->f[0].sha), "%s", r.image_hash);
	snprintf(p->f[0].url, sizeof(p->f[0].url), "%s", r.image_url);
	slash = strrchr(r.image_url, '/');
	snprintf(p->filename, sizeof(p->filename), "%s",
	    slash && slash[1] ? slash + 1 : "image.tar.gz");
	p->filename[strcspn(p->filename, "?#")] = '\0';
	p->split = 0;
	p->nfiles = 1;
	if (x->pinned) {
		char *sig;

		if (get_sig(x, r.image_url, &sig, &p->siglen) == -1)
			return -1;
		memcpy(p->sig, sig,
		    p->siglen < sizeof(p->sig) ? p->siglen : sizeof(p->sig));
		p->siglen =
		    p->siglen < sizeof(p->sig) ? p->siglen : sizeof(p->sig);
		free(sig);
	}
	return 0;
}

int
proto_resolve(struct fx *x, struct plan *p)
{
	switch (x->req->protocol) {
	case SRC_LXD:
		return lxd_resolve(x, p);
	case SRC_SIMPLESTREAMS:
		return ss_resolve(x, p);
	default:
		return url_resolve(x, p);
	}
}
