/*
 * metadata.yaml (LXD doc/image-handling.md) into struct img_meta, with the
 * limits of ../shared/SECURITY.md. Properties travel to the store in one IPC
 * record, so every properties map is bounded in count, key, value and total
 * size; templates are checked here for their names and later, against the
 * tarball, for their files (validate.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/internal.h"
#include "policy/yp.h"

struct props {
	const char *what; /* "properties" or "template \"/x\" properties" */
	struct img_kv **kv;
	size_t *n;
	size_t total;
};

struct meta {
	struct img_meta *m;
	int have_arch, have_cdate;
};

static char *
meta_strdup(struct yp *y, const char *s, size_t len)
{
	char *d;

	if ((d = malloc(len + 1)) == NULL) {
		msg_set(y->err, y->errlen, "metadata.yaml: out of memory");
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Grows *arr (of size elements) so that index n fits, up to max. */
static int
meta_grow(struct yp *y, void **arr, size_t n, size_t size)
{
	void *p;

	if (n != 0 && (n & (n - 1)) != 0)
		return 0; /* capacity is the next power of two */
	if ((p = realloc(*arr, (n == 0 ? 1 : 2 * n) * size)) == NULL) {
		msg_set(y->err, y->errlen, "metadata.yaml: out of memory");
		return -1;
	}
	*arr = p;
	return 0;
}

static int
prop_value(
    struct yp *y, struct props *c, const char *qk, const char **v, size_t *vlen)
{
	const char *why;

	if (yp_is_null(y)) {
		*v = "";
		*vlen = 0;
		return 0;
	}
	if (yp_scalar(y, c->what, v, vlen) == -1)
		return -1;
	if (*vlen > LIM_PROP_VALUE_MAX)
		return yp_fail(y, "%s \"%s\": value longer than %d bytes",
		    c->what, qk, LIM_PROP_VALUE_MAX);
	if ((why = ustr_check(*v, *vlen, USTR_TAB_NL)) != NULL)
		return yp_fail(y, "%s \"%s\": %s", c->what, qk, why);
	return 0;
}

static int
prop_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct props *c = arg;
	struct img_kv *kv;
	const char *v, *why;
	size_t vlen;
	char qk[MSG_QUOTE_MAX];

	msg_quote(qk, sizeof(qk), key, len);
	if (*c->n >= LIM_META_PROPERTIES_MAX)
		return yp_fail(y, "%s: more than %d entries", c->what,
		    LIM_META_PROPERTIES_MAX);
	if (len == 0 || len > LIM_PROP_KEY_MAX)
		return yp_fail(y, "%s: keys must have 1 to %d bytes", c->what,
		    LIM_PROP_KEY_MAX);
	if ((why = ustr_check(key, len, 0)) != NULL)
		return yp_fail(y, "%s: key \"%s\": %s", c->what, qk, why);
	if (prop_value(y, c, qk, &v, &vlen) == -1)
		return -1;
	c->total += len + vlen;
	if (c->total > LIM_PROP_TOTAL_MAX)
		return yp_fail(y, "%s: more than %llu bytes in all", c->what,
		    (unsigned long long)LIM_PROP_TOTAL_MAX);
	if (meta_grow(y, (void **)c->kv, *c->n, sizeof(**c->kv)) == -1)
		return -1;
	kv = &(*c->kv)[*c->n];
	if ((kv->key = meta_strdup(y, key, len)) == NULL)
		return -1;
	if ((kv->value = meta_strdup(y, v, vlen)) == NULL) {
		free(kv->key);
		return -1;
	}
	(*c->n)++;
	return 0;
}

static int
props_parse(struct yp *y, const char *what, struct img_kv **kv, size_t *n)
{
	struct props c = {what, kv, n, 0};

	if (yp_is_null(y))
		return 0;
	return yp_mapping(y, what, prop_key, &c);
}

static int
meta_arch(struct yp *y, struct meta *c)
{
	const char *s, *canon = NULL;
	size_t len;
	char q[MSG_QUOTE_MAX];

	if (yp_scalar(y, "architecture", &s, &len) == -1)
		return -1;
	/* libyaml NUL-terminates; a NUL inside must not shorten the name. */
	if (memchr(s, '\0', len) == NULL && len <= LIM_ARCH_NAME_MAX)
		canon = arch_canonical(s);
	if (canon == NULL)
		return yp_fail(y, "unknown architecture \"%s\"",
		    msg_quote(q, sizeof(q), s, len));
	snprintf(c->m->architecture, sizeof(c->m->architecture), "%s", canon);
	c->have_arch = 1;
	return 0;
}

/* A template's path inside the instance: absolute, never through "..". */
static const char *
tpl_path_check(const char *p, size_t len)
{
	size_t s, e;

	if (len == 0 || p[0] != '/')
		return "the path must be absolute";
	if (len > LIM_TEMPLATE_PATH_MAX)
		return "the path is too long";
	if (p[len - 1] == '/')
		return "the path must name a file";
	if (ustr_check(p, len, 0) != NULL)
		return "the path must be UTF-8 without control characters";
	for (s = 1; s <= len; s = e + 1) {
		for (e = s; e < len && p[e] != '/'; e++)
			;
		if (e - s == 2 && p[s] == '.' && p[s + 1] == '.')
			return "\"..\" is not allowed in the path";
	}
	return NULL;
}

/* A file under templates/: relative, with plain components only. */
static const char *
tpl_name_check(const char *p, size_t len)
{
	size_t s, e;

	if (len == 0 || len > LIM_TEMPLATE_NAME_MAX)
		return "the template name must have 1 to 255 bytes";
	if (p[0] == '/')
		return "the template name must be relative to templates/";
	if (ustr_check(p, len, 0) != NULL)
		return "the template name must be UTF-8 without control "
		       "characters";
	for (s = 0; s <= len; s = e + 1) {
		for (e = s; e < len && p[e] != '/'; e++)
			;
		if (e - s == 2 && p[s] == '.' && p[s + 1] == '.')
			return "\"..\" is not allowed in the template name";
		if (e == s || (e - s == 1 && p[s] == '.'))
			return "empty or \".\" components are not allowed in "
			       "the template name";
	}
	return NULL;
}

static int
tpl_when(struct yp *y, struct img_template *t, const char *what)
{
	static const struct {
		const char *name;
		unsigned bit;
	} triggers[] = {{"create", TPL_WHEN_CREATE}, {"copy", TPL_WHEN_COPY},
	    {"start", TPL_WHEN_START}, {"rename", TPL_WHEN_RENAME}};
	const char *s;
	size_t len, i;
	char q[MSG_QUOTE_MAX];

	if (yp_is_null(y))
		return 0;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail(y, "%s: when must be a list", what);
	for (;;) {
		if (yp_next(y) == -1)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (yp_scalar(y, "when", &s, &len) == -1)
			return -1;
		for (i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
			if (yp_key_is(s, len, triggers[i].name))
				break;
		if (i == sizeof(triggers) / sizeof(triggers[0]))
			return yp_fail(y,
			    "%s: unknown trigger \"%s\" (create, copy, start "
			    "or rename)",
			    what, msg_quote(q, sizeof(q), s, len));
		t->when |= triggers[i].bit;
	}
}

struct tpl {
	struct img_template *t;
	char what[MSG_QUOTE_MAX + 16]; /* template "/etc/hosts" */
	char pwhat[MSG_QUOTE_MAX + 32];
};

static int
tpl_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct tpl *c = arg;
	const char *s, *why;
	size_t slen;

	if (yp_key_is(key, len, "when"))
		return tpl_when(y, c->t, c->what);
	if (yp_key_is(key, len, "create_only"))
		return yp_is_null(y)
			   ? 0
			   : yp_bool(y, "create_only", &c->t->create_only);
	if (yp_key_is(key, len, "properties"))
		return props_parse(y, c->pwhat, &c->t->props, &c->t->nprops);
	if (!yp_key_is(key, len, "template"))
		return yp_skip(y);
	if (yp_scalar(y, "template", &s, &slen) == -1)
		return -1;
	if ((why = tpl_name_check(s, slen)) != NULL)
		return yp_fail(y, "%s: %s", c->what, why);
	if ((c->t->template = meta_strdup(y, s, slen)) == NULL)
		return -1;
	return 0;
}

static int
tpls_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct img_meta *m = arg;
	struct tpl c;
	const char *why;
	char q[MSG_QUOTE_MAX];

	msg_quote(q, sizeof(q), key, len);
	if (m->ntemplates >= LIM_META_TEMPLATES_MAX)
		return yp_fail(
		    y, "more than %d templates", LIM_META_TEMPLATES_MAX);
	if ((why = tpl_path_check(key, len)) != NULL)
		return yp_fail(y, "template \"%s\": %s", q, why);
	if (meta_grow(y, (void **)&m->templates, m->ntemplates,
		sizeof(*m->templates)) == -1)
		return -1;
	c.t = &m->templates[m->ntemplates];
	memset(c.t, 0, sizeof(*c.t));
	if ((c.t->path = meta_strdup(y, key, len)) == NULL)
		return -1;
	m->ntemplates++;
	snprintf(c.what, sizeof(c.what), "template \"%s\"", q);
	snprintf(c.pwhat, sizeof(c.pwhat), "template \"%s\" properties", q);
	if (yp_mapping(y, c.what, tpl_key, &c) == -1)
		return -1;
	if (c.t->template == NULL)
		return yp_fail(y, "%s has no template file", c.what);
	return 0;
}

