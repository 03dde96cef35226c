/*
 * imgctl's YAML and JSON against lxc 5.0.2's: golden outputs that lxc
 * printed for an image whose properties exercise every quoting rule
 * ("image show", "image list -f json/yaml"), the round trip through
 * "image edit"'s parser, yaml.v2's plain-scalar and key-order rules, Go's
 * JSON string escapes, and one negative test per rule the edit parser
 * enforces.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "imgctl/schema.h"
#include "imgctl/yamlin.h"
#include "imgctl/yamlout.h"
#include "tests/t.h"

/*
 * The image as LXD answered GET /1.0/images/<fp> (its fields and
 * properties listed backwards, to show that the order of the answer does
 * not matter), then what lxc printed for it.
 */
static const char gold_raw[] =
    "{\"uploaded_at\": \"2026-11-29T01:31:31.568803368Z\", \"last_use"
    "d_at\": \"0001-01-01T00:00:00Z\", \"created_at\": \"2016-03-15T1"
    "1:10:00Z\", \"type\": \"container\", \"size\": 288, \"fingerprin"
    "t\": \"cd744b2cb34b4bf7219684f6f24ab0e0026cfe38025032c46c3840445"
    "33c147c\", \"filename\": \"unified.tar.gz\", \"cached\": false, "
    "\"architecture\": \"x86_64\", \"aliases\": [{\"name\": \"gold\","
    " \"description\": \"\"}], \"profiles\": [\"default\"], \"expires"
    "_at\": \"1970-01-01T00:00:00Z\", \"public\": false, \"properties"
    "\": {\"\\u00e9a\": \"e\", \"yes\": \"k\", \"p9\": \"#x\", \"p8\""
    ": \"a #b\", \"p73\": \"trailing\\t\", \"p72\": \"\\u00e9t\\u00e9"
    "\", \"p71\": \"a:b\", \"p70\": \"x:\", \"p7\": \"a: b\", \"p69\""
    ": \":x\", \"p68\": \"+.5\", \"p67\": \"1.\", \"p66\": \"2016-1-2"
    " 3:04:05\", \"p65\": \"0xFFFFFFFFFFFFFFFFFF\", \"p64\": \"-1.5e3"
    "\", \"p63\": \"u2028 \\u2028\", \"p62\": \"\\u0001ctl\", \"p61\""
    ": \"\\\\back\", \"p60\": \"a  b\", \"p6\": \"- x\", \"p59\": \"x"
    ": \", \"p58\": \"1:2:3\", \"p57\": \"---\", \"p56\": \"...\", \""
    "p55\": \".\", \"p54\": \"+\", \"p53\": \"0x\", \"p52\": \"0b\", "
    "\"p51\": \"1_000\", \"p50\": \"NaN\", \"p5\": \"-\", \"p49\": \""
    "y\", \"p48\": \"off\", \"p47\": \"true\", \"p46\": \"12345678901"
    "234567890\", \"p45\": \"0\", \"p44\": \">x\", \"p43\": \"|x\", \""
    "p42\": \"&x\", \"p41\": \"*x\", \"p40\": \"%x\", \"p4\": \"~\", "
    "\"p39\": \"!x\", \"p38\": \"?x\", \"p37\": \"a,b\", \"p36\": \"{"
    "b}\", \"p35\": \"[a]\", \"p34\": \"long long long long long long"
    " long long long long long long long long long long long long lon"
    "g long long long long long long long long long long long \", \"p"
    "33\": \"kept\\n\\n\", \"p32\": \"ends\\n\", \"p31\": \"multi\\nl"
    "ine\", \"p30\": \"\\u00e9 \\u00fc \\u65e5\\u672c\", \"p3\": \"20"
    "16-01-02T10:00:00Z\", \"p29\": \"null\", \"p28\": \"-0b101\", \""
    "p27\": \"+1\", \"p26\": \".inf\", \"p25\": \".5\", \"p24\": \"1e"
    "400\", \"p23\": \"1e5\", \"p22\": \"08\", \"p21\": \"0o17\", \"p"
    "20\": \"0x1F\", \"p2\": \"2016-01-02\", \"p19\": \"1:30\", \"p18"
    "\": \"trail \", \"p17\": \" lead\", \"p16\": \"tab\\there\", \"p"
    "15\": \"<&>\", \"p14\": \"x'y\", \"p13\": \"\\\"d\\\"\", \"p12\""
    ": \"'q'\", \"p11\": \"`x\", \"p10\": \"@x\", \"p1\": \"1.0\", \""
    "p0\": \"yes\", \"os\": \"testos\", \"description\": \"gold\", \""
    "b2\": \"b\", \"b10\": \"c\", \"a1\": \"y\", \"a01\": \"x\", \"_u"
    "\": \"u\", \"Zkey\": \"z\", \"10\": \"ten\"}, \"auto_update\": f"
    "alse}";

