/*
 * Copies from remote servers (POST /1.0/images with a source). Each
 * download runs in its own sandboxed imgd-fetcher: the store decides
 * whether the server may be reached (trust, URL shape, which hosts may use
 * plain http or internal addresses), hands the fetcher the CA bundle and
 * the rules, and hears what the remote claims the image is (FETCH_INFO).
 * An image the project has already is not downloaded again, and a second
 * copy of an image being downloaded waits for the first: one download.
 * Otherwise the bytes come through two pipes into the upload machinery
 * (store/upload.c), which hashes them itself, has them validated and
 * commits only when its hash, the fingerprint the remote promised and the
 * fetcher's own verdict agree. At most cfg.fetchers_max run at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "ipc/cause.h"
#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"

enum { F_QUEUED, F_RESOLVING, F_DOWNLOADING, F_FOLLOWING, F_DONE };

struct fetch {
	TAILQ_ENTRY(fetch) entry;
	int state;
	char project[LIM_PROJECT_NAME_MAX + 1];
	char requestor[128], username[64];
	uint8_t protocol;
	char *server, *name, *secret, *certificate;
	char host[256];
	int public, auto_update, copy_aliases;
	struct ipc_kv *aliases, *props; /* the request's */
	uint32_t naliases, nprops;
	struct op *op;
	struct child *child;
	struct upload *up;
	char fp[65];
	struct fetch *leader; /* F_FOLLOWING: the download it waits for */
	int last_pct;
	int split;    /* the remote says so (for the progress text) */
	int by_alias; /* its source is recorded (LXD: a copy by alias) */
	int cached;
	int busy;	    /* counted in its project's limits.images.copies */
	int64_t refresh_id; /* a refresh: the image it would replace */
	char old_fp[65];
};

static TAILQ_HEAD(, fetch) fetches = TAILQ_HEAD_INITIALIZER(fetches);

static char *
xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		fatal("strdup");
	return d;
}

static struct ipc_kv *
kv_copy(const struct ipc_kv *kv, uint32_t n)
{
	struct ipc_kv *d = calloc(n + 1, sizeof(*d));

	if (d == NULL)
		fatal("calloc");
	for (uint32_t i = 0; i < n; i++) {
		d[i].key = xstrdup(kv[i].key);
		d[i].value = xstrdup(kv[i].value);
	}
	return d;
}

