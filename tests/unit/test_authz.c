/* Unit tests: the policy file (authz_parse) and the decision (authz_decide). */
#include <stdlib.h>
#include <string.h>

#include "policy/authz.h"
#include "tests/t.h"

static struct authz_policy *
parse_ok(const char *text)
{
	struct authz_policy *p = NULL;
	char err[512] = "";

	if (authz_parse("p.yaml", text, strlen(text), &p, err, sizeof(err)) !=
	    0)
		T_FAIL("refused: %s", err);
	return p;
}

/* Every kind of error, with where it is and what it says. */
T_TEST(test_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"", "p.yaml: line 1, column 1: empty document"},
	    {"grants: [",
		"p.yaml: line 2, column 1: did not find expected node"},
	    {"- a\n", "the top level must be a mapping"},
	    {"grant: []\n", "line 1, column 8: unknown key \"grant\" (the "
			    "policy has: grants)"},
	    {"other: 1\n", "unknown key \"other\""},
	    {"grants: []\ngrants: []\n",
		"line 2, column 1: duplicate key \"grants\""},
	    {"{}\n", "line 1, column 1: no grants: key"},
	    {"grants: 3\n", "line 1, column 9: grants must be a list"},
	    {"grants: [3]\n", "line 1, column 10: a grant must be a mapping"},
	    {"grants:\n  - identity: uid:0\n    projects: [a]\n",
		"line 2, column 5: this grant has no roles"},
	    {"grants:\n  - roles: [read]\n    projects: [a]\n",
		"line 2, column 5: this grant has no identity"},
	    {"grants:\n  - roles: [read]\n    identity: uid:1\n",
		"line 2, column 5: this grant has no projects"},
	    {"grants:\n  - identity: uid:1\n    projects: [a]\n"
	     "    roles: [read, wirte]\n",
		"line 4, column 19: unknown role \"wirte\" (roles: read, "
		"import, publish, delete, admin)"},
	    {"grants:\n  - identity: uid:1\n    projects: [a]\n"
	     "    roles: [read, read]\n",
		"line 4, column 19: role \"read\" is listed twice"},
	    {"grants:\n  - identity: uid:1\n    projects: [a]\n    roles: []\n",
		"roles is empty"},
	    {"grants:\n  - identity: uid:1\n    projects: [a]\n    roles: "
	     "read\n",
		"line 4, column 12: roles must be a list"},
	    {"grants:\n  - identity: uid:1\n    projects: []\n    roles: "
	     "[read]\n",
		"projects is empty"},
	    {"grants:\n  - identity: uid:1\n    projects: t1\n    roles: "
	     "[read]\n",
		"line 3, column 15: projects must be a list"},
	    {"grants:\n  - identity: uid:1\n    projects: [a, a]\n"
	     "    roles: [read]\n",
		"line 3, column 19: project \"a\" is listed twice"},
	    {"grants:\n  - identity: uid:1\n    projects: [\"a/b\"]\n"
	     "    roles: [read]\n",
		"line 3, column 16: project \"a/b\": "},
	    {"grants:\n  - identity: uid:1\n    projects: [[a]]\n"
	     "    roles: [read]\n",
		"a project must be a string"},
	    {"grants:\n  - identity: alice\n    projects: [a]\n"
	     "    roles: [read]\n",
		"line 2, column 15: identity \"alice\": expected uid:N"},
	    {"grants:\n  - identity: uid:x1\n    projects: [a]\n"
	     "    roles: [read]\n",
		"identity \"uid:x1\": a uid is a decimal number"},
	    {"grants:\n  - identity: uid:4294967295\n    projects: [a]\n"
	     "    roles: [read]\n",
		"a uid is a decimal number below 4294967295"},
	    {"grants:\n  - identity: \"gid:\"\n    projects: [a]\n"
	     "    roles: [read]\n",
		"nothing after the ':'"},
	    {"grants:\n  - identity: user:no-such-user-here\n    projects: "
	     "[a]\n    roles: [read]\n",
		"identity \"user:no-such-user-here\": no such user"},
	    {"grants:\n  - identity: group:no-such-group-here\n    projects: "
	     "[a]\n    roles: [read]\n",
		"identity \"group:no-such-group-here\": no such group"},
	    {"grants:\n  - identity: cert:abcd\n    projects: [a]\n"
	     "    roles: [read]\n",
		"a certificate is named by the 64 hex digits"},
	    {"grants:\n  - identity: cert:"
	     "zz00000000000000000000000000000000000000000000000000000000000000"
	     "\n    projects: [a]\n    roles: [read]\n",
		"not a hex digit at position 1"},
	    {"grants:\n  - identity: token:"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "\n    projects: [a]\n    roles: [read]\n",
		"a token name is at most 64 bytes"},
	    {"grants:\n  - identity: host:x\n    projects: [a]\n"
	     "    roles: [read]\n",
		"identity \"host:x\": unknown kind"},
	    {"grants:\n  - identity: [uid:1]\n    projects: [a]\n"
	     "    roles: [read]\n",
		"line 2, column 15: identity must be a string"},
	    {"grants:\n  - identity: uid:1\n    project: [a]\n"
	     "    roles: [read]\n",
		"line 3, column 14: unknown key \"project\" in a grant"},
	    {"grants:\n  - &a {identity: uid:1}\n",
		"YAML anchors are not allowed"},
	    {"grants:\n  - identity: !!str uid:1\n",
		"explicit YAML tags are not allowed"},
	    {"grants: []\n---\ngrants: []\n", "only one YAML document"},
	    {"grants:\n\t- identity: uid:1\n", "p.yaml: line 2, column 1: "},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct authz_policy *p = (struct authz_policy *)1;
		char err[512] = "";
		int rc = authz_parse("p.yaml", cases[i].text,
		    strlen(cases[i].text), &p, err, sizeof(err));

		T_EXPECT(rc == -1 && p == NULL, "case %zu accepted", i);
		T_EXPECT(strstr(err, cases[i].want) != NULL,
		    "case %zu: \"%s\", wanted \"%s\"", i, err, cases[i].want);
		T_EXPECT(strncmp(err, "p.yaml: ", 8) == 0,
		    "case %zu: not prefixed with the file: \"%s\"", i, err);
	}
}

