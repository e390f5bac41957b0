/*
 * kheap.c - the kernel heap (kheap.h).
 *
 * Sizes up to 2048 bytes are rounded up to one of 14 size classes; each
 * class carves slabs (frame blocks of a per-class order, so that a slab
 * holds at least 10 objects) into objects.  Every hart keeps a small
 * magazine of free objects per class, so the common kmalloc/kfree takes no
 * lock; magazines are refilled from and drained to the slabs in batches
 * under the class lock.  Larger sizes are frame blocks of their own.
 *
 * kfree() needs no size: the frame allocator knows the block containing
 * any address (frame_lookup()).  A pointer at the start of its block is a
 * large allocation, since slab objects start after the slab header; any
 * other pointer is a slab object, and the slab header says the class.
 *
 * Invariants:
 * INV-KHEAP-1  A slab's inuse counts its objects not on its free list
 *              (handed out or in a magazine); a slab is on its class's
 *              partial list iff its free list is non-empty and inuse > 0.
 *              An empty slab is the class's one spare, or back with the
 *              frame allocator.
 * INV-KHEAP-2  A free object (on a slab free list or in a magazine) holds
 *              KHEAP_FREE_TAG ^ its address in its second word; kmalloc
 *              clears it, kfree panics on finding it (double free).
 * INV-KHEAP-3  Magazines are touched only by their hart with interrupts
 *              disabled; slabs and class lists only under the class lock.
 *              Lock order: class lock, then the frame allocator's lock.
 */
#include <stdatomic.h>
#include "frame.h"
#include "hal.h"
#include "kheap.h"
#include "klib.h"
#include "smp.h"
#include "spinlock.h"

#define KHEAP_CACHELINE		64
#define KHEAP_HDR		64	/* slab header, rounded to a cache line */
#define KHEAP_MAX_SMALL		2048
#define KHEAP_NCLASSES		14
#define KHEAP_MAG_SLOTS		16
#define KHEAP_MAG_BATCH		8
#define KHEAP_SLAB_MAGIC	0x6b736c62u	/* "kslb" */
#define KHEAP_FREE_TAG		0x6b667265655f6f62ull

/* Same policy as the frame allocator: full poisoning in sanitizer builds. */
#ifndef KHEAP_POISON_FULL
#ifdef __SANITIZE_ADDRESS__
#define KHEAP_POISON_FULL 1
#else
#define KHEAP_POISON_FULL 0
#endif /* __SANITIZE_ADDRESS__ */
#endif /* KHEAP_POISON_FULL */
#define KHEAP_POISON_BYTE	0x6b

struct kheap_slab {
	uint32_t magic;			/* KHEAP_SLAB_MAGIC while a slab */
	uint16_t cls;
	uint16_t inuse;			/* INV-KHEAP-1 */
	void *free;			/* free objects, linked by their first word */
	struct kheap_slab *next, *prev;	/* partial list */
};
_Static_assert(sizeof(struct kheap_slab) <= KHEAP_HDR, "slab header too large");

/*
 * Class geometry.  recip = floor(2^32 / size) + 1 makes (off * recip) >> 32
 * equal off / size for every offset in a slab (off * size < 2^32), so kfree
 * checks that a pointer is an object start without a division.
 */
struct kheap_geom {
	uint16_t size;
	uint8_t order;		/* slab = 2^order frames */
	uint16_t nobj;
	uint32_t recip;
};
#define CLASS(sz, ord) { (sz), (ord), (uint16_t)(((FRAME_SIZE << (ord)) - KHEAP_HDR) / (sz)), \
			 (uint32_t)((1ull << 32) / (sz) + 1) }
static const struct kheap_geom geom[KHEAP_NCLASSES] = {
	CLASS(16, 0), CLASS(32, 0), CLASS(48, 0), CLASS(64, 0), CLASS(96, 0),
	CLASS(128, 0), CLASS(192, 0), CLASS(256, 0), CLASS(384, 0), CLASS(512, 1),
	CLASS(768, 1), CLASS(1024, 2), CLASS(1536, 2), CLASS(2048, 3),
};

/* Class of a size, indexed by (size + 15) / 16. */
static const uint8_t size_class[KHEAP_MAX_SMALL / 16 + 1] = {
	[0 ... 1] = 0, [2] = 1, [3] = 2, [4] = 3, [5 ... 6] = 4, [7 ... 8] = 5,
	[9 ... 12] = 6, [13 ... 16] = 7, [17 ... 24] = 8, [25 ... 32] = 9,
	[33 ... 48] = 10, [49 ... 64] = 11, [65 ... 96] = 12, [97 ... 128] = 13,
};

struct kheap_class {
	struct spinlock lock;
	struct kheap_slab partial;	/* sentinel of the partial list */
	struct kheap_slab *spare;	/* one empty slab kept against churn */
} __attribute__((aligned(KHEAP_CACHELINE)));

