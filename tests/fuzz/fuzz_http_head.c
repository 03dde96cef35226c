/*
 * libFuzzer target for HTTP heads and request targets. Input: one byte
 * (bit 0: response instead of request; the rest picks a split point),
 * then the head. Checks that growing prefixes and a split give the whole
 * input's answer, then walks the fields and decodes the target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_head whole, part;

static ssize_t
parse(struct http_head *h, const char *buf, size_t len, int response)
{
	return response ? http_parse_response_head(h, buf, len)
			: http_parse_request_head(h, buf, len);
}

static void
check_same(ssize_t a, ssize_t b)
{
	if (a != b || whole.err.status != part.err.status ||
	    whole.err.reason != part.err.reason ||
	    (a > 0 && (whole.nfields != part.nfields ||
			  whole.content_length != part.content_length ||
			  whole.websocket != part.websocket ||
			  whole.used != part.used ||
			  memcmp(whole.buf, part.buf, whole.used) != 0)))
		abort();
}

static void
use_target(const char *target)
{
	static const int flags[] = {
	    0, HTTP_PATH_NO_SLASH, HTTP_PATH_NO_SLASH | HTTP_PATH_NO_DOTS};
	static const char *names[] = {"project", "recursion", ""};
	char out[LIM_HTTP_LINE_MAX + 1];
	const char *query;
	size_t n, i;

	http_target_split(target, &n, &query);
	for (i = 0; i < 3; i++)
		if (http_path_decode(target, n, out, sizeof(out), flags[i]) >
		    (ssize_t)n)
			abort();
	char key[LIM_HTTP_LINE_MAX + 1];

	for (i = 0; i < 3; i++)
		if (http_query_get(query, names[i], out, sizeof(out)) == 1 &&
		    strlen(out) > strlen(query))
			abort();
	while (query != NULL &&
	       http_query_next(&query, key, sizeof(key), out, sizeof(out)) == 1)
		if (strlen(key) + strlen(out) > strlen(target))
			abort();
}

static void
use_head(const struct http_head *h)
{
	char accept[WS_ACCEPT_LEN + 1];
	const char *name, *value;
	size_t i, j;

	for (i = 0; http_head_field(h, i, &name, &value) == 0; i++) {
		j = 0;
		if (http_head_next(h, name, &j) == NULL ||
		    http_head_count(h, name) == 0)
			abort();
		(void)http_list_has(value, "close");
	}
	if (h->websocket == HTTP_WS_OK &&
	    ws_accept(http_head_get(h, "Sec-WebSocket-Key"), accept) != 0)
		abort();
	if (h->status == 0)
		use_target(http_head_target(h));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len, k;
	ssize_t r, w;
	int response;

	if (size < 1 || size > HTTP_HEAD_MAX + 64)
		return 0;
	response = data[0] & 1;
	len = size - 1;
	http_head_init(&whole);
	w = parse(&whole, in, len, response);
	if (w > (ssize_t)len || (w == -1 && whole.err.reason == NULL))
		abort();
	if (w > 0)
		use_head(&whole);

	/* Growing one byte at a time. */
	http_head_init(&part);
	for (k = 0, r = 0; k <= len && r == 0; k++)
		r = parse(&part, in, k, response);
	check_same(w, r);

	/* Two calls, split where the first byte says. */
	k = (size_t)(data[0] >> 1) * len / 127;
	http_head_init(&part);
	r = parse(&part, in, k > len ? len : k, response);
	if (r == 0)
		r = parse(&part, in, len, response);
	check_same(w, r);
	return 0;
}