T_TEST(test_too_big)
{
	struct authz_policy *p = NULL;
	char err[256] = "";
	size_t n = LIM_POLICY_MAX + 1;
	char *big = malloc(n);

	T_CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, ' ', n);
	T_EQ_INT(authz_parse("p.yaml", big, n, &p, err, sizeof(err)), -1);
	T_CONTAINS(err, "larger than");
	free(big);
}

T_TEST(test_names_resolved)
{
	struct authz_policy *p = parse_ok(
	    "grants:\n"
	    "  - identity: user:root\n    projects: [\"*\"]\n    roles: "
	    "[admin]\n"
	    "  - identity: group:root\n    projects: [t1, t2]\n"
	    "    roles: [read, import]\n"
	    "  - identity: cert:ABCDEF0000000000000000000000000000000000000000"
	    "000000000000000000\n    projects: [t1]\n    roles: [delete]\n"
	    "  - identity: token:ci\n    projects: [t1]\n    roles: [read]\n");

	T_CHECK(p != NULL);
	if (p == NULL)
		return;
	T_EQ_INT((int)p->ngrants, 4);
	T_EQ_INT(p->grants[0].kind, ID_UID);
	T_EQ_INT((int)p->grants[0].num, 0);
	T_EQ_INT(p->grants[1].kind, ID_GID);
	T_EQ_INT((int)p->grants[1].nprojects, 2);
	T_EQ_INT((int)p->grants[1].roles, ROLE_READ | ROLE_IMPORT);
	T_EQ_INT((int)p->grants[1].line, 5);
	/* Fingerprints compare in lower case. */
	T_EQ_STR(p->grants[2].name,
	    "abcdef0000000000000000000000000000000000000000000000000000000000");
	T_EQ_STR(p->grants[3].name, "ci");
	authz_free(p);
	/* An empty policy is allowed, and grants nothing. */
	p = parse_ok("grants: []\n");
	T_CHECK(p != NULL && p->ngrants == 0);
	authz_free(p);
	p = parse_ok("grants:\n");
	T_CHECK(p != NULL && p->ngrants == 0);
	authz_free(p);
}

