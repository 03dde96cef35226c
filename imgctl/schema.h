/*
 * The Go structs lxc decodes the API into (shared/api/image.go), as
 * tables. lxc prints JSON and YAML from those structs, not from what the
 * server sent: fields in struct order, Go's zero values for what is
 * missing, timestamps re-formatted, map keys sorted. imgctl first
 * normalizes an answer through the table, then writes it.
 */
#ifndef IMGD_IMGCTL_SCHEMA_H
#define IMGD_IMGCTL_SCHEMA_H

#include <stdio.h>

#include <jansson.h>

#include "policy/lxdapi.h"

/*
 * Write a normalized value as Go's json.Encoder does: compact, '<', '>'
 * and '&' escaped, then a newline. Returns 0, or -1 on a write error.
 */
int gojson_write(FILE *, const json_t *);
/* One string as Go's encoder escapes it, into a stdio stream. */
void gojson_string(FILE *, const char *);

#endif
