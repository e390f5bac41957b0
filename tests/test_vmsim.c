/*
 * test_vmsim.c - the simulated MMU through real host accesses: after every
 * flush the window agrees with the walker and the reference model, before
 * it the old mapping is still in effect; host mmap calls are coalesced and
 * skipped when nothing changed; host faults become page-fault traps with
 * the right cause and guest address; lazy regions resume the faulting
 * access.  Sv39, Sv48 and Sv57.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "../kernel/as.h"
#include "../kernel/frame.h"
#include "../kernel/hal.h"
#include "../kernel/kerr.h"
#include "../kernel/pt.h"
#include "../kernel/trap.h"
#include "../vm_sim/vmsim.h"
#include "vm_harness.h"
#include "vm_model.h"

/*
 * Probes: one access through the window that returns 1 instead of dying
 * when it faults.  The space's fault handler sends the faulting pc to a
 * landing that returns 1 to the probe's caller (for a fetch, the landing
 * first drops the return address the call pushed).
 */
int probe_load(const volatile void *addr, uint64_t *out);
int probe_store(volatile void *addr, uint64_t val);
int probe_exec(const void *addr);
void probe_landing(void);
void probe_landing_exec(void);

#if defined(__x86_64__)
__asm__(".text\n"
	"probe_load: movq (%rdi), %rax\n movq %rax, (%rsi)\n xorl %eax, %eax\n ret\n"
	"probe_store: movq %rsi, (%rdi)\n xorl %eax, %eax\n ret\n"
	"probe_exec: call *%rdi\n xorl %eax, %eax\n ret\n"
	"probe_landing: movl $1, %eax\n ret\n"
	"probe_landing_exec: addq $8, %rsp\n movl $1, %eax\n ret\n"
	".globl probe_load, probe_store, probe_exec, probe_landing, probe_landing_exec\n");
static const uint8_t ret_insn[] = { 0xc3 };
#elif defined(__aarch64__)
__asm__(".text\n"
	"probe_load: ldr x2, [x0]\n str x2, [x1]\n mov x0, #0\n ret\n"
	"probe_store: str x1, [x0]\n mov x0, #0\n ret\n"
	"probe_exec: stp x29, x30, [sp, #-16]!\n blr x0\n mov x0, #0\n"
	" ldp x29, x30, [sp], #16\n ret\n"
	"probe_landing: mov x0, #1\n ret\n"
	"probe_landing_exec: mov x0, #1\n ldp x29, x30, [sp], #16\n ret\n"
	".globl probe_load, probe_store, probe_exec, probe_landing, probe_landing_exec\n");
static const uint8_t ret_insn[] = { 0xc0, 0x03, 0x5f, 0xd6 };
#else
#error "test_vmsim: no probes for this host architecture"
#endif

static struct {
	unsigned count;
	uint64_t cause;
	vaddr_t tval;
	uint16_t asid;
} faults;

static bool record_fault(struct as *as, struct trap_frame *tf, void *arg)
{
	(void)as;
	(void)arg;
	faults.count++;
	faults.cause = tf->cause;
	faults.tval = tf->tval;
	faults.asid = tf->asid;
	tf->pc = (uintptr_t)(tf->cause == TRAP_INSN_PAGE_FAULT ? probe_landing_exec :
			     probe_landing);
	return true;
}

static uint64_t mmap_calls(void)
{
	struct vmsim_stats st;

	vmsim_stats(&st);
	return st.mmap_calls;
}

static uint64_t tag_of(paddr_t pa)
{
	return pa ^ 0x7a6b5c4d00000000ull;
}

static struct as *new_space(unsigned mode)
{
	struct as *as;

	cr_assert_eq(as_create(&as, mode), 0);
	as_set_fault_handler(as, record_fault, NULL);
	return as;
}

/*
 * Through the window, page va behaves as model m says: a load returns the
 * tag of the frame the model names (written just before through the
 * direct map) or faults where nothing is mapped; a store lands in that
 * frame or faults exactly where W is missing.  Faults carry the right
 * cause and guest address.
 */
