/*
 * <state>/audit.log: append-only JSON lines, hash-chained. Each line has
 * "prev", the sha256 of the previous line (zeros for the very first), and
 * "seq", its number since the log began, so that a line removed or
 * changed later breaks the chain (imgctl audit verify walks it). Each
 * record is fdatasync()ed before audit() returns, and the handlers audit a
 * change before they answer it, so no acknowledged change is missing
 * from the log after a crash.
 *
 * Rotation (audit_rotate_size): the full file is renamed audit.log.N (N
 * counts up from 1) and the new audit.log starts with an
 * "audit-log-rotated" record whose "prev" is the old file's last hash:
 * the chain runs on across files. A crash between the rename and the new
 * file's first record is mended at the next start, from audit.log.N.
 * audit_keep bounds the rotated files kept (the oldest go, recorded).
 *
 * Anchors (audit_anchor_file): every audit_anchor_every records, and at
 * each rotation, one line {"time", "seq", "head"} is appended to a file
 * the operator keeps elsewhere (another disk, an append-only file, a
 * pipe to a remote log); imgctl audit verify --anchor FILE then detects a
 * cut tail, an edited last record and a log rewritten from the start,
 * which a chain alone cannot.
 */
#include <dirent.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

static int audit_fd = -1, dir_fd = -1, anchor_fd = -1;
static char prev[65];
static uint64_t seq;	  /* the last record's number, 0 before any */
static unsigned gen;	  /* the newest rotated file's N, 0: none */
static uint64_t size_now; /* of audit.log */
static int rotating;
static const char *anchor_path;

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static void
time_stamp(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000);
}

static int torn_repaired;

/* The number of lines in fd (a log of records without "seq"). */
static uint64_t
count_lines(int fd)
{
	char buf[65536];
	uint64_t n = 0;
	off_t off = 0;
	ssize_t got;

	while ((got = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (char *p = buf;
		     (p = memchr(p, '\n', (size_t)(buf + got - p))); p++)
			n++;
		off += got;
	}
	return n;
}

/*
 * The hash and number of the last line in fd, into prev and seq (zeros
 * and 0 for an empty file). A torn last line (a crash or a full disk
 * mid-write) is cut off when repair is set, and the cut recorded as the
 * next event.
 */
static int
load_last(int fd, int repair)
{
	char buf[65536];
	struct stat st;
	off_t off, keep;
	ssize_t n;
	char *end, *start, *nl;
	json_t *o;

	memset(prev, '0', 64);
	prev[64] = '\0';
	seq = 0;
	if (fstat(fd, &st) == -1)
		return -1;
	size_now = (uint64_t)st.st_size;
	if (st.st_size == 0)
		return 0;
	off = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf)
					      : 0;
	n = pread(fd, buf, sizeof(buf), off);
	if (n <= 0)
		return -1;
	if (buf[n - 1] != '\n') {
		nl = memrchr(buf, '\n', (size_t)n);
		if (nl == NULL && off > 0) {
			errno = EINVAL; /* a line over 64 KiB: not ours */
			return -1;
		}
		if (!repair) {
			errno = EBADMSG;
			return -1;
		}
		keep = nl ? off + (nl - buf) + 1 : 0;
		if (ftruncate(fd, keep) == -1)
			return -1;
		torn_repaired = 1;
		size_now = (uint64_t)keep;
		if (keep == 0)
			return 0;
		n = (ssize_t)(keep - off);
	}
	end = buf + n - 1;
	*end = '\0';
	start = memrchr(buf, '\n', (size_t)(end - buf));
	start = start ? start + 1 : buf;
	sha256_hex(start, strlen(start), prev);
	o = json_loads(start, 0, NULL);
	const char *v = json_string_value(json_object_get(o, "seq"));
	if (v)
		seq = strtoull(v, NULL, 10);
	else /* written before records had numbers */
		seq = count_lines(fd);
	json_decref(o);
	return 0;
}

/* The newest audit.log.N in the state directory (0: none). */
static unsigned
newest_rotated(void)
{
	unsigned best = 0;
	struct dirent *d;
	DIR *dir;
	int fd = dup(dir_fd);

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL) {
		char *e;
		unsigned long n;

		if (strncmp(d->d_name, "audit.log.", 10) != 0 ||
		    d->d_name[10] < '1' || d->d_name[10] > '9')
			continue;
		n = strtoul(d->d_name + 10, &e, 10);
		if (*e == '\0' && n > best && n < 1000000000)
			best = (unsigned)n;
	}
	closedir(dir);
	return best;
}

