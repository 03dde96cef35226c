/*
 * Unit tests: img_validate() on whole images built in the test: every
 * compression, unified and split, and the rejections that concern the
 * stream, the layout, metadata.yaml, templates and the size limits. The
 * per-entry policy is in test_entries.c.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/t.h"
#include "tests/unit/tarmk.h"
#include "unpacker/validate.h"

#define MINI_META "architecture: x86_64\ncreation_date: 1\n"

static const char *comps[] = {"none", "gzip", "bzip2", "xz", "lzma", "zstd"};
#define NCOMPS (sizeof(comps) / sizeof(comps[0]))

/*
 * The second pass (fed = 1) validates every image twice: whole, and again
 * as the store feeds one that is still arriving, in steps of 1 to 512
 * bytes (now and then up to 96 KiB). Both must give the same verdict,
 * message and report.
 */
static int fed;
static unsigned fed_runs, fed_words;

struct feeder {
	struct img_feed f;
	uint64_t size[2];
	uint32_t rnd;
	unsigned words;
};

static void
feeder_next(void *arg, struct img_feed *f)
{
	struct feeder *d = arg;
	int i = f->final[0] ? 1 : 0;
	uint64_t step;

	d->rnd = d->rnd * 1103515245u + 12345u;
	step = 1 + (d->rnd >> 8) % ((d->rnd & 0x700) ? 512 : 96 * 1024);
	d->words++;
	if (f->final[i])
		return; /* asked for more than there is: a bug, seen below */
	f->avail[i] += step;
	if (f->avail[i] >= d->size[i]) {
		f->avail[i] = d->size[i];
		f->final[i] = 1;
	}
}

static uint64_t
rest(int fd)
{
	off_t at = lseek(fd, 0, SEEK_CUR), end = lseek(fd, 0, SEEK_END);

	lseek(fd, at, SEEK_SET);
	return (uint64_t)(end - at);
}

static void
check_fed(int fd, int fd2, const struct img_limits *lim, off_t at[2], int rc,
    const struct img_report *r, const char *err)
{
	struct feeder d = {.f = {.next = feeder_next}, .rnd = 7};
	struct img_meta m2;
	struct img_report r2;
	char e2[LIM_ERROR_MAX] = "";
	int rc2;

	d.f.arg = &d;
	lseek(fd, at[0], SEEK_SET);
	d.size[0] = rest(fd);
	if (fd2 >= 0) {
		lseek(fd2, at[1], SEEK_SET);
		d.size[1] = rest(fd2);
	}
	rc2 = img_validate_feed(fd, fd2, lim, &d.f, &m2, &r2, e2, sizeof(e2));
	T_EQ_INT(rc2, rc);
	T_EQ_STR(e2, err);
	T_CHECK(memcmp(&r2, r, sizeof(r2)) == 0);
	fed_runs++;
	fed_words += d.words;
	if (rc2 == 0)
		img_meta_free(&m2);
}

/* img_validate_limits() that closes its fds; NULL lim for the defaults. */
static int
run(int fd, int fd2, const struct img_limits *lim, struct img_meta *m,
    struct img_report *r, char *err, size_t errlen)
{
	struct img_limits def;
	off_t at[2] = {
	    lseek(fd, 0, SEEK_CUR), fd2 >= 0 ? lseek(fd2, 0, SEEK_CUR) : 0};
	int rc;

	if (lim == NULL) {
		img_limits_default(&def);
		lim = &def;
	}
	rc = img_validate_limits(fd, fd2, lim, m, r, err, errlen);
	if (fed && fd >= 0)
		check_fed(fd, fd2, lim, at, rc, r, err);
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
	return rc;
}

