/*
 * A JSON text writer for the documents the frontend streams in lists:
 * appends to a growing buffer, in jansson's compact encoding (the same
 * bytes json_dumps(JSON_COMPACT) writes for the same document; the unit
 * test compares them), without a tree per document.
 */
#ifndef IMGD_FRONTEND_JW_H
#define IMGD_FRONTEND_JW_H

#include <stddef.h>
#include <stdint.h>

struct jw {
	char *p;
	size_t len, cap;
};

void jw_raw(struct jw *w, const char *s, size_t n);
void jw_lit(struct jw *w, const char *s); /* raw text */
void jw_str(struct jw *w, const char *s); /* a quoted, escaped string */
void jw_key(struct jw *w, int comma, const char *k); /* [,]"k": */
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, int v);
void jw_reset(struct jw *w); /* empty, the memory kept */
void jw_free(struct jw *w);

#endif
