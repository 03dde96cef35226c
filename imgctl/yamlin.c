/*
 * Decoding "image edit" YAML with libyaml's event parser. Values follow
 * yaml.v2's rules for lxc's api.ImagePut: booleans are the plain YAML 1.1
 * words (true, yes, on, ...), a string field takes the text of any scalar
 * ("1.0" stays "1.0"), a null leaves Go's zero value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "imgctl/fmt.h"
#include "imgctl/yamlin.h"

struct yin {
	yaml_parser_t p;
	yaml_event_t ev;
	int have; /* ev holds an event to delete */
	char *err;
	size_t errlen;
};

static int yin_fail(struct yin *y, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
yin_fail(struct yin *y, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(y->err, y->errlen, "line %zu: ",
	    y->have ? y->ev.start_mark.line + 1 : y->p.problem_mark.line + 1);
	if (n >= y->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(y->err + n, y->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next event; anchors, aliases and tags are refused. */
static int
yin_next(struct yin *y)
{
	yaml_char_t *anchor = NULL, *tag = NULL;

	if (y->have)
		yaml_event_delete(&y->ev);
	y->have = 0;
	if (!yaml_parser_parse(&y->p, &y->ev))
		return yin_fail(
		    y, "%s", y->p.problem ? y->p.problem : "invalid YAML");
	y->have = 1;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return yin_fail(y, "YAML aliases (*%s) are not accepted",
		    (char *)y->ev.data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = y->ev.data.scalar.anchor;
		tag = y->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = y->ev.data.sequence_start.anchor;
		tag = y->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = y->ev.data.mapping_start.anchor;
		tag = y->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return yin_fail(
		    y, "YAML anchors (&%s) are not accepted", (char *)anchor);
	if (tag != NULL)
		return yin_fail(
		    y, "YAML tags (%s) are not accepted", (char *)tag);
	return 0;
}

static const char *
yin_text(const struct yin *y)
{
	return (const char *)y->ev.data.scalar.value;
}

/* A plain ~, null or nothing: the field keeps its zero value. */
static int
yin_null(const struct yin *y)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (y->ev.type != YAML_SCALAR_EVENT ||
	    y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(yin_text(y), nulls[i]) == 0)
			return 1;
	return 0;
}

/* A scalar read into a Go string: its text, "" for null. */
static json_t *
yin_string(struct yin *y, const char *what)
{
	json_t *s;

	if (y->ev.type != YAML_SCALAR_EVENT) {
		yin_fail(y, "%s must be a string", what);
		return NULL;
	}
	if ((s = json_string(yin_null(y) ? "" : yin_text(y))) == NULL)
		yin_fail(y, "out of memory");
	return s;
}

static json_t *
yin_bool(struct yin *y, const char *name)
{
	static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "true",
	    "True", "TRUE", "on", "On", "ON"};
	static const char *const no[] = {"n", "N", "no", "No", "NO", "false",
	    "False", "FALSE", "off", "Off", "OFF"};
	size_t i;

	if (yin_null(y))
		return json_false();
	if (y->ev.type == YAML_SCALAR_EVENT &&
	    y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(yin_text(y), yes[i]) == 0)
				return json_true();
			if (strcmp(yin_text(y), no[i]) == 0)
				return json_false();
		}
	yin_fail(y, "%s must be true or false", name);
	return NULL;
}

static json_t *
yin_time(struct yin *y)
{
	char buf[TS_STR_MAX];
	struct ts t;

	if (yin_null(y))
		ts_zero(&t);
	else if (y->ev.type != YAML_SCALAR_EVENT ||
		 ts_parse(yin_text(y), &t) == -1) {
		yin_fail(y, "expires_at must be a timestamp like "
			    "2006-01-02T15:04:05Z");
		return NULL;
	}
	ts_rfc3339(&t, buf);
	return json_string(buf);
}

static json_t *
yin_properties(struct yin *y)
{
	json_t *m, *v;
	char *key;

	if (yin_null(y))
		return json_null();
	if (y->ev.type != YAML_MAPPING_START_EVENT) {
		yin_fail(y, "properties must be a mapping of names to values");
		return NULL;
	}
	if ((m = json_object()) == NULL) {
		yin_fail(y, "out of memory");
		return NULL;
	}
	for (;;) {
		if (yin_next(y) == -1)
			break;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return m;
		if ((v = yin_string(y, "a property name")) == NULL)
			break;
		key = strdup(json_string_value(v));
		json_decref(v);
		if (key == NULL) {
			yin_fail(y, "out of memory");
			break;
		}
		if (json_object_get(m, key) != NULL) {
			yin_fail(y, "property \"%s\" is given twice", key);
			free(key);
			break;
		}
		if (yin_next(y) == -1 ||
		    (v = yin_string(y, "a property value")) == NULL) {
			free(key);
			break;
		}
		json_object_set_new(m, key, v);
		free(key);
	}
	json_decref(m);
	return NULL;
}

static json_t *
yin_profiles(struct yin *y)
{
	json_t *l, *v;

	if (yin_null(y))
		return json_null();
	if (y->ev.type != YAML_SEQUENCE_START_EVENT) {
		yin_fail(y, "profiles must be a list of names");
		return NULL;
	}
	if ((l = json_array()) == NULL) {
		yin_fail(y, "out of memory");
		return NULL;
	}
	for (;;) {
		if (yin_next(y) == -1)
			break;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return l;
		if ((v = yin_string(y, "a profile name")) == NULL)
			break;
		json_array_append_new(l, v);
	}
	json_decref(l);
	return NULL;
}

static const char *const yin_fields[] = {
    "auto_update", "properties", "public", "expires_at", "profiles"};
#define YIN_NFIELDS (sizeof(yin_fields) / sizeof(yin_fields[0]))

/* One "field: value" of the top mapping, the key's event current. */
static int
yin_field(struct yin *y, json_t *put, unsigned int *seen)
{
	json_t *v = NULL;
	size_t i;

	if (y->ev.type != YAML_SCALAR_EVENT)
		return yin_fail(y, "expected a field name");
	for (i = 0; i < YIN_NFIELDS; i++)
		if (strcmp(yin_text(y), yin_fields[i]) == 0)
			break;
	if (i == YIN_NFIELDS)
		return yin_fail(y,
		    "unknown field \"%s\" (the fields are "
		    "auto_update, properties, public, "
		    "expires_at and profiles)",
		    yin_text(y));
	if (*seen & (1u << i))
		return yin_fail(
		    y, "field \"%s\" is given twice", yin_fields[i]);
	*seen |= 1u << i;
	if (yin_next(y) == -1)
		return -1;
	switch (i) {
	case 0:
	case 2:
		v = yin_bool(y, yin_fields[i]);
		break;
	case 1:
		v = yin_properties(y);
		break;
	case 3:
		v = yin_time(y);
		break;
	default:
		v = yin_profiles(y);
		break;
	}
	if (v == NULL)
		return -1;
	json_object_set_new(put, yin_fields[i], v);
	return 0;
}

static int
yin_doc(struct yin *y, json_t *put)
{
	unsigned int seen = 0;

	/* STREAM-START, then DOCUMENT-START unless there is nothing. */
	if (yin_next(y) == -1 || yin_next(y) == -1)
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT || yin_next(y) == -1 ||
	    yin_null(y))
		return *y->err ? -1 : yin_fail(y, "the YAML is empty");
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yin_fail(y, "expected a mapping of image fields "
				   "(auto_update, properties, ...)");
	for (;;) {
		if (yin_next(y) == -1)
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (yin_field(y, put, &seen) == -1)
			return -1;
	}
	if (yin_next(y) == -1 || yin_next(y) == -1)
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return yin_fail(y, "only one YAML document is accepted");
	return 0;
}

int
yin_image_put(
    const char *buf, size_t len, json_t **put, char *err, size_t errlen)
{
	struct yin y;
	int rc;

	memset(&y, 0, sizeof(y));
	y.err = err;
	y.errlen = errlen;
	*err = '\0';
	*put = json_pack("{s:b, s:n, s:b, s:s, s:n}", "auto_update", 0,
	    "properties", "public", 0, "expires_at", "0001-01-01T00:00:00Z",
	    "profiles");
	if (*put == NULL || !yaml_parser_initialize(&y.p)) {
		snprintf(err, errlen, "out of memory");
		json_decref(*put);
		*put = NULL;
		return -1;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	rc = yin_doc(&y, *put);
	if (y.have)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.p);
	if (rc == -1) {
		json_decref(*put);
		*put = NULL;
	}
	return rc;
}
