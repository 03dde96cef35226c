/*
 * tpl filters, each as pongo2's filters_builtin.go computes it (Go's
 * strings functions, rune by rune where Go converts to []rune, with U+FFFD
 * for invalid UTF-8 as Go writes it). The rest are in tpl_filter2.c.
 * Every string a filter builds is bounded by output_max.
 */
#include <stdio.h>
#include <string.h>

#include "unpacker/tpl_int.h"

#define STR(v, s, n, b) val_str((v), &(s), &(n), (b))

static int
f_add(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char b1[VSTR_MAX], b2[VSTR_MAX];
	const char *s1, *s2;
	size_t n1, n2;
	struct sbuf sb;

	if (val_isnum(in) && val_isnum(a)) {
		if (in->t == V_FLOAT || a->t == V_FLOAT)
			val_sfloat(out, val_float(r, in) + val_float(r, a));
		else
			val_sint(out, (int64_t)((uint64_t)in->u.i +
					  (uint64_t)a->u.i));
		return 0;
	}
	STR(in, s1, n1, b1);
	STR(a, s2, n2, b2);
	sb_init(&sb, r->lim->output_max);
	sb_put(&sb, s1, n1);
	sb_put(&sb, s2, n2);
	return tpl_newstr(r, &sb, out, "add");
}

/* Replaces single bytes by strings (escape, addslashes, linebreaksbr). */
static int
replace_bytes(struct rstate *r, const struct val *in, const char *from,
    const char *const *to, struct val *out, const char *what)
{
	char buf[VSTR_MAX];
	const char *s, *c;
	size_t n, i;
	struct sbuf sb;

	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (i = 0; i < n; i++) {
		if ((c = memchr(from, s[i], strlen(from))) != NULL && s[i])
			sb_put(&sb, to[c - from], strlen(to[c - from]));
		else
			sb_putc(&sb, s[i]);
	}
	return tpl_newstr(r, &sb, out, what);
}

int
f_escape(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	static const char *const to[] = { "&amp;", "&gt;", "&lt;", "&quot;",
		"&#39;" };

	(void)a;
	return replace_bytes(r, in, "&><\"'", to, out, "escape");
}

static int
f_addslashes(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	static const char *const to[] = { "\\\\", "\\\"", "\\'" };

	(void)a;
	return replace_bytes(r, in, "\\\"'", to, out, "addslashes");
}

static int
f_linebreaksbr(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	static const char *const to[] = { "<br />" };

	(void)a;
	return replace_bytes(r, in, "\n", to, out, "linebreaksbr");
}

/* Rune by rune through fn, as strings.Map does (invalid bytes: U+FFFD). */
static void
map_runes(struct sbuf *sb, const char *s, size_t n, uint32_t (*fn)(uint32_t))
{
	size_t off = 0, w;
	uint32_t rn;

	while (off < n) {
		w = utf8_dec(s + off, n - off, &rn);
		sb_rune(sb, fn(rn));
		off += w;
	}
}

static int
f_upper(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	map_runes(&sb, s, n, rune_upper);
	return tpl_newstr(r, &sb, out, "upper");
}

static int
f_lower(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	map_runes(&sb, s, n, rune_lower);
	return tpl_newstr(r, &sb, out, "lower");
}

/* strings.Title's separators, for runes that are not ASCII: spaces. */
static int
title_sep(uint32_t c)
{
	if (c < 0x80)
		return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '_');
	return rune_space(c);
}

static int
f_title(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	struct sbuf low, sb;
	size_t off = 0, w;
	uint32_t rn, prev = ' ';
	int rc;

	(void)a;
	if (in->t != V_STR) {
		val_sstr(out, "", 0);
		return 0;
	}
	sb_init(&low, r->lim->output_max);
	map_runes(&low, in->u.s.p, in->u.s.n, rune_lower);
	sb_init(&sb, r->lim->output_max);
	while (off < low.n) {
		w = utf8_dec(low.p + off, low.n - off, &rn);
		sb_rune(&sb, title_sep(prev) ? rune_title(rn) : rn);
		prev = rn;
		off += w;
	}
	rc = low.over ? tpl_fail(r, "title: the result is too large")
		      : tpl_newstr(r, &sb, out, "title");
	sb_free(&low);
	if (rc == -1)
		sb_free(&sb);
	return rc;
}

static int
f_capfirst(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	uint32_t rn;
	size_t n, w;

	(void)a;
	if (val_len(in) <= 0) {
		val_sstr(out, "", 0);
		return 0;
	}
	STR(in, s, n, buf);
	w = utf8_dec(s, n, &rn);
	sb_init(&sb, r->lim->output_max);
	sb_rune(&sb, rune_upper(rn));
	sb_put(&sb, s + w, n - w);
	return tpl_newstr(r, &sb, out, "capfirst");
}

