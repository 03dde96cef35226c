/*
 * Image sources (where a copy by alias came from, so that it can be
 * refreshed), the auto-update and cache sweeps' queries, and the moves a
 * refresh makes.
 */
#include <stdio.h>
#include <string.h>

#include "store/db_priv.h"
#include "store/store.h"

int
db_source_set(int64_t image_id, const struct source *src)
{
	sqlite3_stmt *s = db_stmt(
	    "INSERT OR REPLACE INTO image_sources (image_id, server, protocol, "
	    "alias, certificate) VALUES (?, ?, ?, ?, ?)");

	sqlite3_bind_int64(s, 1, image_id);
	sqlite3_bind_text(s, 2, src->server, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, src->protocol);
	sqlite3_bind_text(s, 4, src->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, src->certificate, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_source_get(int64_t image_id, struct source *src)
{
	sqlite3_stmt *s = db_stmt("SELECT server, protocol, alias, certificate "
				  "FROM image_sources WHERE image_id = ?");

	sqlite3_bind_int64(s, 1, image_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	db_copy_col(s, 0, src->server, sizeof(src->server));
	src->protocol = sqlite3_column_int(s, 1);
	db_copy_col(s, 2, src->alias, sizeof(src->alias));
	db_copy_col(s, 3, src->certificate, sizeof(src->certificate));
	return DB_OK;
}

/* Images to refresh: auto_update with a source. */
int
db_images_auto_update(int (*cb)(int64_t id, int64_t project, void *), void *arg)
{
	int64_t ids[256][2];
	int n = 0;
	/* Collected first: the callbacks use the database. */
	sqlite3_stmt *s =
	    db_stmt("SELECT images.id, images.project_id FROM images JOIN "
		    "image_sources ON image_sources.image_id = images.id "
		    "WHERE images.auto_update = 1 ORDER BY images.id");
	while (n < 256 && sqlite3_step(s) == SQLITE_ROW) {
		ids[n][0] = sqlite3_column_int64(s, 0);
		ids[n][1] = sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_reset(s);
	for (int i = 0; i < n; i++)
		cb(ids[i][0], ids[i][1], arg);
	return n;
}

/* Cached images unused since before cutoff (nanoseconds). */
int
db_images_expired(
    int64_t cutoff, int (*cb)(int64_t id, int64_t project, void *), void *arg)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT id, project_id FROM images WHERE cached = 1 AND "
		    "max(last_used_at, uploaded_at) < ? ORDER BY id LIMIT 256");
	int64_t ids[256][2];
	int n = 0;

	sqlite3_bind_int64(s, 1, cutoff);
	while (n < 256 && sqlite3_step(s) == SQLITE_ROW) {
		ids[n][0] = sqlite3_column_int64(s, 0);
		ids[n][1] = sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_reset(s);
	for (int i = 0; i < n; i++)
		cb(ids[i][0], ids[i][1], arg);
	return n;
}

int
db_image_used(int64_t image_id, int64_t when, int cached)
{
	sqlite3_stmt *s = db_stmt(
	    "UPDATE images SET last_used_at = ?, cached = ? WHERE id = ?");

	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_int(s, 2, cached);
	sqlite3_bind_int64(s, 3, image_id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* Every alias of one image moves to another (a refresh). */
int
db_aliases_move(int64_t from, int64_t to)
{
	sqlite3_stmt *s =
	    db_stmt("UPDATE image_aliases SET image_id = ? WHERE image_id = ?");

	sqlite3_bind_int64(s, 1, to);
	sqlite3_bind_int64(s, 2, from);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_project_name(int64_t id, char *name, size_t len)
{
	sqlite3_stmt *s = db_stmt("SELECT name FROM projects WHERE id = ?");

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	db_copy_col(s, 0, name, len);
	return DB_OK;
}

int64_t
db_remote_signed_at(const char *server)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT signed_at FROM remote_state WHERE server = ?");

	sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
	return db_first_int(s, 0);
}

int
db_remote_signed_set(const char *server, int64_t t)
{
	sqlite3_stmt *s = db_stmt(
	    "INSERT OR REPLACE INTO remote_state (server, signed_at) VALUES "
	    "(?, ?)");

	sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}
