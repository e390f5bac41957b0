/*
 * sched_cases.c - the scheduler unit tests shared by every architecture
 * (see sched_cases.h).  Only the scheduler's own interface is used here, so
 * the same bodies run on the hosted platform and on the cross shim.
 */
#include <stdatomic.h>
#include <stdint.h>
#include "../../kernel/kerr.h"
#include "../../sched/chan.h"
#include "../../sched/ctx.h"
#include "../../sched/internal.h"
#include "../../sched/sched.h"
#include "../../sched/sync.h"
#include "sched_cases.h"

#define MS 1000000ull

/* A reproducible sequence (a 64-bit LCG, Knuth's MMIX constants). */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* -- The context switch alone ------------------------------------------------ */

static struct sched_ctx main_ctx, other_ctx;
static _Alignas(16) unsigned char other_stack[64 << 10];

/*
 * Overwrite every callee-saved register the compiler may use (the frame
 * pointer aside), so that a switch which failed to restore them would hand
 * garbage back to the other side.
 */
#if defined(__x86_64__)
#define SCRIBBLE_CALLEE_SAVED() __asm__ volatile(			\
	"mov $0x5a5a5a5a, %%ebx\n\tmov %%rbx, %%r12\n\tmov %%rbx, %%r13\n\t"	\
	"mov %%rbx, %%r14\n\tmov %%rbx, %%r15" ::: "rbx", "r12", "r13", "r14", "r15")
#elif defined(__aarch64__)
#define SCRIBBLE_CALLEE_SAVED() __asm__ volatile(			\
	"mov x19, #0x5a5a\n\tmov x20, x19\n\tmov x21, x19\n\tmov x22, x19\n\t" \
	"mov x23, x19\n\tmov x24, x19\n\tmov x25, x19\n\tmov x26, x19\n\t"	\
	"mov x27, x19\n\tmov x28, x19\n\tfmov d8, x19\n\tfmov d9, x19\n\t"	\
	"fmov d10, x19\n\tfmov d11, x19\n\tfmov d12, x19\n\tfmov d13, x19\n\t" \
	"fmov d14, x19\n\tfmov d15, x19"					\
	::: "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", \
	    "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15")
#elif defined(__riscv)
#define SCRIBBLE_CALLEE_SAVED() __asm__ volatile(			\
	"li s1, 0x5a5a\n\tmv s2, s1\n\tmv s3, s1\n\tmv s4, s1\n\tmv s5, s1\n\t" \
	"mv s6, s1\n\tmv s7, s1\n\tmv s8, s1\n\tmv s9, s1\n\tmv s10, s1\n\t"	\
	"mv s11, s1\n\tfmv.d.x fs0, s1\n\tfmv.d.x fs1, s1\n\tfmv.d.x fs2, s1\n\t" \
	"fmv.d.x fs3, s1\n\tfmv.d.x fs4, s1\n\tfmv.d.x fs5, s1\n\t"		\
	"fmv.d.x fs6, s1\n\tfmv.d.x fs7, s1\n\tfmv.d.x fs8, s1\n\t"		\
	"fmv.d.x fs9, s1\n\tfmv.d.x fs10, s1\n\tfmv.d.x fs11, s1"		\
	::: "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",	\
	    "fs0", "fs1", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", \
	    "fs10", "fs11")
#else
#error "no register scribbler for this architecture"
#endif

static _Noreturn void scribbler(void *arg, void *pass)
{
	volatile unsigned *turns = arg;

	(void)pass;
	for (;;) {
		(*turns)++;
		SCRIBBLE_CALLEE_SAVED();
		sched_ctx_switch(&other_ctx, &main_ctx, NULL);
	}
}

