/*
 * Trust, decided here: which HTTPS clients are trusted (their certificate's
 * sha256 is in the certificates table), the one-time join tokens that make
 * a client trusted, and the one-time image secrets that let an untrusted
 * client fetch one private image. The frontend only passes on what the
 * client presented; it never says whether it is trusted.
 *
 * The store never parses a certificate: a certificate is its DER bytes,
 * and its fingerprint is the sha256 of them, computed here. The frontend
 * (unprivileged) parsed it during the TLS handshake, or to check a posted
 * one.
 */
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include "ipc/log.h"
#include "policy/timefmt.h"
#include "store/api.h"
#include "store/store.h"

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int len = 0;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		fatalx("sha256");
	hex_encode(md, 32, out);
}

static void
random_hex(char out[65])
{
	uint8_t b[32];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		fatal("getrandom");
	hex_encode(b, sizeof(b), out);
}

/* ---- certificates ---- */

static void
send_cert(uint64_t reqid, const struct cert *c)
{
	struct child *fe = proc_frontend();
	char hex[2 * LIM_CERT_DER_MAX + 1];
	struct imsg_cert_info m = {
	    .fingerprint = (char *)c->fingerprint,
	    .name = (char *)c->name,
	    .der = hex,
	    .created_at = c->created_at,
	};

	hex_encode(c->der, c->derlen, hex);
	if (fe)
		proc_send(fe, IMSG_CERT_INFO, reqid, &m, -1);
}

static int
list_cert(struct cert *c, void *arg)
{
	send_cert(*(uint64_t *)arg, c);
	return 0;
}

static void
list_end(uint64_t reqid, uint32_t n)
{
	struct child *fe = proc_frontend();
	struct imsg_list_end end = {.count = n};

	if (fe)
		proc_send(fe, IMSG_LIST_END, reqid, &end, -1);
}

/* A certificate from the request (DER in hex), fingerprinted here. */
static int
cert_from(uint64_t reqid, const struct imsg_cert_req *r, const char *name,
    struct cert *c)
{
	memset(c, 0, sizeof(*c));
	if (hex_decode(r->der, c->der, sizeof(c->der), &c->derlen) == -1 ||
	    c->derlen == 0) {
		api_refuse(reqid, ERR_INVALID, RES_CERTIFICATE, NULL);
		return -1;
	}
	sha256_hex(c->der, c->derlen, c->fingerprint);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->created_at = time(NULL);
	return 0;
}

static void
cert_insert(uint64_t reqid, struct cert *c, const char *how)
{
	int rc;

	if (db_cert_count() >= LIM_TRUSTED_CERTS_MAX) {
		struct fault f;

		fault_invalid(&f, "at most %d certificates can be trusted",
		    LIM_TRUSTED_CERTS_MAX);
		reply_fault(reqid, &f);
		return;
	}
	rc = db_cert_insert(c);
	if (rc == DB_CONFLICT) {
		api_refuse(reqid, ERR_EXISTS, RES_CERTIFICATE, c->fingerprint);
		return;
	}
	if (rc != DB_OK) {
		reply_db(reqid, rc, RES_CERTIFICATE);
		return;
	}
	log_info(
	    "trusted certificate %s (%s), %s", c->fingerprint, c->name, how);
	audit("trust-added", "fingerprint", c->fingerprint, "name", c->name,
	    "how", how, "requestor", peer_current()->requestor, NULL);
	reply_ok(reqid, RES_CERTIFICATE, c->fingerprint);
}

/* POST /1.0/certificates from an untrusted client: its own certificate,
 * with a join token's secret. The token goes whatever the outcome. */
static void
cert_join(uint64_t reqid, const struct imsg_cert_req *r)
{
	struct token t;
	struct cert c;
	char hash[65];
	int rc;

	sha256_hex(r->secret, strlen(r->secret), hash);
	if (!r->secret[0] || (rc = db_token_take(hash, &t)) == DB_NOTFOUND) {
		log_info("join refused: no token has this secret (%s)",
		    peer_current()->requestor);
		api_refuse(reqid, ERR_BAD_TOKEN, RES_TOKEN, NULL);
		return;
	}
	if (rc != DB_OK) {
		reply_db(reqid, rc, RES_TOKEN);
		return;
	}
	if (t.expires_at <= time(NULL)) {
		log_info("join refused: token %s expired", t.name);
		audit("trust-token-expired", "name", t.name, "requestor",
		    peer_current()->requestor, NULL);
		api_refuse(reqid, ERR_BAD_TOKEN, RES_TOKEN, NULL);
		return;
	}
	if (cert_from(reqid, r, t.name, &c) == -1)
		return;
	/* The frontend's two words about the client must agree. */
	if (strcmp(c.fingerprint, r->peer.cert) != 0) {
		log_warnx("join: the certificate sent is not the client's");
		api_refuse(reqid, ERR_INVALID, RES_CERTIFICATE, NULL);
		return;
	}
	if (db_cert_trusted(c.fingerprint)) {
		reply_ok(reqid, RES_CERTIFICATE, c.fingerprint);
		return;
	}
	cert_insert(reqid, &c, "join token");
}

