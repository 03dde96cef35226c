/*
 * Unit tests: unpacking (extract.c) and template targets (render.c's
 * img_open_target) against hostile archives and trees, run here without
 * the sandbox on purpose: each case aims at a directory of ours next to
 * the target, so that an escape would show. After every refusal nothing
 * outside the target changed. (The sandboxed program is tested in
 * test_sandbox.c and tests/integration/unpack.sh.)
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/t.h"
#include "tests/unit/tarmk.h"
#include "unpacker/extract.h"

#define MINI_META "architecture: x86_64\ncreation_date: 1\n"

static char outer[] = "/tmp/imgd-xtest-XXXXXX";
static char target[64];

/* Entries in dir (not recursive). */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A fresh empty target beside the sentinel; its dirfd. */
static int
fresh_target(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", target, target);
	if (system(cmd) != 0)
		return -1;
	return open(target, O_RDONLY | O_DIRECTORY);
}

/* Unpacks fd with lim into a fresh target: 0 or -1 and err. */
static int
unpack(int fd, const struct img_limits *lim, unsigned flags, char *err,
    size_t errlen, struct img_xresult *xr)
{
	struct img_limits def;
	struct img_meta m;
	struct img_report r;
	int root = fresh_target(), rc;

	if (lim == NULL) {
		img_limits_default(&def);
		lim = &def;
	}
	rc = img_extract(fd, -1, lim, root, flags, &m, &r, xr, err, errlen);
	if (rc == 0)
		img_meta_free(&m);
	close(root);
	close(fd);
	return rc;
}

static struct tarmk *
base(void)
{
	struct tarmk *t = tm_new("none");

	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "rootfs/");
	return t;
}

/* Nothing outside the target: the sentinel alone beside it, and no file
 * at the absolute paths the cases aim at. */
static void
check_outside(const char *what)
{
	struct stat st;

	T_EXPECT(count_entries(outer) == 2, "%s: %d entries beside the target",
	    what, count_entries(outer));
	T_EXPECT(stat("/tmp/imgd-xtest-escape", &st) == -1, "%s: wrote outside",
	    what);
}

#define T_REFUSES(t, lim, flags, needle, what)                                 \
	do {                                                                   \
		char e_[LIM_ERROR_MAX] = "";                                   \
		struct img_xresult xr_;                                        \
		T_EQ_INT(                                                      \
		    unpack(tm_fd(t), lim, flags, e_, sizeof(e_), &xr_), -1);   \
		T_CONTAINS(e_, needle);                                        \
		check_outside(what);                                           \
	} while (0)

T_TEST(good_tree)
{
	struct tarmk *t = base();
	struct img_xresult xr;
	char err[LIM_ERROR_MAX], path[200], link[64];
	struct stat a, b;

	tm_dir(t, "rootfs/etc/");
	tm_file(t, "rootfs/etc/hostname", "old\n");
	tm_symlink(t, "rootfs/etc/lnk", "/etc/hostname");
	tm_hardlink(t, "rootfs/etc/hard", "rootfs/etc/hostname");
	tm_file(t, "rootfs/implied/dir/file", "x");
	tm_sparse(t, "rootfs/sparse", 1 << 20);
	tm_file(t, "templates/hostname.tpl", "{{ container.name }}\n");
	T_EXPECT(
	    unpack(tm_fd(t), NULL, 0, err, sizeof(err), &xr) == 0, "%s", err);
	T_EQ_INT(xr.files, 3);
	T_EQ_INT(xr.symlinks, 1);
	T_EQ_INT(xr.hardlinks, 1);
	T_EQ_INT(xr.ntpls, 1);
	if (xr.ntpls == 1)
		T_EQ_STR(xr.tpls[0].name, "hostname.tpl");
	snprintf(path, sizeof(path), "%s/etc/hostname", target);
	T_CHECK(stat(path, &a) == 0);
	snprintf(path, sizeof(path), "%s/etc/hard", target);
	T_CHECK(stat(path, &b) == 0 && a.st_ino == b.st_ino);
	snprintf(path, sizeof(path), "%s/etc/lnk", target);
	T_CHECK(readlink(path, link, sizeof(link)) == 13);
	snprintf(path, sizeof(path), "%s/sparse", target);
	T_CHECK(stat(path, &a) == 0 && a.st_size == 1 << 20 &&
		a.st_blocks * 512 < 1 << 20);
	snprintf(path, sizeof(path), "%s/implied/dir/file", target);
	T_CHECK(stat(path, &a) == 0);
	T_EQ_INT(count_entries(target), 3); /* etc, implied, sparse */
	img_xresult_free(&xr);
	check_outside("good tree");
}