/* Twelve integers and ten doubles live across every switch. */
static __attribute__((noinline)) int mix_with_switches(unsigned rounds, uint64_t *iout,
						      double *dout)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, i = 9, j = 10,
		 k = 11, l = 12;
	double x0 = 0.5, x1 = 1.5, x2 = 2.5, x3 = 3.5, x4 = 4.5, x5 = 5.5, x6 = 6.5,
	       x7 = 7.5, x8 = 8.5, x9 = 9.5;

	for (unsigned r = 0; r < rounds; r++) {
		a = a * 3 + l; b ^= a << 1; c += b; d = d * 5 + c; e ^= d >> 3; f += e;
		g = g * 7 + f; h ^= g; i += h >> 2; j = j * 9 + i; k ^= j; l += k;
		x0 = x0 * 0.5 + x9; x1 += x0; x2 = x2 * 0.25 + x1; x3 += x2 * 0.5;
		x4 = x4 * 0.125 + x3; x5 += x4; x6 = x6 * 0.5 + x5; x7 += x6 * 0.25;
		x8 = x8 * 0.5 + x7; x9 = x9 * 0.25 + x8;
		if (iout == NULL)	/* the reference run does not switch */
			continue;
		sched_ctx_switch(&main_ctx, &other_ctx, NULL);
	}
	if (!iout)
		return (int)((a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l) & 0xff) +
		       (int)(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9);
	*iout = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l;
	*dout = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9;
	return 0;
}

static __attribute__((noinline)) void mix_reference(unsigned rounds, uint64_t *iout,
						    double *dout)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, i = 9, j = 10,
		 k = 11, l = 12;
	double x0 = 0.5, x1 = 1.5, x2 = 2.5, x3 = 3.5, x4 = 4.5, x5 = 5.5, x6 = 6.5,
	       x7 = 7.5, x8 = 8.5, x9 = 9.5;

	for (unsigned r = 0; r < rounds; r++) {
		a = a * 3 + l; b ^= a << 1; c += b; d = d * 5 + c; e ^= d >> 3; f += e;
		g = g * 7 + f; h ^= g; i += h >> 2; j = j * 9 + i; k ^= j; l += k;
		x0 = x0 * 0.5 + x9; x1 += x0; x2 = x2 * 0.25 + x1; x3 += x2 * 0.5;
		x4 = x4 * 0.125 + x3; x5 += x4; x6 = x6 * 0.5 + x5; x7 += x6 * 0.25;
		x8 = x8 * 0.5 + x7; x9 = x9 * 0.25 + x8;
	}
	*iout = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l;
	*dout = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9;
}

int sched_case_ctx_switch_preserves_callee_saved_registers(void)
{
	static volatile unsigned turns;
	uint64_t got_i, want_i;
	double got_d, want_d;

	turns = 0;
	sched_ctx_make(&other_ctx, other_stack + sizeof(other_stack), scribbler, (void *)&turns);
	mix_with_switches(1000, &got_i, &got_d);
	mix_reference(1000, &want_i, &want_d);
	CASE_CHECK(turns == 1000, "the other context ran %u times", turns);
	CASE_CHECK(got_i == want_i, "integers %#llx, want %#llx", (unsigned long long)got_i,
		   (unsigned long long)want_i);
	CASE_CHECK(got_d == want_d, "doubles differ");
	return 0;
}

static volatile uintptr_t seen_arg, seen_pass, seen_align;

static _Noreturn void check_entry(void *arg, void *pass)
{
	_Alignas(16) volatile unsigned char probe[16];

	probe[0] = 1;
	seen_arg = (uintptr_t)arg;
	seen_pass = (uintptr_t)pass;
	seen_align = (uintptr_t)probe & 15;
	/* Each switch back hands over the next value the other side sent. */
	for (;;)
		seen_pass = (uintptr_t)sched_ctx_switch(&other_ctx, &main_ctx,
							 (void *)(seen_pass + 1));
}

int sched_case_ctx_new_context_gets_its_argument_and_an_aligned_stack(void)
{
	/* Stack tops at every 8-byte misalignment must all be aligned down. */
	for (uintptr_t skew = 0; skew < 16; skew += 8) {
		uintptr_t back;

		seen_arg = 0;
		seen_align = 99;
		sched_ctx_make(&other_ctx, other_stack + sizeof(other_stack) - skew, check_entry,
			       (void *)(0x1234 + skew));
		back = (uintptr_t)sched_ctx_switch(&main_ctx, &other_ctx, (void *)0x500);
		CASE_CHECK(seen_arg == 0x1234 + skew, "arg %#lx", (unsigned long)seen_arg);
		CASE_CHECK(seen_pass == 0x500, "first pass value %#lx", (unsigned long)seen_pass);
		CASE_CHECK(back == 0x501, "value handed back %#lx", (unsigned long)back);
		back = (uintptr_t)sched_ctx_switch(&main_ctx, &other_ctx, (void *)0x700);
		CASE_CHECK(seen_pass == 0x700 && back == 0x701, "second round %#lx, %#lx",
			   (unsigned long)seen_pass, (unsigned long)back);
		CASE_CHECK(seen_align == 0, "16-byte local off by %lu", (unsigned long)seen_align);
	}
	return 0;
}

