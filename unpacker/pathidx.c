/*
 * Index of the names of one tarball: a tree of path components, each node
 * keyed by (parent, name) in a tsearch() red-black tree. A balanced tree
 * rather than a hash table because the names are chosen by the attacker and
 * the library has no source of randomness to key a hash with. Memory is
 * charged against a budget so that a million long names cannot exhaust the
 * sandbox before the entry limit is reached.
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "unpacker/internal.h"

/* A node, its name, the tree's node and two malloc headers. */
#define PIDX_NODE_COST(len) (sizeof(struct pnode) + (len) + 64)

static int
pnode_cmp(const void *a, const void *b)
{
	const struct pnode *x = a, *y = b;
	uintptr_t px = (uintptr_t)x->parent, py = (uintptr_t)y->parent;

	if (px != py)
		return px < py ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

const char *
node_type_name(int type)
{
	switch (type) {
	case NODE_DIR:
		return "directory";
	case NODE_REG:
		return "regular file";
	case NODE_HARDLINK:
		return "hard link";
	case NODE_SYMLINK:
		return "symlink";
	case NODE_DEVICE:
		return "device";
	}
	return "entry";
}

int
pidx_init(struct pidx *x, uint64_t *used, uint64_t max)
{
	memset(x, 0, sizeof(*x));
	x->used = used;
	x->max = max;
	if ((x->root = calloc(1, sizeof(*x->root))) == NULL)
		return -1;
	x->root->name = "";
	x->root->type = NODE_DIR;
	x->root->flags = NODE_IMPLIED;
	return 0;
}

void
pidx_free(struct pidx *x)
{
	if (x->tree != NULL)
		tdestroy(x->tree, free);
	free(x->root);
	x->tree = NULL;
	x->root = NULL;
	x->cache = NULL;
}

static struct pnode *
pidx_child(struct pidx *x, struct pnode *parent, const char *name, size_t len)
{
	struct pnode key = {parent, name, (uint16_t)len, 0, 0};
	void *found;

	if (len > LIM_PATH_COMPONENT_MAX)
		return NULL; /* never stored: see path_normalize() */
	found = tfind(&key, &x->tree, pnode_cmp);
	return found == NULL ? NULL : *(struct pnode **)found;
}

static struct pnode *
pidx_new(struct pidx *x, struct pnode *parent, const char *name, size_t len,
    int type, int flags, char *why, size_t whylen)
{
	struct pnode *n;
	char *copy;
	void *slot;

	if (*x->used + PIDX_NODE_COST(len) > x->max) {
		msg_set(why, whylen,
		    "the image's names need more than %llu bytes of memory",
		    (unsigned long long)x->max);
		return NULL;
	}
	if ((n = malloc(sizeof(*n) + len)) == NULL) {
		msg_set(why, whylen, "out of memory");
		return NULL;
	}
	copy = (char *)(n + 1);
	memcpy(copy, name, len);
	n->parent = parent;
	n->name = copy;
	n->len = (uint16_t)len;
	n->type = (uint8_t)type;
	n->flags = (uint8_t)flags;
	if ((slot = tsearch(n, &x->tree, pnode_cmp)) == NULL ||
	    *(struct pnode **)slot != n) {
		free(n);
		msg_set(why, whylen, "out of memory");
		return NULL;
	}
	*x->used += PIDX_NODE_COST(len);
	return n;
}

/*
 * The directory that holds path[0..plen), created as implied directories
 * where missing. Every component must be a directory: a later entry must
 * never be written through a symlink or file planted by an earlier one.
 */
static struct pnode *
pidx_parent(
    struct pidx *x, const char *path, size_t plen, char *why, size_t whylen)
{
	struct pnode *cur = x->root, *n;
	size_t s = 0, e;
	char q[MSG_QUOTE_MAX];

	if (x->cache != NULL && plen == x->cachelen &&
	    memcmp(path, x->cachepath, plen) == 0)
		return x->cache;
	while (s < plen) {
		for (e = s; e < plen && path[e] != '/'; e++)
			;
		n = pidx_child(x, cur, path + s, e - s);
		if (n == NULL)
			n = pidx_new(x, cur, path + s, e - s, NODE_DIR,
			    NODE_IMPLIED, why, whylen);
		else if (n->type != NODE_DIR) {
			msg_set(why, whylen, "goes through the %s \"%s\"",
			    node_type_name(n->type),
			    msg_quote(q, sizeof(q), path, e));
			return NULL;
		}
		if (n == NULL)
			return NULL;
		cur = n;
		s = e + 1;
	}
	x->cache = cur;
	x->cachelen = plen;
	memcpy(x->cachepath, path, plen);
	return cur;
}

/* An entry named like an earlier one: only an implied directory is fine. */
static int
pidx_clash(struct pnode *n, int type, char *why, size_t whylen)
{
	if (n->flags & NODE_IMPLIED) {
		if (type == NODE_DIR) {
			n->flags &= ~NODE_IMPLIED;
			return 0;
		}
		msg_set(why, whylen,
		    "%s replaces a directory implied by earlier entries",
		    node_type_name(type));
		return -1;
	}
	if (n->type == type)
		msg_set(why, whylen, "duplicate entry");
	else
		msg_set(why, whylen,
		    "changes the type of an earlier entry (%s, now %s)",
		    node_type_name(n->type), node_type_name(type));
	return -1;
}

int
pidx_add(struct pidx *x, const char *path, size_t len, int type, int flags,
    char *why, size_t whylen)
{
	struct pnode *parent, *n;
	size_t plen, start;

	if (len == 0)
		return pidx_clash(x->root, type, why, whylen);
	if (len > LIM_PATH_MAX) {
		msg_set(why, whylen, "path longer than %d bytes", LIM_PATH_MAX);
		return -1;
	}
	for (plen = len; plen > 0 && path[plen - 1] != '/'; plen--)
		;
	start = plen;
	if (plen > 0)
		plen--;
	if ((parent = pidx_parent(x, path, plen, why, whylen)) == NULL)
		return -1;
	if ((n = pidx_child(x, parent, path + start, len - start)) != NULL)
		return pidx_clash(n, type, why, whylen);
	if (pidx_new(x, parent, path + start, len - start, type, flags, why,
		whylen) == NULL)
		return -1;
	return 0;
}

struct pnode *
pidx_find(struct pidx *x, const char *path, size_t len)
{
	struct pnode *cur = x->root;
	size_t s = 0, e;

	while (cur != NULL && s < len) {
		for (e = s; e < len && path[e] != '/'; e++)
			;
		cur = pidx_child(x, cur, path + s, e - s);
		s = e + 1;
	}
	return cur;
}
