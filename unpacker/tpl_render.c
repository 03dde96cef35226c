/*
 * tpl renderer: runs the tree with LXD's context. Each statement's
 * temporaries are released when it is done; values that set, with and for
 * bind live until their scope ends. Output, steps and memory are bounded
 * by struct tpl_limits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl_int.h"

int
tpl_fail(struct rstate *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tpl_errf(&r->err, r->line, r->col, "%s", msg);
	return -1;
}

int
tpl_step(struct rstate *r, uint64_t n)
{
	r->steps += n;
	if (r->steps <= r->lim->steps_max && !r->err.set)
		return 0;
	if (!r->err.set)
		tpl_fail(r, "the template takes more than %llu steps to render",
		    (unsigned long long)r->lim->steps_max);
	return -1;
}

void *
tpl_alloc(struct rstate *r, size_t n)
{
	void *p;

	if ((p = arena_alloc(&r->a, n)) == NULL)
		tpl_fail(r, "the template needs more than %zu bytes of memory "
			    "to render",
		    r->a.max);
	return p;
}

/* A built string into a value; sb is freed. */
int
tpl_newstr(struct rstate *r, struct sbuf *sb, struct val *out,
    const char *what)
{
	char *p = NULL;
	int rc = 0;

	if (sb->over == 2)
		rc = tpl_fail(r, "%s: out of memory", what);
	else if (sb->over)
		rc = tpl_fail(r, "%s: the result is larger than %zu bytes", what,
		    r->lim->output_max);
	else if (tpl_step(r, sb->n / 64) == -1 ||
	    (p = tpl_alloc(r, sb->n + 1)) == NULL)
		rc = -1;
	if (rc == 0) {
		if (sb->n > 0)
			memcpy(p, sb->p, sb->n);
		val_sstr(out, p, sb->n);
	}
	sb_free(sb);
	return rc;
}

static int
emit(struct rstate *r, const char *p, size_t n)
{
	if (tpl_step(r, n / 64) == -1)
		return -1;
	sb_put(&r->out, p, n);
	if (r->out.over == 2)
		return tpl_fail(r, "out of memory");
	if (r->out.over)
		return tpl_fail(r, "the output is larger than %zu bytes",
		    r->out.max);
	return 0;
}

static int
emit_val(struct rstate *r, const struct val *v)
{
	char buf[VSTR_MAX];
	const char *s;
	size_t n;

	val_str(v, &s, &n, buf);
	return emit(r, s, n);
}

static void
bind(struct rstate *r, uint32_t f, uint32_t s, const struct val *v, int raw)
{
	struct slot *sl = &r->slots[f][s];

	sl->gen = r->fgen[f];
	sl->v = *v;
	sl->raw_loop = raw;
}

#define exec_list tpl_exec

static int
exec_if(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val v;
	size_t i;
	int t;

	for (i = 0; i < n->u.cond.nc; i++) {
		arena_mark(&r->a, &m);
		if (tpl_eval(r, n->u.cond.c[i], &v) == -1)
			return -1;
		t = val_true(&v);
		arena_release(&r->a, &m);
		if (t)
			return exec_list(r, n->u.cond.b[i]);
		/* pongo2 runs the block after the last condition, if any. */
		if (i + 1 == n->u.cond.nc && n->u.cond.nb > i + 1)
			return exec_list(r, n->u.cond.b[i + 1]);
	}
	return 0;
}

/* The forloop visible outside the loop becomes its Parentloop. */
static int
outer_loop(struct rstate *r, const struct var *vr, const struct tloop **lp)
{
	const struct slot *s;
	size_t i;

	*lp = NULL;
	for (i = 0; i < vr->ncand; i++) {
		s = &r->slots[vr->cand[i].frame][vr->cand[i].slot];
		if (s->gen != r->fgen[vr->cand[i].frame])
			continue;
		if (!s->raw_loop)
			return tpl_fail(r, "{%% for %%}: 'forloop' was given "
					   "another value here, which pongo2 "
					   "cannot take as the parent loop");
		*lp = s->v.u.lp;
		return 0;
	}
	return 0;
}