static void check_window(struct as *as, const struct model *m, vaddr_t va,
			 const char *when, unsigned step)
{
	const struct model_leaf *l = model_find(m, va);
	volatile uint64_t *p = as_ptr(as, va);
	paddr_t pa = l ? l->pa + (va - l->va) : 0;
	bool readable = l && (l->perm & PTE_R);
	uint64_t got = 0, before = faults.count;
	int fault;

	if (l)
		*(uint64_t *)hal_phys_to_virt(pa) = tag_of(pa);
	/* An execute-only host mapping is readable or not depending on the
	 * host (x86-64 with protection keys makes it execute-only, like
	 * RISC-V without MXR): loads from X-only pages are not checked. */
	if (!l || readable) {
		fault = probe_load(p, &got);
		cr_assert_eq(fault, !readable, "step %u %s: load at %#llx %s", step, when,
			     (unsigned long long)va, fault ? "faulted" : "went through");
		if (fault) {
			cr_assert(faults.count == before + 1 && faults.cause == TRAP_LOAD_PAGE_FAULT &&
				  faults.tval == va && faults.asid == as_asid(as),
				  "step %u: load fault reported as cause %llu at %#llx", step,
				  (unsigned long long)faults.cause, (unsigned long long)faults.tval);
		} else {
			cr_assert_eq(got, tag_of(pa), "step %u %s: %#llx shows frame tag %#llx, "
				     "the model says frame %#llx", step, when,
				     (unsigned long long)va, (unsigned long long)got,
				     (unsigned long long)pa);
		}
	}
	before = faults.count;
	fault = probe_store(p + 1, 0x5700000000ull + step);
	cr_assert_eq(fault, !(l && (l->perm & PTE_W)), "step %u %s: store at %#llx %s", step,
		     when, (unsigned long long)va, fault ? "faulted" : "went through");
	if (fault)
		cr_assert(faults.count == before + 1 && faults.cause == TRAP_STORE_PAGE_FAULT &&
			  faults.tval == va + 8, "step %u: store fault reported as cause %llu at "
			  "%#llx", step, (unsigned long long)faults.cause,
			  (unsigned long long)faults.tval);
	else
		cr_assert_eq(((uint64_t *)hal_phys_to_virt(pa))[1], 0x5700000000ull + step,
			     "step %u %s: store at %#llx missed frame %#llx", step, when,
			     (unsigned long long)va, (unsigned long long)pa);
}

static void check_walk(const struct model *m, struct as *as, vaddr_t va, unsigned step)
{
	const struct model_leaf *l = model_find(m, va);
	struct vmsim_leaf w;
	int err = vmsim_walk(as_pt(as)->root, as_pt(as)->mode, va, &w);

	if (!model_canonical(m->mode, va)) {
		cr_assert_eq(err, -K_EINVAL, "step %u: walk %#llx: %d", step,
			     (unsigned long long)va, err);
		return;
	}
	if (!l) {
		cr_assert_eq(err, -K_ENOENT, "step %u: walk %#llx: %d", step,
			     (unsigned long long)va, err);
		return;
	}
	cr_assert(err == 0 && w.va == l->va && w.pa == l->pa && w.size == l->size &&
		  w.perm == l->perm, "step %u: walk %#llx disagrees with the model", step,
		  (unsigned long long)va);
}

#define MAX_PROBES 17	/* 5 edges, 6 x 2 leaf pages */

