/*
 * vmsim.c - the simulated MMU: per-ASID host windows kept in step with the
 * guest page tables at each flush (see vmsim.h).
 *
 * A host mmap costs microseconds and each host mapping is a VMA counted
 * against vm.max_map_count (65530 by default), so a flush issues as few
 * calls as it can:
 *   - A shadow tree records what each window shows now.  It mirrors the
 *     shape of the guest tables (a 1 GiB top level, then 2 MiB, then
 *     4 KiB), each entry either uniform over its span (inaccessible, or a
 *     leaf: frame and host protection) or a pointer to a finer node.  A
 *     flush walks the guest tables and the shadow side by side over the
 *     range and only touches the host where they differ, so flushing an
 *     unchanged space costs no host call at all.
 *   - Differences are emitted in address order into one pending run that
 *     grows while the next change continues it in both VA and PA with the
 *     same protection; a 2 MiB leaf is one mmap, not 512.
 *
 * Locking: a window's lock serialises flushes and detach of that window;
 * attach and detach also take windows_lock.  vmsim_fault_lookup() takes no
 * lock at all: it runs in signal handlers and reads the slots with atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/pt.h"
#include "vmsim.h"
#include "walk.h"

/* Windows that can exist at once: 64 x 256 GiB = 16 TiB of host VA. */
#define VMSIM_MAX_WINDOWS	64
/* The shadow's top entry spans guest level 3 (512 GiB); the window is its
 * lower half in every mode. */
#define SHADOW_TOP_LEVEL	3
#define SHADOW_NODES_PER_CHUNK	16

/*
 * Shadow entry: 0 = inaccessible; bit 0 set = leaf, the frame's physical
 * address at the span's start in bits 63:12 and the host PROT_* bits in
 * 3:1; otherwise a pointer to a struct shadow_node one level down.
 */
#define SH_LEAF		1ull
#define SH_PROT_SHIFT	1
#define SH_PA_MASK	(~0ull << 12)

struct shadow_node {
	uint64_t e[512];
};

struct shadow_chunk {
	struct shadow_chunk *next;
	struct shadow_node nodes[SHADOW_NODES_PER_CHUNK];
};

struct window {
	_Atomic uintptr_t base;		/* host address of guest va 0; 0: free */
	_Atomic uint16_t asid;
	pthread_mutex_t lock;		/* the fields below */
	paddr_t root;
	unsigned mode;
	uint64_t top;			/* shadow entry of guest [0, 512 GiB) */
	struct shadow_chunk *chunks;	/* every node of this window's shadow */
	struct shadow_node *free_nodes;	/* chained through e[0] */
};

/* Changes that one host call will make, growing while contiguous. */
struct run {
	vaddr_t va;
	uint64_t len;			/* 0: empty */
	uint64_t val;			/* shadow encoding at va */
};

/* What the guest tables want over one shadow entry's span. */
struct want {
	bool table;			/* val is a guest table of the level below */
	uint64_t val;			/* else the shadow encoding */
};

static struct window windows[VMSIM_MAX_WINDOWS];
static _Atomic unsigned windows_used;	/* slots ever used: the scan bound */
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t stat_flushes, stat_mmap_calls;
/* VMSIM_WINDOW_SIZE, or less on a host that cannot reserve that much. */
static uint64_t window_size;

static _Noreturn void vmsim_fatal(const char *what)
{
	fprintf(stderr, "vm_sim: %s: %s%s\n", what, strerror(errno),
		errno == ENOMEM ? " (host mappings above vm.max_map_count?)" : "");
	abort();
}

