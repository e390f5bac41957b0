/*
 * metal.h - what the files of the riscv64 platform share.  The portable
 * kernel never includes this; it sees only kernel/hal.h.
 *
 * Memory layout.  The kernel is loaded by QEMU at physical 0x80200000
 * (OpenSBI occupies the 2 MiB below) and linked at METAL_KOFF above it:
 * every physical address pa is reachable at METAL_KOFF + pa (the direct
 * map, gigapages over the first METAL_DIRECT_GB GiB of the physical
 * address space, devices included), and the kernel image is simply part
 * of it.  METAL_KOFF is the lowest address of the upper half in Sv39 and
 * lies in the upper half of Sv48 and Sv57 too, so one link works for every
 * paging mode.  The lower half belongs to address spaces (kernel/as.c);
 * the kernel reaches each space through a window in the upper half
 * (mmu.c).  Generated code lives in METAL_CODE_BASE.., mapped with 4 KiB
 * pages that are writable or executable, never both.
 */
#ifndef K23_METAL_H
#define K23_METAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include "../../kernel/hal.h"
#include "asm.h"
#include "fdt.h"

#define METAL_KOFF		0xffffffc000000000ull
#define METAL_LOAD_PA		0x80200000ull
#define METAL_DIRECT_GB		64u	/* upper-half gigapages 256..319 */
#define METAL_CODE_BASE		(METAL_KOFF + (254ull << 30))	/* gigapage slot 510 */
#define METAL_CODE_PAGES	4096u	/* 16 MiB of code space */

/*
 * Stacks: hart 0's boot stack (asm.h) is also the init task's; the other
 * harts' (their idle loops') are 1 MiB blocks of frames from
 * hal_hart_start(), whose tops entry.S finds in metal_stack_tops.  Both
 * leave sched's SCHED_BOOT_STACK_USABLE below where the scheduler starts.
 */
#define METAL_HART_STACK_ORDER	8
#define METAL_TRAP_STACK_ORDER	(METAL_TRAP_STACK_SHIFT - 12)
extern uintptr_t metal_stack_tops[];

/* Per-hart platform state; tp points at this hart's while it runs. */
struct metal_hart {
	uintptr_t trap_top;		/* top of this hart's trap stack (entry.S) */
	unsigned id;			/* kernel hart number (hal_hart_id) */
	uint64_t hartid;		/* the hart's id for SBI (mhartid) */
	void *local;			/* hal_hart_local() */
	_Atomic uint16_t active_asid;	/* satp's space (0: the kernel's) */
	atomic_uint started;		/* hal_hart_start() was called */
} __attribute__((aligned(64)));

_Static_assert(METAL_MAX_HARTS == HAL_MAX_HARTS, "asm.h");
_Static_assert(offsetof(struct metal_hart, trap_top) == HART_TRAP_TOP, "asm.h");

extern struct metal_hart metal_harts[HAL_MAX_HARTS];
extern unsigned metal_nharts;
extern struct fdt_info metal_fdt;

static inline struct metal_hart *metal_self(void)
{
	struct metal_hart *h;

	__asm__("mv %0, tp" : "=r"(h));
	return h;
}

/* The saved registers of a trapped context, as entry.S lays them out. */
struct metal_regs {
	uint64_t x[32];		/* x[0] holds nothing; x[2] is the trapped sp */
	uint64_t f[32];
	uint64_t sepc, sstatus, fcsr, scause, stval;
	uint64_t pad;
	uint64_t frame_fp, frame_ra;	/* a frame record: backtraces go through */
};
_Static_assert(offsetof(struct metal_regs, sepc) == REGS_SEPC &&
	       offsetof(struct metal_regs, sstatus) == REGS_SSTATUS &&
	       offsetof(struct metal_regs, fcsr) == REGS_FCSR &&
	       offsetof(struct metal_regs, scause) == REGS_SCAUSE &&
	       offsetof(struct metal_regs, stval) == REGS_STVAL &&
	       offsetof(struct metal_regs, frame_fp) == REGS_FRAME_FP &&
	       offsetof(struct metal_regs, frame_ra) == REGS_FRAME_RA, "asm.h offsets");
_Static_assert(sizeof(struct metal_regs) == METAL_REGS_SIZE, "entry.S trap frame layout");
_Static_assert(METAL_REGS_SIZE % 16 == 0, "trap frames keep sp 16-byte aligned");

/* entry.S */
void metal_trap_vector(void);
void metal_secondary_entry(void);
extern char _kernel_start[], _kernel_end[], _text_end[];

/* Called by entry.S on every hart, running in the upper half on the boot
 * page table. */
_Noreturn void metal_start(uint64_t hartid, uint64_t fdt_pa, unsigned id);

/* mmu.c */
void metal_mmu_init(uint64_t ram_end);	/* hart 0: build the kernel tables */
void metal_mmu_enable(unsigned mode);	/* every hart: satp = the kernel's */
unsigned metal_mmu_probe(void);		/* hart 0: best mode the hart takes */
uint16_t metal_fault_translate(uint64_t *va);	/* window address -> guest */
bool metal_readable(uintptr_t va, size_t len);	/* backtraces: no fault */

/* console.c */
void metal_console_init(void);

/* backtrace.c */
void metal_backtrace_from(uintptr_t fp, uintptr_t pc);

/* The program linked into the image (main.c, or the test image's runner):
 * fills in what kernel_boot() runs once the kernel is up. */
void metal_program_setup(struct hal_boot_info *info, const char *bootargs);

#endif /* K23_METAL_H */
