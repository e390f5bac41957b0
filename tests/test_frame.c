/*
 * test_frame.c - the physical frame allocator (kernel/frame.c) against an
 * independent model: the set of frames the test owns, one bit per frame of
 * RAM.  Invariants cited as INV-FRAME-n are listed at the top of frame.c.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "mm_harness.h"
#include "../kernel/kerr.h"
#include "../kernel/smp.h"

/* -- The model: blocks the test owns ------------------------------------ */

struct owned {
	paddr_t pa;
	unsigned order;
	uint64_t tag;		/* written at both ends of the block */
};

struct model {
	paddr_t ram_base, ram_end;	/* the one hosted RAM region */
	uint8_t *bits;			/* frame owned by the test */
	struct owned *blk;
	size_t n, cap;
	uint64_t frames;		/* frames owned */
	uint64_t next_tag;
};

static void model_init(struct model *m)
{
	const struct hal_mem_region *r;

	cr_assert_eq(hal_mem_regions(&r), 1, "hosted RAM is one region");
	memset(m, 0, sizeof(*m));
	m->ram_base = r[0].base;
	m->ram_end = r[0].base + r[0].size;
	m->bits = calloc((r[0].size >> FRAME_SHIFT) / 8 + 1, 1);
	m->cap = 1024;
	m->blk = malloc(m->cap * sizeof(*m->blk));
	m->next_tag = 0x7e57000000000001ull;
	cr_assert(m->bits && m->blk);
}

static void model_fini(struct model *m)
{
	free(m->bits);
	free(m->blk);
}

static uint64_t *block_word(paddr_t pa, uint64_t offset)
{
	return (uint64_t *)((uint8_t *)hal_phys_to_virt(pa) + offset);
}

/* Record a block frame_alloc() returned: INV-FRAME-1/2 seen from outside. */
static void model_take(struct model *m, paddr_t pa, unsigned order)
{
	uint64_t size = FRAME_SIZE << order;
	struct owned *b;

	cr_assert(pa % size == 0, "block %#llx of order %u not aligned to its size",
		  (unsigned long long)pa, order);
	cr_assert(pa >= m->ram_base && pa + size <= m->ram_end,
		  "block %#llx of order %u outside RAM", (unsigned long long)pa, order);
	for (uint64_t f = (pa - m->ram_base) >> FRAME_SHIFT, i = 0; i < (1ull << order); i++) {
		cr_assert(!(m->bits[(f + i) / 8] & (1u << ((f + i) % 8))),
			  "frame %#llx handed out twice", (unsigned long long)(pa + i * FRAME_SIZE));
		m->bits[(f + i) / 8] |= (uint8_t)(1u << ((f + i) % 8));
	}
	if (m->n == m->cap) {
		m->cap *= 2;
		m->blk = realloc(m->blk, m->cap * sizeof(*m->blk));
		cr_assert(m->blk);
	}
	b = &m->blk[m->n++];
	b->pa = pa;
	b->order = order;
	b->tag = m->next_tag++;
	*block_word(pa, 0) = b->tag;
	*block_word(pa, size - 8) = ~b->tag;
	m->frames += 1ull << order;
}

/* Free the i-th owned block, checking nobody else wrote into it. */
static void model_give(struct model *m, size_t i)
{
	struct owned b = m->blk[i];
	uint64_t size = FRAME_SIZE << b.order;

	cr_assert_eq(*block_word(b.pa, 0), b.tag, "block %#llx overwritten while owned",
		     (unsigned long long)b.pa);
	cr_assert_eq(*block_word(b.pa, size - 8), ~b.tag, "block %#llx end overwritten",
		     (unsigned long long)b.pa);
	for (uint64_t f = (b.pa - m->ram_base) >> FRAME_SHIFT, j = 0; j < (1ull << b.order); j++)
		m->bits[(f + j) / 8] &= (uint8_t)~(1u << ((f + j) % 8));
	m->blk[i] = m->blk[--m->n];
	m->frames -= 1ull << b.order;
	frame_free(b.pa, b.order);
}

