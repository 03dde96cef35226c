/*
 * image copy REMOTE:IMAGE local: (lxc image copy) and image import URL:
 * imgd downloads the image itself (POST /1.0/images with a source); this
 * client only follows the operation and shows its progress, as lxc does,
 * from the operation's "download_progress" metadata: "Copying the image:
 * rootfs: 45% (12.30MB/s)" on stderr when it is a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imgctl/api.h"
#include "imgctl/progress.h"
#include "policy/names.h"

#define COPY_ALIASES_MAX 32 /* LIM_ALIASES_PER_IMAGE */

static void
nap(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/* Follows the operation to its end, showing its progress text; its
 * metadata in *meta (the caller's), or -1 after ctl_err. */
static int
follow(struct ctl *ctl, const struct resp *started, const char *label,
    json_t **meta)
{
	char op[API_PATH_MAX / 2], path[API_PATH_MAX], line[256];
	struct progress p;
	struct resp r;
	json_int_t sc;
	int rc = -1;

	*meta = NULL;
	if (api_op_path(started, op, sizeof(op)) == -1 ||
	    api_path(ctl, path, "%s", op) == -1)
		return -1;
	progress_init(&p, label, 0, ctl->quiet);
	for (;;) {
		if (api_call(ctl, "GET", path, NULL, NULL, &r) == -1) {
			resp_free(&r);
			progress_done(&p, NULL);
			return -1;
		}
		sc = js_int(r.meta, "status_code");
		if (sc < 100 || sc >= 200)
			break;
		const char *t = js_str(
		    json_object_get(r.meta, "metadata"), "download_progress");
		if (p.on && *t) {
			snprintf(line, sizeof(line), "\r%s: %s", label, t);
			fputs(line, stderr);
			fflush(stderr);
			p.shown = strlen(line);
		}
		resp_free(&r);
		nap();
	}
	progress_done(&p, NULL);
	if (sc != 200) {
		const char *err = js_str(r.meta, "err");

		ctl_err("%s", *err ? err : "the operation failed");
	} else {
		*meta = json_incref(json_object_get(r.meta, "metadata"));
		rc = 0;
	}
	resp_free(&r);
	return rc;
}

/* POST path (a JSON body or none), then the operation it starts. */
int
op_post(struct ctl *ctl, const char *path, json_t *body, const char *label,
    json_t **meta)
{
	struct resp r = {0};
	int rc = -1;

	if (api_call(ctl, "POST", path, body, NULL, &r) == 0) {
		if (r.status != 202)
			ctl_err("the server did not start an operation");
		else
			rc = follow(ctl, &r, label, meta);
	}
	resp_free(&r);
	return rc;
}

int
copy_post(struct ctl *ctl, json_t *source, const char *const *aliases,
    int naliases, int public, int auto_update, int copy_aliases,
    const char *label, char fp[IMGCTL_FP_LEN + 1])
{
	json_t *body, *al = json_array(), *meta = NULL;
	char path[API_PATH_MAX];
	int rc = -1;
	const char *s;

	for (int i = 0; i < naliases; i++)
		json_array_append_new(al, json_pack("{s:s, s:s}", "name",
					      aliases[i], "description", ""));
	body = json_pack("{s:o, s:o, s:b, s:b, s:b}", "source", source,
	    "aliases", al, "public", public, "auto_update", auto_update,
	    "copy_aliases", copy_aliases);
	if (body == NULL) {
		ctl_err("not UTF-8");
		return -1;
	}
	if (json_is_true(json_object_get(source, "cached"))) {
		json_object_del(source, "cached");
		json_object_set_new(body, "cached", json_true());
	}
	if (api_path(ctl, path, "/1.0/images") == 0 &&
	    op_post(ctl, path, body, label, &meta) == 0) {
		s = js_str(meta, "fingerprint");
		if (strlen(s) != IMGCTL_FP_LEN)
			ctl_err("the server did not say the new image's "
				"fingerprint");
		else {
			memcpy(fp, s, IMGCTL_FP_LEN + 1);
			rc = 0;
		}
	}
	json_decref(meta);
	json_decref(body);
	return rc;
}

static int
is_hex(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n > 0 && s[n] == '\0' && n <= IMGCTL_FP_LEN;
}

static int
copy_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"alias", 1, NULL, 'a'},
	    {"copy-aliases", 0, NULL, 'c'}, {"auto-update", 0, NULL, 'u'},
	    {"public", 0, NULL, 'p'}, {"cached", 0, NULL, 'C'},
	    {NULL, 0, NULL, 0}};
	const char *aliases[COPY_ALIASES_MAX];
	char fp[IMGCTL_FP_LEN + 1];
	int ch, r, n = 0, pub = 0, upd = 0, cpa = 0, cached = 0;
	char why[160], remote[128];
	const char *src, *colon, *image;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'a') {
			if (alias_name_check(optarg, why, sizeof(why)) == -1) {
				ctl_err("invalid alias name \"%s\": %s", optarg,
				    why);
				return -1;
			}
			if (n == COPY_ALIASES_MAX) {
				ctl_err("too many aliases: at most %d",
				    COPY_ALIASES_MAX);
				return -1;
			}
			aliases[n++] = optarg;
		} else if (ch == 'c')
			cpa = 1;
		else if (ch == 'u')
			upd = 1;
		else if (ch == 'p')
			pub = 1;
		else if (ch == 'C')
			cached = 1;
		else if ((r = ctl_opt(ctl, ch, argv)) != 0) {
			if (r == 1)
				cmd_help(&cmd_image_copy);
			return r == 1 ? 0 : -1;
		}
	}
	if (cmd_nargs(&cmd_image_copy, argc - optind, 2, 2) == -1)
		return -1;
	src = argv[optind];
	if (strcmp(argv[optind + 1], "local:") != 0) {
		ctl_err("imgctl copies into imgd (local:), not into \"%s\"",
		    argv[optind + 1]);
		return -1;
	}
	if ((colon = strchr(src, ':')) == NULL || colon == src || !colon[1] ||
	    (size_t)(colon - src) >= sizeof(remote)) {
		ctl_err("expected REMOTE:IMAGE, not \"%s\"", src);
		return -1;
	}
	snprintf(remote, sizeof(remote), "%.*s", (int)(colon - src), src);
	image = colon + 1;
	if (remote_copy(ctl, remote, image, aliases, n, pub, upd, cpa, cached,
		fp) == -1)
		return -1;
	if (!ctl->quiet)
		printf("Image copied successfully!\n");
	return 0;
}

