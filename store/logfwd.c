/*
 * The store's log lines, and those it relays from its children, forwarded to
 * the frontend for the events websocket (LXD's "logging" events; lxc monitor
 * --type=logging).
 *
 * Best effort and never in the way: a line is queued in a bounded ring
 * and sent from the event loop (never from inside whatever code logged
 * it), only while the frontend's channel is below its soft bound. Lines
 * that do not fit are dropped and counted, and the count is sent as a
 * line of its own once there is room again. stderr always has every line.
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/log.h"
#include "store/store.h"

static struct {
	uint8_t level;
	char process[16];
	char text[LIM_LOG_LINE_MAX];
} q[LIM_LOG_EVENTS_QUEUE];
static unsigned qhead, qlen;
static unsigned long long dropped;
static struct event *ev_flush;
static int flushing; /* what sending logs stays on stderr */
static int waiting;  /* for the channel to drain, to send the count */

static void flush_cb(evutil_socket_t fd, short ev, void *arg);

static void
drained(void *arg, int gone)
{
	(void)arg;
	(void)gone;
	waiting = 0;
	if (ev_flush)
		event_active(ev_flush, EV_TIMEOUT, 0);
}

static void
flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *fe = proc_frontend();
	struct imsg_log m = {.process = "store"};
	char note[96];

	(void)fd;
	(void)ev;
	(void)arg;
	flushing = 1;
	while (qlen > 0) {
		if (fe == NULL || fe->chan.qlen >= LIM_IPC_QUEUE_SOFT) {
			dropped += qlen; /* nobody to take them now */
			qlen = 0;
			break;
		}
		m.level = q[qhead].level;
		m.process = q[qhead].process;
		m.message = q[qhead].text;
		proc_send(fe, IMSG_LOG, 0, &m, -1);
		qhead = (qhead + 1) % LIM_LOG_EVENTS_QUEUE;
		qlen--;
	}
	if (dropped && fe != NULL && fe->chan.qlen < LIM_IPC_QUEUE_SOFT) {
		snprintf(note, sizeof(note),
		    "%llu log lines were not sent to event listeners (see the "
		    "daemon's log)",
		    dropped);
		m.level = LOGLEVEL_WARNING;
		m.process = "store";
		m.message = note;
		if (proc_send(fe, IMSG_LOG, 0, &m, -1) == 0)
			dropped = 0;
	} else if (dropped && fe != NULL && !waiting) {
		waiting = 1; /* say so once the frontend reads again */
		proc_on_drain(fe, drained, NULL);
	}
	flushing = 0;
}

static void
enqueue(int level, const char *process, const char *message, size_t len)
{
	unsigned slot;

	if (ev_flush == NULL || flushing || proc_frontend() == NULL)
		return; /* no one could be listening */
	if (len == 0)
		return;
	if (qlen == LIM_LOG_EVENTS_QUEUE) {
		dropped++;
		return;
	}
	slot = (qhead + qlen) % LIM_LOG_EVENTS_QUEUE;
	q[slot].level = (uint8_t)level;
	snprintf(q[slot].process, sizeof(q[slot].process), "%s", process);
	if (len >= sizeof(q[slot].text))
		len = sizeof(q[slot].text) - 1;
	memcpy(q[slot].text, message, len);
	q[slot].text[len] = '\0';
	utf8_sanitize(q[slot].text); /* a Latin-1 name in a message */
	qlen++;
	event_active(ev_flush, EV_TIMEOUT, 0);
}

static void
hook(int level, const char *message)
{
	enqueue(level, "store", message, strlen(message));
}

/*
 * A child's line as the store relays it, after its "TIME TITLE[PID]: "
 * prefix was checked: "LEVEL: message" (no newline). Unformatted output
 * (formatted 0) is passed on as a warning, as it is.
 */
void
logfwd_child(const char *title, const char *text, size_t len, int formatted)
{
	static const struct {
		const char *word;
		int level;
	} levels[] = {{"debug: ", LOGLEVEL_DEBUG}, {"info: ", LOGLEVEL_INFO},
	    {"warning: ", LOGLEVEL_WARNING}, {"fatal: ", LOGLEVEL_ERROR}};

	if (formatted)
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]);
		     i++) {
			size_t n = strlen(levels[i].word);
			if (len >= n && memcmp(text, levels[i].word, n) == 0) {
				enqueue(
				    levels[i].level, title, text + n, len - n);
				return;
			}
		}
	enqueue(LOGLEVEL_WARNING, title, text, len);
}

void
logfwd_init(void)
{
	if ((ev_flush = event_new(S->base, -1, 0, flush_cb, NULL)) == NULL)
		fatalx("event_new");
	log_set_hook(hook);
}

void
logfwd_stop(void)
{
	log_set_hook(NULL);
	if (ev_flush)
		event_free(ev_flush);
	ev_flush = NULL;
}
