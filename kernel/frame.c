/*
 * frame.c - the physical frame allocator (frame.h): a buddy system over the
 * RAM regions, with per-hart caches of order-0 frames in front of it.
 *
 * Bookkeeping is one state byte per frame (the "state map"), carved from
 * the start of each region at frame_init(); free blocks are linked into the
 * buddy lists through their own memory, reached through the direct map.
 * 256 MiB of RAM costs 64 KiB of map and nothing else.
 *
 * Invariants (cited by tests/test_frame.c):
 *
 * INV-FRAME-1  Every managed frame belongs to exactly one block: a free
 *              block on the buddy list of its order, a frame in one hart's
 *              cache (order 0), or an allocated block.  The state byte of
 *              the block's first frame (its head) is ST_FREE or ST_ALLOC
 *              with the order, or ST_CACHED for a frame in a cache; every
 *              other frame of the block is ST_TAIL.  Frames holding the
 *              state map are ST_RESERVED and never handed out.
 * INV-FRAME-2  A block of order k starts at a physical address aligned to
 *              FRAME_SIZE << k and lies inside the managed part of one
 *              region.
 * INV-FRAME-3  Coalescing is complete: the buddy of a block on a buddy list
 *              is never itself a free block of the same order on a list.
 *              Hence the lists are a function of the set of free frames
 *              (the largest aligned blocks that tile it), and freeing
 *              everything and draining the caches restores the lists
 *              frame_init() built.
 * INV-FRAME-4  nfree[k] is the length of list k; listed is sum(nfree[k] << k)
 *              and listed_low its least value since boot or
 *              frame_reset_peak(); frame_stats().free is listed plus the
 *              frames in every hart's cache.
 * INV-FRAME-5  Every free block, on a list or in a cache, carries its free
 *              mark (FRAME_POISON ^ its address) in the word after its list
 *              links (struct frame_link.poison).  Handing a block out checks
 *              the mark, panicking if a freed frame was written, and clears
 *              it.  In full poisoning builds the rest of the freed block is
 *              poison too.  The mark only ever accuses a write after free:
 *              an allocated frame's contents are its owner's (a guest's,
 *              for guest memory), and no decision rests on them.
 * INV-FRAME-6  The buddy lists and nfree[] change only under frame.lock, and
 *              so does the state map, with one exception: a frame moving
 *              between a hart's cache and its caller (ST_CACHED <->
 *              ST_ALLOC | 0) has its own state byte written by that hart
 *              without the lock.  Both values mean "not free" to the lock
 *              holder's coalescing, which is all it reads of such a frame.
 *              A hart's cache changes only on that hart with its interrupts
 *              disabled.  The common alloc/free takes no lock and writes
 *              only the hart's cache, the frame and its state byte.  That
 *              byte shares a cache line with 63 neighbours another hart may
 *              be cycling (bench_frame's allharts figure watches the cost);
 *              it is paid because the byte, unlike the frame, cannot be
 *              written by the frame's owner (INV-FRAME-8).
 * INV-FRAME-7  frame_alloc(k) fails with -K_ENOMEM only when no block of
 *              order >= k is on the lists and (order 0) the caller's cache
 *              is empty: exactly the free frames in blocks of order >= k
 *              can be allocated, none is lost to the allocator itself.
 * INV-FRAME-8  frame_free() checks order, region, alignment and that the
 *              head is an allocated block of that order before changing
 *              anything; a violation panics naming frame_free.  All of it
 *              is read from the state map, which no owner of a frame can
 *              write: a double free is found there (ST_FREE, ST_CACHED or
 *              a tail of a free block), never from the frame's contents.
 *
 * Assumption A-FRAME-1: the direct map is linear within each region
 * (hal_phys_to_virt(base + x) == hal_phys_to_virt(base) + x), which the
 * hot path relies on instead of calling hal_phys_to_virt(); frame_init()
 * checks it at both ends of every region.
 */
#include <stdatomic.h>
#include "frame.h"
#include "hal.h"
#include "kerr.h"
#include "klib.h"
#include "log.h"
#include "smp.h"
#include "spinlock.h"

#define FRAME_MAX_REGIONS	8
#define FRAME_CACHELINE		64
#define FRAME_CACHE_SLOTS	64	/* order-0 frames a hart keeps */
#define FRAME_CACHE_BATCH	32	/* moved per refill/drain: one lock per 32 */

