/*
 * as.c - address spaces: a page table registered with the MMU under an
 * ASID, lazily allocated regions, and the page-fault path of kernel_trap().
 *
 * The trap path must not block on anything a faulting context could hold:
 * as_by_asid() is one atomic load from a fixed table, and a space's lock is
 * an irqsave spinlock that no as_* function holds while touching guest
 * memory.  A caller must not touch lazy memory of a space while holding
 * that space's lock (nothing outside this file can).
 */
#include <stdatomic.h>
#include "as.h"
#include "boot.h"
#include "frame.h"
#include "kerr.h"
#include "kheap.h"
#include "klib.h"
#include "log.h"
#include "spinlock.h"

/*
 * ASIDs handed out: 1..AS_MAX_SPACES-1 (0 stays the kernel's own, as is
 * customary on RISC-V).  Far more than the hosted platform can back with
 * windows (vm_sim), far fewer than the 16 bits satp allows.
 */
#define AS_MAX_SPACES	4096

struct lazy_region {
	struct lazy_region *next;
	vaddr_t va;
	vaddr_t last;			/* inclusive */
	unsigned perm;
};

struct as {
	struct spinlock lock;		/* everything below but the constants */
	struct pt pt;
	uint16_t asid;			/* constant */
	uintptr_t window;		/* constant */
	vaddr_t limit;			/* constant */
	struct lazy_region *lazy;	/* not overlapping; pages owned by the space */
	as_fault_fn fault_fn;
	void *fault_arg;
	uint64_t flushes;		/* flushes made by as_* functions */
	uint64_t serial;		/* constant: unique over the kernel's life */
};

/*
 * A fault where the tables allow the access (a "spurious" fault) means the
 * window had not been flushed yet when the access ran.  Every as_* change
 * flushes before it drops the lock, so after taking the lock the handler
 * can simply retry, once.  A second spurious fault at the same place on
 * the same hart with no flush of the space in between cannot be a race:
 * someone changed the tables without flushing, and the fault goes to the
 * space's handler (or panics) instead of looping forever.
 */
struct spurious {
	uint64_t serial;		/* of the space; 0: none */
	vaddr_t va;
	uint64_t flushes;		/* as->flushes when it was seen */
};
static struct spurious spurious_seen[HAL_MAX_HARTS];
static atomic_ullong as_serials;

/* Flush [va, va+len) of the space into the MMU.  Lock held. */
static void as_flush(struct as *as, vaddr_t va, uint64_t len)
{
	as->flushes++;
	hal_mmu_flush(as->asid, va, len);
}

/* ASID -> space; read lock-free by the trap path. */
static struct as *_Atomic as_table[AS_MAX_SPACES];
static atomic_uint as_next_asid = 1;

static bool asid_claim(struct as *as)
{
	unsigned start = atomic_fetch_add_explicit(&as_next_asid, 1, memory_order_relaxed);

	for (unsigned n = 0; n < AS_MAX_SPACES - 1; n++) {
		unsigned asid = 1 + (start + n - 1) % (AS_MAX_SPACES - 1);
		struct as *expect = NULL;

		if (atomic_compare_exchange_strong_explicit(&as_table[asid], &expect, as,
							    memory_order_acq_rel,
							    memory_order_relaxed)) {
			as->asid = (uint16_t)asid;
			return true;
		}
	}
	return false;
}

int as_create(struct as **out, unsigned mode)
{
	struct as *as;
	int err;

	if (mode == 0)
		mode = kernel_paging_mode();
	if (!pt_mode_valid(mode))
		return -K_EINVAL;
	if (!(as = kzalloc(sizeof(*as))))
		return -K_ENOMEM;
	spin_init(&as->lock);
	as->serial = atomic_fetch_add_explicit(&as_serials, 1, memory_order_relaxed) + 1;
	if ((err = pt_create(&as->pt, mode)) < 0)
		goto fail_free;
	err = -K_EBUSY;
	if (!asid_claim(as))
		goto fail_pt;
	/* No trap names this ASID before the window exists: publishing the
	 * space first is safe. */
	if ((err = hal_mmu_attach(as->asid, as->pt.root, mode, &as->window)) < 0)
		goto fail_asid;
	as->limit = hal_mmu_window_limit(mode);
	klog(mm, DEBUG, "as %u: %s, root %#llx", as->asid, pt_mode_name(mode),
	     (unsigned long long)as->pt.root);
	*out = as;
	return 0;
fail_asid:
	atomic_store_explicit(&as_table[as->asid], NULL, memory_order_release);
fail_pt:
	pt_destroy(&as->pt);
fail_free:
	kfree(as);
	return err;
}