int
remote_copy(struct ctl *ctl, const char *remote, const char *image,
    const char *const *aliases, int n, int pub, int upd, int cpa, int cached,
    char fp[IMGCTL_FP_LEN + 1])
{
	char addr[LIM_URL_MAX + 1], proto[32], *cert;
	json_t *source;

	if (remote_lookup(
		remote, addr, sizeof(addr), proto, sizeof(proto), &cert) == -1)
		return -1;
	source = json_pack("{s:s, s:s, s:s, s:s}", "type", "image", "mode",
	    "pull", "protocol", proto, "server", addr);
	json_object_set_new(source, is_hex(image) ? "fingerprint" : "alias",
	    json_string(image));
	if (cert && strcmp(proto, "lxd") == 0)
		json_object_set_new(source, "certificate", json_string(cert));
	if (cached) /* moved to the request by copy_post */
		json_object_set_new(source, "cached", json_true());
	free(cert);
	return copy_post(
	    ctl, source, aliases, n, pub, upd, cpa, "Copying the image", fp);
}

const struct cmd cmd_image_copy = {"copy", "cp", copy_run,
    "copy REMOTE:IMAGE local: [--alias ALIAS]... [--copy-aliases] "
    "[--auto-update] [--public]",
    "Copy an image from a remote server into imgd: imgd downloads it\n"
    "through its sandboxed fetcher and checks it before keeping it. The\n"
    "remote's pinned certificate (remote add) is the only one accepted\n"
    "for an LXD server; simplestreams servers are checked against the\n"
    "system's CAs.\n\n"
    "      --alias ALIAS   an alias for the copy (repeatable)\n"
    "      --copy-aliases  also the aliases the image has on the remote\n"
    "      --auto-update   keep it fresh (a copy by alias only)\n"
    "      --cached        a cache: deleted once unused for\n"
    "                      remote_cache_expiry\n"
    "      --public        make the copy public"};

/* image refresh IMAGE...: lxc's words for each. */
static int
refresh_run(struct ctl *ctl, int argc, char **argv)
{
	char fp[IMGCTL_FP_LEN + 1], etag[API_ETAG_MAX], path[API_PATH_MAX];
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_refresh, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_refresh, argc - optind, 1, -1) == -1)
		return -1;
	for (int i = optind; i < argc; i++) {
		json_t *img = NULL, *meta = NULL;

		if (api_image(ctl, argv[i], fp, &img, etag) == -1)
			return -1;
		json_decref(img);
		if (api_path(ctl, path, "/1.0/images/%s/refresh", fp) == -1 ||
		    op_post(ctl, path, NULL, "Refreshing the image", &meta) ==
			-1)
			return -1;
		if (!ctl->quiet)
			printf("%s\n",
			    json_is_true(json_object_get(meta, "refreshed"))
				? "Image refreshed successfully!"
				: "Image already up to date.");
		json_decref(meta);
	}
	return 0;
}

const struct cmd cmd_image_refresh = {"refresh", NULL, refresh_run,
    "refresh IMAGE...",
    "Refresh images from the server they were copied from (by alias):\n"
    "a newer image under that alias replaces each, its aliases, public\n"
    "flag and properties carried over."};
