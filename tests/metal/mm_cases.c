/*
 * mm_cases.c - the metal test image's memory checks (mm_cases.h).
 *
 * The page-table checks use the real MMU as the thing under test and
 * pt_lookup() plus the test's own record of what it mapped as the oracle:
 * a load through the space's window must fault exactly where nothing is
 * mapped, and read the frame's own tag everywhere else.  Faults are caught
 * by the space's fault handler, which steps over the probing instruction
 * (assembled uncompressed, so always 4 bytes).
 */
#include "../../kernel/as.h"
#include "../../kernel/frame.h"
#include "../../kernel/kerr.h"
#include "../../kernel/kheap.h"
#include "../../kernel/klib.h"
#include "../../kernel/pt.h"
#include "../../kernel/smp.h"
#include "../../sched/sched.h"
#include "../../kernel/trap.h"
#include "../cross/sched_cases.h"
#include "mm_cases.h"

#define TAG		0x6b32336d6574616cull	/* "k23metal" */
#define PROBE_MISS	0xdeadbeefdeadbeefull

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* -- Frames ----------------------------------------------------------------- */

#define HELD 256

static bool in_ram(paddr_t pa, uint64_t len)
{
	const struct hal_mem_region *r;
	size_t n = hal_mem_regions(&r);

	for (size_t i = 0; i < n; i++)
		if (pa >= r[i].base && pa + len <= r[i].base + r[i].size)
			return true;
	return false;
}

int mm_case_frames_are_aligned_disjoint_in_ram_and_all_come_back(void)
{
	static struct { paddr_t pa; uint64_t len; } held[HELD];
	struct frame_stats before, after;

	rng_state = 0x1234567887654321ull;
	frame_drain_caches();
	frame_stats(&before);
	for (unsigned i = 0; i < HELD; i++) {
		unsigned order = (unsigned)(rnd() % 7);
		uint64_t *p;
		paddr_t pa;

		CASE_CHECK(frame_alloc(order, &pa) == 0, "order %u, block %u", order, i);
		held[i].pa = pa;
		held[i].len = FRAME_SIZE << order;
		CASE_CHECK(IS_ALIGNED(pa, held[i].len), "%#llx order %u", (unsigned long long)pa,
			   order);
		CASE_CHECK(in_ram(pa, held[i].len), "%#llx not in RAM", (unsigned long long)pa);
		for (unsigned j = 0; j < i; j++)
			CASE_CHECK(pa + held[i].len <= held[j].pa || held[j].pa + held[j].len <= pa,
				   "blocks %u and %u overlap", i, j);
		p = hal_phys_to_virt(pa);
		p[0] = TAG ^ pa;
		p[held[i].len / 8 - 1] = TAG ^ ~pa;
	}
	for (unsigned i = 0; i < HELD; i++) {
		const uint64_t *p = hal_phys_to_virt(held[i].pa);

		CASE_CHECK(p[0] == (TAG ^ held[i].pa) && p[held[i].len / 8 - 1] == (TAG ^ ~held[i].pa),
			   "block %u was overwritten", i);
		frame_free(held[i].pa, (unsigned)__builtin_ctzll(held[i].len / FRAME_SIZE));
	}
	frame_drain_caches();
	frame_stats(&after);
	CASE_CHECK(after.free == before.free, "%llu frames free, %llu before",
		   (unsigned long long)after.free, (unsigned long long)before.free);
	return 0;
}

/* -- Heap ------------------------------------------------------------------- */

#define OBJS 300

int mm_case_heap_objects_are_aligned_disjoint_and_all_come_back(void)
{
	static struct { uint8_t *p; size_t n; } objs[OBJS];
	struct frame_stats before, after;

	rng_state = 0x0badc0ffee0ddf00ull;
	kheap_drain_caches();
	frame_drain_caches();
	frame_stats(&before);
	for (unsigned i = 0; i < OBJS; i++) {
		size_t n = 1 + (size_t)(rnd() % (i % 10 == 0 ? 20000 : 512));
		uint8_t *p = kmalloc(n);

		CASE_CHECK(p != NULL, "kmalloc(%zu)", n);
		CASE_CHECK(((uintptr_t)p & 15) == 0, "%p not 16-byte aligned", (void *)p);
		CASE_CHECK(kmalloc_usable_size(p) >= n, "usable %zu < %zu", kmalloc_usable_size(p), n);
		for (unsigned j = 0; j < i; j++)
			CASE_CHECK(p + n <= objs[j].p || objs[j].p + objs[j].n <= p,
				   "objects %u and %u overlap", i, j);
		kmemset(p, (int)(i & 0xff), n);
		objs[i].p = p;
		objs[i].n = n;
	}
	for (unsigned i = 0; i < OBJS; i++) {
		for (size_t k = 0; k < objs[i].n; k++)
			CASE_CHECK(objs[i].p[k] == (uint8_t)i, "object %u byte %zu", i, k);
		kfree(objs[i].p);
	}
	kheap_drain_caches();
	frame_drain_caches();
	frame_stats(&after);
	CASE_CHECK(after.free == before.free, "%llu frames free, %llu before",
		   (unsigned long long)after.free, (unsigned long long)before.free);
	return 0;
}

