/*
 * sched_stress.c - the scheduler stress scenarios: thousands of tasks over
 * every hart at once, producers and consumers on shared channels, nested
 * spawn and join, yields, sleeps and a contended mutex.  Every message
 * must arrive exactly once and in order per sender, and every task must
 * finish with the value it computed.  And one hart waking another again and
 * again as it goes idle, for the idle loop's handshake with its wakers.
 *
 * Two runners include this file: test_sched_stress.c (Criterion) and
 * sched_stress_main.c, a plain program for the ThreadSanitizer build,
 * because Criterion's runner cannot start under GCC's TSan (its BoxFort
 * arena wants fixed addresses inside TSan's shadow; Criterion issue #274).
 * Each scenario is an init function for hosted_run() with SCHED_STRESS_HARTS
 * harts; it returns 0 or reports through sched_stress_fail() and returns 1.
 * sched_stress_main.c is also built for other architectures over the
 * platform shim of tests/cross/ (shim.c), and run under qemu-user.
 */
#include <stdatomic.h>
#include <stdio.h>
#include "../hosted/hosted.h"
#include "../kernel/kerr.h"
#include "../sched/chan.h"
#include "../sched/sched.h"
#include "../sched/sync.h"

#define SCHED_STRESS_HARTS	4
#define SCHED_STRESS_MEMORY	(256ull << 20)

/* Provided by the runner. */
void sched_stress_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sched_stress_messages(void *arg);
int sched_stress_churn(void *arg);
int sched_stress_wakeups(void *arg);

#define STRESS_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		sched_stress_fail(__FILE__, __LINE__, "check '" #cond "' failed: " __VA_ARGS__); \
		return 1;						\
	}								\
} while (0)
#define STRESS_CHECK_EQ(a, b, ...)	STRESS_CHECK((a) == (b), "" __VA_ARGS__)
#define STRESS_CHECK_GT(a, b, ...)	STRESS_CHECK((a) > (b), "" __VA_ARGS__)

#define HARTS		SCHED_STRESS_HARTS
#define CHANNELS	16
#define PRODUCERS	1600
#define MESSAGES	12		/* per producer */
#define PARENTS		400
#define CHILDREN	3		/* per parent */

struct msg {
	uint32_t producer;
	uint32_t seq;
};

static sched_handle_t tx[CHANNELS], rx[CHANNELS];
static atomic_uchar seen[PRODUCERS][MESSAGES];
static atomic_uint ran_on[HAL_MAX_HARTS];
static struct sched_mutex mutex = SCHED_MUTEX_INIT;
static uint64_t guarded;		/* mutex */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void note_hart(void)
{
	atomic_fetch_add_explicit(&ran_on[hal_hart_id()], 1, memory_order_relaxed);
}

/* Sleep, yield or run on, depending on a hash of (who, step). */
static void dawdle(uint64_t who, uint64_t step)
{
	switch (mix(who * 131 + step) % 4) {
	case 0:
		sched_sleep(mix(who + step) % 200000);
		break;
	case 1:
		sched_task_yield();
		break;
	default:
		break;
	}
}

static intptr_t producer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	note_hart();
	for (uint32_t seq = 0; seq < MESSAGES; seq++) {
		struct msg m = { id, seq };
		int err = sched_chan_send(tx[id % CHANNELS], &m, sizeof(m));

		if (err)
			return err;
		dawdle(id, seq);
	}
	sched_mutex_lock(&mutex);
	guarded++;
	sched_mutex_unlock(&mutex);
	return 0;
}

/* Drains one channel until its senders are gone; returns the count, or
 * a negative value for a duplicate or out-of-order message. */
static intptr_t consumer(void *arg)
{
	unsigned ch = (unsigned)(uintptr_t)arg;
	uint32_t next[PRODUCERS / CHANNELS] = { 0 };
	intptr_t got = 0;
	struct msg m;
	size_t len;
	int err;

	note_hart();
	while ((err = sched_chan_recv(rx[ch], &m, sizeof(m), &len)) == 0) {
		if (len != sizeof(m) || m.producer >= PRODUCERS || m.producer % CHANNELS != ch)
			return -1;
		if (m.seq != next[m.producer / CHANNELS]++)
			return -2;
		if (atomic_fetch_add(&seen[m.producer][m.seq], 1) != 0)
			return -3;
		got++;
		if (got % 64 == 0)
			sched_task_yield();
	}
	return err == -K_EPIPE ? got : -4;
}

