/*
 * harness.h - booting the kernel from a Criterion test: around a test body
 * in the test's own process, or in a child process when the body is meant
 * to stop the machine (a panic ends the process), so that the test can
 * examine how the child ended and what it printed.  Plus the failure hook
 * of the scenario files that also run without Criterion.
 *
 * Every tests/test_*.c is a binary of its own, hence static inline.
 */
#ifndef K23_TESTS_HARNESS_H
#define K23_TESTS_HARNESS_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../hosted/hosted.h"

/* The host's monotonic clock in ms, for tests that bound how long
 * something took. */
static inline uint64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The default machine (quiet: no banner) with `harts` harts and `memory`
 * bytes of RAM. */
static inline struct hosted_config harness_config(unsigned harts, uint64_t memory)
{
	struct hosted_config cfg;

	hosted_config_default(&cfg);
	cfg.harts = harts;
	cfg.memory = memory;
	return cfg;
}

/* Boot the machine cfg describes and run body(NULL) on hart 0 once the
 * kernel is up; the body returns 0 or asserts.  Once per test (hosted_run()
 * boots once per process). */
static inline void harness_run(const struct hosted_config *cfg, int (*body)(void *))
{
	cr_assert_eq(hosted_run(cfg, body, NULL), 0);
}

/* harness_run() on the default machine with `harts` harts and `memory`
 * bytes of RAM. */
static inline void harness_boot(unsigned harts, uint64_t memory, int (*body)(void *))
{
	struct hosted_config cfg = harness_config(harts, memory);

	harness_run(&cfg, body);
}

/* How a machine booted by harness_boot_child() ended. */
struct harness_outcome {
	int status;		/* waitpid() status */
	char out[32768];	/* its stdout and stderr, NUL-terminated */
};

/*
 * Boot `harts` harts with `memory` bytes of RAM in a child process, run
 * body(NULL) there, and wait for the child; its exit status (hosted_run's
 * result, or a panic's) goes to o->status and what it printed on stdout and
 * stderr to o->out, cut at sizeof(o->out) - 1 bytes.
 */
static inline void harness_boot_child(struct harness_outcome *o, unsigned harts,
				      uint64_t memory, int (*body)(void *))
{
	int fds[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct hosted_config cfg = harness_config(harts, memory);

		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		_exit(hosted_run(&cfg, body, NULL));
	}
	close(fds[1]);
	/* Read to the end even past a full buffer, so a chatty child never
	 * blocks on the pipe; what does not fit is dropped. */
	for (;;) {
		char spill[4096];
		size_t room = sizeof(o->out) - 1 - len;

		n = room ? read(fds[0], o->out + len, room) : read(fds[0], spill, sizeof(spill));
		if (n <= 0)
			break;
		if (room)
			len += (size_t)n;
	}
	o->out[len] = 0;
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &o->status, 0), pid);
}

/*
 * Define `void name(const char *file, int line, const char *fmt, ...)`,
 * the hook through which a scenario file shared with a plain program
 * (cross/sched_cases.c, sched_stress.c) reports a failed check: it logs
 * "FILE:LINE: MESSAGE" as a Criterion error.  The scenario then returns
 * nonzero, which fails the test.
 */
#define HARNESS_FAIL_HOOK(name)						\
	void name(const char *file, int line, const char *fmt, ...)	\
	{								\
		char msg[512];						\
		va_list ap;						\
									\
		va_start(ap, fmt);					\
		vsnprintf(msg, sizeof(msg), fmt, ap);			\
		va_end(ap);						\
		cr_log_error("%s:%d: %s", file, line, msg);		\
	}

#endif /* K23_TESTS_HARNESS_H */
