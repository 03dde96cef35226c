/*
 * Logging: stderr only, so that it works unchanged inside a chroot with no
 * files and under a seccomp filter that allows write(2) on fd 2 only.
 * Timestamps are UTC (gmtime_r reads no zone files).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"

static const char *log_name = "imgd";
static int log_debugging;
static pid_t log_pid;
static void (*log_hook)(int, const char *);

void
log_init(const char *procname, int debug)
{
	log_name = procname;
	log_debugging = debug;
	log_pid = getpid();
	/* glibc reads the zone file on the first time conversion, even for
	 * gmtime_r: do it now, before any chroot or seccomp filter. */
	tzset();
}

/*
 * fn sees every line after it went to stderr, without the time and process
 * prefix: level (LOG_HOOK_*) and the sanitised message. A line that fn
 * itself logs goes to stderr only.
 */
void
log_set_hook(void (*fn)(int level, const char *message))
{
	log_hook = fn;
}

void
log_setdebug(int debug)
{
	log_debugging = debug;
}

static void
log_vemit(int lvl, const char *fmt, va_list ap, int errnum)
{
	static const char *names[] = {"debug", "info", "warning", "fatal"};
	static int in_hook;
	const char *level = names[lvl];
	char msg[2048], stamp[64];
	size_t body;
	struct timespec ts;
	struct tm tm;
	size_t n;
	int len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	len = snprintf(msg, sizeof(msg), "%s.%03ldZ %s[%ld]: %s: ", stamp,
	    ts.tv_nsec / 1000000, log_name, (long)log_pid, level);
	if (len < 0 || (size_t)len >= sizeof(msg))
		len = 0;
	n = body = (size_t)len;
	len = vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (len > 0)
		n += (size_t)len < sizeof(msg) - n ? (size_t)len
						   : sizeof(msg) - n - 1;
	if (errnum != 0 && n < sizeof(msg) - 1) {
		len = snprintf(
		    msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
		if (len > 0)
			n += (size_t)len < sizeof(msg) - n
				 ? (size_t)len
				 : sizeof(msg) - n - 1;
	}
	/* Control characters from untrusted data must not forge lines. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	if (n >= sizeof(msg) - 1)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	(void)!write(STDERR_FILENO, msg, n);
	if (log_hook && !in_hook && lvl != LOG_HOOK_FATAL && n > body + 1) {
		msg[n - 1] = '\0';
		in_hook = 1;
		log_hook(lvl, msg + body);
		in_hook = 0;
	}
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_HOOK_WARNING, fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_HOOK_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_HOOK_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debugging)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_HOOK_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_HOOK_FATAL, fmt, ap, saved);
	va_end(ap);
	_exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_HOOK_FATAL, fmt, ap, 0);
	va_end(ap);
	_exit(1);
}
