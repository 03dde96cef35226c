/*
 * Operations: LXD's background tasks (an import, a delete), each in a
 * project. They live here only: the frontend asks for one, a list or a
 * wait (OP_*_REQ) and renders what it gets; every change also goes out as
 * an event (OP_UPDATE with id 0) that the frontend passes to websocket
 * listeners without keeping it. Finished operations are kept a minute for
 * clients that look late, then forgotten (as LXD does, if longer).
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

struct op {
	TAILQ_ENTRY(op) entry;
	char id[LIM_OP_ID_MAX + 1];
	char project[LIM_PROJECT_NAME_MAX + 1];
	char description[64];
	const char *class; /* "task", or "token" (an image secret) */
	char image[65];	   /* the image it is about, or "" */
	uint8_t state;	   /* OPS_* */
	int64_t created, updated;
	struct fault fault; /* ERR_NONE unless it failed */
	char meta_k[LIM_OP_META_MAX][32];
	char meta_v[LIM_OP_META_MAX][1024];
	uint32_t nmeta;
	time_t done_at;
};

/* A client waiting for an operation to end (GET .../wait). */
struct opwait {
	TAILQ_ENTRY(opwait) entry;
	uint64_t reqid;
	uint64_t fe_gen; /* the frontend that asked */
	struct op *op;
	struct event *timer;
};

static TAILQ_HEAD(, op) ops = TAILQ_HEAD_INITIALIZER(ops);
static TAILQ_HEAD(, opwait) waits = TAILQ_HEAD_INITIALIZER(waits);
static struct event *ev_expire;
static unsigned nwaits;

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

static void waits_answer(struct op *op);

static void
op_to_msg(const struct op *op, struct imsg_op_update *m, struct ipc_kv *kv)
{
	memset(m, 0, sizeof(*m));
	m->id = (char *)op->id;
	m->project = (char *)op->project;
	m->class = (char *)op->class;
	m->description = (char *)op->description;
	m->state = op->state;
	m->created_at = op->created;
	m->updated_at = op->updated;
	fault_to_ipc(&op->fault, &m->fault);
	for (uint32_t i = 0; i < op->nmeta; i++) {
		kv[i].key = (char *)op->meta_k[i];
		kv[i].value = (char *)op->meta_v[i];
	}
	m->metadata = kv;
	m->nmetadata = op->nmeta;
	m->image = (char *)op->image;
}

/* id 0: an event for every listener; else the reply to a request. */
static void
op_send(struct op *op, uint64_t reqid)
{
	struct child *fe = proc_frontend();
	struct imsg_op_update m;
	struct ipc_kv kv[LIM_OP_META_MAX];

	if (fe == NULL)
		return;
	op_to_msg(op, &m, kv);
	proc_send(fe, IMSG_OP_UPDATE, reqid, &m, -1);
}

struct op *
op_new(const char *project, const char *description, const char *image)
{
	struct op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		fatal("calloc");
	uuid_v4(op->id);
	snprintf(op->project, sizeof(op->project), "%s", project);
	snprintf(op->description, sizeof(op->description), "%s", description);
	snprintf(op->image, sizeof(op->image), "%s", image ? image : "");
	op->class = "task";
	op->state = OPS_PENDING; /* until op_start */
	op->created = op->updated = now_ns();
	TAILQ_INSERT_TAIL(&ops, op, entry);
	log_debug("operation %s (%s) created", op->id, description);
	return op;
}

/* Pending -> Running, told to every listener. */
void
op_start(struct op *op)
{
	if (op->state != OPS_PENDING)
		return;
	op->state = OPS_RUNNING;
	op->updated = now_ns();
	log_debug("operation %s started", op->id);
	op_send(op, 0);
}

/* Before op_reply: a token is an operation that waits to be used. */
void
op_set_token(struct op *op)
{
	op->class = "token";
}

const char *
op_id(const struct op *op)
{
	return op->id;
}

void
op_set_meta(struct op *op, const char *key, const char *value)
{
	uint32_t i;

	for (i = 0; i < op->nmeta; i++)
		if (strcmp(op->meta_k[i], key) == 0)
			break;
	if (i == LIM_OP_META_MAX)
		return;
	snprintf(op->meta_k[i], sizeof(op->meta_k[i]), "%s", key);
	snprintf(op->meta_v[i], sizeof(op->meta_v[i]), "%s", value);
	if (i == op->nmeta)
		op->nmeta++;
	op->updated = now_ns();
	op_send(op, 0);
}

/* The answer to the request that made it, and its first event. */
void
op_reply(struct op *op, uint64_t reqid)
{
	op_send(op, reqid);
	op_send(op, 0);
}

