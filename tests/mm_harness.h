/*
 * mm_harness.h - what the memory-manager tests (test_frame.c, test_kheap.c)
 * share beyond harness.h: a child machine that is expected to panic, a
 * reproducible random source, and snapshots of the frame allocator's free
 * lists.
 */
#ifndef K23_TESTS_MM_HARNESS_H
#define K23_TESTS_MM_HARNESS_H

#include <stdint.h>
#include <string.h>
#include "../kernel/frame.h"
#include "../kernel/hal.h"
#include "harness.h"

/* Boot body in a child machine (2 harts, 16 MiB; harness_boot_child) and
 * expect it to stop with a panic whose message contains `what`. */
static inline void mm_expect_panic(int (*body)(void *), const char *what)
{
	static struct harness_outcome o;

	harness_boot_child(&o, 2, 16u << 20, body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) != 0,
		  "expected a panic, child ended with status %#x:\n%s", o.status, o.out);
	cr_assert(strstr(o.out, "panic"), "no panic in:\n%s", o.out);
	cr_assert(strstr(o.out, what), "expected \"%s\" in:\n%s", what, o.out);
}

/* xorshift64*: reproducible sequences from a seed printed on failure. */
static inline uint64_t mm_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The free lists of the frame allocator, order by order (INV-FRAME-3). */
struct mm_snapshot {
	uint64_t blocks[FRAME_MAX_ORDER + 1];
	uint64_t free;
};

/* Drain every hart's cache, then record the buddy lists. */
static inline void mm_snapshot(struct mm_snapshot *s)
{
	struct frame_stats st;

	frame_drain_caches();
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		s->blocks[o] = frame_free_blocks(o);
	frame_stats(&st);
	cr_assert_eq(st.cached, 0, "%llu frames still cached after a drain",
		     (unsigned long long)st.cached);
	s->free = st.free;
}

/* The buddy lists are exactly as in `before`. */
static inline void mm_expect_snapshot(const struct mm_snapshot *before, const char *when)
{
	struct mm_snapshot now;

	mm_snapshot(&now);
	cr_assert_eq(now.free, before->free, "%s: %llu frames free, %llu before", when,
		     (unsigned long long)now.free, (unsigned long long)before->free);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		cr_assert_eq(now.blocks[o], before->blocks[o],
			     "%s: %llu free blocks of order %u, %llu before", when,
			     (unsigned long long)now.blocks[o], o,
			     (unsigned long long)before->blocks[o]);
}

#endif /* K23_TESTS_MM_HARNESS_H */
