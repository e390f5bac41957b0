/*
 * bench_sched.c - what the scheduler costs, next to host baselines
 * measured in the same run:
 *   sched.switch            two tasks on one hart ping-ponging with
 *                           sched_task_yield(), per switch
 *   host.switch_asm         sched_ctx_switch() alone between two contexts,
 *                           no scheduler: the floor, per switch
 *   host.futex_pingpong     two pthreads handing a turn over through a
 *                           futex, per switch
 *   sched.spawn_join        spawn a task that returns at once, join it
 *   host.pthread_create_join  the same with a pthread
 *   sched.chan_rtt.local    a message and its reply between two tasks on
 *                           one hart, per round trip
 *   sched.chan_rtt.remote   the same with the tasks on two harts
 *   sched.blocked_task_mem  frames committed per task (the frame
 *                           allocator's count) with 100,000 tasks blocked,
 *                           half in sched_sleep_until, half in
 *                           sched_chan_recv, on the smallest stacks (4 KiB)
 *   sched.wake_latency      a sleeping task's lateness past its deadline,
 *                           p99
 *   host.timer_lateness     a per-thread POSIX timer signal's lateness past
 *                           its deadline, p99
 * Time figures are the best of a few rounds (the machine is shared).
 *
 * 100,000 guarded stacks need about 200,000 host mappings (sched/stack.h):
 * run as root, the benchmark raises vm.max_map_count to 262144 if it is
 * lower; otherwise it blocks as many tasks as the limit allows and says so
 * on stderr.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../hosted/hosted.h"
#include "../kernel/frame.h"
#include "../kernel/hal.h"
#include "../sched/chan.h"
#include "../sched/ctx.h"
#include "../sched/sched.h"
#include "../sched/stack.h"
#include "bench.h"

#define ROUNDS		5
#define SWITCHES	1000000
#define SPAWNS		200000
#define RTTS		200000
#define REMOTE_RTTS	20000
#define HOST_SWITCHES	100000
#define HOST_THREADS	20000
#define BLOCKED		100000
#define LATENCY_SAMPLES	2000
#define MAP_COUNT_WANT	262144

/* -- Host baselines ---------------------------------------------------------- */

static struct sched_ctx ctx_a, ctx_b;
static _Alignas(16) unsigned char ctx_stack[64 << 10];

static _Noreturn void bounce(void *arg, void *pass)
{
	(void)arg;
	for (;;)
		pass = sched_ctx_switch(&ctx_b, &ctx_a, pass);
}

/* The bare register save/restore: A to B and back, per switch. */
static double host_switch_asm(void)
{
	double t0;

	sched_ctx_make(&ctx_b, ctx_stack + sizeof(ctx_stack), bounce, NULL);
	t0 = bench_now_ns();
	for (unsigned i = 0; i < SWITCHES; i++)
		sched_ctx_switch(&ctx_a, &ctx_b, NULL);
	return (bench_now_ns() - t0) / (2.0 * SWITCHES);
}

static atomic_int turn;

static void futex_wait(atomic_int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Player `me` waits for its turn, then hands it to the other. */
static void *futex_player(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (unsigned i = 0; i < HOST_SWITCHES; i++) {
		int t;

		while ((t = atomic_load(&turn)) != me)
			futex_wait(&turn, t);
		atomic_store(&turn, !me);
		futex_wake(&turn);
	}
	return NULL;
}

static double host_futex_pingpong(void)
{
	pthread_t a, b;
	double t0;

	atomic_store(&turn, 0);
	t0 = bench_now_ns();
	pthread_create(&a, NULL, futex_player, (void *)0);
	pthread_create(&b, NULL, futex_player, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return (bench_now_ns() - t0) / (2.0 * HOST_SWITCHES);
}

static void *nothing_thread(void *arg)
{
	return arg;
}

static double host_pthread_create_join(void)
{
	double t0 = bench_now_ns();

	for (unsigned i = 0; i < HOST_THREADS; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, nothing_thread, NULL)) {
			fprintf(stderr, "bench_sched: pthread_create failed\n");
			exit(1);
		}
		pthread_join(t, NULL);
	}
	return (bench_now_ns() - t0) / HOST_THREADS;
}

