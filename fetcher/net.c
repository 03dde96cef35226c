/*
 * The fetcher's network: every name is resolved here with c-ares (libcurl's
 * threaded resolver cannot run in this sandbox: no new threads, no files),
 * every address checked against the rules, and handed to libcurl with
 * CURLOPT_RESOLVE so that it connects only where we decided. Redirects are
 * followed here too, one checked hop at a time.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fetcher/fetch.h"
#include "ipc/log.h"

static ares_channel resolver;

int
fx_fail(struct fx *x, int kind, const char *fmt, ...)
{
	va_list ap;

	if (x->err[0])
		return -1;
	x->kind = kind;
	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Before the sandbox: libcurl and OpenSSL initialised, the resolver made
 * without reading any file later (no search domains, DNS only). */
int
net_init(void)
{
	struct ares_options o;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return -1;
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.lookups = (char *)"b";
	o.ndomains = 0;
	o.timeout = 2000;
	o.tries = 2;
	return ares_init_options(&resolver, &o,
		   ARES_OPT_FLAGS | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS |
		       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) == ARES_SUCCESS
		   ? 0
		   : -1;
}

int
net_setup(struct fx *x)
{
	const char *ns = x->req->nameservers;

	if (ns[0] && ares_set_servers_ports_csv(resolver, ns) != ARES_SUCCESS)
		return fx_fail(
		    x, FETCH_E_NETWORK, "bad name servers \"%s\"", ns);
	return 0;
}

/* Is host in a comma-separated list ("*" matches any)? */
static int
host_listed(const char *list, const char *host)
{
	size_t hl = strlen(host);

	while (*list) {
		size_t n = strcspn(list, ", ");

		if ((n == 1 && list[0] == '*') ||
		    (n == hl && strncasecmp(list, host, n) == 0))
			return 1;
		list += n;
		list += strspn(list, ", ");
	}
	return 0;
}

