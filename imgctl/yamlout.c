/*
 * YAML output through libyaml, with yaml.v2's rules for quoting strings
 * (resolve.go, encode.go stringv) and ordering map keys (sorter.go).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <yaml.h>

#include "imgctl/fmt.h"
#include "imgctl/yamlout.h"

/* The plain scalars yaml.v2 reads as bool, null or float. */
static const char *const yv2_special[] = {"y", "Y", "yes", "Yes", "YES", "true",
    "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No", "NO", "false",
    "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL",
    ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
    "-.inf", "-.Inf", "-.INF"};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's strconv.ParseInt(s, 0, 64), else ParseUint(s, 0, 64), succeeds. */
static int
go_int(const char *s)
{
	uint64_t v = 0, base = 10, d;
	int sign = 0, neg = 0;

	if (*s == '+' || *s == '-') {
		sign = 1;
		neg = *s++ == '-';
	}
	if (*s == '\0')
		return 0;
	if (s[0] == '0') {
		int l = tolower((unsigned char)s[1]);

		if (strlen(s) >= 3 && (l == 'b' || l == 'o' || l == 'x')) {
			base = l == 'b' ? 2 : l == 'o' ? 8 : 16;
			s += 2;
		} else {
			base = 8;
			s++;
		}
	}
	for (; *s != '\0'; s++) {
		if (is_digit(*s))
			d = (uint64_t)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (uint64_t)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return 0;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return 0;
		v = v * base + d;
	}
	if (!sign)
		return 1;
	return neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, not overflowing. */
static int
yaml_float(const char *s)
{
	const char *p = s;
	int n = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		for (p++; is_digit(*p); p++)
			n++;
	} else {
		for (; is_digit(*p); p++)
			n++;
		if (n > 0 && *p == '.')
			for (p++; is_digit(*p); p++)
				;
	}
	if (n == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		for (n = 0; is_digit(*p); p++)
			n++;
		if (n == 0)
			return 0;
	}
	/* ParseFloat fails on overflow; then yaml.v2 keeps the string. */
	return *p == '\0' && !isinf(strtod(s, NULL));
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static int
base60_float(const char *p)
{
	int groups = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (!is_digit(*p))
		return 0;
	while (is_digit(*p) || *p == '_')
		p++;
	while (*p == ':') {
		p++;
		if (is_digit(p[0]) && p[0] <= '5' && is_digit(p[1]))
			p += 2;
		else if (is_digit(p[0]))
			p++;
		else
			return 0;
		groups++;
	}
	if (groups == 0)
		return 0;
	if (*p == '.')
		for (p++; is_digit(*p) || *p == '_'; p++)
			;
	return *p == '\0';
}

/* resolve("", s) in yaml.v2 gives !!str. */
static int
yv2_resolves_str(const char *s)
{
	struct ts t;
	char *plain, *o;
	const char *p;
	size_t i;
	int r;

	/* The first byte hints at another type; the rest are strings. */
	if (*s != '\0' && strchr("+-0123456789yYnNtTfFoO~.", *s) == NULL)
		return 1;
	for (i = 0; i < sizeof(yv2_special) / sizeof(yv2_special[0]); i++)
		if (strcmp(s, yv2_special[i]) == 0)
			return 0;
	if (s[0] == '.')
		return !yaml_float(s);
	if (s[0] != '+' && s[0] != '-' && !is_digit(s[0]))
		return 1; /* yYnNtTfFoO~: only the words above */
	/* parseTimestamp: only strings that start "YYYY-". */
	if (strlen(s) > 4 && is_digit(s[0]) && is_digit(s[1]) &&
	    is_digit(s[2]) && is_digit(s[3]) && s[4] == '-' &&
	    ts_parse(s, &t) == 0)
		return 0;
	if ((plain = malloc(strlen(s) + 1)) == NULL)
		return 0;
	for (p = s, o = plain; *p != '\0'; p++)
		if (*p != '_')
			*o++ = *p;
	*o = '\0';
	r = !go_int(plain) && !yaml_float(plain);
	free(plain);
	return r;
}

int
yv2_plain_ok(const char *s)
{
	return yv2_resolves_str(s) && !base60_float(s);
}

/* Decode UTF-8 into code points; invalid bytes stand for themselves. */
static size_t
runes(const char *s, uint32_t **out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, len, i;
	uint32_t c;

	if ((*out = calloc(strlen(s) + 1, sizeof(**out))) == NULL)
		return 0;
	while (*p != '\0') {
		c = *p;
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (len > 1)
			c &= 0x3f >> (len - 1);
		for (i = 1; i < len && (p[i] & 0xc0) == 0x80; i++)
			c = c << 6 | (p[i] & 0x3f);
		if (i < len) {
			c = *p;
			len = 1;
		}
		(*out)[n++] = c;
		p += len;
	}
	return n;
}

static int
rune_letter(uint32_t c)
{
	if (c < 0x80)
		return isalpha((int)c) != 0;
	return iswalpha((wint_t)c) != 0;
}

static int
rune_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

/* keyList.Less for two strings: letters before digits, numbers by value. */
static int
key_less(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	uint64_t an, bn;
	size_t i, ai, bi, j;

	for (i = 0; i < na && i < nb; i++) {
		if (a[i] == b[i])
			continue;
		if (rune_letter(a[i]) && rune_letter(b[i]))
			return a[i] < b[i];
		if (rune_letter(a[i]) || rune_letter(b[i]))
			return rune_letter(b[i]);
		an = bn = 0;
		if (a[i] == '0' || b[i] == '0') {
			for (j = i; j-- > 0 && rune_digit(a[j]);)
				if (a[j] != '0') {
					an = bn = 1;
					break;
				}
		}
		for (ai = i; ai < na && rune_digit(a[ai]); ai++)
			an = an * 10 + (a[ai] - '0');
		for (bi = i; bi < nb && rune_digit(b[bi]); bi++)
			bn = bn * 10 + (b[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return a[i] < b[i];
	}
	return na < nb;
}

int
yv2_key_less(const char *a, const char *b)
{
	uint32_t *ra, *rb;
	size_t na, nb;
	int r;

	na = runes(a, &ra);
	nb = runes(b, &rb);
	r = ra && rb && key_less(ra, na, rb, nb);
	free(ra);
	free(rb);
	return r;
}

static int
key_cmp(const void *pa, const void *pb)
{
	const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;

	if (yv2_key_less(a, b))
		return -1;
	return yv2_key_less(b, a);
}

struct yout {
	yaml_emitter_t em;
	yaml_event_t ev;
	int err;
};

static void
y_emit(struct yout *y, int ok)
{
	if (!ok || y->err || !yaml_emitter_emit(&y->em, &y->ev))
		y->err = 1;
}

static void
y_scalar(struct yout *y, const char *s, yaml_scalar_style_t style)
{
	y_emit(y, yaml_scalar_event_initialize(&y->ev, NULL, NULL,
		      (yaml_char_t *)s, (int)strlen(s), 1, 1, style));
}

/* encode.go stringv(): literal if multi-line, else plain or quoted. */
static void
y_string(struct yout *y, const char *s)
{
	yaml_scalar_style_t st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;

	if (strchr(s, '\n') != NULL)
		st = YAML_LITERAL_SCALAR_STYLE;
	else if (yv2_plain_ok(s))
		st = YAML_PLAIN_SCALAR_STYLE;
	y_scalar(y, s, st);
}

static void
y_map(struct yout *y, int start)
{
	if (start)
		y_emit(y, yaml_mapping_start_event_initialize(
			      &y->ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
	else
		y_emit(y, yaml_mapping_end_event_initialize(&y->ev));
}

static void
y_seq(struct yout *y, int start)
{
	if (start)
		y_emit(y, yaml_sequence_start_event_initialize(&y->ev, NULL,
			      NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
	else
		y_emit(y, yaml_sequence_end_event_initialize(&y->ev));
}

/* A map[string]string; nil is written as an empty map, as yaml.v2 does. */
static void
y_strmap(struct yout *y, const json_t *m)
{
	const char **keys;
	size_t i;

	y_map(y, 1);
	if ((keys = sch_keys(m, key_cmp)) == NULL) {
		y->err = 1;
		return;
	}
	for (i = 0; keys[i] != NULL; i++) {
		y_string(y, keys[i]);
		y_string(y, json_string_value(json_object_get(m, keys[i])));
	}
	free(keys);
	y_map(y, 0);
}

static void y_struct(struct yout *, const json_t *, const struct sch_field *);

static void
y_field(struct yout *y, const json_t *v, const struct sch_field *f)
{
	char num[32];
	size_t i;
	json_t *e;

	switch (f->type) {
	case SCH_BOOL:
		y_scalar(y, json_is_true(v) ? "true" : "false",
		    YAML_PLAIN_SCALAR_STYLE);
		break;
	case SCH_INT:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		y_scalar(y, num, YAML_PLAIN_SCALAR_STYLE);
		break;
	case SCH_STR:
		y_string(y, json_string_value(v) ? json_string_value(v) : "");
		break;
	case SCH_TIME: /* yaml.v2 writes time.Time plain, unquoted */
		y_scalar(y, json_string_value(v), YAML_PLAIN_SCALAR_STYLE);
		break;
	case SCH_STRMAP:
		y_strmap(y, v);
		break;
	case SCH_OBJ:
		if (json_is_object(v))
			y_struct(y, v, f->sub);
		else
			y_scalar(y, "null", YAML_PLAIN_SCALAR_STYLE);
		break;
	case SCH_STRLIST:
	case SCH_OBJLIST:
		y_seq(y, 1);
		for (i = 0; i < json_array_size(v); i++) {
			e = json_array_get(v, i);
			if (f->type == SCH_STRLIST)
				y_string(y, json_string_value(e));
			else
				y_struct(y, e, f->sub);
		}
		y_seq(y, 0);
		break;
	case SCH_INLINE: /* handled by y_fields() */
		break;
	}
}

static void
y_fields(struct yout *y, const json_t *obj, const struct sch_field *fields)
{
	const struct sch_field *f;
	json_t *v;

	for (f = fields; f->name != NULL; f++) {
		if (f->type == SCH_INLINE) {
			y_fields(y, obj, f->sub);
			continue;
		}
		if ((v = json_object_get(obj, f->name)) == NULL)
			continue; /* omitempty */
		y_string(y, f->name);
		y_field(y, v, f);
	}
}

static void
y_struct(struct yout *y, const json_t *obj, const struct sch_field *fields)
{
	y_map(y, 1);
	y_fields(y, obj, fields);
	y_map(y, 0);
}

static int
y_doc(FILE *out, const json_t *v, const struct sch_field *fields, int list)
{
	struct yout y;
	size_t i;

	memset(&y, 0, sizeof(y));
	if (!yaml_emitter_initialize(&y.em))
		return -1;
	yaml_emitter_set_output_file(&y.em, out);
	yaml_emitter_set_unicode(&y.em, 1);
	y_emit(
	    &y, yaml_stream_start_event_initialize(&y.ev, YAML_UTF8_ENCODING));
	y_emit(&y,
	    yaml_document_start_event_initialize(&y.ev, NULL, NULL, NULL, 1));
	if (list) {
		y_seq(&y, 1);
		for (i = 0; i < json_array_size(v); i++)
			y_struct(&y, json_array_get(v, i), fields);
		y_seq(&y, 0);
	} else
		y_struct(&y, v, fields);
	y_emit(&y, yaml_document_end_event_initialize(&y.ev, 1));
	/*
	 * yaml.v2 (encoder.finish) clears this so that a document ending in
	 * a "|+" block scalar is not followed by "...": so must we.
	 */
	y.em.open_ended = 0;
	y_emit(&y, yaml_stream_end_event_initialize(&y.ev));
	yaml_emitter_delete(&y.em);
	return y.err || ferror(out) ? -1 : 0;
}

int
yout_struct(FILE *out, const json_t *v, const struct sch_field *fields)
{
	return y_doc(out, v, fields, 0);
}

int
yout_list(FILE *out, const json_t *v, const struct sch_field *fields)
{
	return y_doc(out, v, fields, 1);
}
