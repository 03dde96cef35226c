/*
 * imgctl value formatting against Go's: timestamps (parse, RFC3339Nano,
 * lxc's two date layouts, "is set"), sizes, rates, %v of numbers, and
 * the progress text. Every malformed timestamp form is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "imgctl/fmt.h"
#include "imgctl/progress.h"
#include "tests/t.h"

T_TEST(timestamps_round_trip_as_go)
{
	static const struct {
		const char *in, *rfc3339, *list, *info;
	} cases[] = {
	    {"2026-11-29T01:15:51.457250732Z", "2026-11-29T01:15:51.457250732Z",
		"Nov 29, 2026 at 1:15am (UTC)", "2026/11/29 01:15 UTC"},
	    {"2016-03-15T11:10:00Z", "2016-03-15T11:10:00Z",
		"Mar 15, 2016 at 11:10am (UTC)", "2016/03/15 11:10 UTC"},
	    /* Go trims trailing zeros, and writes offset 0 as Z. */
	    {"2026-01-02T12:05:00.450000000+00:00", "2026-01-02T12:05:00.45Z",
		"Jan 2, 2026 at 12:05pm (UTC)", "2026/01/02 12:05 UTC"},
	    /* Another offset is kept; the dates are in UTC. */
	    {"2016-03-15T01:10:00+02:00", "2016-03-15T01:10:00+02:00",
		"Mar 14, 2016 at 11:10pm (UTC)", "2016/03/14 23:10 UTC"},
	    {"2016-03-15T00:30:00-01:30", "2016-03-15T00:30:00-01:30",
		"Mar 15, 2016 at 2:00am (UTC)", "2016/03/15 02:00 UTC"},
	    {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
		"Jan 1, 0001 at 12:00am (UTC)", "0001/01/01 00:00 UTC"},
	    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
		"Jan 1, 1970 at 12:00am (UTC)", "1970/01/01 00:00 UTC"},
	    /* yaml.v2's other forms: short fields, 't', no zone, date. */
	    {"2024-2-29t3:4:5.5Z", "2024-02-29T03:04:05.5Z",
		"Feb 29, 2024 at 3:04am (UTC)", "2024/02/29 03:04 UTC"},
	    {"2000-02-29 23:59:59", "2000-02-29T23:59:59Z",
		"Feb 29, 2000 at 11:59pm (UTC)", "2000/02/29 23:59 UTC"},
	    {"2030-12-31", "2030-12-31T00:00:00Z",
		"Dec 31, 2030 at 12:00am (UTC)", "2030/12/31 00:00 UTC"},
	};
	char buf[TS_STR_MAX];
	struct ts t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ts_parse(cases[i].in, &t) != 0) {
			T_FAIL("ts_parse(\"%s\") failed", cases[i].in);
			continue;
		}
		ts_rfc3339(&t, buf);
		T_EQ_STR(buf, cases[i].rfc3339);
		ts_list_date(&t, buf);
		T_EQ_STR(buf, cases[i].list);
		ts_info_date(&t, buf);
		T_EQ_STR(buf, cases[i].info);
	}
}

T_TEST(bad_timestamps_refused)
{
	static const char *const bad[] = {"", "2016", "16-01-01", "2016-02-30",
	    "2023-02-29", "1900-02-29", "2016-13-01", "2016-00-10",
	    "2016-01-00", "2016-01-01T24:00:00Z", "2016-01-01T10:60:00Z",
	    "2016-01-01T10:00:60Z", "2016-01-01T10:00:00",
	    "2016-01-01 10:00:00Z", "2016-01-01T10:00:00+0200",
	    "2016-01-01T10:00:00+2:00", "2016-01-01T10:00:00z",
	    "2016-01-01T10:00:00.Z", "2016-01-01x", "2016-01-01T10:00Z",
	    "2016-001-01", "+2016-01-01", " 2016-01-01", "2016-01-01 ",
	    "2016-01-01T10:00:00Z trailing"};
	struct ts t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(!(ts_parse(bad[i], &t) != -1),
		    "ts_parse(\"%s\") accepted", bad[i]);
}

