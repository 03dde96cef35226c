/*
 * config trust add, list, remove, list-tokens, revoke-token
 * (lxc/config_trust.go): the HTTPS clients imgd trusts.
 *
 *	imgctl config trust add CERT.pem [--name NAME]
 *	imgctl config trust add --token NAME	prints a one-time join token
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/api.h"
#include "imgctl/table.h"

/* The PEM file, whole (the frontend checks that it is a certificate). */
static char *
read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		ctl_err("%s: cannot open it", path);
		return NULL;
	}
	if ((buf = calloc(1, 64 * 1024 + 1)) == NULL) {
		fclose(f);
		ctl_err("out of memory");
		return NULL;
	}
	n = fread(buf, 1, 64 * 1024, f);
	if (!feof(f) || ferror(f) || n == 0) {
		ctl_err("%s: %s", path,
		    n == 0 ? "empty"
			   : "not a certificate (larger than 64 KiB)");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The name a certificate gets when none is given: its file's, as lxc. */
static void
name_of(const char *path, char *out, size_t len)
{
	const char *b = strrchr(path, '/');
	char *dot;

	snprintf(out, len, "%s", b ? b + 1 : path);
	if ((dot = strrchr(out, '.')) != NULL && dot != out)
		*dot = '\0';
}

static int
add_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"name", 1, NULL, 'n'},
	    {"token", 0, NULL, 't'}, {NULL, 0, NULL, 0}};
	const char *name = NULL;
	char path[API_PATH_MAX], def[128];
	struct resp r = {0};
	json_t *body = NULL;
	char *pem = NULL;
	int ch, token = 0, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'n')
			name = optarg;
		else if (ch == 't')
			token = 1;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_trust_add), 0) : -1;
	}
	if (cmd_nargs(&cmd_trust_add, argc - optind, 0, 1) == -1 ||
	    api_path(ctl, path, "/1.0/certificates") == -1)
		return -1;
	if (token) {
		/* --token NAME: the name is the argument, or --name. */
		if (name == NULL && optind < argc)
			name = argv[optind];
		if (name == NULL || !*name) {
			ctl_err("a token needs a client name: imgctl config "
				"trust add --token NAME");
			return -1;
		}
		body = json_pack("{s:b, s:s, s:s}", "token", 1, "name", name,
		    "type", "client");
	} else {
		if (optind >= argc) {
			ctl_err("a certificate file, or --token NAME");
			return -1;
		}
		if ((pem = read_pem(argv[optind])) == NULL)
			return -1;
		if (name == NULL) {
			name_of(argv[optind], def, sizeof(def));
			name = def;
		}
		body = json_pack("{s:s, s:s, s:s}", "certificate", pem, "name",
		    name, "type", "client");
	}
	if (body == NULL)
		ctl_err("the name and the certificate must be UTF-8 text");
	else if ((rc = api_call(ctl, "POST", path, body, NULL, &r)) == 0 &&
		 token) {
		const char *t =
		    json_string_value(json_object_get(r.meta, "token"));

		if (t == NULL) {
			ctl_err("the server's answer has no token");
			rc = -1;
		} else if (!ctl->quiet) {
			printf(
			    "Client %s certificate add token:\n%s\n", name, t);
		} else
			printf("%s\n", t);
	}
	json_decref(body);
	free(pem);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_trust_add = {"add", NULL, add_run,
    "config trust add [CERT.pem] [--name NAME] [--token NAME]",
    "Trust an HTTPS client: by its certificate (PEM), or make a one-time\n"
    "join token that the client presents with `lxc remote add NAME TOKEN`\n"
    "(the token expires after trust_token_expiry seconds).\n\n"
    "      --name NAME   the name to trust the certificate under (default:\n"
    "                    the file's name)\n"
    "      --token NAME  print a join token for a client called NAME"};

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const char *const hdr[] = {"NAME", "FINGERPRINT", "TYPE"};
	static const struct option opts[] = {
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *fmtname = "table";
	char path[API_PATH_MAX];
	struct resp r = {0};
	struct table t;
	enum tfmt fmt;
	json_t *c;
	size_t i;
	int ch, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_trust_list), 0) : -1;
	}
	if (cmd_nargs(&cmd_trust_list, argc - optind, 0, 0) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 ||
	    api_path(ctl, path, "/1.0/certificates?recursion=1") == -1 ||
	    api_call(ctl, "GET", path, NULL, NULL, &r) == -1)
		goto out;
	if (!json_is_array(r.meta)) {
		ctl_err(
		    "the server's list of certificates is not a JSON array");
		goto out;
	}
	table_init(&t, hdr, 3);
	rc = 0;
	json_array_foreach (r.meta, i, c) {
		char *row[3] = {strdup(js_str(c, "name")),
		    strndup(js_str(c, "fingerprint"), 12),
		    strdup(js_str(c, "type"))};

		if (row[0] == NULL || row[1] == NULL || row[2] == NULL ||
		    table_add(&t, row) == -1) {
			ctl_err("out of memory");
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		table_sort(&t);
		rc = table_write(stdout, &t, fmt);
	}
	table_free(&t);
out:
	resp_free(&r);
	return rc;
}

