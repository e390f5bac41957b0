/*
 * pt.c - RISC-V Sv39/Sv48/Sv57 page tables (RISC-V privileged spec,
 * "Supervisor-Level ISA": "Sv39: Page-Based 39-bit Virtual-Memory System"
 * and its Sv48/Sv57 siblings).
 *
 * A table is one 4 KiB frame of 512 PTEs, reached through the direct map.
 * A PTE holds PPN[...] in bits 53:10, RSW in 9:8 and D A G U X W R V in
 * 7:0; bits 63:54 (N, PBMT, reserved) are always written as zero.  Level 0
 * entries map 4 KiB, level 1 2 MiB, level 2 1 GiB, and so on by 9 bits.
 *
 * Every operation validates the whole range first and only then edits
 * entries, so an error leaves the tables exactly as they were.  Callers
 * serialise operations on one table (kernel/as.c holds the space's lock).
 */
#include "frame.h"
#include "kerr.h"
#include "klib.h"
#include "pt.h"

#define PT_ENTRIES	512u
#define PT_INDEX_BITS	9u
#define PTE_PPN_MASK	(((1ull << 44) - 1) << PTE_PPN_SHIFT)
#define PTE_LEAF_BITS	(PTE_R | PTE_W | PTE_X)

unsigned pt_levels(unsigned mode)
{
	return mode == PT_SV39 ? 3 : mode == PT_SV48 ? 4 : mode == PT_SV57 ? 5 : 0;
}

unsigned pt_va_bits(unsigned mode)
{
	return 12 + PT_INDEX_BITS * pt_levels(mode);
}

bool pt_mode_valid(unsigned mode)
{
	return pt_levels(mode) != 0;
}

const char *pt_mode_name(unsigned mode)
{
	return mode == PT_SV39 ? "sv39" : mode == PT_SV48 ? "sv48" :
	       mode == PT_SV57 ? "sv57" : "invalid";
}

unsigned pt_mode_parse(const char *name)
{
	static const unsigned modes[] = { PT_SV39, PT_SV48, PT_SV57 };

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (kstrcmp(name, pt_mode_name(modes[i])) == 0)
			return modes[i];
	return 0;
}

/* -- Entries -------------------------------------------------------------- */

static inline uint64_t level_size(unsigned level)
{
	return 1ull << (12 + PT_INDEX_BITS * level);
}

static inline unsigned pt_index(vaddr_t va, unsigned level)
{
	return (unsigned)(va >> (12 + PT_INDEX_BITS * level)) & (PT_ENTRIES - 1);
}

static inline pte_t *table_at(paddr_t pa)
{
	return hal_phys_to_virt(pa);
}

static inline paddr_t pte_pa(pte_t pte)
{
	return (pte & PTE_PPN_MASK) << (12 - PTE_PPN_SHIFT);
}

static inline bool pte_valid(pte_t pte)
{
	return pte & PTE_V;
}

static inline bool pte_is_leaf(pte_t pte)
{
	return (pte & PTE_V) && (pte & PTE_LEAF_BITS);
}

static inline bool pte_is_table(pte_t pte)
{
	return (pte & PTE_V) && !(pte & PTE_LEAF_BITS);
}

static inline pte_t pte_table(paddr_t table)
{
	return ((table >> 12) << PTE_PPN_SHIFT) | PTE_V;
}

/*
 * A and D are set on every leaf up front.  The hosted MMU (vm_sim) never
 * updates them: it behaves like a hart with Svade, where an access through
 * a leaf with A clear (or a store with D clear) raises a page fault for the
 * kernel to set the bit.  The kernel does not track accessed or dirty pages
 * yet, so that fault would be pure cost on both platforms.
 */
static inline pte_t pte_leaf(paddr_t pa, unsigned perm)
{
	return ((pa >> 12) << PTE_PPN_SHIFT) | (perm & PTE_PERM_MASK) |
	       PTE_A | PTE_D | PTE_V;
}

