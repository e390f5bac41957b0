/*
 * mmu.c - the kernel's page tables, satp, sfence.vma, the RAM map and code
 * memory (kernel/hal.h) on riscv64.
 *
 * The kernel's half of every address space is the same few tables (see
 * metal.h for the layout): one level-2 table, `upper`, whose entries
 * 256..509 are gigapage leaves of the direct map and entry 510 points at
 * the code region's level-1 table.  In Sv39 `upper` is itself the root;
 * Sv48 and Sv57 roots reach it through their last entry.  A space's root
 * (built by kernel/pt.c) gets the same upper entries at hal_mmu_attach()
 * and loses them at hal_mmu_detach(), before pt_destroy() walks it.
 *
 * Leaves are created with A and D set (kernel/pt.c does the same for the
 * spaces' leaves): QEMU, like hardware without Svadu, raises a page fault
 * for an access through a leaf with A clear, or a store with D clear
 * (privileged spec, "Virtual Address Translation Process", step 7).
 */
#include <stdatomic.h>
#include "../../kernel/frame.h"
#include "../../kernel/kerr.h"
#include "../../kernel/klib.h"
#include "../../kernel/pt.h"
#include "../../kernel/spinlock.h"
#include "metal.h"
#include "riscv.h"

#define PTES		512
#define LEAF_KERNEL	(PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D)
#define UPPER_FIRST	256u	/* first upper-half entry of a level-2 table */
#define CODE_SLOT	510u
#define CODE_L0_TABLES	(METAL_CODE_PAGES / PTES)

typedef uint64_t table_t[PTES] __attribute__((aligned(4096)));

static inline pte_t pte_table_of(const void *table)
{
	return (((uintptr_t)table - METAL_KOFF) >> 12) << PTE_PPN_SHIFT | PTE_V;
}

static inline uint64_t pte_pa_of(pte_t pte)
{
	return (pte >> PTE_PPN_SHIFT & ((1ull << 44) - 1)) << 12;
}

static inline pte_t pte_leaf_of(uint64_t pa, unsigned bits)
{
	return (pa >> 12) << PTE_PPN_SHIFT | bits;
}

/*
 * The boot page table entry.S turns on: the first 4 GiB of physical
 * memory at METAL_KOFF, and the gigabyte the kernel is loaded in also at
 * its physical address, for the instructions between the satp write and
 * the jump to the link address.
 */
#define BOOT_LEAF(gb)	(((uint64_t)(gb) << 30 >> 12) << PTE_PPN_SHIFT | LEAF_KERNEL)
table_t metal_boot_pt = {
	[METAL_LOAD_PA >> 30] = BOOT_LEAF(METAL_LOAD_PA >> 30),
	[UPPER_FIRST + 0] = BOOT_LEAF(0),
	[UPPER_FIRST + 1] = BOOT_LEAF(1),
	[UPPER_FIRST + 2] = BOOT_LEAF(2),
	[UPPER_FIRST + 3] = BOOT_LEAF(3),
};

static table_t upper;			/* level 2; the Sv39 root */
static table_t root48;			/* Sv48 root -> upper */
static table_t root57, l3_57;		/* Sv57 root -> l3_57 -> upper */
static table_t code_l1;			/* the code gigabyte, 2 MiB per entry */
static table_t code_l0[CODE_L0_TABLES];	/* its 4 KiB pages */

static struct hal_mem_region ram[FDT_MAX_RAM + FDT_MAX_RESERVED];
static size_t nram;

/* Registered spaces: root and mode per ASID (kernel/as.c hands out < 4096). */
#define MAX_ASIDS 4096
static struct { uint64_t root; unsigned mode, slot; } spaces[MAX_ASIDS];
static unsigned kernel_mode;
static unsigned asid_bits;

/* With fewer than 12 ASID bits every space runs under hardware ASID 0 and
 * switching flushes everything. */
static unsigned hw_asid(uint16_t asid)
{
	return asid_bits >= 12 ? asid : 0;
}

static uint64_t *root_of_mode(unsigned mode)
{
	return mode == PT_SV39 ? upper : mode == PT_SV48 ? root48 : root57;
}

/* -- RAM -------------------------------------------------------------------- */

