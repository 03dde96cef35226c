/*
 * tpl values, with pongo2's value.go semantics over our value kinds:
 * String, Integer, Float, IsTrue, Negate, Len, Index, EqualValueTo and
 * Contains, plus Go's strconv.ParseFloat and %f. Go types matter where
 * pongo2 compares interfaces: a TemplateTrigger is not a string, an int is
 * not a float, and two maps or lists cannot be compared at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_int.h"

void
val_sstr(struct val *v, const char *p, size_t n)
{
	memset(v, 0, sizeof(*v));
	v->t = V_STR;
	v->u.s.p = p != NULL ? p : "";
	v->u.s.n = n;
}

void
val_sint(struct val *v, int64_t i)
{
	memset(v, 0, sizeof(*v));
	v->t = V_INT;
	v->u.i = i;
}

void
val_sbool(struct val *v, int b)
{
	memset(v, 0, sizeof(*v));
	v->t = V_BOOL;
	v->u.i = b != 0;
}

void
val_sfloat(struct val *v, double d)
{
	memset(v, 0, sizeof(*v));
	v->t = V_FLOAT;
	v->u.d = d;
}

int
val_isnil(const struct val *v)
{
	return v->t == V_NIL || (v->t == V_LOOP && v->u.lp == NULL);
}

int
val_isnum(const struct val *v)
{
	return v->t == V_INT || v->t == V_FLOAT;
}

int
val_true(const struct val *v)
{
	switch (v->t) {
	case V_BOOL:
	case V_INT:
		return v->u.i != 0;
	case V_FLOAT:
		return v->u.d != 0;
	case V_STR:
		return v->u.s.n > 0;
	case V_MAP:
		return v->u.m->n > 0;
	case V_LIST:
		return v->u.l->n > 0;
	case V_LOOP:
		return v->u.lp != NULL; /* a struct is true */
	}
	return 0;
}

int64_t
val_len(const struct val *v)
{
	switch (v->t) {
	case V_STR:
		return (int64_t)utf8_count(v->u.s.p, v->u.s.n);
	case V_MAP:
		return (int64_t)v->u.m->n;
	case V_LIST:
		return (int64_t)v->u.l->n;
	}
	return 0;
}

/* Go's strconv.ParseFloat syntax check: underscores only between digits. */
static int
underscore_ok(const char *s, size_t n)
{
	size_t i = 0;
	int saw = '^', hex = 0;
	char c;

	if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' &&
	    ((s[1] | 0x20) == 'b' || (s[1] | 0x20) == 'o' ||
		(s[1] | 0x20) == 'x')) {
		i = 2;
		saw = '0';
		hex = (s[1] | 0x20) == 'x';
	}
	for (; i < n; i++) {
		c = s[i];
		if ((c >= '0' && c <= '9') ||
		    (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
			saw = '0';
			continue;
		}
		if (c == '_') {
			if (saw != '0')
				return 0;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return 0;
		saw = '!';
	}
	return saw != '_';
}

static int
special(const char *s, size_t n, double *d)
{
	int sign = 1;

	if (n == 3 && strncasecmp(s, "nan", 3) == 0) {
		*d = 0.0 / 0.0;
		return 1;
	}
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		sign = s[0] == '-' ? -1 : 1;
		s++;
		n--;
	}
	if ((n == 3 && strncasecmp(s, "inf", 3) == 0) ||
	    (n == 8 && strncasecmp(s, "infinity", 8) == 0)) {
		*d = sign < 0 ? -1.0 / 0.0 : 1.0 / 0.0;
		return 1;
	}
	return 0;
}

/* Go's readFloat: whether s is a float literal ParseFloat accepts. */
static int
float_syntax(const char *s, size_t n, int *us)
{
	size_t i = 0;
	int hex = 0, dot = 0, digits = 0;
	char c;

	*us = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i + 2 < n && s[i] == '0' && (s[i + 1] | 0x20) == 'x') {
		hex = 1;
		i += 2;
	}
	for (; i < n; i++) {
		c = s[i];
		if (c == '_')
			*us = 1;
		else if (c == '.' && !dot)
			dot = 1;
		else if ((c >= '0' && c <= '9') ||
			 (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
			digits = 1;
		else
			break;
	}
	if (!digits)
		return 0;
	if (i < n && (s[i] | 0x20) == (hex ? 'p' : 'e')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_');
		     i++)
			*us |= s[i] == '_';
	} else if (hex)
		return 0;
	return i == n && (!*us || underscore_ok(s, n));
}

/*
 * strconv.ParseFloat(s, 64): 0, -1 for a syntax error, 1 when out of
 * range. The caller has the C locale in force (tpl_parse, tpl_render).
 */
