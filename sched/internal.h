/*
 * internal.h - what the files of sched/ share and nothing else sees: the
 * task record, the per-hart state and the blocking primitives.
 *
 * Locking (INV-SCHED-*):
 * INV-SCHED-1  A hart's lock guards its run queue, its sleeper heap, its
 *              timer state and the switch handoff (prev, requeue).  It is
 *              taken with interrupts disabled, and a context switch
 *              happens with the switching hart's lock held; the context
 *              that resumes releases it (finish_switch).  So a task found
 *              in a run queue is always completely switched out.
 * INV-SCHED-2  Lock order: an object's lock (wait queue owner, join lock,
 *              channel), then a hart lock.  Never two hart locks at once,
 *              except a thief's trylock of its victim while holding none.
 * INV-SCHED-3  A BLOCKED task's hart never changes, and a waker takes that
 *              hart's lock before queueing it, which the blocking task
 *              holds from before it became BLOCKED until it is switched
 *              out: a task is never queued while it still runs.
 * INV-SCHED-4  A DONE task stays on its stack until its hart has switched
 *              away; on_cpu says when, and the joiner waits for it before
 *              reusing the stack.
 */
#ifndef K23_SCHED_INTERNAL_H
#define K23_SCHED_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "../kernel/spinlock.h"
#include "ctx.h"
#include "san.h"
#include "sched.h"
#include "sync.h"

enum task_state {
	TASK_RUNNABLE,		/* running, or in a run queue */
	TASK_BLOCKED,		/* on a wait queue or a sleeper heap */
	TASK_DONE,		/* exited, not joined yet */
	TASK_FREE,		/* joined; the record waits for reuse */
};

struct sched_task {
	struct sched_ctx ctx;		/* saved sp while switched out */
	struct sched_task *next;	/* run queue link (hart lock) */
	atomic_uint state;		/* enum task_state */
	atomic_bool on_cpu;		/* a hart is still on its stack */
	unsigned hart;			/* the hart it runs or last ran on */
	bool pinned;
	bool idle;			/* a hart's idle loop, not a task */
	_Atomic uint64_t id;		/* unique; read by stale-handle checks */
	_Atomic uint64_t join_key;	/* id until a joiner claims it: JOIN_TAKEN */
	char name[SCHED_NAME_MAX];
	sched_fn fn;
	void *arg;
	intptr_t exit_value;		/* join_lock */
	struct spinlock join_lock;
	struct sched_waitq joinq;	/* join_lock */
	/* Sleeping (its hart's lock): a pairing heap of deadlines. */
	uint64_t deadline;
	struct sched_task *heap_child, *heap_next;
	void *tls[SCHED_TLS_SLOTS];
	void *stack_base;		/* NULL: not a stack of ours */
	unsigned stack_order;
	atomic_uchar *_Atomic yield_flag;	/* sched_set_yield_flag(); the tick sets it */
	struct san_ctx san;
};

/* join_key once a joiner has claimed the task: never an id. */
#define JOIN_TAKEN	UINT64_MAX

#define SCHED_STACK_BYTES(order)	((size_t)HAL_PAGE_SIZE << (order))

struct sched_waiter {
	struct sched_waiter *next;
	struct sched_task *task;
};

struct sched_hart {
	struct sched_hart_flags flags;	/* first: sched_should_yield() */
	unsigned id;
	struct spinlock lock;		/* INV-SCHED-1 */
	struct sched_task *rq_head, *rq_tail;
	atomic_uint nr_queued;		/* read without the lock as hints */
	atomic_uint nr_stealable;	/* queued and not pinned */
	struct sched_task *current;	/* this hart only */
	atomic_bool in_idle;		/* current is the idle loop (a hint for kick) */
	atomic_bool soft_seen;		/* an IPI came since the idle loop last looked */
	struct sched_task *prev;	/* the context being switched away from */
	bool requeue;			/* prev goes back to the run queue */
	struct sched_task idle;		/* the idle loop's context */
	struct sched_task *sleepers;	/* heap root: earliest deadline */
	uint64_t timer_armed;		/* last deadline given to hal_timer_set */
	_Atomic uint64_t tick_deadline;	/* HAL_TIMER_OFF: no tick wanted */
	uint64_t next_id;
	uintptr_t boot_sp;		/* the boot stack's sp on entering sched (sched_stack_low) */
	struct {
		_Atomic uint64_t switches, steals, idle_waits, preempts, spawned, joined;
	} stats;
} __attribute__((aligned(64)));

/* sched.c: make a BLOCKED task runnable on its hart (INV-SCHED-3).  The
 * caller holds the lock the task blocked under. */
void sched_wake(struct sched_task *t);
/* sched.c: block the calling task; its state is already BLOCKED, h is its
 * hart, whose lock is held.  Returns with no hart lock held. */
void sched_block_locked(struct sched_hart *h, struct sched_task *self);
/* sched.c: the calling hart's state and the task it runs. */
struct sched_hart *sched_this_hart(void);
/* sched.c: "'name' (#id)" of the calling context, for messages. */
const char *sched_current_name(void);

/* timer.c: the sleeper heap, ordered by deadline. */
void sched_timerq_insert(struct sched_task **root, struct sched_task *t);
struct sched_task *sched_timerq_pop(struct sched_task **root);

#endif /* K23_SCHED_INTERNAL_H */
