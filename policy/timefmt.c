/*
 * RFC 3339 timestamps, one implementation for the frontend and imgctl.
 * Dates are computed here rather than with gmtime(3)/timegm(3) so that
 * Go's zero time (year 1) and offsets other than the local one come out
 * the same as in Go.
 */
#include <stdio.h>
#include <string.h>

#include "policy/timefmt.h"

#define DAY_SECONDS 86400
/* Days from 0001-01-01 to 1970-01-01. */
#define ZERO_TIME_DAYS (-719162)

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

/* Both forms; strict: RFC 3339 exactly (two-digit fields, a zone). */
static int
parse(const char *s, struct ts *t, int strict)
{
	long y, mo, d, h = 0, mi = 0, se = 0;
	int32_t nsec = 0, off = 0;
	int w = strict ? 2 : 1;

	if ((y = ts_num(&s, 4, 4)) == -1 || *s++ != '-' ||
	    (mo = ts_num(&s, w, 2)) == -1 || *s++ != '-' ||
	    (d = ts_num(&s, w, 2)) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (int)mo))
		return -1;
	if (*s == '\0' && strict)
		return -1;
	if (*s != '\0') {
		char sep = *s++;

		if (sep != 'T' && sep != 't' && (sep != ' ' || strict))
			return -1;
		if ((h = ts_num(&s, w, 2)) == -1 || *s++ != ':' ||
		    (mi = ts_num(&s, w, 2)) == -1 || *s++ != ':' ||
		    (se = ts_num(&s, w, 2)) == -1 || ts_frac(&s, &nsec) == -1)
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

int
ts_parse(const char *s, struct ts *t)
{
	return parse(s, t, 0);
}

int
ts_parse_rfc3339(const char *s, struct ts *t)
{
	return parse(s, t, 1);
}

void
ts_zero(struct ts *t)
{
	t->sec = (int64_t)ZERO_TIME_DAYS * DAY_SECONDS;
	t->nsec = 0;
	t->off = 0;
}

void
ts_fields(const struct ts *t, int32_t off, struct ts_tm *tm)
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

/* n decimal digits of v, zero-padded, at p; returns the end. */
static char *
digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* Written by hand, not by snprintf: every image of a list has three. */
void
ts_rfc3339(const struct ts *t, char out[TS_STR_MAX])
{
	struct ts_tm tm;
	int32_t off = t->off < 0 ? -t->off : t->off;
	int64_t y;
	char *p = out;

	ts_fields(t, t->off, &tm);
	y = tm.year;
	/* As "%04lld": at least four characters, the sign among them. */
	{
		uint64_t v = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
		int n = 1;

		if (y < 0)
			*p++ = '-';
		for (uint64_t x = v / 10; x > 0; x /= 10)
			n++;
		p = digits(p, v, n < 4 - (y < 0) ? 4 - (y < 0) : n);
	}
	*p++ = '-';
	p = digits(p, (uint64_t)tm.mon, 2);
	*p++ = '-';
	p = digits(p, (uint64_t)tm.day, 2);
	*p++ = 'T';
	p = digits(p, (uint64_t)tm.hour, 2);
	*p++ = ':';
	p = digits(p, (uint64_t)tm.min, 2);
	*p++ = ':';
	p = digits(p, (uint64_t)tm.sec, 2);
	if (t->nsec != 0) {
		/* RFC3339Nano drops trailing zeros of the fraction. */
		*p++ = '.';
		p = digits(p, (uint64_t)t->nsec, 9);
		while (p[-1] == '0')
			p--;
	}
	if (t->off != 0) {
		*p++ = t->off < 0 ? '-' : '+';
		p = digits(p, (uint64_t)(off / 3600), 2);
		*p++ = ':';
		p = digits(p, (uint64_t)(off % 3600 / 60), 2);
	} else
		*p++ = 'Z';
	*p = '\0';
}

int
ts_is_set(const struct ts *t)
{
	return t->sec > 0;
}
