/*
 * test_harts.c - the hosted platform's harts: they all start, take IPIs,
 * count their own timer interrupts, and hold interrupts while disabled.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include "../kernel/hal.h"
#include "../kernel/smp.h"
#include "../kernel/trap.h"
#include "harness.h"

#define MEMORY (32u << 20)

static uint64_t timer_count(unsigned hart)
{
	struct trap_counts c;

	trap_counts(hart, &c);
	return c.timer;
}

static uint64_t soft_count(unsigned hart)
{
	struct trap_counts c;

	trap_counts(hart, &c);
	return c.soft;
}

static atomic_uint ran_on[HAL_MAX_HARTS];

static void mark(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran_on[hal_hart_id()], 1);
}

static int every_hart_runs_a_call(void *arg)
{
	(void)arg;
	cr_assert_eq(hal_hart_count(), 4);
	smp_call_all(mark, NULL);
	for (unsigned h = 0; h < 4; h++)
		cr_assert_eq(atomic_load(&ran_on[h]), 1, "hart %u ran the call %u times",
			     h, atomic_load(&ran_on[h]));
	return 0;
}

Test(harts, all_harts_start_and_run_calls)
{
	harness_boot(4, MEMORY, every_hart_runs_a_call);
}

/* Hart h takes h + 2 timer interrupts of its own, 1 ms apart. */
static void tick_own_timer(void *arg)
{
	unsigned me = hal_hart_id();
	uint64_t start = timer_count(me);
	uint64_t *seen = arg;

	for (unsigned i = 0; i < me + 2; i++) {
		uint64_t before = timer_count(me);
		hal_irqstate_t s;

		hal_timer_set(hal_time_mono_ns() + 1000000);
		while (timer_count(me) == before) {
			s = hal_irq_save();
			hal_idle();
			hal_irq_restore(s);
		}
	}
	seen[me] = timer_count(me) - start;
}

static int timers_are_per_hart(void *arg)
{
	uint64_t seen[HAL_MAX_HARTS] = { 0 };

	(void)arg;
	smp_call_all(tick_own_timer, seen);
	for (unsigned h = 0; h < hal_hart_count(); h++)
		cr_assert_eq(seen[h], h + 2, "hart %u counted %llu timer interrupts, armed %u",
			     h, (unsigned long long)seen[h], h + 2);
	return 0;
}

Test(harts, each_hart_counts_its_own_timer_interrupts)
{
	harness_boot(3, MEMORY, timers_are_per_hart);
}

/*
 * Wait until no hart has taken an IPI for 20 ms: the scheduler IPIs idle
 * harts of its own accord (a task spawned at boot, a thief to wake), and
 * on a loaded host such an IPI can arrive late enough to be counted as
 * the test's.  *before gets each hart's count.
 */
static void quiesce(uint64_t *before)
{
	uint64_t give_up = hal_time_mono_ns() + 2000000000ull, calm;

	do {
		bool moved = false;

		for (unsigned h = 0; h < hal_hart_count(); h++)
			before[h] = soft_count(h);
		calm = hal_time_mono_ns() + 20000000ull;
		while (!moved && hal_time_mono_ns() < calm)
			for (unsigned h = 0; h < hal_hart_count(); h++)
				moved |= soft_count(h) != before[h];
		if (!moved)
			return;
	} while (hal_time_mono_ns() < give_up);
}

static int ipis_reach_their_target(void *arg)
{
	(void)arg;
	for (unsigned target = 1; target < hal_hart_count(); target++) {
		uint64_t before[HAL_MAX_HARTS];
		uint64_t give_up;

		quiesce(before);
		give_up = hal_time_mono_ns() + 2000000000ull;
		hal_ipi_send(target);
		while (soft_count(target) == before[target] && hal_time_mono_ns() < give_up)
			;
		cr_assert_eq(soft_count(target), before[target] + 1,
			     "hart %u took %llu IPIs", target,
			     (unsigned long long)(soft_count(target) - before[target]));
		for (unsigned h = 1; h < hal_hart_count(); h++)
			if (h != target)
				cr_assert_eq(soft_count(h), before[h],
					     "IPI for hart %u reached hart %u", target, h);
	}
	return 0;
}

Test(harts, ipi_wakes_only_its_target)
{
	harness_boot(4, MEMORY, ipis_reach_their_target);
}

static int disabled_timer_waits_for_enable(void *arg)
{
	uint64_t before = timer_count(0), end;
	hal_irqstate_t s;

	(void)arg;
	s = hal_irq_save();
	cr_assert(!hal_irq_enabled());
	hal_timer_set(hal_time_mono_ns());	/* due now */
	end = hal_time_mono_ns() + 20000000;
	while (hal_time_mono_ns() < end)
		;
	cr_assert_eq(timer_count(0), before, "timer taken with interrupts disabled");
	hal_irq_restore(s);
	cr_assert(hal_irq_enabled());
	cr_assert_eq(timer_count(0), before + 1, "pending timer not taken on enable");
	return 0;
}

Test(harts, disabled_interrupts_stay_pending_until_enabled)
{
	harness_boot(1, MEMORY, disabled_timer_waits_for_enable);
}

static int cancelled_timer_stays_quiet(void *arg)
{
	uint64_t before = timer_count(0), end;

	(void)arg;
	hal_timer_set(hal_time_mono_ns() + 5000000);
	hal_timer_set(HAL_TIMER_OFF);
	end = hal_time_mono_ns() + 20000000;
	while (hal_time_mono_ns() < end)
		;
	cr_assert_eq(timer_count(0), before);
	return 0;
}

Test(harts, cancelled_timer_does_not_fire)
{
	harness_boot(1, MEMORY, cancelled_timer_stays_quiet);
}
