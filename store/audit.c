/*
 * <state>/audit.log: append-only JSON lines, hash-chained. Each line has
 * "prev", the sha256 of the previous line (zeros for the first), so that a
 * line removed or changed later breaks the chain (imgctl audit verify
 * walks it). Each record is fdatasync()ed before audit() returns, and the
 * handlers audit a change before they answer it, so no acknowledged
 * change is missing from the log after a crash.
 */
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

static int audit_fd = -1;
static char prev[65];

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static int torn_repaired;

/*
 * The hash of the last line already in the file. A torn last line (a
 * crash or a full disk mid-write) is cut off, and the cut is recorded as
 * the next event.
 */
static int
load_prev(int fd)
{
	char buf[65536];
	struct stat st;
	off_t off, keep;
	ssize_t n;
	char *end, *start, *nl;

	memset(prev, '0', 64);
	prev[64] = '\0';
	if (fstat(fd, &st) == -1)
		return -1;
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
		keep = nl ? off + (nl - buf) + 1 : 0;
		if (ftruncate(fd, keep) == -1)
			return -1;
		torn_repaired = 1;
		if (keep == 0)
			return 0;
		n = (ssize_t)(keep - off);
	}
	end = buf + n - 1;
	*end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	sha256_hex(start, strlen(start), prev);
	return 0;
}

int
audit_open(const char *state, char *err, size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/audit.log", state);
	audit_fd = open(
	    path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (audit_fd == -1 || load_prev(audit_fd) == -1) {
		snprintf(err, errlen, "%s: %s", path,
		    errno == EINVAL ? "its last line is longer than 64 KiB"
				    : strerror(errno));
		return -1;
	}
	if (torn_repaired) {
		log_warnx("%s: an incomplete last line was cut off", path);
		audit(
		    "audit-log-repaired", "why", "incomplete last line", NULL);
	}
	return 0;
}

void
audit(const char *event, ...)
{
	json_t *o = json_object();
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	const char *k, *v;
	va_list ap;
	char *line, *grown;
	off_t end = -1;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000);
	json_object_set_new(o, "time", json_string(stamp));
	json_object_set_new(o, "event", json_string(event));
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		json_object_set_new(o, k, json_string(v ? v : ""));
	}
	va_end(ap);
	json_object_set_new(o, "prev", json_string(prev));
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	if (line == NULL)
		return;
	len = strlen(line);
	if ((grown = realloc(line, len + 2)) == NULL) {
		free(line);
		log_warnx("audit log: out of memory (%s)", event);
		return;
	}
	line = grown;
	line[len] = '\n';
	/* The chain moves on only if the whole line is on disk; a partial
	 * write is taken back so that the next line does not glue to it. */
	if (audit_fd != -1 && (end = lseek(audit_fd, 0, SEEK_END)) != -1 &&
	    write(audit_fd, line, len + 1) == (ssize_t)(len + 1)) {
		sha256_hex(line, len, prev);
		/* On disk before the change it records is acknowledged:
		 * callers audit, then answer. */
		if (fdatasync(audit_fd) == -1)
			log_warn("audit log fdatasync (%s)", event);
	} else {
		log_warn("audit log write (%s)", event);
		if (audit_fd != -1 && end != -1)
			(void)!ftruncate(audit_fd, end);
	}
	free(line);
}
