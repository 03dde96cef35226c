/*
 * The frontend's requests, decided here. Each case of api_dispatch decodes
 * nothing itself (the IPC layer did) and calls a handler that answers with
 * records carrying the request id: the result, or IMSG_ERR with the
 * fault's cause and facts (the frontend picks the status and the words).
 */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/cause.h"
#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"
#include "store/api.h"

/* The change being asked for, while it is handled: a refusal is audited. */
static const char *const project_acts[] = {"project-create", "project-put",
    "project-patch", "project-rename", "project-delete"};

static struct {
	uint64_t reqid;
	const char *action, *project, *target, *requestor;
} changing;

void
changing_set(uint64_t reqid, const char *action, const char *project,
    const char *target, const char *requestor)
{
	changing.reqid = reqid;
	changing.action = action;
	changing.project = project;
	changing.target = target;
	changing.requestor = requestor;
}

void
reply_fault(uint64_t reqid, const struct fault *f)
{
	struct child *fe = proc_frontend();
	struct imsg_err e;
	char msg[LIM_ERROR_MAX + 128];

	fault_to_ipc(f, &e.fault);
	if (changing.action != NULL && changing.reqid == reqid)
		audit("request-refused", "action", changing.action, "project",
		    changing.project, "target", changing.target, "requestor",
		    changing.requestor, "fault", fault_token(f->cause), "cause",
		    fault_text(f, msg, sizeof(msg)), NULL);
	if (fe)
		proc_send(fe, IMSG_ERR, reqid, &e, -1);
}

void
api_refuse(uint64_t reqid, int cause, int subject, const char *name)
{
	struct fault f;

	fault_set(&f, cause, subject, name);
	reply_fault(reqid, &f);
}

void
reply_ok(uint64_t reqid, int kind, const char *name)
{
	struct child *fe = proc_frontend();
	struct imsg_ok ok = {.kind = (uint8_t)kind, .name = (char *)name};

	if (fe)
		proc_send(fe, IMSG_OK, reqid, &ok, -1);
}

void
reply_db(uint64_t reqid, int rc, int subject)
{
	switch (rc) {
	case DB_NOTFOUND:
		api_refuse(reqid, ERR_NOT_FOUND, subject, NULL);
		break;
	case DB_AMBIGUOUS:
		api_refuse(reqid, ERR_AMBIGUOUS, subject, NULL);
		break;
	default:
		log_warnx("database: %s", db_errmsg());
		api_refuse(reqid, ERR_DATABASE, RES_NONE, NULL);
	}
}

void
api_lifecycle(const char *project, const char *action, int kind,
    const char *name, const char *requestor, const char *ckey, const char *cval)
{
	struct child *fe = proc_frontend();
	struct ipc_kv kv = {(char *)ckey, (char *)cval};
	struct imsg_lifecycle l = {
	    .project = (char *)project,
	    .action = (char *)action,
	    .kind = (uint8_t)kind,
	    .name = (char *)name,
	    .context = ckey ? &kv : NULL,
	    .ncontext = ckey ? 1 : 0,
	    .requestor = (char *)(requestor ? requestor : ""),
	};

	if (fe)
		proc_send(fe, IMSG_LIFECYCLE, 0, &l, -1);
}

int
api_project(uint64_t reqid, const char *name, int64_t *id)
{
	if (db_project_id(name, id) == DB_OK)
		return 0;
	api_refuse(reqid, ERR_NOT_FOUND, RES_PROJECT, name);
	return -1;
}

/* Sends one image, with the project name the client asked for; an item
 * of a list (in_list) without its ETag, which only a GET of the image
 * answers with. */
void
reply_image(uint64_t reqid, struct image *img, const char *proj, int in_list)
{
	struct child *fe = proc_frontend();
	struct imsg_image_info m;
	char etag[65];

	image_to_info(img, proj, &m, in_list ? NULL : etag);
	if (fe)
		proc_send(fe, IMSG_IMAGE_INFO, reqid, &m, -1);
}

/* An untrusted client sees public images only; a private one is missing
 * to it, with the same answer as an image that does not exist. */
int
resolve(uint64_t reqid, const char *proj, const char *ref, int64_t *pid,
    struct image *img)
{
	int public_only = !peer_current()->trusted;
	int rc;

