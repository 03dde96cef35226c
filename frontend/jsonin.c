/*
 * Request JSON: bounded before jansson sees it (size, nesting depth), and
 * RFC 3339 timestamps as LXD's clients send them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "frontend/fe.h"

/* Nesting depth outside strings; -1 when over the limit. */
static int
json_depth_ok(const char *buf, size_t len)
{
	int depth = 0, in_str = 0, esc = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"')
			in_str = 1;
		else if (ch == '{' || ch == '[') {
			if (++depth > LIM_HTTP_JSON_DEPTH)
				return 0;
		} else if (ch == '}' || ch == ']')
			depth--;
	}
	return 1;
}

json_t *
json_parse_limited(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	if (len > LIM_HTTP_JSON_MAX) {
		snprintf(err, errlen, "JSON body larger than %llu bytes",
		    (unsigned long long)LIM_HTTP_JSON_MAX);
		return NULL;
	}
	if (!json_depth_ok(buf, len)) {
		snprintf(err, errlen, "JSON nested deeper than %d levels",
		    LIM_HTTP_JSON_DEPTH);
		return NULL;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		snprintf(err, errlen, "Invalid JSON: %s (line %d)", je.text,
		    je.line);
	return j;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/*
 * "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)" to seconds since the epoch
 * (fraction dropped). Go's zero time, year 1, comes back as INT64_MIN.
 */
int
parse_rfc3339(const char *s, int64_t *sec)
{
	const char *p = s;
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	struct tm tm;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &se))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -1;
	} else
		return -1;
	if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || se > 60 || oh > 23 || om > 59)
		return -1;
	if (y == 1 && mo == 1 && d == 1 && !h && !mi && !se) {
		*sec = INT64_MIN;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*sec = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
}