static void model_give_all(struct model *m)
{
	while (m->n)
		model_give(m, m->n - 1);
}

/* Frames in free blocks of order >= k, counted in blocks of order k. */
static uint64_t blocks_available(unsigned k)
{
	uint64_t n = 0;

	for (unsigned o = k; o <= FRAME_MAX_ORDER; o++)
		n += frame_free_blocks(o) << (o - k);
	return n;
}

/* -- Single hart -------------------------------------------------------- */

static int every_order_is_aligned_inside_ram_and_disjoint(void *arg)
{
	struct mm_snapshot before;
	unsigned got = 0;
	struct model m;
	paddr_t pa;

	(void)arg;
	model_init(&m);
	mm_snapshot(&before);
	/* Hold one block of every order while any block that large is free
	 * (INV-FRAME-7); with 128 MiB, at least orders 0..13. */
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		bool avail = blocks_available(o) > 0;
		int err = frame_alloc(o, &pa);

		cr_assert_eq(err, avail ? 0 : -K_ENOMEM, "order %u: %s", o, kerr_str(err));
		if (err == 0) {
			model_take(&m, pa, o);
			got++;
		}
	}
	cr_assert_geq(got, 14);
	model_give_all(&m);
	mm_expect_snapshot(&before, "after freeing one block of every order");
	model_fini(&m);
	return 0;
}

Test(frame, every_order_is_aligned_inside_ram_and_disjoint)
{
	harness_boot(1, 128u << 20, every_order_is_aligned_inside_ram_and_disjoint);
}

static int order_above_max_is_einval(void *arg)
{
	paddr_t pa = 0;

	(void)arg;
	cr_assert_eq(frame_alloc(FRAME_MAX_ORDER + 1, &pa), -K_EINVAL);
	cr_assert_eq(frame_alloc(~0u, &pa), -K_EINVAL);
	cr_assert_eq(frame_free_blocks(FRAME_MAX_ORDER + 1), 0);
	return 0;
}

Test(frame, order_above_max_is_einval)
{
	harness_boot(1, 16u << 20, order_above_max_is_einval);
}

/* Random alloc/free of mixed orders; after each step the model and the
 * allocator agree on how much is free (INV-FRAME-4), every -K_ENOMEM is
 * justified (INV-FRAME-7), and the end state is the initial one
 * (INV-FRAME-3). */
static void random_sequence(uint64_t seed, unsigned steps, unsigned max_order)
{
	struct mm_snapshot before;
	struct frame_stats st;
	uint64_t rng = seed;
	unsigned enomem = 0;
	struct model m;

	model_init(&m);
	mm_snapshot(&before);
	for (unsigned step = 0; step < steps; step++) {
		uint64_t r = mm_rand(&rng);
		/* Free more often as memory fills, so both regimes are visited. */
		unsigned free_pct = 5 + (unsigned)(60 * m.frames / before.free);

		if (m.n && r % 100 < free_pct) {
			model_give(&m, (r >> 8) % m.n);
		} else {
			unsigned order = (r >> 8) % 100 < 60 ? 0 : 1 + (unsigned)((r >> 16) % max_order);
			paddr_t pa;
			int err = frame_alloc(order, &pa);

			if (err == -K_ENOMEM) {
				cr_assert_eq(blocks_available(order), 0,
					     "seed %#llx step %u: ENOMEM for order %u with blocks free",
					     (unsigned long long)seed, step, order);
				enomem++;
			} else {
				cr_assert_eq(err, 0, "seed %#llx step %u: %s",
					     (unsigned long long)seed, step, kerr_str(err));
				model_take(&m, pa, order);
			}
		}
		frame_stats(&st);
		cr_assert_eq(st.free + m.frames, before.free,
			     "seed %#llx step %u: %llu free + %llu owned != %llu",
			     (unsigned long long)seed, step, (unsigned long long)st.free,
			     (unsigned long long)m.frames, (unsigned long long)before.free);
	}
	cr_assert(enomem > 0, "seed %#llx never reached exhaustion", (unsigned long long)seed);
	model_give_all(&m);
	mm_expect_snapshot(&before, "after freeing everything");
	model_fini(&m);
}