static const char gold_show[] =
    "auto_update: false\n"
    "properties:\n"
    "  _u: u\n"
    "  \"10\": ten\n"
    "  Zkey: z\n"
    "  a1: \"y\"\n"
    "  a01: x\n"
    "  b2: b\n"
    "  b10: c\n"
    "  description: gold\n"
    "  os: testos\n"
    "  p0: \"yes\"\n"
    "  p1: \"1.0\"\n"
    "  p2: \"2016-01-02\"\n"
    "  p3: \"2016-01-02T10:00:00Z\"\n"
    "  p4: \"~\"\n"
    "  p5: '-'\n"
    "  p6: '- x'\n"
    "  p7: 'a: b'\n"
    "  p8: 'a #b'\n"
    "  p9: '#x'\n"
    "  p10: '@x'\n"
    "  p11: '`x'\n"
    "  p12: '''q'''\n"
    "  p13: '\"d\"'\n"
    "  p14: x'y\n"
    "  p15: <&>\n"
    "  p16: \"tab\\there\"\n"
    "  p17: ' lead'\n"
    "  p18: 'trail '\n"
    "  p19: \"1:30\"\n"
    "  p20: \"0x1F\"\n"
    "  p21: \"0o17\"\n"
    "  p22: \"08\"\n"
    "  p23: \"1e5\"\n"
    "  p24: 1e400\n"
    "  p25: \".5\"\n"
    "  p26: \".inf\"\n"
    "  p27: \"+1\"\n"
    "  p28: \"-0b101\"\n"
    "  p29: \"null\"\n"
    "  p30: \xc3\xa9 \xc3\xbc \xe6\x97\xa5\xe6\x9c\xac\n"
    "  p31: |-\n"
    "    multi\n"
    "    line\n"
    "  p32: |\n"
    "    ends\n"
    "  p33: |+\n"
    "    kept\n"
    "\n"
    "  p34: 'long long long long long long long long long long long l"
    "ong long long long\n"
    "    long long long long long long long long long long long long "
    "long long long '\n"
    "  p35: '[a]'\n"
    "  p36: '{b}'\n"
    "  p37: a,b\n"
    "  p38: ?x\n"
    "  p39: '!x'\n"
    "  p40: '%x'\n"
    "  p41: '*x'\n"
    "  p42: '&x'\n"
    "  p43: '|x'\n"
    "  p44: '>x'\n"
    "  p45: \"0\"\n"
    "  p46: \"12345678901234567890\"\n"
    "  p47: \"true\"\n"
    "  p48: \"off\"\n"
    "  p49: \"y\"\n"
    "  p50: NaN\n"
    "  p51: \"1_000\"\n"
    "  p52: 0b\n"
    "  p53: 0x\n"
    "  p54: +\n"
    "  p55: .\n"
    "  p56: '...'\n"
    "  p57: '---'\n"
    "  p58: \"1:2:3\"\n"
    "  p59: 'x: '\n"
    "  p60: a  b\n"
    "  p61: \\back\n"
    "  p62: \"\\x01ctl\"\n"
    "  p63: \"u2028 \\L\"\n"
    "  p64: \"-1.5e3\"\n"
    "  p65: 0xFFFFFFFFFFFFFFFFFF\n"
    "  p66: \"2016-1-2 3:04:05\"\n"
    "  p67: \"1.\"\n"
    "  p68: \"+.5\"\n"
    "  p69: :x\n"
    "  p70: 'x:'\n"
    "  p71: a:b\n"
    "  p72: \xc3\xa9t\xc3\xa9\n"
    "  p73: \"trailing\\t\"\n"
    "  \"yes\": k\n"
    "  \xc3\xa9"
    "a: e\n"
    "public: false\n"
    "expires_at: 1970-01-01T00:00:00Z\n"
    "profiles:\n"
    "- default\n";