/* A per-thread POSIX timer delivering a signal at absolute deadlines; the
 * handler notes how late it ran. */
#define TIMER_SIG (SIGRTMIN + 8)
static volatile double timer_deadline, timer_late;
static volatile sig_atomic_t timer_fired;

static void timer_handler(int sig)
{
	(void)sig;
	timer_late = bench_now_ns() - timer_deadline;
	timer_fired = 1;
}

static double host_timer_lateness(void)
{
	static double late[LATENCY_SAMPLES];
	struct sigevent sev;
	struct sigaction sa;
	sigset_t block, wait;
	timer_t timer;
	unsigned seed = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = timer_handler;
	sigaction(TIMER_SIG, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, TIMER_SIG);
	pthread_sigmask(SIG_BLOCK, &block, &wait);
	sigdelset(&wait, TIMER_SIG);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = TIMER_SIG;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) {
		perror("bench_sched: timer_create");
		exit(1);
	}
	for (unsigned i = 0; i < LATENCY_SAMPLES; i++) {
		struct itimerspec its = { 0 };
		double d = bench_now_ns() + 200000 + rand_r(&seed) % 500000;

		timer_deadline = d;
		timer_fired = 0;
		its.it_value.tv_sec = (time_t)(d / 1e9);
		its.it_value.tv_nsec = (long)(d - its.it_value.tv_sec * 1e9);
		timer_settime(timer, TIMER_ABSTIME, &its, NULL);
		while (!timer_fired)
			sigsuspend(&wait);
		late[i] = timer_late;
	}
	timer_delete(timer);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	return bench_p99(late, LATENCY_SAMPLES) / 1000;
}

/* -- Scheduler figures (inside the kernel) ----------------------------------- */

struct figures {
	double sched_switch, spawn_join, rtt_local, rtt_remote, wake_latency;
	double blocked_kib;
	unsigned blocked;
};

static intptr_t yielder(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < SWITCHES / 2; i++)
		sched_task_yield();
	return 0;
}

static double sched_switch(void)
{
	struct sched_attr a = { .name = "yielder", .hart = 0, .pinned = true };
	sched_task_t t[2];
	double t0 = bench_now_ns();

	/* init blocks in the first join: only the two yielders run. */
	sched_spawn(&t[0], yielder, NULL, &a);
	sched_spawn(&t[1], yielder, NULL, &a);
	sched_join(t[0], NULL);
	sched_join(t[1], NULL);
	return (bench_now_ns() - t0) / SWITCHES;
}

static intptr_t returns_at_once(void *arg)
{
	return (intptr_t)arg;
}

static double sched_spawn_join(void)
{
	struct sched_attr a = { .name = "short", .hart = 0, .pinned = true };
	double t0 = bench_now_ns();

	for (unsigned i = 0; i < SPAWNS; i++) {
		sched_task_t t;

		if (sched_spawn(&t, returns_at_once, NULL, &a)) {
			fprintf(stderr, "bench_sched: sched_spawn failed\n");
			exit(1);
		}
		sched_join(t, NULL);
	}
	return (bench_now_ns() - t0) / SPAWNS;
}

struct rtt {
	sched_handle_t ping_tx, ping_rx, pong_tx, pong_rx;
	unsigned rounds;
};

static intptr_t pinger(void *arg)
{
	struct rtt *r = arg;
	uint64_t m = 0;
	size_t len;

	for (unsigned i = 0; i < r->rounds; i++) {
		sched_chan_send(r->ping_tx, &m, sizeof(m));
		sched_chan_recv(r->pong_rx, &m, sizeof(m), &len);
		m++;
	}
	return (intptr_t)m;
}