/* Remove [base, base+size) from the RAM list, splitting a region if needed. */
static void carve(uint64_t base, uint64_t size)
{
	uint64_t end = base + size;

	for (size_t i = 0; i < nram; i++) {
		struct hal_mem_region *r = &ram[i];
		uint64_t r_end = r->base + r->size;

		if (end <= r->base || base >= r_end)
			continue;
		if (base > r->base && end < r_end) {
			KASSERT(nram < ARRAY_SIZE(ram), "too many RAM pieces");
			for (size_t j = nram; j > i + 1; j--)
				ram[j] = ram[j - 1];
			nram++;
			ram[i + 1].base = end;
			ram[i + 1].size = r_end - end;
			r->size = base - r->base;
		} else if (base > r->base) {
			r->size = base - r->base;
		} else if (end < r_end) {
			r->size = r_end - end;
			r->base = end;
		} else {
			r->size = 0;
		}
	}
}

/* The free RAM: the device tree's, without the firmware and kernel below
 * the kernel's end, reserved ranges, or anything the direct map misses;
 * page aligned, sorted, without empty pieces. */
static void ram_init(void)
{
	uint64_t direct_end = (uint64_t)METAL_DIRECT_GB << 30;
	uint64_t kend = (uintptr_t)_kernel_end - METAL_KOFF;
	size_t n = 0;

	for (unsigned i = 0; i < metal_fdt.nram; i++)
		ram[nram++] = metal_fdt.ram[i];
	for (size_t i = 0; i < nram; i++)
		if (ram[i].base < kend && ram[i].base + ram[i].size > METAL_LOAD_PA)
			carve(ram[i].base, kend - ram[i].base);
	for (unsigned i = 0; i < metal_fdt.nreserved; i++)
		carve(metal_fdt.reserved[i].base, metal_fdt.reserved[i].size);
	carve(direct_end, UINT64_MAX - direct_end);
	for (size_t i = 0; i < nram; i++) {
		uint64_t b = ALIGN_UP(ram[i].base, HAL_PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(ram[i].base + ram[i].size, HAL_PAGE_SIZE);

		if (e > b)
			ram[n++] = (struct hal_mem_region){ b, e - b, false };	/* no promise */
	}
	nram = n;
	for (size_t i = 1; i < nram; i++)	/* insertion sort: a handful */
		for (size_t j = i; j > 0 && ram[j].base < ram[j - 1].base; j--) {
			struct hal_mem_region t = ram[j];

			ram[j] = ram[j - 1];
			ram[j - 1] = t;
		}
}

size_t hal_mem_regions(const struct hal_mem_region **regions)
{
	*regions = ram;
	return nram;
}

void *hal_phys_to_virt(paddr_t pa)
{
	return (void *)(uintptr_t)(pa + METAL_KOFF);
}

paddr_t hal_virt_to_phys(const void *va)
{
	return (uintptr_t)va - METAL_KOFF;
}

/* -- Kernel tables ---------------------------------------------------------- */

void metal_mmu_init(uint64_t ram_end)
{
	unsigned gbs = (unsigned)MIN((ram_end + (1ull << 30) - 1) >> 30, (uint64_t)METAL_DIRECT_GB);

	/* Devices sit below RAM on virt: map from 0 up to the end of RAM. */
	for (unsigned g = 0; g < MAX(gbs, 4u); g++)
		upper[UPPER_FIRST + g] = pte_leaf_of((uint64_t)g << 30, LEAF_KERNEL);
	for (unsigned i = 0; i < CODE_L0_TABLES; i++)
		code_l1[i] = pte_table_of(code_l0[i]);
	upper[CODE_SLOT] = pte_table_of(code_l1);
	root48[PTES - 1] = pte_table_of(upper);
	l3_57[PTES - 1] = pte_table_of(upper);
	root57[PTES - 1] = pte_table_of(l3_57);
	ram_init();
}

static uint64_t satp_of(unsigned mode, uint64_t root_pa, unsigned asid)
{
	return (uint64_t)mode << SATP_MODE_SHIFT | (uint64_t)asid << SATP_ASID_SHIFT |
	       (root_pa >> 12);
}

/*
 * The best paging mode this hart implements: a write of an unsupported
 * MODE to satp has no effect at all (privileged spec, "satp"), and every
 * candidate root maps the kernel alike, so trying is safe.  Also finds how
 * many ASID bits satp keeps (write ones, read back).
 */
unsigned metal_mmu_probe(void)
{
	unsigned best = PT_SV39;
	uint64_t s;

	for (unsigned mode = PT_SV48; mode <= PT_SV57; mode++) {
		csr_write(satp, satp_of(mode, (uintptr_t)root_of_mode(mode) - METAL_KOFF, 0));
		sfence_vma_all();
		if (csr_read(satp) >> SATP_MODE_SHIFT == mode)
			best = mode;
	}
	csr_write(satp, satp_of(PT_SV39, (uintptr_t)upper - METAL_KOFF, SATP_ASID_MASK));
	s = csr_read(satp);
	asid_bits = (unsigned)__builtin_popcountll((s >> SATP_ASID_SHIFT) & SATP_ASID_MASK);
	csr_write(satp, satp_of(PT_SV39, (uintptr_t)upper - METAL_KOFF, 0));
	sfence_vma_all();
	return best;
}

void metal_mmu_enable(unsigned mode)
{
	kernel_mode = mode;
	csr_write(satp, satp_of(mode, (uintptr_t)root_of_mode(mode) - METAL_KOFF, 0));
	sfence_vma_all();
	atomic_store(&metal_self()->active_asid, 0);
}

/* -- Spaces and their windows ---------------------------------------------- */

/*
 * The kernel reaches every space through a window, as on the hosted
 * platform, not only the space that satp selects: task stacks live in a
 * space of their own (sched/stack.c) that must stay reachable whatever
 * else runs.  A window is a slot of the kernel's upper half whose root
 * entries mirror the space's first root entries, so both point at the
 * same lower tables and a change below the root shows in the window at
 * once; root entries themselves (pt_map creating or pt_unmap freeing a
 * top-level table) are copied at hal_mmu_flush(), which the kernel calls
 * after every change.  Slots: Sv39, 8 GiB (8 entries of `upper`) each
 * above the 64 GiB direct map; Sv48 and Sv57, one entry of the root
 * (512 GiB, 256 TiB) each.  A space uses the kernel's paging mode.
 */
#define SV39_WIN_ENTRIES	8u
#define SV39_WIN_FIRST		(UPPER_FIRST + METAL_DIRECT_GB)
#define SV39_WIN_SLOTS		((CODE_SLOT - SV39_WIN_FIRST) / SV39_WIN_ENTRIES)
#define ROOT_WIN_SLOTS		(PTES - 1 - UPPER_FIRST)	/* 256..510 */

static uint16_t slot_asid[ROOT_WIN_SLOTS];	/* 0: free */
static struct spinlock slot_lock = SPINLOCK_INIT;

static unsigned win_entries(void)
{
	return kernel_mode == PT_SV39 ? SV39_WIN_ENTRIES : 1;
}

static unsigned win_slots(void)
{
	return kernel_mode == PT_SV39 ? SV39_WIN_SLOTS : ROOT_WIN_SLOTS;
}

/* The kernel root entry a slot's first window entry occupies. */
static uint64_t *win_ptes(unsigned slot)
{
	if (kernel_mode == PT_SV39)
		return &upper[SV39_WIN_FIRST + slot * SV39_WIN_ENTRIES];
	return &root_of_mode(kernel_mode)[UPPER_FIRST + slot];
}

static uintptr_t win_base(unsigned slot)
{
	unsigned bits = pt_va_bits(kernel_mode);
	uint64_t entry_size = 1ull << (bits - 9);
	unsigned index = kernel_mode == PT_SV39 ? SV39_WIN_FIRST + slot * SV39_WIN_ENTRIES :
						  UPPER_FIRST + slot;

	/* Sign-extend index * entry_size from the top bit of the mode. */
	return (uintptr_t)((int64_t)((index * entry_size) << (64 - bits)) >> (64 - bits));
}

vaddr_t hal_mmu_window_limit(unsigned mode)
{
	return (uint64_t)win_entries() << (pt_va_bits(mode) - 9);
}

/* Copy (or clear) the kernel's entries of the upper half in a space's
 * root, for hal_mmu_activate(): the direct map, the code region and the
 * windows as they are now. */
static void share_kernel(uint64_t root_pa, bool share)
{
	uint64_t *root = hal_phys_to_virt(root_pa);
	const uint64_t *src = root_of_mode(kernel_mode);

	for (unsigned i = UPPER_FIRST; i < PTES; i++)
		root[i] = share ? src[i] : 0;
}

int hal_mmu_attach(uint16_t asid, paddr_t root, unsigned mode, uintptr_t *window)
{
	hal_irqstate_t s;
	unsigned slot;

	if (asid == 0 || asid >= MAX_ASIDS || mode != kernel_mode)
		return -K_EINVAL;
	s = spin_lock_irqsave(&slot_lock);
	for (slot = 0; slot < win_slots() && slot_asid[slot]; slot++)
		;
	if (slot == win_slots()) {
		spin_unlock_irqrestore(&slot_lock, s);
		return -K_ENOMEM;
	}
	slot_asid[slot] = asid;
	spin_unlock_irqrestore(&slot_lock, s);
	spaces[asid].root = root;
	spaces[asid].mode = mode;
	spaces[asid].slot = slot;
	*window = win_base(slot);
	hal_mmu_flush(asid, 0, 0);	/* mirror whatever the root holds */
	return 0;
}

void hal_mmu_detach(uint16_t asid)
{
	hal_irqstate_t s;
	unsigned slot;

	if (asid == 0 || asid >= MAX_ASIDS || !spaces[asid].root)
		return;
	slot = spaces[asid].slot;
	if (atomic_load(&metal_self()->active_asid) == asid)
		hal_mmu_activate(0);
	for (unsigned i = 0; i < win_entries(); i++)
		win_ptes(slot)[i] = 0;
	share_kernel(spaces[asid].root, false);
	spaces[asid].root = 0;
	hal_mmu_flush(HAL_ASID_ALL, 0, 0);
	s = spin_lock_irqsave(&slot_lock);
	slot_asid[slot] = 0;
	spin_unlock_irqrestore(&slot_lock, s);
}

/*
 * satp write.  A space keeps the kernel's upper half as it was at its last
 * activation (windows attached later are not seen through it).  The local
 * sfence.vma drops what an earlier run under the same ASID left.
 */
void hal_mmu_activate(uint16_t asid)
{
	struct metal_hart *h = metal_self();
	uint64_t root = (uintptr_t)root_of_mode(kernel_mode) - METAL_KOFF;

	if (asid != 0) {
		KASSERT(asid < MAX_ASIDS && spaces[asid].root, "hal_mmu_activate: asid %u", asid);
		root = spaces[asid].root;
		share_kernel(root, true);
	}
	atomic_store(&h->active_asid, asid);
	csr_write(satp, satp_of(kernel_mode, root, hw_asid(asid)));
	if (hw_asid(asid))
		sfence_vma_asid(hw_asid(asid));
	else
		sfence_vma_all();
}

/*
 * A page fault at va: in a window, the guest address of that window's
 * space (as the hosted platform reports it); in the lower half, the
 * active space's.
 */
uint16_t metal_fault_translate(uint64_t *va)
{
	uint16_t asid = atomic_load(&metal_self()->active_asid);
	uint64_t limit = hal_mmu_window_limit(kernel_mode);

	if ((int64_t)*va >= 0)
		return asid ? asid : HAL_ASID_NONE;
	for (unsigned slot = 0; slot < win_slots(); slot++) {
		uintptr_t base = win_base(slot);
		uint16_t owner = slot_asid[slot];

		if (owner && *va >= base && *va - base < limit) {
			*va -= base;
			return owner;
		}
	}
	return HAL_ASID_NONE;
}

/*
 * May [va, va+len) be read without a fault?  RAM through the direct map,
 * or pages a window's tables map readable.  For backtraces, which walk
 * task stacks (in the stack space's window) and must not fault.
 */
bool metal_readable(uintptr_t va, size_t len)
{
	uint64_t limit = hal_mmu_window_limit(kernel_mode);
	uintptr_t last = va + len - 1;

	if (len == 0 || last < va || (va ^ last) >> 12)
		return false;	/* one page at a time */
	if (va >= METAL_KOFF && va - METAL_KOFF < ((uint64_t)METAL_DIRECT_GB << 30)) {
		for (unsigned i = 0; i < metal_fdt.nram; i++)
			if (va - METAL_KOFF >= metal_fdt.ram[i].base &&
			    last - METAL_KOFF < metal_fdt.ram[i].base + metal_fdt.ram[i].size)
				return true;
		return false;
	}
	for (unsigned slot = 0; slot < win_slots(); slot++) {
		uintptr_t base = win_base(slot);
		uint16_t asid = slot_asid[slot];
		struct pt_leaf leaf;

		if (asid && va >= base && va - base < limit) {
			struct pt pt = { .root = spaces[asid].root, .mode = spaces[asid].mode };

			return pt_lookup(&pt, va - base, &leaf) == 0 && (leaf.perm & PTE_R);
		}
	}
	return false;
}

#define FLUSH_PAGES_MAX	32	/* beyond this, flush everything */

/* Other harts, as an SBI hart mask (hart ids below 64). */
static unsigned long other_harts(void)
{
	unsigned long mask = 0;
	unsigned self = hal_hart_id();

	for (unsigned i = 0; i < metal_nharts; i++)
		if (i != self && metal_harts[i].hartid < 64)
			mask |= 1ul << metal_harts[i].hartid;
	return mask;
}

/*
 * Bring the window's root entries up to date with the space's root for
 * [va, va+len), then sfence.vma: the window's addresses are reached under
 * the kernel's ASID on every hart, so the fence covers every ASID (x0) on
 * every hart, by SBI RFENCE for the others.
 */
void hal_mmu_flush(uint16_t asid, vaddr_t va, uint64_t len)
{
	unsigned long mask = other_harts();
	uint64_t limit = hal_mmu_window_limit(kernel_mode);
	bool all = asid == HAL_ASID_ALL || len == 0 || len > FLUSH_PAGES_MAX * HAL_PAGE_SIZE ||
		   va >= limit || len > limit - va;
	uintptr_t base = 0;

	if (asid != HAL_ASID_ALL && asid < MAX_ASIDS && spaces[asid].root) {
		const uint64_t *root = hal_phys_to_virt(spaces[asid].root);
		uint64_t *win = win_ptes(spaces[asid].slot);
		unsigned shift = pt_va_bits(kernel_mode) - 9;
		unsigned first = 0, last = win_entries() - 1;

		if (!all) {
			first = (unsigned)(va >> shift);
			last = (unsigned)((va + len - 1) >> shift);
		}
		for (unsigned i = first; i <= last && i < win_entries(); i++)
			if (win[i] != root[i]) {
				win[i] = root[i];
				all = true;	/* a whole subtree came or went */
			}
		base = win_base(spaces[asid].slot);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (all) {
		sfence_vma_all();
		if (mask)
			sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, mask, 0, 0, UINT64_MAX, 0);
		return;
	}
	for (uint64_t off = 0; off < len; off += HAL_PAGE_SIZE) {
		sfence_vma_page_all(base + va + off);
		if (hw_asid(asid))
			sfence_vma_page(va + off, hw_asid(asid));
	}
	if (mask) {
		sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, mask, 0, base + va, len, 0);
		if (hw_asid(asid))
			sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA_ASID, mask, 0, va, len,
				 hw_asid(asid));
	}
}

