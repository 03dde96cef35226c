/*
 * Unit tests: the per-entry policy (entry.c, pathidx.c): names, types,
 * duplicates, type changes, paths through symlinks, hard links, devices,
 * xattrs; through img_validate() on archives built in the test, and
 * directly where tar cannot carry the case (sockets).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/t.h"
#include "tests/unit/tarmk.h"
#include "unpacker/internal.h"

#define MINI_META "architecture: x86_64\ncreation_date: 1\n"

/* Validates a unified image, closes it; 0 or -1 with err. */
static int
run(int fd, int fd2, char *err, size_t errlen)
{
	struct img_meta m;
	struct img_report r;
	int rc;

	rc = img_validate(fd, fd2, &m, &r, err, errlen);
	if (rc == 0)
		img_meta_free(&m);
	else if (m.props != NULL || m.templates != NULL || r.part[0].entries)
		rc = -2; /* something left behind */
	close(fd);
	if (fd2 >= 0)
		close(fd2);
	return rc;
}

#define T_REJECTS(fd, needle)                                                  \
	do {                                                                   \
		char e_[LIM_ERROR_MAX] = "";                                   \
		T_EQ_INT(run(fd, -1, e_, sizeof(e_)), -1);                     \
		T_CONTAINS(e_, needle);                                        \
	} while (0)

#define T_ACCEPTS(fd)                                                          \
	do {                                                                   \
		char e_[LIM_ERROR_MAX] = "";                                   \
		T_EXPECT(run(fd, -1, e_, sizeof(e_)) == 0, "rejected: %s",     \
		    e_);                                                       \
	} while (0)

static struct tarmk *
base(void)
{
	struct tarmk *t = tm_new("none");

	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "rootfs/");
	return t;
}

/* One hostile name after a valid start. */
static int
one_file(const char *name)
{
	struct tarmk *t = base();

	tm_file(t, name, "x");
	return tm_fd(t);
}

T_TEST(test_names)
{
	char *longc, *longp, *deep;
	size_t i;

	T_REJECTS(one_file("rootfs/../x"),
	    "entry \"rootfs/../x\": \"..\" is not allowed");
	T_REJECTS(one_file("../x"), "\"..\" is not allowed");
	T_REJECTS(one_file("rootfs/a/.."), "\"..\" is not allowed");
	T_REJECTS(one_file("/etc/passwd"),
	    "entry \"/etc/passwd\": absolute paths are not allowed");
	T_REJECTS(one_file(".//etc/passwd"), "empty path components");
	T_REJECTS(one_file("rootfs//x"), "empty path components");
	T_REJECTS(one_file("rootfs/./x"), "\".\" is not allowed");
	T_REJECTS(one_file("./."), "\".\" is not allowed");
	T_REJECTS(one_file("rootfs/a\nb"),
	    "entry \"rootfs/a?b\": control characters are not allowed");
	T_REJECTS(one_file("rootfs/a\x1b[2Jb"), "control characters");
	T_REJECTS(one_file("rootfs/a\x7f"), "control characters");

	longc = malloc(LIM_PATH_COMPONENT_MAX + 16);
	strcpy(longc, "rootfs/");
	memset(longc + 7, 'c', LIM_PATH_COMPONENT_MAX + 1);
	longc[7 + LIM_PATH_COMPONENT_MAX + 1] = '\0';
	T_REJECTS(one_file(longc), "path component longer than 255 bytes");
	longc[7 + LIM_PATH_COMPONENT_MAX] = '\0';
	{
		struct tarmk *t = base();

		tm_file(t, longc, "x");
		T_ACCEPTS(tm_fd(t));
	}
	free(longc);

	longp = malloc(LIM_PATH_MAX + 2);
	for (i = 0; i < LIM_PATH_MAX + 1; i++)
		longp[i] = i % 100 == 99 ? '/' : 'p';
	memcpy(longp, "rootfs/", 7);
	longp[LIM_PATH_MAX + 1] = '\0';
	T_REJECTS(one_file(longp), "path longer than 4095 bytes");
	free(longp);

	deep = malloc(2 * (LIM_PATH_DEPTH_MAX + 1) + 8);
	strcpy(deep, "rootfs");
	for (i = 1; i < LIM_PATH_DEPTH_MAX + 1; i++)
		strcat(deep, "/d");
	T_REJECTS(one_file(deep), "path deeper than 128 components");
	free(deep);
}

T_TEST(test_path_normalize)
{
	static const struct {
		const char *in, *out;
		int slash;
	} ok[] = {
	    {".", "", 0},
	    {"./", "", 0},
	    {"./rootfs/", "rootfs", 1},
	    {"rootfs", "rootfs", 0},
	    {"./a/b", "a/b", 0},
	    {"a/b/", "a/b", 1},
	    {"..a/b..", "..a/b..", 0},
	};
	static const char *bad[] = {
	    "", "././a", "a//", "a/./b", "//", "/", "./../a", "a/b//"};
	const char *p;
	size_t i, len;
	int slash;
	char why[256];

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (path_normalize(
			ok[i].in, &p, &len, &slash, why, sizeof(why)) != 0) {
			T_FAIL("\"%s\": %s", ok[i].in, why);
			continue;
		}
		T_CHECK(
		    len == strlen(ok[i].out) && memcmp(p, ok[i].out, len) == 0);
		T_EQ_INT(slash, ok[i].slash);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(!(path_normalize(bad[i], &p, &len, &slash, why,
			       sizeof(why)) == 0),
		    "\"%s\" accepted", bad[i]);
}

