/*
 * multipart/form-data headers: the boundary parameter of Content-Type
 * (RFC 2046 5.1.1), the part header block and its Content-Disposition
 * (RFC 7578 4.2), and the writer imgctl uploads with.
 */
#include <sys/random.h>

#include <errno.h>
#include <string.h>

#include "http/http.h"
#include "http/http_priv.h"

/* bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space, not last. */
int
mp_boundary_valid(const char *b)
{
	size_t i, n;

	n = strlen(b);
	if (n < 1 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!http_is_alpha(b[i]) && !http_is_digit(b[i]) &&
		    !http_in_set(b[i], "'()+_,-./:=? "))
			return 0;
	return 1;
}

/*
 * Read the next parameter of s[0..n) from *i on: OWS ";" OWS token "="
 * ( token / quoted-string ), empty parameters skipped. The value, with
 * quoted-pairs undone, goes to val (vallen bytes with the NUL). Returns 1
 * with a parameter, 0 at the end, -1 on bad syntax or a value too long.
 */
static int
mp_param(const char *s, size_t n, size_t *i, const char **name, size_t *namelen,
    char *val, size_t vallen)
{
	size_t j = *i, k, o = 0;
	unsigned char c;

	for (;;) {
		while (j < n && http_is_ows(s[j]))
			j++;
		if (j == n)
			return 0;
		if (s[j++] != ';')
			return -1;
		while (j < n && http_is_ows(s[j]))
			j++;
		if (j < n && s[j] != ';')
			break;
	}
	for (k = j; j < n && http_is_tchar(s[j]); j++)
		;
	if (j == k || j == n || s[j] != '=')
		return -1;
	*name = s + k;
	*namelen = j - k;
	if (++j < n && s[j] == '"') {
		for (j++;; j++) {
			if (j == n)
				return -1;
			c = (unsigned char)s[j];
			if (c == '"')
				break;
			/* quoted-pair; the value has no control bytes. */
			if (c == '\\' && ++j == n)
				return -1;
			if (o + 1 >= vallen)
				return -1;
			val[o++] = s[j];
		}
		j++;
	} else {
		for (k = j; j < n && http_is_tchar(s[j]); j++) {
			if (o + 1 >= vallen)
				return -1;
			val[o++] = s[j];
		}
		if (j == k)
			return -1;
	}
	val[o] = '\0';
	*i = j;
	return 1;
}

/* type "/" subtype at the start of s; returns its length or 0. */
static size_t
mp_media_type(const char *s, size_t n, const char *type, const char *sub)
{
	size_t i, j;

	for (i = 0; i < n && http_is_tchar(s[i]); i++)
		;
	if (i == n || s[i] != '/' || !http_caseeq(s, i, type))
		return 0;
	for (j = i + 1; j < n && http_is_tchar(s[j]); j++)
		;
	if (!http_caseeq(s + i + 1, j - i - 1, sub))
		return 0;
	return j;
}

int
mp_boundary_parse(
    const char *ctype, char out[MP_BOUNDARY_MAX + 1], struct http_error *err)
{
	const char *name;
	char val[MP_BOUNDARY_MAX + 2];
	size_t n, i, nl;
	int r, found = 0;

	err->status = 400;
	n = strlen(ctype);
	if ((i = mp_media_type(ctype, n, "multipart", "form-data")) == 0) {
		err->status = 415;
		err->reason = "Content-Type must be multipart/form-data";
		return -1;
	}
	while (
	    (r = mp_param(ctype, n, &i, &name, &nl, val, sizeof(val))) == 1) {
		if (!http_caseeq(name, nl, "boundary"))
			continue;
		if (found++ || !mp_boundary_valid(val)) {
			err->reason = "invalid multipart boundary";
			return -1;
		}
		memcpy(out, val, strlen(val) + 1);
	}
	if (r == -1 || !found) {
		err->reason = r == -1
				  ? "invalid multipart Content-Type"
				  : "multipart Content-Type has no boundary";
		return -1;
	}
	return 0;
}

/* Content-Disposition: form-data; name="..."[; filename="..."]. */
static int
mp_disposition(struct mp_part *part, const char *v, size_t n, const char **why)
{
	const char *name;
	char val[LIM_FILENAME_MAX + 1];
	size_t i, nl;
	int r, has_name = 0;

	for (i = 0; i < n && http_is_tchar(v[i]); i++)
		;
	if (!http_caseeq(v, i, "form-data")) {
		*why = "multipart part is not form-data";
		return -1;
	}
	while ((r = mp_param(v, n, &i, &name, &nl, val, sizeof(val))) == 1) {
		if (http_caseeq(name, nl, "name")) {
			if (has_name++)
				break;
			memcpy(part->name, val, strlen(val) + 1);
		} else if (http_caseeq(name, nl, "filename")) {
			if (part->has_filename++)
				break;
			memcpy(part->filename, val, strlen(val) + 1);
		}
	}
	if (r != 0) {
		*why = r == 1 ? "repeated parameter in Content-Disposition"
			      : "invalid multipart Content-Disposition";
		return -1;
	}
	if (!has_name) {
		*why = "multipart part has no name";
		return -1;
	}
	return 0;
}

int
mp_part_head(
    struct mp_part *part, const char *block, size_t len, const char **why)
{
	const char *s = block, *end = block + len, *eol, *v;
	size_t nl, vl;
	int disp = 0, ctype = 0;

