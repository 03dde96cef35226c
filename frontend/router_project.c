/*
 * The project routes (/1.0/projects): LXD's GET, POST, PUT, PATCH, DELETE
 * and POST-rename, each checked for shape and converted into one typed IPC
 * request. The store decides what is allowed (config keys, values, what a
 * project holding images may do) and audits refusals; only input that
 * cannot cross the channel is answered here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "ipc/codec.h"
#include "policy/names.h"

/* The "config" member: absent (0), taken (1), or wrong (-1, answered). */
static int
project_config(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n)
{
	json_t *p = json_object_get(o, "config"), *v;
	const char *k;
	size_t total = 0;

	*n = 0;
	if (p == NULL || json_is_null(p))
		return 0;
	if (!json_is_object(p)) {
		conn_error(c, 400,
		    "Invalid value for \"config\": expected an object of "
		    "strings");
		return -1;
	}
	json_object_foreach (p, k, v) {
		size_t kl = strlen(k);

		if (kl == 0 || kl > LIM_PROJECT_CONFIG_KEY_MAX ||
		    !ipc_str_valid(k, kl, CS_TOKEN)) {
			conn_error(c, 400,
			    "Invalid project configuration key \"%.128s\"", k);
			return -1;
		}
		if (!json_is_string(v) ||
		    json_string_length(v) > LIM_PROJECT_CONFIG_VALUE_MAX ||
		    !ipc_str_valid(
			json_string_value(v), json_string_length(v), CS_LINE)) {
			conn_error(c, 400,
			    "Invalid value for project configuration key "
			    "\"%s\": a string of at most %d characters, no "
			    "control characters",
			    k, LIM_PROJECT_CONFIG_VALUE_MAX);
			return -1;
		}
		if (*n == LIM_PROJECT_CONFIG_MAX ||
		    (total += kl + json_string_length(v)) >
			LIM_PROJECT_CONFIG_TOTAL) {
			conn_error(c, 400,
			    "Project configuration too large: at most %d keys, "
			    "%llu bytes in all",
			    LIM_PROJECT_CONFIG_MAX,
			    (unsigned long long)LIM_PROJECT_CONFIG_TOTAL);
			return -1;
		}
		kv[*n].key = (char *)k;
		kv[(*n)++].value = (char *)json_string_value(v);
	}
	return 1;
}

/* A name for a new project: the store's rule, said here only when the
 * name cannot cross the channel. */
static int
name_crosses(struct conn *c, const char *name)
{
	char why[128];

	if (project_name_ok(name))
		return 0;
	project_name_check(name, why, sizeof(why));
	conn_error(c, 400, "%s", why);
	return -1;
}

/* POST /1.0/projects, PUT and PATCH /1.0/projects/<name>. */
static void
project_write(struct conn *c, const char *name, const char *body, size_t len)
{
	struct imsg_project_change_req r = {
	    .peer = c->peer, .new_name = "", .description = ""};
	struct ipc_kv kv[LIM_PROJECT_CONFIG_MAX];
	const char *s = NULL;
	json_t *o;
	int rc;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (name == NULL) {
		r.action = PROJ_CREATE;
		if (get_str(c, o, "name", 4096, CS_ANY_UTF8, &s) == -1)
			goto out;
		if (s == NULL || !*s) {
			conn_error(c, 400, "No name provided");
			goto out;
		}
		if (name_crosses(c, s) == -1)
			goto out;
		r.name = (char *)s;
		c->status_ok = 201;
	} else {
		r.action =
		    strcmp(c->method, "PUT") == 0 ? PROJ_PUT : PROJ_PATCH;
		r.name = (char *)name;
		c->status_ok = 200;
	}
	s = NULL;
	if ((rc = get_str(
		 c, o, "description", LIM_DESCRIPTION_MAX, CS_LINE, &s)) == -1)
		goto out;
	if (rc) {
		r.description = (char *)s;
		r.set |= PROJ_SET_DESCRIPTION;
	}
	if ((rc = project_config(c, o, kv, &r.nconfig)) == -1)
		goto out;
	if (rc) {
		r.config = kv;
		r.set |= PROJ_SET_CONFIG;
	}
	send_req(c, IMSG_PROJECT_CHANGE_REQ, &r, WANT_OK);
out:
	json_decref(o);
}

static void
project_rename(struct conn *c, const char *name, const char *body, size_t len)
{
	struct imsg_project_change_req r = {.peer = c->peer,
	    .action = PROJ_RENAME,
	    .name = (char *)name,
	    .description = ""};
	const char *to = NULL;
	json_t *o;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (get_str(c, o, "name", 4096, CS_ANY_UTF8, &to) == -1)
		goto out;
	if (to == NULL || !*to) {
		conn_error(c, 400, "No name provided");
		goto out;
	}
	if (name_crosses(c, to) == -1)
		goto out;
	r.new_name = (char *)to;
	send_req(c, IMSG_PROJECT_CHANGE_REQ, &r, WANT_OP);
out:
	json_decref(o);
}

/* rest: what follows /1.0/projects/, or NULL for the collection. */
void
projects_route(struct conn *c, const char *rest, const char *body, size_t len)
{
	struct imsg_project_req r = {.name = "", .peer = c->peer};
	int get = strcmp(c->method, "GET") == 0;

	if (rest && strchr(rest, '/')) {
		conn_error(c, 501,
		    "not implemented: imgd does not implement "
		    "/1.0/projects/%.*s",
		    (int)(strlen(rest) < 96 ? strlen(rest) : 96), rest);
		return;
	}
	if (rest == NULL && strcmp(c->method, "POST") == 0) {
		project_write(c, NULL, body, len);
		return;
	}
	if (rest == NULL && !get) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	if (rest && !project_name_ok(rest)) {
		conn_error(c, 404, "Project not found");
		return;
	}
	if (rest && !get) {
		struct imsg_project_change_req d = {.peer = c->peer,
		    .action = PROJ_DELETE,
		    .name = (char *)rest,
		    .new_name = "",
		    .description = ""};

		if (strcmp(c->method, "PUT") == 0 ||
		    strcmp(c->method, "PATCH") == 0)
			project_write(c, rest, body, len);
		else if (strcmp(c->method, "POST") == 0)
			project_rename(c, rest, body, len);
		else if (strcmp(c->method, "DELETE") == 0) {
			c->status_ok = 200;
			send_req(c, IMSG_PROJECT_CHANGE_REQ, &d, WANT_OK);
		} else
			conn_error(c, 405, "Method not allowed");
		return;
	}
	c->recursion = rest != NULL || recursion_of(c);
	json_decref(c->list);
	c->list = json_array();
	if (rest)
		r.name = (char *)rest;
	r.used_by = (uint8_t)c->recursion;
	send_req(c, IMSG_PROJECT_REQ, &r, rest ? WANT_PROJECT : WANT_PROJECTS);
}
