/*
 * tpl memory: a bump allocator with marks (the parse tree lives in one,
 * a render's values in another, released after each statement), bounded
 * byte buffers and the "NAME:LINE:COL: message" error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_int.h"

#define CHUNK_MIN (64 * 1024)

struct arena_chunk {
	struct arena_chunk *prev;
	size_t size, off;
	max_align_t data[];
};

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t sz;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (a->max != 0 && (n > a->max || a->used > a->max - n))
		return NULL;
	if (c == NULL || c->size - c->off < n) {
		sz = n > CHUNK_MIN ? n : CHUNK_MIN;
		if ((c = malloc(sizeof(*c) + sz)) == NULL)
			return NULL;
		c->prev = a->head;
		c->size = sz;
		c->off = 0;
		a->head = c;
	}
	p = (char *)c->data + c->off;
	c->off += n;
	a->used += n;
	return p;
}

void
arena_mark(struct arena *a, struct arena_mark *m)
{
	m->chunk = a->head;
	m->off = a->head != NULL ? a->head->off : 0;
	m->used = a->used;
}

/* Frees everything allocated since the mark. */
void
arena_release(struct arena *a, const struct arena_mark *m)
{
	struct arena_chunk *c;

	while (a->head != NULL && a->head != m->chunk) {
		c = a->head;
		a->head = c->prev;
		free(c);
	}
	if (a->head != NULL)
		a->head->off = m->off;
	a->used = m->used;
}

void
arena_free(struct arena *a)
{
	struct arena_mark m = { NULL, 0, 0 };

	arena_release(a, &m);
}

void
sb_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
sb_put(struct sbuf *b, const void *p, size_t n)
{
	size_t cap;
	char *np;

	if (b->over || n == 0)
		return;
	if (n > b->max || b->n > b->max - n) {
		b->over = 1;
		return;
	}
	if (b->cap - b->n < n + 1) {
		cap = b->cap ? b->cap : 256;
		while (cap - b->n < n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->over = 2;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
sb_putc(struct sbuf *b, int c)
{
	char ch = (char)c;

	sb_put(b, &ch, 1);
}

/* Writes r in UTF-8; invalid runes as U+FFFD, as Go does. */
void
sb_rune(struct sbuf *b, uint32_t r)
{
	unsigned char s[4];

	if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = RUNE_ERROR;
	if (r < 0x80) {
		s[0] = (unsigned char)r;
		sb_put(b, s, 1);
	} else if (r < 0x800) {
		s[0] = (unsigned char)(0xC0 | r >> 6);
		s[1] = (unsigned char)(0x80 | (r & 0x3F));
		sb_put(b, s, 2);
	} else if (r < 0x10000) {
		s[0] = (unsigned char)(0xE0 | r >> 12);
		s[1] = (unsigned char)(0x80 | (r >> 6 & 0x3F));
		s[2] = (unsigned char)(0x80 | (r & 0x3F));
		sb_put(b, s, 3);
	} else {
		s[0] = (unsigned char)(0xF0 | r >> 18);
		s[1] = (unsigned char)(0x80 | (r >> 12 & 0x3F));
		s[2] = (unsigned char)(0x80 | (r >> 6 & 0x3F));
		s[3] = (unsigned char)(0x80 | (r & 0x3F));
		sb_put(b, s, 4);
	}
}

void
sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The first error wins: later ones are consequences. */
void
tpl_errf(struct tpl_err *e, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	char *c;
	int n;

	if (e->set)
		return;
	e->set = 1;
	if (e->len == 0)
		return;
	n = snprintf(e->buf, e->len, "%s:%u:%u: ", e->name, line, col);
	if (n < 0 || (size_t)n >= e->len)
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
	va_end(ap);
	/* One line, whatever the template held. */
	for (c = e->buf; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}
