/*
 * Blobs on disk (DESIGN.md section 5): <state>/images/<fp> (unified image
 * or split metadata) and <fp>.rootfs. Uploads land in unnamed O_TMPFILE
 * files under <state>/tmp, so nothing survives a crash; a commit links the
 * file into place. The store is the only process that opens these paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/names.h"
#include "store/store.h"

static int images_fd = -1, tmp_fd = -1, quarantine_fd = -1;

static int
open_dir(int at, const char *name, mode_t mode, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdirat(at, name, mode) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", name, strerror(errno));
		return -1;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "open %s: %s", name, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 07777) != mode) {
		if (fchmod(fd, mode) == -1 || st.st_uid != geteuid()) {
			snprintf(err, errlen, "%s: wrong owner or mode", name);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * images/ carries a marker file: a directory that is missing, or replaced
 * by an empty one (an unmounted volume, a restore in progress), while the
 * database lists images is refused rather than "repaired" into nothing.
 */
#define IMAGES_MARKER ".imgd-images"

static int
check_images_dir(int sfd, int has_rows, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(sfd, "images", &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT || has_rows) {
			snprintf(err, errlen,
			    "images/ is %s but the database "
			    "lists images: restore it (or mount it) before "
			    "starting imgd",
			    errno == ENOENT ? "missing" : strerror(errno));
			return -1;
		}
		return 0;
	}
	if (fstatat(sfd, "images/" IMAGES_MARKER, &st, AT_SYMLINK_NOFOLLOW) ==
	    0)
		return 0;
	if (errno != ENOENT || has_rows) {
		snprintf(err, errlen,
		    "images/ has no %s marker but the "
		    "database lists images: is the right volume mounted?",
		    IMAGES_MARKER);
		return -1;
	}
	return 0;
}

int
blob_init(const char *state, int has_rows, char *err, size_t errlen)
{
	int sfd, efd, mfd;
	DIR *d;
	struct dirent *de;

	sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd == -1) {
		snprintf(err, errlen, "%s: %s", state, strerror(errno));
		return -1;
	}
	if (check_images_dir(sfd, has_rows, err, errlen) == -1) {
		close(sfd);
		return -1;
	}
	if ((images_fd = open_dir(sfd, "images", 0700, err, errlen)) == -1 ||
	    (tmp_fd = open_dir(sfd, "tmp", 0700, err, errlen)) == -1 ||
	    (quarantine_fd = open_dir(sfd, "quarantine", 0700, err, errlen)) ==
		-1 ||
	    (efd = open_dir(sfd, "empty", 0555, err, errlen)) == -1) {
		close(sfd);
		return -1;
	}
	mfd = openat(images_fd, IMAGES_MARKER,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mfd == -1) {
		snprintf(err, errlen, "images/%s: %s", IMAGES_MARKER,
		    strerror(errno));
		close(sfd);
		return -1;
	}
	close(mfd);
	/* The children's chroot must be empty. */
	if ((d = fdopendir(efd)) == NULL) {
		snprintf(err, errlen, "empty: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(err, errlen, "%s/empty is not empty", state);
			closedir(d);
			return -1;
		}
	closedir(d);
	close(sfd);
	return 0;
}

