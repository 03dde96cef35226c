/*
 * Access: the decision for every request, made here from the policy
 * (policy/authz.c) and who asks (store/peer.c), never by the frontend.
 *
 * Without a policy file the socket is admin for root, imgd's own user
 * and the members of unix.socket's group (socket_group), as LXD's socket
 * is for the lxd group; any other local user is refused with a message
 * that says so; over HTTPS a trusted certificate is admin and any other
 * client sees the public view. With a policy, root and imgd's own user
 * stay admin, and everyone else has the roles its grants give: in a
 * project where it has none, it sees what an untrusted client sees there
 * (public images only), and a change there is answered as if the project
 * did not exist, so that nothing is learnt about other projects.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static char policy_path[1024];
static int policy_explicit; /* --policy or the config named it */

/* After a failed load: nothing at the default path, which is no policy
 * (a file named by --policy or the config must be there). */
static int
policy_absent(void)
{
	return errno == ENOENT && !policy_explicit &&
	       access(policy_path, F_OK) == -1;
}

/* What a request needs: roles in its project (NEED_PROJECT) or on "*"
 * (NEED_SERVER), or nothing; and the project it names, for the audit. */
enum { NEED_NOTHING, NEED_PROJECT, NEED_SERVER };
struct need {
	int scope;
	const char *project; /* NEED_PROJECT: where the roles are needed */
	const char *about;   /* the project the request names, or "" */
	unsigned roles;
	int readonly; /* with no role in the project: the public view */
};

static void
need_project(struct need *n, const char *project, unsigned roles, int ro)
{
	n->scope = NEED_PROJECT;
	n->project = n->about = project;
	n->roles = roles;
	n->readonly = ro;
}

static void
need_server(struct need *n, unsigned roles, const char *about)
{
	n->scope = NEED_SERVER;
	n->project = NULL;
	n->about = about;
	n->roles = roles;
	n->readonly = 0;
}

/* The table: which role each request needs, and where. */
static void
need_of(const struct ipc_msg *m, struct need *n)
{
	const union imsg_any *a = &m->m;

	memset(n, 0, sizeof(*n));
	n->about = "";
	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
		need_project(n, a->images_list_req.project, ROLE_READ, 1);
		break;
	case IMSG_IMAGE_GET_REQ:
	case IMSG_IMAGE_EXPORT_REQ:
		need_project(n, a->image_ref_req.project, ROLE_READ, 1);
		break;
	case IMSG_ALIAS_GET_REQ:
		need_project(n, a->alias_req.project, ROLE_READ, 1);
		break;
	case IMSG_ALIAS_LIST_REQ:
		need_project(n, a->alias_list_req.project, ROLE_READ, 0);
		break;
	case IMSG_OP_GET_REQ:
	case IMSG_OP_LIST_REQ:
	case IMSG_OP_WAIT_REQ:
		need_project(n, a->op_req.project, ROLE_READ, 0);
		break;
	case IMSG_PROJECT_REQ:
		/* All: the list shows the projects with a role in them. */
		if (a->project_req.name[0])
			need_project(n, a->project_req.name, ROLE_READ, 0);
		break;
	case IMSG_SERVER_REQ:
		/* Events: a project's need read there (operations carry
		 * image secrets), all projects' read on "*". */
		if (a->server_req.what == SRV_EVENTS)
			need_project(n, a->server_req.project, ROLE_READ, 0);
		else if (a->server_req.what == SRV_EVENTS_ALL ||
			 a->server_req.what == SRV_METRICS)
			need_server(n, ROLE_READ, "");
		break;
	case IMSG_IMAGE_DELETE_REQ:
		need_project(n, a->image_ref_req.project, ROLE_DELETE, 0);
		break;
	case IMSG_IMAGE_SECRET_REQ:
		need_project(n, a->image_ref_req.project, ROLE_PUBLISH, 0);
		break;
	case IMSG_IMAGE_UPDATE_REQ:
		/* and publish when it changes public (image_update) */
		need_project(n, a->image_update_req.project, ROLE_IMPORT, 0);
		break;
	case IMSG_IMAGE_REFRESH_REQ:
		need_project(n, a->image_ref_req.project, ROLE_IMPORT, 0);
		break;
	case IMSG_ALIAS_CREATE_REQ:
		need_project(n, a->alias_create_req.project, ROLE_PUBLISH, 0);
		break;
	case IMSG_ALIAS_UPDATE_REQ:
		need_project(n, a->alias_update_req.project, ROLE_PUBLISH, 0);
		break;
	case IMSG_ALIAS_RENAME_REQ:
		need_project(n, a->alias_rename_req.project, ROLE_PUBLISH, 0);
		break;
	case IMSG_ALIAS_DELETE_REQ:
		need_project(n, a->alias_req.project, ROLE_PUBLISH, 0);
		break;
	case IMSG_UPLOAD_BEGIN: {
		const struct imsg_upload_begin *b = &a->upload_begin;

		need_project(n, b->project,
		    ROLE_IMPORT |
			(b->public || b->naliases ? ROLE_PUBLISH : 0u),
		    0);
		break;
	}
	case IMSG_IMAGE_COPY_REQ: {
		const struct imsg_image_copy_req *c = &a->image_copy_req;

		need_project(n, c->project,
		    ROLE_IMPORT | (c->public || c->naliases || c->copy_aliases
					  ? ROLE_PUBLISH
					  : 0u),
		    0);
		break;
	}
	case IMSG_IMAGE_UNPACK_REQ:
		/* It writes the image's owners and setuid bits on the host,
		 * under a root every project shares: the server's. */
		need_server(n, ROLE_ADMIN, a->image_unpack_req.project);
		break;
	case IMSG_PUBLISH_REQ:
		/* It reads a directory of the host, as root. */
		need_server(n, ROLE_ADMIN, a->publish_req.project);
		break;
	case IMSG_PROJECT_CHANGE_REQ:
		/* features.images=false would make a project share the
		 * default's images, and limits.* are the operator's: every
		 * project change is the server's. */
		need_server(n, ROLE_ADMIN, a->project_change_req.name);
		break;
	case IMSG_CERT_REQ:
		/* Joining with a token is for untrusted clients. */
		if (a->cert_req.action != CERT_JOIN)
			need_server(n, ROLE_ADMIN, "");
		break;
	default: /* UPLOAD_REFUSED */
		break;
	}
}