static int
pad(struct rstate *r, struct sbuf *sb, int64_t n)
{
	if (n > (int64_t)r->lim->output_max)
		return tpl_fail(r, "the padding is larger than the output "
				   "limit");
	while (n-- > 0)
		sb_putc(sb, ' ');
	return 0;
}

static int
f_center(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t width = val_int(r, a), slen = val_len(in), sp;
	char buf[VSTR_MAX];
	struct sbuf sb;
	const char *s;
	size_t n;

	if (width <= slen) {
		*out = *in;
		return 0;
	}
	sp = width - slen;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	if (pad(r, &sb, sp / 2 + sp % 2) == -1)
		return -1;
	sb_put(&sb, s, n);
	if (pad(r, &sb, sp / 2) == -1) {
		sb_free(&sb);
		return -1;
	}
	return tpl_newstr(r, &sb, out, "center");
}

static int
f_cut(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char b1[VSTR_MAX], b2[VSTR_MAX];
	const char *s, *c, *hit;
	size_t n, cn, off = 0;
	struct sbuf sb;

	STR(in, s, n, b1);
	STR(a, c, cn, b2);
	sb_init(&sb, r->lim->output_max);
	while (cn > 0 && off < n &&
	    (hit = memmem(s + off, n - off, c, cn)) != NULL) {
		sb_put(&sb, s + off, (size_t)(hit - (s + off)));
		off = (size_t)(hit - s) + cn;
	}
	sb_put(&sb, s + off, n - off);
	return tpl_newstr(r, &sb, out, "cut");
}

static int
f_date(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)in;
	(void)a;
	(void)out;
	return tpl_fail(r, "the date and time filters need a time value, and "
			   "templates have none");
}

static int
f_default(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)r;
	*out = val_true(in) ? *in : *a;
	return 0;
}

static int
f_default_if_none(struct rstate *r, const struct val *in,
    const struct val *a, struct val *out)
{
	(void)r;
	*out = val_isnil(in) ? *a : *in;
	return 0;
}

static int
f_divisibleby(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t d = val_int(r, a), x = val_int(r, in);

	if (d == 0)
		val_sbool(out, 0);
	else
		val_sbool(out, d == -1 || x % d == 0);
	return 0;
}

static int
f_escapejs(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char buf[VSTR_MAX], u[16];
	size_t n, off = 0, w;
	struct sbuf sb;
	const char *s;
	uint32_t c;

	(void)a;
	STR(in, s, n, buf);
	sb_init(&sb, r->lim->output_max);
	for (; off < n; off += w) {
		w = utf8_dec(s + off, n - off, &c);
		if (c == RUNE_ERROR)
			continue;
		if (c == '\\' && off + 1 < n && (s[off + 1] == 'r' ||
						    s[off + 1] == 'n')) {
			sb_put(&sb, s[off + 1] == 'r' ? "\\u000D" : "\\u000A", 6);
			w = 2;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == ' ' || c == '/')
			sb_putc(&sb, (int)c);
		else
			sb_put(&sb, u,
			    (size_t)snprintf(u, sizeof(u), "\\u%04X", c));
	}
	return tpl_newstr(r, &sb, out, "escapejs");
}

static int
f_first(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)a;
	if ((in->t == V_STR || in->t == V_LIST) && val_len(in) > 0)
		return val_index(r, in, 0, out);
	val_sstr(out, "", 0);
	return 0;
}

static int
f_last(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)a;
	if ((in->t == V_STR || in->t == V_LIST) && val_len(in) > 0)
		return val_index(r, in, val_len(in) - 1, out);
	val_sstr(out, "", 0);
	return 0;
}

static int
f_float(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)a;
	val_sfloat(out, val_float(r, in));
	return 0;
}

static int
f_integer(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)a;
	val_sint(out, val_int(r, in));
	return 0;
}

static int
f_floatformat(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	double v = val_float(r, in);
	int64_t dec = -1;
	int trim = !val_isnum(a);
	struct sbuf sb;
	char *buf;
	size_t n;

	if (!val_isnil(a))
		dec = val_int(r, a);
	if (dec <= 0) {
		dec = -dec;
		trim = 1;
	}
	if (trim && (double)go_f2i(v) == v) {
		val_sint(out, val_int(r, in));
		return 0;
	}
	if (dec < 0 || (uint64_t)dec > r->lim->output_max)
		return tpl_fail(r, "floatformat: %lld decimals is too many",
		    (long long)dec);
	n = (size_t)dec + VSTR_MAX;
	if ((buf = tpl_alloc(r, n)) == NULL)
		return -1;
	n = go_ftoa(buf, n, v, (int)dec);
	sb_init(&sb, r->lim->output_max);
	sb_put(&sb, buf, n);
	return tpl_newstr(r, &sb, out, "floatformat");
}

