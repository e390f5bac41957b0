/*
 * test_sched_stress.c - the scheduler stress scenarios (sched_stress.c)
 * under Criterion.  tests/run.sh also runs them in the ThreadSanitizer
 * build through sched_stress_main.c.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdio.h>
#include "sched_harness.h"
#include "sched_stress.c"

void sched_stress_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_log_error("%s:%d: %s", file, line, msg);
}

Test(sched_stress, thousands_of_tasks_on_all_harts_deliver_every_message_once, .timeout = 240)
{
	sched_boot(SCHED_STRESS_HARTS, SCHED_STRESS_MEMORY, sched_stress_messages, NULL);
}

Test(sched_stress, concurrent_spawn_join_churn_recycles_stacks, .timeout = 240)
{
	sched_boot(SCHED_STRESS_HARTS, SCHED_STRESS_MEMORY, sched_stress_churn, NULL);
}
