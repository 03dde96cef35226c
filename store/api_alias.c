/*
 * Image aliases: get, create, update (PUT/PATCH), rename, delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"
#include "store/api.h"

/* ---- aliases ---- */

void
reply_alias(uint64_t reqid, const struct alias *a)
{
	struct child *fe = proc_frontend();
	char etag[65];
	struct imsg_alias_info m = {
	    .name = (char *)a->name,
	    .description = (char *)a->description,
	    .target = (char *)a->target,
	    .type = "container",
	    .etag = etag,
	};

	alias_etag(a, etag);
	if (fe)
		proc_send(fe, IMSG_ALIAS_INFO, reqid, &m, -1);
}

static int
alias_lookup(uint64_t reqid, const char *proj, const char *name, int64_t *pid,
    struct alias *a)
{
	if (api_project(reqid, proj, pid) == -1)
		return -1;
	if (db_alias_get(*pid, name, a) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_ALIAS, name);
		return -1;
	}
	return 0;
}

void
alias_get(uint64_t reqid, struct imsg_alias_req *r)
{
	struct alias a;
	int64_t pid;

	struct image img;

	if (!peer_current()->trusted) {
		/* An alias of a private image is missing to the public. */
		if (db_project_id(r->project, &pid) != DB_OK ||
		    db_alias_get(pid, r->name, &a) != DB_OK ||
		    db_image_by_fp(pid, a.target, &img) != DB_OK) {
			api_refuse(reqid, ERR_NOT_FOUND, RES_ALIAS, NULL);
			return;
		}
		if (!img.public) {
			image_free(&img);
			api_refuse(reqid, ERR_NOT_FOUND, RES_ALIAS, NULL);
			return;
		}
		image_free(&img);
		reply_alias(reqid, &a);
		return;
	}
	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == 0)
		reply_alias(reqid, &a);
}

/* The alias target: an image of this project, by fingerprint or prefix. */
static int
alias_target(
    uint64_t reqid, int64_t pid, const char *ref, int64_t *id, int64_t keep)
{
	struct image img;
	int rc = db_image_resolve(pid, ref, 0, &img);
	int n;

	if (rc != DB_OK) {
		if (rc == DB_AMBIGUOUS)
			image_free(&img);
		reply_db(reqid, rc, RES_IMAGE);
		return -1;
	}
	*id = img.id;
	image_free(&img);
	n = db_alias_count(*id);
	if (*id != keep && n >= LIM_ALIASES_PER_IMAGE) {
		struct fault f;

		fault_set(&f, ERR_TOO_MANY_ALIASES, RES_IMAGE, ref);
		f.limit = LIM_ALIASES_PER_IMAGE;
		reply_fault(reqid, &f);
		return -1;
	}
	return 0;
}

/* The rule for new alias names is decided here; -1 when refused. */
static int
alias_refuse_name(uint64_t reqid, const char *name)
{
	char msg[300];
	struct fault f;

	if (alias_name_refusal(name, msg, sizeof(msg)) == 0)
		return 0;
	fault_invalid(&f, "%s", msg);
	reply_fault(reqid, &f);
	return -1;
}

void
alias_create(uint64_t reqid, struct imsg_alias_create_req *r)
{
	struct alias a;
	int64_t pid, id;

	if (api_project(reqid, r->project, &pid) == -1 ||
	    alias_refuse_name(reqid, r->name) == -1)
		return;
	if (r->type[0] && strcmp(r->type, "container") != 0) {
		api_refuse(reqid, ERR_ALIAS_TYPE, RES_ALIAS, r->type);
		return;
	}
	if (db_alias_get(pid, r->name, &a) == DB_OK) {
		api_refuse(reqid, ERR_EXISTS, RES_ALIAS, r->name);
		return;
	}
	if (alias_target(reqid, pid, r->target, &id, -1) == -1)
		return;
	if (db_alias_insert(pid, r->name, r->description, id) != DB_OK) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		return;
	}
	db_alias_get(pid, r->name, &a);
	audit("image-alias-created", "project", r->project, "alias", r->name,
	    "target", a.target, "requestor", peer_current()->requestor, NULL);
	reply_ok(reqid, RES_ALIAS, r->name);
	api_lifecycle(r->project, "image-alias-created", RES_ALIAS, r->name,
	    peer_current()->username, "target", a.target);
}

void
alias_update(uint64_t reqid, struct imsg_alias_update_req *r)
{
	struct alias a;
	char etag[65];
	const char *desc;
	int64_t pid, id;
	int put = r->mode == UPD_PUT;

	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	alias_etag(&a, etag);
	if (r->if_match[0] && strcmp(r->if_match, etag) != 0) {
		api_refuse(reqid, ERR_CHANGED, RES_ALIAS, r->name);
		return;
	}
	if (put && !(r->set & UPD_TARGET)) {
		api_refuse(reqid, ERR_NO_TARGET, RES_ALIAS, r->name);
		return;
	}
	id = a.image_id;
	if ((r->set & UPD_TARGET) &&
	    alias_target(reqid, pid, r->target, &id, a.image_id) == -1)
		return;
	desc =
	    put || (r->set & UPD_DESCRIPTION) ? r->description : a.description;
	if (db_alias_update(a.id, id, desc) != DB_OK) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		return;
	}
	db_alias_get(pid, r->name, &a);
	audit("image-alias-updated", "project", r->project, "alias", r->name,
	    "target", a.target, "requestor", peer_current()->requestor, NULL);
	reply_ok(reqid, RES_NONE, "");
	api_lifecycle(r->project, "image-alias-updated", RES_ALIAS, r->name,
	    peer_current()->username, "target", a.target);
}

void
alias_rename(uint64_t reqid, struct imsg_alias_rename_req *r)
{
	struct alias a, b;
	int64_t pid;

	if (api_project(reqid, r->project, &pid) == -1 ||
	    alias_refuse_name(reqid, r->new_name) == -1)
		return;
	if (db_alias_get(pid, r->new_name, &b) == DB_OK) {
		api_refuse(reqid, ERR_EXISTS, RES_ALIAS, r->new_name);
		return;
	}
	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	if (db_alias_rename(a.id, r->new_name) != DB_OK) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		return;
	}
	audit("image-alias-renamed", "project", r->project, "alias",
	    r->new_name, "old_name", r->name, "requestor",
	    peer_current()->requestor, NULL);
	reply_ok(reqid, RES_ALIAS, r->new_name);
	api_lifecycle(r->project, "image-alias-renamed", RES_ALIAS, r->new_name,
	    peer_current()->username, "old_name", r->name);
}

void
alias_delete(uint64_t reqid, struct imsg_alias_req *r)
{
	struct alias a;
	int64_t pid;

	if (alias_lookup(reqid, r->project, r->name, &pid, &a) == -1)
		return;
	if (db_alias_delete(a.id) != DB_OK) {
		reply_db(reqid, DB_ERROR, RES_NONE);
		return;
	}
	audit("image-alias-deleted", "project", r->project, "alias", r->name,
	    "requestor", peer_current()->requestor, NULL);
	reply_ok(reqid, RES_NONE, "");
	api_lifecycle(r->project, "image-alias-deleted", RES_ALIAS, r->name,
	    peer_current()->username, NULL, NULL);
}