static intptr_t ponger(void *arg)
{
	struct rtt *r = arg;
	uint64_t m;
	size_t len;

	for (unsigned i = 0; i < r->rounds; i++) {
		sched_chan_recv(r->ping_rx, &m, sizeof(m), &len);
		sched_chan_send(r->pong_tx, &m, sizeof(m));
	}
	return 0;
}

static double sched_chan_rtt(unsigned hart_a, unsigned hart_b, unsigned rounds)
{
	struct sched_attr a = { .name = "pinger", .hart = (int)hart_a, .pinned = true };
	struct sched_attr b = { .name = "ponger", .hart = (int)hart_b, .pinned = true };
	struct rtt r = { .rounds = rounds };
	sched_task_t ta, tb;
	double t0;

	sched_chan_create(1, 8, &r.ping_tx, &r.ping_rx);
	sched_chan_create(1, 8, &r.pong_tx, &r.pong_rx);
	t0 = bench_now_ns();
	sched_spawn(&tb, ponger, &r, &b);
	sched_spawn(&ta, pinger, &r, &a);
	sched_join(ta, NULL);
	sched_join(tb, NULL);
	t0 = (bench_now_ns() - t0) / rounds;
	sched_chan_close(r.ping_tx);
	sched_chan_close(r.ping_rx);
	sched_chan_close(r.pong_tx);
	sched_chan_close(r.pong_rx);
	return t0;
}

static double late_us[LATENCY_SAMPLES];

static intptr_t late_sleeper(void *arg)
{
	uint64_t seed = 1;

	(void)arg;
	for (unsigned i = 0; i < LATENCY_SAMPLES; i++) {
		uint64_t deadline;

		seed = seed * 6364136223846793005ull + 1;
		deadline = sched_now() + 200000 + (seed >> 33) % 500000;
		sched_sleep_until(deadline);
		late_us[i] = (double)(sched_now() - deadline) / 1000;
	}
	return 0;
}

static double sched_wake_latency(void)
{
	struct sched_attr a = { .name = "sleeper", .hart = 1, .pinned = true };
	sched_task_t t;

	if (hal_hart_count() < 2)
		a.hart = 0;
	sched_spawn(&t, late_sleeper, NULL, &a);
	sched_join(t, NULL);
	return bench_p99(late_us, LATENCY_SAMPLES);
}

static sched_handle_t blocked_tx, blocked_rx;
static uint64_t blocked_deadline;

static intptr_t blocked_sleeper(void *arg)
{
	(void)arg;
	sched_sleep_until(blocked_deadline);
	return 0;
}

static intptr_t blocked_receiver(void *arg)
{
	char m;
	size_t len;

	(void)arg;
	return sched_chan_recv(blocked_rx, &m, 1, &len);
}

static uint64_t frames_used(void)
{
	struct frame_stats st;

	frame_drain_caches();
	frame_stats(&st);
	return st.total - st.free;
}

/* How many stacks the host's vm.max_map_count leaves room for, after
 * trying to raise it (root only). */
static unsigned blocked_capacity(void)
{
	unsigned long have = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f) {
		if (fscanf(f, "%lu", &have) != 1)
			have = 0;
		fclose(f);
	}
	if (have < MAP_COUNT_WANT && (f = fopen("/proc/sys/vm/max_map_count", "w"))) {
		if (fprintf(f, "%d\n", MAP_COUNT_WANT) > 0 && fclose(f) == 0) {
			fprintf(stderr, "bench_sched: raised vm.max_map_count from %lu to %d\n",
				have, MAP_COUNT_WANT);
			have = MAP_COUNT_WANT;
		}
	}
	/* Two mappings per stack, and room for everything else. */
	if (have <= 20000)
		return 0;
	return (have - 20000) / 2 < BLOCKED ? (unsigned)((have - 20000) / 2) : BLOCKED;
}

