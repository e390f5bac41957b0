/*
 * sched.h - tasks: kernel threads with stacks of their own, multiplexed
 * over the harts (M:N).
 *
 * Each hart has a run queue; a task that blocks switches straight to the
 * next task of its hart, or to the hart's idle loop, which steals from
 * other harts, watches for new work for a few microseconds and then waits
 * for an interrupt (hal_idle()).  Each hart keeps the deadlines of its
 * sleeping tasks in a heap and arms its timer for the earliest; while a
 * hart runs a task and others wait for it, its timer also ticks every
 * SCHED_TICK_NS, and a tick that finds them still waiting sets the hart's
 * preemption flag, which long-running code polls with sched_should_yield().
 *
 * Blocking calls (join, sleep, sched_waitq_wait and what is built on it)
 * may only be made by a task, never by an interrupt handler or a hart's
 * idle loop.  Stacks: see sched/stack.h.
 */
#ifndef K23_SCHED_H
#define K23_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../kernel/hal.h"

#define SCHED_NAME_MAX		24		/* task names, NUL included */
#define SCHED_TLS_SLOTS		8		/* task-local storage keys */
#define SCHED_STACK_MIN		4096u		/* one page */
#define SCHED_STACK_DEFAULT	(16u << 10)
#define SCHED_STACK_MAX		(8u << 20)
#define SCHED_TICK_NS		1000000ull	/* preemption tick while busy */

struct sched_task;

/*
 * A task handle: the task and the id it had when spawned.  Handles are
 * values; a handle whose task has been joined is stale, and every call
 * taking one detects that (the task's memory is never returned, only
 * reused by later tasks with other ids).
 */
typedef struct {
	struct sched_task *task;
	uint64_t id;
} sched_task_t;

typedef intptr_t (*sched_fn)(void *arg);

struct sched_attr {
	const char *name;	/* copied (truncated); NULL: "task" */
	size_t stack_size;	/* bytes; 0: SCHED_STACK_DEFAULT.  Rounded up to a
				 * power-of-two number of pages, at most
				 * SCHED_STACK_MAX; the task's own record takes
				 * a few hundred bytes at its top */
	int hart;		/* first hart to run on; -1: the spawning hart */
	bool pinned;		/* never migrate away from that hart */
};

/* -- Boot ---------------------------------------------------------------- */

/*
 * Hart 0, at boot, before the other harts are started: set up every hart's
 * scheduler state and turn the calling context into the task "init",
 * pinned to hart 0.  idle_poll (may be NULL) is called by every hart's idle
 * loop, with interrupts enabled, before it considers waiting; it returns
 * true if it did some work.  0 or -K_ENOMEM.
 */
int sched_init(bool (*idle_poll)(void));

/*
 * Every hart but 0, once started (kernel_hart_entry): become this hart's
 * idle loop, running tasks until the machine stops.
 */
_Noreturn void sched_hart_run(void);

/* Interrupt entries, from kernel_trap() with interrupts disabled.  Both
 * ignore interrupts that arrive before sched_init(). */
void sched_irq_timer(void);
void sched_irq_soft(void);

/*
 * Deterministic mode, for tests that must replay exactly: every task runs
 * on hart 0, the clock (sched_now) is virtual and moves only when every
 * task is blocked, jumping to the next deadline; where the order is free
 * (which runnable task runs next) a generator seeded with seed chooses.
 * There is no timer tick, so sched_should_yield() stays false.  A state
 * where all tasks are blocked and no deadline is pending panics (deadlock).
 * Only from init while no other task exists (all joined): else -K_EBUSY.
 * Calling it again restarts the clock at 0 and reseeds, so one test can
 * replay a scenario.
 */
int sched_deterministic(uint64_t seed);

/* -- Tasks --------------------------------------------------------------- */

/*
 * Start fn(arg) as a new task; its return value is its exit value.
 * attr may be NULL for the defaults.  0 and *out, -K_ENOMEM (no stack or
 * stack limit reached, see sched/stack.h) or -K_EINVAL (bad stack size or
 * hart).  May be called from any task or from a hart's idle loop.
 */
