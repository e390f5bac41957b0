/*
 * test_pt.c - RISC-V page tables (kernel/pt.c) against a flat reference
 * model (tests/vm_model.h) and the software walker of vm_sim, in Sv39,
 * Sv48 and Sv57; validate-then-commit under frame exhaustion; freeing of
 * empty tables; the walker's handling of malformed entries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include "../kernel/frame.h"
#include "../kernel/hal.h"
#include "../kernel/kerr.h"
#include "../kernel/pt.h"
#include "../vm_sim/vmsim.h"
#include "vm_harness.h"
#include "vm_model.h"

/* The walker, pt_lookup and the model agree about va. */
static void check_va(const struct model *m, const struct pt *pt, vaddr_t va,
		     unsigned step)
{
	const struct model_leaf *l;
	struct vmsim_leaf w;
	struct pt_leaf p;
	int werr = vmsim_walk(pt->root, pt->mode, va, &w);
	int perr = pt_lookup(pt, va, &p);

	if (!model_canonical(m->mode, va)) {
		cr_assert_eq(werr, -K_EINVAL, "step %u: walk of non-canonical %#llx: %d", step,
			     (unsigned long long)va, werr);
		cr_assert_eq(perr, -K_EINVAL);
		return;
	}
	l = model_find(m, va);
	if (!l) {
		cr_assert_eq(werr, -K_ENOENT, "step %u: %#llx unmapped in the model, walk %d",
			     step, (unsigned long long)va, werr);
		cr_assert_eq(perr, -K_ENOENT, "step %u: pt_lookup %#llx: %d", step,
			     (unsigned long long)va, perr);
		return;
	}
	cr_assert_eq(werr, 0, "step %u: %#llx mapped in the model, walk %d", step,
		     (unsigned long long)va, werr);
	cr_assert(w.va == l->va && w.size == l->size && w.pa == l->pa && w.perm == l->perm,
		  "step %u: walk %#llx: leaf %#llx+%#llx -> %#llx perm %#x, model %#llx+%#llx "
		  "-> %#llx perm %#x", step, (unsigned long long)va, (unsigned long long)w.va,
		  (unsigned long long)w.size, (unsigned long long)w.pa, w.perm,
		  (unsigned long long)l->va, (unsigned long long)l->size,
		  (unsigned long long)l->pa, l->perm);
	cr_assert_eq(PT_SIZE_4K << (9 * w.level), w.size);
	cr_assert(perr == 0 && p.va == l->va && p.size == l->size && p.pa == l->pa &&
		  p.perm == l->perm, "step %u: pt_lookup %#llx disagrees", step,
		  (unsigned long long)va);
}

static void check_all(const struct model *m, const struct pt *pt,
		      const struct model_op *op, unsigned step)
{
	const vaddr_t around[] = { op->va - 1, op->va, op->va + PT_SIZE_4K,
				   op->va + op->len - PT_SIZE_4K, op->va + op->len - 1,
				   op->va + op->len, op->va + op->len / 2 };

	for (unsigned i = 0; i < m->n; i++) {
		check_va(m, pt, m->leaf[i].va, step);
		check_va(m, pt, m->leaf[i].va + m->leaf[i].size - 1, step);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(around); i++)
		check_va(m, pt, around[i], step);
}

static const char *op_name(enum model_op_kind k)
{
	return k == MODEL_MAP ? "map" : k == MODEL_UNMAP ? "unmap" : "protect";
}

static struct model model;

