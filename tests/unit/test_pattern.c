/*
 * Filter value patterns (frontend/pattern.c): the subset of regular
 * expressions LXD users write, matched in linear time; everything else is
 * refused so that the caller compares it as text.
 */
#include <string.h>

#include "frontend/pattern.h"
#include "tests/t.h"

static const struct {
	const char *pat, *text;
	int match;
} cases[] = {
    {"^ubuntu$", "ubuntu", 1},
    {"^ubuntu$", "Ubuntu", 1}, /* case-insensitive, as LXD's (?i) */
    {"^ubuntu$", "ubuntu2", 0},
    {"^ubu", "ubuntu", 1},
    {"tu$", "ubuntu", 1},
    {"ntu", "ubuntu", 1}, /* no anchor: anywhere */
    {"^u.untu$", "ubuntu", 1},
    {"^.*$", "", 1},
    {"^.+$", "", 0},
    {"^a*b$", "aaab", 1},
    {"^a*b$", "b", 1},
    {"^a+b$", "b", 0},
    {"^ab?c$", "ac", 1},
    {"^ab?c$", "abbc", 0},
    {"^[0-9]+\\.[0-9]+$", "22.04", 1},
    {"^[0-9]+\\.[0-9]+$", "22x04", 0},
    {"^[^x]*$", "abc", 1},
    {"^[^x]*$", "axc", 0},
    {"^[a-c]+$", "ABC", 1},
    {"^x86_64$", "x86_64", 1},
    {"^\\$$", "$", 1},
    {"^a.*a.*a.*a.*a.*a.*b$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
};

static const char *const refused[] = {"(a|b)", "a{2}", "a|b",
    "(((a{0,99}){0,99}){0,99}){0,9}", "\\1", "[abc", "*a", "a**", "^^a",
    "[z-a]", "\\"};

T_TEST(matches)
{
	struct pattern p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pattern_compile(&p, cases[i].pat) != 0) {
			T_FAIL("%s: refused", cases[i].pat);
			continue;
		}
		T_EXPECT(!(pattern_match(&p, cases[i].text) != cases[i].match),
		    "%s on \"%s\": expected %d", cases[i].pat, cases[i].text,
		    cases[i].match);
	}
}

T_TEST(refuses_outside_the_subset)
{
	struct pattern p;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		T_EXPECT(!(pattern_compile(&p, refused[i]) != -1),
		    "%s: accepted", refused[i]);
}

T_TEST(bounded)
{
	static char big[PATTERN_MAX * 2 + 1], text[100001];
	struct pattern p;

	memset(big, 'a', sizeof(big) - 1);
	T_CHECK(pattern_compile(&p, big) == -1); /* too many atoms */
	memset(big, 0, sizeof(big));
	for (int i = 0; i < PATTERN_MAX; i++)
		strcat(big, i % 2 ? "a" : ".*");
	T_CHECK(pattern_compile(&p, big) == 0); /* exactly the limit */
	memset(text, 'a', 1000);
	T_EQ_INT(pattern_match(&p, text), 1);
	/* The classic blow-up of backtracking matchers is linear here. */
	T_CHECK(pattern_compile(&p, "^(.*)*$") == -1);
	T_CHECK(pattern_compile(&p, "^a*a*a*a*a*a*a*a*a*a*a*a*a*a*b$") == 0);
	memset(text, 'a', sizeof(text) - 1);
	T_EQ_INT(pattern_match(&p, text), 0);
}

int
main(void)
{
	T_RUN(matches);
	T_RUN(refuses_outside_the_subset);
	T_RUN(bounded);
	return T_DONE();
}
