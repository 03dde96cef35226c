/*
 * remote add, list, remove, rename, set-url, switch, get-default
 * (lxc/remote.go): the servers imgctl knows, kept client-side in
 * $IMGCTL_CONF/remotes.json (default ~/.config/imgctl), with the pinned
 * certificate of each HTTPS remote in servercerts/NAME.crt as lxc keeps
 * them. "local" is imgd's unix socket, always there.
 *
 *	{"default": "local",
 *	 "remotes": {"NAME": {"addr": "https://h:8443", "protocol": "lxd",
 *	                      "public": true}}}
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgctl/api.h"
#include "imgctl/table.h"

#define REMOTE_NAME_MAX 64

static int
conf_dir(char *out, size_t len)
{
	const char *d = getenv("IMGCTL_CONF"), *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");

	if (d && *d)
		return snprintf(out, len, "%s", d) < (int)len ? 0 : -1;
	if (xdg && *xdg)
		return snprintf(out, len, "%s/imgctl", xdg) < (int)len ? 0 : -1;
	if (home && *home)
		return snprintf(out, len, "%s/.config/imgctl", home) < (int)len
			   ? 0
			   : -1;
	ctl_err("no configuration directory: set IMGCTL_CONF or HOME");
	return -1;
}

static int
mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

/* The configuration, or a fresh one; NULL after ctl_err. */
static json_t *
conf_load(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	json_error_t je;
	json_t *c;

	if (conf_dir(dir, sizeof(dir)) == -1)
		return NULL;
	snprintf(path, sizeof(path), "%s/remotes.json", dir);
	if (access(path, F_OK) == -1)
		return json_pack("{s:s, s:{}}", "default", "local", "remotes");
	if ((c = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(json_object_get(c, "remotes")) ||
	    !json_is_string(json_object_get(c, "default"))) {
		ctl_err(
		    "%s: %s", path, c ? "not an imgctl remotes file" : je.text);
		json_decref(c);
		return NULL;
	}
	return c;
}

/* Written whole to a temp file, then renamed over the old one. */
static int
conf_save(json_t *c)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], tmp[PATH_MAX + 32];

	if (conf_dir(dir, sizeof(dir)) == -1)
		return -1;
	if (mkdirs(dir) == -1) {
		ctl_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/remotes.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (json_dump_file(c, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == -1 ||
	    rename(tmp, path) == -1) {
		unlink(tmp);
		ctl_err("cannot write %s", path);
		return -1;
	}
	return 0;
}

static int
name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > REMOTE_NAME_MAX ||
	    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") != len ||
	    n[0] == '.' || n[0] == '-') {
		ctl_err("invalid remote name \"%s\": 1-%d letters, digits, "
			"'_', '.' or '-', not starting with '.' or '-'",
		    n, REMOTE_NAME_MAX);
		return 0;
	}
	return 1;
}

/* "https://host[:port][/]": host and port; -1 after ctl_err. */
static int
url_parse(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
	const char *h, *e, *colon;

	if (strncmp(url, "https://", 8) != 0) {
		ctl_err("remote address \"%s\": only https:// URLs", url);
		return -1;
	}
	h = url + 8;
	e = h + strcspn(h, "/");
	if (*e && strcmp(e, "/") != 0) {
		ctl_err("remote address \"%s\": a server, without a path", url);
		return -1;
	}
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			goto bad;
		snprintf(host, hlen, "%.*s", (int)(rb - h - 1), h + 1);
		colon = rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(e - h));
		snprintf(host, hlen, "%.*s", (int)((colon ? colon : e) - h), h);
	}
	if (!*host)
		goto bad;
	if (colon)
		snprintf(port, plen, "%.*s", (int)(e - colon - 1), colon + 1);
	else
		snprintf(port, plen, "8443");
	if (!*port || strspn(port, "0123456789") != strlen(port))
		goto bad;
	return 0;
bad:
	ctl_err("remote address \"%s\": expected https://HOST[:PORT]", url);
	return -1;
}

/* The server's certificate: fetched over TLS, unverified; the caller
 * pins it. NULL after ctl_err. */
