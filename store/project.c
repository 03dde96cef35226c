/*
 * Project management: create, replace (PUT), update (PATCH), rename and
 * delete, decided here as LXD decides them where LXD is sound:
 *
 *  - config keys: features.images, .profiles, .storage.volumes, .networks
 *    (booleans; a new project gets the first three true unless told
 *    otherwise, as LXD 5.0 does), limits.images (a count) and limits.disk
 *    (LXD's byte sizes); imgd's own limits.images.uploads, .copies and
 *    .unpacks (how many may run at once in the project),
 *    restricted.images.remotes (the servers it may copy from) and
 *    restricted.images.signed (only from servers with a pinned key);
 *    user.* (anything); any other key is refused, naming it;
 *  - the default project keeps its name, its features and its life;
 *  - a project's features change only while it holds no image or alias
 *    of its own, a limit is never set below what the project uses, and
 *    only an empty project is renamed or deleted.
 *
 * Every change is audited before it is answered, every refusal by
 * reply_fault (changing_set in api.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/log.h"
#include "policy/names.h"
#include "store/api.h"
#include "store/store.h"

static const char *const features[] = {
    "features.images",
    "features.profiles",
    "features.storage.volumes",
    "features.networks",
};
#define NFEATURES (sizeof(features) / sizeof(features[0]))

/* The concurrency limits, by enum busy_kind (store.h). */
static const char *const busy_keys[BUSY_MAX] = {
    "limits.images.uploads", "limits.images.copies", "limits.images.unpacks"};
static const char *const busy_words[BUSY_MAX] = {
    "uploads", "copies", "unpacks"};

/* LXD's booleans (validate.IsBool): 1 true, 0 false, -1 neither. */
static int
bool_value(const char *v)
{
	static const char *const t[] = {"true", "1", "yes", "on"};
	static const char *const f[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, t[i]) == 0)
			return 1;
		if (strcasecmp(v, f[i]) == 0)
			return 0;
	}
	return -1;
}

/* LXD's byte sizes (units.ParseByteSizeString): an integer and an optional
 * unit, B, kB MB GB TB PB EB (powers of 1000) or KiB ... EiB (of 1024). */
int
project_bytes(const char *v, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} u[] = {
	    {"", 1},
	    {"B", 1},
	    {"kB", 1000ULL},
	    {"MB", 1000ULL * 1000},
	    {"GB", 1000ULL * 1000 * 1000},
	    {"TB", 1000ULL * 1000 * 1000 * 1000},
	    {"PB", 1000ULL * 1000 * 1000 * 1000 * 1000},
	    {"EB", 1000ULL * 1000 * 1000 * 1000 * 1000 * 1000},
	    {"KiB", 1ULL << 10},
	    {"MiB", 1ULL << 20},
	    {"GiB", 1ULL << 30},
	    {"TiB", 1ULL << 40},
	    {"PiB", 1ULL << 50},
	    {"EiB", 1ULL << 60},
	};
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (strcmp(end, u[i].unit) == 0) {
			if (n > UINT64_MAX / u[i].mult)
				return -1;
			*out = n * u[i].mult;
			return 0;
		}
	return -1;
}

static int
count_value(const char *v, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end ? -1 : 0;
}

/* The limit a project sets (UINT64_MAX: none). */
uint64_t
project_limit(const struct project *p, const char *key)
{
	const char *v = project_config_get(p, key);
	uint64_t n;

	if (v == NULL || !*v)
		return UINT64_MAX;
	if (strcmp(key, "limits.disk") == 0)
		return project_bytes(v, &n) == 0 ? n : UINT64_MAX;
	return count_value(v, &n) == 0 ? n : UINT64_MAX;
}

static int
feature_on(const struct project *p, const char *key)
{
	const char *v = project_config_get(p, key);

	return v != NULL && bool_value(v) == 1;
}

