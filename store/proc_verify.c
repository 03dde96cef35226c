/*
 * A child's READY self-check, verified against what /proc says about it
 * before any work is routed to it.
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

/* /proc's view of the child must match its claims. */
static int
verify_proc(struct child *c, const struct imsg_ready *r, char *why, size_t len)
{
	char path[64], line[256];
	unsigned long long v;
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->pid);
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, len, "cannot read %s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned a, b, cc, d;

		if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &cc, &d) == 4) {
			seen++;
			if (a != c->uid || b != c->uid || cc != c->uid ||
			    d != c->uid)
				snprintf(why, len, "Uid is %u", b);
		} else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &cc, &d) ==
			   4) {
			seen++;
			if (a != c->gid || b != c->gid || cc != c->gid ||
			    d != c->gid)
				snprintf(why, len, "Gid is %u", b);
		} else if (S->root && strncmp(line, "Groups:", 7) == 0) {
			seen++;
			if (strspn(line + 7, " \t\n") != strlen(line + 7))
				snprintf(why, len, "supplementary groups left");
		} else if (sscanf(line, "CapEff: %llx", &v) == 1 ||
			   sscanf(line, "CapPrm: %llx", &v) == 1 ||
			   (S->root && sscanf(line, "CapBnd: %llx", &v) == 1)) {
			seen++;
			if (v != c->caps)
				snprintf(
				    why, len, "capabilities left: %s", line);
		} else if (sscanf(line, "CapInh: %llx", &v) == 1 ||
			   sscanf(line, "CapAmb: %llx", &v) == 1) {
			seen++;
			if (v != 0)
				snprintf(
				    why, len, "capabilities left: %s", line);
		} else if (sscanf(line, "NoNewPrivs: %llu", &v) == 1) {
			seen++;
			if (v != 1)
				snprintf(why, len, "NoNewPrivs is %llu", v);
		} else if (sscanf(line, "Seccomp: %llu", &v) == 1) {
			seen++;
			if (v != 2)
				snprintf(why, len, "Seccomp is %llu", v);
		}
	}
	fclose(f);
	if (seen < (S->root ? 10 : 8) && why[0] == '\0')
		snprintf(why, len, "incomplete %s", path);
	(void)r;
	return why[0] ? -1 : 0;
}

int
proc_verify_ready(struct child *c, const struct imsg_ready *r)
{
	char why[160] = "";

	if (r->ruid != c->self_uid || r->euid != c->self_uid ||
	    r->suid != c->self_uid || r->rgid != c->self_gid ||
	    r->egid != c->self_gid || r->sgid != c->self_gid)
		snprintf(why, sizeof(why), "runs as %u/%u", r->euid, r->egid);
	else if (r->cap_eff != c->caps || r->cap_prm != c->caps ||
		 (S->root && r->cap_bnd != c->caps))
		snprintf(why, sizeof(why), "kept capabilities");
	else if (!r->no_new_privs || r->seccomp != 2)
		snprintf(why, sizeof(why), "no seccomp filter");
	else if (S->root && !r->chrooted)
		snprintf(why, sizeof(why), "not chrooted");
	else
		verify_proc(c, r, why, sizeof(why));
	if (why[0]) {
		log_warnx("%s (pid %d) failed its sandbox self-check: %s",
		    c->def->title, (int)c->pid, why);
		audit("sandbox-check-failed", "process", c->def->title, "why",
		    why, NULL);
		return -1;
	}
	if (r->notes[0])
		log_info("%s (pid %d) sandbox: %s", c->def->title, (int)c->pid,
		    r->notes);
	return 0;
}