/* State bytes (INV-FRAME-1).  Orders fit in the low five bits. */
#define ST_TAIL		0x00	/* inside a block, not its head; 0, as
					 * zeroed RAM is (region_init) */
#define ST_RESERVED	0x20	/* bookkeeping: the state map itself */
#define ST_FREE		0x40	/* | order: head of a block on a buddy list */
#define ST_ALLOC	0x80	/* | order: head of an allocated block */
#define ST_CACHED	0xc0	/* an order-0 frame in a hart's cache */
#define ST_KIND		0xc0
#define ST_ORDER	0x1f
_Static_assert(FRAME_MAX_ORDER < ST_RESERVED, "orders must fit below ST_RESERVED");

/*
 * Poisoning freed frames (INV-FRAME-5).  Filling 4 KiB costs ~100 ns, five
 * times the whole budget of an alloc/free pair, so normal builds poison one
 * word per freed block and check it when the block is handed out again:
 * that catches the common use-after-free (a write through a stale pointer
 * to the start of the frame) at the cost of a store and a load on lines the
 * allocator touches anyway.  Sanitizer builds, or -DFRAME_POISON_FULL=1,
 * fill every freed block, so stale reads see poison too.
 */
#ifndef FRAME_POISON_FULL
#ifdef __SANITIZE_ADDRESS__
#define FRAME_POISON_FULL 1
#else
#define FRAME_POISON_FULL 0
#endif /* __SANITIZE_ADDRESS__ */
#endif /* FRAME_POISON_FULL */
#define FRAME_POISON_BYTE	0x6b
#define FRAME_POISON		0x6b6b6b6b6b6b6b6bull

/* The free mark of a block (INV-FRAME-5): unlike a constant, user data
 * never matches it by accident. */
static inline uint64_t free_mark(paddr_t pa)
{
	return FRAME_POISON ^ pa;
}

/* The first bytes of a free block: its buddy-list links and the poison word. */
struct frame_link {
	struct frame_link *next, *prev;
	uint64_t poison;
};

struct frame_region {
	paddr_t start;		/* first frame of the region (index 0 of the map) */
	paddr_t base;		/* first managed frame, after the state map */
	paddr_t end;		/* end of the region */
	uint8_t *virt;		/* direct-map address of start */
	_Atomic uint8_t *state;	/* one byte per frame from start */
};

/* Written once by frame_init(), read-only afterwards. */
static struct frame_region regions[FRAME_MAX_REGIONS];
static unsigned nregions;
static uint64_t total_frames;

/* The buddy lists: circular, with sentinels here rather than in RAM. */
static struct {
	struct spinlock lock;
	struct frame_link lists[FRAME_MAX_ORDER + 1];	/* guarded by lock */
	uint64_t nfree[FRAME_MAX_ORDER + 1];		/* guarded by lock */
	uint64_t listed, listed_low;			/* guarded by lock */
} frame __attribute__((aligned(FRAME_CACHELINE)));

/*
 * A hart's stack of order-0 frames.  Only its hart touches it, with
 * interrupts off; count is atomic only so that frame_stats() may read it
 * from another hart.  Cache-line aligned: harts never share a line.
 */
struct frame_cache {
	_Atomic uint32_t count;
	paddr_t slot[FRAME_CACHE_SLOTS];
} __attribute__((aligned(FRAME_CACHELINE)));

static struct frame_cache caches[HAL_MAX_HARTS];

/* -- State map and direct map ------------------------------------------- */

static inline struct frame_region *region_of(paddr_t pa)
{
	for (unsigned i = 0; i < nregions; i++)
		if (pa >= regions[i].base && pa < regions[i].end)
			return &regions[i];
	return NULL;
}

static inline struct frame_region *region_of_virt(const void *va)
{
	const uint8_t *p = va;

	for (unsigned i = 0; i < nregions; i++) {
		struct frame_region *r = &regions[i];

		if (p >= r->virt && p < r->virt + (r->end - r->start))
			return r;
	}
	return NULL;
}

static inline _Atomic uint8_t *state_of(const struct frame_region *r, paddr_t pa)
{
	return &r->state[(pa - r->start) >> FRAME_SHIFT];
}

static inline unsigned state_get(const struct frame_region *r, paddr_t pa)
{
	return atomic_load_explicit(state_of(r, pa), memory_order_relaxed);
}

