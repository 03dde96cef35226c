/*
 * image import: a unified image (one tarball, sent as the raw body) or a
 * split one (metadata and rootfs tarballs, sent as multipart/form-data),
 * streamed from the files with an exact Content-Length, never held in
 * memory. Aliases ride along in X-Imgd-Alias headers when the server is
 * imgd, which creates them with the image; other servers get them
 * afterwards, as lxc creates them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ipc/msg.h"
#include "policy/names.h"
#include "imgctl/api.h"
#include "imgctl/client.h"
#include "imgctl/progress.h"

#define IMPORT_ALIASES_MAX LIM_ALIASES_PER_IMAGE /* --alias options */

struct upload {
	const char *path[2]; /* image (or metadata) file, rootfs file */
	int fd[2];
	uint64_t size[2];
	char name[2][LIM_FILENAME_MAX + 1]; /* their base names */
	int nfiles;
	char **props; /* key=value arguments */
	int nprops;
	const char *alias[IMPORT_ALIASES_MAX];
	int naliases;
	int public;
};

/* filepath.Base(): the last element, trailing slashes ignored. */
static int
upload_name(const char *path, char out[LIM_FILENAME_MAX + 1])
{
	size_t end = strlen(path), start;
	const unsigned char *p;

	while (end > 1 && path[end - 1] == '/')
		end--;
	for (start = end; start > 0 && path[start - 1] != '/'; start--)
		;
	if (end - start > LIM_FILENAME_MAX) {
		ctl_err("file name too long: %s", path);
		return -1;
	}
	memcpy(out, path + start, end - start);
	out[end - start] = '\0';
	for (p = (const unsigned char *)out; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			ctl_err("file name has control characters: %s", path);
			return -1;
		}
	return 0;
}

