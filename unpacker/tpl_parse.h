/*
 * tpl parser internals, shared by tpl_parse.c (documents and block tags),
 * tpl_tags.c (the small tags), tpl_expr.c (expressions) and tpl_scope.c
 * (names, scopes and where each name is looked up).
 */
#ifndef IMGD_UNPACKER_TPL_PARSE_H
#define IMGD_UNPACKER_TPL_PARSE_H

#include "unpacker/tpl_int.h"

struct pframe {
	uint32_t id;
	struct pframe *up;
};

struct htab {
	struct hent *e;
	size_t cap, n;
};

struct parser {
	struct tpl *t;
	const char *src;
	struct tok *tk;
	size_t ntk;
	size_t pos, end; /* the tokens being read: a document or a tag's */
	unsigned depth, edepth, depth_max;
	struct tpl_err *err;
	locale_t cloc;
	struct pframe *frame; /* the innermost scope */
	uint32_t nframes;
	uint32_t *nslots;
	size_t slotcap;
	struct var *vars; /* every name read, resolved at the end */
	struct htab names, binds;
};

/* The tag being parsed: its name and the tokens of its arguments. */
struct tagctx {
	const struct tok *name;
	size_t argb, arge;
};

void *p_alloc(struct parser *, size_t);
int p_grow(struct parser *, void *, size_t *, size_t, size_t);
#define P_GROW(p, arr, cap, n) p_grow((p), &(arr), (cap), (n), sizeof(*(arr)))
int p_fail(struct parser *, const struct tok *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
const struct tok *p_cur(const struct parser *);
int p_sym(const struct parser *, int);
int p_kw(const struct parser *, int);
const struct tok *p_ident(struct parser *);
int p_word(const struct parser *, const char *);

int p_body(struct parser *, struct node **, const char *const *, size_t,
    const struct tagctx *, size_t *, struct tagctx *);
int p_args(struct parser *, const struct tagctx *);
int p_args_end(struct parser *, const struct tagctx *, const char *);
int p_noargs(struct parser *, const struct tagctx *, const char *);

struct expr *p_expr(struct parser *);
struct expr *p_varlit(struct parser *);
int p_filter_arg(struct parser *, struct fcall *);

int tags_small(struct parser *, const struct tagctx *, struct node **, int *);

/* Scopes: tpl_scope.c. */
int scope_push(struct parser *, uint32_t *);
void scope_pop(struct parser *);
int scope_bind(struct parser *, const struct tok *, uint32_t *);
int scope_bind_name(struct parser *, const char *, size_t, uint32_t *);
int scope_ref(struct parser *, struct var *);
int scope_resolve(struct parser *);
void scope_free(struct parser *);

#endif