/* Sign-extended from bit va_bits-1, as Sv39/48/57 require of every va. */
static bool va_canonical(const struct pt *pt, vaddr_t va)
{
	unsigned bits = pt_va_bits(pt->mode);
	int64_t ext = (int64_t)(va << (64 - bits)) >> (64 - bits);

	return (vaddr_t)ext == va;
}

/*
 * [va, va+len) is non-empty, page aligned and lies wholly in one canonical
 * half; *last receives its last byte (va+len can wrap at the very top).
 */
static int check_range(const struct pt *pt, vaddr_t va, uint64_t len,
		       uint64_t align, vaddr_t *last)
{
	if (!pt_mode_valid(pt->mode) || len == 0 || !IS_ALIGNED(va, align) ||
	    !IS_ALIGNED(len, align))
		return -K_EINVAL;
	*last = va + (len - 1);
	if (*last < va || !va_canonical(pt, va) || !va_canonical(pt, *last))
		return -K_EINVAL;
	/* Both ends canonical but in different halves: the hole is inside. */
	if ((va ^ *last) >> 63)
		return -K_EINVAL;
	return 0;
}

static bool perm_valid(unsigned perm)
{
	return (perm & ~PTE_PERM_MASK) == 0 && (perm & PTE_LEAF_BITS) != 0 &&
	       !((perm & PTE_W) && !(perm & PTE_R));
}

/* Table frames allocated before a commit, chained through their first word. */
struct table_pool {
	paddr_t head;
	uint64_t count;
};

static void pool_free(struct table_pool *pool)
{
	while (pool->count) {
		paddr_t pa = pool->head;

		pool->head = *(paddr_t *)table_at(pa);
		pool->count--;
		frame_free(pa, 0);
	}
}

static int pool_fill(struct table_pool *pool, uint64_t needed)
{
	pool->head = 0;
	pool->count = 0;
	while (pool->count < needed) {
		paddr_t pa;
		int err = frame_alloc(0, &pa);

		if (err < 0) {
			pool_free(pool);
			return err;
		}
		*(paddr_t *)table_at(pa) = pool->head;
		pool->head = pa;
		pool->count++;
	}
	return 0;
}

static paddr_t pool_take(struct table_pool *pool)
{
	paddr_t pa = pool->head;

	KASSERT(pool->count > 0, "table pool empty");
	pool->head = *(paddr_t *)table_at(pa);
	pool->count--;
	kmemset(table_at(pa), 0, FRAME_SIZE);
	return pa;
}

/* Walks visit [va, last] of one table, one entry's share at a time. */
#define FOR_EACH_SLOT(level, va, last, cur, sub_last)				\
	for (vaddr_t cur = (va), sub_last = MIN((last), (cur) | (level_size(level) - 1)); \
	     ; cur = sub_last + 1,						\
	       sub_last = MIN((last), (cur) | (level_size(level) - 1)))

int pt_create(struct pt *pt, unsigned mode)
{
	paddr_t root;
	int err;

	if (!pt_mode_valid(mode))
		return -K_EINVAL;
	if ((err = frame_alloc(0, &root)) < 0)
		return err;
	kmemset(table_at(root), 0, FRAME_SIZE);
	pt->root = root;
	pt->mode = mode;
	return 0;
}

static void free_tables(paddr_t table, unsigned level)
{
	pte_t *t = table_at(table);

	if (level > 0)
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			if (pte_is_table(t[i]))
				free_tables(pte_pa(t[i]), level - 1);
	frame_free(table, 0);
}

void pt_destroy(struct pt *pt)
{
	if (pt->root)
		free_tables(pt->root, pt_levels(pt->mode) - 1);
	pt->root = 0;
}

/* -- Map ------------------------------------------------------------------ */

/*
 * Validation pass: -K_EEXIST if anything valid sits where a leaf of
 * leaf_level goes; else add to *needed the tables the commit will create.
 * table == 0 stands for a table that does not exist yet (all invalid).
 */
