/*
 * vm_model.h - the reference model of the page-table tests: a flat list of
 * leaves, each (va, size, pa, perm), with the expected result of every
 * pt_* operation written from pt.h's contracts, not from pt.c.  Plus a
 * seeded generator of operations whose addresses crowd the boundaries
 * (0, 2 MiB and 1 GiB edges, the window's end, the top of each canonical
 * half), so that operations collide, straddle and nest often.
 *
 * Included by test_pt.c and test_vmsim.c only.
 */
#ifndef K23_TESTS_VM_MODEL_H
#define K23_TESTS_VM_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/pt.h"
#include "../vm_sim/vmsim.h"

#define MODEL_MAX_LEAVES 4096

struct model_leaf {
	vaddr_t va;
	uint64_t size;
	paddr_t pa;
	unsigned perm;
};

struct model {
	unsigned mode;
	unsigned n;
	struct model_leaf leaf[MODEL_MAX_LEAVES];
};

/* xorshift64*: reproducible from the seed printed by each test. */
static inline uint64_t model_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

static inline uint64_t model_below(uint64_t *state, uint64_t n)
{
	return model_rand(state) % n;
}

static inline bool model_canonical(unsigned mode, vaddr_t va)
{
	unsigned bits = pt_va_bits(mode);

	return (vaddr_t)((int64_t)(va << (64 - bits)) >> (64 - bits)) == va;
}

static inline const struct model_leaf *model_find(const struct model *m, vaddr_t va)
{
	for (unsigned i = 0; i < m->n; i++)
		if (va >= m->leaf[i].va && va - m->leaf[i].va < m->leaf[i].size)
			return &m->leaf[i];
	return NULL;
}

/* The lowest leaf starting in (va, last], or NULL. */
static inline const struct model_leaf *model_next(const struct model *m, vaddr_t va, vaddr_t last)
{
	const struct model_leaf *best = NULL;

	for (unsigned i = 0; i < m->n; i++)
		if (m->leaf[i].va > va && m->leaf[i].va <= last &&
		    (!best || m->leaf[i].va < best->va))
			best = &m->leaf[i];
	return best;
}

static inline bool model_range_ok(unsigned mode, vaddr_t va, uint64_t len, uint64_t align)
{
	vaddr_t last = va + len - 1;

	return len && va % align == 0 && len % align == 0 && last >= va &&
	       model_canonical(mode, va) && model_canonical(mode, last) &&
	       (va >> 63) == (last >> 63);
}

static inline bool model_perm_ok(unsigned perm)
{
	return !(perm & ~PTE_PERM_MASK) && (perm & (PTE_R | PTE_W | PTE_X)) &&
	       !((perm & PTE_W) && !(perm & PTE_R));
}

static inline int model_map(struct model *m, vaddr_t va, paddr_t pa, uint64_t len,
		     unsigned perm, uint64_t size)
{
	if ((size != PT_SIZE_4K && size != PT_SIZE_2M && size != PT_SIZE_1G) ||
	    !model_range_ok(m->mode, va, len, size) || !model_perm_ok(perm) ||
	    pa % size)
		return -K_EINVAL;
	/* Freed empty tables mean a table exists only above some leaf, so a
	 * clash with a table is a clash with a leaf. */
	if (model_find(m, va) || model_next(m, va, va + len - 1))
		return -K_EEXIST;
	for (uint64_t off = 0; off < len; off += size) {
		if (m->n == MODEL_MAX_LEAVES)
			return -K_ENOMEM;	/* the test keeps far below this */
		m->leaf[m->n++] = (struct model_leaf){ va + off, size, pa + off, perm };
	}
	return 0;
}

/*
 * First problem of [va, last] in address order: a leaf sticking out
 * (-K_EINVAL) or, unless holes_ok, an unmapped page (-K_ENOENT).
 */
static inline int model_scan(const struct model *m, vaddr_t va, vaddr_t last, bool holes_ok)
{
	vaddr_t cur = va;

	for (;;) {
		const struct model_leaf *l = model_find(m, cur);
		vaddr_t end;

		if (l) {
			end = l->va + (l->size - 1);
			if (l->va < va || end > last)
				return -K_EINVAL;
		} else {
			if (!holes_ok)
				return -K_ENOENT;
			if (!(l = model_next(m, cur, last)))
				return 0;
			end = l->va - 1;
		}
		if (end >= last)
			return 0;
		cur = end + 1;
	}
}

static inline int model_unmap(struct model *m, vaddr_t va, uint64_t len)
{
	int err;

	if (!model_range_ok(m->mode, va, len, PT_SIZE_4K))
		return -K_EINVAL;
	if ((err = model_scan(m, va, va + len - 1, true)) < 0)
		return err;
	for (unsigned i = 0; i < m->n;)
		if (m->leaf[i].va >= va && m->leaf[i].va - va < len)
			m->leaf[i] = m->leaf[--m->n];
		else
			i++;
	return 0;
}

