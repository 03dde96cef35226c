/*
 * "image list" filters as lxc's imageShouldShow applies them: words in
 * aliases and fingerprints, key=value on properties (dot-component
 * prefixes of the key, anchored regular expressions, the plain value
 * when the expression is invalid) and on the image's fields as Go's %v
 * prints them; all filters must match.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/filter.h"
#include "imgctl/schema.h"
#include "tests/t.h"

static const char img_json[] =
    "{\"fingerprint\": \"cd744b2cb34b4bf7219684f6f24ab0e0026cfe38025032c46c"
    "384044533c147c\", \"public\": true, \"architecture\": \"x86_64\","
    " \"size\": 1234567, \"type\": \"container\","
    " \"aliases\": [{\"name\": \"ubuntu-22.04\", \"description\": \"\"},"
    " {\"name\": \"jammy\", \"description\": \"LTS\"}],"
    " \"properties\": {\"os\": \"Ubuntu\", \"release\": \"22.04\","
    " \"user.tag\": \"blue\", \"empty\": \"\", \"odd\": \"[x\"}}";

static json_t *
image(const char *js)
{
	json_t *raw = json_loads(js, 0, NULL), *img;

	img = sch_normalize(raw, sch_image);
	json_decref(raw);
	return img;
}

static int
show(const json_t *img, const char *f1, const char *f2)
{
	char *f[2] = {(char *)f1, (char *)f2};

	return filter_image(img, f, f2 ? 2 : 1);
}

T_TEST(filters_as_lxc)
{
	static const struct {
		const char *f1, *f2;
		int shown;
	} cases[] = {
	    {"jammy", NULL, 1},
	    {"ubuntu", NULL, 1}, /* part of an alias name */
	    {"Ubuntu", NULL, 0}, /* words are case-sensitive */
	    {"cd744b", NULL, 1}, /* part of the fingerprint */
	    {"3c147c", NULL, 1},
	    {"zzz", NULL, 0},
	    {"os=Ubuntu", NULL, 1},
	    {"os=Ubu", NULL, 0},  /* anchored at both ends */
	    {"os=^Ubu", NULL, 1}, /* unless ^ or $ is given */
	    {"os=tu$", NULL, 1},
	    {"os=ubuntu", NULL, 0},
	    {"os=Ub.*", NULL, 1},
	    {"o=Ubuntu", NULL, 1}, /* key: a prefix of the name */
	    {"release=22..*", NULL, 1},
	    {"release=22\\.04", NULL, 1},
	    {"release=2[0-9]\\.04", NULL, 1},
	    {"user.tag=blue", NULL, 1},
	    {"us.t=blue", NULL, 1}, /* prefix per dot component */
	    {"user=blue", NULL, 0}, /* not as many components */
	    {"user.tag.x=blue", NULL, 0},
	    {"odd=[x", NULL, 1}, /* invalid expression: as is */
	    {"odd=[y", NULL, 0},
	    {"empty=", NULL, 1},
	    {"public=true", NULL, 1}, /* a field of the image */
	    {"public=false", NULL, 0},
	    {"architecture=x86_64", NULL, 1},
	    {"architecture=x86", NULL, 0}, /* fields are not patterns */
	    {"type=container", NULL, 1},
	    {"size=1234567", NULL, 0}, /* %v of a float64 */
	    {"size=1.234567e+06", NULL, 1},
	    {"cached=false", NULL, 1},
	    {"aliases=[map[description: name:ubuntu-22.04] "
	     "map[description:LTS name:jammy]]",
		NULL, 1},
	    {"nope=x", NULL, 0},
	    {"jammy", "os=Ubuntu", 1}, /* ANDed */
	    {"jammy", "os=Debian", 0},
	    {"os=Debian", "jammy", 0},
	};
	json_t *img = image(img_json);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_EXPECT(
		    !(show(img, cases[i].f1, cases[i].f2) != cases[i].shown),
		    "filters \"%s\" \"%s\": shown %d, expected %d", cases[i].f1,
		    cases[i].f2 ? cases[i].f2 : "", !cases[i].shown,
		    cases[i].shown);
	T_EQ_INT(filter_image(img, NULL, 0), 1);
	json_decref(img);
}

/* An image without properties or aliases: Go's nil prints "<nil>". */
T_TEST(filters_on_nil_fields)
{
	json_t *img = image("{\"fingerprint\": \"ab\"}");

	T_EQ_INT(show(img, "properties=<nil>", NULL), 1);
	T_EQ_INT(show(img, "os=x", NULL), 0);
	T_EQ_INT(show(img, "x", NULL), 0);
	T_EQ_INT(show(img, "ab", NULL), 1);
	json_decref(img);
}

T_TEST(dot_prefix_as_lxc)
{
	T_EQ_INT(filter_dot_prefix("os", "os"), 1);
	T_EQ_INT(filter_dot_prefix("o", "os"), 1);
	T_EQ_INT(filter_dot_prefix("", "os"), 1);
	T_EQ_INT(filter_dot_prefix("osx", "os"), 0);
	T_EQ_INT(filter_dot_prefix("a.b", "ab.bc"), 1);
	T_EQ_INT(filter_dot_prefix("a.c", "ab.bc"), 0);
	T_EQ_INT(filter_dot_prefix("a", "a.b"), 0);
	T_EQ_INT(filter_dot_prefix("a.b", "a"), 0);
	T_EQ_INT(filter_dot_prefix("a.", "a.b"), 1);
}

T_TEST(go_value_printing)
{
	static const struct {
		const char *json, *v;
	} cases[] = {
	    {"\"s\"", "s"},
	    {"true", "true"},
	    {"10504", "10504"},
	    {"2147491840", "2.14749184e+09"},
	    {"null", "<nil>"},
	    {"[\"a\", 1]", "[a 1]"},
	    {"{\"b\": 1, \"a\": \"x\"}", "map[a:x b:1]"},
	    {"[]", "[]"},
	    {"{}", "map[]"},
	};
	json_t *v;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		s = filter_go_value(v);
		T_EQ_STR(s, cases[i].v);
		free(s);
		json_decref(v);
	}
}

int
main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	T_RUN(filters_as_lxc);
	T_RUN(filters_on_nil_fields);
	T_RUN(dot_prefix_as_lxc);
	T_RUN(go_value_printing);
	return T_DONE();
}