static int random_alloc_free_matches_model(void *arg)
{
	(void)arg;
	for (uint64_t seed = 1; seed <= 6; seed++)
		random_sequence(seed * 0x9e3779b97f4a7c15ull, 6000, 9);
	return 0;
}

Test(frame, random_alloc_free_of_mixed_orders_matches_model)
{
	harness_boot(1, 16u << 20, random_alloc_free_matches_model);
}

/* INV-FRAME-7: exactly the free frames in blocks of order >= k can be
 * allocated as order-k blocks, then -K_ENOMEM, repeatably, without harm. */
static int exhaustion_counts(void *arg)
{
	static const unsigned orders[] = { 0, 1, 4, 9 };
	struct mm_snapshot before;
	struct model m;

	(void)arg;
	model_init(&m);
	mm_snapshot(&before);
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		unsigned k = orders[i];
		uint64_t expected = blocks_available(k), got = 0;
		paddr_t pa;
		int err;

		while ((err = frame_alloc(k, &pa)) == 0) {
			model_take(&m, pa, k);
			got++;
		}
		cr_assert_eq(err, -K_ENOMEM, "order %u: %s", k, kerr_str(err));
		cr_assert_eq(got, expected, "order %u: %llu blocks allocated, %llu free",
			     k, (unsigned long long)got, (unsigned long long)expected);
		cr_assert_eq(frame_alloc(k, &pa), -K_ENOMEM, "order %u: second try", k);
		model_give_all(&m);
		mm_expect_snapshot(&before, "after exhaustion");
	}
	model_fini(&m);
	return 0;
}

Test(frame, exhaustion_is_enomem_after_exactly_the_free_blocks)
{
	harness_boot(1, 16u << 20, exhaustion_counts);
}

/* A frame freed on a hart waits in that hart's cache (INV-FRAME-6) until
 * drained, and the stats say so. */
static int cached_frames_are_counted_and_drained(void *arg)
{
	struct mm_snapshot before;
	struct frame_stats st;
	paddr_t pa;

	(void)arg;
	mm_snapshot(&before);
	cr_assert_eq(frame_alloc(0, &pa), 0);
	frame_free(pa, 0);
	frame_stats(&st);
	cr_assert_eq(st.free, before.free);
	cr_assert_geq(st.cached, 1);
	mm_expect_snapshot(&before, "after draining");
	return 0;
}

Test(frame, cached_frames_are_counted_as_free_and_drained_back)
{
	harness_boot(2, 16u << 20, cached_frames_are_counted_and_drained);
}

/*
 * Order-0 frames taken one after another come out in ascending, mostly
 * consecutive order, as the buddy lists hand them out: pages touched in a
 * row (a growing wasm memory) then sit in consecutive frames, which the
 * hosted MMU maps as one host mapping rather than one per page.  A cache
 * that gave its batch out backwards made every step go down.
 */
static int order0_frames_come_out_ascending(void *arg)
{
	enum { N = 256 };
	static paddr_t pa[N];
	unsigned up = 0;

	(void)arg;
	frame_drain_caches();
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(frame_alloc(0, &pa[i]), 0);
		if (i && pa[i] == pa[i - 1] + FRAME_SIZE)
			up++;
	}
	cr_assert_geq(up, N - 8, "only %u of %u steps to the next frame", up, N - 1);
	for (unsigned i = 0; i < N; i++)
		frame_free(pa[i], 0);
	return 0;
}

