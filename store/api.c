/*
 * The frontend's requests, decided here. Each case of api_dispatch decodes
 * nothing itself (the IPC layer did) and calls a handler that answers with
 * records carrying the request id: the result, or IMSG_ERR with the HTTP
 * status and a message for the client.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"

/* The change being asked for, while it is handled: a refusal is audited. */
static struct {
	uint64_t reqid;
	const char *action, *project, *target, *requestor;
} changing;

static void
changing_set(uint64_t reqid, const char *action, const char *project,
    const char *target, const char *requestor)
{
	changing.reqid = reqid;
	changing.action = action;
	changing.project = project;
	changing.target = target;
	changing.requestor = requestor;
}

void
api_reply_err(uint64_t reqid, int status, const char *fmt, ...)
{
	struct child *fe = proc_frontend();
	struct imsg_err e = {.status = (uint16_t)status};
	char msg[LIM_ERROR_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message goes to a client: one line, nothing else. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	e.message = msg;
	if (changing.action != NULL && changing.reqid == reqid)
		audit("request-refused", "action", changing.action, "project",
		    changing.project, "target", changing.target, "requestor",
		    changing.requestor, "cause", msg, NULL);
	if (fe)
		proc_send(fe, IMSG_ERR, reqid, &e, -1);
}

static void
reply_ok(uint64_t reqid, const char *location)
{
	struct child *fe = proc_frontend();
	struct imsg_ok ok = {.location = (char *)(location ? location : "")};

	if (fe)
		proc_send(fe, IMSG_OK, reqid, &ok, -1);
}

static void
reply_db(uint64_t reqid, int rc, const char *what)
{
	switch (rc) {
	case DB_NOTFOUND:
		api_reply_err(reqid, 404, "%s not found", what);
		break;
	case DB_AMBIGUOUS:
		api_reply_err(reqid, 400,
		    "More than one image matches this "
		    "fingerprint prefix: give more characters");
		break;
	default:
		log_warnx("database: %s", db_errmsg());
		api_reply_err(reqid, 500, "internal database error");
	}
}

void
api_lifecycle(const char *project, const char *action, const char *source,
    const char *requestor, const char *ckey, const char *cval)
{
	struct child *fe = proc_frontend();
	struct ipc_kv kv = {(char *)ckey, (char *)cval};
	struct imsg_lifecycle l = {
	    .project = (char *)project,
	    .action = (char *)action,
	    .source = (char *)source,
	    .context = ckey ? &kv : NULL,
	    .ncontext = ckey ? 1 : 0,
	    .requestor = (char *)(requestor ? requestor : ""),
	};

	if (fe)
		proc_send(fe, IMSG_LIFECYCLE, 0, &l, -1);
}

static void
etag_of(const char *parts[], size_t n, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t md[32];
	unsigned int len;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(c, parts[i], strlen(parts[i]) + 1);
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	hex_encode(md, 32, out);
}

/* Over what an edit may change, as LXD's: public, auto_update, properties. */
static void
image_etag(const struct image *img, char out[65])
{
	const char *p[2 + 2 * LIM_META_PROPERTIES_MAX];
	size_t n = 0;

	p[n++] = img->public ? "1" : "0";
	p[n++] = img->auto_update ? "1" : "0";
	for (uint32_t i = 0; i < img->nprops && i < LIM_META_PROPERTIES_MAX;
	     i++) {
		p[n++] = img->props[i].key;
		p[n++] = img->props[i].value;
	}
	etag_of(p, n, out);
}

static void
alias_etag(const struct alias *a, char out[65])
{
	const char *p[] = {a->name, a->description, a->target, "container"};

	etag_of(p, 4, out);
}

int
image_to_info(const struct image *img, const char *project,
    struct imsg_image_info *m, char etag[65])
{
	image_etag(img, etag);
	memset(m, 0, sizeof(*m));
	m->fingerprint = (char *)img->fingerprint;
	m->project = (char *)project;
	m->filename = (char *)img->filename;
	m->size = img->size;
	m->public = (uint8_t)img->public;
	m->auto_update = (uint8_t)img->auto_update;
	m->cached = (uint8_t)img->cached;
	m->split = (uint8_t)img->split;
	m->architecture = (char *)img->architecture;
	m->type = (char *)img->type;
	m->created_at = img->created_at;
	m->expires_at = img->expires_at;
	m->uploaded_at = img->uploaded_at;
	m->last_used_at = img->last_used_at;
	m->properties = img->props;
	m->nproperties = img->nprops;
	m->aliases = img->aliases;
	m->naliases = img->naliases < LIM_ALIASES_PER_IMAGE
			  ? img->naliases
			  : LIM_ALIASES_PER_IMAGE;
	m->etag = etag;
	return 0;
}

static int
project(uint64_t reqid, const char *name, int64_t *id)
{
	if (db_project_id(name, id) == DB_OK)
		return 0;
	api_reply_err(reqid, 404, "Project not found");
	return -1;
}

/* Sends one image, with the project name the client asked for. */
static void
reply_image(uint64_t reqid, struct image *img, const char *proj)
{
	struct child *fe = proc_frontend();
	struct imsg_image_info m;
	char etag[65];

	image_to_info(img, proj, &m, etag);
	if (fe)
		proc_send(fe, IMSG_IMAGE_INFO, reqid, &m, -1);
}

/*
 * Lists go out a page at a time. Image and alias lists wait, after each
 * full page, for the frontend's LIST_MORE (sent once its client has taken
 * that page): neither process holds a whole list, and a slow client slows
 * only its own list. Project lists (small) wait only for the channel.
 */
#define LIST_PAGE LIM_LIST_PAGE

enum { LIST_IMAGES, LIST_ALIASES, LIST_PROJECTS };

struct lister {
	TAILQ_ENTRY(lister) entry; /* in listers, from start to end */
	int parked;		   /* waits for LIST_MORE */
	int cancelled;		   /* ends when it next runs */
	uint64_t reqid;
	uint64_t fe_gen; /* the frontend that asked */
	int kind;	 /* LIST_* */
	int64_t pid;
	char project[LIM_PROJECT_NAME_MAX + 1];
	char after[LIM_ALIAS_NAME_MAX + 1];
	uint32_t n;
	/* LIST_PROJECTS: the one asked for (project) or all (""); used_by:
	 * each one's images follow it, in_used while they are being sent. */
	int used_by, in_used;
	char last[LIM_PROJECT_NAME_MAX + 1];
};

static TAILQ_HEAD(, lister) listers = TAILQ_HEAD_INITIALIZER(listers);
static unsigned nlisters;

static void
lister_free(struct lister *l)
{
	TAILQ_REMOVE(&listers, l, entry);
	nlisters--;
	free(l);
}

static int
list_image(struct image *img, void *arg)
{
	struct lister *l = arg;

	reply_image(l->reqid, img, l->project);
	snprintf(l->after, sizeof(l->after), "%s", img->fingerprint);
	l->n++;
	return 0;
}

static void reply_alias(uint64_t reqid, const struct alias *a);

static int
list_alias(struct alias *a, void *arg)
{
	struct lister *l = arg;

	reply_alias(l->reqid, a);
	snprintf(l->after, sizeof(l->after), "%s", a->name);
	l->n++;
	return 0;
}

/* One project (its record, or a page of its images); 0 at the end. */
static int
project_page(struct lister *l)
{
	struct child *fe = proc_frontend();
	char fps[LIST_PAGE][65], name[LIM_PROJECT_NAME_MAX + 1];
	int n;

	if (!l->in_used) {
		struct imsg_project_info m = {.features_images = 1};

		if (l->project[0] && l->n > 0)
			return 0;
		if (l->project[0])
			snprintf(name, sizeof(name), "%s", l->project);
		if (l->project[0]
			? db_project_id(name, &l->pid)
			: db_project_next(l->last, &l->pid, name, sizeof(name)))
			return 0;
		snprintf(l->last, sizeof(l->last), "%s", name);
		m.name = name;
		/* Project descriptions come with project management. */
		m.description =
		    strcmp(name, "default") == 0 ? "Default project" : "";
		proc_send(fe, IMSG_PROJECT_INFO, l->reqid, &m, -1);
		l->n++;
		if (!l->used_by)
			return LIST_PAGE;
		l->in_used = 1;
		l->after[0] = '\0';
	}
	n = db_image_fps(l->pid, l->after, LIST_PAGE, fps);
	for (int i = 0; i < n; i++) {
		struct imsg_project_used u = {.fingerprint = fps[i]};
		proc_send(fe, IMSG_PROJECT_USED, l->reqid, &u, -1);
	}
	if (n > 0)
		snprintf(l->after, sizeof(l->after), "%s", fps[n - 1]);
	if (n < LIST_PAGE)
		l->in_used = 0;
	return LIST_PAGE;
}

static void
list_continue(void *arg, int gone)
{
	struct lister *l = arg;
	struct child *fe = proc_frontend();
	struct imsg_list_end end;
	int got;

	while (!gone && !l->cancelled && fe != NULL && fe->gen == l->fe_gen) {
		/* Other requests share the channel: wait below the bound. */
		if (fe->chan.qlen >= LIM_IPC_QUEUE_SOFT) {
			proc_on_drain(fe, list_continue, l);
			return;
		}
		if (l->kind == LIST_PROJECTS)
			got = project_page(l);
		else if (l->kind == LIST_ALIASES)
			got = db_alias_page(
			    l->pid, l->after, LIST_PAGE, list_alias, l);
		else
			got = db_images_page(
			    l->pid, l->after, LIST_PAGE, list_image, l);
		if (got < 0) {
			reply_db(l->reqid, DB_ERROR, "");
			break;
		}
		if (got < LIST_PAGE) {
			end.count = l->n;
			proc_send(fe, IMSG_LIST_END, l->reqid, &end, -1);
			break;
		}
		if (l->kind != LIST_PROJECTS) {
			l->parked = 1;
			return; /* until LIST_MORE */
		}
		if (ipc_pending(&fe->chan)) {
			proc_on_drain(fe, list_continue, l);
			return;
		}
	}
	lister_free(l);
}

/* The frontend's client took a page: the next one, or the list is
 * cancelled (the client went away). */
static void
list_more(uint64_t reqid, const struct imsg_list_more *m)
{
	struct child *fe = proc_frontend();
	struct lister *l;

	TAILQ_FOREACH (l, &listers, entry)
		if (l->reqid == reqid && fe != NULL && l->fe_gen == fe->gen)
			break;
	if (l == NULL) {
		/* A list that ended as the frontend cancelled it. */
		log_debug("LIST_MORE for %llu: no such list",
		    (unsigned long long)reqid);
		return;
	}
	if (m->cancel && !l->parked) {
		l->cancelled = 1; /* it is waiting for the channel */
		return;
	}
	if (!l->parked)
		return; /* asked for before the page was out: ignored */
	l->parked = 0;
	if (m->cancel)
		lister_free(l);
	else
		list_continue(l, 0);
}

/* A new frontend: the lists of the old one will not be asked for. */
static void
lists_frontend_gone(void)
{
	struct lister *l, *next;

	for (l = TAILQ_FIRST(&listers); l; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->parked)
			lister_free(l);
	}
}

