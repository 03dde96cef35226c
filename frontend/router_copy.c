/*
 * POST /1.0/images with a JSON source: LXD's way to copy an image from a
 * remote server (type "image": protocol lxd or simplestreams, server,
 * fingerprint or alias, certificate, secret) or from a direct URL (type
 * "url"). The frontend only checks that the request can cross the
 * channel; the store decides and the fetcher talks to the remote. The
 * answer is an operation whose metadata shows the download's progress.
 */
#include <string.h>

#include "frontend/fe.h"
#include "ipc/codec.h"
#include "policy/names.h"

/* The "aliases" member: [{"name": ..., "description": ...}]. */
int
copy_aliases(struct conn *c, json_t *o, struct ipc_kv *kv, uint32_t *n)
{
	json_t *a = json_object_get(o, "aliases"), *e;
	size_t i;

	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > LIM_ALIASES_PER_IMAGE) {
		conn_error(c, 400,
		    "Invalid value for \"aliases\": a list of at most %d "
		    "{\"name\", \"description\"}",
		    LIM_ALIASES_PER_IMAGE);
		return -1;
	}
	json_array_foreach (a, i, e) {
		const char *name = NULL, *desc = NULL;
		char msg[300];

		if (!json_is_object(e) ||
		    get_str(c, e, "name", LIM_ALIAS_NAME_MAX, CS_LINE, &name) ==
			-1 ||
		    get_str(c, e, "description", LIM_ALIAS_DESC_MAX, CS_LINE,
			&desc) == -1)
			return json_is_object(e)
				   ? -1
				   : (conn_error(c, 400,
					  "Invalid value for \"aliases\""),
					 -1);
		if (name == NULL ||
		    alias_name_refusal(name, msg, sizeof(msg)) != 0) {
			conn_error(
			    c, 400, "%s", name ? msg : "An alias needs a name");
			return -1;
		}
		kv[*n].key = (char *)name;
		kv[(*n)++].value = (char *)(desc ? desc : "");
	}
	return 0;
}

void
image_copy(struct conn *c, const char *body, size_t len)
{
	struct imsg_image_copy_req r = {.project = c->project,
	    .peer = c->peer,
	    .name = "",
	    .secret = "",
	    .certificate = ""};
	struct ipc_kv aliases[LIM_ALIASES_PER_IMAGE];
	struct ipc_kv props[LIM_META_PROPERTIES_MAX];
	const char *type = NULL, *proto = NULL, *server = NULL, *url = NULL;
	const char *fp = NULL, *alias = NULL, *s = NULL;
	json_t *o, *src;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	src = json_object_get(o, "source");
	if (!json_is_object(src)) {
		conn_error(c, 400,
		    "A JSON request needs a \"source\" object (or send the "
		    "image itself as the body)");
		goto out;
	}
	if (get_str(c, src, "type", 32, CS_TOKEN, &type) == -1 ||
	    get_str(c, src, "protocol", 32, CS_TOKEN, &proto) == -1 ||
	    get_str(c, src, "server", LIM_URL_MAX, CS_PATH, &server) == -1 ||
	    get_str(c, src, "url", LIM_URL_MAX, CS_PATH, &url) == -1 ||
	    get_str(c, src, "fingerprint", LIM_ALIAS_NAME_MAX, CS_LINE, &fp) ==
		-1 ||
	    get_str(c, src, "alias", LIM_ALIAS_NAME_MAX, CS_LINE, &alias) ==
		-1 ||
	    get_str(c, src, "secret", LIM_SECRET_MAX, CS_LINE, &s) == -1)
		goto out;
	if (s)
		r.secret = (char *)s;
	s = NULL;
	if (get_str(c, src, "certificate", LIM_CERT_PEM_MAX, CS_ANY_UTF8, &s) ==
	    -1)
		goto out;
	if (s)
		r.certificate = (char *)s;
	s = NULL;
	if (get_str(c, src, "mode", 16, CS_TOKEN, &s) == -1)
		goto out;
	if (s && s[0] && strcmp(s, "pull") != 0) {
		conn_error(c, 400,
		    "Only the \"pull\" mode is supported (not \"%s\")", s);
		goto out;
	}
	if (type && strcmp(type, "directory") == 0) {
		image_publish(c, o, src);
		goto out;
	}
	if (type && strcmp(type, "url") == 0) {
		if (url == NULL || !url[0]) {
			conn_error(c, 400, "A source of type url needs a url");
			goto out;
		}
		r.protocol = SRC_URL;
		r.server = (char *)url;
	} else if (type && strcmp(type, "image") == 0) {
		if (proto == NULL || strcmp(proto, "lxd") == 0)
			r.protocol = SRC_LXD;
		else if (strcmp(proto, "simplestreams") == 0)
			r.protocol = SRC_SIMPLESTREAMS;
		else {
			conn_error(c, 400,
			    "Unsupported protocol \"%s\" (lxd or "
			    "simplestreams)",
			    proto);
			goto out;
		}
		if (server == NULL || !server[0]) {
			conn_error(
			    c, 400, "A source of type image needs a server");
			goto out;
		}
		/* The fingerprint first, as LXD: lxc sends an alias there. */
		r.name = (char *)(fp && fp[0] ? fp : alias ? alias : "");
		if (!r.name[0]) {
			conn_error(c, 400,
			    "A source of type image needs a fingerprint or an "
			    "alias");
			goto out;
		}
		r.server = (char *)server;
	} else {
		conn_error(c, 400,
		    "Unsupported source type \"%s\": imgd copies from image "
		    "servers (image) and direct URLs (url)",
		    type ? type : "");
		goto out;
	}
	if (get_bool_member(c, o, "public", &r.public) == -1 ||
	    get_bool_member(c, o, "auto_update", &r.auto_update) == -1 ||
	    get_bool_member(c, o, "copy_aliases", &r.copy_aliases) == -1 ||
	    get_bool_member(c, o, "cached", &r.cached) == -1 ||
	    copy_aliases(c, o, aliases, &r.naliases) == -1 ||
	    get_props_member(c, o, props, &r.nproperties) == -1)
		goto out;
	r.aliases = aliases;
	r.properties = props;
	c->status_ok = 202;
	send_req(c, IMSG_IMAGE_COPY_REQ, &r, WANT_OP);
out:
	json_decref(o);
}
