/*
 * The configuration file: a flat YAML mapping of strings, read once at
 * start with the same strict reader as metadata.yaml (policy/yp.c: one
 * document, no anchors, aliases, tags or duplicate keys). Every key is
 * optional; the embedded defaults are below and in policy/limits.h.
 *
 *	frontend_user: imgd-frontend	system users of the children
 *	fetcher_user: imgd-fetcher
 *	unpacker_user: imgd-unpacker
 *	socket_group: lxd		group of unix.socket (default root's)
 *	socket_mode: 0660
 *	upload_max: 8G			per image part
 *	upload_hash_lag: 64M		bytes an upload may run ahead of
 *					its hashing before its pipe waits
 *	unpacker_timeout: 900		seconds of wall clock per job
 *	unpackers_per_project: 2
 *	https_address: 127.0.0.1:8443	HTTPS API ("" or absent: none)
 *	trust_token_expiry: 86400	seconds a join token is valid
 *	image_secret_expiry: 3600	seconds an image secret is valid
 *	http_conns_per_client: 64	connections per uid or address
 *	http_header_timeout: 10		seconds to a whole request head
 *	http_idle_timeout: 30		seconds a kept-alive connection waits
 *	http_line_max: 8192		bytes of a request line or field line
 *	http_headers_max: 32768		bytes of the header section
 *	http_header_fields: 100
 *	json_max: 1048576		bytes of a JSON body
 *	json_depth: 64			its nesting
 * (these five may only be lowered: the compiled values size buffers)
 *	fetch_allow_http: ""		hosts reached by plain http ("*": any)
 *	fetch_allow_private: ""		hosts whose loopback, private or
 *					link-local addresses may be used
 *	fetch_ca_file: /etc/ssl/certs/ca-certificates.crt
 *	fetch_keys_dir: ""		HOST.pub there pins HOST to that key
 *	import_key: ""			a minisign key: every file import must
 *					carry its signature (X-Imgd-Signature)
 *	nameservers: ""			"addr[:port],..." ("": resolv.conf's)
 *	proxy_https: $https_proxy	as LXD's core.proxy_https
 *	proxy_ignore_hosts: $no_proxy	as LXD's core.proxy_ignore_hosts
 * (the two default to imgd's environment, https_proxy or HTTPS_PROXY and
 * no_proxy or NO_PROXY, as LXD's do; "" in the file turns them off)
 *	fetch_low_speed_time: 30	seconds below 1 KiB/s before giving up
 *	fetch_connect_timeout: 30
 *	fetchers_max: 4			downloads at once (more wait)
 *	auto_update_interval: 6h	auto_update images refreshed (0: never)
 *	remote_cache_expiry: 10d	cached images kept unused (0: forever)
 *	unpack_root: ""			where unpack targets are made
 *					("": <state>/rootfs)
 *	unpack_devices: false		device nodes in --privileged unpacks
 *	policy: /etc/imgd/policy.yaml	who may do what (policy/authz.h);
 *					absent: root and socket_group only
 *	audit_rotate_size: 64M		audit.log moves to audit.log.N past
 *					this (0: never); the chain goes on
 *	audit_keep: 0			rotated files kept (0: all)
 *	audit_anchor_file: ""		gets the chain's head every
 *	audit_anchor_every: 100		this many records, and at rotation
 *	debug: false
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/limits.h"
#include "policy/yp.h"
#include "store/store.h"

/* The environment's lower- or upper-case name (curl reads both). */
static void
env_default(char *dst, size_t len, const char *lower)
{
	char upper[32];
	const char *v;
	size_t i;

	for (i = 0; lower[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)lower[i]);
	upper[i] = '\0';
	if ((v = getenv(lower)) == NULL || *v == '\0')
		v = getenv(upper);
	if (v && strlen(v) < len)
		snprintf(dst, len, "%s", v);
}

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->users[0], sizeof(c->users[0]), "imgd-frontend");
	snprintf(c->users[1], sizeof(c->users[1]), "imgd-fetcher");
	snprintf(c->users[2], sizeof(c->users[2]), "imgd-unpacker");
	c->socket_mode = 0660;
	snprintf(c->policy, sizeof(c->policy), "%s", IMGD_POLICY_DEFAULT);
	c->upload_max = LIM_IMAGE_PART_MAX;
	c->upload_hash_lag = LIM_HASH_LAG;
	c->unpacker_timeout = LIM_UNPACKER_WALL_SECONDS;
	c->unpackers_per_project = LIM_UNPACKER_PER_TENANT;
	c->trust_token_expiry = LIM_TRUST_TOKEN_SECONDS;
	c->image_secret_expiry = LIM_IMAGE_SECRET_SECONDS;
	c->http_conns_per_client = LIM_HTTP_CONNS_PER_CLIENT;
	c->http_header_timeout = LIM_HTTP_HEADER_TIMEOUT;
	c->http_idle_timeout = LIM_HTTP_IDLE_TIMEOUT;
	c->http_line_max = LIM_HTTP_LINE_MAX;
	c->http_headers_max = LIM_HTTP_HEADERS_TOTAL;
	c->http_header_fields = LIM_HTTP_HEADER_FIELDS;
	c->json_max = LIM_HTTP_JSON_MAX;
	c->json_depth = LIM_HTTP_JSON_DEPTH;
	snprintf(c->fetch_ca_file, sizeof(c->fetch_ca_file),
	    "/etc/ssl/certs/ca-certificates.crt");
	c->fetch_low_speed_time = LIM_FETCH_LOW_SPEED_SECONDS;
	c->fetch_connect_timeout = LIM_FETCH_CONNECT_SECONDS;
	c->fetchers_max = LIM_FETCHERS_MAX;
	c->auto_update_interval = 6 * 3600;
	c->remote_cache_expiry = 10 * 86400;
	c->audit_rotate_size = 64 * MiB;
	c->audit_anchor_every = 100;
	env_default(c->proxy_https, sizeof(c->proxy_https), "https_proxy");
	env_default(
	    c->proxy_ignore_hosts, sizeof(c->proxy_ignore_hosts), "no_proxy");
}

