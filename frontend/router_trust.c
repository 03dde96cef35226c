/*
 * GET /1.0 and the trust store, /1.0/certificates: requests checked and
 * typed for the store, which decides who is trusted. The body of a POST
 * says what is asked (add a certificate, make a join token, join with one);
 * whether it may be done is the store's word.
 *
 *	GET    /1.0/certificates[?recursion=1]
 *	GET    /1.0/certificates/<fp>		DELETE: no longer trusted
 *	POST   /1.0/certificates		{"certificate": base64 DER or
 *						PEM, "name"}: trust it
 *						{"token": true, "name"}: a token
 *						{"password"|"trust_token": S}:
 *						join with the client's own
 *	GET    /1.0/certificates/tokens		imgd's: waiting join tokens
 *	DELETE /1.0/certificates/tokens/<name>	imgd's: revoke one
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "ipc/codec.h"
#include "ipc/log.h"

#define ROUTE_CERTS "/1.0/certificates"

void
server_route(struct conn *c)
{
	struct imsg_server_req r = {
	    .peer = c->peer, .what = SRV_INFO, .project = c->project};
	char all[16];

	/* Events: whose, the store decides (its project, or all). */
	if (c->head.websocket != HTTP_WS_NONE) {
		c->all_projects = http_query_get(c->query, "all-projects", all,
				      sizeof(all)) == 1 &&
				  strcmp(all, "true") == 0;
		r.what = c->all_projects ? SRV_EVENTS_ALL : SRV_EVENTS;
	}
	if (strcmp(c->method, "GET") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	send_req(c, IMSG_SERVER_REQ, &r, WANT_SERVER);
}

static void
cert_req(struct conn *c, uint8_t action, const char *fp, enum want want)
{
	struct imsg_cert_req r = {.action = action,
	    .name = "",
	    .fingerprint = (char *)(fp ? fp : ""),
	    .der = "",
	    .secret = "",
	    .peer = c->peer};

	if (want == WANT_CERTS || want == WANT_TOKENS) {
		json_decref(c->list);
		c->list = json_array();
	}
	send_req(c, IMSG_CERT_REQ, &r, want);
}

