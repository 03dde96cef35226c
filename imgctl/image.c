/*
 * image list, info, show, get-property, set-property, unset-property and
 * delete: lxc/image.go's commands against imgd.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/api.h"
#include "imgctl/filter.h"
#include "imgctl/fmt.h"
#include "imgctl/schema.h"
#include "imgctl/table.h"
#include "imgctl/yamlout.h"

/* A column of "image list": its -c letter, title and cell. */
struct column {
	char letter;
	const char *title;
	char *(*cell)(const json_t *img);
};

static char *
col_alias(const json_t *img)
{
	json_t *aliases = json_object_get(img, "aliases"), *a;
	const char *shortest = "", *name;
	char *out;
	size_t i;

	for (i = 0; i < json_array_size(aliases); i++) {
		a = json_array_get(aliases, i);
		name = json_string_value(json_object_get(a, "name"));
		if (i == 0 ||
		    (*name != '\0' && strlen(name) < strlen(shortest)))
			shortest = name;
	}
	if (json_array_size(aliases) <= 1)
		return strdup(shortest);
	if (asprintf(&out, "%s (%zu more)", shortest,
		json_array_size(aliases) - 1) == -1)
		return NULL;
	return out;
}

/* All alias names, sorted, one per line. */
static char *
col_aliases(const json_t *img)
{
	json_t *aliases = json_object_get(img, "aliases");
	size_t n = json_array_size(aliases), i, len = 1;
	const char **names;
	char *out = NULL;

	if ((names = calloc(n + 1, sizeof(*names))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		names[i] = json_string_value(
		    json_object_get(json_array_get(aliases, i), "name"));
		len += strlen(names[i]) + 1;
	}
	qsort(names, n, sizeof(*names), sch_key_cmp);
	if ((out = calloc(1, len)) != NULL)
		for (i = 0; i < n; i++) {
			if (i > 0)
				strcat(out, "\n");
			strcat(out, names[i]);
		}
	free(names);
	return out;
}

static char *
col_fingerprint(const json_t *img)
{
	return strndup(js_str(img, "fingerprint"), 12);
}

static char *
col_fingerprint_full(const json_t *img)
{
	return strdup(js_str(img, "fingerprint"));
}

static char *
col_public(const json_t *img)
{
	return strdup(js_bool(img, "public") ? "yes" : "no");
}

static char *
col_description(const json_t *img)
{
	return strdup(
	    js_str(json_object_get(img, "properties"), "description"));
}

static char *
col_architecture(const json_t *img)
{
	return strdup(js_str(img, "architecture"));
}

static char *
col_size(const json_t *img)
{
	char buf[64];

	fmt_size_mb(js_int(img, "size"), buf, sizeof(buf));
	return strdup(buf);
}

static char *
col_upload_date(const json_t *img)
{
	char buf[TS_STR_MAX];
	struct ts t;

	if (ts_parse(js_str(img, "uploaded_at"), &t) == -1)
		ts_zero(&t);
	ts_list_date(&t, buf);
	return strdup(buf);
}

static char *
col_type(const json_t *img)
{
	const char *type = js_str(img, "type");
	char *out, *p;

	if ((out = strdup(*type ? type : "CONTAINER")) != NULL)
		for (p = out; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	return out;
}

static const struct column columns[] = {
    {'l', "ALIAS", col_alias},
    {'L', "ALIASES", col_aliases},
    {'f', "FINGERPRINT", col_fingerprint},
    {'F', "FINGERPRINT", col_fingerprint_full},
    {'p', "PUBLIC", col_public},
    {'d', "DESCRIPTION", col_description},
    {'a', "ARCHITECTURE", col_architecture},
    {'s', "SIZE", col_size},
    {'u', "UPLOAD DATE", col_upload_date},
    {'t', "TYPE", col_type},
};

/* Bytes of the UTF-8 character that starts with c (1 if invalid). */
static size_t
utf8_seq(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/*
 * -c: column letters in entries separated by commas, as lxc's
 * parseColumns(). cols has room for strlen(spec) columns.
 */
static int
list_columns(const char *spec, const struct column **cols, size_t *n)
{
	const char *e = spec, *p;
	size_t len, i, cl;

	*n = 0;
	for (;;) {
		if ((len = strcspn(e, ",")) == 0) {
			ctl_err("Empty column entry (redundant, leading or "
				"trailing command) in '%s'",
			    spec);
			return -1;
		}
		for (p = e; p < e + len; p += cl) {
			cl = utf8_seq((unsigned char)*p);
			for (i = 0; i < sizeof(columns) / sizeof(columns[0]);
			     i++)
				if (columns[i].letter == *p && cl == 1)
					break;
			if (i == sizeof(columns) / sizeof(columns[0])) {
				ctl_err("Unknown column shorthand char '%.*s' "
					"in '%.*s'",
				    (int)cl, p, (int)len, e);
				return -1;
			}
			cols[(*n)++] = &columns[i];
		}
		if (e[len] == '\0')
			return 0;
		e += len + 1;
	}
}

/* Rows for the images that pass the filters; shown gets those images. */
static int
list_rows(const json_t *images, char *const *filters, size_t nfilters,
    const struct column **cols, struct table *t, json_t *shown)
{
	json_t *img;
	char **row;
	size_t i, c;
	int r;

	for (i = 0; i < json_array_size(images); i++) {
		img = json_array_get(images, i);
		if (!filter_image(img, filters, nfilters))
			continue;
		json_array_append(shown, img);
		if ((row = calloc(t->ncols, sizeof(*row))) == NULL) {
			ctl_err("out of memory");
			return -1;
		}
		for (c = 0; c < t->ncols; c++)
			if ((row[c] = cols[c]->cell(img)) == NULL) {
				while (c-- > 0)
					free(row[c]);
				free(row);
				ctl_err("out of memory");
				return -1;
			}
		r = table_add(t, row);
		free(row);
		if (r == -1)
			return -1;
	}
	return 0;
}

static int
list_print(const struct table *t, const json_t *shown, enum tfmt fmt)
{
	int r;

	if (fmt == TFMT_JSON || fmt == TFMT_YAML) {
		/* In the shape of LXD's struct, as lxc prints it. */
		json_t *n = sch_normalize_list(shown, sch_image);

		if (n == NULL)
			r = -1;
		else if (fmt == TFMT_JSON)
			r = gojson_write(stdout, n);
		else
			r = yout_list(stdout, n, sch_image);
		json_decref(n);
	} else
		r = table_write(stdout, t, fmt);
	if (r == -1)
		ctl_err("cannot write the list");
	return r;
}

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"columns", 1, NULL, 'c'},
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *spec = "lfpdatsu", *fmtname = "table";
	const struct column **cols = NULL;
	const char **titles = NULL;
	json_t *images = NULL, *shown = NULL;
	char path[API_PATH_MAX];
	struct table t;
	struct resp r = {0};
	enum tfmt fmt;
	size_t n, i;
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "c:f:", opts)) != -1) {
		if (ch == 'c')
			spec = optarg;
		else if (ch == 'f')
			fmtname = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_image_list), 0) : -1;
	}
	cols = calloc(strlen(spec) + 1, sizeof(*cols));
	titles = calloc(strlen(spec) + 1, sizeof(*titles));
	if (cols == NULL || titles == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	if (list_columns(spec, cols, &n) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 ||
	    api_path(ctl, path, "/1.0/images?recursion=1") == -1 ||
	    api_call(ctl, "GET", path, NULL, NULL, &r) == -1)
		goto out;
	if (!json_is_array(r.meta)) {
		ctl_err("the server's list of images is not a JSON array");
		goto out;
	}
	for (i = 0; i < n; i++)
		titles[i] = cols[i]->title;
	table_init(&t, titles, n);
	/* The cells and filters read the documents as they came (missing or
	 * mistyped fields read as empty); only -f json and yaml print them,
	 * normalized. */
	images = json_incref(r.meta);
	if ((shown = json_array()) == NULL)
		ctl_err("out of memory");
	else if (list_rows(images, argv + optind, (size_t)(argc - optind), cols,
		     &t, shown) == 0) {
		table_sort(&t);
		rc = list_print(&t, shown, fmt);
	}
	table_free(&t);
out:
	json_decref(images);
	json_decref(shown);
	resp_free(&r);
	free(cols);
	free(titles);
	return rc;
}