/* Rejected with a message holding needle, nothing left allocated. */
#define T_REJECTS(fd, fd2, lim, needle)                                        \
	do {                                                                   \
		struct img_meta m_;                                            \
		struct img_report r_;                                          \
		char e_[LIM_ERROR_MAX] = "";                                   \
		T_EQ_INT(run(fd, fd2, lim, &m_, &r_, e_, sizeof(e_)), -1);     \
		T_CONTAINS(e_, needle);                                        \
		T_CHECK(strchr(e_, '\n') == NULL);                             \
		T_CHECK(m_.props == NULL && m_.templates == NULL &&            \
			r_.part[0].entries == 0);                              \
	} while (0)

#define T_ACCEPTS(fd, fd2, lim)                                                \
	do {                                                                   \
		struct img_meta m_;                                            \
		struct img_report r_;                                          \
		char e_[LIM_ERROR_MAX] = "";                                   \
		T_EXPECT(run(fd, fd2, lim, &m_, &r_, e_, sizeof(e_)) == 0,     \
		    "rejected: %s", e_);                                       \
		img_meta_free(&m_);                                            \
	} while (0)

/* A unified image with metadata.yaml and rootfs/, to add entries to. */
static struct tarmk *
base(const char *comp)
{
	struct tarmk *t = tm_new(comp);

	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "rootfs/");
	return t;
}

T_TEST(test_every_compression)
{
	struct img_meta m;
	struct img_report r;
	char err[LIM_ERROR_MAX];
	size_t i;
	int fd, fd2;

	for (i = 0; i < NCOMPS; i++) {
		fd = tm_unified(comps[i]);
		if (run(fd, -1, NULL, &m, &r, err, sizeof(err)) != 0) {
			T_FAIL("unified %s: %s", comps[i], err);
			continue;
		}
		T_EQ_STR(r.part[0].compression, comps[i]);
		T_EQ_INT(r.part[0].entries, 7);
		T_EQ_INT(r.part[1].entries, 0);
		T_EQ_STR(m.architecture, "x86_64");
		T_EQ_INT(m.creation_date, 1700000000);
		T_EQ_INT(m.ntemplates, 1);
		T_EQ_INT(m.nprops, 2);
		img_meta_free(&m);

		tm_split(comps[i], &fd, &fd2);
		if (run(fd, fd2, NULL, &m, &r, err, sizeof(err)) != 0) {
			T_FAIL("split %s: %s", comps[i], err);
			continue;
		}
		T_EQ_STR(r.part[0].compression, comps[i]);
		T_EQ_STR(r.part[1].compression, comps[i]);
		T_EQ_INT(r.part[0].entries, 3);
		T_EQ_INT(r.part[1].entries, 4);
		T_EQ_INT(m.ntemplates, 1);
		img_meta_free(&m);
	}
}

