/*
 * imgctl's options and errors, shared by every verb: the global options
 * (accepted anywhere, as lxc's persistent flags), help, argument counts,
 * the command words, and the one error message a run ends with.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imgctl/imgctl.h"

static char ctl_errbuf[IMGCTL_ERR_MAX];

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl_errbuf, sizeof(ctl_errbuf), fmt, ap);
	va_end(ap);
}

const char *
ctl_errmsg(void)
{
	return ctl_errbuf[0] ? ctl_errbuf : "unknown error";
}

const char ctl_global_help[] =
    "Global flags:\n"
    "      --project NAME  use the project NAME\n"
    "  -q, --quiet         no progress and no success messages\n"
    "  -h, --help          this help\n\n"
    "The server is $IMGD_DIR/unix.socket (IMGD_DIR defaults "
    "to " IMGCTL_DIR_DEFAULT ").\n";

int
ctl_getopt(
    int argc, char **argv, const char *shortopts, const struct option *opts)
{
	static const struct option global[] = {
	    {"project", 1, NULL, CTL_OPT_PROJECT},
	    {"quiet", 0, NULL, 'q'},
	    {"help", 0, NULL, 'h'},
	};
	struct option all[CTL_OPTS_MAX];
	char letters[2 * CTL_OPTS_MAX];
	size_t n = 0, i;

	for (; opts[n].name != NULL && n < CTL_OPTS_MAX - 4; n++)
		all[n] = opts[n];
	for (i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		all[n++] = global[i];
	memset(&all[n], 0, sizeof(all[n]));
	/* ':' first: a missing argument is told apart from an unknown flag. */
	snprintf(letters, sizeof(letters), ":qh%s", shortopts);
	return getopt_long(argc, argv, letters, all, NULL);
}

int
ctl_opt(struct ctl *ctl, int ch, char **argv)
{
	const char *arg;

	switch (ch) {
	case 'q':
		ctl->quiet = 1;
		return 0;
	case 'h':
		return 1;
	case CTL_OPT_PROJECT:
		if (*optarg == '\0' || strlen(optarg) > LIM_PROJECT_NAME_MAX) {
			ctl_err("invalid project name \"%s\"", optarg);
			return -1;
		}
		ctl->project = optarg;
		return 0;
	case ':':
		ctl_err("flag needs an argument: %s", argv[optind - 1]);
		return -1;
	default:
		/* A long option is the last argument getopt looked at. */
		arg = argv[optind - 1];
		if (strncmp(arg, "--", 2) == 0 && optopt != 0)
			ctl_err("flag takes no value: %s", arg);
		else if (optopt == 0)
			ctl_err("unknown flag: %s", arg);
		else
			ctl_err("unknown shorthand flag: '%c'", optopt);
		return -1;
	}
}

int
cmd_opts_plain(struct ctl *ctl, const struct cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	int ch, r;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1)
		if ((r = ctl_opt(ctl, ch, argv)) != 0) {
			if (r == 1)
				cmd_help(cmd);
			return r;
		}
	return 0;
}

void
cmd_help(const struct cmd *cmd)
{
	printf("Usage:\n  imgctl image %s\n\n%s\n", cmd->usage, cmd->help);
	if (cmd->alias != NULL)
		printf("\nAlias: %s\n", cmd->alias);
	printf("\n%s", ctl_global_help);
}

int
cmd_nargs(const struct cmd *cmd, int n, int min, int max)
{
	if (n >= min && (max < 0 || n <= max))
		return 0;
	ctl_err(
	    "invalid number of arguments (usage: imgctl image %s)", cmd->usage);
	return -1;
}

/*
 * Find the command words among the arguments: up to three non-options,
 * skipping the argument of --project. Their indexes go to idx.
 */
int
cmd_words(int argc, char **argv, int idx[3])
{
	int i, n = 0, want = 2;

	for (i = 1; i < argc && n < want; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if (strcmp(argv[i], "--project") == 0)
				i++;
			continue;
		}
		idx[n++] = i;
		if (n == 2 && (strcmp(argv[i], "alias") == 0 ||
				  strcmp(argv[i], "trust") == 0))
			want = 3;
	}
	return n;
}
