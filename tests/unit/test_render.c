/*
 * The list renderer writes the same bytes as the tree renderer: for
 * images and aliases of every shape the store can send (odd characters,
 * control characters, multi-byte UTF-8, no or many properties and aliases,
 * zero, negative and far times, sizes past 2^63, properties out of
 * order or repeated), the text of
 * render_image_text / render_alias_text equals json_dumps() of
 * render_image / render_alias, and parses back as JSON. And the writer's
 * escapes on their own.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"
#include "frontend/jw.h"
#include "tests/t.h"

/* What render.c links against but the renderers under test never use. */
struct server_info_view fe_info;
const char *
tls_server_pem(void)
{
	return "";
}
const char *
tls_server_fp(void)
{
	return "";
}

static char *
dumps(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(doc);
	return s;
}

static const char *const strs[] = {
    "",
    "plain",
    "quote \" backslash \\ slash /",
    "tab\there\nnewline\rcr",
    "\x01\x02\x1f control \x7f del",
    "\b\f",
    "ünïcödé — 日本語 🐧",
    "{\"looks\":[\"like\",\"json\"]}",
    "x86_64",
};
#define NSTRS (sizeof(strs) / sizeof(strs[0]))

static uint64_t rnd = 88172645463325252ULL;
static uint64_t
next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

T_TEST(jw_escapes)
{
	struct jw w = {0};

	jw_str(&w, "a\"b\\c/d\n\t\x01\x1f é");
	jw_raw(&w, "", 1);
	T_EQ_STR(w.p, "\"a\\\"b\\\\c/d\\n\\t\\u0001\\u001F é\"");
	jw_reset(&w);
	jw_int(&w, INT64_MIN);
	jw_raw(&w, " ", 1);
	jw_int(&w, 0);
	jw_raw(&w, " ", 1);
	jw_uint(&w, UINT64_MAX);
	jw_raw(&w, "", 1);
	T_EQ_STR(w.p, "-9223372036854775808 0 18446744073709551615");
	jw_free(&w);
}

T_TEST(image_text_is_the_tree)
{
	static const int64_t secs[] = {0, 1, 1458040200, -1, 253402300799LL,
	    253402300800LL, INT64_MIN, INT64_MAX};
	static const int64_t nss[] = {
	    0, 1, 1458040200123456789LL, 1458040200000000000LL, -5, INT64_MAX};
	struct jw w = {0};
	int same = 0, parsed = 0;
	const int rounds = 3000;

	for (int r = 0; r < rounds; r++) {
		struct ipc_kv props[12], aliases[6];
		char fp[65];
		struct imsg_image_info m = {0};

		for (int i = 0; i < 64; i++)
			fp[i] = "0123456789abcdef"[next() % 16];
		fp[64] = '\0';
		m.fingerprint = fp;
		m.filename = (char *)strs[next() % NSTRS];
		m.architecture = (char *)strs[next() % NSTRS];
		m.type = r % 2 ? "container" : "virtual-machine";
		m.size = r % 7 == 0 ? UINT64_MAX - next() % 3 : next() % 100000;
		m.public = next() % 2;
		m.auto_update = next() % 2;
		m.cached = next() % 2;
		m.created_at = secs[next() % 8];
		m.expires_at = secs[next() % 8];
		m.uploaded_at = nss[next() % 6];
		m.last_used_at = nss[next() % 6];
		m.nproperties = (uint32_t)(next() % 12);
		for (uint32_t i = 0; i < m.nproperties; i++) {
			/* unsorted; distinct as the store's rows are, or
			 * (one round in five) repeated */
			static char keys[12][32];
			snprintf(keys[i], sizeof(keys[i]), "%s%u",
			    i % 3 ? "k" : "ключ", r % 5 ? i : i % 4);
			props[i].key = keys[i];
			props[i].value = (char *)strs[next() % NSTRS];
		}
		m.properties = props;
		m.naliases = (uint32_t)(next() % 6);
		for (uint32_t i = 0; i < m.naliases; i++) {
			aliases[i].key = (char *)strs[1 + next() % (NSTRS - 1)];
			aliases[i].value = (char *)strs[next() % NSTRS];
		}
		m.aliases = aliases;

		char *tree = dumps(render_image(&m));
		jw_reset(&w);
		render_image_text(&w, &m);
		jw_raw(&w, "", 1);
		if (tree && strcmp(tree, w.p) == 0)
			same++;
		else if (same + 1 == r + 1 || r < 3)
			printf("# tree: %s\n# text: %s\n", tree, w.p);
		json_t *back = json_loads(w.p, 0, NULL);
		if (back != NULL && json_is_object(back))
			parsed++;
		json_decref(back);
		free(tree);
	}
	T_EQ_INT(same, rounds);
	T_EQ_INT(parsed, rounds);
	jw_free(&w);
}