/* -- Tasks ------------------------------------------------------------------- */

static intptr_t times_three(void *arg)
{
	return (intptr_t)arg * 3;
}

int sched_case_spawn_join_returns_the_exit_value(void)
{
	struct sched_attr a = { .name = "tripler", .hart = -1 };
	sched_task_t t;
	intptr_t v = 0;

	CASE_CHECK(sched_spawn(&t, times_three, (void *)14, &a) == 0);
	CASE_CHECK(sched_task_id(t) != 0);
	sched_join(t, &v);
	CASE_CHECK(v == 42, "exit value %ld", (long)v);
	return 0;
}

static intptr_t exit_early(void *arg)
{
	if ((intptr_t)arg % 2)
		sched_exit((intptr_t)arg);
	sched_task_yield();
	return (intptr_t)arg;
}

int sched_case_many_tasks_all_run_and_finish(void)
{
	enum { N = 500 };
	static sched_task_t t[N];
	intptr_t sum = 0, v;

	for (intptr_t i = 0; i < N; i++)
		CASE_CHECK(sched_spawn(&t[i], exit_early, (void *)i, NULL) == 0, "task %ld", (long)i);
	for (int i = 0; i < N; i++) {
		sched_join(t[i], &v);
		sum += v;
	}
	CASE_CHECK(sum == (intptr_t)N * (N - 1) / 2, "sum %ld", (long)sum);
	return 0;
}

static char order[64];
static unsigned order_len;

static intptr_t letter(void *arg)
{
	for (int i = 0; i < 3; i++) {
		order[order_len++] = (char)(intptr_t)arg;
		sched_task_yield();
	}
	return 0;
}

int sched_case_yield_runs_pinned_tasks_round_robin(void)
{
	struct sched_attr a = { .hart = 0, .pinned = true };
	sched_task_t t[3];

	order_len = 0;
	for (int i = 0; i < 3; i++)
		CASE_CHECK(sched_spawn(&t[i], letter, (void *)(intptr_t)('a' + i), &a) == 0);
	for (int i = 0; i < 3; i++)
		sched_join(t[i], NULL);
	order[order_len] = 0;
	CASE_CHECK(order_len == 9 && !kstrcmp(order, "abcabcabc"), "order '%s'", order);
	return 0;
}

static unsigned tls_key;

static intptr_t tls_user(void *arg)
{
	if (sched_tls_get(tls_key) != NULL)
		return -1;
	sched_tls_set(tls_key, arg);
	sched_task_yield();
	return sched_tls_get(tls_key) == arg ? 0 : -2;
}

int sched_case_task_local_storage_is_per_task(void)
{
	sched_task_t t[8];
	intptr_t v;

	CASE_CHECK(sched_tls_key_create(&tls_key) == 0);
	for (intptr_t i = 0; i < 8; i++)
		CASE_CHECK(sched_spawn(&t[i], tls_user, (void *)(0x100 + i), NULL) == 0);
	for (int i = 0; i < 8; i++) {
		sched_join(t[i], &v);
		CASE_CHECK(v == 0, "task %d saw %ld", i, (long)v);
	}
	return 0;
}

/* -- Timers ------------------------------------------------------------------ */

int sched_case_timer_heap_pops_in_deadline_order(void)
{
	enum { N = 600 };
	static struct sched_task recs[N];
	struct sched_task *root = NULL, *t;
	uint64_t seed = 7, last = 0;
	unsigned in = 0, out = 0;

	/* Inserts and pops interleaved, with many equal deadlines. */
	while (out < N) {
		if (in < N && (lcg(&seed) % 3 || in == out)) {
			recs[in].deadline = last + lcg(&seed) % 50;
			sched_timerq_insert(&root, &recs[in++]);
			continue;
		}
		t = sched_timerq_pop(&root);
		CASE_CHECK(t != NULL, "heap empty after %u of %u", out, in);
		CASE_CHECK(t->deadline >= last, "popped %llu after %llu",
			   (unsigned long long)t->deadline, (unsigned long long)last);
		last = t->deadline;
		out++;
	}
	CASE_CHECK(sched_timerq_pop(&root) == NULL);
	return 0;
}