/* One key and its value, or a refusal in f. */
static int
check_key(const char *key, const char *value, struct fault *f)
{
	uint64_t n;

	for (size_t i = 0; i < NFEATURES; i++)
		if (strcmp(key, features[i]) == 0) {
			if (bool_value(value) != -1)
				return 0;
			fault_invalid(f,
			    "Invalid value for project configuration key "
			    "\"%s\": \"%.64s\" is not a boolean",
			    key, value);
			return -1;
		}
	if (strncmp(key, "user.", 5) == 0 && key[5])
		return 0;
	if (strcmp(key, "limits.images") == 0) {
		if (!*value || count_value(value, &n) == 0)
			return 0;
		fault_invalid(f,
		    "Invalid value for project configuration key "
		    "\"limits.images\": \"%.64s\" is not a number of images",
		    value);
		return -1;
	}
	for (size_t i = 0; i < BUSY_MAX; i++)
		if (strcmp(key, busy_keys[i]) == 0) {
			if (!*value || count_value(value, &n) == 0)
				return 0;
			fault_invalid(f,
			    "Invalid value for project configuration key "
			    "\"%s\": \"%.64s\" is not a number of %s at once",
			    key, value, busy_words[i]);
			return -1;
		}
	if (strcmp(key, "restricted.images.signed") == 0) {
		if (!*value || bool_value(value) != -1)
			return 0;
		fault_invalid(f,
		    "Invalid value for project configuration key "
		    "\"restricted.images.signed\": \"%.64s\" is not a boolean",
		    value);
		return -1;
	}
	if (strcmp(key, "restricted.images.remotes") == 0) {
		size_t bad = strspn(value, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789.-:[], *");
		if (value[bad] == '\0')
			return 0;
		fault_invalid(f,
		    "Invalid value for project configuration key "
		    "\"restricted.images.remotes\": give host names or "
		    "addresses separated by commas, not \"%.64s\"",
		    value);
		return -1;
	}
	if (strcmp(key, "limits.disk") == 0) {
		if (!*value || project_bytes(value, &n) == 0)
			return 0;
		fault_invalid(f,
		    "Invalid value for project configuration key "
		    "\"limits.disk\": \"%.64s\" is not a size (like 10GiB or "
		    "500MB)",
		    value);
		return -1;
	}
	fault_invalid(f,
	    "Invalid project configuration key \"%.128s\" (imgd knows "
	    "features.images, features.profiles, features.storage.volumes, "
	    "features.networks, limits.images, limits.disk, "
	    "limits.images.uploads, limits.images.copies, "
	    "limits.images.unpacks, restricted.images.remotes, "
	    "restricted.images.signed and user.*)",
	    key);
	return -1;
}

static void
config_set(struct project *p, const char *key, const char *value)
{
	uint32_t i;

	for (i = 0; i < p->nconfig; i++)
		if (strcmp(p->config[i].key, key) == 0)
			break;
	if (i == p->nconfig) {
		if (p->nconfig == LIM_PROJECT_CONFIG_MAX)
			return; /* the IPC table bounds what came in */
		p->nconfig++;
	}
	snprintf(p->config[i].key, sizeof(p->config[0].key), "%s", key);
	snprintf(p->config[i].value, sizeof(p->config[0].value), "%s", value);
}

/* The request's config into p: all of it (replace) or over p's. An empty
 * value removes a key, as in LXD. */
static int
apply_config(struct project *p, const struct imsg_project_change_req *r,
    int replace, struct fault *f)
{
	struct project *q;
	uint32_t i;

	for (i = 0; i < r->nconfig; i++)
		if (check_key(r->config[i].key, r->config[i].value, f) == -1)
			return -1;
	if (replace)
		p->nconfig = 0;
	for (i = 0; i < r->nconfig; i++)
		config_set(p, r->config[i].key, r->config[i].value);
	/* Drop the emptied keys. */
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("calloc");
	for (i = 0; i < p->nconfig; i++)
		if (p->config[i].value[0])
			q->config[q->nconfig++] = p->config[i];
	memcpy(p->config, q->config, sizeof(q->config[0]) * q->nconfig);
	p->nconfig = q->nconfig;
	free(q);
	return 0;
}

/* What a changed config may not do to the project as it is (old). */
static int
check_change(
    const struct project *old, const struct project *p, struct fault *f)
{
	int64_t images, aliases, bytes;
	uint64_t lim;

	for (size_t i = 0; i < NFEATURES; i++) {
		if (feature_on(old, features[i]) == feature_on(p, features[i]))
			continue;
		if (old->id == DB_DEFAULT_PROJECT) {
			fault_invalid(f, "You can't change the features of the "
					 "default project");
			return -1;
		}
		db_project_usage(old->id, &images, &aliases, &bytes);
		if (strcmp(features[i], "features.images") == 0 &&
		    (images > 0 || aliases > 0)) {
			fault_invalid(f,
			    "Features can only be changed on empty projects: "
			    "project \"%s\" holds %" PRId64
			    " images and %" PRId64 " aliases",
			    old->name, images, aliases);
			return -1;
		}
	}
	db_project_usage(old->id, &images, &aliases, &bytes);
	if ((lim = project_limit(p, "limits.images")) != UINT64_MAX &&
	    lim < (uint64_t)images) {
		fault_invalid(f,
		    "limits.images %" PRIu64 " is below what project \"%s\" "
		    "holds: %" PRId64 " images",
		    lim, old->name, images);
		return -1;
	}
	if ((lim = project_limit(p, "limits.disk")) != UINT64_MAX &&
	    lim < (uint64_t)bytes) {
		fault_invalid(f,
		    "limits.disk %" PRIu64 " bytes is below what project "
		    "\"%s\" holds: %" PRId64 " bytes",
		    lim, old->name, bytes);
		return -1;
	}
	return 0;
}

static void
changed(
    const char *action, const char *name, const char *ckey, const char *cval)
{
	const struct who *w = peer_current();

	audit(action, "project", name, "requestor", w->requestor, ckey, cval,
	    NULL);
	api_lifecycle(name, action, RES_PROJECT, name, w->username, ckey, cval);
}

static void
project_create(uint64_t reqid, const struct imsg_project_change_req *r)
{
	struct project *p;
	struct fault f;
	char why[128];
	int rc;

	if (project_name_check(r->name, why, sizeof(why)) == -1) {
		fault_invalid(&f, "%s", why);
		reply_fault(reqid, &f);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	snprintf(p->name, sizeof(p->name), "%s", r->name);
	snprintf(p->description, sizeof(p->description), "%s", r->description);
	for (size_t i = 0; i < 3; i++) /* not features.networks */
		config_set(p, features[i], "true");
	if (apply_config(p, r, 0, &f) == -1) {
		reply_fault(reqid, &f);
		goto out;
	}
	if (db_begin() == -1) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	if ((rc = db_project_create(p)) != DB_OK || db_commit() == -1) {
		db_rollback();
		if (rc == DB_CONFLICT)
			api_refuse(reqid, ERR_EXISTS, RES_PROJECT, r->name);
		else
			reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	log_info("project %s created", p->name);
	changed("project-created", p->name, NULL, NULL);
	reply_ok(reqid, RES_PROJECT, p->name);
out:
	free(p);
}

static void
project_update(uint64_t reqid, const struct imsg_project_change_req *r)
{
	struct project *old, *p;
	struct fault f;
	int put = r->action == PROJ_PUT;

	if ((old = calloc(2, sizeof(*old))) == NULL)
		fatal("calloc");
	p = old + 1;
	if (db_project_get(r->name, old) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_PROJECT, r->name);
		goto out;
	}
	*p = *old;
	if (put || (r->set & PROJ_SET_DESCRIPTION))
		snprintf(p->description, sizeof(p->description), "%s",
		    r->description);
	if ((put || (r->set & PROJ_SET_CONFIG)) &&
	    apply_config(p, r, put, &f) == -1) {
		reply_fault(reqid, &f);
		goto out;
	}
	if (check_change(old, p, &f) == -1) {
		reply_fault(reqid, &f);
		goto out;
	}
	if (db_begin() == -1 || db_project_update(p) != DB_OK ||
	    db_commit() == -1) {
		db_rollback();
		reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	log_info("project %s updated", p->name);
	changed("project-updated", p->name, NULL, NULL);
	reply_ok(reqid, RES_NONE, "");
out:
	free(old);
}

/* 0 if the project holds nothing of its own, else a refusal in f. */
static int
check_empty(const struct project *p, const char *change, struct fault *f)
{
	int64_t images, aliases, bytes;

	db_project_usage(p->id, &images, &aliases, &bytes);
	if (images == 0 && aliases == 0)
		return 0;
	fault_set(f, ERR_IN_USE, RES_PROJECT, p->name);
	snprintf(f->detail, sizeof(f->detail), "%s", change);
	f->limit = (uint64_t)images;
	f->bytes = (uint64_t)aliases;
	return -1;
}

static void
project_rename(uint64_t reqid, const struct imsg_project_change_req *r)
{
	struct project *p;
	struct fault f;
	struct op *op;
	char why[128];
	int rc;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (db_project_get(r->name, p) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_PROJECT, r->name);
		goto out;
	}
	if (p->id == DB_DEFAULT_PROJECT) {
		fault_invalid(&f, "The 'default' project cannot be renamed");
		reply_fault(reqid, &f);
		goto out;
	}
	if (project_name_check(r->new_name, why, sizeof(why)) == -1) {
		fault_invalid(&f, "%s", why);
		reply_fault(reqid, &f);
		goto out;
	}
	if (check_empty(p, "renamed", &f) == -1) {
		reply_fault(reqid, &f);
		goto out;
	}
	/* Checked before the operation, so that a refusal is the answer. */
	if ((rc = db_project_rename(p->id, r->new_name)) != DB_OK) {
		if (rc == DB_CONFLICT)
			api_refuse(reqid, ERR_EXISTS, RES_PROJECT, r->new_name);
		else
			reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	/* LXD answers a rename with an operation (of no project: the
	 * default's, where the client looks for it). */
	op = op_new("default", "Renaming project", NULL);
	log_info("project %s renamed to %s", r->name, r->new_name);
	changed("project-renamed", r->new_name, "old_name", r->name);
	op_reply(op, reqid);
	op_start(op);
	op_finish(op, NULL);
out:
	free(p);
}

static void
project_delete(uint64_t reqid, const struct imsg_project_change_req *r)
{
	struct project *p;
	struct fault f;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (db_project_get(r->name, p) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_PROJECT, r->name);
		goto out;
	}
	if (p->id == DB_DEFAULT_PROJECT) {
		fault_invalid(&f, "The 'default' project cannot be deleted");
		reply_fault(reqid, &f);
		goto out;
	}
	if (check_empty(p, "deleted", &f) == -1) {
		reply_fault(reqid, &f);
		goto out;
	}
	if (db_project_delete(p->id) != DB_OK) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	log_info("project %s deleted", p->name);
	changed("project-deleted", p->name, NULL, NULL);
	reply_ok(reqid, RES_NONE, "");
out:
	free(p);
}

void
project_change(uint64_t reqid, struct imsg_project_change_req *r)
{
	switch (r->action) {
	case PROJ_CREATE:
		project_create(reqid, r);
		break;
	case PROJ_PUT:
	case PROJ_PATCH:
		project_update(reqid, r);
		break;
	case PROJ_RENAME:
		project_rename(reqid, r);
		break;
	case PROJ_DELETE:
		project_delete(reqid, r);
		break;
	}
}

/* ---- operations under way, per project ---- */

/* The projects with something under way; an entry goes when all its
 * counts are back to 0. Names, not ids: a request names its project, and
 * only an empty project is renamed. */
static struct busy {
	char name[LIM_PROJECT_NAME_MAX + 1];
	uint32_t n[BUSY_MAX];
} * busy;
static size_t nbusy;

static struct busy *
busy_find(const char *project)
{
	for (size_t i = 0; i < nbusy; i++)
		if (strcmp(busy[i].name, project) == 0)
			return &busy[i];
	return NULL;
}

int
project_busy_enter(const char *project, int kind, struct fault *f)
{
	struct busy *b = busy_find(project), *grown;
	struct project *p;
	uint64_t lim = UINT64_MAX;
	uint32_t now = b ? b->n[kind] : 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (db_project_get(project, p) == DB_OK)
		lim = project_limit(p, busy_keys[kind]);
	free(p);
	if (lim != UINT64_MAX && now >= lim) {
		fault_set(f, ERR_QUOTA, RES_PROJECT, project);
		snprintf(f->detail, sizeof(f->detail), "%s", busy_keys[kind]);
		f->limit = lim;
		f->bytes = (uint64_t)now + 1;
		return -1;
	}
	if (b == NULL) {
		if ((grown = realloc(busy, (nbusy + 1) * sizeof(*busy))) ==
		    NULL)
			fatal("realloc");
		busy = grown;
		b = &busy[nbusy++];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", project);
	}
	b->n[kind]++;
	return 0;
}

void
project_busy_leave(const char *project, int kind)
{
	struct busy *b = busy_find(project);

	if (b == NULL || b->n[kind] == 0)
		return;
	b->n[kind]--;
	for (int i = 0; i < BUSY_MAX; i++)
		if (b->n[i])
			return;
	*b = busy[--nbusy];
}

uint32_t
project_busy(const char *project, int kind)
{
	const struct busy *b = busy_find(project);

	return b ? b->n[kind] : 0;
}

/* -1 and f when the project may not copy from host (its
 * restricted.images.remotes does not list it, or its
 * restricted.images.signed wants a key pinned for it, and there is
 * none). */
int
project_remote_refusal(
    const char *project, const char *host, int pinned, struct fault *f)
{
	struct project *p;
	const char *v;
	int rc = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (db_project_get(project, p) != DB_OK)
		goto out;
	v = project_config_get(p, "restricted.images.remotes");
	if (v && *v && !project_host_listed(v, host)) {
		fault_set(f, ERR_FETCH_REFUSED, RES_IMAGE, host);
		snprintf(f->detail, sizeof(f->detail),
		    "project \"%s\" may copy only from %.200s "
		    "(restricted.images.remotes)",
		    project, v);
		rc = -1;
		goto out;
	}
	v = project_config_get(p, "restricted.images.signed");
	if (v && bool_value(v) == 1 && !pinned) {
		fault_set(f, ERR_FETCH_REFUSED, RES_IMAGE, host);
		snprintf(f->detail, sizeof(f->detail),
		    "project \"%s\" copies only from servers with a pinned "
		    "key (restricted.images.signed), and fetch_keys_dir has "
		    "none for %s",
		    project, host);
		rc = -1;
	}
out:
	free(p);
	return rc;
}

/* Is host in a list of names separated by commas or spaces ("*" matches
 * any)? Names compare without case. */
int
project_host_listed(const char *list, const char *host)
{
	while (*list) {
		size_t n = strcspn(list, ", ");

		if ((n == 1 && list[0] == '*') ||
		    (n == strlen(host) && strncasecmp(list, host, n) == 0))
			return 1;
		list += n;
		list += strspn(list, ", ");
	}
	return 0;
}
