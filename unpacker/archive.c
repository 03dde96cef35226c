/*
 * One streaming pass over one tarball with libarchive: tar formats only,
 * only the decompressors we link (never an external program), one
 * compression layer, every entry through entry_admit(), sizes and the
 * decompression ratio bounded as the bytes come out, and metadata.yaml read
 * and parsed from the stream itself.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpacker/internal.h"

#define IO_BLOCK (64 * 1024) /* read size: what the decompressors like */
#define LIBMSG_MAX 256	     /* room for a libarchive message */
/* libarchive's private ARCHIVE_ERRNO_FILE_FORMAT on Linux: no format bid. */
#define ERRNO_FILE_FORMAT EILSEQ

struct part_io {
	int fd;
	struct part *p;
	uint64_t nread;
	/* First bytes, to name a compression libarchive failed to open. */
	unsigned char head[8];
	size_t nhead;
	unsigned char buf[IO_BLOCK];
};

static const struct filter {
	int code;
	const char *name;
	int (*enable)(struct archive *);
	const char *magic;
	size_t magiclen;
} filters[] = {
    {ARCHIVE_FILTER_GZIP, "gzip", archive_read_support_filter_gzip, "\x1f\x8b",
	2},
    {ARCHIVE_FILTER_BZIP2, "bzip2", archive_read_support_filter_bzip2, "BZh",
	3},
    {ARCHIVE_FILTER_XZ, "xz", archive_read_support_filter_xz,
	"\xfd"
	"7zXZ",
	5},
    {ARCHIVE_FILTER_LZMA, "lzma", archive_read_support_filter_lzma,
	"\x5d\x00\x00", 3},
    {ARCHIVE_FILTER_ZSTD, "zstd", archive_read_support_filter_zstd,
	"\x28\xb5\x2f\xfd", 4},
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

static la_ssize_t
io_read(struct archive *a, void *arg, const void **buf)
{
	struct part_io *io = arg;
	ssize_t n;
	size_t h;

	do
		n = read(io->fd, io->buf, sizeof(io->buf));
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		io->p->rerrno = errno;
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	for (h = 0; h < (size_t)n && io->nhead < sizeof(io->head); h++)
		io->head[io->nhead++] = io->buf[h];
	io->nread += (uint64_t)n;
	*buf = io->buf;
	return n;
}

/* Compression named by the magic bytes, for errors libarchive had first. */
static const char *
io_sniff(const struct part_io *io)
{
	size_t i;

	for (i = 0; i < NFILTERS; i++)
		if (io->nhead >= filters[i].magiclen &&
		    memcmp(io->head, filters[i].magic, filters[i].magiclen) ==
			0)
			return filters[i].name;
	return "none";
}

static const char *
filter_name(int code)
{
	size_t i;

	for (i = 0; i < NFILTERS; i++)
		if (filters[i].code == code)
			return filters[i].name;
	return code == ARCHIVE_FILTER_NONE ? "none" : "unsupported";
}

static int
part_fail_stream(
    struct vstate *vs, struct part *p, struct archive *a, const char *comp)
{
	const char *m = archive_error_string(a);
	char q[LIBMSG_MAX];

	if (p->rerrno != 0) {
		msg_setp(vs->err, vs->errlen, p->label, "cannot read: %s",
		    strerror(p->rerrno));
		return -1;
	}
	msg_quote(q, sizeof(q), m ? m : "unknown error", m ? strlen(m) : 13);
	if (strcmp(comp, "none") == 0)
		msg_setp(vs->err, vs->errlen, p->label,
		    "corrupt or truncated tar archive: %s", q);
	else
		msg_setp(vs->err, vs->errlen, p->label,
		    "corrupt or truncated %s data: %s", comp, q);
	return -1;
}

/*
 * libarchive picks the decompressor and the format when it opens, and a
 * decompression error while the format is chosen becomes "Unrecognized
 * archive format": say both, naming the compression from its magic.
 */
static int
part_fail_open(struct vstate *vs, struct part *p, struct archive *a,
    const struct part_io *io)
{
	const char *comp = io_sniff(io);

	if (p->rerrno == 0 && io->nread == 0)
		msg_setp(vs->err, vs->errlen, p->label,
		    "empty file, not a tar archive");
	else if (p->rerrno != 0 || archive_errno(a) != ERRNO_FILE_FORMAT)
		return part_fail_stream(vs, p, a, comp);
	else if (strcmp(comp, "none") == 0)
		msg_setp(vs->err, vs->errlen, p->label, "not a tar archive");
	else
		msg_setp(vs->err, vs->errlen, p->label,
		    "not a tar archive (or corrupt %s data)", comp);
	return -1;
}

static int
part_open(
    struct vstate *vs, struct part *p, struct archive *a, struct part_io *io)
{
	size_t i;
	int n;

	/* ARCHIVE_WARN here means libarchive would run an external program. */
	for (i = 0; i < NFILTERS; i++) {
		if (filters[i].enable(a) != ARCHIVE_OK) {
			msg_set(vs->err, vs->errlen,
			    "libarchive lacks built-in %s support",
			    filters[i].name);
			return -1;
		}
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
		msg_set(vs->err, vs->errlen, "libarchive lacks tar support");
		return -1;
	}
	if (archive_read_open(a, io, NULL, io_read, NULL) != ARCHIVE_OK)
		return part_fail_open(vs, p, a, io);
	n = archive_filter_count(a);
	if (n > 2) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "more than one compression layer (%s inside %s)",
		    filter_name(archive_filter_code(a, 0)),
		    filter_name(archive_filter_code(a, 1)));
		return -1;
	}
	snprintf(p->rep->compression, sizeof(p->rep->compression), "%s",
	    n == 2 ? filter_name(archive_filter_code(a, 0)) : "none");
	return 0;
}