static intptr_t child(void *arg)
{
	uint64_t v = (uint64_t)(uintptr_t)arg;

	note_hart();
	for (int i = 0; i < 3; i++)
		dawdle(v, (uint64_t)i);
	return (intptr_t)(v * 2);
}

static intptr_t parent(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg * CHILDREN;
	sched_task_t kids[CHILDREN];
	intptr_t sum = 0, v;

	note_hart();
	for (unsigned i = 0; i < CHILDREN; i++)
		if (sched_spawn(&kids[i], child, (void *)(uintptr_t)(base + i), NULL))
			return -1;
	for (unsigned i = 0; i < CHILDREN; i++) {
		sched_join(kids[i], &v);
		sum += v;
	}
	return sum;
}

int sched_stress_messages(void *arg)
{
	static sched_task_t prod[PRODUCERS], cons[CHANNELS], par[PARENTS];
	intptr_t v, total = 0;

	(void)arg;
	for (unsigned c = 0; c < CHANNELS; c++) {
		STRESS_CHECK_EQ(sched_chan_create(8, sizeof(struct msg), &tx[c], &rx[c]), 0);
		STRESS_CHECK_EQ(sched_spawn(&cons[c], consumer, (void *)(uintptr_t)c, NULL), 0);
	}
	/* Started round robin over the harts (stealing moves them on), with
	 * init letting hart 0's share run now and then. */
	for (unsigned i = 0, p = 0; i < PRODUCERS || p < PARENTS; i++) {
		struct sched_attr a = { .hart = (int)(i % HARTS) };

		if (i < PRODUCERS)
			STRESS_CHECK_EQ(sched_spawn(&prod[i], producer, (void *)(uintptr_t)i, &a), 0);
		if (i % 4 == 0 && p < PARENTS) {
			STRESS_CHECK_EQ(sched_spawn(&par[p], parent, (void *)(uintptr_t)p, &a), 0);
			p++;
		}
		if (i % 64 == 0)
			sched_task_yield();
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		sched_join(prod[i], &v);
		STRESS_CHECK_EQ(v, 0, "producer %u: %ld", i, (long)v);
	}
	/* Every sender is done: closing wakes the consumers for the end. */
	for (unsigned c = 0; c < CHANNELS; c++)
		STRESS_CHECK_EQ(sched_chan_close(tx[c]), 0);
	for (unsigned c = 0; c < CHANNELS; c++) {
		sched_join(cons[c], &v);
		STRESS_CHECK_EQ(v, PRODUCERS / CHANNELS * MESSAGES, "consumer %u: %ld", c, (long)v);
		STRESS_CHECK_EQ(sched_chan_close(rx[c]), 0);
	}
	for (unsigned p = 0; p < PARENTS; p++) {
		uint64_t b = (uint64_t)p * CHILDREN;

		sched_join(par[p], &v);
		STRESS_CHECK_EQ(v, (intptr_t)(2 * (3 * b + 3)), "parent %u: %ld", p, (long)v);
		total += v;
	}
	for (unsigned i = 0; i < PRODUCERS; i++)
		for (unsigned s = 0; s < MESSAGES; s++)
			STRESS_CHECK_EQ(atomic_load(&seen[i][s]), 1, "message %u/%u seen %u times", i, s,
				     atomic_load(&seen[i][s]));
	STRESS_CHECK_EQ(guarded, PRODUCERS);
	for (unsigned h = 0; h < HARTS; h++)
		STRESS_CHECK_GT(atomic_load(&ran_on[h]), 0, "hart %u ran no task", h);
	return 0;
}


/* Many short tasks spawned and joined from several tasks at once. */
static intptr_t spawner(void *arg)
{
	intptr_t sum = 0, v;

	for (uintptr_t i = 0; i < 300; i++) {
		sched_task_t t;

		if (sched_spawn(&t, child, (void *)i, NULL))
			return -1;
		sched_join(t, &v);
		sum += v;
	}
	(void)arg;
	return sum;
}

int sched_stress_churn(void *arg)
{
	sched_task_t t[8];
	intptr_t v;

	(void)arg;
	for (int i = 0; i < 8; i++)
		STRESS_CHECK_EQ(sched_spawn(&t[i], spawner, NULL, NULL), 0);
	for (int i = 0; i < 8; i++) {
		sched_join(t[i], &v);
		STRESS_CHECK_EQ(v, 299 * 300, "spawner %d: %ld", i, (long)v);
	}
	return 0;
}

