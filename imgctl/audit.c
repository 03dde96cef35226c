/*
 * imgctl audit verify [FILE] and imgctl audit list [FILE]: the audit log
 * read from the file itself (default $IMGD_DIR/audit.log), so that both
 * run without the daemon, and on a copy. Each record is one JSON line
 * whose "prev" is the sha256 of the line before it (64 zeros for the
 * first): verify walks the chain and names the first record that breaks
 * it.
 */
#include <dirent.h>
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

/* The files to read: FILE... as given, else the state directory's
 * rotated audit.log.N (oldest first) and audit.log. */
struct files {
	char **path;
	size_t n;
};

static void
files_free(struct files *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->path[i]);
	free(fl->path);
	fl->path = NULL;
	fl->n = 0;
}

static int
files_add(struct files *fl, const char *dir, const char *name)
{
	char **grown = realloc(fl->path, (fl->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	fl->path = grown;
	if (asprintf(
		&fl->path[fl->n], "%s%s%s", dir, dir[0] ? "/" : "", name) == -1)
		return -1;
	fl->n++;
	return 0;
}

static int
by_number(const void *a, const void *b)
{
	unsigned long x =
	    strtoul(strrchr(*(char *const *)a, '.') + 1, NULL, 10);
	unsigned long y =
	    strtoul(strrchr(*(char *const *)b, '.') + 1, NULL, 10);

	return x < y ? -1 : x > y;
}

static int
log_files(struct ctl *ctl, int argc, char **argv, struct files *fl)
{
	char dir[4200];
	struct dirent *d;
	size_t n, rotated;
	DIR *dp;

	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (files_add(fl, "", argv[i]) == -1)
				goto oom;
		return 0;
	}
	n = strlen(ctl->sock);
	if (n < 12 || strcmp(ctl->sock + n - 12, "/unix.socket") != 0) {
		ctl_err("no audit log named (give FILE)");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(n - 12), ctl->sock);
	if ((dp = opendir(dir)) == NULL) {
		ctl_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, "audit.log.", 10) == 0 &&
		    d->d_name[10] >= '1' && d->d_name[10] <= '9' &&
		    strspn(d->d_name + 10, "0123456789") ==
			strlen(d->d_name + 10) &&
		    files_add(fl, dir, d->d_name) == -1) {
			closedir(dp);
			goto oom;
		}
	closedir(dp);
	rotated = fl->n;
	qsort(fl->path, rotated, sizeof(*fl->path), by_number);
	if (files_add(fl, dir, "audit.log") == -1)
		goto oom;
	return 0;
oom:
	ctl_err("out of memory");
	files_free(fl);
	return -1;
}

/* The anchor file's lines: record numbers and the heads they had. */
struct anchor {
	unsigned long long seq;
	char head[65];
	int seen;
};

static int
by_seq(const void *a, const void *b)
{
	const struct anchor *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
anchors_load(const char *path, struct anchor **out, size_t *n)
{
	char *buf = NULL;
	size_t cap = 0, line = 0;
	ssize_t len;
	FILE *f = fopen(path, "re");

	*out = NULL;
	*n = 0;
	if (f == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&buf, &cap, f)) > 0) {
		json_t *o = json_loadb(buf, (size_t)len, 0, NULL);
		const char *sq = json_string_value(json_object_get(o, "seq"));
		const char *hd = json_string_value(json_object_get(o, "head"));
		struct anchor *grown;

		line++;
		if (sq == NULL || hd == NULL || strlen(hd) != 64 ||
		    strspn(sq, "0123456789") != strlen(sq) || !sq[0]) {
			ctl_err("%s: line %zu is not an anchor "
				"({\"seq\", \"head\", \"time\"})",
			    path, line);
			json_decref(o);
			goto bad;
		}
		if ((grown = realloc(*out, (*n + 1) * sizeof(**out))) == NULL) {
			json_decref(o);
			ctl_err("out of memory");
			goto bad;
		}
		*out = grown;
		(*out)[*n].seq = strtoull(sq, NULL, 10);
		memcpy((*out)[*n].head, hd, 65);
		(*out)[*n].seen = 0;
		(*n)++;
		json_decref(o);
	}
	free(buf);
	fclose(f);
	return 0;
