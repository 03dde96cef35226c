/*
 * tpl lexer: the source into tokens, exactly as pongo2's lexer.go splits
 * it, so that its quirks hold here too: {# #} and tags end on their line;
 * "{% verbatim %}" is recognised only with that spelling and never right
 * after an "{% endverbatim %}"; a verbatim block needs at least one byte;
 * inside a tag a byte that starts no token ends the tag's tokens and the
 * rest of the line is text (which the parser then refuses).
 */
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_int.h"

static const struct {
	const char *s;
	uint8_t id, trim;
} syms[] = {
	{ "{{-", S_VOPEN, 1 }, { "-}}", S_VCLOSE, 1 }, { "{%-", S_TOPEN, 1 },
	{ "-%}", S_TCLOSE, 1 }, { "==", S_EQ, 0 }, { ">=", S_GE, 0 },
	{ "<=", S_LE, 0 }, { "&&", S_ANDAND, 0 }, { "||", S_OROR, 0 },
	{ "{{", S_VOPEN, 0 }, { "}}", S_VCLOSE, 0 }, { "{%", S_TOPEN, 0 },
	{ "%}", S_TCLOSE, 0 }, { "!=", S_NE, 0 }, { "<>", S_NE, 0 },
	{ "(", S_LPAREN, 0 }, { ")", S_RPAREN, 0 }, { "+", S_PLUS, 0 },
	{ "-", S_MINUS, 0 }, { "*", S_STAR, 0 }, { "<", S_LT, 0 },
	{ ">", S_GT, 0 }, { "/", S_SLASH, 0 }, { "^", S_CARET, 0 },
	{ ",", S_COMMA, 0 }, { ".", S_DOT, 0 }, { "!", S_BANG, 0 },
	{ "|", S_PIPE, 0 }, { ":", S_COLON, 0 }, { "=", S_ASSIGN, 0 },
	{ "%", S_PERCENT, 0 },
};

static const char *const kws[] = { "in", "and", "or", "not", "true", "false",
	"as", "export" };

#define VERB_OPEN "{% verbatim %}"
#define VERB_CLOSE "{% endverbatim %}"

struct lexer {
	const char *s;
	size_t len, pos, start;
	uint32_t line;
	size_t linestart;
	struct tok *t;
	size_t n, cap;
	struct tpl_err *err;
};

static uint32_t
col_of(const struct lexer *l, size_t off)
{
	return (uint32_t)(off - l->linestart + 1);
}

static int
has(const struct lexer *l, const char *p)
{
	size_t n = strlen(p);

	return l->len - l->pos >= n && memcmp(l->s + l->pos, p, n) == 0;
}

static int
emit(struct lexer *l, uint8_t type, uint8_t id, uint8_t trim, size_t off,
    size_t len)
{
	struct tok *nt, *t;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		if ((nt = realloc(l->t, cap * sizeof(*nt))) == NULL) {
			tpl_errf(l->err, l->line, col_of(l, off), "out of memory");
			return -1;
		}
		l->t = nt;
		l->cap = cap;
	}
	t = &l->t[l->n++];
	t->off = (uint32_t)off;
	t->len = (uint32_t)len;
	t->line = l->line;
	t->col = col_of(l, off);
	t->type = type;
	t->id = id;
	t->trim = trim;
	return 0;
}

static int
emit_html(struct lexer *l)
{
	if (l->pos > l->start &&
	    emit(l, TK_HTML, 0, 0, l->start, l->pos - l->start) == -1)
		return -1;
	l->start = l->pos;
	return 0;
}

static int
isident(int c, int digits)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (digits && c >= '0' && c <= '9');
}

static int
lex_word(struct lexer *l)
{
	size_t b = l->pos, i;
	int number = 1;

	while (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9')
		l->pos++;
	if (l->pos == b || (l->pos < l->len && isident(l->s[l->pos], 0)))
		number = 0; /* "1abc" is a name, as in pongo2 */
	if (!number)
		while (l->pos < l->len && isident(l->s[l->pos], 1))
			l->pos++;
	if (number)
		return emit(l, TK_NUMBER, 0, 0, b, l->pos - b);
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (strlen(kws[i]) == l->pos - b &&
		    memcmp(kws[i], l->s + b, l->pos - b) == 0)
			return emit(l, TK_KEYWORD, (uint8_t)i, 0, b, l->pos - b);
	return emit(l, TK_IDENT, 0, 0, b, l->pos - b);
}

static int
lex_string(struct lexer *l)
{
	char q = l->s[l->pos];
	size_t b = l->pos++;
	char c;

	for (;;) {
		if (l->pos >= l->len || l->s[l->pos] == '\n') {
			tpl_errf(l->err, l->line, col_of(l, b),
			    "unclosed string (strings end on their line)");
			return -1;
		}
		c = l->s[l->pos];
		if (c == q)
			break;
		if (c == '\\') {
			if (l->pos + 1 >= l->len ||
			    (l->s[l->pos + 1] != '"' && l->s[l->pos + 1] != '\\')) {
				tpl_errf(l->err, l->line, col_of(l, l->pos),
				    "unknown escape in string: only \\\" and "
				    "\\\\ are allowed");
				return -1;
			}
			l->pos++;
		}
		l->pos++;
	}
	if (emit(l, TK_STRING, 0, 0, b + 1, l->pos - b - 1) == -1)
		return -1;
	l->t[l->n - 1].col = col_of(l, b);
	l->pos++;
	return 0;
}

/* A symbol at pos; 1 when it closes the tag. */
static int
lex_sym(struct lexer *l, int *closed)
{
	size_t i, n;

	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		n = strlen(syms[i].s);
		if (!has(l, syms[i].s))
			continue;
		if (emit(l, TK_SYM, syms[i].id, syms[i].trim, l->pos, n) == -1)
			return -1;
		l->pos += n;
		*closed = syms[i].id == S_VCLOSE || syms[i].id == S_TCLOSE;
		return 1;
	}
	return 0;
}