Test(frame, order0_frames_come_out_in_ascending_consecutive_order)
{
	harness_boot(1, 64u << 20, order0_frames_come_out_ascending);
}

static int lookup_finds_the_block_of_any_address(void *arg)
{
	paddr_t pa, head = 0;
	unsigned order = 0;

	(void)arg;
	cr_assert_eq(frame_alloc(5, &pa), 0);
	for (uint64_t off = 0; off < (FRAME_SIZE << 5); off += 4088) {
		cr_assert_eq(frame_lookup(pa + off, &head, &order), 0);
		cr_assert_eq(head, pa);
		cr_assert_eq(order, 5);
	}
	frame_free(pa, 5);
	cr_assert_eq(frame_lookup(pa, &head, &order), -K_ENOENT, "free block");
	cr_assert_eq(frame_lookup(pa + FRAME_SIZE, &head, &order), -K_ENOENT);
	cr_assert_eq(frame_lookup(0x1000, &head, &order), -K_ENOENT, "not RAM");
	return 0;
}

Test(frame, lookup_finds_the_allocated_block_of_any_address)
{
	harness_boot(1, 16u << 20, lookup_finds_the_block_of_any_address);
}

/*
 * A split block is 2^order frames allocated on their own: each frees alone,
 * in any order, and once all are free the lists are what they were (the
 * block coalesces back).  Splitting what is not an allocated block panics.
 */
static int split_blocks_free_a_frame_at_a_time(void *arg)
{
	uint64_t blocks[FRAME_MAX_ORDER + 1];
	paddr_t pa, head;
	unsigned order;

	(void)arg;
	frame_drain_caches();
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		blocks[o] = frame_free_blocks(o);
	cr_assert_eq(frame_alloc(4, &pa), 0);
	frame_split(pa, 4);
	for (unsigned i = 0; i < 16; i++) {
		cr_assert_eq(frame_lookup(pa + i * FRAME_SIZE, &head, &order), 0);
		cr_assert_eq(head, pa + i * FRAME_SIZE);
		cr_assert_eq(order, 0);
	}
	for (unsigned i = 0; i < 16; i++)	/* odd ones, then even ones */
		frame_free(pa + (i < 8 ? 2 * i + 1 : 2 * (i - 8)) * FRAME_SIZE, 0);
	frame_drain_caches();
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		cr_assert_eq(frame_free_blocks(o), blocks[o], "order %u: %llu blocks, were %llu",
			     o, (unsigned long long)frame_free_blocks(o),
			     (unsigned long long)blocks[o]);
	return 0;
}

Test(frame, a_split_block_frees_a_frame_at_a_time)
{
	harness_boot(1, 16u << 20, split_blocks_free_a_frame_at_a_time);
}

static int split_inside_block(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(2, &pa) < 0)
		return 1;
	frame_split(pa + FRAME_SIZE, 1);
	return 0;
}

Test(frame, splitting_what_is_not_a_block_panics)
{
	mm_expect_panic(split_inside_block, "frame_split: 0x");
}

/* frame_stats().peak is the most frames off the lists at once since
 * frame_reset_peak() (INV-FRAME-4): blocks held together count, a block
 * freed before the next is taken does not, and a merge on free is no dip. */
static int peak_is_the_most_frames_taken_at_once(void *arg)
{
	struct frame_stats st;
	paddr_t a, b, c;
	uint64_t base;

	(void)arg;
	frame_drain_caches();
	frame_reset_peak();
	frame_stats(&st);
	base = st.total - st.free;
	cr_assert_eq(st.peak, base);
	cr_assert_eq(frame_alloc(5, &a), 0);
	cr_assert_eq(frame_alloc(3, &b), 0);
	frame_free(a, 5);
	cr_assert_eq(frame_alloc(4, &c), 0);
	frame_free(b, 3);
	frame_free(c, 4);
	frame_stats(&st);
	cr_assert_eq(st.peak, base + 32 + 8, "peak %llu, expected %llu",
		     (unsigned long long)st.peak, (unsigned long long)(base + 40));
	frame_reset_peak();
	frame_stats(&st);
	cr_assert_eq(st.peak, base, "after a reset");
	return 0;
}

