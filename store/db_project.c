/*
 * The store's database, projects: a row of projects each, its description
 * and its config (project_config: features.*, limits.*, user.*).
 *
 * A project whose features.images is not true keeps no images of its own:
 * its images and aliases are the default project's, as in LXD. Everything
 * that stores or finds images asks db_project_id, which answers the
 * project whose images a name means; db_project_get answers the project's
 * own row.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_priv.h"
#include "store/store.h"

/* LXD's true values (shared.IsTrue), any case. */
#define SQL_TRUE "lower(value) IN ('true', '1', 'yes', 'on')"

int
db_project_id(const char *name, int64_t *id)
{
	sqlite3_stmt *s = db_stmt(
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM project_config WHERE "
	    "project_id = p.id AND key = 'features.images' AND " SQL_TRUE
	    ") THEN p.id ELSE 1 END FROM projects p WHERE p.name = ?");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	*id = sqlite3_column_int64(s, 0);
	return DB_OK;
}

static int
load_config(struct project *p)
{
	sqlite3_stmt *s = db_stmt("SELECT key, value FROM project_config "
				  "WHERE project_id = ? ORDER BY key");

	p->nconfig = 0;
	sqlite3_bind_int64(s, 1, p->id);
	while (sqlite3_step(s) == SQLITE_ROW &&
	       p->nconfig < LIM_PROJECT_CONFIG_MAX) {
		db_copy_col(
		    s, 0, p->config[p->nconfig].key, sizeof(p->config[0].key));
		db_copy_col(s, 1, p->config[p->nconfig].value,
		    sizeof(p->config[0].value));
		p->nconfig++;
	}
	return DB_OK;
}

int
db_project_get(const char *name, struct project *p)
{
	sqlite3_stmt *s = db_stmt(
	    "SELECT id, name, description FROM projects WHERE name = ?");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return DB_NOTFOUND;
	p->id = sqlite3_column_int64(s, 0);
	db_copy_col(s, 1, p->name, sizeof(p->name));
	db_copy_col(s, 2, p->description, sizeof(p->description));
	return load_config(p);
}

const char *
project_config_get(const struct project *p, const char *key)
{
	for (uint32_t i = 0; i < p->nconfig; i++)
		if (strcmp(p->config[i].key, key) == 0)
			return p->config[i].value;
	return NULL;
}

static int
save_config(const struct project *p)
{
	sqlite3_stmt *s =
	    db_stmt("DELETE FROM project_config WHERE project_id = ?");

	sqlite3_bind_int64(s, 1, p->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return DB_ERROR;
	for (uint32_t i = 0; i < p->nconfig; i++) {
		s = db_stmt("INSERT INTO project_config (project_id, key, "
			    "value) VALUES (?, ?, ?)");
		sqlite3_bind_int64(s, 1, p->id);
		sqlite3_bind_text(s, 2, p->config[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, p->config[i].value, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return DB_ERROR;
	}
	return DB_OK;
}

/* p->id is set on success. DB_CONFLICT: the name is taken. */
int
db_project_create(struct project *p)
{
	sqlite3_stmt *s = db_stmt("INSERT INTO projects (name, description) "
				  "VALUES (?, ?)");
	int rc;

	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->description, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	if (rc != SQLITE_DONE)
		return DB_ERROR;
	p->id = db_last_rowid();
	return save_config(p);
}

int
db_project_update(const struct project *p)
{
	sqlite3_stmt *s =
	    db_stmt("UPDATE projects SET description = ? WHERE id = ?");

	sqlite3_bind_text(s, 1, p->description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, p->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return DB_ERROR;
	return save_config(p);
}

int
db_project_rename(int64_t id, const char *new_name)
{
	sqlite3_stmt *s = db_stmt("UPDATE projects SET name = ? WHERE id = ?");
	int rc;

	sqlite3_bind_text(s, 1, new_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_project_delete(int64_t id)
{
	sqlite3_stmt *s = db_stmt("DELETE FROM projects WHERE id = ?");

	sqlite3_bind_int64(s, 1, id);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* What a project holds of its own: images, aliases and the bytes of its
 * images (each image counted whole, as its size says). */
void
db_project_usage(int64_t id, int64_t *images, int64_t *aliases, int64_t *bytes)
{
	sqlite3_stmt *s = db_stmt("SELECT count(*), coalesce(sum(size), 0) "
				  "FROM images WHERE project_id = ?");

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*images = sqlite3_column_int64(s, 0);
		*bytes = sqlite3_column_int64(s, 1);
	} else
		*images = *bytes = 0;
	s = db_stmt("SELECT count(*) FROM image_aliases WHERE project_id = ?");
	sqlite3_bind_int64(s, 1, id);
	*aliases = db_first_int(s, 0);
}
