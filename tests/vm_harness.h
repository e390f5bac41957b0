/*
 * vm_harness.h - what the paging tests (test_pt.c, test_vmsim.c) share
 * beyond harness.h: booting one hart in a given paging mode (the body
 * reads it back with kernel_paging_mode()), and counting free frames.
 */
#ifndef K23_TESTS_VM_HARNESS_H
#define K23_TESTS_VM_HARNESS_H

#include <stdint.h>
#include "../kernel/boot.h"
#include "../kernel/frame.h"
#include "harness.h"

/* Boot one hart with `memory` bytes of RAM in paging mode `mode`
 * (PT_SV39/48/57) and run body on it (harness_run). */
static inline void vm_boot(unsigned mode, uint64_t memory, int (*body)(void *))
{
	struct hosted_config cfg = harness_config(1, memory);

	cfg.paging = mode;
	harness_run(&cfg, body);
}

/* Free frames, with every hart's cache drained back first. */
static inline uint64_t vm_free_frames(void)
{
	struct frame_stats st;

	frame_drain_caches();
	frame_stats(&st);
	return st.free;
}

#endif /* K23_TESTS_VM_HARNESS_H */