/* Free the frames of lazily allocated pages in [va, last] (all 4 KiB). */
static void free_lazy_frames(struct as *as, vaddr_t va, vaddr_t last)
{
	struct pt_leaf leaf;

	while (pt_next_leaf(&as->pt, va, last, &leaf) == 0) {
		frame_free(leaf.pa, 0);
		if (leaf.va + leaf.size - 1 >= last)
			break;
		va = leaf.va + leaf.size;
	}
}

void as_destroy(struct as *as)
{
	struct lazy_region *r;

	/* The window goes first: no host mapping may outlive the frames. */
	hal_mmu_detach(as->asid);
	while ((r = as->lazy)) {
		as->lazy = r->next;
		free_lazy_frames(as, r->va, r->last);
		kfree(r);
	}
	pt_destroy(&as->pt);
	atomic_store_explicit(&as_table[as->asid], NULL, memory_order_release);
	kfree(as);
}

uint16_t as_asid(const struct as *as)
{
	return as->asid;
}

struct pt *as_pt(struct as *as)
{
	return &as->pt;
}

void *as_ptr(const struct as *as, vaddr_t va)
{
	return (void *)(as->window + va);
}

vaddr_t as_limit(const struct as *as)
{
	return as->limit;
}

static struct lazy_region *lazy_find(const struct as *as, vaddr_t va, vaddr_t last)
{
	for (struct lazy_region *r = as->lazy; r; r = r->next)
		if (r->va <= last && va <= r->last)
			return r;
	return NULL;
}

/* [va, va+len) as an inclusive range, or -K_EINVAL. */
static int range_last(vaddr_t va, uint64_t len, vaddr_t *last)
{
	if (len == 0 || !IS_ALIGNED(va, HAL_PAGE_SIZE) || !IS_ALIGNED(len, HAL_PAGE_SIZE))
		return -K_EINVAL;
	*last = va + (len - 1);
	return *last < va ? -K_EINVAL : 0;
}

int as_map(struct as *as, vaddr_t va, paddr_t pa, uint64_t len, unsigned perm,
	   uint64_t page_size)
{
	hal_irqstate_t s;
	vaddr_t last;
	int err;

	if ((err = range_last(va, len, &last)) < 0)
		return err;
	s = spin_lock_irqsave(&as->lock);
	if (lazy_find(as, va, last))
		err = -K_EEXIST;	/* a lazy region's pages belong to the space */
	else if ((err = pt_map(&as->pt, va, pa, len, perm, page_size)) == 0)
		as_flush(as, va, len);
	spin_unlock_irqrestore(&as->lock, s);
	return err;
}

/* Does a leaf containing va start below lo or end above hi? */
static bool leaf_sticks_out(const struct as *as, vaddr_t va, vaddr_t lo, vaddr_t hi)
{
	struct pt_leaf leaf;

	return pt_lookup(&as->pt, va, &leaf) == 0 &&
	       (leaf.va < lo || leaf.va + (leaf.size - 1) > hi);
}

int as_unmap(struct as *as, vaddr_t va, uint64_t len)
{
	paddr_t discarded = 0;
	hal_irqstate_t s;
	vaddr_t last;
	int err;

	if ((err = range_last(va, len, &last)) < 0)
		return err;
	s = spin_lock_irqsave(&as->lock);
	/*
	 * Check before anything changes, so that the steps below cannot fail:
	 * the range is canonical (pt_next_leaf says -K_EINVAL otherwise), and
	 * only a leaf holding an end of the range can stick out of it.
	 */
	{
		struct pt_leaf any;

		if (pt_next_leaf(&as->pt, va, last, &any) == -K_EINVAL ||
		    leaf_sticks_out(as, va, va, last) || leaf_sticks_out(as, last, va, last)) {
			spin_unlock_irqrestore(&as->lock, s);
			return -K_EINVAL;
		}
	}
	/*
	 * Pages of lazy regions are the space's own: take them out one by one
	 * and chain their frames through their first word (the contents are
	 * being discarded), to free them once the window no longer shows them.
	 */
	for (struct lazy_region *r = as->lazy; r; r = r->next) {
		vaddr_t lo = MAX(va, r->va), hi = MIN(last, r->last);
		struct pt_leaf leaf;

		while (lo <= hi && pt_next_leaf(&as->pt, lo, hi, &leaf) == 0) {
			*(paddr_t *)hal_phys_to_virt(leaf.pa) = discarded;
			discarded = leaf.pa;
			err = pt_unmap(&as->pt, leaf.va, leaf.size);
			KASSERT(err == 0, "as_unmap: lazy page");
			if (leaf.va + leaf.size - 1 >= hi)
				break;
			lo = leaf.va + leaf.size;
		}
	}
	err = pt_unmap(&as->pt, va, len);
	KASSERT(err == 0, "as_unmap: checked range");
	as_flush(as, va, len);
	while (discarded) {
		paddr_t next = *(paddr_t *)hal_phys_to_virt(discarded);

		frame_free(discarded, 0);
		discarded = next;
	}
	spin_unlock_irqrestore(&as->lock, s);
	return err;
}

