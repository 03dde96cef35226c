/*
 * The event layer of the metadata.yaml parser. libyaml's document loader
 * would expand aliases (a "billion laughs" bomb) and keep the whole tree;
 * events let us refuse anchors, aliases, tags and merge keys where they
 * appear and bound nesting before libyaml allocates for it.
 */
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/limits.h"
#include "policy/msg.h"
#include "policy/yp.h"

/* A key seen in a mapping, for the duplicate check. */
struct ykey {
	size_t len;
	char s[];
};

static int
ykey_cmp(const void *a, const void *b)
{
	const struct ykey *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

int
yp_init(struct yp *y, const char *doc, const void *buf, size_t len, char *err,
    size_t errlen)
{
	memset(y, 0, sizeof(*y));
	y->err = err;
	y->errlen = errlen;
	if (doc != NULL)
		snprintf(y->prefix, sizeof(y->prefix), "%s: ", doc);
	if (!yaml_parser_initialize(&y->parser)) {
		msg_set(err, errlen, "%sout of memory", y->prefix);
		return -1;
	}
	/* UTF-8 only: no UTF-16 guessing from a byte order mark. */
	yaml_parser_set_encoding(&y->parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&y->parser, buf, len);
	return 0;
}

void
yp_free(struct yp *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	y->have_ev = 0;
	yaml_parser_delete(&y->parser);
}

static size_t
yp_line(const struct yp *y)
{
	return y->have_ev ? y->ev.start_mark.line + 1 : 0;
}

int
yp_fail(struct yp *y, const char *fmt, ...)
{
	char msg[LIM_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (y->columns && y->have_ev)
		msg_set(y->err, y->errlen, "%sline %zu, column %zu: %s",
		    y->prefix, yp_line(y), y->ev.start_mark.column + 1, msg);
	else
		msg_set(y->err, y->errlen, "%sline %zu: %s", y->prefix,
		    yp_line(y), msg);
	return -1;
}

static int
yp_syntax(struct yp *y)
{
	const yaml_parser_t *p = &y->parser;
	char q[MSG_QUOTE_MAX];

	if (p->error == YAML_MEMORY_ERROR) {
		msg_set(y->err, y->errlen, "%sout of memory", y->prefix);
		return -1;
	}
	msg_quote(q, sizeof(q), p->problem ? p->problem : "syntax error",
	    p->problem ? strlen(p->problem) : 12);
	/* The reader (encoding) has only an offset, the scanner a line. */
	if (p->error == YAML_READER_ERROR)
		msg_set(y->err, y->errlen, "%sbyte %zu: %s", y->prefix,
		    p->problem_offset, q);
	else if (y->columns)
		msg_set(y->err, y->errlen, "%sline %zu, column %zu: %s",
		    y->prefix, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, q);
	else
		msg_set(y->err, y->errlen, "%sline %zu: %s", y->prefix,
		    p->problem_mark.line + 1, q);
	return -1;
}

/* The restrictions that apply to any event, whatever it means. */
static int
yp_check(struct yp *y)
{
	const yaml_event_t *e = &y->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (e->type) {
	case YAML_ALIAS_EVENT:
		return yp_fail(y, "YAML aliases are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = e->data.scalar.anchor;
		tag = e->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = e->data.sequence_start.anchor;
		tag = e->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = e->data.mapping_start.anchor;
		tag = e->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		y->depth--;
		return 0;
	default:
		return 0;
	}
	if (anchor != NULL)
		return yp_fail(y, "YAML anchors are not allowed");
	if (tag != NULL)
		return yp_fail(y, "explicit YAML tags are not allowed");
	if (e->type != YAML_SCALAR_EVENT && ++y->depth > LIM_META_DEPTH_MAX)
		return yp_fail(
		    y, "nested deeper than %d levels", LIM_META_DEPTH_MAX);
	return 0;
}

int
yp_next(struct yp *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	y->have_ev = 0;
	if (!yaml_parser_parse(&y->parser, &y->ev))
		return yp_syntax(y);
	y->have_ev = 1;
	return yp_check(y);
}

static int
yp_expect(struct yp *y, yaml_event_type_t type, const char *what)
{
	if (yp_next(y) == -1)
		return -1;
	if (y->ev.type != type)
		return yp_fail(y, "%s", what);
	return 0;
}

int
yp_skip(struct yp *y)
{
	switch (y->ev.type) {
	case YAML_SCALAR_EVENT:
		return 0;
	case YAML_MAPPING_START_EVENT:
		return yp_mapping(y, "value", NULL, NULL);
	case YAML_SEQUENCE_START_EVENT:
		for (;;) {
			if (yp_next(y) == -1)
				return -1;
			if (y->ev.type == YAML_SEQUENCE_END_EVENT)
				return 0;
			if (yp_skip(y) == -1)
				return -1;
		}
	default:
		return yp_fail(y, "unexpected YAML event");
	}
}

/* Records key in the mapping's set: -1 if it is there already. */
static int
yp_key_add(struct yp *y, void **set, struct ykey **out)
{
	const char *s = (const char *)y->ev.data.scalar.value;
	size_t len = y->ev.data.scalar.length;
	struct ykey *k = NULL;
	void *slot;
	char q[MSG_QUOTE_MAX];

	if ((k = malloc(sizeof(*k) + len + 1)) == NULL) {
		msg_set(y->err, y->errlen, "%sout of memory", y->prefix);
		return -1;
	}
	k->len = len;
	memcpy(k->s, s, len);
	k->s[len] = '\0';
	if ((slot = tsearch(k, set, ykey_cmp)) == NULL) {
		free(k);
		msg_set(y->err, y->errlen, "%sout of memory", y->prefix);
		return -1;
	}
	if (*(struct ykey **)slot != k) {
		free(k);
		return yp_fail(
		    y, "duplicate key \"%s\"", msg_quote(q, sizeof(q), s, len));
	}
	*out = k;
	return 0;
}

static int
yp_key(struct yp *y, const char *what, void **set, struct ykey **k)
{
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yp_fail(y, "%s: keys must be strings", what);
	if (y->ev.data.scalar.length == 2 &&
	    memcmp(y->ev.data.scalar.value, "<<", 2) == 0)
		return yp_fail(y, "YAML merge keys are not allowed");
	return yp_key_add(y, set, k);
}

int
yp_mapping(struct yp *y, const char *what, yp_keyfn fn, void *arg)
{
	void *set = NULL;
	struct ykey *k = NULL;
	int rc = -1;

	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yp_fail(y, "%s must be a mapping", what);
	for (;;) {
		if (yp_next(y) == -1)
			break;
		if (y->ev.type == YAML_MAPPING_END_EVENT) {
			rc = 0;
			break;
		}
		if (yp_key(y, what, &set, &k) == -1 || yp_next(y) == -1)
			break;
		if ((fn != NULL ? fn(y, k->s, k->len, arg) : yp_skip(y)) == -1)
			break;
	}
	if (set != NULL)
		tdestroy(set, free);
	return rc;
}

int
yp_document(struct yp *y, yp_keyfn fn, void *arg)
{
	if (yp_expect(y, YAML_STREAM_START_EVENT, "no YAML stream") == -1 ||
	    yp_next(y) == -1)
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return yp_fail(y, "empty document");
	if (y->ev.type != YAML_DOCUMENT_START_EVENT || yp_next(y) == -1 ||
	    yp_mapping(y, "the top level", fn, arg) == -1 ||
	    yp_expect(y, YAML_DOCUMENT_END_EVENT, "expected a document end") ==
		-1)
		return -1;
	if (yp_next(y) == -1)
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return yp_fail(y, "only one YAML document is allowed");
	return 0;
}

int
yp_is_plain(const struct yp *y)
{
	return y->ev.type == YAML_SCALAR_EVENT &&
	       y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1 null: an empty plain scalar, "~" or "null" in three cases. */
int
yp_is_null(const struct yp *y)
{
	static const char *nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (!yp_is_plain(y))
		return 0;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (yp_key_is((const char *)y->ev.data.scalar.value,
			y->ev.data.scalar.length, nulls[i]))
			return 1;
	return 0;
}

int
yp_scalar(struct yp *y, const char *what, const char **s, size_t *len)
{
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yp_fail(y, "%s must be a string", what);
	*s = (const char *)y->ev.data.scalar.value;
	*len = y->ev.data.scalar.length;
	return 0;
}

/* A plain decimal integer, as LXD's int64 fields hold. */
int
yp_int64(struct yp *y, const char *what, int64_t *v)
{
	const char *s;
	size_t len, i;
	long long n;
	char *end;

	if (!yp_is_plain(y))
		return yp_fail(y, "%s must be an integer", what);
	s = (const char *)y->ev.data.scalar.value;
	len = y->ev.data.scalar.length;
	i = len > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
	if (i == len)
		return yp_fail(y, "%s must be an integer", what);
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return yp_fail(y, "%s must be an integer", what);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end != s + len)
		return yp_fail(y, "%s is out of range", what);
	*v = (int64_t)n;
	return 0;
}

/* The YAML 1.1 booleans that LXD's YAML library accepts. */
int
yp_bool(struct yp *y, const char *what, int *v)
{
	static const char *yes[] = {"y", "Y", "yes", "Yes", "YES", "true",
	    "True", "TRUE", "on", "On", "ON"};
	static const char *no[] = {"n", "N", "no", "No", "NO", "false", "False",
	    "FALSE", "off", "Off", "OFF"};
	const char *s;
	size_t len, i;

	if (yp_is_plain(y)) {
		s = (const char *)y->ev.data.scalar.value;
		len = y->ev.data.scalar.length;
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (yp_key_is(s, len, yes[i])) {
				*v = 1;
				return 0;
			}
			if (yp_key_is(s, len, no[i])) {
				*v = 0;
				return 0;
			}
		}
	}
	return yp_fail(y, "%s must be true or false", what);
}

int
yp_key_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}
