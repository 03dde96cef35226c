/*
 * image unpack [REMOTE:]IMAGE TARGET: imgd writes the image's rootfs into
 * TARGET under its unpack root and renders the image's templates for the
 * trigger, inside its sandbox (POST /1.0/images/<fp>/unpack). A remote
 * image is copied into imgd as a cached image first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/api.h"

#define UNPACK_CONFIG_MAX 64 /* LIM_UNPACK_CONFIG_MAX */

static int
config_add(json_t *config, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[256];

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		ctl_err("bad --config \"%s\": expected key=value", kv);
		return -1;
	}
	if (json_object_size(config) == UNPACK_CONFIG_MAX) {
		ctl_err("too many --config: at most %d", UNPACK_CONFIG_MAX);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	if (json_object_set_new(config, key, json_string(eq + 1)) == -1) {
		ctl_err("--config \"%s\" is not UTF-8", kv);
		return -1;
	}
	return 0;
}

/* REMOTE:IMAGE is copied (cached) first; a local name is resolved. */
static int
unpack_image(struct ctl *ctl, const char *src, char fp[IMGCTL_FP_LEN + 1])
{
	const char *colon = strchr(src, ':');
	char etag[API_ETAG_MAX], remote[128];
	json_t *img = NULL;

	if (colon && colon != src && strncmp(src, "local:", 6) != 0) {
		if ((size_t)(colon - src) >= sizeof(remote) || !colon[1]) {
			ctl_err("expected [REMOTE:]IMAGE, not \"%s\"", src);
			return -1;
		}
		snprintf(
		    remote, sizeof(remote), "%.*s", (int)(colon - src), src);
		return remote_copy(
		    ctl, remote, colon + 1, NULL, 0, 0, 0, 0, 1, fp);
	}
	if (strncmp(src, "local:", 6) == 0)
		src += 6;
	if (api_image(ctl, src, fp, &img, etag) == -1)
		return -1;
	json_decref(img);
	return 0;
}

static int
unpack_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"name", 1, NULL, 'n'},
	    {"config", 1, NULL, 'c'}, {"trigger", 1, NULL, 't'},
	    {"shift", 1, NULL, 's'}, {"privileged", 0, NULL, 'P'},
	    {"xattrs", 0, NULL, 'x'}, {NULL, 0, NULL, 0}};
	char fp[IMGCTL_FP_LEN + 1], path[API_PATH_MAX];
	json_t *body, *config = json_object(), *meta = NULL;
	const char *name = NULL, *trigger = "create", *shift = NULL;
	int ch, r, priv = 0, xattrs = 0, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "c:", opts)) != -1) {
		if (ch == 'n')
			name = optarg;
		else if (ch == 'c') {
			if (config_add(config, optarg) == -1)
				goto out;
		} else if (ch == 't')
			trigger = optarg;
		else if (ch == 's')
			shift = optarg;
		else if (ch == 'P')
			priv = 1;
		else if (ch == 'x')
			xattrs = 1;
		else if ((r = ctl_opt(ctl, ch, argv)) != 0) {
			if (r == 1)
				cmd_help(&cmd_image_unpack);
			rc = r == 1 ? 0 : -1;
			goto out;
		}
	}
	if (cmd_nargs(&cmd_image_unpack, argc - optind, 2, 2) == -1 ||
	    unpack_image(ctl, argv[optind], fp) == -1)
		goto out;
	body = json_pack("{s:s, s:s, s:O, s:b, s:b}", "target",
	    argv[optind + 1], "trigger", trigger, "config", config,
	    "privileged", priv, "xattrs", xattrs);
	if (body == NULL) {
		ctl_err("not UTF-8");
		goto out;
	}
	if (name)
		json_object_set_new(body, "name", json_string(name));
	if (shift)
		json_object_set_new(body, "shift", json_string(shift));
	if (api_path(ctl, path, "/1.0/images/%s/unpack", fp) == 0 &&
	    op_post(ctl, path, body, "Unpacking the image", &meta) == 0) {
		if (!ctl->quiet)
			printf("Unpacked into %s: %s files, %s directories, "
			       "%s templates rendered\n",
			    js_str(meta, "target"), js_str(meta, "files"),
			    js_str(meta, "directories"),
			    js_str(meta, "templates_rendered"));
		rc = 0;
	}
	json_decref(meta);
	json_decref(body);
out:
	json_decref(config);
	return rc;
}

const struct cmd cmd_image_unpack = {"unpack", NULL, unpack_run,
    "unpack [REMOTE:]IMAGE TARGET [--name NAME] [--config key=value]... "
    "[--trigger create|copy|start|rename] [--shift HOSTUID:HOSTGID:RANGE] "
    "[--privileged] [--xattrs]",
    "Unpack an image's root filesystem into TARGET, a new directory under\n"
    "imgd's unpack root (unpack_root, default <state>/rootfs), then render\n"
    "the image's templates for the trigger and the start ones, as LXD does\n"
    "when it creates and first starts a container. All of it runs in\n"
    "imgd's sandbox, chrooted into TARGET. A remote image is copied into\n"
    "imgd first (cached).\n\n"
    "      --name NAME        the instance name templates see (default "
    "TARGET)\n"
    "  -c, --config K=V       instance config templates read with "
    "config_get\n"
    "      --trigger T        create (default), copy, start or rename\n"
    "      --shift U:G:R      owners shifted into host ids U.. and G.. (R "
    "of\n"
    "                         them), an unprivileged container's view\n"
    "      --privileged       a privileged target: device nodes where the\n"
    "                         policy allows them (unpack_devices)\n"
    "      --xattrs           keep user.* and security.capability xattrs"};