/* proj "" (LIST_PROJECTS only): every project. */
static void
list_start(uint64_t reqid, const char *proj, int kind, int used_by)
{
	struct child *fe = proc_frontend();
	struct lister *l;
	int64_t pid = 0;

	if ((proj[0] && project(reqid, proj, &pid) == -1) || fe == NULL)
		return;
	if (nlisters >= LIM_LISTS_MAX) {
		api_reply_err(reqid, 503, "imgd is busy, try again");
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("calloc");
	TAILQ_INSERT_TAIL(&listers, l, entry);
	nlisters++;
	l->reqid = reqid;
	l->fe_gen = fe->gen;
	l->kind = kind;
	l->pid = pid;
	l->used_by = used_by;
	snprintf(l->project, sizeof(l->project), "%s", proj);
	list_continue(l, 0);
}

static int
resolve(uint64_t reqid, const char *proj, const char *ref, int64_t *pid,
    struct image *img)
{
	int rc;

	if (project(reqid, proj, pid) == -1)
		return -1;
	if ((rc = db_image_resolve(*pid, ref, img)) != DB_OK) {
		if (rc == DB_AMBIGUOUS)
			image_free(img);
		/* Never the fingerprint: a prefix must not reveal one. */
		reply_db(reqid, rc, "Image");
		return -1;
	}
	return 0;
}

static void
image_get(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	reply_image(reqid, &img, r->project);
	image_free(&img);
}

/*
 * Sets the properties from kv: all of them (PROPS_REPLACE), or over the
 * existing ones (PATCH, and X-LXD-properties over metadata.yaml). With
 * PROPS_DROP_EMPTY a key given an empty value is removed, as LXD does on
 * PUT and PATCH (it is how lxc unsets a property). -1 over limits.
 */
int
image_merge_props(
    struct image *img, const struct ipc_kv *kv, uint32_t n, int flags)
{
	struct ipc_kv merged[LIM_META_PROPERTIES_MAX];
	uint32_t m = 0;
	size_t total = 0;
	int replace = flags & PROPS_REPLACE;

	for (uint32_t i = 0; i < n; i++)
		if (!(flags & PROPS_DROP_EMPTY) || kv[i].value[0] != '\0')
			merged[m++] = kv[i];
	/* PATCH keeps the keys the request does not mention. */
	for (uint32_t i = 0; !replace && i < img->nprops; i++) {
		uint32_t k;

		for (k = 0; k < n; k++)
			if (strcmp(kv[k].key, img->props[i].key) == 0)
				break;
		if (k < n)
			continue;
		if (m == LIM_META_PROPERTIES_MAX)
			return -1;
		merged[m++] = img->props[i];
	}
	for (uint32_t i = 0; i < m; i++)
		total += strlen(merged[i].key) + strlen(merged[i].value);
	if (total > LIM_PROP_TOTAL_MAX)
		return -1;
	return image_set_props(img, merged, m);
}

static void
image_update(uint64_t reqid, struct imsg_image_update_req *r)
{
	struct image img;
	char etag[65], src[128];
	int64_t pid;
	int put = r->mode == UPD_PUT;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	image_etag(&img, etag);
	if (r->if_match[0] && strcmp(r->if_match, etag) != 0) {
		api_reply_err(reqid, 412,
		    "ETag doesn't match: the image "
		    "changed since it was read");
		goto out;
	}
	if (put || (r->set & UPD_PUBLIC))
		img.public = r->public;
	if (put || (r->set & UPD_AUTO_UPDATE))
		img.auto_update = r->auto_update;
	if (r->set & UPD_EXPIRES_AT)
		img.expires_at = r->expires_at;
	if ((put || (r->set & UPD_PROPERTIES)) &&
	    image_merge_props(&img, r->properties, r->nproperties,
		(put ? PROPS_REPLACE : 0) | PROPS_DROP_EMPTY) == -1) {
		api_reply_err(reqid, 400,
		    "Too many properties: at most %d, "
		    "%llu bytes in all",
		    LIM_META_PROPERTIES_MAX,
		    (unsigned long long)LIM_PROP_TOTAL_MAX);
		goto out;
	}
	/* Flags and properties together, or not at all. */
	if (db_begin() == -1 || db_image_update(&img) != DB_OK ||
	    db_commit() == -1) {
		db_rollback();
		reply_db(reqid, DB_ERROR, "");
		goto out;
	}
	reply_ok(reqid, NULL);
	snprintf(src, sizeof(src), "/1.0/images/%s", img.fingerprint);
	api_lifecycle(r->project, "image-updated", src,
	    peer_current()->username, NULL, NULL);
	audit("image-updated", "project", r->project, "fingerprint",
	    img.fingerprint, "requestor", peer_current()->requestor, NULL);
out:
	image_free(&img);
}

static void
image_delete(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;
	struct op *op;
	char src[128];
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	snprintf(src, sizeof(src), "/1.0/images/%s", img.fingerprint);
	op = op_new(r->project, "Deleting image", src);
	op_reply(op, reqid);
	op_start(op);
	/* Row first, then the file: a crash between leaves an orphan file
	 * that the start-up repair removes, never a row without a file. */
	if (db_image_delete(img.id) != DB_OK) {
		log_warnx("delete %s: %s", img.fingerprint, db_errmsg());
		op_finish(op, "internal database error");
		goto out;
	}
	if (db_fp_refs(img.fingerprint) == 0)
		blob_remove(img.fingerprint);
	op_finish(op, NULL);
	log_info(
	    "deleted image %s from project %s", img.fingerprint, r->project);
	api_lifecycle(r->project, "image-deleted", src,
	    peer_current()->username, NULL, NULL);
	audit("image-deleted", "project", r->project, "fingerprint",
	    img.fingerprint, "requestor", peer_current()->requestor, NULL);
out:
	image_free(&img);
}

static void
image_export(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct child *fe = proc_frontend();
	struct image img;
	char name[2][LIM_FILENAME_MAX + 1];
	int fds[2] = {-1, -1}, nparts;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	nparts = img.split ? 2 : 1;
	if (img.split) {
		snprintf(name[0], sizeof(name[0]), "meta-%s%s", img.fingerprint,
		    blob_ext(img.compression[0]));
		snprintf(name[1], sizeof(name[1]), "%s%s", img.fingerprint,
		    blob_ext(img.compression[1]));
	} else
		snprintf(name[0], sizeof(name[0]), "%s%s", img.fingerprint,
		    blob_ext(img.compression[0]));
	for (int i = 0; i < nparts; i++)
		if ((fds[i] = blob_open(img.fingerprint,
			 i == 0 ? PART_UNIFIED : PART_ROOTFS)) == -1) {
			log_warn("export %s: open", img.fingerprint);
			api_reply_err(reqid, 500, "The image file is missing");
			goto out;
		}
	for (int i = 0; i < nparts && fe; i++) {
		struct imsg_export_part p = {
		    .part = (uint8_t)(nparts == 1 ? PART_UNIFIED
				      : i == 0	  ? PART_METADATA
						  : PART_ROOTFS),
		    .nparts = (uint8_t)nparts,
		    .filename = name[i],
		};
		off_t end = lseek(fds[i], 0, SEEK_END);

		lseek(fds[i], 0, SEEK_SET);
		p.size = end > 0 ? (uint64_t)end : 0;
		proc_send(fe, IMSG_EXPORT_PART, reqid, &p, fds[i]);
		fds[i] = -1;
	}
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	image_free(&img);
}

/*
 * Inserts a validated image and its aliases in one transaction, links its
 * files, and commits: all of it, or none of it.
 */
int
image_commit(const char *proj, struct image *img, const struct ipc_kv *aliases,
    uint32_t naliases, int fds[2], char *err, size_t errlen)
{
	int64_t pid;
	int linked_before = db_fp_refs(img->fingerprint) > 0, rc;
	int layout = db_fp_split(img->fingerprint);

	if (db_project_id(proj, &pid) != DB_OK) {
		snprintf(err, errlen, "Project not found");
		return -1;
	}
	/* A unified M||R and a split (M, R) share a fingerprint but not a
	 * blob layout: the stored files must be what this row says. */
	if (layout != -1 && layout != img->split) {
		snprintf(err, errlen,
		    "An image with this fingerprint is "
		    "stored as a %s image already",
		    layout ? "split" : "unified");
		return -1;
	}
	if (db_begin() == -1) {
		snprintf(err, errlen, "internal database error");
		return -1;
	}
	if ((rc = db_image_insert(pid, img)) != DB_OK) {
		snprintf(err, errlen,
		    rc == DB_CONFLICT
			? "Image with same fingerprint already exists"
			: "internal database error");
		goto fail;
	}
	for (uint32_t i = 0; i < naliases; i++) {
		rc = db_alias_insert(
		    pid, aliases[i].key, aliases[i].value, img->id);
		if (rc != DB_OK) {
			snprintf(err, errlen,
			    rc == DB_CONFLICT ? "Alias already exists: %s"
					      : "internal database error (%s)",
			    aliases[i].key);
			goto fail;
		}
	}
	if (blob_commit(fds[0], img->fingerprint, PART_UNIFIED, err, errlen) ==
		-1 ||
	    (img->split && blob_commit(fds[1], img->fingerprint, PART_ROOTFS,
			       err, errlen) == -1))
		goto fail_files;
	if (db_commit() == -1) {
		snprintf(err, errlen, "internal database error");
		goto fail_files;
	}
	return 0;
fail_files:
	db_rollback();
	if (!linked_before)
		blob_remove(img->fingerprint);
	return -1;
fail:
	db_rollback();
	return -1;
}

/* ---- aliases ---- */

static void
reply_alias(uint64_t reqid, const struct alias *a)
{
	struct child *fe = proc_frontend();
	char etag[65];
	struct imsg_alias_info m = {
	    .name = (char *)a->name,
	    .description = (char *)a->description,
	    .target = (char *)a->target,
	    .type = "container",
	    .etag = etag,
	};

	alias_etag(a, etag);
	if (fe)
		proc_send(fe, IMSG_ALIAS_INFO, reqid, &m, -1);
}

static int
alias_lookup(uint64_t reqid, const char *proj, const char *name, int64_t *pid,
    struct alias *a)
{
	if (project(reqid, proj, pid) == -1)
		return -1;
	if (db_alias_get(*pid, name, a) != DB_OK) {
		api_reply_err(reqid, 404, "Image alias not found");
		return -1;
	}
	return 0;
}

static void
alias_get(uint64_t reqid, struct imsg_alias_req *r)
{
	struct alias a;
	int64_t pid;

	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == 0)
		reply_alias(reqid, &a);
}

