/*
 * Unit tests: pack_image() on real trees built here as root (owners,
 * setuid bits, devices, a FIFO, a socket, symlinks, hard links, long names,
 * xattrs), in every compression, unified and split, from DIR and from a
 * bare rootfs. Each output is read back entry by entry with libarchive,
 * passes img_validate(), is listed by GNU tar and bsdtar, and is the same
 * bytes twice and from a cp -a copy. Then every refusal, with its message.
 *
 * Linked with -Wl,--wrap=read: __wrap_read() below changes a chosen file
 * while the library reads it, which nothing else can do deterministically.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/t.h"
#include "unpacker/pack.h"
#include "unpacker/validate.h"

#define T0 1500000000
#define T_META 1600000000
#define T_BARE 1650000000
#define META                                                                   \
	"architecture: x86_64\n"                                               \
	"creation_date: 1600000000\n"                                          \
	"properties:\n"                                                        \
	"  description: pack test\n"                                           \
	"  os: testos\n"                                                       \
	"templates:\n"                                                         \
	"  /etc/hostname:\n"                                                   \
	"    when:\n"                                                          \
	"      - create\n"                                                     \
	"    template: hostname.tpl\n"
#define META_BARE                                                              \
	"architecture: aarch64\ncreation_date: 1650000000\n"                   \
	"properties:\n  os: bare\n"
#define MAXEX 128
#define NAME_BIG 4200

static char base[64];  /* the test's mkdtemp directory */
static char src[128];  /* the rich tree: DIR */
static char copy[128]; /* its cp -a copy */

/* security.capability, v2: cap_net_raw permitted. */
static const unsigned char capblob[20] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x20,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00};

/* ---- the expected tree ---- */

enum { XA_NONE, XA_FILE, XA_DIR };

struct ex {
	char *rel; /* under the tree's root; "" is the root */
	char type; /* d f l h c b p */
	unsigned perm, uid, gid;
	int64_t mtime;
	char *link; /* symlink target, or hard link target's rel */
	char *data; /* contents of 'f'; NULL: size zeros but the last */
	uint64_t size;
	unsigned maj, min;
	int xa;
};

struct tree {
	struct ex e[MAXEX];
	size_t n;
};

static struct tree rootfs_ex, tpl_ex; /* rootfs/ and templates/ of src */

static struct ex *
ex_add(struct tree *t, const char *rel, char type, unsigned perm, unsigned uid,
    unsigned gid)
{
	struct ex *e = &t->e[t->n++];

	memset(e, 0, sizeof(*e));
	e->rel = strdup(rel);
	e->type = type;
	e->perm = perm;
	e->uid = uid;
	e->gid = gid;
	e->mtime = T0;
	return e;
}

static void
path_of(char *dst, size_t len, const char *top, const char *rel)
{
	snprintf(dst, len, "%s%s%s", top, rel[0] ? "/" : "", rel);
}

static void
die(const char *what, const char *p)
{
	fprintf(stderr, "test_pack: %s %s: %s\n", what, p, strerror(errno));
	exit(2);
}

static void
own(const char *p, unsigned perm, unsigned uid, unsigned gid)
{
	if (lchown(p, uid, gid) == -1)
		die("lchown", p);
	if (perm != 0777 && chmod(p, perm) == -1)
		die("chmod", p);
}

static struct ex *
mkd(struct tree *t, const char *top, const char *rel, unsigned perm,
    unsigned uid, unsigned gid)
{
	char p[NAME_BIG];

	path_of(p, sizeof(p), top, rel);
	if (rel[0] && mkdir(p, 0700) == -1)
		die("mkdir", p);
	own(p, perm, uid, gid);
	return ex_add(t, rel, 'd', perm, uid, gid);
}

static struct ex *
mkf(struct tree *t, const char *top, const char *rel, unsigned perm,
    unsigned uid, unsigned gid, const char *data)
{
	char p[NAME_BIG];
	int fd;
	struct ex *e;

	path_of(p, sizeof(p), top, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		die("create", p);
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		die("write", p);
	close(fd);
	own(p, perm, uid, gid);
	e = ex_add(t, rel, 'f', perm, uid, gid);
	e->data = strdup(data);
	e->size = strlen(data);
	return e;
}

static void
mkl(struct tree *t, const char *top, const char *rel, const char *target)
{
	char p[NAME_BIG];

	path_of(p, sizeof(p), top, rel);
	if (symlink(target, p) == -1)
		die("symlink", p);
	ex_add(t, rel, 'l', 0777, 0, 0)->link = strdup(target);
}

static void
mkh(struct tree *t, const char *top, const char *rel, const char *to)
{
	char p[NAME_BIG], q[NAME_BIG];
	struct ex *e = NULL, *h;
	size_t i;

	path_of(p, sizeof(p), top, rel);
	path_of(q, sizeof(q), top, to);
	if (link(q, p) == -1)
		die("link", p);
	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].rel, to) == 0)
			e = &t->e[i];
	h = ex_add(t, rel, 'h', e->perm, e->uid, e->gid);
	h->link = strdup(to);
	h->mtime = e->mtime;
}

static void
mkn(struct tree *t, const char *top, const char *rel, char type, unsigned perm,
    unsigned gid, unsigned maj, unsigned min)
{
	mode_t m = type == 'c' ? S_IFCHR : type == 'b' ? S_IFBLK : S_IFIFO;
	char p[NAME_BIG];
	struct ex *e;

	path_of(p, sizeof(p), top, rel);
	if (mknod(p, m | 0600, makedev(maj, min)) == -1)
		die("mknod", p);
	own(p, perm, 0, gid);
	e = ex_add(t, rel, type, perm, 0, gid);
	e->maj = maj;
	e->min = min;
}

static void
mksock(const char *top, const char *rel)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", top, rel);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("socket", sa.sun_path);
	close(s);
}