T_TEST(test_root_entry)
{
	struct tarmk *t = base();

	tm_dir(t, ".");
	tm_dir(t, "./");
	T_REJECTS(tm_fd(t), "entry \"./\": duplicate entry");

	t = base();
	tm_file(t, ".", "");
	T_REJECTS(tm_fd(t), "the root entry must be a directory");
}

T_TEST(test_through_symlink)
{
	struct tarmk *t = base();

	/* The classic breakout: a symlink, then a file below it. */
	tm_symlink(t, "rootfs/bin", "/usr/bin");
	tm_file(t, "rootfs/bin/sh", "pwned");
	T_REJECTS(tm_fd(t), "entry \"rootfs/bin/sh\": goes through the "
			    "symlink \"rootfs/bin\"");

	t = base();
	tm_symlink(t, "rootfs/etc", "/etc");
	tm_dir(t, "rootfs/etc/cron.d/");
	T_REJECTS(tm_fd(t), "goes through the symlink \"rootfs/etc\"");

	t = base();
	tm_file(t, "rootfs/f", "x");
	tm_file(t, "rootfs/f/x", "x");
	T_REJECTS(tm_fd(t), "goes through the regular file \"rootfs/f\"");

	t = base();
	tm_node(t, "rootfs/dev", AE_IFCHR);
	tm_file(t, "rootfs/dev/x", "x");
	T_REJECTS(tm_fd(t), "goes through the device \"rootfs/dev\"");

	/* A symlink planted after the files below its name. */
	t = base();
	tm_file(t, "rootfs/lib/x", "x");
	tm_symlink(t, "rootfs/lib", "/lib");
	T_REJECTS(tm_fd(t), "entry \"rootfs/lib\": symlink replaces a "
			    "directory implied by earlier entries");

	/* Split rootfs: the same, at the root. */
	{
		struct tarmk *m = tm_new("none");
		char e[LIM_ERROR_MAX] = "";
		int fd;

		tm_file(m, "metadata.yaml", MINI_META);
		fd = tm_fd(m);
		t = tm_new("gzip");
		tm_symlink(t, "etc", "/etc");
		tm_file(t, "etc/passwd", "x");
		T_EQ_INT(run(fd, tm_fd(t), e, sizeof(e)), -1);
		T_CONTAINS(e, "rootfs tarball: entry \"etc/passwd\": goes "
			      "through the symlink \"etc\"");
	}
}

T_TEST(test_duplicates_and_type_changes)
{
	struct tarmk *t = base();

	tm_file(t, "rootfs/a", "x");
	tm_file(t, "rootfs/a", "y");
	T_REJECTS(tm_fd(t), "entry \"rootfs/a\": duplicate entry");

	t = base();
	tm_file(t, "rootfs/a", "x");
	tm_file(t, "./rootfs/a", "y");
	T_REJECTS(tm_fd(t), "entry \"./rootfs/a\": duplicate entry");

	t = base();
	tm_dir(t, "rootfs/d/");
	tm_dir(t, "rootfs/d");
	T_REJECTS(tm_fd(t), "entry \"rootfs/d/\": duplicate entry");

	t = base();
	tm_file(t, "rootfs/a", "x");
	tm_dir(t, "rootfs/a/");
	T_REJECTS(tm_fd(t), "changes the type of an earlier entry "
			    "(regular file, now directory)");

	t = base();
	tm_dir(t, "rootfs/a/");
	tm_symlink(t, "rootfs/a", "/");
	T_REJECTS(tm_fd(t), "(directory, now symlink)");

	t = base();
	tm_dir(t, "rootfs/");
	T_REJECTS(tm_fd(t), "entry \"rootfs/\": duplicate entry");

	/* A directory listed after its contents is fine. */
	t = base();
	tm_file(t, "rootfs/usr/bin/x", "x");
	tm_dir(t, "rootfs/usr/bin/");
	tm_dir(t, "rootfs/usr");
	T_ACCEPTS(tm_fd(t));
}

