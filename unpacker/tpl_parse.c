/*
 * tpl parser: tokens into a tree of nodes, with pongo2's structure
 * (parser.go, parser_document.go, tags_*.go): a tag's arguments are the
 * tokens up to its "%}", a block is read until one of its end tags, and
 * whitespace control is fixed here, on the text next to a "-" symbol.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/limits.h"
#include "unpacker/tpl_parse.h"

void
tpl_limits_default(struct tpl_limits *l)
{
	l->source_max = LIM_TEMPLATE_SOURCE_MAX;
	l->output_max = LIM_TEMPLATE_OUTPUT_MAX;
	l->steps_max = TPL_STEPS_DEFAULT;
	l->depth_max = TPL_DEPTH_DEFAULT;
}

void *
p_alloc(struct parser *p, size_t n)
{
	void *v;

	if ((v = arena_alloc(&p->t->a, n)) == NULL)
		p_fail(p, NULL, "out of memory");
	return v;
}

/* Makes room for n elements of size sz in *arr. */
int
p_grow(struct parser *p, void *arr, size_t *cap, size_t n, size_t sz)
{
	void **a = arr;
	size_t ncap;
	void *na;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	while (ncap < n)
		ncap *= 2;
	if ((na = p_alloc(p, ncap * sz)) == NULL)
		return -1;
	if (*a != NULL)
		memcpy(na, *a, *cap * sz);
	*a = na;
	*cap = ncap;
	return 0;
}