int as_protect(struct as *as, vaddr_t va, uint64_t len, unsigned perm)
{
	hal_irqstate_t s;
	vaddr_t last;
	int err;

	if ((err = range_last(va, len, &last)) < 0)
		return err;
	s = spin_lock_irqsave(&as->lock);
	if (lazy_find(as, va, last))
		err = -K_EINVAL;
	else if ((err = pt_protect(&as->pt, va, len, perm)) == 0)
		as_flush(as, va, len);
	spin_unlock_irqrestore(&as->lock, s);
	return err;
}

int as_reserve_lazy(struct as *as, vaddr_t va, uint64_t len, unsigned perm)
{
	struct lazy_region *r;
	struct pt_leaf leaf;
	hal_irqstate_t s;
	vaddr_t last;
	int err;

	if ((err = range_last(va, len, &last)) < 0)
		return err;
	if ((perm & ~PTE_PERM_MASK) || !(perm & (PTE_R | PTE_W | PTE_X)) ||
	    ((perm & PTE_W) && !(perm & PTE_R)))
		return -K_EINVAL;
	if (!(r = kmalloc(sizeof(*r))))
		return -K_ENOMEM;
	r->va = va;
	r->last = last;
	r->perm = perm;
	s = spin_lock_irqsave(&as->lock);
	err = pt_next_leaf(&as->pt, va, last, &leaf);
	if (err == -K_ENOENT) {
		err = lazy_find(as, va, last) ? -K_EEXIST : 0;
	} else if (err == 0) {
		err = -K_EEXIST;
	}
	if (err == 0) {
		/*
		 * Next to a region with the same permissions, grow that one:
		 * a wasm memory grows a page at a time, and every fault walks
		 * the list.
		 */
		struct lazy_region *n;

		for (n = as->lazy; n; n = n->next)
			if (n->perm == perm && (n->last + 1 == va || last + 1 == n->va))
				break;
		if (n) {
			n->va = MIN(n->va, va);
			n->last = MAX(n->last, last);
		} else {
			r->next = as->lazy;
			as->lazy = r;
			r = NULL;
		}
	}
	spin_unlock_irqrestore(&as->lock, s);
	kfree(r);
	return err;
}

void as_set_fault_handler(struct as *as, as_fault_fn fn, void *arg)
{
	hal_irqstate_t s = spin_lock_irqsave(&as->lock);

	as->fault_fn = fn;
	as->fault_arg = arg;
	spin_unlock_irqrestore(&as->lock, s);
}

/* The permission a faulting access needs, 0 for a cause that is no page fault. */
static unsigned access_perm(uint64_t cause)
{
	switch (cause) {
	case TRAP_LOAD_PAGE_FAULT:	return PTE_R;
	case TRAP_STORE_PAGE_FAULT:	return PTE_W;
	case TRAP_INSN_PAGE_FAULT:	return PTE_X;
	default:			return 0;
	}
}

#define LAZY_GROUP_ORDER	9	/* AS_LAZY_GROUP in frames, log2 */
_Static_assert(FRAME_SIZE << LAZY_GROUP_ORDER == AS_LAZY_GROUP, "AS_LAZY_GROUP is 2^9 frames");