/* The alias target: an image of this project, by fingerprint or prefix. */
static int
alias_target(
    uint64_t reqid, int64_t pid, const char *ref, int64_t *id, int64_t keep)
{
	struct image img;
	int rc = db_image_resolve(pid, ref, &img);
	int n;

	if (rc != DB_OK) {
		if (rc == DB_AMBIGUOUS)
			image_free(&img);
		reply_db(reqid, rc, "Image");
		return -1;
	}
	*id = img.id;
	image_free(&img);
	n = db_alias_count(*id);
	if (*id != keep && n >= LIM_ALIASES_PER_IMAGE) {
		api_reply_err(reqid, 400, "An image has at most %d aliases",
		    LIM_ALIASES_PER_IMAGE);
		return -1;
	}
	return 0;
}

/* The rule for new alias names is decided here; -1 when refused. */
static int
alias_refuse_name(uint64_t reqid, const char *name)
{
	char msg[300];

	if (alias_name_refusal(name, msg, sizeof(msg)) == 0)
		return 0;
	api_reply_err(reqid, 400, "%s", msg);
	return -1;
}

static void
alias_create(uint64_t reqid, struct imsg_alias_create_req *r)
{
	struct alias a;
	char src[640];
	int64_t pid, id;

	if (project(reqid, r->project, &pid) == -1 ||
	    alias_refuse_name(reqid, r->name) == -1)
		return;
	if (r->type[0] && strcmp(r->type, "container") != 0) {
		api_reply_err(
		    reqid, 400, "Unsupported alias type \"%s\"", r->type);
		return;
	}
	if (db_alias_get(pid, r->name, &a) == DB_OK) {
		api_reply_err(
		    reqid, 409, "Alias \"%s\" already exists", r->name);
		return;
	}
	if (alias_target(reqid, pid, r->target, &id, -1) == -1)
		return;
	if (db_alias_insert(pid, r->name, r->description, id) != DB_OK) {
		reply_db(reqid, DB_ERROR, "");
		return;
	}
	snprintf(src, sizeof(src), "/1.0/images/aliases/%s", r->name);
	reply_ok(reqid, src);
	db_alias_get(pid, r->name, &a);
	api_lifecycle(r->project, "image-alias-created", src,
	    peer_current()->username, "target", a.target);
	audit("image-alias-created", "project", r->project, "alias", r->name,
	    "target", a.target, "requestor", peer_current()->requestor, NULL);
}

