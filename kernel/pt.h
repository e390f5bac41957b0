/*
 * pt.h - RISC-V Sv39/Sv48/Sv57 page tables, stored in physical memory.
 * (RISC-V privileged spec, "Supervisor-Level ISA", sections on Sv39/48/57.)
 *
 * The single layer that edits page-table entries.  Changes become visible
 * to the MMU only after hal_mmu_flush().  Mapping allocates every table
 * frame it needs before editing any entry, so a failure changes nothing.
 */
#ifndef K23_PT_H
#define K23_PT_H

#include <stdbool.h>
#include <stdint.h>
#include "hal.h"

/* satp.MODE values. */
#define PT_SV39	8
#define PT_SV48	9
#define PT_SV57	10

/* PTE bits. */
#define PTE_V	(1u << 0)
#define PTE_R	(1u << 1)
#define PTE_W	(1u << 2)
#define PTE_X	(1u << 3)
#define PTE_U	(1u << 4)
#define PTE_G	(1u << 5)
#define PTE_A	(1u << 6)
#define PTE_D	(1u << 7)
#define PTE_PPN_SHIFT	10
#define PTE_PERM_MASK	(PTE_R | PTE_W | PTE_X | PTE_U | PTE_G)

#define PT_SIZE_4K	(1ull << 12)
#define PT_SIZE_2M	(1ull << 21)
#define PT_SIZE_1G	(1ull << 30)

typedef uint64_t pte_t;

struct pt {
	paddr_t root;
	unsigned mode;		/* PT_SV39/48/57 */
};

unsigned pt_levels(unsigned mode);	/* 3, 4 or 5 */
unsigned pt_va_bits(unsigned mode);	/* 39, 48 or 57 */
bool pt_mode_valid(unsigned mode);
const char *pt_mode_name(unsigned mode);	/* "sv39", ... */
/* Parse "sv39"/"sv48"/"sv57"; returns the mode or 0. */
unsigned pt_mode_parse(const char *name);

/* Allocate an empty root table.  0 or -K_ENOMEM/-K_EINVAL. */
int pt_create(struct pt *pt, unsigned mode);
/* Free every table frame (not the frames the leaves point at). */
void pt_destroy(struct pt *pt);

/*
 * Map [va, va+len) to [pa, pa+len) with leaves of page_size (PT_SIZE_4K,
 * 2M or 1G), perm a set of PTE_R/W/X/U/G (not W without R).  va, pa and len
 * must be multiples of page_size, va canonical for the mode.  Any existing
 * valid leaf or table in the range: -K_EEXIST and nothing changed.
 */
int pt_map(struct pt *pt, vaddr_t va, paddr_t pa, uint64_t len,
	   unsigned perm, uint64_t page_size);

/* Remove every leaf in [va, va+len).  A leaf that sticks out of the range:
 * -K_EINVAL and nothing changed.  Unmapped holes are fine.  Empty tables
 * below the root are freed. */
int pt_unmap(struct pt *pt, vaddr_t va, uint64_t len);

/* Set the permissions of every leaf in [va, va+len); the whole range must
 * be mapped by leaves inside it, else -K_EINVAL/-K_ENOENT, nothing changed. */
int pt_protect(struct pt *pt, vaddr_t va, uint64_t len, unsigned perm);

/* The leaf mapping va, if any. */
struct pt_leaf {
	vaddr_t va;		/* start of the leaf */
	paddr_t pa;		/* start of its frame block */
	uint64_t size;		/* 4K, 2M, 1G (or 512G/256T leaves made elsewhere) */
	unsigned perm;		/* PTE_R/W/X/U/G */
};
/* 0 and the leaf, -K_ENOENT when unmapped, -K_EINVAL for a non-canonical va. */
int pt_lookup(const struct pt *pt, vaddr_t va, struct pt_leaf *leaf);

/*
 * The first leaf that overlaps [va, last] (inclusive; one canonical half),
 * skipping empty subtrees: 0 and the leaf, or -K_ENOENT.  Iterates a range
 * whose mappings are sparse (e.g. to free the frames of a lazy region).
 */
int pt_next_leaf(const struct pt *pt, vaddr_t va, vaddr_t last, struct pt_leaf *leaf);

#endif /* K23_PT_H */