	if (public_only && db_project_id(proj, pid) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_IMAGE, NULL);
		return -1;
	}
	if (!public_only && api_project(reqid, proj, pid) == -1)
		return -1;
	if ((rc = db_image_resolve(*pid, ref, public_only, img)) != DB_OK) {
		if (rc == DB_AMBIGUOUS)
			image_free(img);
		/* Never the fingerprint: a prefix must not reveal one. */
		reply_db(reqid, rc, RES_IMAGE);
		return -1;
	}
	return 0;
}

/* resolve(), or for an untrusted client with a one-time secret: the
 * private image it opens (by its whole fingerprint), which the secret is
 * used up on when consume (an export). */
static int
resolve_ref(uint64_t reqid, struct imsg_image_ref_req *r, int consume,
    struct image *img)
{
	int64_t pid;

	if (peer_current()->trusted || !r->secret || !r->secret[0])
		return resolve(reqid, r->project, r->ref, &pid, img);
	if (strlen(r->ref) != 64 || db_project_id(r->project, &pid) != DB_OK ||
	    db_image_by_fp(pid, r->ref, img) != DB_OK) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_IMAGE, NULL);
		return -1;
	}
	if (!img->public &&
	    !secret_check(r->project, img->fingerprint, r->secret, consume)) {
		log_info("image %s: a secret that does not open it (%s)",
		    img->fingerprint, peer_current()->requestor);
		image_free(img);
		api_refuse(reqid, ERR_NOT_FOUND, RES_IMAGE, NULL);
		return -1;
	}
	return 0;
}

static void
image_get(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;

	if (resolve_ref(reqid, r, 0, &img) == -1)
		return;
	reply_image(reqid, &img, r->project, 0);
	image_free(&img);
}

static void
image_update(uint64_t reqid, struct imsg_image_update_req *r)
{
	struct image img;
	struct fault f;
	char etag[65];
	int64_t pid;
	int put = r->mode == UPD_PUT;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	image_etag(&img, etag);
	if (r->if_match[0] && strcmp(r->if_match, etag) != 0) {
		api_refuse(reqid, ERR_CHANGED, RES_IMAGE, img.fingerprint);
		goto out;
	}
	/* Making an image public, or private again, is publishing. */
	if ((put || (r->set & UPD_PUBLIC)) && !r->public != !img.public &&
	    access_need(reqid, r->project, ROLE_PUBLISH) == -1)
		goto out;
	if (put || (r->set & UPD_PUBLIC))
		img.public = r->public;
	if (put || (r->set & UPD_AUTO_UPDATE))
		img.auto_update = r->auto_update;
	if (r->set & UPD_EXPIRES_AT)
		img.expires_at = r->expires_at;
	if ((put || (r->set & UPD_PROPERTIES)) &&
	    image_merge_props(&img, r->properties, r->nproperties,
		(put ? PROPS_REPLACE : 0) | PROPS_DROP_EMPTY) == -1) {
		reply_fault(reqid, fault_props(&f));
		goto out;
	}
	image_product(&img);
	/* Flags and properties together, or not at all. */
	if (db_begin() == -1 || db_image_update(&img) != DB_OK ||
	    db_commit() == -1) {
		db_rollback();
		reply_db(reqid, DB_ERROR, RES_NONE);
		goto out;
	}
	/* The record on disk before the answer (audit() syncs it). */
	audit("image-updated", "project", r->project, "fingerprint",
	    img.fingerprint, "requestor", peer_current()->requestor, NULL);
	reply_ok(reqid, RES_NONE, "");
	api_lifecycle(r->project, "image-updated", RES_IMAGE, img.fingerprint,
	    peer_current()->username, NULL, NULL);
out:
	image_free(&img);
}