/* The inside of {{ }} or {% %}, from its opening symbol (pongo2's stateCode). */
static int
lex_code(struct lexer *l)
{
	size_t open = l->pos;
	int closed = 0, r;
	char c;

	while (l->pos < l->len && !closed) {
		c = l->s[l->pos];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (c == '\n') {
				tpl_errf(l->err, l->line, col_of(l, open),
				    "'%.2s' is not closed on its line (tags "
				    "and variables cannot span lines)",
				    l->s + open);
				return -1;
			}
			l->pos++;
			continue;
		}
		if (isident(c, 1))
			r = lex_word(l);
		else if (c == '"' || c == '\'')
			r = lex_string(l);
		else if ((r = lex_sym(l, &closed)) == 0)
			break; /* the rest is text, as in pongo2 */
		if (r == -1)
			return -1;
	}
	l->start = l->pos;
	return 0;
}

static int
lex_comment(struct lexer *l)
{
	size_t b = l->pos;

	if (emit_html(l) == -1)
		return -1;
	for (l->pos += 2;; l->pos++) {
		if (l->pos >= l->len || l->s[l->pos] == '\n') {
			tpl_errf(l->err, l->line, col_of(l, b),
			    "unclosed {# comment (it must end with #} on its "
			    "line; use {%% comment %%} for more)");
			return -1;
		}
		if (has(l, "#}"))
			break;
	}
	l->pos += 2;
	l->start = l->pos;
	return 0;
}

static int
check_soh(struct lexer *l)
{
	const char *p = memchr(l->s, 1, l->len);
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < (size_t)(p - l->s); i++)
		if (l->s[i] == '\n') {
			l->line++;
			l->linestart = i + 1;
		}
	tpl_errf(l->err, l->line, col_of(l, (size_t)(p - l->s)),
	    "the byte 0x01 is not allowed in a template (pongo2 reads it as "
	    "the end of the input)");
	return -1;
}

/*
 * LXD renders "{% autoescape off %}" + template + "{% endautoescape %}":
 * a final '{' makes "{{%" of that, which pongo2 cannot parse.
 */
static int
check_end(struct lexer *l)
{
	size_t i;

	if (l->len == 0 || l->s[l->len - 1] != '{')
		return 0;
	for (i = 0; i + 1 < l->len; i++)
		if (l->s[i] == '\n') {
			l->line++;
			l->linestart = i + 1;
		}
	tpl_errf(l->err, l->line, col_of(l, l->len - 1),
	    "the template ends with '{', which LXD's wrapper turns into \"{{%%\" "
	    "(pongo2 fails): end it with a newline");
	return -1;
}

static int
verbatim_err(struct lexer *l, uint32_t line, uint32_t col, size_t off)
{
	if (l->len - off >= strlen(VERB_CLOSE) &&
	    memcmp(l->s + off, VERB_CLOSE, strlen(VERB_CLOSE)) == 0)
		tpl_errf(l->err, line, col,
		    "an empty {%% verbatim %%} block is not allowed "
		    "(pongo2 cannot read it)");
	else
		tpl_errf(l->err, line, col,
		    "unclosed {%% verbatim %%} (expected {%% endverbatim %%})");
	return -1;
}

/* The main loop of pongo2's lexer (run), byte by byte. */
static int
lex_run(struct lexer *l)
{
	uint32_t vline = 0, vcol = 0;
	size_t voff = 0;
	int inverb = 0;

	for (;;) {
		if (inverb) {
			if (has(l, VERB_CLOSE)) {
				if (emit_html(l) == -1)
					return -1;
				l->pos += strlen(VERB_CLOSE);
				l->start = l->pos;
				inverb = 0;
			}
		} else if (has(l, VERB_OPEN)) {
			if (emit_html(l) == -1)
				return -1;
			vline = l->line;
			vcol = col_of(l, l->pos);
			l->pos += strlen(VERB_OPEN);
			voff = l->pos;
			l->start = l->pos;
			inverb = 1;
		}
		if (!inverb) {
			if (has(l, "{#")) {
				if (lex_comment(l) == -1)
					return -1;
				continue;
			}
			if (has(l, "{{") || has(l, "{%")) {
				if (emit_html(l) == -1 || lex_code(l) == -1)
					return -1;
				continue;
			}
		}
		if (l->pos >= l->len)
			break;
		if (l->s[l->pos++] == '\n') {
			l->line++;
			l->linestart = l->pos;
		}
	}
	if (emit_html(l) == -1)
		return -1;
	if (inverb)
		return verbatim_err(l, vline, vcol, voff);
	return 0;
}

int
tpl_lex(const char *s, size_t len, struct tok **out, size_t *n,
    struct tpl_err *err)
{
	struct lexer l;

	memset(&l, 0, sizeof(l));
	l.s = s;
	l.len = len;
	l.line = 1;
	l.err = err;
	if (check_soh(&l) == -1 || check_end(&l) == -1 || lex_run(&l) == -1) {
		free(l.t);
		return -1;
	}
	*out = l.t;
	*n = l.n;
	return 0;
}
