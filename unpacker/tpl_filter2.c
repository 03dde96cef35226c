/*
 * tpl filters, continued: the ones that split text into words, lines or
 * lists, pad it, or encode it; and the filters this renderer refuses.
 */
#include <stdio.h>
#include <string.h>

#include "unpacker/tpl_int.h"

#define STR(v, s, n, b) val_str((v), &(s), &(n), (b))

/* strings.Fields: the next word at or after *off, or 0 at the end. */
static int
next_word(const char *s, size_t n, size_t *off, size_t *b, size_t *e)
{
	uint32_t rn;
	size_t w;

	while (*off < n) {
		w = utf8_dec(s + *off, n - *off, &rn);
		if (!rune_space(rn))
			break;
		*off += w;
	}
	if (*off >= n)
		return 0;
	*b = *off;
	while (*off < n) {
		w = utf8_dec(s + *off, n - *off, &rn);
		if (rune_space(rn))
			break;
		*off += w;
	}
	*e = *off;
	return 1;
}

static void
trim_space(const char **s, size_t *n)
{
	uint32_t rn;
	size_t w, i;

	while (*n > 0 && (w = utf8_dec(*s, *n, &rn)) > 0 && rune_space(rn)) {
		*s += w;
		*n -= w;
	}
	/* The last rune, as utf8.DecodeLastRune finds it. */
	while (*n > 0) {
		i = *n - 1;
		while (i > 0 && *n - i < 4 && ((unsigned char)(*s)[i] & 0xC0) == 0x80)
			i--;
		w = utf8_dec(*s + i, *n - i, &rn);
		if (i + w != *n)
			rn = RUNE_ERROR;
		if (!rune_space(rn))
			break;
		*n = i;
	}
}

/* The text of v, copied to the arena when it was made in buf. */
static int
keep_str(struct rstate *r, const struct val *v, const char **s, size_t *n,
    char *buf)
{
	char *p;

	val_str(v, s, n, buf);
	if (*s != buf)
		return 0;
	if ((p = tpl_alloc(r, *n + 1)) == NULL)
		return -1;
	memcpy(p, buf, *n);
	*s = p;
	return 0;
}

static int
new_list(struct rstate *r, size_t n, struct val *out)
{
	struct tlist *l;

	if ((l = tpl_alloc(r, sizeof(*l))) == NULL ||
	    (l->v = tpl_alloc(r, (n ? n : 1) * sizeof(*l->v))) == NULL)
		return -1;
	l->n = 0;
	memset(out, 0, sizeof(*out));
	out->t = V_LIST;
	out->u.l = l;
	return tpl_step(r, n / 16);
}

static void
list_add(struct val *lv, const char *p, size_t n)
{
	struct tlist *l = (struct tlist *)lv->u.l;

	val_sstr(&l->v[l->n++], p, n);
}

static int
f_split(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char b1[VSTR_MAX], b2[VSTR_MAX];
	const char *s, *sep, *hit;
	size_t n, sn, off = 0, k = 1, w;
	uint32_t rn;

	if (keep_str(r, in, &s, &n, b1) == -1)
		return -1;
	STR(a, sep, sn, b2);
	if (sn == 0) { /* one item per UTF-8 sequence */
		if (new_list(r, n, out) == -1)
			return -1;
		for (; off < n; off += w) {
			w = utf8_dec(s + off, n - off, &rn);
			list_add(out, s + off, w);
		}
		return 0;
	}
	for (; (hit = memmem(s + off, n - off, sep, sn)) != NULL; k++)
		off = (size_t)(hit - s) + sn;
	if (new_list(r, k, out) == -1)
		return -1;
	for (off = 0; (hit = memmem(s + off, n - off, sep, sn)) != NULL;) {
		list_add(out, s + off, (size_t)(hit - (s + off)));
		off = (size_t)(hit - s) + sn;
	}
	list_add(out, s + off, n - off);
	return 0;
}

static int
f_make_list(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	size_t n, off, w;
	const char *s;
	uint32_t rn;

	(void)a;
	if (keep_str(r, in, &s, &n, buf) == -1 || new_list(r, n, out) == -1)
		return -1;
	for (off = 0; off < n; off += w) {
		w = utf8_dec(s + off, n - off, &rn);
		if (rn == RUNE_ERROR)
			list_add(out, "\xef\xbf\xbd", 3);
		else
			list_add(out, s + off, w);
	}
	return 0;
}

/* A string made of runes [from, to) of s, invalid bytes as U+FFFD. */
static int
runes(struct rstate *r, const char *s, size_t n, int64_t from, int64_t to,
    struct sbuf *sb)
{
	size_t off = 0, w;
	int64_t k;
	uint32_t rn;