T_TEST(test_report)
{
	struct img_meta m;
	struct img_report r;
	char err[LIM_ERROR_MAX];
	struct tarmk *t = base("gzip");
	int fd;
	off_t size;

	tm_file(t, "rootfs/a", "12345");
	tm_node(t, "rootfs/dev/null", AE_IFCHR);
	tm_node(t, "rootfs/dev/sda", AE_IFBLK);
	tm_node(t, "rootfs/run/fifo", AE_IFIFO);
	fd = tm_fd(t);
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	T_EQ_INT(run(fd, -1, NULL, &m, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.part[0].entries, 6);
	T_EQ_INT(r.part[0].devices, 3);
	T_EQ_INT(r.part[0].unpacked_bytes, strlen(MINI_META) + 5);
	T_EQ_INT(r.part[0].compressed_bytes, size);
	img_meta_free(&m);
}

/* tar -C dir -czf x.tgz . with GNU tar: "./" names, a root entry. */
T_TEST(test_dot_slash_gnutar)
{
	struct tarmk *t = tm_new_format("gzip", ARCHIVE_FORMAT_TAR_GNUTAR);

	tm_dir(t, "./");
	tm_dir(t, "./rootfs/");
	tm_symlink(t, "./rootfs/bin", "usr/bin");
	tm_dir(t, "./rootfs/usr/");
	tm_dir(t, "./rootfs/usr/bin/");
	tm_file(t, "./rootfs/usr/bin/sh", "#!");
	tm_hardlink(t, "./rootfs/usr/bin/dash", "./rootfs/usr/bin/sh");
	tm_hardlink(t, "./rootfs/usr/bin/ash", "rootfs/usr/bin/dash");
	tm_file(t,
	    "./rootfs/"
	    "\xc3\xa9t\xc3\xa9",
	    "utf-8 name");
	tm_file(t, "./rootfs/latin1-\xe9", "not UTF-8, still a name");
	tm_file(t, "./metadata.yaml", tm_meta_yaml);
	tm_dir(t, "./templates/");
	tm_file(t, "./templates/hostname.tpl", "x");
	T_ACCEPTS(tm_fd(t), -1, NULL);
}

T_TEST(test_rootfs_implied_and_order)
{
	struct tarmk *t = tm_new("xz");

	/* Templates before metadata.yaml, rootfs/ only implied. */
	tm_file(t, "templates/hostname.tpl", "x");
	tm_file(t, "rootfs/etc/hostname", "x");
	/* A pax UTF-8 name: a warning in the C locale, still an entry. */
	tm_file(t, "rootfs/caf\xc3\xa9", "x");
	tm_file(t, "metadata.yaml", tm_meta_yaml);
	T_ACCEPTS(tm_fd(t), -1, NULL);
}

T_TEST(test_offset)
{
	struct img_meta m;
	struct img_report r;
	char err[LIM_ERROR_MAX], *buf, *all;
	size_t len;
	int fd;

	fd = tm_unified("zstd");
	buf = tm_slurp(fd, &len);
	close(fd);
	all = malloc(len + 777);
	memset(all, 'J', 777);
	memcpy(all + 777, buf, len);
	fd = tm_memfd(all, len + 777);
	lseek(fd, 777, SEEK_SET);
	T_EQ_INT(run(fd, -1, NULL, &m, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.part[0].compressed_bytes, len);
	img_meta_free(&m);
	free(buf);
	free(all);
}

/* len bytes of buf, compressed as comp with libarchive's raw writer. */
static int
compressed(const char *comp, const void *buf, size_t len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int fd = tm_memfd("", 0);

	archive_write_set_format_raw(a);
	archive_write_add_filter_by_name(a, comp);
	archive_write_open_fd(a, fd);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_write_header(a, e);
	if (len > 0)
		archive_write_data(a, buf, len);
	archive_entry_free(e);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

T_TEST(test_not_tar)
{
	static const char text[] = "architecture: x86_64\n";
	struct archive *a;
	struct archive_entry *e;
	char path[64];
	int fd, p[2];

	T_REJECTS(
	    tm_memfd(text, sizeof(text) - 1), -1, NULL, "not a tar archive");
	T_REJECTS(tm_memfd("", 0), -1, NULL, "empty file, not a tar archive");

	/* Gzip data that holds no tar. */
	fd = tm_memfd("", 0);
	a = archive_write_new();
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	e = archive_entry_new();
	archive_entry_set_filetype(e, AE_IFREG);
	archive_write_header(a, e);
	archive_write_data(a, text, sizeof(text));
	archive_entry_free(e);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	T_REJECTS(fd, -1, NULL, "not a tar archive (gzip data)");
	/* A compressed empty file. */
	for (size_t i = 1; i < NCOMPS; i++) {
		char want[80];

		snprintf(want, sizeof(want),
		    "%s data that decompresses to nothing, not a tar archive",
		    comps[i]);
		T_REJECTS(compressed(comps[i], "", 0), -1, NULL, want);
	}

	/* Unreadable, not a regular file, no file at all. */
	fd = tm_unified("none");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	T_REJECTS(
	    open(path, O_WRONLY), -1, NULL, "cannot read: Bad file descriptor");
	close(fd);
	if (pipe(p) == 0) {
		T_REJECTS(p[0], -1, NULL, "not a regular file");
		close(p[1]);
	}
	T_REJECTS(tm_unified("none"), -5, NULL,
	    "rootfs tarball: bad file descriptor");
}

/* Deterministic text: compressible, so every compressor entropy-codes it. */
static char *
words(size_t len)
{
	static const char *w[] = {"image ", "rootfs ", "tar ", "lxd ",
	    "metadata ", "yaml ", "zstd ", "xz ", "\n", "template ", "unpack ",
	    "policy ", "sandbox ", "limit ", "store ", "fd "};
	char *b = malloc(len + 16);
	uint32_t x = 2463534242u;
	size_t n = 0;

	while (n < len) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n += (size_t)snprintf(b + n, 16, "%s", w[x % 16]);
	}
	return b;
}

/* An image whose stream breaks in the middle of a large file. */
static int
damaged(const char *comp, int truncate)
{
	struct tarmk *t = base(comp);
	char *data = words(512 * 1024), *img;
	size_t len, i;
	int fd;

	tm_data(t, "rootfs/words", data, 512 * 1024);
	tm_file(t, "rootfs/after", "x");
	fd = tm_fd(t);
	img = tm_slurp(fd, &len);
	close(fd);
	if (truncate)
		len /= 2;
	else
		for (i = len / 2; i < len / 2 + 64; i++)
			img[i] ^= 0x55;
	fd = tm_memfd(img, len);
	free(img);
	free(data);
	return fd;
}

/*
 * Damage is reported as "corrupt or truncated" and names the compression,
 * whether the decompressor notices it (a checksum) or the tar reader does
 * first (damage the decompressor cannot see, or has not checked yet).
 */
T_TEST(test_corrupt_and_truncated)
{
	struct img_meta m;
	struct img_report r;
	char err[LIM_ERROR_MAX], want[64];
	size_t i;
	int trunc;

	for (i = 0; i < NCOMPS; i++) {
		snprintf(want, sizeof(want), "%s",
		    strcmp(comps[i], "none") == 0 ? "tar archive" : comps[i]);
		for (trunc = 1; trunc >= 0; trunc--) {
			/* tar has no checksum over data */
			if (!trunc && strcmp(comps[i], "none") == 0)
				continue;
			err[0] = '\0';
			T_EQ_INT(run(damaged(comps[i], trunc), -1, NULL, &m, &r,
				     err, sizeof(err)),
			    -1);
			T_CONTAINS(err, "corrupt");
			T_CONTAINS(err, want);
		}
	}
}

T_TEST(test_two_compression_layers)
{
	struct tarmk *t = tm_new("gzip+gzip");

	tm_file(t, "metadata.yaml", MINI_META);
	T_REJECTS(tm_fd(t), -1, NULL,
	    "more than one compression layer (gzip inside gzip)");
	t = tm_new("zstd+xz");
	tm_file(t, "metadata.yaml", MINI_META);
	T_REJECTS(tm_fd(t), -1, NULL, "more than one compression layer");
}

T_TEST(test_metadata_rules)
{
	struct tarmk *t;
	int fd, fd2;

	t = tm_new("none");
	tm_dir(t, "rootfs/");
	T_REJECTS(tm_fd(t), -1, NULL, "image has no metadata.yaml");

	t = base("none");
	tm_file(t, "./metadata.yaml", MINI_META);
	T_REJECTS(tm_fd(t), -1, NULL,
	    "entry \"./metadata.yaml\": more than one metadata.yaml");

	t = tm_new("none");
	tm_symlink(t, "metadata.yaml", "rootfs/etc/passwd");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "metadata.yaml must be a regular file, not a symlink");

	t = tm_new("none");
	tm_file(t, "rootfs/m", MINI_META);
	tm_hardlink(t, "metadata.yaml", "rootfs/m");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "metadata.yaml must be a regular file, not a hard link");

	t = tm_new("none");
	tm_dir(t, "metadata.yaml/");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "metadata.yaml must be a regular file, not a directory");

	t = tm_new("gzip");
	tm_zeros(t, "metadata.yaml", LIM_META_FILE_MAX + 1);
	T_REJECTS(
	    tm_fd(t), -1, NULL, "metadata.yaml is larger than 1048576 bytes");

	t = tm_new("none");
	tm_file(t, "metadata.yaml", "a: b\n c: d\n");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "metadata.yaml: line 2: mapping values "
	    "are not allowed in this context");

	/* Split: metadata.yaml of the rootfs tarball does not count. */
	t = tm_new("none");
	tm_dir(t, "templates/");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL, "image has no metadata.yaml");

	t = tm_new("none");
	tm_file(t, "metadata.yaml", "architecture: foo\ncreation_date: 1\n");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_dir(t, "etc/");
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL,
	    "metadata tarball: metadata.yaml: line 1: unknown architecture");
}