static int
upload_open(struct upload *u, int i)
{
	const char *path = u->path[i];
	struct stat st;

	if (strncmp(path, "https://", 8) == 0 ||
	    strncmp(path, "http://", 7) == 0) {
		ctl_err("importing from a URL is not supported: download %s "
			"and import the file",
		    path);
		return -1;
	}
	if ((u->fd[i] = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ctl_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(u->fd[i], &st) == -1) {
		ctl_err("cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		ctl_err("%s is a directory: imgctl imports image tarballs "
			"only",
		    path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		ctl_err("%s is not a regular file", path);
		return -1;
	}
	u->size[i] = (uint64_t)st.st_size;
	return upload_name(path, u->name[i]);
}

/* lxc's rule: an argument with '=' that is not a path is a property. */
static int
upload_args(struct upload *u, int argc, char **argv)
{
	struct stat st;
	int i;

	for (i = 0; i < argc; i++) {
		if (strchr(argv[i], '=') != NULL && stat(argv[i], &st) == -1) {
			u->props[u->nprops++] = argv[i];
			continue;
		}
		if (u->nfiles == 2) {
			ctl_err("too many files: %s (give an image file, or a "
				"metadata file and a rootfs file)",
			    argv[i]);
			return -1;
		}
		u->path[u->nfiles++] = argv[i];
	}
	if (u->nfiles == 0) {
		ctl_err("no image file given (usage: imgctl image %s)",
		    cmd_image_import.usage);
		return -1;
	}
	for (i = 0; i < u->nfiles; i++)
		if (upload_open(u, i) == -1)
			return -1;
	return 0;
}

static int
upload_opts(struct ctl *ctl, struct upload *u, int argc, char **argv)
{
	static const struct option opts[] = {{"alias", 1, NULL, 'a'},
	    {"public", 0, NULL, 'p'}, {NULL, 0, NULL, 0}};
	int ch, r;

	while ((ch = ctl_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'p')
			u->public = 1;
		else if (ch == 'a') {
			char why[160];

			if (alias_name_check(optarg, why, sizeof(why)) == -1) {
				ctl_err("invalid alias name \"%s\": %s", optarg,
				    why);
				return -1;
			}
			if (u->naliases == IMPORT_ALIASES_MAX) {
				ctl_err(
				    "too many aliases: an image has at most "
				    "%d",
				    IMPORT_ALIASES_MAX);
				return -1;
			}
			u->alias[u->naliases++] = optarg;
		} else if ((r = ctl_opt(ctl, ch, argv)) != 0) {
			if (r == 1)
				cmd_help(&cmd_image_import);
			return r;
		}
	}
	return 0;
}

struct prop {
	char *key, *value;
	int order;
};

static int
prop_cmp(const void *pa, const void *pb)
{
	const struct prop *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : a->order - b->order;
}

/* Go's strings.TrimSpace for ASCII, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s != '\0' && strchr(" \t\n\v\f\r", *s) != NULL)
		s++;
	for (n = strlen(s); n > 0 && strchr(" \t\n\v\f\r", s[n - 1]); n--)
		s[n - 1] = '\0';
	return s;
}

/* Write k=v&... as Go's url.Values.Encode(): sorted, last value wins. */
static int
prop_write(FILE *f, struct prop *p, int n)
{
	char *ek, *ev;
	int i, first = 1, rc = 0;

	qsort(p, (size_t)n, sizeof(*p), prop_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		if (i + 1 < n && strcmp(p[i].key, p[i + 1].key) == 0)
			continue;
		ek = malloc(3 * strlen(p[i].key) + 1);
		ev = malloc(3 * strlen(p[i].value) + 1);
		if (ek == NULL || ev == NULL ||
		    api_escape(p[i].key, 1, ek, 3 * strlen(p[i].key) + 1) ||
		    api_escape(p[i].value, 1, ev, 3 * strlen(p[i].value) + 1))
			rc = -1;
		else
			fprintf(f, "%s%s=%s", first ? "" : "&", ek, ev);
		first = 0;
		free(ek);
		free(ev);
	}
	return rc;
}

static int
upload_props(struct upload *u, FILE *f)
{
	struct prop *p;
	char *eq;
	int i, rc = -1;

	if (u->nprops == 0)
		return 0;
	if ((p = calloc((size_t)u->nprops, sizeof(*p))) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	for (i = 0; i < u->nprops; i++) {
		eq = strchr(u->props[i], '=');
		*eq = '\0';
		p[i].key = trim(u->props[i]);
		p[i].value = trim(eq + 1);
		p[i].order = i;
		if (*p[i].key == '\0') {
			*eq = '=';
			ctl_err("Bad property: %s (a property is KEY=VALUE)",
			    u->props[i]);
			goto out;
		}
	}
	fputs("X-LXD-properties: ", f);
	if (prop_write(f, p, u->nprops) == -1) {
		ctl_err("out of memory");
		goto out;
	}
	fputs("\r\n", f);
	rc = 0;
out:
	free(p);
	return rc;
}

/*
 * FILE.minisig next to file i, for a server with import_key: one header
 * line, base64 of the signature file. 0 (none there, or sent), or -1.
 */
#define SIGFILE_MAX 3072
static int
upload_sig(struct upload *u, int i, FILE *f)
{
	static const char *const hdr[2] = {
	    "X-Imgd-Signature", "X-Imgd-Rootfs-Signature"};
	char path[4096];
	unsigned char text[SIGFILE_MAX + 1], b64[4 * (SIGFILE_MAX / 3 + 1) + 1];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.minisig", u->path[i]) >=
	    sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		ctl_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0) {
		ctl_err("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n > SIGFILE_MAX) {
		ctl_err("%s is larger than a signature file (%d bytes)", path,
		    SIGFILE_MAX);
		return -1;
	}
	EVP_EncodeBlock(b64, text, (int)n);
	fprintf(f, "%s: %s\r\n", hdr[i], b64);
	return 0;
}

/* A signature lies next to a file: only imgd is sent it. */
static int
upload_signed(const struct upload *u)
{
	char path[4096];

	for (int i = 0; i < u->nfiles; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s.minisig",
			u->path[i]) < sizeof(path) &&
		    access(path, F_OK) == 0)
			return 1;
	return 0;
}

/* The request's own header lines (after Content-Length). */
static char *
upload_headers(struct upload *u, const char *ctype, int imgd)
{
	char esc[3 * LIM_ALIAS_NAME_MAX + 1], *buf = NULL;
	size_t len;
	FILE *f;
	int i, rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		ctl_err("out of memory");
		return NULL;
	}
	fprintf(
	    f, "Content-Type: %s\r\nX-LXD-filename: %s\r\n", ctype, u->name[0]);
	if (u->public)
		fputs("X-LXD-public: true\r\n", f);
	rc = upload_props(u, f);
	for (i = 0; imgd && rc == 0 && i < u->naliases; i++) {
		api_escape(u->alias[i], 0, esc, sizeof(esc));
		fprintf(f, "X-Imgd-Alias: %s\r\n", esc);
	}
	for (i = 0; imgd && rc == 0 && i < u->nfiles; i++)
		rc = upload_sig(u, i, f);
	if (fclose(f) != 0 && rc == 0) {
		ctl_err("out of memory");
		rc = -1;
	}
	if (rc == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Stream file i; the file must still hold the size it had at open. */
static int
upload_file(
    struct upload *u, int i, struct hc *hc, struct progress *p, char *buf)
{
	uint64_t left = u->size[i], sent;
	ssize_t n;
	int r;

	while (left > 0) {
		r = hc_send_file(hc, u->fd[i],
		    left < HC_SENDFILE_MAX ? left : HC_SENDFILE_MAX, &sent);
		progress_add(p, sent);
		left -= sent;
		if (r == HC_NOSENDFILE)
			break;
		if (r == HC_SHORT) {
			ctl_err("cannot read %s: the file shrank while it was "
				"sent",
			    u->path[i]);
			return -1;
		}
		if (r != 0)
			return r;
	}
	while (left > 0) {
		n = read(u->fd[i], buf,
		    left < IMGCTL_IO_BUF ? (size_t)left : IMGCTL_IO_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			ctl_err("cannot read %s: %s", u->path[i],
			    n == 0 ? "the file shrank while it was sent"
				   : strerror(errno));
			return -1;
		}
		if ((r = hc_send(hc, buf, (size_t)n)) != 0)
			return r;
		progress_add(p, (uint64_t)n);
		left -= (uint64_t)n;
	}
	return 0;
}

/* The body: the file, or the files as multipart parts. */
static int
upload_body(struct upload *u, struct hc *hc, struct progress *p,
    struct mp_writer *w, const struct mp_part_spec *parts)
{
	char head[MP_WRITE_MAX], *buf;
	ssize_t n = 0;
	int i, r = 0;

	if ((buf = malloc(IMGCTL_IO_BUF)) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	for (i = 0; i <= u->nfiles && r == 0 && n != -1; i++) {
		if (u->nfiles == 2) {
			n = i < 2 ? mp_writer_part(
					w, &parts[i], head, sizeof(head))
				  : mp_writer_close(w, head, sizeof(head));
			if (n == -1 || (r = hc_send(hc, head, (size_t)n)) != 0)
				break;
			progress_add(p, (uint64_t)n);
		}
		if (i < u->nfiles)
			r = upload_file(u, i, hc, p, buf);
	}
	if (n == -1) {
		ctl_err("cannot write the multipart body");
		r = -1;
	}
	free(buf);
	return r;
}

/* Content-Type and Content-Length of the body; w is set up if split. */
static int
upload_framing(struct upload *u, struct mp_writer *w,
    struct mp_part_spec *parts, char *ctype, size_t ctlen, uint64_t *total)
{
	int i;

	snprintf(ctype, ctlen, "application/octet-stream");
	*total = u->size[0];
	if (u->nfiles == 1)
		return 0;
	if (mp_writer_init(w, NULL) == -1) {
		ctl_err(
		    "cannot make a multipart boundary: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		parts[i].name = i == 0 ? "metadata" : "rootfs";
		parts[i].filename = u->name[i];
		parts[i].content_type = "application/octet-stream";
		parts[i].size = u->size[i];
	}
	if (mp_body_length(w->boundary, parts, 2, total) == -1 ||
	    mp_writer_content_type(w, ctype, ctlen) == -1) {
		ctl_err("cannot send these files as a multipart body: %s, %s",
		    u->name[0], u->name[1]);
		return -1;
	}
	return 0;
}

/* POST the image; r gets the answer. */
static int
upload_post(struct ctl *ctl, struct upload *u, int imgd, struct resp *r)
{
	char ctype[MP_WRITE_MAX], path[API_PATH_MAX], *hdrs = NULL;
	struct mp_part_spec parts[2];
	struct mp_writer w;
	struct progress p;
	struct hc *hc = NULL;
	uint64_t total;
	int rc = -1, sent;

	memset(r, 0, sizeof(*r));
	if (upload_framing(u, &w, parts, ctype, sizeof(ctype), &total) == -1 ||
	    (hdrs = upload_headers(u, ctype, imgd)) == NULL ||
	    api_path(ctl, path, "/1.0/images") == -1 ||
	    (hc = hc_open(ctl->sock)) == NULL ||
	    hc_request(hc, "POST", path, hdrs, (int64_t)total) == -1)
		goto out;
	progress_init(&p, "Transferring image", total, ctl->quiet);
	sent = upload_body(u, hc, &p, &w, parts);
	progress_done(&p, NULL);
	if (sent == -1 || hc_response(hc) == -1 || api_read(hc, r) == -1)
		goto out;
	if (sent == HC_EARLY) {
		ctl_err("the server answered %d before the image was sent "
			"completely",
		    r->status);
		goto out;
	}
	rc = 0;
out:
	hc_close(hc);
	free(hdrs);
	return rc;
}

/* lxc's ensureImageAliases(): replace same-named aliases, then create. */
static int
upload_aliases(struct ctl *ctl, struct upload *u, const char *fp)
{
	char path[API_PATH_MAX], esc[3 * LIM_ALIAS_NAME_MAX + 1];
	struct resp r = {0}, d = {0};
	json_t *a, *body;
	size_t k;
	int i, rc = -1;

	if (api_path(ctl, path, "/1.0/images/aliases?recursion=1") == -1 ||
	    api_call(ctl, "GET", path, NULL, NULL, &r) == -1)
		goto out;
	for (k = 0; k < json_array_size(r.meta); k++) {
		a = json_array_get(r.meta, k);
		for (i = 0; i < u->naliases; i++)
			if (strcmp(js_str(a, "name"), u->alias[i]) == 0)
				break;
		if (i == u->naliases)
			continue;
		api_escape(u->alias[i], 0, esc, sizeof(esc));
		if (api_path(ctl, path, "/1.0/images/aliases/%s", esc) == -1 ||
		    api_call(ctl, "DELETE", path, NULL, NULL, &d)) {
			resp_free(&d);
			ctl_err("Failed to remove alias %s: %s", u->alias[i],
			    ctl_errmsg());
			goto out;
		}
		resp_free(&d);
	}
	for (i = 0; i < u->naliases; i++) {
		body = json_pack("{s:s, s:s, s:s, s:s}", "description", "",
		    "target", fp, "name", u->alias[i], "type", "");
		if (body == NULL ||
		    api_path(ctl, path, "/1.0/images/aliases") ||
		    api_call(ctl, "POST", path, body, NULL, &d) == -1) {
			json_decref(body);
			resp_free(&d);
			ctl_err("Failed to create alias %s: %s", u->alias[i],
			    body ? ctl_errmsg() : "not UTF-8");
			goto out;
		}
		json_decref(body);
		resp_free(&d);
	}
	rc = 0;
out:
	resp_free(&r);
	return rc;
}

/* The fingerprint of the new image, from the operation or the answer. */
static int
upload_wait(struct ctl *ctl, struct resp *r, char fp[IMGCTL_FP_LEN + 1])
{
	json_t *opmeta = NULL;
	const char *s;
	int rc = 0;

	if (r->status == 202 && api_wait(ctl, r, &opmeta) == -1)
		return -1;
	s = js_str(r->status == 202 ? opmeta : r->meta, "fingerprint");
	if (strlen(s) != IMGCTL_FP_LEN) {
		ctl_err("the server did not say the new image's fingerprint");
		rc = -1;
	} else
		memcpy(fp, s, IMGCTL_FP_LEN + 1);
	json_decref(opmeta);
	return rc;
}

static int
import_run(struct ctl *ctl, int argc, char **argv)
{
	struct upload u = {.fd = {-1, -1}};
	char fp[IMGCTL_FP_LEN + 1];
	struct resp r = {0};
	int imgd = 0, rc = -1;

	if ((u.props = calloc((size_t)argc + 1, sizeof(*u.props))) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	if ((rc = upload_opts(ctl, &u, argc, argv)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = -1;
	/* A URL: imgd downloads it (lxc image import URL). */
	if (argc - optind == 1 &&
	    (strncmp(argv[optind], "https://", 8) == 0 ||
		strncmp(argv[optind], "http://", 7) == 0)) {
		json_t *src = json_pack("{s:s, s:s, s:s}", "type", "url",
		    "mode", "pull", "url", argv[optind]);

		if (src == NULL) {
			ctl_err("not UTF-8: %s", argv[optind]);
			goto out;
		}
		if (copy_post(ctl, src, u.alias, u.naliases, u.public, 0, 0,
			"Transferring image", fp) == -1)
			goto out;
		if (!ctl->quiet)
			printf("Image imported with fingerprint: %s\n", fp);
		rc = 0;
		goto out;
	}
	if (upload_args(&u, argc - optind, argv + optind) == -1 ||
	    ((u.naliases > 0 || upload_signed(&u)) &&
		(imgd = api_is_imgd(ctl)) == -1) ||
	    upload_post(ctl, &u, imgd, &r) == -1 ||
	    upload_wait(ctl, &r, fp) == -1)
		goto out;
	if (!ctl->quiet)
		printf("Image imported with fingerprint: %s\n", fp);
	rc = u.naliases > 0 && !imgd ? upload_aliases(ctl, &u, fp) : 0;
out:
	resp_free(&r);
	if (u.fd[0] != -1)
		close(u.fd[0]);
	if (u.fd[1] != -1)
		close(u.fd[1]);
	free(u.props);
	return rc;
}

const struct cmd cmd_image_import = {"import", NULL, import_run,
    "import FILE [ROOTFS_FILE] | URL [--alias ALIAS]... [--public] "
    "[KEY=VALUE]...",
    "Import an image: a unified tarball (metadata.yaml and rootfs/),\n"
    "or a metadata tarball and a rootfs tarball. KEY=VALUE arguments\n"
    "set properties of the image. A URL is downloaded by imgd itself\n"
    "(LXD's direct URL protocol: LXD-Image-URL and LXD-Image-Hash).\n\n"
    "      --alias ALIAS  an alias for the new image (repeatable)\n"
    "      --public       make the image public"};