	sb_init(sb, r->lim->output_max);
	for (k = 0; off < n && k < to; k++, off += w) {
		w = utf8_dec(s + off, n - off, &rn);
		if (k < from)
			continue;
		if (rn == RUNE_ERROR)
			sb_rune(sb, RUNE_ERROR);
		else
			sb_put(sb, s + off, w);
	}
	return 0;
}

static int
f_slice(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	const char *p, *colon;
	struct val part;
	int64_t from, to, vto;
	struct sbuf sb;
	struct tlist *l;
	size_t n;

	STR(a, p, n, buf);
	colon = memchr(p, ':', n);
	if (colon == NULL || memchr(colon + 1, ':', n - (size_t)(colon - p) - 1))
		return tpl_fail(r, "slice takes \"from:to\" (either may be "
				   "left out, not the ':')");
	if (in->t != V_STR && in->t != V_LIST) {
		*out = *in;
		return 0;
	}
	val_sstr(&part, p, (size_t)(colon - p));
	from = val_int(r, &part);
	to = val_len(in);
	if (from > to)
		from = to;
	val_sstr(&part, colon + 1, n - (size_t)(colon - p) - 1);
	vto = val_int(r, &part);
	if (vto >= from && vto <= val_len(in))
		to = vto;
	if (from < 0)
		return tpl_fail(r, "slice: a negative start is out of range "
				   "(pongo2 panics)");
	if (in->t == V_LIST) {
		if ((l = tpl_alloc(r, sizeof(*l))) == NULL)
			return -1;
		l->v = in->u.l->v + from;
		l->n = (size_t)(to - from);
		*out = *in;
		out->u.l = l;
		return 0;
	}
	runes(r, in->u.s.p, in->u.s.n, from, to, &sb);
	return tpl_newstr(r, &sb, out, "slice");
}

static int
f_truncatechars(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t nl = val_int(r, a), len;
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	STR(in, s, n, buf);
	len = (int64_t)utf8_count(s, n); /* of in.String(), as []rune */
	if (nl < len && nl < 0)
		return tpl_fail(r, "truncatechars: a negative length is out of "
				   "range (pongo2 panics)");
	if (nl < len && nl >= 3) {
		runes(r, s, n, 0, nl - 3, &sb);
		sb_put(&sb, "...", 3);
	} else
		runes(r, s, n, 0, nl < len ? nl : len, &sb);
	return tpl_newstr(r, &sb, out, "truncatechars");
}

static int
f_truncatewords(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t max = val_int(r, a), k = 0;
	size_t n, off = 0, b, e;
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;

	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	if (max > 0) {
		while (next_word(s, n, &off, &b, &e)) {
			if (k == max) {
				sb_put(&sb, " ...", 4);
				break;
			}
			if (k++ > 0)
				sb_putc(&sb, ' ');
			sb_put(&sb, s + b, e - b);
		}
	}
	return tpl_newstr(r, &sb, out, "truncatewords");
}

static int
f_wordcount(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	size_t n, off = 0, b, e;
	char buf[VSTR_MAX];
	const char *s;
	int64_t k = 0;

	(void)a;
	STR(in, s, n, buf);
	tpl_step(r, n / 64);
	while (next_word(s, n, &off, &b, &e))
		k++;
	val_sint(out, k);
	return 0;
}

static int
f_wordwrap(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	size_t n, off = 0, b, e, words = 0, lines, i = 0;
	int64_t at = val_int(r, a);
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;

	STR(in, s, n, buf);
	if (at <= 0) {
		*out = *in;
		return 0;
	}
	while (next_word(s, n, &off, &b, &e))
		words++;
	/* pongo2 makes words/at + words%at lines: past two, a panic. */
	lines = words / (uint64_t)at + words % (uint64_t)at;
	if (lines > words / (uint64_t)at + (words % (uint64_t)at != 0))
		return tpl_fail(r, "wordwrap: %zu words do not wrap at %lld "
				   "(pongo2 panics)",
		    words, (long long)at);
	sb_init(&sb, r->lim->output_max);
	for (off = 0; next_word(s, n, &off, &b, &e); i++) {
		if (i > 0)
			sb_putc(&sb, i % (uint64_t)at == 0 ? '\n' : ' ');
		sb_put(&sb, s + b, e - b);
	}
	return tpl_newstr(r, &sb, out, "wordwrap");
}