Test(frame, peak_counts_the_most_frames_taken_at_once_since_a_reset)
{
	harness_boot(1, 16u << 20, peak_is_the_most_frames_taken_at_once);
}

/*
 * Guests own frames and write what they like into them; freeing such a
 * frame must not depend on its contents (INV-FRAME-8).  The word the
 * allocator once took as proof of a double free - the free mark at offset
 * 16, FRAME_POISON ^ pa (frame.c) - is guessable, so a guest could plant
 * it and make the kernel panic on unmap.
 */
#define OLD_FREE_MARK(pa)	(0x6b6b6b6b6b6b6b6bull ^ (pa))

static int planted_free_mark_is_just_data(void *arg)
{
	static const unsigned orders[] = { 0, 0, 3 };
	struct mm_snapshot before;
	paddr_t pa[3], again;

	(void)arg;
	mm_snapshot(&before);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(frame_alloc(orders[i], &pa[i]), 0);
		*block_word(pa[i], 16) = OLD_FREE_MARK(pa[i]);
	}
	for (unsigned i = 0; i < 3; i++)
		frame_free(pa[i], orders[i]);
	/* Both order-0 frames went to this hart's cache and come back out. */
	cr_assert_eq(frame_alloc(0, &again), 0);
	cr_assert(again == pa[0] || again == pa[1]);
	frame_free(again, 0);
	mm_expect_snapshot(&before, "after freeing frames holding the free mark");
	return 0;
}

Test(frame, a_frame_holding_its_free_mark_is_freed_without_a_panic)
{
	harness_boot(2, 16u << 20, planted_free_mark_is_just_data);
}

/* -- Misuse panics naming the function (INV-FRAME-5/8) -------------------- */

/*
 * The bodies below run in a child that must end in a panic: they do not
 * use cr_assert (the child is no Criterion test); a setup step that fails
 * returns 1, which the parent reports as "expected a panic".
 */

static int double_free_0(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(0, &pa) < 0)
		return 1;
	frame_free(pa, 0);
	frame_free(pa, 0);
	return 0;
}

Test(frame, double_free_of_a_cached_frame_panics)
{
	mm_expect_panic(double_free_0, "frame_free: double free of");
}

/* The second free of a cached frame whose mark a stale pointer wiped:
 * the state map, not the contents, says the frame is already free. */
static int double_free_wiped(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(0, &pa) < 0)
		return 1;
	frame_free(pa, 0);
	*block_word(pa, 16) = 0;
	frame_free(pa, 0);
	return 0;
}

Test(frame, double_free_of_a_cached_frame_with_its_mark_wiped_panics)
{
	mm_expect_panic(double_free_wiped, "frame_free: double free of");
}

static int double_free_merged(void *arg)
{
	paddr_t held[64];
	unsigned n = 0;

	(void)arg;
	/* Find two order-3 buddies: freeing both merges them, so the second
	 * free of one finds it inside a larger free block. */
	while (n < 64 && frame_alloc(3, &held[n]) == 0) {
		for (unsigned i = 0; i < n; i++) {
			if ((held[i] ^ held[n]) == FRAME_SIZE << 3) {
				frame_free(held[i], 3);
				frame_free(held[n], 3);
				frame_free(held[n], 3);
			}
		}
		n++;
	}
	return 1;
}

Test(frame, double_free_of_a_coalesced_block_panics)
{
	mm_expect_panic(double_free_merged, "frame_free: double free of");
}

static int wrong_order(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(2, &pa) < 0)
		return 1;
	frame_free(pa, 1);
	return 0;
}

Test(frame, free_with_another_order_panics)
{
	mm_expect_panic(wrong_order, "frame_free: 0x");
	mm_expect_panic(wrong_order, "freed as order 1, allocated as order 2");
}