static void emit(json_t *o);

/* ---- syncing ---- */

static struct event *ev_sync;
static int dirty; /* written, not yet synced */

static void
sync_now(const char *event)
{
	if (fdatasync(audit_fd) == -1)
		log_warn("audit log fdatasync (%s)", event ? event : "");
	dirty = 0;
}

static void
sync_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (dirty)
		sync_now("refusals");
}

static void
sync_later(void)
{
	struct timeval tv = {1, 0};

	dirty = 1;
	if (S->base == NULL) {
		sync_now(NULL);
		return;
	}
	if (ev_sync == NULL)
		ev_sync = evtimer_new(S->base, sync_cb, NULL);
	if (ev_sync && !evtimer_pending(ev_sync, NULL))
		evtimer_add(ev_sync, &tv);
}

static int
refusal(const char *event)
{
	size_t n = event ? strlen(event) : 0;

	return n > 8 && strcmp(event + n - 8, "-refused") == 0;
}

static void
anchor(void)
{
	char line[256], stamp[40];

	if (anchor_fd == -1 || seq == 0)
		return;
	if (dirty) /* never an anchor ahead of what is on disk */
		sync_now("anchor");
	time_stamp(stamp, sizeof(stamp));
	int n = snprintf(line, sizeof(line),
	    "{\"head\":\"%s\",\"seq\":\"%llu\",\"time\":\"%s\"}\n", prev,
	    (unsigned long long)seq, stamp);
	if (write(anchor_fd, line, (size_t)n) != n ||
	    fdatasync(anchor_fd) == -1)
		log_warn("audit anchor %s", anchor_path);
}

/* The first record of a new audit.log, after audit.log.N: the chain goes
 * on from N's last record (prev, seq). */
static void
continued(const char *why)
{
	char name[32];
	json_t *o = json_object();

	snprintf(name, sizeof(name), "audit.log.%u", gen);
	json_object_set_new(o, "event", json_string("audit-log-rotated"));
	json_object_set_new(o, "previous", json_string(name));
	json_object_set_new(o, "why", json_string(why));
	emit(o);
	/* The oldest go when there are more than audit_keep. */
	for (unsigned k = S->cfg.audit_keep; k && gen > k;) {
		unsigned old = gen - k;

		snprintf(name, sizeof(name), "audit.log.%u", old);
		if (unlinkat(dir_fd, name, 0) == -1) {
			if (errno != ENOENT)
				log_warn("audit log: removing %s", name);
			break;
		}
		log_info("audit log: removed %s (audit_keep %u)", name, k);
		o = json_object();
		json_object_set_new(
		    o, "event", json_string("audit-log-removed"));
		json_object_set_new(o, "file", json_string(name));
		emit(o);
		k++; /* and any older one still there */
	}
}

/* audit.log to audit.log.N+1 and a new audit.log; -1 if it cannot (the
 * records then go on in the old file). */
static int
rotate(void)
{
	char name[32];
	int fd;

	if (dirty)
		sync_now("rotation");
	anchor();
	snprintf(name, sizeof(name), "audit.log.%u", gen + 1);
	if (renameat(dir_fd, "audit.log", dir_fd, name) == -1) {
		log_warn("audit log: rotating to %s", name);
		return -1;
	}
	fd = openat(dir_fd, "audit.log",
	    O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		log_warn("audit log: a new audit.log after %s", name);
		if (renameat(dir_fd, name, dir_fd, "audit.log") == -1)
			fatal("audit log: %s cannot be put back", name);
		return -1;
	}
	if (fsync(dir_fd) == -1)
		log_warn("audit log: fsync of the state directory");
	close(audit_fd);
	audit_fd = fd;
	size_now = 0;
	gen++;
	log_info("audit log: rotated to %s", name);
	rotating = 1;
	continued("audit_rotate_size");
	rotating = 0;
	return 0;
}

