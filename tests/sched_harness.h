/*
 * sched_harness.h - what the scheduler tests share: booting the kernel
 * around a test body, and booting a child that is expected to panic, with
 * its output captured.
 */
#ifndef K23_TESTS_SCHED_HARNESS_H
#define K23_TESTS_SCHED_HARNESS_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../hosted/hosted.h"

/* Boot `harts` harts and run body(arg) as the init task; 0 or asserts. */
static inline void sched_boot(unsigned harts, uint64_t memory, int (*body)(void *), void *arg)
{
	struct hosted_config cfg;

	hosted_config_default(&cfg);
	cfg.harts = harts;
	cfg.memory = memory;
	cfg.quiet = true;
	cr_assert_eq(hosted_run(&cfg, body, arg), 0);
}

struct sched_outcome {
	int status;		/* waitpid() status */
	char out[32768];	/* what the child printed on stdout and stderr */
};

/* Boot in a child process (a panic ends the machine), capturing its output. */
static inline void sched_boot_child(struct sched_outcome *o, unsigned harts,
				    int (*body)(void *))
{
	int fds[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct hosted_config cfg;

		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		hosted_config_default(&cfg);
		cfg.harts = harts;
		cfg.memory = 32u << 20;
		cfg.quiet = true;
		_exit(hosted_run(&cfg, body, NULL));
	}
	close(fds[1]);
	while ((n = read(fds[0], o->out + len, sizeof(o->out) - 1 - len)) > 0)
		len += (size_t)n;
	o->out[len] = 0;
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &o->status, 0), pid);
}

#endif /* K23_TESTS_SCHED_HARNESS_H */
