/*
 * The store's sqlite database (WAL): projects, images, their properties and
 * aliases. Only the store opens it. Every image and alias belongs to a
 * project ("default" unless the API says otherwise).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/log.h"
#include "store/db_priv.h"
#include "store/store.h"

static sqlite3 *db;
static int wal_frames; /* in the WAL after the last commit */

static int
wal_cb(void *arg, sqlite3 *d, const char *name, int frames)
{
	(void)arg;
	(void)d;
	(void)name;
	wal_frames = frames;
	return SQLITE_OK;
}

static const char schema[] =
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE IF NOT EXISTS projects ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE);"
    "INSERT OR IGNORE INTO projects (id, name) VALUES (1, 'default');"
    "CREATE TABLE IF NOT EXISTS images ("
    "  id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id)"
    "    ON DELETE CASCADE,"
    "  fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64),"
    "  filename TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  public INTEGER NOT NULL,"
    "  auto_update INTEGER NOT NULL,"
    "  cached INTEGER NOT NULL DEFAULT 0,"
    "  split INTEGER NOT NULL,"
    "  architecture TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  uploaded_at INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL DEFAULT 0,"
    "  compression0 TEXT NOT NULL,"
    "  compression1 TEXT NOT NULL,"
    "  UNIQUE (project_id, fingerprint));"
    "CREATE INDEX IF NOT EXISTS images_fingerprint ON images (fingerprint);"
    "CREATE TABLE IF NOT EXISTS image_properties ("
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (image_id, key));"
    "CREATE TABLE IF NOT EXISTS image_aliases ("
    "  id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id)"
    "    ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  description TEXT NOT NULL,"
    "  UNIQUE (project_id, name));"
    "CREATE INDEX IF NOT EXISTS image_aliases_image ON image_aliases "
    "  (image_id);"
    /* A filter= narrowed to one property (db_images_page). */
    "CREATE INDEX IF NOT EXISTS image_properties_kv ON image_properties "
    "  (key, value COLLATE NOCASE);"
    /* Trusted TLS client certificates, by the sha256 of their DER. */
    "CREATE TABLE IF NOT EXISTS certificates ("
    "  fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),"
    "  name TEXT NOT NULL,"
    "  der BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    /* Join tokens: the sha256 of the secret, never the secret. */
    "CREATE TABLE IF NOT EXISTS trust_tokens ("
    "  name TEXT PRIMARY KEY,"
    "  secret_sha256 TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    /* Where a copy by alias came from, for refreshes (LXD's
     * images_source). */
    "CREATE TABLE IF NOT EXISTS image_sources ("
    "  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    "  server TEXT NOT NULL,"
    "  protocol INTEGER NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  certificate TEXT NOT NULL);"
    /* The newest signed index accepted from each pinned server. */
    "CREATE TABLE IF NOT EXISTS remote_state ("
    "  server TEXT PRIMARY KEY,"
    "  signed_at INTEGER NOT NULL);"
    /* A project's config: features.*, limits.*, user.* (store/project.c
     * says which keys and values). */
    "CREATE TABLE IF NOT EXISTS project_config ("
    "  project_id INTEGER NOT NULL REFERENCES projects(id)"
    "    ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (project_id, key));";

/* Prepared statements, cached by the address of their SQL literal. */
static struct {
	const char *sql;
	sqlite3_stmt *st;
} cache[128];

static sqlite3_stmt *
stmt(const char *sql)
{
	size_t i;

	for (i = 0; i < sizeof(cache) / sizeof(cache[0]) && cache[i].sql; i++)
		if (cache[i].sql == sql) {
			sqlite3_reset(cache[i].st);
			sqlite3_clear_bindings(cache[i].st);
			return cache[i].st;
		}
	if (i == sizeof(cache) / sizeof(cache[0]))
		fatalx("%s: statement cache full", __func__);
	if (sqlite3_prepare_v2(db, sql, -1, &cache[i].st, NULL) != SQLITE_OK)
		fatalx("%s: %s: %s", __func__, sql, sqlite3_errmsg(db));
	cache[i].sql = sql;
	return cache[i].st;
}

/* The first column of the first row, or none when there is no row. */
static int64_t
first_int(sqlite3_stmt *s, int64_t none)
{
	return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0)
					     : none;
}

int
db_changes(void)
{
	return sqlite3_changes(db);
}