static void
alias_update(uint64_t reqid, struct imsg_alias_update_req *r)
{
	struct alias a;
	char etag[65], src[640];
	const char *desc;
	int64_t pid, id;
	int put = r->mode == UPD_PUT;

	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	alias_etag(&a, etag);
	if (r->if_match[0] && strcmp(r->if_match, etag) != 0) {
		api_reply_err(reqid, 412,
		    "ETag doesn't match: the alias "
		    "changed since it was read");
		return;
	}
	if (put && !(r->set & UPD_TARGET)) {
		api_reply_err(reqid, 400, "The target field is required");
		return;
	}
	id = a.image_id;
	if ((r->set & UPD_TARGET) &&
	    alias_target(reqid, pid, r->target, &id, a.image_id) == -1)
		return;
	desc =
	    put || (r->set & UPD_DESCRIPTION) ? r->description : a.description;
	if (db_alias_update(a.id, id, desc) != DB_OK) {
		reply_db(reqid, DB_ERROR, "");
		return;
	}
	reply_ok(reqid, NULL);
	db_alias_get(pid, r->name, &a);
	snprintf(src, sizeof(src), "/1.0/images/aliases/%s", r->name);
	api_lifecycle(r->project, "image-alias-updated", src,
	    peer_current()->username, "target", a.target);
	audit("image-alias-updated", "project", r->project, "alias", r->name,
	    "target", a.target, "requestor", peer_current()->requestor, NULL);
}

