/*
 * libFuzzer target: metadata.yaml parsing (meta_parse). Any input must
 * give 0 with a complete result or -1 with a one-line message, and never
 * leak, crash or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_meta m;
	char err[LIM_ERROR_MAX];
	size_t i;

	err[0] = '\0';
	if (meta_parse(data, size, &m, err, sizeof(err)) == 0) {
		if (m.architecture[0] == '\0' || m.creation_date == 0)
			abort();
		for (i = 0; i < m.nprops; i++)
			if (strlen(m.props[i].key) > LIM_PROP_KEY_MAX)
				abort();
		img_meta_free(&m);
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL ||
		   m.props != NULL || m.templates != NULL) {
		abort();
	}
	return 0;
}
