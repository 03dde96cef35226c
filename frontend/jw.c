/*
 * The list documents' JSON writer (see jw.h). Strings come from the
 * store's records, which the IPC decoder checked to be valid UTF-8 without
 * NUL; they are written as UTF-8, with the escapes jansson uses: \" \\ \b
 * \f \n \r \t, \uXXXX for other control characters, "/" as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend/jw.h"
#include "ipc/log.h"

static void
grow(struct jw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 4096;

	if (n <= w->cap - w->len)
		return;
	while (cap - w->len < n)
		cap *= 2;
	if ((w->p = realloc(w->p, cap)) == NULL)
		fatal("realloc");
	w->cap = cap;
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{
	grow(w, n);
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void
jw_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

void
jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	char *o;

	grow(w, 6 * n + 2); /* the worst case: every byte as \u00XX */
	o = w->p + w->len;
	*o++ = '"';
	for (; *p; p++) {
		unsigned char ch = *p;

		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*o++ = (char)ch;
			continue;
		}
		*o++ = '\\';
		switch (ch) {
		case '"':
		case '\\':
			*o++ = (char)ch;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->p);
}

void
jw_key(struct jw *w, int comma, const char *k)
{
	if (comma)
		jw_raw(w, ",", 1);
	jw_str(w, k);
	jw_raw(w, ":", 1);
}

void
jw_uint(struct jw *w, uint64_t v)
{
	char buf[24], *e = buf + sizeof(buf), *b = e;

	do
		*--b = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	jw_raw(w, b, (size_t)(e - b));
}

void
jw_int(struct jw *w, int64_t v)
{
	if (v < 0) {
		jw_raw(w, "-", 1);
		jw_uint(w, (uint64_t)0 - (uint64_t)v);
	} else
		jw_uint(w, (uint64_t)v);
}

void
jw_bool(struct jw *w, int v)
{
	if (v)
		jw_raw(w, "true", 4);
	else
		jw_raw(w, "false", 5);
}

void
jw_reset(struct jw *w)
{
	w->len = 0;
}

void
jw_free(struct jw *w)
{
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}