/* Relaxed atomics: plain byte moves, but a reader without the lock
 * (frame_free(), frame_lookup()) racing a writer under it is defined. */
static inline void state_set(const struct frame_region *r, paddr_t pa, unsigned st)
{
	atomic_store_explicit(state_of(r, pa), (uint8_t)st, memory_order_relaxed);
}

static inline struct frame_link *link_of(const struct frame_region *r, paddr_t pa)
{
	return (struct frame_link *)(r->virt + (pa - r->start));
}

static inline paddr_t link_pa(const struct frame_link *l)
{
	const struct frame_region *r = region_of_virt(l);

	KASSERT(r, "frame: list link %p outside RAM", (const void *)l);
	return r->start + (paddr_t)((const uint8_t *)l - r->virt);
}

/* -- Poison (INV-FRAME-5) ------------------------------------------------ */

static inline void poison_block(const struct frame_region *r, paddr_t pa, unsigned order)
{
	if (FRAME_POISON_FULL)
		kmemset(link_of(r, pa), FRAME_POISON_BYTE, FRAME_SIZE << order);
	link_of(r, pa)->poison = free_mark(pa);
}

/* A free block is being handed out: check and clear its mark. */
static inline void claim_block(const struct frame_region *r, paddr_t pa)
{
	struct frame_link *l = link_of(r, pa);
	uint64_t word = l->poison;

	if (unlikely(word != free_mark(pa)))
		k23_panic("frame_alloc: frame %#llx was written after it was freed "
			  "(free mark %#llx, found %#llx)", (unsigned long long)pa,
			  (unsigned long long)free_mark(pa), (unsigned long long)word);
	l->poison = 0;
}

/* -- Buddy lists (frame.lock held) --------------------------------------- */

static void list_push(unsigned order, struct frame_link *l)
{
	struct frame_link *head = &frame.lists[order];

	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
	frame.nfree[order]++;
	frame.listed += 1ull << order;
}

static void list_remove(unsigned order, struct frame_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	frame.nfree[order]--;
	frame.listed -= 1ull << order;
	if (FRAME_POISON_FULL) {
		l->next = (void *)FRAME_POISON;
		l->prev = (void *)FRAME_POISON;
	}
}

/* Put a block whose head is not on any list onto list `order`. */
static void buddy_insert(const struct frame_region *r, paddr_t pa, unsigned order)
{
	struct frame_link *l = link_of(r, pa);

	l->poison = free_mark(pa);
	state_set(r, pa, ST_FREE | order);
	list_push(order, l);
}

/* Take a block of exactly `order`, splitting a larger one if needed; its
 * head gets state `st`.  -K_ENOMEM when no block of order >= `order`. */
static int buddy_take(unsigned order, unsigned st, paddr_t *pa)
{
	const struct frame_region *r;
	struct frame_link *l;
	unsigned o = order;
	paddr_t p;

	while (o <= FRAME_MAX_ORDER && frame.nfree[o] == 0)
		o++;
	if (o > FRAME_MAX_ORDER)
		return -K_ENOMEM;
	l = frame.lists[o].next;
	list_remove(o, l);
	p = link_pa(l);
	r = region_of(p);
	/* Keep the lower half, give the upper halves back: INV-FRAME-1/2. */
	while (o > order) {
		o--;
		buddy_insert(r, p + (FRAME_SIZE << o), o);
	}
	state_set(r, p, st);
	*pa = p;
	/* Only here do frames leave the lists for good: buddy_give's
	 * list_remove() is a merge, its frames listed again at once. */
	if (frame.listed < frame.listed_low)
		frame.listed_low = frame.listed;
	return 0;
}

/* Return a block to the lists, merging it with its free buddies. */
static void buddy_give(const struct frame_region *r, paddr_t pa, unsigned order)
{
	while (order < FRAME_MAX_ORDER) {
		paddr_t size = FRAME_SIZE << order;
		paddr_t buddy = pa ^ size;

		if (buddy < r->base || buddy >= r->end ||
		    state_get(r, buddy) != (ST_FREE | order))
			break;
		list_remove(order, link_of(r, buddy));
		/* The higher of the two stops being a head (INV-FRAME-1). */
		state_set(r, pa | size, ST_TAIL);
		pa &= ~size;
		order++;
	}
	buddy_insert(r, pa, order);
}