/* Children before parents, so that no directory's mtime moves again. */
static void
set_times(const struct tree *t, const char *top)
{
	char p[NAME_BIG];
	size_t i;

	for (i = t->n; i-- > 0;) {
		struct timespec ts[2] = {
		    {t->e[i].mtime, 123456789}, {t->e[i].mtime, 987654321}};

		if (t->e[i].type == 'h')
			continue;
		path_of(p, sizeof(p), top, t->e[i].rel);
		if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == -1)
			die("utimensat", p);
	}
}

/* Byte order of names within each directory, depth first. */
static int
dfs_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const void *)((const struct ex *)a)->rel;
	const unsigned char *y = (const void *)((const struct ex *)b)->rel;

	for (; *x && *x == *y; x++, y++)
		;
	return (*x == '/' ? 1 : *x + 1) - (*y == '/' ? 1 : *y + 1);
}

static void
build_src(void)
{
	struct tree *r = &rootfs_ex, *t = &tpl_ex;
	char top[128], p[NAME_BIG], n1[160], n2[160], n3[160], n4[200];
	int fd;

	snprintf(p, sizeof(p), "%s/metadata.yaml", src);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1 ||
	    write(fd, META, strlen(META)) != (ssize_t)strlen(META))
		die("metadata.yaml", p);
	close(fd);
	snprintf(p, sizeof(p), "%s/junk", src);
	if (mkdir(p, 0755) == -1)
		die("mkdir", p);
	snprintf(top, sizeof(top), "%s/templates", src);
	if (mkdir(top, 0755) == -1)
		die("mkdir", top);
	mkd(t, top, "", 0755, 0, 0);
	mkf(t, top, "hostname.tpl", 0644, 0, 0, "{{ container.name }}\n");
	set_times(t, top);

	snprintf(top, sizeof(top), "%s/rootfs", src);
	if (mkdir(top, 0755) == -1)
		die("mkdir", top);
	mkd(r, top, "", 0755, 0, 0)->mtime = T0 + 1;
	mkl(r, top, "abs", "/etc/passwd");
	mkd(r, top, "bin", 0755, 0, 0);
	mkf(r, top, "bin/sh", 0755, 0, 0, "#!/bin/sh\necho a shell\n")->mtime =
	    1400000000;
	mkh(r, top, "bin/sh-link", "bin/sh");
	mkf(r, top, "caf\xc3\xa9", 0644, 0, 0, "utf-8 name\n");
	mkl(r, top, "dangling", "nowhere/at/all");
	mkd(r, top, "dev", 0755, 0, 0);
	mkn(r, top, "dev/null", 'c', 0666, 0, 1, 3);
	mkn(r, top, "dev/sda", 'b', 0660, 6, 8, 0);
	mkf(r, top, "empty", 0600, 0, 0, "");
	mkd(r, top, "etc", 0755, 0, 0)->xa = XA_DIR;
	mkf(r, top, "etc/hostname", 0644, 0, 0, "old name\n");
	mkf(r, top, "etc/passwd", 0644, 0, 0, "root:x:0:0::/root:/bin/sh\n");
	mkf(r, top, "etc/shadow", 0640, 0, 42, "root:*:1::::::\n");
	mkd(r, top, "home", 0755, 0, 0);
	mkd(r, top, "home/user", 0700, 1000, 1000);
	mkf(r, top, "home/user/notes", 0600, 1000, 1000, "mine\n");
	mkl(r, top, "lib", "usr/lib");
	mkd(r, top, "long", 0755, 0, 0);
	memset(n1, 'a', 150), n1[150] = '\0';
	snprintf(p, sizeof(p), "long/%s", n1);
	mkf(r, top, p, 0644, 0, 0, "a name past ustar's 100 bytes\n");
	memset(n2, 'd', 120), n2[120] = '\0';
	memset(n3, 'e', 120), n3[120] = '\0';
	memset(n4, 'f', 120), n4[120] = '\0';
	snprintf(p, sizeof(p), "long/%s", n2);
	mkd(r, top, p, 0755, 0, 0);
	snprintf(p, sizeof(p), "long/%s/%s", n2, n3);
	mkd(r, top, p, 0755, 0, 0);
	snprintf(p, sizeof(p), "long/%s/%s/%s", n2, n3, n4);
	mkf(r, top, p, 0644, 0, 0, "a path past ustar's prefix\n");
	memset(n4, 't', 180), n4[180] = '\0';
	mkl(r, top, "long/longlink", n4);
	mkf(r, top, "owned", 0644, 1000000, 1000001, "shifted ids\n");
	mkd(r, top, "run", 0755, 0, 0);
	mkn(r, top, "run/fifo", 'p', 0644, 0, 0, 0);
	mksock(top, "run/sock");
	/* Sparse: 1 MiB apparent, one byte of data at its end. */
	snprintf(p, sizeof(p), "%s/sparse", top);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1 ||
	    pwrite(fd, "z", 1, (1 << 20) - 1) != 1)
		die("sparse", p);
	close(fd);
	ex_add(r, "sparse", 'f', 0644, 0, 0)->size = 1 << 20;
	mkd(r, top, "tmp", 01777, 0, 0);
	mkd(r, top, "usr", 0755, 0, 0);
	mkd(r, top, "usr/bin", 0755, 0, 0);
	mkh(r, top, "usr/bin/sh2", "bin/sh");
	mkf(r, top, "usr/bin/sudo", 04755, 0, 0, "sudo\n");
	mkf(r, top, "usr/bin/wall", 02755, 0, 5, "wall\n");
	mkd(r, top, "usr/lib", 0755, 0, 0);
	mkf(r, top, "xa", 0644, 0, 0, "with xattrs\n")->xa = XA_FILE;
	/* xattrs last: a chown or write would drop the capability. */
	snprintf(p, sizeof(p), "%s/xa", top);
	if (setxattr(p, "user.foo", "bar", 3, 0) == -1 ||
	    setxattr(p, "security.capability", capblob, sizeof(capblob), 0) ==
		-1 ||
	    setxattr(p, "trusted.skipped", "1", 1, 0) == -1)
		die("setxattr", p);
	snprintf(p, sizeof(p), "%s/etc", top);
	if (setxattr(p, "user.dir", "1", 1, 0) == -1)
		die("setxattr", p);
	qsort(r->e, r->n, sizeof(r->e[0]), dfs_cmp);
	set_times(r, top);
	/* The metadata.yaml entry: DIR's file, as it is. */
	snprintf(p, sizeof(p), "%s/metadata.yaml", src);
	own(p, 0644, 0, 0);
	struct timespec ts[2] = {{T_META, 5}, {T_META, 5}};
	if (utimensat(AT_FDCWD, p, ts, 0) == -1)
		die("utimensat", p);
}