/*
 * publish DIR: imgd packs DIR (metadata.yaml, rootfs/, templates/; or a
 * bare rootfs with --arch) into an image inside its sandbox.
 */
static int
publish_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"alias", 1, NULL, 'a'},
	    {"public", 0, NULL, 'p'}, {"compression", 1, NULL, 'c'},
	    {"split", 0, NULL, 's'}, {"arch", 1, NULL, 'A'},
	    {"os", 1, NULL, 'O'}, {"release", 1, NULL, 'R'},
	    {"xattrs", 0, NULL, 'x'}, {NULL, 0, NULL, 0}};
	json_t *aliases = json_array(), *props = json_object(), *source, *body;
	json_t *meta = NULL;
	const char *comp = "gzip", *arch = NULL, *os = "", *rel = "";
	char dir[4096], path[API_PATH_MAX];
	int ch, r, pub = 0, split = 0, xattrs = 0, rc = -1;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'a')
			json_array_append_new(
			    aliases, json_pack("{s:s, s:s}", "name", optarg,
					 "description", ""));
		else if (ch == 'p')
			pub = 1;
		else if (ch == 'c')
			comp = optarg;
		else if (ch == 's')
			split = 1;
		else if (ch == 'A')
			arch = optarg;
		else if (ch == 'O')
			os = optarg;
		else if (ch == 'R')
			rel = optarg;
		else if (ch == 'x')
			xattrs = 1;
		else if ((r = ctl_opt(ctl, ch, argv)) != 0) {
			if (r == 1)
				cmd_help(&cmd_publish);
			rc = r == 1 ? 0 : -1;
			goto out;
		}
	}
	if (cmd_nargs(&cmd_publish, argc - optind, 1, -1) == -1)
		goto out;
	for (int i = optind + 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char key[256];

		if (eq == NULL || eq == argv[i] ||
		    (size_t)(eq - argv[i]) >= sizeof(key)) {
			ctl_err(
			    "bad property \"%s\": expected key=value", argv[i]);
			goto out;
		}
		snprintf(
		    key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		json_object_set_new(props, key, json_string(eq + 1));
	}
	if (realpath(argv[optind], dir) == NULL) {
		ctl_err("%s: %s", argv[optind],
		    errno == ENOENT ? "no such directory" : strerror(errno));
		goto out;
	}
	source = json_pack("{s:s, s:s}", "type", "directory", "path", dir);
	if (arch)
		json_object_set_new(source, "architecture", json_string(arch));
	json_object_set_new(source, "os", json_string(os));
	json_object_set_new(source, "release", json_string(rel));
	body = json_pack("{s:o, s:O, s:O, s:b, s:b, s:b, s:s}", "source",
	    source, "aliases", aliases, "properties", props, "public", pub,
	    "split", split, "xattrs", xattrs, "compression_algorithm", comp);
	if (body == NULL) {
		ctl_err("not UTF-8");
		goto out;
	}
	if (api_path(ctl, path, "/1.0/images") == 0 &&
	    op_post(ctl, path, body, "Publishing the image", &meta) == 0) {
		if (!ctl->quiet)
			printf("Image published with fingerprint: %s\n",
			    js_str(meta, "fingerprint"));
		rc = 0;
	}
	json_decref(meta);
	json_decref(body);
out:
	json_decref(aliases);
	json_decref(props);
	return rc;
}

const struct cmd cmd_publish = {"publish", NULL, publish_run,
    "publish DIR [--alias ALIAS]... [--public] "
    "[--compression xz|gzip|bzip2|zstd|none] [--split] [--xattrs] "
    "[--arch A --os O --release R] [key=value]...",
    "Make an image of DIR, a directory on imgd's host that holds\n"
    "metadata.yaml, rootfs/ and optionally templates/ (or, with --arch, a\n"
    "root filesystem: metadata.yaml is generated). imgd builds the tarball\n"
    "in its sandbox with numeric owners, sorted entries and the tree's own\n"
    "times, so the same DIR gives the same fingerprint. DIR must be under\n"
    "imgd's unpack root unless you are root.\n\n"
    "      --alias ALIAS        an alias for the image (repeatable)\n"
    "      --public             make it public\n"
    "      --compression ALGO   gzip (default, as LXD), xz, bzip2, zstd, "
    "none\n"
    "      --split              a metadata tarball and a rootfs tarball\n"
    "      --xattrs             keep user.* and security.capability "
    "xattrs\n"
    "      --arch, --os, --release  for a bare root filesystem\n"
    "      key=value            image properties"};
