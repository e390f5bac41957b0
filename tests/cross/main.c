/*
 * main.c - the cross-architecture scheduler test program: every shared case
 * (sched_cases.h) runs in a child process of its own, as the init task of a
 * freshly initialised scheduler on the shim platform, and gets one line
 * "case NAME: ok" or "case NAME: FAILED (...)", then a summary line
 * "N passed, N failed".  An argument runs only the case of that name.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../kernel/hal.h"
#include "../../sched/sched.h"
#include "fail_hook.h"
#include "sched_cases.h"

PLAIN_FAIL_HOOK(sched_case_fail)

static int run_case(int (*fn)(void))
{
	int status, err;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((err = sched_init(NULL)) < 0) {
			fprintf(stderr, "  sched_init: %d\n", err);
			_exit(2);
		}
		hal_irq_enable();
		_exit(fn() == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	int status;

#define RUN_CASE(name)							\
	if (argc < 2 || !strcmp(argv[1], #name)) {			\
		status = run_case(sched_case_##name);			\
		if (status == 0) {					\
			printf("case %s: ok\n", #name);			\
			passed++;					\
		} else {						\
			printf("case %s: FAILED (status %#x)\n", #name, status); \
			failed++;					\
		}							\
	}
	SCHED_CASES(RUN_CASE)
#undef RUN_CASE
	printf("%u passed, %u failed\n", passed, failed);
	return failed || !passed;
}