static int
meta_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct meta *c = arg;
	struct img_meta *m = c->m;

	if (yp_key_is(key, len, "architecture"))
		return meta_arch(y, c);
	if (yp_key_is(key, len, "creation_date")) {
		if (yp_int64(y, "creation_date", &m->creation_date) == -1)
			return -1;
		if (m->creation_date == 0)
			return yp_fail(y, "creation_date must not be zero");
		if (m->creation_date < LIM_TIME_MIN ||
		    m->creation_date > LIM_TIME_MAX)
			return yp_fail(y, "creation_date out of range (years "
					  "1 to 9999)");
		c->have_cdate = 1;
		return 0;
	}
	if (yp_key_is(key, len, "expiry_date")) {
		if (yp_is_null(y))
			return 0;
		if (yp_int64(y, "expiry_date", &m->expiry_date) == -1)
			return -1;
		if (m->expiry_date < LIM_TIME_MIN ||
		    m->expiry_date > LIM_TIME_MAX)
			return yp_fail(y, "expiry_date out of range (years "
					  "1 to 9999)");
		return 0;
	}
	if (yp_key_is(key, len, "properties"))
		return props_parse(y, "properties", &m->props, &m->nprops);
	if (yp_key_is(key, len, "templates"))
		return yp_is_null(y) ? 0
				     : yp_mapping(y, "templates", tpls_key, m);
	/* Unknown keys are LXD's to define; bounded by yp like the rest. */
	return yp_skip(y);
}