static const char gold_list_json[] =
    "[{\"auto_update\":false,\"properties\":{\"10\":\"ten\",\"Zkey\":"
    "\"z\",\"_u\":\"u\",\"a01\":\"x\",\"a1\":\"y\",\"b10\":\"c\",\"b2"
    "\":\"b\",\"description\":\"gold\",\"os\":\"testos\",\"p0\":\"yes"
    "\",\"p1\":\"1.0\",\"p10\":\"@x\",\"p11\":\"`x\",\"p12\":\"'q'\","
    "\"p13\":\"\\\"d\\\"\",\"p14\":\"x'y\",\"p15\":\"\\u003c\\u0026\\"
    "u003e\",\"p16\":\"tab\\there\",\"p17\":\" lead\",\"p18\":\"trail"
    " \",\"p19\":\"1:30\",\"p2\":\"2016-01-02\",\"p20\":\"0x1F\",\"p2"
    "1\":\"0o17\",\"p22\":\"08\",\"p23\":\"1e5\",\"p24\":\"1e400\",\""
    "p25\":\".5\",\"p26\":\".inf\",\"p27\":\"+1\",\"p28\":\"-0b101\","
    "\"p29\":\"null\",\"p3\":\"2016-01-02T10:00:00Z\",\"p30\":\"\xc3\xa9"
    " \xc3\xbc \xe6\x97\xa5\xe6\x9c\xac\",\"p31\":\"multi\\nline\",\""
    "p32\":\"ends\\n\",\"p33\":\"kept\\n\\n\",\"p34\":\"long long lon"
    "g long long long long long long long long long long long long lo"
    "ng long long long long long long long long long long long long l"
    "ong long \",\"p35\":\"[a]\",\"p36\":\"{b}\",\"p37\":\"a,b\",\"p3"
    "8\":\"?x\",\"p39\":\"!x\",\"p4\":\"~\",\"p40\":\"%x\",\"p41\":\""
    "*x\",\"p42\":\"\\u0026x\",\"p43\":\"|x\",\"p44\":\"\\u003ex\",\""
    "p45\":\"0\",\"p46\":\"12345678901234567890\",\"p47\":\"true\",\""
    "p48\":\"off\",\"p49\":\"y\",\"p5\":\"-\",\"p50\":\"NaN\",\"p51\""
    ":\"1_000\",\"p52\":\"0b\",\"p53\":\"0x\",\"p54\":\"+\",\"p55\":\""
    ".\",\"p56\":\"...\",\"p57\":\"---\",\"p58\":\"1:2:3\",\"p59\":\""
    "x: \",\"p6\":\"- x\",\"p60\":\"a  b\",\"p61\":\"\\\\back\",\"p62"
    "\":\"\\u0001ctl\",\"p63\":\"u2028 \\u2028\",\"p64\":\"-1.5e3\",\""
    "p65\":\"0xFFFFFFFFFFFFFFFFFF\",\"p66\":\"2016-1-2 3:04:05\",\"p6"
    "7\":\"1.\",\"p68\":\"+.5\",\"p69\":\":x\",\"p7\":\"a: b\",\"p70\""
    ":\"x:\",\"p71\":\"a:b\",\"p72\":\"\xc3\xa9t\xc3\xa9\",\"p73\":\""
    "trailing\\t\",\"p8\":\"a #b\",\"p9\":\"#x\",\"yes\":\"k\",\"\xc3"
    "\xa9"
    "a\":\"e\"},\"public\":false,\"expires_at\":\"1970-01-01T00"
    ":00:00Z\",\"profiles\":[\"default\"],\"aliases\":[{\"name\":\"go"
    "ld\",\"description\":\"\"}],\"architecture\":\"x86_64\",\"cached"
    "\":false,\"filename\":\"unified.tar.gz\",\"fingerprint\":\"cd744"
    "b2cb34b4bf7219684f6f24ab0e0026cfe38025032c46c384044533c147c\",\""
    "size\":288,\"type\":\"container\",\"created_at\":\"2016-03-15T11"
    ":10:00Z\",\"last_used_at\":\"0001-01-01T00:00:00Z\",\"uploaded_a"
    "t\":\"2026-11-29T01:31:31.568803368Z\"}]\n";

