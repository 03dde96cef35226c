/*
 * tpl: the smaller pongo2 tags, each as its tags_*.go parses it:
 * autoescape, firstof, ifequal, ifnotequal, templatetag, widthratio and
 * filter.
 */
#include <string.h>

#include "unpacker/tpl_parse.h"

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

static int
tag_autoescape(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const ends[] = { "endautoescape" };
	const struct tok *mode;
	struct tagctx et;
	struct node *n;
	size_t which;

	if ((n = new_node(p, N_AUTOESC, tc->name)) == NULL)
		return -1;
	p_args(p, tc);
	if ((mode = p_ident(p)) == NULL)
		return p_fail(p, NULL, "{%% autoescape %%} needs on or off");
	if (mode->len == 2 && memcmp(p->src + mode->off, "on", 2) == 0)
		n->u.esc.on = 1;
	else if (mode->len != 3 || memcmp(p->src + mode->off, "off", 3) != 0)
		return p_fail(p, mode, "{%% autoescape %%} takes on or off");
	if (p_args_end(p, tc, "autoescape") == -1)
		return -1;
	/* pongo2 ignores the arguments of {% endautoescape %}. */
	if (p_body(p, &n->u.esc.body, ends, 1, tc, &which, &et) == -1)
		return -1;
	*out = n;
	return 0;
}

static int
tag_firstof(struct parser *p, const struct tagctx *tc, struct node **out)
{
	struct node *n;
	size_t cap = 0;

	if ((n = new_node(p, N_FIRSTOF, tc->name)) == NULL)
		return -1;
	p_args(p, tc);
	while (p->pos < p->end) {
		if (P_GROW(p, n->u.first.e, &cap, n->u.first.n + 1) == -1 ||
		    (n->u.first.e[n->u.first.n++] = p_expr(p)) == NULL)
			return -1;
	}
	*out = n;
	return p_args_end(p, tc, "firstof");
}

static int
tag_ifequal(struct parser *p, const struct tagctx *tc, struct node **out,
    int neg)
{
	static const char *const ends[] = { "else", "endifequal", "else",
		"endifnotequal" };
	const char *const *e = neg ? ends + 2 : ends;
	const char *what = neg ? "ifnotequal" : "ifequal";
	struct tagctx et;
	struct node *n;
	size_t which;

	if ((n = new_node(p, N_IFEQ, tc->name)) == NULL)
		return -1;
	n->u.ifeq.neg = neg;
	p_args(p, tc);
	if ((n->u.ifeq.a = p_expr(p)) == NULL ||
	    (n->u.ifeq.b = p_expr(p)) == NULL ||
	    p_args_end(p, tc, what) == -1)
		return -1;
	if (p_body(p, &n->u.ifeq.then, e, 2, tc, &which, &et) == -1 ||
	    p_noargs(p, &et, e[which]) == -1)
		return -1;
	if (which == 0 &&
	    (p_body(p, &n->u.ifeq.els, e + 1, 1, tc, &which, &et) == -1 ||
		p_noargs(p, &et, e[1]) == -1))
		return -1;
	*out = n;
	return 0;
}

static int
tag_templatetag(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const map[][2] = { { "openblock", "{%" },
		{ "closeblock", "%}" }, { "openvariable", "{{" },
		{ "closevariable", "}}" }, { "openbrace", "{" },
		{ "closebrace", "}" }, { "opencomment", "{#" },
		{ "closecomment", "#}" } };
	const struct tok *w;
	struct node *n;
	size_t i;

	p_args(p, tc);
	if ((w = p_ident(p)) == NULL)
		return p_fail(p, NULL, "{%% templatetag %%} needs a name such "
				       "as openblock");
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i][0]) == w->len &&
		    memcmp(map[i][0], p->src + w->off, w->len) == 0)
			break;
	if (i == sizeof(map) / sizeof(map[0]))
		return p_fail(p, w, "{%% templatetag %%}: unknown name '%.*s'",
		    w->len > 40 ? 40 : (int)w->len, p->src + w->off);
	if (p_args_end(p, tc, "templatetag") == -1 ||
	    (n = new_node(p, N_TEXT, tc->name)) == NULL)
		return -1;
	n->u.text.p = map[i][1];
	n->u.text.n = strlen(map[i][1]);
	*out = n;
	return 0;
}

static int
tag_widthratio(struct parser *p, const struct tagctx *tc, struct node **out)
{
	const struct tok *name = NULL;
	struct node *n;

	if ((n = new_node(p, N_WIDTH, tc->name)) == NULL)
		return -1;
	p_args(p, tc);
	if ((n->u.width.a = p_expr(p)) == NULL ||
	    (n->u.width.b = p_expr(p)) == NULL ||
	    (n->u.width.c = p_expr(p)) == NULL)
		return -1;
	if (p_kw(p, K_AS)) {
		p->pos++;
		if ((name = p_ident(p)) == NULL)
			return p_fail(p, NULL, "{%% widthratio %%}: expected a "
					       "name after 'as'");
	}
	if (p_args_end(p, tc, "widthratio") == -1)
		return -1;
	n->u.width.slot = UINT32_MAX;
	n->u.width.frame = p->frame->id;
	if (name != NULL && scope_bind(p, name, &n->u.width.slot) == -1)
		return -1;
	*out = n;
	return 0;
}

static int
tag_filter(struct parser *p, const struct tagctx *tc, struct node **out)
{
	static const char *const ends[] = { "endfilter" };
	struct tagctx et;
	size_t cap = 0, which;
	struct node *n;

	if ((n = new_node(p, N_FILTER, tc->name)) == NULL)
		return -1;
	p_args(p, tc);
	while (p->pos < p->end) {
		if (n->u.filter.n >= p->depth_max)
			return p_fail(p, NULL, "more than %u filters in one "
					       "chain",
			    p->depth_max);
		if (P_GROW(p, n->u.filter.fc, &cap, n->u.filter.n + 1) == -1 ||
		    p_filter_arg(p, &n->u.filter.fc[n->u.filter.n++]) == -1)
			return -1;
		if (!p_sym(p, S_PIPE))
			break;
		p->pos++;
	}
	if (p_args_end(p, tc, "filter") == -1)
		return -1;
	/* pongo2 ignores the arguments of {% endfilter %}. */
	if (p_body(p, &n->u.filter.body, ends, 1, tc, &which, &et) == -1)
		return -1;
	*out = n;
	return 0;
}

/* *done is 1 when the tag was one of these. */
int
tags_small(struct parser *p, const struct tagctx *tc, struct node **out,
    int *done)
{
	const char *s = p->src + tc->name->off;
	size_t len = tc->name->len;

	*done = 1;
#define IS(w) (len == strlen(w) && memcmp(s, w, len) == 0)
	if (IS("autoescape"))
		return tag_autoescape(p, tc, out);
	if (IS("firstof"))
		return tag_firstof(p, tc, out);
	if (IS("ifequal"))
		return tag_ifequal(p, tc, out, 0);
	if (IS("ifnotequal"))
		return tag_ifequal(p, tc, out, 1);
	if (IS("templatetag"))
		return tag_templatetag(p, tc, out);
	if (IS("widthratio"))
		return tag_widthratio(p, tc, out);
	if (IS("filter"))
		return tag_filter(p, tc, out);
#undef IS
	*done = 0;
	return 0;
}