T_TEST(test_hardlinks)
{
	struct tarmk *t = base();

	tm_file(t, "rootfs/a", "x");
	tm_hardlink(t, "rootfs/b", "rootfs/a");
	tm_hardlink(t, "rootfs/c", "./rootfs/b");
	T_ACCEPTS(tm_fd(t));

	t = base();
	tm_hardlink(t, "rootfs/b", "rootfs/a");
	tm_file(t, "rootfs/a", "x");
	T_REJECTS(tm_fd(t), "entry \"rootfs/b\": hard link to \"rootfs/a\", "
			    "which is not an earlier regular file");

	t = base();
	tm_hardlink(t, "rootfs/b", "rootfs/missing");
	T_REJECTS(tm_fd(t), "which is not an earlier regular file");

	t = base();
	tm_dir(t, "rootfs/d/");
	tm_hardlink(t, "rootfs/b", "rootfs/d");
	T_REJECTS(tm_fd(t), "which is not an earlier regular file");

	t = base();
	tm_symlink(t, "rootfs/s", "/etc/shadow");
	tm_hardlink(t, "rootfs/b", "rootfs/s");
	T_REJECTS(tm_fd(t), "which is not an earlier regular file");

	t = base();
	tm_hardlink(t, "rootfs/shadow", "metadata.yaml");
	T_REJECTS(tm_fd(t), "hard link to \"metadata.yaml\" outside its "
			    "top-level directory");

	t = base();
	tm_file(t, "templates/t", "x");
	tm_hardlink(t, "rootfs/t", "templates/t");
	T_REJECTS(tm_fd(t), "outside its top-level directory");

	t = base();
	tm_hardlink(t, "rootfs/x", "rootfs/../../etc/shadow");
	T_REJECTS(tm_fd(t), "\"..\" is not allowed");

	t = base();
	tm_hardlink(t, "rootfs/x", "/etc/shadow");
	T_REJECTS(tm_fd(t), "absolute paths are not allowed");

	t = base();
	tm_file(t, "rootfs/a", "x");
	tm_hardlink(t, "rootfs/a", "rootfs/a");
	T_REJECTS(tm_fd(t), "entry \"rootfs/a\": changes the type of an "
			    "earlier entry (regular file, now hard link)");
}

T_TEST(test_devices_and_xattrs)
{
	struct tarmk *t = base();

	tm_node(t, "rootfs/dev/null", AE_IFCHR);
	tm_node(t, "rootfs/dev/loop0", AE_IFBLK);
	tm_node(t, "rootfs/fifo", AE_IFIFO);
	tm_xattr(t, "rootfs/cap", LIM_XATTR_MAX);
	T_ACCEPTS(tm_fd(t));

	t = base();
	tm_node(t, "templates/null", AE_IFCHR);
	T_REJECTS(tm_fd(t), "entry \"templates/null\": devices are only "
			    "allowed in the rootfs");

	t = base();
	tm_node(t, "null", AE_IFBLK);
	T_REJECTS(tm_fd(t), "devices are only allowed in the rootfs");

	t = base();
	tm_xattr(t, "rootfs/big", LIM_XATTR_MAX + 1);
	T_REJECTS(tm_fd(t), "entry \"rootfs/big\": xattr larger than 65536");
}

/* Tar cannot carry a socket in libarchive 3.6; newer readers can. */
T_TEST(test_entry_admit_direct)
{
	struct part *p = calloc(1, sizeof(*p));
	struct img_part_report rep;
	struct archive_entry *e = archive_entry_new();
	struct tar_entry en;
	uint64_t used = 0;
	char err[LIM_ERROR_MAX] = "";

	memset(&rep, 0, sizeof(rep));
	p->kind = PART_UNIFIED;
	p->label = "";
	p->rep = &rep;
	T_EQ_INT(pidx_init(&p->idx, &used, LIM_NAME_INDEX_MAX), 0);

	archive_entry_set_pathname(e, "rootfs/sock");
	archive_entry_set_filetype(e, AE_IFSOCK);
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), -1);
	T_CONTAINS(err, "entry \"rootfs/sock\": sockets are not allowed");

	archive_entry_set_filetype(e, 0);
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), -1);
	T_CONTAINS(err, "unsupported entry type");

	archive_entry_set_filetype(e, AE_IFLNK);
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), -1);
	T_CONTAINS(err, "symlink without a target");
	archive_entry_set_symlink(e, "a\nb");
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), -1);
	T_CONTAINS(err, "control characters are not allowed in a symlink");

	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, -1);
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), -1);
	T_CONTAINS(err, "negative size");

	archive_entry_set_size(e, 3);
	T_EQ_INT(entry_admit(p, e, &en, err, sizeof(err)), 0);
	T_EQ_INT(en.type, NODE_REG);
	T_EQ_INT(en.size, 3);
	T_CHECK(pidx_find(&p->idx, "rootfs/sock", 11) != NULL);
	T_CHECK(pidx_find(&p->idx, "rootfs", 6)->flags & NODE_IMPLIED);

	archive_entry_free(e);
	pidx_free(&p->idx);
	free(p);
}

int
main(void)
{
	T_RUN(test_names);
	T_RUN(test_path_normalize);
	T_RUN(test_root_entry);
	T_RUN(test_through_symlink);
	T_RUN(test_duplicates_and_type_changes);
	T_RUN(test_hardlinks);
	T_RUN(test_devices_and_xattrs);
	T_RUN(test_entry_admit_direct);
	return T_DONE();
}
