/*
 * test_sched.c - the scheduler on the hosted platform with real harts and
 * timer interrupts: preemption, stealing, idle harts sleeping, stack guard
 * pages, and misuse reported by name (sleeping on time: test_sched_timer.c,
 * alone in its binary so that no other test competes for the CPU).  The
 * architecture-independent unit tests are in tests/cross/sched_cases.c
 * (test_sched_cases.c here, and under qemu-user for AArch64 and riscv64).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <time.h>
#include "../kernel/frame.h"
#include "../kernel/kerr.h"
#include "../sched/chan.h"
#include "../sched/internal.h"
#include "../sched/sched.h"
#include "../sched/stack.h"
#include "../sched/sync.h"
#include "harness.h"

#define MS 1000000ull

/* -- Preemption ------------------------------------------------------------ */

static atomic_uint progress;
static atomic_bool spinner_done;

/* Never blocks: yields only when the preemption flag says so. */
static intptr_t spinner(void *arg)
{
	uint64_t polls = 0, yields = 0;

	(void)arg;
	while (atomic_load(&progress) < 5) {
		polls++;
		if (sched_should_yield()) {
			yields++;
			sched_task_yield();
		}
	}
	atomic_store(&spinner_done, true);
	return (intptr_t)yields;
}

static intptr_t stepper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		atomic_fetch_add(&progress, 1);
		sched_task_yield();
	}
	return 0;
}

static int preempt_body(void *arg)
{
	struct sched_attr a = { .name = "spinner", .hart = 1, .pinned = true };
	sched_task_t spin, step;
	struct sched_stats st;
	intptr_t yields;

	(void)arg;
	cr_assert_eq(sched_spawn(&spin, spinner, NULL, &a), 0);
	a.name = "stepper";
	cr_assert_eq(sched_spawn(&step, stepper, NULL, &a), 0);
	sched_join(step, NULL);
	sched_join(spin, &yields);
	sched_stats(1, &st);
	cr_assert(atomic_load(&spinner_done));
	cr_assert_geq(yields, 4, "the spinner yielded %ld times", (long)yields);
	cr_assert_geq(st.preempts, 4, "hart 1 preempted %llu times", (unsigned long long)st.preempts);
	return 0;
}

Test(sched, spinning_task_is_preempted_through_the_poll)
{
	harness_boot(2, 64u << 20, preempt_body);
}

/* -- Stealing and idling --------------------------------------------------- */

static atomic_uint ran_on[HAL_MAX_HARTS];

static intptr_t busy_2ms(void *arg)
{
	uint64_t end = sched_now() + 2 * MS;

	(void)arg;
	atomic_fetch_add(&ran_on[hal_hart_id()], 1);
	while (sched_now() < end)
		if (sched_should_yield())
			sched_task_yield();
	return 0;
}

static int steal_body(void *arg)
{
	sched_task_t t[32];
	struct sched_stats st;
	uint64_t steals = 0;

	(void)arg;
	/* All spawned on hart 0; the others have to steal to help. */
	for (int i = 0; i < 32; i++)
		cr_assert_eq(sched_spawn(&t[i], busy_2ms, NULL, NULL), 0);
	for (int i = 0; i < 32; i++)
		sched_join(t[i], NULL);
	for (unsigned h = 1; h < hal_hart_count(); h++) {
		sched_stats(h, &st);
		steals += st.steals;
		cr_assert_gt(atomic_load(&ran_on[h]), 0, "hart %u ran no task", h);
	}
	cr_assert_gt(steals, 0);
	return 0;
}