/* "90", "90s", "15m", "6h", "10d": seconds, at most a year. */
static int
parse_duration(const char *v, unsigned *out)
{
	char *end;
	unsigned long long n;
	unsigned m = 1;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || v[0] == '-')
		return -1;
	if (*end) {
		m = *end == 's'	  ? 1
		    : *end == 'm' ? 60
		    : *end == 'h' ? 3600
		    : *end == 'd' ? 86400
				  : 0;
		if (m == 0 || end[1] != '\0')
			return -1;
	}
	if (n > 366ULL * 86400 / m)
		return -1;
	*out = (unsigned)(n * m);
	return 0;
}

/* String keys: the field and its size. */
static char *
string_key(struct config *c, const char *k, size_t *len)
{
	const struct {
		const char *key;
		char *field;
		size_t len;
	} t[] = {
	    {"fetch_allow_http", c->fetch_allow_http,
		sizeof(c->fetch_allow_http)},
	    {"fetch_allow_private", c->fetch_allow_private,
		sizeof(c->fetch_allow_private)},
	    {"fetch_ca_file", c->fetch_ca_file, sizeof(c->fetch_ca_file)},
	    {"fetch_keys_dir", c->fetch_keys_dir, sizeof(c->fetch_keys_dir)},
	    {"import_key", c->import_key, sizeof(c->import_key)},
	    {"unpack_root", c->unpack_root, sizeof(c->unpack_root)},
	    {"policy", c->policy, sizeof(c->policy)},
	    {"audit_anchor_file", c->audit_anchor_file,
		sizeof(c->audit_anchor_file)},
	    {"nameservers", c->nameservers, sizeof(c->nameservers)},
	    {"proxy_https", c->proxy_https, sizeof(c->proxy_https)},
	    {"proxy_ignore_hosts", c->proxy_ignore_hosts,
		sizeof(c->proxy_ignore_hosts)},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(k, t[i].key) == 0) {
			*len = t[i].len;
			return t[i].field;
		}
	return NULL;
}

