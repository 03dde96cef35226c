/*
 * Progress as lxc's ioprogress tracker reports it: with a known total,
 * an update for each further 0.9 percent, the percent shown as 1 + the
 * whole part; without one, at most an update a second.
 */
#include <sys/ioctl.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imgctl/fmt.h"
#include "imgctl/progress.h"

void
progress_init(struct progress *p, const char *label, uint64_t total, int quiet)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	p->quiet = quiet;
	p->on = !quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

static double
elapsed(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) +
	       (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

void
progress_text(
    char *out, size_t outlen, uint64_t done, uint64_t total, double secs)
{
	char rate[32], amount[32];
	int64_t speed = secs > 0 ? (int64_t)((double)done / secs) : 0;
	int pct;

	fmt_bytes(speed, rate, sizeof(rate));
	if (total > 0) {
		pct = 1 + (int)((double)done / (double)total * 100);
		snprintf(
		    out, outlen, "%d%% (%s/s)", pct > 100 ? 100 : pct, rate);
	} else {
		fmt_bytes((int64_t)done, amount, sizeof(amount));
		snprintf(out, outlen, "%s (%s/s)", amount, rate);
	}
}

/* Terminal width of stderr, 0 if unknown. */
static size_t
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == -1)
		return 0;
	return ws.ws_col;
}

static void
progress_show(struct progress *p, const char *line)
{
	size_t n = strlen(line), w = term_width();

	/* lxc prints nothing rather than a line the terminal would wrap. */
	if (w > 0 && n > w)
		return;
	if (n < p->shown)
		fprintf(stderr, "\r%*s", (int)p->shown, "");
	else
		p->shown = n;
	fprintf(stderr, "\r%s", line);
	fflush(stderr);
}

void
progress_add(struct progress *p, uint64_t n)
{
	char status[96], line[160];
	struct timespec now;
	double pct;

	p->done += n;
	if (!p->on || n == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->total > 0) {
		pct = (double)p->done / (double)p->total * 100;
		if (pct - p->last_pct < 0.9)
			return;
		p->last_pct = pct;
	} else {
		if (elapsed(&p->last, &now) < 1)
			return;
		p->last = now;
	}
	progress_text(status, sizeof(status), p->done, p->total,
	    elapsed(&p->start, &now));
	snprintf(line, sizeof(line), "%s: %s", p->label, status);
	progress_show(p, line);
}

void
progress_done(struct progress *p, const char *msg)
{
	if (p->shown > 0) {
		fprintf(stderr, "\r%*s\r", (int)p->shown, "");
		fflush(stderr);
		p->shown = 0;
	}
	p->on = 0;
	if (msg != NULL && !p->quiet)
		printf("%s\n", msg);
}
