/*
 * Shared by the store's db_*.c files only: the prepared-statement cache
 * (keyed by the address of the SQL literal) and column helpers.
 */
#ifndef IMGD_STORE_DB_PRIV_H
#define IMGD_STORE_DB_PRIV_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

sqlite3_stmt *db_stmt(const char *sql);
void db_copy_col(sqlite3_stmt *s, int col, char *dst, size_t len);
int64_t db_first_int(sqlite3_stmt *s, int64_t none);
int db_changes(void); /* rows the last statement changed */

#endif
