/*
 * imgd-unpacker: one process per job, started by the store for one image.
 * It gets read-only fds of the uploaded parts, validates them in one
 * streaming pass (unpacker/validate.c) inside its sandbox -- no network,
 * no file system, no exec, bounded memory and CPU -- and returns the parsed
 * metadata.yaml as typed records: META, TEMPLATE x n, DONE; or FAIL.
 * Parts marked follow are still arriving: they are read only as far as
 * the store's UNPACK_GROWN words say it has hashed, to the final one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/child.h"
#include "unpacker/extract.h"
#include "unpacker/pack.h"
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

/* Unpack mode (--mode extract): the same validation with a writer behind
 * it, chrooted into the target, with the capabilities ownership needs
 * (given by the store in --caps) or as root of a --shift user namespace. */
static const struct sandbox_rlimit extract_rlimits[] = {
    {RLIMIT_AS, LIM_UNPACKER_AS, "decompressors, the name index, templates"},
    {RLIMIT_CPU, LIM_UNPACKER_CPU_SECONDS, "one image's worth of CPU"},
    {RLIMIT_NPROC, 0, "no new processes"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, LIM_UNPACKED_ABS_MAX, "no file larger than an image"},
    {RLIMIT_NOFILE, 32, "the channel, two image fds, a few directories"},
};

static const struct sc_group *const extract_groups[] = {&sc_base, &sc_ipc,
    &sc_selfcheck, &sc_archive_read, &sc_archive_write, NULL};
static const struct sc_group *const extract_dev_groups[] = {&sc_base, &sc_ipc,
    &sc_selfcheck, &sc_archive_read, &sc_archive_write, &sc_mknod, NULL};

static struct sandbox_spec extract_spec = {
    .name = "unpacker",
    .kind = PROC_UNPACKER,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
    .rlimits = extract_rlimits,
    .nrlimits = sizeof(extract_rlimits) / sizeof(extract_rlimits[0]),
    .groups = extract_groups,
};

/* Pack mode (--mode pack, publish): chrooted into the directory, reading
 * it with CAP_DAC_READ_SEARCH alone, writing only to the pipes given. */
static const struct sandbox_rlimit pack_rlimits[] = {
    {RLIMIT_AS, LIM_UNPACKER_AS, "compressors and the hard-link index"},
    {RLIMIT_CPU, LIM_UNPACKER_CPU_SECONDS, "one image's worth of CPU"},
    {RLIMIT_NPROC, 0, "no new processes"},
    {RLIMIT_CORE, 0, "no core files"},
    {RLIMIT_FSIZE, 0, "it writes no files, only the pipes"},
    {RLIMIT_NOFILE, 2 * LIM_PATH_DEPTH_MAX + 16,
	"a directory fd per level of the tree, the channel, the pipes"},
};

static const struct sc_group *const pack_groups[] = {
    &sc_base, &sc_ipc, &sc_selfcheck, &sc_archive_read, &sc_tree_read, NULL};

static const struct sandbox_spec pack_spec = {
    .name = "unpacker",
    .kind = PROC_UNPACKER,
    .ns_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
    .rlimits = pack_rlimits,
    .nrlimits = sizeof(pack_rlimits) / sizeof(pack_rlimits[0]),
    .groups = pack_groups,
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
	char line[LIM_ERROR_MAX + 1];
	struct imsg_unpack_fail f = {.message = line, .nospace = img_nospace};

	/* One line, whatever a template's error quoted. */
	snprintf(line, sizeof(line), "%s", msg[0] ? msg : "failed");
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';

	send_or_die(IMSG_UNPACK_FAIL, &f);
	exit(0);
}

/* The store hands over one fd per part, in order; 1 if they are still
 * arriving (all of them, or none). */
static int
receive_inputs(int fds[2])
{
	struct ipc_msg m;
	int nparts = 0, got = 0, follow = 0;

	fds[0] = fds[1] = -1;
	do {
		int rc = ipc_recv(&chan, &m);

		if (rc != 1 && chan.eof)
			exit(0); /* the store dropped the job before it began */
		if (rc != 1)
			fatalx("input: %s", chan.err);
		if (m.type != IMSG_UNPACK_INPUT)
			fatalx("unexpected %s", ipc_typename(m.type));
		struct imsg_unpack_input *in = &m.m.unpack_input;
		int want = in->nparts == 1
			       ? PART_UNIFIED
			       : (got == 0 ? PART_METADATA : PART_ROOTFS);
		if ((nparts && in->nparts != nparts) || in->part != want ||
		    (got && in->follow != follow))
			fatalx("inputs out of order");
		nparts = in->nparts;
		follow = in->follow;
		fds[got++] = m.fd;
	} while (got < nparts);
	return follow;
}

