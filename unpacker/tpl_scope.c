/*
 * tpl scopes. pongo2 keeps names set by set/with/for in a per-block copy of
 * its "private" context: a for or with block starts a scope, a set binds in
 * the innermost one, a lookup tries the scopes inside out and then LXD's
 * context. Without include or macro the scopes nest as the source does, so
 * each binding site gets a fixed slot of its scope and each name read gets,
 * at parse time, the list of slots that may hold it: a lookup is a few
 * array reads whatever the template holds.
 */
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_parse.h"

struct hent {
	uint64_t key;
	const char *p;
	uint32_t len, val;
	int used;
};

static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

static int
ht_grow(struct htab *h)
{
	struct hent *old = h->e, *e;
	size_t cap = h->cap ? h->cap * 2 : 64, i, j;

	if ((e = calloc(cap, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < h->cap; i++) {
		if (!old[i].used)
			continue;
		for (j = old[i].key & (cap - 1); e[j].used; j = (j + 1) & (cap - 1))
			;
		e[j] = old[i];
	}
	free(old);
	h->e = e;
	h->cap = cap;
	return 0;
}

/* The entry for (key, p, len); a new one has used == 0 until filled. */
static struct hent *
ht_find(struct htab *h, uint64_t key, const char *p, uint32_t len)
{
	size_t i;

	if ((h->n + 1) * 2 > h->cap && ht_grow(h) == -1)
		return NULL;
	for (i = key & (h->cap - 1); h->e[i].used;
	     i = (i + 1) & (h->cap - 1))
		if (h->e[i].key == key && h->e[i].len == len &&
		    (len == 0 || memcmp(h->e[i].p, p, len) == 0))
			return &h->e[i];
	h->e[i].key = key;
	h->e[i].p = p;
	h->e[i].len = len;
	return &h->e[i];
}

static int
intern(struct parser *p, const char *s, size_t n, uint32_t *id)
{
	struct hent *e = ht_find(&p->names, hash_bytes(s, n), s, (uint32_t)n);

	if (e == NULL)
		return p_fail(p, NULL, "out of memory");
	if (!e->used) {
		e->used = 1;
		e->val = (uint32_t)p->names.n++;
	}
	*id = e->val;
	return 0;
}

int
scope_push(struct parser *p, uint32_t *fid)
{
	struct pframe *f;

	if ((f = p_alloc(p, sizeof(*f))) == NULL)
		return -1;
	if (p->nframes == p->slotcap) {
		size_t cap = p->slotcap ? p->slotcap * 2 : 16;
		uint32_t *n = realloc(p->nslots, cap * sizeof(*n));

		if (n == NULL)
			return p_fail(p, NULL, "out of memory");
		p->nslots = n;
		p->slotcap = cap;
	}
	f->id = p->nframes++;
	f->up = p->frame;
	p->nslots[f->id] = 0;
	p->frame = f;
	*fid = f->id;
	return 0;
}

void
scope_pop(struct parser *p)
{
	p->frame = p->frame->up;
}

int
scope_bind_name(struct parser *p, const char *s, size_t n, uint32_t *slot)
{
	struct hent *e;
	uint64_t key;
	uint32_t id;

	if (intern(p, s, n, &id) == -1)
		return -1;
	key = (uint64_t)p->frame->id << 32 | id;
	if ((e = ht_find(&p->binds, key * 0x9E3779B97F4A7C15ULL, NULL, 0)) ==
	    NULL)
		return p_fail(p, NULL, "out of memory");
	if (!e->used) {
		e->used = 1;
		e->val = p->nslots[p->frame->id]++;
		p->binds.n++;
	}
	*slot = e->val;
	return 0;
}

int
scope_bind(struct parser *p, const struct tok *t, uint32_t *slot)
{
	return scope_bind_name(p, p->src + t->off, t->len, slot);
}

static const struct {
	const char *name;
	uint8_t pub;
} pubs[] = {
	{ "trigger", PUB_TRIGGER }, { "path", PUB_PATH },
	{ "container", PUB_CONTAINER }, { "instance", PUB_INSTANCE },
	{ "config", PUB_CONFIG }, { "devices", PUB_DEVICES },
	{ "properties", PUB_PROPERTIES }, { "config_get", PUB_CONFIG_GET },
};

int
scope_ref(struct parser *p, struct var *v)
{
	const struct vpart *vp = &v->parts[0];
	size_t i;

	if (intern(p, vp->name, vp->nlen, &v->id) == -1)
		return -1;
	v->pf = p->frame;
	v->pub = PUB_NONE;
	for (i = 0; i < sizeof(pubs) / sizeof(pubs[0]); i++)
		if (strlen(pubs[i].name) == vp->nlen &&
		    memcmp(pubs[i].name, vp->name, vp->nlen) == 0)
			v->pub = pubs[i].pub;
	v->next = p->vars;
	p->vars = v;
	return 0;
}

/* Every scope from the reference outwards that binds the name somewhere. */
int
scope_resolve(struct parser *p)
{
	const struct pframe *f;
	struct hent *e;
	struct var *v;
	uint64_t key;

	for (v = p->vars; v != NULL; v = v->next) {
		v->ncand = 0;
		for (f = v->pf; f != NULL; f = f->up)
			v->ncand++;
		if ((v->cand = p_alloc(p, v->ncand * sizeof(*v->cand))) ==
		    NULL)
			return -1;
		v->ncand = 0;
		for (f = v->pf; f != NULL; f = f->up) {
			key = (uint64_t)f->id << 32 | v->id;
			e = ht_find(&p->binds, key * 0x9E3779B97F4A7C15ULL, NULL,
			    0);
			if (e == NULL)
				return p_fail(p, NULL, "out of memory");
			if (!e->used)
				continue;
			v->cand[v->ncand].frame = f->id;
			v->cand[v->ncand++].slot = e->val;
		}
	}
	return 0;
}

void
scope_free(struct parser *p)
{
	free(p->names.e);
	free(p->binds.e);
	free(p->nslots);
	p->names.e = p->binds.e = NULL;
	p->nslots = NULL;
}