T_TEST(test_unified_layout)
{
	struct tarmk *t;

	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "templates/");
	T_REJECTS(tm_fd(t), -1, NULL, "unified image has no rootfs/ directory");

	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_symlink(t, "rootfs", "/");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "entry \"rootfs\": must be a directory, not a symlink");

	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_file(t, "rootfs", "");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "entry \"rootfs\": must be a directory, not a regular file");

	t = base("none");
	tm_symlink(t, "templates", "/etc");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "entry \"templates\": must be a directory, not a symlink");
}

/* A unified image whose metadata.yaml names hostname.tpl. */
static struct tarmk *
with_template(void)
{
	struct tarmk *t = tm_new("gzip");

	tm_file(t, "metadata.yaml", tm_meta_yaml);
	tm_dir(t, "rootfs/");
	return t;
}

T_TEST(test_templates)
{
	struct tarmk *t;
	int fd, fd2;

	T_REJECTS(tm_fd(with_template()), -1, NULL,
	    "template \"/etc/hostname\": templates/hostname.tpl is missing");

	t = with_template();
	tm_symlink(t, "templates/hostname.tpl", "/etc/shadow");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "templates/hostname.tpl is a symlink, not a regular file");

	t = with_template();
	tm_dir(t, "templates/hostname.tpl/");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "templates/hostname.tpl is a directory, not a regular file");

	t = with_template();
	tm_file(t, "templates/x", "x");
	tm_hardlink(t, "templates/hostname.tpl", "templates/x");
	T_REJECTS(tm_fd(t), -1, NULL,
	    "templates/hostname.tpl is a hard link, not a regular file");

	t = with_template();
	tm_zeros(t, "templates/hostname.tpl", LIM_TEMPLATE_SOURCE_MAX + 1);
	T_REJECTS(tm_fd(t), -1, NULL,
	    "templates/hostname.tpl is larger than 262144 bytes");

	t = with_template();
	tm_zeros(t, "templates/hostname.tpl", LIM_TEMPLATE_SOURCE_MAX);
	T_ACCEPTS(tm_fd(t), -1, NULL);

	t = tm_new("none");
	tm_file(t, "metadata.yaml",
	    MINI_META "templates:\n  /etc/hosts:\n"
		      "    template: ../rootfs/etc/shadow\n");
	tm_dir(t, "rootfs/");
	T_REJECTS(
	    tm_fd(t), -1, NULL, "\"..\" is not allowed in the template name");

	/* Split: the template must be in the metadata tarball. */
	t = tm_new("none");
	tm_file(t, "metadata.yaml", tm_meta_yaml);
	fd = tm_fd(t);
	t = tm_new("none");
	tm_file(t, "templates/hostname.tpl", "x");
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL,
	    "metadata tarball: template \"/etc/hostname\": "
	    "templates/hostname.tpl is missing");
}

