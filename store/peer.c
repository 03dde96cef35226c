/*
 * Who is asking. The frontend passes on where a request came in (the
 * listener id the store gave it) and what the socket told it about the
 * peer; the store derives the requestor from these, and from nothing the
 * frontend says about it. A request naming a listener
 * the store never gave is a frontend that lies: it is killed.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

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
		/* Not a local user: the certificate is who it is. */
		w->trusted = trust_peer_trusted(p->cert);
		if (p->cert && p->cert[0])
			snprintf(w->username, sizeof(w->username), "cert %.12s",
			    p->cert);
		else
			snprintf(w->username, sizeof(w->username), "anonymous");
		snprintf(w->requestor, sizeof(w->requestor), "%s (%s, %s)",
		    w->username, w->trusted ? "trusted" : "untrusted",
		    listeners[i].name);
		return 0;
	}
	w->trusted = 1;
	if (getpwuid_r((uid_t)p->uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		snprintf(w->username, sizeof(w->username), "%s", pw.pw_name);
	else
		snprintf(w->username, sizeof(w->username), "uid %u", p->uid);
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
