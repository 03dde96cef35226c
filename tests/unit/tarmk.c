/* Test helper: tarballs built with libarchive into memfds (tarmk.h). */
#include <sys/mman.h>
#include <archive.h>
#include <archive_entry.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tarmk.h"

struct tarmk {
	struct archive *a;
	int fd;
};

const char tm_meta_yaml[] = "architecture: x86_64\n"
			    "creation_date: 1700000000\n"
			    "properties:\n"
			    "  os: Ubuntu\n"
			    "  release: \"22.04\"\n"
			    "templates:\n"
			    "  /etc/hostname:\n"
			    "    when: [create, start]\n"
			    "    template: hostname.tpl\n";

static void
tm_filter(struct archive *a, const char *name)
{
	int r;

	if (strcmp(name, "none") == 0)
		r = archive_write_add_filter_none(a);
	else if (strcmp(name, "gzip") == 0)
		r = archive_write_add_filter_gzip(a);
	else if (strcmp(name, "bzip2") == 0)
		r = archive_write_add_filter_bzip2(a);
	else if (strcmp(name, "xz") == 0)
		r = archive_write_add_filter_xz(a);
	else if (strcmp(name, "lzma") == 0)
		r = archive_write_add_filter_lzma(a);
	else if (strcmp(name, "zstd") == 0)
		r = archive_write_add_filter_zstd(a);
	else
		errx(1, "tarmk: unknown compression %s", name);
	if (r != ARCHIVE_OK)
		errx(1, "tarmk: %s: %s", name, archive_error_string(a));
}

struct tarmk *
tm_new_format(const char *comp, int format)
{
	struct tarmk *t;
	char *list, *name, *save = NULL;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (list = strdup(comp)) == NULL)
		err(1, "tarmk");
	if ((t->fd = memfd_create("tarmk", 0)) == -1)
		err(1, "memfd_create");
	t->a = archive_write_new();
	if (archive_write_set_format(t->a, format) != ARCHIVE_OK)
		errx(1, "tarmk: %s", archive_error_string(t->a));
	for (name = strtok_r(list, "+", &save); name != NULL;
	     name = strtok_r(NULL, "+", &save))
		tm_filter(t->a, name);
	free(list);
	if (archive_write_open_fd(t->a, t->fd) != ARCHIVE_OK)
		errx(1, "tarmk: %s", archive_error_string(t->a));
	return t;
}

struct tarmk *
tm_new(const char *comp)
{
	return tm_new_format(comp, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
}

static struct archive_entry *
tm_entry(const char *name, mode_t type, int64_t size)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, 1700000000, 0);
	return e;
}

/* Writes the header of e (and frees it). */
static void
tm_header(struct tarmk *t, struct archive_entry *e)
{
	if (archive_write_header(t->a, e) < ARCHIVE_WARN)
		errx(1, "tarmk: %s: %s", archive_entry_pathname(e),
		    archive_error_string(t->a));
	archive_entry_free(e);
}

void
tm_data(struct tarmk *t, const char *name, const void *data, size_t len)
{
	tm_header(t, tm_entry(name, AE_IFREG, (int64_t)len));
	if (len > 0 && archive_write_data(t->a, data, len) != (ssize_t)len)
		errx(1, "tarmk: data: %s", archive_error_string(t->a));
}

void
tm_file(struct tarmk *t, const char *name, const char *data)
{
	tm_data(t, name, data, strlen(data));
}

void
tm_zeros(struct tarmk *t, const char *name, uint64_t size)
{
	static const char zero[64 * 1024];
	uint64_t left = size;
	size_t n;

	tm_header(t, tm_entry(name, AE_IFREG, (int64_t)size));
	while (left > 0) {
		n = left < sizeof(zero) ? (size_t)left : sizeof(zero);
		if (archive_write_data(t->a, zero, n) != (ssize_t)n)
			errx(1, "tarmk: zeros: %s", archive_error_string(t->a));
		left -= n;
	}
}

