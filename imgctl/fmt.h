/*
 * Values formatted the way lxc (Go) prints them: timestamps, sizes,
 * transfer rates and numbers. Pure code, unit-tested against lxc's output.
 */
#ifndef IMGD_IMGCTL_FMT_H
#define IMGD_IMGCTL_FMT_H

#include <stddef.h>
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
 * Parse the timestamps Go reads from JSON and from YAML (yaml.v2): RFC
 * 3339 with 1- or 2-digit month, day, hour, minute and second fields, 'T'
 * or 't', an optional fraction, 'Z' or +hh:mm; "YYYY-M-D h:m:s[.f]" and
 * "YYYY-M-D" (both UTC). Returns 0, or -1 if s is none of those or names
 * a day or time that does not exist.
 */
int ts_parse(const char *s, struct ts *);
/* The zero time.Time, January 1 of year 1, which Go writes for "unset". */
void ts_zero(struct ts *);
/* Go's time.RFC3339Nano in the timestamp's own offset. */
void ts_rfc3339(const struct ts *, char out[TS_STR_MAX]);
/* "Jan 2, 2006 at 3:04pm (MST)" in UTC: the UPLOAD DATE column. */
void ts_list_date(const struct ts *, char out[TS_STR_MAX]);
/* "2006/01/02 15:04 UTC": image info. */
void ts_info_date(const struct ts *, char out[TS_STR_MAX]);
/* lxc's shared.TimeIsSet(): strictly after the epoch. */
int ts_is_set(const struct ts *);

/* "%.2fMB" of bytes / 2^20: the SIZE column and image info. */
void fmt_size_mb(int64_t bytes, char *out, size_t outlen);
/* LXD's units.GetByteSizeString(n, 2): "999B", "12.34MB" (SI units). */
void fmt_bytes(int64_t n, char *out, size_t outlen);
/* Go's fmt "%v" of a float64: "10504", "1.234567e+06". */
#define FMT_FLOAT_MAX 32
void fmt_go_float(double v, char *out, size_t outlen);

#endif