static int
f_get_digit(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	int64_t i = val_int(r, a);
	char buf[VSTR_MAX];
	const char *s;
	size_t n;

	STR(in, s, n, buf);
	if (i <= 0 || (uint64_t)i > n) {
		*out = *in;
		return 0;
	}
	/* A byte minus '0', as a Go uint8 (so it wraps). */
	val_sint(out, (uint8_t)((unsigned char)s[n - (size_t)i] - 48));
	out->f = VF_BYTE;
	return 0;
}

static int
f_join(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	char sbuf_[VSTR_MAX];
	const char *sep, *s;
	size_t sn, i, off, w;
	struct sbuf sb;
	uint32_t rn;

	if (in->t != V_STR && in->t != V_LIST) {
		*out = *in;
		return 0;
	}
	STR(a, sep, sn, sbuf_);
	sb_init(&sb, r->lim->output_max);
	if (in->t == V_LIST) {
		for (i = 0; i < in->u.l->n && !sb.over; i++) {
			if (i > 0)
				sb_put(&sb, sep, sn);
			sb_put(&sb, in->u.l->v[i].u.s.p, in->u.l->v[i].u.s.n);
		}
		return tpl_newstr(r, &sb, out, "join");
	}
	s = in->u.s.p;
	for (off = 0; off < in->u.s.n && !sb.over; off += w) {
		w = utf8_dec(s + off, in->u.s.n - off, &rn);
		if (off > 0)
			sb_put(&sb, sep, sn);
		if (rn == RUNE_ERROR)
			sb_rune(&sb, RUNE_ERROR);
		else
			sb_put(&sb, s + off, w);
	}
	return tpl_newstr(r, &sb, out, "join");
}

static int
f_length(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)r;
	(void)a;
	val_sint(out, val_len(in));
	return 0;
}

static int
f_length_is(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	val_sbool(out, val_len(in) == val_int(r, a));
	return 0;
}

static int
f_safe(struct rstate *r, const struct val *in, const struct val *a,
    struct val *out)
{
	(void)r;
	(void)a;
	*out = *in;
	return 0;
}

static const struct filter filters[] = {
	{ "add", f_add, NULL },
	{ "addslashes", f_addslashes, NULL },
	{ "capfirst", f_capfirst, NULL },
	{ "center", f_center, NULL },
	{ "cut", f_cut, NULL },
	{ "date", f_date, NULL },
	{ "default", f_default, NULL },
	{ "default_if_none", f_default_if_none, NULL },
	{ "divisibleby", f_divisibleby, NULL },
	{ "escape", f_escape, NULL },
	{ "escapejs", f_escapejs, NULL },
	{ "first", f_first, NULL },
	{ "float", f_float, NULL },
	{ "floatformat", f_floatformat, NULL },
	{ "get_digit", f_get_digit, NULL },
	{ "integer", f_integer, NULL },
	{ "join", f_join, NULL },
	{ "last", f_last, NULL },
	{ "length", f_length, NULL },
	{ "length_is", f_length_is, NULL },
	{ "linebreaksbr", f_linebreaksbr, NULL },
	{ "lower", f_lower, NULL },
	{ "safe", f_safe, NULL },
	{ "time", f_date, NULL },
	{ "title", f_title, NULL },
	{ "upper", f_upper, NULL },
	{ NULL, NULL, NULL },
};

const struct filter *
filter_find(const char *name, size_t n)
{
	const struct filter *t[] = { filters, tpl_filters2 }, *f;
	size_t i;

	for (i = 0; i < 2; i++)
		for (f = t[i]; f->name != NULL; f++)
			if (strlen(f->name) == n && memcmp(f->name, name, n) == 0)
				return f;
	return NULL;
}

/* Applies one filter of a chain to *v, in place. */
int
filter_call(struct rstate *r, const struct fcall *fc, struct val *v)
{
	struct val in = *v, arg;

	memset(&arg, 0, sizeof(arg));
	if (fc->arg != NULL && tpl_eval(r, fc->arg, &arg) == -1)
		return -1;
	r->line = fc->line;
	r->col = fc->col;
	if (tpl_step(r, 1 + (in.t == V_STR ? in.u.s.n / 64 : 0)) == -1)
		return -1;
	return fc->f->fn(r, &in, &arg, v);
}
