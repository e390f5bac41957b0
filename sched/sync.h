/*
 * sync.h - blocking synchronisation between tasks: wait queues, a mutex
 * and a counting semaphore.  Each blocks the task, never the hart: the
 * hart runs other tasks meanwhile.  Wake-ups are first come, first served.
 */
#ifndef K23_SCHED_SYNC_H
#define K23_SCHED_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include "../kernel/spinlock.h"
#include "sched.h"

/* -- Wait queues --------------------------------------------------------- */

struct sched_waiter;

/*
 * Tasks waiting for a condition that a spinlock of the caller's guards
 * (the pattern of a condition variable).  Every call below needs that
 * lock held, taken with spin_lock_irqsave().
 */
struct sched_waitq {
	struct sched_waiter *head, *tail;
};

#define SCHED_WAITQ_INIT	{ NULL, NULL }

void sched_waitq_init(struct sched_waitq *wq);

/*
 * Block the calling task on wq: releases lock while blocked and holds it
 * again on return (interrupts still disabled).  Returns after a wake-up;
 * the caller re-checks its condition.
 */
void sched_waitq_wait(struct sched_waitq *wq, struct spinlock *lock);

/* Wake the longest waiting task; false if none was waiting. */
bool sched_waitq_wake_one(struct sched_waitq *wq);
/* Wake every waiting task; returns how many. */
unsigned sched_waitq_wake_all(struct sched_waitq *wq);
bool sched_waitq_empty(const struct sched_waitq *wq);

/* -- Mutex --------------------------------------------------------------- */

/*
 * A sleeping lock owned by a task.  Unlock hands the mutex to the longest
 * waiter, so waiters are served in order.  Unlocking a mutex the caller
 * does not own, or locking one it owns, panics naming both tasks.
 */
struct sched_mutex {
	struct spinlock lock;
	struct sched_task *owner;	/* NULL: free */
	struct sched_waitq waiters;
};

#define SCHED_MUTEX_INIT	{ SPINLOCK_INIT, NULL, SCHED_WAITQ_INIT }

void sched_mutex_init(struct sched_mutex *m);
void sched_mutex_lock(struct sched_mutex *m);
bool sched_mutex_trylock(struct sched_mutex *m);
void sched_mutex_unlock(struct sched_mutex *m);

/* -- Semaphore ----------------------------------------------------------- */

struct sched_sem {
	struct spinlock lock;
	uint64_t count;
	struct sched_waitq waiters;
};

void sched_sem_init(struct sched_sem *s, uint64_t count);
/* Take one unit, blocking while there is none. */
void sched_sem_down(struct sched_sem *s);
bool sched_sem_trydown(struct sched_sem *s);
/* Give one unit back, waking one waiter. */
void sched_sem_up(struct sched_sem *s);

#endif /* K23_SCHED_SYNC_H */
