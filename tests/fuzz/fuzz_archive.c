/*
 * libFuzzer target: img_validate() on a unified image (the input, as a
 * memfd). Exercises libarchive's readers behind our filter set and the
 * whole entry policy; the ratio limit bounds decompression work per input.
 */
#include <sys/mman.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpacker/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct img_meta m;
	struct img_report r;
	struct img_limits lim;
	char err[LIM_ERROR_MAX];

	if (fd == -1 && ((fd = memfd_create("fuzz", 0)) == -1 ||
			    img_locale_init(err, sizeof(err)) == -1))
		abort();
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) == -1)
		abort();
	img_limits_default(&lim);
	/* Keep each run short: decompression bombs stop at 8 MiB out. */
	lim.ratio_after = 8 * MiB;
	err[0] = '\0';
	if (img_validate_limits(fd, -1, &lim, &m, &r, err, sizeof(err)) == 0)
		img_meta_free(&m);
	else if (err[0] == '\0' || strchr(err, '\n') != NULL ||
		 m.props != NULL || r.part[0].entries != 0)
		abort();
	return 0;
}
