/*
 * imgctl tables: byte-exact against what lxc 5.0.2 printed for the same
 * rows (bordered, compact, multi-line and wide cells), CSV quoting as
 * Go's encoding/csv, lxc's row order (natural order, empty cells last),
 * and the -f names.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/imgctl.h"
#include "imgctl/table.h"
#include "tests/t.h"

static const char *const hdr8[] = {"ALIAS", "FINGERPRINT", "PUBLIC",
    "DESCRIPTION", "ARCHITECTURE", "TYPE", "SIZE", "UPLOAD DATE"};

static const char *const rows8[][8] = {
    {"u1 (1 more)", "cd744b2cb34b", "no", "Test unified", "x86_64", "CONTAINER",
	"0.00MB", "Nov 29, 2026 at 1:15am (UTC)"},
    {"sp", "0972b5481f7f", "yes", "Test split image", "x86_64", "CONTAINER",
	"0.01MB", "Nov 29, 2026 at 1:15am (UTC)"},
};

/* lxc image list, as lxc printed it. */
static const char lxc_table[] =
    "+-------------+--------------+--------+------------------+--------------"
    "+-----------+--------+------------------------------+\n"
    "|    ALIAS    | FINGERPRINT  | PUBLIC |   DESCRIPTION    | ARCHITECTURE "
    "|   TYPE    |  SIZE  |         UPLOAD DATE          |\n"
    "+-------------+--------------+--------+------------------+--------------"
    "+-----------+--------+------------------------------+\n"
    "| sp          | 0972b5481f7f | yes    | Test split image | x86_64       "
    "| CONTAINER | 0.01MB | Nov 29, 2026 at 1:15am (UTC) |\n"
    "+-------------+--------------+--------+------------------+--------------"
    "+-----------+--------+------------------------------+\n"
    "| u1 (1 more) | cd744b2cb34b | no     | Test unified     | x86_64       "
    "| CONTAINER | 0.00MB | Nov 29, 2026 at 1:15am (UTC) |\n"
    "+-------------+--------------+--------+------------------+--------------"
    "+-----------+--------+------------------------------+\n";

/* lxc image list -f compact. */
static const char lxc_compact[] =
    "     ALIAS     FINGERPRINT   PUBLIC    DESCRIPTION     ARCHITECTURE  "
    "  TYPE      SIZE           UPLOAD DATE           \n"
    "  sp           0972b5481f7f  yes     Test split image  x86_64        "
    "CONTAINER  0.01MB  Nov 29, 2026 at 1:15am (UTC)  \n"
    "  u1 (1 more)  cd744b2cb34b  no      Test unified      x86_64        "
    "CONTAINER  0.00MB  Nov 29, 2026 at 1:15am (UTC)  \n";

/* lxc image list -c lLdfs: multi-line cells and a wide-character one. */
static const char lxc_multiline[] =
    "+-------------+-------------+-------------+--------------+--------+\n"
    "|    ALIAS    |   ALIASES   | DESCRIPTION | FINGERPRINT  |  SIZE  |\n"
    "+-------------+-------------+-------------+--------------+--------+\n"
    "| sp2         | sp2         | multi       | 0972b5481f7f | 0.01MB |\n"
    "|             |             | line desc   |              |        |\n"
    "+-------------+-------------+-------------+--------------+--------+\n"
    "| u1 (1 more) | longeralias | \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
    "desc | cd744b2cb34b | 0.00MB |\n"
    "|             | u1          |             |              |        |\n"
    "+-------------+-------------+-------------+--------------+--------+\n";

/* lxc image list with no image. */
static const char lxc_empty[] = "+-------+-------------+\n"
				"| ALIAS | FINGERPRINT |\n"
				"+-------+-------------+\n";

static char *
render(const struct table *t, enum tfmt fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_write(f, t, fmt);
	fclose(f);
	return buf;
}

static void
add_row(struct table *t, const char *const *cells)
{
	char **row = calloc(t->ncols, sizeof(*row));
	size_t i;

	for (i = 0; i < t->ncols; i++)
		row[i] = strdup(cells[i]);
	table_add(t, row);
	free(row);
}

static void
image_table(struct table *t)
{
	table_init(t, hdr8, 8);
	add_row(t, rows8[0]);
	add_row(t, rows8[1]);
	table_sort(t);
}

T_TEST(table_as_lxc)
{
	struct table t;
	char *out;

	image_table(&t);
	out = render(&t, TFMT_TABLE);
	T_EQ_STR(out, lxc_table);
	free(out);
	table_free(&t);
}

T_TEST(compact_as_lxc)
{
	struct table t;
	char *out;

	image_table(&t);
	out = render(&t, TFMT_COMPACT);
	T_EQ_STR(out, lxc_compact);
	free(out);
	table_free(&t);
}

