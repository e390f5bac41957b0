/*
 * test_kheap.c - the kernel heap (kernel/kheap.c) against a model of the
 * live objects: their extents never overlap, their contents survive until
 * freed, and freeing everything gives every frame back (INV-KHEAP-n at the
 * top of kheap.c).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "mm_harness.h"
#include "../kernel/kheap.h"
#include "../kernel/smp.h"

/* Drain the heap's caches and the frame allocator's, then snapshot. */
static void heap_snapshot(struct mm_snapshot *s)
{
	kheap_drain_caches();
	mm_snapshot(s);
}

static void heap_expect_snapshot(const struct mm_snapshot *before, const char *when)
{
	kheap_drain_caches();
	mm_expect_snapshot(before, when);
}

/* Fill an object with a pattern derived from its address and size. */
static void fill(void *p, size_t size)
{
	uint8_t *b = p;

	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(((uintptr_t)p >> 4) + size + i * 7);
}

static bool intact(const void *p, size_t size)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < size; i++)
		if (b[i] != (uint8_t)(((uintptr_t)p >> 4) + size + i * 7))
			return false;
	return true;
}

/* -- Sizes and alignment --------------------------------------------------- */

static int sizes_alignment_and_usable_size(void *arg)
{
	size_t prev_usable = 0;

	(void)arg;
	cr_assert_null(kmalloc(0));
	kfree(NULL);
	cr_assert_null(kmalloc((size_t)(FRAME_SIZE << FRAME_MAX_ORDER) + 1));
	cr_assert_null(kmalloc(SIZE_MAX));
	for (size_t size = 1; size <= 3 * FRAME_SIZE; size += size < 2100 ? 1 : 97) {
		void *p = kmalloc(size);
		size_t usable;

		cr_assert_not_null(p, "size %zu", size);
		usable = kmalloc_usable_size(p);
		cr_assert_geq(usable, size);
		cr_assert_geq(usable, prev_usable, "usable size shrinks at %zu", size);
		cr_assert((uintptr_t)p % 16 == 0, "size %zu at %p", size, p);
		if (size > 2048)
			cr_assert((uintptr_t)hal_virt_to_phys(p) % FRAME_SIZE == 0,
				  "size %zu is not frame aligned", size);
		else
			cr_assert_leq(usable, size + size / 2 + 15, "size %zu wastes %zu", size,
				      usable - size);
		fill(p, usable);
		cr_assert(intact(p, usable));
		kfree(p);
		prev_usable = usable;
	}
	return 0;
}

Test(kheap, sizes_are_aligned_and_rounded_up_to_their_class)
{
	harness_boot(1, 16u << 20, sizes_alignment_and_usable_size);
}

static int kzalloc_zeroes_reused_memory(void *arg)
{
	static const size_t sizes[] = { 16, 100, 2048, 5000 };

	(void)arg;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = kmalloc(sizes[i]), *q;

		cr_assert_not_null(p);
		memset(p, 0xff, sizes[i]);
		kfree(p);
		q = kzalloc(sizes[i]);
		if (sizes[i] <= 2048)
			cr_assert_eq(q, p, "the freed object is reused first");
		for (size_t j = 0; j < sizes[i]; j++)
			cr_assert_eq(q[j], 0, "size %zu byte %zu", sizes[i], j);
		kfree(q);
	}
	return 0;
}

Test(kheap, kzalloc_zeroes_memory_even_when_reused)
{
	harness_boot(1, 16u << 20, kzalloc_zeroes_reused_memory);
}

/* -- Model-based random sequences ---------------------------------------- */

struct live {
	uint8_t *p;
	size_t size, usable;
};

#define MAX_LIVE 1500

static size_t random_size(uint64_t *rng)
{
	uint64_t r = mm_rand(rng);

	switch (r % 8) {
	case 0:		return 2049 + (r >> 8) % (60 * 1024);	/* frame blocks */
	case 1:		return 1 + (r >> 8) % 2048;		/* any class */
	default:	return 1 + (r >> 8) % 200;		/* the common small ones */
	}
}

