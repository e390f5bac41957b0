/*
 * stack.c - task stacks in the kernel's stack address space (stack.h).
 *
 * Layout: each size class (order) has a region of its own, cut into slots
 * of a guard page followed by the stack, handed out in order and never
 * unmapped: a freed stack waits on its class's free list, still mapped,
 * for the next task of that size.  A region is the largest power of two
 * that lets ten of them fit the space's window (16 GiB in a 256 GiB
 * window; less where the host reserves less, e.g. under valgrind).
 *
 *   region(order) = (order + 1) * region size
 *   slot i        = region + i * (guard + stack)
 *                   [guard page, unmapped][stack: 2^order frames]
 *
 * A fault in a guard page is a stack overflow of the stack just above it.
 *
 * Each hart keeps a few free stacks of the small sizes for itself, so that
 * spawning and joining on one hart take no lock.  The cache is touched only
 * by its hart, from task or idle context (never from an interrupt), and
 * the functions here do not block, so the hart cannot change under them.
 */
#include <stdatomic.h>
#include "../kernel/as.h"
#include "../kernel/frame.h"
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/log.h"
#include "../kernel/pt.h"
#include "../kernel/spinlock.h"
#include "stack.h"

#define GUARD_SIZE	FRAME_SIZE

struct stack_class {
	struct spinlock lock;
	void *free;			/* free stacks, linked through their first word */
	uint64_t nfree;
	_Atomic uint64_t slots;		/* slots handed out; read by the fault path */
};

#define CACHE_ORDERS	5		/* 4 KiB ... 64 KiB */
#define CACHE_STACKS	16

struct stack_cache {
	void *stacks[CACHE_ORDERS][CACHE_STACKS];
	atomic_uint count[CACHE_ORDERS];	/* written by its hart only */
} __attribute__((aligned(64)));

static struct stack_cache caches[HAL_MAX_HARTS];
static struct as *stack_space;
static unsigned region_shift;		/* log2 of a region's size; set at init */
static struct stack_class classes[SCHED_STACK_MAX_ORDER + 1];
static _Atomic uint64_t stacks_mapped;
static _Atomic uint64_t stacks_limit = SCHED_STACK_LIMIT_DEFAULT;

static vaddr_t region_base(unsigned order)
{
	return (vaddr_t)(order + 1) << region_shift;
}

static uint64_t slot_size(unsigned order)
{
	return (FRAME_SIZE << order) + GUARD_SIZE;
}

/* Fault handler of the stack space: a guard page means an overflow. */
static bool stack_fault(struct as *as, struct trap_frame *tf, void *arg)
{
	vaddr_t va = tf->tval;
	unsigned order;
	uint64_t off, slot;

	(void)arg;
	if (va < region_base(0) || va >= region_base(SCHED_STACK_MAX_ORDER + 1))
		return false;
	order = (unsigned)(va >> region_shift) - 1;
	off = va - region_base(order);
	slot = off / slot_size(order);
	if (off % slot_size(order) >= GUARD_SIZE ||
	    slot >= atomic_load_explicit(&classes[order].slots, memory_order_relaxed))
		return false;
	sched_stack_overflow(as_ptr(as, region_base(order) + slot * slot_size(order) + GUARD_SIZE),
			     FRAME_SIZE << order, tf);
}

int sched_stack_init(void)
{
	int err;

	for (unsigned o = 0; o <= SCHED_STACK_MAX_ORDER; o++)
		spin_init(&classes[o].lock);
	if ((err = as_create(&stack_space, 0)) < 0)
		return err;
	/* Regions 1 .. MAX_ORDER + 1 of the window (region 0 stays unused, so
	 * that no stack sits near address 0). */
	for (region_shift = 12; ((vaddr_t)(SCHED_STACK_MAX_ORDER + 2) << (region_shift + 1)) <=
	     as_limit(stack_space); region_shift++)
		;
	if (((vaddr_t)1 << region_shift) < 2 * (FRAME_SIZE << SCHED_STACK_MAX_ORDER)) {
		as_destroy(stack_space);
		return -K_ENOMEM;	/* a window too small for even two big stacks */
	}
	as_set_fault_handler(stack_space, stack_fault, NULL);
	return 0;
}