/* -- Page tables on the MMU ------------------------------------------------- */

static struct {
	bool armed;
	unsigned faults;
	uint64_t cause, tval;
	uint16_t asid;
} probe;

static uint64_t probe_load(const volatile uint64_t *p)
{
	uint64_t v = PROBE_MISS;

	__asm__ volatile(".option push\n.option norvc\nld %0, 0(%1)\n.option pop"
			 : "+r"(v) : "r"(p) : "memory");
	return v;
}

static void probe_store(volatile uint64_t *p, uint64_t v)
{
	__asm__ volatile(".option push\n.option norvc\nsd %1, 0(%0)\n.option pop"
			 :: "r"(p), "r"(v) : "memory");
}

static bool probe_fault(struct as *as, struct trap_frame *tf, void *arg)
{
	(void)arg;
	if (!probe.armed)
		return false;
	probe.faults++;
	probe.cause = tf->cause;
	probe.tval = tf->tval;
	probe.asid = tf->asid;
	KASSERT(tf->asid == as_asid(as), "fault reported for asid %u", tf->asid);
	tf->pc += 4;
	return true;
}

#define SLOTS		256
#define POOL		64
#define AREA		(1ull << 30)	/* guest va of the probed pages */
#define BIG_VA		(AREA + (64ull << 20))

int mm_case_mmu_walks_the_tables_as_pt_lookup_reads_them(void)
{
	static paddr_t pool[POOL];
	static int slot_frame[SLOTS];	/* -1: unmapped */
	paddr_t big;
	struct as *as;
	int err = 0;

	rng_state = 0x5eed5eed5eed5eedull;
	CASE_CHECK(as_create(&as, 0) == 0);
	as_set_fault_handler(as, probe_fault, NULL);
	for (unsigned i = 0; i < POOL; i++) {
		CASE_CHECK(frame_alloc(0, &pool[i]) == 0);
		*(uint64_t *)hal_phys_to_virt(pool[i]) = TAG ^ pool[i];
	}
	for (unsigned s = 0; s < SLOTS; s++) {
		slot_frame[s] = rnd() % 2 ? (int)(rnd() % POOL) : -1;
		if (slot_frame[s] >= 0)
			CASE_CHECK(as_map(as, AREA + s * HAL_PAGE_SIZE, pool[slot_frame[s]],
					  HAL_PAGE_SIZE, PTE_R | PTE_W, PT_SIZE_4K) == 0);
	}
	/* One 2 MiB leaf: every 4 KiB inside reads its own frame. */
	CASE_CHECK(frame_alloc(9, &big) == 0);
	for (unsigned k = 0; k < 512; k++)
		*(uint64_t *)hal_phys_to_virt(big + k * HAL_PAGE_SIZE) = TAG ^ (big + k * HAL_PAGE_SIZE);
	CASE_CHECK(as_map(as, BIG_VA, big, PT_SIZE_2M, PTE_R, PT_SIZE_2M) == 0);

	for (int round = 0; round < 2 && !err; round++) {
		for (unsigned s = 0; s < SLOTS; s++) {
			vaddr_t va = AREA + s * HAL_PAGE_SIZE;
			struct pt_leaf leaf;
			bool mapped = pt_lookup(as_pt(as), va, &leaf) == 0;
			uint64_t v;

			CASE_CHECK(mapped == (slot_frame[s] >= 0), "pt_lookup of slot %u", s);
			probe.faults = 0;
			probe.armed = true;
			v = probe_load(as_ptr(as, va));
			probe.armed = false;
			if (mapped) {
				CASE_CHECK(probe.faults == 0 && v == (TAG ^ leaf.pa),
					   "round %d: va %#llx mapped to %#llx: read %#llx, %u faults",
					   round, (unsigned long long)va, (unsigned long long)leaf.pa,
					   (unsigned long long)v, probe.faults);
			} else {
				CASE_CHECK(probe.faults == 1 && v == PROBE_MISS &&
					   probe.cause == TRAP_LOAD_PAGE_FAULT && probe.tval == va &&
					   probe.asid == as_asid(as),
					   "round %d: va %#llx unmapped: %u faults, cause %llu, tval %#llx",
					   round, (unsigned long long)va, probe.faults,
					   (unsigned long long)probe.cause, (unsigned long long)probe.tval);
			}
		}
		for (unsigned k = 0; k < 512; k += 37) {
			vaddr_t va = BIG_VA + k * HAL_PAGE_SIZE + 8 * (k % 7);

			probe.armed = true;
			probe.faults = 0;
			if (probe_load(as_ptr(as, ALIGN_DOWN(va, 8ull))) !=
			    (TAG ^ (big + k * HAL_PAGE_SIZE)) && k % 7 == 0)
				err = 1;
			probe.armed = false;
			CASE_CHECK(probe.faults == 0, "2 MiB leaf page %u faulted", k);
		}
		CASE_CHECK(!err, "2 MiB leaf reads the wrong frame");
		/* Second round: unmap about half and look again. */
		for (unsigned s = 0; s < SLOTS; s++)
			if (slot_frame[s] >= 0 && rnd() % 2) {
				CASE_CHECK(as_unmap(as, AREA + s * HAL_PAGE_SIZE, HAL_PAGE_SIZE) == 0);
				slot_frame[s] = -1;
			}
	}
	as_destroy(as);
	for (unsigned i = 0; i < POOL; i++)
		frame_free(pool[i], 0);
	frame_free(big, 9);
	return 0;
}

