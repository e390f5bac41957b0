/*
 * bench.c - the guest half of bench/bench_metal.c, run by the test image
 * with case=bench: the scheduler's switch (two pinned tasks ping-ponging
 * with sched_task_yield(), as bench_sched.c's sched.switch) and the bare
 * register switch (sched_ctx_switch() between two contexts, its
 * host.switch_asm), both timed with the time CSR (hal_time_mono_ns()),
 * best of a few rounds.  Under TCG only their ratio means much.
 */
#include "../../kernel/hal.h"
#include "../../kernel/log.h"
#include "../../sched/ctx.h"
#include "../../sched/sched.h"
#include "bench.h"

#define ROUNDS		3
#define SWITCHES	200000

static struct sched_ctx ctx_a, ctx_b;
static _Alignas(16) unsigned char ctx_stack[16 << 10];

static _Noreturn void bounce(void *arg, void *pass)
{
	(void)arg;
	for (;;)
		pass = sched_ctx_switch(&ctx_b, &ctx_a, pass);
}

/* Per switch, in tenths of a nanosecond. */
static uint64_t bare_switch(void)
{
	uint64_t t0;

	sched_ctx_make(&ctx_b, ctx_stack + sizeof(ctx_stack), bounce, NULL);
	t0 = hal_time_mono_ns();
	for (unsigned i = 0; i < SWITCHES; i++)
		sched_ctx_switch(&ctx_a, &ctx_b, NULL);
	return (hal_time_mono_ns() - t0) * 10 / (2ull * SWITCHES);
}

static intptr_t yielder(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < SWITCHES / 2; i++)
		sched_task_yield();
	return 0;
}

static uint64_t sched_switch(void)
{
	struct sched_attr a = { .name = "yielder", .hart = 0, .pinned = true };
	sched_task_t t[2];
	uint64_t t0 = hal_time_mono_ns();

	/* init blocks in the first join: only the two yielders run. */
	if (sched_spawn(&t[0], yielder, NULL, &a) < 0 || sched_spawn(&t[1], yielder, NULL, &a) < 0)
		return 0;
	sched_join(t[0], NULL);
	sched_join(t[1], NULL);
	return (hal_time_mono_ns() - t0) * 10 / SWITCHES;
}

int metal_bench_switch(void)
{
	uint64_t best_sched = UINT64_MAX, best_bare = UINT64_MAX;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t s = sched_switch(), b = bare_switch();

		if (!s || !b)
			return 1;
		best_sched = s < best_sched ? s : best_sched;
		best_bare = b < best_bare ? b : best_bare;
	}
	kprintf("metal-bench: switch_ns %llu.%llu\n", (unsigned long long)(best_sched / 10),
		(unsigned long long)(best_sched % 10));
	kprintf("metal-bench: switch_asm_ns %llu.%llu\n", (unsigned long long)(best_bare / 10),
		(unsigned long long)(best_bare % 10));
	return 0;
}