T_TEST(multiline_and_wide_as_lxc)
{
	static const char *const hdr[] = {
	    "ALIAS", "ALIASES", "DESCRIPTION", "FINGERPRINT", "SIZE"};
	static const char *const r1[] = {"u1 (1 more)", "longeralias\nu1",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e desc", "cd744b2cb34b",
	    "0.00MB"};
	static const char *const r2[] = {
	    "sp2", "sp2", "multi\nline desc", "0972b5481f7f", "0.01MB"};
	struct table t;
	char *out;

	table_init(&t, hdr, 5);
	add_row(&t, r1);
	add_row(&t, r2);
	table_sort(&t);
	out = render(&t, TFMT_TABLE);
	T_EQ_STR(out, lxc_multiline);
	free(out);
	table_free(&t);
}

T_TEST(empty_table_as_lxc)
{
	static const char *const hdr[] = {"ALIAS", "FINGERPRINT"};
	struct table t;
	char *out;

	table_init(&t, hdr, 2);
	out = render(&t, TFMT_TABLE);
	T_EQ_STR(out, lxc_empty);
	free(out);
	out = render(&t, TFMT_CSV);
	T_EQ_STR(out, "");
	free(out);
	table_free(&t);
}

T_TEST(csv_as_go)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"", ""},
	    {"a,b", "\"a,b\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"two\nlines", "\"two\nlines\""},
	    {"cr\rhere", "\"cr\rhere\""},
	    {" lead", "\" lead\""},
	    {"\tlead", "\"\tlead\""},
	    {"\xc2\xa0nbsp", "\"\xc2\xa0nbsp\""},
	    {"\\.", "\"\\.\""},
	    {"trail ", "trail "},
	    {"Nov 29, 2026 at 1:15am (UTC)",
		"\"Nov 29, 2026 at 1:15am (UTC)\""},
	};
	char *fields[1], *buf;
	size_t i, len;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		fields[0] = (char *)cases[i].in;
		csv_record(f, fields, 1);
		fclose(f);
		buf[len - 1] = '\0'; /* the record's newline */
		T_EQ_STR(buf, cases[i].out);
		free(buf);
	}
}

T_TEST(natural_order)
{
	static const char *const ordered[] = {"", "1", "2", "02", "10", "a",
	    "a1", "a01", "a2", "a10", "ab", "b", "x0", "x00"};
	size_t i, j, n = sizeof(ordered) / sizeof(ordered[0]);

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			T_EXPECT(
			    !(natural_less(ordered[i], ordered[j]) != (i < j)),
			    "natural_less(\"%s\", \"%s\") != %d", ordered[i],
			    ordered[j], i < j);
}

/* lxc's StringList: the first differing column decides, "" last. */
T_TEST(rows_sorted_as_lxc)
{
	static const char *const hdr[] = {"A", "B"};
	static const char *const in[][2] = {{"img10", "x"}, {"", "a"},
	    {"img2", "y"}, {"img2", ""}, {"img2", "b"}};
	static const char *const want[][2] = {{"img2", "b"}, {"img2", "y"},
	    {"img2", ""}, {"img10", "x"}, {"", "a"}};
	struct table t;
	size_t i;

	table_init(&t, hdr, 2);
	for (i = 0; i < 5; i++)
		add_row(&t, in[i]);
	table_sort(&t);
	for (i = 0; i < 5; i++) {
		T_EQ_STR(t.cells[2 * i], want[i][0]);
		T_EQ_STR(t.cells[2 * i + 1], want[i][1]);
	}
	table_free(&t);
}

T_TEST(display_width)
{
	T_EQ_INT(str_width(""), 0);
	T_EQ_INT(str_width("abc"), 3);
	T_EQ_INT(str_width("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* two CJK */
	T_EQ_INT(str_width("e\xcc\x81"), 1); /* e + combining acute */
	T_EQ_INT(str_width("\xff"), 1);	     /* not UTF-8: one column */
}

T_TEST(format_names)
{
	enum tfmt f;

	T_EQ_INT(tfmt_parse("table", &f), 0);
	T_EQ_INT(f, TFMT_TABLE);
	T_EQ_INT(tfmt_parse("compact", &f), 0);
	T_EQ_INT(f, TFMT_COMPACT);
	T_EQ_INT(tfmt_parse("yaml", &f), 0);
	T_EQ_INT(f, TFMT_YAML);
	T_EQ_INT(tfmt_parse("xml", &f), -1);
	T_EQ_STR(ctl_errmsg(), "Invalid format \"xml\"");
	T_EQ_INT(tfmt_parse("", &f), -1);
	T_EQ_INT(tfmt_parse("Table", &f), -1);
}

int
main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	T_RUN(table_as_lxc);
	T_RUN(compact_as_lxc);
	T_RUN(multiline_and_wide_as_lxc);
	T_RUN(empty_table_as_lxc);
	T_RUN(csv_as_go);
	T_RUN(natural_order);
	T_RUN(rows_sorted_as_lxc);
	T_RUN(display_width);
	T_RUN(format_names);
	return T_DONE();
}