static const char gold_list_yaml[] =
    "- auto_update: false\n"
    "  properties:\n"
    "    _u: u\n"
    "    \"10\": ten\n"
    "    Zkey: z\n"
    "    a1: \"y\"\n"
    "    a01: x\n"
    "    b2: b\n"
    "    b10: c\n"
    "    description: gold\n"
    "    os: testos\n"
    "    p0: \"yes\"\n"
    "    p1: \"1.0\"\n"
    "    p2: \"2016-01-02\"\n"
    "    p3: \"2016-01-02T10:00:00Z\"\n"
    "    p4: \"~\"\n"
    "    p5: '-'\n"
    "    p6: '- x'\n"
    "    p7: 'a: b'\n"
    "    p8: 'a #b'\n"
    "    p9: '#x'\n"
    "    p10: '@x'\n"
    "    p11: '`x'\n"
    "    p12: '''q'''\n"
    "    p13: '\"d\"'\n"
    "    p14: x'y\n"
    "    p15: <&>\n"
    "    p16: \"tab\\there\"\n"
    "    p17: ' lead'\n"
    "    p18: 'trail '\n"
    "    p19: \"1:30\"\n"
    "    p20: \"0x1F\"\n"
    "    p21: \"0o17\"\n"
    "    p22: \"08\"\n"
    "    p23: \"1e5\"\n"
    "    p24: 1e400\n"
    "    p25: \".5\"\n"
    "    p26: \".inf\"\n"
    "    p27: \"+1\"\n"
    "    p28: \"-0b101\"\n"
    "    p29: \"null\"\n"
    "    p30: \xc3\xa9 \xc3\xbc \xe6\x97\xa5\xe6\x9c\xac\n"
    "    p31: |-\n"
    "      multi\n"
    "      line\n"
    "    p32: |\n"
    "      ends\n"
    "    p33: |+\n"
    "      kept\n"
    "\n"
    "    p34: 'long long long long long long long long long long long"
    " long long long long\n"
    "      long long long long long long long long long long long lon"
    "g long long long '\n"
    "    p35: '[a]'\n"
    "    p36: '{b}'\n"
    "    p37: a,b\n"
    "    p38: ?x\n"
    "    p39: '!x'\n"
    "    p40: '%x'\n"
    "    p41: '*x'\n"
    "    p42: '&x'\n"
    "    p43: '|x'\n"
    "    p44: '>x'\n"
    "    p45: \"0\"\n"
    "    p46: \"12345678901234567890\"\n"
    "    p47: \"true\"\n"
    "    p48: \"off\"\n"
    "    p49: \"y\"\n"
    "    p50: NaN\n"
    "    p51: \"1_000\"\n"
    "    p52: 0b\n"
    "    p53: 0x\n"
    "    p54: +\n"
    "    p55: .\n"
    "    p56: '...'\n"
    "    p57: '---'\n"
    "    p58: \"1:2:3\"\n"
    "    p59: 'x: '\n"
    "    p60: a  b\n"
    "    p61: \\back\n"
    "    p62: \"\\x01ctl\"\n"
    "    p63: \"u2028 \\L\"\n"
    "    p64: \"-1.5e3\"\n"
    "    p65: 0xFFFFFFFFFFFFFFFFFF\n"
    "    p66: \"2016-1-2 3:04:05\"\n"
    "    p67: \"1.\"\n"
    "    p68: \"+.5\"\n"
    "    p69: :x\n"
    "    p70: 'x:'\n"
    "    p71: a:b\n"
    "    p72: \xc3\xa9t\xc3\xa9\n"
    "    p73: \"trailing\\t\"\n"
    "    \"yes\": k\n"
    "    \xc3\xa9"
    "a: e\n"
    "  public: false\n"
    "  expires_at: 1970-01-01T00:00:00Z\n"
    "  profiles:\n"
    "  - default\n"
    "  aliases:\n"
    "  - name: gold\n"
    "    description: \"\"\n"
    "  architecture: x86_64\n"
    "  cached: false\n"
    "  filename: unified.tar.gz\n"
    "  fingerprint: cd744b2cb34b4bf7219684f6f24ab0e0026cfe38025032c46"
    "c384044533c147c\n"
    "  size: 288\n"
    "  type: container\n"
    "  created_at: 2016-03-15T11:10:00Z\n"
    "  last_used_at: 0001-01-01T00:00:00Z\n"
    "  uploaded_at: 2026-11-29T01:31:31.568803368Z\n";

