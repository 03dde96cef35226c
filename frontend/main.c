/*
 * imgd-frontend: started by the store, sandboxed before it reads a byte
 * from anyone. It gets its listening sockets from the store (IMSG_LISTEN),
 * never opens a file, and cannot make outbound connections (own network
 * namespace).
 */
#include <event2/event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "ipc/log.h"
#include "policy/child.h"

struct event_base *fe_base;
struct ipc_chan fe_chan;
struct server_info_view fe_info;

static struct event *ev_chan, *ev_chan_write;
static uint64_t next_reqid = 1;

static const struct sandbox_rlimit fe_rlimits[] = {
    {RLIMIT_NPROC, 0, "no new processes"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, 0, "writes no files"},
    {RLIMIT_NOFILE, 4096, "client sockets, upload pipes, export fds"},
    /* Lists are streamed and operations are the store's (it was 2 GiB
     * while lists were built whole): what is left is per connection,
     * 256 KiB of input and at most 1 MiB of export or 4 MiB of events
     * queued. A guard against a runaway, not the sum of every limit. */
    {RLIMIT_AS, 1 * GiB, "bounds a runaway request"},
};

static const struct sc_group *const fe_groups[] = {
    &sc_base, &sc_ipc, &sc_selfcheck, &sc_events, &sc_server, &sc_pipes, NULL};

/* The listening sockets still work in a fresh network namespace; nothing
 * else network-wise does. */
static const struct sandbox_spec fe_spec = {
    .name = "frontend",
    .kind = PROC_FRONTEND,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
    .rlimits = fe_rlimits,
    .nrlimits = sizeof(fe_rlimits) / sizeof(fe_rlimits[0]),
    .groups = fe_groups,
};

void
store_flush(void)
{
	int rc = ipc_flush(&fe_chan);

	if (rc == -1)
		fatalx("%s", fe_chan.err);
	if (rc == 1)
		event_add(ev_chan_write, NULL);
}

static void
chan_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	store_flush();
}

/* A message for an existing request id (upload parts and ends). */
int
store_send_id(uint16_t type, uint64_t id, const void *msg, int fd)
{
	if (ipc_send(&fe_chan, type, id, msg, fd) == -1) {
		log_warnx("to store: %s", fe_chan.err);
		return -1;
	}
	store_flush();
	return 0;
}

int
store_send(uint16_t type, const void *msg, int fd, uint64_t *reqid)
{
	uint64_t id = next_reqid++;

	if (ipc_send(&fe_chan, type, id, msg, fd) == -1) {
		log_warnx("to store: %s", fe_chan.err);
		return -1;
	}
	if (reqid)
		*reqid = id;
	store_flush();
	return 0;
}

static void
server_info(struct imsg_server_info *si)
{
	snprintf(fe_info.version, sizeof(fe_info.version), "%s", si->version);
	snprintf(fe_info.server_name, sizeof(fe_info.server_name), "%s",
	    si->server_name);
	fe_info.conns_per_client = si->conns_per_client;
	fe_info.header_timeout = si->header_timeout;
	fe_info.idle_timeout = si->idle_timeout;
	fe_info.json_max = si->json_max;
	fe_info.json_depth = si->json_depth;
	http_limits.line_max = si->line_max;
	http_limits.headers_total = si->headers_max;
	http_limits.fields = si->header_fields;
	fe_info.narchs = 0;
	for (uint32_t i = 0; i < si->narchitectures && i < 8; i++)
		snprintf(fe_info.archs[fe_info.narchs++],
		    sizeof(fe_info.archs[0]), "%s", si->architectures[i]);
}

static void
dispatch(struct ipc_msg *m)
{
	struct conn *c;

	switch (m->type) {
	case IMSG_LISTEN:
		conn_listen(m->fd, m->m.listen.id, m->m.listen.kind);
		if (m->m.listen.kind == LISTEN_HTTPS)
			snprintf(fe_info.https_address,
			    sizeof(fe_info.https_address), "%s",
			    m->m.listen.name);
		m->fd = -1;
		return;
	case IMSG_TLS_IDENTITY:
		tls_identity(m->m.tls_identity.part, m->fd);
		return;
	case IMSG_SERVER_INFO:
		server_info(&m->m.server_info);
		return;
	case IMSG_PING:
		store_send(IMSG_PONG, &m->m.ping, -1, NULL);
		return;
	case IMSG_LIFECYCLE:
		events_lifecycle(&m->m.lifecycle);
		return;
	case IMSG_LOG:
		events_logging(&m->m.log);
		return;
	case IMSG_EVENTS_CLOSE:
		events_close_all(m->m.events_close.reason);
		return;
	case IMSG_OP_UPDATE:
		if (m->id == 0) { /* a change: an event */
			events_operation(&m->m.op_update);
			return;
		}
		break;
	default:
		break;
	}
	/* An answer to a request: its connection may be gone already, but
	 * a request never made means the store and this process disagree. */
	if (m->id == 0 || m->id >= next_reqid)
		fatalx("BUG: the store sent %s for request %llu, which this "
		       "frontend never made",
		    ipc_typename(m->type), (unsigned long long)m->id);
	if ((c = conn_by_reqid(m->id)) != NULL)
		route_store_reply(c, m);
}

static void
chan_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_msg m;

	(void)fd;
	(void)ev;
	(void)arg;
	for (;;) {
		int rc = ipc_recv(&fe_chan, &m);

		if (rc == 0)
			return;
		/* A bad record from the store, or the store gone: stop. */
		if (rc == -1)
			fatalx("store channel: %s", fe_chan.err);
		dispatch(&m);
		if (m.fd != -1)
			close(m.fd);
	}
}

int
main(int argc, char **argv)
{
	struct utsname u;
	const char *probe;

	child_init(&fe_spec, argc, argv);
	/* What the sandbox will not let us get later. */
	if ((fe_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	uname(&u);
	snprintf(fe_info.kernel, sizeof(fe_info.kernel), "%s", u.sysname);
	snprintf(fe_info.kernel_version, sizeof(fe_info.kernel_version), "%s",
	    u.release);
	snprintf(fe_info.machine, sizeof(fe_info.machine), "%s", u.machine);
	fe_info.pid = getppid();
	fe_info.conns_per_client = LIM_HTTP_CONNS_PER_CLIENT;
	fe_info.header_timeout = LIM_HTTP_HEADER_TIMEOUT;
	fe_info.idle_timeout = LIM_HTTP_IDLE_TIMEOUT;
	fe_info.json_max = LIM_HTTP_JSON_MAX;
	fe_info.json_depth = LIM_HTTP_JSON_DEPTH;
	/* jansson seeds its hash from /dev/urandom on first use, and OpenSSL
	 * initialises itself (config, providers) on its first digest. */
	json_object_seed(0);
	tls_preinit();
	{
		char acc[WS_ACCEPT_LEN + 1];
		if (ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc) == -1)
			fatalx("websocket self-test");
	}

	child_enter(&fe_spec, &fe_chan, &probe);
	/* Never block on the store: a full channel waits in the queue. */
	evutil_make_socket_nonblocking(fe_chan.fd);
	if (probe)
		sandbox_probe(probe);
	ev_chan =
	    event_new(fe_base, fe_chan.fd, EV_READ | EV_PERSIST, chan_cb, NULL);
	ev_chan_write =
	    event_new(fe_base, fe_chan.fd, EV_WRITE, chan_write_cb, NULL);
	event_add(ev_chan, NULL);
	event_base_dispatch(fe_base);
	return 0;
}
