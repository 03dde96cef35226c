/*
 * TLS for the HTTPS listener: OpenSSL set up before the sandbox (no config
 * file read, no provider loaded later), the identity the store made handed
 * in as two read-only fds, TLS 1.2+ with AEAD ciphers and forward secrecy
 * only. A client certificate is asked for and any is accepted: it is an
 * identity, not a chain, and the store decides whether its sha256 is
 * trusted. Nothing here decides trust.
 */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "ipc/log.h"

static SSL_CTX *ctx;
static X509 *server_cert;
static EVP_PKEY *server_key;
static int ready;
static char server_pem[8192];
static char server_fp[65];

/* Any certificate: the handshake proves the client holds its key, and the
 * store looks its fingerprint up. Expired or self-signed is normal (LXD's
 * clients make their own). */
static int
accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

void
tls_preinit(void)
{
	/* TLS 1.2's ECDHE + AEAD suites; TLS 1.3's are all AEAD. */
	static const char tls12[] =
	    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
	    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
	static const unsigned char sid[] = "imgd";

	if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatalx("TLS: SSL_CTX_new");
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, tls12) ||
	    !SSL_CTX_set_ciphersuites(ctx,
		"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
		"TLS_CHACHA20_POLY1305_SHA256"))
		fatalx("TLS: cipher setup");
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
				     SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_verify(
	    ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

static size_t
read_all(int fd, char *buf, size_t max)
{
	size_t n = 0;
	ssize_t r;

	while (n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += (size_t)r;
	return n;
}

/* n bytes as 2n lowercase hex digits and a NUL; -1 when len is short. */
static int
hexify(const unsigned char *p, size_t n, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (n * 2 + 1 > len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static void
fingerprint(X509 *x, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &len) && len == 32)
		hexify(md, 32, out, 65);
}

/* IMSG_TLS_IDENTITY: the certificate, then the key. */
void
tls_identity(int part, int fd)
{
	static char buf[64 * 1024];
	size_t n = read_all(fd, buf, sizeof(buf) - 1);
	BIO *b = BIO_new_mem_buf(buf, (int)n);

	if (b == NULL)
		fatalx("TLS: BIO");
	if (part == TLS_CERT) {
		X509_free(server_cert);
		server_cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (server_cert == NULL || n >= sizeof(server_pem))
			fatalx("TLS: the store's certificate does not parse");
		memcpy(server_pem, buf, n);
		server_pem[n] = '\0';
		fingerprint(server_cert, server_fp);
	} else {
		EVP_PKEY_free(server_key);
		server_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		if (server_key == NULL)
			fatalx("TLS: the store's key does not parse");
	}
	BIO_free(b);
	explicit_bzero(buf, sizeof(buf));
	if (server_cert && server_key) {
		if (SSL_CTX_use_certificate(ctx, server_cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, server_key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			fatalx("TLS: certificate and key do not match");
		ready = 1;
		log_debug("TLS identity %s", server_fp);
	}
}

const char *
tls_server_pem(void)
{
	return server_pem;
}

const char *
tls_server_fp(void)
{
	return server_fp;
}

/* A server-side TLS bufferevent for an accepted socket, or NULL. */
struct bufferevent *
tls_bev(int fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!ready || (ssl = SSL_new(ctx)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    fe_base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client that just closes the socket is not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* After the handshake: the client certificate's sha256, or "". */
void
tls_peer(struct bufferevent *bev, char fp[65])
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

	fp[0] = '\0';
	if (x)
		fingerprint(x, fp);
}

/* The client certificate, DER in hex, for a join; -1 when none. */
int
tls_peer_der_hex(struct bufferevent *bev, char *out, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	unsigned char *der = NULL;
	int n, rc;

	if (x == NULL || (n = i2d_X509(x, &der)) <= 0)
		return -1;
	rc = hexify(der, (size_t)n, out, len);
	OPENSSL_free(der);
	return rc;
}

/* A certificate posted as base64 DER (or PEM): checked that it parses,
 * then DER in hex for the store. -1 when it is not a certificate. */
int
tls_cert_der_hex(const char *b64, char *out, size_t len)
{
	static unsigned char der[LIM_CERT_DER_MAX + 8];
	char body[2 * LIM_CERT_DER_MAX];
	const unsigned char *p = der;
	size_t o = 0;
	int n, pad = 0;
	X509 *x;

	/* PEM: the lines between the markers; base64: as it is. */
	if (strncmp(b64, "-----BEGIN CERTIFICATE-----", 27) == 0)
		b64 += 27;
	for (; *b64 && *b64 != '-'; b64++) {
		if (*b64 == '\n' || *b64 == '\r' || *b64 == ' ')
			continue;
		if (o + 1 >= sizeof(body))
			return -1;
		body[o++] = *b64;
	}
	body[o] = '\0';
	if (o == 0 || o % 4 || 3 * (o / 4) > sizeof(der))
		return -1;
	pad = (body[o - 1] == '=') + (body[o - 2] == '=');
	if ((n = EVP_DecodeBlock(der, (unsigned char *)body, (int)o)) < 0)
		return -1;
	n -= pad;
	if ((x = d2i_X509(NULL, &p, n)) == NULL || p != der + n) {
		X509_free(x);
		return -1;
	}
	X509_free(x);
	return hexify(der, (size_t)n, out, len);
}