static void
alias_rename(uint64_t reqid, struct imsg_alias_rename_req *r)
{
	struct alias a, b;
	char src[640];
	int64_t pid;

	if (project(reqid, r->project, &pid) == -1 ||
	    alias_refuse_name(reqid, r->new_name) == -1)
		return;
	if (db_alias_get(pid, r->new_name, &b) == DB_OK) {
		api_reply_err(
		    reqid, 409, "Alias \"%s\" already exists", r->new_name);
		return;
	}
	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	if (db_alias_rename(a.id, r->new_name) != DB_OK) {
		reply_db(reqid, DB_ERROR, "");
		return;
	}
	snprintf(src, sizeof(src), "/1.0/images/aliases/%s", r->new_name);
	reply_ok(reqid, src);
	api_lifecycle(r->project, "image-alias-renamed", src,
	    peer_current()->username, "old_name", r->name);
	audit("image-alias-renamed", "project", r->project, "alias",
	    r->new_name, "old_name", r->name, "requestor",
	    peer_current()->requestor, NULL);
}

static void
alias_delete(uint64_t reqid, struct imsg_alias_req *r)
{
	struct alias a;
	char src[640];
	int64_t pid;

	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	if (db_alias_delete(a.id) != DB_OK) {
		reply_db(reqid, DB_ERROR, "");
		return;
	}
	reply_ok(reqid, NULL);
	snprintf(src, sizeof(src), "/1.0/images/aliases/%s", r->name);
	api_lifecycle(r->project, "image-alias-deleted", src,
	    peer_current()->username, NULL, NULL);
	audit("image-alias-deleted", "project", r->project, "alias", r->name,
	    "requestor", peer_current()->requestor, NULL);
}

