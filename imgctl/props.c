/*
 * image get-property, set-property, unset-property and delete. A change
 * is a GET then a PUT of the whole api.ImagePut with If-Match, as lxc
 * does, so that a concurrent change is refused rather than lost.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "imgctl/api.h"
#include "imgctl/schema.h"

static int
getprop_run(struct ctl *ctl, int argc, char **argv)
{
	char fp[IMGCTL_FP_LEN + 1];
	json_t *img, *v;
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_get_property, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_get_property, argc - optind, 2, 2) == -1 ||
	    (img = api_image_get(ctl, argv[optind], fp, NULL)) == NULL)
		return -1;
	v = json_object_get(
	    json_object_get(img, "properties"), argv[optind + 1]);
	if (v == NULL) {
		ctl_err("Property not found");
		r = -1;
	} else
		printf("%s\n", json_string_value(v));
	json_decref(img);
	return r;
}

const struct cmd cmd_image_get_property = {"get-property", NULL, getprop_run,
    "get-property IMAGE KEY", "Get an image property."};

/* Set key to value, or remove it when value is NULL, then PUT. */
static int
setprop(struct ctl *ctl, const char *name, const char *key, const char *value)
{
	char fp[IMGCTL_FP_LEN + 1], etag[API_ETAG_MAX];
	json_t *img, *put = NULL, *props;
	int rc = -1;

	if ((img = api_image_get(ctl, name, fp, etag)) == NULL)
		return -1;
	if ((put = sch_normalize(img, sch_image_put)) == NULL)
		goto oom;
	props = json_object_get(put, "properties");
	if (!json_is_object(props)) {
		if ((props = json_object()) == NULL)
			goto oom;
		json_object_set_new(put, "properties", props);
	}
	/*
	 * lxc unsets by setting "" (which LXD then drops); removing the key
	 * says what is meant to any server.
	 */
	if (value == NULL)
		json_object_del(props, key);
	else if (json_object_set_new(props, key, json_string(value)) == -1) {
		ctl_err("property value is not valid UTF-8: %s", value);
		goto out;
	}
	rc = api_image_put(ctl, fp, put, etag);
	goto out;
oom:
	ctl_err("out of memory");
out:
	json_decref(put);
	json_decref(img);
	return rc;
}

static int
setprop_run(struct ctl *ctl, int argc, char **argv)
{
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_set_property, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_set_property, argc - optind, 3, 3) == -1)
		return -1;
	return setprop(ctl, argv[optind], argv[optind + 1], argv[optind + 2]);
}

const struct cmd cmd_image_set_property = {"set-property", NULL, setprop_run,
    "set-property IMAGE KEY VALUE", "Set an image property."};

static int
unsetprop_run(struct ctl *ctl, int argc, char **argv)
{
	int r;

	if ((r = cmd_opts_plain(ctl, &cmd_image_unset_property, argc, argv)) !=
	    0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_unset_property, argc - optind, 2, 2) == -1)
		return -1;
	return setprop(ctl, argv[optind], argv[optind + 1], NULL);
}

const struct cmd cmd_image_unset_property = {"unset-property", NULL,
    unsetprop_run, "unset-property IMAGE KEY", "Unset an image property."};

static int
delete_one(struct ctl *ctl, const char *name)
{
	char fp[IMGCTL_FP_LEN + 1], path[API_PATH_MAX];
	struct resp r;
	int rc;

	if (api_image(ctl, name, fp, NULL, NULL) == -1 ||
	    api_path(ctl, path, "/1.0/images/%s", fp) == -1)
		return -1;
	rc = api_call(ctl, "DELETE", path, NULL, NULL, &r);
	/* LXD deletes in the background; a server may also answer at once. */
	if (rc == 0 && r.status == 202)
		rc = api_wait(ctl, &r, NULL);
	resp_free(&r);
	return rc;
}

static int
delete_run(struct ctl *ctl, int argc, char **argv)
{
	int r, i;

	if ((r = cmd_opts_plain(ctl, &cmd_image_delete, argc, argv)) != 0)
		return r == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_delete, argc - optind, 1, -1) == -1)
		return -1;
	for (i = optind; i < argc; i++)
		if (delete_one(ctl, argv[i]) == -1)
			return -1;
	return 0;
}

const struct cmd cmd_image_delete = {"delete", "rm", delete_run,
    "delete IMAGE...",
    "Delete images, stopping at the first that cannot be deleted."};