int sched_spawn(sched_task_t *out, sched_fn fn, void *arg,
		const struct sched_attr *attr);

/*
 * Wait for t to finish and return its exit value in *value (may be NULL);
 * t's stack and record are then reused.  Every task must be joined exactly
 * once: a second join (also one racing the first, from another hart), a
 * stale handle or a task joining itself panics, naming the task (only by
 * its id once its record has been reused).
 */
void sched_join(sched_task_t t, intptr_t *value);

/* End the calling task with an exit value (as if fn returned it). */
_Noreturn void sched_exit(intptr_t value);

/* Let the other runnable tasks of this hart run first. */
void sched_task_yield(void);

/* The calling task (from a hart's idle loop: a handle with task NULL). */
sched_task_t sched_self(void);
uint64_t sched_task_id(sched_task_t t);
const char *sched_task_name(sched_task_t t);

/* -- Time ---------------------------------------------------------------- */

/* Monotonic ns: hal_time_mono_ns(), or the virtual clock (deterministic). */
uint64_t sched_now(void);

/* Block until sched_now() >= deadline_ns (woken within the timer's
 * resolution; the task may run later if its hart is busy). */
void sched_sleep_until(uint64_t deadline_ns);
void sched_sleep(uint64_t ns);

/* -- Preemption ---------------------------------------------------------- */

/* The first member of every hart's scheduler state (hal_hart_local()). */
struct sched_hart_flags {
	atomic_uchar resched;	/* set by the tick: yield when convenient */
};

/*
 * Should the caller yield?  One load of a flag of the current hart (found
 * through hal_hart_local(): tp on RISC-V, a thread-local hosted), set by
 * its timer tick when other tasks are waiting for it and cleared when the
 * hart switches tasks.  For loops that never block.  After sched_init().
 */
static inline bool sched_should_yield(void)
{
	const struct sched_hart_flags *f = hal_hart_local();

	return atomic_load_explicit(&f->resched, memory_order_relaxed) != 0;
}

/*
 * Register a byte for the timer tick to set to 1 whenever it sets the
 * hart's preemption flag while the calling task runs (NULL: none), for
 * code that polls a flag of its own rather than sched_should_yield():
 * compiled wasm polls one byte of its store (jit/), and its runtime clears
 * the byte and calls sched_task_yield().  The byte stays registered, and
 * must stay valid, until the task registers another or NULL.
 */
void sched_set_yield_flag(atomic_uchar *flag);

/* -- Stacks -------------------------------------------------------------- */

/*
 * The lowest address of the calling task's stack it may use (the guard
 * page is below), for code that bounds its own depth (the JIT's stack
 * limit).  A task of sched_spawn(): its stack's base.  init and the
 * harts' idle loops run on the boot stacks the platform gave the harts,
 * whose bounds sched is not told: there it is the stack pointer the hart
 * had when it entered the scheduler (sched_init, sched_hart_run) minus
 * SCHED_BOOT_STACK_USABLE, which every platform provides below that point
 * (hosted: hart 0 runs on the process's main stack, 8 MiB unless
 * `ulimit -s` says otherwise, the other harts on 1 MiB thread stacks).
 */
#define SCHED_BOOT_STACK_USABLE	(512u << 10)
uintptr_t sched_stack_low(void);

/* -- Task-local storage -------------------------------------------------- */

/*
 * A key for one pointer-sized slot in every task, NULL in new tasks.
 * 0 and *key, or -K_ENOMEM once SCHED_TLS_SLOTS keys exist.
 */
int sched_tls_key_create(unsigned *key);
void *sched_tls_get(unsigned key);
void sched_tls_set(unsigned key, void *value);

/* -- Statistics ---------------------------------------------------------- */

struct sched_stats {
	uint64_t switches;	/* context switches on this hart */
	uint64_t steals;	/* tasks this hart took from others */
	uint64_t idle_waits;	/* times the idle loop waited (hal_idle) */
	uint64_t preempts;	/* ticks that set the preemption flag */
	uint64_t spawned;	/* tasks spawned by code on this hart */
};
void sched_stats(unsigned hart, struct sched_stats *st);

#endif /* K23_SCHED_H */
