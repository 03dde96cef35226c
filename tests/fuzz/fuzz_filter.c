/*
 * libFuzzer target for ?filter= (frontend/filter.c) and its linear-time
 * pattern subset (frontend/pattern.c). Input: the filter text, then after
 * the first NUL a text to match patterns against. Parsing must refuse or
 * compile, matching must end, and a compiled pattern must match the same
 * text the same way twice.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "frontend/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *doc;
	char *in = malloc(size + 1), err[256];
	const char *text;
	struct filter *f;
	static struct pattern p;

	if (in == NULL)
		return 0;
	if (doc == NULL)
		doc = json_pack("{s:s, s:b, s:s, s:{s:s, s:s}, s:i}",
		    "architecture", "x86_64", "public", 1, "type", "container",
		    "properties", "os", "Ubuntu", "description", "a b c",
		    "size", 42);
	memcpy(in, data, size);
	in[size] = '\0';
	text = in + strlen(in) + (strlen(in) < size ? 1 : 0);
	if ((f = filter_parse(in, err, sizeof(err))) != NULL) {
		int a = filter_match(f, doc), b = filter_match(f, doc);
		if (a != b)
			abort();
		filter_free(f);
	} else if (err[0] == '\0')
		abort(); /* a refusal says why */
	if (pattern_compile(&p, in) == 0 &&
	    pattern_match(&p, text) != pattern_match(&p, text))
		abort();
	free(in);
	return 0;
}