T_TEST(test_ratio_bomb)
{
	struct tarmk *t = base("gzip");

	/* 80 MiB of zeros: under the size limit, far above 100:1. */
	tm_zeros(t, "rootfs/zeros", 80 * MiB);
	T_REJECTS(tm_fd(t), -1, NULL, "decompresses at more than 100:1");

	/* The same ratio is fine below 64 MiB. */
	t = base("zstd");
	tm_zeros(t, "rootfs/zeros", 60 * MiB);
	T_ACCEPTS(tm_fd(t), -1, NULL);
}

T_TEST(test_unpacked_size)
{
	struct img_limits lim;
	struct tarmk *t;
	int fd, fd2;

	/* Sparse files count at their apparent size. */
	t = base("none");
	tm_sparse(t, "rootfs/sparse", 1 * GiB);
	T_REJECTS(tm_fd(t), -1, NULL, "image unpacks to more than");

	img_limits_default(&lim);
	lim.unpacked_slack = 1 * MiB;
	t = base("gzip");
	tm_zeros(t, "rootfs/zeros", 2 * MiB);
	T_REJECTS(tm_fd(t), -1, &lim, "image unpacks to more than");
	t = base("gzip");
	tm_zeros(t, "rootfs/zeros", 512 * KiB);
	T_ACCEPTS(tm_fd(t), -1, &lim);

	/* Split: one bound for both parts together. */
	img_limits_default(&lim);
	lim.unpacked_slack = 0;
	lim.unpacked_factor = 1;
	tm_split("none", &fd, &fd2);
	T_ACCEPTS(fd, fd2, &lim);
	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	fd = tm_fd(t);
	t = tm_new("bzip2");
	tm_zeros(t, "big", 64 * KiB);
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, &lim, "rootfs tarball: image unpacks to more than");

	/* An uncompressed tar always fits factor 1: its entries' sizes are
	 * in it. Fed, the big first entry is over the limit for the bytes
	 * so far, and the limit for all of them must decide. */
	t = base("none");
	tm_zeros(t, "rootfs/first", 256 * KiB);
	tm_zeros(t, "rootfs/second", 64 * KiB);
	T_ACCEPTS(tm_fd(t), -1, &lim);
}

