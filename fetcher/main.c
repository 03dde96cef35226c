/*
 * imgd-fetcher: one sandboxed download. The store sends FETCH_REQ (with
 * the CA bundle's fd); this process resolves the image on the remote,
 * claims what it is (FETCH_INFO), takes one pipe per file (FETCH_GO) and
 * streams the files into them, hashing every byte and checking it against
 * what the remote promised, then reports FETCH_DONE or FETCH_FAIL and
 * exits. It has no file system (an empty chroot), no way to start
 * programs or threads, and outbound sockets only; names are resolved by
 * c-ares (net.c) with the name servers the store passes.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fetcher/fetch.h"
#include "http/http.h"
#include "ipc/log.h"
#include "policy/child.h"

static const struct sandbox_rlimit fetcher_rlimits[] = {
    {RLIMIT_NPROC, 0, "no new processes or threads"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, 0, "writes no files"},
    {RLIMIT_NOFILE, 64, "a few sockets and two pipes"},
};

/* Outbound network is its job, so no network namespace. */
static const struct sc_group *const fetcher_groups[] = {
    &sc_base, &sc_ipc, &sc_selfcheck, &sc_client_net, &sc_fetch, NULL};

static const struct sandbox_spec fetcher_spec = {
    .name = "fetcher",
    .kind = PROC_FETCHER,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS,
    .rlimits = fetcher_rlimits,
    .nrlimits = sizeof(fetcher_rlimits) / sizeof(fetcher_rlimits[0]),
    .groups = fetcher_groups,
};

static struct ipc_chan chan;

/* The next record from the store; pings are answered on the way. */
static void
recv_msg(struct ipc_msg *m)
{
	for (;;) {
		int rc = ipc_recv(&chan, m);

		if (rc == -1) {
			if (chan.eof)
				exit(0); /* the store wants nothing more */
			fatalx("%s", chan.err);
		}
		if (rc == 0)
			continue;
		if (m->type != IMSG_PING)
			return;
		if (ipc_send(&chan, IMSG_PONG, m->id, &m->m.ping, -1) == -1)
			fatalx("%s", chan.err);
	}
}

static void
send_msg(uint16_t type, const void *msg)
{
	if (ipc_send(&chan, type, 1, msg, -1) == -1)
		fatalx("%s", chan.err);
}

static __attribute__((noreturn)) void
fail_exit(struct fx *x)
{
	struct imsg_fetch_fail f = {
	    .kind = (uint8_t)x->kind, .message = x->err[0] ? x->err : "failed"};

	log_info("%s", f.message);
	send_msg(IMSG_FETCH_FAIL, &f);
	exit(0);
}

static void
read_ca(struct fx *x, int fd)
{
	size_t cap = 256 * 1024;
	ssize_t n;

	if ((x->ca = malloc(cap)) == NULL)
		fatal("malloc");
	while ((n = read(fd, x->ca + x->calen, cap - x->calen - 1)) > 0) {
		x->calen += (size_t)n;
		if (x->calen + 1 == cap) {
			if (cap >= LIM_CA_BUNDLE_MAX)
				fatalx(
				    "the CA bundle is larger than %llu bytes",
				    (unsigned long long)LIM_CA_BUNDLE_MAX);
			if ((x->ca = realloc(x->ca, cap *= 2)) == NULL)
				fatal("realloc");
		}
	}
	if (n == -1)
		fatal("reading the CA bundle");
	x->ca[x->calen] = '\0';
	close(fd);
}

/* "sha256//BASE64" of the certificate's public key, for libcurl. */
static int
pin_of(struct fx *x, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32];
	unsigned int mdlen;
	int len = c ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der) : -1;

	BIO_free(b);
	if (len <= 0) {
		X509_free(c);
		return fx_fail(x, FETCH_E_PROTOCOL,
		    "the remote's certificate is not a PEM certificate");
	}
	EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	X509_free(c);
	memcpy(x->pin, "sha256//", 8);
	EVP_EncodeBlock((unsigned char *)x->pin + 8, md, 32);
	return 0;
}

/* ---- the download ---- */

