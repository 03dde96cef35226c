/*
 * LXD's image API structs (shared/api/image.go) as tables, one definition
 * for the frontend (which renders its documents through them) and imgctl
 * (which normalizes the answers it prints through them, as lxc does).
 */
#include <stdlib.h>
#include <string.h>

#include "policy/lxdapi.h"
#include "policy/timefmt.h"

static const struct sch_field sch_image_alias[] = {
    {"name", SCH_STR, 0, NULL},
    {"description", SCH_STR, 0, NULL},
    {NULL, 0, 0, NULL},
};

static const struct sch_field sch_image_source[] = {
    {"alias", SCH_STR, 0, NULL},
    {"certificate", SCH_STR, 0, NULL},
    {"protocol", SCH_STR, 0, NULL},
    {"server", SCH_STR, 0, NULL},
    {"image_type", SCH_STR, 0, NULL},
    {NULL, 0, 0, NULL},
};

const struct sch_field sch_image_put[] = {
    {"auto_update", SCH_BOOL, 0, NULL},
    {"properties", SCH_STRMAP, 0, NULL},
    {"public", SCH_BOOL, 0, NULL},
    {"expires_at", SCH_TIME, 0, NULL},
    {"profiles", SCH_STRLIST, 0, NULL},
    {NULL, 0, 0, NULL},
};

const struct sch_field sch_image[] = {
    {"", SCH_INLINE, 0, sch_image_put},
    {"aliases", SCH_OBJLIST, 0, sch_image_alias},
    {"architecture", SCH_STR, 0, NULL},
    {"cached", SCH_BOOL, 0, NULL},
    {"filename", SCH_STR, 0, NULL},
    {"fingerprint", SCH_STR, 0, NULL},
    {"size", SCH_INT, 0, NULL},
    {"update_source", SCH_OBJ, 1, sch_image_source},
    {"type", SCH_STR, 0, NULL},
    {"created_at", SCH_TIME, 0, NULL},
    {"last_used_at", SCH_TIME, 0, NULL},
    {"uploaded_at", SCH_TIME, 0, NULL},
    {NULL, 0, 0, NULL},
};

static const struct sch_field sch_project_put[] = {
    {"config", SCH_STRMAP, 0, NULL},
    {"description", SCH_STR, 0, NULL},
    {NULL, 0, 0, NULL},
};

const struct sch_field sch_project[] = {
    {"", SCH_INLINE, 0, sch_project_put},
    {"name", SCH_STR, 0, NULL},
    {"used_by", SCH_STRLIST, 0, NULL},
    {NULL, 0, 0, NULL},
};

static const struct sch_field sch_alias_entry_put[] = {
    {"description", SCH_STR, 0, NULL},
    {"target", SCH_STR, 0, NULL},
    {NULL, 0, 0, NULL},
};

const struct sch_field sch_alias_entry[] = {
    {"", SCH_INLINE, 0, sch_alias_entry_put},
    {"name", SCH_STR, 0, NULL},
    {"type", SCH_STR, 0, NULL},
    {NULL, 0, 0, NULL},
};
/* A string's value, "" for anything else, as Go decodes into string. */
static const char *
sch_str(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "";
}

int
sch_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **
sch_keys(const json_t *obj, int (*cmp)(const void *, const void *))
{
	const char **keys;
	size_t n = 0;
	void *it;

	if ((keys = calloc(json_object_size(obj) + 1, sizeof(*keys))) == NULL)
		return NULL;
	for (it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it))
		keys[n++] = json_object_iter_key(it);
	qsort(keys, n, sizeof(*keys), cmp);
	return keys;
}

/* A map[string]string: keys in byte order, as Go's encoder sorts them. */
static json_t *
sch_strmap(const json_t *in)
{
	const char **keys;
	json_t *out;
	size_t i;

	if (!json_is_object(in))
		return json_null();
	if ((keys = sch_keys(in, sch_key_cmp)) == NULL)
		return NULL;
	if ((out = json_object()) != NULL)
		for (i = 0; keys[i] != NULL; i++)
			json_object_set_new(out, keys[i],
			    json_string(sch_str(json_object_get(in, keys[i]))));
	free(keys);
	return out;
}

static json_t *
sch_strlist(const json_t *in)
{
	json_t *out;
	size_t i;

	if (!json_is_array(in))
		return json_null();
	if ((out = json_array()) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(in); i++)
		json_array_append_new(
		    out, json_string(sch_str(json_array_get(in, i))));
	return out;
}

static json_t *
sch_time(const json_t *in)
{
	char buf[TS_STR_MAX];
	struct ts t;

	if (!json_is_string(in) || ts_parse(json_string_value(in), &t) == -1)
		ts_zero(&t);
	ts_rfc3339(&t, buf);
	return json_string(buf);
}

static json_t *
sch_value(const json_t *in, const struct sch_field *f)
{
	switch (f->type) {
	case SCH_BOOL:
		return json_boolean(json_is_true(in));
	case SCH_STR:
		return json_string(sch_str(in));
	case SCH_INT:
		return json_integer(json_integer_value(in));
	case SCH_TIME:
		return sch_time(in);
	case SCH_STRMAP:
		return sch_strmap(in);
	case SCH_STRLIST:
		return sch_strlist(in);
	case SCH_OBJ:
		return json_is_object(in) ? sch_normalize(in, f->sub)
					  : json_null();
	case SCH_OBJLIST:
		return json_is_array(in) ? sch_normalize_list(in, f->sub)
					 : json_null();
	case SCH_INLINE:
		break;
	}
	return NULL;
}

/* Add the fields to out; an embedded struct's come in its place. */
static int
sch_fields(json_t *out, const json_t *in, const struct sch_field *fields)
{
	const struct sch_field *f;
	json_t *v, *src;

	for (f = fields; f->name != NULL; f++) {
		if (f->type == SCH_INLINE) {
			if (sch_fields(out, in, f->sub) == -1)
				return -1;
			continue;
		}
		src = json_object_get(in, f->name);
		if (f->omitempty && !json_is_object(src))
			continue;
		if ((v = sch_value(src, f)) == NULL ||
		    json_object_set_new(out, f->name, v) == -1)
			return -1;
	}
	return 0;
}

json_t *
sch_normalize(const json_t *in, const struct sch_field *fields)
{
	json_t *out;

	if ((out = json_object()) == NULL)
		return NULL;
	if (sch_fields(out, in, fields) == -1) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *
sch_normalize_list(const json_t *in, const struct sch_field *fields)
{
	json_t *out, *v, *n;
	size_t i;

	if ((out = json_array()) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(in); i++) {
		v = json_array_get(in, i);
		if ((n = sch_normalize(v, fields)) == NULL ||
		    json_array_append_new(out, n) == -1) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