/* Map a fresh stack in a new slot of its class. */
static int stack_map(unsigned order, void **base)
{
	struct stack_class *c = &classes[order];
	uint64_t size = FRAME_SIZE << order, slot;
	hal_irqstate_t s;
	paddr_t pa;
	vaddr_t va;
	int err;

	if (atomic_fetch_add(&stacks_mapped, 1) >= atomic_load(&stacks_limit)) {
		atomic_fetch_sub(&stacks_mapped, 1);
		klog(sched, WARN, "no stack: %llu stacks mapped, the limit (sched_stack_set_limit)",
		     (unsigned long long)atomic_load(&stacks_limit));
		return -K_ENOMEM;
	}
	s = spin_lock_irqsave(&c->lock);
	slot = atomic_load_explicit(&c->slots, memory_order_relaxed);
	va = region_base(order) + slot * slot_size(order) + GUARD_SIZE;
	if (va + size > region_base(order + 1)) {
		spin_unlock_irqrestore(&c->lock, s);
		atomic_fetch_sub(&stacks_mapped, 1);
		return -K_ENOMEM;
	}
	atomic_store_explicit(&c->slots, slot + 1, memory_order_relaxed);
	spin_unlock_irqrestore(&c->lock, s);

	/* A failure below leaves the slot unused for good: address space is
	 * plentiful, and failures are out-of-memory cases. */
	if ((err = frame_alloc(order, &pa)) < 0)
		goto fail;
	if ((err = as_map(stack_space, va, pa, size, PTE_R | PTE_W, PT_SIZE_4K)) < 0) {
		frame_free(pa, order);
		goto fail;
	}
	*base = as_ptr(stack_space, va);
	return 0;
fail:
	atomic_fetch_sub(&stacks_mapped, 1);
	return err;
}

int sched_stack_alloc(unsigned order, void **base)
{
	struct stack_class *c;
	hal_irqstate_t s;
	unsigned n;
	void *p;

	if (order > SCHED_STACK_MAX_ORDER)
		return -K_EINVAL;
	if (order < CACHE_ORDERS) {
		struct stack_cache *hc = &caches[hal_hart_id()];

		if ((n = atomic_load_explicit(&hc->count[order], memory_order_relaxed))) {
			*base = hc->stacks[order][n - 1];
			atomic_store_explicit(&hc->count[order], n - 1, memory_order_relaxed);
			return 0;
		}
	}
	c = &classes[order];
	s = spin_lock_irqsave(&c->lock);
	if ((p = c->free)) {
		c->free = *(void **)p;
		c->nfree--;
	}
	spin_unlock_irqrestore(&c->lock, s);
	if (p) {
		*base = p;
		return 0;
	}
	return stack_map(order, base);
}

void sched_stack_free(void *base, unsigned order)
{
	struct stack_class *c = &classes[order];
	hal_irqstate_t s;
	unsigned n;

	if (order < CACHE_ORDERS) {
		struct stack_cache *hc = &caches[hal_hart_id()];

		if ((n = atomic_load_explicit(&hc->count[order], memory_order_relaxed)) < CACHE_STACKS) {
			hc->stacks[order][n] = base;
			atomic_store_explicit(&hc->count[order], n + 1, memory_order_relaxed);
			return;
		}
	}
	s = spin_lock_irqsave(&c->lock);
	*(void **)base = c->free;
	c->free = base;
	c->nfree++;
	spin_unlock_irqrestore(&c->lock, s);
}

void sched_stack_set_limit(uint64_t max_stacks)
{
	atomic_store(&stacks_limit, max_stacks);
}

void sched_stack_stats(struct sched_stack_stats *st)
{
	st->mapped = atomic_load(&stacks_mapped);
	st->limit = atomic_load(&stacks_limit);
	st->free = 0;
	for (unsigned o = 0; o <= SCHED_STACK_MAX_ORDER; o++) {
		hal_irqstate_t s = spin_lock_irqsave(&classes[o].lock);

		st->free += classes[o].nfree;
		spin_unlock_irqrestore(&classes[o].lock, s);
	}
	for (unsigned h = 0; h < HAL_MAX_HARTS; h++)
		for (unsigned o = 0; o < CACHE_ORDERS; o++)
			st->free += atomic_load_explicit(&caches[h].count[o], memory_order_relaxed);
}