struct dl {
	struct fx *x;
	struct plan *p;
	int pipes[2];
	EVP_MD_CTX *all, *part[2];
	EVP_MD_CTX *blake; /* a signed direct URL's file: its BLAKE2b-512 */
	uint64_t bytes[2], total, promised;
	int cur;	/* the file being written */
	int mp_checked; /* the export's type has been looked at */
	int mp;		/* it is multipart */
	struct mp_parser *mpp;
	struct resp *r;
	struct timespec start, last;
};

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
progress(struct dl *d, int force)
{
	struct timespec now;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && since(&d->last, &now) < 0.25)
		return;
	d->last = now;
	t = since(&d->start, &now);
	struct imsg_fetch_progress m = {.part = (uint8_t)d->cur,
	    .bytes = d->total,
	    .total = d->promised,
	    .rate = t > 0 ? (uint64_t)((double)d->total / t) : 0};
	send_msg(IMSG_FETCH_PROGRESS, &m);
}

static int
put(struct dl *d, int part, const uint8_t *b, size_t n)
{
	struct fx *x = d->x;
	uint64_t want = d->p->multipart ? 0 : d->p->f[part].size;

	if (d->bytes[part] + n > x->req->part_max)
		return fx_fail(x, FETCH_E_VERIFY,
		    "a file larger than the limit of %llu bytes",
		    (unsigned long long)x->req->part_max);
	if (want && d->bytes[part] + n > want)
		return fx_fail(x, FETCH_E_VERIFY,
		    "%s is longer than the %llu bytes promised",
		    d->p->f[part].url, (unsigned long long)want);
	if (d->p->multipart && d->p->f[0].size &&
	    d->total + n > d->p->f[0].size)
		return fx_fail(x, FETCH_E_VERIFY,
		    "the export is longer than the %llu bytes promised",
		    (unsigned long long)d->p->f[0].size);
	/*
	 * The store reads the parts in order, the rootfs pipe only after EOF
	 * on the metadata pipe: end the metadata before the first rootfs
	 * byte, or a rootfs larger than the pipe buffer blocks both sides.
	 */
	if (part == 1 && d->pipes[0] != -1) {
		close(d->pipes[0]);
		d->pipes[0] = -1;
	}
	EVP_DigestUpdate(d->all, b, n);
	EVP_DigestUpdate(d->part[part], b, n);
	if (d->blake)
		EVP_DigestUpdate(d->blake, b, n);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(d->pipes[part], b + off, n - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return fx_fail(x, FETCH_E_NETWORK,
			    "the store stopped taking the image");
		off += (size_t)w;
	}
	d->bytes[part] += n;
	d->total += n;
	if (d->promised == 0 && d->p->nfiles == 1 && d->r->length > 0)
		d->promised = (uint64_t)d->r->length; /* the server's word */
	progress(d, 0);
	return 0;
}

/* An LXD export: multipart with "metadata" then "rootfs", or one file. */
static int
mp_sink(struct dl *d, const uint8_t *in, size_t len)
{
	struct fx *x = d->x;

	while (len > 0) {
		const uint8_t *data;
		size_t used, dlen;
		enum mp_event ev =
		    mp_parse(d->mpp, in, len, &used, &data, &dlen);

		in += used;
		len -= used;
		switch (ev) {
		case MP_NEED_MORE:
			return 0;
		case MP_PART_BEGIN:
			if (d->mpp->part.index == 0 &&
			    strcmp(d->mpp->part.name, "metadata") == 0)
				d->cur = 0;
			else if (d->mpp->part.index == 1 &&
				 (strcmp(d->mpp->part.name, "rootfs") == 0))
				d->cur = 1;
			else
				return fx_fail(x, FETCH_E_PROTOCOL,
				    "an export part \"%.60s\" where LXD sends "
				    "metadata, then rootfs",
				    d->mpp->part.name);
			break;
		case MP_DATA:
			if (put(d, d->cur, data, dlen) == -1)
				return -1;
			break;
		case MP_PART_END:
		case MP_DONE:
			break;
		case MP_ERROR:
			return fx_fail(x, FETCH_E_PROTOCOL,
			    "a bad multipart export: %s", d->mpp->err.reason);
		}
	}
	return 0;
}

