/*
 * spinlock.h - test-and-test-and-set spinlocks on C11 atomics.
 *
 * A lock that may also be taken from a trap or interrupt handler must be
 * taken with the irqsave variants, so that an interrupt on the same hart
 * cannot spin forever on a lock its own hart holds.  The irqsave variants
 * are cheap: hal_irq_save() is a per-hart flag on every platform (hal.h).
 */
#ifndef K23_SPINLOCK_H
#define K23_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include "hal.h"
#include "klib.h"

struct spinlock {
	atomic_uint locked;	/* 0 free, 1 held */
};

#define SPINLOCK_INIT	{ 0 }

static inline void spin_init(struct spinlock *l)
{
	atomic_init(&l->locked, 0);
}

/* Take the lock if it is free; true if taken. */
static inline bool spin_trylock(struct spinlock *l)
{
	return !atomic_exchange_explicit(&l->locked, 1, memory_order_acquire);
}

/* Spin until the lock is ours.  Waiters read, not write, the lock word,
 * so the holder's cache line is not stolen on every spin. */
static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l)) {
		while (atomic_load_explicit(&l->locked, memory_order_relaxed))
			cpu_relax();
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/* Disable interrupts on this hart, then take the lock; returns the
 * previous interrupt state for spin_unlock_irqrestore(). */
static inline hal_irqstate_t spin_lock_irqsave(struct spinlock *l)
{
	hal_irqstate_t s = hal_irq_save();

	spin_lock(l);
	return s;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, hal_irqstate_t s)
{
	spin_unlock(l);
	hal_irq_restore(s);
}

#endif /* K23_SPINLOCK_H */