T_TEST(test_counts_and_sizes)
{
	struct img_limits lim;
	struct tarmk *t;
	char name[64];
	int i;

	img_limits_default(&lim);
	lim.entries_max = 4;
	t = base("none");
	tm_file(t, "rootfs/a", "");
	tm_file(t, "rootfs/b", "");
	T_ACCEPTS(tm_fd(t), -1, &lim);
	t = base("none");
	tm_file(t, "rootfs/a", "");
	tm_file(t, "rootfs/b", "");
	tm_file(t, "rootfs/c", "");
	T_REJECTS(tm_fd(t), -1, &lim, "image has more than 4 entries");

	img_limits_default(&lim);
	lim.name_index_max = 4000;
	t = base("none");
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "rootfs/%050d", i);
		tm_file(t, name, "");
	}
	T_REJECTS(
	    tm_fd(t), -1, &lim, "names need more than 4000 bytes of memory");

	img_limits_default(&lim);
	lim.part_max = 100;
	T_REJECTS(tm_unified("xz"), -1, &lim, "larger than 100 bytes");
}

/* fd's bytes with extra appended: a new memfd. */
static int
appended(int fd, const void *extra, size_t n)
{
	size_t len;
	char *b = tm_slurp(fd, &len), *all = malloc(len + n);
	int out;

	close(fd);
	memcpy(all, b, len);
	memcpy(all + len, extra, n);
	out = tm_memfd(all, len + n);
	free(b);
	free(all);
	return out;
}

/*
 * What follows the end of the tar archive is covered by the fingerprint
 * and by no other check: only the zero padding writers add may be there.
 */