static void
image_delete(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;
	struct fault f;
	struct op *op;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	op = op_new(r->project, "Deleting image", img.fingerprint);
	op_reply(op, reqid);
	op_start(op);
	/* Row first, then the file: a crash between leaves an orphan file
	 * that the start-up repair removes, never a row without a file. */
	if (db_image_delete(img.id) != DB_OK) {
		log_warnx("delete %s: %s", img.fingerprint, db_errmsg());
		fault_set(&f, ERR_DATABASE, RES_NONE, NULL);
		op_finish(op, &f);
		goto out;
	}
	if (db_fp_refs(img.fingerprint) == 0)
		blob_remove(img.fingerprint);
	audit("image-deleted", "project", r->project, "fingerprint",
	    img.fingerprint, "requestor", peer_current()->requestor, NULL);
	op_finish(op, NULL);
	log_info(
	    "deleted image %s from project %s", img.fingerprint, r->project);
	api_lifecycle(r->project, "image-deleted", RES_IMAGE, img.fingerprint,
	    peer_current()->username, NULL, NULL);
out:
	image_free(&img);
}

/* POST /1.0/images/<fp>/refresh: from the image's source, if it has
 * one (LXD answers an operation that says whether it refreshed). */
static void
image_refresh(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	fetch_refresh(reqid, r->project, &img, peer_current());
	image_free(&img);
}

static void
image_unpack(uint64_t reqid, struct imsg_image_unpack_req *r)
{
	struct image img;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	unpack_start(reqid, r->project, &img, r, peer_current()->requestor);
	image_free(&img);
}

static void
image_export(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct child *fe = proc_frontend();
	struct image img;
	char name[2][LIM_FILENAME_MAX + 1];
	int fds[2] = {-1, -1}, nparts, first, last;

	if (resolve_ref(reqid, r, 1, &img) == -1)
		return;
	nparts = img.split ? 2 : 1;
	if (r->file == EXPORT_ROOTFS && !img.split) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_IMAGE, NULL);
		goto out;
	}
	if (img.split) {
		snprintf(name[0], sizeof(name[0]), "meta-%s%s", img.fingerprint,
		    blob_ext(img.compression[0]));
		snprintf(name[1], sizeof(name[1]), "%s%s", img.fingerprint,
		    blob_ext(img.compression[1]));
	} else
		snprintf(name[0], sizeof(name[0]), "%s%s", img.fingerprint,
		    blob_ext(img.compression[0]));
	for (int i = 0; i < nparts; i++)
		if ((fds[i] = blob_open(img.fingerprint,
			 i == 0 ? PART_UNIFIED : PART_ROOTFS)) == -1) {
			log_warn("export %s: open", img.fingerprint);
			api_refuse(reqid, ERR_FILE_MISSING, RES_IMAGE,
			    img.fingerprint);
			goto out;
		}
	/* A cached image in use is kept (its expiry counts from here). */
	if (img.cached)
		db_image_used(img.id, now_ns(), 1);
	/* One file (a simplestreams item) goes as a unified body would. */
	first = r->file == EXPORT_ROOTFS ? 1 : 0;
	last = r->file == EXPORT_ALL ? nparts : first + 1;
	for (int i = first; i < last && fe; i++) {
		struct imsg_export_part p = {
		    .part = (uint8_t)(last - first == 1 ? PART_UNIFIED
				      : i == 0		? PART_METADATA
							: PART_ROOTFS),
		    .nparts = (uint8_t)(last - first),
		    .filename = name[i],
		    .fingerprint = img.fingerprint,
		};
		off_t end = lseek(fds[i], 0, SEEK_END);

		lseek(fds[i], 0, SEEK_SET);
		p.size = end > 0 ? (uint64_t)end : 0;
		proc_send(fe, IMSG_EXPORT_PART, reqid, &p, fds[i]);
		fds[i] = -1;
	}
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	image_free(&img);
}

static void
image_secret(uint64_t reqid, struct imsg_image_ref_req *r)
{
	struct image img;
	int64_t pid;

	if (resolve(reqid, r->project, r->ref, &pid, &img) == -1)
		return;
	secret_new(reqid, r->project, &img);
	image_free(&img);
}

/* The HTTPS identity and listener, when there is one. */
static int
send_https(struct child *fe)
{
	struct imsg_listen l = {.id = peer_https_listener(),
	    .kind = LISTEN_HTTPS,
	    .name = S->cfg.https_address};
	int fd;

	if (S->https_fd == -1)
		return 0;
	for (uint8_t part = TLS_CERT; part <= TLS_KEY; part++) {
		struct imsg_tls_identity t = {.part = part};

		if ((fd = tls_identity_open(part)) == -1) {
			log_warn("TLS identity");
			return -1;
		}
		if (proc_send(fe, IMSG_TLS_IDENTITY, 0, &t, fd) == -1)
			return -1;
	}
	if ((fd = dup(S->https_fd)) == -1)
		return -1;
	return proc_send(fe, IMSG_LISTEN, 0, &l, fd);
}