static void
kv_release(struct ipc_kv *kv, uint32_t n)
{
	for (uint32_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int
running(void)
{
	struct fetch *f;
	int n = 0;

	TAILQ_FOREACH (f, &fetches, entry)
		if (f->child)
			n++;
	return n;
}

/* Done talking to the fetcher: it exits once its channel closes. */
static void
release(struct fetch *f)
{
	struct child *c = f->child;

	if (c == NULL)
		return;
	f->child = NULL;
	c->fetch = NULL;
	shutdown(c->chan.fd, SHUT_RDWR);
	proc_expect_exit(c, 5);
}

static void kick(void);

static void
fetch_free(struct fetch *f)
{
	release(f);
	if (f->busy)
		project_busy_leave(f->project, BUSY_COPY);
	TAILQ_REMOVE(&fetches, f, entry);
	free(f->server);
	free(f->name);
	free(f->secret);
	free(f->certificate);
	kv_release(f->aliases, f->naliases);
	kv_release(f->props, f->nprops);
	free(f);
	kick();
}

static void follower_end(
    struct fetch *leader, const char *fp, const struct fault *err);
static void committed(struct fetch *f, const char *fp);

/* The end of a copy that never reached the upload machinery. */
static void
fetch_end(struct fetch *f, const struct fault *err)
{
	char msg[LIM_ERROR_MAX + 128];

	if (err) {
		fault_text(err, msg, sizeof(msg));
		log_info("copy from %s refused: %s", f->server, msg);
		audit("image-copy-refused", "project", f->project, "server",
		    f->server, "requestor", f->requestor, "fault",
		    fault_token(err->cause), "cause", msg, NULL);
	}
	op_finish(f->op, err);
	follower_end(f, NULL, err);
	fetch_free(f);
}

static void fetch_fail(struct fetch *f, int cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fetch_fail(struct fetch *f, int cause, const char *fmt, ...)
{
	struct fault flt;
	va_list ap;

	fault_set(&flt, cause, RES_IMAGE, f->host);
	va_start(ap, fmt);
	vsnprintf(flt.detail, sizeof(flt.detail), fmt, ap);
	va_end(ap);
	fetch_end(f, &flt);
}

/* The request's aliases for an image the project has (LXD adds them). */
static int
add_aliases(struct fetch *f, const char *fp, struct fault *flt)
{
	struct image img;
	struct alias a;
	int64_t pid;

	if (db_project_id(f->project, &pid) != DB_OK ||
	    db_image_by_fp(pid, fp, &img) != DB_OK) {
		fault_set(flt, ERR_NOT_FOUND, RES_IMAGE, fp);
		return -1;
	}
	for (uint32_t i = 0; i < f->naliases; i++) {
		if (db_alias_get(pid, f->aliases[i].key, &a) == DB_OK) {
			if (strcmp(a.target, fp) == 0)
				continue;
			image_free(&img);
			fault_set(
			    flt, ERR_EXISTS, RES_ALIAS, f->aliases[i].key);
			return -1;
		}
		if (db_alias_insert(pid, f->aliases[i].key, f->aliases[i].value,
			img.id) != DB_OK) {
			image_free(&img);
			fault_set(flt, ERR_DATABASE, RES_NONE, NULL);
			return -1;
		}
		audit("image-alias-created", "project", f->project, "alias",
		    f->aliases[i].key, "target", fp, "requestor", f->requestor,
		    NULL);
		api_lifecycle(f->project, "image-alias-created", RES_ALIAS,
		    f->aliases[i].key, f->username, "target", fp);
	}
	image_free(&img);
	return 0;
}

/* The image is here already: no download, only the aliases. */
static void
fetch_have(struct fetch *f, const char *fp)
{
	struct fault flt;

	release(f);
	if (f->refresh_id) {
		if (strcmp(fp, f->old_fp) == 0) {
			log_info("refresh of %s: up to date", fp);
			op_set_meta(f->op, "refreshed", "false");
		} else
			committed(f, fp); /* the newer one is here already */
		op_set_meta(f->op, "fingerprint", fp);
		fetch_end(f, NULL);
		return;
	}
	if (add_aliases(f, fp, &flt) == -1) {
		fetch_end(f, &flt);
		return;
	}
	{
		struct image img;
		int64_t pid;

		/* Asked for by name: no longer only a cache. */
		if (!f->cached && db_project_id(f->project, &pid) == DB_OK &&
		    db_image_by_fp(pid, fp, &img) == DB_OK) {
			if (img.cached)
				db_image_used(img.id, now_ns(), 0);
			image_free(&img);
		}
	}
	op_set_meta(f->op, "fingerprint", fp);
	log_info("copy from %s: image %s is here already", f->server, fp);
	fetch_end(f, NULL);
}

static void
follower_end(struct fetch *leader, const char *fp, const struct fault *err)
{
	struct fetch *f, *next;

	for (f = TAILQ_FIRST(&fetches); f; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->state != F_FOLLOWING || f->leader != leader)
			continue;
		f->leader = NULL;
		f->state = F_DONE;
		if (err)
			fetch_end(f, err);
		else
			fetch_have(f, fp);
	}
}

/* A refresh found a newer image (new): it takes the old one's place,
 * its aliases, visibility, auto-update and source, and the old one's
 * properties that the new one does not have; then the old one goes. */
static void
refresh_swap(struct fetch *f, struct image *img)
{
	struct ipc_kv kv[LIM_META_PROPERTIES_MAX];
	static struct source src;
	struct image old;
	uint32_t n = 0;
	int have_src;

	if (db_image_by_id(f->refresh_id, &old) != DB_OK)
		return; /* deleted meanwhile: the new image stays as it is */
	for (uint32_t i = 0; i < old.nprops; i++) {
		uint32_t k;

		for (k = 0; k < img->nprops; k++)
			if (strcmp(img->props[k].key, old.props[i].key) == 0)
				break;
		if (k == img->nprops && n < LIM_META_PROPERTIES_MAX)
			kv[n++] = old.props[i];
	}
	have_src = db_source_get(old.id, &src) == DB_OK;
	img->public = old.public;
	img->auto_update = old.auto_update;
	if (image_merge_props(img, kv, n, 0) == -1)
		log_warnx("refresh %s: the old properties do not all fit",
		    old.fingerprint);
	image_product(img);
	if (db_begin() != DB_OK || db_aliases_move(old.id, img->id) != DB_OK ||
	    db_image_update(img) != DB_OK ||
	    (have_src && db_source_set(img->id, &src) != DB_OK) ||
	    db_image_delete(old.id) != DB_OK || db_commit() != DB_OK) {
		db_rollback();
		log_warnx("refresh %s: %s", old.fingerprint, db_errmsg());
		image_free(&old);
		return;
	}
	if (db_fp_refs(old.fingerprint) == 0)
		blob_remove(old.fingerprint);
	log_info(
	    "refreshed image %s: now %s", old.fingerprint, img->fingerprint);
	audit("image-refreshed", "project", f->project, "fingerprint",
	    img->fingerprint, "previous", old.fingerprint, "requestor",
	    f->requestor, NULL);
	api_lifecycle(f->project, "image-refreshed", RES_IMAGE,
	    img->fingerprint, f->username, "previous", old.fingerprint);
	op_set_meta(f->op, "refreshed", "true");
	image_free(&old);
}

/* The image is committed: its source, its use, a refresh's swap. */
static void
committed(struct fetch *f, const char *fp)
{
	struct image img;
	int64_t pid;

	if (db_project_id(f->project, &pid) != DB_OK ||
	    db_image_by_fp(pid, fp, &img) != DB_OK)
		return;
	if (f->by_alias) {
		static struct source src;

		snprintf(src.server, sizeof(src.server), "%s", f->server);
		src.protocol = f->protocol;
		snprintf(src.alias, sizeof(src.alias), "%s", f->name);
		snprintf(src.certificate, sizeof(src.certificate), "%s",
		    f->certificate);
		if (db_source_set(img.id, &src) != DB_OK)
			log_warnx("image %s: its source: %s", fp, db_errmsg());
	}
	if (f->cached)
		db_image_used(img.id, now_ns(), 1);
	if (f->refresh_id)
		refresh_swap(f, &img);
	image_free(&img);
}

/* The upload machinery's verdict: committed (fp) or not (err). */
static void
sink_done(void *arg, const char *fp, const struct fault *err)
{
	struct fetch *f = arg;

	if (fp)
		committed(f, fp);
	f->up = NULL;
	f->state = F_DONE;
	release(f);
	follower_end(f, fp, err);
	/* The upload machinery finishes the operation after this. */
	fetch_free(f);
}

/* ---- the request ---- */

/* https://HOST[:PORT]/... with a plain host name or address: the same
 * host for the store's rules as for libcurl. */
static int
url_host(const char *url, char *host, size_t len, int *https)
{
	const char *a, *end;
	size_t n;

	if (strncmp(url, "https://", 8) == 0)
		*https = 1, a = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		*https = 0, a = url + 7;
	else
		return -1;
	end = a + strcspn(a, "/?#");
	if (*a == '[') {
		const char *rb = memchr(a, ']', (size_t)(end - a));

		if (rb == NULL || (rb[1] != ':' && rb + 1 != end))
			return -1;
		n = (size_t)(rb + 1 - a);
		if (strspn(a + 1, "0123456789abcdefABCDEF:.") != n - 2)
			return -1;
	} else {
		n = strspn(a, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (n == 0 || (a + n != end && a[n] != ':'))
			return -1;
	}
	if (a[n] == ':' &&
	    (strspn(a + n + 1, "0123456789") != (size_t)(end - a - n - 1) ||
		end - a - n - 1 == 0 || end - a - n - 1 > 5))
		return -1;
	if (n >= len)
		return -1;
	memcpy(host, a, n);
	host[n] = '\0';
	return 0;
}

/* Is a key pinned for host in fetch_keys_dir (the file is there)? */
static int
host_pinned(const char *host)
{
	char path[2048];

	if (!S->cfg.fetch_keys_dir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%s.pub", S->cfg.fetch_keys_dir, host);
	return access(path, F_OK) == 0;
}

void
fetch_request(uint64_t reqid, const struct imsg_image_copy_req *r)
{
	const struct who *w = peer_current();
	struct fetch *f;
	char msg[300], host[256];
	struct fault flt;
	int64_t pid;
	int https;

	if (!w->trusted) {
		api_refuse(reqid, ERR_FORBIDDEN, RES_NONE, NULL);
		return;
	}
	if (db_project_id(r->project, &pid) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_PROJECT, r->project);
		return;
	}
	for (uint32_t i = 0; i < r->naliases; i++)
		if (alias_name_refusal(r->aliases[i].key, msg, sizeof(msg))) {
			fault_invalid(&flt, "%s", msg);
			reply_fault(reqid, &flt);
			return;
		}
	if (url_host(r->server, host, sizeof(host), &https) == -1) {
		fault_invalid(&flt,
		    "The server must be an https:// URL of a host name or "
		    "address (no user name), not \"%.200s\"",
		    r->server);
		reply_fault(reqid, &flt);
		return;
	}
	if (project_remote_refusal(r->project, host, host_pinned(host), &flt) ==
		-1 ||
	    project_busy_enter(r->project, BUSY_COPY, &flt) == -1) {
		reply_fault(reqid, &flt);
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("calloc");
	f->busy = 1;
	snprintf(f->project, sizeof(f->project), "%s", r->project);
	snprintf(f->requestor, sizeof(f->requestor), "%s", w->requestor);
	snprintf(f->username, sizeof(f->username), "%s", w->username);
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->protocol = r->protocol;
	f->server = xstrdup(r->server);
	f->name = xstrdup(r->name);
	f->secret = xstrdup(r->secret);
	f->certificate = xstrdup(r->certificate);
	f->public = r->public;
	f->copy_aliases = r->copy_aliases;
	f->aliases = kv_copy(r->aliases, r->naliases);
	f->naliases = r->naliases;
	f->props = kv_copy(r->properties, r->nproperties);
	f->nprops = r->nproperties;
	f->auto_update = r->auto_update;
	f->cached = r->cached;
	f->last_pct = -1;
	f->op = op_new(r->project, "Downloading image", NULL);
	op_reply(f->op, reqid);
	op_start(f->op);
	f->state = F_QUEUED;
	TAILQ_INSERT_TAIL(&fetches, f, entry);
	log_info("copy of \"%s\" from %s (%s) for %s", r->name, r->server,
	    r->protocol == SRC_LXD	       ? "lxd"
	    : r->protocol == SRC_SIMPLESTREAMS ? "simplestreams"
					       : "direct URL",
	    w->requestor);
	if (!https && !project_host_listed(S->cfg.fetch_allow_http, host)) {
		fetch_fail(f, ERR_FETCH_REFUSED,
		    "plain http is not allowed for %s (see fetch_allow_http)",
		    host);
		return;
	}
	kick();
}

static void
kick(void)
{
	struct fetch *f;

	TAILQ_FOREACH (f, &fetches, entry) {
		if (f->state != F_QUEUED)
			continue;
		if (S->stopping) {
			fetch_fail(f, ERR_STOPPING, "imgd is stopping");
			return;
		}
		if (running() >= (int)S->cfg.fetchers_max)
			return;
		if ((f->child = proc_spawn(PROC_FETCHER)) == NULL) {
			fetch_fail(f, ERR_INTERNAL, "cannot start a fetcher");
			return; /* the list changed: the next kick goes on */
		}
		f->child->fetch = f;
		f->state = F_RESOLVING;
	}
}

/* The name servers of /etc/resolv.conf, for the fetcher's resolver. */
static void
nameservers(char *out, size_t len)
{
	char line[512], addr[128];
	size_t o = 0;
	FILE *fp;

	out[0] = '\0';
	if (S->cfg.nameservers[0]) {
		snprintf(out, len, "%s", S->cfg.nameservers);
		return;
	}
	if ((fp = fopen("/etc/resolv.conf", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    strspn(addr, "0123456789abcdefABCDEF:.") == strlen(addr) &&
		    o + strlen(addr) + 4 < len) {
			int v6 = strchr(addr, ':') != NULL;

			o += (size_t)snprintf(out + o, len - o, "%s%s%s%s",
			    o ? "," : "", v6 ? "[" : "", addr, v6 ? "]" : "");
		}
	fclose(fp);
}

/* fetch_keys_dir/HOST.pub, if there is one: the key the host's
 * documents must be signed with. -1 after failing the copy. */
static int
pinned_key(struct fetch *f, char *key, size_t len)
{
	char path[2048];
	size_t n;
	FILE *fp;

	key[0] = '\0';
	if (!S->cfg.fetch_keys_dir[0])
		return 0;
	snprintf(
	    path, sizeof(path), "%s/%s.pub", S->cfg.fetch_keys_dir, f->host);
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		fetch_fail(f, ERR_FETCH_REFUSED,
		    "cannot read the pinned key %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(key, 1, len - 1, fp);
	fclose(fp);
	key[n] = '\0';
	if (n == 0 || n == len - 1) {
		fetch_fail(f, ERR_FETCH_REFUSED,
		    "the pinned key %s is empty or too long", path);
		return -1;
	}
	log_info("copy from %s: pinned to the key in %s", f->host, path);
	return 0;
}

void
fetch_child_ready(struct child *c)
{
	struct fetch *f = c->fetch;
	char ns[LIM_NAMESERVERS_MAX + 1], key[513];
	int fd;

	if (f == NULL) {
		proc_kill(c, "no download");
		return;
	}
	nameservers(ns, sizeof(ns));
	if (pinned_key(f, key, sizeof(key)) == -1)
		return;
	struct imsg_fetch_req q = {.protocol = f->protocol,
	    .server = f->server,
	    .name = f->name,
	    .secret = f->secret,
	    .certificate = f->certificate,
	    .allow_http = S->cfg.fetch_allow_http,
	    .allow_private = S->cfg.fetch_allow_private,
	    .part_max = S->cfg.upload_max,
	    .low_speed_time = S->cfg.fetch_low_speed_time,
	    .connect_timeout = S->cfg.fetch_connect_timeout,
	    .nameservers = ns,
	    .architectures = S->archs,
	    .narchitectures = S->narchs,
	    .version = "5.0",
	    .proxy = S->cfg.proxy_https,
	    .noproxy = S->cfg.proxy_ignore_hosts,
	    .pubkey = key};
	if ((fd = open(S->cfg.fetch_ca_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("fetch: %s", S->cfg.fetch_ca_file);
		fetch_fail(f, ERR_FETCH, "cannot read the CA bundle %s: %s",
		    S->cfg.fetch_ca_file, strerror(errno));
		return;
	}
	if (proc_send(c, IMSG_FETCH_REQ, 1, &q, fd) == -1)
		fetch_fail(f, ERR_INTERNAL, "cannot talk to the fetcher");
}

/* ---- what the fetcher says ---- */

static struct fetch *
downloading(const char *project, const char *fp, const struct fetch *self)
{
	struct fetch *g;

	TAILQ_FOREACH (g, &fetches, entry)
		if (g != self && g->state == F_DOWNLOADING &&
		    strcmp(g->fp, fp) == 0 && strcmp(g->project, project) == 0)
			return g;
	return NULL;
}

/* The remote's properties, then the request's over them. */
static uint32_t
merge_props(
    struct fetch *f, const struct imsg_fetch_info *in, struct ipc_kv *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < in->nproperties; i++)
		out[n++] = in->properties[i];
	for (uint32_t i = 0; i < f->nprops; i++) {
		uint32_t k;

		for (k = 0; k < n; k++)
			if (strcmp(out[k].key, f->props[i].key) == 0)
				break;
		if (k == n && n == LIM_META_PROPERTIES_MAX)
			continue;
		out[k] = f->props[i];
		if (k == n)
			n++;
	}
	return n;
}

static uint32_t
merge_aliases(
    struct fetch *f, const struct imsg_fetch_info *in, struct ipc_kv *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->naliases && n < LIM_ALIASES_PER_IMAGE; i++)
		out[n++] = f->aliases[i];
	for (uint32_t i = 0;
	     f->copy_aliases && i < in->naliases && n < LIM_ALIASES_PER_IMAGE;
	     i++) {
		uint32_t k;
		char msg[300];

		for (k = 0; k < n; k++)
			if (strcmp(out[k].key, in->aliases[i]) == 0)
				break;
		if (k < n || alias_name_refusal(in->aliases[i], msg, 300))
			continue;
		out[n].key = in->aliases[i];
		out[n++].value = "";
	}
	return n;
}

static void
on_info(struct fetch *f, struct child *c, const struct imsg_fetch_info *in)
{
	struct ipc_kv props[LIM_META_PROPERTIES_MAX];
	struct ipc_kv aliases[LIM_ALIASES_PER_IMAGE];
	struct fetch *g;
	struct image img;
	int64_t pid;
	int p0[2], p1[2];

	snprintf(f->fp, sizeof(f->fp), "%s", in->fingerprint);
	f->split = in->split == 1;
	if (in->signed_at) {
		/* A signed index older than one accepted is a replay. */
		int64_t seen = db_remote_signed_at(f->server);

		if (in->signed_at < seen) {
			fetch_fail(f, ERR_FETCH_VERIFY,
			    "a rollback: its signed index is from %lld, older "
			    "than the one already accepted (%lld)",
			    (long long)in->signed_at, (long long)seen);
			return;
		}
		if (in->signed_at > seen)
			db_remote_signed_set(f->server, in->signed_at);
	}
	op_set_meta(f->op, "fingerprint", f->fp);
	log_info("copy from %s: image %s (%s)", f->server, f->fp, in->url);
	if ((f->refresh_id && strcmp(f->fp, f->old_fp) == 0) ||
	    (db_project_id(f->project, &pid) == DB_OK &&
		db_image_by_fp(pid, f->fp, &img) == DB_OK)) {
		if (!f->refresh_id || strcmp(f->fp, f->old_fp) != 0)
			image_free(&img);
		fetch_have(f, f->fp);
		return;
	}
	if ((g = downloading(f->project, f->fp, f)) != NULL) {
		log_info("copy from %s: image %s is being downloaded: waiting "
			 "for that download",
		    f->server, f->fp);
		release(f);
		f->state = F_FOLLOWING;
		f->leader = g;
		return;
	}
	if (pipe2(p0, O_CLOEXEC) == -1 || pipe2(p1, O_CLOEXEC) == -1) {
		log_warn("fetch: pipe");
		fetch_fail(f, ERR_INTERNAL, "no pipe");
		return;
	}
	(void)fcntl(p0[1], F_SETPIPE_SZ, (int)LIM_UPLOAD_PIPE);
	(void)fcntl(p1[1], F_SETPIPE_SZ, (int)LIM_UPLOAD_PIPE);
	/* LXD sets auto_update only for a copy by alias. */
	int by_alias = strncmp(f->fp, f->name, strlen(f->name)) != 0 &&
		       f->protocol != SRC_URL;

	f->by_alias = by_alias;
	struct fetch_sink k = {.project = f->project,
	    .requestor = f->requestor,
	    .username = f->username,
	    .filename = in->filename,
	    .fingerprint = f->fp,
	    .public = f->public,
	    .auto_update = f->auto_update && by_alias,
	    .props = props,
	    .nprops = merge_props(f, in, props),
	    .aliases = aliases,
	    .naliases = merge_aliases(f, in, aliases),
	    /* only for the early no-space check; the bytes are counted */
	    .length = in->size0 > UINT64_MAX - in->size1
			  ? UINT64_MAX
			  : in->size0 + in->size1,
	    .op = f->op,
	    .done = sink_done,
	    .arg = f};
	int rfd[2] = {p0[0], in->split == 0 ? -1 : p1[0]};

	if (in->split == 0)
		close(p1[0]);
	f->state = F_DOWNLOADING;
	if ((f->up = upload_fetch(&k, rfd)) == NULL) {
		close(p0[1]);
		close(p1[1]);
		return; /* sink_done has run */
	}
	struct imsg_fetch_go go0 = {.part = 0}, go1 = {.part = 1};
	if (proc_send(c, IMSG_FETCH_GO, 1, &go0, p0[1]) == -1 ||
	    (in->split != 0 &&
		proc_send(c, IMSG_FETCH_GO, 1, &go1, p1[1]) == -1))
		return; /* killed: fetch_child_gone fails the upload */
	if (in->split == 0)
		close(p1[1]);
}

/* LXD's progress text: "rootfs: 45% (12.30MB/s)". */
static void
on_progress(struct fetch *f, const struct imsg_fetch_progress *p)
{
	char text[128], rate[32];
	int pct = p->total ? (int)(p->bytes * 100 / p->total) : -1;
	double r = (double)p->rate;

	if (pct > 100)
		pct = 100;
	if (pct == f->last_pct && pct >= 0)
		return;
	f->last_pct = pct;
	if (r >= 1e9)
		snprintf(rate, sizeof(rate), "%.2fGB", r / 1e9);
	else if (r >= 1e6)
		snprintf(rate, sizeof(rate), "%.2fMB", r / 1e6);
	else
		snprintf(rate, sizeof(rate), "%.2fkB", r / 1e3);
	if (pct >= 0)
		snprintf(text, sizeof(text), "%s: %d%% (%s/s)",
		    f->split && p->part == 0 ? "metadata" : "rootfs", pct,
		    rate);
	else
		snprintf(text, sizeof(text), "%s: %.2fMB (%s/s)",
		    f->split && p->part == 0 ? "metadata" : "rootfs",
		    (double)p->bytes / 1e6, rate);
	op_set_meta(f->op, "download_progress", text);
}

static int
fault_of_kind(int kind)
{
	switch (kind) {
	case FETCH_E_REFUSED:
		return ERR_FETCH_REFUSED;
	case FETCH_E_VERIFY:
		return ERR_FETCH_VERIFY;
	default:
		return ERR_FETCH;
	}
}

void
fetch_dispatch(struct child *c, struct ipc_msg *m)
{
	struct fetch *f = c->fetch;
	struct fault flt;

	if (f == NULL) {
		proc_kill(c, "record for no download");
		return;
	}
	switch (m->type) {
	case IMSG_FETCH_INFO:
		if (f->state != F_RESOLVING)
			goto violation;
		on_info(f, c, &m->m.fetch_info);
		break;
	case IMSG_FETCH_PROGRESS:
		if (f->state != F_DOWNLOADING)
			goto violation;
		on_progress(f, &m->m.fetch_progress);
		break;
	case IMSG_FETCH_DONE:
		if (f->state != F_DOWNLOADING || f->up == NULL)
			goto violation;
		release(f);
		upload_fetch_end(
		    f->up, m->m.fetch_done.size0, m->m.fetch_done.size1);
		break;
	case IMSG_FETCH_FAIL:
		fault_set(&flt, fault_of_kind(m->m.fetch_fail.kind), RES_IMAGE,
		    f->host);
		snprintf(flt.detail, sizeof(flt.detail), "%s",
		    m->m.fetch_fail.message);
		release(f);
		if (f->up)
			upload_fetch_abort(f->up, &flt);
		else
			fetch_end(f, &flt);
		break;
	default:
		goto violation;
	}
	return;
violation:
	log_warnx("fetcher (pid %d): %s out of order", (int)c->pid,
	    ipc_typename(m->type));
	proc_kill(c, "protocol violation");
}

void
fetch_child_gone(struct child *c, const char *why, int sigsys)
{
	struct fetch *f = c->fetch;
	struct fault flt;

	if (f == NULL)
		return;
	f->child = NULL;
	c->fetch = NULL;
	fault_set(&flt, ERR_FETCHER, RES_NONE, why);
	snprintf(flt.detail, sizeof(flt.detail), "%s",
	    f->state == F_RESOLVING ? "while it asked the server"
				    : "while it downloaded the image");
	(void)sigsys;
	if (f->up)
		upload_fetch_abort(f->up, &flt);
	else
		fetch_end(f, &flt);
}

/* ---- refreshes and the timers ---- */

void
fetch_refresh(uint64_t reqid, const char *project, const struct image *img,
    const struct who *w)
{
	static struct source src;
	struct fetch *f, *g;

	if (db_source_get(img->id, &src) != DB_OK) {
		/* Nothing to refresh from: up to date, as LXD says. */
		struct op *op =
		    op_new(project, "Refreshing image", img->fingerprint);

		if (reqid)
			op_reply(op, reqid);
		op_start(op);
		op_set_meta(op, "refreshed", "false");
		op_finish(op, NULL);
		return;
	}
	TAILQ_FOREACH (g, &fetches, entry)
		if (g->refresh_id == img->id && g->state != F_DONE) {
			if (reqid) /* the running one answers for both */
				api_refuse(
				    reqid, ERR_BUSY, RES_OPERATION, NULL);
			return;
		}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("calloc");
	snprintf(f->project, sizeof(f->project), "%s", project);
	snprintf(f->requestor, sizeof(f->requestor), "%s",
	    w ? w->requestor : "imgd (auto-update)");
	snprintf(f->username, sizeof(f->username), "%s", w ? w->username : "");
	f->protocol = (uint8_t)src.protocol;
	f->server = xstrdup(src.server);
	f->name = xstrdup(src.alias);
	f->secret = xstrdup("");
	f->certificate = xstrdup(src.certificate);
	(void)url_host(f->server, f->host, sizeof(f->host), &(int){0});
	f->aliases = kv_copy(NULL, 0);
	f->props = kv_copy(NULL, 0);
	f->public = img->public;
	f->auto_update = img->auto_update;
	f->refresh_id = img->id;
	snprintf(f->old_fp, sizeof(f->old_fp), "%s", img->fingerprint);
	f->last_pct = -1;
	f->op = op_new(project, "Refreshing image", img->fingerprint);
	if (reqid)
		op_reply(f->op, reqid);
	op_start(f->op);
	f->state = F_QUEUED;
	TAILQ_INSERT_TAIL(&fetches, f, entry);
	/* The project's rules hold for the images it already has. */
	struct fault flt;
	if (project_remote_refusal(
		project, f->host, host_pinned(f->host), &flt) == -1) {
		fetch_end(f, &flt);
		return;
	}
	log_info("refresh of %s from %s (%s)", img->fingerprint, src.server,
	    src.alias);
	kick();
}

static struct event *ev_update, *ev_expire;

static int
refresh_one(int64_t id, int64_t project, void *arg)
{
	char name[LIM_PROJECT_NAME_MAX + 1];
	struct image img;

	(void)arg;
	if (db_project_name(project, name, sizeof(name)) != DB_OK ||
	    db_image_by_id(id, &img) != DB_OK)
		return 0;
	fetch_refresh(0, name, &img, NULL);
	image_free(&img);
	return 0;
}

static void
update_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = {S->cfg.auto_update_interval, 0};

	(void)fd;
	(void)ev;
	(void)arg;
	if (!S->stopping)
		db_images_auto_update(refresh_one, NULL);
	event_add(ev_update, &tv);
}

static int
expire_one(int64_t id, int64_t project, void *arg)
{
	char name[LIM_PROJECT_NAME_MAX + 1];
	struct image img;

	(void)arg;
	if (db_project_name(project, name, sizeof(name)) != DB_OK ||
	    db_image_by_id(id, &img) != DB_OK)
		return 0;
	if (db_image_delete(id) == DB_OK) {
		if (db_fp_refs(img.fingerprint) == 0)
			blob_remove(img.fingerprint);
		log_info("expired cached image %s from project %s (unused for "
			 "%u s)",
		    img.fingerprint, name, S->cfg.remote_cache_expiry);
		audit("image-expired", "project", name, "fingerprint",
		    img.fingerprint, "requestor", "imgd (cache expiry)", NULL);
		api_lifecycle(name, "image-deleted", RES_IMAGE, img.fingerprint,
		    "", NULL, NULL);
	}
	image_free(&img);
	return 0;
}

static void
expire_cb(evutil_socket_t fd, short ev, void *arg)
{
	unsigned every = S->cfg.remote_cache_expiry / 4;
	struct timeval tv = {every < 1 ? 1 : every > 3600 ? 3600 : every, 0};

	(void)fd;
	(void)ev;
	(void)arg;
	if (!S->stopping)
		db_images_expired(
		    now_ns() -
			(int64_t)S->cfg.remote_cache_expiry * 1000000000LL,
		    expire_one, NULL);
	event_add(ev_expire, &tv);
}

/* The auto-update interval and the cache sweep (a quarter of the expiry,
 * between 1 s and an hour). */
void
fetch_timers_init(void)
{
	struct timeval tv = {1, 0};

	if (S->cfg.auto_update_interval) {
		struct timeval first = {S->cfg.auto_update_interval, 0};

		ev_update = evtimer_new(S->base, update_cb, NULL);
		event_add(ev_update, &first);
	}
	if (S->cfg.remote_cache_expiry) {
		ev_expire = evtimer_new(S->base, expire_cb, NULL);
		event_add(ev_expire, &tv);
	}
}
