/*
 * walk.h - vm_sim internals shared by the walker (walk.c) and the window
 * code (vmsim.c): the simulated RAM and the decoding of one guest PTE.
 * Not part of the platform contract; only vm_sim/ includes it.
 */
#ifndef K23_VMSIM_WALK_H
#define K23_VMSIM_WALK_H

#include <stdint.h>
#include "../kernel/hal.h"

/* The RAM memfd as vmsim_init() received it; written once at init. */
struct vmsim_ram {
	int memfd;
	paddr_t base;
	uint64_t size;
	uint8_t *direct_map;
};
extern struct vmsim_ram vmsim_ram;

/* What one PTE at one level means to the MMU. */
enum vmsim_pte_kind {
	VMSIM_PTE_INVALID,	/* V clear: page fault, nothing malformed */
	VMSIM_PTE_LEAF,		/* *pa: start of the leaf's frame block */
	VMSIM_PTE_TABLE,	/* *pa: the next-level table */
	VMSIM_PTE_BAD,		/* reserved encoding: page fault */
};
enum vmsim_pte_kind vmsim_pte_decode(uint64_t pte, unsigned level, paddr_t *pa);

/* Bytes one entry of a table at this level maps (4 KiB << 9*level). */
static inline uint64_t vmsim_level_size(unsigned level)
{
	return 1ull << (12 + 9 * level);
}

/* Levels of a satp mode (3, 4, 5), 0 for an unknown mode. */
unsigned vmsim_mode_levels(unsigned mode);

/* The table at physical address pa through the direct map, NULL outside RAM. */
const uint64_t *vmsim_table(paddr_t pa);

/* Is [pa, pa+len) wholly inside RAM? */
bool vmsim_ram_contains(paddr_t pa, uint64_t len);

#endif /* K23_VMSIM_WALK_H */