const char *
access_project_of(const struct ipc_msg *m)
{
	struct need n;

	need_of(m, &n);
	return n.about;
}

/* What a client with no role anywhere may ask for: the public view, and
 * to join with a token. */
static int
public_request(const struct ipc_msg *m)
{
	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
	case IMSG_IMAGE_GET_REQ:
	case IMSG_IMAGE_EXPORT_REQ:
	case IMSG_ALIAS_GET_REQ:
		return 1;
	case IMSG_SERVER_REQ: /* GET /1.0 and events: not the metrics */
		return m->m.server_req.what != SRV_METRICS;
	case IMSG_CERT_REQ:
		return m->m.cert_req.action == CERT_JOIN;
	default:
		return 0;
	}
}

/* Why a local user with no role is refused. */
static void
unix_refusal(const struct who *w, char *buf, size_t len)
{
	struct group gr, *res = NULL;
	char gbuf[4096], gname[64];

	if (S->policy != NULL) {
		snprintf(buf, len,
		    "%s has no role in imgd's policy (%s); ask its "
		    "operator for a grant",
		    w->requestor, policy_path);
		return;
	}
	if (getgrgid_r(S->socket_gid, &gr, gbuf, sizeof(gbuf), &res) == 0 &&
	    res != NULL)
		snprintf(gname, sizeof(gname), "%s", gr.gr_name);
	else
		snprintf(gname, sizeof(gname), "%u", (unsigned)S->socket_gid);
	snprintf(buf, len,
	    "%s is not root and not in imgd's socket group \"%s\", and "
	    "imgd has no policy file to grant it a role",
	    w->requestor, gname);
}

/* -1, with the refusal in w for the dispatcher (or upload_admit). */
static int
deny(struct who *w, int cause, int subject, const char *name)
{
	w->trusted = 0;
	w->deny_cause = cause;
	w->deny_subject = subject;
	snprintf(w->deny_name, sizeof(w->deny_name), "%s", name ? name : "");
	return -1;
}