static X509 *
fetch_cert(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	X509 *x = NULL;
	int fd = -1, rc;

	if (ctx == NULL) {
		ctl_err("TLS: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		ctl_err("%s: %s", host, gai_strerror(rc));
		goto out;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		ctl_err("%s:%s: %s", host, port, strerror(errno));
		goto out;
	}
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    !SSL_set_tlsext_host_name(ssl, host) || SSL_connect(ssl) != 1 ||
	    (x = SSL_get1_peer_certificate(ssl)) == NULL)
		ctl_err("%s:%s: no TLS certificate from it", host, port);
out:
	if (ssl)
		SSL_free(ssl);
	if (fd != -1)
		close(fd);
	if (res)
		freeaddrinfo(res);
	SSL_CTX_free(ctx);
	return x;
}

static int
save_cert(const char *name, X509 *x, char fp[65])
{
	char dir[PATH_MAX], path[PATH_MAX + 96];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	FILE *f;

	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		sprintf(fp + 2 * i, "%02x", md[i]);
	if (conf_dir(dir, sizeof(dir)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/servercerts", dir);
	if (mkdirs(path) == -1) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/servercerts/%s.crt", dir, name);
	if ((f = fopen(path, "w")) == NULL || !PEM_write_X509(f, x) ||
	    fclose(f) != 0) {
		ctl_err("cannot write %s", path);
		return -1;
	}
	return 0;
}

static void
drop_cert(const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX + 96];

	if (conf_dir(dir, sizeof(dir)) == 0) {
		snprintf(
		    path, sizeof(path), "%s/servercerts/%s.crt", dir, name);
		unlink(path);
	}
}

static int
add_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"protocol", 1, NULL, 'p'},
	    {"public", 0, NULL, 'P'}, {"accept-certificate", 0, NULL, 'a'},
	    {NULL, 0, NULL, 0}};
	const char *proto = "lxd", *name, *url;
	char host[256], port[16], fp[65];
	int ch, pub = 0, accept = 0, rc = -1;
	json_t *c, *r;
	X509 *x = NULL;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'p')
			proto = optarg;
		else if (ch == 'P')
			pub = 1;
		else if (ch == 'a')
			accept = 1;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_remote_add), 0) : -1;
	}
	if (cmd_nargs(&cmd_remote_add, argc - optind, 2, 2) == -1)
		return -1;
	name = argv[optind];
	url = argv[optind + 1];
	if (!name_ok(name) ||
	    url_parse(url, host, sizeof(host), port, sizeof(port)) == -1)
		return -1;
	if (strcmp(proto, "lxd") != 0 && strcmp(proto, "simplestreams") != 0) {
		ctl_err("unknown protocol \"%s\": lxd or simplestreams", proto);
		return -1;
	}
	if ((c = conf_load()) == NULL)
		return -1;
	if (strcmp(name, "local") == 0 ||
	    json_object_get(json_object_get(c, "remotes"), name)) {
		ctl_err("Remote %s exists as <%s>", name,
		    strcmp(name, "local") == 0
			? "unix://"
			: json_string_value(json_object_get(
			      json_object_get(
				  json_object_get(c, "remotes"), name),
			      "addr")));
		goto out;
	}
	/* Simplestreams servers are verified against the system's CAs
	 * when used; an LXD-protocol server is pinned here. */
	if (strcmp(proto, "lxd") == 0) {
		if (!accept) {
			ctl_err("the server's certificate must be pinned: add "
				"--accept-certificate (after checking its "
				"fingerprint out of band)");
			goto out;
		}
		if ((x = fetch_cert(host, port)) == NULL ||
		    save_cert(name, x, fp) == -1)
			goto out;
		if (!ctl->quiet)
			printf("Certificate fingerprint: %s\n", fp);
	}
	r = json_pack("{s:s, s:s, s:b}", "addr", url, "protocol", proto,
	    "public", pub || strcmp(proto, "simplestreams") == 0);
	json_object_set_new(json_object_get(c, "remotes"), name, r);
	rc = conf_save(c);
out:
	X509_free(x);
	json_decref(c);
	return rc;
}

