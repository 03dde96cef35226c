/*
 * Request targets (split, path decoding, query parameters) and the small
 * helpers (reason phrases, IMF-fixdate).
 */
#include <string.h>

#include "http/http.h"
#include "tests/t.h"

T_TEST(test_split)
{
	static const struct {
		const char *target, *path, *query;
	} split[] = {
	    {"/1.0/images?project=default", "/1.0/images", "project=default"},
	    {"/1.0/images", "/1.0/images", NULL},
	    {"/?", "/", ""},
	    {"/a?b?c", "/a", "b?c"},
	};
	const char *q;
	size_t i, n;

	for (i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		http_target_split(split[i].target, &n, &q);
		T_EQ_INT(n, strlen(split[i].path));
		T_CHECK(strncmp(split[i].target, split[i].path, n) == 0);
		if (split[i].query == NULL)
			T_CHECK(q == NULL);
		else
			T_EQ_STR(q, split[i].query);
	}
}

T_TEST(test_path_decode)
{
	static const struct {
		const char *in;
		int flags;
		const char *out; /* NULL: refused */
	} paths[] = {
	    {"/1.0/images/abc", 0, "/1.0/images/abc"},
	    {"/%41%62", 0, "/Ab"},
	    {"/a%2fb", 0, "/a/b"},
	    {"/a%2Fb", HTTP_PATH_NO_SLASH, NULL},
	    {"/a/b", HTTP_PATH_NO_SLASH, "/a/b"},
	    {"/caf%C3%A9", HTTP_PATH_NO_SLASH, "/caf\xc3\xa9"},
	    {"/a+b", 0, "/a+b"},
	    {"/%00", 0, NULL},
	    {"/%0a", 0, NULL},
	    {"/%7F", 0, NULL},
	    {"/\x01", 0, NULL},
	    {"/%", 0, NULL},
	    {"/%4", 0, NULL},
	    {"/%zz", 0, NULL},
	    {"/%4g", 0, NULL},
	    {"/a/../b", 0, "/a/../b"},
	    {"/a/../b", HTTP_PATH_NO_DOTS, NULL},
	    {"/a/%2e%2E/b", HTTP_PATH_NO_DOTS, NULL},
	    {"/a/./b", HTTP_PATH_NO_DOTS, NULL},
	    {"/..", HTTP_PATH_NO_DOTS, NULL},
	    {"/a/.", HTTP_PATH_NO_DOTS, NULL},
	    {"/a/.b/...", HTTP_PATH_NO_DOTS, "/a/.b/..."},
	    {"/a/..b", HTTP_PATH_NO_DOTS, "/a/..b"},
	};
	char out[64];
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		n = http_path_decode(paths[i].in, strlen(paths[i].in), out,
		    sizeof(out), paths[i].flags);
		T_EXPECT(!(paths[i].out == NULL
				 ? n != -1
				 : n != (ssize_t)strlen(paths[i].out) ||
				       strcmp(out, paths[i].out) != 0),
		    "case %zu: %zd", i, n);
	}
	/* out must hold the result and its NUL. */
	T_EQ_INT(http_path_decode("/abc", 4, out, 5, 0), 4);
	T_EQ_INT(http_path_decode("/abc", 4, out, 4, 0), -1);
	T_EQ_INT(http_path_decode("/%41", 4, out, 3, 0), 2);
	T_EQ_INT(http_path_decode("", 0, out, 0, 0), -1);
	/* Only len bytes are read. */
	T_EQ_INT(http_path_decode("/ab?x", 3, out, sizeof(out), 0), 3);
	T_EQ_STR(out, "/ab");
}

T_TEST(test_query_get)
{
	static const struct {
		const char *query, *name;
		int ret;
		const char *value;
	} q[] = {
	    {"project=default", "project", 1, "default"},
	    {"a=1&project=foo%20bar", "project", 1, "foo bar"},
	    {"project=a+b%2B", "project", 1, "a b+"},
	    {"project=", "project", 1, ""},
	    {"project", "project", 1, ""},
	    {"project=a=b", "project", 1, "a=b"},
	    {"a=1&&project=2&", "project", 1, "2"},
	    {"proj%65ct=x", "project", 1, "x"},
	    {"projec+t=x", "projec t", 1, "x"},
	    {"caf%C3%A9=1", "caf\xc3\xa9", 1, "1"},
	    {"other=1", "project", 0, NULL},
	    {"projects=1&projec=2", "project", 0, NULL},
	    {"", "project", 0, NULL},
	    {NULL, "project", 0, NULL},
	    {"project=%zz", "project", -1, NULL},
	    {"project=%00", "project", -1, NULL},
	    {"project=%0a", "project", -1, NULL},
	    {"project=%", "project", -1, NULL},
	    {"x=%zz&project=1", "project", -1, NULL},
	    {"project=1&x%=1", "project", -1, NULL},
	    {"project=1&project=2", "project", -1, NULL},
	    {"project=1&pro%6aect=2&project", "project", -1, NULL},
	    {"project=\x01", "project", -1, NULL},
	    {"project=0123456789abcdef", "project", -1, NULL},
	};
	char out[16];
	size_t i;
	int r;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		memset(out, 'X', sizeof(out));
		r = http_query_get(q[i].query, q[i].name, out, sizeof(out));
		T_EXPECT(!(r != q[i].ret ||
			     (r == 1 && strcmp(out, q[i].value) != 0)),
		    "case %zu: %d", i, r);
	}
	T_EQ_INT(http_query_get(
		     "project=0123456789abcde", "project", out, sizeof(out)),
	    1);
	T_EQ_INT(http_query_get("project", "project", out, 0), -1);
}