void
api_frontend_ready(struct child *fe)
{
	struct imsg_listen l = {
	    .id = peer_unix_listener(), .kind = LISTEN_UNIX, .name = "unix"};
	struct imsg_server_info si = {
	    .version = IMGD_VERSION,
	    .server_name = S->server_name,
	    .architectures = S->archs,
	    .narchitectures = S->narchs,
	    .conns_per_client = S->cfg.http_conns_per_client,
	    .header_timeout = S->cfg.http_header_timeout,
	    .idle_timeout = S->cfg.http_idle_timeout,
	    .line_max = S->cfg.http_line_max,
	    .headers_max = S->cfg.http_headers_max,
	    .header_fields = S->cfg.http_header_fields,
	    .json_max = S->cfg.json_max,
	    .json_depth = S->cfg.json_depth,
	};
	int fd = dup(S->unix_fd);

	/* The frontend only ever gets sockets that already listen. */
	/* The limits first: they apply from the first connection. */
	if (fd == -1 || proc_send(fe, IMSG_SERVER_INFO, 0, &si, -1) == -1 ||
	    proc_send(fe, IMSG_LISTEN, 0, &l, fd) == -1 || send_https(fe) == -1)
		return;
	ops_frontend_gone();
	lists_frontend_gone();
}

/* Where a request says it came from; NULL for an upload's later parts. */
static const struct ipc_peer *
peer_of(struct ipc_msg *m)
{
	union imsg_any *a = &m->m;

	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
		return &a->images_list_req.peer;
	case IMSG_IMAGE_GET_REQ:
	case IMSG_IMAGE_DELETE_REQ:
	case IMSG_IMAGE_EXPORT_REQ:
	case IMSG_IMAGE_SECRET_REQ:
		return &a->image_ref_req.peer;
	case IMSG_SERVER_REQ:
		return &a->server_req.peer;
	case IMSG_CERT_REQ:
		return &a->cert_req.peer;
	case IMSG_IMAGE_UPDATE_REQ:
		return &a->image_update_req.peer;
	case IMSG_PROJECT_REQ:
		return &a->project_req.peer;
	case IMSG_OP_GET_REQ:
	case IMSG_OP_LIST_REQ:
	case IMSG_OP_WAIT_REQ:
		return &a->op_req.peer;
	case IMSG_ALIAS_LIST_REQ:
		return &a->alias_list_req.peer;
	case IMSG_ALIAS_GET_REQ:
	case IMSG_ALIAS_DELETE_REQ:
		return &a->alias_req.peer;
	case IMSG_ALIAS_CREATE_REQ:
		return &a->alias_create_req.peer;
	case IMSG_ALIAS_UPDATE_REQ:
		return &a->alias_update_req.peer;
	case IMSG_ALIAS_RENAME_REQ:
		return &a->alias_rename_req.peer;
	case IMSG_UPLOAD_BEGIN:
		return &a->upload_begin.peer;
	case IMSG_UPLOAD_REFUSED:
		return &a->upload_refused.peer;
	case IMSG_IMAGE_COPY_REQ:
		return &a->image_copy_req.peer;
	case IMSG_IMAGE_REFRESH_REQ:
		return &a->image_ref_req.peer;
	case IMSG_IMAGE_UNPACK_REQ:
		return &a->image_unpack_req.peer;
	case IMSG_PUBLISH_REQ:
		return &a->publish_req.peer;
	case IMSG_PROJECT_CHANGE_REQ:
		return &a->project_change_req.peer;
	default:
		return NULL;
	}
}

/* Requests that read: answered from the database and the operations.
 * 0 when m is not one. */
