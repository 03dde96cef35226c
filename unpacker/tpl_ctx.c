/*
 * tpl_render: LXD's template context (templateApplyNow in
 * lxd/instance/drivers/driver_lxc.go) as sorted maps, the scopes' slots,
 * and the run itself.
 */
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_int.h"

struct sortent {
	struct tmap_ent e;
	size_t i;
};

static int
ent_cmp(const void *a, const void *b)
{
	const struct sortent *x = a, *y = b;
	size_t n = x->e.kn < y->e.kn ? x->e.kn : y->e.kn;
	int c = memcmp(x->e.k, y->e.k, n);

	if (c == 0)
		c = x->e.kn < y->e.kn ? -1 : x->e.kn > y->e.kn;
	if (c == 0)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Sorted by key; of equal keys the last one given, as a Go map keeps. */
static int
map_make(struct arena *a, struct tmap *m, const char *gotype,
    struct sortent *se, size_t n)
{
	size_t i, k = 0;

	m->gotype = gotype;
	m->n = 0;
	if ((m->e = arena_alloc(a, (n ? n : 1) * sizeof(*m->e))) == NULL)
		return -1;
	qsort(se, n, sizeof(*se), ent_cmp);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && se[i].e.kn == se[i + 1].e.kn &&
		    memcmp(se[i].e.k, se[i + 1].e.k, se[i].e.kn) == 0)
			continue;
		m->e[k++] = se[i].e;
	}
	m->n = k;
	return 0;
}

static int
map_kv(struct arena *a, struct tmap *m, const char *gotype,
    const struct tpl_kv *kv, size_t n)
{
	struct sortent *se;
	size_t i;

	if ((se = arena_alloc(a, (n ? n : 1) * sizeof(*se))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		se[i].e.k = nz(kv[i].key);
		se[i].e.kn = strlen(se[i].e.k);
		val_sstr(&se[i].e.v, nz(kv[i].value), strlen(nz(kv[i].value)));
		se[i].i = i;
	}
	return map_make(a, m, gotype, se, n);
}

static int
map_devices(struct arena *a, struct tmap *m, const struct tpl_ctx *c)
{
	struct sortent *se;
	struct tmap *dm;
	size_t i;

	if ((se = arena_alloc(
		 a, (c->ndevices ? c->ndevices : 1) * sizeof(*se))) == NULL)
		return -1;
	for (i = 0; i < c->ndevices; i++) {
		if ((dm = arena_alloc(a, sizeof(*dm))) == NULL ||
		    map_kv(a, dm, "config.Device", c->devices[i].kv,
			c->devices[i].nkv) == -1)
			return -1;
		se[i].e.k = nz(c->devices[i].name);
		se[i].e.kn = strlen(se[i].e.k);
		memset(&se[i].e.v, 0, sizeof(se[i].e.v));
		se[i].e.v.t = V_MAP;
		se[i].e.v.u.m = dm;
		se[i].i = i;
	}
	return map_make(a, m, "config.Devices", se, c->ndevices);
}

static int
ctx_maps(struct rstate *r, struct arena *a, const struct tpl_ctx *c)
{
	const struct tpl_kv inst[] = {
	    {"architecture", nz(c->architecture)},
	    {"ephemeral", c->ephemeral ? "true" : "false"},
	    {"name", nz(c->name)},
	    {"privileged", c->privileged ? "true" : "false"},
	    {"type", nz(c->type)},
	};
	const struct tpl_kv version[] = {{"version", "dev"}};
	size_t i;

	if (map_kv(a, &r->config, "map[string]string", c->config, c->nconfig) ==
		-1 ||
	    map_kv(a, &r->inst, "map[string]string", inst, 5) == -1 ||
	    map_kv(a, &r->props, "map[string]string", c->properties,
		c->nproperties) == -1 ||
	    map_kv(a, &r->pongo2, "pongo2.Context", version, 1) == -1 ||
	    map_devices(a, &r->devices, c) == -1)
		return -1;
	val_sstr(&r->pub[PUB_TRIGGER], nz(c->trigger), strlen(nz(c->trigger)));
	/* A plain string, as in LXD 2.0; LXD 4+ passes its own Go type, so
	 * there trigger == "create" is always false (a trap, not kept). */
	val_sstr(&r->pub[PUB_PATH], nz(c->path), strlen(nz(c->path)));
	for (i = PUB_CONTAINER; i <= PUB_PROPERTIES; i++)
		r->pub[i].t = V_MAP;
	r->pub[PUB_CONTAINER].u.m = r->pub[PUB_INSTANCE].u.m = &r->inst;
	r->pub[PUB_CONFIG].u.m = &r->config;
	r->pub[PUB_DEVICES].u.m = &r->devices;
	r->pub[PUB_PROPERTIES].u.m = &r->props;
	r->pub[PUB_CONFIG_GET].t = V_FUNC;
	return 0;
}

static int
ctx_slots(struct rstate *r)
{
	const struct tpl *t = r->t;
	struct val pv;
	uint32_t f;

	if ((r->fgen = calloc(t->nframes, sizeof(*r->fgen))) == NULL ||
	    (r->slots = calloc(t->nframes, sizeof(*r->slots))) == NULL)
		return -1;
	for (f = 0; f < t->nframes; f++)
		if ((r->slots[f] = calloc(t->nslots[f] ? t->nslots[f] : 1,
			 sizeof(**r->slots))) == NULL)
			return -1;
	r->fgen[0] = ++r->gen;
	memset(&pv, 0, sizeof(pv));
	pv.t = V_MAP;
	pv.u.m = &r->pongo2;
	r->slots[0][t->pongo2_slot].gen = r->fgen[0];
	r->slots[0][t->pongo2_slot].v = pv;
	return 0;
}

static void
ctx_free(struct rstate *r)
{
	uint32_t f;

	if (r->slots != NULL)
		for (f = 0; f < r->t->nframes; f++)
			free(r->slots[f]);
	free(r->slots);
	free(r->fgen);
	arena_free(&r->a);
}

int
tpl_render(const struct tpl *t, const struct tpl_ctx *ctx,
    const struct tpl_limits *lim, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct arena ca = {NULL, 0, 0};
	struct rstate r;
	locale_t old;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.t = t;
	r.lim = lim;
	r.err.name = t->name;
	r.err.buf = err;
	r.err.len = errlen;
	r.line = r.col = 1;
	sb_init(&r.out, lim->output_max);
	r.a.max = lim->output_max > (SIZE_MAX - TPL_MEM_SLACK) / TPL_MEM_FACTOR
		      ? SIZE_MAX
		      : lim->output_max * TPL_MEM_FACTOR + TPL_MEM_SLACK;
	/* Numbers are printed and read in the C locale, whatever the caller's.
	 */
	if ((r.cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)) == (locale_t)0)
		return tpl_fail(&r, "cannot make the C locale");
	old = uselocale(r.cloc);
	if (ctx_maps(&r, &ca, ctx) == -1 || ctx_slots(&r) == -1)
		tpl_fail(&r, "out of memory");
	else
		rc = tpl_exec(&r, t->root);
	uselocale(old);
	freelocale(r.cloc);
	ctx_free(&r);
	arena_free(&ca);
	if (rc == -1) {
		sb_free(&r.out);
		return -1;
	}
	if (r.out.p == NULL && (r.out.p = calloc(1, 1)) == NULL) {
		tpl_errf(&r.err, 1, 1, "out of memory");
		return -1;
	}
	*out = r.out.p;
	*outlen = r.out.n;
	return 0;
}
