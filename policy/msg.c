/*
 * One-line error messages. Names in them come from hostile archives, so they
 * are shown as printable ASCII only: a message never spans lines, never
 * carries terminal escapes and is always valid JSON text once quoted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/msg.h"

void
msg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
msg_setp(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s", prefix);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

const char *
msg_quote(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i, n = 0;

	if (dstlen < 4) {
		if (dstlen > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; i < len && n + 1 < dstlen; i++) {
		if (n + 4 >= dstlen && i + 1 < len) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		dst[n++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	dst[n] = '\0';
	return dst;
}
