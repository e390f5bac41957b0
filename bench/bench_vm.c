/*
 * bench_vm.c - what the simulated MMU costs, next to the host operations
 * it is made of, measured in the same run:
 *   vm.map_flush_4k / vm.map_flush_2m   as_map of one leaf (pt_map + flush
 *                                        into the window), per leaf
 *   host.mmap_4k                        one raw mmap(MAP_FIXED|MAP_SHARED)
 *                                        of a memfd page
 *   vm.fault_roundtrip                  first touch of a lazy page: host
 *                                        fault, kernel_trap, frame, PTE,
 *                                        flush, resume
 *   host.sigsegv_mmap_roundtrip         a raw SIGSEGV whose handler maps a
 *                                        memfd page over the address
 * Each figure is the best of a few rounds (the machine is shared).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../hosted/hosted.h"
#include "../kernel/as.h"
#include "../kernel/frame.h"
#include "../kernel/pt.h"
#include "bench.h"

#define ROUNDS		5
#define MAP_PAGES	2000
#define MAP_HUGE	200
#define FAULT_PAGES	5000

static void die(const char *what)
{
	fprintf(stderr, "bench_vm: %s failed\n", what);
	exit(1);
}

/* -- Host baselines (before the kernel boots: they own SIGSEGV) ----------- */

static int base_fd;
static uint8_t *base_area;

static double host_mmap_4k(void)
{
	double t0, t;

	base_area = mmap(NULL, (size_t)MAP_PAGES << 12, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base_area == MAP_FAILED)
		die("mmap");
	t0 = bench_now_ns();
	/* The same page everywhere, so that no two neighbours merge: like
	 * the per-page flushes of vm.map_flush_4k. */
	for (unsigned i = 0; i < MAP_PAGES; i++)
		if (mmap(base_area + ((size_t)i << 12), 4096, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_SHARED, base_fd, 0) == MAP_FAILED)
			die("mmap");
	t = (bench_now_ns() - t0) / MAP_PAGES;
	munmap(base_area, (size_t)MAP_PAGES << 12);
	return t;
}

static void segv_map_page(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)4095;

	(void)sig;
	(void)ctx;
	if (mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, base_fd,
		 (off_t)(page - (uintptr_t)base_area)) == MAP_FAILED)
		abort();
}

static double host_sigsegv_roundtrip(void)
{
	struct sigaction sa = { .sa_sigaction = segv_map_page, .sa_flags = SA_SIGINFO };
	struct sigaction old;
	double t0, t;

	base_area = mmap(NULL, (size_t)FAULT_PAGES << 12, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base_area == MAP_FAILED || sigaction(SIGSEGV, &sa, &old) < 0)
		die("setup");
	/* Fresh memfd pages, as the kernel hands out fresh frames. */
	if (ftruncate(base_fd, 0) < 0 || ftruncate(base_fd, (off_t)FAULT_PAGES << 12) < 0)
		die("ftruncate");
	t0 = bench_now_ns();
	for (unsigned i = 0; i < FAULT_PAGES; i++)
		((volatile uint8_t *)base_area)[(size_t)i << 12] = 1;
	t = (bench_now_ns() - t0) / FAULT_PAGES;
	sigaction(SIGSEGV, &old, NULL);
	munmap(base_area, (size_t)FAULT_PAGES << 12);
	return t;
}

/* -- The kernel's side ------------------------------------------------------ */

struct results {
	double map_4k, map_2m, fault;
};

static int bench_kernel(void *arg)
{
	struct results *r = arg;
	paddr_t frame, block;

	if (frame_alloc(0, &frame) < 0 || frame_alloc(9, &block) < 0)
		die("frame_alloc");
	r->map_4k = r->map_2m = r->fault = 1e30;
	for (unsigned round = 0; round < ROUNDS; round++) {
		struct as *as;
		double t0;

		if (as_create(&as, 0) < 0)
			die("as_create");
		t0 = bench_now_ns();
		for (unsigned i = 0; i < MAP_PAGES; i++)
			if (as_map(as, PT_SIZE_1G + (uint64_t)i * PT_SIZE_4K, frame, PT_SIZE_4K,
				   PTE_R | PTE_W, PT_SIZE_4K) < 0)
				die("as_map 4k");
		r->map_4k = bench_best(r->map_4k, (bench_now_ns() - t0) / MAP_PAGES);

		t0 = bench_now_ns();
		for (unsigned i = 0; i < MAP_HUGE; i++)
			if (as_map(as, 4 * PT_SIZE_1G + (uint64_t)i * PT_SIZE_2M, block, PT_SIZE_2M,
				   PTE_R | PTE_W, PT_SIZE_2M) < 0)
				die("as_map 2m");
		r->map_2m = bench_best(r->map_2m, (bench_now_ns() - t0) / MAP_HUGE);

		if (as_reserve_lazy(as, 8 * PT_SIZE_1G, (uint64_t)FAULT_PAGES * PT_SIZE_4K,
				    PTE_R | PTE_W) < 0)
			die("as_reserve_lazy");
		t0 = bench_now_ns();
		for (unsigned i = 0; i < FAULT_PAGES; i++)
			*(volatile uint8_t *)as_ptr(as, 8 * PT_SIZE_1G + (uint64_t)i * PT_SIZE_4K) = 1;
		r->fault = bench_best(r->fault, (bench_now_ns() - t0) / FAULT_PAGES);
		as_destroy(as);
	}
	frame_free(block, 9);
	frame_free(frame, 0);
	return 0;
}

int main(void)
{
	struct hosted_config cfg;
	struct results r;
	double mmap_4k = 1e30, segv = 1e30;

	base_fd = memfd_create("bench-vm", MFD_CLOEXEC);
	if (base_fd < 0 || ftruncate(base_fd, 4096) < 0)
		die("memfd");
	for (unsigned round = 0; round < ROUNDS; round++) {
		mmap_4k = bench_best(mmap_4k, host_mmap_4k());
		segv = bench_best(segv, host_sigsegv_roundtrip());
	}
	close(base_fd);

	hosted_config_default(&cfg);
	cfg.memory = 256ull << 20;
	if (hosted_run(&cfg, bench_kernel, &r) != 0)
		die("hosted_run");
	bench_report("vm.map_flush_4k", r.map_4k, 0, "ns");
	bench_report("vm.map_flush_2m", r.map_2m, 0, "ns");
	bench_report("host.mmap_4k", mmap_4k, 0, "ns");
	bench_report("vm.fault_roundtrip", r.fault / 1000, 2, "us");
	bench_report("host.sigsegv_mmap_roundtrip", segv / 1000, 2, "us");
	return 0;
}