bad:
	free(buf);
	fclose(f);
	free(*out);
	*out = NULL;
	return -1;
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
	static const struct option opts[] = {
	    {"anchor", 1, NULL, 'a'}, {NULL, 0, NULL, 0}};
	char expect[65], what[200];
	char *buf = NULL;
	const char *anchor_path = NULL, *path = "";
	size_t cap = 0, len, n = 0, nanch = 0, matched = 0, older = 0, ai = 0;
	unsigned long long num = 0, first = 0;
	struct files fl = {NULL, 0};
	struct anchor *anch = NULL;
	FILE *f = NULL;
	int ch, rc = -1, got;

	while ((ch = ctl_getopt(argc, argv, "a:", opts)) != -1) {
		if (ch == 'a')
			anchor_path = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_audit_verify), 0) : -1;
	}
	if (log_files(ctl, argc, argv, &fl) == -1)
		return -1;
	if (anchor_path && anchors_load(anchor_path, &anch, &nanch) == -1)
		goto out;
	qsort(anch, nanch, sizeof(*anch), by_seq);
	memcpy(expect, zeros, sizeof(zeros));
	for (size_t fi = 0; fi < fl.n; fi++) {
		size_t in_file = 0;

		path = fl.path[fi];
		if ((f = fopen(path, "re")) == NULL) {
			ctl_err("%s: %s", path, strerror(errno));
			goto out;
		}
		while ((got = next_line(f, &buf, &cap, &len)) != 0) {
			json_t *o;
			const char *prev, *t, *ev, *sq;

			n++;
			in_file++;
			if (got == -1) {
				ctl_err("%s: record %zu is incomplete (no end "
					"of line): the log was cut short; the "
					"%zu records before it are intact",
				    path, in_file, n - 1);
				goto out;
			}
			o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
			prev = json_string_value(json_object_get(o, "prev"));
			t = json_string_value(json_object_get(o, "time"));
			ev = json_string_value(json_object_get(o, "event"));
			sq = json_string_value(json_object_get(o, "seq"));
			snprintf(what, sizeof(what), "record %zu (%s %s)",
			    in_file, t ? t : "no time", ev ? ev : "no event");
			if (prev == NULL) {
				ctl_err("%s: record %zu is not a JSON object "
					"with a \"prev\": it was edited or is "
					"not imgd's",
				    path, in_file);
				json_decref(o);
				goto out;
			}
			/* The oldest file kept may start a rotation on. */
			if (n == 1 && strcmp(prev, zeros) != 0 && ev &&
			    strcmp(ev, "audit-log-rotated") == 0 && sq)
				memcpy(expect, prev, sizeof(expect));
			if (strcmp(prev, expect) != 0) {
				if (n == 1)
					ctl_err("%s: %s: the first record's "
						"\"prev\" is not zeros: "
						"records were removed from "
						"the start",
					    path, what);
				else if (in_file == 1)
					ctl_err("%s: %s: its \"prev\" is not "
						"the sha256 of the last record "
						"of %s: records were changed "
						"or removed between the two "
						"files",
					    path, what, fl.path[fi - 1]);
				else
					ctl_err("%s: %s: its \"prev\" is not "
						"the sha256 of record %zu: "
						"record %zu was changed, or "
						"records were removed or "
						"reordered before record %zu; "
						"the first %zu records are "
						"intact",
					    path, what, in_file - 1,
					    in_file - 1, in_file, n - 2);
				json_decref(o);
				goto out;
			}
			/* Numbered records count up by one; a log from
			 * before numbers counts its lines. */
			if (sq) {
				unsigned long long v = strtoull(sq, NULL, 10);

				if (n > 1 && v != num + 1) {
					ctl_err("%s: %s: numbered %llu after "
						"%llu",
					    path, what, v, num);
					json_decref(o);
					goto out;
				}
				num = v;
			} else
				num++;
			if (n == 1)
				first = num;
			json_decref(o);
			sha256_line(buf, len, expect);
			while (ai < nanch && anch[ai].seq < num)
				ai++;
			for (size_t a = ai; a < nanch && anch[a].seq == num;
			     a++) {
				if (strcmp(anch[a].head, expect) != 0) {
					ctl_err(
					    "%s: %s is record %llu, whose "
					    "sha256 the anchor file %s "
					    "recorded as %s: it was "
					    "changed (or the log rewritten)",
					    path, what, num, anchor_path,
					    anch[a].head);
					goto out;
				}
				anch[a].seen = 1;
				matched++;
			}
		}
		if (ferror(f)) {
			ctl_err("%s: %s", path, strerror(errno));
			goto out;
		}
		fclose(f);
		f = NULL;
	}
	for (size_t a = 0; a < nanch; a++) {
		if (anch[a].seen)
			continue;
		if (anch[a].seq < first) {
			older++;
			continue;
		}
		ctl_err("%s: the log ends at record %llu, but the anchor file "
			"%s has record %llu (head %s): records were cut from "
			"the end",
		    path, num, anchor_path, anch[a].seq, anch[a].head);
		goto out;
	}
	if (!ctl->quiet) {
		printf("%zu records (%llu to %llu) in %zu file%s, the chain "
		       "holds; head %s\n",
		    n, n ? first : 0, num, fl.n, fl.n == 1 ? "" : "s", expect);
		if (anchor_path)
			printf(
			    "%zu anchors match%s", matched, older ? "" : "\n");
		if (anchor_path && older)
			printf(", %zu are older than the oldest file\n", older);
	}
	rc = 0;