/* -- Code memory ------------------------------------------------------------ */

/*
 * Pages of the code region are writable (R|W) from hal_code_alloc() until
 * hal_code_seal() makes them executable (R|X), never both.  Sealing
 * fences this hart's and the other harts' translations (the kernel's
 * mappings are global: sfence.vma with ASID x0) and instruction fetch
 * (fence.i here, remote fence.i through SBI).
 */
#define LEAF_CODE_RW	(PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D)
#define LEAF_CODE_RX	(PTE_V | PTE_R | PTE_X | PTE_G | PTE_A | PTE_D)

static struct spinlock code_lock = SPINLOCK_INIT;
static uint64_t code_used[METAL_CODE_PAGES / 64];	/* one bit a page */

static uint64_t *code_pte(unsigned page)
{
	return &code_l0[page / PTES][page % PTES];
}

static bool page_used(unsigned page)
{
	return code_used[page / 64] >> (page % 64) & 1;
}

static void mark(unsigned first, unsigned n, bool used)
{
	for (unsigned p = first; p < first + n; p++) {
		if (used)
			code_used[p / 64] |= 1ull << (p % 64);
		else
			code_used[p / 64] &= ~(1ull << (p % 64));
	}
}

/* Make PTE changes of [first, first+n) visible on every hart. */
static void code_flush(unsigned first, unsigned n, bool ifetch)
{
	uintptr_t va = METAL_CODE_BASE + (uintptr_t)first * HAL_PAGE_SIZE;
	unsigned long mask = 0;

	for (unsigned p = 0; p < n; p++)
		sfence_vma_page_all(va + (uintptr_t)p * HAL_PAGE_SIZE);
	if (ifetch)
		fence_i();
	for (unsigned i = 0; i < metal_nharts; i++)
		if (i != hal_hart_id() && metal_harts[i].hartid < 64)
			mask |= 1ul << metal_harts[i].hartid;
	if (!mask)
		return;
	sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, mask, 0, va,
		 (unsigned long)n * HAL_PAGE_SIZE, 0);
	if (ifetch)
		sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_FENCE_I, mask, 0, 0, 0, 0);
}