/* The store's next word on how far the parts are hashed. Its words only
 * ever raise what may be read; anything else is a broken store. */
static void
feed_next(void *arg, struct img_feed *f)
{
	const int nparts = *(const int *)arg;
	struct ipc_msg m;

	int rc = ipc_recv(&chan, &m);

	if (rc != 1 && chan.eof)
		exit(0); /* the store dropped the upload, and this job */
	if (rc != 1)
		fatalx("feed: %s", chan.err);
	if (m.type != IMSG_UNPACK_GROWN)
		fatalx("unexpected %s", ipc_typename(m.type));
	const struct imsg_unpack_grown *g = &m.m.unpack_grown;
	if (g->part >= nparts || f->final[g->part] ||
	    g->avail < f->avail[g->part])
		fatalx("feed out of order");
	f->avail[g->part] = g->avail;
	f->final[g->part] = g->final;
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

static void __attribute__((noreturn)) early_verdict(int nparts)
{
	struct img_meta meta = {
	    .architecture = "x86_64", .creation_date = 1700000000};
	struct imsg_unpack_done ud = {
	    .compression0 = "none", .compression1 = nparts == 2 ? "none" : ""};

	send_meta(&meta);
	send_or_die(IMSG_UNPACK_DONE, &ud);
	/* Held until the store has read the lie (and ends this process):
	 * an exit now could reach it first, as a plain death. */
	for (;;) {
		struct ipc_msg m;

		if (ipc_recv(&chan, &m) == -1 && chan.eof)
			exit(0);
	}
}

static const char *
arg_mode(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--mode") == 0)
			return argv[i + 1];
	return NULL;
}

static void
send_written(const struct img_xresult *xr, const struct img_render_report *rr)
{
	struct imsg_unpack_written w = {
	    .files = xr->files,
	    .dirs = xr->dirs,
	    .symlinks = xr->symlinks,
	    .hardlinks = xr->hardlinks,
	    .devices = xr->devices,
	    .bytes = xr->bytes,
	    .xattrs = xr->xattrs,
	    .xattrs_skipped = xr->xattrs_skipped,
	    .rendered = rr->rendered,
	    .skipped = rr->skipped,
	};

	send_or_die(IMSG_UNPACK_WRITTEN, &w);
}

/* The job's parameters, then the inputs; then unpack, render, sync. */
static int
extract_main(const char *probe, struct img_meta *meta, struct img_report *rep)
{
	struct img_kvc config[LIM_UNPACK_CONFIG_MAX];
	struct img_render_args ra;
	struct img_render_report rr;
	struct img_xresult xr;
	struct img_limits lim;
	struct ipc_msg m;
	char err[LIM_ERROR_MAX + 1], name[LIM_UNPACK_TARGET_MAX + 1];
	unsigned flags;
	int fds[2], root;

	if (ipc_recv(&chan, &m) != 1)
		fatalx("job: %s", chan.err);
	if (m.type != IMSG_UNPACK_EXTRACT)
		fatalx("unexpected %s", ipc_typename(m.type));
	struct imsg_unpack_extract *x = &m.m.unpack_extract;
	memset(&ra, 0, sizeof(ra));
	ra.trigger = x->trigger;
	snprintf(name, sizeof(name), "%s", x->name);
	ra.name = name;
	ra.privileged = x->privileged;
	ra.root_uid = x->root_uid;
	ra.root_gid = x->root_gid;
	flags = (x->flags & UNPACK_X_XATTRS ? IMG_X_XATTRS : 0) |
		(x->flags & UNPACK_X_DEVICES ? IMG_X_DEVICES : 0);
	for (uint32_t i = 0; i < x->nconfig; i++) {
		config[i].key = strdup(x->config[i].key);
		config[i].value = strdup(x->config[i].value);
		if (!config[i].key || !config[i].value)
			fatalx("out of memory");
	}
	ra.config = config;
	ra.nconfig = x->nconfig;
	if (receive_inputs(fds))
		fatalx("an unpack reads whole images only");
	if (probe && strncmp(probe, "input:", 6) == 0)
		sandbox_probe(probe + 6);
	if ((root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("open /");
	img_limits_default(&lim);
	if (img_extract(fds[0], fds[1], &lim, root, flags, meta, rep, &xr, err,
		sizeof(err)) == -1)
		fail(err);
	ra.architecture = meta->architecture;
	if (img_render(root, meta, &xr, &ra, &rr, err, sizeof(err)) == -1)
		fail(err);
	/* Durable before it is reported done: one sync of the target. */
	if (syncfs(root) == -1) {
		img_note_errno(errno);
		fail("cannot sync the target");
	}
	send_meta(meta);
	send_written(&xr, &rr);
	img_xresult_free(&xr);
	return 0;
}

/* The job, its outputs; then the tree packed into them. */
static void __attribute__((noreturn)) pack_main(void)
{
	struct imsg_unpack_packed done;
	struct pack_report rep;
	struct pack_opts o;
	struct ipc_msg m;
	char err[LIM_ERROR_MAX + 1];
	int out[2] = {-1, -1}, root;

	if (ipc_recv(&chan, &m) != 1 || m.type != IMSG_UNPACK_PACK)
		fatalx("job: %s", chan.err[0] ? chan.err : "not a pack job");
	memset(&o, 0, sizeof(o));
	o.comp = (enum pack_comp)m.m.unpack_pack.comp;
	o.split = m.m.unpack_pack.split;
	o.dir_is_rootfs = m.m.unpack_pack.dir_is_rootfs;
	o.xattrs = m.m.unpack_pack.xattrs;
	o.meta_mtime = m.m.unpack_pack.meta_mtime;
	o.close_out0 = 1; /* the store reads to its end first */
	if (m.m.unpack_pack.meta_yaml[0]) {
		o.meta_len = strlen(m.m.unpack_pack.meta_yaml);
		if ((o.meta_yaml = strdup(m.m.unpack_pack.meta_yaml)) == NULL)
			fatalx("out of memory");
	}
	for (int i = 0; i < (o.split ? 2 : 1); i++) {
		if (ipc_recv(&chan, &m) != 1 || m.type != IMSG_UNPACK_OUTPUT ||
		    m.m.unpack_output.part != i)
			fatalx("outputs out of order");
		out[i] = m.fd;
	}
	if ((root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("open /");
	memset(&rep, 0, sizeof(rep));
	if (pack_image(root, &o, out, &rep, err, sizeof(err)) == -1) {
		if (out[1] != -1)
			close(out[1]);
		fail(err);
	}
	/* The end of the image: the store reads to it. */
	if (out[1] != -1)
		close(out[1]);
	done.entries = rep.entries;
	done.bytes = rep.bytes;
	send_or_die(IMSG_UNPACK_PACKED, &done);
	exit(0);
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

	const char *mode = arg_mode(argc, argv);
	const struct sandbox_spec *spec = &unpacker_spec;
	int extract = 0;

	if (mode && strncmp(mode, "extract", 7) == 0) {
		extract = 1;
		if (strcmp(mode, "extract-dev") == 0)
			extract_spec.groups = extract_dev_groups;
		spec = &extract_spec;
	} else if (mode && strcmp(mode, "pack") == 0)
		spec = &pack_spec;
	else if (mode)
		fatalx("unknown mode %s", mode);
	child_init(spec, argc, argv);
	/* Before the chroot: the locale's files are outside it. */
	if (img_locale_init(err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* Modes exactly as in the archive; a too-big write fails, not kills. */
	umask(0);
	signal(SIGXFSZ, SIG_IGN);
	child_enter(spec, &chan, &probe);
	/* Tests: a probe right after READY, or with "input:" once the store
	 * has handed the image over (a death while reading it). */
	if (probe && strncmp(probe, "input:", 6) != 0)
		sandbox_probe(probe);
	chan.blocking = 1;
	if (spec == &pack_spec)
		pack_main();
	if (extract)
		extract_main(probe, &meta, &rep);
	else {
		int follow = receive_inputs(fds), nparts = fds[1] == -1 ? 1 : 2;
		struct img_feed feed = {.next = feed_next, .arg = &nparts};
		struct img_limits lim;

		/* Tests: a subverted unpacker's verdict on bytes the store
		 * has not hashed yet. */
		if (probe && strcmp(probe, "input:early-verdict") == 0)
			early_verdict(fds[1] == -1 ? 1 : 2);
		if (probe && strncmp(probe, "input:", 6) == 0)
			sandbox_probe(probe + 6);
		img_limits_default(&lim);
		if ((follow ? img_validate_feed(fds[0], fds[1], &lim, &feed,
				  &meta, &rep, err, sizeof(err))
			    : img_validate(fds[0], fds[1], &meta, &rep, err,
				  sizeof(err))) == -1)
			fail(err);
		send_meta(&meta);
	}
	memset(&ud, 0, sizeof(ud));
	ud.compression0 = rep.part[0].compression;
	ud.compression1 = rep.part[1].compression;
	ud.entries = rep.part[0].entries + rep.part[1].entries;
	ud.unpacked_bytes =
	    rep.part[0].unpacked_bytes + rep.part[1].unpacked_bytes;
	ud.devices = rep.part[0].devices + rep.part[1].devices;
	send_or_die(IMSG_UNPACK_DONE, &ud);
	img_meta_free(&meta);
	return 0;
}