int
access_check(const struct ipc_msg *m, struct who *w)
{
	struct need n;
	char reason[sizeof(w->deny_name)] = "", why[160] = "";
	int known = authz_known(S->policy, &w->id);
	int v;

	need_of(m, &n);
	w->trusted = 1;
	w->deny_cause = 0;
	if (m->type == IMSG_UPLOAD_REFUSED)
		return 0; /* the frontend's word, only recorded */
	if (w->id.unix_peer && !known) {
		unix_refusal(w, reason, sizeof(reason));
		return deny(w, ERR_FORBIDDEN, RES_NONE, reason);
	}
	if (n.scope == NEED_NOTHING) {
		w->trusted = known;
		v = AUTHZ_NONE;
	} else {
		v = authz_decide(S->policy, &w->id, n.project, n.roles, reason,
		    sizeof(reason));
		if (v == AUTHZ_ALLOW)
			return 0;
		if (v == AUTHZ_DENY && known)
			return deny(w, ERR_FORBIDDEN, RES_NONE, reason);
		w->trusted = 0;
	}
	if (known) {
		/* No role in the project: reads see the public view, the
		 * rest is answered as for a project that does not exist. */
		if (n.scope == NEED_NOTHING || n.readonly)
			return 0;
		return deny(w, ERR_NOT_FOUND, RES_PROJECT, n.project);
	}
	/* No role anywhere: the public view, and the untrusted refusal
	 * (saying so when the certificate is trusted and only the policy
	 * gives it nothing). */
	if (public_request(m))
		return 0;
	if (w->id.cert[0])
		snprintf(why, sizeof(why),
		    "certificate %.12s is trusted but has no role in imgd's "
		    "policy; ask its operator for a grant",
		    w->id.cert);
	return deny(w, ERR_FORBIDDEN, RES_NONE, why[0] ? why : NULL);
}

int
access_need(uint64_t reqid, const char *project, unsigned roles)
{
	const struct who *w = peer_current();
	char reason[200];

	if (authz_decide(S->policy, &w->id, project, roles, reason,
		sizeof(reason)) == AUTHZ_ALLOW)
		return 0;
	api_refuse(reqid, ERR_FORBIDDEN, RES_NONE, reason);
	return -1;
}

int
access_reads_log(const struct authz_ident *id)
{
	return (authz_roles(S->policy, id, NULL) & ROLE_ADMIN) != 0;
}

int
access_sees_project(const struct authz_ident *id, const char *project)
{
	return authz_roles(S->policy, id, project) != 0;
}

/* ---- the policy file ---- */

const char *
access_policy_path(void)
{
	return policy_path;
}

void
access_init(const char *path)
{
	char err[1024], resolved[PATH_MAX];

	policy_explicit =
	    path != NULL || strcmp(S->cfg.policy, IMGD_POLICY_DEFAULT) != 0;
	snprintf(policy_path, sizeof(policy_path), "%s",
	    path != NULL ? path : S->cfg.policy);
	/* SIGHUP reads it again: the same file, whatever the cwd. */
	if (policy_path[0] && realpath(policy_path, resolved) != NULL)
		snprintf(policy_path, sizeof(policy_path), "%s", resolved);
	if (!policy_path[0]) {
		log_info("no policy file (policy: \"\"): the socket is for "
			 "root and its group");
		return;
	}
	if (authz_load(policy_path, &S->policy, err, sizeof(err)) == -1) {
		if (policy_absent()) {
			log_info("no policy file at %s: the socket is for "
				 "root and its group, trusted certificates "
				 "are admin",
			    policy_path);
			return;
		}
		fatalx("policy: %s", err);
	}
	/* Not root, the frontend's user namespace shows every other peer
	 * as the overflow uid: a uid or group grant would match no one, or
	 * everyone. */
	if (geteuid() != 0)
		fatalx("policy %s: a policy needs imgd to run as root (local "
		       "peers are not told apart otherwise)",
		    policy_path);
	log_info("policy %s: %zu grants", policy_path, S->policy->ngrants);
}

void
access_reload(void)
{
	struct authz_policy *p;
	char err[1024], n[32];

	if (!policy_path[0]) {
		log_info("SIGHUP: no policy file to reload (policy: \"\")");
		return;
	}
	if (authz_load(policy_path, &p, err, sizeof(err)) == -1) {
		if (S->policy == NULL && policy_absent()) {
			log_info(
			    "SIGHUP: still no policy file at %s", policy_path);
			return;
		}
		log_warnx("SIGHUP: policy not reloaded, %s stays in force: %s",
		    S->policy ? "the old one" : "no policy", err);
		audit(
		    "policy-refused", "path", policy_path, "cause", err, NULL);
		return;
	}
	/* One swap between two requests: none sees half of each. */
	authz_free(S->policy);
	S->policy = p;
	snprintf(n, sizeof(n), "%zu", p->ngrants);
	log_info("SIGHUP: policy %s reloaded: %s grants", policy_path, n);
	audit("policy-loaded", "path", policy_path, "grants", n, NULL);
	/* A listener was let in by the old policy: each asks again. */
	struct imsg_events_close ec = {
	    .reason = "imgd's policy changed: reconnect"};
	struct child *fe = proc_frontend();
	if (fe)
		proc_send(fe, IMSG_EVENTS_CLOSE, 0, &ec, -1);
}

int
access_check_file(const char *path)
{
	struct authz_policy *p;
	char err[1024];

	if (authz_load(path, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: ok, %zu grants\n", path, p->ngrants);
	authz_free(p);
	return 0;
}