int
audit_open(const char *state, char *err, size_t errlen)
{
	char path[4200], rpath[4300];
	int rfd;

	snprintf(path, sizeof(path), "%s/audit.log", state);
	if ((dir_fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", state, strerror(errno));
		return -1;
	}
	gen = newest_rotated();
	audit_fd = openat(dir_fd, "audit.log",
	    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (audit_fd == -1 || load_last(audit_fd, 1) == -1) {
		snprintf(err, errlen, "%s: %s", path,
		    errno == EINVAL ? "its last line is longer than 64 KiB"
				    : strerror(errno));
		return -1;
	}
	if (S->cfg.audit_anchor_file[0]) {
		anchor_path = S->cfg.audit_anchor_file;
		anchor_fd = open(anchor_path,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (anchor_fd == -1) {
			snprintf(err, errlen, "audit_anchor_file %s: %s",
			    anchor_path, strerror(errno));
			return -1;
		}
	}
	if (size_now == 0 && gen > 0) {
		/* A new file after audit.log.N: a rotation was cut short
		 * by a crash, or the operator moved audit.log away. */
		snprintf(rpath, sizeof(rpath), "%s/audit.log.%u", state, gen);
		rfd = openat(dir_fd, strrchr(rpath, '/') + 1,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (rfd == -1 || load_last(rfd, 0) == -1) {
			snprintf(err, errlen, "%s: %s", rpath,
			    errno == EBADMSG ? "its last line is incomplete"
					     : strerror(errno));
			if (rfd != -1)
				close(rfd);
			return -1;
		}
		close(rfd);
		size_now = 0;
		log_info("%s goes on from audit.log.%u", path, gen);
		continued("a new audit.log after a restart");
	}
	if (torn_repaired) {
		log_warnx("%s: an incomplete last line was cut off", path);
		audit(
		    "audit-log-repaired", "why", "incomplete last line", NULL);
	}
	return 0;
}

/* The record o (its own keys; time, seq and prev are added) written and
 * synced; the chain moves on only if the whole line is on disk. */
static void
emit(json_t *o)
{
	char stamp[40], num[24];
	char *line, *grown;
	off_t end = -1;
	size_t len;
	const char *event = json_string_value(json_object_get(o, "event"));

	time_stamp(stamp, sizeof(stamp));
	json_object_set_new(o, "time", json_string(stamp));
	for (;;) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)seq + 1);
		json_object_set_new(o, "seq", json_string(num));
		json_object_set_new(o, "prev", json_string(prev));
		line = json_dumps(
		    o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
		if (line == NULL) {
			log_warnx("audit log: out of memory (%s)", event);
			json_decref(o);
			return;
		}
		len = strlen(line);
		if (rotating || S->cfg.audit_rotate_size == 0 ||
		    size_now == 0 ||
		    size_now + len + 1 <= S->cfg.audit_rotate_size ||
		    rotate() == -1)
			break;
		free(line); /* again, after the rotation record */
	}
	json_decref(o);
	if ((grown = realloc(line, len + 2)) == NULL) {
		free(line);
		log_warnx("audit log: out of memory (%s)", event);
		return;
	}
	line = grown;
	line[len] = '\n';
	/* A partial write is taken back so that the next line does not glue
	 * to it. */
	if (audit_fd != -1 && (end = lseek(audit_fd, 0, SEEK_END)) != -1 &&
	    write(audit_fd, line, len + 1) == (ssize_t)(len + 1)) {
		sha256_hex(line, len, prev);
		seq++;
		metrics_audit_record();
		size_now = (uint64_t)end + len + 1;
		/* On disk before the change it records is acknowledged:
		 * callers audit, then answer. A refusal acknowledges no
		 * change: it is synced within a second (or with the next
		 * change), so that a client that is refused again and again
		 * cannot make imgd sync the disk for each one. */
		if (refusal(event))
			sync_later();
		else
			sync_now(event);
		if (S->cfg.audit_anchor_every &&
		    seq % S->cfg.audit_anchor_every == 0)
			anchor();
	} else {
		log_warn("audit log write (%s)", event);
		if (audit_fd != -1 && end != -1)
			(void)!ftruncate(audit_fd, end);
	}
	free(line);
}

void
audit(const char *event, ...)
{
	json_t *o = json_object();
	const char *k, *v;
	va_list ap;

	json_object_set_new(o, "event", json_string(event));
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		json_object_set_new(o, k, json_string(v ? v : ""));
	}
	va_end(ap);
	emit(o);
}

/* The head at a clean stop, for the anchor file. */
void
audit_close(void)
{
	if (dirty)
		sync_now("stop");
	if (anchor_fd != -1 && S->cfg.audit_anchor_every)
		anchor();
}