/* The pages of a range from hal_code_alloc(), or false. */
static bool code_range(const void *code, size_t len, unsigned *first, unsigned *n)
{
	uintptr_t va = (uintptr_t)code;

	if (va < METAL_CODE_BASE || va % HAL_PAGE_SIZE || len == 0 ||
	    len > (size_t)METAL_CODE_PAGES * HAL_PAGE_SIZE)
		return false;
	*first = (unsigned)((va - METAL_CODE_BASE) / HAL_PAGE_SIZE);
	*n = (unsigned)(ALIGN_UP(len, (size_t)HAL_PAGE_SIZE) / HAL_PAGE_SIZE);
	if (*first + *n > METAL_CODE_PAGES)
		return false;
	for (unsigned p = *first; p < *first + *n; p++)
		if (!page_used(p))
			return false;
	return true;
}

void *hal_code_alloc(size_t len)
{
	unsigned n = (unsigned)(ALIGN_UP(len, (size_t)HAL_PAGE_SIZE) / HAL_PAGE_SIZE);
	unsigned first = 0, run = 0;
	hal_irqstate_t s;

	if (len == 0 || len > (size_t)METAL_CODE_PAGES * HAL_PAGE_SIZE)
		return NULL;
	s = spin_lock_irqsave(&code_lock);
	for (unsigned p = 0; p < METAL_CODE_PAGES && run < n; p++) {
		if (page_used(p)) {
			run = 0;
		} else if (run++ == 0) {
			first = p;
		}
	}
	if (run < n) {
		spin_unlock_irqrestore(&code_lock, s);
		return NULL;
	}
	for (unsigned p = 0; p < n; p++) {
		paddr_t pa;

		if (frame_alloc(0, &pa) < 0) {
			while (p--) {
				frame_free(pte_pa_of(*code_pte(first + p)), 0);
				*code_pte(first + p) = 0;
			}
			code_flush(first, n, false);
			spin_unlock_irqrestore(&code_lock, s);
			return NULL;
		}
		*code_pte(first + p) = pte_leaf_of(pa, LEAF_CODE_RW);
	}
	mark(first, n, true);
	code_flush(first, n, false);
	spin_unlock_irqrestore(&code_lock, s);
	return (void *)(METAL_CODE_BASE + (uintptr_t)first * HAL_PAGE_SIZE);
}