static void check_disjoint(const struct live *l, size_t n, const struct live *new)
{
	for (size_t i = 0; i < n; i++)
		cr_assert(new->p + new->usable <= l[i].p || l[i].p + l[i].usable <= new->p,
			  "[%p,+%zu) overlaps live [%p,+%zu)", (void *)new->p, new->usable,
			  (void *)l[i].p, l[i].usable);
}

static void random_sequence(uint64_t seed, unsigned steps)
{
	static struct live l[MAX_LIVE];
	struct mm_snapshot before;
	uint64_t rng = seed;
	size_t n = 0;

	heap_snapshot(&before);
	for (unsigned step = 0; step < steps; step++) {
		uint64_t r = mm_rand(&rng);

		if (n == MAX_LIVE || (n && r % 100 < 45)) {
			size_t i = (r >> 8) % n;

			cr_assert(intact(l[i].p, l[i].size), "seed %#llx step %u: %p corrupted",
				  (unsigned long long)seed, step, (void *)l[i].p);
			kfree(l[i].p);
			l[i] = l[--n];
		} else {
			struct live o;

			o.size = random_size(&rng);
			o.p = kmalloc(o.size);
			cr_assert_not_null(o.p, "seed %#llx step %u: size %zu",
					   (unsigned long long)seed, step, o.size);
			o.usable = kmalloc_usable_size(o.p);
			check_disjoint(l, n, &o);
			fill(o.p, o.size);
			l[n++] = o;
		}
	}
	while (n) {
		n--;
		cr_assert(intact(l[n].p, l[n].size));
		kfree(l[n].p);
	}
	heap_expect_snapshot(&before, "after freeing every object");
}

static int random_kmalloc_kfree_matches_model(void *arg)
{
	(void)arg;
	for (uint64_t seed = 1; seed <= 4; seed++)
		random_sequence(seed * 0xd1b54a32d192ed03ull, 8000);
	return 0;
}

Test(kheap, random_kmalloc_kfree_keeps_objects_disjoint_and_returns_every_frame)
{
	harness_boot(2, 64u << 20, random_kmalloc_kfree_matches_model);
}

/* Exhaustion: kmalloc returns NULL once every frame is a full slab, keeps
 * doing so without harm, and everything comes back. */
static int exhaustion_returns_null(void *arg)
{
	size_t cap = 400000, n = 0;
	void **objs = malloc(cap * sizeof(*objs));
	struct mm_snapshot before;
	struct frame_stats st;
	void *p;

	(void)arg;
	cr_assert_not_null(objs);
	heap_snapshot(&before);
	while (n < cap && (p = kmalloc(64)))
		objs[n++] = p;
	cr_assert_lt(n, cap);
	/* 63 objects of 64 bytes per 4 KiB slab, after its header. */
	cr_assert_geq(n, before.free * 63, "%zu objects from %llu frames", n,
		      (unsigned long long)before.free);
	cr_assert_null(kmalloc(64));
	cr_assert_null(kmalloc(FRAME_SIZE));
	frame_stats(&st);
	cr_assert_eq(st.free, 0, "%llu frames left", (unsigned long long)st.free);
	while (n)
		kfree(objs[--n]);
	heap_expect_snapshot(&before, "after freeing every object");
	cr_assert_not_null(p = kmalloc(64), "memory is usable again");
	kfree(p);
	free(objs);
	return 0;
}

Test(kheap, exhaustion_returns_null_and_everything_comes_back)
{
	harness_boot(1, 16u << 20, exhaustion_returns_null);
}

/* -- Misuse panics naming the function ------------------------------------- */

/* These bodies run in a child that must panic: no cr_assert in them. */
static int double_free_small(void *arg)
{
	void *p = kmalloc(40);

	(void)arg;
	kfree(p);
	kfree(p);
	return 1;
}

Test(kheap, double_free_of_a_small_object_panics)
{
	mm_expect_panic(double_free_small, "kfree: double free of 0x");
}