void
op_finish(struct op *op, const struct fault *f)
{
	char msg[LIM_ERROR_MAX + 128];

	op_start(op); /* LXD's order holds even for a quick failure */
	op->state = f ? OPS_FAILURE : OPS_SUCCESS;
	if (f)
		op->fault = *f;
	op->updated = now_ns();
	op->done_at = time(NULL);
	log_debug("operation %s: %s", op->id,
	    f ? fault_text(f, msg, sizeof(msg)) : "success");
	op_send(op, 0);
	waits_answer(op);
}

/* Answers a waiter: the operation as it is now, to the frontend that
 * asked (a waiter of a frontend since restarted is dropped). */
static void
wait_end(struct opwait *w)
{
	struct child *fe = proc_frontend();

	TAILQ_REMOVE(&waits, w, entry);
	nwaits--;
	if (fe != NULL && fe->gen == w->fe_gen)
		op_send(w->op, w->reqid);
	event_free(w->timer);
	free(w);
}

static void
wait_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	wait_end(arg);
}

static void
waits_answer(struct op *op)
{
	struct opwait *w, *next;

	for (w = TAILQ_FIRST(&waits); w; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->op == op)
			wait_end(w);
	}
}

static struct op *
op_find(const char *project, const char *id)
{
	struct op *op;

	TAILQ_FOREACH (op, &ops, entry)
		if (strcmp(op->id, id) == 0 &&
		    strcmp(op->project, project) == 0)
			return op;
	return NULL;
}

/*
 * A project's operations, a batch at a time as the frontend drains its
 * channel (there may be thousands after a busy minute).
 */
struct oplist {
	uint64_t reqid, fe_gen;
	char project[LIM_PROJECT_NAME_MAX + 1];
	char after[LIM_OP_ID_MAX + 1]; /* last id sent; "" at the start */
	uint32_t n;
};

static void
list_continue(void *arg, int gone)
{
	struct oplist *l = arg;
	struct child *fe = proc_frontend();
	struct imsg_list_end end;
	struct op *op;
	int found;

	if (gone || fe == NULL || fe->gen != l->fe_gen) {
		free(l);
		return;
	}
	/* Operations are appended, so "after the last one sent" is stable
	 * unless that one expired meanwhile: then the list ends there. */
	found = l->after[0] == '\0';
	TAILQ_FOREACH (op, &ops, entry) {
		if (!found) {
			found = strcmp(op->id, l->after) == 0;
			continue;
		}
		if (strcmp(op->project, l->project) != 0)
			continue;
		if (fe->chan.qlen >= LIM_IPC_QUEUE_SOFT) {
			proc_on_drain(fe, list_continue, l);
			return;
		}
		op_send(op, l->reqid);
		snprintf(l->after, sizeof(l->after), "%s", op->id);
		l->n++;
	}
	end.count = l->n;
	proc_send(fe, IMSG_LIST_END, l->reqid, &end, -1);
	free(l);
}

void
ops_request(uint64_t reqid, uint16_t type, const struct imsg_op_req *r)
{
	struct child *fe = proc_frontend();
	struct op *op = NULL;

	if (fe == NULL)
		return;
	if (type == IMSG_OP_LIST_REQ) {
		struct oplist *l = calloc(1, sizeof(*l));
		if (l == NULL)
			fatal("calloc");
		l->reqid = reqid;
		l->fe_gen = fe->gen;
		snprintf(l->project, sizeof(l->project), "%s", r->project);
		list_continue(l, 0);
		return;
	}
	if ((op = op_find(r->project, r->id)) == NULL) {
		api_refuse(reqid, ERR_NOT_FOUND, RES_OPERATION, r->id);
		return;
	}
	if (type == IMSG_OP_GET_REQ || op->done_at || r->timeout == 0) {
		op_send(op, reqid);
		return;
	}
	if (nwaits >= LIM_OP_WAITS_MAX) {
		api_refuse(reqid, ERR_BUSY, RES_OPERATION, NULL);
		return;
	}
	struct opwait *w = calloc(1, sizeof(*w));
	struct timeval tv = {r->timeout < 0 || r->timeout > LIM_OP_WAIT_SECONDS
				 ? LIM_OP_WAIT_SECONDS
				 : r->timeout,
	    0};
	if (w == NULL)
		fatal("calloc");
	w->reqid = reqid;
	w->fe_gen = fe->gen;
	w->op = op;
	w->timer = evtimer_new(S->base, wait_timeout_cb, w);
	event_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&waits, w, entry);
	nwaits++;
}

/* A new frontend: the waits of the old one can no longer be answered. */
void
ops_frontend_gone(void)
{
	while (!TAILQ_EMPTY(&waits)) {
		struct opwait *w = TAILQ_FIRST(&waits);
		TAILQ_REMOVE(&waits, w, entry);
		event_free(w->timer);
		free(w);
	}
	nwaits = 0;
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
		if (op->done_at && now - op->done_at > LIM_OP_KEEP_SECONDS) {
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