static inline int model_protect(struct model *m, vaddr_t va, uint64_t len, unsigned perm)
{
	int err;

	if (!model_range_ok(m->mode, va, len, PT_SIZE_4K) || !model_perm_ok(perm))
		return -K_EINVAL;
	if ((err = model_scan(m, va, va + len - 1, false)) < 0)
		return err;
	for (unsigned i = 0; i < m->n; i++)
		if (m->leaf[i].va >= va && m->leaf[i].va - va < len)
			m->leaf[i].perm = perm;
	return 0;
}

/* -- Generated operations ------------------------------------------------ */

enum model_op_kind { MODEL_MAP, MODEL_UNMAP, MODEL_PROTECT };

struct model_op {
	enum model_op_kind kind;
	vaddr_t va;
	uint64_t len;
	paddr_t pa;
	unsigned perm;
	uint64_t size;
};

static const unsigned model_perms[] = {
	PTE_R, PTE_R | PTE_W, PTE_R | PTE_X, PTE_X, PTE_R | PTE_W | PTE_X,
	PTE_R | PTE_U, PTE_R | PTE_W | PTE_G,
};

/* Addresses where tables and leaves meet, for the mode (and the window). */
static inline vaddr_t model_anchor(unsigned mode, uint64_t *rng, bool window_only)
{
	const vaddr_t half = 1ull << (pt_va_bits(mode) - 1);
	const vaddr_t low[] = {
		0, PT_SIZE_2M, PT_SIZE_1G, PT_SIZE_1G + PT_SIZE_2M, 3 * PT_SIZE_1G,
		VMSIM_WINDOW_SIZE - PT_SIZE_1G, VMSIM_WINDOW_SIZE - PT_SIZE_2M,
	};
	const vaddr_t high[] = {
		VMSIM_WINDOW_SIZE, 1ull << 39, half - PT_SIZE_1G, -half, -PT_SIZE_1G,
	};
	unsigned pick = (unsigned)model_below(rng, window_only ? 7 : 12);

	if (pick < 7)
		return low[pick];
	if (mode == PT_SV39 && pick - 7 < 2)
		return low[pick - 7];	/* Sv39 has nothing above 256 GiB below the hole */
	return high[pick - 7];
}

/*
 * A random operation near an anchor: mostly valid, some misaligned or
 * clashing, all within one canonical half.  pa_base/pa_span: where leaf
 * frames may point (1 GiB aligned; pa_span a multiple of 1 GiB).
 */
static inline struct model_op model_gen(unsigned mode, uint64_t *rng, bool window_only,
				 paddr_t pa_base, uint64_t pa_span)
{
	static const uint64_t sizes[] = { PT_SIZE_4K, PT_SIZE_4K, PT_SIZE_4K, PT_SIZE_2M,
					  PT_SIZE_2M, PT_SIZE_1G };
	struct model_op op = { 0 };
	uint64_t r = model_below(rng, 100);
	vaddr_t anchor = model_anchor(mode, rng, window_only);
	int64_t shift;

	op.kind = r < 50 ? MODEL_MAP : r < 80 ? MODEL_UNMAP : MODEL_PROTECT;
	op.size = sizes[model_below(rng, ARRAY_SIZE(sizes))];
	op.perm = model_perms[model_below(rng, ARRAY_SIZE(model_perms))];
	/* Unmap and protect work in any multiple of pages; let them cut leaves. */
	if (op.kind != MODEL_MAP && model_below(rng, 3) == 0)
		op.size = PT_SIZE_4K;
	shift = (int64_t)model_below(rng, 7) - 3;
	op.va = anchor + (vaddr_t)(shift * (int64_t)op.size);
	op.len = (1 + model_below(rng, op.size == PT_SIZE_1G ? 2 : 4)) * op.size;
	if (op.kind != MODEL_MAP && model_below(rng, 4) == 0)
		op.len += op.size;	/* cover whole groups of leaves */
	if (!model_canonical(mode, op.va) || !model_canonical(mode, op.va + op.len - 1) ||
	    (op.va >> 63) != ((op.va + op.len - 1) >> 63) || op.va + op.len - 1 < op.va)
		op.va = anchor;
	if (window_only && op.va + op.len > VMSIM_WINDOW_SIZE)
		op.va = VMSIM_WINDOW_SIZE - op.len;
	op.pa = pa_base + model_below(rng, pa_span / op.size) * op.size;
	if (op.pa + op.len > pa_base + pa_span)
		op.pa = pa_base + pa_span - op.len;
	return op;
}

#endif /* K23_TESTS_VM_MODEL_H */
