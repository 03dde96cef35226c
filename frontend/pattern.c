/*
 * Linear-time matching for filter values (see pattern.h). glibc's regcomp
 * can take minutes and gigabytes on a nested counted repetition; this
 * cannot: each text byte advances a set of at most PATTERN_MAX states.
 */
#include <ctype.h>
#include <string.h>

#include "frontend/pattern.h"

enum { PQ_ONE, PQ_OPT, PQ_STAR, PQ_PLUS };

static void
cls_set(uint8_t *cls, unsigned c)
{
	c = (unsigned)tolower((int)c);
	cls[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int
cls_has(const uint8_t *cls, unsigned c)
{
	c = (unsigned)tolower((int)c);
	return (cls[c >> 3] >> (c & 7)) & 1;
}

/* "[...]" at *s (after the '['): fills cls, moves *s past the ']'. */
static int
parse_class(const char **s, uint8_t *cls)
{
	const char *p = *s;
	uint8_t set[32] = {0};
	int neg = 0, first = 1;

	if (*p == '^') {
		neg = 1;
		p++;
	}
	for (; *p && (*p != ']' || first); first = 0) {
		unsigned lo = (unsigned char)*p++, hi = lo;

		if (lo == '\\' && *p)
			lo = hi = (unsigned char)*p++;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = (unsigned char)p[1];
			p += 2;
			if (hi == '\\' && *p)
				hi = (unsigned char)*p++;
			if (hi < lo)
				return -1;
		}
		for (unsigned c = lo; c <= hi; c++) {
			cls_set(set, c);
			cls_set(set, (unsigned)toupper((int)c));
		}
	}
	if (*p != ']')
		return -1;
	for (int i = 0; i < 32; i++)
		cls[i] = neg ? (uint8_t)~set[i] : set[i];
	if (neg)
		cls[0] &= (uint8_t)~1u; /* never NUL */
	*s = p + 1;
	return 0;
}

int
pattern_compile(struct pattern *p, const char *s)
{
	memset(p, 0, sizeof(*p));
	if (*s == '^') {
		p->anchor_start = 1;
		s++;
	}
	while (*s) {
		struct pattern_atom *a;

		if (s[0] == '$' && s[1] == '\0') {
			p->anchor_end = 1;
			break;
		}
		if (strchr("()|{}*+?$^", *s) || p->n == PATTERN_MAX)
			return -1;
		a = &p->atom[p->n++];
		if (*s == '.') {
			memset(a->cls, 0xff, sizeof(a->cls));
			a->cls[0] &= (uint8_t)~1u;
			s++;
		} else if (*s == '[') {
			s++;
			if (parse_class(&s, a->cls) == -1)
				return -1;
		} else {
			if (*s == '\\') {
				s++;
				if (*s == '\0' || isdigit((unsigned char)*s))
					return -1; /* dangling, back-ref */
			}
			cls_set(a->cls, (unsigned char)*s);
			s++;
		}
		if (*s == '*' || *s == '+' || *s == '?') {
			a->quant = *s == '*'   ? PQ_STAR
				   : *s == '+' ? PQ_PLUS
					       : PQ_OPT;
			s++;
		}
	}
	return 0;
}

/* Adds state i and what it reaches without input. */
static void
add(const struct pattern *p, uint8_t *set, int i)
{
	while (!set[i]) {
		set[i] = 1;
		if (i == p->n ||
		    (p->atom[i].quant != PQ_OPT && p->atom[i].quant != PQ_STAR))
			return;
		i++;
	}
}

int
pattern_match(const struct pattern *p, const char *text)
{
	uint8_t a[PATTERN_MAX + 1], b[PATTERN_MAX + 1];
	uint8_t *cur = a, *next = b, *tmp;
	const unsigned char *t = (const unsigned char *)text;

	memset(cur, 0, sizeof(a));
	add(p, cur, 0);
	for (;; t++) {
		if (cur[p->n] && (!p->anchor_end || *t == '\0'))
			return 1;
		if (*t == '\0')
			return 0;
		memset(next, 0, sizeof(b));
		for (int i = 0; i < p->n; i++) {
			const struct pattern_atom *at = &p->atom[i];

			if (!cur[i] || !cls_has(at->cls, *t))
				continue;
			if (at->quant == PQ_STAR || at->quant == PQ_PLUS)
				add(p, next, i);
			add(p, next, i + 1);
		}
		if (!p->anchor_start)
			add(p, next, 0);
		tmp = cur;
		cur = next;
		next = tmp;
	}
}