T_TEST(test_trailing_data)
{
	static const char junk[] = "GARBAGE!";
	static const char zeros[4096];
	char tail[600];
	size_t len, i;
	char *b;
	int fd;

	for (i = 0; i < NCOMPS; i++) {
		/* Zero padding after the end-of-archive blocks is fine. */
		fd = tm_unified("none");
		fd = appended(fd, zeros, sizeof(zeros));
		if (strcmp(comps[i], "none") != 0) {
			b = tm_slurp(fd, &len);
			close(fd);
			fd = compressed(comps[i], b, len);
			free(b);
		}
		T_ACCEPTS(fd, -1, NULL);
		/* A tar entry past the end: hidden from every reader. */
		memset(tail, 0, sizeof(tail));
		memcpy(tail + 512, junk, sizeof(junk) - 1);
		fd = appended(tm_unified("none"), tail, sizeof(tail));
		if (strcmp(comps[i], "none") != 0) {
			b = tm_slurp(fd, &len);
			close(fd);
			fd = compressed(comps[i], b, len);
			free(b);
		}
		T_REJECTS(fd, -1, NULL,
		    "520 bytes of trailing data after the archive");
	}
	/* Bytes after the compressed stream. */
	T_REJECTS(appended(tm_unified("gzip"), junk, 8), -1, NULL,
	    "8 bytes of trailing data after the gzip stream");
	T_REJECTS(appended(tm_unified("bzip2"), junk, 8), -1, NULL,
	    "8 bytes of trailing data after the bzip2 stream");
	T_REJECTS(appended(tm_unified("lzma"), junk, 8), -1, NULL,
	    "8 bytes of trailing data after the lzma stream");
	T_REJECTS(appended(tm_unified("gzip"), zeros, 3), -1, NULL,
	    "3 bytes of trailing data after the gzip stream");
	/* xz and zstd find garbage after a stream themselves. */
	T_REJECTS(appended(tm_unified("xz"), junk, 8), -1, NULL,
	    "corrupt or truncated xz data");
	T_REJECTS(appended(tm_unified("zstd"), junk, 8), -1, NULL,
	    "corrupt or truncated zstd data");
	/* xz's own stream padding is part of the format. */
	T_ACCEPTS(appended(tm_unified("xz"), zeros, 4), -1, NULL);
	/* Split: the rootfs tarball is checked the same way. */
	{
		int fm, fr;

		tm_split("gzip", &fm, &fr);
		T_REJECTS(fm, appended(fr, junk, 8), NULL,
		    "rootfs tarball: 8 bytes of trailing data after the gzip "
		    "stream");
	}
}

