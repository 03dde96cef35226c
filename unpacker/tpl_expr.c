/*
 * tpl expressions, with pongo2's grammar (parser_expression.go,
 * variable.go):
 *
 *	expr   = rel { ("and" | "or" | "&&" | "||") rel }    grouped right
 *	rel    = simple { cmp simple } [ "in" simple ]        grouped right
 *	simple = [ "+" | "-" ] [ "not" | "!" ] term { ("+" | "-") term }
 *	term   = power { ("*" | "/" | "%") power }
 *	power  = factor { "^" factor }                        grouped right
 *	factor = "(" expr ")" | value { "|" name [ ":" value ] }
 *	value  = number | number "." number | string | true | false |
 *		 name { "." (name | number) | "(" [ expr { "," expr } ] ")" }
 *
 * Chains are kept flat (struct opnd arrays) so that neither parsing nor
 * evaluation recurses along them; only "(" and call arguments nest, and
 * they count against depth_max.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_parse.h"

static struct expr *
new_expr(struct parser *p, int type, const struct tok *at)
{
	struct expr *e;

	if ((e = p_alloc(p, sizeof(*e))) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->type = (uint8_t)type;
	e->line = at->line;
	e->col = at->col;
	return e;
}

static int
push_opnd(struct parser *p, struct expr *ch, size_t *cap, struct expr *e,
    const struct tok *op)
{
	struct opnd *o;

	if (P_GROW(p, ch->u.ch.o, cap, ch->u.ch.n + 1) == -1)
		return -1;
	o = &ch->u.ch.o[ch->u.ch.n++];
	o->e = e;
	o->op = op != NULL ? op->id : 0;
	o->line = op != NULL ? op->line : e->line;
	o->col = op != NULL ? op->col : e->col;
	return 0;
}

/* A chain of one operand is the operand. */
static struct expr *
chain_done(struct expr *ch)
{
	size_t i;

	if (ch->u.ch.n == 1 && !ch->u.ch.neg && !ch->u.ch.minus)
		return ch->u.ch.o[0].e;
	ch->safe = 1;
	for (i = 0; i < ch->u.ch.n; i++)
		ch->safe &= ch->u.ch.o[i].e->safe;
	return ch;
}

static int
int_of(struct parser *p, const struct tok *t, int64_t *v)
{
	uint64_t n = 0;
	uint32_t i;
	int d;

	for (i = 0; i < t->len; i++) {
		d = p->src[t->off + i] - '0';
		if (n > ((uint64_t)INT64_MAX - (uint64_t)d) / 10)
			return p_fail(p, t, "the number %.*s is too large",
			    t->len > 40 ? 40 : (int)t->len, p->src + t->off);
		n = n * 10 + (uint64_t)d;
	}
	*v = (int64_t)n;
	return 0;
}

static struct expr *
p_number(struct parser *p, const struct tok *t)
{
	const struct tok *f;
	struct expr *e;
	char *buf;
	double d;

	if ((e = new_expr(p, E_LIT, t)) == NULL)
		return NULL;
	if (!p_sym(p, S_DOT)) {
		if (int_of(p, t, &e->u.lit.u.i) == -1)
			return NULL;
		e->u.lit.t = V_INT;
		return e;
	}
	p->pos++;
	if ((f = p_cur(p)) == NULL || f->type != TK_NUMBER) {
		p_fail(p, f, "expected digits after '.' in a number");
		return NULL;
	}
	p->pos++;
	/* Go's ParseFloat of "INT.FRAC", whatever spaces stood between. */
	if ((buf = p_alloc(p, (size_t)t->len + f->len + 2)) == NULL)
		return NULL;
	memcpy(buf, p->src + t->off, t->len);
	buf[t->len] = '.';
	memcpy(buf + t->len + 1, p->src + f->off, f->len);
	if (go_parsefloat(buf, (size_t)t->len + f->len + 1, &d) != 0) {
		p_fail(p, t, "the number is out of range");
		return NULL;
	}
	val_sfloat(&e->u.lit, d);
	return e;
}

