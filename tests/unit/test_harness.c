/*
 * The unit harness itself: a test that makes no check fails, so a test
 * whose checks were lost (an early return, a loop over nothing) cannot
 * pass quietly.
 */
#include "tests/t.h"

static int loop_count; /* 0: the loop below runs no check */

T_TEST(checks_nothing)
{
	for (int i = 0; i < loop_count; i++)
		T_CHECK(i >= 0);
}

static int empty_failed, empty_passed;

T_TEST(a_test_without_checks_fails)
{
	T_EQ_INT(empty_failed, 1);
	T_EQ_INT(empty_passed, 0);
}

int
main(void)
{
	printf("# the next test must fail: it makes no check\n");
	T_RUN(checks_nothing);
	empty_failed = t_failed;
	empty_passed = t_passed;
	t_failed = t_passed = 0; /* that failure was the point */
	T_RUN(a_test_without_checks_fails);
	return T_DONE();
}