static uint32_t
crc32_le(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

/* A valid image whose xz or lzma header asks for another dictionary. */
static int
with_dict(const char *comp, unsigned prop, uint32_t dict)
{
	size_t len;
	unsigned char *b = tm_slurp(tm_unified(comp), &len);
	uint32_t crc;
	int fd;

	if (strcmp(comp, "lzma") == 0) {
		for (int k = 0; k < 4; k++)
			b[1 + k] = (unsigned char)(dict >> (8 * k));
	} else {
		/* One filter, no sizes: LZMA2 (0x21), one property byte. */
		T_CHECK(b[13] == 0 && b[14] == 0x21 && b[15] == 1);
		b[16] = (unsigned char)prop;
		crc = crc32_le(b + 12, (size_t)(b[12] + 1) * 4 - 4);
		for (int k = 0; k < 4; k++)
			b[12 + (b[12] + 1) * 4 - 4 + k] =
			    (unsigned char)(crc >> (8 * k));
	}
	fd = tm_memfd(b, len);
	free(b);
	return fd;
}

/* A dictionary past the limit is named, not "corrupt" (nor an OOM). */
T_TEST(test_dictionary_limit)
{
	/* LZMA2 property 37 is 1536 MiB, 32 is 256 MiB. */
	T_REJECTS(with_dict("xz", 37, 0), -1, NULL,
	    "xz stream needs a 1536 MiB dictionary; the limit is 256 MiB");
	T_ACCEPTS(with_dict("xz", 32, 0), -1, NULL);
	T_REJECTS(with_dict("lzma", 0, 1536u << 20), -1, NULL,
	    "lzma stream needs a 1536 MiB dictionary; the limit is 256 MiB");
	T_REJECTS(with_dict("lzma", 0, 512u << 20), -1, NULL,
	    "lzma stream needs a 512 MiB dictionary; the limit is 256 MiB");
	/* libarchive takes .lzma dictionaries up to 128 MiB (LZMA SDK -d27). */
	T_ACCEPTS(with_dict("lzma", 0, 128u << 20), -1, NULL);
}

/* A split image's metadata tarball: metadata.yaml and templates/ only. */
T_TEST(test_split_metadata_only)
{
	struct tarmk *t;
	int fd, fd2;

	t = tm_new("none");
	tm_dir(t, "./");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "templates/");
	tm_file(t, "templates/hostname.tpl", "x");
	tm_file(t, "rootfs/etc/passwd", "root:x:0:0::/:/bin/sh\n");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_dir(t, "etc/");
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL,
	    "metadata tarball: entry \"rootfs/etc/passwd\": a metadata "
	    "tarball holds only metadata.yaml and templates/");
	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_file(t, "README", "x");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_dir(t, "etc/");
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL, "entry \"README\": a metadata tarball");
	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "templatesx/");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_dir(t, "etc/");
	fd2 = tm_fd(t);
	T_REJECTS(fd, fd2, NULL, "entry \"templatesx/\": a metadata tarball");
	/* The same layout as a unified image is fine there. */
	t = tm_new("none");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "templates/");
	fd = tm_fd(t);
	t = tm_new("none");
	tm_file(t, "etc/passwd", "x");
	fd2 = tm_fd(t);
	T_ACCEPTS(fd, fd2, NULL);
}

/* A store that says more is hashed than the file holds: a read error,
 * not a verdict on bytes that are not there; nothing left allocated. */
static void
overfeed_next(void *arg, struct img_feed *f)
{
	(void)arg;
	f->avail[0] += 1 << 20;
	f->final[0] = f->avail[0] > (4u << 20);
}

T_TEST(test_fed_past_the_end)
{
	struct img_feed f = {.next = overfeed_next};
	struct img_limits lim;
	struct img_meta m;
	struct img_report r;
	char e[LIM_ERROR_MAX] = "";
	int fd = tm_unified("none");

	img_limits_default(&lim);
	T_EQ_INT(img_validate_feed(fd, -1, &lim, &f, &m, &r, e, sizeof(e)), -1);
	T_EQ_STR(e, "cannot read: Input/output error");
	T_CHECK(
	    m.props == NULL && m.templates == NULL && r.part[0].entries == 0);
	close(fd);
}

/* The fed pass was fed: in more than one word per image, on the whole. */
T_TEST(test_fed_pass)
{
	T_CHECK(fed_runs > 50);
	T_EXPECT(fed_words > 2 * fed_runs, "%u words for %u images", fed_words,
	    fed_runs);
}

int
main(void)
{
	char err[256];

	/* As imgd-unpacker reads them. */
	if (img_locale_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (fed = 0; fed < 2; fed++) {
		T_RUN(test_every_compression);
		T_RUN(test_report);
		T_RUN(test_dot_slash_gnutar);
		T_RUN(test_rootfs_implied_and_order);
		T_RUN(test_offset);
		T_RUN(test_not_tar);
		T_RUN(test_corrupt_and_truncated);
		T_RUN(test_two_compression_layers);
		T_RUN(test_metadata_rules);
		T_RUN(test_unified_layout);
		T_RUN(test_templates);
		T_RUN(test_ratio_bomb);
		T_RUN(test_unpacked_size);
		T_RUN(test_counts_and_sizes);
		T_RUN(test_trailing_data);
		T_RUN(test_dictionary_limit);
		T_RUN(test_split_metadata_only);
	}
	T_RUN(test_fed_pass);
	T_RUN(test_fed_past_the_end);
	return T_DONE();
}
