/*
 * fail_hook.h - the failure hook of the test programs that run without
 * Criterion: the cross-architecture scheduler cases (cross/main.c) and the
 * stress scenarios (sched_stress_main.c), in the ThreadSanitizer build and
 * for other architectures.
 * Plain C and libc only, so that it builds for every architecture.
 */
#ifndef K23_TESTS_CROSS_FAIL_HOOK_H
#define K23_TESTS_CROSS_FAIL_HOOK_H

#include <stdarg.h>
#include <stdio.h>

/*
 * Define `void name(const char *file, int line, const char *fmt, ...)`,
 * the hook through which a scenario reports a failed check: it prints
 * "  FILE:LINE: MESSAGE" on stderr.  The scenario then returns nonzero,
 * which the program counts as a failure.
 */
#define PLAIN_FAIL_HOOK(name)						\
	void name(const char *file, int line, const char *fmt, ...)	\
	{								\
		va_list ap;						\
									\
		fprintf(stderr, "  %s:%d: ", file, line);		\
		va_start(ap, fmt);					\
		vfprintf(stderr, fmt, ap);				\
		va_end(ap);						\
		fputc('\n', stderr);					\
	}

#endif /* K23_TESTS_CROSS_FAIL_HOOK_H */