Test(sched, idle_harts_steal_queued_tasks)
{
	harness_boot(3, 64u << 20, steal_body);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int idle_body(void *arg)
{
	struct sched_stats before[3], after[3];
	uint64_t cpu0, cpu;

	(void)arg;
	for (unsigned h = 0; h < 3; h++)
		sched_stats(h, &before[h]);
	cpu0 = cpu_ns();
	sched_sleep(100 * MS);		/* every hart has nothing to do */
	cpu = cpu_ns() - cpu0;
	for (unsigned h = 0; h < 3; h++)
		sched_stats(h, &after[h]);
	/* Three harts spinning for 100 ms would burn 300 ms of CPU. */
	cr_assert_lt(cpu, 20 * MS, "idle machine used %llu us of CPU in 100 ms",
		     (unsigned long long)(cpu / 1000));
	cr_assert_gt(after[0].idle_waits, before[0].idle_waits);
	return 0;
}

Test(sched, idle_harts_wait_for_interrupts_without_spinning)
{
	harness_boot(3, 64u << 20, idle_body);
}

/* -- Stacks ---------------------------------------------------------------- */

static int frames_recycled_body(void *arg)
{
	struct sched_stack_stats st0, st1;
	struct frame_stats f0, f1;
	sched_task_t t;

	(void)arg;
	/* The first round maps stacks; later rounds must reuse them. */
	cr_assert_eq(sched_spawn(&t, busy_2ms, NULL, NULL), 0);
	sched_join(t, NULL);
	sched_stack_stats(&st0);
	frame_drain_caches();
	frame_stats(&f0);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(sched_spawn(&t, busy_2ms, NULL, &(struct sched_attr){ .hart = -1 }), 0);
		sched_join(t, NULL);
	}
	sched_stack_stats(&st1);
	frame_drain_caches();
	frame_stats(&f1);
	cr_assert_eq(st1.mapped, st0.mapped, "%llu stacks mapped, was %llu",
		     (unsigned long long)st1.mapped, (unsigned long long)st0.mapped);
	cr_assert_eq(f1.free, f0.free);
	return 0;
}

Test(sched, joined_stacks_are_reused_not_remapped, .timeout = 30)
{
	harness_boot(2, 64u << 20, frames_recycled_body);
}

static intptr_t nothing(void *arg)
{
	(void)arg;
	return 0;
}

static int limit_body(void *arg)
{
	struct sched_stack_stats st;
	sched_task_t t[8];
	int i, err = 0;

	(void)arg;
	sched_stack_stats(&st);
	sched_stack_set_limit(st.mapped + 4);
	for (i = 0; i < 8 && (err = sched_spawn(&t[i], nothing, NULL, NULL)) == 0; i++)
		;
	cr_assert_eq(i, 4, "spawned %d tasks under a limit of 4 new stacks", i);
	cr_assert_eq(err, -K_ENOMEM);
	while (i--)
		sched_join(t[i], NULL);
	return 0;
}

Test(sched, spawning_past_the_stack_limit_fails_cleanly)
{
	harness_boot(1, 64u << 20, limit_body);
}

/* -- Misuse, reported by name ---------------------------------------------- */

/* Each misuse runs in a child machine of its own: it ends with a panic. */
#define CHILD_MEMORY (32u << 20)

/* Recurses until depth reaches the (never reached) limit in arg. */
static intptr_t recurse_to(void *arg)
{
	volatile char pad[512];
	uintptr_t left = (uintptr_t)arg;

	pad[0] = (char)left;
	if (left == 0)
		return 0;
	return recurse_to((void *)(left - 1)) + pad[0];
}

static int overflow_body(void *arg)
{
	struct sched_attr a = { .name = "deep-recursion", .stack_size = 8192 };
	sched_task_t t;

	(void)arg;
	sched_spawn(&t, recurse_to, (void *)(uintptr_t)1000000, &a);
	sched_join(t, NULL);
	return 0;
}

Test(sched, stack_overflow_is_a_fault_naming_the_task)
{
	struct harness_outcome o;

	harness_boot_child(&o, 2, CHILD_MEMORY, overflow_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x\n%s",
		  o.status, o.out);
	cr_assert(strstr(o.out, "task 'deep-recursion'"), "%s", o.out);
	cr_assert(strstr(o.out, "overflowed its 8192-byte stack"), "%s", o.out);
}

static int join_twice_body(void *arg)
{
	struct sched_attr a = { .name = "joined-once" };
	sched_task_t t;

	(void)arg;
	sched_spawn(&t, nothing, NULL, &a);
	sched_join(t, NULL);
	sched_join(t, NULL);
	return 0;
}

Test(sched, joining_twice_panics_naming_the_task)
{
	struct harness_outcome o;

	harness_boot_child(&o, 2, CHILD_MEMORY, join_twice_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x\n%s",
		  o.status, o.out);
	cr_assert(strstr(o.out, "sched_join: task 'joined-once'"), "%s", o.out);
	cr_assert(strstr(o.out, "joined twice"), "%s", o.out);
}

static int stale_join_body(void *arg)
{
	sched_task_t t, u;

	(void)arg;
	sched_spawn(&t, nothing, NULL, NULL);
	sched_join(t, NULL);
	/* The record is reused by the next task of the same stack size. */
	sched_spawn(&u, nothing, NULL, NULL);
	sched_join(t, NULL);
	return 0;
}