static int
f_ljust(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t w = val_int(r, a), len = val_len(in), times;
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	times = w > len ? w - len : 0;
	STR(in, s, n, buf);
	if (times > (int64_t)r->lim->output_max)
		return tpl_fail(r, "ljust: the width is larger than the output "
				   "limit");
	sb_init(&sb, r->lim->output_max);
	sb_put(&sb, s, n);
	while (times-- > 0)
		sb_putc(&sb, ' ');
	return tpl_newstr(r, &sb, out, "ljust");
}

/* fmt.Sprintf("%Ns"): right-aligned, left-aligned when N < 0. */
static int
f_rjust(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t w = val_int(r, a), p;
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;
	int left = w < 0;

	if (w < -(int64_t)r->lim->output_max || w > (int64_t)r->lim->output_max)
		return tpl_fail(r, "rjust: the width is larger than the output "
				   "limit");
	if (left)
		w = -w;
	STR(in, s, n, buf);
	p = w - (int64_t)utf8_count(s, n); /* fmt pads by runes */
	sb_init(&sb, r->lim->output_max);
	while (!left && p-- > 0)
		sb_putc(&sb, ' ');
	sb_put(&sb, s, n);
	while (left && p-- > 0)
		sb_putc(&sb, ' ');
	return tpl_newstr(r, &sb, out, "rjust");
}

static int
f_striptags(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	const char *s, *lt, *gt, *t;
	char buf[VSTR_MAX];
	struct sbuf sb;
	size_t n, off = 0, tn;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	/* <[^>]*?> removed, leftmost first. */
	while ((lt = memchr(s + off, '<', n - off)) != NULL &&
	    (gt = memchr(lt, '>', n - (size_t)(lt - s))) != NULL) {
		sb_put(&sb, s + off, (size_t)(lt - (s + off)));
		off = (size_t)(gt - s) + 1;
	}
	sb_put(&sb, s + off, n - off);
	t = sb.p != NULL ? sb.p : "";
	tn = sb.n;
	trim_space(&t, &tn);
	if (sb.p != NULL)
		memmove(sb.p, t, tn);
	sb.n = tn;
	return tpl_newstr(r, &sb, out, "striptags");
}

static int
blank(const char *s, size_t n)
{
	trim_space(&s, &n);
	return n == 0;
}

static int
f_linebreaks(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	const char *s, *nl, *next;
	size_t n, off = 0, len, nlen;
	char buf[VSTR_MAX];
	struct sbuf sb;
	int open = 0;

	(void)a;
	if (val_len(in) == 0) {
		*out = *in;
		return 0;
	}
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (;;) {
		nl = memchr(s + off, '\n', n - off);
		len = nl != NULL ? (size_t)(nl - (s + off)) : n - off;
		if (!open) {
			sb_put(&sb, "<p>", 3);
			open = 1;
		}
		sb_put(&sb, s + off, len);
		if (nl == NULL)
			break;
		if (!blank(s + off, len)) {
			next = nl + 1;
			nlen = n - (size_t)(next - s);
			if (memchr(next, '\n', nlen) != NULL)
				nlen = (size_t)((const char *)memchr(next, '\n',
						    nlen) - next);
			if (blank(next, nlen)) {
				sb_put(&sb, "</p>", 4);
				open = 0;
			} else
				sb_put(&sb, "<br />", 6);
		}
		off = (size_t)(nl - s) + 1;
	}
	if (open)
		sb_put(&sb, "</p>", 4);
	return tpl_newstr(r, &sb, out, "linebreaks");
}

static int
f_linenumbers(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX], num[32];
	size_t n, off = 0, len;
	const char *s, *nl;
	struct sbuf sb;
	int64_t k = 1;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (;; k++) {
		nl = memchr(s + off, '\n', n - off);
		len = nl != NULL ? (size_t)(nl - (s + off)) : n - off;
		sb_put(&sb, num,
		    (size_t)snprintf(num, sizeof(num), "%lld. ", (long long)k));
		sb_put(&sb, s + off, len);
		if (nl == NULL || sb.over)
			break;
		sb_putc(&sb, '\n');
		off = (size_t)(nl - s) + 1;
	}
	return tpl_newstr(r, &sb, out, "linenumbers");
}

/* url.QueryEscape of bytes. */
static void
query_escape(struct sbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~')
			sb_putc(sb, c);
		else if (c == ' ')
			sb_putc(sb, '+');
		else {
			sb_putc(sb, '%');
			sb_putc(sb, hex[c >> 4]);
			sb_putc(sb, hex[c & 15]);
		}
	}
}

static int
f_urlencode(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	query_escape(&sb, s, n);
	return tpl_newstr(r, &sb, out, "urlencode");
}

