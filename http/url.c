/*
 * Request targets: split path and query, percent-decode the path, read
 * query parameters (RFC 3986 2.1, application/x-www-form-urlencoded).
 * Every decoded byte is checked: no NUL, no other control character.
 */
#include <string.h>

#include "http/http.h"
#include "http/http_priv.h"

void
http_target_split(const char *target, size_t *pathlen, const char **query)
{
	const char *q = strchr(target, '?');

	*pathlen = q != NULL ? (size_t)(q - target) : strlen(target);
	*query = q != NULL ? q + 1 : NULL;
}

static int
url_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Decode the byte at s[*i] of s[0..n) and move *i past it. plus: '+' is
 * a space (queries). Returns the byte, or -1 for a bad escape or a
 * control character; *escaped tells whether it came from %XX.
 */
static int
url_next(const char *s, size_t n, size_t *i, int plus, int *escaped)
{
	unsigned char c = (unsigned char)s[*i];
	int hi, lo;

	*escaped = 0;
	if (c == '%') {
		if (n - *i < 3 || (hi = http_hexval(s[*i + 1])) < 0 ||
		    (lo = http_hexval(s[*i + 2])) < 0)
			return -1;
		c = (unsigned char)(hi << 4 | lo);
		*escaped = 1;
		*i += 3;
	} else {
		if (plus && c == '+')
			c = ' ';
		(*i)++;
	}
	return url_is_ctl(c) ? -1 : c;
}

/* 1 if out[0..n) has a "." or ".." segment. */
static int
url_has_dots(const char *out, size_t n)
{
	size_t i, start = 0, len;

	for (i = 0; i <= n; i++) {
		if (i < n && out[i] != '/')
			continue;
		len = i - start;
		if ((len == 1 && out[start] == '.') ||
		    (len == 2 && out[start] == '.' && out[start + 1] == '.'))
			return 1;
		start = i + 1;
	}
	return 0;
}

ssize_t
http_path_decode(
    const char *path, size_t len, char *out, size_t outlen, int flags)
{
	size_t i = 0, o = 0;
	int c, escaped;

	while (i < len) {
		if ((c = url_next(path, len, &i, 0, &escaped)) == -1)
			return -1;
		if (escaped && c == '/' && (flags & HTTP_PATH_NO_SLASH))
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	if ((flags & HTTP_PATH_NO_DOTS) && url_has_dots(out, o))
		return -1;
	return (ssize_t)o;
}

/*
 * Decode s[0..n) (a query key or value): into out when out is not NULL,
 * else compare with name. Returns the decoded length (or 1/0 for equal /
 * not equal when comparing), -1 on bad encoding or overflow.
 */
static ssize_t
url_query_decode(
    const char *s, size_t n, char *out, size_t outlen, const char *name)
{
	size_t i = 0, o = 0;
	int c, escaped, equal = 1;

	while (i < n) {
		if ((c = url_next(s, n, &i, 1, &escaped)) == -1)
			return -1;
		if (out == NULL) {
			if (name[o] == '\0' || (unsigned char)name[o] != c)
				equal = 0;
			else
				o++;
			continue;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (out == NULL)
		return equal && name[o] == '\0';
	out[o] = '\0';
	return (ssize_t)o;
}

int
http_query_get(const char *query, const char *name, char *out, size_t outlen)
{
	const char *p, *amp, *eq, *kend;
	ssize_t r;
	int found = 0;

	if (outlen == 0)
		return -1;
	if (query == NULL)
		return 0;
	for (p = query; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		kend = eq != NULL ? eq : amp;
		if ((r = url_query_decode(
			 p, (size_t)(kend - p), NULL, 0, name)) == -1)
			return -1;
		if (r == 1 && found++)
			return -1;
		if (r == 1 && eq == NULL)
			out[0] = '\0';
		else if (eq != NULL &&
			 url_query_decode(eq + 1, (size_t)(amp - eq - 1),
			     r == 1 ? out : NULL, outlen, "") == -1)
			return -1;
	}
	return found;
}

int
http_query_next(
    const char **cur, char *key, size_t keylen, char *val, size_t vallen)
{
	const char *p = *cur, *amp, *eq, *kend;

	if (keylen == 0 || vallen == 0)
		return -1;
	while (*p == '&')
		p++;
	if (*p == '\0') {
		*cur = p;
		return 0;
	}
	amp = strchr(p, '&');
	if (amp == NULL)
		amp = p + strlen(p);
	eq = memchr(p, '=', (size_t)(amp - p));
	kend = eq != NULL ? eq : amp;
	if (url_query_decode(p, (size_t)(kend - p), key, keylen, NULL) == -1)
		return -1;
	val[0] = '\0';
	if (eq != NULL && url_query_decode(eq + 1, (size_t)(amp - eq - 1), val,
			      vallen, NULL) == -1)
		return -1;
	*cur = *amp != '\0' ? amp + 1 : amp;
	return 1;
}

int
http_pct_encode(const char *s, int form, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	for (; *p != '\0'; p++) {
		if (o + 4 > outlen)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~' || (*p == '/' && !form))
			out[o++] = (char)*p;
		else if (*p == ' ' && form)
			out[o++] = '+';
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 0xf];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}
