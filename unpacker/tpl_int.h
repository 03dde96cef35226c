/*
 * tpl internals: tokens (tpl_lex.c), the tree the parser builds
 * (tpl_parse.c, tpl_expr.c), values and their operations (tpl_value.c),
 * filters (tpl_filter.c, tpl_filter2.c), Unicode (tpl_utf8.c), memory
 * (tpl_mem.c) and the renderer (tpl_eval.c, tpl_scope.c).
 */
#ifndef IMGD_UNPACKER_TPL_INT_H
#define IMGD_UNPACKER_TPL_INT_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "unpacker/tpl.h"

/* Tokens, as pongo2's lexer makes them. */
enum tok_type { TK_HTML, TK_KEYWORD, TK_IDENT, TK_STRING, TK_NUMBER, TK_SYM };
enum tok_sym {
	S_VOPEN,
	S_VCLOSE,
	S_TOPEN,
	S_TCLOSE,
	S_EQ,
	S_GE,
	S_LE,
	S_ANDAND,
	S_OROR,
	S_NE,
	S_LPAREN,
	S_RPAREN,
	S_PLUS,
	S_MINUS,
	S_STAR,
	S_LT,
	S_GT,
	S_SLASH,
	S_CARET,
	S_COMMA,
	S_DOT,
	S_BANG,
	S_PIPE,
	S_COLON,
	S_ASSIGN,
	S_PERCENT
};
enum tok_kw { K_IN, K_AND, K_OR, K_NOT, K_TRUE, K_FALSE, K_AS, K_EXPORT };

struct tok {
	uint32_t off, len; /* in the source; a string without its quotes */
	uint32_t line, col;
	uint8_t type;
	uint8_t id;   /* enum tok_sym or tok_kw */
	uint8_t trim; /* a symbol written with '-' */
};

struct tpl_err {
	const char *name;
	char *buf;
	size_t len;
	int set;
};
void tpl_errf(struct tpl_err *, uint32_t, uint32_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* A bump allocator with marks; tpl_mem.c. */
struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	size_t used, max; /* live bytes and the cap (0: none) */
};
struct arena_mark {
	struct arena_chunk *chunk;
	size_t off, used;
};
void *arena_alloc(struct arena *, size_t);
void arena_mark(struct arena *, struct arena_mark *);
void arena_release(struct arena *, const struct arena_mark *);
void arena_free(struct arena *);

/* A growable byte buffer that refuses to pass max bytes. */
struct sbuf {
	char *p;
	size_t n, cap, max;
	int over;
};
void sb_init(struct sbuf *, size_t);
void sb_put(struct sbuf *, const void *, size_t);
void sb_putc(struct sbuf *, int);
void sb_rune(struct sbuf *, uint32_t);
void sb_free(struct sbuf *);

int tpl_lex(const char *, size_t, struct tok **, size_t *, struct tpl_err *);

/* Values. Strings point into the source, the context or an arena. */
enum val_type {
	V_NIL,
	V_BOOL,
	V_INT,
	V_FLOAT,
	V_STR,
	V_MAP,
	V_LIST,
	V_LOOP,
	V_FUNC
};
#define VF_BYTE 2 /* an int of Go type uint8 (a byte of a string) */
struct pframe;
struct tmap;
struct tlist;
struct tloop;
struct val {
	uint8_t t, f;
	union {
		int64_t i;
		double d;
		struct {
			const char *p;
			size_t n;
		} s;
		const struct tmap *m;
		const struct tlist *l;
		const struct tloop *lp; /* NULL: a nil Parentloop */
	} u;
};
struct tmap_ent {
	const char *k;
	size_t kn;
	struct val v;
};
struct tmap {
	const char *gotype; /* as Go's reflect prints it */
	size_t n;
	struct tmap_ent *e; /* sorted by key */
};
struct tlist {
	size_t n;
	struct val *v; /* strings ([]string) */
};
struct tloop {
	int64_t counter, counter0, rev, rev0;
	int first, last;
	const struct tloop *parent;
};

/* Expressions. */
enum expr_type { E_LIT, E_VAR, E_FILT, E_LOGIC, E_REL, E_ADD, E_MUL, E_POW };
struct expr;
struct opnd {
	struct expr *e;
	uint8_t op; /* the operator before e (tok_sym or tok_kw id) */
	uint32_t line, col;
};
struct vpart {
	const char *name; /* NULL: an index */
	size_t nlen;
	int64_t idx;
	int call;
	size_t nargs;
	struct expr **args;
	uint32_t line, col;
};
struct cand {
	uint32_t frame, slot;
};
enum pub_name {
	PUB_NONE,
	PUB_TRIGGER,
	PUB_PATH,
	PUB_CONTAINER,
	PUB_INSTANCE,
	PUB_CONFIG,
	PUB_DEVICES,
	PUB_PROPERTIES,
	PUB_CONFIG_GET
};
struct var {
	size_t nparts;
	struct vpart *parts;
	const char *text; /* the name as written, for messages */
	size_t tlen;
	uint32_t id;	   /* interned first name */
	struct pframe *pf; /* innermost scope at the reference (parsing) */
	uint8_t pub;
	size_t ncand;
	struct cand *cand; /* slots that may hold the name, innermost first */
	struct var *next;
};
struct fcall {
	const struct filter *f;
	struct expr *arg; /* NULL: none */
	uint32_t line, col;
};
struct expr {
	uint8_t type;
	uint8_t safe; /* pongo2's FilterApplied("safe") */
	uint32_t line, col;
	union {
		struct val lit;
		struct var *var;
		struct {
			struct expr *base;
			size_t n;
			struct fcall *fc;
		} filt;
		struct {
			size_t n;
			struct opnd *o;
			uint8_t neg, minus; /* E_ADD: on the first operand */
		} ch;
	} u;
};

