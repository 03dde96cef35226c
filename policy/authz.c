/*
 * The policy file and the decision (policy/authz.h). The file is read
 * with the YAML reader metadata.yaml uses (no anchors, aliases, tags,
 * duplicate keys), with columns in its messages; every grant is checked
 * whole, names resolved, before the policy is used, so a file is either
 * all in force or not at all.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/authz.h"
#include "policy/msg.h"
#include "policy/names.h"
#include "policy/yp.h"

static const char *const role_names[] = {
    "read", "import", "publish", "delete", "admin"};
#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

const char *
authz_role_name(unsigned roles)
{
	for (size_t i = 0; i < NROLES; i++)
		if (roles & (1u << i))
			return role_names[i];
	return "none";
}

const char *
authz_roles_text(unsigned roles, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NROLES && off < len; i++)
		if (roles & (1u << i)) {
			int n = snprintf(buf + off, len - off, "%s%s",
			    off ? ", " : "", role_names[i]);
			if (n < 0)
				break;
			off += (size_t)n;
		}
	return buf;
}

void
authz_free(struct authz_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ngrants; i++)
		free(p->grants[i].projects);
	free(p->grants);
	free(p);
}

/* ---- reading ---- */

struct parse {
	struct yp *y;
	struct authz_policy *p;
	struct authz_grant *g; /* the grant being read */
	int have_identity, have_projects, have_roles;
	int have_grants;
};

/* A message at a position remembered earlier (a grant's start). */
static int
fail_at(struct yp *y, size_t line, size_t col, const char *what)
{
	msg_set(y->err, y->errlen, "%sline %zu, column %zu: %s", y->prefix,
	    line, col, what);
	return -1;
}

static int
parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t n = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	/* (uid_t)-1 is "no one" to the kernel. */
	if (n >= UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* The kinds of identity, as a grant writes them: KIND:VALUE. */
static const struct {
	const char *prefix;
	int kind;
	int by_name; /* user:, group: (resolved now); else a number */
} id_kinds[] = {
    {"uid:", ID_UID, 0},
    {"gid:", ID_GID, 0},
    {"user:", ID_UID, 1},
    {"group:", ID_GID, 1},
    {"cert:", ID_CERT, 0},
    {"token:", ID_TOKEN, 0},
};
#define ID_KINDS_TEXT                                                          \
	"uid:N, user:NAME, gid:N, group:NAME, cert:SHA256 or token:NAME"

/* NAME of user:NAME or group:NAME, as its id. The buffer grows for a
 * group of many members (ERANGE). */
static int
id_by_name(
    struct yp *y, int kind, const char *name, const char *q, uint32_t *id)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	size_t cap = 4096;
	char *buf = NULL;
	int rc;

	do {
		char *nb = realloc(buf, cap);

		if (nb == NULL) {
			free(buf);
			return yp_fail(y, "out of memory");
		}
		buf = nb;
		rc = kind == ID_UID ? getpwnam_r(name, &pw, buf, cap, &pwr)
				    : getgrnam_r(name, &gr, buf, cap, &grr);
		cap *= 2;
	} while (rc == ERANGE && cap <= 16 * 1024 * 1024);
	free(buf);
	if (rc != 0)
		return yp_fail(y, "identity \"%s\": %s", q, strerror(rc));
	if (kind == ID_UID ? pwr == NULL : grr == NULL)
		return yp_fail(y, "identity \"%s\": no such %s", q,
		    kind == ID_UID ? "user" : "group");
	*id = kind == ID_UID ? (uint32_t)pw.pw_uid : (uint32_t)gr.gr_gid;
	return 0;
}

