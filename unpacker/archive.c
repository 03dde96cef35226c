/*
 * One streaming pass over one tarball with libarchive, in two stages: the
 * stream stage (only the decompressors we link, never an external program,
 * one compression layer, libarchive's "raw" format) hands the decompressed
 * bytes to the tar stage (tar formats only, no filters), so that each error
 * is named by the stage it came from, and what lies after the end of the
 * tar archive -- covered by the fingerprint, seen by no other check -- is
 * counted: only zero padding may follow it. Every entry goes through
 * entry_admit(), sizes and the decompression ratio are bounded as the bytes
 * come out, and metadata.yaml is read and parsed from the stream itself.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpacker/internal.h"

#define IO_BLOCK (64 * 1024)  /* read size: what the decompressors like */
#define LIBMSG_MAX 256	      /* room for a libarchive message */
#define HEAD_MAX 64	      /* first bytes kept: magic, xz block header */
#define SNIFF_AHEAD (4 << 20) /* > one bzip2 block, to find its damage */
/* libarchive's private ARCHIVE_ERRNO_FILE_FORMAT on Linux: no format bid. */
#define ERRNO_FILE_FORMAT EILSEQ

struct part_io {
	int fd;
	struct vstate *vs;
	struct part *p;
	uint64_t nread;
	/* First bytes: the compression's magic and dictionary size. */
	unsigned char head[HEAD_MAX];
	size_t nhead;
	uint64_t dict; /* xz/lzma dictionary the stream asks for, or 0 */
	struct archive *stream; /* decompression stage */
	struct archive *tar;	/* tar stage, fed by stream_read() */
	int stream_failed;	/* the tar stage failed because stream did */
	uint64_t out;		/* decompressed bytes handed to the tar stage */
	uint64_t data_end;	/* just past the last non-zero of them */
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

/* The dictionary an xz (first block's LZMA2 filter) or lzma stream needs. */
static uint64_t
io_dict(const struct part_io *io)
{
	const unsigned char *h = io->head;
	size_t n = io->nhead, pos, end, f, nf;
	uint64_t id, psize;

	if (n >= 5 && strcmp(io_sniff(io), "lzma") == 0)
		return (uint64_t)h[1] | (uint64_t)h[2] << 8 |
		       (uint64_t)h[3] << 16 | (uint64_t)h[4] << 24;
	if (n < 14 || strcmp(io_sniff(io), "xz") != 0 || h[12] == 0)
		return 0;
	end = 12 + ((size_t)h[12] + 1) * 4;
	nf = (h[13] & 3) + 1;
	pos = 14;
	/* Skip the optional sizes: VLIs of up to 9 bytes. */
	for (int bit = 0x40; bit <= 0x80; bit <<= 1)
		if (h[13] & bit)
			while (pos < n && pos < end && (h[pos++] & 0x80))
				;
	for (f = 0; f < nf && pos + 2 < n && pos + 2 < end; f++) {
		id = h[pos++];
		psize = h[pos++];
		if (id == 0x21 && psize == 1 && pos < n) {
			if (h[pos] > 40)
				return 0;
			if (h[pos] == 40)
				return UINT32_MAX;
			return (uint64_t)(2 | (h[pos] & 1))
			       << (h[pos] / 2 + 11);
		}
		pos += psize;
	}
	return 0;
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

static la_ssize_t
io_read(struct archive *a, void *arg, const void **buf)
{
	struct part_io *io = arg;
	ssize_t n;
	size_t h;

	n = part_fd_read(io->vs, io->p, io->fd, io->buf, sizeof(io->buf));
	if (n == -1) {
		io->p->rerrno = errno;
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	for (h = 0; h < (size_t)n && io->nhead < sizeof(io->head); h++)
		io->head[io->nhead++] = io->buf[h];
	/* Refuse a dictionary before liblzma tries to allocate it. */
	if (io->nread == 0 && (io->dict = io_dict(io)) > LIM_XZ_DICT_MAX) {
		archive_set_error(a, ENOMEM, "dictionary too large");
		return -1;
	}
	io->nread += (uint64_t)n;
	*buf = io->buf;
	return n;
}

/* Notes where the last non-zero byte handed to the tar stage lies. */
static void
io_note(struct part_io *io, const unsigned char *b, size_t len)
{
	size_t i = len;

	while (i > 0 && b[i - 1] == 0)
		i--;
	if (i > 0)
		io->data_end = io->out + i;
	io->out += len;
}

/* The tar stage's input: the stream stage's decompressed blocks. */
static la_ssize_t
stream_read(struct archive *a, void *arg, const void **buf)
{
	struct part_io *io = arg;
	size_t len;
	la_int64_t off;
	int r;

	r = archive_read_data_block(io->stream, buf, &len, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK) {
		io->stream_failed = 1;
		archive_set_error(a, EIO, "decompression failed");
		return -1;
	}
	io_note(io, *buf, len);
	return (la_ssize_t)len;
}

static int
part_fail_read(struct vstate *vs, struct part *p)
{
	msg_setp(vs->err, vs->errlen, p->label, "cannot read: %s",
	    strerror(p->rerrno));
	return -1;
}

/* A failure of the stream stage: the compressed data, or its size. */
static int
part_fail_stream(
    struct vstate *vs, struct part *p, struct part_io *io, const char *comp)
{
	const char *m = archive_error_string(io->stream);
	char q[LIBMSG_MAX];

	if (p->rerrno != 0)
		return part_fail_read(vs, p);
	if (io->dict > LIM_XZ_DICT_MAX) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "%s stream needs a %llu MiB dictionary; the limit is %llu "
		    "MiB",
		    comp, (unsigned long long)(io->dict >> 20),
		    (unsigned long long)(LIM_XZ_DICT_MAX >> 20));
		return -1;
	}
	msg_quote(q, sizeof(q), m ? m : "unknown error", m ? strlen(m) : 13);
	msg_setp(vs->err, vs->errlen, p->label,
	    "corrupt or truncated %s data: %s", comp, q);
	return -1;
}

/* A failure of the tar stage, or of the stream stage under it. */
static int
part_fail_tar(struct vstate *vs, struct part *p, struct part_io *io)
{
	const char *m = archive_error_string(io->tar);
	char q[LIBMSG_MAX];

	if (io->stream_failed)
		return part_fail_stream(vs, p, io, p->rep->compression);
	if (p->rerrno != 0)
		return part_fail_read(vs, p);
	msg_quote(q, sizeof(q), m ? m : "unknown error", m ? strlen(m) : 13);
	if (strcmp(p->rep->compression, "none") == 0)
		msg_setp(vs->err, vs->errlen, p->label,
		    "corrupt or truncated tar archive: %s", q);
	else
		msg_setp(vs->err, vs->errlen, p->label,
		    "corrupt or truncated tar archive in the %s data: %s",
		    p->rep->compression, q);
	return -1;
}

/*
 * Whether the stream stage fails within the next bytes: a decompressor
 * may hand out a damaged block before its checksum fails, and then the
 * damage, not the format, is what to report.
 */
static int
stream_fails_soon(struct part_io *io)
{
	uint64_t stop = io->out + SNIFF_AHEAD;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r = ARCHIVE_OK;

	while (io->out < stop && (r = archive_read_data_block(io->stream, &buf,
				      &len, &off)) == ARCHIVE_OK)
		io_note(io, buf, len);
	return io->out < stop && r != ARCHIVE_EOF;
}

/*
 * The stream stage picks the decompressor when it opens; a decompression
 * error then names the compression from its magic.
 */
static int
part_open_stream(struct vstate *vs, struct part *p, struct part_io *io)
{
	struct archive *a = io->stream;
	struct archive_entry *ae;
	size_t i;
	int n, r;

	/* ARCHIVE_WARN here means libarchive would run an external program. */
	for (i = 0; i < NFILTERS; i++) {
		if (filters[i].enable(a) != ARCHIVE_OK) {
			msg_set(vs->err, vs->errlen,
			    "libarchive lacks built-in %s support",
			    filters[i].name);
			return -1;
		}
	}
	/* "empty" takes a stream that decompresses to nothing. */
	if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(a) != ARCHIVE_OK) {
		msg_set(vs->err, vs->errlen, "libarchive lacks raw support");
		return -1;
	}
	if (archive_read_open(a, io, NULL, io_read, NULL) != ARCHIVE_OK ||
	    (r = archive_read_next_header(a, &ae)) == ARCHIVE_FATAL) {
		if (io->dict > LIM_XZ_DICT_MAX || p->rerrno != 0 ||
		    io->nread != 0)
			return part_fail_stream(vs, p, io, io_sniff(io));
		msg_setp(vs->err, vs->errlen, p->label,
		    "empty file, not a tar archive");
		return -1;
	}
	if (r == ARCHIVE_EOF) {
		if (io->nread == 0)
			msg_setp(vs->err, vs->errlen, p->label,
			    "empty file, not a tar archive");
		else
			msg_setp(vs->err, vs->errlen, p->label,
			    "%s data that decompresses to nothing, not a tar "
			    "archive",
			    filter_name(archive_filter_code(a, 0)));
		return -1;
	}
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

static int
part_open(struct vstate *vs, struct part *p, struct part_io *io)
{
	const char *comp;

	if (part_open_stream(vs, p, io) == -1)
		return -1;
	if (archive_read_support_format_tar(io->tar) != ARCHIVE_OK) {
		msg_set(vs->err, vs->errlen, "libarchive lacks tar support");
		return -1;
	}
	if (archive_read_open(io->tar, io, NULL, stream_read, NULL) ==
	    ARCHIVE_OK)
		return 0;
	if (io->stream_failed || archive_errno(io->tar) != ERRNO_FILE_FORMAT)
		return part_fail_tar(vs, p, io);
	comp = p->rep->compression;
	if (strcmp(comp, "none") != 0 && stream_fails_soon(io))
		return part_fail_stream(vs, p, io, comp);
	if (io->out == 0)
		msg_setp(vs->err, vs->errlen, p->label,
		    "%s data that decompresses to nothing, not a tar archive",
		    comp);
	else if (strcmp(comp, "none") == 0)
		msg_setp(vs->err, vs->errlen, p->label, "not a tar archive");
	else
		msg_setp(vs->err, vs->errlen, p->label,
		    "not a tar archive (%s data)", comp);
	return -1;
}

/*
 * After the tar stage's end: the rest of the decompressed stream may hold
 * only zeros (writers pad to their record size), and nothing may follow
 * the compressed stream in the file.
 */
static int
part_trailing(struct vstate *vs, struct part *p, struct part_io *io)
{
	uint64_t tar_end = (uint64_t)archive_filter_bytes(io->tar, 0);
	uint64_t used, total;
	const void *buf;
	size_t len;
	la_int64_t off;
	ssize_t n;
	int r;

	while ((r = archive_read_data_block(io->stream, &buf, &len, &off)) ==
	       ARCHIVE_OK)
		io_note(io, buf, len);
	if (r != ARCHIVE_EOF)
		return part_fail_stream(vs, p, io, p->rep->compression);
	if (io->data_end > tar_end) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "%llu bytes of trailing data after the archive",
		    (unsigned long long)(io->data_end - tar_end));
		return -1;
	}
	if (strcmp(p->rep->compression, "none") == 0)
		return 0;
	/* Bytes the decompressor used, against the bytes in the file. */
	used = (uint64_t)archive_filter_bytes(
	    io->stream, archive_filter_count(io->stream) - 1);
	total = io->nread;
	do {
		n = part_fd_read(vs, p, io->fd, io->buf, sizeof(io->buf));
		if (n > 0)
			total += (uint64_t)n;
	} while (n > 0);
	if (n == -1) {
		p->rerrno = errno;
		return part_fail_read(vs, p);
	}
	if (total > used) {
		msg_setp(vs->err, vs->errlen, p->label,
		    "%llu bytes of trailing data after the %s stream",
		    (unsigned long long)(total - used), p->rep->compression);
		return -1;
	}
	return 0;
}

