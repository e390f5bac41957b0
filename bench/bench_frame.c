/*
 * bench_frame.c - what the frame allocator and the kernel heap cost, next
 * to glibc's malloc measured in the same run:
 *   frame.alloc_free.1hart      one 4 KiB frame allocated and freed, per
 *                               pair, on hart 0 alone
 *   frame.alloc_free.allharts   the same on every hart at once (the lead
 *                               hart waits for all), per pair per hart
 *   host.malloc_free_4k         glibc malloc(4096) + free
 *   kheap.kmalloc_free_64       kmalloc(64) + kfree
 *   host.malloc_free_64         glibc malloc(64) + free
 * Each figure is the best of a few rounds (the machine is shared).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "../hosted/hosted.h"
#include "../kernel/frame.h"
#include "../kernel/hal.h"
#include "../kernel/kheap.h"
#include "../kernel/smp.h"
#include "bench.h"

#define ROUNDS	15
#define PAIRS	500000

/* Stores the last pointer so the compiler cannot drop malloc/free pairs. */
static void *volatile sink;

/* ns per frame_alloc(0) + frame_free() pair on the calling hart. */
static double frame_pairs(void)
{
	double t0 = bench_now_ns();
	paddr_t pa;

	for (unsigned i = 0; i < PAIRS; i++) {
		if (frame_alloc(0, &pa) < 0) {
			fprintf(stderr, "bench_frame: frame_alloc failed\n");
			exit(1);
		}
		frame_free(pa, 0);
	}
	return (bench_now_ns() - t0) / PAIRS;
}

static double kheap_pairs(size_t size)
{
	double t0 = bench_now_ns();

	for (unsigned i = 0; i < PAIRS; i++) {
		void *p = kmalloc(size);

		sink = p;
		kfree(p);
	}
	return (bench_now_ns() - t0) / PAIRS;
}

static double host_pairs(size_t size)
{
	double t0 = bench_now_ns();

	for (unsigned i = 0; i < PAIRS; i++) {
		void *p = malloc(size);

		sink = p;
		free(p);
	}
	return (bench_now_ns() - t0) / PAIRS;
}

/* -- Every hart at once ---------------------------------------------------- */

static atomic_uint arrived;
static double hart_ns[HAL_MAX_HARTS];

/* Runs on every hart: wait until all are here, then time the pairs. */
static void frame_pairs_on_each(void *arg)
{
	unsigned round = *(unsigned *)arg;

	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < (round + 1) * hal_hart_count())
		;
	hart_ns[hal_hart_id()] = frame_pairs();
}

static double frame_pairs_all_harts(unsigned round)
{
	double sum = 0;

	smp_call_all(frame_pairs_on_each, &round);
	for (unsigned h = 0; h < hal_hart_count(); h++)
		sum += hart_ns[h];
	return sum / hal_hart_count();
}

static int run(void *arg)
{
	double one = 1e9, all = 1e9, m4k = 1e9, km64 = 1e9, m64 = 1e9;

	(void)arg;
	for (unsigned r = 0; r < ROUNDS; r++) {
		one = bench_best(one, frame_pairs());
		all = bench_best(all, frame_pairs_all_harts(r));
		m4k = bench_best(m4k, host_pairs(4096));
		km64 = bench_best(km64, kheap_pairs(64));
		m64 = bench_best(m64, host_pairs(64));
	}
	bench_report("frame.alloc_free.1hart", one, 1, "ns");
	bench_report("frame.alloc_free.allharts", all, 1, "ns");
	bench_report("host.malloc_free_4k", m4k, 1, "ns");
	bench_report("kheap.kmalloc_free_64", km64, 1, "ns");
	bench_report("host.malloc_free_64", m64, 1, "ns");
	printf("bench_frame: %u harts; allharts/1hart = %.2f (target <= 2)\n",
	       hal_hart_count(), all / one);
	fflush(stdout);
	return 0;
}

int main(void)
{
	struct hosted_config cfg;

	hosted_config_default(&cfg);
	cfg.quiet = true;
	return hosted_run(&cfg, run, NULL) == 0 ? 0 : 1;
}
