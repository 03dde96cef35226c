/*
 * Values formatted the way lxc (Go) prints them: timestamps, sizes,
 * transfer rates and numbers. Pure code, unit-tested against lxc's output.
 */
#ifndef IMGD_IMGCTL_FMT_H
#define IMGD_IMGCTL_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "policy/timefmt.h"

/* "Jan 2, 2006 at 3:04pm (MST)" in UTC: the UPLOAD DATE column. */
void ts_list_date(const struct ts *, char out[TS_STR_MAX]);
/* "2006/01/02 15:04 UTC": image info. */
void ts_info_date(const struct ts *, char out[TS_STR_MAX]);

/* "%.2fMB" of bytes / 2^20: the SIZE column and image info. */
void fmt_size_mb(int64_t bytes, char *out, size_t outlen);
/* LXD's units.GetByteSizeString(n, 2): "999B", "12.34MB" (SI units). */
void fmt_bytes(int64_t n, char *out, size_t outlen);
/* Go's fmt "%v" of a float64: "10504", "1.234567e+06". */
#define FMT_FLOAT_MAX 32
void fmt_go_float(double v, char *out, size_t outlen);

#endif