/* Pages worth looking at after op: its edges, and pages of random leaves. */
static unsigned pick_probes(const struct model *m, const struct model_op *op, uint64_t *rng,
			    vaddr_t *probe)
{
	const vaddr_t edges[] = { op->va - PT_SIZE_4K, op->va, op->va + PT_SIZE_4K,
				  op->va + op->len - PT_SIZE_4K, op->va + op->len };
	unsigned n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(edges); i++)
		probe[n++] = edges[i];
	for (unsigned i = 0; i < 6 && m->n; i++) {
		const struct model_leaf *l = &m->leaf[model_below(rng, m->n)];

		probe[n++] = l->va + model_below(rng, l->size / PT_SIZE_4K) * PT_SIZE_4K;
		probe[n++] = l->va + (i & 1 ? l->size - PT_SIZE_4K : 0);
	}
	return n;
}

static struct model cur, shown;

static int random_ops(void *arg)
{
	const unsigned steps = 3000;
	uint64_t seed = 0x243f6a8885a308d3ull ^ kernel_paging_mode(), rng = seed;
	unsigned zero_call_flushes = 0, done = 0;
	struct as *as = new_space(kernel_paging_mode()), *other = new_space(kernel_paging_mode());
	paddr_t pool;

	(void)arg;
	cr_log_info("seed %#llx", (unsigned long long)seed);
	/* Leaf frames come from one 1 GiB block, so every leaf size fits. */
	cr_assert_eq(frame_alloc(18, &pool), 0, "no 1 GiB block free");
	cur.mode = shown.mode = kernel_paging_mode();
	cur.n = shown.n = 0;
	for (unsigned step = 0; step < steps; step++) {
		struct model_op op = model_gen(kernel_paging_mode(), &rng, false, pool, PT_SIZE_1G);
		vaddr_t probe[MAX_PROBES];
		unsigned np;
		uint64_t calls;
		int want, got;

		switch (op.kind) {
		case MODEL_MAP:
			want = model_map(&cur, op.va, op.pa, op.len, op.perm, op.size);
			got = pt_map(as_pt(as), op.va, op.pa, op.len, op.perm, op.size);
			break;
		case MODEL_UNMAP:
			want = model_unmap(&cur, op.va, op.len);
			got = pt_unmap(as_pt(as), op.va, op.len);
			break;
		default:
			want = model_protect(&cur, op.va, op.len, op.perm);
			got = pt_protect(as_pt(as), op.va, op.len, op.perm);
			break;
		}
		cr_assert_eq(got, want, "step %u: pt %d, model %d", step, got, want);
		done += got == 0;
		np = pick_probes(&cur, &op, &rng, probe);
		/* Before the flush the window still shows the old tables. */
		for (unsigned i = 0; i < np; i++) {
			check_walk(&cur, as, probe[i], step);
			if (probe[i] < VMSIM_WINDOW_SIZE)
				check_window(as, &shown, probe[i], "before flush", step);
		}
		calls = mmap_calls();
		switch (model_below(&rng, 8)) {
		case 0:
			hal_mmu_flush(as_asid(as), 0, 0);
			break;
		case 1:
			hal_mmu_flush(HAL_ASID_ALL, 0, 0);
			break;
		default:
			hal_mmu_flush(as_asid(as), op.va, op.len);
			break;
		}
		if (got < 0 || op.va >= VMSIM_WINDOW_SIZE) {
			cr_assert_eq(mmap_calls(), calls, "step %u: a flush of nothing visible "
				     "changed made %llu host calls", step,
				     (unsigned long long)(mmap_calls() - calls));
			zero_call_flushes++;
		}
		shown = cur;
		for (unsigned i = 0; i < np; i++)
			if (probe[i] < VMSIM_WINDOW_SIZE)
				check_window(as, &shown, probe[i], "after flush", step);
		/* Nothing changed since: flushing everything costs no host call. */
		calls = mmap_calls();
		hal_mmu_flush(HAL_ASID_ALL, 0, 0);
		cr_assert_eq(mmap_calls(), calls, "step %u: flush of unchanged spaces remapped",
			     step);
	}
	cr_log_info("%u ops succeeded, %u zero-call flushes, %u leaves left, %u faults",
		    done, zero_call_flushes, cur.n, faults.count);
	cr_assert(done > steps / 4 && faults.count > steps / 2);
	as_destroy(other);
	as_destroy(as);
	frame_free(pool, 18);
	return 0;
}