typedef int (*writer_fn)(FILE *, const json_t *, const struct sch_field *);

static char *
capture(writer_fn fn, const json_t *v, const struct sch_field *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	T_EXPECT(!(fn(f, v, s) != 0), "writer failed");
	fclose(f);
	return buf;
}

static int
json_writer(FILE *f, const json_t *v, const struct sch_field *s)
{
	(void)s;
	return gojson_write(f, v);
}

static json_t *
gold_image(void)
{
	json_error_t e;
	json_t *raw = json_loads(gold_raw, 0, &e), *img;

	if (raw == NULL) {
		T_FAIL("gold_raw: %s", e.text);
		return NULL;
	}
	img = sch_normalize(raw, sch_image);
	json_decref(raw);
	return img;
}

T_TEST(show_as_lxc)
{
	json_t *img = gold_image(), *put;
	char *out;

	put = sch_normalize(img, sch_image_put);
	out = capture(yout_struct, put, sch_image_put);
	T_EQ_STR(out, gold_show);
	free(out);
	json_decref(put);
	json_decref(img);
}

T_TEST(list_json_and_yaml_as_lxc)
{
	json_t *list = json_array();
	char *out;

	json_array_append_new(list, gold_image());
	out = capture(json_writer, list, sch_image);
	T_EQ_STR(out, gold_list_json);
	free(out);
	out = capture(yout_list, list, sch_image);
	T_EQ_STR(out, gold_list_yaml);
	free(out);
	json_array_clear(list);
	out = capture(yout_list, list, sch_image);
	T_EQ_STR(out, "[]\n");
	free(out);
	out = capture(json_writer, list, sch_image);
	T_EQ_STR(out, "[]\n");
	free(out);
	json_decref(list);
}

/* Missing fields take Go's zero values; nil maps and slices print empty. */
T_TEST(zero_values_as_lxc)
{
	json_t *raw = json_pack(
	    "{s:s, s:n, s:i}", "fingerprint", "ab", "aliases", "size", 7);
	json_t *img = sch_normalize(raw, sch_image), *put;
	char *out;

	out = capture(json_writer, img, sch_image);
	T_EQ_STR(out,
	    "{\"auto_update\":false,\"properties\":null,\"public\":false,"
	    "\"expires_at\":\"0001-01-01T00:00:00Z\",\"profiles\":null,"
	    "\"aliases\":null,\"architecture\":\"\",\"cached\":false,"
	    "\"filename\":\"\",\"fingerprint\":\"ab\",\"size\":7,"
	    "\"type\":\"\",\"created_at\":\"0001-01-01T00:00:00Z\","
	    "\"last_used_at\":\"0001-01-01T00:00:00Z\","
	    "\"uploaded_at\":\"0001-01-01T00:00:00Z\"}\n");
	free(out);
	put = sch_normalize(img, sch_image_put);
	out = capture(yout_struct, put, sch_image_put);
	T_EQ_STR(out, "auto_update: false\nproperties: {}\npublic: false\n"
		      "expires_at: 0001-01-01T00:00:00Z\nprofiles: []\n");
	free(out);
	json_decref(put);
	json_decref(img);
	json_decref(raw);
}

