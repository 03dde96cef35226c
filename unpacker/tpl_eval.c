/*
 * tpl expression evaluation, after pongo2's parser_expression.go and
 * variable.go: names are looked up in the slots the parser assigned, then
 * in LXD's context; "a.b" reads a map key or a forloop field, "a.0" a byte
 * of a string or an item of a list; config_get is the only function.
 * Integer arithmetic wraps like Go's int; division by zero fails as Go's
 * panic does.
 */
#include <stdio.h>
#include <string.h>

#include "unpacker/tpl_int.h"

static const char *
kind(const struct val *v)
{
	static const char *const k[] = { "nil", "bool", "int", "float",
		"string", "map", "list", "forloop", "function" };

	return k[v->t];
}

static void
field(const struct tloop *lp, const char *s, size_t n, struct val *out)
{
	memset(out, 0, sizeof(*out));
#define F(w) (n == strlen(w) && memcmp(s, w, n) == 0)
	if (F("Counter"))
		val_sint(out, lp->counter);
	else if (F("Counter0"))
		val_sint(out, lp->counter0);
	else if (F("Revcounter"))
		val_sint(out, lp->rev);
	else if (F("Revcounter0"))
		val_sint(out, lp->rev0);
	else if (F("First"))
		val_sbool(out, lp->first);
	else if (F("Last"))
		val_sbool(out, lp->last);
	else if (F("Parentloop")) {
		out->t = V_LOOP;
		out->u.lp = lp->parent;
	}
#undef F
}

/* One ".name" or ".N" step; *stop when pongo2 gives nil from here on. */
static int
step_part(struct rstate *r, const struct var *vr, const struct vpart *p,
    struct val *v, int *stop)
{
	const struct tmap_ent *e;

	*stop = 1;
	if (v->t == V_LOOP && v->u.lp == NULL)
		return 0;
	if (p->name == NULL) {
		if (v->t == V_STR) {
			if (p->idx >= (int64_t)v->u.s.n)
				return 0;
			val_sint(v, (unsigned char)v->u.s.p[p->idx]);
			v->f = VF_BYTE;
		} else if (v->t == V_LIST) {
			if (p->idx >= (int64_t)v->u.l->n)
				return 0;
			*v = v->u.l->v[p->idx];
		} else
			return tpl_fail(r, "cannot take item %lld of a %s in %.*s",
			    (long long)p->idx, kind(v), (int)vr->tlen, vr->text);
	} else if (v->t == V_LOOP) {
		field(v->u.lp, p->name, p->nlen, v);
		if (v->t == V_NIL)
			return 0;
	} else if (v->t == V_MAP) {
		if ((e = tmap_get(v->u.m, p->name, p->nlen)) == NULL)
			return 0;
		*v = e->v;
	} else
		return tpl_fail(r, "cannot read .%.*s of a %s in %.*s",
		    (int)p->nlen, p->name, kind(v), (int)vr->tlen, vr->text);
	*stop = 0;
	return 0;
}

/* LXD's config_get: the value without trailing "\r\n", or the default. */
static int
config_get(struct rstate *r, const struct var *vr, const struct vpart *p,
    struct val *v)
{
	struct val k, d;
	const struct tmap_ent *e;
	char buf[VSTR_MAX];
	const char *s;
	size_t n;

	if (p->nargs != 2)
		return tpl_fail(r, "config_get takes 2 arguments, got %zu",
		    p->nargs);
	if (tpl_eval(r, p->args[0], &k) == -1 ||
	    tpl_eval(r, p->args[1], &d) == -1)
		return -1;
	r->line = p->line;
	r->col = p->col;
	val_str(&k, &s, &n, buf);
	if ((e = tmap_get(&r->config, s, n)) == NULL) {
		*v = d;
		return 0;
	}
	n = e->v.u.s.n;
	while (n > 0 && (e->v.u.s.p[n - 1] == '\r' || e->v.u.s.p[n - 1] == '\n'))
		n--;
	val_sstr(v, e->v.u.s.p, n);
	(void)vr;
	return 0;
}

static int
resolve(struct rstate *r, const struct var *vr, struct val *out)
{
	const struct slot *s;
	const struct vpart *p;
	int bound = 0, stop;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < vr->ncand && !bound; i++) {
		s = &r->slots[vr->cand[i].frame][vr->cand[i].slot];
		if (s->gen == r->fgen[vr->cand[i].frame]) {
			*out = s->v;
			bound = 1;
		}
	}
	if (!bound && vr->pub != PUB_NONE) {
		*out = r->pub[vr->pub];
		bound = 1;
	}
	if (!bound)
		return 0; /* undefined: nil, even when called */
	for (i = 0; i < vr->nparts; i++) {
		p = &vr->parts[i];
		if (i > 0) {
			if (step_part(r, vr, p, out, &stop) == -1)
				return -1;
			if (stop) {
				memset(out, 0, sizeof(*out));
				return 0;
			}
		}
		if (out->t == V_NIL && !p->call)
			return 0;
		if (!p->call && out->t != V_FUNC)
			continue;
		if (out->t != V_FUNC)
			return tpl_fail(r, "'%.*s' is not a function (it is a "
					   "%s)",
			    (int)p->nlen, p->name ? p->name : "?", kind(out));
		if (config_get(r, vr, p, out) == -1)
			return -1;
		if (out->t == V_NIL)
			return 0;
	}
	return 0;
}

static int
arith(struct rstate *r, int op, const struct val *a, const struct val *b,
    struct val *out)
{
	uint64_t x, y;
	double fa, fb;

