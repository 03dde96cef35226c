/*
 * Tabular output as lxc renders it (lxc/utils/table.go): the bordered
 * table with a line under every row (olekukonko/tablewriter 0.0.5), the
 * compact form, and CSV (Go's encoding/csv); rows sorted as lxc sorts
 * them (lxc/utils/sort.go with fvbommel/sortorder's natural order).
 */
#ifndef IMGD_IMGCTL_TABLE_H
#define IMGD_IMGCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

enum tfmt { TFMT_TABLE, TFMT_COMPACT, TFMT_CSV, TFMT_JSON, TFMT_YAML };

/* -f NAME. Returns 0, or -1 with lxc's error for an unknown name. */
int tfmt_parse(const char *name, enum tfmt *);

struct table {
	size_t ncols, nrows, cap;
	const char *const *header; /* ncols titles */
	char **cells;		   /* nrows * ncols strings, owned */
};

void table_init(struct table *, const char *const *header, size_t ncols);
/* Append a row of ncols strings; the table takes them (even on error). */
int table_add(struct table *, char **row);
void table_free(struct table *);
/* lxc's StringList order: natural order, empty cells last. */
void table_sort(struct table *);
/* Write as TFMT_TABLE, TFMT_COMPACT or TFMT_CSV. Returns 0 or -1. */
int table_write(FILE *, const struct table *, enum tfmt);

/* sortorder.NaturalLess: digit runs compare by value. */
int natural_less(const char *a, const char *b);
/* Display width in columns (go-runewidth's StringWidth for UTF-8). */
size_t str_width(const char *);
/* One record of Go's csv.Writer (comma, quotes, "\n"). */
void csv_record(FILE *, char *const *fields, size_t n);

#endif
