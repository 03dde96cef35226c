/* Unit tests: metadata.yaml parsing (meta_parse) and arch_canonical. */
#include <stdlib.h>
#include <string.h>

#include "tests/t.h"
#include "unpacker/validate.h"

#define HEAD "architecture: x86_64\ncreation_date: 1700000000\n"

/* Parses a NUL-terminated text; the result must be freed by the caller. */
static int
parse(const char *yaml, struct img_meta *m, char *err, size_t errlen)
{
	return meta_parse(yaml, strlen(yaml), m, err, errlen);
}

static const char *
prop(const struct img_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

T_TEST(test_lxd_doc_example)
{
	/* The example of LXD's doc/image-handling.md. */
	const char *y = "architecture: x86_64\n"
			"creation_date: 1424284563\n"
			"properties:\n"
			"  description: Ubuntu 22.04 LTS Intel 64bit\n"
			"  os: Ubuntu\n"
			"  release: jammy 22.04\n"
			"templates:\n"
			"  /etc/hosts:\n"
			"    when:\n"
			"      - create\n"
			"      - rename\n"
			"    template: hosts.tpl\n"
			"    properties:\n"
			"      foo: bar\n"
			"  /etc/hostname:\n"
			"    when:\n"
			"      - start\n"
			"    template: hostname.tpl\n"
			"  /etc/network/interfaces:\n"
			"    when:\n"
			"      - create\n"
			"    template: interfaces.tpl\n"
			"    create_only: true\n";
	struct img_meta m;
	char err[LIM_ERROR_MAX] = "";

	T_EQ_INT(parse(y, &m, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_STR(m.architecture, "x86_64");
	T_EQ_INT(m.creation_date, 1424284563);
	T_EQ_INT(m.expiry_date, 0);
	T_EQ_INT(m.nprops, 3);
	if (m.nprops == 3) {
		T_EQ_STR(m.props[0].key, "description");
		T_EQ_STR(m.props[1].key, "os");
		T_EQ_STR(m.props[2].key, "release");
		T_EQ_STR(m.props[2].value, "jammy 22.04");
	}
	T_EQ_INT(m.ntemplates, 3);
	if (m.ntemplates == 3) {
		T_EQ_STR(m.templates[0].path, "/etc/hosts");
		T_EQ_STR(m.templates[0].template, "hosts.tpl");
		T_EQ_INT(
		    m.templates[0].when, TPL_WHEN_CREATE | TPL_WHEN_RENAME);
		T_EQ_INT(m.templates[0].create_only, 0);
		T_EQ_INT(m.templates[0].nprops, 1);
		T_EQ_STR(
		    prop(m.templates[0].props, m.templates[0].nprops, "foo"),
		    "bar");
		T_EQ_INT(m.templates[1].when, TPL_WHEN_START);
		T_EQ_STR(m.templates[2].path, "/etc/network/interfaces");
		T_EQ_INT(m.templates[2].create_only, 1);
		T_EQ_INT(m.templates[2].when, TPL_WHEN_CREATE);
	}
	img_meta_free(&m);
	T_CHECK(m.props == NULL && m.templates == NULL);
}

T_TEST(test_scalar_text_kept)
{
	const char *y = HEAD "expiry_date: 1800000000\n"
			     "properties:\n"
			     "  release: 1.0\n"
			     "  serial: \"20160314\"\n"
			     "  empty:\n"
			     "  tilde: ~\n"
			     "  quoted_null: \"null\"\n"
			     "  yes: yes\n"
			     "  block: |\n"
			     "    line one\n"
			     "    \tline two\n"
			     "  escaped: \"a\\tb\"\n"
			     "  utf8: \"caf\xc3\xa9\"\n";
	struct img_meta m;
	char err[LIM_ERROR_MAX] = "";

	T_EQ_INT(parse(y, &m, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(m.expiry_date, 1800000000);
	T_EQ_STR(prop(m.props, m.nprops, "release"), "1.0");
	T_EQ_STR(prop(m.props, m.nprops, "serial"), "20160314");
	T_EQ_STR(prop(m.props, m.nprops, "empty"), "");
	T_EQ_STR(prop(m.props, m.nprops, "tilde"), "");
	T_EQ_STR(prop(m.props, m.nprops, "quoted_null"), "null");
	T_EQ_STR(prop(m.props, m.nprops, "yes"), "yes");
	T_EQ_STR(prop(m.props, m.nprops, "block"), "line one\n\tline two\n");
	T_EQ_STR(prop(m.props, m.nprops, "escaped"), "a\tb");
	T_EQ_STR(prop(m.props, m.nprops, "utf8"), "caf\xc3\xa9");
	T_EQ_INT(m.nprops, 9);
	if (m.nprops == 9)
		T_EQ_STR(m.props[8].key, "utf8"); /* file order */
	img_meta_free(&m);
}

T_TEST(test_accepted_variants)
{
	static const char *ok[] = {
	    /* Aliases of architectures are canonicalised. */
	    "architecture: amd64\ncreation_date: 1\n",
	    /* Unknown top-level keys are ignored, nested or not. */
	    HEAD "future: {a: [1, 2, {b: c}], d: e}\n",
	    HEAD "expiry_date:\n",
	    HEAD "properties:\ntemplates:\n",
	    HEAD "properties: {}\ntemplates: {}\n",
	    "creation_date: -5\narchitecture: armhf\n",
	    "---\n" HEAD "...\n",
	    HEAD "templates:\n  /a:\n    template: x.tpl\n"
		 "    when:\n    create_only: no\n    other: [1]\n",
	};
	struct img_meta m;
	char err[LIM_ERROR_MAX];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err[0] = '\0';
		T_EXPECT(!(parse(ok[i], &m, err, sizeof(err)) != 0),
		    "case %zu: %s", i, err);
		img_meta_free(&m);
	}
	T_EQ_INT(parse(ok[0], &m, err, sizeof(err)), 0);
	T_EQ_STR(m.architecture, "x86_64");
	img_meta_free(&m);
	T_EQ_INT(parse(ok[5], &m, err, sizeof(err)), 0);
	T_EQ_STR(m.architecture, "armv7l");
	T_EQ_INT(m.creation_date, -5);
	img_meta_free(&m);
}

static const struct reject {
	const char *yaml;
	const char *msg;
} rejects[] = {
    {"", "empty document"},
    {"a: [b\n", "metadata.yaml: line 2: did not find expected ','"},
    {"a: b\n c: d\n", "line 2: mapping values are not allowed"},
    {"a: b\n\tc: d\n", "metadata.yaml: line "},
    {"- a\n- b\n", "the top level must be a mapping"},
    {"just text\n", "the top level must be a mapping"},
    {HEAD "---\n" HEAD, "only one YAML document is allowed"},
    {"architecture: x86_64\ncreation_date: 1\nx: *a\n",
	"metadata.yaml: line 3: YAML aliases are not allowed"},
    {"a: &a [\"lol\", \"lol\", \"lol\"]\n"
     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
	"metadata.yaml: line 1: YAML anchors are not allowed"},
    {HEAD "base: {a: b}\nx:\n  <<: {a: c}\n",
	"line 5: YAML merge keys are not allowed"},
    {HEAD "x: !!str y\n", "explicit YAML tags are not allowed"},
    {HEAD "x: !custom y\n", "explicit YAML tags are not allowed"},
    {HEAD "architecture: i686\n", "line 3: duplicate key \"architecture\""},
    {HEAD "properties:\n  a: 1\n  a: 2\n", "duplicate key \"a\""},
    {HEAD "x:\n  y:\n    a: 1\n    \"a\": 2\n", "duplicate key \"a\""},
    {HEAD "x: [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\n",
	"nested deeper than 16 levels"},
    {HEAD "? [a, b]\n: c\n", "keys must be strings"},
    {HEAD "properties: [a, b]\n", "properties must be a mapping"},
    {HEAD "properties:\n  a: [1]\n", "properties must be a string"},
    {HEAD "properties:\n  \"\": x\n", "keys must have 1 to 255 bytes"},
    {HEAD "properties:\n  a: \"x\\x01y\"\n",
	"properties \"a\": control characters are not allowed"},
    {HEAD "properties:\n  a: \"x\\0y\"\n",
	"control characters are not allowed"},
    {HEAD "properties:\n  a: \"x\\ry\"\n",
	"control characters are not allowed"},
    {HEAD "properties:\n  a: \"x\\Ny\"\n",
	"control characters are not allowed"},
    {HEAD "properties:\n  \"a\\tb\": x\n",
	"key \"a?b\": control characters are not allowed"},
    {HEAD "properties:\n  a: \"\xff\"\n",
	"metadata.yaml: byte 65: invalid leading UTF-8 octet"},
    {"creation_date: 1\n", "architecture is missing"},
    {HEAD "expiry_date: 2\n",
	"metadata.yaml: expiry_date (2) is before creation_date (1700000000)"},
    {"expiry_date: 1699999999\narchitecture: x86_64\n"
     "creation_date: 1700000000\n",
	"expiry_date (1699999999) is before creation_date"},
    {"architecture: x86_64\n", "creation_date is missing"},
    {"architecture: foo\ncreation_date: 1\n",
	"line 1: unknown architecture \"foo\""},
    {"architecture: AMD64\ncreation_date: 1\n",
	"unknown architecture \"AMD64\""},
    {"architecture: \"x86_64\\0\"\ncreation_date: 1\n",
	"unknown architecture \"x86_64?\""},
    {"architecture: {a: b}\ncreation_date: 1\n",
	"architecture must be a string"},
    {"architecture: x86_64\ncreation_date: 0\n",
	"line 2: creation_date must not be zero"},
    {"architecture: x86_64\ncreation_date:\n",
	"creation_date must be an integer"},
    {"architecture: x86_64\ncreation_date: \"1\"\n",
	"creation_date must be an integer"},
    {"architecture: x86_64\ncreation_date: 1.5e9\n",
	"creation_date must be an integer"},
    {"architecture: x86_64\ncreation_date: 99999999999999999999\n",
	"creation_date is out of range"},
    {HEAD "expiry_date: soon\n", "expiry_date must be an integer"},
    {HEAD "templates: [a]\n", "templates must be a mapping"},
    {HEAD "templates:\n  etc/hosts:\n    template: a\n",
	"template \"etc/hosts\": the path must be absolute"},
    {HEAD "templates:\n  /etc/../../x:\n    template: a\n",
	"\"..\" is not allowed in the path"},
    {HEAD "templates:\n  /etc/:\n    template: a\n",
	"the path must name a file"},
    {HEAD "templates:\n  \"/etc/a\\nb\":\n    template: a\n",
	"without control characters"},
    {HEAD "templates:\n  /etc/hosts:\n    template: ../../etc/shadow\n",
	"\"..\" is not allowed in the template name"},
    {HEAD "templates:\n  /etc/hosts:\n    template: /etc/shadow\n",
	"must be relative to templates/"},
    {HEAD "templates:\n  /etc/hosts:\n    template: a//b\n",
	"empty or \".\" components"},
    {HEAD "templates:\n  /etc/hosts:\n    template:\n",
	"template name must have 1 to 255 bytes"},
    {HEAD "templates:\n  /etc/hosts:\n    when: [create]\n",
	"template \"/etc/hosts\" has no template file"},
    {HEAD "templates:\n  /etc/hosts:\n", "must be a mapping"},
    {HEAD "templates:\n  /a:\n    template: a\n    when: create\n",
	"when must be a list"},
    {HEAD "templates:\n  /a:\n    template: a\n    when: [boot]\n",
	"unknown trigger \"boot\""},
    {HEAD "templates:\n  /a:\n    template: a\n    create_only: maybe\n",
	"create_only must be true or false"},
    {HEAD "templates:\n  /a:\n    template: a\n    properties:\n"
	  "      k: [v]\n",
	"template \"/a\" properties must be a string"},
};

T_TEST(test_rejects)
{
	struct img_meta m;
	char err[LIM_ERROR_MAX];
	size_t i;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		err[0] = '\0';
		if (parse(rejects[i].yaml, &m, err, sizeof(err)) != -1) {
			T_FAIL("case %zu accepted", i);
			img_meta_free(&m);
			continue;
		}
		T_CHECK(strncmp(err, "metadata.yaml: ", 15) == 0);
		T_CHECK(strchr(err, '\n') == NULL);
		T_EXPECT(!(strstr(err, rejects[i].msg) == NULL),
		    "case %zu: \"%s\" lacks \"%s\"", i, err, rejects[i].msg);
		T_CHECK(m.props == NULL && m.templates == NULL &&
			m.nprops == 0 && m.architecture[0] == '\0');
	}
}

/* Appends s to a growing buffer. */
static void
grow(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);

	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static int
reject_built(char *yaml, size_t len, const char *msg)
{
	struct img_meta m;
	char err[LIM_ERROR_MAX] = "";
	int rc = meta_parse(yaml, len, &m, err, sizeof(err));

	free(yaml);
	if (rc == 0) {
		img_meta_free(&m);
		return 0;
	}
	return strstr(err, msg) != NULL;
}

T_TEST(test_limits)
{
	char *y, line[128], *big;
	size_t len, i;

	/* 257 properties. */
	y = NULL, len = 0;
	grow(&y, &len, HEAD "properties:\n");
	for (i = 0; i <= LIM_META_PROPERTIES_MAX; i++) {
		snprintf(line, sizeof(line), "  k%zu: v\n", i);
		grow(&y, &len, line);
	}
	T_CHECK(reject_built(y, len, "properties: more than 256 entries"));

	/* 257 templates. */
	y = NULL, len = 0;
	grow(&y, &len, HEAD "templates:\n");
	for (i = 0; i <= LIM_META_TEMPLATES_MAX; i++) {
		snprintf(line, sizeof(line), "  /t%zu: {template: t}\n", i);
		grow(&y, &len, line);
	}
	T_CHECK(reject_built(y, len, "more than 256 templates"));

	/* A value over 4096 bytes, a key over 255. */
	big = malloc(LIM_PROP_VALUE_MAX + 2);
	memset(big, 'v', LIM_PROP_VALUE_MAX + 1);
	big[LIM_PROP_VALUE_MAX + 1] = '\0';
	y = NULL, len = 0;
	grow(&y, &len, HEAD "properties:\n  k: ");
	grow(&y, &len, big);
	grow(&y, &len, "\n");
	T_CHECK(reject_built(y, len, "value longer than 4096 bytes"));
	big[LIM_PROP_KEY_MAX + 1] = '\0';
	y = NULL, len = 0;
	grow(&y, &len, HEAD "properties:\n  ");
	grow(&y, &len, big);
	grow(&y, &len, ": v\n");
	T_CHECK(reject_built(y, len, "keys must have 1 to 255 bytes"));

	/* Nine values of 4000 bytes: over 32 KiB together. */
	memset(big, 'v', 4000);
	big[4000] = '\0';
	y = NULL, len = 0;
	grow(&y, &len, HEAD "properties:\n");
	for (i = 0; i < 9; i++) {
		snprintf(line, sizeof(line), "  k%zu: ", i);
		grow(&y, &len, line);
		grow(&y, &len, big);
		grow(&y, &len, "\n");
	}
	T_CHECK(reject_built(y, len, "more than 32768 bytes in all"));
	free(big);

	/* Larger than 1 MiB, whatever it holds. */
	len = LIM_META_FILE_MAX + 1;
	y = malloc(len);
	memset(y, '#', len);
	T_CHECK(reject_built(y, len, "larger than 1048576 bytes"));
}

T_TEST(test_arch_canonical)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"x86_64", "x86_64"},
	    {"amd64", "x86_64"},
	    {"generic_64", "x86_64"},
	    {"i386", "i686"},
	    {"386", "i686"},
	    {"armhf", "armv7l"},
	    {"armv7a_vfpv3_hardfp", "armv7l"},
	    {"armel", "armv6l"},
	    {"armv8l", "armv8l"},
	    {"arm64", "aarch64"},
	    {"aarch64", "aarch64"},
	    {"powerpc", "ppc"},
	    {"ppc64", "ppc64"},
	    {"powerpc64", "ppc64"},
	    {"ppc64el", "ppc64le"},
	    {"s390x", "s390x"},
	    {"mipsel", "mips"},
	    {"mips64el", "mips64"},
	    {"riscv64", "riscv64"},
	    {"riscv32", "riscv32"},
	    {"AMD64", NULL},
	    {"foo", NULL},
	    {"", NULL},
	    {"x86_64 ", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = arch_canonical(cases[i].in);

		T_EXPECT(
		    !(cases[i].out == NULL
			    ? got != NULL
			    : (got == NULL || strcmp(got, cases[i].out) != 0)),
		    "arch_canonical(\"%s\") = %s", cases[i].in,
		    got ? got : "NULL");
	}
	T_CHECK(arch_canonical(NULL) == NULL);
}

int
main(void)
{
	T_RUN(test_lxd_doc_example);
	T_RUN(test_scalar_text_kept);
	T_RUN(test_accepted_variants);
	T_RUN(test_rejects);
	T_RUN(test_limits);
	T_RUN(test_arch_canonical);
	return T_DONE();
}