/* -- Per-hart caches ----------------------------------------------------- */

/*
 * Move up to a batch of frames from the lists into an empty cache.  The
 * lists hand them out in ascending order (buddy_take keeps lower halves);
 * they are stacked so that the cache gives them out in that order too:
 * pages touched one after another (a growing wasm memory) then get
 * consecutive frames, which the hosted MMU maps as one host mapping
 * instead of one per page (vm.max_map_count, vm_sim/vmsim.c).
 */
static void cache_refill(struct frame_cache *c)
{
	paddr_t got[FRAME_CACHE_BATCH];
	uint32_t n = 0;

	spin_lock(&frame.lock);
	while (n < FRAME_CACHE_BATCH && buddy_take(0, ST_CACHED, &got[n]) == 0)
		n++;
	spin_unlock(&frame.lock);
	for (uint32_t i = 0; i < n; i++)
		c->slot[i] = got[n - 1 - i];
	atomic_store_explicit(&c->count, n, memory_order_relaxed);
}

/* Return the n oldest frames of a cache (the bottom of its stack, the
 * coldest ones) to the lists. */
static void cache_drain(struct frame_cache *c, uint32_t n)
{
	uint32_t count = atomic_load_explicit(&c->count, memory_order_relaxed);

	spin_lock(&frame.lock);
	for (uint32_t i = 0; i < n; i++)
		buddy_give(region_of(c->slot[i]), c->slot[i], 0);
	spin_unlock(&frame.lock);
	kmemmove(&c->slot[0], &c->slot[n], (count - n) * sizeof(c->slot[0]));
	atomic_store_explicit(&c->count, count - n, memory_order_relaxed);
}

static int cache_alloc(paddr_t *pa)
{
	hal_irqstate_t s = hal_irq_save();
	struct frame_cache *c = &caches[hal_hart_id()];
	uint32_t n = atomic_load_explicit(&c->count, memory_order_relaxed);
	const struct frame_region *r;
	paddr_t p;

	if (unlikely(n == 0)) {
		cache_refill(c);
		n = atomic_load_explicit(&c->count, memory_order_relaxed);
		if (n == 0) {
			hal_irq_restore(s);
			return -K_ENOMEM;
		}
	}
	p = c->slot[--n];
	atomic_store_explicit(&c->count, n, memory_order_relaxed);
	r = region_of(p);
	hal_irq_restore(s);
	claim_block(r, p);
	state_set(r, p, ST_ALLOC | 0);
	*pa = p;
	return 0;
}

static void cache_free(const struct frame_region *r, paddr_t pa)
{
	hal_irqstate_t s = hal_irq_save();
	struct frame_cache *c = &caches[hal_hart_id()];
	uint32_t n = atomic_load_explicit(&c->count, memory_order_relaxed);

	if (unlikely(n == FRAME_CACHE_SLOTS)) {
		cache_drain(c, FRAME_CACHE_BATCH);
		n -= FRAME_CACHE_BATCH;
	}
	c->slot[n] = pa;
	atomic_store_explicit(&c->count, n + 1, memory_order_relaxed);
	hal_irq_restore(s);
}

/* Empty the calling hart's cache into the lists. */
static void cache_drain_own(void *unused)
{
	hal_irqstate_t s = hal_irq_save();
	struct frame_cache *c = &caches[hal_hart_id()];

	(void)unused;
	cache_drain(c, atomic_load_explicit(&c->count, memory_order_relaxed));
	hal_irq_restore(s);
}

/*
 * The block containing pa, whatever its state: the first frame at or below
 * pa, at an aligned address, that is not a tail is the head of that block
 * (INV-FRAME-1/2).  -K_ENOENT if pa is reserved.
 */
static int block_of(const struct frame_region *r, paddr_t pa, paddr_t *head, unsigned *st)
{
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		paddr_t h = ALIGN_DOWN(pa, FRAME_SIZE << o);

		if (h < r->base)
			return -K_ENOENT;
		*st = state_get(r, h);
		if (*st != ST_TAIL) {
			*head = h;
			return 0;
		}
	}
	return -K_ENOENT;
}

/* -- Interface ----------------------------------------------------------- */

/* Carve the state map from the start of a region and free the rest as
 * the largest aligned blocks that fit (INV-FRAME-2/3). */