/* Give the lazy page at va a zeroed frame of its own.  Lock held. */
static bool lazy_page(struct as *as, vaddr_t va, unsigned perm)
{
	paddr_t pa;

	if (frame_alloc(0, &pa) < 0)
		return false;
	kmemset(hal_phys_to_virt(pa), 0, FRAME_SIZE);
	if (pt_map(&as->pt, va, pa, FRAME_SIZE, perm, PT_SIZE_4K) < 0) {
		frame_free(pa, 0);
		return false;
	}
	return true;
}

/*
 * Populate the pages of r's share of the AS_LAZY_GROUP around va that
 * have none yet, in ascending order (frames taken one after another are
 * mostly consecutive, which the hosted MMU maps as one host mapping).
 * Whether va itself got its page.  Lock held.
 */
static bool lazy_populate(struct as *as, const struct lazy_region *r, vaddr_t va)
{
	vaddr_t lo = MAX(ALIGN_DOWN(va, (vaddr_t)AS_LAZY_GROUP), r->va);
	vaddr_t hi = MIN(ALIGN_DOWN(va, (vaddr_t)AS_LAZY_GROUP) + AS_LAZY_GROUP - 1, r->last);
	struct pt_leaf leaf;
	bool got;
	paddr_t pa;

	/*
	 * A whole group with no page yet takes one block of frames, so that
	 * its frames are consecutive whatever the allocator's history; its
	 * frames are freed one by one, as any lazy page's.
	 */
	if (hi - lo + 1 == AS_LAZY_GROUP && pt_next_leaf(&as->pt, lo, hi, &leaf) == -K_ENOENT &&
	    frame_alloc(LAZY_GROUP_ORDER, &pa) == 0) {
		frame_split(pa, LAZY_GROUP_ORDER);
		kmemset(hal_phys_to_virt(pa), 0, AS_LAZY_GROUP);
		if (pt_map(&as->pt, lo, pa, AS_LAZY_GROUP, r->perm, PT_SIZE_4K) == 0) {
			as_flush(as, lo, AS_LAZY_GROUP);
			return true;
		}
		for (paddr_t p = pa; p < pa + AS_LAZY_GROUP; p += FRAME_SIZE)
			frame_free(p, 0);
	}
	for (vaddr_t p = lo; p < hi; p += HAL_PAGE_SIZE)
		if (pt_lookup(&as->pt, p, &leaf) == -K_ENOENT && !lazy_page(as, p, r->perm))
			break;	/* short of frames: what is left goes to va, below */
	got = pt_lookup(&as->pt, va, &leaf) == 0 || lazy_page(as, va, r->perm);
	as_flush(as, lo, hi - lo + 1);
	return got;
}

bool as_handle_fault(struct trap_frame *tf)
{
	struct as *as = as_by_asid(tf->asid);
	unsigned need = access_perm(tf->cause);
	vaddr_t va = ALIGN_DOWN(tf->tval, (vaddr_t)HAL_PAGE_SIZE);
	bool resolved = false;
	struct lazy_region *r;
	struct pt_leaf leaf;
	as_fault_fn fn;
	hal_irqstate_t s;
	void *arg;
	int err;

	if (!as || !need)
		return false;
	s = spin_lock_irqsave(&as->lock);
	err = pt_lookup(&as->pt, va, &leaf);
	if (err == 0) {
		if (leaf.perm & need) {
			/* Only this hart writes its entry, from its own traps. */
			struct spurious *seen = &spurious_seen[hal_hart_id()];

			resolved = seen->serial != as->serial || seen->va != va ||
				   seen->flushes != as->flushes;
			seen->serial = resolved ? as->serial : 0;
			seen->va = va;
			seen->flushes = as->flushes;
		}
	} else if (err == -K_ENOENT && (r = lazy_find(as, va, va)) && (r->perm & need)) {
		resolved = lazy_populate(as, r, va);
	}
	fn = as->fault_fn;
	arg = as->fault_arg;
	spin_unlock_irqrestore(&as->lock, s);
	if (!resolved && fn)
		resolved = fn(as, tf, arg);
	if (!resolved)
		klog(mm, DEBUG, "as %u: unresolved fault at %#llx (cause %llu)", as->asid,
		     (unsigned long long)tf->tval, (unsigned long long)tf->cause);
	return resolved;
}

struct as *as_by_asid(uint16_t asid)
{
	return asid < AS_MAX_SPACES ?
	       atomic_load_explicit(&as_table[asid], memory_order_acquire) : NULL;
}