const struct cmd cmd_remote_add = {"add", NULL, add_run,
    "remote add NAME https://HOST[:PORT] [--protocol lxd|simplestreams] "
    "[--public] [--accept-certificate]",
    "Add a remote server. An LXD-protocol server's certificate is pinned\n"
    "(--accept-certificate: saved in servercerts/NAME.crt); a simplestreams\n"
    "server is verified against the system's CAs when it is used.\n\n"
    "      --protocol P          lxd (default) or simplestreams\n"
    "      --public              an image server, used without trust\n"
    "      --accept-certificate  pin the server's certificate"};

static int
list_run(struct ctl *ctl, int argc, char **argv)
{
	static const char *const hdr[] = {
	    "NAME", "URL", "PROTOCOL", "PUBLIC", "DEFAULT"};
	static const struct option opts[] = {
	    {"format", 1, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *fmtname = "table", *k;
	struct table t;
	enum tfmt fmt;
	json_t *c, *r;
	int ch, rc = 0;

	while ((ch = ctl_getopt(argc, argv, "f:", opts)) != -1) {
		if (ch == 'f')
			fmtname = optarg;
		else if ((ch = ctl_opt(ctl, ch, argv)) != 0)
			return ch == 1 ? (cmd_help(&cmd_remote_list), 0) : -1;
	}
	if (cmd_nargs(&cmd_remote_list, argc - optind, 0, 0) == -1 ||
	    tfmt_parse(fmtname, &fmt) == -1 || (c = conf_load()) == NULL)
		return -1;
	const char *def = json_string_value(json_object_get(c, "default"));
	table_init(&t, hdr, 5);
	{
		char *row[5] = {strdup("local"), strdup("unix://"),
		    strdup("lxd"), strdup("NO"),
		    strdup(strcmp(def, "local") == 0 ? "YES" : "")};
		rc = table_add(&t, row);
	}
	json_object_foreach (json_object_get(c, "remotes"), k, r) {
		char *row[5] = {strdup(k), strdup(js_str(r, "addr")),
		    strdup(js_str(r, "protocol")),
		    strdup(json_is_true(json_object_get(r, "public")) ? "YES"
								      : "NO"),
		    strdup(strcmp(def, k) == 0 ? "YES" : "")};
		if (rc == 0)
			rc = table_add(&t, row);
	}
	if (rc == 0) {
		table_sort(&t);
		rc = table_write(stdout, &t, fmt);
	} else
		ctl_err("out of memory");
	table_free(&t);
	json_decref(c);
	return rc;
}

const struct cmd cmd_remote_list = {"list", "ls", list_run,
    "remote list [-f FORMAT]",
    "List the remotes.\n\n  -f, --format FORMAT  table, compact or csv"};

/* A remote that exists and may change: not "local". */
static json_t *
remote_of(json_t *c, const char *name)
{
	json_t *r = json_object_get(json_object_get(c, "remotes"), name);

	if (strcmp(name, "local") == 0)
		ctl_err("remote local is imgd's unix socket: it cannot change");
	else if (r == NULL)
		ctl_err("Remote %s doesn't exist", name);
	return strcmp(name, "local") == 0 ? NULL : r;
}

/* remove, rename, set-url, switch: one remote, and maybe a second word. */
static int
change(struct ctl *ctl, const struct cmd *cmd, int argc, char **argv, int nargs)
{
	const char *name, *arg;
	json_t *c, *r;
	int rc;

	if ((rc = cmd_opts_plain(ctl, cmd, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(cmd, argc - optind, nargs, nargs) == -1 ||
	    (c = conf_load()) == NULL)
		return -1;
	name = argv[optind];
	arg = nargs == 2 ? argv[optind + 1] : NULL;
	rc = -1;
	if (cmd == &cmd_remote_switch) {
		if (strcmp(name, "local") == 0 || remote_of(c, name)) {
			json_object_set_new(c, "default", json_string(name));
			rc = conf_save(c);
		}
	} else if ((r = remote_of(c, name)) == NULL) {
		/* said */
	} else if (cmd == &cmd_remote_remove) {
		if (strcmp(js_str(c, "default"), name) == 0)
			ctl_err("Can't remove the default remote");
		else {
			json_object_del(json_object_get(c, "remotes"), name);
			drop_cert(name);
			rc = conf_save(c);
		}
	} else if (cmd == &cmd_remote_rename) {
		if (name_ok(arg) && strcmp(arg, "local") != 0 &&
		    !json_object_get(json_object_get(c, "remotes"), arg)) {
			char dir[PATH_MAX], a[PATH_MAX + 96], b[PATH_MAX + 96];

			json_object_set(json_object_get(c, "remotes"), arg, r);
			json_object_del(json_object_get(c, "remotes"), name);
			if (strcmp(js_str(c, "default"), name) == 0)
				json_object_set_new(
				    c, "default", json_string(arg));
			if (conf_dir(dir, sizeof(dir)) == 0) {
				snprintf(a, sizeof(a), "%s/servercerts/%s.crt",
				    dir, name);
				snprintf(b, sizeof(b), "%s/servercerts/%s.crt",
				    dir, arg);
				rename(a, b);
			}
			rc = conf_save(c);
		} else if (name_ok(arg))
			ctl_err("Remote %s already exists", arg);
	} else if (cmd == &cmd_remote_set_url) {
		char host[256], port[16];

		if (url_parse(arg, host, sizeof(host), port, sizeof(port)) ==
		    0) {
			json_object_set_new(r, "addr", json_string(arg));
			rc = conf_save(c);
		}
	}
	json_decref(c);
	return rc;
}

static int
remove_run(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, &cmd_remote_remove, argc, argv, 1);
}
static int
rename_run(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, &cmd_remote_rename, argc, argv, 2);
}
static int
set_url_run(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, &cmd_remote_set_url, argc, argv, 2);
}
static int
switch_run(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, &cmd_remote_switch, argc, argv, 1);
}

