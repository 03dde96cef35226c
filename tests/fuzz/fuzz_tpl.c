/*
 * libFuzzer target: the template engine (unpacker/tpl.h), parse and render
 * with lowered limits so that each input stays fast. Any input must give
 * 0 with a NUL-terminated output within output_max, or -1 with a one-line
 * "f.tpl:LINE:COL: ..." message and no output; never a leak, a crash or a
 * hang (steps_max bounds the work, output_max the memory).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tpl_kv config[] = {
    {"user.foo", "bar\r\n"},
    {"limits.cpu", "2"},
    {"user.user-data", "#cloud-config\n{}"},
};
static const struct tpl_kv eth0[] = {{"type", "nic"}, {"parent", "br0"}};
static const struct tpl_device devices[] = {{"eth0", eth0, 2}};
static const struct tpl_kv props[] = {{"default", "x"}, {"n", "3"}};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpl_limits lim;
	struct tpl_ctx ctx;
	struct tpl *t = NULL;
	char err[512], *out = (char *)1;
	size_t outlen = 0;

	tpl_limits_default(&lim);
	lim.output_max = 64 * 1024;
	lim.steps_max = 200000;
	memset(&ctx, 0, sizeof(ctx));
	ctx.trigger = "create";
	ctx.path = "/etc/hosts";
	ctx.name = "c1";
	ctx.type = "container";
	ctx.architecture = "x86_64";
	ctx.config = config;
	ctx.nconfig = 3;
	ctx.devices = devices;
	ctx.ndevices = 1;
	ctx.properties = props;
	ctx.nproperties = 2;
	err[0] = '\0';
	if (tpl_parse("f.tpl", (const char *)data, size, &lim, &t, err,
		sizeof(err)) == -1) {
		if (t != NULL || strncmp(err, "f.tpl:", 6) != 0 ||
		    strchr(err, '\n') != NULL)
			abort();
		return 0;
	}
	if (tpl_render(t, &ctx, &lim, &out, &outlen, err, sizeof(err)) == 0) {
		if (out == NULL || outlen > lim.output_max ||
		    out[outlen] != '\0')
			abort();
		free(out);
	} else if (out != NULL || strncmp(err, "f.tpl:", 6) != 0 ||
		   strchr(err, '\n') != NULL) {
		abort();
	}
	tpl_free(t);
	return 0;
}
