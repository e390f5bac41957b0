/*
 * sched_stress_main.c - the stress scenarios (sched_stress.c) as a plain
 * program, for the ThreadSanitizer build that Criterion cannot run in
 * (see sched_stress.c).  Each scenario boots its own kernel in a child
 * process; one line per scenario, then "N passed, N failed" for
 * tests/run.sh.  A data race makes TSan end the child with status 66.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cross/fail_hook.h"
#include "sched_stress.c"

PLAIN_FAIL_HOOK(sched_stress_fail)

static int run(int (*scenario)(void *))
{
	struct hosted_config cfg;
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		hosted_config_default(&cfg);
		cfg.harts = SCHED_STRESS_HARTS;
		cfg.memory = SCHED_STRESS_MEMORY;
		cfg.quiet = true;
		_exit(hosted_run(&cfg, scenario, NULL) == 0 ? 0 : 1);
	}
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

int main(void)
{
	static const struct {
		const char *name;
		int (*fn)(void *);
	} scenarios[] = {
		{ "thousands_of_tasks_on_all_harts_deliver_every_message_once", sched_stress_messages },
		{ "concurrent_spawn_join_churn_recycles_stacks", sched_stress_churn },
	};
	unsigned passed = 0, failed = 0;

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		int status = run(scenarios[i].fn);

		printf("stress %s: %s (status %#x)\n", scenarios[i].name,
		       status == 0 ? "ok" : "FAILED", status);
		if (status == 0)
			passed++;
		else
			failed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed != 0;
}