/* ---- the expected entries of an output part ---- */

struct want {
	char name[NAME_BIG];
	char link[NAME_BIG];
	const struct ex *e;
};

static struct ex meta_dir_ex = {"metadata.yaml", 'f', 0644, 0, 0, T_META, NULL,
    META, sizeof(META) - 1, 0, 0, XA_NONE};
static struct ex meta_bare_ex = {"metadata.yaml", 'f', 0644, 0, 0, T_BARE, NULL,
    META_BARE, sizeof(META_BARE) - 1, 0, 0, XA_NONE};

static void
want_tree(struct want *w, size_t *n, const struct tree *t, const char *pre)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct ex *e = &t->e[i];

		snprintf(w[*n].name, sizeof(w[*n].name), "%s%s%s%s", pre,
		    e->rel[0] ? "/" : "", e->rel, e->type == 'd' ? "/" : "");
		w[*n].link[0] = '\0';
		if (e->type == 'h')
			snprintf(w[*n].link, sizeof(w[*n].link), "%s/%s", pre,
			    e->link);
		else if (e->type == 'l')
			snprintf(w[*n].link, sizeof(w[*n].link), "%s", e->link);
		w[*n].e = e;
		(*n)++;
	}
}

/* part 0 (unified or metadata) or 1 (split rootfs). */
static size_t
want_part(struct want *w, int part, int split, int bare)
{
	size_t n = 0;

	if (part == 1) {
		want_tree(w, &n, &rootfs_ex, ".");
		return n;
	}
	w[0].e = bare ? &meta_bare_ex : &meta_dir_ex;
	snprintf(w[0].name, sizeof(w[0].name), "metadata.yaml");
	w[0].link[0] = '\0';
	n = 1;
	if (!split)
		want_tree(w, &n, &rootfs_ex, "rootfs");
	if (!bare)
		want_tree(w, &n, &tpl_ex, "templates");
	return n;
}

/* ---- reading an output back ---- */

static int
fd_rewind(int fd)
{
	return lseek(fd, 0, SEEK_SET) == 0 ? fd : -1;
}

static struct archive *
reader(int fd)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd_rewind(fd), 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int
check_xattrs(struct archive_entry *ae, int xa)
{
	const char *name;
	const void *v;
	size_t len;
	int n = 0, ok = 1;

	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &v, &len) == ARCHIVE_OK) {
		n++;
		if (strcmp(name, "user.foo") == 0)
			ok &= xa == XA_FILE && len == 3 && !memcmp(v, "bar", 3);
		else if (strcmp(name, "security.capability") == 0)
			ok &= xa == XA_FILE && len == sizeof(capblob) &&
			      !memcmp(v, capblob, len);
		else if (strcmp(name, "user.dir") == 0)
			ok &= xa == XA_DIR && len == 1 && !memcmp(v, "1", 1);
		else
			ok = 0;
	}
	return ok && n == (xa == XA_FILE ? 2 : xa == XA_DIR ? 1 : 0);
}