static int misaligned(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(0, &pa) < 0)
		return 1;
	frame_free(pa + 8, 0);
	return 0;
}

Test(frame, misaligned_free_panics)
{
	mm_expect_panic(misaligned, "misaligned for order 0");
}

static int inside_block(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(2, &pa) < 0)
		return 1;
	frame_free(pa + FRAME_SIZE, 0);
	return 0;
}

Test(frame, free_of_a_frame_inside_a_block_panics)
{
	mm_expect_panic(inside_block, "is inside the allocated block");
}

static int foreign(void *arg)
{
	const struct hal_mem_region *r;

	(void)arg;
	hal_mem_regions(&r);
	frame_free(r[0].base, 0);	/* the state map itself */
	return 0;
}

Test(frame, free_of_memory_the_allocator_does_not_manage_panics)
{
	mm_expect_panic(foreign, "is not managed RAM");
}

static int write_after_free(void *arg)
{
	paddr_t pa, again;

	(void)arg;
	if (frame_alloc(0, &pa) < 0)
		return 1;
	frame_free(pa, 0);
	*block_word(pa, 16) = 0;	/* a stale pointer into the frame */
	frame_alloc(0, &again);		/* the cache hands pa out again */
	return 1;
}

Test(frame, write_after_free_is_caught_when_the_frame_is_reused)
{
	mm_expect_panic(write_after_free, "frame_alloc: frame 0x");
	mm_expect_panic(write_after_free, "was written after it was freed");
}

/* -- Every hart at once ---------------------------------------------------- */

#define PAR_HARTS	4
#define PAR_STEPS	20000
#define PAR_HELD	128

struct par_state {
	paddr_t ram_base;
	_Atomic uint64_t *owned;	/* one bit per frame, shared by all harts */
	atomic_uint arrived;
	atomic_uint errors;
	atomic_uint allocs[HAL_MAX_HARTS];
	_Atomic uint64_t first_error;	/* pa of the first error, or 0 */
};

static struct par_state par;

/* Claim or release every frame of a block in the shared bitmap; a frame
 * claimed twice at the same time is an error. */
static void par_mark(paddr_t pa, unsigned order, bool claim)
{
	for (uint64_t f = (pa - par.ram_base) >> FRAME_SHIFT, i = 0; i < (1ull << order); i++) {
		uint64_t bit = 1ull << ((f + i) % 64);
		uint64_t old = claim ? atomic_fetch_or(&par.owned[(f + i) / 64], bit)
				     : atomic_fetch_and(&par.owned[(f + i) / 64], ~bit);

		if (!!(old & bit) != !claim) {
			atomic_fetch_add(&par.errors, 1);
			atomic_store(&par.first_error, pa + i * FRAME_SIZE);
		}
	}
}

static void par_barrier(void)
{
	atomic_fetch_add(&par.arrived, 1);
	while (atomic_load(&par.arrived) < hal_hart_count())
		;
}

/* On every hart: random alloc/free, mostly order 0 (the cached path). */
static void par_worker(void *arg)
{
	struct { paddr_t pa; unsigned order; } held[PAR_HELD];
	uint64_t rng = 0x5eed0000ull + hal_hart_id() * 0x9e3779b97f4a7c15ull;
	uint64_t tag = (uint64_t)hal_hart_id() << 56;
	unsigned n = 0;

	(void)arg;
	par_barrier();
	for (unsigned step = 0; step < PAR_STEPS; step++) {
		uint64_t r = mm_rand(&rng);

		if (n == PAR_HELD || (n && r % 2)) {
			unsigned i = (unsigned)((r >> 8) % n);

			if (*block_word(held[i].pa, 0) != (tag | held[i].pa))
				atomic_fetch_add(&par.errors, 1);
			par_mark(held[i].pa, held[i].order, false);
			frame_free(held[i].pa, held[i].order);
			held[i] = held[--n];
		} else {
			unsigned order = (r >> 8) % 8 ? 0 : 1 + (unsigned)((r >> 16) % 4);
			paddr_t pa;

			if (frame_alloc(order, &pa) < 0) {
				atomic_fetch_add(&par.errors, 1);
				continue;
			}
			par_mark(pa, order, true);
			*block_word(pa, 0) = tag | pa;
			held[n].pa = pa;
			held[n++].order = order;
			atomic_fetch_add(&par.allocs[hal_hart_id()], 1);
		}
	}
	while (n) {
		n--;
		par_mark(held[n].pa, held[n].order, false);
		frame_free(held[n].pa, held[n].order);
	}
}