int vmsim_init(int memfd, paddr_t base, uint64_t size, void *direct_map)
{
	if (memfd < 0 || size == 0 || (base & (HAL_PAGE_SIZE - 1)) || !direct_map)
		return -K_EINVAL;
	vmsim_ram.memfd = memfd;
	vmsim_ram.base = base;
	vmsim_ram.size = size;
	vmsim_ram.direct_map = direct_map;
	/* Valgrind, for one, refuses reservations of hundreds of GiB. */
	for (window_size = VMSIM_WINDOW_SIZE; window_size > PT_SIZE_1G; window_size /= 2) {
		void *probe = mmap(NULL, window_size, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (probe != MAP_FAILED) {
			munmap(probe, window_size);
			break;
		}
	}
	for (unsigned i = 0; i < VMSIM_MAX_WINDOWS; i++)
		pthread_mutex_init(&windows[i].lock, NULL);
	return 0;
}

void vmsim_fini(void)
{
	unsigned used = atomic_load(&windows_used);

	for (unsigned i = 0; i < used; i++)
		if (atomic_load(&windows[i].base))
			vmsim_detach(atomic_load(&windows[i].asid));
	vmsim_ram.memfd = -1;
	vmsim_ram.direct_map = NULL;
}

/* -- Shadow nodes --------------------------------------------------------- */

static struct shadow_node *node_alloc(struct window *w)
{
	struct shadow_node *node = w->free_nodes;

	if (!node) {
		struct shadow_chunk *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (c == MAP_FAILED)
			vmsim_fatal("shadow node");
		c->next = w->chunks;
		w->chunks = c;
		for (unsigned i = 1; i < SHADOW_NODES_PER_CHUNK; i++) {
			c->nodes[i].e[0] = (uint64_t)(uintptr_t)w->free_nodes;
			w->free_nodes = &c->nodes[i];
		}
		node = &c->nodes[0];
	} else {
		w->free_nodes = (struct shadow_node *)(uintptr_t)node->e[0];
	}
	return node;
}

static void node_free(struct window *w, struct shadow_node *node)
{
	node->e[0] = (uint64_t)(uintptr_t)w->free_nodes;
	w->free_nodes = node;
}

static inline bool sh_is_node(uint64_t e)
{
	return e != 0 && !(e & SH_LEAF);
}

static inline struct shadow_node *sh_node(uint64_t e)
{
	return (struct shadow_node *)(uintptr_t)e;
}

/* The uniform value of child i of a uniform span (frame offset by i). */
static inline uint64_t sh_child(uint64_t e, unsigned i, unsigned child_level)
{
	return e ? e + i * vmsim_level_size(child_level) : 0;
}

/* Replace a uniform entry by a node of 512 uniform children saying the same. */
static struct shadow_node *sh_split(struct window *w, uint64_t *se, unsigned level)
{
	struct shadow_node *node = node_alloc(w);

	for (unsigned i = 0; i < 512; i++)
		node->e[i] = sh_child(*se, i, level - 1);
	*se = (uint64_t)(uintptr_t)node;
	return node;
}

/* -- Host calls ----------------------------------------------------------- */

static void run_issue(struct window *w, struct run *run)
{
	void *host = (void *)(atomic_load_explicit(&w->base, memory_order_relaxed) + run->va);
	void *got;

	if (run->len == 0)
		return;
	if (run->val == 0)
		got = mmap(host, run->len, PROT_NONE,
			   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	else
		got = mmap(host, run->len, (int)((run->val >> SH_PROT_SHIFT) & 7),
			   MAP_FIXED | MAP_SHARED, vmsim_ram.memfd,
			   (off_t)((run->val & SH_PA_MASK) - vmsim_ram.base));
	if (got == MAP_FAILED)
		vmsim_fatal("window mmap");
	atomic_fetch_add_explicit(&stat_mmap_calls, 1, memory_order_relaxed);
	run->len = 0;
}

/* The window must show val over [va, va+len): extend the run or start anew. */
static void emit(struct window *w, struct run *run, vaddr_t va, uint64_t len,
		 uint64_t val)
{
	if (run->len && run->va + run->len == va &&
	    (val == 0 ? run->val == 0 :
	     run->val != 0 && val == run->val + run->len)) {
		run->len += len;
		return;
	}
	run_issue(w, run);
	run->va = va;
	run->len = len;
	run->val = val;
}

/* -- Guest side ----------------------------------------------------------- */

/*
 * The host protection a leaf gets.  Like a hart with Svade, vm_sim never
 * sets A or D: a leaf with A clear is inaccessible and one with D clear is
 * read-only, so the access faults and the kernel decides (pt_map sets both).
 * U and G do not matter to the window: the kernel reaches it as supervisor
 * with SUM set.
 */
static uint64_t leaf_value(uint64_t pte, paddr_t pa, unsigned level)
{
	int prot = 0;

	if (!(pte & PTE_A) || !vmsim_ram_contains(pa, vmsim_level_size(level)))
		return 0;
	if (pte & PTE_R)
		prot |= PROT_READ;
	if ((pte & PTE_W) && (pte & PTE_D))
		prot |= PROT_WRITE;
	if (pte & PTE_X)
		prot |= PROT_EXEC;
	return pa | ((uint64_t)prot << SH_PROT_SHIFT) | SH_LEAF;
}

static struct want want_of_pte(uint64_t pte, unsigned level)
{
	paddr_t pa;

	switch (vmsim_pte_decode(pte, level, &pa)) {
	case VMSIM_PTE_TABLE:
		if (vmsim_table(pa))
			return (struct want){ .table = true, .val = pa };
		return (struct want){ .table = false, .val = 0 };
	case VMSIM_PTE_LEAF:
		return (struct want){ .table = false, .val = leaf_value(pte, pa, level) };
	default:
		return (struct want){ .table = false, .val = 0 };
	}
}

/*
 * Make the shadow entry *se of the span [start, start + size of level)
 * match want over [lo, hi] (inclusive, page aligned, inside the span),
 * emitting every difference.  The shadow takes the guest's shape: a guest
 * table gets a node, and a span that becomes uniform as a whole collapses.
 */
static void sync(struct window *w, uint64_t *se, unsigned level, vaddr_t start,
		 struct want want, vaddr_t lo, vaddr_t hi, struct run *run)
{
	uint64_t size = vmsim_level_size(level), child_size;
	bool whole = lo == start && hi == start + size - 1;
	const uint64_t *guest = NULL;
	struct shadow_node *node;

	if (!want.table && !sh_is_node(*se)) {
		if (*se == want.val)
			return;
		if (whole) {
			emit(w, run, start, size, want.val);
			*se = want.val;
			return;
		}
	}
	node = sh_is_node(*se) ? sh_node(*se) : sh_split(w, se, level);
	if (want.table)
		guest = vmsim_table(want.val);
	child_size = vmsim_level_size(level - 1);
	for (unsigned i = (unsigned)((lo - start) / child_size);
	     i <= (hi - start) / child_size; i++) {
		vaddr_t cstart = start + i * child_size;
		struct want cwant = guest ? want_of_pte(guest[i], level - 1) :
			(struct want){ .table = false,
				       .val = sh_child(want.val, i, level - 1) };

		sync(w, &node->e[i], level - 1, cstart, cwant, MAX(lo, cstart),
		     MIN(hi, cstart + child_size - 1), run);
	}
	if (!want.table && whole) {
		/* Every child now equals the uniform want. */
		node_free(w, node);
		*se = want.val;
	}
}

/* What the guest wants over [0, 512 GiB), whatever the number of levels. */
static struct want want_top(const struct window *w)
{
	struct want want = { .table = true, .val = w->root };

	for (unsigned level = vmsim_mode_levels(w->mode); level > SHADOW_TOP_LEVEL; level--) {
		const uint64_t *t;

		if (!want.table)
			break;	/* uniform: its first child has the same value */
		if (!(t = vmsim_table(want.val)))
			return (struct want){ .table = false, .val = 0 };
		want = want_of_pte(t[0], level - 1);
	}
	return want;
}

/* -- Windows -------------------------------------------------------------- */

static struct window *window_of(uint16_t asid)
{
	unsigned used = atomic_load_explicit(&windows_used, memory_order_acquire);

	for (unsigned i = 0; i < used; i++)
		if (atomic_load_explicit(&windows[i].base, memory_order_acquire) &&
		    atomic_load_explicit(&windows[i].asid, memory_order_relaxed) == asid)
			return &windows[i];
	return NULL;
}

int vmsim_attach(uint16_t asid, paddr_t root, unsigned mode, uintptr_t *window)
{
	struct window *w = NULL;
	void *base;

	if (asid > HAL_ASID_MAX || !vmsim_mode_levels(mode) || !vmsim_table(root))
		return -K_EINVAL;
	pthread_mutex_lock(&windows_lock);
	if (window_of(asid)) {
		pthread_mutex_unlock(&windows_lock);
		return -K_EINVAL;
	}
	for (unsigned i = 0; i < VMSIM_MAX_WINDOWS && !w; i++)
		if (!atomic_load(&windows[i].base))
			w = &windows[i];
	base = w ? mmap(NULL, window_size, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) : MAP_FAILED;
	if (base == MAP_FAILED) {
		pthread_mutex_unlock(&windows_lock);
		return -K_ENOMEM;
	}
	pthread_mutex_lock(&w->lock);
	w->root = root;
	w->mode = mode;
	w->top = 0;
	w->chunks = NULL;
	w->free_nodes = NULL;
	atomic_store_explicit(&w->asid, asid, memory_order_relaxed);
	atomic_store_explicit(&w->base, (uintptr_t)base, memory_order_release);
	pthread_mutex_unlock(&w->lock);
	if ((unsigned)(w - windows) >= atomic_load(&windows_used))
		atomic_store_explicit(&windows_used, (unsigned)(w - windows) + 1,
				      memory_order_release);
	pthread_mutex_unlock(&windows_lock);
	*window = (uintptr_t)base;
	return 0;
}

void vmsim_detach(uint16_t asid)
{
	struct window *w;
	uintptr_t base;

	pthread_mutex_lock(&windows_lock);
	if (!(w = window_of(asid))) {
		pthread_mutex_unlock(&windows_lock);
		return;
	}
	pthread_mutex_lock(&w->lock);
	base = atomic_exchange(&w->base, 0);
	munmap((void *)base, window_size);
	while (w->chunks) {
		struct shadow_chunk *c = w->chunks;

		w->chunks = c->next;
		munmap(c, sizeof(*c));
	}
	w->free_nodes = NULL;
	w->top = 0;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&windows_lock);
}

static void flush_window(struct window *w, uint16_t asid, vaddr_t lo, vaddr_t hi)
{
	struct run run = { 0 };

	pthread_mutex_lock(&w->lock);
	/* Detached (or reused) since window_of() found it: nothing to do. */
	if (atomic_load_explicit(&w->base, memory_order_relaxed) &&
	    atomic_load_explicit(&w->asid, memory_order_relaxed) == asid) {
		sync(w, &w->top, SHADOW_TOP_LEVEL, 0, want_top(w), lo, hi, &run);
		run_issue(w, &run);
	}
	pthread_mutex_unlock(&w->lock);
}

void vmsim_flush(uint16_t asid, vaddr_t va, uint64_t len)
{
	vaddr_t lo = 0, hi = window_size - 1;

	atomic_fetch_add_explicit(&stat_flushes, 1, memory_order_relaxed);
	if (len != 0) {
		vaddr_t last = va + (len - 1) < va ? UINT64_MAX : va + (len - 1);

		if (va >= window_size)
			return;	/* beyond the window: nothing mirrors it */
		lo = va & ~(vaddr_t)(HAL_PAGE_SIZE - 1);
		hi = MIN(last, hi) | (HAL_PAGE_SIZE - 1);
	}
	if (asid == HAL_ASID_ALL) {
		unsigned used = atomic_load_explicit(&windows_used, memory_order_acquire);

		for (unsigned i = 0; i < used; i++)
			if (atomic_load_explicit(&windows[i].base, memory_order_acquire))
				flush_window(&windows[i],
					     atomic_load_explicit(&windows[i].asid,
								  memory_order_relaxed), lo, hi);
	} else {
		struct window *w = window_of(asid);

		if (w)
			flush_window(w, asid, lo, hi);
	}
}

bool vmsim_fault_lookup(uintptr_t addr, uint16_t *asid, vaddr_t *va)
{
	unsigned used = atomic_load_explicit(&windows_used, memory_order_acquire);

	for (unsigned i = 0; i < used; i++) {
		uintptr_t base = atomic_load_explicit(&windows[i].base, memory_order_acquire);

		if (base && addr - base < window_size) {
			*asid = atomic_load_explicit(&windows[i].asid, memory_order_relaxed);
			*va = addr - base;
			return true;
		}
	}
	return false;
}

uint64_t vmsim_window_size(void)
{
	return window_size;
}

void vmsim_stats(struct vmsim_stats *st)
{
	st->flushes = atomic_load_explicit(&stat_flushes, memory_order_relaxed);
	st->mmap_calls = atomic_load_explicit(&stat_mmap_calls, memory_order_relaxed);
}