/* Bytes out of the decompressor against bytes read from the file. */
static int
part_ratio(struct vstate *vs, struct part *p, struct part_io *io)
{
	int64_t out = archive_filter_bytes(io->stream, 0);
	int64_t in = archive_filter_bytes(io->stream, -1);
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
part_drain(struct vstate *vs, struct part *p, struct part_io *io)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(io->tar, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return part_fail_tar(vs, p, io);
		if (part_ratio(vs, p, io) == -1)
			return -1;
	}
}

/* The data of an entry being unpacked, with the ratio checked per block. */
struct tar_data {
	struct vstate *vs;
	struct part *p;
	struct part_io *io;
};

static int
tar_next(void *arg, const void **buf, size_t *len, int64_t *off)
{
	struct tar_data *t = arg;
	la_int64_t o;
	int r;

	r = archive_read_data_block(t->io->tar, buf, len, &o);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK)
		return part_fail_tar(t->vs, t->p, t->io);
	if (part_ratio(t->vs, t->p, t->io) == -1)
		return -1;
	*off = o;
	return 1;
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
part_meta(struct vstate *vs, struct part *p, struct part_io *io,
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
	while ((r = archive_read_data_block(io->tar, &blk, &len, &off)) ==
	       ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off > en->size ||
		    len > en->size - (uint64_t)off) {
			msg_setp(vs->err, vs->errlen, p->label,
			    "metadata.yaml: data beyond its size");
			goto out;
		}
		memcpy(buf + off, blk, len);
	}
	if (r != ARCHIVE_EOF)
		part_fail_tar(vs, p, io);
	else
		rc = part_meta_parse(vs, p, buf, en->size);
