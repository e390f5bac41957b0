/*
 * test_sched_cases.c - the architecture-independent scheduler unit tests
 * (tests/cross/sched_cases.c), each run natively as the init task of a
 * hosted kernel with two harts.  test_sched_cross.c runs the same bodies
 * on AArch64 and riscv64 under qemu-user.
 */
#include <criterion/criterion.h>
#include "cross/sched_cases.c"
#include "harness.h"

HARNESS_FAIL_HOOK(sched_case_fail)

#define HOST_CASE(name)						\
	static int run_##name(void *arg)			\
	{							\
		(void)arg;					\
		return sched_case_##name();			\
	}							\
	Test(sched_cases, name)					\
	{							\
		harness_boot(2, 64u << 20, run_##name);		\
	}
SCHED_CASES(HOST_CASE)
