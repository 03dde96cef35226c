/*
 * GET /1.0/metrics, the store's part: what it holds per project, what is
 * under way, how its children ended, the audit records it wrote. Sent as
 * typed samples (IMSG_METRIC); the frontend adds its own (requests,
 * transfers) and writes the Prometheus text (frontend/metrics.c).
 */
#include <stdio.h>
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

void
metrics_send(uint64_t reqid)
{
	static const char *const kinds[BUSY_MAX] = {
	    "uploads", "copies", "unpacks"};
	struct child *fe = proc_frontend();
	struct imsg_list_end end = {0};
	char name[LIM_PROJECT_NAME_MAX + 1] = "";
	int64_t id, images, aliases, bytes;

	if (fe == NULL)
		return;
	while (db_project_next(name, &id, name, sizeof(name)) == DB_OK) {
		db_project_usage(id, &images, &aliases, &bytes);
		sample(fe, reqid, METRIC_IMAGES, name, "", (uint64_t)images);
		sample(
		    fe, reqid, METRIC_IMAGE_BYTES, name, "", (uint64_t)bytes);
		sample(fe, reqid, METRIC_ALIASES, name, "", (uint64_t)aliases);
		for (int k = 0; k < BUSY_MAX; k++)
			sample(fe, reqid, METRIC_RUNNING, name, kinds[k],
			    project_busy(name, k));
		end.count++;
	}
	for (size_t i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++) {
		if (deaths[i].process == NULL)
			break;
		for (size_t k = 0; k < NCAUSES; k++)
			sample(fe, reqid, METRIC_CHILD_DEATHS,
			    deaths[i].process, causes[k], deaths[i].n[k]);
		sample(fe, reqid, METRIC_SANDBOX_VIOLATIONS, deaths[i].process,
		    "", deaths[i].n[0]);
	}
	sample(fe, reqid, METRIC_AUDIT_RECORDS, "", "", audit_written);
	proc_send(fe, IMSG_LIST_END, reqid, &end, -1);
}