/* Why an address is refused for a remote server, or NULL. */
static const char *
v4_refused(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
		const char *what;
	} t[] = {
	    {0x00000000, 0xff000000, "a \"this network\" address"},
	    {0x0a000000, 0xff000000, "a private address"},
	    {0x64400000, 0xffc00000, "a shared (CGNAT) address"},
	    {0x7f000000, 0xff000000, "a loopback address"},
	    {0xa9fe0000, 0xffff0000, "a link-local address"},
	    {0xac100000, 0xfff00000, "a private address"},
	    {0xc0000000, 0xffffff00, "an IETF protocol address"},
	    {0xc0a80000, 0xffff0000, "a private address"},
	    {0xc6120000, 0xfffe0000, "a benchmarking address"},
	    {0xe0000000, 0xf0000000, "a multicast address"},
	    {0xf0000000, 0xf0000000, "a reserved address"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((a & t[i].mask) == t[i].net)
			return t[i].what;
	return NULL;
}

static const char *
addr_refused(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_refused(
		    ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	uint8_t zero[15] = {0};

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_refused((uint32_t)b[12] << 24 |
				  (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
				  b[15]);
	if (memcmp(b, zero, 15) == 0)
		return b[15] == 1 ? "a loopback address"
				  : "an unspecified address";
	if ((b[0] & 0xfe) == 0xfc)
		return "a private address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xff)
		return "a multicast address";
	return NULL;
}

struct lookup {
	int done, status;
	char addrs[8][INET6_ADDRSTRLEN + 2];
	int naddrs;
	char refused[160];
	struct fx *x;
	int allow_private;
	const char *host;
};

static void
add_addr(struct lookup *l, const struct sockaddr *sa)
{
	char txt[INET6_ADDRSTRLEN];
	const char *why = addr_refused(sa);
	const void *a =
	    sa->sa_family == AF_INET
		? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

	inet_ntop(sa->sa_family, a, txt, sizeof(txt));
	if (why && !l->allow_private) {
		if (!l->refused[0])
			snprintf(l->refused, sizeof(l->refused), "%s (%s)", txt,
			    why);
		return;
	}
	if (l->naddrs >= 8)
		return;
	for (int i = 0; i < l->naddrs; i++)
		if (strstr(l->addrs[i], txt))
			return;
	snprintf(l->addrs[l->naddrs++], sizeof(l->addrs[0]),
	    sa->sa_family == AF_INET6 ? "[%s]" : "%s", txt);
}

static void
lookup_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *l = arg;

	(void)timeouts;
	l->done = 1;
	l->status = status;
	for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n;
	     n = n->ai_next)
		add_addr(l, n->ai_addr);
	if (res)
		ares_freeaddrinfo(res);
}

/* Runs the resolver until the lookup ends. */
static void
lookup_wait(struct lookup *l)
{
	while (!l->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp, max = {5, 0};
		int bits = ares_getsock(resolver, socks, ARES_GETSOCK_MAXNUM);
		nfds_t n = 0;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++)
			if (ARES_GETSOCK_READABLE(bits, i) ||
			    ARES_GETSOCK_WRITABLE(bits, i)) {
				pfd[n].fd = socks[i];
				pfd[n].events =
				    (ARES_GETSOCK_READABLE(bits, i) ? POLLIN
								    : 0) |
				    (ARES_GETSOCK_WRITABLE(bits, i) ? POLLOUT
								    : 0);
				pfd[n++].revents = 0;
			}
		tvp = ares_timeout(resolver, &max, &tv);
		if (poll(pfd, n,
			(int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000)) ==
			-1 &&
		    errno != EINTR)
			fatal("poll");
		if (n == 0)
			ares_process_fd(
			    resolver, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (nfds_t i = 0; i < n; i++)
			ares_process_fd(resolver,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
				? pfd[i].fd
				: ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd
						     : ARES_SOCKET_BAD);
		if (n == 0 && !l->done)
			ares_process_fd(
			    resolver, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

/* "host:port:addr,addr" for CURLOPT_RESOLVE, every address allowed. */
static int
resolve(struct fx *x, const char *host, long port, int allow_private, char *out,
    size_t len)
{
	struct lookup l = {
	    .x = x, .allow_private = allow_private, .host = host};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	char bare[256];
	size_t hl = strlen(host), o;

	/* Literal addresses and "localhost" (RFC 6761) need no DNS. */
	snprintf(bare, sizeof(bare), "%.*s",
	    (int)(host[0] == '[' && hl > 2 ? hl - 2 : hl),
	    host + (host[0] == '['));
	if (inet_pton(AF_INET, bare, &s4.sin_addr) == 1)
		add_addr(&l, (struct sockaddr *)&s4);
	else if (inet_pton(AF_INET6, bare, &s6.sin6_addr) == 1)
		add_addr(&l, (struct sockaddr *)&s6);
	else if (strcasecmp(bare, "localhost") == 0 ||
		 (hl > 10 && strcasecmp(bare + hl - 10, ".localhost") == 0)) {
		inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
		add_addr(&l, (struct sockaddr *)&s4);
		inet_pton(AF_INET6, "::1", &s6.sin6_addr);
		add_addr(&l, (struct sockaddr *)&s6);
	} else {
		struct ares_addrinfo_hints h = {
		    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

		ares_getaddrinfo(resolver, bare, NULL, &h, lookup_cb, &l);
		lookup_wait(&l);
		if (l.status != ARES_SUCCESS && l.naddrs == 0 && !l.refused[0])
			return fx_fail(x, FETCH_E_NETWORK,
			    "cannot resolve %s: %s", bare,
			    ares_strerror(l.status));
	}
	if (l.naddrs == 0)
		return fx_fail(x, FETCH_E_REFUSED,
		    "%s resolves to %s, which is refused for remote servers "
		    "(see fetch_allow_private)",
		    bare, l.refused[0] ? l.refused : "no address");
	o = (size_t)snprintf(out, len, "%s:%ld:", bare, port);
	for (int i = 0; i < l.naddrs && o < len; i++)
		o += (size_t)snprintf(
		    out + o, len - o, "%s%s", i ? "," : "", l.addrs[i]);
	return o < len ? 0 : fx_fail(x, FETCH_E_NETWORK, "address list");
}

int
net_url_host(const char *url, char *host, size_t len, int *https)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL;
	int rc = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) &&
	    strlen(h) < len) {
		snprintf(host, len, "%s", h);
		*https = strcmp(scheme, "https") == 0;
		rc = 0;
	}
	curl_free(scheme);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

/* A transfer in progress. */
struct xfer {
	struct fx *x;
	CURL *c;
	struct resp *r;
	sink_fn sink;
	void *arg;
	char errbody[1024]; /* a non-2xx body, for its error text */
	size_t errlen;
	int stopped;
};

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *t = arg;
	size_t len = size * n, k;
	char *v;
	struct {
		const char *name;
		char *dst;
		size_t len;
	} want[] = {
	    {"content-type", t->r->content_type, sizeof(t->r->content_type)},
	    {"lxd-image-url", t->r->image_url, sizeof(t->r->image_url)},
	    {"lxd-image-hash", t->r->image_hash, sizeof(t->r->image_hash)},
	};

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after a 1xx): forget the last one's. */
		t->r->content_type[0] = t->r->image_url[0] =
		    t->r->image_hash[0] = '\0';
		t->r->length = -1;
		return len;
	}
	if ((v = memchr(buf, ':', len)) == NULL)
		return len;
	k = (size_t)(v - buf);
	if (k == 14 && strncasecmp(buf, "content-length", 14) == 0)
		t->r->length = strtoll(v + 1, NULL, 10);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (k != strlen(want[i].name) ||
		    strncasecmp(buf, want[i].name, k) != 0)
			continue;
		v++;
		size_t vl = len - k - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
				 v[vl - 1] == ' '))
			vl--;
		if (vl < want[i].len)
			snprintf(want[i].dst, want[i].len, "%.*s", (int)vl, v);
	}
	return len;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *t = arg;
	size_t len = size * n;
	long st = 0;

	curl_easy_getinfo(t->c, CURLINFO_RESPONSE_CODE, &st);
	if (st < 200 || st > 299) {
		size_t k = sizeof(t->errbody) - 1 - t->errlen;

		k = k < len ? k : len;
		memcpy(t->errbody + t->errlen, buf, k);
		t->errlen += k;
		return len;
	}
	if (t->sink && t->sink(t->arg, (const uint8_t *)buf, len) == -1) {
		t->stopped = 1;
		return 0;
	}
	return len;
}

