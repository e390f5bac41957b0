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
	bool zeroed;	/* every byte is 0 at boot (hosted: a new memfd), so
			 * what starts as zeros need not be written, and RAM
			 * nobody uses stays untouched */
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

/*
 * Names of generated code for the platform's profilers (hosted: perf's
 * /tmp/perf-PID.map, when k23sim runs with --perf-map).  Making names
 * costs time, so callers name code only when hal_code_symbols_wanted().
 * name is a NUL-terminated line of text.
 */
bool hal_code_symbols_wanted(void);
void hal_code_symbol(const void *code, size_t len, const char *name);

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

/* -- Files and sockets ---------------------------------------------------- */

/*
 * The platform's file device (hosted: the Linux file system and sockets;
 * metal: virtio later).  A handle (hal_fd_t, >= 0) names an open file,
 * directory, character device or socket of the platform; the kernel's VFS
 * (kernel/vfs.h) builds paths, rights and confinement on top.
 *
 * No call here resolves more than one name: every name is one path
 * component, never empty, never "..", never containing '/', and "." only
 * in hal_fd_open (a new handle to dir itself); no
 * call follows a symbolic link, so the kernel alone decides where a path
 * leads.  Calls return 0 (or a count) or a negative -K_* error.  None
 * blocks on a pipe, terminal or socket: such handles are non-blocking, and
 * -K_EAGAIN says "not ready" (the VFS then waits with hal_fd_poll).
 */
typedef int hal_fd_t;

/* File types, numbered as WASI's filetype so the VFS passes them through. */
enum hal_ftype {
	HAL_FT_UNKNOWN, HAL_FT_BLOCK, HAL_FT_CHAR, HAL_FT_DIR, HAL_FT_FILE,
	HAL_FT_DGRAM, HAL_FT_STREAM, HAL_FT_SYMLINK,
};

struct hal_stat {
	uint64_t dev, ino;
	uint8_t type;			/* enum hal_ftype */
	uint64_t nlink, size;
	uint64_t atime, mtime, ctime;	/* ns since the Unix epoch */
};

/* hal_fd_open flags. */
#define HAL_O_READ	(1u << 0)
#define HAL_O_WRITE	(1u << 1)
#define HAL_O_CREAT	(1u << 2)
#define HAL_O_EXCL	(1u << 3)
#define HAL_O_TRUNC	(1u << 4)
#define HAL_O_DIRECTORY	(1u << 5)	/* fail with -K_ENOTDIR unless a directory */
#define HAL_O_APPEND	(1u << 6)
#define HAL_O_DSYNC	(1u << 7)
#define HAL_O_SYNC	(1u << 8)
#define HAL_O_RSYNC	(1u << 9)
#define HAL_O_PATH	(1u << 10)	/* a handle to walk from or stat, no I/O;
					 * a symlink opens as itself */

/*
 * Open name in directory dir.  Without HAL_O_PATH, a symlink gives
 * -K_ELOOP.  Regular files and directories block as usual; anything
 * else is opened non-blocking.
 */
int hal_fd_open(hal_fd_t dir, const char *name, unsigned flags, hal_fd_t *out);
int hal_fd_close(hal_fd_t fd);
/* A second handle to the same open file (sharing its offset and flags). */
int hal_fd_dup(hal_fd_t fd, hal_fd_t *out);

/* Byte counts, 0 at end of file, or -K_*; -K_EAGAIN when not ready. */
int64_t hal_fd_read(hal_fd_t fd, void *buf, size_t len);
int64_t hal_fd_write(hal_fd_t fd, const void *buf, size_t len);
int64_t hal_fd_pread(hal_fd_t fd, void *buf, size_t len, uint64_t off);
int64_t hal_fd_pwrite(hal_fd_t fd, const void *buf, size_t len, uint64_t off);