static void par_init(void)
{
	const struct hal_mem_region *r;

	hal_mem_regions(&r);
	memset(&par, 0, sizeof(par));
	par.ram_base = r[0].base;
	par.owned = calloc((r[0].size >> FRAME_SHIFT) / 64 + 1, sizeof(*par.owned));
	cr_assert(par.owned);
}

static int all_harts_alloc_free_concurrently(void *arg)
{
	struct mm_snapshot before;

	(void)arg;
	cr_assert_eq(hal_hart_count(), PAR_HARTS);
	par_init();
	mm_snapshot(&before);
	smp_call_all(par_worker, NULL);
	cr_assert_eq(atomic_load(&par.errors), 0, "%u errors, first at frame %#llx",
		     atomic_load(&par.errors), (unsigned long long)atomic_load(&par.first_error));
	for (unsigned h = 0; h < PAR_HARTS; h++)
		cr_assert_gt(atomic_load(&par.allocs[h]), PAR_STEPS / 4, "hart %u idle", h);
	mm_expect_snapshot(&before, "after every hart freed its blocks");
	free(par.owned);
	return 0;
}

Test(frame, all_harts_alloc_and_free_at_once_without_sharing_a_frame)
{
	harness_boot(PAR_HARTS, 64u << 20, all_harts_alloc_free_concurrently);
}

/* Every hart allocates order-0 frames until -K_ENOMEM: together they get
 * every free frame exactly once, and no cache keeps any back. */
static paddr_t par_got[PAR_HARTS][4096];
static unsigned par_count[PAR_HARTS];

static void par_exhaust(void *arg)
{
	unsigned me = hal_hart_id();
	paddr_t pa;
	int err;

	(void)arg;
	par_barrier();
	while ((err = frame_alloc(0, &pa)) == 0) {
		par_mark(pa, 0, true);
		par_got[me][par_count[me]++] = pa;
	}
	if (err != -K_ENOMEM)
		atomic_fetch_add(&par.errors, 1);
}

static int all_harts_exhaust_memory_together(void *arg)
{
	struct mm_snapshot before;
	uint64_t total = 0;

	(void)arg;
	par_init();
	mm_snapshot(&before);
	cr_assert_leq(before.free, 4096);
	smp_call_all(par_exhaust, NULL);
	cr_assert_eq(atomic_load(&par.errors), 0, "frame %#llx handed out twice",
		     (unsigned long long)atomic_load(&par.first_error));
	for (unsigned h = 0; h < PAR_HARTS; h++)
		total += par_count[h];
	cr_assert_eq(total, before.free, "%llu frames allocated, %llu were free",
		     (unsigned long long)total, (unsigned long long)before.free);
	for (unsigned h = 0; h < PAR_HARTS; h++)
		for (unsigned i = 0; i < par_count[h]; i++)
			frame_free(par_got[h][i], 0);
	mm_expect_snapshot(&before, "after freeing every frame");
	free(par.owned);
	return 0;
}

Test(frame, all_harts_exhausting_memory_together_get_every_frame_once)
{
	harness_boot(PAR_HARTS, 16u << 20, all_harts_exhaust_memory_together);
}
