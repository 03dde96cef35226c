/*
 * The image alias routes (/1.0/images/aliases): each checks and converts
 * the request into one typed IPC request, as router.c's routes do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "policy/names.h"
#include "ipc/codec.h"
#include "ipc/log.h"

/* A name that may exist: what the store could be asked about. */
int
alias_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LIM_ALIAS_NAME_MAX && ipc_str_valid(s, n, CS_LINE);
}

/*
 * A new name: the store decides (and audits a refusal); only a name that
 * cannot cross the channel (too long, control characters) is answered
 * here, with the store's words.
 */
static int
alias_name_new(struct conn *c, const char *name)
{
	char msg[300];

	if (alias_name_ok(name))
		return 0;
	alias_name_refusal(name, msg, sizeof(msg));
	conn_error(c, 400, "%s", msg);
	return -1;
}

static void
alias_create(struct conn *c, const char *body, size_t len)
{
	struct imsg_alias_create_req r = {.project = c->project,
	    .peer = c->peer,
	    .description = "",
	    .type = ""};
	const char *name = NULL, *target = NULL, *s;
	char ref[65];
	json_t *o;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (get_str(c, o, "name", 4096, CS_ANY_UTF8, &name) == -1 ||
	    get_str(c, o, "target", 4096, CS_ANY_UTF8, &target) == -1)
		goto out;
	if (name == NULL || *name == '\0' || target == NULL || !*target) {
		conn_error(c, 400, "name and target are required");
		goto out;
	}
	if (alias_name_new(c, name) == -1)
		goto out;
	if (image_ref(target, ref) == -1) {
		conn_error(c, 404, "Image not found");
		goto out;
	}
	if (get_str(c, o, "description", LIM_ALIAS_DESC_MAX, CS_LINE, &s) == -1)
		goto out;
	if (s && json_object_get(o, "description"))
		r.description = (char *)s;
	s = NULL;
	if (get_str(c, o, "type", 32, CS_TOKEN, &s) == -1)
		goto out;
	r.type = (char *)(s ? s : "");
	r.name = (char *)name;
	r.target = ref;
	c->status_ok = 201;
	send_req(c, IMSG_ALIAS_CREATE_REQ, &r, WANT_OK);
out:
	json_decref(o);
}

static void
alias_put(struct conn *c, const char *name, const char *body, size_t len)
{
	struct imsg_alias_update_req r = {.project = c->project,
	    .peer = c->peer,
	    .name = (char *)name,
	    .target = "",
	    .description = ""};
	char etag[LIM_ETAG_MAX + 1], ref[65];
	const char *target = NULL, *desc = NULL;
	json_t *o;
	int rc;

	if (if_match(c, etag) == -1 || (o = body_object(c, body, len)) == NULL)
		return;
	r.if_match = etag;
	r.mode = strcmp(c->method, "PUT") == 0 ? UPD_PUT : UPD_PATCH;
	if ((rc = get_str(c, o, "target", 4096, CS_ANY_UTF8, &target)) == -1)
		goto out;
	if (rc && *target) {
		if (image_ref(target, ref) == -1) {
			conn_error(c, 404, "Image not found");
			goto out;
		}
		r.target = ref;
		r.set |= UPD_TARGET;
	}
	if ((rc = get_str(c, o, "description", LIM_ALIAS_DESC_MAX, CS_LINE,
		 &desc)) == -1)
		goto out;
	if (rc) {
		r.description = (char *)desc;
		r.set |= UPD_DESCRIPTION;
	}
	c->status_ok = 200;
	send_req(c, IMSG_ALIAS_UPDATE_REQ, &r, WANT_OK);
out:
	json_decref(o);
}

static void
alias_rename(struct conn *c, const char *name, const char *body, size_t len)
{
	struct imsg_alias_rename_req r = {
	    .project = c->project, .peer = c->peer, .name = (char *)name};
	const char *to = NULL;
	json_t *o;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (get_str(c, o, "name", 4096, CS_ANY_UTF8, &to) == -1)
		goto out;
	if (to == NULL) {
		conn_error(c, 400, "name is required");
		goto out;
	}
	if (alias_name_new(c, to) == -1)
		goto out;
	r.new_name = (char *)to;
	c->status_ok = 201;
	send_req(c, IMSG_ALIAS_RENAME_REQ, &r, WANT_OK);
out:
	json_decref(o);
}

void
aliases_route(struct conn *c, const char *rest, const char *body, size_t len)
{
	struct imsg_alias_list_req l = {.project = c->project, .peer = c->peer};
	struct imsg_alias_req r = {.project = c->project, .peer = c->peer};

	if (rest == NULL) {
		if (strcmp(c->method, "GET") == 0) {
			c->recursion = recursion_of(c);
			c->page_items = c->more_pending = 0;
			send_req(c, IMSG_ALIAS_LIST_REQ, &l, WANT_ALIASES);
		} else if (strcmp(c->method, "POST") == 0)
			alias_create(c, body, len);
		else
			conn_error(c, 405, "Method not allowed");
		return;
	}
	if (!alias_name_ok(rest)) {
		conn_error(c, 404, "Image alias not found");
		return;
	}
	r.name = (char *)rest;
	if (strcmp(c->method, "GET") == 0)
		send_req(c, IMSG_ALIAS_GET_REQ, &r, WANT_ALIAS);
	else if (strcmp(c->method, "DELETE") == 0) {
		c->status_ok = 200;
		send_req(c, IMSG_ALIAS_DELETE_REQ, &r, WANT_OK);
	} else if (strcmp(c->method, "PUT") == 0 ||
		   strcmp(c->method, "PATCH") == 0)
		alias_put(c, rest, body, len);
	else if (strcmp(c->method, "POST") == 0)
		alias_rename(c, rest, body, len);
	else
		conn_error(c, 405, "Method not allowed");
}