static struct expr *
p_string(struct parser *p, const struct tok *t)
{
	const char *s = p->src + t->off;
	struct expr *e;
	uint32_t i, n = 0;
	char *d;

	if ((e = new_expr(p, E_LIT, t)) == NULL)
		return NULL;
	if (memchr(s, '\\', t->len) == NULL) {
		val_sstr(&e->u.lit, s, t->len);
		return e;
	}
	if ((d = p_alloc(p, (size_t)t->len + 1)) == NULL)
		return NULL;
	for (i = 0; i < t->len; i++) {
		if (s[i] == '\\' && i + 1 < t->len)
			i++; /* the lexer let only \" and \\ through */
		d[n++] = s[i];
	}
	val_sstr(&e->u.lit, d, n);
	return e;
}

/* Call arguments: "(" was read; they go to the part before it. */
static int
p_call(struct parser *p, struct vpart *vp, const struct tok *open)
{
	size_t cap = vp->nargs;
	struct expr *a;

	vp->call = 1;
	for (;;) {
		if (p->pos >= p->end)
			return p_fail(p, open, "unclosed '(' in a call");
		if (p_sym(p, S_RPAREN)) {
			p->pos++;
			return 0;
		}
		if ((a = p_expr(p)) == NULL)
			return -1;
		if (P_GROW(p, vp->args, &cap, vp->nargs + 1) == -1)
			return -1;
		vp->args[vp->nargs++] = a;
		if (p_sym(p, S_RPAREN)) {
			p->pos++;
			return 0;
		}
		if (!p_sym(p, S_COMMA))
			return p_fail(p, NULL,
			    "expected ',' or ')' after a call argument");
		p->pos++;
	}
}

static int
p_part(struct parser *p, struct var *v, size_t *cap, const struct tok *t)
{
	struct vpart *vp;

	if (P_GROW(p, v->parts, cap, v->nparts + 1) == -1)
		return -1;
	vp = &v->parts[v->nparts++];
	memset(vp, 0, sizeof(*vp));
	vp->line = t->line;
	vp->col = t->col;
	if (t->type == TK_NUMBER)
		return int_of(p, t, &vp->idx);
	vp->name = p->src + t->off;
	vp->nlen = t->len;
	return 0;
}

