/*
 * Minimal table-friendly unit test harness: every test binary ends with the
 * line "N passed, N failed" that tests/run adds up.
 *
 *	T_TEST(name) { T_CHECK(x == 1); T_EQ_STR(s, "a"); }
 *	int main(void) { T_RUN(name); return T_DONE(); }
 *
 * A test passes when it made at least one check and none of them failed; a
 * failed check prints where, and a test that checked nothing fails.
 */
#ifndef IMGD_TESTS_T_H
#define IMGD_TESTS_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_cur_failed, t_cur_checks;
static const char *t_cur_name;

#define T_TEST(name) static void name(void)

#define T_RUN(name)                                                            \
	do {                                                                   \
		t_cur_name = #name;                                            \
		t_cur_failed = 0;                                              \
		t_cur_checks = 0;                                              \
		name();                                                        \
		if (t_cur_checks == 0) {                                       \
			t_cur_failed = 1;                                      \
			printf("# %s: made no check\n", #name);                \
		}                                                              \
		if (t_cur_failed) {                                            \
			t_failed++;                                            \
			printf("not ok - %s\n", #name);                        \
		} else {                                                       \
			t_passed++;                                            \
			printf("ok - %s\n", #name);                            \
		}                                                              \
		fflush(stdout);                                                \
	} while (0)

#define T_FAIL(...)                                                            \
	do {                                                                   \
		t_cur_failed = 1;                                              \
		printf("# %s:%d: %s: ", __FILE__, __LINE__,                    \
		    t_cur_name ? t_cur_name : "?");                            \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

/* A check with its own message: T_EXPECT(ok, "case %zu: ...", i). */
#define T_EXPECT(ok, ...)                                                      \
	do {                                                                   \
		t_cur_checks++;                                                \
		if (!(ok))                                                     \
			T_FAIL(__VA_ARGS__);                                   \
	} while (0)

#define T_CHECK(c)                                                             \
	do {                                                                   \
		t_cur_checks++;                                                \
		if (!(c))                                                      \
			T_FAIL("check failed: %s", #c);                        \
	} while (0)

#define T_EQ_INT(a, b)                                                         \
	do {                                                                   \
		t_cur_checks++;                                                \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);        \
		if (t_a_ != t_b_)                                              \
			T_FAIL("%s == %lld, expected %s == %lld", #a, t_a_,    \
			    #b, t_b_);                                         \
	} while (0)

#define T_EQ_STR(a, b)                                                         \
	do {                                                                   \
		t_cur_checks++;                                                \
		const char *t_a_ = (a), *t_b_ = (b);                           \
		if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)   \
			T_FAIL("%s == \"%s\", expected \"%s\"", #a,            \
			    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");   \
	} while (0)

/* Substring check, for error messages. */
#define T_CONTAINS(hay, needle)                                                \
	do {                                                                   \
		t_cur_checks++;                                                \
		const char *t_h_ = (hay), *t_n_ = (needle);                    \
		if (t_h_ == NULL || strstr(t_h_, t_n_) == NULL)                \
			T_FAIL("\"%s\" does not contain \"%s\"",               \
			    t_h_ ? t_h_ : "(null)", t_n_);                     \
	} while (0)

#define T_DONE()                                                               \
	(printf("%d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

#endif
