/*
 * hal.h - the platform interface: the whole contract between the portable
 * kernel (kernel/, sched/, jit/, wasi/) and a platform (hosted/ on Linux,
 * metal/ on bare RISC-V).  Nothing else in a platform is visible to the
 * kernel, and nothing else in the kernel is visible to a platform.
 *
 * Vocabulary follows the RISC-V privileged spec: a hart is a hardware
 * thread, satp selects the root page table, sfence.vma flushes translations,
 * scause/stval describe a trap.
 */
#ifndef K23_HAL_H
#define K23_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;	/* physical (hosted: memfd offset + HAL_PHYS_BASE) */
typedef uint64_t vaddr_t;	/* guest virtual, as the page tables see it */

#define HAL_MAX_HARTS 64
#define HAL_PAGE_SIZE 4096u

/* -- Boot ---------------------------------------------------------------- */

/* What the platform tells the kernel at boot (hart 0 only). */
struct hal_boot_info {
	unsigned paging_mode;		/* PT_SV39/48/57 (kernel/pt.h) */
	const char *log_filter;		/* "mm=debug,sched=info" or NULL */
	bool selfcheck;			/* run the boot self-check first */
	bool quiet;			/* no banner */
	/*
	 * What hart 0 runs once the kernel is up, on the boot stack, with
	 * interrupts enabled.  Its return value is the kernel's exit status
	 * (NULL: nothing, status 0).
	 */
	int (*init)(void *arg);
	void *init_arg;
};

/*
 * Kernel entry points, implemented by kernel/boot.c and called by the
 * platform.  Hart 0 enters kernel_boot() and returns the init function's
 * status when the kernel is done (the platform then shuts down); every
 * other hart enters kernel_hart_entry() after hal_hart_start() and never
 * returns.
 */
int kernel_boot(const struct hal_boot_info *info);
_Noreturn void kernel_hart_entry(unsigned hartid, uintptr_t opaque);

/* -- Harts --------------------------------------------------------------- */

unsigned hal_hart_count(void);		/* harts the platform has */
unsigned hal_hart_id(void);		/* the calling hart, 0..count-1 */

/* One pointer of per-hart kernel state (tp on RISC-V). */
void *hal_hart_local(void);
void hal_hart_set_local(void *p);

/*
 * Start a stopped hart at kernel_hart_entry(hartid, opaque), like SBI
 * hart_start.  Returns 0, or -K_EINVAL for a bad or already started hart
 * (-K_ENOMEM if the platform found no memory for what the hart needs).
 */
int hal_hart_start(unsigned hartid, uintptr_t opaque);

/*
 * Wait for an interrupt (wfi).  Called with interrupts disabled; returns
 * with them disabled after any interrupt that arrived has been delivered
 * through kernel_trap().  Never sleeps through an interrupt that became
 * pending before the call.
 */
void hal_idle(void);

/*
 * Raise a software interrupt (IPI) on a hart; may target the caller.  The
 * hart takes at least one software interrupt after the call; IPIs sent
 * before it takes one may be merged into it (sip.SSIP is one bit).
 */
void hal_ipi_send(unsigned hartid);

/* Stop the whole machine with an exit status (SBI system reset). */
_Noreturn void hal_shutdown(int status);

/* -- Interrupts ---------------------------------------------------------- */

/*
 * sstatus.SIE for the calling hart.  Disabling holds asynchronous
 * interrupts (timer, IPI) pending until re-enabled; synchronous traps
 * (faults, illegal instructions) are never masked.  Cheap enough for hot
 * paths: a per-hart flag on every platform.
 */
typedef unsigned long hal_irqstate_t;
hal_irqstate_t hal_irq_save(void);	/* disable, return previous state */
void hal_irq_restore(hal_irqstate_t s);
void hal_irq_enable(void);
bool hal_irq_enabled(void);

/*
 * Arm this hart's timer to interrupt at an absolute monotonic time in ns
 * (stimecmp).  One deadline per hart; a new call replaces it;
 * HAL_TIMER_OFF cancels.  A deadline in the past fires at once.
 */
#define HAL_TIMER_OFF UINT64_MAX
void hal_timer_set(uint64_t deadline_ns);

/* -- Traps --------------------------------------------------------------- */

/* scause values (RISC-V privileged spec, "Supervisor Cause Register"). */
#define TRAP_INTERRUPT		(1ull << 63)
#define TRAP_IRQ_SOFT		(TRAP_INTERRUPT | 1)
#define TRAP_IRQ_TIMER		(TRAP_INTERRUPT | 5)
#define TRAP_IRQ_EXTERNAL	(TRAP_INTERRUPT | 9)
#define TRAP_INSN_MISALIGNED	0
#define TRAP_INSN_ACCESS	1
#define TRAP_ILLEGAL_INSN	2
#define TRAP_BREAKPOINT		3
#define TRAP_LOAD_MISALIGNED	4
#define TRAP_LOAD_ACCESS	5
#define TRAP_STORE_MISALIGNED	6
#define TRAP_STORE_ACCESS	7
#define TRAP_INSN_PAGE_FAULT	12
#define TRAP_LOAD_PAGE_FAULT	13
#define TRAP_STORE_PAGE_FAULT	15

