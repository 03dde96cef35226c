/*
 * The headers of an image upload that carry data (X-LXD-properties,
 * X-Imgd-Alias): decoded and checked here, each refusal with its reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "policy/names.h"
#include "ipc/codec.h"
#include "ipc/log.h"
#include "policy/sig.h"

#include <openssl/evp.h>

static int
is_true(const char *v)
{
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") ||
			!strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* Sets the reason a header was refused; always -1. */
static int hdr_refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
hdr_refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* X-LXD-properties: key=value pairs, form-encoded; each key once. */
static int
parse_props(struct conn *c, struct ipc_kv *kv, char (*buf)[2][4200],
    uint32_t *n, char *why, size_t whylen)
{
	static char k[4200], val[4200];
	size_t i = 0, total = 0;
	const char *v;
	char q[64];

	*n = 0;
	while ((v = http_head_next(&c->head, "X-LXD-properties", &i))) {
		const char *cur = v;
		int rc;

		/* Decoded into scratch first: buf has room for the limit. */
		while ((rc = http_query_next(
			    &cur, k, sizeof(k), val, sizeof(val))) == 1) {
			snprintf(q, sizeof(q), "%.40s%s", k,
			    strlen(k) > 40 ? "..." : "");
			if (!*k)
				return hdr_refuse(why, whylen, "an empty key");
			if (strlen(k) > LIM_PROP_KEY_MAX)
				return hdr_refuse(why, whylen,
				    "key \"%s\" is longer than %d bytes", q,
				    LIM_PROP_KEY_MAX);
			if (!ipc_str_valid(k, strlen(k), CS_LINE))
				return hdr_refuse(why, whylen,
				    "control character or invalid UTF-8 in a "
				    "key");
			if (strlen(val) > LIM_PROP_VALUE_MAX)
				return hdr_refuse(why, whylen,
				    "value of \"%s\" is longer than %d bytes",
				    q, LIM_PROP_VALUE_MAX);
			if (!ipc_str_valid(val, strlen(val), CS_ANY_UTF8))
				return hdr_refuse(why, whylen,
				    "control character in \"%s\"", q);
			for (uint32_t j = 0; j < *n; j++)
				if (strcmp(kv[j].key, k) == 0)
					return hdr_refuse(why, whylen,
					    "\"%s\" is given twice", q);
			if (*n == LIM_META_PROPERTIES_MAX)
				return hdr_refuse(why, whylen,
				    "at most %d properties",
				    LIM_META_PROPERTIES_MAX);
			memcpy(buf[*n][0], k, strlen(k) + 1);
			memcpy(buf[*n][1], val, strlen(val) + 1);
			kv[*n].key = buf[*n][0];
			kv[*n].value = buf[*n][1];
			(*n)++;
			total += strlen(k) + strlen(val);
			if (total > LIM_PROP_TOTAL_MAX)
				return hdr_refuse(why, whylen,
				    "more than %llu bytes of properties in all",
				    (unsigned long long)LIM_PROP_TOTAL_MAX);
		}
		if (rc == -1)
			return hdr_refuse(why, whylen,
			    "bad percent-encoding or a control character "
			    "(expected key=value&..., form-encoded)");
	}
	return 0;
}

/* X-Imgd-Alias: one alias name per header line, percent-encoded. */
static int
parse_aliases(struct conn *c, struct ipc_kv *kv,
    char (*buf)[LIM_ALIAS_NAME_MAX + 1], uint32_t *n, char *why, size_t whylen)
{
	size_t i = 0;
	const char *v;
	char sub[160];

	*n = 0;
	while ((v = http_head_next(&c->head, HDR_ALIAS, &i))) {
		if (*n == LIM_ALIASES_PER_IMAGE)
			return hdr_refuse(why, whylen,
			    "at most %d aliases per image",
			    LIM_ALIASES_PER_IMAGE);
		if (http_path_decode(
			v, strlen(v), buf[*n], LIM_ALIAS_NAME_MAX + 1, 0) < 0)
			return hdr_refuse(why, whylen,
			    "bad percent-encoding, or a name longer than %d "
			    "bytes",
			    LIM_ALIAS_NAME_MAX);
		if (alias_name_check(buf[*n], sub, sizeof(sub)) == -1)
			return hdr_refuse(why, whylen,
			    "invalid alias name \"%.64s\": %s", buf[*n], sub);
		for (uint32_t j = 0; j < *n; j++)
			if (strcmp(kv[j].key, buf[*n]) == 0)
				return hdr_refuse(why, whylen,
				    "alias \"%.64s\" is given twice", buf[*n]);
		kv[*n].key = buf[*n];
		kv[(*n)++].value = "";
	}
	return 0;
}