/* What "image show" prints, "image edit" reads back unchanged. */
T_TEST(edit_reads_show)
{
	json_t *img = gold_image(), *want, *got;
	char err[256];

	want = sch_normalize(img, sch_image_put);
	T_EQ_INT(
	    yin_image_put(gold_show, strlen(gold_show), &got, err, sizeof(err)),
	    0);
	if (got == NULL)
		T_FAIL("parse: %s", err);
	else if (!json_equal(got, want))
		T_FAIL("round trip differs: %s", json_dumps(got, 0));
	json_decref(got);
	json_decref(want);
	json_decref(img);
}

T_TEST(edit_values_as_yaml_v2)
{
	static const char in[] =
	    "# a comment\n"
	    "auto_update: yes\n"
	    "public: off\n"
	    "properties:\n  n: 1.0\n  e:\n  q: 'x'\n  t: 2016-01-02\n"
	    "expires_at: 2030-1-2 3:04:05\n"
	    "profiles: [a, \"b\"]\n";
	char err[256], *s;
	json_t *put;

	T_EQ_INT(yin_image_put(in, strlen(in), &put, err, sizeof(err)), 0);
	if (put == NULL)
		return;
	s = json_dumps(put, JSON_COMPACT);
	T_EQ_STR(s, "{\"auto_update\":true,\"properties\":{\"n\":\"1.0\","
		    "\"e\":\"\",\"q\":\"x\",\"t\":\"2016-01-02\"},"
		    "\"public\":false,\"expires_at\":\"2030-01-02T03:04:05Z\","
		    "\"profiles\":[\"a\",\"b\"]}");
	free(s);
	json_decref(put);
	/* Fields left out keep Go's zero values. */
	T_EQ_INT(yin_image_put("{}", 2, &put, err, sizeof(err)), 0);
	s = put ? json_dumps(put, JSON_COMPACT) : NULL;
	T_EQ_STR(s, "{\"auto_update\":false,\"properties\":null,"
		    "\"public\":false,\"expires_at\":\"0001-01-01T00:00:00Z\","
		    "\"profiles\":null}");
	free(s);
	json_decref(put);
}

T_TEST(edit_refusals)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "the YAML is empty"},
	    {"# only a comment\n", "the YAML is empty"},
	    {"~\n", "the YAML is empty"},
	    {"- a\n", "expected a mapping"},
	    {"plain\n", "expected a mapping"},
	    {"colour: red\n", "unknown field \"colour\""},
	    {"public: true\npublic: false\n", "line 2: field \"public\" "
					      "is given twice"},
	    {"public: maybe\n", "public must be true or false"},
	    {"public: \"true\"\n", "public must be true or false"},
	    {"auto_update: 1\n", "auto_update must be true or false"},
	    {"expires_at: soon\n", "expires_at must be a timestamp"},
	    {"expires_at: 2016-02-30\n", "expires_at must be a timestamp"},
	    {"properties: [a]\n", "properties must be a mapping"},
	    {"properties:\n  a: [1]\n", "a property value must be a "
					"string"},
	    {"properties:\n  [a]: 1\n", "a property name must be a "
					"string"},
	    {"properties:\n  a: 1\n  a: 2\n", "line 3: property \"a\" is "
					      "given twice"},
	    {"profiles: a\n", "profiles must be a list"},
	    {"profiles:\n- [a]\n", "a profile name must be a string"},
	    {"properties: &p {a: 1}\n", "YAML anchors (&p) are not "
					"accepted"},
	    {"x: &a 1\nproperties: *a\n", "unknown field \"x\""},
	    {"profiles: [a]\nproperties: *a\n", "YAML aliases (*a) are "
						"not accepted"},
	    {"public: !!bool true\n", "YAML tags"},
	    {"public: true\n---\npublic: false\n", "only one YAML "
						   "document"},
	    {"public: [\n", "line 1:"},
	    {"properties: {a: 1\n", "line 2:"},
	    {"\tpublic: true\n", "line 1:"},
	};
	char err[256];
	json_t *put;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (yin_image_put(bad[i].in, strlen(bad[i].in), &put, err,
			sizeof(err)) != -1 ||
		    put != NULL) {
			T_FAIL("accepted: %s", bad[i].in);
			json_decref(put);
			continue;
		}
		T_CONTAINS(err, bad[i].why);
	}
}