Test(sched, joining_a_reused_handle_panics_as_stale)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, CHILD_MEMORY, stale_join_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x\n%s",
		  o.status, o.out);
	cr_assert(strstr(o.out, "sched_join: stale handle"), "%s", o.out);
}

/*
 * A second joiner that passed a look at the handle and then had to wait for
 * the task's join lock while the task was joined and its record reused by a
 * new task must still panic, not join the new task.  The test holds the
 * join lock (white box) to make that wait as long as it needs to be.
 */
static atomic_bool late_started;

static intptr_t late_joiner(void *arg)
{
	atomic_store(&late_started, true);
	sched_join(*(sched_task_t *)arg, NULL);
	return 0;
}

static int join_across_reuse_body(void *arg)
{
	/* A bigger stack than the others: the late joiner must not take the
	 * record it is about to join. */
	struct sched_attr first = { .name = "first-life" };
	struct sched_attr late = { .name = "late-joiner", .hart = 1, .pinned = true,
				   .stack_size = 2 * SCHED_STACK_DEFAULT };
	struct sched_attr second = { .name = "second-life" };
	sched_task_t t, j, u;
	struct sched_task *rec;
	hal_irqstate_t s;
	uint64_t until;

	(void)arg;
	if (sched_spawn(&t, nothing, NULL, &first))
		return 1;
	sched_join(t, NULL);
	rec = t.task;
	s = spin_lock_irqsave(&rec->join_lock);
	if (sched_spawn(&j, late_joiner, &t, &late))
		return 1;
	while (!atomic_load(&late_started))
		cpu_relax();
	for (until = hal_time_mono_ns() + 20 * MS; hal_time_mono_ns() < until; )
		cpu_relax();
	/* This hart's stack cache hands the record out again. */
	if (sched_spawn(&u, nothing, NULL, &second) || u.task != rec)
		return 1;
	spin_unlock_irqrestore(&rec->join_lock, s);
	sched_join(j, NULL);
	sched_join(u, NULL);
	return 0;
}

Test(sched, a_second_join_waiting_across_the_reuse_of_the_record_panics)
{
	struct harness_outcome o;

	harness_boot_child(&o, 2, CHILD_MEMORY, join_across_reuse_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x\n%s",
		  o.status, o.out);
	/* The late joiner panics: normally it finds the task joined; if its
	 * hart was held up past the reuse, it finds the handle stale. */
	cr_assert(strstr(o.out, "joined twice (now by 'late-joiner')") ||
		  strstr(o.out, "sched_join: stale handle"), "%s", o.out);
}

static intptr_t closed_sender(void *arg)
{
	sched_handle_t *h = arg;
	char m = 'x';

	return sched_chan_send(h[0], &m, 1);
}

static int closed_send_body(void *arg)
{
	struct sched_attr a = { .name = "late-sender" };
	sched_handle_t h[2];
	sched_task_t t;
	intptr_t err;

	(void)arg;
	cr_assert_eq(sched_chan_create(4, 8, &h[0], &h[1]), 0);
	cr_assert_eq(sched_chan_close(h[1]), 0);
	cr_assert_eq(sched_spawn(&t, closed_sender, h, &a), 0);
	sched_join(t, &err);
	cr_assert_eq(err, -K_EPIPE);
	return 0;
}

Test(sched, sending_on_a_closed_channel_is_an_error_naming_the_task)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, CHILD_MEMORY, closed_send_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, "status %#x\n%s",
		  o.status, o.out);
	cr_assert(strstr(o.out, "task 'late-sender' sent on handle"), "%s", o.out);
	cr_assert(strstr(o.out, "receiving end is closed"), "%s", o.out);
}

static sched_handle_t silent_tx, silent_rx;

static intptr_t waits_forever(void *arg)
{
	char m;
	size_t len;

	(void)arg;
	return sched_chan_recv(silent_rx, &m, 1, &len);
}

static int deadlock_body(void *arg)
{
	struct sched_attr a = { .name = "stuck" };
	sched_task_t t;

	(void)arg;
	cr_assert_eq(sched_deterministic(1), 0);
	cr_assert_eq(sched_chan_create(1, 1, &silent_tx, &silent_rx), 0);
	cr_assert_eq(sched_spawn(&t, waits_forever, NULL, &a), 0);
	sched_join(t, NULL);
	return 0;
}

Test(sched, deterministic_deadlock_panics_instead_of_hanging)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, CHILD_MEMORY, deadlock_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x\n%s",
		  o.status, o.out);
	cr_assert(strstr(o.out, "deterministic mode: deadlock"), "%s", o.out);
}
