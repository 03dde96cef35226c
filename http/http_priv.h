/*
 * Internal to the HTTP codec: character classes (RFC 9110 5.6) and
 * helpers shared by its files. ASCII only: never the C locale's ctype.
 */
#ifndef IMGD_FRONTEND_HTTP_PRIV_H
#define IMGD_FRONTEND_HTTP_PRIV_H

#include <stddef.h>
#include <string.h>

static inline int
http_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
http_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* c is one of the characters of set (never NUL). */
static inline int
http_in_set(unsigned char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* tchar: the characters of a token (method, field name, parameter). */
static inline int
http_is_tchar(unsigned char c)
{
	return http_is_alpha(c) || http_is_digit(c) ||
	       http_in_set(c, "!#$%&'*+-.^_`|~");
}

/* VCHAR or obs-text. */
static inline int
http_is_vchar(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* A byte of a field value: no control character but HTAB. */
static inline int
http_is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || http_is_vchar(c);
}

static inline int
http_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* 0-15, or -1 for a byte that is not HEXDIG. */
static inline int
http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline unsigned char
http_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of a[0..alen) with the string b. */
static inline int
http_caseeq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == '\0' || http_lower((unsigned char)a[i]) !=
					http_lower((unsigned char)b[i]))
			return 0;
	return b[alen] == '\0';
}

/*
 * Split a header field line s[0..n) (CRLF removed) into a token name and
 * a value with its surrounding whitespace removed. Returns 0, or -1 with
 * *why set. Shared by request heads, multipart part heads and trailers.
 */
int http_field_split(const char *s, size_t n, size_t *namelen,
    const char **value, size_t *valuelen, const char **why);

/* multipart_hdr.c, for multipart.c. */
struct mp_part;
int mp_boundary_valid(const char *boundary);
/*
 * Parse a part's header block (len bytes of field lines, each ended by
 * CRLF, without the empty line) into *part. Returns 0 or -1 with *why.
 */
int mp_part_head(
    struct mp_part *part, const char *block, size_t len, const char **why);

#endif
