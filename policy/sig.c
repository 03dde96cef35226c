/*
 * Detached signatures with a pinned Ed25519 key, checked with OpenSSL:
 * minisign's (algorithm "Ed" over the message, or "ED" over its
 * BLAKE2b-512, with the trusted comment's global signature) and OpenBSD
 * signify's ("Ed" over the message). Both formats are an "untrusted
 * comment:" line, then base64 of 2 bytes of algorithm, an 8-byte key id
 * and the 32-byte key or the 64-byte signature; minisign adds a
 * "trusted comment:" line and the global signature.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "policy/sig.h"

/* The n-th line of text (0-based), without its end; its length. */
static const char *
line(const char *text, size_t len, int n, size_t *out)
{
	const char *p = text, *end = text + len;

	for (; n > 0 && p < end; n--) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			return NULL;
		p = nl + 1;
	}
	if (p >= end)
		return NULL;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*out = (size_t)((nl ? nl : end) - p);
	if (*out && p[*out - 1] == '\r')
		(*out)--;
	return p;
}

/* base64 of exactly want bytes. */
static int
unbase64(const char *s, size_t n, uint8_t *out, size_t want)
{
	uint8_t buf[128];
	int got;
	size_t pad = 0;

	if (n == 0 || n % 4 || n > 4 * sizeof(buf) / 3)
		return -1;
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	if (got < 0 || (size_t)got - pad != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

int
sig_pubkey(const char *text, struct pubkey *k)
{
	uint8_t raw[42];
	size_t n;
	const char *l0 = line(text, strlen(text), 0, &n), *l1;

	if (l0 == NULL || strncmp(l0, "untrusted comment:", 18) != 0 ||
	    (l1 = line(text, strlen(text), 1, &n)) == NULL ||
	    unbase64(l1, n, raw, sizeof(raw)) == -1 || memcmp(raw, "Ed", 2))
		return -1;
	memcpy(k->id, raw + 2, 8);
	memcpy(k->key, raw + 10, 32);
	return 0;
}

int
sig_parse(const char *text, size_t len, struct sig *s)
{
	uint8_t raw[74];
	const char *l0, *l1, *l2, *l3;
	size_t n0, n1, n2, n3;

	memset(s, 0, sizeof(*s));
	if ((l0 = line(text, len, 0, &n0)) == NULL || n0 < 18 ||
	    strncmp(l0, "untrusted comment:", 18) != 0 ||
	    (l1 = line(text, len, 1, &n1)) == NULL ||
	    unbase64(l1, n1, raw, sizeof(raw)) == -1 ||
	    (memcmp(raw, "Ed", 2) != 0 && memcmp(raw, "ED", 2) != 0))
		return SIG_E_FORMAT;
	s->prehashed = memcmp(raw, "ED", 2) == 0;
	memcpy(s->id, raw + 2, 8);
	memcpy(s->sig, raw + 10, 64);
	if ((l2 = line(text, len, 2, &n2)) == NULL)
		return SIG_OK; /* signify */
	if (n2 < 17 || strncmp(l2, "trusted comment: ", 17) != 0 ||
	    n2 - 17 > SIG_COMMENT_MAX || memchr(l2, '\0', n2) ||
	    (l3 = line(text, len, 3, &n3)) == NULL ||
	    unbase64(l3, n3, s->global, sizeof(s->global)) == -1)
		return SIG_E_COMMENT;
	s->has_comment = 1;
	memcpy(s->comment, l2 + 17, n2 - 17);
	s->comment[n2 - 17] = '\0';
	return SIG_OK;
}

const char *
sig_parse_error(int e)
{
	return e == SIG_E_COMMENT
		   ? "a minisign signature without its trusted comment"
		   : "its signature is not a minisign or signify signature";
}

static int
ed25519_ok(const struct pubkey *k, const uint8_t sig[64], const uint8_t *msg,
    size_t len)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_ED25519, NULL, k->key, sizeof(k->key));
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = pk && c &&
		 EVP_DigestVerifyInit(c, NULL, NULL, NULL, pk) == 1 &&
		 EVP_DigestVerify(c, sig, 64, msg, len) == 1;

	EVP_MD_CTX_free(c);
	EVP_PKEY_free(pk);
	return ok;
}

void
sig_keyid(const uint8_t id[8], char out[17])
{
	/* minisign shows key ids little-endian, as numbers */
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02X", id[7 - i]);
}

int
sig_verify(const struct pubkey *k, const struct sig *s, const char *what,
    const uint8_t *msg, size_t msglen, const uint8_t *prehash, char *err,
    size_t errlen)
{
	uint8_t digest[64], both[64 + SIG_COMMENT_MAX];
	char got[17], want[17];
	unsigned int dl = 0;
	size_t cl;

	if (memcmp(s->id, k->id, 8) != 0) {
		sig_keyid(s->id, got);
		sig_keyid(k->id, want);
		snprintf(err, errlen,
		    "%s is signed by another key (%s), not the pinned one (%s)",
		    what, got, want);
		return -1;
	}
	if (s->prehashed) {
		if (prehash)
			memcpy(digest, prehash, 64);
		else if (msg == NULL || EVP_Digest(msg, msglen, digest, &dl,
					    EVP_blake2b512(), NULL) != 1) {
			snprintf(err, errlen, "%s: BLAKE2b", what);
			return -1;
		}
		msg = digest;
		msglen = 64;
	} else if (msg == NULL) {
		snprintf(err, errlen,
		    "%s: a legacy (not prehashed) signature of a file too "
		    "large to hold; sign it with minisign's default",
		    what);
		return -1;
	}
	if (!ed25519_ok(k, s->sig, msg, msglen)) {
		snprintf(
		    err, errlen, "%s: the signature does not verify", what);
		return -1;
	}
	if (!s->has_comment)
		return 0; /* signify */
	/* minisign: the trusted comment is signed with the signature. */
	cl = strlen(s->comment);
	memcpy(both, s->sig, 64);
	memcpy(both + 64, s->comment, cl);
	if (!ed25519_ok(k, s->global, both, 64 + cl)) {
		snprintf(err, errlen,
		    "%s: the trusted comment's signature does not verify",
		    what);
		return -1;
	}
	return 0;
}