static int
api_read(struct ipc_msg *m)
{
	union imsg_any *a = &m->m;

	switch (m->type) {
	case IMSG_IMAGES_LIST_REQ:
		list_start(m->id, a->images_list_req.project,
		    a->images_list_req.mode == LISTM_STREAMS ? LIST_STREAMS
							     : LIST_IMAGES,
		    0, a->images_list_req.prop_key,
		    a->images_list_req.prop_value);
		break;
	case IMSG_IMAGE_GET_REQ:
		image_get(m->id, &a->image_ref_req);
		break;
	case IMSG_IMAGE_EXPORT_REQ:
		image_export(m->id, &a->image_ref_req);
		break;
	case IMSG_ALIAS_LIST_REQ:
		list_start(
		    m->id, a->alias_list_req.project, LIST_ALIASES, 0, "", "");
		break;
	case IMSG_LIST_MORE:
		list_more(m->id, &a->list_more);
		break;
	case IMSG_OP_GET_REQ:
	case IMSG_OP_LIST_REQ:
	case IMSG_OP_WAIT_REQ:
		ops_request(m->id, m->type, &a->op_req);
		break;
	case IMSG_PROJECT_REQ:
		list_start(m->id, a->project_req.name, LIST_PROJECTS,
		    a->project_req.used_by, "", "");
		break;
	case IMSG_ALIAS_GET_REQ:
		alias_get(m->id, &a->alias_req);
		break;
	case IMSG_SERVER_REQ: {
		if (a->server_req.what == SRV_METRICS) {
			metrics_send(m->id);
			break;
		}
		struct imsg_server_auth sa = {
		    .trusted = (uint8_t)peer_current()->trusted,
		    .logging = (uint8_t)access_reads_log(&peer_current()->id)};
		struct child *fe = proc_frontend();

		if (fe)
			proc_send(fe, IMSG_SERVER_AUTH, m->id, &sa, -1);
		break;
	}
	default:
		return 0;
	}
	return 1;
}

/* Requests that change the store (audited when refused), and uploads.
 * 0 when m is not one. */
static int
api_change(struct ipc_msg *m)
{
	union imsg_any *a = &m->m;

	switch (m->type) {
	case IMSG_IMAGE_UPDATE_REQ:
		changing_set(m->id, "image-update", a->image_update_req.project,
		    a->image_update_req.ref, peer_current()->requestor);
		image_update(m->id, &a->image_update_req);
		break;
	case IMSG_IMAGE_DELETE_REQ:
		changing_set(m->id, "image-delete", a->image_ref_req.project,
		    a->image_ref_req.ref, peer_current()->requestor);
		image_delete(m->id, &a->image_ref_req);
		break;
	case IMSG_ALIAS_CREATE_REQ:
		changing_set(m->id, "alias-create", a->alias_create_req.project,
		    a->alias_create_req.name, peer_current()->requestor);
		alias_create(m->id, &a->alias_create_req);
		break;
	case IMSG_ALIAS_UPDATE_REQ:
		changing_set(m->id, "alias-update", a->alias_update_req.project,
		    a->alias_update_req.name, peer_current()->requestor);
		alias_update(m->id, &a->alias_update_req);
		break;
	case IMSG_ALIAS_RENAME_REQ:
		changing_set(m->id, "alias-rename", a->alias_rename_req.project,
		    a->alias_rename_req.name, peer_current()->requestor);
		alias_rename(m->id, &a->alias_rename_req);
		break;
	case IMSG_ALIAS_DELETE_REQ:
		changing_set(m->id, "alias-delete", a->alias_req.project,
		    a->alias_req.name, peer_current()->requestor);
		alias_delete(m->id, &a->alias_req);
		break;
	case IMSG_IMAGE_SECRET_REQ:
		image_secret(m->id, &a->image_ref_req);
		break;
	case IMSG_IMAGE_COPY_REQ:
		changing_set(m->id, "image-copy", a->image_copy_req.project,
		    a->image_copy_req.name, peer_current()->requestor);
		fetch_request(m->id, &a->image_copy_req);
		break;
	case IMSG_IMAGE_REFRESH_REQ:
		changing_set(m->id, "image-refresh", a->image_ref_req.project,
		    a->image_ref_req.ref, peer_current()->requestor);
		image_refresh(m->id, &a->image_ref_req);
		break;
	case IMSG_IMAGE_UNPACK_REQ:
		changing_set(m->id, "image-unpack", a->image_unpack_req.project,
		    a->image_unpack_req.ref, peer_current()->requestor);
		image_unpack(m->id, &a->image_unpack_req);
		break;
	case IMSG_PUBLISH_REQ:
		changing_set(m->id, "image-publish", a->publish_req.project,
		    a->publish_req.path, peer_current()->requestor);
		publish_request(m->id, &a->publish_req);
		break;
	case IMSG_PROJECT_CHANGE_REQ: {
		changing_set(m->id, project_acts[a->project_change_req.action],
		    a->project_change_req.name, a->project_change_req.name,
		    peer_current()->requestor);
		project_change(m->id, &a->project_change_req);
		break;
	}
	case IMSG_CERT_REQ:
		trust_request(m->id, &a->cert_req);
		break;
	case IMSG_UPLOAD_BEGIN:
		upload_begin(m->id, &a->upload_begin, m->fd);
		m->fd = -1;
		break;
	case IMSG_UPLOAD_PART:
		upload_part(m->id, &a->upload_part, m->fd);
		m->fd = -1;
		break;
	case IMSG_UPLOAD_REFUSED:
		/* The frontend's word, recorded as such. */
		audit("image-import-refused", "project",
		    a->upload_refused.project, "requestor",
		    peer_current()->requestor, "cause",
		    a->upload_refused.reason, "by", "frontend", NULL);
		break;
	case IMSG_UPLOAD_END:
		upload_end(m->id, &a->upload_end);
		break;
	default:
		return 0;
	}
	return 1;
}