T_TEST(hostile_archives)
{
	struct img_limits lim;
	struct tarmk *t;
	char deep[30000], longp[5100];
	size_t n = 0;

	t = base();
	tm_file(t, "/tmp/imgd-xtest-escape", "x");
	T_REFUSES(t, NULL, 0, "absolute paths are not allowed", "absolute");
	t = base();
	tm_file(t, "rootfs/../../escape", "x");
	T_REFUSES(t, NULL, 0, "\"..\" is not allowed", "dotdot");
	t = base();
	tm_symlink(t, "rootfs/out", "../..");
	tm_file(t, "rootfs/out/escape", "x");
	T_REFUSES(t, NULL, 0, "symlink", "through a symlink");
	t = base();
	tm_file(t, "rootfs/a", "x");
	tm_symlink(t, "rootfs", "/tmp");
	T_REFUSES(t, NULL, 0, "rootfs", "rootfs replaced by a symlink");
	t = base();
	tm_dir(t, "rootfs/etc/");
	tm_symlink(t, "rootfs/etc", "/tmp");
	T_REFUSES(t, NULL, 0, "rootfs/etc", "directory replaced by a symlink");
	t = base();
	tm_hardlink(t, "rootfs/passwd", "/etc/passwd");
	T_REFUSES(t, NULL, 0, "hard link", "hard link outside");
	t = base();
	tm_symlink(t, "rootfs/s", "/etc/passwd");
	tm_hardlink(t, "rootfs/h", "rootfs/s");
	T_REFUSES(t, NULL, 0, "not an earlier regular file",
	    "hard link to a symlink");
	t = base();
	tm_node(t, "rootfs/dev/null", AE_IFCHR);
	T_REFUSES(t, NULL, 0, "a character device; device nodes",
	    "device node, unprivileged");
	t = base();
	tm_node(t, "rootfs/fifo", AE_IFIFO);
	T_REFUSES(t, NULL, 0, "a FIFO", "FIFO");
	t = base();
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "rootfs/", 7);
	for (size_t i = 100; i < 5000; i += 100)
		longp[i] = '/';
	longp[5000] = '\0';
	tm_file(t, longp, "x");
	T_REFUSES(t, NULL, 0, "path longer than", "5000-byte path");
	t = base();
	n = (size_t)snprintf(deep, sizeof(deep), "rootfs");
	for (int i = 0; i < 10000 && n + 3 < sizeof(deep); i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "/d");
	tm_file(t, deep, "x");
	T_REFUSES(t, NULL, 0, "path", "10,000-deep directories");
	/* The entry limit, at 1,000 here (1,000,000 by default, the same
	 * check): a tree of empty files one over it. */
	img_limits_default(&lim);
	lim.entries_max = 1000;
	t = base();
	for (int i = 0; i < 1000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "rootfs/f%d", i);
		tm_file(t, name, "");
	}
	T_REFUSES(t, &lim, 0, "more than 1000 entries", "too many files");
	/* A small xz that expands past the ratio limit. */
	t = tm_new("xz");
	tm_file(t, "metadata.yaml", MINI_META);
	tm_dir(t, "rootfs/");
	tm_zeros(t, "rootfs/bomb", 200ULL << 20);
	T_REFUSES(t, NULL, 0, "decompression bomb", "xz bomb");
	t = base();
	tm_sparse(t, "rootfs/huge", 1ULL << 40);
	T_REFUSES(t, NULL, 0, "sparse files count at their full size",
	    "sparse 1 TiB");
}

/* Template targets resolve inside the root, or are refused. */
T_TEST(template_targets)
{
	char err[LIM_ERROR_MAX], path[200];
	int root = fresh_target(), fd, created;
	struct stat st;

	T_CHECK(mkdirat(root, "etc", 0755) == 0);
	T_CHECK(symlinkat("/etc/passwd", root, "etc/hostname") == 0);
	T_CHECK(symlinkat("../../../../../../tmp/imgd-xtest-escape", root,
		    "etc/out") == 0);
	T_CHECK(symlinkat("loop2", root, "etc/loop1") == 0);
	T_CHECK(symlinkat("loop1", root, "etc/loop2") == 0);
	T_CHECK(symlinkat("/", root, "rootlink") == 0);
	/* /etc/hostname -> /etc/passwd: the rootfs's, not the host's. */
	T_EQ_INT(img_open_target(root, "/etc/hostname", 0, 0, 0, &fd, &created,
		     err, sizeof(err)),
	    1);
	T_CHECK(fd >= 0 && created == 1);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/etc/passwd", target);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	/* Exists now: create_only skips it, otherwise it is reused. */
	T_EQ_INT(img_open_target(root, "/etc/passwd", 1, 0, 0, &fd, &created,
		     err, sizeof(err)),
	    0);
	T_EQ_INT(img_open_target(root, "/rootlink/etc/passwd", 0, 0, 0, &fd,
		     &created, err, sizeof(err)),
	    1);
	T_CHECK(created == 0);
	if (fd >= 0)
		close(fd);
	T_EQ_INT(img_open_target(root, "/etc/out", 0, 0, 0, &fd, &created, err,
		     sizeof(err)),
	    -1);
	T_CONTAINS(err, "leads out of the rootfs");
	T_EQ_INT(img_open_target(root, "/etc/loop1", 0, 0, 0, &fd, &created,
		     err, sizeof(err)),
	    -1);
	T_CONTAINS(err, "too many levels of symlinks");
	T_EQ_INT(img_open_target(
		     root, "/etc", 0, 0, 0, &fd, &created, err, sizeof(err)),
	    -1);
	T_CONTAINS(err, "exists and is not a file");
	/* Missing parents are made. */
	T_EQ_INT(img_open_target(root, "/new/dir/file", 0, 0, 0, &fd, &created,
		     err, sizeof(err)),
	    1);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/new/dir", target);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755);
	close(root);
	check_outside("template targets");
}

int
main(void)
{
	char cmd[200];

	if (mkdtemp(outer) == NULL)
		return 1;
	snprintf(target, sizeof(target), "%s/target", outer);
	snprintf(cmd, sizeof(cmd), "echo keep > %s/sentinel", outer);
	if (system(cmd) != 0)
		return 1;
	umask(0);
	T_RUN(good_tree);
	T_RUN(hostile_archives);
	T_RUN(template_targets);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", outer);
	if (system(cmd) != 0)
		return 1;
	return T_DONE();
}
