/*
 * imgctl audit verify [FILE] and imgctl audit list [FILE]: the audit log
 * read from the file itself (default $IMGD_DIR/audit.log), so that both
 * run without the daemon, and on a copy. Each record is one JSON line
 * whose "prev" is the sha256 of the line before it (64 zeros for the
 * first): verify walks the chain and names the first record that breaks
 * it.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/imgctl.h"
#include "imgctl/table.h"

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void
sha256_line(const char *s, size_t len, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t md[32];
	unsigned int n = 0;

	EVP_Digest(s, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

/* FILE, or the state directory's audit.log. */
static int
log_path(struct ctl *ctl, int argc, char **argv, char *out, size_t len)
{
	size_t n;

	if (optind < argc) {
		snprintf(out, len, "%s", argv[optind]);
		return 0;
	}
	n = strlen(ctl->sock);
	if (n < 12 || strcmp(ctl->sock + n - 12, "/unix.socket") != 0) {
		ctl_err("no audit log named (give FILE)");
		return -1;
	}
	snprintf(out, len, "%.*s/audit.log", (int)(n - 12), ctl->sock);
	return 0;
}

/* One record per call: 1 and the line (without its newline), 0 at the
 * end, -1 for a last line that does not end (a truncated tail). */
static int
next_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
	ssize_t n = getline(buf, cap, f);

	if (n <= 0)
		return 0;
	if ((*buf)[n - 1] != '\n') {
		*len = (size_t)n;
		return -1;
	}
	(*buf)[--n] = '\0';
	*len = (size_t)n;
	return 1;
}

