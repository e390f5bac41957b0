/*
 * vmsim.h - the simulated MMU of the hosted platform.
 *
 * Each address space registered with hal_mmu_attach() owns a reserved
 * window of host virtual memory of VMSIM_WINDOW_SIZE bytes that mirrors
 * guest virtual addresses [0, VMSIM_WINDOW_SIZE).  A flush walks the guest
 * page tables over the flushed range and makes the window match them: a
 * valid leaf becomes MAP_FIXED|MAP_SHARED of the RAM memfd at the frame's
 * offset with the leaf's permissions, anything else inaccessible.  Nothing
 * changes in the window between flushes (no implicit coherence).
 *
 * Window size: 256 GiB, the whole lower (user) half of Sv39, in every
 * paging mode.  It holds thirty 8 GiB wasm-memory reservations.  Sv48 and
 * Sv57 spaces are larger than any host reservation could be: their page
 * tables are genuine and the software walker sees every mapping, but a
 * mapping at or above VMSIM_WINDOW_SIZE is not mirrored; flushing it is a
 * no-op and the kernel cannot reach it through the window (as_limit()).
 * A host that cannot reserve 256 GiB per window (valgrind) gets the
 * largest power of two it can, down to 1 GiB: vmsim_window_size().
 */
#ifndef K23_VMSIM_H
#define K23_VMSIM_H

#include <stdbool.h>
#include <stdint.h>
#include "../kernel/hal.h"

#define VMSIM_WINDOW_SIZE	(1ull << 38)

/* RAM: the memfd, its physical base and size, and its direct map.  Also
 * settles the window size. */
int vmsim_init(int memfd, paddr_t base, uint64_t size, void *direct_map);
void vmsim_fini(void);

/* Bytes of guest VA each window mirrors: VMSIM_WINDOW_SIZE, or less (above). */
uint64_t vmsim_window_size(void);

/*
 * A window for a space: 0, or -K_ENOMEM (no slot or no host VA left),
 * -K_EINVAL (bad mode, root outside RAM, ASID already attached).
 */

int vmsim_attach(uint16_t asid, paddr_t root, unsigned mode, uintptr_t *window);
void vmsim_detach(uint16_t asid);
/*
 * sfence.vma (hal_mmu_flush): make the window of asid (every window for
 * HAL_ASID_ALL) show the tables over [va, va+len), len 0 = all of it.
 * Only what differs from what the window shows is remapped: one host call
 * per run of changed pages contiguous in VA and PA with equal protection.
 * Like a hart with Svade, a leaf with A clear is inaccessible and one with
 * D clear read-only.  Bad host state (mmap failing: vm.max_map_count)
 * aborts with a message: the window could no longer be trusted.
 */
void vmsim_flush(uint16_t asid, vaddr_t va, uint64_t len);

/*
 * Async-signal-safe: is host address addr inside a window?  If so, the
 * space's ASID and the guest virtual address.
 */
bool vmsim_fault_lookup(uintptr_t addr, uint16_t *asid, vaddr_t *va);

/* The pure software page walker: the oracle.  Reads the tables through the
 * direct map following the spec's translation algorithm, no state. */
struct vmsim_leaf {
	vaddr_t va;		/* leaf start */
	paddr_t pa;
	uint64_t size;
	unsigned level;		/* 0 = 4 KiB leaf, 1 = 2 MiB, 2 = 1 GiB, ... */
	unsigned perm;		/* PTE_R/W/X/U/G */
};
/* 0 and the leaf, -K_ENOENT when not mapped, -K_EFAULT for a malformed
 * table, -K_EINVAL for a non-canonical va or an unknown mode. */
int vmsim_walk(paddr_t root, unsigned mode, vaddr_t va, struct vmsim_leaf *leaf);

struct vmsim_stats {
	uint64_t flushes;	/* vmsim_flush calls */
	uint64_t mmap_calls;	/* host mmap calls made by flushes */
};
void vmsim_stats(struct vmsim_stats *st);

#endif /* K23_VMSIM_H */
