/*
 * "image list" filters, as lxc's cmdImageList.imageShouldShow applies
 * them when the server does not filter: every filter must match.
 *
 *   word        a substring of an alias name or of the fingerprint
 *   key=value   a property whose name matches key dot-component by
 *               dot-component as a prefix, with value as a regular
 *               expression anchored at both ends unless it has ^ or $
 *               (the plain value when it is not a valid expression);
 *               or a field of the image (public=true, architecture=...)
 *               printed as Go's %v prints it.
 */
#ifndef IMGD_IMGCTL_FILTER_H
#define IMGD_IMGCTL_FILTER_H

#include <stddef.h>

#include <jansson.h>

/* img is normalized with sch_image. Returns 1 if it is to be shown. */
int filter_image(const json_t *img, char *const *filters, size_t n);

/* lxc's cmdList.dotPrefixMatch(short, full). */
int filter_dot_prefix(const char *key, const char *name);

/* Go's fmt "%v" of a JSON value decoded into interface{}; malloc'd. */
char *filter_go_value(const json_t *);

#endif
