/*
 * hosted.h - booting the kernel inside a Linux process.  Used by
 * hosted/main.c (the k23sim program), by the unit tests and by the
 * benchmarks, so that all of them run the same boot.
 */
#ifndef K23_HOSTED_H
#define K23_HOSTED_H

#include <stdbool.h>
#include <stdint.h>

struct hosted_config {
	unsigned harts;		/* 1..HAL_MAX_HARTS */
	uint64_t memory;	/* bytes of simulated RAM */
	unsigned paging;	/* PT_SV39/48/57 */
	const char *log_filter;	/* K23_LOG syntax, or NULL */
	bool selfcheck;		/* run the kernel's boot self-check */
	bool quiet;		/* no banner */
	bool perf_map;		/* name JIT code in /tmp/perf-PID.map */
};

#define HOSTED_MIN_MEMORY	(8ull << 20)
#define HOSTED_MAX_MEMORY	(64ull << 30)

void hosted_config_default(struct hosted_config *cfg);

/*
 * Bring up the platform (RAM memfd, signals, vm_sim), boot the kernel on the
 * calling thread as hart 0, start the other harts, and run init(arg) on
 * hart 0 once the kernel is up.  Returns init's status after the other
 * harts have been stopped and the platform torn down, or a negative -K_*
 * if the platform could not come up (reported on stderr).  Once per
 * process.
 */
int hosted_run(const struct hosted_config *cfg, int (*init)(void *), void *arg);

#endif /* K23_HOSTED_H */
