/*
 * The YAML "image edit" reads: an api.ImagePut (auto_update, properties,
 * public, expires_at, profiles), decoded as lxc's yaml.v2 decodes it but
 * stricter: unknown or repeated keys, anchors, aliases, tags, several
 * documents and an empty document are refused with a message that says
 * where.
 */
#ifndef IMGD_IMGCTL_YAMLIN_H
#define IMGD_IMGCTL_YAMLIN_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parse buf[0..len) into a new JSON api.ImagePut (fields lxc would send,
 * Go's zero values for those missing). Returns 0, or -1 with a message
 * in err.
 */
int yin_image_put(
    const char *buf, size_t len, json_t **put, char *err, size_t errlen);

#endif