int
meta_parse(
    const void *buf, size_t len, struct img_meta *out, char *err, size_t errlen)
{
	struct meta c = {out, 0, 0};
	struct yp y;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > LIM_META_FILE_MAX) {
		msg_set(err, errlen, "metadata.yaml: larger than %llu bytes",
		    (unsigned long long)LIM_META_FILE_MAX);
		return -1;
	}
	if (yp_init(&y, "metadata.yaml", buf, len, err, errlen) == -1)
		return -1;
	rc = yp_document(&y, meta_key, &c);
	yp_free(&y);
	if (rc == 0 && !c.have_arch) {
		msg_set(err, errlen, "metadata.yaml: architecture is missing");
		rc = -1;
	} else if (rc == 0 && !c.have_cdate) {
		msg_set(err, errlen, "metadata.yaml: creation_date is missing");
		rc = -1;
	} else if (rc == 0 && out->expiry_date != 0 &&
		   out->expiry_date < out->creation_date) {
		/* 0 is "never"; anything else expires after it was made. */
		msg_set(err, errlen,
		    "metadata.yaml: expiry_date (%lld) is before creation_date "
		    "(%lld)",
		    (long long)out->expiry_date, (long long)out->creation_date);
		rc = -1;
	}
	if (rc == -1)
		img_meta_free(out);
	return rc;
}

static void
kv_free(struct img_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void
img_meta_free(struct img_meta *m)
{
	size_t i;

	if (m == NULL)
		return;
	kv_free(m->props, m->nprops);
	for (i = 0; i < m->ntemplates; i++) {
		free(m->templates[i].path);
		free(m->templates[i].template);
		kv_free(m->templates[i].props, m->templates[i].nprops);
	}
	free(m->templates);
	memset(m, 0, sizeof(*m));
}