static int
identity_value(struct parse *st)
{
	struct yp *y = st->y;
	struct authz_grant *g = st->g;
	const char *s, *v;
	size_t len, vlen, k, plen;
	char q[MSG_QUOTE_MAX], name[256];

	if (yp_scalar(y, "identity", &s, &len) == -1)
		return -1;
	msg_quote(q, sizeof(q), s, len);
	if ((v = memchr(s, ':', len)) == NULL)
		return yp_fail(
		    y, "identity \"%s\": expected " ID_KINDS_TEXT, q);
	plen = (size_t)(v - s) + 1;
	for (k = 0; k < sizeof(id_kinds) / sizeof(id_kinds[0]); k++)
		if (plen == strlen(id_kinds[k].prefix) &&
		    memcmp(s, id_kinds[k].prefix, plen) == 0)
			break;
	if (k == sizeof(id_kinds) / sizeof(id_kinds[0]))
		return yp_fail(y,
		    "identity \"%s\": unknown kind; expected " ID_KINDS_TEXT,
		    q);
	v++;
	vlen = len - plen;
	if (vlen == 0)
		return yp_fail(y, "identity \"%s\": nothing after the ':'", q);
	if (vlen >= sizeof(name) || memchr(v, '\0', vlen) != NULL)
		return yp_fail(y,
		    "identity \"%s\": the name is too long or "
		    "holds a NUL byte",
		    q);
	memcpy(name, v, vlen);
	name[vlen] = '\0';
	g->kind = id_kinds[k].kind;
	switch (g->kind) {
	case ID_UID:
	case ID_GID:
		if (id_kinds[k].by_name)
			return id_by_name(y, g->kind, name, q, &g->num);
		if (parse_u32(v, vlen, &g->num) == -1)
			return yp_fail(y,
			    "identity \"%s\": a %.3s is a decimal number "
			    "below 4294967295",
			    q, id_kinds[k].prefix);
		return 0;
	case ID_CERT:
		if (vlen != 64)
			return yp_fail(y,
			    "identity \"%s\": a certificate is named by "
			    "the 64 hex digits of its SHA-256 fingerprint "
			    "(lxc config trust list shows them)",
			    q);
		for (size_t i = 0; i < 64; i++) {
			char c = (char)tolower((unsigned char)name[i]);

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return yp_fail(y,
				    "identity \"%s\": not a hex digit at "
				    "position %zu of the fingerprint",
				    q, i + 1);
			g->name[i] = c;
		}
		g->name[64] = '\0';
		return 0;
	default: /* ID_TOKEN */
		if (vlen > LIM_CERT_NAME_MAX)
			return yp_fail(y,
			    "identity \"%s\": a token name is at most %d "
			    "bytes",
			    q, LIM_CERT_NAME_MAX);
		memcpy(g->name, name, vlen + 1);
		return 0;
	}
}

static int
projects_value(struct parse *st)
{
	struct yp *y = st->y;
	struct authz_grant *g = st->g;
	const char *s;
	size_t len;
	char q[MSG_QUOTE_MAX], why[200], name[LIM_PROJECT_NAME_MAX + 1];

	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail(y, "projects must be a list, as in "
				  "projects: [t1] or projects: [\"*\"]");
	for (;;) {
		if (yp_next(y) == -1)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (yp_scalar(y, "a project", &s, &len) == -1)
			return -1;
		msg_quote(q, sizeof(q), s, len);
		if (len > LIM_PROJECT_NAME_MAX || memchr(s, '\0', len))
			return yp_fail(y, "project \"%s\": too long", q);
		memcpy(name, s, len);
		name[len] = '\0';
		if (strcmp(name, "*") != 0 &&
		    project_name_check(name, why, sizeof(why)) != 0)
			return yp_fail(y, "project \"%s\": %s", q, why);
		for (size_t i = 0; i < g->nprojects; i++)
			if (strcmp(g->projects[i], name) == 0)
				return yp_fail(
				    y, "project \"%s\" is listed twice", q);
		if (g->nprojects == LIM_POLICY_PROJECTS_MAX)
			return yp_fail(y, "more than %d projects in one grant",
			    LIM_POLICY_PROJECTS_MAX);
		void *np = realloc(
		    g->projects, (g->nprojects + 1) * sizeof(*g->projects));
		if (np == NULL)
			return yp_fail(y, "out of memory");
		g->projects = np;
		memcpy(g->projects[g->nprojects++], name, len + 1);
	}
	if (g->nprojects == 0)
		return yp_fail(y, "projects is empty: a grant covers at least "
				  "one project (\"*\" for all)");
	return 0;
}