static void region_init(struct frame_region *r, const struct hal_mem_region *mem)
{
	uint64_t frames = mem->size >> FRAME_SHIFT;
	uint64_t map_frames = ALIGN_UP(frames, FRAME_SIZE) >> FRAME_SHIFT;
	paddr_t pa;

	r->start = mem->base;
	r->base = mem->base + (map_frames << FRAME_SHIFT);
	r->end = mem->base + (frames << FRAME_SHIFT);
	r->virt = hal_phys_to_virt(mem->base);
	r->state = (_Atomic uint8_t *)r->virt;
	KASSERT(hal_phys_to_virt(r->end - FRAME_SIZE) == r->virt + (r->end - FRAME_SIZE - r->start),
		"frame_init: the direct map of %#llx is not linear (A-FRAME-1)",
		(unsigned long long)mem->base);

	/* A map of zeros (ST_TAIL) costs nothing on RAM that starts zeroed:
	 * the 2 MiB map of 8 GiB of hosted RAM took 4 ms of page faults. */
	if (!mem->zeroed)
		kmemset(r->virt, ST_TAIL, frames);
	kmemset(r->virt, ST_RESERVED, map_frames);
	for (pa = r->base; pa < r->end; ) {
		unsigned order = FRAME_MAX_ORDER;

		while (!IS_ALIGNED(pa, FRAME_SIZE << order) ||
		       pa + (FRAME_SIZE << order) > r->end)
			order--;
		buddy_insert(r, pa, order);
		pa += FRAME_SIZE << order;
	}
	total_frames += (r->end - r->base) >> FRAME_SHIFT;
}

int frame_init(void)
{
	const struct hal_mem_region *mem;
	size_t n = hal_mem_regions(&mem);

	spin_init(&frame.lock);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		frame.lists[o].next = frame.lists[o].prev = &frame.lists[o];
	for (size_t i = 0; i < n; i++) {
		/* A region must hold its map and at least one frame besides. */
		if (mem[i].size < 2 * FRAME_SIZE) {
			klog(mm, WARN, "frame: region %#llx too small, ignored",
			     (unsigned long long)mem[i].base);
			continue;
		}
		if (nregions == FRAME_MAX_REGIONS) {
			klog(mm, WARN, "frame: more than %d RAM regions, %#llx+ ignored",
			     FRAME_MAX_REGIONS, (unsigned long long)mem[i].base);
			break;
		}
		region_init(&regions[nregions++], &mem[i]);
	}
	if (total_frames == 0)
		return -K_ENOMEM;
	frame.listed_low = frame.listed;
	klog(mm, DEBUG, "frame: %llu frames in %u regions",
	     (unsigned long long)total_frames, nregions);
	return 0;
}

int frame_alloc(unsigned order, paddr_t *pa)
{
	hal_irqstate_t s;
	int err;

	if (likely(order == 0))
		return cache_alloc(pa);
	if (order > FRAME_MAX_ORDER)
		return -K_EINVAL;
	s = spin_lock_irqsave(&frame.lock);
	err = buddy_take(order, ST_ALLOC | order, pa);
	spin_unlock_irqrestore(&frame.lock, s);
	if (err == -K_ENOMEM && atomic_load_explicit(&caches[hal_hart_id()].count,
						      memory_order_relaxed)) {
		/* Our own cached frames may complete a block: give them back
		 * and try once more.  Other harts' caches are theirs. */
		cache_drain_own(NULL);
		s = spin_lock_irqsave(&frame.lock);
		err = buddy_take(order, ST_ALLOC | order, pa);
		spin_unlock_irqrestore(&frame.lock, s);
	}
	if (err == 0)
		claim_block(region_of(*pa), *pa);
	return err;
}

void frame_split(paddr_t pa, unsigned order)
{
	const struct frame_region *r = region_of(pa);
	hal_irqstate_t s;

	if (!r || order > FRAME_MAX_ORDER || !IS_ALIGNED(pa, FRAME_SIZE << order) ||
	    state_get(r, pa) != (ST_ALLOC | order))
		k23_panic("frame_split: %#llx is no allocated block of order %u",
			  (unsigned long long)pa, order);
	/* Its tails were "not free" to coalescing, and so are frames on
	 * their own (INV-FRAME-6: the state map changes under the lock). */
	s = spin_lock_irqsave(&frame.lock);
	for (paddr_t p = pa; p < pa + (FRAME_SIZE << order); p += FRAME_SIZE)
		state_set(r, p, ST_ALLOC | 0);
	spin_unlock_irqrestore(&frame.lock, s);
}

