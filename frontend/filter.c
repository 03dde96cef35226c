/*
 * LXD's API filter language for GET /1.0/images?filter=: clauses
 * "[not] FIELD eq|ne VALUE" joined by "and"/"or", evaluated left to right.
 * FIELD is a key of the image document or "properties.KEY"; string values
 * match as an anchored, case-insensitive regular expression (LXD's rule,
 * in the linear-time subset of frontend/pattern.h; a value outside it is
 * compared as text), other values by their text. Bounded: 32 clauses,
 * 256-byte values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontend/fe.h"
#include "frontend/pattern.h"

struct clause {
	int is_or;  /* joined to the previous result with "or" */
	int is_not; /* "not FIELD ..." */
	int ne;
	char field[128];
	char value[LIM_FILTER_VALUE + 1];
	int has_re;
	struct pattern re;
};

struct filter {
	struct clause c[LIM_FILTER_CLAUSES];
	int n;
};

/* Next whitespace-separated token; a double-quoted one may hold spaces. */
static int
token(const char **s, char *out, size_t len)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (n + 1 >= len)
				return -1;
			out[n++] = *p++;
		}
		if (*p != '"')
			return -1;
		p++;
	} else {
		while (*p && *p != ' ' && *p != '\t') {
			if (n + 1 >= len)
				return -1;
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	*s = p;
	return 1;
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	free(f);
}

/* LXD anchors a value with neither "^" nor "$" at both ends. */
static void
compile(struct clause *c)
{
	char pat[LIM_FILTER_VALUE + 8];

	if (strchr(c->value, '^') || strchr(c->value, '$'))
		snprintf(pat, sizeof(pat), "%s", c->value);
	else
		snprintf(pat, sizeof(pat), "^%s$", c->value);
	c->has_re = pattern_compile(&c->re, pat) == 0;
}

/* One clause at *s, its connective read by the caller ("and"/"or" in
 * tok for every clause but the first). 0, or -1 with err set. */
static int
clause_parse(const char **s, struct clause *c, int first,
    char tok[LIM_FILTER_VALUE + 1], char *err, size_t errlen)
{
	if (!first) {
		if (strcmp(tok, "and") && strcmp(tok, "or")) {
			snprintf(err, errlen,
			    "filter: expected \"and\" or \"or\", got \"%s\"",
			    tok);
			return -1;
		}
		c->is_or = strcmp(tok, "or") == 0;
		if (token(s, tok, LIM_FILTER_VALUE + 1) != 1) {
			snprintf(err, errlen, "filter: dangling \"%s\"",
			    c->is_or ? "or" : "and");
			return -1;
		}
	}
	if (strcasecmp(tok, "not") == 0) {
		c->is_not = 1;
		if (token(s, tok, LIM_FILTER_VALUE + 1) != 1)
			goto incomplete;
	}
	snprintf(c->field, sizeof(c->field), "%s", tok);
	if (token(s, tok, LIM_FILTER_VALUE + 1) != 1)
		goto incomplete;
	if (strcmp(tok, "eq") && strcmp(tok, "ne")) {
		snprintf(err, errlen,
		    "filter: unknown operator \"%s\" (eq or ne)", tok);
		return -1;
	}
	c->ne = strcmp(tok, "ne") == 0;
	if (token(s, tok, LIM_FILTER_VALUE + 1) != 1)
		goto incomplete;
	snprintf(c->value, sizeof(c->value), "%s", tok);
	compile(c);
	return 0;
incomplete:
	snprintf(err, errlen, "filter: incomplete clause");
	return -1;
}

struct filter *
filter_parse(const char *s, char *err, size_t errlen)
{
	struct filter *f = calloc(1, sizeof(*f));
	char tok[LIM_FILTER_VALUE + 1];
	int rc;

	if (f == NULL)
		return NULL;
	while ((rc = token(&s, tok, sizeof(tok))) == 1) {
		if (f->n == LIM_FILTER_CLAUSES) {
			snprintf(err, errlen, "filter: more than %d clauses",
			    LIM_FILTER_CLAUSES);
			goto fail;
		}
		if (clause_parse(
			&s, &f->c[f->n], f->n == 0, tok, err, errlen) == -1)
			goto fail;
		f->n++;
	}
	if (rc == -1) {
		snprintf(
		    err, errlen, "filter: value too long or quote not closed");
		goto fail;
	}
	return f;
fail:
	filter_free(f);
	return NULL;
}

static json_t *
lookup(json_t *doc, const char *field)
{
	const char *dot = strchr(field, '.');
	char head[128];

	if (dot == NULL)
		return json_object_get(doc, field);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - field), field);
	doc = json_object_get(doc, head);
	return json_is_object(doc) ? lookup(doc, dot + 1) : NULL;
}

static int
clause_match(const struct clause *c, json_t *doc)
{
	json_t *v = lookup(doc, c->field);
	char text[64];
	int m;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		m = c->has_re ? pattern_match(&c->re, s)
			      : strcasecmp(s, c->value) == 0;
	} else if (json_is_boolean(v)) {
		m = strcmp(c->value, json_is_true(v) ? "true" : "false") == 0;
	} else if (json_is_integer(v)) {
		snprintf(text, sizeof(text), "%lld",
		    (long long)json_integer_value(v));
		m = strcmp(c->value, text) == 0;
	} else
		m = 0;
	if (c->ne)
		m = !m;
	return c->is_not ? !m : m;
}

int
filter_match(const struct filter *f, json_t *doc)
{
	int match = 1;

	for (int i = 0; i < f->n; i++) {
		int m = clause_match(&f->c[i], doc);

		match = f->c[i].is_or ? (match || m) : (match && m);
	}
	return match;
}

/*
 * A condition the store can apply in its query, so that a sparse filter
 * does not send it the whole store: with no "or", every image the filter
 * keeps has each plain "properties.KEY eq VALUE" clause true, and for a
 * VALUE of letters, digits, '_' and '-' (a regex that is only itself,
 * anchored, ASCII case-insensitive) that is "property KEY equals VALUE but
 * for ASCII case", which is what the store checks. The first such clause,
 * or 0. The frontend still applies the whole filter to what comes.
 */
int
filter_narrowing(const struct filter *f, const char **key, const char **value)
{
	for (int i = 0; i < f->n; i++)
		if (f->c[i].is_or)
			return 0;
	for (int i = 0; i < f->n; i++) {
		const struct clause *c = &f->c[i];
		const char *k = c->field + strlen("properties."), *v;

		if (c->is_not || c->ne ||
		    strncmp(c->field, "properties.", strlen("properties.")) ||
		    *k == '\0' || strchr(k, '.') || c->value[0] == '\0')
			continue;
		for (v = c->value; *v; v++)
			if (!((*v >= 'a' && *v <= 'z') ||
				(*v >= 'A' && *v <= 'Z') ||
				(*v >= '0' && *v <= '9') || *v == '_' ||
				*v == '-'))
				break;
		if (*v != '\0')
			continue;
		*key = k;
		*value = c->value;
		return 1;
	}
	return 0;
}
