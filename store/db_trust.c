/*
 * The store's database, trust: the TLS client certificates that are
 * trusted (keyed by the sha256 of their DER, as LXD keys them) and the
 * one-time join tokens, kept as the sha256 of their secret so that a copy
 * of the database does not let anyone join.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/db_priv.h"
#include "store/store.h"

int
db_cert_trusted(const char *fp)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT 1 FROM certificates WHERE fingerprint = ?");

	if (strlen(fp) != 64)
		return 0;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return db_first_int(s, 0) == 1;
}

static void
row_to_cert(sqlite3_stmt *s, struct cert *c)
{
	const void *der = sqlite3_column_blob(s, 2);
	int n = sqlite3_column_bytes(s, 2);

	db_copy_col(s, 0, c->fingerprint, sizeof(c->fingerprint));
	db_copy_col(s, 1, c->name, sizeof(c->name));
	c->derlen = n > 0 && (size_t)n <= sizeof(c->der) ? (size_t)n : 0;
	if (c->derlen)
		memcpy(c->der, der, c->derlen);
	c->created_at = sqlite3_column_int64(s, 3);
}

/* By fingerprint or unique prefix, as images are. */
int
db_cert_resolve(const char *ref, struct cert *c)
{
	sqlite3_stmt *s = db_stmt(
	    "SELECT fingerprint, name, der, created_at FROM certificates "
	    "WHERE fingerprint >= ?1 AND fingerprint < ?2 "
	    "ORDER BY fingerprint LIMIT 2");
	char upper[72];
	int rc;

	snprintf(upper, sizeof(upper), "%sg", ref);
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upper, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	row_to_cert(s, c);
	if (sqlite3_step(s) == SQLITE_ROW && strlen(ref) < 64)
		return DB_AMBIGUOUS;
	return DB_OK;
}

/* Up to limit certificates after the given fingerprint; how many, or -1
 * when cb asked to stop. */
int
db_cert_page(
    const char *after, int limit, int (*cb)(struct cert *, void *), void *arg)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT fingerprint, name, der, created_at FROM "
		    "certificates WHERE fingerprint > ? ORDER BY fingerprint "
		    "LIMIT ?");
	struct cert c;
	int n = 0;

	sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	while (sqlite3_step(s) == SQLITE_ROW) {
		row_to_cert(s, &c);
		if (cb(&c, arg) != 0)
			return -1;
		n++;
	}
	return n;
}

int
db_cert_insert(const struct cert *c)
{
	sqlite3_stmt *s = db_stmt("INSERT INTO certificates (fingerprint, "
				  "name, der, created_at) VALUES (?, ?, ?, ?)");
	int rc;

	sqlite3_bind_text(s, 1, c->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, c->der, (int)c->derlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->created_at);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_cert_delete(const char *fp)
{
	sqlite3_stmt *s =
	    db_stmt("DELETE FROM certificates WHERE fingerprint = ?");

	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_cert_count(void)
{
	return (int)db_first_int(
	    db_stmt("SELECT count(*) FROM certificates"), 0);
}

int
db_token_insert(const struct token *t, const char *secret_sha256)
{
	sqlite3_stmt *s = db_stmt(
	    "INSERT INTO trust_tokens (name, secret_sha256, created_at, "
	    "expires_at) VALUES (?, ?, ?, ?)");
	int rc;

	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, secret_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, t->created_at);
	sqlite3_bind_int64(s, 4, t->expires_at);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_token_take(const char *secret_sha256, struct token *t)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT name, created_at, expires_at FROM trust_tokens "
		    "WHERE secret_sha256 = ?");
	int rc;

	sqlite3_bind_text(s, 1, secret_sha256, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	db_copy_col(s, 0, t->name, sizeof(t->name));
	t->created_at = sqlite3_column_int64(s, 1);
	t->expires_at = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return db_token_delete(t->name);
}

int
db_token_list(int (*cb)(struct token *, void *), void *arg)
{
	sqlite3_stmt *s =
	    db_stmt("SELECT name, created_at, expires_at FROM trust_tokens "
		    "ORDER BY name");
	struct token t;

	while (sqlite3_step(s) == SQLITE_ROW) {
		db_copy_col(s, 0, t.name, sizeof(t.name));
		t.created_at = sqlite3_column_int64(s, 1);
		t.expires_at = sqlite3_column_int64(s, 2);
		if (cb(&t, arg) != 0)
			return -1;
	}
	return 0;
}

int
db_token_delete(const char *name)
{
	sqlite3_stmt *s = db_stmt("DELETE FROM trust_tokens WHERE name = ?");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return DB_ERROR;
	return db_changes() > 0 ? DB_OK : DB_NOTFOUND;
}

int
db_token_purge(int64_t now)
{
	sqlite3_stmt *s =
	    db_stmt("DELETE FROM trust_tokens WHERE expires_at <= ?");

	sqlite3_bind_int64(s, 1, now);
	return sqlite3_step(s) == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_token_count(void)
{
	return (int)db_first_int(
	    db_stmt("SELECT count(*) FROM trust_tokens"), 0);
}
