/*
 * imgctl: the verbs and their dispatch.
 *
 *	imgctl [--project NAME] [-q] image VERB [ARGS...]
 *	imgctl [--project NAME] [-q] image alias VERB [ARGS...]
 *	imgctl [--project NAME] [-q] project VERB [ARGS...]
 *
 * Options may come anywhere, before or after the command words, as with
 * lxc. Exit status 0 on success, 1 with "Error: <message>" on stderr.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/imgctl.h"

static const struct cmd *const image_cmds[] = {&cmd_image_copy,
    &cmd_image_delete, &cmd_image_edit, &cmd_image_export,
    &cmd_image_get_property, &cmd_image_import, &cmd_image_info,
    &cmd_image_list, &cmd_image_refresh, &cmd_image_set_property,
    &cmd_image_show, &cmd_image_unpack, &cmd_image_unset_property, NULL};

static const struct cmd *const alias_cmds[] = {&cmd_alias_create,
    &cmd_alias_delete, &cmd_alias_list, &cmd_alias_rename, NULL};

static const struct cmd *const remote_cmds[] = {&cmd_remote_add,
    &cmd_remote_get_default, &cmd_remote_list, &cmd_remote_remove,
    &cmd_remote_rename, &cmd_remote_set_url, &cmd_remote_switch, NULL};

static const struct cmd *const project_cmds[] = {&cmd_project_create,
    &cmd_project_delete, &cmd_project_get, &cmd_project_list,
    &cmd_project_rename, &cmd_project_set, &cmd_project_show,
    &cmd_project_unset, NULL};

static const struct cmd *const audit_cmds[] = {
    &cmd_audit_list, &cmd_audit_verify, NULL};

static const struct {
	const char *name;
	const struct cmd *const *cmds;
} groups[] = {
    {"remote", remote_cmds}, {"project", project_cmds}, {"audit", audit_cmds}};

static const struct cmd *const trust_cmds[] = {&cmd_trust_add, &cmd_trust_list,
    &cmd_trust_remove, &cmd_trust_tokens, &cmd_trust_revoke, NULL};

static void
list_help(const char *what, const struct cmd *const *cmds)
{
	size_t i;

	printf("Usage:\n  imgctl image %sVERB [ARGS...]\n\nVerbs:\n", what);
	for (i = 0; cmds[i] != NULL; i++)
		printf("  %s%s%s%s\n", cmds[i]->usage,
		    cmds[i]->alias ? " (alias: " : "",
		    cmds[i]->alias ? cmds[i]->alias : "",
		    cmds[i]->alias ? ")" : "");
	if (*what == '\0')
		printf("  alias VERB ...   (imgctl image alias --help)\n");
	printf("\n%s", ctl_global_help);
}

static const struct cmd *
cmd_find(const struct cmd *const *cmds, const char *name)
{
	size_t i;

	for (i = 0; cmds[i] != NULL; i++)
		if (strcmp(cmds[i]->name, name) == 0 ||
		    (cmds[i]->alias && strcmp(cmds[i]->alias, name) == 0))
			return cmds[i];
	return NULL;
}

/* No verb: --version, --help, or the list of verbs. */
static int
main_noverb(struct ctl *ctl, int argc, char **argv, int nwords, int alias)
{
	static const struct option opts[] = {
	    {"version", 0, NULL, 'V'}, {NULL, 0, NULL, 0}};
	int ch, r;

	optind = 0;
	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'V' && nwords == 0) {
			printf("imgctl %s\n", IMGCTL_VERSION);
			return 0;
		}
		if (ch == 'V')
			ch = '?', optopt = 0;
		if ((r = ctl_opt(ctl, ch, argv)) == -1)
			return -1;
	}
	if (nwords == 0)
		printf("imgctl manages images of imgd, as \"lxc image\" "
		       "does LXD's.\n\n");
	list_help(alias ? "alias " : "", alias ? alias_cmds : image_cmds);
	return 0;
}