static int map_check(paddr_t table, unsigned level, unsigned leaf_level,
		     vaddr_t va, vaddr_t last, uint64_t *needed)
{
	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t pte = table ? table_at(table)[pt_index(cur, level)] : 0;

		if (level == leaf_level) {
			if (pte_valid(pte))
				return -K_EEXIST;
		} else if (pte_is_leaf(pte)) {
			return -K_EEXIST;
		} else {
			int err;

			if (!pte_valid(pte))
				(*needed)++;
			err = map_check(pte_valid(pte) ? pte_pa(pte) : 0, level - 1,
					leaf_level, cur, sub_last, needed);
			if (err < 0)
				return err;
		}
		if (sub_last == last)
			return 0;
	}
}

static void map_commit(paddr_t table, unsigned level, unsigned leaf_level,
		       vaddr_t va, vaddr_t last, paddr_t pa, unsigned perm,
		       struct table_pool *pool)
{
	pte_t *t = table_at(table);

	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t *pte = &t[pt_index(cur, level)];

		if (level == leaf_level) {
			*pte = pte_leaf(pa + (cur - va), perm);
		} else {
			if (!pte_valid(*pte))
				*pte = pte_table(pool_take(pool));
			map_commit(pte_pa(*pte), level - 1, leaf_level, cur, sub_last,
				   pa + (cur - va), perm, pool);
		}
		if (sub_last == last)
			return;
	}
}

int pt_map(struct pt *pt, vaddr_t va, paddr_t pa, uint64_t len,
	   unsigned perm, uint64_t page_size)
{
	unsigned leaf_level, top = pt_levels(pt->mode) - 1;
	struct table_pool pool;
	uint64_t needed = 0;
	vaddr_t last;
	int err;

	switch (page_size) {
	case PT_SIZE_4K: leaf_level = 0; break;
	case PT_SIZE_2M: leaf_level = 1; break;
	case PT_SIZE_1G: leaf_level = 2; break;
	default: return -K_EINVAL;
	}
	if ((err = check_range(pt, va, len, page_size, &last)) < 0)
		return err;
	if (!perm_valid(perm) || !IS_ALIGNED(pa, page_size) ||
	    pa + len < pa || ((pa + len - 1) >> 56) != 0)
		return -K_EINVAL;
	if ((err = map_check(pt->root, top, leaf_level, va, last, &needed)) < 0)
		return err;
	if ((err = pool_fill(&pool, needed)) < 0)
		return err;
	map_commit(pt->root, top, leaf_level, va, last, pa, perm, &pool);
	KASSERT(pool.count == 0, "pt_map: table frames left over");
	return 0;
}

/* -- Unmap and protect ---------------------------------------------------- */

/*
 * Validation pass shared by unmap and protect: every leaf that [va, last]
 * touches lies wholly inside it (-K_EINVAL), and, when holes_ok is false,
 * every page of the range is mapped (-K_ENOENT).
 */
static int range_check(paddr_t table, unsigned level, vaddr_t va, vaddr_t last,
		       bool holes_ok)
{
	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t pte = table_at(table)[pt_index(cur, level)];
		bool whole = (cur & (level_size(level) - 1)) == 0 &&
			     (sub_last & (level_size(level) - 1)) == level_size(level) - 1;
		int err;

		if (!pte_valid(pte)) {
			if (!holes_ok)
				return -K_ENOENT;
		} else if (pte_is_leaf(pte)) {
			if (!whole)
				return -K_EINVAL;
		} else if (level == 0) {
			return -K_EINVAL;	/* a pointer at level 0: malformed */
		} else if ((err = range_check(pte_pa(pte), level - 1, cur, sub_last,
					      holes_ok)) < 0) {
			return err;
		}
		if (sub_last == last)
			return 0;
	}
}

