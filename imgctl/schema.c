/*
 * Go's JSON writer, for answers normalized through lxc's struct layout
 * (policy/lxdapi.c).
 */
#include <stdlib.h>
#include <string.h>

#include "imgctl/fmt.h"
#include "imgctl/schema.h"

/* Length of the UTF-8 sequence at s, 0 if it is not valid UTF-8. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

void
gojson_string(FILE *f, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	putc('"', f);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
			continue;
		}
		if (*s < 0x20 || *s == '<' || *s == '>' || *s == '&') {
			if (*s == '\n' || *s == '\r' || *s == '\t')
				fprintf(f, "\\%c",
				    *s == '\n'	 ? 'n'
				    : *s == '\r' ? 'r'
						 : 't');
			else
				fprintf(f, "\\u00%c%c", hex[*s >> 4],
				    hex[*s & 0xf]);
			s++;
			continue;
		}
		if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", f);
			s++;
		} else if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
			   (s[2] == 0xa8 || s[2] == 0xa9)) {
			/* U+2028, U+2029: escaped for JavaScript. */
			fprintf(f, "\\u202%c", s[2] == 0xa8 ? '8' : '9');
			s += 3;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	putc('"', f);
}

static void
gojson_value(FILE *f, const json_t *v)
{
	void *it;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		putc('{', f);
		for (it = json_object_iter((json_t *)v); it != NULL;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (it != json_object_iter((json_t *)v))
				putc(',', f);
			gojson_string(f, json_object_iter_key(it));
			putc(':', f);
			gojson_value(f, json_object_iter_value(it));
		}
		putc('}', f);
		break;
	case JSON_ARRAY:
		putc('[', f);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				putc(',', f);
			gojson_value(f, json_array_get(v, i));
		}
		putc(']', f);
		break;
	case JSON_STRING:
		gojson_string(f, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	default: /* normalized values hold no reals */
		fputs("null", f);
		break;
	}
}

int
gojson_write(FILE *f, const json_t *v)
{
	gojson_value(f, v);
	putc('\n', f);
	return ferror(f) ? -1 : 0;
}
