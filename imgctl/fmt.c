/*
 * Timestamps, sizes and numbers as lxc prints them. Dates are computed
 * here rather than with gmtime(3) so that Go's zero time (year 1) and
 * offsets other than the local one come out the same as in Go.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/fmt.h"

#define DAY_SECONDS 86400
/* Days from 0001-01-01 to 1970-01-01. */
#define ZERO_TIME_DAYS (-719162)

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Read min..max decimal digits at *s. Returns the value or -1. */
static long
ts_num(const char **s, int min, int max)
{
	long v = 0;
	int n = 0;

	while (n < max && **s >= '0' && **s <= '9') {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n < min ? -1 : v;
}

/* ".fraction": nanoseconds, digits past the ninth ignored as Go does. */
static int
ts_frac(const char **s, int32_t *nsec)
{
	int32_t ns = 0, scale = 100000000;

	if (**s != '.')
		return 0;
	(*s)++;
	if (**s < '0' || **s > '9')
		return -1;
	for (; **s >= '0' && **s <= '9'; (*s)++) {
		ns += (**s - '0') * scale;
		scale /= 10;
	}
	*nsec = ns;
	return 0;
}

/* "Z" or +hh:mm, the whole rest of the string (Go's "Z07:00"). */
static int
ts_zone(const char *s, int32_t *off)
{
	long h, m;
	int sign;

	if (s[0] == 'Z' && s[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	s++;
	if ((h = ts_num(&s, 2, 2)) == -1 || *s++ != ':' ||
	    (m = ts_num(&s, 2, 2)) == -1 || *s != '\0' || h > 23 || m > 59)
		return -1;
	*off = sign * (int32_t)(h * 3600 + m * 60);
	return 0;
}

int
ts_parse(const char *s, struct ts *t)
{
	long y, mo, d, h = 0, mi = 0, se = 0;
	int32_t nsec = 0, off = 0;

	if ((y = ts_num(&s, 4, 4)) == -1 || *s++ != '-' ||
	    (mo = ts_num(&s, 1, 2)) == -1 || *s++ != '-' ||
	    (d = ts_num(&s, 1, 2)) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (int)mo))
		return -1;
	if (*s != '\0') {
		char sep = *s++;

		if (sep != 'T' && sep != 't' && sep != ' ')
			return -1;
		if ((h = ts_num(&s, 1, 2)) == -1 || *s++ != ':' ||
		    (mi = ts_num(&s, 1, 2)) == -1 || *s++ != ':' ||
		    (se = ts_num(&s, 1, 2)) == -1 || ts_frac(&s, &nsec) == -1)
			return -1;
		if (h > 23 || mi > 59 || se > 59)
			return -1;
		if (sep == ' ' ? *s != '\0' : ts_zone(s, &off) == -1)
			return -1;
	}
	t->sec = days_from_civil(y, (int)mo, (int)d) * DAY_SECONDS + h * 3600 +
		 mi * 60 + se - off;
	t->nsec = nsec;
	t->off = off;
	return 0;
}

void
ts_zero(struct ts *t)
{
	t->sec = (int64_t)ZERO_TIME_DAYS * DAY_SECONDS;
	t->nsec = 0;
	t->off = 0;
}

/* Broken-down fields of t shifted by off seconds. */
struct tm_go {
	int64_t year;
	int mon, day, hour, min, sec;
};

static void
ts_split(const struct ts *t, int32_t off, struct tm_go *tm)
{
	int64_t s = t->sec + off, days, rem;

	days = s / DAY_SECONDS;
	rem = s % DAY_SECONDS;
	if (rem < 0) {
		rem += DAY_SECONDS;
		days--;
	}
	civil_from_days(days, &tm->year, &tm->mon, &tm->day);
	tm->hour = (int)(rem / 3600);
	tm->min = (int)(rem % 3600 / 60);
	tm->sec = (int)(rem % 60);
}

void
ts_rfc3339(const struct ts *t, char out[TS_STR_MAX])
{
	struct tm_go tm;
	char frac[12] = "", zone[8] = "Z";
	int32_t off = t->off < 0 ? -t->off : t->off;
	size_t n;

	ts_split(t, t->off, &tm);
	if (t->nsec != 0) {
		snprintf(frac, sizeof(frac), ".%09d", (int)t->nsec);
		/* RFC3339Nano drops trailing zeros of the fraction. */
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	if (t->off != 0)
		snprintf(zone, sizeof(zone), "%c%02d:%02d",
		    t->off < 0 ? '-' : '+', (int)(off / 3600),
		    (int)(off % 3600 / 60));
	snprintf(out, TS_STR_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s",
	    (long long)tm.year, tm.mon, tm.day, tm.hour, tm.min, tm.sec, frac,
	    zone);
}

void
ts_list_date(const struct ts *t, char out[TS_STR_MAX])
{
	struct tm_go tm;
	int h12;

	ts_split(t, 0, &tm);
	h12 = tm.hour % 12 == 0 ? 12 : tm.hour % 12;
	snprintf(out, TS_STR_MAX, "%s %d, %04lld at %d:%02d%s (UTC)",
	    month_names[tm.mon - 1], tm.day, (long long)tm.year, h12, tm.min,
	    tm.hour < 12 ? "am" : "pm");
}

void
ts_info_date(const struct ts *t, char out[TS_STR_MAX])
{
	struct tm_go tm;

	ts_split(t, 0, &tm);
	snprintf(out, TS_STR_MAX, "%04lld/%02d/%02d %02d:%02d UTC",
	    (long long)tm.year, tm.mon, tm.day, tm.hour, tm.min);
}

int
ts_is_set(const struct ts *t)
{
	return t->sec > 0;
}

void
fmt_size_mb(int64_t bytes, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.2fMB", (double)bytes / 1024.0 / 1024.0);
}

void
fmt_bytes(int64_t n, char *out, size_t outlen)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
	double v = (double)n;
	size_t i;

	if (n < 1000) {
		snprintf(out, outlen, "%lldB", (long long)n);
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		v /= 1000;
		if (v < 1000 || i + 1 == sizeof(units) / sizeof(units[0]))
			break;
	}
	snprintf(out, outlen, "%.2f%s", v, units[i]);
}

/*
 * Go's %v of a float64 is strconv's shortest 'g': the fewest digits that
 * read back as v, in %e form when the exponent is < -4 or >= 6 (2-digit
 * exponent at least), else in %f form.
 */
void
fmt_go_float(double v, char *out, size_t outlen)
{
	char e[40], digits[20], *p;
	int prec, exp, nd = 0, i;
	size_t o = 0;

	if (outlen < FMT_FLOAT_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	if (isnan(v) || isinf(v)) {
		snprintf(out, outlen, "%s",
		    isnan(v) ? "NaN"
		    : v > 0  ? "+Inf"
			     : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, outlen, "%s", signbit(v) ? "-0" : "0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is [-]d[.ddd]e[+-]xx: collect the digits and the exponent. */
	for (p = e; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (v < 0)
		out[o++] = '-';
	if (exp < -4 || exp >= 6) {
		out[o++] = digits[0];
		if (nd > 1)
			out[o++] = '.';
		for (i = 1; i < nd; i++)
			out[o++] = digits[i];
		snprintf(out + o, outlen - o, "e%c%02d", exp < 0 ? '-' : '+',
		    exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = exp + 1; i < 0; i++)
			out[o++] = '0';
	}
	for (i = 0; i < nd || i <= exp; i++) {
		if (i == exp + 1 && exp >= 0)
			out[o++] = '.';
		out[o++] = i < nd ? digits[i] : '0';
	}
	out[o] = '\0';
}
