/*
 * test_sched_stress.c - the scheduler stress scenarios (sched_stress.c)
 * under Criterion.  tests/run.sh also runs them in the ThreadSanitizer
 * build through sched_stress_main.c.
 */
#include <criterion/criterion.h>
#include "harness.h"
#include "sched_stress.c"

HARNESS_FAIL_HOOK(sched_stress_fail)

Test(sched_stress, thousands_of_tasks_on_all_harts_deliver_every_message_once, .timeout = 240)
{
	harness_boot(SCHED_STRESS_HARTS, SCHED_STRESS_MEMORY, sched_stress_messages);
}

Test(sched_stress, concurrent_spawn_join_churn_recycles_stacks, .timeout = 240)
{
	harness_boot(SCHED_STRESS_HARTS, SCHED_STRESS_MEMORY, sched_stress_churn);
}

Test(sched_stress, harts_going_idle_are_woken_by_every_pass, .timeout = 240)
{
	harness_boot(SCHED_STRESS_HARTS, SCHED_STRESS_MEMORY, sched_stress_wakeups);
}