static void blocked_task_mem(struct figures *fig)
{
	static sched_task_t t[BLOCKED];
	struct sched_attr a = { .name = "blocked", .stack_size = SCHED_STACK_MIN };
	struct sched_stack_stats sst;
	unsigned n = blocked_capacity(), spawned;
	uint64_t before;

	sched_stack_stats(&sst);
	sched_stack_set_limit(sst.mapped + n);
	if (n < BLOCKED)
		fprintf(stderr, "bench_sched: vm.max_map_count allows only %u blocked tasks\n", n);
	sched_chan_create(1, 1, &blocked_tx, &blocked_rx);
	before = frames_used();
	blocked_deadline = sched_now() + 8000000000ull;
	for (spawned = 0; spawned < n; spawned++)
		if (sched_spawn(&t[spawned], spawned % 2 ? blocked_receiver : blocked_sleeper,
				NULL, &a))
			break;
	/* Let every one of them run into its blocking call. */
	sched_sleep(200000000);
	fig->blocked = spawned;
	fig->blocked_kib = spawned ? (double)(frames_used() - before) * FRAME_SIZE / 1024 /
			   spawned : 0;
	sched_chan_close(blocked_tx);
	for (unsigned i = 0; i < spawned; i++)
		sched_join(t[i], NULL);
	sched_chan_close(blocked_rx);
	sched_stack_set_limit(SCHED_STACK_LIMIT_DEFAULT);
}

static int bench_body(void *arg)
{
	struct figures *fig = arg;

	fig->sched_switch = fig->spawn_join = fig->rtt_local = fig->rtt_remote = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		fig->sched_switch = bench_best(fig->sched_switch, sched_switch());
		fig->spawn_join = bench_best(fig->spawn_join, sched_spawn_join());
		fig->rtt_local = bench_best(fig->rtt_local, sched_chan_rtt(0, 0, RTTS));
		if (hal_hart_count() > 1)
			fig->rtt_remote = bench_best(fig->rtt_remote,
						     sched_chan_rtt(0, 1, REMOTE_RTTS));
	}
	fig->wake_latency = sched_wake_latency();
	blocked_task_mem(fig);
	return 0;
}

int main(void)
{
	struct hosted_config cfg;
	struct figures fig;
	double asm_ns = 1e30, futex_ns = 1e30, thread_ns = 1e30, timer_us;

	for (int r = 0; r < ROUNDS; r++) {
		asm_ns = bench_best(asm_ns, host_switch_asm());
		futex_ns = bench_best(futex_ns, host_futex_pingpong());
		thread_ns = bench_best(thread_ns, host_pthread_create_join());
	}
	timer_us = host_timer_lateness();

	hosted_config_default(&cfg);
	cfg.memory = 1ull << 30;
	if (hosted_run(&cfg, bench_body, &fig) != 0) {
		fprintf(stderr, "bench_sched: the kernel did not run\n");
		return 1;
	}
	bench_report("sched.switch", fig.sched_switch, 1, "ns");
	bench_report("host.switch_asm", asm_ns, 1, "ns");
	bench_report("host.futex_pingpong", futex_ns, 1, "ns");
	bench_report("sched.spawn_join", fig.spawn_join, 1, "ns");
	bench_report("host.pthread_create_join", thread_ns, 1, "ns");
	bench_report("sched.chan_rtt.local", fig.rtt_local, 1, "ns");
	if (cfg.harts > 1)
		bench_report("sched.chan_rtt.remote", fig.rtt_remote, 1, "ns");
	bench_report("sched.blocked_task_mem", fig.blocked_kib, 2, "KiB");
	bench_report("sched.wake_latency", fig.wake_latency, 1, "us");
	bench_report("host.timer_lateness", timer_us, 1, "us");
	if (fig.blocked < BLOCKED)
		fprintf(stderr, "bench_sched: sched.blocked_task_mem measured with %u tasks, not %u\n",
			fig.blocked, BLOCKED);
	return 0;
}