	if (op != S_PERCENT && (a->t == V_FLOAT || b->t == V_FLOAT)) {
		fa = val_float(r, a);
		fb = val_float(r, b);
		val_sfloat(out, op == S_PLUS ? fa + fb
			: op == S_MINUS	     ? fa - fb
			: op == S_STAR	     ? fa * fb
					     : fa / fb);
		return 0;
	}
	x = (uint64_t)val_int(r, a);
	y = (uint64_t)val_int(r, b);
	if ((op == S_SLASH || op == S_PERCENT) && y == 0)
		return tpl_fail(r, "integer division by zero");
	switch (op) {
	case S_PLUS:
		val_sint(out, (int64_t)(x + y));
		break;
	case S_MINUS:
		val_sint(out, (int64_t)(x - y));
		break;
	case S_STAR:
		val_sint(out, (int64_t)(x * y));
		break;
	default:
		if ((int64_t)x == INT64_MIN && (int64_t)y == -1)
			val_sint(out, op == S_SLASH ? INT64_MIN : 0);
		else if (op == S_SLASH)
			val_sint(out, (int64_t)x / (int64_t)y);
		else
			val_sint(out, (int64_t)x % (int64_t)y);
	}
	return 0;
}

static int
compare(struct rstate *r, int op, const struct val *a, const struct val *b,
    struct val *out)
{
	int res = 0;

	if (op == 0xff) { /* a in b */
		if (val_contains(r, b, a, &res) == -1)
			return -1;
	} else if (op == S_EQ || op == S_NE) {
		if (val_equal(r, a, b, &res) == -1)
			return -1;
		res = op == S_EQ ? res : !res;
	} else if (a->t == V_FLOAT || b->t == V_FLOAT) {
		double x = val_float(r, a), y = val_float(r, b);

		res = op == S_LT ? x < y : op == S_GT ? x > y
		    : op == S_LE ? x <= y
				 : x >= y;
	} else {
		int64_t x = val_int(r, a), y = val_int(r, b);

		res = op == S_LT ? x < y : op == S_GT ? x > y
		    : op == S_LE ? x <= y
				 : x >= y;
	}
	val_sbool(out, res);
	return 0;
}

static int
eval_logic(struct rstate *r, const struct expr *e, struct val *out)
{
	size_t i;
	int t;

	for (i = 0; i + 1 < e->u.ch.n; i++) {
		if (tpl_eval(r, e->u.ch.o[i].e, out) == -1)
			return -1;
		t = val_true(out);
		if (e->u.ch.o[i + 1].op == 1 ? !t : t) {
			val_sbool(out, t);
			return 0;
		}
	}
	if (tpl_eval(r, e->u.ch.o[i].e, out) == -1)
		return -1;
	val_sbool(out, val_true(out));
	return 0;
}

/* Comparisons and ^ group to the right: evaluate all, fold from the end. */
static int
eval_right(struct rstate *r, const struct expr *e, struct val *out)
{
	struct val small[8], *v = small;
	size_t i, n = e->u.ch.n;

	if (n > 8 && (v = tpl_alloc(r, n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (tpl_eval(r, e->u.ch.o[i].e, &v[i]) == -1)
			return -1;
	*out = v[n - 1];
	for (i = n - 1; i-- > 0;) {
		r->line = e->u.ch.o[i + 1].line;
		r->col = e->u.ch.o[i + 1].col;
		if (e->type == E_POW)
			val_sfloat(out,
			    go_pow(val_float(r, &v[i]), val_float(r, out)));
		else if (compare(r, e->u.ch.o[i + 1].op, &v[i], out, out) == -1)
			return -1;
	}
	return 0;
}

static int
eval_left(struct rstate *r, const struct expr *e, struct val *out)
{
	struct val b;
	size_t i;

	if (tpl_eval(r, e->u.ch.o[0].e, out) == -1)
		return -1;
	if (e->u.ch.neg)
		val_negate(out, out);
	if (e->u.ch.minus) {
		r->line = e->line;
		r->col = e->col;
		if (out->t == V_FLOAT)
			out->u.d = -1 * out->u.d;
		else if (out->t == V_INT)
			val_sint(out, (int64_t)(0 - (uint64_t)out->u.i));
		else
			return tpl_fail(r, "'-' before a %s, not a number",
			    kind(out));
	}
	for (i = 1; i < e->u.ch.n; i++) {
		if (tpl_eval(r, e->u.ch.o[i].e, &b) == -1)
			return -1;
		r->line = e->u.ch.o[i].line;
		r->col = e->u.ch.o[i].col;
		if (arith(r, e->u.ch.o[i].op, out, &b, out) == -1)
			return -1;
	}
	return 0;
}

int
tpl_eval(struct rstate *r, const struct expr *e, struct val *out)
{
	size_t i;

	r->line = e->line;
	r->col = e->col;
	if (tpl_step(r, 1) == -1)
		return -1;
	switch (e->type) {
	case E_LIT:
		*out = e->u.lit;
		return 0;
	case E_VAR:
		return resolve(r, e->u.var, out);
	case E_FILT:
		if (tpl_eval(r, e->u.filt.base, out) == -1)
			return -1;
		for (i = 0; i < e->u.filt.n; i++)
			if (filter_call(r, &e->u.filt.fc[i], out) == -1)
				return -1;
		return 0;
	case E_LOGIC:
		return eval_logic(r, e, out);
	case E_REL:
	case E_POW:
		return eval_right(r, e, out);
	}
	return eval_left(r, e, out);
}