static int
verify_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	char path[4200], expect[65], what[160];
	char *buf = NULL;
	size_t cap = 0, len, n = 0;
	FILE *f;
	int ch, rc = -1, got;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1)
		if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_audit_verify), 0) : -1;
	if (cmd_nargs(&cmd_audit_verify, argc - optind, 0, 1) == -1 ||
	    log_path(ctl, argc, argv, path, sizeof(path)) == -1)
		return -1;
	if ((f = fopen(path, "re")) == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	memcpy(expect, zeros, sizeof(zeros));
	while ((got = next_line(f, &buf, &cap, &len)) != 0) {
		json_t *o;
		const char *prev, *t, *ev;

		n++;
		if (got == -1) {
			ctl_err(
			    "%s: record %zu is incomplete (no end of line): "
			    "the log was cut short; the %zu records before it "
			    "are intact",
			    path, n, n - 1);
			goto out;
		}
		o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		prev = json_string_value(json_object_get(o, "prev"));
		t = json_string_value(json_object_get(o, "time"));
		ev = json_string_value(json_object_get(o, "event"));
		snprintf(what, sizeof(what), "record %zu (%s %s)", n,
		    t ? t : "no time", ev ? ev : "no event");
		if (prev == NULL) {
			ctl_err("%s: record %zu is not a JSON object with a "
				"\"prev\": it was edited or is not imgd's",
			    path, n);
			json_decref(o);
			goto out;
		}
		if (strcmp(prev, expect) != 0) {
			if (n == 1)
				ctl_err("%s: %s: the first record's \"prev\" "
					"is not zeros: records were removed "
					"from the start",
				    path, what);
			else
				ctl_err(
				    "%s: %s: its \"prev\" is not the "
				    "sha256 of record %zu: record %zu was "
				    "changed, or records were removed or "
				    "reordered before record %zu; the first "
				    "%zu records are intact",
				    path, what, n - 1, n - 1, n, n - 2);
			json_decref(o);
			goto out;
		}
		json_decref(o);
		sha256_line(buf, len, expect);
	}
	if (ferror(f)) {
		ctl_err("%s: %s", path, strerror(errno));
		goto out;
	}
	if (!ctl->quiet)
		printf("%s: %zu records, the chain holds; head %s\n", path, n,
		    expect);
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

const struct cmd cmd_audit_verify = {"verify", NULL, verify_run,
    "audit verify [FILE]",
    "Check the audit log's hash chain (FILE, default $IMGD_DIR/audit.log)\n"
    "without the daemon: exit 0 when every record's \"prev\" is the\n"
    "sha256 of the record before it, else 1 and the first record that\n"
    "breaks it (an edited byte, a removed or reordered record, a cut\n"
    "line). An edit of the last record, whole records cut from the end,\n"
    "or a log rewritten from the\n"
    "start, keep a chain: compare the head it prints with one kept\n"
    "elsewhere."};

/* What the record is about: the first of these it has. */
static const char *
object_of(json_t *o)
{
	static const char *const keys[] = {"fingerprint", "target", "name",
	    "alias", "path", "source", "state", NULL};

	for (size_t i = 0; keys[i]; i++) {
		const char *v = json_string_value(json_object_get(o, keys[i]));
		if (v && v[0])
			return v;
	}
	return "";
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"format", 1, NULL, 'f'},
	    {"since", 1, NULL, 's'}, {NULL, 0, NULL, 0}};
	static const char *const hdr[] = {
	    "TIME", "EVENT", "PROJECT", "REQUESTOR", "OBJECT", "RESULT"};
	const char *fmtname = "table", *since = "";
	char path[4200];
	char *buf = NULL;
	size_t cap = 0, len, n = 0;
	struct table t;
	json_t *all = NULL;
	enum tfmt fmt;
	FILE *f;
	int ch, rc = -1, got;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if (ch == 's')
			since = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_audit_list), 0) : -1;
	}
	if (cmd_nargs(&cmd_audit_list, argc - optind, 0, 1) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 ||
	    log_path(ctl, argc, argv, path, sizeof(path)) == -1)
		return -1;
	if (fmt == TFMT_YAML) {
		ctl_err("audit list: formats are table, compact, csv and json");
		return -1;
	}
	/* A date (2026-12-06) or a time as the records write it: both
	 * compare as text with the records' UTC times. */
	for (const char *p = since; *p; p++)
		if (!strchr("0123456789-:T.Z", *p)) {
			ctl_err("--since %s: give a UTC date or time as "
				"2026-12-06 or 2026-12-06T10:30:00Z",
			    since);
			return -1;
		}
	if ((f = fopen(path, "re")) == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	all = json_array();
	table_init(&t, hdr, 6);
	while ((got = next_line(f, &buf, &cap, &len)) == 1) {
		json_t *o = json_loadb(buf, len, 0, NULL);
		char *row[6];

		n++;
		if (!json_is_object(o)) {
			json_decref(o);
			ctl_err("%s: record %zu is not JSON (imgctl audit "
				"verify says more)",
			    path, n);
			goto out;
		}
		if ((ctl->project &&
			strcmp(jstr(o, "project"), ctl->project) != 0) ||
		    (since[0] && strcmp(jstr(o, "time"), since) < 0)) {
			json_decref(o);
			continue;
		}
		if (fmt == TFMT_JSON) {
			json_array_append_new(all, o);
			continue;
		}
		row[0] = strdup(jstr(o, "time"));
		row[1] = strdup(jstr(o, "event"));
		row[2] = strdup(jstr(o, "project"));
		row[3] = strdup(jstr(o, "requestor"));
		row[4] = strdup(object_of(o));
		if (strstr(jstr(o, "event"), "refused") ||
		    jstr(o, "fault")[0]) {
			const char *c = jstr(o, "cause");
			row[5] = malloc(strlen(c) + 10);
			if (row[5])
				sprintf(
				    row[5], "refused%s%s", c[0] ? ": " : "", c);
		} else
			row[5] = strdup("ok");
		json_decref(o);
		if (table_add(&t, row) == -1) {
			ctl_err("out of memory");
			goto out;
		}
	}
	if (got == -1)
		fprintf(stderr, "Warning: %s: the last record is incomplete\n",
		    path);
	if (fmt == TFMT_JSON)
		rc = json_dumpf(all, stdout, JSON_INDENT(2)) == 0 &&
			     fputc('\n', stdout) != EOF
			 ? 0
			 : -1;
	else
		rc = table_write(stdout, &t, fmt);
out:
	table_free(&t);
	json_decref(all);
	free(buf);
	fclose(f);
	return rc;
}

const struct cmd cmd_audit_list = {"list", "ls", list_run,
    "audit list [FILE] [--project P] [--since T] [-f FORMAT]",
    "Show the audit log's records (FILE, default $IMGD_DIR/audit.log),\n"
    "read from the file: it runs without the daemon.\n\n"
    "  --project P          only the records of project P\n"
    "  --since T            from this UTC date or time on (2026-12-06,\n"
    "                       2026-12-06T10:30:00Z)\n"
    "  -f, --format FORMAT  table, compact, csv or json (default table)"};
