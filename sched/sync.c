/*
 * sync.c - wait queues, the task mutex and the semaphore (sync.h).
 */
#include "../kernel/klib.h"
#include "internal.h"

/* -- Wait queues ------------------------------------------------------------ */

void sched_waitq_init(struct sched_waitq *wq)
{
	wq->head = wq->tail = NULL;
}

bool sched_waitq_empty(const struct sched_waitq *wq)
{
	return wq->head == NULL;
}

void sched_waitq_wait(struct sched_waitq *wq, struct spinlock *lock)
{
	struct sched_hart *h = sched_this_hart();
	struct sched_task *self = h->current;
	/* Lives on the waiting task's stack until a waker unlinks it. */
	struct sched_waiter w = { .next = NULL, .task = self };

	if (self->idle)
		k23_panic("sched_waitq_wait: hart %u's idle loop cannot block", h->id);
	if (wq->tail)
		wq->tail->next = &w;
	else
		wq->head = &w;
	wq->tail = &w;
	/* INV-SCHED-3: BLOCKED only under our hart's lock, which stays held
	 * until we are switched out. */
	spin_lock(&h->lock);
	atomic_store_explicit(&self->state, TASK_BLOCKED, memory_order_relaxed);
	spin_unlock(lock);
	sched_block_locked(h, self);
	spin_lock(lock);
}

bool sched_waitq_wake_one(struct sched_waitq *wq)
{
	struct sched_waiter *w = wq->head;

	if (!w)
		return false;
	wq->head = w->next;
	if (!wq->head)
		wq->tail = NULL;
	sched_wake(w->task);
	return true;
}

unsigned sched_waitq_wake_all(struct sched_waitq *wq)
{
	unsigned n = 0;

	while (sched_waitq_wake_one(wq))
		n++;
	return n;
}

/* -- Mutex ------------------------------------------------------------------ */

void sched_mutex_init(struct sched_mutex *m)
{
	spin_init(&m->lock);
	m->owner = NULL;
	sched_waitq_init(&m->waiters);
}

static struct sched_task *mutex_caller(const char *what)
{
	struct sched_hart *h = sched_this_hart();

	if (h->current->idle)
		k23_panic("%s: hart %u's idle loop cannot own a mutex", what, h->id);
	return h->current;
}

void sched_mutex_lock(struct sched_mutex *m)
{
	struct sched_task *self = mutex_caller("sched_mutex_lock");
	hal_irqstate_t s = spin_lock_irqsave(&m->lock);

	if (m->owner == self)
		k23_panic("sched_mutex_lock: task '%s' locks mutex %p it already holds",
			  self->name, (void *)m);
	/* Unlock hands the mutex over to the first waiter, so waking means
	 * owning, unless another task won it first. */
	while (m->owner && m->owner != self)
		sched_waitq_wait(&m->waiters, &m->lock);
	m->owner = self;
	spin_unlock_irqrestore(&m->lock, s);
}

bool sched_mutex_trylock(struct sched_mutex *m)
{
	struct sched_task *self = mutex_caller("sched_mutex_trylock");
	hal_irqstate_t s = spin_lock_irqsave(&m->lock);
	bool got = !m->owner;

	if (got)
		m->owner = self;
	spin_unlock_irqrestore(&m->lock, s);
	return got;
}

void sched_mutex_unlock(struct sched_mutex *m)
{
	struct sched_task *self = mutex_caller("sched_mutex_unlock");
	hal_irqstate_t s = spin_lock_irqsave(&m->lock);
	struct sched_waiter *first = m->waiters.head;

	if (m->owner != self)
		k23_panic("sched_mutex_unlock: task '%s' unlocks mutex %p held by '%s'",
			  self->name, (void *)m, m->owner ? m->owner->name : "nobody");
	m->owner = first ? first->task : NULL;
	sched_waitq_wake_one(&m->waiters);
	spin_unlock_irqrestore(&m->lock, s);
}

/* -- Semaphore -------------------------------------------------------------- */

void sched_sem_init(struct sched_sem *s, uint64_t count)
{
	spin_init(&s->lock);
	s->count = count;
	sched_waitq_init(&s->waiters);
}

void sched_sem_down(struct sched_sem *s)
{
	hal_irqstate_t irq = spin_lock_irqsave(&s->lock);

	while (s->count == 0)
		sched_waitq_wait(&s->waiters, &s->lock);
	s->count--;
	spin_unlock_irqrestore(&s->lock, irq);
}

bool sched_sem_trydown(struct sched_sem *s)
{
	hal_irqstate_t irq = spin_lock_irqsave(&s->lock);
	bool got = s->count > 0;

	if (got)
		s->count--;
	spin_unlock_irqrestore(&s->lock, irq);
	return got;
}

void sched_sem_up(struct sched_sem *s)
{
	hal_irqstate_t irq = spin_lock_irqsave(&s->lock);

	s->count++;
	sched_waitq_wake_one(&s->waiters);
	spin_unlock_irqrestore(&s->lock, irq);
}