/* The strict reader (the frontend's, for JSON) takes RFC 3339 exactly. */
T_TEST(strict_rfc3339)
{
	static const char *const ok[] = {"2006-01-02T15:04:05Z",
	    "2006-01-02t15:04:05.5+01:30", "0001-01-01T00:00:00Z",
	    "2024-02-29T23:59:59-12:00"};
	static const char *const bad[] = {"2006-1-02T15:04:05Z",
	    "2006-01-02 15:04:05", "2006-01-02", "2006-01-02T15:04:05",
	    "2006-01-02T5:04:05Z", "2023-02-29T00:00:00Z",
	    "2006-01-02T15:04:60Z", "2006-01-02T15:04:05Z ", ""};
	struct ts a, b;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		T_EXPECT(ts_parse_rfc3339(ok[i], &a) == 0, "%s refused", ok[i]);
		T_EXPECT(ts_parse(ok[i], &b) == 0 && a.sec == b.sec &&
			     a.nsec == b.nsec && a.off == b.off,
		    "%s: the two readers differ", ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(
		    ts_parse_rfc3339(bad[i], &a) == -1, "%s accepted", bad[i]);
	T_EQ_INT(ts_parse("2006-1-2 3:4:5", &a), 0); /* yaml.v2's form */
}

T_TEST(time_is_set_as_lxc)
{
	struct ts t;

	ts_zero(&t);
	T_EQ_INT(ts_is_set(&t), 0);
	T_EQ_INT(ts_parse("1970-01-01T00:00:00Z", &t), 0);
	T_EQ_INT(ts_is_set(&t), 0);
	T_EQ_INT(ts_parse("1970-01-01T00:00:01Z", &t), 0);
	T_EQ_INT(ts_is_set(&t), 1);
	/* Set or not is decided in UTC. */
	T_EQ_INT(ts_parse("1970-01-01T01:00:00+01:00", &t), 0);
	T_EQ_INT(ts_is_set(&t), 0);
}

T_TEST(sizes_as_lxc)
{
	static const struct {
		int64_t n;
		const char *mb, *si;
	} cases[] = {
	    {0, "0.00MB", "0B"},
	    {288, "0.00MB", "288B"},
	    {999, "0.00MB", "999B"},
	    {1000, "0.00MB", "1.00kB"},
	    {10504, "0.01MB", "10.50kB"},
	    {5242880, "5.00MB", "5.24MB"},
	    {12340000, "11.77MB", "12.34MB"},
	    {2147491840, "2048.01MB", "2.15GB"},
	    {1000000000000000000, "953674316406.25MB", "1.00EB"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_size_mb(cases[i].n, buf, sizeof(buf));
		T_EQ_STR(buf, cases[i].mb);
		fmt_bytes(cases[i].n, buf, sizeof(buf));
		T_EQ_STR(buf, cases[i].si);
	}
}

T_TEST(go_float_v)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0, "0"},
	    {10504, "10504"},
	    {100000, "100000"},
	    {999999, "999999"},
	    {1e6, "1e+06"},
	    {1234567, "1.234567e+06"},
	    {2147491840, "2.14749184e+09"},
	    {-2, "-2"},
	    {0.5, "0.5"},
	    {0.0001, "0.0001"},
	    {0.00001, "1e-05"},
	    {123456.5, "123456.5"},
	    {9007199254740993.0, "9.007199254740992e+15"},
	    {1e21, "1e+21"},
	};
	char buf[FMT_FLOAT_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_go_float(cases[i].v, buf, sizeof(buf));
		T_EQ_STR(buf, cases[i].s);
	}
	fmt_go_float(1, buf, 4); /* too small: nothing, not an overflow */
	T_EQ_STR(buf, "");
}

T_TEST(progress_text_as_lxc)
{
	char buf[96];

	progress_text(buf, sizeof(buf), 450, 1000, 1.0);
	T_EQ_STR(buf, "46% (450B/s)");
	progress_text(buf, sizeof(buf), 1000, 1000, 1.0);
	T_EQ_STR(buf, "100% (1.00kB/s)");
	progress_text(buf, sizeof(buf), 0, 1000, 0);
	T_EQ_STR(buf, "1% (0B/s)");
	progress_text(buf, sizeof(buf), 5000000, 0, 2.0);
	T_EQ_STR(buf, "5.00MB (2.50MB/s)");
}

int
main(void)
{
	T_RUN(timestamps_round_trip_as_go);
	T_RUN(bad_timestamps_refused);
	T_RUN(strict_rfc3339);
	T_RUN(time_is_set_as_lxc);
	T_RUN(sizes_as_lxc);
	T_RUN(go_float_v);
	T_RUN(progress_text_as_lxc);
	return T_DONE();
}