enum { SLEEPERS = 30 };
static uint64_t woke_at[SLEEPERS];
static unsigned woke_rank[SLEEPERS], woke_count;

static intptr_t virtual_sleeper(void *arg)
{
	intptr_t i = (intptr_t)arg;

	sched_sleep_until((uint64_t)((i * 7919) % SLEEPERS + 1) * MS);
	woke_at[i] = sched_now();
	woke_rank[i] = woke_count++;
	return 0;
}

int sched_case_sleep_wakes_at_the_deadline_on_the_virtual_clock(void)
{
	sched_task_t t[SLEEPERS];

	CASE_CHECK(sched_deterministic(1) == 0);
	woke_count = 0;
	for (intptr_t i = 0; i < SLEEPERS; i++)
		CASE_CHECK(sched_spawn(&t[i], virtual_sleeper, (void *)i, NULL) == 0);
	for (int i = 0; i < SLEEPERS; i++)
		sched_join(t[i], NULL);
	for (int i = 0; i < SLEEPERS; i++) {
		uint64_t deadline = (uint64_t)((i * 7919) % SLEEPERS + 1) * MS;

		CASE_CHECK(woke_at[i] == deadline, "task %d woke at %llu, deadline %llu", i,
			   (unsigned long long)woke_at[i], (unsigned long long)deadline);
		/* The deadlines are distinct: the rank is the deadline's. */
		CASE_CHECK(woke_rank[i] == deadline / MS - 1, "task %d woke %u-th", i, woke_rank[i]);
	}
	CASE_CHECK(sched_now() == SLEEPERS * MS);
	return 0;
}

static intptr_t real_sleeper(void *arg)
{
	uint64_t start = hal_time_mono_ns();

	sched_sleep((uint64_t)(intptr_t)arg);
	return (intptr_t)(hal_time_mono_ns() - start);
}

int sched_case_sleep_waits_real_time(void)
{
	sched_task_t t[4];
	intptr_t slept;

	for (intptr_t i = 0; i < 4; i++)
		CASE_CHECK(sched_spawn(&t[i], real_sleeper, (void *)((i + 1) * 2 * (intptr_t)MS),
				       NULL) == 0);
	for (intptr_t i = 0; i < 4; i++) {
		sched_join(t[i], &slept);
		CASE_CHECK(slept >= (i + 1) * 2 * (intptr_t)MS, "task %ld slept %ld ns", (long)i,
			   (long)slept);
	}
	return 0;
}

/* -- Deterministic mode ------------------------------------------------------ */

static uint64_t trace_hash;
static unsigned trace_steps;

static intptr_t det_actor(void *arg)
{
	uint64_t seed = (uint64_t)(intptr_t)arg, slept = 0;

	for (int i = 0; i < 20; i++) {
		/* FNV-1a over (who, when). */
		trace_hash = (trace_hash ^ (uint64_t)(intptr_t)arg) * 0x100000001b3ull;
		trace_hash = (trace_hash ^ sched_now()) * 0x100000001b3ull;
		trace_steps++;
		if (lcg(&seed) % 2) {
			sched_task_yield();
		} else {
			uint64_t ns = (lcg(&seed) % 1000) * MS;

			sched_sleep(ns);
			slept += ns;
		}
	}
	return (intptr_t)(slept / MS);
}

/* Run eight actors under a seed; returns the trace's hash. */
static uint64_t det_scenario(uint64_t seed, uint64_t *longest_ms)
{
	sched_task_t t[8];
	intptr_t ms;

	if (sched_deterministic(seed) != 0)
		return 0;
	trace_hash = 0xcbf29ce484222325ull;
	trace_steps = 0;
	*longest_ms = 0;
	for (intptr_t i = 0; i < 8; i++)
		if (sched_spawn(&t[i], det_actor, (void *)(i + 1), NULL) != 0)
			return 0;
	for (int i = 0; i < 8; i++) {
		sched_join(t[i], &ms);
		if ((uint64_t)ms > *longest_ms)
			*longest_ms = (uint64_t)ms;
	}
	return trace_hash;
}

