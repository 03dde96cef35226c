/*
 * The regular expressions of LXD's filter values, in linear time: an NFA
 * simulation over a sequence of quantified atoms. Supported: literals,
 * "\x" escapes, ".", classes "[a-z]" and "[^...]", the quantifiers "*",
 * "+" and "?", and the anchors "^" and "$". Groups, alternation, counted
 * repetition and back-references are not: such a value is compared as
 * plain text. Matching is ASCII case-insensitive, as LXD's "(?i)".
 */
#ifndef IMGD_FRONTEND_PATTERN_H
#define IMGD_FRONTEND_PATTERN_H

#include <stdint.h>

#define PATTERN_MAX 256 /* atoms */

struct pattern_atom {
	uint8_t quant;	 /* PQ_* */
	uint8_t cls[32]; /* bytes the atom accepts */
};

struct pattern {
	int n;
	int anchor_start, anchor_end;
	struct pattern_atom atom[PATTERN_MAX];
};

/* 0, or -1 when s uses syntax outside the subset (or is too long). */
int pattern_compile(struct pattern *p, const char *s);
/* 1 if text matches. O(strlen(text) x atoms). */
int pattern_match(const struct pattern *p, const char *text);

#endif
