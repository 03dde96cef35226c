/*
 * Checks of strings from untrusted input (metadata.yaml values, names):
 * well-formed UTF-8 (shortest form, no surrogates, at most U+10FFFF) and no
 * C0, DEL or C1 control characters, since later stages print and store them.
 */
#include <stddef.h>

#include "unpacker/internal.h"

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if malformed. */
static size_t
ustr_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

const char *
ustr_check(const char *s, size_t len, int flags)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n;

	while (i < len) {
		n = ustr_seq(u + i, len - i, &cp);
		if (n == 0)
			return "invalid UTF-8";
		if ((flags & USTR_TAB_NL) && (cp == '\t' || cp == '\n')) {
			i += n;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return "control characters are not allowed";
		i += n;
	}
	return NULL;
}
