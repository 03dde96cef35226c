/*
 * image alias create, delete, list and rename (lxc/image_alias.go).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/names.h"
#include "imgctl/api.h"
#include "imgctl/schema.h"
#include "imgctl/table.h"
#include "imgctl/yamlout.h"

/* /1.0/images/aliases/<name>, the name percent-encoded. */
static int
alias_path(struct ctl *ctl, const char *name, char path[API_PATH_MAX])
{
	char esc[3 * LIM_ALIAS_NAME_MAX + 1];

	if (*name == '\0') {
		ctl_err("Alias name missing");
		return -1;
	}
	if (strlen(name) > LIM_ALIAS_NAME_MAX ||
	    api_escape(name, 0, esc, sizeof(esc)) == -1) {
		ctl_err("invalid alias name \"%s\": longer than %d bytes", name,
		    LIM_ALIAS_NAME_MAX);
		return -1;
	}
	return api_path(ctl, path, "/1.0/images/aliases/%s", esc);
}

/* A name to create: the store's rule, said here in imgctl's words. */
static int
alias_new_ok(const char *name)
{
	char why[160];

	if (alias_name_check(name, why, sizeof(why)) == 0)
		return 0;
	ctl_err("invalid alias name \"%s\": %s", name, why);
	return -1;
}

static int
create_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"description", 1, NULL, 'd'}, {NULL, 0, NULL, 0}};
	char fp[IMGCTL_FP_LEN + 1], path[API_PATH_MAX];
	const char *desc = "";
	struct resp r = {0};
	json_t *body;
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'd')
			desc = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_alias_create), 0) : -1;
	}
	if (cmd_nargs(&cmd_alias_create, argc - optind, 2, 2) == -1 ||
	    alias_path(ctl, argv[optind], path) == -1 ||
	    api_image(ctl, argv[optind + 1], fp, NULL, NULL) == -1 ||
	    api_path(ctl, path, "/1.0/images/aliases") == -1)
		return -1;
	/* api.ImageAliasesPost, as lxc sends it. */
	if (alias_new_ok(argv[optind]) == -1)
		return -1;
	body = json_pack("{s:s, s:s, s:s, s:s}", "description", desc, "target",
	    fp, "name", argv[optind], "type", "");
	if (body == NULL)
		ctl_err("alias name and description must be UTF-8");
	else
		rc = api_call(ctl, "POST", path, body, NULL, &r);
	json_decref(body);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_alias_create = {"create", NULL, create_run,
    "alias create ALIAS IMAGE [--description TEXT]",
    "Create an alias for an existing image.\n\n"
    "IMAGE is an alias, a fingerprint or a unique fingerprint prefix.\n\n"
    "      --description TEXT  the alias's description"};

static int
delete_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_alias_delete, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_alias_delete, argc - optind, 1, 1) == -1 ||
	    alias_path(ctl, argv[optind], path) == -1)
		return -1;
	rc = api_call(ctl, "DELETE", path, NULL, NULL, &r);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_alias_delete = {
    "delete", "rm", delete_run, "alias delete ALIAS", "Delete an image alias."};

static int
rename_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	json_t *body;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_alias_rename, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_alias_rename, argc - optind, 2, 2) == -1 ||
	    alias_path(ctl, argv[optind], path) == -1)
		return -1;
	if (*argv[optind + 1] == '\0') {
		ctl_err("the new alias name must not be empty");
		return -1;
	}
	if (alias_new_ok(argv[optind + 1]) == -1)
		return -1;
	if ((body = json_pack("{s:s}", "name", argv[optind + 1])) == NULL) {
		ctl_err("alias name must be UTF-8: %s", argv[optind + 1]);
		return -1;
	}
	rc = api_call(ctl, "POST", path, body, NULL, &r);
	json_decref(body);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_alias_rename = {"rename", "mv", rename_run,
    "alias rename ALIAS NEW-NAME", "Rename an image alias."};

/* lxc's aliasShouldShow: any filter in the name or the target. */
static int
alias_shown(const json_t *a, char *const *filters, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(js_str(a, "name"), filters[i]) != NULL ||
		    strstr(js_str(a, "target"), filters[i]) != NULL)
			return 1;
	return n == 0;
}

static int
alias_row(struct table *t, const json_t *a)
{
	const char *type = js_str(a, "type");
	char *row[4], *p;

	row[0] = strdup(js_str(a, "name"));
	row[1] = strndup(js_str(a, "target"), 12);
	row[2] = strdup(*type ? type : "container");
	row[3] = strdup(js_str(a, "description"));
	if (row[0] == NULL || row[1] == NULL || row[2] == NULL ||
	    row[3] == NULL) {
		free(row[0]), free(row[1]), free(row[2]), free(row[3]);
		ctl_err("out of memory");
		return -1;
	}
	for (p = row[2]; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return table_add(t, row);
}

static int
alias_print(
    const json_t *aliases, char *const *filters, size_t n, enum tfmt fmt)
{
	static const char *const hdr[] = {
	    "ALIAS", "FINGERPRINT", "TYPE", "DESCRIPTION"};
	struct table t;
	json_t *a;
	size_t i;
	int rc = 0;

	/* Like lxc, JSON and YAML show every alias, whatever the filters. */
	if (fmt == TFMT_JSON)
		return gojson_write(stdout, aliases);
	if (fmt == TFMT_YAML)
		return yout_list(stdout, aliases, sch_alias_entry);
	table_init(&t, hdr, 4);
	for (i = 0; i < json_array_size(aliases) && rc == 0; i++) {
		a = json_array_get(aliases, i);
		if (alias_shown(a, filters, n))
			rc = alias_row(&t, a);
	}
	if (rc == 0) {
		table_sort(&t);
		rc = table_write(stdout, &t, fmt);
	}
	table_free(&t);
	return rc;
}

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *fmtname = "table";
	char path[API_PATH_MAX];
	struct resp r = {0};
	json_t *aliases = NULL;
	enum tfmt fmt;
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_alias_list), 0) : -1;
	}
	if (tfmt_parse(fmtname, &fmt) == -1 ||
	    api_path(ctl, path, "/1.0/images/aliases?recursion=1") == -1 ||
	    api_call(ctl, "GET", path, NULL, NULL, &r) == -1)
		goto out;
	if (!json_is_array(r.meta)) {
		ctl_err("the server's list of aliases is not a JSON array");
		goto out;
	}
	if ((aliases = sch_normalize_list(r.meta, sch_alias_entry)) == NULL)
		ctl_err("out of memory");
	else if ((rc = alias_print(aliases, argv + optind,
		      (size_t)(argc - optind), fmt)) == -1)
		ctl_err("cannot write the list");
out:
	json_decref(aliases);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_alias_list = {"list", "ls", list_run,
    "alias list [FILTER...] [-f FORMAT]",
    "List image aliases. A filter matches part of an alias name or of\n"
    "its fingerprint; an alias is listed if any filter matches.\n\n"
    "  -f, --format FORMAT  table, compact, csv, json or yaml "
    "(default table)"};
