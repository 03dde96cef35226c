/*
 * A restricted YAML reader over libyaml's event API: one document, no
 * anchors, aliases, tags or merge keys, scalar keys only, no duplicate
 * keys, bounded nesting. Used for metadata.yaml (unpacker/metadata.c) and
 * the store's configuration file (store/config.c).
 */
#ifndef IMGD_POLICY_YP_H
#define IMGD_POLICY_YP_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

struct yp {
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event, when have_ev */
	int have_ev;
	int depth;
	char *err;
	size_t errlen;
	char prefix[64]; /* "metadata.yaml: " before messages, or "" */
	int columns;	 /* messages say "line N, column M" (set after init) */
};

/*
 * Called for each key of a mapping with the parser on the first event of
 * the value; must consume the value (yp_skip() does).
 */
typedef int (*yp_keyfn)(struct yp *y, const char *key, size_t len, void *arg);

/* doc names the document in messages ("metadata.yaml"), or NULL. */
int yp_init(struct yp *y, const char *doc, const void *buf, size_t len,
    char *err, size_t errlen);
void yp_free(struct yp *y);
/* Calls fn for each key of the document's top-level mapping. */
int yp_document(struct yp *y, yp_keyfn fn, void *arg);
/* Calls fn for each key of the mapping that starts at the current event. */
int yp_mapping(struct yp *y, const char *what, yp_keyfn fn, void *arg);
/* Consumes the node that starts at the current event. */
int yp_skip(struct yp *y);
int yp_next(struct yp *y);
/* -1, with "<doc>: line N: " (or "line N, column M: ") and the message
 * in err. */
int yp_fail(struct yp *y, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int yp_is_null(const struct yp *y);
int yp_is_plain(const struct yp *y);
/* The current scalar, or -1 with "<what> must be a string". */
int yp_scalar(struct yp *y, const char *what, const char **s, size_t *len);
int yp_int64(struct yp *y, const char *what, int64_t *v);
int yp_bool(struct yp *y, const char *what, int *v);
int yp_key_is(const char *key, size_t len, const char *name);

#endif