int
go_parsefloat(const char *s, size_t n, double *d)
{
	char sbuf[128], *buf = sbuf;
	size_t i, j = 0;
	int us;

	*d = 0;
	if (special(s, n, d))
		return 0;
	if (!float_syntax(s, n, &us))
		return -1;
	if (n >= sizeof(sbuf) && (buf = malloc(n + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] != '_')
			buf[j++] = s[i];
	buf[j] = '\0';
	*d = strtod(buf, NULL);
	if (buf != sbuf)
		free(buf);
	if (*d == 1.0 / 0.0 || *d == -1.0 / 0.0) {
		*d = 0;
		return 1;
	}
	return 0;
}

/* Go's FormatFloat(d, 'f', prec, 64), which is also what %f prints. */
size_t
go_ftoa(char *buf, size_t len, double d, int prec)
{
	int n;

	if (d != d)
		n = snprintf(buf, len, "NaN");
	else if (d == 1.0 / 0.0 || d == -1.0 / 0.0)
		n = snprintf(buf, len, "%cInf", d < 0 ? '-' : '+');
	else
		n = snprintf(buf, len, "%.*f", prec, d);
	if (n < 0)
		n = 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* pongo2 converts strings to numbers through ParseFloat, 0 on failure. */
static double
str_float(struct rstate *r, const struct val *v)
{
	double d;

	tpl_step(r, v->u.s.n / 64);
	if (go_parsefloat(v->u.s.p, v->u.s.n, &d) != 0)
		return 0;
	return d;
}

int64_t
val_int(struct rstate *r, const struct val *v)
{
	switch (v->t) {
	case V_INT:
		return v->u.i;
	case V_FLOAT:
		return go_f2i(v->u.d);
	case V_STR:
		return go_f2i(str_float(r, v));
	}
	return 0;
}

double
val_float(struct rstate *r, const struct val *v)
{
	switch (v->t) {
	case V_INT:
		return (double)v->u.i;
	case V_FLOAT:
		return v->u.d;
	case V_STR:
		return str_float(r, v);
	}
	return 0;
}

void
val_negate(const struct val *v, struct val *out)
{
	switch (v->t) {
	case V_INT:
		val_sint(out, v->u.i == 0);
		return;
	case V_FLOAT:
		val_sfloat(out, v->u.d != 0 ? 0.0 : 1.1); /* sic, pongo2 */
		return;
	case V_STR:
	case V_MAP:
	case V_LIST:
		val_sbool(out, val_len(v) == 0);
		return;
	case V_BOOL:
		val_sbool(out, !v->u.i);
		return;
	case V_LOOP:
		val_sbool(out, v->u.lp == NULL);
		return;
	}
	val_sbool(out, 1);
}

/* pongo2's Value.String(); buf has VSTR_MAX bytes. */
void
val_str(const struct val *v, const char **p, size_t *n, char *buf)
{
	*p = buf;
	switch (v->t) {
	case V_STR:
		*p = v->u.s.p;
		*n = v->u.s.n;
		return;
	case V_INT:
		*n = (size_t)snprintf(buf, VSTR_MAX, "%lld", (long long)v->u.i);
		return;
	case V_FLOAT:
		*n = go_ftoa(buf, VSTR_MAX, v->u.d, 6);
		return;
	case V_BOOL:
		*p = v->u.i ? "True" : "False";
		*n = strlen(*p);
		return;
	case V_MAP:
		*n = (size_t)snprintf(
		    buf, VSTR_MAX, "<%s Value>", v->u.m->gotype);
		return;
	case V_LIST:
		*p = "<[]string Value>";
		*n = strlen(*p);
		return;
	case V_LOOP:
		*p = v->u.lp ? "<pongo2.tagForLoopInformation Value>" : "";
		*n = strlen(*p);
		return;
	}
	*p = "";
	*n = 0;
}

/* A name for Go's dynamic type; equal names compare by value. */
static const char *
gotype(const struct val *v)
{
	switch (v->t) {
	case V_BOOL:
		return "bool";
	case V_INT:
		return v->f & VF_BYTE ? "uint8" : "int";
	case V_FLOAT:
		return "float64";
	case V_STR:
		return "string";
	case V_MAP:
		return v->u.m->gotype;
	case V_LIST:
		return "[]string";
	case V_LOOP:
		return "*pongo2.tagForLoopInformation";
	case V_FUNC:
		return "func";
	}
	return "nil";
}

/* pongo2's EqualValueTo; -1 where Go panics on uncomparable types. */
int
val_equal(struct rstate *r, const struct val *a, const struct val *b, int *eq)
{
	if (a->t == V_INT && b->t == V_INT) {
		*eq = a->u.i == b->u.i;
		return 0;
	}
	*eq = 0;
	if (strcmp(gotype(a), gotype(b)) != 0)
		return 0;
	switch (a->t) {
	case V_NIL:
		*eq = 1;
		return 0;
	case V_BOOL:
		*eq = a->u.i == b->u.i;
		return 0;
	case V_FLOAT:
		*eq = a->u.d == b->u.d;
		return 0;
	case V_STR:
		tpl_step(r, a->u.s.n / 64);
		*eq = a->u.s.n == b->u.s.n &&
		      memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
		return 0;
	case V_LOOP:
		*eq = a->u.lp == b->u.lp;
		return 0;
	}
	return tpl_fail(r,
	    "cannot compare two values of type %s (pongo2 "
	    "panics)",
	    gotype(a));
}

const struct tmap_ent *
tmap_get(const struct tmap *m, const char *k, size_t kn)
{
	size_t lo = 0, hi = m->n, mid, n;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		n = m->e[mid].kn < kn ? m->e[mid].kn : kn;
		c = memcmp(m->e[mid].k, k, n);
		if (c == 0)
			c = m->e[mid].kn < kn ? -1 : m->e[mid].kn > kn;
		if (c == 0)
			return &m->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *const loop_fields[] = {"Counter", "Counter0", "Revcounter",
    "Revcounter0", "First", "Last", "Parentloop"};

/* pongo2's Contains, behind "in". */
int
val_contains(
    struct rstate *r, const struct val *hay, const struct val *x, int *in)
{
	char buf[VSTR_MAX];
	const char *s;
	size_t n, i;

	*in = 0;
	switch (hay->t) {
	case V_LOOP:
		if (hay->u.lp == NULL)
			return 0;
		val_str(x, &s, &n, buf);
		for (i = 0; i < 7; i++)
			if (strlen(loop_fields[i]) == n &&
			    memcmp(loop_fields[i], s, n) == 0)
				*in = 1;
		return 0;
	case V_MAP:
		if (x->t == V_INT && !(x->f & VF_BYTE))
			return tpl_fail(r, "cannot look up an integer in a map "
					   "(pongo2 panics)");
		if (x->t == V_STR)
			*in = tmap_get(hay->u.m, x->u.s.p, x->u.s.n) != NULL;
		return 0;
	case V_STR:
		val_str(x, &s, &n, buf);
		tpl_step(r, (hay->u.s.n + n) / 64);
		*in = n == 0 || memmem(hay->u.s.p, hay->u.s.n, s, n) != NULL;
		return 0;
	case V_LIST:
		if (x->t != V_STR)
			return 0;
		for (i = 0; i < hay->u.l->n && !*in; i++) {
			if (tpl_step(r, 1 + x->u.s.n / 64) == -1)
				return -1;
			*in = hay->u.l->v[i].u.s.n == x->u.s.n &&
			      memcmp(hay->u.l->v[i].u.s.p, x->u.s.p,
				  x->u.s.n) == 0;
		}
		return 0;
	}
	return 0;
}

/* Value.Index for first, last and join: the i-th item or rune. */
int
val_index(struct rstate *r, const struct val *v, int64_t i, struct val *out)
{
	size_t off = 0, w;
	uint32_t rn;
	int64_t k;

	val_sstr(out, "", 0);
	if (v->t == V_LIST) {
		if (i < (int64_t)v->u.l->n)
			*out = v->u.l->v[i];
		else
			memset(out, 0, sizeof(*out));
		return 0;
	}
	if (v->t != V_STR)
		return 0;
	tpl_step(r, v->u.s.n / 64);
	for (k = 0; off < v->u.s.n; k++, off += w) {
		w = utf8_dec(v->u.s.p + off, v->u.s.n - off, &rn);
		if (k < i)
			continue;
		if (rn == RUNE_ERROR)
			val_sstr(out, "\xef\xbf\xbd", 3);
		else
			val_sstr(out, v->u.s.p + off, w);
		break;
	}
	return 0;
}

/* The order of pongo2's sorted: numbers as numbers, the rest as text. */
int
val_less(const struct val *a, const struct val *b)
{
	char ba[VSTR_MAX], bb[VSTR_MAX];
	const char *pa, *pb;
	size_t na, nb;
	int c;

	if (a->t == V_INT && b->t == V_INT)
		return a->u.i < b->u.i;
	if (a->t == V_FLOAT && b->t == V_FLOAT)
		return a->u.d < b->u.d;
	val_str(a, &pa, &na, ba);
	val_str(b, &pb, &nb, bb);
	c = memcmp(pa, pb, na < nb ? na : nb);
	return c < 0 || (c == 0 && na < nb);
}