int sched_case_deterministic_mode_replays_a_seed_exactly(void)
{
	uint64_t start = hal_time_mono_ns(), a, b, c, longest;

	a = det_scenario(42, &longest);
	CASE_CHECK(a != 0 && trace_steps == 160);
	/* Minutes of sleeping on the virtual clock take no real time. */
	CASE_CHECK(sched_now() >= longest * MS, "clock %llu, a task slept %llu ms",
		   (unsigned long long)sched_now(), (unsigned long long)longest);
	CASE_CHECK(longest > 1000, "slept only %llu ms", (unsigned long long)longest);
	b = det_scenario(42, &longest);
	CASE_CHECK(a == b, "same seed, traces %#llx and %#llx", (unsigned long long)a,
		   (unsigned long long)b);
	c = det_scenario(43, &longest);
	CASE_CHECK(c != 0 && c != a, "seeds 42 and 43 gave the same trace");
	CASE_CHECK(hal_time_mono_ns() - start < 5000 * MS, "took %llu ms of real time",
		   (unsigned long long)((hal_time_mono_ns() - start) / MS));
	return 0;
}

/* -- Mutex, semaphore, wait queue -------------------------------------------- */

static struct sched_mutex mutex;
static atomic_int inside;
static unsigned counter;

static intptr_t mutex_user(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		sched_mutex_lock(&mutex);
		if (atomic_fetch_add(&inside, 1) != 0)
			return -1;
		sched_task_yield();		/* others queue up on the mutex meanwhile */
		counter++;
		atomic_fetch_sub(&inside, 1);
		sched_mutex_unlock(&mutex);
	}
	return 0;
}

static char lock_order[8], got_order[8];
static unsigned lock_n, got_n;

static intptr_t queued_locker(void *arg)
{
	lock_order[lock_n++] = (char)(intptr_t)arg;
	sched_mutex_lock(&mutex);
	got_order[got_n++] = (char)(intptr_t)arg;
	sched_mutex_unlock(&mutex);
	return 0;
}

int sched_case_mutex_excludes_and_serves_waiters_in_order(void)
{
	sched_task_t t[5];
	intptr_t v;

	/* Exclusion, with tasks free to run on any hart. */
	sched_mutex_init(&mutex);
	counter = 0;
	for (int i = 0; i < 5; i++)
		CASE_CHECK(sched_spawn(&t[i], mutex_user, NULL, NULL) == 0);
	for (int i = 0; i < 5; i++) {
		sched_join(t[i], &v);
		CASE_CHECK(v == 0, "two tasks inside the mutex at once");
	}
	CASE_CHECK(counter == 500, "counter %u", counter);

	/* Order: whoever blocked first gets it first (seeded run order). */
	CASE_CHECK(sched_deterministic(5) == 0);
	lock_n = got_n = 0;
	sched_mutex_lock(&mutex);
	for (int i = 0; i < 5; i++)
		CASE_CHECK(sched_spawn(&t[i], queued_locker, (void *)(intptr_t)('a' + i), NULL) == 0);
	while (lock_n < 5)
		sched_task_yield();
	CASE_CHECK(!sched_mutex_trylock(&mutex), "init holds it");
	sched_mutex_unlock(&mutex);
	for (int i = 0; i < 5; i++)
		sched_join(t[i], NULL);
	CASE_CHECK(got_n == 5 && !kmemcmp(lock_order, got_order, 5), "locked %.5s, got %.5s",
		   lock_order, got_order);
	return 0;
}

static struct sched_sem sem;
static atomic_int sem_inside, sem_peak;

static intptr_t sem_user(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		int now;

		sched_sem_down(&sem);
		now = atomic_fetch_add(&sem_inside, 1) + 1;
		for (int peak = atomic_load(&sem_peak); now > peak &&
		     !atomic_compare_exchange_weak(&sem_peak, &peak, now);)
			;
		sched_task_yield();
		atomic_fetch_sub(&sem_inside, 1);
		sched_sem_up(&sem);
	}
	return 0;
}

int sched_case_semaphore_bounds_concurrency(void)
{
	sched_task_t t[10];

	/* One hart, so that whenever a task yields another one runs. */
	CASE_CHECK(sched_deterministic(11) == 0);
	sched_sem_init(&sem, 3);
	for (int i = 0; i < 10; i++)
		CASE_CHECK(sched_spawn(&t[i], sem_user, NULL, NULL) == 0);
	for (int i = 0; i < 10; i++)
		sched_join(t[i], NULL);
	CASE_CHECK(atomic_load(&sem_peak) == 3, "peak %d inside, limit 3", atomic_load(&sem_peak));
	CASE_CHECK(sched_sem_trydown(&sem) && sem.count == 2);
	return 0;
}