static int
parse_u64(const char *v, uint64_t *out, int suffixes, int base)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, base);
	if (errno || end == v || v[0] == '-')
		return -1;
	if (suffixes && *end) {
		uint64_t m = *end == 'K'   ? KiB
			     : *end == 'M' ? MiB
			     : *end == 'G' ? GiB
					   : 0;
		if (m == 0 || end[1] != '\0' || n > UINT64_MAX / m)
			return -1;
		n *= m;
	} else if (*end)
		return -1;
	*out = n;
	return 0;
}

/* The limits a configuration may lower, never raise. */
struct lowerable {
	unsigned *field;
	unsigned lo, hi;
};
static const struct lowerable *
lowered(struct config *c, const char *k)
{
	static struct lowerable l;
	const struct {
		const char *key;
		unsigned *field;
		unsigned lo, hi;
	} t[] = {
	    {"http_line_max", &c->http_line_max, 256, LIM_HTTP_LINE_MAX},
	    {"http_headers_max", &c->http_headers_max, 1024,
		LIM_HTTP_HEADERS_TOTAL},
	    {"http_header_fields", &c->http_header_fields, 8,
		LIM_HTTP_HEADER_FIELDS},
	    {"json_max", &c->json_max, 1024, LIM_HTTP_JSON_MAX},
	    {"json_depth", &c->json_depth, 2, LIM_HTTP_JSON_DEPTH},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(k, t[i].key) == 0) {
			l.field = t[i].field;
			l.lo = t[i].lo;
			l.hi = t[i].hi;
			return &l;
		}
	return NULL;
}

static int
set_key(
    struct config *c, const char *k, const char *v, char *err, size_t errlen)
{
	static const char *users[] = {
	    "frontend_user", "fetcher_user", "unpacker_user"};
	uint64_t n;
	size_t slen;

	for (size_t i = 0; i < 3; i++)
		if (strcmp(k, users[i]) == 0) {
			if (strlen(v) >= sizeof(c->users[i]) || !*v)
				goto bad;
			snprintf(c->users[i], sizeof(c->users[i]), "%s", v);
			return 0;
		}
	if (strcmp(k, "socket_group") == 0) {
		if (strlen(v) >= sizeof(c->socket_group))
			goto bad;
		snprintf(c->socket_group, sizeof(c->socket_group), "%s", v);
	} else if (strcmp(k, "socket_mode") == 0) {
		if (parse_u64(v, &n, 0, 8) == -1 || n > 0777 || (n & 07))
			goto bad;
		c->socket_mode = (unsigned)n;
	} else if (strcmp(k, "upload_max") == 0) {
		if (parse_u64(v, &n, 1, 10) == -1 || n == 0)
			goto bad;
		c->upload_max = n;
	} else if (strcmp(k, "upload_hash_lag") == 0) {
		if (parse_u64(v, &n, 1, 10) == -1 || n < MiB || n > GiB)
			goto bad;
		c->upload_hash_lag = n;
	} else if (strcmp(k, "unpacker_timeout") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 86400)
			goto bad;
		c->unpacker_timeout = (unsigned)n;
	} else if (strcmp(k, "unpackers_per_project") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 64)
			goto bad;
		c->unpackers_per_project = (unsigned)n;
	} else if (strcmp(k, "https_address") == 0) {
		if (strlen(v) >= sizeof(c->https_address) ||
		    (*v && strchr(v, ':') == NULL))
			goto bad;
		snprintf(c->https_address, sizeof(c->https_address), "%s", v);
	} else if (strcmp(k, "trust_token_expiry") == 0 ||
		   strcmp(k, "image_secret_expiry") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 365 * 86400)
			goto bad;
		*(k[0] == 't' ? &c->trust_token_expiry
			      : &c->image_secret_expiry) = (unsigned)n;
	} else if (strcmp(k, "http_conns_per_client") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 ||
		    n > LIM_HTTP_CONNS_MAX)
			goto bad;
		c->http_conns_per_client = (unsigned)n;
	} else if (strcmp(k, "http_header_timeout") == 0 ||
		   strcmp(k, "http_idle_timeout") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 3600)
			goto bad;
		*(k[5] == 'h' ? &c->http_header_timeout
			      : &c->http_idle_timeout) = (unsigned)n;
	} else if (lowered(c, k) != NULL) {
		unsigned *p = lowered(c, k)->field;

		if (parse_u64(v, &n, 0, 10) == -1 || n < lowered(c, k)->lo ||
		    n > lowered(c, k)->hi)
			goto bad;
		*p = (unsigned)n;
	} else if (string_key(c, k, &slen) != NULL) {
		char *f = string_key(c, k, &slen);

		if (strlen(v) >= slen)
			goto bad;
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				goto bad;
		snprintf(f, slen, "%s", v);
	} else if (strcmp(k, "fetch_low_speed_time") == 0 ||
		   strcmp(k, "fetch_connect_timeout") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 3600)
			goto bad;
		*(k[6] == 'l' ? &c->fetch_low_speed_time
			      : &c->fetch_connect_timeout) = (unsigned)n;
	} else if (strcmp(k, "auto_update_interval") == 0 ||
		   strcmp(k, "remote_cache_expiry") == 0) {
		if (parse_duration(v, k[0] == 'a'
					  ? &c->auto_update_interval
					  : &c->remote_cache_expiry) == -1)
			goto bad;
	} else if (strcmp(k, "audit_rotate_size") == 0) {
		if (parse_u64(v, &n, 1, 10) == -1 || (n > 0 && n < 4096))
			goto bad;
		c->audit_rotate_size = n;
	} else if (strcmp(k, "audit_keep") == 0 ||
		   strcmp(k, "audit_anchor_every") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n > 1000000 ||
		    (n == 0 && k[6] == 'a'))
			goto bad;
		*(k[6] == 'k' ? &c->audit_keep : &c->audit_anchor_every) =
		    (unsigned)n;
	} else if (strcmp(k, "fetchers_max") == 0) {
		if (parse_u64(v, &n, 0, 10) == -1 || n == 0 || n > 64)
			goto bad;
		c->fetchers_max = (unsigned)n;
	} else if (strcmp(k, "debug") == 0 ||
		   strcmp(k, "unpack_devices") == 0) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			goto bad;
		*(k[0] == 'd' ? &c->debug : &c->unpack_devices) =
		    strcmp(v, "true") == 0;
	} else {
		snprintf(err, errlen, "unknown key \"%s\"", k);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value for %s: \"%s\"", k, v);
	return -1;
}

