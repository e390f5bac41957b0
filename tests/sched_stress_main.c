/*
 * sched_stress_main.c - the stress scenarios (sched_stress.c) as a plain
 * program: for the ThreadSanitizer build that Criterion cannot run in (see
 * sched_stress.c), and, over tests/cross/shim.c, for other architectures
 * under qemu-user (build/cross/sched_stress-ARCH).  Each scenario boots
 * its own kernel in a child process; one line per scenario, then
 * "N passed, N failed" for tests/run.sh.  A data race makes TSan end the
 * child with status 66.
 *
 * Usage: sched_stress [SECONDS]: run the wake-up scenario for SECONDS
 * (default: half a second).  A scenario still running after its time
 * plus SCHED_STRESS_TIMEOUT_S is killed and fails: a lost wake-up does
 * not crash, it leaves harts asleep with work queued.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cross/fail_hook.h"
#include "sched_stress.c"

#define SCHED_STRESS_TIMEOUT_S	120

PLAIN_FAIL_HOOK(sched_stress_fail)

/* Wait for pid for up to timeout_s seconds, then kill it.  Its status, or
 * -1 if it had to be killed. */
static int wait_within(pid_t pid, unsigned timeout_s)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status;

	for (unsigned ms = 0; ms < timeout_s * 1000; ms += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("  timed out after %u s\n", timeout_s);
	return -1;
}

static int run(int (*scenario)(void *), void *arg, unsigned timeout_s)
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
		status = hosted_run(&cfg, scenario, arg);
		fflush(stdout);
		_exit(status == 0 ? 0 : 1);
	}
	return wait_within(pid, timeout_s);
}

int main(int argc, char **argv)
{
	uint64_t wake_ns = WAKE_DEFAULT_NS;
	const struct {
		const char *name;
		int (*fn)(void *);
		void *arg;
	} scenarios[] = {
		{ "thousands_of_tasks_on_all_harts_deliver_every_message_once",
		  sched_stress_messages, NULL },
		{ "concurrent_spawn_join_churn_recycles_stacks", sched_stress_churn, NULL },
		{ "harts_going_idle_are_woken_by_every_pass", sched_stress_wakeups, &wake_ns },
	};
	unsigned passed = 0, failed = 0;

	if (argc > 1)
		wake_ns = (uint64_t)(strtod(argv[1], NULL) * 1e9);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		unsigned timeout_s = SCHED_STRESS_TIMEOUT_S;
		int status;

		if (scenarios[i].arg == &wake_ns)
			timeout_s += (unsigned)(wake_ns / 1000000000ull);
		status = run(scenarios[i].fn, scenarios[i].arg, timeout_s);
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
