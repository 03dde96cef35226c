/*
 * The Go structs of LXD's image API (shared/api/image.go), as tables.
 * LXD and lxc write JSON from those structs, not from what they were
 * given: fields in struct order, Go's zero values for what is missing,
 * timestamps in RFC3339Nano, map keys sorted. Normalizing a document
 * through a table gives that shape.
 */
#ifndef IMGD_POLICY_LXDAPI_H
#define IMGD_POLICY_LXDAPI_H

#include <jansson.h>

enum sch_type {
	SCH_BOOL,
	SCH_STR,
	SCH_INT,
	SCH_TIME,    /* time.Time: an RFC 3339 string */
	SCH_STRMAP,  /* map[string]string: null when nil */
	SCH_STRLIST, /* []string: null when nil */
	SCH_OBJ,     /* *struct: null when nil */
	SCH_OBJLIST, /* []struct: null when nil */
	SCH_INLINE,  /* an embedded struct: its fields, in place */
};

struct sch_field {
	const char *name;
	enum sch_type type;
	int omitempty;		     /* SCH_OBJ: a nil pointer is left out */
	const struct sch_field *sub; /* SCH_OBJ, SCH_OBJLIST, SCH_INLINE */
};

/* Tables end with a NULL name. */
extern const struct sch_field sch_image[];	 /* api.Image */
extern const struct sch_field sch_image_put[];	 /* api.ImagePut */
extern const struct sch_field sch_alias_entry[]; /* api.ImageAliasesEntry */
extern const struct sch_field sch_project[];	 /* api.Project */

/*
 * A new object with exactly the struct's fields, in order. Strings that
 * are absent or not strings become "", and so on for each type; times
 * are rewritten as Go's RFC3339Nano (so they compare as Go's would).
 * NULL only when out of memory.
 */
json_t *sch_normalize(const json_t *in, const struct sch_field *);
/* The same for an array of structs: a new array, NULL if out of memory. */
json_t *sch_normalize_list(const json_t *in, const struct sch_field *);

/*
 * The keys of an object, sorted by cmp (a qsort comparator of const char
 * pointers), in a new NULL-terminated array; NULL if out of memory.
 */
const char **sch_keys(
    const json_t *obj, int (*cmp)(const void *, const void *));
/* Byte order, as Go sorts map keys. */
int sch_key_cmp(const void *, const void *);

#endif
