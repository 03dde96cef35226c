/*
 * The policy every tar entry must pass before anything is unpacked
 * (../shared/SECURITY.md, "Default limits" and the lessons above them):
 * sane names, known types, no duplicate or retyped names, nothing written
 * through an earlier symlink or file, hard links only to earlier regular
 * files of the same tree, and the fixed top-level layout of LXD images.
 */
#include <archive.h>
#include <archive_entry.h>
#include <linux/limits.h>
#include <string.h>

#include "unpacker/internal.h"

#define WHY_MAX (128 + 2 * MSG_QUOTE_MAX)

static int
path_component(const char *c, size_t len, char *why, size_t whylen)
{
	if (len == 0)
		msg_set(why, whylen, "empty path components are not allowed");
	else if (len == 1 && c[0] == '.')
		msg_set(why, whylen, "\".\" is not allowed");
	else if (len == 2 && c[0] == '.' && c[1] == '.')
		msg_set(why, whylen, "\"..\" is not allowed");
	else if (len > LIM_PATH_COMPONENT_MAX)
		msg_set(why, whylen, "path component longer than %d bytes",
		    LIM_PATH_COMPONENT_MAX);
	else
		return 0;
	return -1;
}

/*
 * Tar writers differ only in a leading "./" (tar -C dir .) and a trailing
 * '/' on directories; anything else that could name the same file twice or
 * leave the tree is refused rather than cleaned up.
 */
int
path_normalize(const char *name, const char **path, size_t *len,
    int *trailing_slash, char *why, size_t whylen)
{
	size_t n = strlen(name), i, s, e, depth = 0;

	*trailing_slash = 0;
	*path = name;
	*len = 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "./") == 0)
		return 0;
	if (n > LIM_PATH_MAX) {
		msg_set(why, whylen, "path longer than %d bytes", LIM_PATH_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			msg_set(
			    why, whylen, "control characters are not allowed");
			return -1;
		}
	}
	if (name[0] == '/') {
		msg_set(why, whylen, "absolute paths are not allowed");
		return -1;
	}
	if (n >= 2 && name[0] == '.' && name[1] == '/')
		name += 2, n -= 2;
	if (n > 0 && name[n - 1] == '/')
		n--, *trailing_slash = 1;
	if (n == 0) {
		msg_set(why, whylen, "empty name");
		return -1;
	}
	for (s = 0; s <= n; s = e + 1) {
		for (e = s; e < n && name[e] != '/'; e++)
			;
		if (path_component(name + s, e - s, why, whylen) == -1)
			return -1;
		if (++depth > LIM_PATH_DEPTH_MAX) {
			msg_set(why, whylen, "path deeper than %d components",
			    LIM_PATH_DEPTH_MAX);
			return -1;
		}
	}
	*path = name;
	*len = n;
	return 0;
}

static int
entry_type(struct archive_entry *ae, int *type, char *why, size_t whylen)
{
	mode_t ft = archive_entry_filetype(ae);

	if (archive_entry_hardlink(ae) != NULL) {
		*type = NODE_HARDLINK;
		if (ft == 0 || ft == AE_IFREG)
			return 0;
		msg_set(why, whylen, "hard link with a file type");
		return -1;
	}
	switch (ft) {
	case AE_IFREG:
		*type = NODE_REG;
		return 0;
	case AE_IFDIR:
		*type = NODE_DIR;
		return 0;
	case AE_IFLNK:
		*type = NODE_SYMLINK;
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		/* Counted; unpacked only for privileged targets by policy. */
		*type = NODE_DEVICE;
		return 0;
	case AE_IFSOCK:
		msg_set(why, whylen, "sockets are not allowed");
		return -1;
	}
	msg_set(why, whylen, "unsupported entry type");
	return -1;
}

/* Symlinks may point anywhere: later stages resolve them inside the root. */
static int
entry_symlink(struct archive_entry *ae, char *why, size_t whylen)
{
	const char *t = archive_entry_symlink(ae);
	size_t i, n;

	if (t == NULL || (n = strlen(t)) == 0) {
		msg_set(why, whylen, "symlink without a target");
		return -1;
	}
	if (n > LIM_PATH_MAX) {
		msg_set(why, whylen, "symlink target longer than %d bytes",
		    LIM_PATH_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
			msg_set(why, whylen,
			    "control characters are not allowed in a symlink "
			    "target");
			return -1;
		}
	}
	return 0;
}

static int
entry_xattrs(struct archive_entry *ae, char *why, size_t whylen)
{
	const char *name;
	const void *value;
	size_t size, n;

	archive_entry_xattr_reset(ae);
	while (
	    archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
		if (name == NULL || (n = strlen(name)) == 0 ||
		    n > XATTR_NAME_MAX) {
			msg_set(why, whylen, "xattr with an invalid name");
			return -1;
		}
		if (size > LIM_XATTR_MAX) {
			msg_set(why, whylen, "xattr larger than %llu bytes",
			    (unsigned long long)LIM_XATTR_MAX);
			return -1;
		}
	}
	return 0;
}

/* Length of the top-level directory of path, 0 for a top-level entry. */
static size_t
path_tree(const char *path, size_t len)
{
	const char *slash = memchr(path, '/', len);

	return slash == NULL ? 0 : (size_t)(slash - path);
}

static int
is_name(const char *path, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(path, name, len) == 0;
}

