/*
 * tpl: the renderer of image templates (templates/ in an image, listed in
 * metadata.yaml). LXD renders them with pongo2 (the version LXD vendors,
 * github.com/flosch/pongo2 v4 of 2020-09, commit 0d938eb266f3), inside
 * "{% autoescape off %}...{% endautoescape %}" and with the tags include,
 * import, extends and ssi banned; this is our own C engine for the same
 * language, pure (no I/O, no state between calls, no locale) and bounded
 * on hostile input by struct tpl_limits.
 *
 * The context is LXD's (templateApplyNow): trigger, path, container and
 * instance (the same map: name, type, architecture, ephemeral, privileged),
 * config, devices (name -> map), properties and config_get(key, default).
 * config_get takes exactly two arguments; a missing key gives the default
 * unchanged, a found value comes back as a string without trailing "\r\n"
 * characters. Keys hold dots, so config.key cannot reach them; there are no
 * [ ] subscripts in this pongo2 (a '[' ends the tag: a parse error).
 *
 * Implemented as pongo2 does them: text byte for byte; {{ }}; {# #};
 * {% comment %}; {% verbatim %} (the exact spelling only); if/elif/else;
 * for (one or two names, "reversed", "sorted", empty, forloop.Counter,
 * Counter0, Revcounter, Revcounter0, First, Last, Parentloop); set; with
 * (a=x b=y, and x as a); autoescape; firstof; ifequal; ifnotequal;
 * templatetag; widthratio; filter; whitespace control {{- -}} {%- -%}
 * (trims " \t\r\n" of the neighbouring text); the operators with pongo2's
 * precedence, which is not Python's: "and"/"or"/&&/|| share one level and
 * group to the right, so "a and b or c" is "a and (b or c)"; comparisons
 * group to the right; "not"/"!" and unary "-" bind to the first operand
 * ("not a == b" is "(not a) == b"); ^ always gives a float.
 * Filters: add addslashes capfirst center cut date default default_if_none
 * divisibleby escape escapejs first float floatformat get_digit integer
 * iriencode join last length length_is linebreaks linebreaksbr linenumbers
 * ljust lower make_list phone2numeric pluralize rjust safe slice split
 * striptags time title truncatechars truncatewords upper urlencode
 * wordcount wordwrap yesno (date and time fail: templates have no time
 * values). There is no "trim" filter in pongo2; an unknown filter is a
 * parse error that names it.
 *
 * Values print as pongo2 prints them: ints in decimal, floats with
 * Go's %f ("1.500000", "+Inf", "NaN"), bools "True"/"False", nil and
 * undefined names as "", maps and lists as Go's reflect names them
 * ("<map[string]string Value>", "<config.Devices Value>", "<[]string
 * Value>"). trigger is a plain string, as in LXD 2.0 (LXD 4 and later pass
 * a Go type of their own, so trigger == "create" is false there: a trap
 * we do not copy). LXD's other quirks are kept: 1 == 1.0 is
 * false; comparing two maps or lists, an integer key "in" a map, division
 * or % by zero, a negative slice start, a bad wordwrap and "sorted" on a
 * string are errors (pongo2 panics; LXD reports them). Integer arithmetic
 * wraps in 64 bits like Go's int; a float outside int64 (or NaN) becomes
 * INT64_MIN when made an int, as on amd64.
 *
 * Rejected with a message: include import extends ssi ("not allowed in
 * image templates", as LXD), and block macro cycle ifchanged lorem now
 * spaceless (not supported here); the filters random (not deterministic),
 * stringformat (Go's fmt), removetags, urlize, urlizetrunc,
 * truncatechars_html and truncatewords_html; a 0x01 byte (pongo2 reads it
 * as the end of the input, which always fails in LXD).
 *
 * Deliberate differences, all where pongo2 is random or hangs: maps are
 * iterated in key order (Go's order is random), "reversed" without "sorted"
 * leaves a map in key order; "{% endcomment x %}" is an error (pongo2
 * loops forever); an unknown filter in {% filter %} fails at parse time
 * (pongo2: when run); Go methods of LXD's types (devices.Clone) are not
 * callable: the name is looked up as a key. Unicode case mapping follows
 * Unicode 15.0 (Go 1.21 and later); x^y for a non-integer y uses the C
 * library's exp and log, which may differ from Go's in the last bit.
 *
 * Limits: source_max is checked before lexing; output_max bounds the output
 * and every string a filter builds; steps_max counts nodes, loop
 * iterations, filter calls and bytes handled (one step per 64); depth_max
 * bounds block nesting and, separately, expression nesting (parentheses,
 * call arguments, the length of a filter chain). Memory while rendering is
 * bounded by TPL_MEM_FACTOR times output_max plus TPL_MEM_SLACK.
 */
#ifndef IMGD_UNPACKER_TPL_H
#define IMGD_UNPACKER_TPL_H

#include <stddef.h>
#include <stdint.h>

/* Defaults of struct tpl_limits (source and output come from limits.h). */
#define TPL_STEPS_DEFAULT 10000000ULL
#define TPL_DEPTH_DEFAULT 32
/* Render-time memory: values, temporaries and scopes, on top of output. */
#define TPL_MEM_FACTOR 8
#define TPL_MEM_SLACK (1024 * 1024)

struct tpl; /* a parsed template */
struct tpl_kv {
	const char *key;
	const char *value;
};
struct tpl_device {
	const char *name;
	const struct tpl_kv *kv;
	size_t nkv;
};
struct tpl_limits {
	size_t source_max;  /* bytes of template source: 256 KiB */
	size_t output_max;  /* bytes rendered per template: 1 MiB */
	uint64_t steps_max; /* evaluation steps: 10,000,000 */
	unsigned depth_max; /* nesting of blocks and expressions: 32 */
};
void tpl_limits_default(struct tpl_limits *l);

/*
 * What LXD passes to a template. Strings must stay valid during
 * tpl_render; a key given twice keeps its last value (as a Go map would).
 */
struct tpl_ctx {
	const char *trigger; /* "create" "copy" "start" "rename" */
	const char *path;    /* the templates: key as written */
	const char *name, *type, *architecture; /* type "container" */
	int ephemeral, privileged; /* rendered as "true"/"false" */
	const struct tpl_kv *config;
	size_t nconfig; /* instance config; keys contain dots */
	const struct tpl_device *devices;
	size_t ndevices;
	const struct tpl_kv *properties;
	size_t nproperties; /* the template's properties: */
};

/*
 * Parses src (name is used in messages). 0, or -1 with
 * "NAME:LINE:COL: what is wrong" in err.
 */
int tpl_parse(const char *name, const char *src, size_t len,
    const struct tpl_limits *lim, struct tpl **out, char *err, size_t errlen);
/*
 * Renders into a malloc'd buffer (*out, *outlen; NUL-terminated). 0, or -1
 * with "NAME:LINE:COL: what" in err and *out NULL.
 */
int tpl_render(const struct tpl *t, const struct tpl_ctx *ctx,
    const struct tpl_limits *lim, char **out, size_t *outlen, char *err,
    size_t errlen);
void tpl_free(struct tpl *t);

#endif
