/*
 * project create, delete, get, list, rename, set, show and unset
 * (lxc/project.go), on /1.0/projects. A project path never carries
 * ?project=: it names the project itself.
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

static int
project_path(const char *name, char path[API_PATH_MAX])
{
	char esc[3 * LIM_PROJECT_NAME_MAX + 1];

	if (*name == '\0') {
		ctl_err("Missing project name");
		return -1;
	}
	if (!project_name_ok(name) || api_escape(name, 0, esc, sizeof(esc)))
		return ctl_err("Project not found"), -1;
	snprintf(path, API_PATH_MAX, "/1.0/projects/%s", esc);
	return 0;
}

/* GET one project, normalized as lxc's api.Project; its ETag in etag. */
static json_t *
project_get(struct ctl *ctl, const char *name, char etag[API_ETAG_MAX])
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	json_t *p = NULL;

	if (project_path(name, path) == 0 &&
	    api_call(ctl, "GET", path, NULL, NULL, &r) == 0) {
		if (!json_is_object(r.meta))
			ctl_err("the server's project is not a JSON object");
		else if ((p = sch_normalize(r.meta, sch_project)) == NULL)
			ctl_err("out of memory");
		if (etag)
			snprintf(etag, API_ETAG_MAX, "%s", r.etag);
	}
	resp_free(&r);
	return p;
}

/* "key=value" or ("key", "value") into o. */
static int
config_arg(json_t *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[LIM_PROJECT_CONFIG_KEY_MAX + 1];

	if (eq == NULL || eq == kv ||
	    (size_t)(eq - kv) > LIM_PROJECT_CONFIG_KEY_MAX) {
		ctl_err("Bad key=value pair: %s", kv);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	if (json_object_set_new(o, key, json_string(eq + 1)) == -1) {
		ctl_err("config keys and values must be UTF-8: %s", kv);
		return -1;
	}
	return 0;
}

static int
create_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, NULL, 'c'},
	    {"description", 1, NULL, 'd'}, {NULL, 0, NULL, 0}};
	json_t *cfg = json_object(), *body = NULL;
	const char *desc = "";
	struct resp r = {0};
	char why[128];
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "c:", opts)) != -1) {
		if (ch == 'c') {
			if (config_arg(cfg, optarg) == -1)
				goto out;
		} else if (ch == 'd')
			desc = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0) {
			rc = ch == 1 ? (cmd_help(&cmd_project_create), 0) : -1;
			goto out;
		}
	}
	if (cmd_nargs(&cmd_project_create, argc - optind, 1, 1) == -1)
		goto out;
	if (project_name_check(argv[optind], why, sizeof(why)) == -1) {
		ctl_err("%s", why);
		goto out;
	}
	body = json_pack("{s:s, s:s, s:O}", "name", argv[optind], "description",
	    desc, "config", cfg);
	if (body == NULL)
		ctl_err("the name and description must be UTF-8");
	else if ((rc = api_call(
		      ctl, "POST", "/1.0/projects", body, NULL, &r)) == 0 &&
		 !ctl->quiet)
		printf("Project %s created\n", argv[optind]);
out:
	json_decref(cfg);
	json_decref(body);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_project_create = {"create", NULL, create_run,
    "project create NAME [-c KEY=VALUE]... [--description TEXT]",
    "Create a project.\n\n"
    "  -c, --config KEY=VALUE  a config key (features.images, "
    "limits.images,\n"
    "                          limits.disk, user.*...)\n"
    "      --description TEXT  the project's description"};

static int
delete_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_delete, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_delete, argc - optind, 1, 1) == -1 ||
	    project_path(argv[optind], path) == -1)
		return -1;
	if ((rc = api_call(ctl, "DELETE", path, NULL, NULL, &r)) == 0 &&
	    !ctl->quiet)
		printf("Project %s deleted\n", argv[optind]);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_project_delete = {"delete", "rm", delete_run,
    "project delete NAME",
    "Delete a project: only one that holds no image or alias."};

static int
rename_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX], why[128];
	json_t *body, *meta = NULL;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_rename, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_rename, argc - optind, 2, 2) == -1 ||
	    project_path(argv[optind], path) == -1)
		return -1;
	if (project_name_check(argv[optind + 1], why, sizeof(why)) == -1) {
		ctl_err("%s", why);
		return -1;
	}
	if ((body = json_pack("{s:s}", "name", argv[optind + 1])) == NULL) {
		ctl_err("project names must be UTF-8");
		return -1;
	}
	/* The rename is an operation: followed to its end. */
	rc = op_post(ctl, path, body, "Renaming project", &meta);
	json_decref(body);
	json_decref(meta);
	if (rc == 0 && !ctl->quiet)
		printf("Project %s renamed to %s\n", argv[optind],
		    argv[optind + 1]);
	return rc;
}

const struct cmd cmd_project_rename = {"rename", "mv", rename_run,
    "project rename NAME NEW-NAME",
    "Rename a project: only one that holds no image or alias."};

static int
show_run(struct ctl *ctl, int argc, char **argv)
{
	json_t *p;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_show, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_show, argc - optind, 1, 1) == -1 ||
	    (p = project_get(ctl, argv[optind], NULL)) == NULL)
		return -1;
	if ((rc = yout_struct(stdout, p, sch_project)) == -1)
		ctl_err("cannot write the project's YAML");
	json_decref(p);
	return rc;
}

const struct cmd cmd_project_show = {
    "show", NULL, show_run, "project show NAME", "Show a project as YAML."};