/* whence: 0 set, 1 current, 2 end (WASI's order); the new offset. */
int hal_fd_seek(hal_fd_t fd, int64_t off, int whence, uint64_t *pos);
int hal_fd_sync(hal_fd_t fd, bool data_only);
/* advice: WASI's numbering (0 normal .. 5 noreuse). */
int hal_fd_advise(hal_fd_t fd, uint64_t off, uint64_t len, unsigned advice);
int hal_fd_allocate(hal_fd_t fd, uint64_t off, uint64_t len);
int hal_fd_truncate(hal_fd_t fd, uint64_t size);

/* HAL_O_APPEND and HAL_O_SYNC..RSYNC as the handle has them now. */
int hal_fd_get_flags(hal_fd_t fd, unsigned *flags);
/* Only HAL_O_APPEND can be changed (-K_ENOTSUP for the sync flags). */
int hal_fd_set_flags(hal_fd_t fd, unsigned flags);

int hal_fd_stat(hal_fd_t fd, struct hal_stat *st);
/* Of name in dir, not following a symlink. */
int hal_fd_statat(hal_fd_t dir, const char *name, struct hal_stat *st);

/* Times in ns since the epoch; HAL_TIME_OMIT keeps one, HAL_TIME_NOW sets
 * the current time.  name NULL: the handle itself. */
#define HAL_TIME_OMIT	UINT64_MAX
#define HAL_TIME_NOW	(UINT64_MAX - 1)
int hal_fd_set_times(hal_fd_t dir, const char *name, uint64_t atime, uint64_t mtime);

/*
 * Directory entries of dir from position cookie (0: the start, including
 * "." and ".."): calls fn(arg, name, len, ino, type, next cookie) for
 * each until fn returns false or the directory ends.  0 or -K_*.
 */
typedef bool (*hal_dirent_fn)(void *arg, const char *name, size_t len,
			      uint64_t ino, uint8_t type, uint64_t next);
int hal_fd_readdir(hal_fd_t dir, uint64_t cookie, hal_dirent_fn fn, void *arg);

int hal_fd_mkdir(hal_fd_t dir, const char *name);
int hal_fd_rmdir(hal_fd_t dir, const char *name);
int hal_fd_unlink(hal_fd_t dir, const char *name);	/* not a directory */
int hal_fd_rename(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to);
int hal_fd_link(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to);
int hal_fd_symlink(const char *target, hal_fd_t dir, const char *name);
/* The target's length (may exceed len: then truncated); name NULL reads
 * the symlink a HAL_O_PATH handle holds. */
int64_t hal_fd_readlink(hal_fd_t dir, const char *name, char *buf, size_t len);

/* Sockets.  accept gives a non-blocking stream handle. */
int hal_sock_accept(hal_fd_t fd, hal_fd_t *out);
#define HAL_SOCK_PEEK		1u	/* recv flags */
#define HAL_SOCK_WAITALL	2u
int64_t hal_sock_recv(hal_fd_t fd, void *buf, size_t len, unsigned flags);
int64_t hal_sock_send(hal_fd_t fd, const void *buf, size_t len);
#define HAL_SHUT_RD	1u
#define HAL_SHUT_WR	2u
int hal_sock_shutdown(hal_fd_t fd, unsigned how);

/* Whether the handle is a terminal (for isatty-style rights). */
bool hal_fd_isatty(hal_fd_t fd);

/*
 * Readiness: for each of n handles, events HAL_POLL_IN/OUT wanted; fills
 * revents (HAL_POLL_IN/OUT/HUP/ERR).  Returns the number of handles with
 * revents != 0, without waiting.
 */
#define HAL_POLL_IN	1u
#define HAL_POLL_OUT	2u
#define HAL_POLL_HUP	4u
#define HAL_POLL_ERR	8u
struct hal_pollfd {
	hal_fd_t fd;
	uint16_t events, revents;
};
int hal_fd_poll(struct hal_pollfd *fds, size_t n);

/* CPU time of the process and of the calling hart, in ns. */
uint64_t hal_time_process_ns(void);
uint64_t hal_time_thread_ns(void);

/* -- Debug --------------------------------------------------------------- */

/* Print a backtrace of the caller, through any trap frames below it. */
void hal_backtrace(void);

#endif /* K23_HAL_H */