/* LXD's error responses are JSON with "error"; anything else is shown as
 * printable text, cut short. */
static void
error_text(const char *body, size_t len, char *out, size_t outlen)
{
	const char *e = strstr(body, "\"error\":");
	size_t o = 0;

	if (e) {
		e += 8;
		while (*e == ' ')
			e++;
		if (*e == '"')
			e++;
		body = e;
		len = strcspn(e, "\"");
	}
	for (size_t i = 0; i < len && o + 1 < outlen && o < 200; i++)
		out[o++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : ' ';
	out[o] = '\0';
}

static CURL *
easy_for(struct fx *x, struct xfer *t, const char *url, struct curl_slist *res,
    struct curl_slist *hdrs, int head, int allow_http)
{
	CURL *c = curl_easy_init();
	const struct imsg_fetch_req *q = x->req;
	struct curl_blob ca = {
	    .data = x->ca, .len = x->calen, .flags = CURL_BLOB_NOCOPY};

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	curl_easy_setopt(
	    c, CURLOPT_PROTOCOLS_STR, allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)q->connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)LIM_FETCH_MIN_RATE);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)q->low_speed_time);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_USERAGENT,
	    "imgd/"
	    "0.1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	/* No file is read in the sandbox: not the compiled-in CA paths. */
	curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, NULL);
	curl_easy_setopt(c, CURLOPT_PROXY_CAPATH, NULL);
	if (q->proxy[0]) {
		curl_easy_setopt(c, CURLOPT_PROXY, q->proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, q->noproxy);
		curl_easy_setopt(c, CURLOPT_PROXY_CAINFO_BLOB, &ca);
	} else
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (x->pin[0]) {
		/* A pinned server certificate is the only identity that
		 * counts: its key, whatever names or CA it has. */
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, x->pin);
	} else {
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	return c;
}

