/*
 * YAML as lxc prints it (gopkg.in/yaml.v2 2.4.0 marshalling lxc's
 * structs). yaml.v2's emitter is a port of libyaml's, so libyaml writes
 * the text; what yaml.v2 adds on top is reproduced here: which strings
 * must be quoted, in which style, and the order of map keys.
 */
#ifndef IMGD_IMGCTL_YAMLOUT_H
#define IMGD_IMGCTL_YAMLOUT_H

#include <stdio.h>

#include <jansson.h>

#include "imgctl/schema.h"

/* A normalized struct (sch_normalize()) as a YAML document. */
int yout_struct(FILE *, const json_t *, const struct sch_field *);
/* A normalized array of structs as a YAML sequence ("[]" when empty). */
int yout_list(FILE *, const json_t *, const struct sch_field *);

/*
 * yaml.v2's stringv(): 1 if s may be written as a plain scalar (it
 * would read back as the same string), 0 if it must be double-quoted.
 * libyaml may still quote a plain candidate that YAML's syntax forbids.
 */
int yv2_plain_ok(const char *s);
/* yaml.v2's order of map keys (sorter.go keyList.Less). */
int yv2_key_less(const char *a, const char *b);

#endif