static int
get_default_run(struct ctl *ctl, int argc, char **argv)
{
	json_t *c;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_remote_get_default, argc, argv)) !=
	    0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_remote_get_default, argc - optind, 0, 0) == -1 ||
	    (c = conf_load()) == NULL)
		return -1;
	printf("%s\n", js_str(c, "default"));
	json_decref(c);
	return 0;
}

const struct cmd cmd_remote_remove = {"remove", "rm", remove_run,
    "remote remove NAME", "Remove a remote (and its pinned certificate)."};
const struct cmd cmd_remote_rename = {
    "rename", "mv", rename_run, "remote rename NAME NEW", "Rename a remote."};
const struct cmd cmd_remote_set_url = {"set-url", NULL, set_url_run,
    "remote set-url NAME URL", "Change a remote's address."};
const struct cmd cmd_remote_switch = {"switch", NULL, switch_run,
    "remote switch NAME", "Make a remote the default."};
const struct cmd cmd_remote_get_default = {"get-default", NULL, get_default_run,
    "remote get-default", "Print the default remote."};

/* A remote's address, protocol and pinned certificate (PEM, malloc'd, or
 * NULL when it has none); -1 after ctl_err. */
int
remote_lookup(const char *name, char *addr, size_t alen, char *proto,
    size_t plen, char **cert)
{
	char dir[PATH_MAX], path[PATH_MAX + 96];
	json_t *c = conf_load(), *r;
	FILE *f;

	*cert = NULL;
	if (c == NULL)
		return -1;
	r = json_object_get(json_object_get(c, "remotes"), name);
	if (r == NULL) {
		ctl_err("Remote %s doesn't exist", name);
		json_decref(c);
		return -1;
	}
	snprintf(addr, alen, "%s", js_str(r, "addr"));
	snprintf(proto, plen, "%s",
	    *js_str(r, "protocol") ? js_str(r, "protocol") : "lxd");
	json_decref(c);
	if (conf_dir(dir, sizeof(dir)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/servercerts/%s.crt", dir, name);
	if ((f = fopen(path, "re")) != NULL) {
		char buf[LIM_CERT_PEM_MAX + 1];
		size_t n = fread(buf, 1, LIM_CERT_PEM_MAX, f);

		fclose(f);
		buf[n] = '\0';
		if ((*cert = strdup(buf)) == NULL) {
			ctl_err("out of memory");
			return -1;
		}
	}
	return 0;
}
