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

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void
ts_list_date(const struct ts *t, char out[TS_STR_MAX])
{
	struct ts_tm tm;
	int h12;

	ts_fields(t, 0, &tm);
	h12 = tm.hour % 12 == 0 ? 12 : tm.hour % 12;
	snprintf(out, TS_STR_MAX, "%s %d, %04lld at %d:%02d%s (UTC)",
	    month_names[tm.mon - 1], tm.day, (long long)tm.year, h12, tm.min,
	    tm.hour < 12 ? "am" : "pm");
}

void
ts_info_date(const struct ts *t, char out[TS_STR_MAX])
{
	struct ts_tm tm;

	ts_fields(t, 0, &tm);
	snprintf(out, TS_STR_MAX, "%04lld/%02d/%02d %02d:%02d UTC",
	    (long long)tm.year, tm.mon, tm.day, tm.hour, tm.min);
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
