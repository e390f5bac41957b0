/*
 * frame.h - the physical frame allocator.
 *
 * Power-of-two blocks of 4 KiB frames (order 0 = 4 KiB ... FRAME_MAX_ORDER),
 * a buddy system over every RAM region with coalescing on free, and per-hart
 * caches of order-0 frames so that the common alloc/free takes no global
 * lock.  Frames come back uninitialised; freed frames are poisoned.
 */
#ifndef K23_FRAME_H
#define K23_FRAME_H

#include <stdint.h>
#include "hal.h"

#define FRAME_SHIFT	12
#define FRAME_SIZE	(1ull << FRAME_SHIFT)
#define FRAME_MAX_ORDER	18	/* 1 GiB: the largest Sv39 leaf */

/* Take every RAM region from hal_mem_regions().  Boot, hart 0, once. */
int frame_init(void);

/*
 * Allocate 2^order contiguous frames, aligned to their size.
 * Returns 0 and the physical address in *pa, -K_ENOMEM when no block of
 * that order is free, -K_EINVAL for an order above FRAME_MAX_ORDER.
 * Frames in other harts' caches do not count as free here; the caller's
 * own cached frames are given back to the buddy lists before a larger
 * order fails, since they may complete a block.
 */
int frame_alloc(unsigned order, paddr_t *pa);

/*
 * Make an allocated block of this order 2^order allocated order-0 frames,
 * each to be freed on its own: memory taken contiguous but given back a
 * page at a time.  Panics if pa is not the head of such a block.
 */
void frame_split(paddr_t pa, unsigned order);

/* Free a block from frame_alloc() with the same order.  Panics on a
 * double free or a misaligned/foreign address, judged from the allocator's
 * own state: the block's contents (a guest's, for guest memory) can hold
 * anything. */
void frame_free(paddr_t pa, unsigned order);

struct frame_stats {
	uint64_t total;		/* frames under management */
	uint64_t free;		/* frames free, including per-hart caches */
	uint64_t cached;	/* of which in per-hart caches */
	uint64_t peak;		/* most frames off the buddy lists at once
				 * (allocated or cached) since boot or
				 * frame_reset_peak() */
};
void frame_stats(struct frame_stats *st);

/* Start frame_stats().peak afresh from the frames off the lists now
 * (total - free + cached): for how much memory one piece of work needs at
 * most (bench_jit's compile). */
void frame_reset_peak(void);

/*
 * Return every per-hart cache to the buddy lists (tests, low memory).
 * Each hart empties its own cache through smp_call_all(), so the caches
 * need no lock: call it with interrupts enabled, after boot, and not from
 * inside a cross-hart call.  Other harts must reach their idle loop.
 */
void frame_drain_caches(void);

/*
 * The allocated block containing pa: its first frame and its order.
 * Returns 0, or -K_ENOENT when pa is in no allocated block (free, also
 * in a hart cache; reserved; or not RAM).
 * Lets kfree() find a slab from an object address.
 */
int frame_lookup(paddr_t pa, paddr_t *head, unsigned *order);

/* Number of free blocks of exactly this order in the buddy lists. */
uint64_t frame_free_blocks(unsigned order);

#endif /* K23_FRAME_H */