#define KCLASS(i) [i] = { .lock = SPINLOCK_INIT, \
	.partial = { .next = &classes[i].partial, .prev = &classes[i].partial } }
static struct kheap_class classes[KHEAP_NCLASSES] = {
	KCLASS(0), KCLASS(1), KCLASS(2), KCLASS(3), KCLASS(4), KCLASS(5), KCLASS(6),
	KCLASS(7), KCLASS(8), KCLASS(9), KCLASS(10), KCLASS(11), KCLASS(12), KCLASS(13),
};

struct kheap_mag {
	uint32_t count;
	void *obj[KHEAP_MAG_SLOTS];
};

struct kheap_hart {
	struct kheap_mag mag[KHEAP_NCLASSES];
} __attribute__((aligned(KHEAP_CACHELINE)));

static struct kheap_hart harts[HAL_MAX_HARTS];

/* -- Slabs (class lock held) --------------------------------------------- */

static inline uint64_t free_tag(const void *obj)
{
	return KHEAP_FREE_TAG ^ (uintptr_t)obj;
}

static inline uint64_t *obj_words(void *obj)
{
	return obj;
}

/* The slab of an object of a known class: slabs are aligned to their size
 * physically, and the direct map is linear within a slab. */
static struct kheap_slab *slab_of(void *obj, unsigned cls)
{
	paddr_t pa = hal_virt_to_phys(obj);
	paddr_t off = pa & ((FRAME_SIZE << geom[cls].order) - 1);

	return (struct kheap_slab *)((uint8_t *)obj - off);
}

static void partial_add(struct kheap_class *k, struct kheap_slab *s)
{
	s->next = k->partial.next;
	s->prev = &k->partial;
	k->partial.next->prev = s;
	k->partial.next = s;
}