const struct cmd cmd_trust_list = {"list", "ls", list_run,
    "config trust list [-f FORMAT]",
    "List the trusted client certificates.\n\n"
    "  -f, --format FORMAT  table, compact or csv (default table)"};

static int
remove_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	const char *fp;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_trust_remove, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_trust_remove, argc - optind, 1, 1) == -1)
		return -1;
	fp = argv[optind];
	if (!*fp || strlen(fp) > 64 ||
	    strspn(fp, "0123456789abcdef") != strlen(fp)) {
		ctl_err("\"%s\" is not a certificate fingerprint (hex)", fp);
		return -1;
	}
	if (api_path(ctl, path, "/1.0/certificates/%s", fp) == -1)
		return -1;
	rc = api_call(ctl, "DELETE", path, NULL, NULL, &r);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_trust_remove = {"remove", "rm", remove_run,
    "config trust remove FINGERPRINT",
    "Stop trusting a client certificate (a unique fingerprint prefix "
    "will do)."};

static int
tokens_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX];
	struct resp r = {0};
	json_t *t;
	size_t i;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_trust_tokens, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_trust_tokens, argc - optind, 0, 0) == -1 ||
	    api_path(ctl, path, "/1.0/certificates/tokens") == -1 ||
	    (rc = api_call(ctl, "GET", path, NULL, NULL, &r)) == -1)
		goto out;
	json_array_foreach (r.meta, i, t)
		printf("%s\t%s\n", js_str(t, "client_name"),
		    js_str(t, "expires_at"));
out:
	resp_free(&r);
	return rc;
}

const struct cmd cmd_trust_tokens = {"list-tokens", NULL, tokens_run,
    "config trust list-tokens",
    "List the join tokens not used yet (name and expiry; a token itself "
    "is shown once, when it is made)."};

static int
revoke_run(struct ctl *ctl, int argc, char **argv)
{
	char path[API_PATH_MAX], esc[3 * 64 + 1];
	struct resp r = {0};
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_trust_revoke, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_trust_revoke, argc - optind, 1, 1) == -1)
		return -1;
	if (api_escape(argv[optind], 0, esc, sizeof(esc)) == -1) {
		ctl_err("token name too long");
		return -1;
	}
	if (api_path(ctl, path, "/1.0/certificates/tokens/%s", esc) == -1)
		return -1;
	rc = api_call(ctl, "DELETE", path, NULL, NULL, &r);
	resp_free(&r);
	return rc;
}

const struct cmd cmd_trust_revoke = {"revoke-token", NULL, revoke_run,
    "config trust revoke-token NAME", "Revoke a join token not used yet."};
