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
			if (++depth > (int)fe_info.json_depth)
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

	if (len > fe_info.json_max) {
		snprintf(err, errlen, "JSON body larger than %llu bytes",
		    (unsigned long long)fe_info.json_max);
		return NULL;
	}
	if (!json_depth_ok(buf, len)) {
		snprintf(err, errlen, "JSON nested deeper than %u levels",
		    fe_info.json_depth);
		return NULL;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		snprintf(err, errlen, "Invalid JSON: %s (line %d)", je.text,
		    je.line);
	return j;
}

/*
 * RFC 3339 (policy/timefmt.c's strict reader) to seconds since the epoch
 * (fraction dropped). Go's zero time, year 1, comes back as INT64_MIN.
 */
int
parse_rfc3339(const char *s, int64_t *sec)
{
	struct ts t, zero;

	if (ts_parse_rfc3339(s, &t) == -1)
		return -1;
	ts_zero(&zero);
	/* Year 1, January 1, midnight, in whatever offset: unset. */
	*sec = t.sec + t.off == zero.sec ? INT64_MIN : t.sec;
	return 0;
}