static int code_set(void *code, size_t len, unsigned bits, bool ifetch)
{
	unsigned first, n;
	hal_irqstate_t s = spin_lock_irqsave(&code_lock);

	if (!code_range(code, len, &first, &n)) {
		spin_unlock_irqrestore(&code_lock, s);
		return -K_EINVAL;
	}
	for (unsigned p = first; p < first + n; p++)
		*code_pte(p) = pte_leaf_of(pte_pa_of(*code_pte(p)), bits);
	code_flush(first, n, ifetch);
	spin_unlock_irqrestore(&code_lock, s);
	return 0;
}

int hal_code_seal(void *code, size_t len)
{
	return code_set(code, len, LEAF_CODE_RX, true);
}

int hal_code_unseal(void *code, size_t len)
{
	return code_set(code, len, LEAF_CODE_RW, false);
}

void hal_code_free(void *code, size_t len)
{
	unsigned first, n;
	hal_irqstate_t s = spin_lock_irqsave(&code_lock);

	KASSERT(code_range(code, len, &first, &n), "hal_code_free: %p+%zu not allocated",
		code, len);
	for (unsigned p = first; p < first + n; p++) {
		paddr_t pa = pte_pa_of(*code_pte(p));

		*code_pte(p) = 0;
		frame_free(pa, 0);
	}
	mark(first, n, false);
	code_flush(first, n, false);
	spin_unlock_irqrestore(&code_lock, s);
}

/* No profiler reads names on metal yet (the panic backtrace names only the
 * kernel's own functions). */
bool hal_code_symbols_wanted(void)
{
	return false;
}

void hal_code_symbol(const void *code, size_t len, const char *name)
{
}
