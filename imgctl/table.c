/*
 * Tables, compact tables and CSV, byte for byte as lxc writes them.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "imgctl/imgctl.h"
#include "imgctl/table.h"

int
tfmt_parse(const char *name, enum tfmt *f)
{
	static const char *const names[] = {
	    "table", "compact", "csv", "json", "yaml"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*f = (enum tfmt)i;
			return 0;
		}
	ctl_err("Invalid format \"%s\"", name);
	return -1;
}

void
table_init(struct table *t, const char *const *header, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->header = header;
	t->ncols = ncols;
}

int
table_add(struct table *t, char **row)
{
	char **nc;
	size_t i;

	if (t->nrows == t->cap) {
		nc = reallocarray(
		    t->cells, (t->cap + 16) * t->ncols, sizeof(*nc));
		if (nc == NULL) {
			for (i = 0; i < t->ncols; i++)
				free(row[i]);
			ctl_err("out of memory");
			return -1;
		}
		t->cells = nc;
		t->cap += 16;
	}
	memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof(*row));
	t->nrows++;
	return 0;
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

int
natural_less(const char *a, const char *b)
{
	size_t i = 0, j = 0, z1, z2, n1, n2;
	int d1, d2, c;

	while (a[i] != '\0' && b[j] != '\0') {
		d1 = a[i] >= '0' && a[i] <= '9';
		d2 = b[j] >= '0' && b[j] <= '9';
		if (d1 != d2)
			return d1;
		if (!d1) {
			if (a[i] != b[j])
				return (unsigned char)a[i] <
				       (unsigned char)b[j];
			i++, j++;
			continue;
		}
		for (; a[i] == '0'; i++)
			;
		for (; b[j] == '0'; j++)
			;
		z1 = i, z2 = j;
		for (; a[i] >= '0' && a[i] <= '9'; i++)
			;
		for (; b[j] >= '0' && b[j] <= '9'; j++)
			;
		n1 = i - z1, n2 = j - z2;
		if (n1 != n2)
			return n1 < n2;
		if ((c = memcmp(a + z1, b + z2, n1)) != 0)
			return c < 0;
		/* Equal numbers: fewer leading zeros first. */
		if (z1 != z2)
			return z1 < z2;
	}
	return strlen(a + i) < strlen(b + j);
}

static size_t sort_ncols;

/* StringList.Less: the first differing cell decides (the last if none). */
static int
row_less(char *const *a, char *const *b)
{
	size_t x;

	for (x = 0; x + 1 < sort_ncols; x++)
		if (strcmp(a[x], b[x]) != 0)
			break;
	if (*a[x] == '\0')
		return 0;
	if (*b[x] == '\0')
		return 1;
	return natural_less(a[x], b[x]);
}

static int
row_cmp(const void *pa, const void *pb)
{
	char *const *a = *(char *const *const *)pa;
	char *const *b = *(char *const *const *)pb;

	if (row_less(a, b))
		return -1;
	return row_less(b, a);
}

void
table_sort(struct table *t)
{
	char ***rows, **sorted;
	size_t i;

	if (t->nrows < 2 || t->ncols == 0)
		return;
	rows = calloc(t->nrows, sizeof(*rows));
	sorted = calloc(t->nrows * t->ncols, sizeof(*sorted));
	if (rows != NULL && sorted != NULL) {
		for (i = 0; i < t->nrows; i++)
			rows[i] = t->cells + i * t->ncols;
		sort_ncols = t->ncols;
		qsort(rows, t->nrows, sizeof(*rows), row_cmp);
		for (i = 0; i < t->nrows; i++)
			memcpy(sorted + i * t->ncols, rows[i],
			    t->ncols * sizeof(*sorted));
		memcpy(t->cells, sorted, t->nrows * t->ncols * sizeof(*sorted));
	}
	free(rows);
	free(sorted);
}

size_t
str_width(const char *s)
{
	mbstate_t st;
	size_t n, w = 0;
	wchar_t wc;
	int cw;

	memset(&st, 0, sizeof(st));
	while (*s != '\0') {
		if ((unsigned char)*s < 0x80) {
			/* ASCII: printable 1, control 0 (wcwidth's -1) */
			w += (unsigned char)*s >= 0x20 && *s != 0x7f;
			s++;
			continue;
		}
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not UTF-8 here: go-runewidth counts U+FFFD, 1. */
			memset(&st, 0, sizeof(st));
			w++;
			s++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		s += n;
	}
	return w;
}

/* Count the lines of a cell; line i is *start, *len bytes. */
static size_t
cell_lines(const char *s, size_t i, const char **start, size_t *len)
{
	size_t k = 0;
	const char *nl;

	*start = "";
	*len = 0;
	for (;;) {
		nl = strchr(s, '\n');
		if (k == i) {
			*start = s;
			*len = nl ? (size_t)(nl - s) : strlen(s);
		}
		k++;
		if (nl == NULL)
			return k;
		s = nl + 1;
	}
}

