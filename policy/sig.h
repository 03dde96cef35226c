/*
 * Detached Ed25519 signatures in minisign's and OpenBSD signify's
 * formats: the parse of a key or a signature file (done where untrusted
 * text may be read: the fetcher, the frontend), and the check of a parsed
 * signature with OpenSSL (wherever the message or its hash is).
 */
#ifndef POLICY_SIG_H
#define POLICY_SIG_H

#include <stddef.h>
#include <stdint.h>

#define SIG_COMMENT_MAX 1024

/* An Ed25519 key as minisign and signify write it. */
struct pubkey {
	uint8_t id[8];
	uint8_t key[32];
};

/* A signature file, parsed. */
struct sig {
	int prehashed; /* minisign "ED": over the BLAKE2b-512 */
	uint8_t id[8]; /* the signing key's id */
	uint8_t sig[64];
	int has_comment; /* minisign: the trusted comment and its signature */
	char comment[SIG_COMMENT_MAX + 1];
	uint8_t global[64];
};

enum { SIG_OK, SIG_E_FORMAT, SIG_E_COMMENT };

/* A key's text: 0, or -1. */
int sig_pubkey(const char *text, struct pubkey *k);
/* A signature file's text: SIG_OK or SIG_E_*; the words for those. */
int sig_parse(const char *text, size_t len, struct sig *s);
const char *sig_parse_error(int e);
/* A key id as minisign shows it (16 uppercase hex digits). */
void sig_keyid(const uint8_t id[8], char out[17]);
/* s checked against k, over msg (or prehash, a streamed file's
 * BLAKE2b-512, for a prehashed signature): 0, or -1 with why in err
 * ("WHAT is signed by another key ...", "WHAT: the signature does not
 * verify", ...). */
int sig_verify(const struct pubkey *k, const struct sig *s, const char *what,
    const uint8_t *msg, size_t msglen, const uint8_t *prehash, char *err,
    size_t errlen);

#endif
