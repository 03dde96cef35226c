/*
 * The policy: who may do what in which project. One file (policy.yaml,
 * read with the strict YAML reader) of grants, each an identity, the
 * projects it covers and the roles it holds there; one decision function
 * that the store asks for every request. Nothing here reads the request
 * or the database: the store says who asks, for what, in which project.
 *
 *	grants:
 *	  - identity: group:team1	# uid:N user:NAME gid:N group:NAME
 *	    projects: [t1]		# cert:SHA256 token:NAME
 *	    roles: [read, import, publish, delete]
 *	  - identity: user:ops
 *	    projects: ["*"]		# every project, and the server
 *	    roles: [admin]
 */
#ifndef IMGD_POLICY_AUTHZ_H
#define IMGD_POLICY_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"

/* Roles, as bits. admin in a project implies the others there; admin on
 * "*" is the server's (projects, trust, policy). */
enum {
	ROLE_READ = 1u << 0,
	ROLE_IMPORT = 1u << 1,
	ROLE_PUBLISH = 1u << 2,
	ROLE_DELETE = 1u << 3,
	ROLE_ADMIN = 1u << 4,
	ROLE_ALL = (1u << 5) - 1,
};

/* Kinds of identity a grant names. */
enum { ID_UID, ID_GID, ID_CERT, ID_TOKEN };

struct authz_grant {
	int kind;
	uint32_t num;  /* ID_UID, ID_GID */
	char name[72]; /* ID_CERT: 64 hex digits; ID_TOKEN: the name */
	char (*projects)[LIM_PROJECT_NAME_MAX + 1]; /* "*": every project */
	size_t nprojects;
	unsigned roles;
	size_t line; /* where the grant starts, for messages */
};

struct authz_policy {
	struct authz_grant *grants;
	size_t ngrants;
};

/* Who asks, as the store derived it. */
struct authz_ident {
	int unix_peer;			/* 1: the socket; 0: HTTPS */
	uint32_t uid;			/* unix_peer */
	uint32_t gids[LIM_PEER_GROUPS]; /* the peer's gid, then its user's */
	size_t ngids;
	char cert[65]; /* HTTPS: fingerprint of a trusted cert, or "" */
	char certname[LIM_CERT_NAME_MAX + 1]; /* its name (a join token's) */
	int superuser; /* every role everywhere, whatever the policy */
};

enum {
	AUTHZ_ALLOW = 0,
	AUTHZ_DENY, /* some role in the project, not this one: 403 */
	AUTHZ_NONE, /* no role in the project at all */
};

/*
 * Parses a policy document: 0 and *out, or -1 with "<doc>: line N,
 * column M: what is wrong" in err. User and group names are resolved now:
 * one that does not exist is an error.
 */
int authz_parse(const char *doc, const void *buf, size_t len,
    struct authz_policy **out, char *err, size_t errlen);
/* authz_parse() of a file (at most LIM_POLICY_MAX bytes). */
int authz_load(
    const char *path, struct authz_policy **out, char *err, size_t errlen);
void authz_free(struct authz_policy *p);

/* The roles ident holds in project (NULL: on "*" only), admin expanded. */
unsigned authz_roles(const struct authz_policy *p, const struct authz_ident *id,
    const char *project);
/* Whether ident holds any role anywhere. */
int authz_known(const struct authz_policy *p, const struct authz_ident *id);
/*
 * Whether ident may do what needs the roles in need in project (NULL: the
 * server's, which only a grant on "*" gives). AUTHZ_DENY writes the
 * reason, naming the missing role and nothing else: "you need the
 * \"delete\" role in project \"t1\"".
 */
int authz_decide(const struct authz_policy *p, const struct authz_ident *id,
    const char *project, unsigned need, char *reason, size_t len);
/* "read", "import", ...: the name of the lowest role in roles. */
const char *authz_role_name(unsigned roles);
/* "read, import": roles written out. */
const char *authz_roles_text(unsigned roles, char *buf, size_t len);

#endif