static int
f_iriencode(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	static const char keep[] = "/#%[]=:;$&()+,!?*@'~";
	char buf[VSTR_MAX];
	size_t n, off, w;
	struct sbuf sb;
	const char *s;
	uint32_t rn;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (off = 0; off < n; off += w) {
		w = utf8_dec(s + off, n - off, &rn);
		if (rn < 0x80 && rn != 0 && strchr(keep, (int)rn) != NULL)
			sb_putc(&sb, (int)rn);
		else if (rn == RUNE_ERROR)
			query_escape(&sb, "\xef\xbf\xbd", 3);
		else
			query_escape(&sb, s + off, w);
	}
	return tpl_newstr(r, &sb, out, "iriencode");
}

static int
f_phone2numeric(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	static const char keys[] = "22233344455566677778889999";
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n, i;
	char c;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'a' && c <= 'z')
			c = keys[c - 'a'];
		else if (c >= 'A' && c <= 'Z')
			c = keys[c - 'A'];
		sb_putc(&sb, c);
	}
	return tpl_newstr(r, &sb, out, "phone2numeric");
}

static int
f_pluralize(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	const char *s, *comma;
	char buf[VSTR_MAX];
	int one;
	size_t n;

	if (!val_isnum(in))
		return tpl_fail(r, "pluralize works only on numbers");
	one = val_int(r, in) == 1;
	if (val_len(a) <= 0) {
		val_sstr(out, one ? "" : "s", one ? 0 : 1);
		return 0;
	}
	if (keep_str(r, a, &s, &n, buf) == -1)
		return -1;
	if ((comma = memchr(s, ',', n)) == NULL) {
		val_sstr(out, one ? "" : s, one ? 0 : n);
		return 0;
	}
	if (memchr(comma + 1, ',', n - (size_t)(comma - s) - 1) != NULL)
		return tpl_fail(r, "pluralize takes at most 2 endings");
	if (one)
		val_sstr(out, s, (size_t)(comma - s));
	else
		val_sstr(out, comma + 1, n - (size_t)(comma - s) - 1);
	return 0;
}

static int
f_yesno(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	const char *c[3] = { "yes", "no", "maybe" }, *s, *p, *q;
	size_t cn[3] = { 3, 2, 5 }, n, k = 0;
	char buf[VSTR_MAX];
	int pick;

	if (keep_str(r, a, &s, &n, buf) == -1)
		return -1;
	if (n > 0) {
		for (p = s; k < 4; k++) {
			q = memchr(p, ',', n - (size_t)(p - s));
			if (k < 3) {
				c[k] = p;
				cn[k] = q ? (size_t)(q - p) : n - (size_t)(p - s);
			}
			if (q == NULL)
				break;
			p = q + 1;
		}
		if (k >= 3)
			return tpl_fail(r, "yesno takes at most 3 choices");
		if (k < 1)
			return tpl_fail(r, "yesno takes 2 or 3 choices");
	}
	pick = val_isnil(in) ? 2 : val_true(in) ? 0 : 1;
	val_sstr(out, c[pick], cn[pick]);
	return 0;
}

static int
f_refused(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)in;
	(void)a;
	(void)out;
	return tpl_fail(r, "this filter is not supported");
}

const struct filter tpl_filters2[] = {
	{ "iriencode", f_iriencode, NULL },
	{ "linebreaks", f_linebreaks, NULL },
	{ "linenumbers", f_linenumbers, NULL },
	{ "ljust", f_ljust, NULL },
	{ "make_list", f_make_list, NULL },
	{ "phone2numeric", f_phone2numeric, NULL },
	{ "pluralize", f_pluralize, NULL },
	{ "rjust", f_rjust, NULL },
	{ "slice", f_slice, NULL },
	{ "split", f_split, NULL },
	{ "striptags", f_striptags, NULL },
	{ "truncatechars", f_truncatechars, NULL },
	{ "truncatewords", f_truncatewords, NULL },
	{ "urlencode", f_urlencode, NULL },
	{ "wordcount", f_wordcount, NULL },
	{ "wordwrap", f_wordwrap, NULL },
	{ "yesno", f_yesno, NULL },
	{ "random", f_refused, "it picks at random, and renders must be "
			       "reproducible" },
	{ "stringformat", f_refused, "it is Go's fmt.Sprintf" },
	{ "removetags", f_refused, "it builds regular expressions from the "
				   "template" },
	{ "urlize", f_refused, "it is not meant for image templates" },
	{ "urlizetrunc", f_refused, "it is not meant for image templates" },
	{ "truncatechars_html", f_refused, "it is not meant for image "
					   "templates" },
	{ "truncatewords_html", f_refused, "it is not meant for image "
					   "templates" },
	{ NULL, NULL, NULL },
};