static int
sink(void *arg, const uint8_t *b, size_t n)
{
	struct dl *d = arg;

	if (d->p->multipart && !d->mp_checked) {
		char boundary[MP_BOUNDARY_MAX + 1];
		struct http_error err;

		d->mp_checked = 1;
		if (strncasecmp(d->r->content_type, "multipart/", 10) == 0) {
			if (mp_boundary_parse(
				d->r->content_type, boundary, &err) == -1 ||
			    mp_init(d->mpp, boundary, 2) == -1)
				return fx_fail(d->x, FETCH_E_PROTOCOL,
				    "a multipart export without a usable "
				    "boundary");
			d->mp = 1;
		}
	}
	return d->mp ? mp_sink(d, b, n) : put(d, d->cur, b, n);
}

static int
check_file(struct dl *d, int i, char out[65])
{
	uint8_t md[32];
	unsigned int len;
	const struct plan_file *f = &d->p->f[i];

	EVP_DigestFinal_ex(d->part[i], md, &len);
	for (int k = 0; k < 32; k++)
		snprintf(out + 2 * k, 3, "%02x", md[k]);
	if (f->size && !d->p->multipart && d->bytes[i] != f->size)
		return fx_fail(d->x, FETCH_E_VERIFY,
		    "%s: %llu bytes where %llu were promised", f->url,
		    (unsigned long long)d->bytes[i],
		    (unsigned long long)f->size);
	if (f->sha[0] && strcmp(out, f->sha) != 0)
		return fx_fail(d->x, FETCH_E_VERIFY,
		    "%s: sha256 %s where %s was promised", f->url, out, f->sha);
	return 0;
}