out:
	free(buf);
	return rc;
}

/* Counts an admitted entry against the image's limits. */
int
part_account(struct vstate *vs, struct part *p, const struct tar_entry *en)
{
	char q[MSG_QUOTE_MAX];

	vs->unpacked += en->size;
	p->rep->unpacked_bytes += en->size;
	if (en->type == NODE_DEVICE)
		p->rep->devices++;
	img_bound_fed(vs);
	if (vs->unpacked <= vs->unpacked_max)
		return 0;
	if (vs->feed && !vs->sized) {
		struct img_feed *f = vs->feed;

		/* Over the limit for the bytes so far: the limit for all of
		 * them decides, so that this entry is the one it names. */
		while (!f->final[0] || !f->final[1])
			f->next(f->arg, f);
		img_bound_fed(vs);
		if (vs->unpacked <= vs->unpacked_max)
			return 0;
	}
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
part_entries(struct vstate *vs, struct part *p, struct part_io *io)
{
	struct archive_entry *ae;
	struct tar_entry en;
	int r;

	for (;;) {
		r = archive_read_next_header(io->tar, &ae);
		if (r == ARCHIVE_EOF)
			return part_trailing(vs, p, io);
		/* Warnings (e.g. a name not in the locale) keep the entry. */
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return part_fail_tar(vs, p, io);
		if (part_ratio(vs, p, io) == -1)
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
			r = part_meta(vs, p, io, &en);
		else if (vs->xs) {
			struct tar_data td = {vs, p, io};
			struct xdata d = {tar_next, &td};

			r = xs_entry(vs, p, ae, &en, &d);
		} else
			r = part_drain(vs, p, io);
		if (r == -1)
			return -1;
	}
}

int
part_read(struct vstate *vs, struct part *p, int fd)
{
	struct part_io *io;
	int rc = -1;

	if ((io = calloc(1, sizeof(*io))) == NULL ||
	    (io->stream = archive_read_new()) == NULL ||
	    (io->tar = archive_read_new()) == NULL) {
		if (io != NULL && io->stream != NULL)
			archive_read_free(io->stream);
		free(io);
		msg_set(vs->err, vs->errlen, "out of memory");
		return -1;
	}
	io->fd = fd;
	io->vs = vs;
	io->p = p;
	if (part_open(vs, p, io) == 0)
		rc = part_entries(vs, p, io);
	archive_read_free(io->tar);
	archive_read_free(io->stream);
	free(io);
	return rc;
}