int mm_case_mmu_faults_a_store_to_a_read_only_page(void)
{
	const vaddr_t va = AREA + 5 * HAL_PAGE_SIZE;
	volatile uint64_t *p;
	struct as *as;
	paddr_t pa;

	CASE_CHECK(as_create(&as, 0) == 0);
	as_set_fault_handler(as, probe_fault, NULL);
	CASE_CHECK(frame_alloc(0, &pa) == 0);
	*(uint64_t *)hal_phys_to_virt(pa) = 1;
	CASE_CHECK(as_map(as, va, pa, HAL_PAGE_SIZE, PTE_R, PT_SIZE_4K) == 0);
	p = as_ptr(as, va);
	probe.faults = 0;
	probe.armed = true;
	probe_store(p, 2);
	probe.armed = false;
	CASE_CHECK(probe.faults == 1 && probe.cause == TRAP_STORE_PAGE_FAULT && probe.tval == va,
		   "%u faults, cause %llu, tval %#llx", probe.faults,
		   (unsigned long long)probe.cause, (unsigned long long)probe.tval);
	CASE_CHECK(*(uint64_t *)hal_phys_to_virt(pa) == 1, "the store went through");
	/* Writable now: the same store lands (D is preset, so no fault). */
	CASE_CHECK(as_protect(as, va, HAL_PAGE_SIZE, PTE_R | PTE_W) == 0);
	probe.armed = true;
	probe_store(p, 3);
	probe.armed = false;
	CASE_CHECK(probe.faults == 1, "the store faulted after as_protect");
	CASE_CHECK(*(uint64_t *)hal_phys_to_virt(pa) == 3, "the store did not land");
	as_destroy(as);
	frame_free(pa, 0);
	return 0;
}

int mm_case_mmu_maps_a_lazy_page_on_first_touch(void)
{
	const vaddr_t va = AREA;
	struct trap_counts before, after;
	struct pt_leaf leaf;
	volatile uint64_t *p;
	struct as *as;

	CASE_CHECK(as_create(&as, 0) == 0);
	CASE_CHECK(as_reserve_lazy(as, va, 16 * HAL_PAGE_SIZE, PTE_R | PTE_W) == 0);
	CASE_CHECK(pt_lookup(as_pt(as), va + 7 * HAL_PAGE_SIZE, &leaf) == -K_ENOENT);
	p = as_ptr(as, va + 7 * HAL_PAGE_SIZE);
	trap_counts(hal_hart_id(), &before);
	CASE_CHECK(p[3] == 0, "a lazy page is not zeroed");
	p[3] = 0x23;
	trap_counts(hal_hart_id(), &after);
	CASE_CHECK(after.page_faults == before.page_faults + 1, "%llu page faults, want 1",
		   (unsigned long long)(after.page_faults - before.page_faults));
	CASE_CHECK(pt_lookup(as_pt(as), va + 7 * HAL_PAGE_SIZE, &leaf) == 0);
	CASE_CHECK(((uint64_t *)hal_phys_to_virt(leaf.pa))[3] == 0x23,
		   "the window and the direct map disagree");
	as_destroy(as);
	return 0;
}

