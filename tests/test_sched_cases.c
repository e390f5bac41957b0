/*
 * test_sched_cases.c - the architecture-independent scheduler unit tests
 * (tests/cross/sched_cases.c), each run natively as the init task of a
 * hosted kernel with two harts.  test_sched_cross.c runs the same bodies
 * on AArch64 and riscv64 under qemu-user.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdio.h>
#include "cross/sched_cases.c"
#include "sched_harness.h"

void sched_case_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_log_error("%s:%d: %s", file, line, msg);
}

#define HOST_CASE(name)						\
	static int run_##name(void *arg)			\
	{							\
		(void)arg;					\
		return sched_case_##name();			\
	}							\
	Test(sched_cases, name)					\
	{							\
		sched_boot(2, 64u << 20, run_##name, NULL);	\
	}
SCHED_CASES(HOST_CASE)