/* A token as lxc sends it (base64 of LXD's token JSON): its secret. */
static int
token_secret(const char *tok, char *out, size_t len)
{
	unsigned char js[LIM_TOKEN_MAX];
	size_t n = strlen(tok);
	const char *sec;
	json_t *o;
	int got, rc = -1;

	if (n < 16 || n % 4 || n > sizeof(js) * 4 / 3)
		return -1;
	if ((got = EVP_DecodeBlock(js, (const unsigned char *)tok, (int)n)) <=
	    0)
		return -1;
	while (got > 0 && js[got - 1] == '\0')
		got--;
	if ((o = json_loadb((const char *)js, (size_t)got,
		 JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	sec = json_string_value(json_object_get(o, "secret"));
	if (sec && strlen(sec) < len) {
		snprintf(out, len, "%s", sec);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

static void
cert_post(struct conn *c, const char *body, size_t len)
{
	static char der[2 * LIM_CERT_DER_MAX + 1];
	char sec[LIM_TOKEN_SECRET_MAX + 1];
	struct imsg_cert_req r = {.name = "",
	    .fingerprint = "",
	    .der = "",
	    .secret = "",
	    .peer = c->peer};
	const char *cert = NULL, *name = NULL, *secret = NULL, *type = NULL;
	json_t *o, *tok;

	if ((o = body_object(c, body, len)) == NULL)
		return;
	if (get_str(c, o, "certificate", 3 * LIM_CERT_DER_MAX, CS_ANY_UTF8,
		&cert) == -1 ||
	    get_str(c, o, "name", LIM_CERT_NAME_MAX, CS_LINE, &name) == -1 ||
	    get_str(c, o, "type", 16, CS_TOKEN, &type) == -1 ||
	    get_str(c, o, "password", LIM_TOKEN_MAX, CS_LINE, &secret) == -1 ||
	    (secret == NULL && get_str(c, o, "trust_token", LIM_TOKEN_MAX,
				   CS_LINE, &secret) == -1))
		goto out;
	/* lxc sends the whole token: the secret is inside. */
	if (secret && token_secret(secret, sec, sizeof(sec)) == 0)
		secret = sec;
	if (secret && strlen(secret) > LIM_TOKEN_SECRET_MAX) {
		conn_error(c, 403,
		    "The trust token is not valid (wrong, "
		    "already used or expired)");
		goto out;
	}
	if (type && type[0] && strcmp(type, "client") != 0) {
		conn_error(c, 400,
		    "Unsupported certificate type \"%s\": imgd "
		    "trusts client certificates only",
		    type);
		goto out;
	}
	tok = json_object_get(o, "token");
	if (cert && cert[0] && tls_cert_der_hex(cert, der, sizeof(der)) == -1) {
		conn_error(c, 400,
		    "Invalid certificate: expected an X.509 "
		    "certificate, base64 DER or PEM");
		goto out;
	}
	r.name = (char *)(name ? name : "");
	c->status_ok = 201;
	if (json_is_true(tok)) {
		r.action = CERT_TOKEN;
		send_req(c, IMSG_CERT_REQ, &r, WANT_TOKEN);
	} else if (secret || !(cert && cert[0])) {
		/* Joining: the certificate is the one this client showed. */
		if (tls_peer_der_hex(c->bev, der, sizeof(der)) == -1) {
			conn_error(c, 400,
			    "No client certificate: connect over HTTPS with "
			    "the certificate to trust");
			goto out;
		}
		r.action = CERT_JOIN;
		r.der = der;
		r.secret = (char *)(secret ? secret : "");
		send_req(c, IMSG_CERT_REQ, &r, WANT_OK);
	} else {
		r.action = CERT_ADD;
		r.der = der;
		send_req(c, IMSG_CERT_REQ, &r, WANT_OK);
	}
out:
	json_decref(o);
}

static void
tokens_route(struct conn *c, const char *rest)
{
	struct imsg_cert_req r = {.action = CERT_REVOKE,
	    .fingerprint = "",
	    .der = "",
	    .secret = "",
	    .peer = c->peer};

	if (rest == NULL) {
		if (strcmp(c->method, "GET") != 0) {
			conn_error(c, 405, "Method not allowed");
			return;
		}
		cert_req(c, CERT_TOKENS, NULL, WANT_TOKENS);
		return;
	}
	if (strcmp(c->method, "DELETE") != 0) {
		conn_error(c, 405, "Method not allowed");
		return;
	}
	if (!*rest || strlen(rest) > LIM_CERT_NAME_MAX ||
	    !ipc_str_valid(rest, strlen(rest), CS_LINE)) {
		conn_error(c, 404, "Token not found");
		return;
	}
	r.name = (char *)rest;
	send_req(c, IMSG_CERT_REQ, &r, WANT_OK);
}

void
certificates_route(struct conn *c, const char *body, size_t len)
{
	const char *rest = NULL;
	char fp[65];

	if (strncmp(c->path, ROUTE_CERTS "/", sizeof(ROUTE_CERTS)) == 0)
		rest = c->path + sizeof(ROUTE_CERTS);
	if (rest && strcmp(rest, "tokens") == 0) {
		tokens_route(c, NULL);
		return;
	}
	if (rest && strncmp(rest, "tokens/", 7) == 0) {
		tokens_route(c, rest + 7);
		return;
	}
	if (rest == NULL) {
		c->recursion = recursion_of(c);
		if (strcmp(c->method, "GET") == 0)
			cert_req(c, CERT_LIST, NULL, WANT_CERTS);
		else if (strcmp(c->method, "POST") == 0)
			cert_post(c, body, len);
		else
			conn_error(c, 405, "Method not allowed");
		return;
	}
	if (image_ref(rest, fp) == -1) {
		conn_error(c, 404, "Certificate not found");
		return;
	}
	if (strcmp(c->method, "GET") == 0)
		cert_req(c, CERT_GET, fp, WANT_CERT);
	else if (strcmp(c->method, "DELETE") == 0) {
		c->status_ok = 200;
		cert_req(c, CERT_DELETE, fp, WANT_OK);
	} else
		conn_error(c, 501,
		    "not implemented: certificates are added and removed, not "
		    "edited");
}

/* ---- the store's answers ---- */

static json_t *
render_cert(const struct imsg_cert_info *m)
{
	size_t n = strlen(m->der) / 2, o = 0;
	unsigned char *der = malloc(n + 1);
	char *b64 = malloc(4 * (n / 3 + 1) + 1);
	char *pem = malloc(4 * (n / 3 + 1) * 65 / 64 + 80);
	json_t *doc;

	if (der == NULL || b64 == NULL || pem == NULL)
		fatal("malloc");
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(m->der + 2 * i, "%2x", &v);
		der[i] = (unsigned char)v;
	}
	EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
	o += (size_t)sprintf(pem, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0, l = strlen(b64); i < l; i += 64)
		o += (size_t)sprintf(pem + o, "%.64s\n", b64 + i);
	sprintf(pem + o, "-----END CERTIFICATE-----\n");
	doc = json_pack("{s:s, s:s, s:b, s:[], s:s, s:s, s:s}", "name", m->name,
	    "type", "client", "restricted", 0, "projects", "certificate", pem,
	    "fingerprint", m->fingerprint, "description", "");
	free(der);
	free(b64);
	free(pem);
	return doc;
}

static json_t *
render_token(const struct imsg_trust_token *m)
{
	char when[TS_STR_MAX];
	struct ts ts = {.sec = m->expires_at};

	ts_rfc3339(&ts, when);
	if (m->token[0])
		return json_pack("{s:s, s:s, s:s}", "client_name", m->name,
		    "token", m->token, "expires_at", when);
	return json_pack(
	    "{s:s, s:s}", "client_name", m->name, "expires_at", when);
}

/* 1 when m was an answer for these routes. */
int
trust_reply(struct conn *c, struct ipc_msg *m)
{
	char url[128];

	switch (c->want) {
	case WANT_SERVER:
		if (m->type != IMSG_SERVER_AUTH)
			return 0;
		if (c->head.websocket != HTTP_WS_NONE) {
			/* Events are for trusted clients only, and the
			 * daemon's log for its admins. */
			c->log_events = m->m.server_auth.logging;
			if (m->m.server_auth.trusted)
				events_start(c);
			else
				conn_error(c, 403,
				    "not authorized: events "
				    "need a trusted client");
			return 1;
		}
		conn_respond(c, 200, NULL,
		    render_sync(
			render_server(m->m.server_auth.trusted, c->project)));
		return 1;
	case WANT_CERT:
		if (m->type != IMSG_CERT_INFO)
			return 0;
		conn_respond(
		    c, 200, NULL, render_sync(render_cert(&m->m.cert_info)));
		return 1;
	case WANT_CERTS:
		if (m->type == IMSG_CERT_INFO) {
			snprintf(url, sizeof(url), ROUTE_CERTS "/%s",
			    m->m.cert_info.fingerprint);
			json_array_append_new(
			    c->list, c->recursion ? render_cert(&m->m.cert_info)
						  : json_string(url));
			return 1;
		}
		break;
	case WANT_TOKEN:
		if (m->type != IMSG_TRUST_TOKEN)
			return 0;
		conn_respond(
		    c, 200, NULL, render_sync(render_token(&m->m.trust_token)));
		return 1;
	case WANT_TOKENS:
		if (m->type == IMSG_TRUST_TOKEN) {
			json_array_append_new(
			    c->list, render_token(&m->m.trust_token));
			return 1;
		}
		break;
	default:
		return 0;
	}
	if (m->type == IMSG_LIST_END) {
		json_t *list = c->list;

		c->list = NULL;
		conn_respond(c, 200, NULL, render_sync(list));
		return 1;
	}
	return 0;
}
