/*
 * bench_metal.c - the kernel on riscv64 under qemu-system-riscv64 (TCG):
 *   metal.boot_ms       from starting QEMU (OpenSBI included) to the boot
 *                       self-check's last line on the console, 4 harts,
 *                       median of BOOTS boots
 *   metal.switch_ns     the scheduler's switch (two pinned tasks yielding),
 *                       timed in the guest with the time CSR
 *   metal.switch_ratio  that over the bare sched_ctx_switch() in the same
 *                       guest: under emulation only the ratio means much
 * The images are build/metal/k23.elf and k23-test.elf (make metal); run
 * from the top of the tree, as `make bench` does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#define BOOTS	7
/* A hung guest must not hang the benchmarks. */
#define QEMU	"timeout -k 5 60 qemu-system-riscv64 -machine virt -nographic -bios default "

/* ms until the last self-check line, or -1 if the boot failed. */
static double boot_once(void)
{
	char line[256];
	double t0 = bench_now_ns(), seen = -1;
	FILE *p = popen(QEMU "-m 512M -smp 4 -kernel build/metal/k23.elf </dev/null 2>&1", "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (seen < 0 && !strncmp(line, "self-check: IPI and timer interrupt on each hart", 48))
			seen = (bench_now_ns() - t0) / 1e6;
	if (pclose(p) != 0)
		return -1;
	return seen;
}

/* The guest's figures: 0 and both values, or -1. */
static int switch_figures(double *sched_ns, double *asm_ns)
{
	char line[256];
	int found = 0;
	FILE *p = popen(QEMU "-m 128M -smp 1 -kernel build/metal/k23-test.elf "
			"-append case=bench </dev/null 2>&1", "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "metal-bench: switch_ns %lf", sched_ns) == 1)
			found |= 1;
		else if (sscanf(line, "metal-bench: switch_asm_ns %lf", asm_ns) == 1)
			found |= 2;
	}
	return pclose(p) == 0 && found == 3 && *asm_ns > 0 ? 0 : -1;
}

int main(void)
{
	double boots[BOOTS], sched_ns, asm_ns;

	for (int i = 0; i < BOOTS; i++) {
		if ((boots[i] = boot_once()) < 0) {
			fprintf(stderr, "bench_metal: build/metal/k23.elf did not boot and pass its self-check\n");
			return 1;
		}
	}
	if (switch_figures(&sched_ns, &asm_ns) < 0) {
		fprintf(stderr, "bench_metal: the switch benchmark in build/metal/k23-test.elf failed\n");
		return 1;
	}
	bench_report("metal.boot_ms", bench_median(boots, BOOTS), 1, "ms");
	bench_report("metal.switch_ns", sched_ns, 1, "ns");
	bench_report("metal.switch_ratio", sched_ns / asm_ns, 2, "x");
	return 0;
}