/* Why frame_free(pa, order) is wrong, given the state byte at pa. */
static _Noreturn void bad_free(const struct frame_region *r, paddr_t pa, unsigned order,
			       unsigned st)
{
	unsigned long long a = pa;
	paddr_t head;

	if ((st & ST_KIND) == ST_FREE)
		k23_panic("frame_free: double free of %#llx (order %u)", a, order);
	if (st == ST_CACHED)
		k23_panic("frame_free: double free of %#llx (order %u, in a hart cache)",
			  a, order);
	if ((st & ST_KIND) == ST_ALLOC)
		k23_panic("frame_free: %#llx freed as order %u, allocated as order %u",
			  a, order, st & ST_ORDER);
	if (block_of(r, pa, &head, &st) < 0)
		k23_panic("frame_free: %#llx is reserved", a);
	if ((st & ST_KIND) == ST_ALLOC)
		k23_panic("frame_free: %#llx is inside the allocated block %#llx of order %u",
			  a, (unsigned long long)head, st & ST_ORDER);
	k23_panic("frame_free: double free of %#llx (inside the free block %#llx)",
		  a, (unsigned long long)head);
}

void frame_free(paddr_t pa, unsigned order)
{
	const struct frame_region *r = region_of(pa);
	unsigned st;
	hal_irqstate_t s;

	if (order > FRAME_MAX_ORDER)
		k23_panic("frame_free: %#llx: order %u above %u",
			  (unsigned long long)pa, order, FRAME_MAX_ORDER);
	if (!r)
		k23_panic("frame_free: %#llx is not managed RAM", (unsigned long long)pa);
	if (!IS_ALIGNED(pa, FRAME_SIZE << order))
		k23_panic("frame_free: %#llx misaligned for order %u",
			  (unsigned long long)pa, order);
	st = state_get(r, pa);
	if (unlikely(st != (ST_ALLOC | order)))
		bad_free(r, pa, order, st);
	poison_block(r, pa, order);
	if (likely(order == 0)) {
		state_set(r, pa, ST_CACHED);
		cache_free(r, pa);
		return;
	}
	s = spin_lock_irqsave(&frame.lock);
	buddy_give(r, pa, order);
	spin_unlock_irqrestore(&frame.lock, s);
}

int frame_lookup(paddr_t pa, paddr_t *head, unsigned *order)
{
	const struct frame_region *r = region_of(pa);
	unsigned st;

	if (!r || block_of(r, pa, head, &st) < 0 || (st & ST_KIND) != ST_ALLOC)
		return -K_ENOENT;
	*order = st & ST_ORDER;
	return 0;
}

void frame_stats(struct frame_stats *st)
{
	uint64_t free, low, cached = 0;
	hal_irqstate_t s = spin_lock_irqsave(&frame.lock);

	free = frame.listed;
	low = frame.listed_low;
	spin_unlock_irqrestore(&frame.lock, s);
	for (unsigned h = 0; h < hal_hart_count(); h++)
		cached += atomic_load_explicit(&caches[h].count, memory_order_relaxed);
	st->total = total_frames;
	st->free = free + cached;
	st->cached = cached;
	/* Off the lists, cached frames included: the caches hold a few
	 * dozen frames per hart, and counting them keeps this exact. */
	st->peak = total_frames - low;
}

void frame_reset_peak(void)
{
	hal_irqstate_t s = spin_lock_irqsave(&frame.lock);

	frame.listed_low = frame.listed;
	spin_unlock_irqrestore(&frame.lock, s);
}

void frame_drain_caches(void)
{
	/* Each hart empties its own cache: a cache is never touched from
	 * another hart (INV-FRAME-6), so no lock is needed on the hot path. */
	smp_call_all(cache_drain_own, NULL);
}

uint64_t frame_free_blocks(unsigned order)
{
	hal_irqstate_t s;
	uint64_t n;

	if (order > FRAME_MAX_ORDER)
		return 0;
	s = spin_lock_irqsave(&frame.lock);
	n = frame.nfree[order];
	spin_unlock_irqrestore(&frame.lock, s);
	return n;
}