/* Bytes out of the decompressor against bytes read from the file. */
static int
part_ratio(struct vstate *vs, struct part *p, struct archive *a)
{
	int64_t out = archive_filter_bytes(a, 0);
	int64_t in = archive_filter_bytes(a, -1);
	uint64_t max = vs->lim->ratio_max;

	if (out < 0 || in < 0 || (uint64_t)out <= vs->lim->ratio_after)
		return 0;
	if (max != 0 && (uint64_t)in > UINT64_MAX / max)
		return 0;
	if ((uint64_t)out <= (uint64_t)in * max)
		return 0;
	msg_setp(vs->err, vs->errlen, p->label,
	    "decompresses at more than %llu:1 (%lld bytes from %lld), "
	    "refusing a decompression bomb",
	    (unsigned long long)max, (long long)out, (long long)in);
	return -1;
}

static int
part_drain(struct vstate *vs, struct part *p, struct archive *a)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return part_fail_stream(vs, p, a, p->rep->compression);
		if (part_ratio(vs, p, a) == -1)
			return -1;
	}
}

static int
part_meta_parse(struct vstate *vs, struct part *p, const char *buf, size_t len)
{
	char err[LIM_ERROR_MAX];

	if (meta_parse(buf, len, &vs->meta, err, sizeof(err)) == -1) {
		msg_setp(vs->err, vs->errlen, p->label, "%s", err);
		return -1;
	}
	vs->have_meta = 1;
	return 0;
}

/* metadata.yaml, read into memory from the stream and parsed there. */
static int
part_meta(struct vstate *vs, struct part *p, struct archive *a,
    const struct tar_entry *en)
{
	const void *blk;
	size_t len;
	la_int64_t off;
	char *buf;
	int r, rc = -1;

	if (en->size > LIM_META_FILE_MAX) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "metadata.yaml is larger than %llu bytes",
		    (unsigned long long)LIM_META_FILE_MAX);
		return -1;
	}
	if ((buf = calloc(1, en->size + 1)) == NULL) {
		msg_set(vs->err, vs->errlen, "out of memory");
		return -1;
	}
	while (
	    (r = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off > en->size ||
		    len > en->size - (uint64_t)off) {
			msg_setp(vs->err, vs->errlen, p->label,
			    "metadata.yaml: data beyond its size");
			goto out;
		}
		memcpy(buf + off, blk, len);
	}
	if (r != ARCHIVE_EOF)
		part_fail_stream(vs, p, a, p->rep->compression);
	else
		rc = part_meta_parse(vs, p, buf, en->size);
out:
	free(buf);
	return rc;
}

/* Counts an admitted entry against the image's limits. */
static int
part_account(struct vstate *vs, struct part *p, const struct tar_entry *en)
{
	char q[MSG_QUOTE_MAX];

	vs->unpacked += en->size;
	p->rep->unpacked_bytes += en->size;
	if (en->type == NODE_DEVICE)
		p->rep->devices++;
	if (vs->unpacked <= vs->unpacked_max)
		return 0;
	if (vs->unpacked_max == vs->lim->unpacked_abs_max)
		msg_setp(vs->err, vs->errlen, p->label,
		    "image unpacks to more than %llu bytes (at entry \"%s\"), "
		    "the most any image may hold",
		    (unsigned long long)vs->unpacked_max,
		    msg_quote(q, sizeof(q), en->name, strlen(en->name)));
	else
		msg_setp(vs->err, vs->errlen, p->label,
		    "image unpacks to more than %llu bytes (at entry \"%s\"), "
		    "the limit for %llu compressed bytes (%llu x + %llu MiB; "
		    "sparse files count at their full size)",
		    (unsigned long long)vs->unpacked_max,
		    msg_quote(q, sizeof(q), en->name, strlen(en->name)),
		    (unsigned long long)vs->csize_total,
		    (unsigned long long)vs->lim->unpacked_factor,
		    (unsigned long long)(vs->lim->unpacked_slack >> 20));
	return -1;
}

static int
part_entries(struct vstate *vs, struct part *p, struct archive *a)
{
	struct archive_entry *ae;
	struct tar_entry en;
	int r;

	for (;;) {
		r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		/* Warnings (e.g. a name not in the locale) keep the entry. */
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return part_fail_stream(vs, p, a, p->rep->compression);
		if (part_ratio(vs, p, a) == -1)
			return -1;
		p->rep->entries++;
		if (++vs->entries > vs->lim->entries_max) {
			msg_setp(vs->err, vs->errlen, p->label,
			    "image has more than %llu entries",
			    (unsigned long long)vs->lim->entries_max);
			return -1;
		}
		if (entry_admit(p, ae, &en, vs->err, vs->errlen) == -1 ||
		    part_account(vs, p, &en) == -1)
			return -1;
		if (en.is_meta)
			r = part_meta(vs, p, a, &en);
		else
			r = part_drain(vs, p, a);
		if (r == -1)
			return -1;
	}
}

int
part_read(struct vstate *vs, struct part *p, int fd)
{
	struct archive *a;
	struct part_io *io;
	int rc = -1;

	if ((io = calloc(1, sizeof(*io))) == NULL ||
	    (a = archive_read_new()) == NULL) {
		free(io);
		msg_set(vs->err, vs->errlen, "out of memory");
		return -1;
	}
	io->fd = fd;
	io->p = p;
	if (part_open(vs, p, a, io) == 0)
		rc = part_entries(vs, p, a);
	archive_read_free(a);
	free(io);
	return rc;
}