T_TEST(alias_text_is_the_tree)
{
	struct jw w = {0};
	int same = 0;

	for (size_t i = 0; i < NSTRS; i++)
		for (size_t j = 0; j < NSTRS; j++) {
			struct imsg_alias_info m = {.name = (char *)strs[i],
			    .description = (char *)strs[j],
			    .target = (char *)strs[(i + j) % NSTRS],
			    .type = "container"};
			char *tree = dumps(render_alias(&m));

			jw_reset(&w);
			render_alias_text(&w, &m);
			jw_raw(&w, "", 1);
			if (tree && strcmp(tree, w.p) == 0)
				same++;
			else
				printf("# tree: %s\n# text: %s\n", tree, w.p);
			free(tree);
		}
	T_EQ_INT(same, (int)(NSTRS * NSTRS));
	jw_free(&w);
}

/* The formatter as it was written with snprintf. */
static void
rfc3339_ref(const struct ts *t, char out[TS_STR_MAX])
{
	struct ts_tm tm;
	char frac[12] = "", zone[8] = "Z";
	int32_t off = t->off < 0 ? -t->off : t->off;
	size_t n;

	ts_fields(t, t->off, &tm);
	if (t->nsec != 0) {
		snprintf(frac, sizeof(frac), ".%09d", (int)t->nsec);
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	if (t->off != 0)
		snprintf(zone, sizeof(zone), "%c%02d:%02d",
		    t->off < 0 ? '-' : '+', (int)(off / 3600),
		    (int)(off % 3600 / 60));
	snprintf(out, TS_STR_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s",
	    (long long)tm.year, tm.mon, tm.day, tm.hour, tm.min, tm.sec, frac,
	    zone);
}

T_TEST(rfc3339_as_printf)
{
	static const int64_t edges[] = {0, -1, 1, 1458040200, -62135596800LL,
	    -62135596801LL, 253402300799LL, 253402300800LL, -100000000000LL,
	    1000000000000LL};
	static const int32_t nsecs[] = {
	    0, 1, 10, 100000000, 999999999, 120000000, 5};
	static const int32_t offs[] = {0, 3600, -3600, 19800, -34200, 50400};
	char a[TS_STR_MAX], b[TS_STR_MAX];
	int same = 0, n = 0;

	for (int r = 0; r < 20000; r++, n++) {
		struct ts t = {
		    .sec = r < 10 ? edges[r]
				  : (int64_t)(next() % 600000000000ULL) -
					300000000000LL,
		    .nsec = nsecs[next() % 7],
		    .off = offs[next() % 6]};

		ts_rfc3339(&t, a);
		rfc3339_ref(&t, b);
		if (strcmp(a, b) == 0)
			same++;
		else if (n - same < 4)
			printf(
			    "# %lld: %s, printf: %s\n", (long long)t.sec, a, b);
	}
	T_EQ_INT(same, n);
}

int
main(void)
{
	T_RUN(rfc3339_as_printf);
	T_RUN(jw_escapes);
	T_RUN(image_text_is_the_tree);
	T_RUN(alias_text_is_the_tree);
	return T_DONE();
}