T_TEST(test_query_next)
{
	/* X-LXD-properties as lxc sends it (Go's url.Values.Encode). */
	const char *cur = "description=Debian+bookworm+%28amd64%29&&os=Debian"
			  "&empty=&flag&release=bookworm";
	static const char *want[][2] = {
	    {"description", "Debian bookworm (amd64)"}, {"os", "Debian"},
	    {"empty", ""}, {"flag", ""}, {"release", "bookworm"}};
	char key[32], val[32];
	size_t i;

	for (i = 0; i < 5; i++) {
		T_EQ_INT(
		    http_query_next(&cur, key, sizeof(key), val, sizeof(val)),
		    1);
		T_EQ_STR(key, want[i][0]);
		T_EQ_STR(val, want[i][1]);
	}
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, sizeof(val)), 0);
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, sizeof(val)), 0);
	cur = "a=%zz";
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, sizeof(val)), -1);
	cur = "a%0a=1";
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, sizeof(val)), -1);
	cur = "a=12345678";
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, 8), -1);
	cur = "12345678=a";
	T_EQ_INT(http_query_next(&cur, key, 8, val, sizeof(val)), -1);
	cur = "=a";
	T_EQ_INT(http_query_next(&cur, key, sizeof(key), val, sizeof(val)), 1);
	T_EQ_STR(key, "");
	T_EQ_INT(http_query_next(&cur, key, 0, val, sizeof(val)), -1);
}

T_TEST(test_reason)
{
	T_EQ_STR(http_reason(200), "OK");
	T_EQ_STR(http_reason(404), "Not Found");
	T_EQ_STR(http_reason(426), "Upgrade Required");
	T_EQ_STR(http_reason(431), "Request Header Fields Too Large");
	T_EQ_STR(http_reason(999), "Unknown");
}

T_TEST(test_date)
{
	char out[HTTP_DATE_LEN + 1];

	T_EQ_INT(http_date(out, 0), 0);
	T_EQ_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	/* RFC 9110 5.6.7's example. */
	T_EQ_INT(http_date(out, 784111777), 0);
	T_EQ_STR(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	T_EQ_INT(http_date(out, 1709251199), 0);
	T_EQ_STR(out, "Thu, 29 Feb 2024 23:59:59 GMT");
	T_EQ_INT(http_date(out, 253402300799LL), 0);
	T_EQ_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	T_EQ_INT(http_date(out, 253402300800LL), -1);
}

/* One percent-encoder for the frontend's URLs and imgctl's requests. */
T_TEST(test_pct_encode)
{
	static const struct {
		const char *in;
		int form;
		const char *out;
	} cases[] = {
	    {"ubuntu/22.04", 0, "ubuntu/22.04"},
	    {"ubuntu/22.04", 1, "ubuntu%2F22.04"},
	    {"a b", 0, "a%20b"},
	    {"a b", 1, "a+b"},
	    {"caf\xc3\xa9?#%", 0, "caf%C3%A9%3F%23%25"},
	    {"-._~", 1, "-._~"},
	    {"", 0, ""},
	};
	char out[64], small[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EXPECT(http_pct_encode(cases[i].in, cases[i].form, out,
			     sizeof(out)) == 0,
		    "case %zu refused", i);
		T_EQ_STR(out, cases[i].out);
	}
	T_EQ_INT(http_pct_encode("abcd", 0, small, sizeof(small)), -1);
	T_EQ_INT(http_pct_encode("abc", 0, small, sizeof(small)), -1);
	T_EQ_INT(http_pct_encode("a", 0, small, sizeof(small)), 0);
}

int
main(void)
{
	T_RUN(test_split);
	T_RUN(test_path_decode);
	T_RUN(test_query_get);
	T_RUN(test_query_next);
	T_RUN(test_reason);
	T_RUN(test_date);
	T_RUN(test_pct_encode);
	return T_DONE();
}