void
api_frontend_ready(struct child *fe)
{
	struct imsg_listen l = {
	    .id = peer_unix_listener(), .kind = LISTEN_UNIX, .name = "unix"};
	struct imsg_server_info si = {
	    .version = IMGD_VERSION,
	    .server_name = S->server_name,
	    .architectures = S->archs,
	    .narchitectures = S->narchs,
	};
	int fd = dup(S->unix_fd);

	/* The frontend only ever gets sockets that already listen. */
	if (fd == -1 || proc_send(fe, IMSG_LISTEN, 0, &l, fd) == -1 ||
	    proc_send(fe, IMSG_SERVER_INFO, 0, &si, -1) == -1)
		return;
	ops_frontend_gone();
	lists_frontend_gone();
}

/* Where a request says it came from; NULL for an upload's later parts. */
static const struct ipc_peer *
peer_of(struct ipc_msg *m)
{
	union imsg_any *a = &m->m;

	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
		return &a->images_list_req.peer;
	case IMSG_IMAGE_GET_REQ:
	case IMSG_IMAGE_DELETE_REQ:
	case IMSG_IMAGE_EXPORT_REQ:
		return &a->image_ref_req.peer;
	case IMSG_IMAGE_UPDATE_REQ:
		return &a->image_update_req.peer;
	case IMSG_PROJECT_REQ:
		return &a->project_req.peer;
	case IMSG_OP_GET_REQ:
	case IMSG_OP_LIST_REQ:
	case IMSG_OP_WAIT_REQ:
		return &a->op_req.peer;
	case IMSG_ALIAS_LIST_REQ:
		return &a->alias_list_req.peer;
	case IMSG_ALIAS_GET_REQ:
	case IMSG_ALIAS_DELETE_REQ:
		return &a->alias_req.peer;
	case IMSG_ALIAS_CREATE_REQ:
		return &a->alias_create_req.peer;
	case IMSG_ALIAS_UPDATE_REQ:
		return &a->alias_update_req.peer;
	case IMSG_ALIAS_RENAME_REQ:
		return &a->alias_rename_req.peer;
	case IMSG_UPLOAD_BEGIN:
		return &a->upload_begin.peer;
	case IMSG_UPLOAD_REFUSED:
		return &a->upload_refused.peer;
	default:
		return NULL;
	}
}