/* The token: LXD's CertificateAddToken, base64 of its JSON, so that
 * `lxc remote add NAME TOKEN` works as against LXD. */
static int
token_text(const char *name, const char *secret, int64_t expires,
    char out[LIM_TOKEN_MAX + 1])
{
	struct ts ts = {.sec = expires};
	char when[TS_STR_MAX];
	json_t *o, *addrs = json_array();
	char *js;
	int rc = -1;

	ts_rfc3339(&ts, when);
	if (S->cfg.https_address[0])
		json_array_append_new(addrs, json_string(S->cfg.https_address));
	o = json_pack("{s:s, s:s, s:o, s:s, s:s}", "client_name", name,
	    "fingerprint", tls_server_fingerprint(), "addresses", addrs,
	    "secret", secret, "expires_at", when);
	if (o == NULL || (js = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return -1;
	}
	if (4 * ((strlen(js) + 2) / 3) <= LIM_TOKEN_MAX) {
		EVP_EncodeBlock(
		    (unsigned char *)out, (unsigned char *)js, (int)strlen(js));
		rc = 0;
	}
	free(js);
	json_decref(o);
	return rc;
}

static int ntokens_listed;

static int
list_token(struct token *t, void *arg)
{
	struct child *fe = proc_frontend();
	struct imsg_trust_token m = {
	    .name = t->name, .token = "", .expires_at = t->expires_at};

	if (fe)
		proc_send(fe, IMSG_TRUST_TOKEN, *(uint64_t *)arg, &m, -1);
	ntokens_listed++;
	return 0;
}

static void
token_new(uint64_t reqid, const struct imsg_cert_req *r)
{
	struct child *fe = proc_frontend();
	char secret[65], hash[65], text[LIM_TOKEN_MAX + 1];
	struct token t = {.created_at = time(NULL)};
	struct imsg_trust_token m;
	int rc;

	if (!r->name[0]) {
		struct fault f;

		fault_invalid(&f, "a token needs a name: the name the client's "
				  "certificate will be trusted under");
		reply_fault(reqid, &f);
		return;
	}
	db_token_purge(t.created_at);
	if (db_token_count() >= LIM_TRUST_TOKENS_MAX) {
		struct fault f;

		fault_invalid(&f, "at most %d join tokens can wait at once",
		    LIM_TRUST_TOKENS_MAX);
		reply_fault(reqid, &f);
		return;
	}
	snprintf(t.name, sizeof(t.name), "%s", r->name);
	t.expires_at = t.created_at + S->cfg.trust_token_expiry;
	random_hex(secret);
	sha256_hex(secret, strlen(secret), hash);
	if (token_text(t.name, secret, t.expires_at, text) == -1) {
		api_refuse(reqid, ERR_INTERNAL, RES_NONE, NULL);
		return;
	}
	rc = db_token_insert(&t, hash);
	if (rc == DB_CONFLICT) {
		api_refuse(reqid, ERR_EXISTS, RES_TOKEN, t.name);
		return;
	}
	if (rc != DB_OK) {
		reply_db(reqid, rc, RES_TOKEN);
		return;
	}
	log_info("join token %s made, expires in %u s", t.name,
	    S->cfg.trust_token_expiry);
	audit("trust-token-created", "name", t.name, "requestor",
	    peer_current()->requestor, NULL);
	m.name = t.name;
	m.token = text;
	m.expires_at = t.expires_at;
	if (fe)
		proc_send(fe, IMSG_TRUST_TOKEN, reqid, &m, -1);
}

void
trust_request(uint64_t reqid, const struct imsg_cert_req *r)
{
	struct cert c;
	int rc;

	if (r->action == CERT_JOIN) {
		cert_join(reqid, r);
		return;
	}
	if (!peer_current()->trusted) {
		api_refuse(reqid, ERR_FORBIDDEN, RES_CERTIFICATE, NULL);
		return;
	}
	switch (r->action) {
	case CERT_LIST: {
		int n = db_cert_page(
		    "", LIM_TRUSTED_CERTS_MAX, list_cert, (void *)&reqid);

		if (n < 0)
			reply_db(reqid, DB_ERROR, RES_NONE);
		else
			list_end(reqid, (uint32_t)n);
		return;
	}
	case CERT_GET:
	case CERT_DELETE:
		if ((rc = db_cert_resolve(r->fingerprint, &c)) != DB_OK) {
			reply_db(reqid, rc, RES_CERTIFICATE);
			return;
		}
		if (r->action == CERT_GET) {
			send_cert(reqid, &c);
			return;
		}
		if (db_cert_delete(c.fingerprint) != DB_OK) {
			reply_db(reqid, DB_ERROR, RES_NONE);
			return;
		}
		log_info("certificate %s (%s) no longer trusted", c.fingerprint,
		    c.name);
		audit("trust-removed", "fingerprint", c.fingerprint, "name",
		    c.name, "requestor", peer_current()->requestor, NULL);
		reply_ok(reqid, RES_NONE, "");
		return;
	case CERT_ADD:
		if (cert_from(reqid, r, r->name, &c) == 0)
			cert_insert(reqid, &c, "added");
		return;
	case CERT_TOKEN:
		token_new(reqid, r);
		return;
	case CERT_TOKENS:
		db_token_purge(time(NULL));
		ntokens_listed = 0;
		if (db_token_list(list_token, (void *)&reqid) == -1)
			reply_db(reqid, DB_ERROR, RES_NONE);
		else
			list_end(reqid, (uint32_t)ntokens_listed);
		return;
	case CERT_REVOKE:
		if ((rc = db_token_delete(r->name)) != DB_OK) {
			reply_db(reqid, rc, RES_TOKEN);
			return;
		}
		audit("trust-token-revoked", "name", r->name, "requestor",
		    peer_current()->requestor, NULL);
		reply_ok(reqid, RES_NONE, "");
		return;
	default:
		api_refuse(reqid, ERR_INVALID, RES_NONE, NULL);
	}
}

/* ---- one-time image secrets ---- */

struct secret {
	TAILQ_ENTRY(secret) entry;
	char secret[65];
	char fingerprint[65];
	char project[LIM_PROJECT_NAME_MAX + 1];
	time_t expires;
	struct op *op; /* running until used or expired */
};
static TAILQ_HEAD(, secret) secrets = TAILQ_HEAD_INITIALIZER(secrets);
static unsigned nsecrets;
static struct event *ev_secrets;

static void
secret_end(struct secret *s, const struct fault *f)
{
	op_finish(s->op, f);
	TAILQ_REMOVE(&secrets, s, entry);
	nsecrets--;
	explicit_bzero(s->secret, sizeof(s->secret));
	free(s);
}

static void
secrets_expire(evutil_socket_t fd, short ev, void *arg)
{
	struct secret *s, *next;
	time_t now = time(NULL);
	struct fault f;

	(void)fd;
	(void)ev;
	(void)arg;
	for (s = TAILQ_FIRST(&secrets); s; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->expires <= now) {
			fault_set(&f, ERR_BAD_TOKEN, RES_IMAGE, NULL);
			log_info("image secret for %s expired", s->fingerprint);
			secret_end(s, &f);
		}
	}
}

