/*
 * stack.h - task stacks (sched/ internal).
 *
 * A stack is 2^order contiguous frames mapped, with an unmapped guard page
 * below it, into the kernel's stack address space, so that running off the
 * bottom is a page fault that names the task (sched_stack_overflow), not
 * silent corruption of a neighbour.  Mapping costs a page-table edit and,
 * hosted, a host mmap (microseconds), so freed stacks stay mapped and are
 * reused.
 *
 * Host mappings: hosted, every live stack is one host mapping (its frames
 * are contiguous) and the inaccessible gap holding its guard page is
 * another, so N stacks use about 2N of the process's vm.max_map_count
 * (65,530 by default).  The number of mapped stacks is capped (see
 * sched_stack_set_limit) so that spawning past what the host allows fails
 * with -K_ENOMEM instead of aborting inside vm_sim.
 *
 * The cross-architecture test programs (tests/cross/) provide their own
 * implementation of these functions over plain mmap.
 */
#ifndef K23_SCHED_STACK_H
#define K23_SCHED_STACK_H

#include <stdint.h>
#include "../kernel/hal.h"

#define SCHED_STACK_MAX_ORDER	11	/* 8 MiB */
/* Default cap on mapped stacks: ~2 host mappings each, leaving about a
 * quarter of the default vm.max_map_count to everything else. */
#define SCHED_STACK_LIMIT_DEFAULT	24000u

/* Boot, hart 0, after the frame allocator and address spaces. */
int sched_stack_init(void);

/* A stack of FRAME_SIZE << order bytes: 0 and its lowest address in *base,
 * or -K_ENOMEM (no frames, or the cap on mapped stacks reached). */
int sched_stack_alloc(unsigned order, void **base);
void sched_stack_free(void *base, unsigned order);

/* Cap on stacks mapped at once (free ones included); lowering it below the
 * current count only stops new mappings.  Hosted, raise it together with
 * vm.max_map_count (about 2 per stack). */
void sched_stack_set_limit(uint64_t max_stacks);

struct sched_stack_stats {
	uint64_t mapped;	/* stacks mapped, in use or free */
	uint64_t free;		/* of which waiting for reuse */
	uint64_t limit;
};
void sched_stack_stats(struct sched_stack_stats *st);

/* sched.c: a fault hit the guard page of the stack at base (size bytes):
 * report the task that owns it and stop. */
_Noreturn void sched_stack_overflow(void *base, size_t size, const struct trap_frame *tf);

#endif /* K23_SCHED_STACK_H */
