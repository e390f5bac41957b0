/*
 * walk.c - the software page walker of vm_sim, the oracle of the
 * page-table tests, and the PTE decoding the window flush shares with it.
 *
 * Follows the RISC-V privileged spec, "Virtual Address Translation
 * Process", steps 1-8, without the access-type checks (the walker reports
 * the permissions; vm_sim applies them through host protections):
 *   - va must be sign-extended from bit VABITS-1;
 *   - V clear stops with a page fault (here -K_ENOENT);
 *   - W without R, a set bit in 63:54 (no Svnapot, Svpbmt: reserved), a
 *     non-leaf with D, A or U set, a pointer at level 0 and a superpage
 *     whose PPN is not aligned to its size stop with a page fault
 *     (-K_EFAULT: the tables are malformed);
 *   - a table outside RAM would be an access fault (also -K_EFAULT).
 */
#include "../kernel/kerr.h"
#include "../kernel/pt.h"
#include "vmsim.h"
#include "walk.h"

struct vmsim_ram vmsim_ram = { .memfd = -1 };

#define PTE_RESERVED_HIGH	(~0ull << 54)	/* N, PBMT, reserved */
#define PTE_PPN_BITS		44

unsigned vmsim_mode_levels(unsigned mode)
{
	switch (mode) {
	case PT_SV39: return 3;
	case PT_SV48: return 4;
	case PT_SV57: return 5;
	default: return 0;
	}
}

bool vmsim_ram_contains(paddr_t pa, uint64_t len)
{
	return pa >= vmsim_ram.base && len <= vmsim_ram.size &&
	       pa - vmsim_ram.base <= vmsim_ram.size - len;
}

const uint64_t *vmsim_table(paddr_t pa)
{
	if (!vmsim_ram_contains(pa, HAL_PAGE_SIZE) || (pa & (HAL_PAGE_SIZE - 1)))
		return NULL;
	return (const uint64_t *)(vmsim_ram.direct_map + (pa - vmsim_ram.base));
}

enum vmsim_pte_kind vmsim_pte_decode(uint64_t pte, unsigned level, paddr_t *pa)
{
	const uint64_t rwx = PTE_R | PTE_W | PTE_X;

	if (!(pte & PTE_V))
		return VMSIM_PTE_INVALID;
	if ((pte & PTE_RESERVED_HIGH) || ((pte & PTE_W) && !(pte & PTE_R)))
		return VMSIM_PTE_BAD;
	*pa = ((pte >> PTE_PPN_SHIFT) & ((1ull << PTE_PPN_BITS) - 1)) << 12;
	if (!(pte & rwx)) {
		if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U)))
			return VMSIM_PTE_BAD;
		return VMSIM_PTE_TABLE;
	}
	if (*pa & (vmsim_level_size(level) - 1))
		return VMSIM_PTE_BAD;	/* misaligned superpage */
	return VMSIM_PTE_LEAF;
}

int vmsim_walk(paddr_t root, unsigned mode, vaddr_t va, struct vmsim_leaf *leaf)
{
	unsigned levels = vmsim_mode_levels(mode), va_bits = 12 + 9 * levels;
	paddr_t table = root;

	if (levels == 0 ||
	    (vaddr_t)((int64_t)(va << (64 - va_bits)) >> (64 - va_bits)) != va)
		return -K_EINVAL;
	for (unsigned level = levels; level-- > 0;) {
		const uint64_t *t = vmsim_table(table);
		uint64_t pte;
		paddr_t pa;

		if (!t)
			return -K_EFAULT;
		pte = t[(va >> (12 + 9 * level)) & 511];
		switch (vmsim_pte_decode(pte, level, &pa)) {
		case VMSIM_PTE_INVALID:
			return -K_ENOENT;
		case VMSIM_PTE_BAD:
			return -K_EFAULT;
		case VMSIM_PTE_TABLE:
			table = pa;
			break;
		case VMSIM_PTE_LEAF:
			leaf->size = vmsim_level_size(level);
			leaf->va = va & ~(leaf->size - 1);
			leaf->pa = pa;
			leaf->level = level;
			leaf->perm = (unsigned)(pte & PTE_PERM_MASK);
			return 0;
		}
	}
	return -K_EFAULT;	/* unreachable: level 0 never decodes as a table */
}