/* yaml.v2 stringv(): plain unless the text would read back as another type. */
T_TEST(plain_scalars_as_yaml_v2)
{
	static const char *const plain[] = {"x", "hello world", "1e400", "NaN",
	    "0b", "0x", "+", ".", "1.2.3", "0xFFFFFFFFFFFFFFFFFF", "yess", "<<",
	    "2016-13-01", "1:60", "a: b", "-", "v1.0"};
	static const char *const quoted[] = {"", "~", "null", "Null", "y", "Y",
	    "yes", "NO", "on", "Off", "true", "FALSE", "0", "-0", "+1", "1.0",
	    "1.", ".5", "+.5", "-1.5e3", "1e5", "08", "0o17", "0x1F", "-0b101",
	    "1_000", "12345678901234567890", ".inf", "-.Inf", ".nan", "1:30",
	    "1:2:3", "-1:30.5", "2016-01-02", "2016-1-2 3:04:05",
	    "2016-01-02T10:00:00Z"};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		T_EXPECT(
		    yv2_plain_ok(plain[i]), "\"%s\" should be plain", plain[i]);
	for (i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
		T_EXPECT(!(yv2_plain_ok(quoted[i])), "\"%s\" should be quoted",
		    quoted[i]);
}

T_TEST(key_order_as_yaml_v2)
{
	static const char *const ordered[] = {"_u", "10", "Zkey", "a1", "a01",
	    "b2", "b10", "p9", "p10", "yes", "\xc3\xa9\x61" /* "\u00e9a" */};
	size_t i, j, n = sizeof(ordered) / sizeof(ordered[0]);

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			T_EXPECT(
			    !(yv2_key_less(ordered[i], ordered[j]) != (i < j)),
			    "yv2_key_less(\"%s\", \"%s\") != %d", ordered[i],
			    ordered[j], i < j);
}

T_TEST(json_strings_as_go)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "\"plain\""},
	    {"<&>", "\"\\u003c\\u0026\\u003e\""},
	    {"q\"b\\", "\"q\\\"b\\\\\""},
	    {"\n\r\t", "\"\\n\\r\\t\""},
	    {"\x01\x08\x0c\x1f", "\"\\u0001\\u0008\\u000c\\u001f\""},
	    {"\x7f/", "\"\x7f/\""},
	    {"\xc3\xa9\xe6\x97\xa5", "\"\xc3\xa9\xe6\x97\xa5\""},
	    {"\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\""},
	    {"\xff", "\"\\ufffd\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	};
	char *buf;
	size_t i, len;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		gojson_string(f, cases[i].in);
		fclose(f);
		T_EQ_STR(buf, cases[i].out);
		free(buf);
	}
}

int
main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	T_RUN(show_as_lxc);
	T_RUN(list_json_and_yaml_as_lxc);
	T_RUN(zero_values_as_lxc);
	T_RUN(edit_reads_show);
	T_RUN(edit_values_as_yaml_v2);
	T_RUN(edit_refusals);
	T_RUN(plain_scalars_as_yaml_v2);
	T_RUN(key_order_as_yaml_v2);
	T_RUN(json_strings_as_go);
	return T_DONE();
}
