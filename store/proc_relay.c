/*
 * Children's stderr, relayed line by line into the store's log (and to
 * event listeners): checked, rate-limited, never merged.
 */
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc/log.h"
#include "store/store.h"

/*
 * One line from a child, as the store writes it: a line must read
 * "TIME TITLE[PID]: ..." with this child's title and pid, or it is marked
 * as the child's unformatted output -- a child cannot forge store lines.
 */
/* "seccomp: forbidden system call 257 (openat)", from seccomp_install(). */
static void
sigsys_note(struct child *c, const char *line, size_t len)
{
	static const char tag[] = "seccomp: forbidden system call ";
	const char *p = memmem(line, len, tag, sizeof(tag) - 1), *end;
	size_t n = 0;

	if (p == NULL || (p = memchr(p, '(', (size_t)(line + len - p))) == NULL)
		return;
	for (end = ++p; end < line + len && n < sizeof(c->sigsys_call) - 1 &&
			(isalnum((unsigned char)*end) || *end == '_');
	     end++)
		n++;
	if (n > 0 && end < line + len && *end == ')') {
		memcpy(c->sigsys_call, p, n);
		c->sigsys_call[n] = '\0';
	}
}

static void
relay_line(struct child *c, char *line, size_t len)
{
	char want[96], mark[96];
	time_t now = time(NULL);
	int wl;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = i == len - 1 ? '\n' : '?';
	line[len - 1] = '\n';
	if (now != c->log_window) {
		if (c->log_dropped)
			log_warnx("%s (pid %d): %zu log bytes dropped (rate "
				  "limit)",
			    c->def->title, (int)c->pid, c->log_dropped);
		c->log_window = now;
		c->log_bytes = c->log_dropped = 0;
	}
	if (c->log_bytes + len > LIM_CHILD_LOG_RATE) {
		c->log_dropped += len;
		return;
	}
	c->log_bytes += len;
	sigsys_note(c, line, len);
	wl = snprintf(
	    want, sizeof(want), " %s[%d]: ", c->def->title, (int)c->pid);
	/* 24 bytes of timestamp: 2026-11-29T01:14:19.725Z */
	if (len > 24 + (size_t)wl && line[23] == 'Z' &&
	    memcmp(line + 24, want, (size_t)wl) == 0) {
		(void)!write(STDERR_FILENO, line, len);
		logfwd_child(c->def->title, line + 24 + wl,
		    len - 1 - 24 - (size_t)wl, 1);
		return;
	}
	wl = snprintf(mark, sizeof(mark),
	    "%s[%d] (unformatted): ", c->def->title, (int)c->pid);
	(void)!write(STDERR_FILENO, mark, (size_t)wl);
	(void)!write(STDERR_FILENO, line, len);
	logfwd_child(c->def->title, line, len - 1, 0);
}

/* Relays the child's log lines; a line too long is cut, never merged. */
void
proc_relay_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *c = arg;
	ssize_t n;

	(void)ev;
	n = read(fd, c->errbuf + c->errlen, sizeof(c->errbuf) - 1 - c->errlen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			event_del(c->ev_err);
		return;
	}
	c->errlen += (size_t)n;
	for (;;) {
		char *nl = memchr(c->errbuf, '\n', c->errlen);
		size_t len = nl ? (size_t)(nl - c->errbuf) + 1 : c->errlen;

		if (nl == NULL && c->errlen < sizeof(c->errbuf) - 1)
			break;
		relay_line(c, c->errbuf, len);
		memmove(c->errbuf, c->errbuf + len, c->errlen - len);
		c->errlen -= len;
	}
}

/* Drains what a dead child logged last, a last line without its newline
 * too. */
void
proc_relay_last(struct child *c)
{
	proc_relay_cb(c->errfd, EV_READ, c);
	if (c->errlen > 0 && c->errlen < sizeof(c->errbuf) - 1) {
		c->errbuf[c->errlen++] = '\n';
		relay_line(c, c->errbuf, c->errlen);
	}
}