static int
get_run(struct ctl *ctl, int argc, char **argv)
{
	json_t *p;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_get, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_get, argc - optind, 2, 2) == -1 ||
	    (p = project_get(ctl, argv[optind], NULL)) == NULL)
		return -1;
	printf("%s\n", js_str(json_object_get(p, "config"), argv[optind + 1]));
	json_decref(p);
	return 0;
}

const struct cmd cmd_project_get = {"get", NULL, get_run,
    "project get NAME KEY",
    "Print a config key of a project (empty when it is not set)."};

/* set (value) or unset (value NULL) one key: PATCH with that key, where an
 * empty value removes it. */
static int
change_key(
    struct ctl *ctl, const char *name, const char *key, const char *value)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	json_t *body;
	int rc = -1;

	if (project_path(name, path) == -1)
		return -1;
	body = json_pack("{s:{s:s}}", "config", key, value ? value : "");
	if (body == NULL)
		ctl_err("config keys and values must be UTF-8");
	else
		rc = api_call(ctl, "PATCH", path, body, NULL, &r);
	json_decref(body);
	resp_free(&r);
	return rc;
}

static int
set_run(struct ctl *ctl, int argc, char **argv)
{
	const char *eq;
	char key[LIM_PROJECT_CONFIG_KEY_MAX + 1];
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_set, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_set, argc - optind, 2, 3) == -1)
		return -1;
	if (argc - optind == 3)
		return change_key(
		    ctl, argv[optind], argv[optind + 1], argv[optind + 2]);
	/* lxc's second form: KEY=VALUE. */
	eq = strchr(argv[optind + 1], '=');
	if (eq == NULL || eq == argv[optind + 1] ||
	    (size_t)(eq - argv[optind + 1]) > LIM_PROJECT_CONFIG_KEY_MAX) {
		ctl_err("Bad key=value pair: %s", argv[optind + 1]);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[optind + 1]),
	    argv[optind + 1]);
	return change_key(ctl, argv[optind], key, eq + 1);
}

const struct cmd cmd_project_set = {"set", NULL, set_run,
    "project set NAME KEY VALUE | project set NAME KEY=VALUE",
    "Set a config key of a project."};

static int
unset_run(struct ctl *ctl, int argc, char **argv)
{
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_project_unset, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_project_unset, argc - optind, 2, 2) == -1)
		return -1;
	return change_key(ctl, argv[optind], argv[optind + 1], NULL);
}

const struct cmd cmd_project_unset = {"unset", NULL, unset_run,
    "project unset NAME KEY", "Remove a config key from a project."};

static const char *
yes_no(const json_t *cfg, const char *key)
{
	const char *v = js_str(cfg, key);

	return strcmp(v, "true") == 0 ? "YES" : "NO";
}

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	static const char *const hdr[] = {"NAME", "IMAGES", "PROFILES",
	    "STORAGE VOLUMES", "NETWORKS", "DESCRIPTION", "USED BY"};
	const char *fmtname = "table", *current;
	struct resp r = {0};
	struct table t;
	json_t *list = NULL, *p, *cfg;
	enum tfmt fmt;
	size_t i;
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_project_list), 0) : -1;
	}
	current = ctl->project ? ctl->project : "default";
	if (cmd_nargs(&cmd_project_list, argc - optind, 0, 0) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 ||
	    api_call(ctl, "GET", "/1.0/projects?recursion=1", NULL, NULL, &r) ==
		-1)
		goto out;
	if (!json_is_array(r.meta)) {
		ctl_err("the server's list of projects is not a JSON array");
		goto out;
	}
	if ((list = sch_normalize_list(r.meta, sch_project)) == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	if (fmt == TFMT_JSON) {
		rc = gojson_write(stdout, list);
		goto out;
	}
	if (fmt == TFMT_YAML) {
		rc = yout_list(stdout, list, sch_project);
		goto out;
	}
	table_init(&t, hdr, 7);
	rc = 0;
	json_array_foreach (list, i, p) {
		char *row[7], used[24];
		const char *name = js_str(p, "name");
		int k;

		cfg = json_object_get(p, "config");
		snprintf(used, sizeof(used), "%zu",
		    json_array_size(json_object_get(p, "used_by")));
		row[0] = malloc(strlen(name) + sizeof(" (current)"));
		if (row[0])
			sprintf(row[0], "%s%s", name,
			    strcmp(name, current) == 0 ? " (current)" : "");
		row[1] = strdup(yes_no(cfg, "features.images"));
		row[2] = strdup(yes_no(cfg, "features.profiles"));
		row[3] = strdup(yes_no(cfg, "features.storage.volumes"));
		row[4] = strdup(yes_no(cfg, "features.networks"));
		row[5] = strdup(js_str(p, "description"));
		row[6] = strdup(used);
		for (k = 0; k < 7 && row[k]; k++)
			;
		if (k < 7) {
			for (k = 0; k < 7; k++)
				free(row[k]);
			ctl_err("out of memory");
			rc = -1;
			break;
		}
		if ((rc = table_add(&t, row)) == -1)
			break;
	}
	if (rc == 0) {
		table_sort(&t);
		if ((rc = table_write(stdout, &t, fmt)) == -1)
			ctl_err("cannot write the list");
	}
	table_free(&t);
out:
	json_decref(list);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_project_list = {"list", "ls", list_run,
    "project list [-f FORMAT]",
    "List projects, the current one (--project, else default) marked.\n\n"
    "  -f, --format FORMAT  table, compact, csv, json or yaml "
    "(default table)"};