/*
 * Wake-ups racing harts on their way to sleep.  A sleeper task alone on
 * its hart blocks on a semaphore again and again; a waker task on another
 * hart spins until it sees the sleeper go, then wakes it after a random
 * 0..WAKE_JITTER_NS.  That span brackets the time the sleeper's hart spins
 * in its idle loop (20 us, sched.c) before it publishes itself in
 * idle_mask and looks for work one last time, so over many rounds some
 * wake-ups land in that last look, where the idle loop and kick() must
 * each see the other's store (the fences in sched.c).  The waker spins
 * rather than blocks so that it is on time: a waker that had to be woken
 * itself would be late by far more than the span.
 *
 * A lost wake-up leaves the sleeper queued on a hart asleep with nothing
 * to wake it; the waker reports it after WAKE_STALL_NS.  One sleeper and
 * one waker: the waker and the sleeper's idle spin keep two host CPUs
 * busy, as many as some machines this runs on have; a second pair would
 * make the harts wait milliseconds for a CPU, far from the instants that
 * matter.
 * arg: the duration in ns (a const uint64_t *), or NULL for the default.
 */
#define WAKE_JITTER_NS	50000u
#define WAKE_STALL_NS	10000000000ull
#define WAKE_DEFAULT_NS	500000000ull

static struct {
	struct sched_sem wake;		/* the sleeper blocks on it */
	atomic_uint blocking;		/* the round the sleeper blocks in */
	atomic_bool done;
	uint64_t end;			/* the waker stops at this sched_now() */
} pair;

/* Returns the rounds it slept. */
static intptr_t wake_sleeper(void *arg)
{
	unsigned round = 0;

	(void)arg;
	while (!atomic_load(&pair.done)) {
		atomic_store(&pair.blocking, ++round);
		sched_sem_down(&pair.wake);
	}
	return round;
}

/* Returns the rounds it woke the sleeper, or -1 if a wake-up was lost. */
static intptr_t wake_waker(void *arg)
{
	uint64_t rng = 1, since, until;

	(void)arg;
	for (unsigned round = 1; ; round++) {
		for (since = sched_now(); atomic_load(&pair.blocking) != round; ) {
			if (sched_now() - since > WAKE_STALL_NS) {
				sched_stress_fail(__FILE__, __LINE__, "lost wake-up: the sleeper was "
						  "not run for %llu s after round %u",
						  WAKE_STALL_NS / 1000000000ull, round - 1);
				return -1;
			}
			cpu_relax();
		}
		for (until = sched_now() + mix(++rng) % WAKE_JITTER_NS; sched_now() < until; )
			cpu_relax();
		if (sched_now() >= pair.end)
			atomic_store(&pair.done, true);
		sched_sem_up(&pair.wake);
		if (atomic_load(&pair.done))
			return round;
	}
}

static uint64_t idle_waits(void)
{
	struct sched_stats st;
	uint64_t n = 0;

	for (unsigned h = 0; h < HARTS; h++) {
		sched_stats(h, &st);
		n += st.idle_waits;
	}
	return n;
}

int sched_stress_wakeups(void *arg)
{
	struct sched_attr s = { .name = "sleeper", .hart = 0, .pinned = true };
	struct sched_attr w = { .name = "waker", .hart = 1, .pinned = true };
	uint64_t ns = arg ? *(const uint64_t *)arg : WAKE_DEFAULT_NS;
	uint64_t waits = idle_waits();
	sched_task_t sleeper, waker;
	intptr_t slept, woke;

	sched_sem_init(&pair.wake, 0);
	pair.end = sched_now() + ns;
	STRESS_CHECK_EQ(sched_spawn(&sleeper, wake_sleeper, NULL, &s), 0);
	STRESS_CHECK_EQ(sched_spawn(&waker, wake_waker, NULL, &w), 0);
	sched_join(waker, &woke);
	STRESS_CHECK_GT(woke, 0);
	sched_join(sleeper, &slept);
	STRESS_CHECK_EQ(slept, woke);
	waits = idle_waits() - waits;
	printf("wakeups: %ld rounds in %.1f s, harts slept %llu times\n",
	       (long)woke, (double)ns / 1e9, (unsigned long long)waits);
	STRESS_CHECK_GT(waits, 0, "no hart slept: the wake-up path was not exercised");
	return 0;
}
