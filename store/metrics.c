/*
 * GET /1.0/metrics, the store's part: what it holds per project, what is
 * under way, how its children ended, the audit records it wrote. Sent as
 * typed samples (IMSG_METRIC); the frontend adds its own (requests,
 * transfers) and writes the Prometheus text (frontend/metrics.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/log.h"
#include "store/store.h"

/* Ends of children, by process and cause, since the store started. */
static const char *const causes[] = {"sigsys", "signal", "exit", "killed"};
#define NCAUSES (sizeof(causes) / sizeof(causes[0]))
static struct {
	const char *process; /* a process table title: static */
	uint64_t n[NCAUSES];
} deaths[8] = {{"frontend", {0}}, {"fetcher", {0}}, {"unpacker", {0}}};
static uint64_t audit_written;

void
metrics_child_death(const char *process, int sigsys, int signaled, int killed)
{
	size_t i, k = killed ? 3 : sigsys ? 0 : signaled ? 1 : 2;

	for (i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++)
		if (deaths[i].process == NULL ||
		    strcmp(deaths[i].process, process) == 0)
			break;
	if (i == sizeof(deaths) / sizeof(deaths[0]))
		return;
	deaths[i].process = process;
	deaths[i].n[k]++;
}

void
metrics_audit_record(void)
{
	audit_written++;
}

static void
sample(struct child *fe, uint64_t reqid, int metric, const char *l1,
    const char *l2, uint64_t v)
{
	struct imsg_metric m = {.metric = (uint8_t)metric,
	    .label1 = (char *)l1,
	    .label2 = (char *)l2,
	    .value = v};

	proc_send(fe, IMSG_METRIC, reqid, &m, -1);
}

/* A metrics answer under way: the projects go out as the channel drains
 * (other requests share it), as lists do. */
struct mstate {
	uint64_t reqid;
	uint64_t fe_gen;
	char after[LIM_PROJECT_NAME_MAX + 1];
	uint32_t projects;
};

static void
send_rest(struct child *fe, struct mstate *st)
{
	struct imsg_list_end end = {.count = st->projects};

	for (size_t i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++) {
		if (deaths[i].process == NULL)
			break;
		for (size_t k = 0; k < NCAUSES; k++)
			sample(fe, st->reqid, METRIC_CHILD_DEATHS,
			    deaths[i].process, causes[k], deaths[i].n[k]);
		sample(fe, st->reqid, METRIC_SANDBOX_VIOLATIONS,
		    deaths[i].process, "", deaths[i].n[0]);
	}
	sample(fe, st->reqid, METRIC_AUDIT_RECORDS, "", "", audit_written);
	sample(fe, st->reqid, METRIC_PROJECTS, "", "", st->projects);
	proc_send(fe, IMSG_LIST_END, st->reqid, &end, -1);
}

static void
metrics_continue(void *arg, int gone)
{
	static const char *const kinds[BUSY_MAX] = {
	    "uploads", "copies", "unpacks"};
	struct mstate *st = arg;
	struct child *fe = proc_frontend();
	int64_t id, images, aliases, bytes;

	while (!gone && fe != NULL && fe->gen == st->fe_gen) {
		if (fe->chan.qlen >= LIM_IPC_QUEUE_SOFT - 16) {
			proc_on_drain(fe, metrics_continue, st);
			return;
		}
		if (db_project_next(st->after, &id, st->after,
			sizeof(st->after)) != DB_OK) {
			send_rest(fe, st);
			break;
		}
		db_project_usage(id, &images, &aliases, &bytes);
		sample(fe, st->reqid, METRIC_IMAGES, st->after, "",
		    (uint64_t)images);
		sample(fe, st->reqid, METRIC_IMAGE_BYTES, st->after, "",
		    (uint64_t)bytes);
		sample(fe, st->reqid, METRIC_ALIASES, st->after, "",
		    (uint64_t)aliases);
		for (int k = 0; k < BUSY_MAX; k++)
			sample(fe, st->reqid, METRIC_RUNNING, st->after,
			    kinds[k], project_busy(st->after, k));
		st->projects++;
	}
	free(st);
}

void
metrics_send(uint64_t reqid)
{
	struct child *fe = proc_frontend();
	struct mstate *st;

	if (fe == NULL)
		return;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("calloc");
	st->reqid = reqid;
	st->fe_gen = fe->gen;
	metrics_continue(st, 0);
}
