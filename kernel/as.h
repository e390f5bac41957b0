/*
 * as.h - address spaces: a page table, an ASID, the window through which
 * the kernel reaches the space, and the regions whose pages are allocated
 * on first touch.  The page-fault handler of kernel_trap() lands here.
 */
#ifndef K23_AS_H
#define K23_AS_H

#include <stdbool.h>
#include <stdint.h>
#include "hal.h"
#include "pt.h"

struct as;

/*
 * Called for a fault the space cannot resolve itself (outside any lazy
 * region, or a permission fault).  Return true after changing tf (e.g.
 * redirecting pc) to resume; false to panic.
 */
typedef bool (*as_fault_fn)(struct as *as, struct trap_frame *tf, void *arg);

/* New empty space with the boot paging mode (or an explicit one). */
int as_create(struct as **out, unsigned mode);
/* Unmap everything, free the frames it owns and its tables, release the ASID. */
void as_destroy(struct as *as);

uint16_t as_asid(const struct as *as);
struct pt *as_pt(struct as *as);
/* Host/kernel address of guest va (window + va); valid below as_limit(). */
void *as_ptr(const struct as *as, vaddr_t va);
vaddr_t as_limit(const struct as *as);

/* pt_map + flush, for frames the caller owns. */
int as_map(struct as *as, vaddr_t va, paddr_t pa, uint64_t len, unsigned perm,
	   uint64_t page_size);
int as_unmap(struct as *as, vaddr_t va, uint64_t len);
int as_protect(struct as *as, vaddr_t va, uint64_t len, unsigned perm);

/*
 * Reserve [va, va+len) for lazy allocation: the first access to a page
 * maps fresh zeroed frames (owned by the space) with perm and resumes;
 * to the whole aligned AS_LAZY_GROUP around the page that the region
 * holds, so that memory touched page by page faults once per group, and
 * so that the hosted MMU, which needs a host mapping per run of
 * consecutive frames, cannot be driven past the host's limit on mappings
 * (vm.max_map_count, 65530 by default) by a guest touching one page in
 * every few: at most one run per 2 MiB, 32,768 for the largest RAM.
 */
#define AS_LAZY_GROUP	(2u << 20)
int as_reserve_lazy(struct as *as, vaddr_t va, uint64_t len, unsigned perm);

void as_set_fault_handler(struct as *as, as_fault_fn fn, void *arg);

/* Page-fault trap for this space; from kernel_trap().  true: resolved. */
bool as_handle_fault(struct trap_frame *tf);

/* Look up the space registered for an ASID (NULL if none). */
struct as *as_by_asid(uint16_t asid);

#endif /* K23_AS_H */