/* Statements. */
enum node_type {
	N_TEXT,
	N_OUT,
	N_IF,
	N_FOR,
	N_SET,
	N_WITH,
	N_AUTOESC,
	N_FIRSTOF,
	N_IFEQ,
	N_WIDTH,
	N_FILTER
};
struct node {
	uint8_t type;
	uint32_t line, col;
	struct node *next;
	union {
		struct {
			const char *p;
			size_t n;
		} text;
		struct expr *e; /* N_OUT */
		struct {
			size_t nc, nb;
			struct expr **c;
			struct node **b;
		} cond; /* N_IF */
		struct {
			struct expr *e;
			uint32_t frame, kslot, vslot, lslot; /* vslot: -1 */
			uint32_t fid; /* the name "forloop" outside the loop */
			struct var *outer; /* the forloop visible outside */
			int reversed, sorted;
			struct node *body, *empty;
		} loop;
		struct {
			uint32_t frame, slot;
			struct expr *e;
		} set; /* N_SET; N_WIDTH uses e3 */
		struct {
			uint32_t frame;
			size_t n;
			uint32_t *slot;
			struct expr **e;
			struct node *body;
		} with;
		struct {
			int on;
			struct node *body;
		} esc;
		struct {
			size_t n;
			struct expr **e;
		} first;
		struct {
			int neg;
			struct expr *a, *b;
			struct node *then, *els;
		} ifeq;
		struct {
			struct expr *a, *b, *c;
			uint32_t frame, slot; /* slot -1: print */
		} width;
		struct {
			size_t n;
			struct fcall *fc;
			struct node *body;
		} filter;
	} u;
};

struct tpl {
	char *name;
	char *src;
	size_t len;
	struct arena a;
	struct node *root;
	uint32_t nframes;
	uint32_t *nslots;     /* per frame */
	uint32_t pongo2_slot; /* in frame 0, or -1 */
};

struct filter;

/* The state of one render; tpl_eval.c. */
struct slot {
	uint64_t gen;
	int raw_loop; /* bound by a for tag itself (not by set/with) */
	struct val v;
};
struct rstate {
	const struct tpl *t;
	const struct tpl_limits *lim;
	struct tpl_err err;
	struct sbuf out;
	struct arena a;
	uint64_t steps, gen;
	uint64_t *fgen; /* per frame: the generation of its live instance */
	struct slot **slots;
	int autoescape;
	locale_t cloc;
	struct tmap config, inst, props, devices, pongo2;
	struct val pub[PUB_CONFIG_GET + 1];
	uint32_t line, col; /* where we are, for messages */
};

int tpl_exec(struct rstate *, const struct node *);
int tpl_step(struct rstate *, uint64_t);
int tpl_fail(struct rstate *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void *tpl_alloc(struct rstate *, size_t);
int tpl_eval(struct rstate *, const struct expr *, struct val *);
int tpl_newstr(struct rstate *, struct sbuf *, struct val *, const char *);

/* Value operations; tpl_value.c. */
#define VSTR_MAX 512 /* enough for any number printed with %f */
int val_isnil(const struct val *);
int val_true(const struct val *);
int val_isnum(const struct val *);
int64_t val_int(struct rstate *, const struct val *);
double val_float(struct rstate *, const struct val *);
int64_t val_len(const struct val *);
void val_negate(const struct val *, struct val *);
void val_str(const struct val *, const char **, size_t *, char *);
int val_equal(struct rstate *, const struct val *, const struct val *, int *);
int val_contains(
    struct rstate *, const struct val *, const struct val *, int *);
int val_index(struct rstate *, const struct val *, int64_t, struct val *);
int go_parsefloat(const char *, size_t, double *);
int64_t go_f2i(double);
double go_pow(double, double);
double go_ceil(double);
size_t go_ftoa(char *, size_t, double, int);
void val_sstr(struct val *, const char *, size_t);
void val_sint(struct val *, int64_t);
void val_sbool(struct val *, int);
void val_sfloat(struct val *, double);
const struct tmap_ent *tmap_get(const struct tmap *, const char *, size_t);
int val_less(const struct val *, const struct val *);

/* Filters; tpl_filter.c. */
typedef int (*filter_fn)(
    struct rstate *, const struct val *, const struct val *, struct val *);
struct filter {
	const char *name;
	filter_fn fn;
	const char *reject; /* why this renderer refuses it */
};
const struct filter *filter_find(const char *, size_t);
int filter_call(struct rstate *, const struct fcall *, struct val *);
int f_escape(
    struct rstate *, const struct val *, const struct val *, struct val *);
extern const struct filter tpl_filters2[];

/* UTF-8 and Unicode as Go sees them; tpl_utf8.c. */
#define RUNE_ERROR 0xFFFD
size_t utf8_dec(const char *, size_t, uint32_t *);
size_t utf8_count(const char *, size_t);
uint32_t rune_upper(uint32_t);
uint32_t rune_lower(uint32_t);
uint32_t rune_title(uint32_t);
int rune_space(uint32_t);

#endif
