/*
 * Image uploads. The frontend streams each part of the request body into a
 * pipe whose read end it passes with UPLOAD_BEGIN (and UPLOAD_PART for a
 * split rootfs); the store splices it into an unnamed temp file and hashes
 * every byte itself, from that file, in a thread of its own (hasher.c).
 * UPLOAD_END says whether the body arrived whole. Only then is there an
 * operation: fingerprint checks, validation by an unpacker, and an atomic
 * commit, or nothing at all.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ipc/cause.h"
#include "ipc/log.h"
#include "policy/names.h"
#include "policy/sig.h"
#include "store/hasher.h"
#include "store/store.h"

struct upload {
	TAILQ_ENTRY(upload) entry;
	uint64_t reqid;
	char project[LIM_PROJECT_NAME_MAX + 1];
	char filename[LIM_FILENAME_MAX + 1];
	char expected[65];
	char requestor[128]; /* derived by the store (peer.c) */
	char username[64];
	int public, layout;
	uint64_t length; /* the body's Content-Length, or 0 */
	struct ipc_kv *props, *aliases;
	uint32_t nprops, naliases;
	int part; /* part being read: 0, or 1 (split rootfs) */
	int pipe, next_pipe;
	struct event *ev;
	int tmp[2];
	uint64_t size[2];
	int eof[2];
	int ended;
	struct imsg_upload_end end;
	char end_reason[LIM_ERROR_MAX + 1];
	EVP_MD_CTX *sha;
	EVP_MD_CTX *psha[2]; /* a split image's files, each */
	struct hasher *hash; /* owns the digests while it runs */
	int paused;	     /* the pipe waits for the hashing */
	unsigned pauses;
	char part_sha[2][65];
	/* import_key: each file's signature, checked over its BLAKE2b-512 */
	int pinned;
	struct pubkey key;
	struct sig sig[2];
	int has_sig[2];
	EVP_MD_CTX *b2[2];
	/* after the body */
	struct op *op;
	struct job *job;
	char fp[65];
	/* A validation that reads the body as it is hashed (job_follow), the
	 * bytes it was last told of, and its verdict if it came before the
	 * body's end: that verdict waits for the checks of the whole body. */
	int follow;
	uint64_t fed;
	int told0; /* a split's metadata file was told final */
	int has_early;
	struct fault early;
	/* a download (store/fetch.c): the layout is known at the end, and
	 * done() hears the outcome before the operation does */
	int fetched, auto_update;
	int count_own; /* a publish: the store's own byte counts are the end */
	void (*done)(void *arg, const char *fp, const struct fault *f);
	void *done_arg;
	/* The limits of the project whose images this one joins (a project
	 * without features.images: the default project's, shared), and
	 * whether it counts as one of its images yet (accepted). */
	int64_t qpid;
	char qname[LIM_PROJECT_NAME_MAX + 1];
	int busy; /* counted in its project's limits.images.uploads */
	uint64_t qdisk, qimages;
	int accepted;
};

static TAILQ_HEAD(, upload) uploads = TAILQ_HEAD_INITIALIZER(uploads);
static int receiving;	 /* uploads without an operation yet */
static int jobs_waiting; /* uploads with one, waiting or validating */

static struct ipc_kv *
kv_dup(const struct ipc_kv *kv, uint32_t n)
{
	struct ipc_kv *d = calloc(n + 1, sizeof(*d));

	if (d == NULL)
		fatal("calloc");
	for (uint32_t i = 0; i < n; i++) {
		d[i].key = strdup(kv[i].key);
		d[i].value = strdup(kv[i].value);
		if (d[i].key == NULL || d[i].value == NULL)
			fatal("strdup");
	}
	return d;
}