static bool table_empty(paddr_t table)
{
	const pte_t *t = table_at(table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

static void unmap_commit(paddr_t table, unsigned level, vaddr_t va, vaddr_t last)
{
	pte_t *t = table_at(table);

	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t *pte = &t[pt_index(cur, level)];

		if (pte_is_leaf(*pte)) {
			*pte = 0;
		} else if (pte_is_table(*pte)) {
			paddr_t child = pte_pa(*pte);

			unmap_commit(child, level - 1, cur, sub_last);
			if (table_empty(child)) {
				*pte = 0;
				frame_free(child, 0);
			}
		}
		if (sub_last == last)
			return;
	}
}

int pt_unmap(struct pt *pt, vaddr_t va, uint64_t len)
{
	unsigned top = pt_levels(pt->mode) - 1;
	vaddr_t last;
	int err;

	if ((err = check_range(pt, va, len, PT_SIZE_4K, &last)) < 0)
		return err;
	if ((err = range_check(pt->root, top, va, last, true)) < 0)
		return err;
	unmap_commit(pt->root, top, va, last);
	return 0;
}

static void protect_commit(paddr_t table, unsigned level, vaddr_t va,
			   vaddr_t last, unsigned perm)
{
	pte_t *t = table_at(table);

	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t *pte = &t[pt_index(cur, level)];

		if (pte_is_leaf(*pte))
			*pte = (*pte & ~(pte_t)PTE_PERM_MASK) | perm;
		else
			protect_commit(pte_pa(*pte), level - 1, cur, sub_last, perm);
		if (sub_last == last)
			return;
	}
}

int pt_protect(struct pt *pt, vaddr_t va, uint64_t len, unsigned perm)
{
	unsigned top = pt_levels(pt->mode) - 1;
	vaddr_t last;
	int err;

	if ((err = check_range(pt, va, len, PT_SIZE_4K, &last)) < 0)
		return err;
	if (!perm_valid(perm))
		return -K_EINVAL;
	if ((err = range_check(pt->root, top, va, last, false)) < 0)
		return err;
	protect_commit(pt->root, top, va, last, perm);
	return 0;
}

/* -- Lookup --------------------------------------------------------------- */

static void leaf_of(pte_t pte, vaddr_t va, unsigned level, struct pt_leaf *leaf)
{
	leaf->size = level_size(level);
	leaf->va = ALIGN_DOWN(va, leaf->size);
	leaf->pa = pte_pa(pte);
	leaf->perm = (unsigned)(pte & PTE_PERM_MASK);
}

int pt_lookup(const struct pt *pt, vaddr_t va, struct pt_leaf *leaf)
{
	paddr_t table = pt->root;

	if (!pt_mode_valid(pt->mode) || !va_canonical(pt, va))
		return -K_EINVAL;
	for (unsigned level = pt_levels(pt->mode) - 1;; level--) {
		pte_t pte = table_at(table)[pt_index(va, level)];

		if (!pte_valid(pte))
			return -K_ENOENT;
		if (pte_is_leaf(pte)) {
			leaf_of(pte, va, level, leaf);
			return 0;
		}
		if (level == 0)
			return -K_EFAULT;
		table = pte_pa(pte);
	}
}

static bool next_leaf(paddr_t table, unsigned level, vaddr_t va, vaddr_t last,
		      struct pt_leaf *leaf)
{
	FOR_EACH_SLOT(level, va, last, cur, sub_last) {
		pte_t pte = table_at(table)[pt_index(cur, level)];

		if (pte_is_leaf(pte)) {
			leaf_of(pte, cur, level, leaf);
			return true;
		}
		if (pte_is_table(pte) && level > 0 &&
		    next_leaf(pte_pa(pte), level - 1, cur, sub_last, leaf))
			return true;
		if (sub_last == last)
			return false;
	}
}

int pt_next_leaf(const struct pt *pt, vaddr_t va, vaddr_t last, struct pt_leaf *leaf)
{
	if (!pt_mode_valid(pt->mode) || va > last || !va_canonical(pt, va) ||
	    !va_canonical(pt, last) || ((va ^ last) >> 63))
		return -K_EINVAL;
	return next_leaf(pt->root, pt_levels(pt->mode) - 1, va, last, leaf) ?
	       0 : -K_ENOENT;
}