/* The failure of a transfer in words, by libcurl's code. */
static int
curl_failure(struct fx *x, CURLcode rc, const char *url, const char *ebuf)
{
	int kind = FETCH_E_NETWORK;

	if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return fx_fail(x, FETCH_E_VERIFY,
		    "the server's certificate is not the pinned one (%s)", url);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		kind = FETCH_E_REFUSED;
	if (x->req->proxy[0] &&
	    (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_PROXY ||
		rc == CURLE_PROXY))
		return fx_fail(x, kind,
		    "%s: %s (copies go through the proxy %s)", url,
		    ebuf[0] ? ebuf : curl_easy_strerror(rc), x->req->proxy);
	return fx_fail(
	    x, kind, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
}

/* One hop: the scheme and the addresses of url checked, then the
 * transfer. Returns 1 with *next set for a redirect, 0 done, -1. */
static int
hop(struct fx *x, const char *url, const char *const *headers, int head,
    struct xfer *t, int was_https, char *next, size_t nextlen)
{
	char host[256], entry[1024], ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *res = NULL, *hdrs = NULL;
	int https, http_ok, rc = -1;
	long port = 0;
	CURLcode cc;
	CURLU *u;

	if (net_url_host(url, host, sizeof(host), &https) == -1)
		return fx_fail(
		    x, FETCH_E_REFUSED, "not an http(s) URL: %.200s", url);
	http_ok = host_listed(x->req->allow_http, host);
	if (!https && (was_https || !http_ok))
		return fx_fail(x, FETCH_E_REFUSED,
		    was_https ? "a redirect from https to plain http (%.200s)"
			      : "plain http is not allowed for %.200s (see "
				"fetch_allow_http)",
		    url);
	if ((u = curl_url()) != NULL &&
	    curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		char *p = NULL;

		if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK)
			port = strtol(p, NULL, 10);
		curl_free(p);
	}
	curl_url_cleanup(u);
	if (resolve(x, host, port, host_listed(x->req->allow_private, host),
		entry, sizeof(entry)) == -1)
		return -1;
	res = curl_slist_append(NULL, entry);
	if (x->req->proxy[0]) {
		char ph[256];
		int ps;
		long pp = 0;

		if (net_url_host(x->req->proxy, ph, sizeof(ph), &ps) == -1)
			return fx_fail(x, FETCH_E_REFUSED, "bad proxy URL");
		if ((u = curl_url()) != NULL &&
		    curl_url_set(u, CURLUPART_URL, x->req->proxy, 0) ==
			CURLUE_OK) {
			char *p = NULL;

			if (curl_url_get(u, CURLUPART_PORT, &p,
				CURLU_DEFAULT_PORT) == CURLUE_OK)
				pp = strtol(p, NULL, 10);
			curl_free(p);
		}
		curl_url_cleanup(u);
		/* The proxy is the operator's: its address is not ruled. */
		if (resolve(x, ph, pp, 1, entry, sizeof(entry)) == -1)
			goto out;
		res = curl_slist_append(res, entry);
	}
	for (size_t i = 0; headers && headers[i]; i++)
		hdrs = curl_slist_append(hdrs, headers[i]);
	if ((t->c = easy_for(
		 x, t, url, res, hdrs, head, http_ok && !was_https)) == NULL) {
		fx_fail(x, FETCH_E_NETWORK, "curl_easy_init");
		goto out;
	}
	curl_easy_setopt(t->c, CURLOPT_ERRORBUFFER, ebuf);
	t->errlen = 0;
	cc = curl_easy_perform(t->c);
	curl_easy_getinfo(t->c, CURLINFO_RESPONSE_CODE, &t->r->status);
	snprintf(t->r->url, sizeof(t->r->url), "%s", url);
	if (t->stopped) {
		rc = fx_fail(x, FETCH_E_NETWORK, "transfer stopped");
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = curl_failure(x, cc, url, ebuf);
		goto out;
	}
	curl_off_t cl = -1;
	curl_easy_getinfo(t->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	t->r->length = cl;
	if (t->r->status >= 300 && t->r->status < 400 && t->r->status != 304) {
		char *loc = NULL;

		curl_easy_getinfo(t->c, CURLINFO_REDIRECT_URL, &loc);
		if (loc == NULL || strlen(loc) >= nextlen) {
			rc = fx_fail(x, FETCH_E_REMOTE,
			    "%s: a redirect without a usable Location", url);
			goto out;
		}
		snprintf(next, nextlen, "%s", loc);
		rc = 1;
	} else if (t->r->status < 200 || t->r->status > 299) {
		char msg[256];

		t->errbody[t->errlen] = '\0';
		error_text(t->errbody, t->errlen, msg, sizeof(msg));
		rc = fx_fail(x,
		    t->r->status == 404 ? FETCH_E_NOT_FOUND : FETCH_E_REMOTE,
		    "%s answered %ld%s%s", url, t->r->status,
		    msg[0] ? ": " : "", msg);
	} else
		rc = 0;
out:
	if (t->c)
		curl_easy_cleanup(t->c);
	t->c = NULL;
	curl_slist_free_all(res);
	curl_slist_free_all(hdrs);
	return rc;
}

int
net_get(struct fx *x, const char *url, const char *const *headers, int head,
    sink_fn sink, void *arg, struct resp *r)
{
	static char cur[LIM_URL_MAX + 1], next[LIM_URL_MAX + 1];
	struct xfer t = {.x = x, .r = r, .sink = sink, .arg = arg};
	int was_https = 0, https;
	char host[256];

	memset(r, 0, sizeof(*r));
	snprintf(cur, sizeof(cur), "%s", url);
	for (int i = 0; i <= LIM_FETCH_REDIRECTS; i++) {
		int rc = hop(
		    x, cur, headers, head, &t, was_https, next, sizeof(next));

		if (rc <= 0)
			return rc;
		if (net_url_host(cur, host, sizeof(host), &https) == 0 && https)
			was_https = 1;
		log_debug("redirected: %s -> %s", cur, next);
		snprintf(cur, sizeof(cur), "%s", next);
	}
	return fx_fail(x, FETCH_E_REFUSED, "more than %d redirects from %.200s",
	    LIM_FETCH_REDIRECTS, url);
}

struct doc {
	struct fx *x;
	char *buf;
	size_t len, cap;
};

static int
doc_sink(void *arg, const uint8_t *b, size_t n)
{
	struct doc *d = arg;

	if (d->len + n > LIM_FETCH_DOC_MAX)
		return fx_fail(d->x, FETCH_E_PROTOCOL,
		    "a document larger than %llu MiB",
		    (unsigned long long)(LIM_FETCH_DOC_MAX >> 20));
	if (d->len + n + 1 > d->cap) {
		size_t cap = (d->len + n + 1) * 2;
		char *p = realloc(d->buf, cap);

		if (p == NULL)
			return fx_fail(d->x, FETCH_E_NETWORK, "out of memory");
		d->buf = p;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, b, n);
	d->len += n;
	d->buf[d->len] = '\0';
	return 0;
}

int
net_get_doc(struct fx *x, const char *url, char **out, size_t *len)
{
	static const char *const hdrs[] = {"Accept: application/json", NULL};
	struct doc d = {.x = x};
	struct resp r;

	if (net_get(x, url, hdrs, 0, doc_sink, &d, &r) == -1) {
		free(d.buf);
		return -1;
	}
	if (d.buf == NULL && doc_sink(&d, (const uint8_t *)"", 0) == -1)
		return -1;
	*out = d.buf;
	*len = d.len;
	return 0;
}