Test(vmsim, window_matches_model_after_each_flush_sv39, .timeout = 120)
{
	vm_boot(PT_SV39, 2ull << 30, random_ops);
}
Test(vmsim, window_matches_model_after_each_flush_sv48, .timeout = 120)
{
	vm_boot(PT_SV48, 2ull << 30, random_ops);
}
Test(vmsim, window_matches_model_after_each_flush_sv57, .timeout = 120)
{
	vm_boot(PT_SV57, 2ull << 30, random_ops);
}

static int coalesced_calls(void *arg)
{
	struct as *as = new_space(kernel_paging_mode()), *other = new_space(kernel_paging_mode());
	struct pt *pt = as_pt(as);
	paddr_t big, pages;
	uint64_t calls;

	(void)arg;
	cr_assert_eq(frame_alloc(18, &big), 0);
	cr_assert_eq(frame_alloc(9, &pages), 0);

	calls = mmap_calls();
	cr_assert_eq(pt_map(pt, 4 * PT_SIZE_1G, big, PT_SIZE_2M, PTE_R | PTE_W, PT_SIZE_2M), 0);
	hal_mmu_flush(as_asid(as), 4 * PT_SIZE_1G, PT_SIZE_2M);
	cr_assert_eq(mmap_calls() - calls, 1, "a 2 MiB leaf is one host call");

	calls = mmap_calls();
	cr_assert_eq(pt_map(pt, 5 * PT_SIZE_1G, big, PT_SIZE_1G, PTE_R, PT_SIZE_1G), 0);
	hal_mmu_flush(as_asid(as), 5 * PT_SIZE_1G, PT_SIZE_1G);
	cr_assert_eq(mmap_calls() - calls, 1, "a 1 GiB leaf is one host call");

	/* 512 pages, contiguous frames, equal permissions: one call. */
	calls = mmap_calls();
	cr_assert_eq(pt_map(pt, 7 * PT_SIZE_1G, pages, PT_SIZE_2M, PTE_R | PTE_W, PT_SIZE_4K), 0);
	hal_mmu_flush(as_asid(as), 7 * PT_SIZE_1G, PT_SIZE_2M);
	cr_assert_eq(mmap_calls() - calls, 1);

	/* Every other page read-only: one call per page. */
	calls = mmap_calls();
	for (unsigned i = 0; i < 512; i += 2)
		cr_assert_eq(pt_protect(pt, 7 * PT_SIZE_1G + i * PT_SIZE_4K, PT_SIZE_4K, PTE_R), 0);
	hal_mmu_flush(as_asid(as), 0, 0);
	cr_assert_eq(mmap_calls() - calls, 256);

	/* Unmapping all of it: one inaccessible range. */
	calls = mmap_calls();
	cr_assert_eq(pt_unmap(pt, 7 * PT_SIZE_1G, PT_SIZE_2M), 0);
	hal_mmu_flush(as_asid(as), 7 * PT_SIZE_1G, PT_SIZE_2M);
	cr_assert_eq(mmap_calls() - calls, 1);

	/* Nothing changed: flushing the space, or every space, costs nothing. */
	calls = mmap_calls();
	hal_mmu_flush(as_asid(as), 0, 0);
	hal_mmu_flush(HAL_ASID_ALL, 0, 0);
	hal_mmu_flush(as_asid(other), 0, 0);
	cr_assert_eq(mmap_calls(), calls);

	/* Both spaces change: a flush of all makes one call in each. */
	cr_assert_eq(pt_map(as_pt(other), 0, pages, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	cr_assert_eq(pt_protect(pt, 4 * PT_SIZE_1G, PT_SIZE_2M, PTE_R), 0);
	hal_mmu_flush(HAL_ASID_ALL, 0, 0);
	cr_assert_eq(mmap_calls() - calls, 2);
	cr_assert_eq(*(volatile uint64_t *)as_ptr(other, 0),
		     *(uint64_t *)hal_phys_to_virt(pages));

	as_destroy(other);
	as_destroy(as);
	frame_free(pages, 9);
	frame_free(big, 18);
	return 0;
}

Test(vmsim, flushes_coalesce_and_skip_unchanged_sv39) { vm_boot(PT_SV39, 2ull << 30, coalesced_calls); }
Test(vmsim, flushes_coalesce_and_skip_unchanged_sv57) { vm_boot(PT_SV57, 2ull << 30, coalesced_calls); }

static int beyond_window(void *arg)
{
	struct as *as = new_space(kernel_paging_mode());
	struct vmsim_leaf leaf;
	paddr_t frame;
	uint64_t calls;

	(void)arg;
	cr_assert_eq(as_limit(as), VMSIM_WINDOW_SIZE);
	cr_assert_eq(frame_alloc(0, &frame), 0);
	calls = mmap_calls();
	/* The tables are genuine above the window, but it does not mirror them. */
	cr_assert_eq(as_map(as, VMSIM_WINDOW_SIZE, frame, PT_SIZE_4K, PTE_R | PTE_W,
			    PT_SIZE_4K), 0);
	cr_assert_eq(as_map(as, 100 * VMSIM_WINDOW_SIZE, frame, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	hal_mmu_flush(as_asid(as), 0, 0);
	cr_assert_eq(mmap_calls(), calls, "a mapping beyond the window reached the host");
	cr_assert_eq(vmsim_walk(as_pt(as)->root, kernel_paging_mode(), VMSIM_WINDOW_SIZE + 8, &leaf), 0);
	cr_assert_eq(leaf.pa, frame);
	/* The last page of the window is mirrored, the next is not. */
	cr_assert_eq(as_map(as, VMSIM_WINDOW_SIZE - PT_SIZE_4K, frame, PT_SIZE_4K, PTE_R,
			    PT_SIZE_4K), 0);
	cr_assert_eq(mmap_calls() - calls, 1);
	*(uint64_t *)hal_phys_to_virt(frame) = 0x1234;
	cr_assert_eq(*(volatile uint64_t *)as_ptr(as, VMSIM_WINDOW_SIZE - PT_SIZE_4K), 0x1234);
	as_destroy(as);
	frame_free(frame, 0);
	return 0;
}

Test(vmsim, mappings_beyond_the_window_are_not_mirrored_sv48)
{
	vm_boot(PT_SV48, 64u << 20, beyond_window);
}
Test(vmsim, mappings_beyond_the_window_are_not_mirrored_sv57)
{
	vm_boot(PT_SV57, 64u << 20, beyond_window);
}

static int stale_until_flush(void *arg)
{
	struct as *as = new_space(kernel_paging_mode());
	paddr_t a, b;
	uint64_t got;

	(void)arg;
	cr_assert_eq(frame_alloc(0, &a), 0);
	cr_assert_eq(frame_alloc(0, &b), 0);
	*(uint64_t *)hal_phys_to_virt(a) = 0xaaaa;
	*(uint64_t *)hal_phys_to_virt(b) = 0xbbbb;
	cr_assert_eq(as_map(as, 0x10000, a, PT_SIZE_4K, PTE_R | PTE_W, PT_SIZE_4K), 0);
	cr_assert_eq(*(volatile uint64_t *)as_ptr(as, 0x10000), 0xaaaa);
	/* Remap to b without a flush: the window keeps showing a. */
	cr_assert_eq(pt_unmap(as_pt(as), 0x10000, PT_SIZE_4K), 0);
	cr_assert_eq(pt_map(as_pt(as), 0x10000, b, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	cr_assert_eq(*(volatile uint64_t *)as_ptr(as, 0x10000), 0xaaaa);
	cr_assert_eq(probe_store((uint64_t *)as_ptr(as, 0x10000) + 1, 1), 0, "still writable");
	hal_mmu_flush(as_asid(as), 0x10000, PT_SIZE_4K);
	cr_assert_eq(*(volatile uint64_t *)as_ptr(as, 0x10000), 0xbbbb);
	cr_assert_eq(probe_store((uint64_t *)as_ptr(as, 0x10000) + 1, 1), 1, "now read-only");
	/* A new mapping without a flush still faults: twice on the same page
	 * with no flush between is a missing flush, reported, not looped on. */
	cr_assert_eq(pt_map(as_pt(as), 0x20000, a, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	faults.count = 0;
	cr_assert_eq(probe_load(as_ptr(as, 0x20000), &got), 1);
	cr_assert_eq(faults.count, 1);
	hal_mmu_flush(as_asid(as), 0, 0);
	cr_assert_eq(probe_load(as_ptr(as, 0x20000), &got), 0);
	cr_assert_eq(got, 0xaaaa);
	as_destroy(as);
	frame_free(a, 0);
	frame_free(b, 0);
	return 0;
}

Test(vmsim, old_mapping_stays_until_the_flush) { vm_boot(PT_SV39, 64u << 20, stale_until_flush); }

static int fault_causes(void *arg)
{
	const vaddr_t ro = 3 * PT_SIZE_2M, none = 5 * PT_SIZE_2M, code = 7 * PT_SIZE_2M;
	struct as *as = new_space(kernel_paging_mode());
	uint8_t *window = as_ptr(as, 0);
	paddr_t frame, text;
	uint16_t asid;
	uint64_t got;
	vaddr_t va;

	(void)arg;
	cr_assert_eq(frame_alloc(0, &frame), 0);
	cr_assert_eq(frame_alloc(0, &text), 0);
	memcpy(hal_phys_to_virt(text), ret_insn, sizeof(ret_insn));
	cr_assert_eq(as_map(as, ro, frame, PT_SIZE_4K, PTE_R, PT_SIZE_4K), 0);
	cr_assert_eq(as_map(as, code, text, PT_SIZE_4K, PTE_R | PTE_X, PT_SIZE_4K), 0);
	__builtin___clear_cache((char *)window + code, (char *)window + code + PT_SIZE_4K);

	cr_assert_eq(probe_load(window + none + 0x123, &got), 1);
	cr_assert(faults.cause == TRAP_LOAD_PAGE_FAULT && faults.tval == none + 0x123 &&
		  faults.asid == as_asid(as));
	cr_assert_eq(probe_store(window + none + 0x238, 5), 1);
	cr_assert(faults.cause == TRAP_STORE_PAGE_FAULT && faults.tval == none + 0x238);
	cr_assert_eq(probe_store(window + ro + 16, 5), 1, "store to a read-only page");
	cr_assert(faults.cause == TRAP_STORE_PAGE_FAULT && faults.tval == ro + 16);
	cr_assert_eq(probe_load(window + ro + 16, &got), 0);
	cr_assert_eq(probe_exec(window + none), 1);
	cr_assert(faults.cause == TRAP_INSN_PAGE_FAULT && faults.tval == none);
	cr_assert_eq(probe_exec(window + ro), 1, "fetch from a page without X");
	cr_assert(faults.cause == TRAP_INSN_PAGE_FAULT && faults.tval == ro);
	cr_assert_eq(probe_exec(window + code), 0, "fetch from an X page runs");
	cr_assert_eq(faults.count, 5);

	cr_assert(vmsim_fault_lookup((uintptr_t)window + none + 7, &asid, &va));
	cr_assert(asid == as_asid(as) && va == none + 7);
	cr_assert(!vmsim_fault_lookup((uintptr_t)&got, &asid, &va));
	as_destroy(as);
	frame_free(frame, 0);
	frame_free(text, 0);
	return 0;
}

Test(vmsim, faults_report_cause_and_guest_address_sv39) { vm_boot(PT_SV39, 64u << 20, fault_causes); }
Test(vmsim, faults_report_cause_and_guest_address_sv48) { vm_boot(PT_SV48, 64u << 20, fault_causes); }

static int lazy_pages(void *arg)
{
	const vaddr_t base = 40 * PT_SIZE_1G + PT_SIZE_2M - 4 * PT_SIZE_4K;
	struct trap_counts tc0, tc1;
	volatile uint64_t *p, *q;
	uint64_t free0, got;
	struct as *as;

	(void)arg;
	/* Let the heap take the frames a space's bookkeeping needs first. */
	as = new_space(kernel_paging_mode());
	cr_assert_eq(as_reserve_lazy(as, 0, PT_SIZE_4K, PTE_R), 0);
	as_destroy(as);
	free0 = vm_free_frames();
	as = new_space(kernel_paging_mode());
	p = as_ptr(as, base + PT_SIZE_4K);
	q = as_ptr(as, base + 6 * PT_SIZE_4K);
	cr_assert_eq(as_reserve_lazy(as, base, 8 * PT_SIZE_4K, PTE_R | PTE_W), 0);
	cr_assert_eq(as_reserve_lazy(as, base + 7 * PT_SIZE_4K, 2 * PT_SIZE_4K, PTE_R),
		     -K_EEXIST);
	cr_assert_eq(as_reserve_lazy(as, base + 8 * PT_SIZE_4K, PT_SIZE_4K, PTE_R), 0,
		     "a read-only lazy page next to it");
	trap_counts(0, &tc0);
	p[3] = 0x77;			/* store fault -> fresh frame -> store resumes */
	trap_counts(0, &tc1);
	cr_assert_eq(tc1.page_faults, tc0.page_faults + 1);
	cr_assert_eq(p[3], 0x77);
	cr_assert_eq(p[4], 0, "the new frame is zeroed");
	cr_assert_eq(p[300], 0);
	trap_counts(0, &tc0);
	cr_assert_eq(tc0.page_faults, tc1.page_faults, "the page stays mapped");
	cr_assert_eq(*q, 0, "a load faults a page in too");
	cr_assert_eq(faults.count, 0, "nothing reached the space's handler");
	/* A store to the read-only lazy page is not resolved. */
	cr_assert_eq(probe_store(as_ptr(as, base + 8 * PT_SIZE_4K), 1), 1);
	cr_assert(faults.cause == TRAP_STORE_PAGE_FAULT && faults.tval == base + 8 * PT_SIZE_4K);
	cr_assert_eq(probe_load(as_ptr(as, base + 8 * PT_SIZE_4K), &got), 0);
	cr_assert_eq(got, 0);
	/* Outside the regions: the handler. */
	cr_assert_eq(probe_load(as_ptr(as, base - PT_SIZE_4K), &got), 1);
	/* Unmapping discards pages: the next touch brings a zeroed one. */
	cr_assert_eq(as_unmap(as, base, 8 * PT_SIZE_4K), 0);
	cr_assert_eq(p[3], 0);
	cr_assert(vm_free_frames() < free0);
	as_destroy(as);
	cr_assert_eq(vm_free_frames(), free0, "as_destroy returns every frame");
	return 0;
}

/*
 * A touch populates the aligned AS_LAZY_GROUP around it, as far as the
 * region reaches: memory touched page by page faults once per 64 KiB.
 */
static int lazy_groups(void *arg)
{
	const vaddr_t base = 12 * PT_SIZE_1G;
	const unsigned group = AS_LAZY_GROUP / PT_SIZE_4K;
	/* A group of 2 MiB (or more) is in a leaf table of its own. */
	const unsigned table = AS_LAZY_GROUP >= PT_SIZE_2M;
	struct trap_counts tc0, tc1;
	volatile uint8_t *p;
	uint64_t free0, free1;
	struct as *as;

	(void)arg;
	as = new_space(kernel_paging_mode());
	p = as_ptr(as, base);
	cr_assert_eq(as_reserve_lazy(as, base, 2 * AS_LAZY_GROUP, PTE_R | PTE_W), 0);
	cr_assert_eq(as_reserve_lazy(as, base + 5 * AS_LAZY_GROUP, 3 * PT_SIZE_4K,
				     PTE_R | PTE_W), 0);
	trap_counts(0, &tc0);
	p[5 * PT_SIZE_4K] = 1;		/* the first group, from its middle */
	for (unsigned i = 0; i < group; i++)
		cr_assert_eq(p[i * PT_SIZE_4K + 7], 0, "page %u of the group", i);
	trap_counts(0, &tc1);
	cr_assert_eq(tc1.page_faults, tc0.page_faults + 1, "one fault for the group");
	free0 = vm_free_frames();
	p[AS_LAZY_GROUP + 9] = 2;	/* the second group: its own frames */
	free1 = vm_free_frames();
	cr_assert_eq(free0 - free1, group + table,
		     "%llu frames for a group of %u pages",
		     (unsigned long long)(free0 - free1), group);
	trap_counts(0, &tc0);
	cr_assert_eq(tc0.page_faults, tc1.page_faults + 1);
	/* A region smaller than a group gets its own pages only. */
	p[5 * AS_LAZY_GROUP + PT_SIZE_4K] = 3;
	cr_assert_eq(free1 - vm_free_frames(), 3 + table);
	cr_assert_eq(probe_load(as_ptr(as, base + 5 * AS_LAZY_GROUP + 3 * PT_SIZE_4K),
				&(uint64_t){ 0 }), 1, "the page past the region stays unmapped");
	as_destroy(as);
	return 0;
}

Test(vmsim, a_touch_populates_its_lazy_group_sv39) { vm_boot(PT_SV39, 64u << 20, lazy_groups); }
Test(vmsim, a_touch_populates_its_lazy_group_sv48) { vm_boot(PT_SV48, 64u << 20, lazy_groups); }

/* A memory grown a page at a time: reservations next to each other with
 * the same permissions act as one region. */
static int lazy_growth(void *arg)
{
	const vaddr_t base = 8 * PT_SIZE_1G;
	const unsigned pages = 2048;
	struct as *as;

	(void)arg;
	as = new_space(kernel_paging_mode());
	for (unsigned i = 0; i < pages; i++)
		cr_assert_eq(as_reserve_lazy(as, base + i * PT_SIZE_4K, PT_SIZE_4K,
					     PTE_R | PTE_W), 0);
	/* Below it, adjacent, in front: merged too. */
	cr_assert_eq(as_reserve_lazy(as, base - PT_SIZE_4K, PT_SIZE_4K, PTE_R | PTE_W), 0);
	cr_assert_eq(as_reserve_lazy(as, base + 100 * PT_SIZE_4K, PT_SIZE_4K, PTE_R),
		     -K_EEXIST, "inside the grown region");
	cr_assert_eq(as_reserve_lazy(as, base - PT_SIZE_4K, (pages + 1) * PT_SIZE_4K,
				     PTE_R | PTE_W), -K_EEXIST);
	for (unsigned i = 0; i < pages; i += 97) {
		volatile uint64_t *p = as_ptr(as, base + i * PT_SIZE_4K);

		*p = i;
		cr_assert_eq(*p, i);
	}
	cr_assert_eq(*(volatile uint64_t *)as_ptr(as, base - PT_SIZE_4K), 0);
	cr_assert_eq(faults.count, 0, "every page was resolved as lazy");
	as_destroy(as);
	return 0;
}

Test(vmsim, adjacent_lazy_reservations_act_as_one) { vm_boot(PT_SV39, 64u << 20, lazy_growth); }

Test(vmsim, lazy_pages_resume_the_faulting_access_sv39) { vm_boot(PT_SV39, 64u << 20, lazy_pages); }
Test(vmsim, lazy_pages_resume_the_faulting_access_sv57) { vm_boot(PT_SV57, 64u << 20, lazy_pages); }