static struct spinlock cond_lock = SPINLOCK_INIT;
static struct sched_waitq cond_wq = SCHED_WAITQ_INIT;
static unsigned cond_waiting, cond_woken;
static bool cond_flag;

static intptr_t cond_waiter(void *arg)
{
	hal_irqstate_t s = spin_lock_irqsave(&cond_lock);

	(void)arg;
	cond_waiting++;
	while (!cond_flag)
		sched_waitq_wait(&cond_wq, &cond_lock);
	cond_woken++;
	spin_unlock_irqrestore(&cond_lock, s);
	return 0;
}

int sched_case_waitq_wake_all_wakes_every_waiter(void)
{
	sched_task_t t[6];
	unsigned woken = 0;
	hal_irqstate_t s;

	for (int i = 0; i < 6; i++)
		CASE_CHECK(sched_spawn(&t[i], cond_waiter, NULL, NULL) == 0);
	for (;;) {
		s = spin_lock_irqsave(&cond_lock);
		if (cond_waiting == 6)
			break;
		spin_unlock_irqrestore(&cond_lock, s);
		sched_task_yield();
	}
	CASE_CHECK(!sched_waitq_empty(&cond_wq));
	cond_flag = true;
	woken = sched_waitq_wake_all(&cond_wq);
	spin_unlock_irqrestore(&cond_lock, s);
	for (int i = 0; i < 6; i++)
		sched_join(t[i], NULL);
	CASE_CHECK(woken == 6 && cond_woken == 6, "woke %u, %u ran on", woken, cond_woken);
	return 0;
}

/* -- Channels ---------------------------------------------------------------- */

static sched_handle_t ch_tx, ch_rx;
static atomic_uint received;

static intptr_t producer(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < 100; i++) {
		if (sched_chan_send(ch_tx, &i, sizeof(i)) != 0)
			return -1;
		/* Capacity 4: sending message i needs i - 4 taken out. */
		if (i >= 4 && atomic_load(&received) < i - 4)
			return -2;
	}
	return 0;
}

static intptr_t consumer(void *arg)
{
	uint64_t m;
	size_t len;

	(void)arg;
	sched_sleep(MS);	/* let the producer fill the channel first */
	for (uint64_t i = 0; i < 100; i++) {
		if (sched_chan_recv(ch_rx, &m, sizeof(m), &len) != 0 || len != sizeof(m) || m != i)
			return -1 - (intptr_t)i;
		atomic_fetch_add(&received, 1);
	}
	return 0;
}

int sched_case_chan_delivers_in_order_and_blocks_when_full(void)
{
	sched_task_t p, c;
	intptr_t pv, cv;

	CASE_CHECK(sched_chan_create(4, 8, &ch_tx, &ch_rx) == 0);
	CASE_CHECK(sched_spawn(&c, consumer, NULL, NULL) == 0);
	CASE_CHECK(sched_spawn(&p, producer, NULL, NULL) == 0);
	sched_join(p, &pv);
	sched_join(c, &cv);
	CASE_CHECK(pv == 0, "producer %ld", (long)pv);
	CASE_CHECK(cv == 0, "consumer %ld", (long)cv);
	CASE_CHECK(sched_chan_close(ch_tx) == 0 && sched_chan_close(ch_rx) == 0);
	return 0;
}

int sched_case_chan_try_ops_report_full_and_empty(void)
{
	sched_handle_t tx, rx;
	char buf[16];
	size_t len;

	CASE_CHECK(sched_chan_create(2, 16, &tx, &rx) == 0);
	CASE_CHECK(sched_chan_try_recv(rx, buf, sizeof(buf), &len) == -K_EAGAIN);
	CASE_CHECK(sched_chan_try_send(tx, "one", 4) == 0);
	CASE_CHECK(sched_chan_try_send(tx, "two", 4) == 0);
	CASE_CHECK(sched_chan_try_send(tx, "three", 6) == -K_EAGAIN);
	CASE_CHECK(sched_chan_try_recv(rx, buf, sizeof(buf), &len) == 0 && len == 4 &&
		   !kstrcmp(buf, "one"));
	CASE_CHECK(sched_chan_try_send(tx, "three", 6) == 0);
	CASE_CHECK(sched_chan_recv(rx, buf, sizeof(buf), &len) == 0 && !kstrcmp(buf, "two"));
	CASE_CHECK(sched_chan_recv(rx, buf, sizeof(buf), &len) == 0 && !kstrcmp(buf, "three"));
	CASE_CHECK(sched_chan_close(tx) == 0 && sched_chan_close(rx) == 0);
	return 0;
}