static size_t
line_width(const char *s, size_t len)
{
	char *tmp = strndup(s, len);
	size_t w = tmp ? str_width(tmp) : len;

	free(tmp);
	return w;
}

static void
pad(FILE *f, size_t n)
{
	while (n-- > 0)
		putc(' ', f);
}

/* tablewriter.PadRight: the text, then spaces up to w. */
static void
put_left(FILE *f, const char *s, size_t len, size_t w)
{
	size_t tw = line_width(s, len);

	fwrite(s, 1, len, f);
	if (tw < w)
		pad(f, w - tw);
}

/* tablewriter.Pad (headers): centered, the odd space on the right. */
static void
put_center(FILE *f, const char *s, size_t w)
{
	size_t tw = str_width(s), gap = tw < w ? w - tw : 0;

	pad(f, gap / 2);
	fputs(s, f);
	pad(f, gap - gap / 2);
}

static void
rule(FILE *f, const size_t *w, size_t ncols)
{
	size_t i, k;

	putc('+', f);
	for (i = 0; i < ncols; i++) {
		for (k = 0; k < w[i] + 2; k++)
			putc('-', f);
		putc('+', f);
	}
	putc('\n', f);
}

/* Row r: each line; shorter cells are padded with "  " as tablewriter. */
static void
row_lines(
    FILE *f, const struct table *t, size_t r, const size_t *w, int compact)
{
	char **row = t->cells + r * t->ncols;
	size_t i, x, h = 1, n, len;
	const char *s;

	for (i = 0; i < t->ncols; i++)
		if ((n = cell_lines(row[i], 0, &s, &len)) > h)
			h = n;
	for (x = 0; x < h; x++) {
		for (i = 0; i < t->ncols; i++) {
			fputs(compact ? (i == 0 ? "  " : " ") : "| ", f);
			if (x < cell_lines(row[i], x, &s, &len))
				put_left(f, s, len, w[i]);
			else
				put_left(f, "  ", 2, w[i]);
			putc(' ', f);
		}
		fputs(compact ? " \n" : "|\n", f);
	}
}

static void
table_text(FILE *f, const struct table *t, const size_t *w, int compact)
{
	size_t i, r;

	if (!compact)
		rule(f, w, t->ncols);
	putc(compact ? ' ' : '|', f);
	for (i = 0; i < t->ncols; i++) {
		putc(' ', f);
		put_center(f, t->header[i], w[i]);
		fputs(compact ? (i + 1 == t->ncols ? "  " : " ") : " |", f);
	}
	putc('\n', f);
	if (!compact)
		rule(f, w, t->ncols);
	for (r = 0; r < t->nrows; r++) {
		row_lines(f, t, r, w, compact);
		if (!compact)
			rule(f, w, t->ncols);
	}
}

int
table_write(FILE *f, const struct table *t, enum tfmt fmt)
{
	size_t *w, i, r, x, n, len, lw;
	const char *s;

	if (fmt == TFMT_CSV) {
		for (r = 0; r < t->nrows; r++)
			csv_record(f, t->cells + r * t->ncols, t->ncols);
		return ferror(f) ? -1 : 0;
	}
	if ((w = calloc(t->ncols + 1, sizeof(*w))) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	for (i = 0; i < t->ncols; i++)
		w[i] = str_width(t->header[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			n = cell_lines(t->cells[r * t->ncols + i], 0, &s, &len);
			for (x = 0; x < n; x++) {
				cell_lines(
				    t->cells[r * t->ncols + i], x, &s, &len);
				if ((lw = line_width(s, len)) > w[i])
					w[i] = lw;
			}
		}
	table_text(f, t, w, fmt == TFMT_COMPACT);
	free(w);
	return ferror(f) ? -1 : 0;
}

/* unicode.IsSpace of the field's first rune, for the ones UTF-8 can hold. */
static int
csv_leading_space(const unsigned char *s)
{
	if (strchr(" \t\n\v\f\r", s[0]) != NULL && s[0] != '\0')
		return 1;
	if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 1;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 1; /* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
		s[2] == 0xaf))
		return 1; /* U+2000-200A, 2028, 2029, 202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 1;				     /* U+205F */
	return s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80; /* U+3000 */
}

static int
csv_needs_quotes(const char *s)
{
	if (*s == '\0')
		return 0;
	if (strcmp(s, "\\.") == 0 || strpbrk(s, "\",\r\n") != NULL)
		return 1;
	return csv_leading_space((const unsigned char *)s);
}

void
csv_record(FILE *f, char *const *fields, size_t n)
{
	const char *s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			putc(',', f);
		if (!csv_needs_quotes(fields[i])) {
			fputs(fields[i], f);
			continue;
		}
		putc('"', f);
		for (s = fields[i]; *s != '\0'; s++) {
			if (*s == '"')
				putc('"', f);
			putc(*s, f);
		}
		putc('"', f);
	}
	putc('\n', f);
}