int
p_fail(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (t == NULL) {
		if (p->pos < p->end)
			t = &p->tk[p->pos];
		else if (p->end < p->ntk)
			t = &p->tk[p->end];
		else if (p->ntk > 0)
			t = &p->tk[p->ntk - 1];
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tpl_errf(p->err, t ? t->line : 1, t ? t->col : 1, "%s", msg);
	return -1;
}

const struct tok *
p_cur(const struct parser *p)
{
	return p->pos < p->end ? &p->tk[p->pos] : NULL;
}

int
p_sym(const struct parser *p, int id)
{
	const struct tok *t = p_cur(p);

	return t != NULL && t->type == TK_SYM && t->id == id;
}

int
p_kw(const struct parser *p, int id)
{
	const struct tok *t = p_cur(p);

	return t != NULL && t->type == TK_KEYWORD && t->id == id;
}

/* Consumes and returns a name, or NULL. */
const struct tok *
p_ident(struct parser *p)
{
	const struct tok *t = p_cur(p);

	if (t == NULL || t->type != TK_IDENT)
		return NULL;
	p->pos++;
	return t;
}

/* Whether the current token is the name w. */
int
p_word(const struct parser *p, const char *w)
{
	const struct tok *t = p_cur(p);

	return t != NULL && t->type == TK_IDENT && t->len == strlen(w) &&
	    memcmp(p->src + t->off, w, t->len) == 0;
}

static int
tok_is(const struct parser *p, size_t i, const char *w)
{
	const struct tok *t = &p->tk[i];

	return t->type == TK_IDENT && t->len == strlen(w) &&
	    memcmp(p->src + t->off, w, t->len) == 0;
}

static struct node *
new_node(struct parser *p, int type, const struct tok *at)
{
	struct node *n;

	if ((n = p_alloc(p, sizeof(*n))) == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->line = at->line;
	n->col = at->col;
	return n;
}

/* Reads the tag's arguments instead of the document; p_args_end goes back. */
int
p_args(struct parser *p, const struct tagctx *tc)
{
	p->pos = tc->argb;
	p->end = tc->arge;
	return 0;
}

int
p_args_end(struct parser *p, const struct tagctx *tc, const char *what)
{
	int r = 0;

	if (p->pos < p->end)
		r = p_fail(p, NULL, "{%% %s %%}: unexpected '%.*s'", what,
		    p->tk[p->pos].len > 40 ? 40 : (int)p->tk[p->pos].len,
		    p->src + p->tk[p->pos].off);
	p->end = p->ntk;
	p->pos = tc->arge + 1;
	return r;
}

int
p_noargs(struct parser *p, const struct tagctx *tc, const char *what)
{
	if (tc->argb == tc->arge)
		return 0;
	return p_fail(p, &p->tk[tc->argb], "{%% %s %%} takes no arguments",
	    what);
}

static int p_element(struct parser *, struct node **);

/*
 * The nodes up to one of the end tags names[] (pongo2's WrapUntilTag), or
 * to the end of the document when open is NULL. *which and *endt tell
 * which end tag it was and where its arguments are.
 */
int
p_body(struct parser *p, struct node **out, const char *const *names,
    size_t n, const struct tagctx *open, size_t *which, struct tagctx *endt)
{
	struct node **tail = out, *nd;
	size_t i, j;

	*out = NULL;
	if (open != NULL && ++p->depth > p->depth_max)
		return p_fail(p, open->name, "blocks nested deeper than %u",
		    p->depth_max);
	while (p->pos < p->ntk) {
		if (open != NULL && p->tk[p->pos].type == TK_SYM &&
		    p->tk[p->pos].id == S_TOPEN && p->pos + 1 < p->ntk) {
			for (i = 0; i < n && !tok_is(p, p->pos + 1, names[i]);
			     i++)
				;
			if (i < n) {
				for (j = p->pos + 2; j < p->ntk &&
				     !(p->tk[j].type == TK_SYM &&
					 p->tk[j].id == S_TCLOSE);
				     j++)
					;
				if (j == p->ntk)
					return p_fail(p, &p->tk[p->pos],
					    "{%% %s %%} is not closed with "
					    "'%%}'",
					    names[i]);
				endt->name = &p->tk[p->pos + 1];
				endt->argb = p->pos + 2;
				endt->arge = j;
				*which = i;
				p->pos = j + 1;
				p->depth--;
				return 0;
			}
		}
		if (p_element(p, &nd) == -1)
			return -1;
		if (nd != NULL) {
			*tail = nd;
			tail = &nd->next;
		}
	}
	if (open == NULL)
		return 0;
	return p_fail(p, &p->tk[p->ntk - 1],
	    "unclosed {%% %.*s %%} opened at %u:%u (expected {%% %s %%})",
	    (int)open->name->len, p->src + open->name->off, open->name->line,
	    open->name->col, names[n - 1]);
}

static int
p_html(struct parser *p, struct node **out)
{
	const struct tok *t = &p->tk[p->pos];
	const char *s = p->src + t->off;
	size_t b = 0, e = t->len;

#define ISWS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
	if (p->pos > 0 && p->tk[p->pos - 1].type == TK_SYM &&
	    p->tk[p->pos - 1].trim)
		while (b < e && ISWS(s[b]))
			b++;
	if (p->pos + 1 < p->ntk && p->tk[p->pos + 1].type == TK_SYM &&
	    p->tk[p->pos + 1].trim)
		while (e > b && ISWS(s[e - 1]))
			e--;
#undef ISWS
	p->pos++;
	*out = NULL;
	if (b == e)
		return 0;
	if ((*out = new_node(p, N_TEXT, t)) == NULL)
		return -1;
	(*out)->u.text.p = s + b;
	(*out)->u.text.n = e - b;
	return 0;
}

static int
p_output(struct parser *p, struct node **out)
{
	const struct tok *open = &p->tk[p->pos++];
	struct expr *e;

	if ((e = p_expr(p)) == NULL)
		return -1;
	if (!p_sym(p, S_VCLOSE))
		return p_fail(p, NULL, "expected '}}' to close the '{{' at %u:%u",
		    open->line, open->col);
	p->pos++;
	if ((*out = new_node(p, N_OUT, open)) == NULL)
		return -1;
	(*out)->u.e = e;
	return 0;
}

static int
tag_if(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const ends[] = { "elif", "else", "endif" };
	size_t capc = 0, capb = 0, which;
	struct tagctx et;
	struct node *n;
	struct expr *c;

	p_args(p, tc);
	if (p->pos == p->end)
		return p_fail(p, tc->name, "{%% if %%} needs a condition");
	if ((c = p_expr(p)) == NULL || p_args_end(p, tc, "if") == -1)
		return -1;
	if ((n = new_node(p, N_IF, tc->name)) == NULL)
		return -1;
	for (;;) {
		if (P_GROW(p, n->u.cond.c, &capc, n->u.cond.nc + 1) == -1 ||
		    P_GROW(p, n->u.cond.b, &capb, n->u.cond.nb + 1) == -1)
			return -1;
		if (c != NULL)
			n->u.cond.c[n->u.cond.nc++] = c;
		if (p_body(p, &n->u.cond.b[n->u.cond.nb++], ends, 3, tc, &which,
			&et) == -1)
			return -1;
		c = NULL;
		if (which == 0) {
			p_args(p, &et);
			if (p->pos == p->end)
				return p_fail(p, et.name,
				    "{%% elif %%} needs a condition");
			if ((c = p_expr(p)) == NULL ||
			    p_args_end(p, &et, "elif") == -1)
				return -1;
		} else if (p_noargs(p, &et, ends[which]) == -1)
			return -1;
		if (which == 2)
			break;
	}
	*out = n;
	return 0;
}

/* The forloop visible around a loop: pongo2 makes it the Parentloop. */
static struct var *
outer_forloop(struct parser *p, const struct tok *at)
{
	struct var *v;

	if ((v = p_alloc(p, sizeof(*v))) == NULL ||
	    (v->parts = p_alloc(p, sizeof(*v->parts))) == NULL)
		return NULL;
	memset(v->parts, 0, sizeof(*v->parts));
	v->nparts = 1;
	v->parts[0].name = "forloop";
	v->parts[0].nlen = 7;
	v->parts[0].line = at->line;
	v->parts[0].col = at->col;
	v->text = "forloop";
	v->tlen = 7;
	return scope_ref(p, v) == -1 ? NULL : v;
}

static int
for_args(struct parser *p, const struct tagctx *tc, struct node *n)
{
	const struct tok *k, *v = NULL;

	p_args(p, tc);
	if ((k = p_ident(p)) == NULL)
		return p_fail(p, NULL, "{%% for %%}: expected a loop variable");
	if (p_sym(p, S_COMMA)) {
		p->pos++;
		if ((v = p_ident(p)) == NULL)
			return p_fail(p, NULL, "{%% for %%}: expected a second "
					       "loop variable after ','");
	}
	if (!p_kw(p, K_IN))
		return p_fail(p, NULL, "{%% for %%}: expected 'in'");
	p->pos++;
	if ((n->u.loop.e = p_expr(p)) == NULL)
		return -1;
	if (p_word(p, "reversed")) {
		n->u.loop.reversed = 1;
		p->pos++;
	}
	if (p_word(p, "sorted")) {
		n->u.loop.sorted = 1;
		p->pos++;
	}
	if (p_args_end(p, tc, "for") == -1)
		return -1;
	n->u.loop.vslot = UINT32_MAX;
	if (scope_bind_name(p, "forloop", 7, &n->u.loop.lslot) == -1 ||
	    scope_bind(p, k, &n->u.loop.kslot) == -1 ||
	    (v != NULL && scope_bind(p, v, &n->u.loop.vslot) == -1))
		return -1;
	return 0;
}

static int
tag_for(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const ends[] = { "empty", "endfor" };
	struct tagctx et;
	struct node *n;
	size_t which;

	if ((n = new_node(p, N_FOR, tc->name)) == NULL ||
	    (n->u.loop.outer = outer_forloop(p, tc->name)) == NULL ||
	    scope_push(p, &n->u.loop.frame) == -1 || for_args(p, tc, n) == -1)
		return -1;
	if (p_body(p, &n->u.loop.body, ends, 2, tc, &which, &et) == -1 ||
	    p_noargs(p, &et, ends[which]) == -1)
		return -1;
	if (which == 0 &&
	    (p_body(p, &n->u.loop.empty, ends + 1, 1, tc, &which, &et) == -1 ||
		p_noargs(p, &et, "endfor") == -1))
		return -1;
	scope_pop(p);
	*out = n;
	return 0;
}

static int
tag_set(struct parser *p, const struct tagctx *tc, struct node **out)
{
	const struct tok *name;
	struct node *n;

	if ((n = new_node(p, N_SET, tc->name)) == NULL)
		return -1;
	p_args(p, tc);
	if ((name = p_ident(p)) == NULL)
		return p_fail(p, NULL, "{%% set %%}: expected a name");
	if (!p_sym(p, S_ASSIGN))
		return p_fail(p, NULL, "{%% set %%}: expected '=' after the name");
	p->pos++;
	if ((n->u.set.e = p_expr(p)) == NULL ||
	    p_args_end(p, tc, "set") == -1)
		return -1;
	n->u.set.frame = p->frame->id;
	if (scope_bind(p, name, &n->u.set.slot) == -1)
		return -1;
	*out = n;
	return 0;
}

/* pongo2 takes "a=x b=y", or "x as a y as b" when any "as" is there. */
static int
with_pair(struct parser *p, int old, const struct tok **name, struct expr **e)
{
	if (old) {
		if ((*e = p_expr(p)) == NULL)
			return -1;
		if (!p_kw(p, K_AS))
			return p_fail(p, NULL, "{%% with %%}: expected 'as'");
		p->pos++;
	}
	if ((*name = p_ident(p)) == NULL)
		return p_fail(p, NULL, "{%% with %%}: expected a name");
	if (old)
		return 0;
	if (!p_sym(p, S_ASSIGN))
		return p_fail(p, NULL, "{%% with %%}: expected '=' after the "
				       "name");
	p->pos++;
	return (*e = p_expr(p)) == NULL ? -1 : 0;
}

static int
tag_with(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const ends[] = { "endwith" };
	size_t cape = 0, i, which, n0;
	const struct tok **names;
	struct tagctx et;
	struct node *n;
	int old = 0;

	if (tc->argb == tc->arge)
		return p_fail(p, tc->name, "{%% with %%} needs a name=value");
	if ((n = new_node(p, N_WITH, tc->name)) == NULL ||
	    (names = p_alloc(p, (tc->arge - tc->argb) * sizeof(*names))) ==
		NULL)
		return -1;
	for (i = tc->argb; i < tc->arge; i++)
		old |= p->tk[i].type == TK_KEYWORD && p->tk[i].id == K_AS;
	p_args(p, tc);
	while (p->pos < p->end) {
		n0 = n->u.with.n;
		if (P_GROW(p, n->u.with.e, &cape, n0 + 1) == -1 ||
		    with_pair(p, old, &names[n0], &n->u.with.e[n0]) == -1)
			return -1;
		n->u.with.n++;
	}
	p_args_end(p, tc, "with");
	if (scope_push(p, &n->u.with.frame) == -1 ||
	    (n->u.with.slot = p_alloc(p, n->u.with.n * sizeof(uint32_t))) ==
		NULL)
		return -1;
	for (i = 0; i < n->u.with.n; i++)
		if (scope_bind(p, names[i], &n->u.with.slot[i]) == -1)
			return -1;
	if (p_body(p, &n->u.with.body, ends, 1, tc, &which, &et) == -1 ||
	    p_noargs(p, &et, "endwith") == -1)
		return -1;
	scope_pop(p);
	*out = n;
	return 0;
}

/* pongo2 skips tokens up to the first {% endcomment %}: no nesting. */
static int
tag_comment(struct parser *p, const struct tagctx *tc)
{
	size_t i;

	for (i = p->pos; i + 1 < p->ntk; i++) {
		if (p->tk[i].type != TK_SYM || p->tk[i].id != S_TOPEN ||
		    !tok_is(p, i + 1, "endcomment"))
			continue;
		/* pongo2 loops forever on arguments here: refuse them. */
		if (i + 2 >= p->ntk || p->tk[i + 2].type != TK_SYM ||
		    p->tk[i + 2].id != S_TCLOSE)
			return p_fail(p, &p->tk[i + 1],
			    "{%% endcomment %%} takes no arguments");
		p->pos = i + 3;
		return p_noargs(p, tc, "comment");
	}
	return p_fail(p, &p->tk[p->ntk - 1],
	    "unclosed {%% comment %%} opened at %u:%u (expected "
	    "{%% endcomment %%})",
	    tc->name->line, tc->name->col);
}

static const struct {
	const char *name, *why;
} refused[] = {
	{ "include", "is not allowed in image templates" },
	{ "import", "is not allowed in image templates" },
	{ "extends", "is not allowed in image templates" },
	{ "ssi", "is not allowed in image templates" },
	{ "block", "is not supported (it only makes sense with extends)" },
	{ "macro", "is not supported in image templates" },
	{ "cycle", "is not supported in image templates" },
	{ "ifchanged", "is not supported in image templates" },
	{ "lorem", "is not supported in image templates" },
	{ "now", "is not supported (templates render the same every time)" },
	{ "spaceless", "is not supported in image templates" },
	{ "verbatim", "must be written exactly \"{% verbatim %}\" and cannot "
		      "follow {% endverbatim %} directly" },
	{ "else", "has no open {% if %} or {% ifequal %}" },
	{ "elif", "has no open {% if %}" },
	{ "endif", "has no open {% if %}" },
	{ "empty", "has no open {% for %}" },
	{ "endfor", "has no open {% for %}" },
	{ "endwith", "has no open {% with %}" },
	{ "endcomment", "has no open {% comment %}" },
	{ "endautoescape", "has no open {% autoescape %}" },
	{ "endifequal", "has no open {% ifequal %}" },
	{ "endifnotequal", "has no open {% ifnotequal %}" },
	{ "endfilter", "has no open {% filter %}" },
	{ "endverbatim", "has no open {% verbatim %}" },
};

static int
p_tag(struct parser *p, struct node **out)
{
	struct tagctx tc;
	size_t i, len;
	const char *s;
	int done, r;

	*out = NULL;
	p->pos++;
	if ((tc.name = p_ident(p)) == NULL)
		return p_fail(p, &p->tk[p->pos - 1],
		    "expected a tag name after '{%%'");
	s = p->src + tc.name->off;
	len = tc.name->len;
	for (i = p->pos; i < p->ntk &&
	     !(p->tk[i].type == TK_SYM && p->tk[i].id == S_TCLOSE);
	     i++)
		;
	if (i == p->ntk)
		return p_fail(p, tc.name, "{%% %.*s %%} is not closed with '%%}'",
		    len > 40 ? 40 : (int)len, s);
	tc.argb = p->pos;
	tc.arge = i;
	p->pos = i + 1;
#define IS(w) (len == strlen(w) && memcmp(s, w, len) == 0)
	if (IS("if"))
		return tag_if(p, &tc, out);
	if (IS("for"))
		return tag_for(p, &tc, out);
	if (IS("set"))
		return tag_set(p, &tc, out);
	if (IS("with"))
		return tag_with(p, &tc, out);
	if (IS("comment"))
		return tag_comment(p, &tc);
	r = tags_small(p, &tc, out, &done);
	if (done)
		return r;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (IS(refused[i].name))
			return p_fail(p, tc.name, "{%% %s %%} %s",
			    refused[i].name, refused[i].why);
#undef IS
	return p_fail(p, tc.name, "unknown tag '%.*s'",
	    len > 40 ? 40 : (int)len, s);
}

static int
p_element(struct parser *p, struct node **out)
{
	const struct tok *t = &p->tk[p->pos];

	if (t->type == TK_HTML)
		return p_html(p, out);
	if (t->type == TK_SYM && t->id == S_VOPEN)
		return p_output(p, out);
	if (t->type == TK_SYM && t->id == S_TOPEN)
		return p_tag(p, out);
	return p_fail(p, t, "unexpected '%.*s' in the text",
	    t->len > 40 ? 40 : (int)t->len, p->src + t->off);
}

static int
p_template(struct parser *p)
{
	uint32_t root;
	size_t which;

	if (scope_push(p, &root) == -1 ||
	    scope_bind_name(p, "pongo2", 6, &p->t->pongo2_slot) == -1 ||
	    p_body(p, &p->t->root, NULL, 0, NULL, &which, NULL) == -1 ||
	    scope_resolve(p) == -1)
		return -1;
	p->t->nframes = p->nframes;
	if ((p->t->nslots = p_alloc(p, p->nframes * sizeof(uint32_t))) == NULL)
		return -1;
	memcpy(p->t->nslots, p->nslots, p->nframes * sizeof(uint32_t));
	return 0;
}

int
tpl_parse(const char *name, const char *src, size_t len,
    const struct tpl_limits *lim, struct tpl **out, char *err, size_t errlen)
{
	struct tpl_err e = { name, err, errlen, 0 };
	struct parser p;
	struct tpl *t;
	locale_t old;
	int r = -1;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (len > lim->source_max || len > UINT32_MAX / 2) {
		tpl_errf(&e, 1, 1, "the template is larger than %zu bytes",
		    lim->source_max);
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    (t->src = malloc(len + 1)) == NULL) {
		tpl_errf(&e, 1, 1, "out of memory");
		tpl_free(t);
		return -1;
	}
	memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->len = len;
	memset(&p, 0, sizeof(p));
	p.t = t;
	p.src = t->src;
	p.err = &e;
	p.depth_max = lim->depth_max;
	/* Numbers are read with strtod: in the C locale, whatever the caller's. */
	p.cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (p.cloc == (locale_t)0)
		tpl_errf(&e, 1, 1, "cannot make the C locale");
	else {
		old = uselocale(p.cloc);
		if (tpl_lex(t->src, len, &p.tk, &p.ntk, &e) == 0) {
			p.end = p.ntk;
			r = p_template(&p);
		}
		uselocale(old);
		freelocale(p.cloc);
	}
	free(p.tk);
	scope_free(&p);
	if (r == -1) {
		tpl_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	arena_free(&t->a);
	free(t->src);
	free(t->name);
	free(t);
}