void
tm_dir(struct tarmk *t, const char *name)
{
	tm_header(t, tm_entry(name, AE_IFDIR, 0));
}

void
tm_symlink(struct tarmk *t, const char *name, const char *target)
{
	struct archive_entry *e = tm_entry(name, AE_IFLNK, 0);

	archive_entry_set_symlink(e, target);
	tm_header(t, e);
}

void
tm_hardlink(struct tarmk *t, const char *name, const char *target)
{
	struct archive_entry *e = tm_entry(name, AE_IFREG, 0);

	archive_entry_set_hardlink(e, target);
	tm_header(t, e);
}

void
tm_node(struct tarmk *t, const char *name, mode_t type)
{
	struct archive_entry *e = tm_entry(name, type, 0);

	archive_entry_set_rdev(e, 0x0103);
	tm_header(t, e);
}

void
tm_xattr(struct tarmk *t, const char *name, size_t size)
{
	struct archive_entry *e = tm_entry(name, AE_IFREG, 0);
	char *v;

	if ((v = calloc(1, size)) == NULL)
		err(1, "tarmk");
	archive_entry_xattr_add_entry(e, "user.big", v, size);
	free(v);
	tm_header(t, e);
}

void
tm_sparse(struct tarmk *t, const char *name, uint64_t size)
{
	struct archive_entry *e = tm_entry(name, AE_IFREG, (int64_t)size);

	archive_entry_sparse_add_entry(e, 0, 1);
	tm_header(t, e);
	if (archive_write_data(t->a, "x", 1) != 1)
		errx(1, "tarmk: sparse: %s", archive_error_string(t->a));
}

int
tm_fd(struct tarmk *t)
{
	int fd = t->fd;

	if (archive_write_close(t->a) != ARCHIVE_OK)
		errx(1, "tarmk: close: %s", archive_error_string(t->a));
	archive_write_free(t->a);
	free(t);
	if (lseek(fd, 0, SEEK_SET) == -1)
		err(1, "lseek");
	return fd;
}

int
tm_memfd(const void *buf, size_t len)
{
	int fd;

	if ((fd = memfd_create("tarmk", 0)) == -1)
		err(1, "memfd_create");
	if (len > 0 && write(fd, buf, len) != (ssize_t)len)
		err(1, "write");
	if (lseek(fd, 0, SEEK_SET) == -1)
		err(1, "lseek");
	return fd;
}

void *
tm_slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf;

	if (end < 0 || (buf = malloc((size_t)end + 1)) == NULL)
		err(1, "slurp");
	if (pread(fd, buf, (size_t)end, 0) != end)
		err(1, "pread");
	*len = (size_t)end;
	return buf;
}

int
tm_unified(const char *comp)
{
	struct tarmk *t = tm_new(comp);

	tm_file(t, "metadata.yaml", tm_meta_yaml);
	tm_dir(t, "rootfs/");
	tm_dir(t, "rootfs/etc/");
	tm_file(t, "rootfs/etc/hostname", "old\n");
	tm_symlink(t, "rootfs/etc/localtime", "/usr/share/zoneinfo/UTC");
	tm_dir(t, "templates/");
	tm_file(t, "templates/hostname.tpl", "{{ container.name }}\n");
	return tm_fd(t);
}

void
tm_split(const char *comp, int *fd_meta, int *fd_rootfs)
{
	struct tarmk *t = tm_new(comp);

	tm_file(t, "metadata.yaml", tm_meta_yaml);
	tm_dir(t, "templates/");
	tm_file(t, "templates/hostname.tpl", "{{ container.name }}\n");
	*fd_meta = tm_fd(t);
	t = tm_new(comp);
	tm_dir(t, "./");
	tm_dir(t, "./etc/");
	tm_file(t, "./etc/hostname", "old\n");
	tm_file(t, "./metadata.yaml", "just a file in the rootfs\n");
	*fd_rootfs = tm_fd(t);
}
