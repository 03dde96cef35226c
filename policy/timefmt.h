/* RFC 3339 timestamps as Go reads and writes them (policy/timefmt.c). */
#ifndef IMGD_POLICY_TIMEFMT_H
#define IMGD_POLICY_TIMEFMT_H

#include <stdint.h>

/* A point in time and the UTC offset it was written with. */
struct ts {
	int64_t sec;  /* since the epoch, UTC */
	int32_t nsec; /* 0..999999999 */
	int32_t off;  /* seconds east of UTC */
};

/* Longest output of the ts_* formatters, with the NUL. */
#define TS_STR_MAX 64

/*
 * Parse the timestamps Go reads from YAML (yaml.v2): RFC 3339 with 1- or
 * 2-digit month, day, hour, minute and second fields, 'T' or 't', an
 * optional fraction, 'Z' or +hh:mm; "YYYY-M-D h:m:s[.f]" and "YYYY-M-D"
 * (both UTC). Returns 0, or -1 if s is none of those or names a day or
 * time that does not exist.
 */
int ts_parse(const char *s, struct ts *);
/* RFC 3339 exactly, as Go's time.Time reads JSON: two-digit fields, 'T',
 * a zone. 0 or -1, as ts_parse. */
int ts_parse_rfc3339(const char *s, struct ts *);
/* The zero time.Time, January 1 of year 1, which Go writes for "unset". */
void ts_zero(struct ts *);
/* Go's time.RFC3339Nano in the timestamp's own offset. */
void ts_rfc3339(const struct ts *, char out[TS_STR_MAX]);
/* lxc's shared.TimeIsSet(): strictly after the epoch. */
int ts_is_set(const struct ts *);

/* The calendar fields of t, shifted by off seconds. */
struct ts_tm {
	int64_t year;
	int mon, day, hour, min, sec;
};
void ts_fields(const struct ts *t, int32_t off, struct ts_tm *tm);

#endif