/* The fixed layout of a unified image or of a split metadata tarball. */
static int
entry_layout(struct part *p, struct tar_entry *en, char *why, size_t whylen)
{
	size_t tree = path_tree(en->path, en->len);

	if (en->type == NODE_DEVICE && p->kind != PART_ROOTFS &&
	    !(p->kind == PART_UNIFIED && is_name(en->path, tree, "rootfs"))) {
		msg_set(why, whylen, "devices are only allowed in the rootfs");
		return -1;
	}
	/* A split image's metadata tarball: metadata.yaml and templates. */
	if (p->kind == PART_META && en->len != 0 &&
	    !is_name(en->path, en->len, "metadata.yaml") &&
	    !is_name(en->path, tree ? tree : en->len, "templates")) {
		msg_set(why, whylen,
		    "a metadata tarball holds only metadata.yaml and "
		    "templates/");
		return -1;
	}
	if (p->kind == PART_ROOTFS || en->len == 0 || tree != 0)
		return 0;
	if (is_name(en->path, en->len, "metadata.yaml")) {
		en->is_meta = 1;
		if (en->type == NODE_REG)
			return 0;
		msg_set(why, whylen,
		    "metadata.yaml must be a regular file, not a %s",
		    node_type_name(en->type));
		return -1;
	}
	if ((is_name(en->path, en->len, "rootfs") ||
		is_name(en->path, en->len, "templates")) &&
	    en->type != NODE_DIR) {
		msg_set(why, whylen, "must be a directory, not a %s",
		    node_type_name(en->type));
		return -1;
	}
	return 0;
}

static int
entry_hardlink(struct part *p, struct tar_entry *en, const char *target,
    char *why, size_t whylen)
{
	const char *t;
	size_t tlen, tree;
	int slash;
	struct pnode *n;
	char q[MSG_QUOTE_MAX];

	msg_quote(q, sizeof(q), target, strlen(target));
	if (path_normalize(target, &t, &tlen, &slash, why, whylen) == -1) {
		char sub[WHY_MAX];

		snprintf(sub, sizeof(sub), "%s", why);
		msg_set(why, whylen, "hard link target \"%s\": %s", q, sub);
		return -1;
	}
	if (tlen == 0 || slash) {
		msg_set(why, whylen, "hard link to \"%s\", not a file", q);
		return -1;
	}
	tree = path_tree(en->path, en->len);
	if (p->kind != PART_ROOTFS &&
	    (tree == 0 || path_tree(t, tlen) != tree ||
		memcmp(t, en->path, tree) != 0)) {
		msg_set(why, whylen,
		    "hard link to \"%s\" outside its top-level directory", q);
		return -1;
	}
	n = pidx_find(&p->idx, t, tlen);
	if (n == NULL || (n->flags & NODE_IMPLIED) ||
	    (n->type != NODE_REG && n->type != NODE_HARDLINK)) {
		msg_set(why, whylen,
		    "hard link to \"%s\", which is not an earlier regular file",
		    q);
		return -1;
	}
	return 0;
}

static int
entry_check(struct part *p, struct archive_entry *ae, struct tar_entry *en,
    char *why, size_t whylen)
{
	int slash, flags = 0;
	int64_t size;

	if (path_normalize(
		en->name, &en->path, &en->len, &slash, why, whylen) == -1 ||
	    entry_type(ae, &en->type, why, whylen) == -1)
		return -1;
	if (slash && en->type != NODE_DIR) {
		msg_set(why, whylen, "a name ending in / must be a directory");
		return -1;
	}
	if (en->len == 0 && en->type != NODE_DIR) {
		msg_set(why, whylen, "the root entry must be a directory");
		return -1;
	}
	size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
	if (size < 0) {
		msg_set(why, whylen, "negative size");
		return -1;
	}
	en->size = (uint64_t)size;
	if ((en->type == NODE_SYMLINK &&
		entry_symlink(ae, why, whylen) == -1) ||
	    entry_xattrs(ae, why, whylen) == -1 ||
	    entry_layout(p, en, why, whylen) == -1)
		return -1;
	if (en->type == NODE_HARDLINK &&
	    entry_hardlink(p, en, archive_entry_hardlink(ae), why, whylen) ==
		-1)
		return -1;
	if (en->is_meta && p->has_meta) {
		msg_set(why, whylen, "more than one metadata.yaml");
		return -1;
	}
	if (en->type == NODE_REG && en->size > LIM_TEMPLATE_SOURCE_MAX)
		flags |= NODE_BIG;
	if (pidx_add(
		&p->idx, en->path, en->len, en->type, flags, why, whylen) == -1)
		return -1;
	if (en->is_meta)
		p->has_meta = 1;
	return 0;
}

int
entry_admit(struct part *p, struct archive_entry *ae, struct tar_entry *en,
    char *err, size_t errlen)
{
	char why[WHY_MAX], q[MSG_QUOTE_MAX];

	memset(en, 0, sizeof(*en));
	if ((en->name = archive_entry_pathname(ae)) == NULL) {
		msg_setp(err, errlen, p->label, "entry without a name");
		return -1;
	}
	if (entry_check(p, ae, en, why, sizeof(why)) == -1) {
		msg_setp(err, errlen, p->label, "entry \"%s\": %s",
		    msg_quote(q, sizeof(q), en->name, strlen(en->name)), why);
		return -1;
	}
	return 0;
}
