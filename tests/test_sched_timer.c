/*
 * test_sched_timer.c - sleeping tasks wake on time, within one tick.  Alone
 * in its binary: Criterion runs the tests of one binary in parallel, and a
 * neighbour competing for the machine's two cores would make the hart
 * threads, not the scheduler, late.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "../sched/sched.h"
#include "harness.h"

#define MS 1000000ull

#define SLEEPERS 40

static int64_t lateness[SLEEPERS];

static intptr_t sleeper(void *arg)
{
	intptr_t i = (intptr_t)arg;
	uint64_t deadline = sched_now() + (uint64_t)(1 + i % 7) * MS;

	sched_sleep_until(deadline);
	lateness[i] = (int64_t)(sched_now() - deadline);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* One round of sleepers: the median lateness, every sleeper on time or late. */
static int64_t round_median(void)
{
	sched_task_t t[SLEEPERS];

	for (intptr_t i = 0; i < SLEEPERS; i++)
		cr_assert_eq(sched_spawn(&t[i], sleeper, (void *)i, NULL), 0);
	for (int i = 0; i < SLEEPERS; i++)
		sched_join(t[i], NULL);
	for (int i = 0; i < SLEEPERS; i++)
		cr_assert_geq(lateness[i], 0, "sleeper %d woke %lld ns early", i,
			      (long long)lateness[i]);
	qsort(lateness, SLEEPERS, sizeof(lateness[0]), cmp_i64);
	return lateness[SLEEPERS / 2];
}

static int sleep_body(void *arg)
{
	int64_t best = INT64_MAX;

	(void)arg;
	/*
	 * Within one tick.  The median, not the maximum, and the best of up
	 * to five rounds: a shared machine deschedules a hart thread now and
	 * then, which no kernel can undo, but a kernel that is late every
	 * time fails all five.
	 */
	for (int r = 0; r < 5 && best > (int64_t)SCHED_TICK_NS; r++) {
		int64_t m = round_median();

		best = m < best ? m : best;
	}
	cr_assert_leq(best, (int64_t)SCHED_TICK_NS, "median lateness %lld ns, more than a tick",
		      (long long)best);
	return 0;
}

Test(sched, sleepers_wake_after_their_deadline_within_a_tick)
{
	harness_boot(2, 64u << 20, sleep_body);
}