/* With the space's root in satp, its lower half is reached directly (the
 * kernel's half stays mapped: the code runs on). */
int mm_case_satp_reaches_the_active_space_directly(void)
{
	struct as *as;
	uint64_t v;
	paddr_t pa;

	CASE_CHECK(as_create(&as, 0) == 0);
	CASE_CHECK(frame_alloc(0, &pa) == 0);
	*(uint64_t *)hal_phys_to_virt(pa) = TAG ^ pa;
	CASE_CHECK(as_map(as, AREA, pa, HAL_PAGE_SIZE, PTE_R | PTE_W, PT_SIZE_4K) == 0);
	hal_mmu_activate(as_asid(as));
	v = probe_load((const volatile uint64_t *)(uintptr_t)AREA);
	hal_mmu_activate(0);
	CASE_CHECK(v == (TAG ^ pa), "read %#llx through satp", (unsigned long long)v);
	as_destroy(as);
	frame_free(pa, 0);
	return 0;
}

/* -- Code memory ------------------------------------------------------------ */

#define INSN_LI_A0(imm)	(((uint32_t)(imm) << 20) | (10u << 7) | 0x13u)	/* addi a0, x0, imm */
#define INSN_RET	0x00008067u					/* jalr x0, 0(ra) */

static int call_code(const void *code)
{
	return ((int (*)(void))(uintptr_t)code)();
}

struct remote_call {
	const void *code;
	int result;
};

static void call_remote(void *arg)
{
	struct remote_call *rc = arg;

	rc->result = call_code(rc->code);
}

int mm_case_code_runs_after_seal_on_every_hart_and_changes_after_unseal(void)
{
	const size_t len = 2 * HAL_PAGE_SIZE;
	uint32_t *code = hal_code_alloc(len);
	struct remote_call rc;

	CASE_CHECK(code != NULL);
	CASE_CHECK(hal_code_alloc(0) == NULL);
	code[0] = INSN_LI_A0(42);
	code[1] = INSN_RET;
	code[1024] = INSN_LI_A0(7);	/* the second page */
	code[1025] = INSN_RET;
	CASE_CHECK(hal_code_seal(code, len) == 0);
	CASE_CHECK(call_code(code) == 42);
	CASE_CHECK(call_code(code + 1024) == 7);
	/* Rewritten between unseal and seal: the new instruction runs, here
	 * and on another hart (remote sfence.vma and fence.i). */
	CASE_CHECK(hal_code_unseal(code, len) == 0);
	code[0] = INSN_LI_A0(99);
	CASE_CHECK(hal_code_seal(code, len) == 0);
	CASE_CHECK(call_code(code) == 99, "the old instruction ran");
	for (unsigned h = 1; h < hal_hart_count(); h++) {
		rc.code = code;
		rc.result = 0;
		CASE_CHECK(smp_call_on(h, call_remote, &rc) == 0);
		CASE_CHECK(rc.result == 99, "hart %u ran the old instruction (%d)", h, rc.result);
	}
	CASE_CHECK(hal_code_seal((char *)code + 4, 4) == -K_EINVAL);	/* not a page start */
	hal_code_free(code, len);
	CASE_CHECK(hal_code_seal(code, HAL_PAGE_SIZE) == -K_EINVAL);	/* freed */
	return 0;
}

/* -- Clocks ----------------------------------------------------------------- */

int mm_case_clocks_tick_with_the_time_csr_and_the_wall_clock_is_a_date(void)
{
	const uint64_t y2020 = 1577836800ull * 1000000000ull;	/* 2020-01-01 */
	uint64_t m0 = hal_time_mono_ns(), w0 = hal_time_wall_ns(), m1, w1;

	/* Sleeping 20 ms on the scheduler's timer moves both clocks alike. */
	sched_sleep_until(m0 + 20000000);
	m1 = hal_time_mono_ns();
	w1 = hal_time_wall_ns();
	CASE_CHECK(m1 - m0 >= 20000000 && m1 - m0 < 2000000000ull, "slept %llu ns",
		   (unsigned long long)(m1 - m0));
	CASE_CHECK(w0 > y2020, "wall clock %llu s", (unsigned long long)(w0 / 1000000000ull));
	/* w0 was read just after m0 and w1 after m1: equal up to that. */
	CASE_CHECK((int64_t)((w1 - w0) - (m1 - m0)) < 1000000 &&
		   (int64_t)((w1 - w0) - (m1 - m0)) > -1000000, "clocks disagree by %lld ns",
		   (long long)((w1 - w0) - (m1 - m0)));
	return 0;
}
