/*
 * Image filters (see filter.h). Regular expressions are POSIX extended
 * ones where lxc uses Go's RE2: the two agree on the usual syntax
 * (literals, ., *, +, ?, [], |, (), {}), not on Perl classes like \d.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/filter.h"
#include "imgctl/fmt.h"
#include "imgctl/schema.h"

int
filter_dot_prefix(const char *key, const char *name)
{
	size_t kl, nl;

	for (;;) {
		kl = strcspn(key, ".");
		nl = strcspn(name, ".");
		if (nl < kl || strncmp(name, key, kl) != 0)
			return 0;
		if (key[kl] == '\0' || name[nl] == '\0')
			return key[kl] == name[nl];
		key += kl + 1;
		name += nl + 1;
	}
}

static void
go_value(FILE *f, const json_t *v)
{
	char num[FMT_FLOAT_MAX];
	const char **keys;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), f);
		break;
	case JSON_INTEGER:
	case JSON_REAL: /* numbers decode as float64 */
		fmt_go_float(json_number_value(v), num, sizeof(num));
		fputs(num, f);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		fputs(json_is_true(v) ? "true" : "false", f);
		break;
	case JSON_ARRAY:
		putc('[', f);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				putc(' ', f);
			go_value(f, json_array_get(v, i));
		}
		putc(']', f);
		break;
	case JSON_OBJECT: /* fmt prints maps with sorted keys */
		if ((keys = sch_keys(v, sch_key_cmp)) == NULL)
			break;
		fputs("map[", f);
		for (i = 0; keys[i] != NULL; i++) {
			fprintf(f, "%s%s:", i > 0 ? " " : "", keys[i]);
			go_value(f, json_object_get(v, keys[i]));
		}
		putc(']', f);
		free(keys);
		break;
	default:
		fputs("<nil>", f);
		break;
	}
}

char *
filter_go_value(const json_t *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	go_value(f, v);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* value as an anchored regular expression, else as a plain string. */
static int
value_match(const char *value, const char *s)
{
	regex_t re;
	char *pat;
	size_t n = strlen(value);
	int r;

	if ((pat = malloc(n + 3)) == NULL)
		return 0;
	if (strpbrk(value, "^$") != NULL)
		memcpy(pat, value, n + 1);
	else
		snprintf(pat, n + 3, "^%s$", value);
	r = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
	free(pat);
	if (r != 0)
		return strcmp(value, s) == 0;
	r = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return r;
}

static int
filter_keyvalue(const json_t *img, const char *filter)
{
	const char *eq = strchr(filter, '='), *value = eq + 1;
	json_t *props = json_object_get(img, "properties"), *v;
	char *key, *s;
	void *it;
	int found = 0;

	if ((key = strndup(filter, (size_t)(eq - filter))) == NULL)
		return 0;
	for (it = json_object_iter(props); it != NULL && !found;
	     it = json_object_iter_next(props, it))
		found = filter_dot_prefix(key, json_object_iter_key(it)) &&
			value_match(value,
			    json_string_value(json_object_iter_value(it)));
	/* A field of the image, as lxc's structToMap() sees it. */
	if (!found && (v = json_object_get(img, key)) != NULL &&
	    (s = filter_go_value(v)) != NULL) {
		found = strcmp(s, value) == 0;
		free(s);
	}
	free(key);
	return found;
}

static int
filter_word(const json_t *img, const char *filter)
{
	json_t *aliases;
	size_t i;

	aliases = json_object_get(img, "aliases");
	for (i = 0; i < json_array_size(aliases); i++)
		if (strstr(json_string_value(json_object_get(
			       json_array_get(aliases, i), "name")),
			filter) != NULL)
			return 1;
	return strstr(json_string_value(json_object_get(img, "fingerprint")),
		   filter) != NULL;
}

int
filter_image(const json_t *img, char *const *filters, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strchr(filters[i], '=') != NULL
			? !filter_keyvalue(img, filters[i])
			: !filter_word(img, filters[i]))
			return 0;
	}
	return 1;
}
