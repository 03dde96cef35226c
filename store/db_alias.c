/*
 * The store's database, aliases: rows of image_aliases, each naming an
 * image of its project.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_priv.h"
#include "store/store.h"

static void
row_to_alias(sqlite3_stmt *s, struct alias *a)
{
	a->id = sqlite3_column_int64(s, 0);
	db_copy_col(s, 1, a->name, sizeof(a->name));
	db_copy_col(s, 2, a->description, sizeof(a->description));
	db_copy_col(s, 3, a->target, sizeof(a->target));
	a->image_id = sqlite3_column_int64(s, 4);
}

#define ALIAS_COLS                                                             \
	"a.id, a.name, a.description, i.fingerprint, a.image_id FROM "         \
	"image_aliases a JOIN images i ON i.id = a.image_id "

int
db_alias_get(int64_t project, const char *name, struct alias *a)
{
	sqlite3_stmt *s = db_stmt(
	    "SELECT " ALIAS_COLS "WHERE a.project_id = ? AND a.name = ?");

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	row_to_alias(s, a);
	return DB_OK;
}

int
db_alias_page(int64_t project, const char *after, int limit,
    int (*cb)(struct alias *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(
	    "SELECT " ALIAS_COLS
	    "WHERE a.project_id = ? AND a.name > ? ORDER BY a.name LIMIT ?");
	struct alias a;
	int n = 0;

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, limit);
	while (sqlite3_step(s) == SQLITE_ROW) {
		row_to_alias(s, &a);
		n++;
		if (cb(&a, arg) != 0)
			return -1;
	}
	return n;
}

int
db_alias_insert(
    int64_t project, const char *name, const char *desc, int64_t image_id)
{
	sqlite3_stmt *s =
	    db_stmt("INSERT INTO image_aliases (project_id, name, "
		    "image_id, description) VALUES (?, ?, ?, ?)");
	int rc;

	sqlite3_bind_int64(s, 1, project);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, image_id);
	sqlite3_bind_text(s, 4, desc, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_alias_update(int64_t alias_id, int64_t image_id, const char *desc)
{
	sqlite3_stmt *s = db_stmt("UPDATE image_aliases SET image_id = ?, "
				  "description = ? WHERE id = ?");

	sqlite3_bind_int64(s, 1, image_id);
	sqlite3_bind_text(s, 2, desc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, alias_id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_alias_rename(int64_t alias_id, const char *new_name)
{
	sqlite3_stmt *s = db_stmt("UPDATE image_aliases SET name = ? WHERE "
				  "id = ?");
	int rc;

	sqlite3_bind_text(s, 1, new_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, alias_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_alias_delete(int64_t alias_id)
{
	sqlite3_stmt *s = db_stmt("DELETE FROM image_aliases WHERE id = ?");

	sqlite3_bind_int64(s, 1, alias_id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_alias_count(int64_t image_id)
{
	sqlite3_stmt *s = db_stmt("SELECT count(*) FROM image_aliases WHERE "
				  "image_id = ?");

	sqlite3_bind_int64(s, 1, image_id);
	return (int)db_first_int(s, -1);
}