static int
roles_value(struct parse *st)
{
	struct yp *y = st->y;
	struct authz_grant *g = st->g;
	const char *s;
	size_t len, i;
	char q[MSG_QUOTE_MAX];

	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail(y, "roles must be a list, as in "
				  "roles: [read, import]");
	for (;;) {
		if (yp_next(y) == -1)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (yp_scalar(y, "a role", &s, &len) == -1)
			return -1;
		for (i = 0; i < NROLES && !yp_key_is(s, len, role_names[i]);
		     i++)
			;
		msg_quote(q, sizeof(q), s, len);
		if (i == NROLES)
			return yp_fail(y,
			    "unknown role \"%s\" (roles: read, import, "
			    "publish, delete, admin)",
			    q);
		if (g->roles & (1u << i))
			return yp_fail(y, "role \"%s\" is listed twice", q);
		g->roles |= 1u << i;
	}
	if (g->roles == 0)
		return yp_fail(y, "roles is empty: a grant gives at least one "
				  "role");
	return 0;
}

static int
grant_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct parse *st = arg;
	char q[MSG_QUOTE_MAX];

	if (yp_key_is(key, len, "identity")) {
		st->have_identity = 1;
		return identity_value(st);
	}
	if (yp_key_is(key, len, "projects")) {
		st->have_projects = 1;
		return projects_value(st);
	}
	if (yp_key_is(key, len, "roles")) {
		st->have_roles = 1;
		return roles_value(st);
	}
	return yp_fail(y,
	    "unknown key \"%s\" in a grant (keys: identity, projects, roles)",
	    msg_quote(q, sizeof(q), key, len));
}

static int
grants_value(struct parse *st)
{
	struct yp *y = st->y;
	struct authz_policy *p = st->p;

	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail(y, "grants must be a list of grants "
				  "(- identity: ..., projects: ..., roles: "
				  "...)");
	for (;;) {
		size_t line, col;

		if (yp_next(y) == -1)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (p->ngrants == LIM_POLICY_GRANTS_MAX)
			return yp_fail(
			    y, "more than %d grants", LIM_POLICY_GRANTS_MAX);
		void *ng =
		    realloc(p->grants, (p->ngrants + 1) * sizeof(*p->grants));
		if (ng == NULL)
			return yp_fail(y, "out of memory");
		p->grants = ng;
		st->g = &p->grants[p->ngrants++];
		memset(st->g, 0, sizeof(*st->g));
		line = y->ev.start_mark.line + 1;
		col = y->ev.start_mark.column + 1;
		st->g->line = line;
		st->have_identity = st->have_projects = st->have_roles = 0;
		if (yp_mapping(y, "a grant", grant_key, st) == -1)
			return -1;
		if (!st->have_identity)
			return fail_at(y, line, col,
			    "this grant has no identity (identity: "
			    "user:NAME, group:NAME, uid:N, gid:N, "
			    "cert:SHA256 or token:NAME)");
		if (!st->have_projects)
			return fail_at(y, line, col,
			    "this grant has no projects (projects: [NAME] or "
			    "[\"*\"])");
		if (!st->have_roles)
			return fail_at(y, line, col,
			    "this grant has no roles (roles: [read, ...])");
	}
}

static int
top_key(struct yp *y, const char *key, size_t len, void *arg)
{
	struct parse *st = arg;
	char q[MSG_QUOTE_MAX];

	if (yp_key_is(key, len, "grants")) {
		st->have_grants = 1;
		/* grants: (null) is no grants: only root and imgd's user. */
		if (yp_is_null(y))
			return 0;
		return grants_value(st);
	}
	return yp_fail(y, "unknown key \"%s\" (the policy has: grants)",
	    msg_quote(q, sizeof(q), key, len));
}

int
authz_parse(const char *doc, const void *buf, size_t len,
    struct authz_policy **out, char *err, size_t errlen)
{
	struct parse st = {0};
	struct yp y;
	int rc;

