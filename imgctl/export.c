/*
 * image export: GET /1.0/images/<fp>/export, one file (named by
 * Content-Disposition) or a multipart body (metadata, then rootfs). The
 * body is streamed into temporary files beside the targets and hashed on
 * the way; only when the sha256 equals the fingerprint are the files
 * renamed into place. On any error, or a signal, nothing is left behind.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "imgctl/api.h"
#include "imgctl/client.h"
#include "imgctl/expname.h"
#include "imgctl/progress.h"

struct part {
	char name[LIM_FILENAME_MAX + 1]; /* the server's, "" if none */
	int fd;
	uint64_t size;
};

struct download {
	char fp[IMGCTL_FP_LEN + 1];
	char dir[PATH_MAX]; /* where the temporary files go */
	struct part part[2];
	int nparts;
	int split;
	EVP_MD_CTX *sha;
	struct progress progress;
};

/* Temporary files, for the signal handler: removed on SIGINT/TERM/HUP. */
static char exp_tmp[2][PATH_MAX];

static void
exp_signal(int sig)
{
	if (exp_tmp[0][0] != '\0')
		unlink(exp_tmp[0]);
	if (exp_tmp[1][0] != '\0')
		unlink(exp_tmp[1]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
exp_cleanup(struct download *d)
{
	sigset_t all, old;
	int i;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < 2; i++) {
		if (d->part[i].fd != -1)
			close(d->part[i].fd);
		d->part[i].fd = -1;
		if (exp_tmp[i][0] != '\0')
			unlink(exp_tmp[i]);
		exp_tmp[i][0] = '\0';
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Open part i's temporary file, as os.Create would make it (0666). */
static int
exp_create(struct download *d, int i)
{
	char tmp[PATH_MAX];
	mode_t mask;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s/.imgctl-export-XXXXXX", d->dir);
	if (n < 0 || n >= (int)sizeof(tmp)) {
		ctl_err("target directory name too long: %s", d->dir);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		ctl_err(
		    "cannot create a file in %s: %s", d->dir, strerror(errno));
		return -1;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	memcpy(exp_tmp[i], tmp, sizeof(tmp));
	d->part[i].fd = fd;
	return 0;
}

static int
exp_write(struct download *d, int i, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	EVP_DigestUpdate(d->sha, data, len);
	d->part[i].size += len;
	progress_add(&d->progress, len);
	while (len > 0) {
		if ((n = write(d->part[i].fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			ctl_err("cannot write the exported image in %s: %s",
			    d->dir, strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A multipart part begins: metadata first, then rootfs. */
static int
exp_part(struct download *d, const struct mp_part *mp)
{
	int i = mp->index;

	if ((i == 0 && strcmp(mp->name, "metadata") != 0) ||
	    (i == 1 && strcmp(mp->name, "rootfs") != 0 &&
		strcmp(mp->name, "rootfs.img") != 0)) {
		ctl_err("Invalid multipart image: unexpected part \"%s\"",
		    mp->name);
		return -1;
	}
	if (mp->has_filename &&
	    exp_base(mp->filename, d->part[i].name, sizeof(d->part[i].name)))
		d->part[i].name[0] = '\0';
	d->nparts = i + 1;
	return exp_create(d, i);
}

/* Feed a span of the body to the multipart parser. */
static int
exp_multipart(
    struct download *d, struct mp_parser *mp, const uint8_t *in, size_t len)
{
	const uint8_t *data;
	size_t used, dlen;
	enum mp_event ev;

	for (;;) {
		ev = mp_parse(mp, in, len, &used, &data, &dlen);
		in += used;
		len -= used;
		switch (ev) {
		case MP_NEED_MORE:
			return 0;
		case MP_ERROR:
			ctl_err("Invalid multipart image: %s", mp->err.reason);
			return -1;
		case MP_PART_BEGIN:
			if (exp_part(d, &mp->part) == -1)
				return -1;
			break;
		case MP_DATA:
			if (exp_write(d, d->nparts - 1, data, dlen) == -1)
				return -1;
			break;
		default:
			break;
		}
	}
}

/* Stream the body into the files. */
static int
exp_body(struct download *d, struct hc *hc, struct mp_parser *mp)
{
	const uint8_t *data;
	size_t len;
	int r;

	while ((r = hc_body(hc, &data, &len)) == 1) {
		if (d->split ? exp_multipart(d, mp, data, len)
			     : exp_write(d, 0, data, len))
			return -1;
	}
	if (r == -1)
		return -1;
	if (d->split && (mp_finish(mp) == -1 || d->nparts != 2)) {
		ctl_err("Invalid multipart image: %s",
		    d->nparts != 2 ? "it does not have two parts"
				   : mp->err.reason);
		return -1;
	}
	return 0;
}

/* Decide unified or split from the head; open the unified file. */
static int
exp_head(struct download *d, struct hc *hc, struct mp_parser *mp)
{
	const struct http_head *h = hc_head(hc);
	const char *ct = http_head_get(h, "Content-Type");
	const char *cd = http_head_get(h, "Content-Disposition");
	char boundary[MP_BOUNDARY_MAX + 1], name[PATH_MAX];
	struct http_error err = {400, "invalid multipart boundary"};

	if (ct != NULL && strncasecmp(ct, "multipart/", 10) == 0) {
		if (mp_boundary_parse(ct, boundary, &err) == -1 ||
		    mp_init(mp, boundary, 2) == -1) {
			ctl_err("Invalid multipart image: %s", err.reason);
			return -1;
		}
		d->split = 1;
		return 0;
	}
	if (cd == NULL || cd_filename(cd, name, sizeof(name)) == -1 ||
	    exp_base(name, d->part[0].name, sizeof(d->part[0].name)) == -1) {
		ctl_err("No filename in Content-Disposition header");
		return -1;
	}
	d->nparts = 1;
	return exp_create(d, 0);
}

/* Compare the sha256 of what was written with the fingerprint. */
static int
exp_verify(struct download *d)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int n, i;

	if (EVP_DigestFinal_ex(d->sha, md, &n) != 1) {
		ctl_err("cannot compute sha256");
		return -1;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, d->fp) != 0) {
		ctl_err("Image fingerprint doesn't match. Got %s expected %s",
		    hex, d->fp);
		return -1;
	}
	return 0;
}

/* Close the files and rename them to their final names. */
static int
exp_place(struct download *d, const char *target, int is_dir)
{
	char meta[PATH_MAX], rootfs[PATH_MAX];
	int i, has_rootfs = d->split && d->part[1].size > 0;

	for (i = 0; i < d->nparts; i++) {
		if (close(d->part[i].fd) == -1) {
			d->part[i].fd = -1;
			ctl_err("cannot write the exported image in %s: %s",
			    d->dir, strerror(errno));
			return -1;
		}
		d->part[i].fd = -1;
	}
	if (exp_paths(target, is_dir, d->fp, d->part[0].name,
		has_rootfs ? d->part[1].name : NULL, meta, rootfs) == -1) {
		ctl_err("target path too long: %s", target ? target : ".");
		return -1;
	}
	/* An empty rootfs makes a unified image, as in lxc. */
	if (rename(exp_tmp[0], meta) == -1) {
		ctl_err("cannot create %s: %s", meta, strerror(errno));
		return -1;
	}
	exp_tmp[0][0] = '\0';
	if (has_rootfs && rename(exp_tmp[1], rootfs) == -1) {
		ctl_err("cannot create %s: %s", rootfs, strerror(errno));
		unlink(meta);
		return -1;
	}
	if (has_rootfs)
		exp_tmp[1][0] = '\0';
	return 0;
}

/* GET the export and stream it into temporary files. */
static int
exp_fetch(struct ctl *ctl, struct download *d)
{
	char path[API_PATH_MAX];
	struct mp_parser mp;
	struct resp r = {0};
	struct hc *hc = NULL;
	int64_t len;
	int rc = -1;

	if (api_path(ctl, path, "/1.0/images/%s/export", d->fp) == -1 ||
	    (hc = hc_open(ctl->sock)) == NULL ||
	    hc_request(hc, "GET", path, NULL, -1) == -1 ||
	    hc_response(hc) == -1)
		goto out;
	if (hc_head(hc)->status != 200) {
		if (api_read(hc, &r) == 0)
			ctl_err("the server answered %d instead of the image",
			    r.status);
		goto out;
	}
	if (exp_head(d, hc, &mp) == -1)
		goto out;
	len = hc_head(hc)->content_length;
	progress_init(&d->progress, "Exporting the image",
	    len > 0 ? (uint64_t)len : 0, ctl->quiet);
	rc = exp_body(d, hc, &mp);
	if (rc == -1)
		progress_done(&d->progress, NULL);
out:
	resp_free(&r);
	hc_close(hc);
	return rc;
}

/* The directory of a target file: where its temporary file goes. */
static int
exp_dir(struct download *d, const char *target, int is_dir)
{
	const char *slash;
	int n;

	if (target == NULL)
		n = snprintf(d->dir, sizeof(d->dir), ".");
	else if (is_dir)
		n = snprintf(d->dir, sizeof(d->dir), "%s", target);
	else if ((slash = strrchr(target, '/')) == NULL)
		n = snprintf(d->dir, sizeof(d->dir), ".");
	else
		n = snprintf(d->dir, sizeof(d->dir), "%.*s",
		    slash == target ? 1 : (int)(slash - target), target);
	if (n < 0 || n >= (int)sizeof(d->dir)) {
		ctl_err("target path too long: %s", target);
		return -1;
	}
	return 0;
}

static int
export_run(struct ctl *ctl, int argc, char **argv)
{
	struct download d = {.part = {{.fd = -1}, {.fd = -1}}};
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa, old[3];
	const char *target = NULL;
	struct stat st;
	int i, is_dir, rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_image_export, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_export, argc - optind, 1, 2) == -1 ||
	    api_image(ctl, argv[optind], d.fp, NULL, NULL) == -1)
		return -1;
	if (argc - optind == 2)
		target = argv[optind + 1];
	is_dir =
	    target == NULL || (stat(target, &st) == 0 && S_ISDIR(st.st_mode));
	if (exp_dir(&d, target, is_dir) == -1)
		return -1;
	if ((d.sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d.sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(d.sha);
		ctl_err("cannot compute sha256");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exp_signal;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	rc = -1;
	if (exp_fetch(ctl, &d) == 0 && exp_verify(&d) == 0 &&
	    exp_place(&d, target, is_dir) == 0) {
		progress_done(&d.progress, "Image exported successfully!");
		rc = 0;
	} else
		progress_done(&d.progress, NULL);
	exp_cleanup(&d);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	EVP_MD_CTX_free(d.sha);
	return rc;
}

const struct cmd cmd_image_export = {"export", NULL, export_run,
    "export IMAGE [TARGET]",
    "Export an image to files, checked against its fingerprint.\n\n"
    "Without TARGET, or with a directory, the files get the names the\n"
    "server gives them. With a file name, a unified image is written to\n"
    "TARGET plus the server's extension (TARGET.tar.gz); a split one to\n"
    "TARGET and TARGET.root."};