static int
main_dispatch(struct ctl *ctl, int argc, char **argv)
{
	const struct cmd *const *cmds = image_cmds;
	const struct cmd *cmd;
	int idx[3], n, i, j, k, alias, word;

	n = cmd_words(argc, argv, idx);
	/* imgctl GROUP VERB: the verb sees what follows it. */
	for (size_t g = 0; n >= 1 && g < sizeof(groups) / sizeof(groups[0]);
	     g++) {
		if (strcmp(argv[idx[0]], groups[g].name) != 0)
			continue;
		if (n < 2) {
			printf("Usage:\n  imgctl %s VERB [ARGS...]\n\n"
			       "Verbs:\n",
			    groups[g].name);
			for (i = 0; groups[g].cmds[i] != NULL; i++)
				printf("  %s\n", groups[g].cmds[i]->usage);
			return 0;
		}
		if ((cmd = cmd_find(groups[g].cmds, argv[idx[1]])) == NULL) {
			ctl_err("unknown command \"%s\" for \"imgctl %s\"",
			    argv[idx[1]], groups[g].name);
			return -1;
		}
		n = 2;
		goto run;
	}
	if (n >= 1 && strcmp(argv[idx[0]], "publish") == 0) {
		cmd = &cmd_publish;
		n = 1; /* what follows is DIR and options */
		goto run;
	}
	if (n >= 1 && strcmp(argv[idx[0]], "config") == 0) {
		if (n < 3 || strcmp(argv[idx[1]], "trust") != 0) {
			printf(
			    "Usage:\n  imgctl config trust VERB [ARGS...]\n\n"
			    "Verbs:\n");
			for (i = 0; trust_cmds[i] != NULL; i++)
				printf("  %s\n", trust_cmds[i]->usage);
			return n >= 2 && strcmp(argv[idx[1]], "trust") != 0
				   ? (ctl_err("unknown command \"%s\" for "
					      "\"imgctl config\"",
					  argv[idx[1]]),
					 -1)
				   : 0;
		}
		cmds = trust_cmds;
		if ((cmd = cmd_find(cmds, argv[idx[2]])) == NULL) {
			ctl_err("unknown command \"%s\" for \"imgctl config "
				"trust\"",
			    argv[idx[2]]);
			return -1;
		}
		goto run;
	}
	if (n >= 1 && strcmp(argv[idx[0]], "image") != 0) {
		ctl_err("unknown command \"%s\" for \"imgctl\"", argv[idx[0]]);
		return -1;
	}
	alias = n >= 2 && strcmp(argv[idx[1]], "alias") == 0;
	if (n < 2 || (alias && n < 3))
		return main_noverb(ctl, argc, argv, n, alias);
	if (alias)
		cmds = alias_cmds;
	if ((cmd = cmd_find(cmds, argv[idx[n - 1]])) == NULL) {
		ctl_err("unknown command \"%s\" for \"imgctl image%s\"",
		    argv[idx[n - 1]], alias ? " alias" : "");
		return -1;
	}
run:
	/* The verb sees its own arguments and options only. */
	for (i = j = 1; i < argc; i++) {
		for (word = k = 0; k < n; k++)
			word |= i == idx[k];
		if (!word)
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	optind = 0;
	return cmd->run(ctl, j, argv);
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	const char *dir;

	/* Display widths and letters of UTF-8 text, nothing else. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	memset(&ctl, 0, sizeof(ctl));
	if ((dir = getenv("IMGD_DIR")) == NULL || *dir == '\0')
		dir = IMGCTL_DIR_DEFAULT;
	if ((size_t)snprintf(ctl.sock, sizeof(ctl.sock), "%s/unix.socket",
		dir) >= sizeof(ctl.sock)) {
		fprintf(stderr, "Error: IMGD_DIR is too long\n");
		return 1;
	}
	opterr = 0;
	if (main_dispatch(&ctl, argc, argv) == -1) {
		fflush(stdout);
		fprintf(stderr, "Error: %s\n", ctl_errmsg());
		return 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "Error: cannot write the output\n");
		return 1;
	}
	return 0;
}