/*
 * X-Imgd-Signature / X-Imgd-Rootfs-Signature: base64 of a file's .minisig
 * (one line, as a header must be), parsed here so that the store gets
 * typed bytes, never the format: hex of the key id, the signature and the
 * global signature, and the trusted comment. Only minisign's prehashed
 * signatures can be checked over a streamed file. 0, or -1 with why.
 */
static int
parse_sig(const char *v, char hex[SIG_WIRE_HEX + 1],
    char comment[SIG_COMMENT_MAX + 1], char *why, size_t whylen)
{
	static uint8_t text[4096];
	uint8_t wire[SIG_WIRE_BYTES];
	struct sig s;
	size_t n = strlen(v);
	int got, e;

	hex[0] = comment[0] = '\0';
	if (n == 0)
		return 0;
	if (n % 4 || n / 4 * 3 > sizeof(text) ||
	    (got = EVP_DecodeBlock(text, (const unsigned char *)v, (int)n)) < 0)
		return hdr_refuse(why, whylen,
		    "not base64 of a .minisig file (of at most %zu bytes)",
		    sizeof(text) / 4 * 3);
	while (n > 0 && v[--n] == '=' && got > 0)
		got--;
	if ((e = sig_parse((const char *)text, (size_t)got, &s)) != SIG_OK)
		return hdr_refuse(why, whylen, "%s", sig_parse_error(e));
	if (!s.prehashed || !s.has_comment)
		return hdr_refuse(why, whylen,
		    "not a prehashed minisign signature (signify's and "
		    "minisign -l's sign the whole file, which is not held "
		    "here): sign it with minisign's default");
	if (!ipc_str_valid(s.comment, strlen(s.comment), CS_ANY_UTF8))
		return hdr_refuse(
		    why, whylen, "its trusted comment is not UTF-8 text");
	memcpy(wire, s.id, 8);
	memcpy(wire + 8, s.sig, 64);
	memcpy(wire + 72, s.global, 64);
	for (size_t i = 0; i < sizeof(wire); i++)
		snprintf(hex + 2 * i, 3, "%02x", wire[i]);
	snprintf(comment, SIG_COMMENT_MAX + 1, "%s", s.comment);
	return 0;
}

int
upload_headers(
    struct conn *c, struct imsg_upload_begin *b, char *msg, size_t msglen)
{
	static struct ipc_kv props[LIM_META_PROPERTIES_MAX];
	static char propbuf[LIM_META_PROPERTIES_MAX][2][4200];
	static struct ipc_kv aliases[LIM_ALIASES_PER_IMAGE];
	static char aliasbuf[LIM_ALIASES_PER_IMAGE][LIM_ALIAS_NAME_MAX + 1];
	const char *fn = http_head_get(&c->head, "X-LXD-filename");
	const char *fp = http_head_get(&c->head, "X-LXD-fingerprint");
	char why[256];

	b->public = (uint8_t)is_true(http_head_get(&c->head, "X-LXD-public"));
	b->filename = "";
	if (fn && strlen(fn) <= LIM_FILENAME_MAX &&
	    ipc_str_valid(fn, strlen(fn), CS_LINE))
		b->filename = (char *)fn;
	b->fingerprint = "";
	if (fp && *fp) {
		if (strlen(fp) != 64 || !ipc_str_valid(fp, 64, CS_HEX)) {
			snprintf(msg, msglen,
			    "Invalid X-LXD-fingerprint: "
			    "expected 64 lowercase hex digits");
			return -1;
		}
		b->fingerprint = (char *)fp;
	}
	if (parse_props(c, props, propbuf, &b->nproperties, why, sizeof(why)) ==
	    -1) {
		snprintf(msg, msglen, "X-LXD-properties: %s", why);
		return -1;
	}
	b->properties = props;
	if (parse_aliases(
		c, aliases, aliasbuf, &b->naliases, why, sizeof(why)) == -1) {
		snprintf(msg, msglen, HDR_ALIAS ": %s", why);
		return -1;
	}
	b->aliases = aliases;
	static char sighex[2][SIG_WIRE_HEX + 1];
	static char sigcomment[2][SIG_COMMENT_MAX + 1];
	static const char *const sighdr[2] = {
	    "X-Imgd-Signature", "X-Imgd-Rootfs-Signature"};
	for (int i = 0; i < 2; i++) {
		const char *v = http_head_get(&c->head, sighdr[i]);

		if (parse_sig(v ? v : "", sighex[i], sigcomment[i], why,
			sizeof(why)) == -1) {
			snprintf(msg, msglen, "%s: %s", sighdr[i], why);
			return -1;
		}
	}
	b->sig0 = sighex[0];
	b->sig0_comment = sigcomment[0];
	b->sig1 = sighex[1];
	b->sig1_comment = sigcomment[1];
	return 0;
}