static void
msort(struct val *a, struct val *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	msort(a, tmp, h);
	msort(a + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = val_less(&a[j], &a[i]) ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

/* What a for tag walks: *items for a sorted list, *count entries. */
static int
loop_items(struct rstate *r, const struct node *n, const struct val *seq,
    struct val **items, size_t *count)
{
	struct val *tmp;
	size_t c, lg = 1;

	*items = NULL;
	*count = 0;
	if (seq->t == V_MAP)
		*count = seq->u.m->n;
	else if (seq->t == V_STR) {
		if (n->u.loop.sorted)
			return tpl_fail(r, "{%% for %%}: 'sorted' cannot sort a "
					   "string (pongo2 panics)");
		*count = seq->u.s.n;
	} else if (seq->t == V_LIST) {
		*count = c = seq->u.l->n;
		if (!n->u.loop.sorted || c == 0)
			return 0;
		while ((c >> lg) != 0)
			lg++;
		if (tpl_step(r, (uint64_t)c * lg) == -1 ||
		    (*items = tpl_alloc(r, c * sizeof(**items))) == NULL ||
		    (tmp = tpl_alloc(r, c * sizeof(*tmp))) == NULL)
			return -1;
		memcpy(*items, seq->u.l->v, c * sizeof(**items));
		msort(*items, tmp, c);
	}
	return 0;
}

/* The j-th step of the loop: its key, its value (maps) and its index. */
static void
loop_item(const struct node *n, const struct val *seq, const struct val *items,
    size_t count, size_t j, struct val *k, struct val *v, size_t *idx)
{
	int rev = n->u.loop.reversed;
	size_t pos = rev ? count - 1 - j : j;
	const struct tmap_ent *e;

	*idx = j;
	memset(v, 0, sizeof(*v));
	if (seq->t == V_MAP) {
		/* Go's map order is random; key order, unless sorted. */
		e = &seq->u.m->e[rev && n->u.loop.sorted ? pos : j];
		val_sstr(k, e->k, e->kn);
		*v = e->v;
	} else if (seq->t == V_LIST)
		*k = (items != NULL ? items : seq->u.l->v)[pos];
	else {
		*k = *seq;
		k->u.s.p += pos;
		k->u.s.n = 1;
		*idx = pos;
	}
}

static int
loop_run(struct rstate *r, const struct node *n, struct tloop *lp,
    const struct val *seq)
{
	struct val *items, k, v;
	size_t count, j, idx;

	if (loop_items(r, n, seq, &items, &count) == -1)
		return -1;
	if (count == 0)
		return exec_list(r, n->u.loop.empty);
	for (j = 0; j < count; j++) {
		r->line = n->line;
		r->col = n->col;
		if (tpl_step(r, 1) == -1)
			return -1;
		loop_item(n, seq, items, count, j, &k, &v, &idx);
		bind(r, n->u.loop.frame, n->u.loop.kslot, &k, 0);
		if (seq->t == V_MAP && n->u.loop.vslot != UINT32_MAX)
			bind(r, n->u.loop.frame, n->u.loop.vslot, &v, 0);
		lp->counter = (int64_t)idx + 1;
		lp->counter0 = (int64_t)idx;
		if (idx == 1)
			lp->first = 0;
		if (idx + 1 == count)
			lp->last = 1;
		lp->rev = (int64_t)(count - idx);
		lp->rev0 = (int64_t)(count - idx - 1);
		if (exec_list(r, n->u.loop.body) == -1)
			return -1;
	}
	return 0;
}

static int
exec_for(struct rstate *r, const struct node *n)
{
	const struct tloop *parent;
	struct arena_mark m;
	struct tloop *lp;
	struct val seq, lv;
	int rc = -1;

	if (outer_loop(r, n->u.loop.outer, &parent) == -1)
		return -1;
	arena_mark(&r->a, &m);
	if ((lp = tpl_alloc(r, sizeof(*lp))) == NULL)
		return -1;
	memset(lp, 0, sizeof(*lp));
	lp->first = 1;
	lp->parent = parent;
	r->fgen[n->u.loop.frame] = ++r->gen;
	memset(&lv, 0, sizeof(lv));
	lv.t = V_LOOP;
	lv.u.lp = lp;
	bind(r, n->u.loop.frame, n->u.loop.lslot, &lv, 1);
	if (tpl_eval(r, n->u.loop.e, &seq) == 0)
		rc = loop_run(r, n, lp, &seq);
	arena_release(&r->a, &m);
	return rc;
}

static int
exec_with(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val *v;
	size_t i;
	int rc = -1;

	arena_mark(&r->a, &m);
	if ((v = tpl_alloc(r, (n->u.with.n + 1) * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n->u.with.n; i++)
		if (tpl_eval(r, n->u.with.e[i], &v[i]) == -1)
			goto out;
	r->fgen[n->u.with.frame] = ++r->gen;
	for (i = 0; i < n->u.with.n; i++)
		bind(r, n->u.with.frame, n->u.with.slot[i], &v[i], 0);
	rc = exec_list(r, n->u.with.body);
out:
	arena_release(&r->a, &m);
	return rc;
}

static int
exec_out(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val v, none;
	int rc = -1;

	arena_mark(&r->a, &m);
	memset(&none, 0, sizeof(none));
	if (tpl_eval(r, n->u.e, &v) == 0 &&
	    (!r->autoescape || n->u.e->safe || v.t != V_STR ||
		f_escape(r, &v, &none, &v) == 0))
		rc = emit_val(r, &v);
	arena_release(&r->a, &m);
	return rc;
}

static int
exec_firstof(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val v, none;
	size_t i;
	int rc = 0, t;

	memset(&none, 0, sizeof(none));
	for (i = 0; i < n->u.first.n && rc == 0; i++) {
		arena_mark(&r->a, &m);
		if ((rc = tpl_eval(r, n->u.first.e[i], &v)) == 0 &&
		    (t = val_true(&v))) {
			if (r->autoescape && !n->u.first.e[i]->safe)
				rc = f_escape(r, &v, &none, &v);
			if (rc == 0)
				rc = emit_val(r, &v);
			arena_release(&r->a, &m);
			return rc;
		}
		arena_release(&r->a, &m);
	}
	return rc;
}

static int
exec_ifeq(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val a, b;
	int eq;

	arena_mark(&r->a, &m);
	if (tpl_eval(r, n->u.ifeq.a, &a) == -1 ||
	    tpl_eval(r, n->u.ifeq.b, &b) == -1 ||
	    val_equal(r, &a, &b, &eq) == -1)
		return -1;
	arena_release(&r->a, &m);
	if (eq != n->u.ifeq.neg)
		return exec_list(r, n->u.ifeq.then);
	return exec_list(r, n->u.ifeq.els);
}

static int
exec_width(struct rstate *r, const struct node *n)
{
	struct arena_mark m;
	struct val a, b, c;
	char buf[32];
	int64_t w;

	arena_mark(&r->a, &m);
	if (tpl_eval(r, n->u.width.a, &a) == -1 ||
	    tpl_eval(r, n->u.width.b, &b) == -1 ||
	    tpl_eval(r, n->u.width.c, &c) == -1)
		return -1;
	w = go_f2i(go_ceil(val_float(r, &a) / val_float(r, &b) *
		val_float(r, &c) + 0.5));
	arena_release(&r->a, &m);
	if (n->u.width.slot == UINT32_MAX)
		return emit(r, buf,
		    (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)w));
	val_sint(&a, w);
	bind(r, n->u.width.frame, n->u.width.slot, &a, 0);
	return 0;
}

/* {% filter %}: the block's output through a chain of filters. */
static int
exec_filter(struct rstate *r, const struct node *n)
{
	struct sbuf saved = r->out, body;
	struct arena_mark m;
	struct val v;
	size_t i;
	int rc;

	arena_mark(&r->a, &m);
	sb_init(&r->out, r->lim->output_max);
	rc = exec_list(r, n->u.filter.body);
	body = r->out;
	r->out = saved;
	if (rc == 0)
		rc = tpl_newstr(r, &body, &v, "filter");
	else
		sb_free(&body);
	for (i = 0; rc == 0 && i < n->u.filter.n; i++)
		rc = filter_call(r, &n->u.filter.fc[i], &v);
	if (rc == 0)
		rc = emit_val(r, &v);
	arena_release(&r->a, &m);
	return rc;
}

static int
exec_node(struct rstate *r, const struct node *n)
{
	struct val v;
	int old, rc;

	switch (n->type) {
	case N_TEXT:
		return emit(r, n->u.text.p, n->u.text.n);
	case N_OUT:
		return exec_out(r, n);
	case N_IF:
		return exec_if(r, n);
	case N_FOR:
		return exec_for(r, n);
	case N_SET:
		if (tpl_eval(r, n->u.set.e, &v) == -1)
			return -1;
		bind(r, n->u.set.frame, n->u.set.slot, &v, 0);
		return 0;
	case N_WITH:
		return exec_with(r, n);
	case N_AUTOESC:
		old = r->autoescape;
		r->autoescape = n->u.esc.on;
		rc = exec_list(r, n->u.esc.body);
		r->autoescape = old;
		return rc;
	case N_FIRSTOF:
		return exec_firstof(r, n);
	case N_IFEQ:
		return exec_ifeq(r, n);
	case N_WIDTH:
		return exec_width(r, n);
	case N_FILTER:
		return exec_filter(r, n);
	}
	return 0;
}

int
tpl_exec(struct rstate *r, const struct node *n)
{
	for (; n != NULL; n = n->next) {
		r->line = n->line;
		r->col = n->col;
		if (tpl_step(r, 1) == -1 || exec_node(r, n) == -1)
			return -1;
	}
	return 0;
}
