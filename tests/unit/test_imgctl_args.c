/*
 * imgctl's argument handling: the command words among options, global
 * options anywhere (as lxc's persistent flags), a verb's own options,
 * and the errors for unknown flags, missing values and argument counts.
 */
#include <getopt.h>
#include <string.h>

#include "imgctl/imgctl.h"
#include "tests/t.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof(a[0])) - 1)

T_TEST(command_words)
{
	char *a1[] = {
	    "imgctl", "--project", "image", "image", "-q", "list", "x", NULL};
	char *a2[] = {
	    "imgctl", "image", "alias", "--project=p", "ls", "y", NULL};
	char *a3[] = {"imgctl", "-q", "image", NULL};
	char *a4[] = {"imgctl", "image", "--", "list", NULL};
	int idx[3];

	/* --project's value is not a word, even when it reads "image". */
	T_EQ_INT(cmd_words(NARGS(a1), a1, idx), 2);
	T_EQ_INT(idx[0], 3);
	T_EQ_INT(idx[1], 5);
	T_EQ_INT(cmd_words(NARGS(a2), a2, idx), 3);
	T_EQ_INT(idx[2], 4);
	T_EQ_INT(cmd_words(NARGS(a3), a3, idx), 1);
	T_EQ_INT(cmd_words(NARGS(a4), a4, idx), 1);
}

struct parsed {
	const char *columns, *format;
	int rc; /* 0, 1 (help) or -1 */
};

/* image list's options, as list_run() reads them. */
static struct parsed
parse_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"columns", 1, NULL, 'c'},
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	struct parsed p = {"lfpdatsu", "table", 0};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = ctl_getopt(argc, argv, "c:f:", opts)) != -1) {
		if (ch == 'c')
			p.columns = optarg;
		else if (ch == 'f')
			p.format = optarg;
		else if ((p.rc = ctl_opt(ctl, ch, argv)) != 0)
			break;
	}
	return p;
}

T_TEST(options_anywhere)
{
	char *argv[] = {"imgctl", "os=x", "-f", "csv", "--project", "p1",
	    "word", "-q", "--columns=lF", NULL};
	struct ctl ctl = {.quiet = 0};
	struct parsed p = parse_list(&ctl, NARGS(argv), argv);

	T_EQ_INT(p.rc, 0);
	T_EQ_STR(p.format, "csv");
	T_EQ_STR(p.columns, "lF");
	T_EQ_STR(ctl.project, "p1");
	T_EQ_INT(ctl.quiet, 1);
	/* Positional arguments are moved to the end, in order. */
	T_EQ_INT(NARGS(argv) - optind, 2);
	T_EQ_STR(argv[optind], "os=x");
	T_EQ_STR(argv[optind + 1], "word");
}

T_TEST(double_dash_ends_options)
{
	char *argv[] = {"imgctl", "--", "-x", NULL};
	struct ctl ctl = {.quiet = 0};
	struct parsed p = parse_list(&ctl, NARGS(argv), argv);

	T_EQ_INT(p.rc, 0);
	T_EQ_STR(argv[optind], "-x");
}

T_TEST(help_flag)
{
	char *argv[] = {"imgctl", "-h", NULL};
	struct ctl ctl = {.quiet = 0};

	T_EQ_INT(parse_list(&ctl, NARGS(argv), argv).rc, 1);
}

T_TEST(option_errors)
{
	static const struct {
		const char *arg, *arg2, *msg;
	} cases[] = {
	    {"--bogus", NULL, "unknown flag: --bogus"},
	    {"-x", NULL, "unknown shorthand flag: 'x'"},
	    {"-f", NULL, "flag needs an argument: -f"},
	    {"--format", NULL, "flag needs an argument: --format"},
	    {"--project", NULL, "flag needs an argument: --project"},
	    {"--project", "", "invalid project name \"\""},
	    {"--project",
		"a-project-name-that-is-much-longer-than-sixty-three-bytes-"
		"in-all",
		"invalid project name"},
	    {"--quiet=yes", NULL, "flag takes no value: --quiet=yes"},
	    {"-qz", NULL, "unknown shorthand flag: 'z'"},
	};
	struct ctl ctl;
	char *argv[4];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ctl, 0, sizeof(ctl));
		argv[0] = "imgctl";
		argv[1] = (char *)cases[i].arg;
		argv[2] = (char *)cases[i].arg2;
		argv[3] = NULL;
		T_EQ_INT(parse_list(&ctl, cases[i].arg2 ? 3 : 2, argv).rc, -1);
		T_CONTAINS(ctl_errmsg(), cases[i].msg);
	}
}

T_TEST(argument_counts)
{
	static const struct cmd c = {"info", NULL, NULL, "info IMAGE", ""};

	T_EQ_INT(cmd_nargs(&c, 1, 1, 1), 0);
	T_EQ_INT(cmd_nargs(&c, 5, 1, -1), 0);
	T_EQ_INT(cmd_nargs(&c, 0, 1, 1), -1);
	T_EQ_STR(ctl_errmsg(),
	    "invalid number of arguments (usage: imgctl image info IMAGE)");
	T_EQ_INT(cmd_nargs(&c, 2, 1, 1), -1);
}

T_TEST(error_message_kept)
{
	ctl_err("first %d", 1);
	T_EQ_STR(ctl_errmsg(), "first 1");
	ctl_err("%s", "second");
	T_EQ_STR(ctl_errmsg(), "second");
}

int
main(void)
{
	T_RUN(command_words);
	T_RUN(options_anywhere);
	T_RUN(double_dash_ends_options);
	T_RUN(help_flag);
	T_RUN(option_errors);
	T_RUN(argument_counts);
	T_RUN(error_message_kept);
	return T_DONE();
}