static intptr_t drain_until_closed(void *arg)
{
	intptr_t got = 0;
	char m;
	size_t len;
	int err;

	(void)arg;
	while ((err = sched_chan_recv(ch_rx, &m, 1, &len)) == 0)
		got++;
	return err == -K_EPIPE ? got : -100 + err;
}

int sched_case_chan_close_wakes_the_blocked_receiver(void)
{
	sched_task_t t;
	intptr_t got;

	CASE_CHECK(sched_deterministic(9) == 0);
	CASE_CHECK(sched_chan_create(8, 1, &ch_tx, &ch_rx) == 0);
	CASE_CHECK(sched_spawn(&t, drain_until_closed, NULL, NULL) == 0);
	sched_task_yield();		/* one hart: the receiver runs and blocks */
	CASE_CHECK(sched_chan_send(ch_tx, "a", 1) == 0 && sched_chan_send(ch_tx, "b", 1) == 0);
	CASE_CHECK(sched_chan_close(ch_tx) == 0);
	sched_join(t, &got);
	CASE_CHECK(got == 2, "receiver got %ld", (long)got);
	CASE_CHECK(sched_chan_close(ch_rx) == 0);
	return 0;
}

static intptr_t blocked_sender(void *arg)
{
	(void)arg;
	return sched_chan_send(ch_tx, "z", 1);
}

int sched_case_chan_send_to_a_closed_receiver_fails(void)
{
	sched_task_t t;
	intptr_t err;

	CASE_CHECK(sched_deterministic(3) == 0);
	CASE_CHECK(sched_chan_create(1, 1, &ch_tx, &ch_rx) == 0);
	CASE_CHECK(sched_chan_send(ch_tx, "y", 1) == 0);
	CASE_CHECK(sched_spawn(&t, blocked_sender, NULL, NULL) == 0);
	sched_task_yield();		/* the sender blocks: the channel is full */
	CASE_CHECK(sched_chan_close(ch_rx) == 0);
	sched_join(t, &err);
	CASE_CHECK(err == -K_EPIPE, "blocked sender got %ld", (long)err);
	CASE_CHECK(sched_chan_send(ch_tx, "y", 1) == -K_EPIPE);
	CASE_CHECK(sched_chan_close(ch_tx) == 0);
	return 0;
}

int sched_case_chan_rejects_bad_handles_and_big_messages(void)
{
	sched_handle_t tx, rx;
	char big[64] = "0123456789", small[4];
	size_t len;

	CASE_CHECK(sched_chan_create(4, 0, &tx, &rx) == -K_EINVAL);
	CASE_CHECK(sched_chan_create(4, SCHED_CHAN_MSG_MAX + 1, &tx, &rx) == -K_EINVAL);
	CASE_CHECK(sched_chan_create(4, 32, &tx, &rx) == 0);
	CASE_CHECK(sched_chan_send(-1, "x", 1) == -K_EBADF);
	CASE_CHECK(sched_chan_send(0x7654321, "x", 1) == -K_EBADF);
	CASE_CHECK(sched_chan_send(rx, "x", 1) == -K_EBADF, "send on the receiving end");
	CASE_CHECK(sched_chan_recv(tx, small, sizeof(small), &len) == -K_EBADF);
	CASE_CHECK(sched_chan_send(tx, big, 33) == -K_E2BIG);
	CASE_CHECK(sched_chan_send(tx, big, 10) == 0);
	CASE_CHECK(sched_chan_recv(rx, small, sizeof(small), &len) == -K_E2BIG);
	CASE_CHECK(sched_chan_recv(rx, big + 20, 32, &len) == 0 && len == 10 &&
		   !kmemcmp(big + 20, "0123456789", 10), "the long message stayed queued");
	CASE_CHECK(sched_chan_close(tx) == 0);
	CASE_CHECK(sched_chan_close(tx) == -K_EBADF, "closing twice");
	CASE_CHECK(sched_chan_send(tx, "x", 1) == -K_EBADF, "send on a closed handle");
	CASE_CHECK(sched_chan_close(rx) == 0);
	return 0;
}