/* Roles x actions: each role allows exactly what needs it. */
T_TEST(test_decide_table)
{
	static const unsigned roles[] = {
	    ROLE_READ, ROLE_IMPORT, ROLE_PUBLISH, ROLE_DELETE, ROLE_ADMIN};
	static const char *names[] = {
	    "read", "import", "publish", "delete", "admin"};
	char text[256], reason[200];

	for (size_t i = 0; i < 5; i++) {
		struct authz_ident id = {.unix_peer = 1, .uid = 1000};
		struct authz_policy *p;

		snprintf(text, sizeof(text),
		    "grants:\n  - identity: uid:1000\n    projects: [t1]\n"
		    "    roles: [%s]\n",
		    names[i]);
		if ((p = parse_ok(text)) == NULL)
			continue;
		for (size_t j = 0; j < 5; j++) {
			int want = (i == j || roles[i] == ROLE_ADMIN)
				       ? AUTHZ_ALLOW
				       : AUTHZ_DENY;
			int got = authz_decide(
			    p, &id, "t1", roles[j], reason, sizeof(reason));
			char w[100];

			T_EXPECT(got == want, "role %s, need %s: %d, wanted %d",
			    names[i], names[j], got, want);
			snprintf(w, sizeof(w),
			    "you need the \"%s\" role in project \"t1\"",
			    names[j]);
			if (got == AUTHZ_DENY)
				T_EQ_STR(reason, w);
			/* Another project: no role there at all. */
			T_EQ_INT(authz_decide(p, &id, "t2", roles[j], reason,
				     sizeof(reason)),
			    AUTHZ_NONE);
		}
		/* Admin of one project is not the server's admin. */
		T_EQ_INT(authz_decide(
			     p, &id, NULL, ROLE_ADMIN, reason, sizeof(reason)),
		    AUTHZ_DENY);
		T_EQ_STR(reason,
		    "you need the \"admin\" role on every project (\"*\")");
		authz_free(p);
	}
}

T_TEST(test_identities_match)
{
	struct authz_policy *p = parse_ok(
	    "grants:\n"
	    "  - identity: gid:2000\n    projects: [t1]\n    roles: [read]\n"
	    "  - identity: uid:1000\n    projects: [t1]\n    roles: [import]\n"
	    "  - identity: cert:"
	    "aaaa000000000000000000000000000000000000000000000000000000000000"
	    "\n    projects: [\"*\"]\n    roles: [admin]\n"
	    "  - identity: token:ci\n    projects: [t2]\n    roles: "
	    "[publish]\n");
	struct authz_ident sock = {.unix_peer = 1, .uid = 1000};
	struct authz_ident grp = {
	    .unix_peer = 1, .uid = 5, .gids = {7, 2000}, .ngids = 2};
	struct authz_ident cert = {.unix_peer = 0,
	    .cert = "aaaa000000000000000000000000000000000000000000000000000000"
		    "000000"};
	struct authz_ident tok = {.unix_peer = 0,
	    .cert = "bbbb000000000000000000000000000000000000000000000000000000"
		    "000000",
	    .certname = "ci"};
	struct authz_ident anon = {.unix_peer = 0};
	struct authz_ident sup = {.unix_peer = 1, .uid = 0, .superuser = 1};
	/* A uid over HTTPS is not a socket peer's uid. */
	struct authz_ident https_uid = {.unix_peer = 0, .uid = 1000};

	T_CHECK(p != NULL);
	if (p == NULL)
		return;
	T_EQ_INT((int)authz_roles(p, &sock, "t1"), ROLE_IMPORT);
	T_EQ_INT((int)authz_roles(p, &grp, "t1"), ROLE_READ);
	T_EQ_INT((int)authz_roles(p, &grp, "t2"), 0);
	T_EQ_INT((int)authz_roles(p, &cert, "anything"), ROLE_ALL);
	T_EQ_INT((int)authz_roles(p, &cert, NULL), ROLE_ALL);
	T_EQ_INT((int)authz_roles(p, &tok, "t2"), ROLE_PUBLISH);
	T_EQ_INT((int)authz_roles(p, &tok, "t1"), 0);
	T_EQ_INT((int)authz_roles(p, &anon, "t1"), 0);
	T_EQ_INT((int)authz_roles(p, &https_uid, "t1"), 0);
	T_EQ_INT((int)authz_roles(p, &sup, "t9"), ROLE_ALL);
	T_EQ_INT((int)authz_roles(NULL, &sup, NULL), ROLE_ALL);
	T_EQ_INT((int)authz_roles(NULL, &sock, "t1"), 0);
	T_CHECK(authz_known(p, &sock) && authz_known(p, &grp) &&
		authz_known(p, &tok) && !authz_known(p, &anon));
	authz_free(p);
}

int
main(void)
{
	T_RUN(test_errors);
	T_RUN(test_too_big);
	T_RUN(test_names_resolved);
	T_RUN(test_decide_table);
	T_RUN(test_identities_match);
	return T_DONE();
}