	for (; s < end; s = eol + 2) {
		eol = memchr(s, '\r', (size_t)(end - s));
		if (http_field_split(s, (size_t)(eol - s), &nl, &v, &vl, why) ==
		    -1)
			return -1;
		if (http_caseeq(s, nl, "Content-Disposition")) {
			if (disp++) {
				*why = "repeated Content-Disposition in part";
				return -1;
			}
			if (mp_disposition(part, v, vl, why) == -1)
				return -1;
		} else if (http_caseeq(s, nl, "Content-Type")) {
			if (ctype++ || vl > LIM_FILENAME_MAX) {
				*why = "bad Content-Type in multipart part";
				return -1;
			}
			memcpy(part->content_type, v, vl);
			part->content_type[vl] = '\0';
		}
	}
	if (!disp) {
		*why = "multipart part has no Content-Disposition";
		return -1;
	}
	return 0;
}

int
mp_boundary_make(char out[MP_BOUNDARY_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[30];
	size_t got = 0, i;
	ssize_t n;

	while (got < sizeof(r)) {
		n = getrandom(r + got, sizeof(r) - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0xf];
	}
	out[2 * sizeof(r)] = '\0';
	return 0;
}

int
mp_writer_init(struct mp_writer *w, const char *boundary)
{
	memset(w, 0, sizeof(*w));
	if (boundary == NULL)
		return mp_boundary_make(w->boundary);
	if (!mp_boundary_valid(boundary))
		return -1;
	memcpy(w->boundary, boundary, strlen(boundary) + 1);
	return 0;
}

/* Appends to a fixed buffer; any overflow fails the whole write. */
struct mp_out {
	char *buf;
	size_t len, cap;
	int bad;
};

static void
mp_put(struct mp_out *o, const char *s, size_t n)
{
	if (o->bad || n >= o->cap - o->len) {
		o->bad = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
mp_puts(struct mp_out *o, const char *s)
{
	mp_put(o, s, strlen(s));
}

/* A quoted-string, escaping '"' and '\' as Go's mime/multipart does. */
static void
mp_put_quoted(struct mp_out *o, const char *s)
{
	size_t n = strlen(s);

	if (n > LIM_FILENAME_MAX)
		o->bad = 1;
	mp_put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			o->bad = 1;
		if (*s == '"' || *s == '\\')
			mp_put(o, "\\", 1);
		mp_put(o, s, 1);
	}
	mp_put(o, "\"", 1);
}

static ssize_t
mp_out_end(struct mp_out *o)
{
	return o->bad ? -1 : (ssize_t)o->len;
}

ssize_t
mp_writer_content_type(const struct mp_writer *w, char *out, size_t outlen)
{
	struct mp_out o = {out, 0, outlen, outlen == 0};
	const char *b;

	mp_puts(&o, "multipart/form-data; boundary=");
	for (b = w->boundary; *b != '\0' && http_is_tchar(*b); b++)
		;
	if (*b == '\0')
		mp_puts(&o, w->boundary);
	else
		mp_put_quoted(&o, w->boundary);
	return mp_out_end(&o);
}

ssize_t
mp_writer_part(struct mp_writer *w, const struct mp_part_spec *spec, char *out,
    size_t outlen)
{
	struct mp_out o = {
	    out, 0, outlen, outlen == 0 || w->closed || spec->name == NULL};
	const char *c;

	if (o.bad)
		return -1;
	mp_puts(&o, w->nparts == 0 ? "--" : "\r\n--");
	mp_puts(&o, w->boundary);
	mp_puts(&o, "\r\nContent-Disposition: form-data; name=");
	mp_put_quoted(&o, spec->name);
	if (spec->filename != NULL) {
		mp_puts(&o, "; filename=");
		mp_put_quoted(&o, spec->filename);
	}
	mp_puts(&o, "\r\n");
	if (spec->content_type != NULL) {
		for (c = spec->content_type; *c != '\0'; c++)
			if (!http_is_field_char(*c))
				o.bad = 1;
		if ((size_t)(c - spec->content_type) > LIM_FILENAME_MAX)
			o.bad = 1;
		mp_puts(&o, "Content-Type: ");
		mp_puts(&o, spec->content_type);
		mp_puts(&o, "\r\n");
	}
	mp_puts(&o, "\r\n");
	if (!o.bad)
		w->nparts++;
	return mp_out_end(&o);
}

ssize_t
mp_writer_close(struct mp_writer *w, char *out, size_t outlen)
{
	struct mp_out o = {
	    out, 0, outlen, outlen == 0 || w->closed || w->nparts == 0};

	mp_puts(&o, "\r\n--");
	mp_puts(&o, w->boundary);
	mp_puts(&o, "--\r\n");
	if (!o.bad)
		w->closed = 1;
	return mp_out_end(&o);
}

int
mp_body_length(const char *boundary, const struct mp_part_spec *parts,
    size_t nparts, uint64_t *total)
{
	struct mp_writer w;
	char buf[MP_WRITE_MAX];
	uint64_t sum = 0;
	ssize_t n;
	size_t i;

	if (boundary == NULL || mp_writer_init(&w, boundary) == -1)
		return -1;
	for (i = 0; i < nparts; i++) {
		n = mp_writer_part(&w, &parts[i], buf, sizeof(buf));
		if (n == -1 || (uint64_t)n > UINT64_MAX - sum)
			return -1;
		sum += (uint64_t)n;
		if (parts[i].size > UINT64_MAX - sum)
			return -1;
		sum += parts[i].size;
	}
	if ((n = mp_writer_close(&w, buf, sizeof(buf))) == -1 ||
	    (uint64_t)n > UINT64_MAX - sum)
		return -1;
	*total = sum + (uint64_t)n;
	return 0;
}