out:
	free(buf);
	free(anch);
	if (f)
		fclose(f);
	files_free(&fl);
	return rc;
}

const struct cmd cmd_audit_verify = {"verify", NULL, verify_run,
    "audit verify [FILE...] [--anchor FILE]",
    "Check the audit log's hash chain without the daemon (FILE..., oldest\n"
    "first; default $IMGD_DIR/audit.log.N then audit.log): exit 0 when\n"
    "every record's \"prev\" is the sha256 of the record before it and\n"
    "the numbers count up, else 1 and the first record that breaks it\n"
    "(an edited byte, a removed or reordered record, a cut line).\n\n"
    "  --anchor FILE  also check the heads imgd wrote to its\n"
    "                 audit_anchor_file: a changed anchored record, or\n"
    "                 records cut from the end, or a log rewritten from\n"
    "                 the start, fail too. Without anchors those keep a\n"
    "                 chain: compare the head it prints with one kept\n"
    "                 elsewhere."};

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
	struct files fl = {NULL, 0};
	const char *path;
	char *buf = NULL;
	size_t cap = 0, len, n = 0;
	struct table t;
	json_t *all = NULL;
	enum tfmt fmt;
	FILE *f = NULL;
	int ch, rc = -1, got = 0;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if (ch == 's')
			since = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_audit_list), 0) : -1;
	}
	if (cmd_nargs(&cmd_audit_list, argc - optind, 0, 100000) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 ||
	    log_files(ctl, argc, argv, &fl) == -1)
		return -1;
	if (fmt == TFMT_YAML) {
		ctl_err("audit list: formats are table, compact, csv and json");
		files_free(&fl);
		return -1;
	}
	/* A date (2026-12-06) or a time as the records write it: both
	 * compare as text with the records' UTC times. */
	for (const char *p = since; *p; p++)
		if (!strchr("0123456789-:T.Z", *p)) {
			ctl_err("--since %s: give a UTC date or time as "
				"2026-12-06 or 2026-12-06T10:30:00Z",
			    since);
			files_free(&fl);
			return -1;
		}
	all = json_array();
	table_init(&t, hdr, 6);
	for (size_t fi = 0; fi < fl.n; fi++) {
		path = fl.path[fi];
		if ((f = fopen(path, "re")) == NULL) {
			ctl_err("%s: %s", path, strerror(errno));
			goto out;
		}
		n = 0;
		while ((got = next_line(f, &buf, &cap, &len)) == 1) {
			json_t *o = json_loadb(buf, len, 0, NULL);
			char *row[6];

			n++;
			if (!json_is_object(o)) {
				json_decref(o);
				ctl_err(
				    "%s: record %zu is not JSON (imgctl audit "
				    "verify says more)",
				    path, n);
				goto out;
			}
			if ((ctl->project && strcmp(jstr(o, "project"),
						 ctl->project) != 0) ||
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
					sprintf(row[5], "refused%s%s",
					    c[0] ? ": " : "", c);
			} else
				row[5] = strdup("ok");
			json_decref(o);
			/* A record's strings come from clients: no terminal
			 * control characters reach the screen. */
			for (int c = 0; c < 6; c++)
				for (char *q = row[c]; q && *q; q++)
					if ((unsigned char)*q < 0x20 ||
					    *q == 0x7f)
						*q = '?';
			if (table_add(&t, row) == -1) {
				ctl_err("out of memory");
				goto out;
			}
		}
		if (got == -1)
			fprintf(stderr,
			    "Warning: %s: the last record is incomplete\n",
			    path);
		fclose(f);
		f = NULL;
	}
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
	if (f)
		fclose(f);
	files_free(&fl);
	return rc;
}

const struct cmd cmd_audit_list = {"list", "ls", list_run,
    "audit list [FILE...] [--project P] [--since T] [-f FORMAT]",
    "Show the audit log's records (FILE..., default $IMGD_DIR/audit.log.N\n"
    "then audit.log),\n"
    "read from the file: it runs without the daemon.\n\n"
    "  --project P          only the records of project P\n"
    "  --since T            from this UTC date or time on (2026-12-06,\n"
    "                       2026-12-06T10:30:00Z)\n"
    "  -f, --format FORMAT  table, compact, csv or json (default table)"};