const struct cmd cmd_image_list = {"list", "ls", list_run,
    "list [FILTER...] [-c COLUMNS] [-f FORMAT]",
    "List images.\n\n"
    "Filters are ANDed. A filter of the form KEY=VALUE matches\n"
    "properties (VALUE is a regular expression anchored at both ends\n"
    "unless it has ^ or $) or fields of the image (public=true,\n"
    "architecture=x86_64); any other filter matches part of an alias\n"
    "name or of the fingerprint.\n\n"
    "  -c, --columns COLUMNS  columns (default lfpdatsu):\n"
    "        l  shortest alias (and how many more)\n"
    "        L  all aliases, one per line\n"
    "        f  fingerprint (short)     F  fingerprint (long)\n"
    "        p  public                  d  description\n"
    "        a  architecture            s  size\n"
    "        u  upload date             t  type\n"
    "  -f, --format FORMAT    table, compact, csv, json or yaml "
    "(default table)"};

static void
info_date(
    const char *label, const json_t *img, const char *key, int unset_never)
{
	char buf[TS_STR_MAX];
	struct ts t;

	if (ts_parse(js_str(img, key), &t) == -1)
		ts_zero(&t);
	if (ts_is_set(&t) || !unset_never) {
		ts_info_date(&t, buf);
		printf("    %s: %s\n", label, buf);
	} else if (unset_never == 1)
		printf("    %s: never\n", label);
}