void
api_dispatch(struct child *fe, struct ipc_msg *m)
{
	union imsg_any *a = &m->m;
	const struct ipc_peer *p = peer_of(m);
	struct who w;

	if (p != NULL) {
		if (peer_derive(p, &w) == -1) {
			log_warnx("frontend: a request from listener %u, "
				  "which the store never gave",
			    p->listener);
			proc_kill(fe, "request from an unknown listener");
			if (m->fd != -1)
				close(m->fd);
			m->fd = -1;
			return;
		}
		peer_set_current(&w);
	}
	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
		list_start(m->id, a->images_list_req.project, LIST_IMAGES, 0);
		break;
	case IMSG_IMAGE_GET_REQ:
		image_get(m->id, &a->image_ref_req);
		break;
	case IMSG_IMAGE_UPDATE_REQ:
		changing_set(m->id, "image-update", a->image_update_req.project,
		    a->image_update_req.ref, peer_current()->requestor);
		image_update(m->id, &a->image_update_req);
		break;
	case IMSG_IMAGE_DELETE_REQ:
		changing_set(m->id, "image-delete", a->image_ref_req.project,
		    a->image_ref_req.ref, peer_current()->requestor);
		image_delete(m->id, &a->image_ref_req);
		break;
	case IMSG_IMAGE_EXPORT_REQ:
		image_export(m->id, &a->image_ref_req);
		break;
	case IMSG_ALIAS_LIST_REQ:
		list_start(m->id, a->alias_list_req.project, LIST_ALIASES, 0);
		break;
	case IMSG_LIST_MORE:
		list_more(m->id, &a->list_more);
		break;
	case IMSG_OP_GET_REQ:
	case IMSG_OP_LIST_REQ:
	case IMSG_OP_WAIT_REQ:
		ops_request(m->id, m->type, &a->op_req);
		break;
	case IMSG_PROJECT_REQ:
		list_start(m->id, a->project_req.name, LIST_PROJECTS,
		    a->project_req.used_by);
		break;
	case IMSG_ALIAS_GET_REQ:
		alias_get(m->id, &a->alias_req);
		break;
	case IMSG_ALIAS_CREATE_REQ:
		changing_set(m->id, "alias-create", a->alias_create_req.project,
		    a->alias_create_req.name, peer_current()->requestor);
		alias_create(m->id, &a->alias_create_req);
		break;
	case IMSG_ALIAS_UPDATE_REQ:
		changing_set(m->id, "alias-update", a->alias_update_req.project,
		    a->alias_update_req.name, peer_current()->requestor);
		alias_update(m->id, &a->alias_update_req);
		break;
	case IMSG_ALIAS_RENAME_REQ:
		changing_set(m->id, "alias-rename", a->alias_rename_req.project,
		    a->alias_rename_req.name, peer_current()->requestor);
		alias_rename(m->id, &a->alias_rename_req);
		break;
	case IMSG_ALIAS_DELETE_REQ:
		changing_set(m->id, "alias-delete", a->alias_req.project,
		    a->alias_req.name, peer_current()->requestor);
		alias_delete(m->id, &a->alias_req);
		break;
	case IMSG_UPLOAD_BEGIN:
		upload_begin(m->id, &a->upload_begin, m->fd);
		m->fd = -1;
		break;
	case IMSG_UPLOAD_PART:
		upload_part(m->id, &a->upload_part, m->fd);
		m->fd = -1;
		break;
	case IMSG_UPLOAD_REFUSED:
		/* The frontend's word, recorded as such. */
		audit("image-import-refused", "project",
		    a->upload_refused.project, "requestor",
		    peer_current()->requestor, "cause",
		    a->upload_refused.reason, "by", "frontend", NULL);
		break;
	case IMSG_UPLOAD_END:
		upload_end(m->id, &a->upload_end);
		break;
	default:
		/* The table lets the frontend send nothing else. */
		proc_kill(fe, "unexpected record");
	}
	changing.action = NULL; /* its strings live in m only */
}
