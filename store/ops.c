/*
 * Operations: LXD's background tasks (an import, a delete), each in a
 * project. The store owns them; the frontend keeps a mirror from the
 * IMSG_OP_UPDATE records it gets for every change, and answers GET, /wait
 * and the events websocket from it. Finished operations are kept a minute
 * for clients that look late, then forgotten (as LXD does, if longer).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include "ipc/log.h"
#include "store/store.h"

#define OP_KEEP_SECONDS 60
#define OP_META_MAX 4

struct op {
	TAILQ_ENTRY(op) entry;
	char id[LIM_OP_ID_MAX + 1];
	char project[LIM_PROJECT_NAME_MAX + 1];
	char description[64];
	char resource[128];
	uint16_t status;
	int64_t created, updated;
	char err[LIM_ERROR_MAX + 1];
	char meta_k[OP_META_MAX][32];
	char meta_v[OP_META_MAX][128];
	uint32_t nmeta;
	time_t done_at;
};

static TAILQ_HEAD(, op) ops = TAILQ_HEAD_INITIALIZER(ops);
static struct event *ev_expire;

static void
uuid_v4(char out[LIM_OP_ID_MAX + 1])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		fatal("getrandom");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, LIM_OP_ID_MAX + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

static void
op_to_msg(const struct op *op, struct imsg_op_update *m, struct ipc_kv *kv,
    char **res)
{
	memset(m, 0, sizeof(*m));
	m->id = (char *)op->id;
	m->project = (char *)op->project;
	m->class = "task";
	m->description = (char *)op->description;
	m->status_code = op->status;
	m->created_at = op->created;
	m->updated_at = op->updated;
	m->err = (char *)op->err;
	for (uint32_t i = 0; i < op->nmeta; i++) {
		kv[i].key = (char *)op->meta_k[i];
		kv[i].value = (char *)op->meta_v[i];
	}
	m->metadata = kv;
	m->nmetadata = op->nmeta;
	if (op->resource[0]) {
		res[0] = (char *)op->resource;
		m->resources = res;
		m->nresources = 1;
	}
}

/* id 0: an event for every listener; else the reply to a request. */
static void
op_send(struct op *op, uint64_t reqid)
{
	struct child *fe = proc_frontend();
	struct imsg_op_update m;
	struct ipc_kv kv[OP_META_MAX];
	char *res[1];

	if (fe == NULL)
		return;
	op_to_msg(op, &m, kv, res);
	proc_send(fe, IMSG_OP_UPDATE, reqid, &m, -1);
}

struct op *
op_new(const char *project, const char *description, const char *resource)
{
	struct op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		fatal("calloc");
	uuid_v4(op->id);
	snprintf(op->project, sizeof(op->project), "%s", project);
	snprintf(op->description, sizeof(op->description), "%s", description);
	snprintf(
	    op->resource, sizeof(op->resource), "%s", resource ? resource : "");
	op->status = 105; /* Pending, until op_start */
	op->created = op->updated = now_ns();
	TAILQ_INSERT_TAIL(&ops, op, entry);
	log_debug("operation %s (%s) created", op->id, description);
	return op;
}

/* Pending -> Running, told to every listener. */
void
op_start(struct op *op)
{
	if (op->status != 105)
		return;
	op->status = 103;
	op->updated = now_ns();
	log_debug("operation %s started", op->id);
	op_send(op, 0);
}

void
op_set_meta(struct op *op, const char *key, const char *value)
{
	uint32_t i;

	for (i = 0; i < op->nmeta; i++)
		if (strcmp(op->meta_k[i], key) == 0)
			break;
	if (i == OP_META_MAX)
		return;
	snprintf(op->meta_k[i], sizeof(op->meta_k[i]), "%s", key);
	snprintf(op->meta_v[i], sizeof(op->meta_v[i]), "%s", value);
	if (i == op->nmeta)
		op->nmeta++;
	op->updated = now_ns();
	op_send(op, 0);
}

void
op_reply(struct op *op, uint64_t reqid)
{
	op_send(op, reqid);
}

/* Success when err is NULL, else Failure with that message. */
void
op_finish(struct op *op, const char *err)
{
	op_start(op); /* LXD's order holds even for a quick failure */
	op->status = err ? 400 : 200;
	snprintf(op->err, sizeof(op->err), "%s", err ? err : "");
	op->updated = now_ns();
	op->done_at = time(NULL);
	log_debug("operation %s: %s", op->id, err ? err : "success");
	op_send(op, 0);
}

/*
 * A new frontend learns every operation still known, a batch at a time as
 * it drains its channel (there may be thousands after a busy minute).
 */
struct resend {
	uint64_t fe_gen;
	char after[LIM_OP_ID_MAX + 1]; /* last id sent; "" at the start */
};

static void
resend_continue(void *arg, int gone)
{
	struct resend *r = arg;
	struct child *fe = proc_frontend();
	struct op *op;
	int found;

	if (gone || fe == NULL || fe->gen != r->fe_gen) {
		free(r);
		return;
	}
again:
	found = r->after[0] == '\0';
	/* Operations are appended, so "after the last one sent" is stable
	 * unless it expired meanwhile: then start over (resends are
	 * idempotent updates). */
	TAILQ_FOREACH (op, &ops, entry) {
		if (!found) {
			found = strcmp(op->id, r->after) == 0;
			continue;
		}
		if (fe->chan.qlen >= LIM_IPC_QUEUE_SOFT) {
			proc_on_drain(fe, resend_continue, r);
			return;
		}
		op_send(op, 0);
		snprintf(r->after, sizeof(r->after), "%s", op->id);
	}
	if (!found) {
		r->after[0] = '\0';
		goto again;
	}
	free(r);
}

void
ops_resend(void)
{
	struct child *fe = proc_frontend();
	struct resend *r;

	if (fe == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->fe_gen = fe->gen;
	resend_continue(r, 0);
}

static void
expire_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct op *op, *next;
	struct timeval tv = {10, 0};
	time_t now = time(NULL);

	(void)fd;
	(void)ev;
	(void)arg;
	for (op = TAILQ_FIRST(&ops); op; op = next) {
		next = TAILQ_NEXT(op, entry);
		if (op->done_at && now - op->done_at > OP_KEEP_SECONDS) {
			TAILQ_REMOVE(&ops, op, entry);
			free(op);
		}
	}
	event_add(ev_expire, &tv);
}

void
ops_init(void)
{
	ev_expire = evtimer_new(S->base, expire_cb, NULL);
	expire_cb(-1, 0, NULL);
}
