/*
 * imgd-unpacker: one process per job, started by the store for one image.
 * It gets read-only fds of the uploaded parts, validates them in one
 * streaming pass (unpacker/validate.c) inside its sandbox -- no network,
 * no file system, no exec, bounded memory and CPU -- and returns the parsed
 * metadata.yaml as typed records: META, TEMPLATE x n, DONE; or FAIL.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/child.h"
#include "unpacker/validate.h"

static const struct sandbox_rlimit unpacker_rlimits[] = {
    {RLIMIT_AS, LIM_UNPACKER_AS, "decompressors and the name index"},
    {RLIMIT_CPU, LIM_UNPACKER_CPU_SECONDS, "one image's worth of CPU"},
    {RLIMIT_NPROC, 0, "no new processes"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, 0, "validation writes no files"},
    {RLIMIT_NOFILE, 16, "the store channel and two image fds"},
};

static const struct sc_group *const unpacker_groups[] = {
    &sc_base, &sc_ipc, &sc_selfcheck, &sc_archive_read, NULL};

/* A fresh network namespace: no network at all, even if the filter
 * allowed a socket. */
static const struct sandbox_spec unpacker_spec = {
    .name = "unpacker",
    .kind = PROC_UNPACKER,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
    .rlimits = unpacker_rlimits,
    .nrlimits = sizeof(unpacker_rlimits) / sizeof(unpacker_rlimits[0]),
    .groups = unpacker_groups,
};

static struct ipc_chan chan;

static void
send_or_die(uint16_t type, const void *msg)
{
	if (ipc_send(&chan, type, 1, msg, -1) == -1)
		fatalx("%s: %s", ipc_typename(type), chan.err);
}

static void __attribute__((noreturn)) fail(const char *msg)
{
	struct imsg_unpack_fail f = {.message = (char *)msg};

	send_or_die(IMSG_UNPACK_FAIL, &f);
	exit(0);
}

/* The store hands over one fd per part, in order. */
static void
receive_inputs(int fds[2])
{
	struct ipc_msg m;
	int nparts = 0, got = 0;

	fds[0] = fds[1] = -1;
	do {
		if (ipc_recv(&chan, &m) != 1)
			fatalx("input: %s", chan.err);
		if (m.type != IMSG_UNPACK_INPUT)
			fatalx("unexpected %s", ipc_typename(m.type));
		struct imsg_unpack_input *in = &m.m.unpack_input;
		int want = in->nparts == 1
			       ? PART_UNIFIED
			       : (got == 0 ? PART_METADATA : PART_ROOTFS);
		if ((nparts && in->nparts != nparts) || in->part != want)
			fatalx("inputs out of order");
		nparts = in->nparts;
		fds[got++] = m.fd;
	} while (got < nparts);
}

static void
kv_view(struct img_kv *kv, size_t n, struct ipc_kv *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].key = kv[i].key;
		out[i].value = kv[i].value;
	}
}

/* The verdict's first half: the metadata, then each template. */
static void
send_meta(const struct img_meta *meta)
{
	static struct ipc_kv kv[LIM_META_PROPERTIES_MAX];
	struct imsg_unpack_meta um;
	char err[LIM_ERROR_MAX + 1];

	if (meta->nprops > LIM_META_PROPERTIES_MAX)
		fail("metadata.yaml: too many properties");
	memset(&um, 0, sizeof(um));
	um.architecture = (char *)meta->architecture;
	um.creation_date = meta->creation_date;
	um.expiry_date = meta->expiry_date;
	kv_view(meta->props, meta->nprops, kv);
	um.properties = kv;
	um.nproperties = (uint32_t)meta->nprops;
	um.ntemplates = (uint32_t)meta->ntemplates;
	if (ipc_send(&chan, IMSG_UNPACK_META, 1, &um, -1) == -1) {
		snprintf(err, sizeof(err),
		    "metadata.yaml: cannot be passed on (%s)", chan.err);
		fail(err);
	}
	for (size_t i = 0; i < meta->ntemplates; i++) {
		const struct img_template *t = &meta->templates[i];
		struct imsg_unpack_template ut = {
		    .path = t->path,
		    .template = t->template,
		    .when = (uint8_t)t->when,
		    .create_only = (uint8_t)(t->create_only != 0),
		    .properties = kv,
		    .nproperties = (uint32_t)t->nprops,
		};

		if (t->nprops > LIM_META_PROPERTIES_MAX)
			fail("metadata.yaml: a template has too many "
			     "properties");
		kv_view(t->props, t->nprops, kv);
		if (ipc_send(&chan, IMSG_UNPACK_TEMPLATE, 1, &ut, -1) == -1) {
			snprintf(err, sizeof(err),
			    "metadata.yaml: template %s cannot be passed on "
			    "(%s)",
			    t->path, chan.err);
			fail(err);
		}
	}
}

int
main(int argc, char **argv)
{
	struct img_meta meta;
	struct img_report rep;
	struct imsg_unpack_done ud;
	const char *probe;
	char err[LIM_ERROR_MAX + 1];
	int fds[2];

	child_init(&unpacker_spec, argc, argv);
	/* Before the chroot: the locale's files are outside it. */
	if (img_locale_init(err, sizeof(err)) == -1)
		fatalx("%s", err);
	child_enter(&unpacker_spec, &chan, &probe);
	/* Tests: a probe right after READY, or with "input:" once the store
	 * has handed the image over (a death while reading it). */
	if (probe && strncmp(probe, "input:", 6) != 0)
		sandbox_probe(probe);
	chan.blocking = 1;
	receive_inputs(fds);
	if (probe && strncmp(probe, "input:", 6) == 0)
		sandbox_probe(probe + 6);
	if (img_validate(fds[0], fds[1], &meta, &rep, err, sizeof(err)) == -1)
		fail(err);
	send_meta(&meta);
	memset(&ud, 0, sizeof(ud));
	ud.compression0 = rep.part[0].compression;
	ud.compression1 = fds[1] != -1 ? rep.part[1].compression : "";
	ud.entries = rep.part[0].entries + rep.part[1].entries;
	ud.unpacked_bytes =
	    rep.part[0].unpacked_bytes + rep.part[1].unpacked_bytes;
	ud.devices = rep.part[0].devices + rep.part[1].devices;
	send_or_die(IMSG_UNPACK_DONE, &ud);
	img_meta_free(&meta);
	return 0;
}