/* The action a refused request asked for, in the audit's words (the
 * handlers' names where they have one: "project-create", "alias-delete",
 * ...; else the request's kind: "images-list", "events", "metrics"). */
static const char *
action_name(const struct ipc_msg *m, char *buf, size_t len)
{
	static const char *const srv[] = {
	    "server-get", "events", "events-all-projects", "metrics"};
	const char *t = ipc_typename(m->type);
	size_t i;

	if (m->type == IMSG_PROJECT_CHANGE_REQ)
		return project_acts[m->m.project_change_req.action];
	if (m->type == IMSG_SERVER_REQ)
		return srv[m->m.server_req.what];
	if (m->type == IMSG_PROJECT_REQ)
		return m->m.project_req.name[0] ? "project-get"
						: "projects-list";
	if (strncmp(t, "IMSG_", 5) == 0)
		t += 5;
	for (i = 0; t[i] && i + 1 < len; i++)
		buf[i] = t[i] == '_' ? '-' : (char)tolower((unsigned char)t[i]);
	buf[i] = '\0';
	if (i > 4 && strcmp(buf + i - 4, "-req") == 0)
		buf[i - 4] = '\0';
	return buf;
}

/* A request access_check refused: audited, answered, its fd closed. */
static void
refuse_request(struct ipc_msg *m, const struct who *w)
{
	struct fault f;
	char msg[LIM_ERROR_MAX + 128], act[64];

	fault_set(&f, w->deny_cause, w->deny_subject,
	    w->deny_name[0] ? w->deny_name : NULL);
	audit("request-refused", "action", action_name(m, act, sizeof(act)),
	    "project", access_project_of(m), "requestor", w->requestor, "fault",
	    fault_token(w->deny_cause), "cause",
	    fault_text(&f, msg, sizeof(msg)), NULL);
	reply_fault(m->id, &f);
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
}

void
api_dispatch(struct child *fe, struct ipc_msg *m)
{
	const struct ipc_peer *p = peer_of(m);
	struct who w;

	if (p != NULL) {
		if (peer_derive(p, &w) == -1) {
			log_warnx("frontend: a request from listener %u, "
				  "which the store never gave",
			    p->listener);
			proc_kill(fe, "request from an unknown listener");
			if (m->fd != -1)
				close(m->fd);
			m->fd = -1;
			return;
		}
		/* An upload is refused by upload_admit, which drains it. */
		if (access_check(m, &w) == -1 && m->type != IMSG_UPLOAD_BEGIN) {
			peer_set_current(&w);
			refuse_request(m, &w);
			return;
		}
		peer_set_current(&w);
	}
	/* The table lets the frontend send nothing else. */
	if (!api_read(m) && !api_change(m))
		proc_kill(fe, "unexpected record");
	changing.action = NULL; /* its strings live in m only */
}
