/*
 * libFuzzer target for request-target and query decoding: the path and
 * query of every request, and X-LXD-properties (the same form encoding,
 * read with http_query_next). Checks what the decoders promise: decoded
 * output fits, holds no control character, and a query key looked up
 * after iterating decodes the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[2048], k[512], v[4200], again[4200];
	const char *query, *cur;
	size_t pathlen;
	ssize_t n;
	int rc;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	http_target_split(in, &pathlen, &query);
	if (pathlen > strlen(in))
		abort();
	for (int flags = 0; flags < 4; flags++) {
		n = http_path_decode(in, pathlen, out, sizeof(out), flags);
		if (n >= 0) {
			if ((size_t)n != strlen(out) || (size_t)n >= sizeof(out))
				abort();
			for (ssize_t i = 0; i < n; i++)
				if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
					abort();
		}
	}
	cur = query ? query : in;
	while ((rc = http_query_next(&cur, k, sizeof(k), v, sizeof(v))) == 1) {
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		/* A key seen once is found again with the same value. */
		if (query && *k &&
		    http_query_get(query, k, again, sizeof(again)) == 1 &&
		    strcmp(again, v) != 0)
			abort();
	}
	if (rc != 0 && rc != -1)
		abort();
	free(in);
	return 0;
}
