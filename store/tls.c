/*
 * The HTTPS side the store owns: the server's TLS identity (an EC P-384 key
 * and a self-signed certificate, made on first start in the state dir and
 * kept), and the listening socket for https_address. The frontend gets the
 * two files as read-only fds and the socket already listening; it never
 * opens a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static char server_fp[65];

const char *
tls_server_fingerprint(void)
{
	return server_fp;
}

static void
ssl_fatal(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fatalx("TLS identity: %s: %s", what, e ? buf : "failed");
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		ssl_fatal("certificate extension");
	X509_EXTENSION_free(ext);
}

/* Written whole, synced, then renamed into place. */
static void
write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) ==
	    -1)
		fatal("create %s", tmp);
	if ((f = fdopen(fd, "w")) == NULL)
		fatal("fdopen");
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, x);
	if (!ok || fflush(f) != 0 || fsync(fd) == -1 || fclose(f) != 0)
		fatal("write %s", tmp);
	if (rename(tmp, path) == -1)
		fatal("rename %s", path);
}

static void
make_identity(const char *crt, const char *key)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	X509 *x = X509_new();
	X509_NAME *n;
	uint8_t serial[16];
	BIGNUM *bn;
	char cn[128], san[256];

	if (pk == NULL || x == NULL)
		ssl_fatal("key");
	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial))
		fatal("getrandom");
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		ssl_fatal("serial");
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	snprintf(cn, sizeof(cn), "root@%s", S->server_name);
	X509_NAME_add_entry_by_txt(
	    n, "O", MBSTRING_ASC, (const unsigned char *)"imgd", -1, -1, 0);
	X509_NAME_add_entry_by_txt(
	    n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	/* LXD's clients verify a pinned certificate against its first DNS
	 * name: the host's. */
	snprintf(san, sizeof(san),
	    "DNS:%s, DNS:localhost, IP:127.0.0.1, "
	    "IP:::1",
	    S->server_name);
	add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth");
	add_ext(x, NID_subject_alt_name, san);
	if (!X509_sign(x, pk, EVP_sha384()))
		ssl_fatal("sign");
	write_pem(key, 0600, pk, NULL);
	write_pem(crt, 0644, NULL, x);
	log_info("made the server's TLS identity: %s", crt);
	EVP_PKEY_free(pk);
	X509_free(x);
}

/* <state>/server.crt and .key: made once, checked on every start. */
void
tls_identity_init(void)
{
	char crt[PATH_MAX], key[PATH_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	struct stat st;
	EVP_PKEY *pk;
	X509 *x;
	FILE *f;

	snprintf(crt, sizeof(crt), "%s/server.crt", S->state);
	snprintf(key, sizeof(key), "%s/server.key", S->state);
	if (stat(crt, &st) == -1 && errno == ENOENT && stat(key, &st) == -1 &&
	    errno == ENOENT)
		make_identity(crt, key);
	if ((f = fopen(crt, "re")) == NULL)
		fatal("%s", crt);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if ((f = fopen(key, "re")) == NULL)
		fatal("%s", key);
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL || pk == NULL)
		fatalx("%s or %s is not a PEM certificate and key (remove both "
		       "to make a new identity)",
		    crt, key);
	if (X509_check_private_key(x, pk) != 1)
		fatalx("%s does not belong to %s", key, crt);
	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32)
		ssl_fatal("digest");
	hex_encode(md, 32, server_fp);
	log_info("TLS identity %s", server_fp);
	EVP_PKEY_free(pk);
	X509_free(x);
}

/* The files, read-only, for the frontend. */
int
tls_identity_open(int part)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/server.%s", S->state,
	    part == TLS_KEY ? "key" : "crt");
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* "host:port", "[v6]:port" or ":port" (every address), numeric only. */
int
https_open(const char *addr, char *err, size_t errlen)
{
	char host[128] = "", port[16];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
			    .ai_flags =
				AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV},
			*res = NULL;
	size_t hl;
	int fd, one = 1, rc;

	if (colon == NULL || !colon[1] || strlen(colon + 1) >= sizeof(port)) {
		snprintf(err, errlen, "https_address %s: not host:port", addr);
		return -1;
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "https_address: host too long");
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (!host[0])
		hints.ai_family = AF_INET6; /* with v4-mapped: every address */
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) !=
	    0) {
		snprintf(err, errlen, "https_address %s: %s", addr,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6) {
		int v6only = host[0] ? 1 : 0;

		setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1) {
		snprintf(
		    err, errlen, "https_address %s: %s", addr, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}