int
blob_tmp_create(void)
{
	return openat(tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* A read-only descriptor of the same file, for a child to read. */
int
blob_reopen_ro(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static void
blob_name(const char *fp, int part, char *out, size_t len)
{
	snprintf(out, len, "%s%s", fp, part == PART_ROOTFS ? ".rootfs" : "");
}

/*
 * Makes the unnamed file fd visible as the blob. The content is identified
 * by its hash, so an existing blob of that name (another project imported
 * the same image) is the same bytes and is kept.
 */
int
blob_commit(int fd, const char *fp, int part, char *err, size_t errlen)
{
	char name[80], path[64];

	blob_name(fp, part, name, sizeof(name));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (fdatasync(fd) == -1) {
		snprintf(err, errlen, "sync: %s", strerror(errno));
		return -1;
	}
	if (linkat(AT_FDCWD, path, images_fd, name, AT_SYMLINK_FOLLOW) == -1 &&
	    errno != EEXIST) {
		snprintf(err, errlen, "link %s: %s", name, strerror(errno));
		return -1;
	}
	if (fsync(images_fd) == -1) {
		snprintf(err, errlen, "sync images: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
blob_open(const char *fp, int part)
{
	char name[80];

	blob_name(fp, part, name, sizeof(name));
	return openat(images_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* 1: a regular file; 0: definitely not there; -1: cannot tell. */
int
blob_exists(const char *fp, int part)
{
	char name[80];
	struct stat st;

	blob_name(fp, part, name, sizeof(name));
	if (fstatat(images_fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	return S_ISREG(st.st_mode) ? 1 : 0;
}

void
blob_remove(const char *fp)
{
	char name[80];

	for (int part = PART_UNIFIED; part <= PART_ROOTFS; part += 2) {
		blob_name(fp, part, name, sizeof(name));
		if (unlinkat(images_fd, name, 0) == -1 && errno != ENOENT)
			log_warn("%s: unlink %s", __func__, name);
	}
}

/* Export file name extensions, as LXD names them. */
const char *
blob_ext(const char *compression)
{
	return tar_ext(compression);
}

static int
is_fp(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

struct repair {
	int pass;    /* 0: count, 1: fix */
	int missing; /* rows without files */
};

/* Rows whose files are gone are dropped (second pass). */
static int
repair_row(const char *fp, int split, void *arg)
{
	struct repair *r = arg;
	int a = blob_exists(fp, PART_UNIFIED);
	int b = split ? blob_exists(fp, PART_ROOTFS) : 1;

	if (a == -1 || b == -1)
		fatal("repair: cannot check the files of image %s", fp);
	if (a && b)
		return 0;
	if (r->pass == 0) {
		r->missing++;
		return 0;
	}
	log_warnx("repair: image %s has no file: forgetting it", fp);
	audit("repair-row-removed", "fingerprint", fp, NULL);
	db_fp_forget(fp);
	blob_remove(fp);
	return 0;
}

/* A file without a row is moved aside, not deleted: it may be the one
 * copy of an image whose row a restored database lacks. */
static void
quarantine(const char *name)
{
	char to[4300];

	if (quarantine_fd == -1) {
		log_warnx("repair: no quarantine directory: %s stays", name);
		return;
	}
	snprintf(to, sizeof(to), "%s", name);
	if (renameat(images_fd, name, quarantine_fd, to) == -1)
		log_warn("repair: move %s to quarantine", name);
}

/*
 * Start-up repair: files without rows and rows without files are found,
 * reported and fixed; the temp directory is emptied. Forgetting many rows
 * at once looks like lost storage, not a crash: that needs --repair.
 */
void
blob_repair(int force)
{
	struct repair r = {0, 0};
	struct dirent *de;
	DIR *d;
	int fd, total = db_image_count();

	db_fp_all(repair_row, &r);
	if (r.missing > 8 && r.missing > total / 10 && !force)
		fatalx("repair: %d of %d images have no file in %s/images: "
		       "refusing to forget them. Restore the files, or start "
		       "once with --repair to drop those images",
		    r.missing, total, S->state);
	r.pass = 1;
	if (r.missing)
		db_fp_all(repair_row, &r);
	if ((fd = dup(images_fd)) == -1 || (d = fdopendir(fd)) == NULL)
		fatal("%s: images", __func__);
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		char fp[65];

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, IMAGES_MARKER) == 0)
			continue;
		if (len == 71 && strcmp(n + 64, ".rootfs") == 0)
			len = 64;
		if (is_fp(n, len)) {
			memcpy(fp, n, 64);
			fp[64] = '\0';
			if (db_fp_refs(fp) > 0)
				continue;
		}
		log_warnx("repair: %s/images/%s has no image row: moved to "
			  "%s/quarantine/ (delete it when not needed)",
		    S->state, n, S->state);
		audit("repair-file-quarantined", "file", n, NULL);
		quarantine(n);
	}
	closedir(d);
	if ((fd = dup(tmp_fd)) == -1 || (d = fdopendir(fd)) == NULL)
		fatal("%s: tmp", __func__);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		log_warnx("repair: removing leftover %s/tmp/%s", S->state,
		    de->d_name);
		if (unlinkat(tmp_fd, de->d_name, 0) == -1)
			log_warn("repair: unlink tmp/%s", de->d_name);
	}
	closedir(d);
}