static void
download(struct fx *x, struct plan *p, int pipes[2])
{
	static struct mp_parser mpp;
	struct dl d = {
	    .x = x, .p = p, .pipes = {pipes[0], pipes[1]}, .mpp = &mpp};
	struct imsg_fetch_done done = {0};
	char sha[2][65] = {"", ""}, all[65];
	uint8_t md[32];
	unsigned int len;
	struct resp r;

	d.r = &r;
	d.all = EVP_MD_CTX_new();
	d.part[0] = EVP_MD_CTX_new();
	d.part[1] = EVP_MD_CTX_new();
	if (!d.all || !d.part[0] || !d.part[1] ||
	    !EVP_DigestInit_ex(d.all, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(d.part[0], EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(d.part[1], EVP_sha256(), NULL))
		fatalx("sha256");
	for (int i = 0; i < p->nfiles; i++)
		d.promised += p->f[i].size;
	if (p->siglen &&
	    ((d.blake = EVP_MD_CTX_new()) == NULL ||
		!EVP_DigestInit_ex(d.blake, EVP_blake2b512(), NULL)))
		fatalx("blake2b");
	clock_gettime(CLOCK_MONOTONIC, &d.start);
	for (int i = 0; i < p->nfiles; i++) {
		d.cur = i;
		if (net_get(x, p->f[i].url, NULL, 0, sink, &d, &r) == -1)
			fail_exit(x);
	}
	if (d.mp && mp_finish(&mpp) == -1)
		fx_fail(
		    x, FETCH_E_PROTOCOL, "the multipart export ended early");
	if (d.mp && d.bytes[1] == 0)
		fx_fail(
		    x, FETCH_E_PROTOCOL, "a multipart export without rootfs");
	if (p->multipart && p->f[0].size && d.total != p->f[0].size)
		fx_fail(x, FETCH_E_VERIFY,
		    "the export has %llu bytes where %llu were promised",
		    (unsigned long long)d.total,
		    (unsigned long long)p->f[0].size);
	if (x->err[0])
		fail_exit(x);
	for (int i = 0; i < 2; i++)
		if ((i < p->nfiles || d.bytes[i]) && check_file(&d, i, sha[i]))
			fail_exit(x);
	EVP_DigestFinal_ex(d.all, md, &len);
	for (int k = 0; k < 32; k++)
		snprintf(all + 2 * k, 3, "%02x", md[k]);
	if (d.blake) {
		uint8_t bl[64];

		EVP_DigestFinal_ex(d.blake, bl, &len);
		EVP_MD_CTX_free(d.blake);
		if (sig_check(x, &x->key, p->f[0].url, p->sig, p->siglen, NULL,
			0, bl) == -1)
			fail_exit(x);
	}
	if (strcmp(all, p->fingerprint) != 0) {
		fx_fail(x, FETCH_E_VERIFY,
		    "the files hash to %s, not to the fingerprint %s", all,
		    p->fingerprint);
		fail_exit(x);
	}
	progress(&d, 1);
	if (d.pipes[0] != -1)
		close(d.pipes[0]);
	close(pipes[1]);
	done.sha0 = sha[0];
	done.sha1 = d.bytes[1] ? sha[1] : "";
	done.size0 = d.bytes[0];
	done.size1 = d.bytes[1];
	send_msg(IMSG_FETCH_DONE, &done);
}

int
main(int argc, char **argv)
{
	static struct plan p;
	struct ipc_msg m, go;
	struct fx x = {0};
	const char *probe;
	int pipes[2] = {-1, -1}, want;
	char host[256];
	int https;

	child_init(&fetcher_spec, argc, argv);
	if (net_init() == -1)
		fatalx("cannot initialise libcurl and c-ares");
	/* jansson seeds its hash tables from /dev/urandom on first use:
	 * now, while there are files. */
	json_object_seed(0);
	child_enter(&fetcher_spec, &chan, &probe);
	if (probe)
		sandbox_probe(probe);
	chan.blocking = 1;
	recv_msg(&m);
	if (m.type != IMSG_FETCH_REQ)
		fatalx("unexpected %s", ipc_typename(m.type));
	x.req = &m.m.fetch_req;
	/* The request's strings live in the channel's arena, which the next
	 * record would reuse: the channel gets a new one, the request keeps
	 * this. */
	if ((chan.arena.base = malloc(chan.arena.size)) == NULL)
		fatal("malloc");
	read_ca(&x, m.fd);
	m.fd = -1;
	if (net_url_host(x.req->server, host, sizeof(host), &https) == -1) {
		fx_fail(&x, FETCH_E_REFUSED, "not an http(s) URL: %.200s",
		    x.req->server);
		fail_exit(&x);
	}
	if (x.req->pubkey[0]) {
		if (sig_pubkey(x.req->pubkey, &x.key) == -1) {
			fx_fail(&x, FETCH_E_PROTOCOL,
			    "the pinned key is not a minisign or signify "
			    "public "
			    "key");
			fail_exit(&x);
		}
		x.pinned = 1;
	}
	if ((x.req->certificate[0] && pin_of(&x, x.req->certificate) == -1) ||
	    net_setup(&x) == -1 || proto_resolve(&x, &p) == -1)
		fail_exit(&x);
	struct imsg_fetch_info info = {.fingerprint = p.fingerprint,
	    .filename = p.filename,
	    .split = (uint8_t)(p.split < 0 ? 2 : p.split),
	    .size0 = p.f[0].size,
	    .size1 = p.nfiles > 1 ? p.f[1].size : 0,
	    .sha0 = p.f[0].sha,
	    .sha1 = p.nfiles > 1 ? p.f[1].sha : "",
	    .public = (uint8_t)p.public,
	    .properties = p.props,
	    .nproperties = p.nprops,
	    .aliases = p.aliases,
	    .naliases = p.naliases,
	    .url = p.f[0].url,
	    .signed_at = x.signed_at};
	send_msg(IMSG_FETCH_INFO, &info);
	/* One pipe per file the store will read; a unified image's second
	 * one stays empty. */
	want = p.split == 0 ? 1 : 2;
	for (int i = 0; i < want; i++) {
		recv_msg(&go);
		if (go.type != IMSG_FETCH_GO || pipes[go.m.fetch_go.part] != -1)
			fatalx("unexpected %s", ipc_typename(go.type));
		pipes[go.m.fetch_go.part] = go.fd;
	}
	if (pipes[0] == -1 || (want == 2 && pipes[1] == -1))
		fatalx("pipes missing");
	download(&x, &p, pipes);
	plan_free(&p);
	/* The store closes the channel once it has taken the result. */
	for (;;)
		recv_msg(&m);
}