/* POST /1.0/images/<fp>/secret: an operation whose metadata holds it. */
void
secret_new(uint64_t reqid, const char *project, const struct image *img)
{
	struct timeval tv = {1, 0};
	struct secret *s;

	if (nsecrets >= LIM_IMAGE_SECRETS_MAX) {
		api_refuse(reqid, ERR_BUSY, RES_NONE, NULL);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	random_hex(s->secret);
	snprintf(
	    s->fingerprint, sizeof(s->fingerprint), "%s", img->fingerprint);
	snprintf(s->project, sizeof(s->project), "%s", project);
	s->expires = time(NULL) + S->cfg.image_secret_expiry;
	s->op = op_new(project, "Downloading image", img->fingerprint);
	op_set_token(s->op);
	op_set_meta(s->op, "secret", s->secret);
	op_start(s->op); /* running until used: LXD's token operation */
	audit("image-secret-created", "project", project, "fingerprint",
	    img->fingerprint, "requestor", peer_current()->requestor, NULL);
	op_reply(s->op, reqid);
	TAILQ_INSERT_TAIL(&secrets, s, entry);
	nsecrets++;
	if (ev_secrets == NULL &&
	    (ev_secrets = event_new(
		 S->base, -1, EV_PERSIST, secrets_expire, NULL)) == NULL)
		fatalx("event_new");
	event_add(ev_secrets, &tv);
}

/* Does this secret open this image? consume: it is used up (an export). */
int
secret_check(
    const char *project, const char *fp, const char *secret, int consume)
{
	struct secret *s;

	if (secret == NULL || strlen(secret) != 64)
		return 0;
	TAILQ_FOREACH (s, &secrets, entry)
		if (CRYPTO_memcmp(s->secret, secret, 64) == 0 &&
		    strcmp(s->fingerprint, fp) == 0 &&
		    strcmp(s->project, project) == 0 && s->expires > time(NULL))
			break;
	if (s == NULL)
		return 0;
	if (consume) {
		audit("image-secret-used", "project", project, "fingerprint",
		    fp, "requestor", peer_current()->requestor, NULL);
		secret_end(s, NULL);
	}
	return 1;
}