	*out = NULL;
	if (len > LIM_POLICY_MAX) {
		msg_set(err, errlen, "%s%s: larger than %llu bytes",
		    doc ? doc : "", doc ? "" : "the policy",
		    (unsigned long long)LIM_POLICY_MAX);
		return -1;
	}
	if ((st.p = calloc(1, sizeof(*st.p))) == NULL) {
		msg_set(err, errlen, "out of memory");
		return -1;
	}
	if (yp_init(&y, doc, buf, len, err, errlen) == -1) {
		authz_free(st.p);
		return -1;
	}
	y.columns = 1;
	st.y = &y;
	rc = yp_document(&y, top_key, &st);
	if (rc == 0 && !st.have_grants)
		rc = fail_at(&y, 1, 1,
		    "no grants: key (an empty policy is "
		    "\"grants: []\")");
	yp_free(&y);
	if (rc == -1) {
		authz_free(st.p);
		return -1;
	}
	*out = st.p;
	return 0;
}

int
authz_load(
    const char *path, struct authz_policy **out, char *err, size_t errlen)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		msg_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		msg_set(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_size > (off_t)LIM_POLICY_MAX) {
		msg_set(err, errlen, "%s: larger than %llu bytes", path,
		    (unsigned long long)LIM_POLICY_MAX);
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		msg_set(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	/* The size may change under us: read what is there, bounded. */
	while (off <= (size_t)sb.st_size &&
	       (n = read(fd, buf + off, (size_t)sb.st_size + 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (off > (size_t)sb.st_size) {
		msg_set(err, errlen, "%s: changed while it was read", path);
		free(buf);
		return -1;
	}
	rc = authz_parse(path, buf, off, out, err, errlen);
	free(buf);
	return rc;
}

/* ---- deciding ---- */

static int
grant_matches(const struct authz_grant *g, const struct authz_ident *id)
{
	switch (g->kind) {
	case ID_UID:
		return id->unix_peer && id->uid == g->num;
	case ID_GID:
		if (!id->unix_peer)
			return 0;
		for (size_t i = 0; i < id->ngids; i++)
			if (id->gids[i] == g->num)
				return 1;
		return 0;
	case ID_CERT:
		return !id->unix_peer && id->cert[0] &&
		       strcmp(id->cert, g->name) == 0;
	case ID_TOKEN:
		return !id->unix_peer && id->cert[0] && id->certname[0] &&
		       strcmp(id->certname, g->name) == 0;
	default:
		return 0;
	}
}

static int
grant_covers(const struct authz_grant *g, const char *project)
{
	for (size_t i = 0; i < g->nprojects; i++)
		if (strcmp(g->projects[i], "*") == 0 ||
		    (project != NULL && strcmp(g->projects[i], project) == 0))
			return 1;
	return 0;
}

unsigned
authz_roles(const struct authz_policy *p, const struct authz_ident *id,
    const char *project)
{
	unsigned r = 0;

	if (id->superuser)
		return ROLE_ALL;
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < p->ngrants; i++)
		if (grant_matches(&p->grants[i], id) &&
		    grant_covers(&p->grants[i], project))
			r |= p->grants[i].roles;
	return (r & ROLE_ADMIN) ? ROLE_ALL : r;
}

int
authz_known(const struct authz_policy *p, const struct authz_ident *id)
{
	if (id->superuser)
		return 1;
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < p->ngrants; i++)
		if (grant_matches(&p->grants[i], id))
			return 1;
	return 0;
}

int
authz_decide(const struct authz_policy *p, const struct authz_ident *id,
    const char *project, unsigned need, char *reason, size_t len)
{
	unsigned r = authz_roles(p, id, project);
	unsigned missing = need & ~r;
	char q[MSG_QUOTE_MAX];

	if (missing == 0)
		return AUTHZ_ALLOW;
	if (project != NULL && r == 0)
		return AUTHZ_NONE;
	if (project == NULL)
		msg_set(reason, len,
		    "you need the \"%s\" role on every project (\"*\")",
		    authz_role_name(missing));
	else
		msg_set(reason, len,
		    "you need the \"%s\" role in project \"%s\"",
		    authz_role_name(missing),
		    msg_quote(q, sizeof(q), project, strlen(project)));
	return AUTHZ_DENY;
}
