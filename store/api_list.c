/*
 * Lists for the frontend: images, aliases and projects, a page at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"
#include "store/api.h"

/*
 * Lists go out a page at a time. Image and alias lists wait, after each
 * full page, for the frontend's LIST_MORE (sent once its client has taken
 * that page): neither process holds a whole list, and a slow client slows
 * only its own list. Project lists (small) wait only for the channel.
 */
#define LIST_PAGE LIM_LIST_PAGE

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
	int public_only;       /* an untrusted client's list */
	int streams;	       /* LISTM_STREAMS: public images by product */
	struct authz_ident id; /* LIST_PROJECTS: who asked (the policy
				* shows it the projects it has a role in) */
	char after_product[4 * 64 + 4];
	/* "" or the property every image listed has (the frontend's
	 * filter, narrowed) */
	char pkey[LIM_PROP_KEY_MAX + 1];
	char pval[LIM_FILTER_VALUE + 1];
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

	reply_image(l->reqid, img, l->project, 1);
	snprintf(l->after, sizeof(l->after), "%s", img->fingerprint);
	l->n++;
	return 0;
}

static int
list_product(struct image *img, void *arg)
{
	struct lister *l = arg;

	snprintf(
	    l->after_product, sizeof(l->after_product), "%s", img->product);
	return list_image(img, arg);
}

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
		struct imsg_project_info m = {0};
		struct ipc_kv kv[LIM_PROJECT_CONFIG_MAX];
		struct project *p;

		if (l->project[0] && l->n > 0)
			return 0;
		for (;;) {
			if (l->project[0])
				snprintf(name, sizeof(name), "%s", l->project);
			else if (db_project_next(
				     l->last, &l->pid, name, sizeof(name)))
				return 0;
			if (l->project[0] || access_sees_project(&l->id, name))
				break;
			snprintf(l->last, sizeof(l->last), "%s", name);
		}
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal("calloc");
		if (db_project_get(name, p) != DB_OK) {
			free(p);
			return 0;
		}
		/* used_by: the project's own images. */
		l->pid = p->id;
		snprintf(l->last, sizeof(l->last), "%s", name);
		m.name = name;
		m.description = p->description;
		for (uint32_t i = 0; i < p->nconfig; i++) {
			kv[i].key = p->config[i].key;
			kv[i].value = p->config[i].value;
		}
		m.config = kv;
		m.nconfig = p->nconfig;
		proc_send(fe, IMSG_PROJECT_INFO, l->reqid, &m, -1);
		free(p);
		l->n++;
		if (!l->used_by)
			return LIST_PAGE;
		l->in_used = 1;
		l->after[0] = '\0';
	}
	n = db_image_fps(l->pid, l->after, 0, LIST_PAGE, fps);
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

static void list_run(struct lister *l, int gone);

/* A page's records leave in as few datagrams as they fit in (the write
 * event flushes them once this returns). */
static void
list_continue(void *arg, int gone)
{
	struct child *fe = proc_frontend();

	if (fe != NULL)
		ipc_cork(&fe->chan, 1);
	list_run(arg, gone);
	if (fe != NULL)
		ipc_cork(&fe->chan, 0);
}

static void
list_run(struct lister *l, int gone)
{
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
		else if (l->streams)
			got = db_images_by_product(l->pid, l->after_product,
			    l->after, LIST_PAGE, list_product, l);
		else
			got = db_images_page(l->pid, l->after, l->public_only,
			    l->pkey, l->pval, LIST_PAGE, list_image, l);
		if (got < 0) {
			reply_db(l->reqid, DB_ERROR, RES_NONE);
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
void
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
void
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
void
list_start(uint64_t reqid, const char *proj, int kind, int used_by,
    const char *pkey, const char *pval)
{
	struct child *fe = proc_frontend();
	struct lister *l;
	int64_t pid = 0;
	int streams = kind == LIST_STREAMS;
	int public_only = !peer_current()->trusted || streams;

	if (streams)
		kind = LIST_IMAGES;

	/* An untrusted client learns nothing of projects: none, no images. */
	if (public_only && proj[0] && db_project_id(proj, &pid) != DB_OK) {
		struct imsg_list_end end = {.count = 0};

		if (fe)
			proc_send(fe, IMSG_LIST_END, reqid, &end, -1);
		return;
	}
	if ((proj[0] && !public_only && api_project(reqid, proj, &pid) == -1) ||
	    fe == NULL)
		return;
	if (nlisters >= LIM_LISTS_MAX) {
		api_refuse(reqid, ERR_BUSY, RES_NONE, NULL);
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
	l->public_only = public_only;
	l->streams = streams;
	l->id = peer_current()->id;
	snprintf(l->project, sizeof(l->project), "%s", proj);
	snprintf(l->pkey, sizeof(l->pkey), "%s", pkey ? pkey : "");
	snprintf(
	    l->pval, sizeof(l->pval), "%s", l->pkey[0] && pval ? pval : "");
	if (l->pkey[0])
		log_debug("list %llu: narrowed to property %s = %s",
		    (unsigned long long)reqid, l->pkey, l->pval);
	list_continue(l, 0);
}