int64_t
db_last_rowid(void)
{
	return sqlite3_last_insert_rowid(db);
}

const char *
db_errmsg(void)
{
	return sqlite3_errmsg(db);
}

/* Projects gained a description with project management: the column is
 * added once, to a new database and to an older one alike, and then the
 * default project gets what LXD gives it (its features cannot change). */
static int
migrate_projects(char **msg)
{
	sqlite3_stmt *s;
	int have;

	if (sqlite3_prepare_v2(db,
		"SELECT 1 FROM pragma_table_info('projects') WHERE name = "
		"'description'",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	have = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (have)
		return 0;
	return sqlite3_exec(db,
		   "BEGIN;"
		   "ALTER TABLE projects ADD COLUMN description TEXT NOT NULL "
		   "DEFAULT '';"
		   "UPDATE projects SET description = 'Default project' "
		   "WHERE id = 1;"
		   "INSERT OR IGNORE INTO project_config (project_id, key, "
		   "value) VALUES (1, 'features.images', 'true'), "
		   "(1, 'features.profiles', 'true'), "
		   "(1, 'features.storage.volumes', 'true'), "
		   "(1, 'features.networks', 'true');"
		   "COMMIT;",
		   NULL, NULL, msg) == SQLITE_OK
		   ? 0
		   : -1;
}

/* Columns added after the first schema, added to an older database (the
 * rows get their values at start-up: store/image.c image_backfill). */
static int
migrate(char **msg)
{
	if (migrate_projects(msg) == -1)
		return -1;
	static const char *const added[][2] = {
	    {"part0_sha256", "TEXT NOT NULL DEFAULT ''"},
	    {"part0_size", "INTEGER NOT NULL DEFAULT 0"},
	    {"part1_sha256", "TEXT NOT NULL DEFAULT ''"},
	    {"part1_size", "INTEGER NOT NULL DEFAULT 0"},
	    {"product", "TEXT NOT NULL DEFAULT ''"},
	};
	char sql[256];

	for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
		sqlite3_stmt *s;
		int have = 0;

		snprintf(sql, sizeof(sql),
		    "SELECT 1 FROM pragma_table_info('images') WHERE name = "
		    "'%s'",
		    added[i][0]);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
			return -1;
		have = sqlite3_step(s) == SQLITE_ROW;
		sqlite3_finalize(s);
		if (have)
			continue;
		snprintf(sql, sizeof(sql),
		    "ALTER TABLE images ADD COLUMN %s %s", added[i][0],
		    added[i][1]);
		if (sqlite3_exec(db, sql, NULL, NULL, msg) != SQLITE_OK)
			return -1;
	}
	return sqlite3_exec(db,
		   "CREATE INDEX IF NOT EXISTS images_product ON images "
		   "(project_id, public, product, fingerprint);",
		   NULL, NULL, msg) == SQLITE_OK
		   ? 0
		   : -1;
}

/* What a pragma reads back, for the log ("?" if it cannot be read). */
static void
pragma_text(const char *name, char *out, size_t len)
{
	char sql[64];
	sqlite3_stmt *st;

	snprintf(out, len, "?");
	snprintf(sql, sizeof(sql), "PRAGMA %s;", name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(
		    out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int
db_open(const char *path, char *err, size_t errlen)
{
	char *msg = NULL, journal[32], sync[32];

	if (sqlite3_open_v2(path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_wal_hook(db, wal_cb, NULL); /* checkpoints: db_release */
	if (sqlite3_exec(db,
		"PRAGMA journal_mode = WAL;"
		/* A commit acknowledged to a client survives a power loss:
		 * in WAL mode, FULL syncs the WAL at every commit (NORMAL
		 * only at checkpoints). The blob it names was synced and
		 * linked before (docs/design.md, "Durability order"). */
		"PRAGMA synchronous = FULL;"
		/* Lists read the database through a mapping, not pread into
		 * a 2 MiB page cache that a large store overflows. */
		"PRAGMA mmap_size = 1073741824;",
		NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK ||
	    migrate(&msg) == -1) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	pragma_text("journal_mode", journal, sizeof(journal));
	pragma_text("synchronous", sync, sizeof(sync));
	log_info("database %s: journal %s, synchronous=%s", path, journal,
	    strcmp(sync, "2") == 0 ? "FULL" : sync);
	return 0;
}

/*
 * Ends the statements left mid-way (stepped to a row and not reset): each
 * holds a read transaction open, and while one is open no checkpoint can
 * move the WAL into the database, which then grows without end (16 MiB
 * for 400 imports, every page read slower: a 100000-image list took 35 s
 * of the store's CPU). Called after every turn of the event loop.
 */
void
db_release(void)
{
	sqlite3_stmt *s = NULL;

	while ((s = sqlite3_next_stmt(db, s)) != NULL)
		if (sqlite3_stmt_busy(s))
			sqlite3_reset(s);
	/* SQLite's own checkpoint at commit comes while the handler's
	 * statements are still open: this one, once they are not. */
	if (wal_frames >= 1000) {
		wal_frames = 0;
		(void)sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
}

void
db_close(void)
{
	for (size_t i = 0; i < sizeof(cache) / sizeof(cache[0]); i++)
		if (cache[i].st)
			sqlite3_finalize(cache[i].st);
	sqlite3_close(db);
	db = NULL;
}

static int
exec(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
db_begin(void)
{
	return exec("BEGIN IMMEDIATE");
}

int
db_commit(void)
{
	return exec("COMMIT");
}

void
db_rollback(void)
{
	exec("ROLLBACK");
}

static void copy_col(sqlite3_stmt *s, int col, char *dst, size_t len);

/* The first project named after "after" (name order), or DB_NOTFOUND. */
int
db_project_next(const char *after, int64_t *id, char *name, size_t len)
{
	sqlite3_stmt *s = stmt("SELECT id, name FROM projects WHERE name > ? "
			       "ORDER BY name LIMIT 1");

	sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	*id = sqlite3_column_int64(s, 0);
	copy_col(s, 1, name, len);
	return DB_OK;
}

static void
copy_col(sqlite3_stmt *s, int col, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static char *
dup_col(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *d = strdup(t ? (const char *)t : "");

	if (d == NULL)
		fatal("strdup");
	return d;
}

void
image_free(struct image *img)
{
	for (uint32_t i = 0; i < img->nprops; i++) {
		free(img->props[i].key);
		free(img->props[i].value);
	}
	for (uint32_t i = 0; i < img->naliases; i++) {
		free(img->aliases[i].key);
		free(img->aliases[i].value);
	}
	free(img->props);
	free(img->aliases);
	img->props = img->aliases = NULL;
	img->nprops = img->naliases = 0;
}

/* Replaces the properties with a copy of kv. */
int
image_set_props(struct image *img, const struct ipc_kv *kv, uint32_t n)
{
	struct ipc_kv *p = calloc(n + 1, sizeof(*p));

	if (p == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		p[i].key = strdup(kv[i].key);
		p[i].value = strdup(kv[i].value);
		if (p[i].key == NULL || p[i].value == NULL)
			fatal("strdup");
	}
	for (uint32_t i = 0; i < img->nprops; i++) {
		free(img->props[i].key);
		free(img->props[i].value);
	}
	free(img->props);
	img->props = p;
	img->nprops = n;
	return 0;
}

#define IMAGE_COLS                                                             \
	"id, project_id, fingerprint, filename, size, public, auto_update, "   \
	"cached, split, architecture, type, created_at, expires_at, "          \
	"uploaded_at, last_used_at, compression0, compression1, "              \
	"part0_sha256, part0_size, part1_sha256, part1_size, product"

static void
row_to_image(sqlite3_stmt *s, struct image *img)
{
	memset(img, 0, sizeof(*img));
	img->id = sqlite3_column_int64(s, 0);
	img->project_id = sqlite3_column_int64(s, 1);
	copy_col(s, 2, img->fingerprint, sizeof(img->fingerprint));
	copy_col(s, 3, img->filename, sizeof(img->filename));
	img->size = (uint64_t)sqlite3_column_int64(s, 4);
	img->public = sqlite3_column_int(s, 5);
	img->auto_update = sqlite3_column_int(s, 6);
	img->cached = sqlite3_column_int(s, 7);
	img->split = sqlite3_column_int(s, 8);
	copy_col(s, 9, img->architecture, sizeof(img->architecture));
	copy_col(s, 10, img->type, sizeof(img->type));
	img->created_at = sqlite3_column_int64(s, 11);
	img->expires_at = sqlite3_column_int64(s, 12);
	img->uploaded_at = sqlite3_column_int64(s, 13);
	img->last_used_at = sqlite3_column_int64(s, 14);
	copy_col(s, 15, img->compression[0], sizeof(img->compression[0]));
	copy_col(s, 16, img->compression[1], sizeof(img->compression[1]));
	copy_col(s, 17, img->part_sha[0], sizeof(img->part_sha[0]));
	img->part_size[0] = (uint64_t)sqlite3_column_int64(s, 18);
	copy_col(s, 19, img->part_sha[1], sizeof(img->part_sha[1]));
	img->part_size[1] = (uint64_t)sqlite3_column_int64(s, 20);
	copy_col(s, 21, img->product, sizeof(img->product));
}

/* Properties (by key) and aliases (by name) of one image. */
static int
load_lists(struct image *img)
{
	sqlite3_stmt *s;
	size_t cap;

	s = stmt("SELECT count(*) FROM image_properties WHERE image_id = ?");
	sqlite3_bind_int64(s, 1, img->id);
	cap = (size_t)first_int(s, 0);
	img->props = calloc(cap + 1, sizeof(*img->props));
	s = stmt("SELECT key, value FROM image_properties WHERE image_id = ? "
		 "ORDER BY key");
	sqlite3_bind_int64(s, 1, img->id);
	while (
	    img->props && img->nprops < cap && sqlite3_step(s) == SQLITE_ROW) {
		img->props[img->nprops].key = dup_col(s, 0);
		img->props[img->nprops++].value = dup_col(s, 1);
	}
	s = stmt("SELECT count(*) FROM image_aliases WHERE image_id = ?");
	sqlite3_bind_int64(s, 1, img->id);
	cap = (size_t)first_int(s, 0);
	img->aliases = calloc(cap + 1, sizeof(*img->aliases));
	s = stmt("SELECT name, description FROM image_aliases WHERE "
		 "image_id = ? ORDER BY name");
	sqlite3_bind_int64(s, 1, img->id);
	while (img->aliases && img->naliases < cap &&
	       sqlite3_step(s) == SQLITE_ROW) {
		img->aliases[img->naliases].key = dup_col(s, 0);
		img->aliases[img->naliases++].value = dup_col(s, 1);
	}
	return img->props && img->aliases ? DB_OK : DB_ERROR;
}

/*
 * An image by full fingerprint or unique prefix. The reference is hex only
 * (checked by the IPC layer), and the prefix is a range, not a LIKE: no
 * wildcard can match more than the user typed.
 */
int
db_image_resolve(
    int64_t project, const char *ref, int public_only, struct image *img)
{
	sqlite3_stmt *s =
	    stmt("SELECT " IMAGE_COLS " FROM images WHERE "
		 "project_id = ?1 AND fingerprint >= ?2 AND fingerprint < ?3 "
		 "AND (?4 = 0 OR public = 1) ORDER BY fingerprint LIMIT 2");
	char upper[72];
	int rc;

	snprintf(upper, sizeof(upper), "%sg", ref); /* 'g' follows 'f' */
	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, upper, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, public_only);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	row_to_image(s, img);
	if (sqlite3_step(s) == SQLITE_ROW && strlen(ref) < 64)
		return DB_AMBIGUOUS;
	return load_lists(img);
}

int
db_image_by_fp(int64_t project, const char *fp, struct image *img)
{
	sqlite3_stmt *s = stmt("SELECT " IMAGE_COLS " FROM images WHERE "
			       "project_id = ? AND fingerprint = ?");

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, fp, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	row_to_image(s, img);
	return load_lists(img);
}

int
db_image_by_id(int64_t id, struct image *img)
{
	sqlite3_stmt *s =
	    stmt("SELECT " IMAGE_COLS " FROM images WHERE id = ?");

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	row_to_image(s, img);
	return load_lists(img);
}

/* Up to limit fingerprints of a project after the given one, in order
 * (public_only: of its public images). */
int
db_image_fps(int64_t project, const char *after, int public_only, int limit,
    char (*fps)[65])
{
	sqlite3_stmt *s = stmt("SELECT fingerprint FROM images WHERE "
			       "project_id = ? AND fingerprint > ? "
			       "AND (? = 0 OR public = 1) "
			       "ORDER BY fingerprint LIMIT ?");
	int n = 0;

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, public_only);
	sqlite3_bind_int(s, 4, limit);
	while (n < limit && sqlite3_step(s) == SQLITE_ROW)
		copy_col(s, 0, fps[n++], sizeof(fps[0]));
	return n;
}

/* Appends a (key, value) of the row's columns c, c + 1 to a list. */
static int
kv_push(struct ipc_kv **list, uint32_t *n, sqlite3_stmt *s, int c)
{
	struct ipc_kv *l;

	/* Grown in doubling steps from 4: an image has few of each. */
	if (*n >= 4 && (*n & (*n - 1)) == 0) {
		if ((l = reallocarray(*list, 2 * (size_t)*n, sizeof(*l))) ==
		    NULL)
			return -1;
		*list = l;
	} else if (*n == 0 && (*list = calloc(4, sizeof(**list))) == NULL)
		return -1;
	(*list)[*n].key = dup_col(s, c);
	(*list)[(*n)++].value = dup_col(s, c + 1);
	return 0;
}

struct by_id {
	int64_t id;
	int at; /* its place in the page */
};

static int
by_id_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct by_id *)a)->id,
		y = ((const struct by_id *)b)->id;

	return (x > y) - (x < y);
}

/* The images of a page (fingerprints after ?2, of project ?1, public
 * ones only if ?3; with NARROW, only those with property ?5 = ?6 but for
 * ASCII case), then their properties and aliases (those up to ?4, the
 * last of the page); by narrow, then by query. */
#define PAGE_WHERE                                                             \
	"i.project_id = ?1 AND i.fingerprint > ?2 AND (?3 = 0 OR i.public = "  \
	"1)"
#define NARROW                                                                 \
	" AND i.id IN (SELECT image_id FROM image_properties WHERE key = ?5 "  \
	"AND value = ?6 COLLATE NOCASE)"
#define PAGE_SQL(narrow)                                                       \
	"SELECT " IMAGE_COLS " FROM images i WHERE " PAGE_WHERE narrow         \
	" ORDER BY i.fingerprint LIMIT ?4"
#define LIST_SQL(cols, table, order, narrow)                                   \
	"SELECT " cols " FROM images i JOIN " table " ON x.image_id = i.id "   \
	"WHERE " PAGE_WHERE " AND i.fingerprint <= ?4" narrow                  \
	" ORDER BY " order
#define PROPS_SQL(narrow)                                                      \
	LIST_SQL("x.image_id, x.key, x.value", "image_properties x",           \
	    "x.image_id, x.key", narrow)
#define ALIASES_SQL(narrow)                                                    \
	LIST_SQL("x.image_id, x.name, x.description", "image_aliases x",       \
	    "x.image_id, x.name", narrow)
static const char *const page_sql[2][3] = {
    {PAGE_SQL(""), PROPS_SQL(""), ALIASES_SQL("")},
    {PAGE_SQL(NARROW), PROPS_SQL(NARROW), ALIASES_SQL(NARROW)},
};

/*
 * The properties or the aliases of a page of images (those up to the
 * fingerprint ?4, last of the page), by image id, into each image: one
 * query for the page, not one per image.
 */
static int
page_lists(sqlite3_stmt *s, int64_t project, const char *after,
    const char *last, int public_only, const char *pkey, const char *pval,
    struct image *imgs, const struct by_id *ids, int n, int aliases)
{
	int rc;

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, public_only);
	sqlite3_bind_text(s, 4, last, -1, SQLITE_STATIC);
	if (pkey[0]) {
		sqlite3_bind_text(s, 5, pkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, pval, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct by_id key = {.id = sqlite3_column_int64(s, 0)}, *hit;
		struct image *img;

		hit = bsearch(&key, ids, (size_t)n, sizeof(*ids), by_id_cmp);
		if (hit == NULL)
			continue; /* added since the page was read */
		img = &imgs[hit->at];
		if (aliases ? kv_push(&img->aliases, &img->naliases, s, 1)
			    : kv_push(&img->props, &img->nprops, s, 1))
			return -1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Up to limit images after the fingerprint "after" (in order), each with
 * its properties and aliases, in three queries; pkey "" or only those
 * with property pkey equal to pval but for ASCII case (the index
 * image_properties_kv finds them). The caller pages through a large
 * store without holding it. Returns how many. */
int
db_images_page(int64_t project, const char *after, int public_only,
    const char *pkey, const char *pval, int limit,
    int (*cb)(struct image *, void *), void *arg)
{
	int narrow = pkey != NULL && pkey[0] != '\0';
	const char *const *sql = page_sql[narrow];
	sqlite3_stmt *s = stmt(sql[0]);
	struct image *imgs;
	struct by_id *ids;
	int n = 0, rc = 0, i;

	if (!narrow)
		pkey = pval = "";
	imgs = calloc((size_t)limit, sizeof(*imgs));
	ids = calloc((size_t)limit, sizeof(*ids));
	if (imgs == NULL || ids == NULL) {
		free(imgs);
		free(ids);
		return -1;
	}
	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, public_only);
	sqlite3_bind_int(s, 4, limit);
	if (narrow) {
		sqlite3_bind_text(s, 5, pkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, pval, -1, SQLITE_STATIC);
	}
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_image(s, &imgs[n]);
		ids[n].id = imgs[n].id;
		ids[n].at = n;
		n++;
	}
	if (n < limit && rc != SQLITE_DONE)
		rc = -1;
	else
		rc = 0;
	sqlite3_reset(s);
	qsort(ids, (size_t)n, sizeof(*ids), by_id_cmp);
	if (rc == 0 && n > 0 &&
	    (page_lists(stmt(sql[1]), project, after, imgs[n - 1].fingerprint,
		 public_only, pkey, pval, imgs, ids, n, 0) == -1 ||
		page_lists(stmt(sql[2]), project, after,
		    imgs[n - 1].fingerprint, public_only, pkey, pval, imgs, ids,
		    n, 1) == -1))
		rc = -1;
	for (i = 0; i < n && rc == 0; i++)
		if (cb(&imgs[i], arg) != 0)
			rc = -1;
	for (i = 0; i < n; i++)
		image_free(&imgs[i]);
	free(imgs);
	free(ids);
	return rc == -1 ? -1 : n;
}

static int
insert_props(const struct image *img)
{
	sqlite3_stmt *s;

	s = stmt("DELETE FROM image_properties WHERE image_id = ?");
	sqlite3_bind_int64(s, 1, img->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return DB_ERROR;
	for (uint32_t i = 0; i < img->nprops; i++) {
		s = stmt("INSERT OR REPLACE INTO image_properties "
			 "(image_id, key, value) VALUES (?, ?, ?)");
		sqlite3_bind_int64(s, 1, img->id);
		sqlite3_bind_text(s, 2, img->props[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, img->props[i].value, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return DB_ERROR;
	}
	return DB_OK;
}

int
db_image_insert(int64_t project, struct image *img)
{
	sqlite3_stmt *s =
	    stmt("INSERT INTO images (project_id, fingerprint, "
		 "filename, size, public, auto_update, cached, split, "
		 "architecture, type, created_at, expires_at, uploaded_at, "
		 "last_used_at, compression0, compression1, part0_sha256, "
		 "part0_size, part1_sha256, part1_size, product) VALUES "
		 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		 "?)");
	int rc;

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, img->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, img->filename, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)img->size);
	sqlite3_bind_int(s, 5, img->public);
	sqlite3_bind_int(s, 6, img->auto_update);
	sqlite3_bind_int(s, 7, img->cached);
	sqlite3_bind_int(s, 8, img->split);
	sqlite3_bind_text(s, 9, img->architecture, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, img->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, img->created_at);
	sqlite3_bind_int64(s, 12, img->expires_at);
	sqlite3_bind_int64(s, 13, img->uploaded_at);
	sqlite3_bind_int64(s, 14, img->last_used_at);
	sqlite3_bind_text(s, 15, img->compression[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 16, img->compression[1], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 17, img->part_sha[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 18, (int64_t)img->part_size[0]);
	sqlite3_bind_text(s, 19, img->part_sha[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 20, (int64_t)img->part_size[1]);
	sqlite3_bind_text(s, 21, img->product, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	if (rc != SQLITE_DONE)
		return DB_ERROR;
	img->id = sqlite3_last_insert_rowid(db);
	img->project_id = project;
	return insert_props(img);
}

/* The mutable fields only: architecture and dates never change. */
int
db_image_update(const struct image *img)
{
	sqlite3_stmt *s = stmt("UPDATE images SET public = ?, auto_update = "
			       "?, expires_at = ?, product = ? WHERE id = ?");

	sqlite3_bind_int(s, 1, img->public);
	sqlite3_bind_int(s, 2, img->auto_update);
	sqlite3_bind_int64(s, 3, img->expires_at);
	sqlite3_bind_text(s, 4, img->product, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, img->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return DB_ERROR;
	return insert_props(img);
}

int
db_images_by_product(int64_t project, const char *after_product,
    const char *after_fp, int limit, int (*cb)(struct image *, void *),
    void *arg)
{
	sqlite3_stmt *s = stmt(
	    "SELECT fingerprint FROM images WHERE project_id = ?1 AND "
	    "public = 1 AND (product > ?2 OR (product = ?2 AND fingerprint > "
	    "?3)) ORDER BY product, fingerprint LIMIT ?4");
	char(*fps)[65];
	int n = 0, sent = 0;

	if ((fps = calloc((size_t)limit, sizeof(*fps))) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, after_product, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, after_fp, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, limit);
	while (n < limit && sqlite3_step(s) == SQLITE_ROW)
		copy_col(s, 0, fps[n++], sizeof(fps[0]));
	for (int i = 0; i < n && sent != -1; i++) {
		struct image img;

		if (db_image_by_fp(project, fps[i], &img) != DB_OK)
			continue;
		if (cb(&img, arg) != 0)
			sent = -1;
		image_free(&img);
	}
	free(fps);
	return sent == -1 ? -1 : n;
}

int
db_images_without_parts(int (*cb)(struct image *, void *), void *arg)
{
	sqlite3_stmt *s = stmt("SELECT " IMAGE_COLS " FROM images WHERE "
			       "part0_sha256 = '' OR product = ''");
	int n = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		struct image img;

		row_to_image(s, &img);
		if (load_lists(&img) == DB_OK && cb(&img, arg) == 0)
			n++;
		image_free(&img);
	}
	return n;
}

int
db_image_set_parts(const struct image *img)
{
	sqlite3_stmt *s = stmt("UPDATE images SET part0_sha256 = ?, part0_size "
			       "= ?, part1_sha256 = ?, part1_size = ?, product "
			       "= ? WHERE id = ?");

	sqlite3_bind_text(s, 1, img->part_sha[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)img->part_size[0]);
	sqlite3_bind_text(s, 3, img->part_sha[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)img->part_size[1]);
	sqlite3_bind_text(s, 5, img->product, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, img->id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_image_delete(int64_t image_id)
{
	sqlite3_stmt *s = stmt("DELETE FROM images WHERE id = ?");

	sqlite3_bind_int64(s, 1, image_id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_fp_refs(const char *fp)
{
	sqlite3_stmt *s = stmt("SELECT count(*) FROM images WHERE "
			       "fingerprint = ?");

	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return (int)first_int(s, -1);
}

int
db_image_count(void)
{
	sqlite3_stmt *s = stmt("SELECT count(*) FROM images");

	return (int)first_int(s, -1);
}

/* The layout (split or not) of a fingerprint stored in any project, -1 if
 * none: a unified file M||R and a split pair (M, R) share a fingerprint. */
int
db_fp_split(const char *fp)
{
	sqlite3_stmt *s = stmt("SELECT split FROM images WHERE fingerprint = ? "
			       "LIMIT 1");

	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return (int)first_int(s, -1);
}

int
db_fp_all(int (*cb)(const char *fp, int split, void *), void *arg)
{
	sqlite3_stmt *s = stmt("SELECT DISTINCT fingerprint, split FROM "
			       "images");
	char(*fps)[65] = NULL;
	int *splits = NULL;
	size_t n = 0, cap = 0;

	/* Collected first: the callback may change the table. */
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			fps = realloc(fps, cap * sizeof(*fps));
			splits = realloc(splits, cap * sizeof(*splits));
			if (fps == NULL || splits == NULL)
				fatal("realloc");
		}
		copy_col(s, 0, fps[n], sizeof(fps[n]));
		splits[n++] = sqlite3_column_int(s, 1);
	}
	for (size_t i = 0; i < n; i++)
		cb(fps[i], splits[i], arg);
	free(fps);
	free(splits);
	return DB_OK;
}

int
db_fp_forget(const char *fp)
{
	sqlite3_stmt *s = stmt("DELETE FROM images WHERE fingerprint = ?");

	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* For the other db_*.c files: the statement cache and column helpers. */
sqlite3_stmt *
db_stmt(const char *sql)
{
	return stmt(sql);
}

void
db_copy_col(sqlite3_stmt *s, int col, char *dst, size_t len)
{
	copy_col(s, col, dst, len);
}

int64_t
db_first_int(sqlite3_stmt *s, int64_t none)
{
	return first_int(s, none);
}
