/*
 * A transfer's progress on stderr, only when stderr is a terminal, in
 * lxc's words: "Transferring image: 45% (12.34MB/s)", or bytes so far
 * when the total is unknown. The final message goes to stdout.
 */
#ifndef IMGD_IMGCTL_PROGRESS_H
#define IMGD_IMGCTL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct progress {
	const char *label; /* "Transferring image" */
	int on;		   /* stderr is a terminal and not -q */
	int quiet;
	uint64_t total; /* 0: unknown */
	uint64_t done;
	double last_pct;
	struct timespec start, last;
	size_t shown; /* longest line printed, to blank it */
};

void progress_init(
    struct progress *, const char *label, uint64_t total, int quiet);
void progress_add(struct progress *, uint64_t n);
/* Clear the line; print msg (if any) on stdout unless quiet. */
void progress_done(struct progress *, const char *msg);

/* The status text for done bytes after secs seconds (pure, for tests). */
void progress_text(
    char *out, size_t outlen, uint64_t done, uint64_t total, double secs);

#endif