static void
info_print(const json_t *img)
{
	json_t *props = json_object_get(img, "properties"), *a, *src, *aliases;
	const char *type = js_str(img, "type");
	char size[64];
	size_t i;
	void *it;

	fmt_size_mb(js_int(img, "size"), size, sizeof(size));
	printf("Fingerprint: %s\nSize: %s\nArchitecture: %s\nType: %s\n"
	       "Public: %s\nTimestamps:\n",
	    js_str(img, "fingerprint"), size, js_str(img, "architecture"),
	    *type ? type : "container", js_bool(img, "public") ? "yes" : "no");
	info_date("Created", img, "created_at", 2);
	info_date("Uploaded", img, "uploaded_at", 0);
	info_date("Expires", img, "expires_at", 1);
	info_date("Last used", img, "last_used_at", 1);
	/* lxc prints properties in Go's random map order: these are sorted. */
	printf("Properties:\n");
	for (it = json_object_iter(props); it != NULL;
	     it = json_object_iter_next(props, it))
		printf("    %s: %s\n", json_object_iter_key(it),
		    json_string_value(json_object_iter_value(it)));
	printf("Aliases:\n");
	aliases = json_object_get(img, "aliases");
	for (i = 0; i < json_array_size(aliases); i++) {
		a = json_array_get(aliases, i);
		if (*js_str(a, "description") != '\0')
			printf("    - %s (%s)\n", js_str(a, "name"),
			    js_str(a, "description"));
		else
			printf("    - %s\n", js_str(a, "name"));
	}
	printf("Cached: %s\nAuto update: %s\n",
	    js_bool(img, "cached") ? "yes" : "no",
	    js_bool(img, "auto_update") ? "enabled" : "disabled");
	if ((src = json_object_get(img, "update_source")) != NULL)
		printf("Source:\n    Server: %s\n    Protocol: %s\n"
		       "    Alias: %s\n",
		    js_str(src, "server"), js_str(src, "protocol"),
		    js_str(src, "alias"));
	if (json_array_size(json_object_get(img, "profiles")) == 0)
		printf("Profiles: []\n");
	else {
		printf("Profiles:\n");
		a = json_object_get(img, "profiles");
		for (i = 0; i < json_array_size(a); i++)
			printf("    - %s\n",
			    json_string_value(json_array_get(a, i)));
	}
}

static int
info_run(struct ctl *ctl, int argc, char **argv)
{
	char fp[IMGCTL_FP_LEN + 1];
	json_t *img;
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_info, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_info, argc - optind, 1, 1) == -1 ||
	    (img = api_image_get(ctl, argv[optind], fp, NULL)) == NULL)
		return -1;
	info_print(img);
	json_decref(img);
	return 0;
}

const struct cmd cmd_image_info = {"info", NULL, info_run, "info IMAGE",
    "Show useful information about an image.\n\n"
    "IMAGE is an alias, a fingerprint or a unique fingerprint prefix."};

static int
show_run(struct ctl *ctl, int argc, char **argv)
{
	char fp[IMGCTL_FP_LEN + 1];
	json_t *img, *put;
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_show, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_show, argc - optind, 1, 1) == -1 ||
	    (img = api_image_get(ctl, argv[optind], fp, NULL)) == NULL)
		return -1;
	put = sch_normalize(img, sch_image_put);
	json_decref(img);
	if (put == NULL || yout_struct(stdout, put, sch_image_put) == -1) {
		ctl_err("cannot write the image's YAML");
		r = -1;
	}
	json_decref(put);
	return r;
}

const struct cmd cmd_image_show = {"show", NULL, show_run, "show IMAGE",
    "Show an image's writable properties as YAML (the input of\n"
    "\"image edit\")."};