/*
 * The state of the interrupted context.  The kernel may change pc (redirect,
 * e.g. to a wasm trap exit), sp and the two argument registers before
 * returning from kernel_trap(); the platform then resumes with them.
 */
struct trap_frame {
	uint64_t cause;		/* scause */
	uint64_t tval;		/* stval: guest virtual address for page faults */
	uint16_t asid;		/* address space of a page fault (HAL_ASID_NONE: none) */
	uintptr_t pc;		/* sepc */
	uintptr_t sp;
	uintptr_t fp;
	uintptr_t arg0;		/* first argument register (a0, rdi, x0) */
	uintptr_t arg1;		/* second argument register (a1, rsi, x1) */
	void *platform;		/* platform context (hosted: ucontext_t) */
};

/*
 * The kernel's single trap entry (kernel/trap.c).  Called by the platform
 * for every trap, with interrupts disabled on this hart.  Returning resumes
 * the frame; a trap the kernel cannot handle panics.
 */
void kernel_trap(struct trap_frame *tf);

/* -- MMU ----------------------------------------------------------------- */

#define HAL_ASID_NONE	0xffffu
#define HAL_ASID_ALL	0xfffeu
#define HAL_ASID_MAX	0xfffdu

/*
 * Register an address space with the MMU: root table, satp MODE and ASID.
 * *window receives the address at which the kernel sees guest virtual
 * address 0 of this space, whichever space satp selects (hosted: vm_sim's
 * host window; metal: a slot of the kernel's upper half whose root entries
 * mirror the space's).  Returns 0 or -K_ENOMEM/-K_EINVAL.
 */
int hal_mmu_attach(uint16_t asid, paddr_t root, unsigned mode, uintptr_t *window);
void hal_mmu_detach(uint16_t asid);
/* Guest virtual addresses [0, limit) of a space are reachable through its window. */
vaddr_t hal_mmu_window_limit(unsigned mode);

/* satp write for the calling hart. */
void hal_mmu_activate(uint16_t asid);

/*
 * sfence.vma: make page-table changes in [va, va+len) of one space (or of
 * every space with HAL_ASID_ALL) visible.  len == 0 means the whole space.
 * Until this call, the previous translation may stay in effect.
 */
void hal_mmu_flush(uint16_t asid, vaddr_t va, uint64_t len);

/* -- Physical memory ----------------------------------------------------- */

struct hal_mem_region {
	paddr_t base;
	uint64_t size;
};

/* The RAM regions, page aligned, sorted, not overlapping. */
size_t hal_mem_regions(const struct hal_mem_region **regions);

/* The kernel's direct map of all RAM. */
void *hal_phys_to_virt(paddr_t pa);
paddr_t hal_virt_to_phys(const void *va);

/* -- Code memory --------------------------------------------------------- */

/*
 * Memory for generated code.  A range is either writable or executable,
 * never both (W^X): write, then hal_code_seal() to make it executable and
 * synchronise the instruction cache (fence.i).
 */
void *hal_code_alloc(size_t len);
int hal_code_seal(void *code, size_t len);
int hal_code_unseal(void *code, size_t len);
void hal_code_free(void *code, size_t len);

/* -- CPU ----------------------------------------------------------------- */

/*
 * What the harts can execute beyond the base ISA, for the JIT: a mask of
 * HAL_CPU_* bits of the platform's architecture, the same on every hart.
 */
#define HAL_CPU_X86_SSE41	(1u << 0)	/* roundss/roundsd */
#define HAL_CPU_X86_POPCNT	(1u << 1)
#define HAL_CPU_X86_LZCNT	(1u << 2)
#define HAL_CPU_X86_BMI1	(1u << 3)	/* tzcnt */
#define HAL_CPU_X86_BMI2	(1u << 4)	/* shlx/shrx/sarx */
uint64_t hal_cpu_features(void);

/* -- Devices ------------------------------------------------------------- */

void hal_console_write(const char *s, size_t len);
uint64_t hal_time_mono_ns(void);	/* since an arbitrary start */
uint64_t hal_time_wall_ns(void);	/* since the Unix epoch */
void hal_entropy(void *buf, size_t len);

/* -- Debug --------------------------------------------------------------- */

/* Print a backtrace of the caller, through any trap frames below it. */
void hal_backtrace(void);

#endif /* K23_HAL_H */