static int random_ops(void *arg)
{
	const unsigned steps = 10000;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ kernel_paging_mode(), rng = seed;
	uint64_t before = vm_free_frames();
	unsigned done[3] = { 0 };
	struct pt pt;

	(void)arg;
	cr_log_info("seed %#llx", (unsigned long long)seed);
	cr_assert_eq(pt_create(&pt, kernel_paging_mode()), 0);
	model.mode = kernel_paging_mode();
	model.n = 0;
	for (unsigned step = 0; step < steps; step++) {
		/* Frames need not exist for the walker: any 1 GiB-aligned span. */
		struct model_op op = model_gen(kernel_paging_mode(), &rng, false, 1ull << 40,
					       64 * PT_SIZE_1G);
		int want, got;

		switch (op.kind) {
		case MODEL_MAP:
			want = model_map(&model, op.va, op.pa, op.len, op.perm, op.size);
			got = pt_map(&pt, op.va, op.pa, op.len, op.perm, op.size);
			break;
		case MODEL_UNMAP:
			want = model_unmap(&model, op.va, op.len);
			got = pt_unmap(&pt, op.va, op.len);
			break;
		default:
			want = model_protect(&model, op.va, op.len, op.perm);
			got = pt_protect(&pt, op.va, op.len, op.perm);
			break;
		}
		cr_assert_eq(got, want, "step %u: %s va %#llx len %#llx size %#llx perm %#x: "
			     "pt says %d, model %d", step, op_name(op.kind),
			     (unsigned long long)op.va, (unsigned long long)op.len,
			     (unsigned long long)op.size, op.perm, got, want);
		if (got == 0)
			done[op.kind]++;
		check_all(&model, &pt, &op, step);
	}
	cr_log_info("maps %u unmaps %u protects %u, %u leaves at the end", done[MODEL_MAP],
		    done[MODEL_UNMAP], done[MODEL_PROTECT], model.n);
	/* The sequence did real work of every kind. */
	cr_assert(done[MODEL_MAP] > 100 && done[MODEL_UNMAP] > 100 && done[MODEL_PROTECT] > 20,
		  "maps %u unmaps %u protects %u", done[MODEL_MAP], done[MODEL_UNMAP],
		  done[MODEL_PROTECT]);
	/* Unmapping both halves whole leaves nothing but the root. */
	cr_assert_eq(pt_unmap(&pt, 0, 1ull << (pt_va_bits(kernel_paging_mode()) - 1)), 0);
	cr_assert_eq(pt_unmap(&pt, -(1ull << (pt_va_bits(kernel_paging_mode()) - 1)),
			      1ull << (pt_va_bits(kernel_paging_mode()) - 1)), 0);
	cr_assert_eq(vm_free_frames(), before - 1);
	pt_destroy(&pt);
	cr_assert_eq(vm_free_frames(), before);
	return 0;
}

Test(pt, random_ops_match_model_and_walker_sv39) { vm_boot(PT_SV39, 64u << 20, random_ops); }
Test(pt, random_ops_match_model_and_walker_sv48) { vm_boot(PT_SV48, 64u << 20, random_ops); }
Test(pt, random_ops_match_model_and_walker_sv57) { vm_boot(PT_SV57, 64u << 20, random_ops); }

/* Hold every free frame but `keep`; returns how many blocks were taken. */
static unsigned hog_frames(paddr_t *held, unsigned *orders, unsigned max, uint64_t keep)
{
	unsigned n = 0;

	for (unsigned order = 9;; ) {
		paddr_t pa;

		if (vm_free_frames() <= keep + ((1ull << order) - 1) ||
		    frame_alloc(order, &pa) < 0) {
			if (order == 0)
				break;
			order = 0;
			continue;
		}
		cr_assert(n < max);
		held[n] = pa;
		orders[n++] = order;
	}
	return n;
}

static paddr_t held[1 << 14];
static unsigned held_order[1 << 14];