static int double_free_large(void *arg)
{
	void *p = kmalloc(3 * FRAME_SIZE);

	(void)arg;
	kfree(p);
	kfree(p);
	return 1;
}

Test(kheap, double_free_of_a_large_block_panics)
{
	mm_expect_panic(double_free_large, "kfree: 0x");
	mm_expect_panic(double_free_large, "is not allocated memory");
}

static int free_interior(void *arg)
{
	uint8_t *p = kmalloc(96);

	(void)arg;
	kfree(p + 16);
	return 1;
}

Test(kheap, free_of_a_pointer_inside_an_object_panics)
{
	mm_expect_panic(free_interior, "is not the start of a 96-byte object");
}

static int free_foreign(void *arg)
{
	paddr_t pa;

	(void)arg;
	if (frame_alloc(0, &pa) < 0)
		return 1;
	kfree((uint8_t *)hal_phys_to_virt(pa) + 64);	/* a frame, not a slab */
	return 1;
}

Test(kheap, free_of_memory_kmalloc_did_not_return_panics)
{
	mm_expect_panic(free_foreign, "is not from kmalloc");
}

/* -- Every hart at once -------------------------------------------------- */

#define PAR_HARTS	4
#define PAR_STEPS	20000
#define PAR_HELD	64
#define PAR_SWAP	32

/* Objects handed between harts: each slot holds one or NULL. */
static void *_Atomic swap_slots[PAR_SWAP];
static atomic_uint par_errors, par_arrived;

static void par_free(void *p)
{
	size_t size = *(size_t *)p;

	if (size < sizeof(size_t) || !intact((size_t *)p + 1, size - sizeof(size_t)))
		atomic_fetch_add(&par_errors, 1);
	kfree(p);
}

static void *par_alloc(uint64_t *rng)
{
	size_t size = sizeof(size_t) + random_size(rng) % 1500;
	size_t *p = kmalloc(size);

	if (!p) {
		atomic_fetch_add(&par_errors, 1);
		return NULL;
	}
	*p = size;
	fill(p + 1, size - sizeof(size_t));
	return p;
}

/* On every hart: allocate, free, and free objects other harts allocated. */
static void par_worker(void *arg)
{
	uint64_t rng = 0xabcdef ^ ((uint64_t)hal_hart_id() << 40);
	void *held[PAR_HELD];
	unsigned n = 0;

	(void)arg;
	atomic_fetch_add(&par_arrived, 1);
	while (atomic_load(&par_arrived) < hal_hart_count())
		;
	for (unsigned step = 0; step < PAR_STEPS; step++) {
		uint64_t r = mm_rand(&rng);

		if (n < PAR_HELD && (n == 0 || r % 2)) {
			void *p = par_alloc(&rng);

			if (p)
				held[n++] = p;
		} else if (r % 4 == 0) {
			/* Trade: this object goes to whichever hart takes the slot. */
			void *old = atomic_exchange(&swap_slots[(r >> 8) % PAR_SWAP], held[--n]);

			if (old)
				par_free(old);
		} else {
			unsigned i = (unsigned)((r >> 8) % n);

			par_free(held[i]);
			held[i] = held[--n];
		}
	}
	while (n)
		par_free(held[--n]);
}

static int all_harts_share_the_heap(void *arg)
{
	struct mm_snapshot before;

	(void)arg;
	cr_assert_eq(hal_hart_count(), PAR_HARTS);
	heap_snapshot(&before);
	smp_call_all(par_worker, NULL);
	for (unsigned i = 0; i < PAR_SWAP; i++) {
		void *p = atomic_exchange(&swap_slots[i], NULL);

		if (p)
			par_free(p);
	}
	cr_assert_eq(atomic_load(&par_errors), 0, "%u objects corrupted or missing",
		     atomic_load(&par_errors));
	heap_expect_snapshot(&before, "after every hart freed its objects");
	return 0;
}

Test(kheap, all_harts_allocate_and_free_each_others_objects_at_once)
{
	harness_boot(PAR_HARTS, 64u << 20, all_harts_share_the_heap);
}
