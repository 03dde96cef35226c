/*
 * "image export" file names: the Content-Disposition filename, the base
 * name a server's suggestion is cut to (never a path elsewhere), and
 * lxc's rules for TARGET.
 */
#include <string.h>

#include "imgctl/expname.h"
#include "tests/t.h"

#define FP "cd744b2cb34b4bf7219684f6f24ab0e0026cfe38025032c46c384044533c147c"

T_TEST(content_disposition)
{
	static const struct {
		const char *in, *name;
	} good[] = {
	    {"inline;filename=" FP ".tar.gz", FP ".tar.gz"}, /* LXD */
	    {"attachment; filename=\"a b.tar\"", "a b.tar"},
	    {"attachment; filename=\"q\\\"x\"", "q\"x"},
	    {"inline; size=3; FileName=x.tar", "x.tar"},
	    {"inline ; filename=x ", "x"},
	};
	static const char *const bad[] = {"inline", "", "inline;",
	    "inline; filename", "inline; filename=", "inline; =x",
	    "inline; filename=\"open", "inline; filename=a b",
	    "inline; filename=a; filename=b"};
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		out[0] = '\0';
		T_EQ_INT(cd_filename(good[i].in, out, sizeof(out)), 0);
		T_EQ_STR(out, good[i].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(!(cd_filename(bad[i], out, sizeof(out)) != -1),
		    "accepted \"%s\"", bad[i]);
	T_EQ_INT(cd_filename("inline; filename=abcdef", out, 4), -1);
}

T_TEST(base_names)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"x.tar.gz", "x.tar.gz"},
	    {"../../etc/passwd", "passwd"},
	    {"/abs/dir/", "dir"},
	    {"a/./b", "b"},
	};
	static const char *const bad[] = {
	    "", "/", ".", "..", "a/..", "x\ny", "tab\there", "del\x7f"};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_EQ_INT(exp_base(good[i].in, out, sizeof(out)), 0);
		T_EQ_STR(out, good[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(!(exp_base(bad[i], out, sizeof(out)) != -1),
		    "accepted \"%s\"", bad[i]);
}

/* lxc's cmdImageExport naming, case by case. */
T_TEST(export_paths_as_lxc)
{
	static const struct {
		const char *target;
		int is_dir;
		const char *meta, *rootfs, *want_meta, *want_rootfs;
	} cases[] = {
	    {NULL, 1, FP ".tar.gz", NULL, "./" FP ".tar.gz", ""},
	    {NULL, 1, "meta-" FP ".tar.xz", FP ".tar", "./meta-" FP ".tar.xz",
		"./" FP ".tar"},
	    {NULL, 1, "", "", "./" FP, "./" FP ".root"},
	    {"out", 1, "m.tar.xz", "r.squashfs", "out/m.tar.xz",
		"out/r.squashfs"},
	    {"img", 0, FP ".tar.gz", NULL, "img.tar.gz", ""},
	    {"img", 0, "x.tar.xz", "y.tar", "img", "img.root"},
	    {"d/img.bin", 0, "a.b.c", NULL, "d/img.bin.b.c", ""},
	    {"img", 0, "noext", NULL, "img", ""},
	};
	char meta[PATH_MAX], rootfs[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ_INT(exp_paths(cases[i].target, cases[i].is_dir, FP,
			     cases[i].meta, cases[i].rootfs, meta, rootfs),
		    0);
		T_EQ_STR(meta, cases[i].want_meta);
		T_EQ_STR(rootfs, cases[i].want_rootfs);
	}
}

T_TEST(export_path_too_long)
{
	char target[PATH_MAX], meta[PATH_MAX], rootfs[PATH_MAX];

	memset(target, 'a', sizeof(target) - 4);
	target[sizeof(target) - 4] = '\0';
	T_EQ_INT(exp_paths(target, 0, FP, "x.tar.gz", NULL, meta, rootfs), -1);
	T_EQ_INT(exp_paths(target, 0, FP, "x", "y", meta, rootfs), -1);
	T_EQ_INT(exp_paths(target, 1, FP, "xy.tar", NULL, meta, rootfs), -1);
}

int
main(void)
{
	T_RUN(content_disposition);
	T_RUN(base_names);
	T_RUN(export_paths_as_lxc);
	T_RUN(export_path_too_long);
	return T_DONE();
}