/* Only blank lines, comments and "---" / "...": YAML without a document. */
static int
no_document(const char *s)
{
	while (*s) {
		size_t sp = strspn(s, " \t\r"), n = strcspn(s, "\n");
		const char *l = s + sp;

		if (strncmp(l, "---", 3) == 0 || strncmp(l, "...", 3) == 0)
			l += 3 + strspn(l + 3, " \t\r");
		if (*l != '\n' && *l != '\0' && *l != '#')
			return 0;
		s += n + (s[n] == '\n');
	}
	return 1;
}

/* One key of the file: a string value, checked by set_key(). */
static int
config_key(struct yp *y, const char *key, size_t klen, void *arg)
{
	char k[64], v[512], sub[900];
	const char *s;
	size_t len;

	if (klen >= sizeof(k) || memchr(key, '\0', klen) != NULL) {
		snprintf(sub, sizeof(sub), "unknown key \"%.40s\"", key);
		return yp_fail(y, "%s", sub);
	}
	memcpy(k, key, klen);
	k[klen] = '\0';
	if (yp_scalar(y, k, &s, &len) == -1)
		return -1;
	if (len >= sizeof(v) || memchr(s, '\0', len) != NULL)
		return yp_fail(y, "bad value for %s", k);
	memcpy(v, s, len);
	v[len] = '\0';
	if (set_key(arg, k, v, sub, sizeof(sub)) == -1)
		return yp_fail(y, "%s", sub);
	return 0;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	static char buf[LIM_CONFIG_MAX + 1];
	struct yp y;
	size_t n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	rc = ferror(f);
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "read error");
		return -1;
	}
	if (n > LIM_CONFIG_MAX) {
		snprintf(err, errlen, "larger than %d bytes", LIM_CONFIG_MAX);
		return -1;
	}
	buf[n] = '\0';
	/* A file of comments and blank lines is the defaults. */
	if (no_document(buf))
		return 0;
	if (yp_init(&y, NULL, buf, n, err, errlen) == -1)
		return -1;
	rc = yp_document(&y, config_key, c);
	yp_free(&y);
	return rc;
}