static void partial_remove(struct kheap_slab *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static struct kheap_slab *slab_new(unsigned cls)
{
	const struct kheap_geom *g = &geom[cls];
	struct kheap_slab *s;
	uint8_t *obj;
	paddr_t pa;

	if (frame_alloc(g->order, &pa) < 0)
		return NULL;
	s = hal_phys_to_virt(pa);
	s->magic = KHEAP_SLAB_MAGIC;
	s->cls = (uint16_t)cls;
	s->inuse = 0;
	s->free = NULL;
	obj = (uint8_t *)s + KHEAP_HDR + (size_t)(g->nobj - 1) * g->size;
	for (unsigned i = 0; i < g->nobj; i++, obj -= g->size) {
		obj_words(obj)[0] = (uintptr_t)s->free;
		obj_words(obj)[1] = free_tag(obj);
		s->free = obj;
	}
	return s;
}

static void slab_release(struct kheap_slab *s)
{
	s->magic = 0;	/* a stale kfree into it now panics */
	frame_free(hal_virt_to_phys(s), geom[s->cls].order);
}

/* One free object of a class, or NULL when memory is exhausted. */
static void *class_take(struct kheap_class *k, unsigned cls)
{
	struct kheap_slab *s = k->partial.next;
	void *obj;

	if (s == &k->partial) {
		s = k->spare;
		k->spare = NULL;
		if (!s && !(s = slab_new(cls)))
			return NULL;
		partial_add(k, s);
	}
	obj = s->free;
	s->free = (void *)(uintptr_t)obj_words(obj)[0];
	s->inuse++;
	if (!s->free)
		partial_remove(s);
	return obj;
}

static void class_put(struct kheap_class *k, unsigned cls, void *obj)
{
	struct kheap_slab *s = slab_of(obj, cls);

	if (!s->free)
		partial_add(k, s);
	obj_words(obj)[0] = (uintptr_t)s->free;
	s->free = obj;
	if (--s->inuse > 0)
		return;
	partial_remove(s);
	if (!k->spare)
		k->spare = s;
	else
		slab_release(s);
}

/* -- Magazines (interrupts off, own hart) -------------------------------- */

static void mag_refill(struct kheap_mag *m, unsigned cls)
{
	struct kheap_class *k = &classes[cls];
	void *obj;

	spin_lock(&k->lock);
	while (m->count < KHEAP_MAG_BATCH && (obj = class_take(k, cls)))
		m->obj[m->count++] = obj;
	spin_unlock(&k->lock);
}

/* Give the n oldest objects of a magazine back to their slabs. */
static void mag_drain(struct kheap_mag *m, unsigned cls, uint32_t n)
{
	struct kheap_class *k = &classes[cls];

	spin_lock(&k->lock);
	for (uint32_t i = 0; i < n; i++)
		class_put(k, cls, m->obj[i]);
	spin_unlock(&k->lock);
	kmemmove(&m->obj[0], &m->obj[n], (m->count - n) * sizeof(m->obj[0]));
	m->count -= n;
}

static void mag_drain_own(void *unused)
{
	hal_irqstate_t s = hal_irq_save();
	struct kheap_hart *h = &harts[hal_hart_id()];

	(void)unused;
	for (unsigned cls = 0; cls < KHEAP_NCLASSES; cls++)
		mag_drain(&h->mag[cls], cls, h->mag[cls].count);
	hal_irq_restore(s);
}

/* -- Interface ----------------------------------------------------------- */

static void *large_alloc(size_t size)
{
	uint64_t frames = (size + FRAME_SIZE - 1) >> FRAME_SHIFT;
	unsigned order = 0;
	paddr_t pa;

	while ((1ull << order) < frames)
		order++;
	if (frame_alloc(order, &pa) < 0)
		return NULL;
	return hal_phys_to_virt(pa);
}

void *kmalloc(size_t size)
{
	struct kheap_mag *m;
	hal_irqstate_t s;
	unsigned cls;
	void *obj;

	if (unlikely(size == 0))
		return NULL;
	if (size > KHEAP_MAX_SMALL)
		return size <= (FRAME_SIZE << FRAME_MAX_ORDER) ? large_alloc(size) : NULL;
	cls = size_class[(size + 15) >> 4];
	s = hal_irq_save();
	m = &harts[hal_hart_id()].mag[cls];
	if (unlikely(m->count == 0)) {
		mag_refill(m, cls);
		if (m->count == 0) {
			hal_irq_restore(s);
			return NULL;
		}
	}
	obj = m->obj[--m->count];
	hal_irq_restore(s);
	obj_words(obj)[1] = 0;	/* no longer free (INV-KHEAP-2) */
	return obj;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		kmemset(p, 0, size);
	return p;
}

/*
 * Classify a pointer handed to kfree/kmalloc_usable_size: returns the class
 * of a slab object, or KHEAP_NCLASSES for a large block (its order in
 * *order and its physical address in *pa).  Panics, naming `who`, on
 * anything kmalloc did not return.
 */
static unsigned classify(const char *who, const void *p, paddr_t *pa, unsigned *order)
{
	paddr_t head;
	const struct kheap_slab *s;
	const struct kheap_geom *g;
	uint64_t off, idx;

	*pa = hal_virt_to_phys(p);
	if (frame_lookup(*pa, &head, order) < 0)
		k23_panic("%s: %p is not allocated memory (double free?)", who, p);
	if (head == *pa)
		return KHEAP_NCLASSES;
	s = (const struct kheap_slab *)((const uint8_t *)p - (*pa - head));
	if (s->magic != KHEAP_SLAB_MAGIC || s->cls >= KHEAP_NCLASSES)
		k23_panic("%s: %p is not from kmalloc", who, p);
	g = &geom[s->cls];
	off = *pa - head - KHEAP_HDR;
	idx = (off * g->recip) >> 32;
	if (*pa - head < KHEAP_HDR || idx >= g->nobj || idx * g->size != off)
		k23_panic("%s: %p is not the start of a %u-byte object", who, p, g->size);
	return s->cls;
}

void kfree(void *p)
{
	struct kheap_mag *m;
	hal_irqstate_t s;
	unsigned cls, order;
	paddr_t pa;

	if (!p)
		return;
	cls = classify("kfree", p, &pa, &order);
	if (cls == KHEAP_NCLASSES) {
		frame_free(pa, order);
		return;
	}
	if (unlikely(obj_words(p)[1] == free_tag(p)))
		k23_panic("kfree: double free of %p", p);
	if (KHEAP_POISON_FULL)
		kmemset((uint8_t *)p + 16, KHEAP_POISON_BYTE, geom[cls].size - 16);
	obj_words(p)[1] = free_tag(p);
	s = hal_irq_save();
	m = &harts[hal_hart_id()].mag[cls];
	if (unlikely(m->count == KHEAP_MAG_SLOTS))
		mag_drain(m, cls, KHEAP_MAG_BATCH);
	m->obj[m->count++] = p;
	hal_irq_restore(s);
}

size_t kmalloc_usable_size(const void *p)
{
	unsigned cls, order;
	paddr_t pa;

	if (!p)
		return 0;
	cls = classify("kmalloc_usable_size", p, &pa, &order);
	return cls == KHEAP_NCLASSES ? FRAME_SIZE << order : geom[cls].size;
}

void kheap_drain_caches(void)
{
	hal_irqstate_t s;

	smp_call_all(mag_drain_own, NULL);
	for (unsigned cls = 0; cls < KHEAP_NCLASSES; cls++) {
		struct kheap_class *k = &classes[cls];
		struct kheap_slab *spare;

		s = spin_lock_irqsave(&k->lock);
		spare = k->spare;
		k->spare = NULL;
		if (spare)
			slab_release(spare);
		spin_unlock_irqrestore(&k->lock, s);
	}
}