static struct expr *
p_var(struct parser *p, const struct tok *first)
{
	const struct tok *t, *last = first;
	size_t cap = 0;
	struct expr *e;
	struct var *v;

	if ((e = new_expr(p, E_VAR, first)) == NULL ||
	    (v = p_alloc(p, sizeof(*v))) == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	e->u.var = v;
	if (p_part(p, v, &cap, first) == -1)
		return NULL;
	while (p->pos < p->end) {
		if (p_sym(p, S_DOT)) {
			p->pos++;
			t = p_cur(p);
			if (t == NULL ||
			    (t->type != TK_IDENT && t->type != TK_NUMBER)) {
				p_fail(p, t, "expected a name or a number "
					     "after '.'");
				return NULL;
			}
			p->pos++;
			if (p_part(p, v, &cap, t) == -1)
				return NULL;
		} else if (p_sym(p, S_LPAREN)) {
			t = p_cur(p);
			p->pos++;
			if (p_call(p, &v->parts[v->nparts - 1], t) == -1)
				return NULL;
		} else
			break;
		last = &p->tk[p->pos - 1];
	}
	v->text = p->src + first->off;
	v->tlen = last->off + last->len - first->off;
	if (scope_ref(p, v) == -1)
		return NULL;
	return e;
}

/* A literal or a name, without filters (pongo2's parseVariableOrLiteral). */
struct expr *
p_varlit(struct parser *p)
{
	const struct tok *t = p_cur(p);
	struct expr *e;

	if (t == NULL) {
		p_fail(p, NULL, "expected a value (a string, a number or a "
				"name) but the expression ended");
		return NULL;
	}
	p->pos++;
	switch (t->type) {
	case TK_NUMBER:
		return p_number(p, t);
	case TK_STRING:
		return p_string(p, t);
	case TK_KEYWORD:
		if (t->id != K_TRUE && t->id != K_FALSE) {
			p_fail(p, t, "'%.*s' cannot be used here", (int)t->len,
			    p->src + t->off);
			return NULL;
		}
		if ((e = new_expr(p, E_LIT, t)) != NULL)
			val_sbool(&e->u.lit, t->id == K_TRUE);
		return e;
	case TK_IDENT:
		return p_var(p, t);
	}
	p_fail(p, t, "expected a value (a string, a number or a name) but "
		     "found '%.*s'",
	    t->len > 40 ? 40 : (int)t->len, p->src + t->off);
	return NULL;
}

int
p_filter_arg(struct parser *p, struct fcall *fc)
{
	const struct tok *t = p_ident(p);
	size_t n;

	if (t == NULL)
		return p_fail(p, NULL, "expected a filter name after '|'");
	n = t->len;
	fc->line = t->line;
	fc->col = t->col;
	if ((fc->f = filter_find(p->src + t->off, n)) == NULL)
		return p_fail(p, t, "unknown filter '%.*s'",
		    n > 40 ? 40 : (int)n, p->src + t->off);
	if (fc->f->reject != NULL)
		return p_fail(p, t, "the filter '%s' is not supported: %s",
		    fc->f->name, fc->f->reject);
	fc->arg = NULL;
	if (!p_sym(p, S_COLON))
		return 0;
	p->pos++;
	if (p_sym(p, S_VCLOSE))
		return p_fail(p, NULL, "expected a filter argument after ':'");
	return (fc->arg = p_varlit(p)) == NULL ? -1 : 0;
}

static struct expr *
p_filtered(struct parser *p)
{
	const struct tok *at = p_cur(p);
	struct expr *base, *e;
	size_t cap = 0;

	if ((base = p_varlit(p)) == NULL)
		return NULL;
	if (!p_sym(p, S_PIPE))
		return base;
	if ((e = new_expr(p, E_FILT, at)) == NULL)
		return NULL;
	e->u.filt.base = base;
	while (p_sym(p, S_PIPE)) {
		p->pos++;
		if (e->u.filt.n >= p->depth_max) {
			p_fail(p, NULL, "more than %u filters in one chain",
			    p->depth_max);
			return NULL;
		}
		if (P_GROW(p, e->u.filt.fc, &cap, e->u.filt.n + 1) == -1 ||
		    p_filter_arg(p, &e->u.filt.fc[e->u.filt.n]) == -1)
			return NULL;
		if (strcmp(e->u.filt.fc[e->u.filt.n].f->name, "safe") == 0)
			e->safe = 1;
		e->u.filt.n++;
	}
	return e;
}

static struct expr *
p_factor(struct parser *p)
{
	const struct tok *open = p_cur(p);
	struct expr *e;

	if (!p_sym(p, S_LPAREN))
		return p_filtered(p);
	p->pos++;
	if ((e = p_expr(p)) == NULL)
		return NULL;
	if (!p_sym(p, S_RPAREN)) {
		p_fail(p, NULL, "expected ')' to close the '(' at %u:%u",
		    open->line, open->col);
		return NULL;
	}
	p->pos++;
	return e;
}

/* One level of the grammar: operands of next() joined by ops[]. */
static struct expr *
p_chain(struct parser *p, int type, struct expr *(*next)(struct parser *),
    const uint8_t *ops, size_t nops)
{
	const struct tok *at = p_cur(p), *op;
	struct expr *ch, *e;
	size_t cap = 0, i;

	if ((e = next(p)) == NULL || (ch = new_expr(p, type, at)) == NULL ||
	    push_opnd(p, ch, &cap, e, NULL) == -1)
		return NULL;
	for (;;) {
		if ((op = p_cur(p)) == NULL || op->type != TK_SYM)
			break;
		for (i = 0; i < nops && ops[i] != op->id; i++)
			;
		if (i == nops)
			break;
		p->pos++;
		if ((e = next(p)) == NULL || push_opnd(p, ch, &cap, e, op) == -1)
			return NULL;
	}
	return chain_done(ch);
}

static struct expr *
p_power(struct parser *p)
{
	static const uint8_t ops[] = { S_CARET };

	return p_chain(p, E_POW, p_factor, ops, 1);
}

static struct expr *
p_term(struct parser *p)
{
	static const uint8_t ops[] = { S_STAR, S_SLASH, S_PERCENT };

	return p_chain(p, E_MUL, p_power, ops, 3);
}

static struct expr *
p_simple(struct parser *p)
{
	static const uint8_t ops[] = { S_PLUS, S_MINUS };
	const struct tok *at = p_cur(p), *op;
	struct expr *ch, *e;
	int minus = 0, neg = 0;
	size_t cap = 0;

	if (p_sym(p, S_PLUS) || p_sym(p, S_MINUS))
		minus = p->tk[p->pos++].id == S_MINUS;
	if (p_sym(p, S_BANG) || p_kw(p, K_NOT)) {
		neg = 1;
		p->pos++;
	}
	if (!minus && !neg)
		return p_chain(p, E_ADD, p_term, ops, 2);
	if ((e = p_term(p)) == NULL || (ch = new_expr(p, E_ADD, at)) == NULL ||
	    push_opnd(p, ch, &cap, e, NULL) == -1)
		return NULL;
	ch->u.ch.neg = (uint8_t)neg;
	ch->u.ch.minus = (uint8_t)minus;
	while (p_sym(p, S_PLUS) || p_sym(p, S_MINUS)) {
		op = &p->tk[p->pos++];
		if ((e = p_term(p)) == NULL || push_opnd(p, ch, &cap, e, op) == -1)
			return NULL;
	}
	return chain_done(ch);
}

static int
rel_op(const struct parser *p)
{
	static const uint8_t ops[] = { S_EQ, S_LE, S_GE, S_NE, S_GT, S_LT };
	size_t i;

	for (i = 0; i < sizeof(ops); i++)
		if (p_sym(p, ops[i]))
			return 1;
	return 0;
}

static struct expr *
p_rel(struct parser *p)
{
	const struct tok *at = p_cur(p), *op;
	struct expr *ch, *e;
	size_t cap = 0;
	int in;

	if ((e = p_simple(p)) == NULL || (ch = new_expr(p, E_REL, at)) == NULL ||
	    push_opnd(p, ch, &cap, e, NULL) == -1)
		return NULL;
	while ((in = p_kw(p, K_IN)) || rel_op(p)) {
		op = &p->tk[p->pos++];
		if ((e = p_simple(p)) == NULL ||
		    push_opnd(p, ch, &cap, e, op) == -1)
			return NULL;
		if (in) {
			/* "in" ends the chain; the id of "in" is K_IN. */
			ch->u.ch.o[ch->u.ch.n - 1].op = 0xff;
			break;
		}
	}
	return chain_done(ch);
}

struct expr *
p_expr(struct parser *p)
{
	const struct tok *at = p_cur(p), *op;
	struct expr *ch = NULL, *e;
	size_t cap = 0;

	if (at == NULL) {
		p_fail(p, NULL, "expected an expression");
		return NULL;
	}
	if (++p->edepth > p->depth_max) {
		p_fail(p, at, "expression nested deeper than %u", p->depth_max);
		return NULL;
	}
	if ((e = p_rel(p)) == NULL || (ch = new_expr(p, E_LOGIC, at)) == NULL ||
	    push_opnd(p, ch, &cap, e, NULL) == -1)
		return NULL;
	while (p_sym(p, S_ANDAND) || p_sym(p, S_OROR) || p_kw(p, K_AND) ||
	    p_kw(p, K_OR)) {
		op = &p->tk[p->pos++];
		if ((e = p_rel(p)) == NULL || push_opnd(p, ch, &cap, e, op) == -1)
			return NULL;
		/* Keyword and symbol ids overlap: store the meaning. */
		ch->u.ch.o[ch->u.ch.n - 1].op =
		    (op->type == TK_SYM ? op->id == S_ANDAND : op->id == K_AND);
	}
	p->edepth--;
	return chain_done(ch);
}