static void
kv_free(struct ipc_kv *kv, uint32_t n)
{
	for (uint32_t i = 0; i < n && kv; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void
upload_free(struct upload *u)
{
	if (u->op == NULL)
		receiving--;
	else
		jobs_waiting--;
	TAILQ_REMOVE(&uploads, u, entry);
	hasher_free(u->hash); /* first: it reads the files and digests */
	if (u->busy)
		project_busy_leave(u->project, BUSY_UPLOAD);
	if (u->ev)
		event_free(u->ev);
	if (u->pipe != -1)
		close(u->pipe);
	if (u->next_pipe != -1)
		close(u->next_pipe);
	/* Unnamed files: closing them is all the cleanup there is. */
	for (int i = 0; i < 2; i++)
		if (u->tmp[i] != -1)
			close(u->tmp[i]);
	if (u->job)
		job_cancel(u->job);
	EVP_MD_CTX_free(u->sha);
	EVP_MD_CTX_free(u->psha[0]);
	EVP_MD_CTX_free(u->psha[1]);
	EVP_MD_CTX_free(u->b2[0]);
	EVP_MD_CTX_free(u->b2[1]);
	kv_free(u->props, u->nprops);
	kv_free(u->aliases, u->naliases);
	free(u);
}

static struct upload *
find(uint64_t reqid)
{
	struct upload *u;

	TAILQ_FOREACH (u, &uploads, entry)
		if (u->reqid == reqid && u->op == NULL)
			return u;
	return NULL;
}

/* Every refused import is logged and audited, with its cause. */
static void
refusal_log(const struct upload *u, const struct fault *f)
{
	char msg[LIM_ERROR_MAX + 128];

	fault_text(f, msg, sizeof(msg));
	if (u->fetched)
		log_info("download %s refused: %s", u->expected, msg);
	else if (u->op)
		log_info("import %s refused: %s", u->fp, msg);
	else
		log_info("upload %llu refused: %s",
		    (unsigned long long)u->reqid, msg);
	audit(u->fetched ? "image-copy-refused" : "image-import-refused",
	    "project", u->project, "fingerprint",
	    u->fp[0]	     ? u->fp
	    : u->expected[0] ? u->expected
			     : NULL,
	    "requestor", u->requestor, "fault", fault_token(f->cause), "cause",
	    msg, NULL);
}

/* Fails an upload: before it has an operation the client gets the error,
 * after, the operation fails with it. */
static void
upload_fault(struct upload *u, const struct fault *f)
{
	refusal_log(u, f);
	if (u->done)
		u->done(u->done_arg, NULL, f);
	if (u->op)
		op_finish(u->op, f);
	else
		reply_fault(u->reqid, f);
	upload_free(u);
}

/* The same for a fault of no facts but its subject and name. */
static void
upload_fail(struct upload *u, int cause, int subject, const char *name)
{
	struct fault f;

	fault_set(&f, cause, subject, name);
	upload_fault(u, &f);
}

static void read_cb(evutil_socket_t fd, short ev, void *arg);
static void upload_storage_fail(struct upload *u, int e);
static void upload_check_done(struct upload *u);
static void job_done(
    void *arg, const struct fault *err, const struct job_result *r);

static void
quota_load(struct upload *u)
{
	struct project *p;

	u->qdisk = u->qimages = UINT64_MAX;
	u->qpid = -1;
	if (db_project_id(u->project, &u->qpid) != DB_OK)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (db_project_get(
		u->qpid == DB_DEFAULT_PROJECT ? "default" : u->project, p) ==
	    DB_OK) {
		u->qdisk = project_limit(p, "limits.disk");
		u->qimages = project_limit(p, "limits.images");
		snprintf(u->qname, sizeof(u->qname), "%s", p->name);
	}
	free(p);
}

/*
 * What the project holds with the other uploads joining it: the bytes
 * of its images and of every other upload under way (received so far),
 * and its images with the others accepted. Two uploads racing for the
 * last bytes: the one whose bytes cross the limit fails, whichever it is.
 */
static void
quota_base(const struct upload *u, uint64_t *bytes, uint64_t *images)
{
	const struct upload *o;
	int64_t ni, na, nb;

	db_project_usage(u->qpid, &ni, &na, &nb);
	*bytes = (uint64_t)nb;
	*images = (uint64_t)ni;
	TAILQ_FOREACH (o, &uploads, entry)
		if (o != u && o->qpid == u->qpid) {
			*bytes += o->size[0] + o->size[1];
			*images += (uint64_t)o->accepted;
		}
}

/* -1 after failing u when its bytes (and more) or, counting, one more
 * image would cross a limit of its project. */
static int
quota_check(struct upload *u, uint64_t base, uint64_t more)
{
	struct fault f;
	uint64_t total = base + u->size[0] + u->size[1] + more;

	if (u->qdisk == UINT64_MAX || total <= u->qdisk)
		return 0;
	fault_set(&f, ERR_QUOTA, RES_PROJECT, u->qname);
	snprintf(f.detail, sizeof(f.detail), "limits.disk");
	f.limit = u->qdisk;
	f.bytes = total;
	upload_fault(u, &f);
	return -1;
}

static int
quota_count(struct upload *u)
{
	struct fault f;
	uint64_t bytes, images;

	if (u->qdisk == UINT64_MAX && u->qimages == UINT64_MAX)
		return 0;
	quota_base(u, &bytes, &images);
	if (u->qimages != UINT64_MAX && images + 1 > u->qimages) {
		fault_set(&f, ERR_QUOTA, RES_PROJECT, u->qname);
		snprintf(f.detail, sizeof(f.detail), "limits.images");
		f.limit = u->qimages;
		f.bytes = images + 1;
		upload_fault(u, &f);
		return -1;
	}
	return quota_check(u, bytes, 0);
}

static void
watch_pipe(struct upload *u, int fd)
{
	u->pipe = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (u->ev)
		event_free(u->ev);
	u->ev = event_new(S->base, fd, EV_READ | EV_PERSIST, read_cb, u);
	event_add(u->ev, NULL);
}

/*
 * Tells a streaming validation how far the files are hashed, in steps of
 * LIM_UPLOAD_FEED_STEP (now: whatever is new, when the thread has caught
 * up); only the end (upload_accept) makes them final. A
 * split's metadata file is final once its pipe ended and all is hashed.
 */
static void
upload_feed(struct upload *u, int now)
{
	uint64_t h, avail[2] = {0, 0};
	int final[2] = {0, 0}, done0;

	if (u->job == NULL || !u->follow || u->hash == NULL)
		return;
	h = hasher_hashed(u->hash);
	done0 = u->layout == IMG_SPLIT && u->part == 1 && h >= u->size[0];
	if (!(done0 && !u->told0) &&
	    (h == u->fed || (!now && h < u->fed + LIM_UPLOAD_FEED_STEP)))
		return;
	if (u->layout == IMG_SPLIT && u->part == 1) {
		avail[0] = h < u->size[0] ? h : u->size[0];
		final[0] = h >= u->size[0];
		avail[1] = h > u->size[0] ? h - u->size[0] : 0;
	} else
		avail[0] = h;
	u->fed = h;
	u->told0 = done0;
	job_feed(u->job, avail, final);
}

/*
 * The hashing thread caught up (or failed): reading resumes, or the body
 * that has all arrived goes on to its checks.
 */
static void
hash_wake(void *arg)
{
	struct upload *u = arg;
	int err = hasher_error(u->hash);

	if (err) {
		errno = err;
		log_warn("upload: hashing the temp file");
		upload_storage_fail(u, errno);
		return;
	}
	if (u->paused) {
		u->paused = 0;
		if (u->ev)
			event_add(u->ev, NULL);
	}
	upload_feed(u, 1);
	upload_check_done(u);
}

/* A pipe read ahead of its hashing by more than upload_hash_lag waits
 * for it: the unhashed bytes are in the page cache, which a fast client
 * must not fill faster than the store hashes. */
static void
hash_pace(struct upload *u)
{
	if (u->ev == NULL || hasher_lag(u->hash) <= S->cfg.upload_hash_lag)
		return;
	if (hasher_wait(u->hash, S->cfg.upload_hash_lag / 2))
		return;
	event_del(u->ev);
	u->paused = 1;
	u->pauses++;
}

static void
read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upload *u = arg;
	size_t done = 0;
	uint64_t base = 0, images;
	ssize_t n;

	(void)ev;
	/* Once a turn: what the project and the other uploads hold. */
	if (u->qdisk != UINT64_MAX)
		quota_base(u, &base, &images);
	while (done < LIM_UPLOAD_BUDGET) {
		/* At most one byte past the limit reaches the temp file. */
		uint64_t room = S->cfg.upload_max - u->size[u->part] + 1;

		/* The kernel's one copy, into the page cache. */
		n = splice(fd, NULL, u->tmp[u->part], NULL,
		    room < LIM_UPLOAD_PIPE ? (size_t)room : LIM_UPLOAD_PIPE,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1) {
			/* A pipe from the frontend or a fetcher does not
			 * fail: the temp file did (no space, quota, EIO; a
			 * file system without splice: EINVAL). */
			log_warn("upload: into the temp file");
			upload_storage_fail(u, errno);
			return;
		}
		if (n == 0) {
			u->eof[u->part] = 1;
			event_free(u->ev);
			u->ev = NULL;
			close(u->pipe);
			u->pipe = -1;
			upload_check_done(u);
			return;
		}
		if (u->size[u->part] + (uint64_t)n > S->cfg.upload_max) {
			struct fault f;

			fault_set(&f, ERR_TOO_LARGE, RES_IMAGE, NULL);
			f.bytes = S->cfg.upload_max;
			upload_fault(u, &f);
			return;
		}
		/* The byte that crosses the quota fails it, not the end. */
		if (quota_check(u, base, (uint64_t)n) == -1)
			return;
		u->size[u->part] += (uint64_t)n;
		hasher_add(u->hash, (uint64_t)n);
		done += (size_t)n;
	}
	upload_feed(u, 0);
	hash_pace(u);
	/* A client that pauses must not leave its unpacker waiting for
	 * bytes that are in: hear when they are all hashed. */
	if (u->follow && u->job && !u->paused && hasher_wait(u->hash, 0))
		upload_feed(u, 1);
}

/* What is free for the temp files (and so for the images: one file
 * system), in bytes; UINT64_MAX if it cannot be read. */
static uint64_t
store_free(int fd)
{
	struct statvfs sv;

	if (fd == -1 || fstatvfs(fd, &sv) == -1)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* The upload failed on e. Out of space, the client hears how much the
 * image needs (what it declared) and what was free for it, or, when it
 * declared no size, how much of it fit. */
static void
upload_storage_fail(struct upload *u, int e)
{
	struct fault f;
	uint64_t got = u->size[0] + u->size[1], left;

	fault_set(&f, fault_storage(e), RES_IMAGE, NULL);
	if (f.cause == ERR_NO_SPACE &&
	    (left = store_free(u->tmp[0])) != UINT64_MAX) {
		/* What it had: what is free now and what it took. */
		f.bytes = u->length > got ? u->length : got;
		f.limit = u->length > got ? left + got : 0;
	}
	upload_fault(u, &f);
}

/* A new upload of the request, with what BEGIN said. */
static struct upload *
upload_new(uint64_t reqid, const struct imsg_upload_begin *b)
{
	struct upload *u = calloc(1, sizeof(*u));

	if (u == NULL)
		fatal("calloc");
	u->reqid = reqid;
	u->pipe = u->next_pipe = -1;
	u->tmp[0] = u->tmp[1] = -1;
	snprintf(u->project, sizeof(u->project), "%s", b->project);
	snprintf(u->filename, sizeof(u->filename), "%s", b->filename);
	snprintf(u->expected, sizeof(u->expected), "%s", b->fingerprint);
	snprintf(u->requestor, sizeof(u->requestor), "%s",
	    peer_current()->requestor);
	snprintf(
	    u->username, sizeof(u->username), "%s", peer_current()->username);
	u->public = b->public;
	u->layout = b->layout;
	u->length = b->length;
	u->props = kv_dup(b->properties, b->nproperties);
	u->nprops = b->nproperties;
	u->aliases = kv_dup(b->aliases, b->naliases);
	u->naliases = b->naliases;
	u->sha = EVP_MD_CTX_new();
	quota_load(u);
	const char *hex[2] = {b->sig0, b->sig1};
	const char *comment[2] = {b->sig0_comment, b->sig1_comment};
	for (int i = 0; i < 2; i++) {
		uint8_t wire[SIG_WIRE_BYTES];
		size_t n;

		if (hex[i] == NULL || hex[i][0] == '\0' ||
		    hex_decode(hex[i], wire, sizeof(wire), &n) == -1 ||
		    n != sizeof(wire))
			continue; /* the table's word: "" or SIG_WIRE_HEX */
		u->has_sig[i] = 1;
		u->sig[i].prehashed = u->sig[i].has_comment = 1;
		memcpy(u->sig[i].id, wire, 8);
		memcpy(u->sig[i].sig, wire + 8, 64);
		memcpy(u->sig[i].global, wire + 72, 64);
		snprintf(u->sig[i].comment, sizeof(u->sig[i].comment), "%s",
		    comment[i] ? comment[i] : "");
	}
	TAILQ_INSERT_TAIL(&uploads, u, entry);
	return u;
}

static const char *
file_word(const struct upload *u, int i)
{
	if (u->layout != IMG_SPLIT)
		return "the image";
	return i ? "the rootfs file" : "the metadata file";
}

static int sig_refuse(struct upload *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
sig_refuse(struct upload *u, const char *fmt, ...)
{
	struct fault f;
	va_list ap;

	fault_set(&f, ERR_SIGNATURE, RES_IMAGE, NULL);
	va_start(ap, fmt);
	vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
	va_end(ap);
	upload_fault(u, &f);
	return -1;
}

/* import_key: the key, and a signature for each file by it, before any
 * byte is kept (their checks come once the files are hashed). */
static int
upload_pin(struct upload *u)
{
	char text[1024], id[17];
	size_t n;
	FILE *fp;
	int nfiles = u->layout == IMG_SPLIT ? 2 : 1;
	static const char *const hdr[2] = {
	    "X-Imgd-Signature", "X-Imgd-Rootfs-Signature"};

	if (!S->cfg.import_key[0])
		return 0;
	if ((fp = fopen(S->cfg.import_key, "re")) == NULL) {
		log_warn("import_key %s", S->cfg.import_key);
		return sig_refuse(u,
		    "the server's import_key %s cannot be read",
		    S->cfg.import_key);
	}
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	if (sig_pubkey(text, &u->key) == -1)
		return sig_refuse(u,
		    "the server's import_key %s is not a minisign or signify "
		    "public key",
		    S->cfg.import_key);
	u->pinned = 1;
	sig_keyid(u->key.id, id);
	for (int i = 0; i < nfiles; i++) {
		if (!u->has_sig[i])
			return sig_refuse(u,
			    "this server takes only images signed by the key "
			    "%s, and %s has no signature (%s: base64 of its "
			    ".minisig; imgctl image import sends FILE.minisig "
			    "when it lies next to FILE)",
			    id, file_word(u, i), hdr[i]);
		if ((u->b2[i] = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(u->b2[i], EVP_blake2b512(), NULL) != 1)
			return sig_refuse(u, "BLAKE2b");
	}
	/* a wrong key says so before the body is read */
	for (int i = 0; i < nfiles; i++) {
		char err[LIM_ERROR_MAX];

		if (memcmp(u->sig[i].id, u->key.id, 8) != 0 &&
		    sig_verify(&u->key, &u->sig[i], file_word(u, i), NULL, 0,
			NULL, err, sizeof(err)) == -1)
			return sig_refuse(u, "%s", err);
	}
	return 0;
}

/* The files' signatures over their BLAKE2b-512: 0, or -1 after failing. */
static int
upload_sigs_ok(struct upload *u)
{
	uint8_t md[64];
	unsigned int mdlen;
	char err[LIM_ERROR_MAX], id[17];

	if (!u->pinned)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (u->b2[i] == NULL)
			continue;
		if (EVP_DigestFinal_ex(u->b2[i], md, &mdlen) != 1 ||
		    sig_verify(&u->key, &u->sig[i], file_word(u, i), NULL, 0,
			md, err, sizeof(err)) == -1)
			return sig_refuse(u, "%s", err);
	}
	sig_keyid(u->key.id, id);
	log_info("import %s: signed by the import_key %s", u->fp, id);
	return 0;
}

/* The store's checks before any byte is kept; -1 after refusing. The
 * frontend checked the alias names too; the store's word is the one. */
static int
upload_admit(struct upload *u)
{
	char msg[300];
	struct fault f;
	int64_t pid;

	if (++receiving > LIM_UPLOADS_MAX ||
	    jobs_waiting >= LIM_JOBS_QUEUED_MAX) {
		upload_fail(u, ERR_BUSY, RES_IMAGE, NULL);
		return -1;
	}
	if (peer_current()->deny_cause) {
		const struct who *w = peer_current();

		upload_fail(u, w->deny_cause, w->deny_subject,
		    w->deny_name[0] ? w->deny_name : NULL);
		return -1;
	}
	if (!peer_current()->trusted) {
		upload_fail(u, ERR_FORBIDDEN, RES_NONE, NULL);
		return -1;
	}
	for (uint32_t i = 0; i < u->naliases; i++)
		if (alias_name_refusal(u->aliases[i].key, msg, sizeof(msg)) !=
		    0) {
			fault_invalid(&f, "%s", msg);
			upload_fault(u, &f);
			return -1;
		}
	if (db_project_id(u->project, &pid) != DB_OK) {
		upload_fail(u, ERR_NOT_FOUND, RES_PROJECT, u->project);
		return -1;
	}
	/* A project at its limit refuses before the first byte. */
	if (quota_count(u) == -1)
		return -1;
	if (project_busy_enter(u->project, BUSY_UPLOAD, &f) == -1) {
		upload_fault(u, &f);
		return -1;
	}
	u->busy = 1;
	return upload_pin(u);
}

/* The thread that hashes the temp files as they fill; -1 after failing u. */
static int
upload_hash_start(struct upload *u)
{
	struct hasher_digests d = {.all = u->sha,
	    .file = {u->psha[0], u->psha[1]},
	    .b2 = {u->b2[0], u->b2[1]}};

	u->hash = hasher_new(S->base, u->tmp, &d, hash_wake, u);
	if (u->hash == NULL) {
		int e = errno;

		log_warn("upload: hashing thread");
		upload_fail(u,
		    e == EMFILE || e == ENFILE ? ERR_NO_FDS : ERR_INTERNAL,
		    RES_NONE, NULL);
		return -1;
	}
	return 0;
}

/*
 * An image declared larger than the free space (a client's Content-Length,
 * a remote's sizes) is refused before a byte of it is read; a split
 * image's two files share the disk. The claim decides nothing else: the
 * bytes that arrive are counted and a full disk still ends the upload.
 * 0, or -1 (failed).
 */
static int
declared_fits(struct upload *u)
{
	uint64_t room = u->length > 0 ? store_free(u->tmp[0]) : UINT64_MAX;

	if (room >= u->length)
		return 0;
	if (u->fetched)
		log_warnx("download of %s: the remote says %llu bytes, %llu "
			  "free on the image store",
		    u->expected, (unsigned long long)u->length,
		    (unsigned long long)room);
	else
		log_warnx("upload %llu: %llu bytes declared, %llu free on the "
			  "image store",
		    (unsigned long long)u->reqid, (unsigned long long)u->length,
		    (unsigned long long)room);
	upload_storage_fail(u, ENOSPC);
	return -1;
}

void
upload_begin(uint64_t reqid, struct imsg_upload_begin *b, int fd)
{
	struct upload *u = upload_new(reqid, b);

	watch_pipe(u, fd);
	if (upload_admit(u) == -1)
		return;
	if (u->sha == NULL ||
	    EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1) {
		log_warnx("upload: sha256 context");
		upload_fail(u, ERR_INTERNAL, RES_NONE, NULL);
		return;
	}
	for (int i = 0; u->layout == IMG_SPLIT && i < 2; i++)
		if ((u->psha[i] = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(u->psha[i], EVP_sha256(), NULL) != 1) {
			upload_fail(u, ERR_INTERNAL, RES_NONE, NULL);
			return;
		}
	for (int i = 0; i < (u->layout == IMG_SPLIT ? 2 : 1); i++)
		if ((u->tmp[i] = blob_tmp_create()) == -1) {
			log_warn("upload: temp file");
			upload_storage_fail(u, errno);
			return;
		}
	if (declared_fits(u) == -1)
		return;
	if (upload_hash_start(u) == -1)
		return;
	/* Validated as it arrives when an unpacker is free for it. */
	u->job = job_follow(
	    u->project, u->tmp, u->layout == IMG_SPLIT ? 2 : 1, job_done, u);
	u->follow = u->job != NULL;
	log_debug("upload %llu: validated %s", (unsigned long long)u->reqid,
	    u->follow ? "as it arrives"
		      : "once complete (project's streaming unpackers busy)");
}

/*
 * The store had no descriptor for an upload record's pipe (ipc/chan.c
 * lost_fd): the upload fails as out of file descriptors (503), whether the
 * lost record opened it (BEGIN: answered here, its later records are
 * ignored as for any refused upload) or was its rootfs (PART).
 */
void
upload_lost_fd(uint64_t reqid, uint16_t type)
{
	struct upload *u = find(reqid);
	struct fault f;

	if (u) {
		upload_fail(u, ERR_NO_FDS, RES_NONE, NULL);
		return;
	}
	/* A lost PART of an upload refused already was answered then. */
	if (type != IMSG_UPLOAD_BEGIN)
		return;
	fault_set(&f, ERR_NO_FDS, RES_NONE, NULL);
	reply_fault(reqid, &f);
}

void
upload_part(uint64_t reqid, struct imsg_upload_part *p, int fd)
{
	struct upload *u = find(reqid);

	/* Once per request, before its END: the table's word (RQ_ONCE). */
	if (u == NULL || u->layout != IMG_SPLIT) {
		close(fd);
		if (u)
			upload_fail(u, ERR_SEQUENCE, RES_IMAGE, NULL);
		return;
	}
	/* LXD names a split image after its rootfs file. */
	if (p->filename[0])
		snprintf(u->filename, sizeof(u->filename), "%s", p->filename);
	u->next_pipe = fd;
	upload_check_done(u);
}

void
upload_end(uint64_t reqid, struct imsg_upload_end *e)
{
	struct upload *u = find(reqid);

	if (u == NULL)
		return; /* already refused */
	u->ended = 1;	/* once per request: the table's word (RQ_CLOSE) */
	u->end = *e;
	snprintf(u->end_reason, sizeof(u->end_reason), "%s", e->reason);
	upload_check_done(u);
}

/* The validation left the queue: the operation is running. */
static void
job_running(void *arg)
{
	struct upload *u = arg;

	op_start(u->op);
}

static void
job_done(void *arg, const struct fault *err, const struct job_result *r)
{
	struct upload *u = arg;
	struct image img;
	struct fault f;
	int fds[2] = {u->tmp[0], u->tmp[1]};

	u->job = NULL;
	if (err && !u->accepted) {
		/* A streaming verdict: it waits for the body's own checks,
		 * so that a refusal is what it would be after the body. */
		u->has_early = 1;
		u->early = *err;
		return;
	}
	if (err) {
		upload_fault(u, err);
		return;
	}
	memset(&img, 0, sizeof(img));
	snprintf(img.fingerprint, sizeof(img.fingerprint), "%s", u->fp);
	snprintf(img.filename, sizeof(img.filename), "%s", u->filename);
	img.size = u->size[0] + u->size[1];
	img.public = u->public;
	img.auto_update = u->auto_update;
	img.split = u->layout == IMG_SPLIT;
	snprintf(img.architecture, sizeof(img.architecture), "%s",
	    r->meta.architecture);
	snprintf(img.type, sizeof(img.type), "container");
	img.created_at = r->meta.creation_date;
	img.expires_at = r->meta.expiry_date;
	img.uploaded_at = now_ns();
	memcpy(img.compression, r->compression, sizeof(img.compression));
	memcpy(img.part_sha, u->part_sha, sizeof(img.part_sha));
	img.part_size[0] = u->size[0];
	img.part_size[1] = u->size[1];
	/* metadata.yaml properties, then X-LXD-properties over them. */
	if (image_set_props(&img, r->meta.properties, r->meta.nproperties) ==
	    -1)
		fatal("calloc");
	if (image_merge_props(&img, u->props, u->nprops, 0) == -1) {
		image_free(&img);
		upload_fault(u, fault_props(&f));
		return;
	}
	image_product(&img);
	if (image_commit(u->project, &img, u->aliases, u->naliases, fds, &f) ==
	    -1) {
		image_free(&img);
		upload_fault(u, &f);
		return;
	}
	log_info("%s image %s into project %s",
	    u->fetched ? "downloaded" : "imported", u->fp, u->project);
	audit("image-created", "project", u->project, "fingerprint", u->fp,
	    "requestor", u->requestor, "source", u->fetched ? "remote" : NULL,
	    NULL);
	if (u->done)
		u->done(u->done_arg, u->fp, NULL);
	op_finish(u->op, NULL);
	api_lifecycle(u->project, "image-created", RES_IMAGE, u->fp,
	    u->username, "type", "container");
	image_free(&img);
	upload_free(u);
}

/* The body is complete: make it an operation and validate it. */
static void
upload_accept(struct upload *u)
{
	uint8_t md[32];
	unsigned int mdlen;
	char size[32];
	int64_t pid;
	struct image img;
	struct fault f;

	EVP_DigestFinal_ex(u->sha, md, &mdlen);
	hex_encode(md, 32, u->fp);
	for (int i = 0; i < 2; i++)
		if (u->psha[i]) {
			EVP_DigestFinal_ex(u->psha[i], md, &mdlen);
			hex_encode(md, 32, u->part_sha[i]);
		}
	if (u->layout != IMG_SPLIT)
		snprintf(u->part_sha[0], sizeof(u->part_sha[0]), "%s", u->fp);
	if (!u->fetched) {
		receiving--;
		jobs_waiting++;
		u->op = op_new(u->project, "Downloading image", NULL);
		op_reply(u->op, u->reqid);
	}
	snprintf(size, sizeof(size), "%llu",
	    (unsigned long long)(u->size[0] + u->size[1]));
	op_set_meta(u->op, "fingerprint", u->fp);
	op_set_meta(u->op, "size", size);
	if (upload_sigs_ok(u) == -1)
		return;
	if (u->expected[0] && strcmp(u->expected, u->fp) != 0) {
		fault_set(&f, ERR_FP_MISMATCH, RES_IMAGE, u->fp);
		snprintf(f.detail, sizeof(f.detail), "%s", u->expected);
		goto fail;
	}
	if (db_project_id(u->project, &pid) != DB_OK) {
		fault_set(&f, ERR_NOT_FOUND, RES_PROJECT, u->project);
		goto fail;
	}
	if (db_image_by_fp(pid, u->fp, &img) == DB_OK) {
		image_free(&img);
		fault_set(&f, ERR_EXISTS, RES_IMAGE, u->fp);
		goto fail;
	}
	/* Limits changed, or others were accepted, while it came. */
	if (quota_count(u) == -1)
		return;
	if (u->job) {
		/* All is hashed: the streaming validation may finish (or
		 * fails now, and the verdict is early). */
		const int final[2] = {1, 1};

		job_feed(u->job, u->size, final);
	}
	u->accepted = 1;
	if (u->has_early || u->job)
		op_start(u->op); /* as job_running would */
	if (u->has_early) {
		f = u->early;
		goto fail;
	}
	if (u->job)
		return;
	u->job = job_start(u->project, u->tmp, u->size,
	    u->layout == IMG_SPLIT ? 2 : 1, job_done, u);
	job_on_run(u->job, job_running);
	return;
fail:
	upload_fault(u, &f);
}

static void
upload_check_done(struct upload *u)
{
	struct fault f;

	/* The rootfs pipe is read once the metadata pipe is drained. */
	if (u->part == 0 && u->eof[0] && u->next_pipe != -1) {
		u->part = 1;
		hasher_next_file(u->hash);
		watch_pipe(u, u->next_pipe);
		u->next_pipe = -1;
		return;
	}
	if (!u->ended || u->pipe != -1 || u->next_pipe != -1)
		return;
	if (u->end.status == UPLOAD_ABORTED) {
		fault_set(&f, ERR_ABORTED, RES_IMAGE, NULL);
		snprintf(f.detail, sizeof(f.detail), "%s", u->end_reason);
		upload_fault(u, &f);
		return;
	}
	/* Every byte is in; the digests are the loop's once all is hashed
	 * (and the files synced, by the thread, not in the loop). */
	if (!hasher_sync(u->hash))
		return; /* hash_wake comes back here */
	if (hasher_finish(u->hash) == -1) {
		u->hash = NULL;
		log_warn("upload: hashing the temp file");
		upload_storage_fail(u, errno);
		return;
	}
	u->hash = NULL;
	log_debug("upload %llu: %llu bytes hashed, reading paused %u times "
		  "for it",
	    (unsigned long long)u->reqid,
	    (unsigned long long)(u->size[0] + u->size[1]), u->pauses);
	if (u->count_own) {
		u->end.bytes = u->size[0] + u->size[1];
		u->end.part0_bytes = u->size[0];
	}
	if (u->fetched) {
		/* What came decides: a second file makes it split. */
		u->layout = u->size[1] ? IMG_SPLIT : IMG_UNIFIED;
		if (u->layout == IMG_UNIFIED) {
			EVP_MD_CTX_free(u->psha[0]);
			EVP_MD_CTX_free(u->psha[1]);
			u->psha[0] = u->psha[1] = NULL;
		}
	}
	if (u->layout == IMG_SPLIT && !u->eof[1]) {
		upload_fail(u, ERR_NO_ROOTFS, RES_IMAGE, NULL);
		return;
	}
	if (u->end.bytes != u->size[0] + u->size[1] ||
	    u->end.part0_bytes != u->size[0]) {
		upload_fail(u, ERR_TRUNCATED, RES_IMAGE, NULL);
		return;
	}
	if (u->size[0] == 0) {
		upload_fail(u, ERR_EMPTY, RES_IMAGE, NULL);
		return;
	}
	upload_accept(u);
}

/*
 * A download's bytes, from the fetcher's two pipes (the second may stay
 * empty: then the image is unified). The operation exists already; the
 * outcome goes to done() first. Returns NULL after failing the operation.
 */
struct upload *
upload_fetch(const struct fetch_sink *k, int rfd[2])
{
	struct imsg_upload_begin b = {.project = (char *)k->project,
	    .filename = (char *)k->filename,
	    .fingerprint = (char *)k->fingerprint,
	    .public = (uint8_t)k->public,
	    .layout = IMG_SPLIT,
	    .properties = (struct ipc_kv *)k->props,
	    .nproperties = k->nprops,
	    .aliases = (struct ipc_kv *)k->aliases,
	    .naliases = k->naliases,
	    .length = k->length};
	struct upload *u = upload_new(0, &b);

	snprintf(u->requestor, sizeof(u->requestor), "%s", k->requestor);
	snprintf(u->username, sizeof(u->username), "%s", k->username);
	u->fetched = 1;
	u->auto_update = k->auto_update;
	u->op = k->op;
	u->done = k->done;
	u->done_arg = k->arg;
	jobs_waiting++;
	watch_pipe(u, rfd[0]);
	u->next_pipe = rfd[1];
	if (u->sha == NULL ||
	    EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1) {
		upload_fail(u, ERR_INTERNAL, RES_NONE, NULL);
		return NULL;
	}
	for (int i = 0; i < 2; i++)
		if ((u->psha[i] = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(u->psha[i], EVP_sha256(), NULL) != 1) {
			upload_fail(u, ERR_INTERNAL, RES_NONE, NULL);
			return NULL;
		}
	for (int i = 0; i < 2; i++)
		if ((u->tmp[i] = blob_tmp_create()) == -1) {
			log_warn("download: temp file");
			upload_storage_fail(u, errno);
			return NULL;
		}
	if (declared_fits(u) == -1)
		return NULL;
	if (upload_hash_start(u) == -1)
		return NULL;
	return u;
}

/* The fetcher's word that it sent everything: its byte counts, which the
 * store's own must match. */
void
upload_fetch_end(struct upload *u, uint64_t size0, uint64_t size1)
{
	u->ended = 1;
	u->end.status = UPLOAD_COMPLETE;
	u->end.bytes = size0 + size1;
	u->end.part0_bytes = size0;
	upload_check_done(u);
}

/* A publish's packer is done: what came through the pipes until their
 * end is the image (a packer that dies instead aborts the upload). */
void
upload_fetch_end_own(struct upload *u)
{
	u->count_own = 1;
	upload_fetch_end(u, 0, 0);
}

/* The download failed (or the fetcher died): nothing is kept. */
void
upload_fetch_abort(struct upload *u, const struct fault *f)
{
	upload_fault(u, f);
}

/* Bodies in flight die with the frontend; validations go on. */
void
upload_frontend_gone(void)
{
	struct upload *u, *next;
	struct fault f;

	for (u = TAILQ_FIRST(&uploads); u; u = next) {
		next = TAILQ_NEXT(u, entry);
		if (u->op == NULL) {
			log_info("upload %llu dropped: the frontend went away",
			    (unsigned long long)u->reqid);
			upload_free(u);
		}
	}
	if (S->stopping) {
		fault_set(&f, ERR_STOPPING, RES_NONE, NULL);
		while ((u = TAILQ_FIRST(&uploads)) != NULL) {
			if (u->done)
				u->done(u->done_arg, NULL, &f);
			if (u->op)
				op_finish(u->op, &f);
			upload_free(u);
		}
	}
}