static int
check_data(struct archive *a, const struct ex *e)
{
	static char buf[1 << 20];
	la_ssize_t n;
	size_t got = 0;

	while ((n = archive_read_data(a, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	if (n < 0 || got != e->size)
		return 0;
	if (e->data)
		return memcmp(buf, e->data, got) == 0;
	/* The sparse file: zeros, then "z". */
	for (size_t i = 0; i + 1 < got; i++)
		if (buf[i])
			return 0;
	return got == 0 || buf[got - 1] == 'z';
}

static mode_t
ex_type(char t)
{
	switch (t) {
	case 'd':
		return AE_IFDIR;
	case 'l':
		return AE_IFLNK;
	case 'c':
		return AE_IFCHR;
	case 'b':
		return AE_IFBLK;
	case 'p':
		return AE_IFIFO;
	}
	return AE_IFREG;
}

/* One entry against what it should be; a message, or NULL. */
static const char *
check_entry(struct archive *a, struct archive_entry *ae, const struct want *w,
    int xattrs)
{
	const struct ex *e = w->e;
	const char *hl = archive_entry_hardlink(ae);
	const char *sl = archive_entry_symlink(ae);

	if (strcmp(archive_entry_pathname(ae), w->name) != 0)
		return "name";
	if ((e->type == 'h') != (hl != NULL) ||
	    (hl && strcmp(hl, w->link) != 0))
		return "hard link";
	if (e->type != 'h' && archive_entry_filetype(ae) != ex_type(e->type))
		return "type";
	if ((e->type == 'l') != (sl != NULL) || (sl && strcmp(sl, w->link)))
		return "symlink target";
	if ((archive_entry_mode(ae) & 07777) != e->perm)
		return "mode";
	if (archive_entry_uid(ae) != e->uid || archive_entry_gid(ae) != e->gid)
		return "owner";
	if ((archive_entry_uname(ae) && *archive_entry_uname(ae)) ||
	    (archive_entry_gname(ae) && *archive_entry_gname(ae)))
		return "owner names";
	if (archive_entry_mtime(ae) != e->mtime ||
	    archive_entry_mtime_nsec(ae) != 0)
		return "mtime";
	if (archive_entry_atime_is_set(ae) || archive_entry_ctime_is_set(ae) ||
	    archive_entry_birthtime_is_set(ae))
		return "times other than mtime";
	if ((e->type == 'c' || e->type == 'b') &&
	    (archive_entry_rdevmajor(ae) != e->maj ||
		archive_entry_rdevminor(ae) != e->min))
		return "device numbers";
	if (!check_xattrs(ae, xattrs ? e->xa : XA_NONE))
		return "xattrs";
	if (e->type == 'f' && !check_data(a, e))
		return "contents";
	return NULL;
}

/* Every entry of the part at fd, in order; the number of mismatches. */
static int
check_part(
    int fd, const struct want *w, size_t n, int xattrs, const char *label)
{
	struct archive *a = reader(fd);
	struct archive_entry *ae;
	const char *why;
	size_t i = 0;
	int bad = 0, r;

	if (a == NULL) {
		T_FAIL("%s: cannot be read", label);
		return 1;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		if (i >= n) {
			T_FAIL("%s: extra entry %s", label,
			    archive_entry_pathname(ae));
			bad++;
			break;
		}
		if ((why = check_entry(a, ae, &w[i], xattrs)) != NULL) {
			T_FAIL("%s: entry %zu %s: %s (want %s)", label, i,
			    archive_entry_pathname(ae), why, w[i].name);
			if (++bad > 3)
				break;
		}
		i++;
	}
	if (bad == 0 && (r != ARCHIVE_EOF || i != n)) {
		T_FAIL("%s: %zu of %zu entries (%s)", label, i, n,
		    archive_error_string(a));
		bad++;
	}
	archive_read_free(a);
	return bad;
}

/* ---- running the library ---- */

static const char *comps[] = {"none", "gzip", "bzip2", "xz", "zstd"};
#define NCOMPS (sizeof(comps) / sizeof(comps[0]))

struct run {
	int fd[2];
	struct pack_report rep;
	char err[LIM_ERROR_MAX];
	int rc;
};

static void
run_free(struct run *r)
{
	for (int i = 0; i < 2; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
}

/* pack_image() of top (DIR, or its rootfs when bare) into memfds. */
static void
run_pack(struct run *r, const char *top, const char *comp, int split, int bare,
    int xattrs)
{
	struct pack_opts o = {0};
	char p[256];
	int dfd;

	memset(r, 0, sizeof(*r));
	pack_comp_parse(comp, &o.comp);
	o.split = split;
	o.dir_is_rootfs = bare;
	o.xattrs = xattrs;
	if (bare) {
		o.meta_yaml = META_BARE;
		o.meta_len = strlen(META_BARE);
		o.meta_mtime = T_BARE;
	}
	snprintf(p, sizeof(p), "%s%s", top, bare ? "/rootfs" : "");
	if ((dfd = open(p, O_RDONLY | O_DIRECTORY)) == -1)
		die("open", p);
	r->fd[0] = memfd_create("part0", 0);
	r->fd[1] = split ? memfd_create("part1", 0) : -1;
	r->rc = pack_image(dfd, &o, r->fd, &r->rep, r->err, sizeof(r->err));
	close(dfd);
}

static char *
slurp(int fd, size_t *len)
{
	struct stat st;
	char *b;

	if (fstat(fd, &st) == -1 || (b = malloc(st.st_size + 1)) == NULL)
		return NULL;
	*len = (size_t)st.st_size;
	if (pread(fd, b, *len, 0) != (ssize_t)*len) {
		free(b);
		return NULL;
	}
	return b;
}

static int
same_bytes(int a, int b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* Optional evidence: IMGD_PACK_KEEP=dir keeps every output there. */
static void
keep(const struct run *r, const char *tag)
{
	const char *dir = getenv("IMGD_PACK_KEEP");
	char p[512];
	size_t len;
	char *b;
	FILE *f;

	for (int i = 0; dir && i < 2; i++) {
		if (r->fd[i] < 0 || (b = slurp(r->fd[i], &len)) == NULL)
			continue;
		snprintf(p, sizeof(p), "%s/%s.%d", dir, tag, i);
		if ((f = fopen(p, "w")) != NULL) {
			fwrite(b, 1, len, f);
			fclose(f);
		}
		free(b);
	}
}

/* Names as a tool lists them, against the wanted ones. */
static int
tool_lists(const char *tool, int fd, const struct want *w, size_t n)
{
	char cmd[256], line[NAME_BIG + 2];
	size_t i = 0;
	int ok = 1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "LC_ALL=C.UTF-8 %s -tf /proc/self/fd/%d",
	    tool, fd);
	if ((p = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (i >= n || strcmp(line, w[i].name) != 0) {
			T_FAIL(
			    "%s lists \"%.60s\" as entry %zu, want \"%.60s\"",
			    tool, line, i, i < n ? w[i].name : "nothing");
			ok = 0;
			break;
		}
		i++;
	}
	return pclose(p) == 0 && ok && i == n;
}

/* tar -tvf: succeeds, warns of nothing (unknown pax keywords, ...). */
static int
tool_verbose(const char *tool, int fd)
{
	char cmd[256], line[NAME_BIG + 256];
	int ok = 1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
	    "LC_ALL=C.UTF-8 %s -tvf /proc/self/fd/%d 2>&1 >/dev/null", tool,
	    fd);
	if ((p = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		T_FAIL("%s -tv: %s", tool, line);
		ok = 0;
	}
	return pclose(p) == 0 && ok;
}

static void
check_validates(const struct run *r, const char *comp, int split, int bare,
    const char *label)
{
	struct img_meta m;
	struct img_report ir;
	char err[LIM_ERROR_MAX] = "";
	int rc;

	rc = img_validate(fd_rewind(r->fd[0]), split ? fd_rewind(r->fd[1]) : -1,
	    &m, &ir, err, sizeof(err));
	T_EXPECT(rc == 0, "%s: img_validate: %s", label, err);
	if (rc != 0)
		return;
	T_EQ_STR(m.architecture, bare ? "aarch64" : "x86_64");
	T_EQ_INT(m.creation_date, bare ? T_BARE : T_META);
	T_EQ_INT(m.ntemplates, bare ? 0 : 1);
	if (!bare && m.ntemplates == 1) {
		T_EQ_STR(m.templates[0].path, "/etc/hostname");
		T_EQ_STR(m.templates[0].template, "hostname.tpl");
	}
	T_EQ_STR(m.props[m.nprops - 1].value, bare ? "bare" : "testos");
	T_EQ_STR(ir.part[0].compression, comp);
	T_EQ_INT(ir.part[0].entries + ir.part[1].entries, r->rep.entries);
	T_EQ_INT(ir.part[0].unpacked_bytes + ir.part[1].unpacked_bytes,
	    r->rep.bytes);
	T_EQ_INT(ir.part[0].devices + ir.part[1].devices, 3);
	img_meta_free(&m);
}

static uint64_t
tree_bytes(const struct tree *t)
{
	uint64_t b = 0;

	for (size_t i = 0; i < t->n; i++)
		b += t->e[i].type == 'f' ? t->e[i].size : 0;
	return b;
}

/* One layout in one compression, everything checked. */
static void
check_layout(const char *comp, int split, int bare)
{
	struct want *w = calloc(2 * MAXEX, sizeof(*w));
	struct run r, again, cp;
	char label[64];
	size_t n, total = 0;
	int part;

	snprintf(label, sizeof(label), "%s %s %s", comp,
	    split ? "split" : "unified", bare ? "bare rootfs" : "DIR");
	run_pack(&r, src, comp, split, bare, 1);
	T_EXPECT(r.rc == 0, "%s: %s", label, r.err);
	if (r.rc != 0)
		goto out;
	keep(&r, label);
	for (part = 0; part <= split; part++) {
		n = want_part(w, part, split, bare);
		total += n;
		T_EXPECT(check_part(r.fd[part], w, n, 1, label) == 0,
		    "%s: part %d read back", label, part);
		T_EXPECT(tool_lists("tar", r.fd[part], w, n),
		    "%s: part %d: GNU tar's list", label, part);
		T_EXPECT(tool_lists("bsdtar", r.fd[part], w, n),
		    "%s: part %d: bsdtar's list", label, part);
		T_EXPECT(tool_verbose("tar", r.fd[part]) &&
			     tool_verbose("bsdtar", r.fd[part]),
		    "%s: part %d: tar -tvf", label, part);
	}
	T_EQ_INT(r.rep.entries, total);
	T_EQ_INT(
	    r.rep.bytes, tree_bytes(&rootfs_ex) +
			     (bare ? sizeof(META_BARE) - 1
				   : tree_bytes(&tpl_ex) + sizeof(META) - 1));
	T_EQ_INT(r.rep.skipped_sockets, 1);
	T_EQ_INT(r.rep.skipped_xattrs, 1);
	check_validates(&r, comp, split, bare, label);
	/* The same tree, the same bytes: again, and from a cp -a copy. */
	run_pack(&again, src, comp, split, bare, 1);
	run_pack(&cp, copy, comp, split, bare, 1);
	T_EXPECT(
	    again.rc == 0 && cp.rc == 0, "%s: %s %s", label, again.err, cp.err);
	for (part = 0; part <= split; part++) {
		T_EXPECT(same_bytes(r.fd[part], again.fd[part]),
		    "%s: part %d differs between two runs", label, part);
		T_EXPECT(same_bytes(r.fd[part], cp.fd[part]),
		    "%s: part %d differs for a cp -a copy", label, part);
	}
	run_free(&again);
	run_free(&cp);
out:
	run_free(&r);
	free(w);
}

T_TEST(test_layouts)
{
	for (size_t c = 0; c < NCOMPS; c++)
		for (int split = 0; split <= 1; split++)
			for (int bare = 0; bare <= 1; bare++)
				check_layout(comps[c], split, bare);
}

T_TEST(test_no_xattrs)
{
	struct want *w = calloc(2 * MAXEX, sizeof(*w));
	struct run r;
	size_t n = want_part(w, 0, 0, 0);

	run_pack(&r, src, "gzip", 0, 0, 0);
	T_EXPECT(r.rc == 0, "%s", r.err);
	T_EQ_INT(check_part(r.fd[0], w, n, 0, "xattrs off"), 0);
	T_EQ_INT(r.rep.skipped_xattrs, 0);
	run_free(&r);
	free(w);
}

/* The compressions' own flags: no gzip timestamp, nothing after the end. */
T_TEST(test_stream_format)
{
	struct run r;
	unsigned char h[10];
	size_t len;
	char *b;

	run_pack(&r, src, "gzip", 0, 0, 1);
	T_EXPECT(r.rc == 0, "%s", r.err);
	T_CHECK(pread(r.fd[0], h, sizeof(h), 0) == sizeof(h));
	T_CHECK(h[0] == 0x1f && h[1] == 0x8b && h[2] == 8);
	T_EQ_INT(h[3], 0); /* FLG: no name, no comment, no extra */
	T_CHECK(h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 0); /* MTIME */
	run_free(&r);
	/* Uncompressed: ends right after the two zero blocks. */
	run_pack(&r, src, "none", 0, 0, 1);
	T_EXPECT(r.rc == 0, "%s", r.err);
	b = slurp(r.fd[0], &len);
	T_CHECK(b != NULL && len % 512 == 0 && len >= 1024);
	for (size_t i = len - 1024; b && i < len; i++)
		if (b[i] != 0) {
			T_FAIL("non-zero byte in the end blocks");
			break;
		}
	free(b);
	run_free(&r);
}

T_TEST(test_comp_parse)
{
	static const struct {
		const char *name;
		int rc;
		enum pack_comp c;
	} cases[] = {{"none", 0, PACK_NONE}, {"gzip", 0, PACK_GZIP},
	    {"bzip2", 0, PACK_BZIP2}, {"xz", 0, PACK_XZ},
	    {"zstd", 0, PACK_ZSTD}, {"lz4", -1, 0}, {"GZIP", -1, 0},
	    {"", -1, 0}, {NULL, -1, 0}};
	enum pack_comp c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = (enum pack_comp)99;
		T_EXPECT(pack_comp_parse(cases[i].name, &c) == cases[i].rc &&
			     (cases[i].rc != 0 || c == cases[i].c),
		    "case %zu", i);
	}
}

/* ---- refusals ---- */

static int seq;

/* A fresh DIR with metadata.yaml (unless !meta) and rootfs/. */
static void
mini(char *dir, size_t len, int meta, int rootfs)
{
	char p[512];
	int fd;

	snprintf(dir, len, "%s/mini%d", base, seq++);
	if (mkdir(dir, 0755) == -1)
		die("mkdir", dir);
	if (meta) {
		snprintf(p, sizeof(p), "%s/metadata.yaml", dir);
		if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1 ||
		    write(fd, META_BARE, strlen(META_BARE)) < 0)
			die("create", p);
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/rootfs", dir);
	if (rootfs && mkdir(p, 0755) == -1)
		die("mkdir", p);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fprintf(stderr, "test_pack: failed: %s\n", cmd);
}

/* Refused with a one-line message holding needle. */
static void
refused(const char *dir, int split, const char *needle)
{
	struct run r;

	run_pack(&r, dir, "gzip", split, 0, 1);
	T_EQ_INT(r.rc, -1);
	T_CONTAINS(r.err, needle);
	T_CHECK(strchr(r.err, '\n') == NULL);
	run_free(&r);
}

static void
accepted(const char *dir, int split)
{
	struct img_meta m;
	struct img_report ir;
	char err[LIM_ERROR_MAX] = "";
	struct run r;

	run_pack(&r, dir, "gzip", split, 0, 1);
	T_EXPECT(r.rc == 0, "%s: %s", dir, r.err);
	T_EXPECT(r.rc != 0 || img_validate(fd_rewind(r.fd[0]),
				  split ? fd_rewind(r.fd[1]) : -1, &m, &ir, err,
				  sizeof(err)) == 0,
	    "%s: the validator refuses it: %s", dir, err);
	if (r.rc == 0 && err[0] == '\0')
		img_meta_free(&m);
	run_free(&r);
}

T_TEST(test_layout_errors)
{
	char d[256];

	mini(d, sizeof(d), 1, 0);
	sh("ln -s /etc %s/rootfs", d);
	refused(d, 0, "rootfs: must be a directory, not a symlink");
	mini(d, sizeof(d), 1, 0);
	refused(
	    d, 1, "rootfs: missing: DIR must hold metadata.yaml and rootfs/");
	mini(d, sizeof(d), 1, 0);
	sh("touch %s/rootfs", d);
	refused(d, 0, "rootfs: must be a directory, not a regular file");
	mini(d, sizeof(d), 0, 1);
	refused(d, 0, "metadata.yaml: missing");
	mini(d, sizeof(d), 0, 1);
	sh("ln -s /etc/passwd %s/metadata.yaml", d);
	refused(d, 0, "metadata.yaml: must not be a symlink");
	mini(d, sizeof(d), 0, 1);
	sh("mkdir %s/metadata.yaml", d);
	refused(d, 0, "metadata.yaml: must be a regular file, not a directory");
	mini(d, sizeof(d), 0, 1);
	sh("head -c 1048577 /dev/zero > %s/metadata.yaml", d);
	refused(d, 0, "metadata.yaml: larger than 1048576 bytes");
	mini(d, sizeof(d), 0, 1);
	sh("echo 'architecture: [' > %s/metadata.yaml", d);
	refused(d, 0, "metadata.yaml");
	mini(d, sizeof(d), 0, 1);
	sh("echo 'creation_date: 1' > %s/metadata.yaml", d);
	refused(d, 0, "metadata.yaml: architecture is missing");
	mini(d, sizeof(d), 1, 1);
	sh("ln -s /etc %s/templates", d);
	refused(d, 1, "templates: must be a directory, not a symlink");
	mini(d, sizeof(d), 1, 1);
	sh("mkdir %s/templates && mknod %s/templates/null c 1 3", d, d);
	refused(d, 0,
	    "templates/null: is a character device: devices and "
	    "FIFOs belong in rootfs/ only");
	mini(d, sizeof(d), 1, 1);
	sh("mkdir %s/templates && mkfifo %s/templates/fifo", d, d);
	refused(d, 1, "templates/fifo: is a FIFO");
	/* Whatever else DIR holds is not the image's, and harmless. */
	mini(d, sizeof(d), 1, 1);
	sh("ln -s / %s/other && mkfifo %s/fifo", d, d);
	accepted(d, 0);
}

T_TEST(test_bare_needs_meta)
{
	struct pack_opts o = {.comp = PACK_NONE, .dir_is_rootfs = 1};
	struct pack_report rep;
	char err[LIM_ERROR_MAX], d[256];
	int out[2] = {memfd_create("o", 0), -1}, dfd;

	mini(d, sizeof(d), 0, 0);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	T_EQ_INT(pack_image(dfd, &o, out, &rep, err, sizeof(err)), -1);
	T_CONTAINS(err, "a bare rootfs needs its metadata.yaml given");
	o.meta_yaml = "architecture: x86_64\n";
	o.meta_len = strlen(o.meta_yaml);
	T_EQ_INT(pack_image(dfd, &o, out, &rep, err, sizeof(err)), -1);
	T_CONTAINS(err, "metadata.yaml: creation_date is missing");
	/* Nothing written before the refusal. */
	T_EQ_INT(lseek(out[0], 0, SEEK_END), 0);
	close(dfd);
	close(out[0]);
}

/*
 * A chain of count directories (name each) under DIR/rootfs, a file or a
 * directory (leaf_dir) last; made with *at(), the paths pass PATH_MAX.
 */
static void
chain(char *d, size_t len, int count, const char *name, const char *leaf,
    int leaf_dir)
{
	char p[512];
	int fd, next;

	mini(d, len, 1, 1);
	snprintf(p, sizeof(p), "%s/rootfs", d);
	if ((fd = open(p, O_RDONLY | O_DIRECTORY)) == -1)
		die("open", p);
	for (int i = 0; i < count; i++) {
		if (mkdirat(fd, name, 0755) == -1 ||
		    (next = openat(fd, name, O_RDONLY | O_DIRECTORY)) == -1)
			die("mkdir", name);
		close(fd);
		fd = next;
	}
	if (leaf != NULL && leaf_dir && mkdirat(fd, leaf, 0755) == -1)
		die("mkdir", leaf);
	if (leaf != NULL && !leaf_dir) {
		if ((next = openat(fd, leaf, O_WRONLY | O_CREAT, 0644)) == -1)
			die("create", leaf);
		close(next);
	}
	close(fd);
}

T_TEST(test_limits)
{
	char d[256], name[201], leaf[80];

	/* "rootfs/d/.../d": 128 components; one more is refused. */
	chain(d, sizeof(d), 127, "d", NULL, 0);
	accepted(d, 0);
	chain(d, sizeof(d), 128, "d", NULL, 0);
	refused(d, 0, "deeper than 128 path components");
	/* Split: "./d/.../d" is a component fewer, as the validator counts. */
	accepted(d, 1);
	chain(d, sizeof(d), 129, "d", NULL, 0);
	refused(d, 1, "deeper than 128 path components");
	/* 4095 bytes of name in the tarball; one more is refused. */
	memset(name, 'n', 200), name[200] = '\0';
	memset(leaf, 'l', 68), leaf[68] = '\0';
	chain(d, sizeof(d), 20, name, leaf, 0);
	accepted(d, 0);
	leaf[68] = 'l', leaf[69] = '\0';
	chain(d, sizeof(d), 20, name, leaf, 0);
	refused(d, 0, "path longer than 4095 bytes");
	/* A directory's trailing '/' counts too. */
	leaf[68] = '\0';
	chain(d, sizeof(d), 20, name, leaf, 1);
	refused(d, 0, "path longer than 4095 bytes");
}

static void
touch_at(const char *d, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/rootfs/%s", d, name);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		die("create", p);
	close(fd);
}

T_TEST(test_bad_names)
{
	char d[256], p[512];

	mini(d, sizeof(d), 1, 1);
	touch_at(d, "a\nb");
	refused(d, 0, "name holds control characters");
	mini(d, sizeof(d), 1, 1);
	touch_at(d, "tab\t");
	refused(d, 1, "name holds control characters");
	mini(d, sizeof(d), 1, 1);
	snprintf(p, sizeof(p), "%s/rootfs/esc", d);
	T_CHECK(symlink("x\033y", p) == 0);
	refused(d, 0, "rootfs/esc: symlink target holds control characters");
	/* Non-UTF-8 bytes are names like any other: kept as bytes. */
	mini(d, sizeof(d), 1, 1);
	touch_at(d, "l\351gacy");
	accepted(d, 0);
}

/* ---- a file that changes while it is read (see the file's comment) ---- */

enum { RW_OFF, RW_SHRINK, RW_GROW, RW_TOUCH };
static struct {
	int mode, done;
	dev_t dev;
	ino_t ino;
	char path[512];
} rw;

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	ssize_t r = __real_read(fd, buf, n);
	struct timespec ts[2] = {{T0 + 7, 0}, {T0 + 7, 0}};
	struct stat st;
	int w;

	if (rw.mode == RW_OFF || rw.done || r <= 0 || fstat(fd, &st) == -1 ||
	    st.st_dev != rw.dev || st.st_ino != rw.ino)
		return r;
	rw.done = 1;
	if (rw.mode == RW_SHRINK && truncate(rw.path, 10) == -1)
		die("truncate", rw.path);
	if (rw.mode == RW_GROW) {
		if ((w = open(rw.path, O_WRONLY | O_APPEND)) == -1 ||
		    write(w, "more", 4) != 4)
			die("append", rw.path);
		close(w);
	}
	if (rw.mode == RW_TOUCH && utimensat(AT_FDCWD, rw.path, ts, 0) == -1)
		die("utimensat", rw.path);
	return r;
}

static void
changes(int mode, size_t size, const char *needle)
{
	char d[256];
	struct stat st;
	char *data = malloc(size + 1);
	int fd;

	mini(d, sizeof(d), 1, 1);
	snprintf(rw.path, sizeof(rw.path), "%s/rootfs/moving", d);
	memset(data, 'm', size);
	if ((fd = open(rw.path, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    write(fd, data, size) != (ssize_t)size || fstat(fd, &st) == -1)
		die("create", rw.path);
	close(fd);
	free(data);
	rw.dev = st.st_dev;
	rw.ino = st.st_ino;
	rw.done = 0;
	rw.mode = mode;
	refused(d, 0, needle);
	T_EXPECT(rw.done, "the file was never read");
	rw.mode = RW_OFF;
}

T_TEST(test_changes_while_read)
{
	changes(RW_SHRINK, 200000, "rootfs/moving: changed while it was read");
	changes(RW_GROW, 100, "rootfs/moving: changed while it was read");
	changes(RW_TOUCH, 5000, "rootfs/moving: changed while it was read");
}

/* ---- output and permissions ---- */

T_TEST(test_closed_pipe)
{
	struct pack_opts o = {.comp = PACK_XZ, .split = 1};
	struct pack_report rep;
	char err[LIM_ERROR_MAX];
	int p[2], out[2], dfd = open(src, O_RDONLY | O_DIRECTORY);

	signal(SIGPIPE, SIG_IGN);
	T_CHECK(pipe(p) == 0);
	close(p[0]);
	out[0] = p[1];
	out[1] = memfd_create("o", 0);
	T_EQ_INT(pack_image(dfd, &o, out, &rep, err, sizeof(err)), -1);
	T_CONTAINS(err, "cannot write the metadata tarball: Broken pipe");
	/* Nothing of the rootfs before the metadata tarball is done. */
	T_EQ_INT(lseek(out[1], 0, SEEK_END), 0);
	close(out[0]);
	close(out[1]);
	T_CHECK(pipe(p) == 0);
	close(p[0]);
	out[0] = memfd_create("o", 0);
	out[1] = p[1];
	T_EQ_INT(pack_image(dfd, &o, out, &rep, err, sizeof(err)), -1);
	T_CONTAINS(err, "cannot write the rootfs tarball: Broken pipe");
	close(out[0]);
	close(out[1]);
	o.split = 0;
	T_CHECK(pipe(p) == 0);
	close(p[0]);
	out[0] = p[1];
	T_EQ_INT(pack_image(dfd, &o, out, &rep, err, sizeof(err)), -1);
	T_CONTAINS(err, "cannot write the image: Broken pipe");
	close(out[0]);
	close(dfd);
}

/* As nobody: a file root keeps to itself is named. */
T_TEST(test_permission_denied)
{
	char d[256], err[LIM_ERROR_MAX] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	mini(d, sizeof(d), 1, 1);
	sh("mkdir %s/rootfs/etc && echo s > %s/rootfs/etc/secret && "
	   "chmod 600 %s/rootfs/etc/secret",
	    d, d, d);
	T_CHECK(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		struct run r;

		close(p[0]);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(2);
		run_pack(&r, d, "none", 0, 0, 0);
		if (write(p[1], r.err, strlen(r.err)) < 0 || r.rc != -1)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	close(p[0]);
	T_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		WEXITSTATUS(st) == 0);
	T_EQ_STR(err, "rootfs/etc/secret: cannot be read: Permission denied");
}

T_TEST(test_needs_utf8)
{
	struct run r;

	setlocale(LC_CTYPE, "C");
	run_pack(&r, src, "none", 0, 0, 0);
	T_EQ_INT(r.rc, -1);
	T_CONTAINS(r.err, "needs a UTF-8 LC_CTYPE");
	run_free(&r);
	setlocale(LC_CTYPE, "C.UTF-8");
}

/* IMGD_PACK_SLOW=1: a million and one entries, refused at the last. */
T_TEST(test_entry_limit)
{
	char d[256], p[512];
	struct run r;
	int dfd, fd;

	if (getenv("IMGD_PACK_SLOW") == NULL) {
		struct img_limits lim;

		/* Without the tree: the limit is the validator's own. */
		img_limits_default(&lim);
		T_EQ_INT(lim.entries_max, LIM_ENTRIES_MAX);
		printf("# test_entry_limit: IMGD_PACK_SLOW=1 builds the "
		       "1,000,001-entry tree (about a minute)\n");
		return;
	}
	mini(d, sizeof(d), 1, 1);
	snprintf(p, sizeof(p), "%s/rootfs", d);
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	/* metadata.yaml, rootfs/ and these: one too many. */
	for (int i = 0; i < LIM_ENTRIES_MAX - 1; i++) {
		snprintf(p, sizeof(p), "%x", i);
		if ((fd = openat(dfd, p, O_WRONLY | O_CREAT, 0644)) == -1)
			die("create", p);
		close(fd);
	}
	close(dfd);
	refused(d, 0, "one entry too many: an image holds at most 1000000");
	run_pack(&r, d, "none", 1, 0, 0);
	T_EXPECT(
	    r.rc == -1 && strstr(r.err, "one entry too many"), "%s", r.err);
	run_free(&r);
}

int
main(void)
{
	char err[LIM_ERROR_MAX], cmd[512];

	if (img_locale_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	umask(022);
	snprintf(base, sizeof(base), "/tmp/test_pack.XXXXXX");
	if (mkdtemp(base) == NULL || chmod(base, 0755) == -1)
		die("mkdtemp", base);
	snprintf(src, sizeof(src), "%s/src", base);
	snprintf(copy, sizeof(copy), "%s/copy", base);
	if (mkdir(src, 0755) == -1)
		die("mkdir", src);
	build_src();
	snprintf(cmd, sizeof(cmd), "cp -a %s %s 2>/dev/null", src, copy);
	if (system(cmd) == -1)
		die("cp -a", copy);
	T_RUN(test_layouts);
	T_RUN(test_no_xattrs);
	T_RUN(test_stream_format);
	T_RUN(test_comp_parse);
	T_RUN(test_layout_errors);
	T_RUN(test_bare_needs_meta);
	T_RUN(test_limits);
	T_RUN(test_bad_names);
	T_RUN(test_changes_while_read);
	T_RUN(test_closed_pipe);
	T_RUN(test_permission_denied);
	T_RUN(test_needs_utf8);
	T_RUN(test_entry_limit);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd) != 0)
		fprintf(stderr, "test_pack: could not remove %s\n", base);
	return T_DONE();
}
