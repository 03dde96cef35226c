/*
 * Who is asking. The frontend passes on where a request came in (the
 * listener id the store gave it) and what the socket told it about the
 * peer; the store derives the requestor from these, and from nothing the
 * frontend says about it. A request naming a listener
 * the store never gave is a frontend that lies: it is killed.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static const struct {
	uint32_t id;
	int kind;
	const char *name;
} listeners[] = {
    /* The unix socket: whoever may connect (its owner and group) is
     * trusted, as with LXD's. */
    {1, LISTEN_UNIX, "unix socket"},
    /* HTTPS: trusted by the client certificate's fingerprint, else the
     * public view. */
    {2, LISTEN_HTTPS, "https"},
};

static struct who current;

uint32_t
peer_unix_listener(void)
{
	return listeners[0].id;
}

uint32_t
peer_https_listener(void)
{
	return listeners[1].id;
}

/* The peer's groups: its gid, then those the user database gives its
 * user (as `id USER` shows them). */
static void
peer_groups(struct authz_ident *id, const char *user, gid_t pw_gid)
{
	gid_t g[LIM_PEER_GROUPS];
	int n = LIM_PEER_GROUPS;

	/* -1: more than fit; glibc filled the array with the first ones. */
	if (getgrouplist(user, pw_gid, g, &n) == -1)
		n = LIM_PEER_GROUPS;
	for (int i = 0; i < n && id->ngids < LIM_PEER_GROUPS; i++)
		if ((uint32_t)g[i] != id->gids[0])
			id->gids[id->ngids++] = (uint32_t)g[i];
}

/* Admin whatever the policy says: root and imgd's own user; and without
 * a policy, the members of the socket's group. */
static int
unix_superuser(const struct authz_ident *id)
{
	if (id->uid == 0 || id->uid == (uint32_t)geteuid())
		return 1;
	if (S->policy != NULL)
		return 0;
	/* Started by an ordinary user, the frontend's user namespace maps
	 * only that user: root and the others show as the overflow uid. The
	 * socket's owner and mode (0660, the user's group) decide then, as
	 * they did before there was a policy. */
	if (!S->root)
		return 1;
	for (size_t i = 0; i < id->ngids; i++)
		if (id->gids[i] == (uint32_t)S->socket_gid)
			return 1;
	return 0;
}

int
peer_derive(const struct ipc_peer *p, struct who *w)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	size_t i;

	for (i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++)
		if (listeners[i].id == p->listener &&
		    (listeners[i].kind != LISTEN_HTTPS || S->https_fd != -1))
			break;
	if (i == sizeof(listeners) / sizeof(listeners[0]))
		return -1;
	memset(w, 0, sizeof(*w));
	if (listeners[i].kind == LISTEN_HTTPS) {
		struct cert c;
		int trusted = p->cert && strlen(p->cert) == 64 &&
			      db_cert_resolve(p->cert, &c) == DB_OK;

		/* Not a local user: the certificate is who it is. */
		if (trusted) {
			snprintf(w->id.cert, sizeof(w->id.cert), "%s", p->cert);
			snprintf(w->id.certname, sizeof(w->id.certname), "%s",
			    c.name);
			/* Without a policy, trust is admin, as in LXD. */
			w->id.superuser = S->policy == NULL;
		}
		if (p->cert && p->cert[0])
			snprintf(w->username, sizeof(w->username), "cert %.12s",
			    p->cert);
		else
			snprintf(w->username, sizeof(w->username), "anonymous");
		snprintf(w->requestor, sizeof(w->requestor), "%s (%s, %s)",
		    w->username, trusted ? "trusted" : "untrusted",
		    listeners[i].name);
		return 0;
	}
	w->id.unix_peer = 1;
	w->id.uid = p->uid;
	w->id.gids[0] = p->gid;
	w->id.ngids = 1;
	if (getpwuid_r((uid_t)p->uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL) {
		snprintf(w->username, sizeof(w->username), "%s", pw.pw_name);
		peer_groups(&w->id, pw.pw_name, pw.pw_gid);
	} else
		snprintf(w->username, sizeof(w->username), "uid %u", p->uid);
	w->id.superuser = unix_superuser(&w->id);
	snprintf(w->requestor, sizeof(w->requestor), "%s (uid %u, %s)",
	    w->username, p->uid, listeners[i].name);
	return 0;
}

/* The request being dispatched now: api_dispatch sets it. */
void
peer_set_current(const struct who *w)
{
	current = *w;
}

const struct who *
peer_current(void)
{
	return &current;
}