static int map_without_frames_changes_nothing(void *arg)
{
	struct pt pt;
	struct pt_leaf leaf;
	unsigned n;
	uint64_t before;

	(void)arg;
	cr_assert_eq(pt_create(&pt, PT_SV48), 0);
	cr_assert_eq(pt_map(&pt, 5 * PT_SIZE_1G, 1ull << 32, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	n = hog_frames(held, held_order, ARRAY_SIZE(held), 2);
	before = vm_free_frames();
	cr_assert_eq(before, 2);
	/* 4 KiB pages over four 2 MiB regions of two 1 GiB regions of a new
	 * 512 GiB region need seven table frames: nothing may change. */
	cr_assert_eq(pt_map(&pt, 600 * PT_SIZE_1G - PT_SIZE_2M, 1ull << 34, 4 * PT_SIZE_2M,
			    PTE_R | PTE_W, PT_SIZE_4K), -K_ENOMEM);
	cr_assert_eq(vm_free_frames(), before, "table frames leaked by a failed map");
	for (vaddr_t va = 600 * PT_SIZE_1G - PT_SIZE_2M; va < 600 * PT_SIZE_1G + 3 * PT_SIZE_2M;
	     va += PT_SIZE_4K)
		cr_assert_eq(pt_lookup(&pt, va, &leaf), -K_ENOENT, "%#llx mapped after ENOMEM",
			     (unsigned long long)va);
	cr_assert_eq(pt_lookup(&pt, 5 * PT_SIZE_1G, &leaf), 0);
	for (unsigned i = 0; i < n; i++)
		frame_free(held[i], held_order[i]);
	pt_destroy(&pt);
	return 0;
}

Test(pt, map_that_runs_out_of_table_frames_changes_nothing)
{
	vm_boot(PT_SV48, 16u << 20, map_without_frames_changes_nothing);
}

static int unmap_frees_tables(void *arg)
{
	const vaddr_t va = 3 * PT_SIZE_1G + 7 * PT_SIZE_2M + 5 * PT_SIZE_4K;
	struct pt pt;
	uint64_t empty;

	(void)arg;
	cr_assert_eq(pt_create(&pt, kernel_paging_mode()), 0);
	empty = vm_free_frames();
	cr_assert_eq(pt_map(&pt, va, 1ull << 32, 2 * PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	cr_assert_eq(vm_free_frames(), empty - (pt_levels(kernel_paging_mode()) - 1),
		     "one table per level below the root");
	cr_assert_eq(pt_unmap(&pt, va, PT_SIZE_4K), 0);
	cr_assert_eq(vm_free_frames(), empty - (pt_levels(kernel_paging_mode()) - 1),
		     "still one page mapped");
	cr_assert_eq(pt_unmap(&pt, va + PT_SIZE_4K, PT_SIZE_4K), 0);
	cr_assert_eq(vm_free_frames(), empty, "empty tables freed");
	pt_destroy(&pt);
	return 0;
}

Test(pt, unmap_frees_tables_left_empty_sv39) { vm_boot(PT_SV39, 16u << 20, unmap_frees_tables); }
Test(pt, unmap_frees_tables_left_empty_sv57) { vm_boot(PT_SV57, 16u << 20, unmap_frees_tables); }

static int bad_arguments(void *arg)
{
	struct pt pt;

	(void)arg;
	cr_assert_eq(pt_create(&pt, 7), -K_EINVAL);
	cr_assert_eq(pt_create(&pt, PT_SV39), 0);
	/* Non-canonical (Sv39: bit 38 not copied upwards), crossing the hole. */
	cr_assert_eq(pt_map(&pt, 1ull << 38, 0, PT_SIZE_4K, PTE_R, PT_SIZE_4K), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, (1ull << 38) - PT_SIZE_4K, 0, 2 * PT_SIZE_4K, PTE_R, PT_SIZE_4K),
		     -K_EINVAL);
	cr_assert_eq(pt_map(&pt, -PT_SIZE_4K, 0, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	cr_assert_eq(pt_map(&pt, -PT_SIZE_4K, 0, 2 * PT_SIZE_4K, PTE_R, PT_SIZE_4K), -K_EINVAL,
		     "range wrapping past the top");
	/* W without R is reserved; a leaf needs R, W or X; misalignment. */
	cr_assert_eq(pt_map(&pt, 0, 0, PT_SIZE_4K, PTE_W, PT_SIZE_4K), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, 0, 0, PT_SIZE_4K, PTE_U, PT_SIZE_4K), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, 0, PT_SIZE_4K, PT_SIZE_2M, PTE_R, PT_SIZE_2M), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, PT_SIZE_4K, 0, PT_SIZE_2M, PTE_R, PT_SIZE_2M), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, 0, 0, PT_SIZE_4K, PTE_R, 8192), -K_EINVAL);
	cr_assert_eq(pt_map(&pt, 0, 0, 0, PTE_R, PT_SIZE_4K), -K_EINVAL);
	/* A 2 MiB leaf then a 4 KiB page inside it, and a 1 GiB leaf over it. */
	cr_assert_eq(pt_map(&pt, PT_SIZE_2M, 0, PT_SIZE_2M, PTE_R, PT_SIZE_2M), 0);
	cr_assert_eq(pt_map(&pt, PT_SIZE_2M + PT_SIZE_4K, 0, PT_SIZE_4K, PTE_R, PT_SIZE_4K),
		     -K_EEXIST);
	cr_assert_eq(pt_map(&pt, 0, 0, PT_SIZE_1G, PTE_R, PT_SIZE_1G), -K_EEXIST);
	cr_assert_eq(pt_unmap(&pt, PT_SIZE_2M, PT_SIZE_4K), -K_EINVAL, "would cut the leaf");
	cr_assert_eq(pt_protect(&pt, PT_SIZE_2M, 2 * PT_SIZE_2M, PTE_R), -K_ENOENT);
	cr_assert_eq(pt_protect(&pt, PT_SIZE_2M, PT_SIZE_2M, PTE_W), -K_EINVAL);
	pt_destroy(&pt);
	return 0;
}

Test(pt, rejects_bad_arguments_and_clashes) { vm_boot(PT_SV39, 16u << 20, bad_arguments); }

/* Write one PTE of a hand-made Sv39 path 0 -> 1 GiB -> 2 MiB -> 4 KiB. */
static pte_t *table(paddr_t pa)
{
	return hal_phys_to_virt(pa);
}

static int walker_malformed(void *arg)
{
	struct vmsim_leaf leaf;
	struct pt pt;
	pte_t *l2, *l1, *l0;
	paddr_t t1, t0;

	(void)arg;
	cr_assert_eq(pt_create(&pt, PT_SV39), 0);
	cr_assert_eq(pt_map(&pt, 0, 1ull << 32, PT_SIZE_4K, PTE_R | PTE_W, PT_SIZE_4K), 0);
	l2 = table(pt.root);
	t1 = (l2[0] >> PTE_PPN_SHIFT) << 12;
	l1 = table(t1);
	t0 = (l1[0] >> PTE_PPN_SHIFT) << 12;
	l0 = table(t0);
	/* pt_map sets A and D on its leaves (see pt.c), and only there. */
	cr_assert_eq(l0[0] & (PTE_A | PTE_D | PTE_V), PTE_A | PTE_D | PTE_V);
	cr_assert_eq(l1[0] & (PTE_A | PTE_D | PTE_U), 0);
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, 0x123, &leaf), 0);
	cr_assert(leaf.pa == 1ull << 32 && leaf.level == 0 && leaf.perm == (PTE_R | PTE_W));

	l0[1] = ((2ull << 20) << PTE_PPN_SHIFT >> 12) | PTE_V | PTE_W;	/* W without R */
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_4K, &leaf), -K_EFAULT);
	l0[1] = (t0 >> 12 << PTE_PPN_SHIFT) | PTE_V;			/* pointer at level 0 */
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_4K, &leaf), -K_EFAULT);
	l0[1] = (1ull << 54) | PTE_V | PTE_R;				/* reserved bit 54 */
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_4K, &leaf), -K_EFAULT);
	l0[1] = 0;
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_4K, &leaf), -K_ENOENT);
	/* Misaligned 2 MiB superpage; an aligned one is fine. */
	l1[1] = ((PT_SIZE_2M + PT_SIZE_4K) >> 12 << PTE_PPN_SHIFT) | PTE_V | PTE_R | PTE_A;
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_2M, &leaf), -K_EFAULT);
	l1[1] = (PT_SIZE_2M >> 12 << PTE_PPN_SHIFT) | PTE_V | PTE_R | PTE_A;
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, PT_SIZE_2M + 0x5000, &leaf), 0);
	cr_assert(leaf.va == PT_SIZE_2M && leaf.level == 1 && leaf.size == PT_SIZE_2M);
	l1[1] = 0;
	/* Non-leaf entries with A, D or U set are reserved. */
	for (unsigned bit = 0; bit < 3; bit++) {
		const pte_t bits[] = { PTE_A, PTE_D, PTE_U };

		l2[0] |= bits[bit];
		cr_assert_eq(vmsim_walk(pt.root, PT_SV39, 0, &leaf), -K_EFAULT);
		l2[0] &= ~bits[bit];
	}
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, 0, &leaf), 0);
	cr_assert_eq(vmsim_walk(pt.root, PT_SV39, 1ull << 38, &leaf), -K_EINVAL);
	cr_assert_eq(vmsim_walk(pt.root, 11, 0, &leaf), -K_EINVAL);
	pt_destroy(&pt);
	return 0;
}

Test(pt, walker_faults_on_reserved_encodings) { vm_boot(PT_SV39, 16u << 20, walker_malformed); }
