/*
 * sched.c - tasks, run queues, switching, stealing, idle, sleeping and the
 * tick (sched.h).  Locking rules: internal.h, INV-SCHED-1..4.
 *
 * A switch: the leaving context takes its hart's lock (interrupts off),
 * says what becomes of it (state, and requeue for a yield), picks the next
 * context and switches; the arriving context runs finish_switch(), which
 * queues the one that left if it yielded, marks it off the CPU and drops
 * the lock.  Every place a context can resume - after sched_ctx_switch(),
 * at the start of a new task, at the start of hart 0's idle loop - goes
 * through finish_switch() first.
 */
#include <stdatomic.h>
#include "../kernel/hal.h"
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/log.h"
#include "ctx.h"
#include "internal.h"
#include "stack.h"

#define STAT_INC(h, f) atomic_store_explicit(&(h)->stats.f, \
	atomic_load_explicit(&(h)->stats.f, memory_order_relaxed) + 1, memory_order_relaxed)

/* How long an idle hart watches for work before it sleeps in hal_idle(). */
#define SCHED_IDLE_SPIN_NS	20000ull

/* Hart 0's idle loop runs on a stack of ours (the boot stack is init's). */
#define IDLE_STACK_ORDER	4

static struct sched_hart harts[HAL_MAX_HARTS];
static unsigned nharts;
static bool (*idle_poll_fn)(void);
static atomic_bool sched_ready;
static struct sched_task init_task;
/* Harts waiting in hal_idle(), one bit each: wakers IPI them. */
static _Atomic uint64_t idle_mask;
static atomic_uint tls_keys;

/* Deterministic mode: hart 0 only; the clock and the generator are
 * touched only with hart 0's lock held. */
static atomic_bool det_mode;
static _Atomic uint64_t det_clock;
static uint64_t det_rng;

static inline bool deterministic(void)
{
	return atomic_load_explicit(&det_mode, memory_order_relaxed);
}

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators, scrambled", 2016). */
static uint64_t det_random(void)
{
	det_rng ^= det_rng >> 12;
	det_rng ^= det_rng << 25;
	det_rng ^= det_rng >> 27;
	return det_rng * 0x2545f4914f6cdd1dull;
}

struct sched_hart *sched_this_hart(void)
{
	return hal_hart_local();
}

static inline bool hart_busy(const struct sched_hart *h)
{
	return h->current != &h->idle;
}

/* -- Run queues (hart lock held) ------------------------------------------ */

/* A counter written under a lock and read without it as a hint. */
static inline void counter_add(atomic_uint *c, int d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (unsigned)d,
			      memory_order_relaxed);
}

static void rq_push(struct sched_hart *h, struct sched_task *t)
{
	t->next = NULL;
	if (h->rq_tail)
		h->rq_tail->next = t;
	else
		h->rq_head = t;
	h->rq_tail = t;
	counter_add(&h->nr_queued, 1);
	if (!t->pinned)
		counter_add(&h->nr_stealable, 1);
}

/* Unlink t, which follows prev (NULL: t is the head). */
static void rq_unlink(struct sched_hart *h, struct sched_task *prev, struct sched_task *t)
{
	if (prev)
		prev->next = t->next;
	else
		h->rq_head = t->next;
	if (h->rq_tail == t)
		h->rq_tail = prev;
	t->next = NULL;
	counter_add(&h->nr_queued, -1);
	if (!t->pinned)
		counter_add(&h->nr_stealable, -1);
}

/* The next task to run: the oldest, or in deterministic mode a seeded
 * choice among all queued. */
static struct sched_task *rq_pop(struct sched_hart *h)
{
	struct sched_task *prev = NULL, *t = h->rq_head;
	unsigned n = atomic_load_explicit(&h->nr_queued, memory_order_relaxed);

	if (!t)
		return NULL;
	if (deterministic() && n > 1) {
		for (uint64_t i = det_random() % n; i; i--) {
			prev = t;
			t = t->next;
		}
	}
	rq_unlink(h, prev, t);
	return t;
}

/* -- Timer (own hart, lock held) ------------------------------------------ */

/* Arm the hart's timer for the earliest of its sleepers and its tick. */
static void timer_program(struct sched_hart *h)
{
	uint64_t want = h->sleepers ? h->sleepers->deadline : HAL_TIMER_OFF;
	uint64_t tick = atomic_load_explicit(&h->tick_deadline, memory_order_relaxed);

	if (tick < want)
		want = tick;
	if (want != h->timer_armed) {
		h->timer_armed = want;
		hal_timer_set(want);
	}
}

/* Others wait for this busy hart: make sure a tick will come. */
static void tick_ensure(struct sched_hart *h)
{
	if (deterministic() ||
	    atomic_load_explicit(&h->tick_deadline, memory_order_relaxed) != HAL_TIMER_OFF)
		return;
	atomic_store_explicit(&h->tick_deadline, hal_time_mono_ns() + SCHED_TICK_NS,
			      memory_order_relaxed);
	timer_program(h);
}

/* -- Switching ------------------------------------------------------------- */

/* h: the hart that switched to self, handed over by sched_ctx_switch(). */
static void finish_switch(struct sched_hart *h, struct sched_task *self)
{
	struct sched_task *prev = h->prev;

	san_switch_end(&self->san, &prev->san);
	if (h->requeue) {
		h->requeue = false;
		rq_push(h, prev);
		tick_ensure(h);
	}
	atomic_store_explicit(&prev->on_cpu, false, memory_order_release);
	spin_unlock(&h->lock);
}

/* Switch from prev, the hart's current context, to next.  h's lock is held
 * and released by whoever resumes; returns when prev is resumed. */
static void context_switch(struct sched_hart *h, struct sched_task *prev,
			   struct sched_task *next)
{
	h->prev = prev;
	h->current = next;
	next->hart = h->id;
	atomic_store_explicit(&next->on_cpu, true, memory_order_relaxed);
	atomic_store_explicit(&h->flags.resched, 0, memory_order_relaxed);
	STAT_INC(h, switches);
	san_switch_begin(&prev->san, &next->san,
			 atomic_load_explicit(&prev->state, memory_order_relaxed) == TASK_DONE);
	finish_switch(sched_ctx_switch(&prev->ctx, &next->ctx, h), prev);
}

void sched_block_locked(struct sched_hart *h, struct sched_task *self)
{
	struct sched_task *next = rq_pop(h);

	context_switch(h, self, next ? next : &h->idle);
}

/* IPI the lowest idle hart other than self, so that it comes stealing. */
static void wake_thief(const struct sched_hart *self, uint64_t idle)
{
	unsigned thief = 0;

	idle &= ~(1ull << self->id);
	if (!idle)
		return;
	/* No ctz: bare riscv64 without Zbb would need libgcc for it. */
	while (!(idle & (1ull << thief)))
		thief++;
	hal_ipi_send(thief);
}

/*
 * Someone queued work on h.  An idle hart notices by itself while it spins
 * (in_idle) but must be IPIed once it waits in hal_idle(); a busy hart
 * with no tick armed is IPIed so that it arms one (sched_irq_soft), as
 * the new task may wait for a task that never blocks; and if the work can
 * migrate, an idle hart is asked to come and steal it.
 */
static void kick(struct sched_hart *h, bool stealable)
{
	struct sched_hart *self = sched_this_hart();
	uint64_t idle;

	if (deterministic() || (h == self && !stealable))
		return;
	/* Pairs with the idle loop's fence before its last look (Dekker):
	 * the queue counter written above, then idle_mask read.  Only needed
	 * when h may be about to sleep, which self is not; waking a thief
	 * for self's work is a hint (missed, self runs the work itself). */
	if (h != self)
		atomic_thread_fence(memory_order_seq_cst);
	idle = atomic_load_explicit(&idle_mask, memory_order_relaxed);
	if (idle & (1ull << h->id)) {
		hal_ipi_send(h->id);
		return;
	}
	if (h != self && !atomic_load_explicit(&h->in_idle, memory_order_relaxed) &&
	    atomic_load_explicit(&h->tick_deadline, memory_order_relaxed) == HAL_TIMER_OFF)
		hal_ipi_send(h->id);
	if (stealable && idle && atomic_load_explicit(&h->nr_stealable, memory_order_relaxed))
		wake_thief(h, idle);
}

/* Queue a woken task on h, its hart, whose lock the caller holds. */
static void wake_locked(struct sched_hart *h, struct sched_task *t)
{
	unsigned st = atomic_load_explicit(&t->state, memory_order_relaxed);

	KASSERT(st == TASK_BLOCKED, "task '%s' (#%llu) woken in state %u", t->name,
		(unsigned long long)atomic_load(&t->id), st);
	atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
	rq_push(h, t);
	if (h == sched_this_hart() && hart_busy(h))
		tick_ensure(h);
}

void sched_wake(struct sched_task *t)
{
	struct sched_hart *h = &harts[t->hart];

	spin_lock(&h->lock);
	wake_locked(h, t);
	spin_unlock(&h->lock);
	kick(h, !t->pinned);
}

/* -- Stealing -------------------------------------------------------------- */

/* Take up to half of another hart's unpinned queued tasks; returns one to
 * run now, the rest are in self's queue.  No lock held on entry. */
static struct sched_task *steal(struct sched_hart *self)
{
	for (unsigned i = 1; i < nharts; i++) {
		struct sched_hart *v = &harts[(self->id + i) % nharts];
		struct sched_task *got = NULL, *last = NULL, *prev = NULL, *t, *next;
		unsigned want = atomic_load_explicit(&v->nr_stealable, memory_order_relaxed), n = 0;

		if (!want || !spin_trylock(&v->lock))
			continue;
		/* Checked under the victim's lock: tasks queued after the switch
		 * to deterministic mode must stay on hart 0. */
		if (deterministic()) {
			spin_unlock(&v->lock);
			return NULL;
		}
		want = (atomic_load_explicit(&v->nr_stealable, memory_order_relaxed) + 1) / 2;
		for (t = v->rq_head; t && n < want; t = next) {
			next = t->next;
			if (t->pinned) {
				prev = t;
				continue;
			}
			rq_unlink(v, prev, t);
			t->hart = self->id;
			if (last)
				last->next = t;
			else
				got = t;
			last = t;
			n++;
		}
		spin_unlock(&v->lock);
		if (!got)
			continue;
		/* More left than this thief took: get the next one going. */
		if (got->next || atomic_load_explicit(&v->nr_stealable, memory_order_relaxed))
			wake_thief(self, atomic_load_explicit(&idle_mask, memory_order_relaxed));
		for (uint64_t k = 0; k < n; k++)
			STAT_INC(self, steals);
		if (got->next) {
			spin_lock(&self->lock);
			for (t = got->next; t; t = next) {
				next = t->next;
				rq_push(self, t);
			}
			spin_unlock(&self->lock);
		}
		got->next = NULL;
		return got;
	}
	return NULL;
}

/* -- Idle loop ------------------------------------------------------------- */

/* Deterministic mode with nothing runnable: jump the clock to the next
 * deadline and wake whoever sleeps until then. */
static void det_advance(struct sched_hart *h)
{
	uint64_t now;
	struct sched_task *t;

	spin_lock(&h->lock);
	if (!h->sleepers)
		k23_panic("sched: deterministic mode: deadlock: every task is blocked "
			  "and no sleeper is pending (init is '%s')", init_task.name);
	now = h->sleepers->deadline;
	if (now > atomic_load_explicit(&det_clock, memory_order_relaxed))
		atomic_store_explicit(&det_clock, now, memory_order_relaxed);
	while (h->sleepers && h->sleepers->deadline <= now) {
		t = sched_timerq_pop(&h->sleepers);
		atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
		rq_push(h, t);
	}
	spin_unlock(&h->lock);
}

/* Anything this hart could run: its own queue or others' stealable tasks. */
static bool work_anywhere(const struct sched_hart *self)
{
	if (atomic_load_explicit(&self->nr_queued, memory_order_relaxed))
		return true;
	for (unsigned i = 0; i < nharts; i++)
		if (atomic_load_explicit(&harts[i].nr_stealable, memory_order_relaxed))
			return true;
	return false;
}

/*
 * Before sleeping, watch for work a little while with interrupts enabled:
 * waking a hart from hal_idle() costs an IPI and a host thread wake-up
 * (tens of microseconds here), far more than a short spin when work comes
 * back soon, as in a message exchange between harts.  True if work (or an
 * IPI, which may carry a cross-hart call) came.
 */
static bool idle_spin(struct sched_hart *h)
{
	uint64_t end = hal_time_mono_ns() + SCHED_IDLE_SPIN_NS;
	bool found = false;

	hal_irq_enable();
	for (unsigned i = 0; !found; i++) {
		found = work_anywhere(h) ||
			atomic_load_explicit(&h->soft_seen, memory_order_relaxed);
		if ((i & 63) == 63 && hal_time_mono_ns() > end)
			break;
		cpu_relax();
	}
	hal_irq_save();
	return found;
}

/* A hart's home: run queued tasks, steal, else wait for an interrupt.
 * Runs with interrupts disabled except around the poll and the wait. */
static _Noreturn void idle_loop(struct sched_hart *h)
{
	uint64_t bit = 1ull << h->id;

	for (;;) {
		struct sched_task *next;
		bool det;

		/* An IPI taken from here on, while interrupts are enabled for
		 * the poll or the spin, may be a cross-hart call posted after
		 * the poll looked: soft_seen makes the loop look again rather
		 * than sleep on it. */
		atomic_store_explicit(&h->soft_seen, false, memory_order_relaxed);
		if (idle_poll_fn) {
			bool did;

			hal_irq_enable();
			did = idle_poll_fn();
			hal_irq_save();
			if (did)
				continue;
		}
		spin_lock(&h->lock);
		/* Read once: the mode may change under us (before any task of
		 * deterministic mode exists, so either way is right). */
		det = deterministic();
		next = rq_pop(h);
		if (!next && h->id != 0 && det) {
			spin_unlock(&h->lock);
			if (!atomic_load_explicit(&h->soft_seen, memory_order_relaxed))
				hal_idle();
			continue;
		}
		if (!next && !det) {
			spin_unlock(&h->lock);
			next = steal(h);
			spin_lock(&h->lock);
		}
		if (next) {
			if (atomic_load_explicit(&h->nr_queued, memory_order_relaxed))
				tick_ensure(h);
			atomic_store_explicit(&h->in_idle, false, memory_order_relaxed);
			context_switch(h, &h->idle, next);
			atomic_store_explicit(&h->in_idle, true, memory_order_relaxed);
			continue;
		}
		if (det) {
			spin_unlock(&h->lock);
			det_advance(h);
			continue;
		}
		/* Nothing to do: no tick while idle, only the sleepers' deadlines
		 * (and under TSan a backstop, see san.h). */
		atomic_store_explicit(&h->tick_deadline, SAN_IDLE_BACKSTOP_NS ?
				      hal_time_mono_ns() + SAN_IDLE_BACKSTOP_NS : HAL_TIMER_OFF,
				      memory_order_relaxed);
		if (SAN_IDLE_BACKSTOP_NS)
			h->timer_armed = 0;	/* its interrupt may be the lost one */
		timer_program(h);
		spin_unlock(&h->lock);
		if (idle_spin(h))
			continue;
		/*
		 * Dekker with kick(): here the idle bit is stored, then the
		 * queue counters are read; a waker stores a counter (rq_push),
		 * then reads idle_mask.  With a seq_cst fence between the store
		 * and the load on both sides, the fences are ordered one way or
		 * the other, and the side whose fence comes second sees the
		 * other's store: this hart finds the work, or the waker finds
		 * the bit and sends the IPI that ends hal_idle().  The RMW alone
		 * is no such fence in C11, and on AArch64 without LSE it is an
		 * ldaxr/stlxr loop, after which plain loads may be satisfied
		 * before the stlxr is visible: both sides miss, and the hart
		 * sleeps on queued work.  (x86-64's lock or and RISC-V's
		 * amoor.aqrl happen to be full barriers.)
		 */
		atomic_fetch_or_explicit(&idle_mask, bit, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (!work_anywhere(h) && !atomic_load_explicit(&h->soft_seen, memory_order_relaxed)) {
			STAT_INC(h, idle_waits);
			hal_idle();
		}
		atomic_fetch_and(&idle_mask, ~bit);
	}
}

static _Noreturn void idle_entry(void *arg, void *pass)
{
	struct sched_hart *h = arg;

	finish_switch(pass, &h->idle);
	atomic_store_explicit(&h->in_idle, true, memory_order_relaxed);
	idle_loop(h);
}

/* -- Interrupts ------------------------------------------------------------ */

void sched_irq_timer(void)
{
	struct sched_hart *h = sched_this_hart();
	unsigned woken = 0;
	uint64_t now;

	if (!h || deterministic())
		return;
	now = hal_time_mono_ns();
	spin_lock(&h->lock);
	h->timer_armed = HAL_TIMER_OFF;		/* it fired: one-shot */
	while (h->sleepers && h->sleepers->deadline <= now) {
		struct sched_task *t = sched_timerq_pop(&h->sleepers);

		atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
		rq_push(h, t);
		woken++;
	}
	if (hart_busy(h)) {
		uint64_t tick = atomic_load_explicit(&h->tick_deadline, memory_order_relaxed);
		bool waiting = atomic_load_explicit(&h->nr_queued, memory_order_relaxed) != 0;

		/* A woken sleeper should not wait a whole tick for its turn. */
		if (woken || (tick <= now && waiting)) {
			atomic_uchar *yf = atomic_load_explicit(&h->current->yield_flag,
								memory_order_relaxed);

			atomic_store_explicit(&h->flags.resched, 1, memory_order_relaxed);
			if (yf)
				atomic_store_explicit(yf, 1, memory_order_relaxed);
			if (!woken)
				STAT_INC(h, preempts);
		}
		if (tick <= now || tick == HAL_TIMER_OFF)
			tick = waiting ? now + SCHED_TICK_NS : HAL_TIMER_OFF;
		atomic_store_explicit(&h->tick_deadline, tick, memory_order_relaxed);
	} else {
		/* The idle loop runs no tick; a stale one must not re-fire. */
		atomic_store_explicit(&h->tick_deadline, HAL_TIMER_OFF, memory_order_relaxed);
	}
	timer_program(h);
	spin_unlock(&h->lock);
	if (woken && hart_busy(h))
		kick(h, true);
}

void sched_irq_soft(void)
{
	struct sched_hart *h = sched_this_hart();

	if (h)
		atomic_store_explicit(&h->soft_seen, true, memory_order_relaxed);
	/* An idle hart's loop looks at its queue (and the cross-hart calls)
	 * again; a busy one only needs a tick if others now wait for it. */
	if (!h || !hart_busy(h) ||
	    !atomic_load_explicit(&h->nr_queued, memory_order_relaxed))
		return;
	spin_lock(&h->lock);
	tick_ensure(h);
	spin_unlock(&h->lock);
}

/* -- Boot ------------------------------------------------------------------ */

static void task_set_name(struct sched_task *t, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i < SCHED_NAME_MAX - 1; i++)
		t->name[i] = name[i];
	t->name[i] = '\0';
}

int sched_init(bool (*idle_poll)(void))
{
	struct sched_hart *h0 = &harts[0];
	void *stack;
	int err;

	KASSERT(hal_hart_id() == 0 && !atomic_load(&sched_ready), "sched_init twice or off hart 0");
	nharts = hal_hart_count();
	idle_poll_fn = idle_poll;
	if ((err = sched_stack_init()) < 0)
		return err;
	for (unsigned i = 0; i < nharts; i++) {
		struct sched_hart *h = &harts[i];

		h->id = i;
		spin_init(&h->lock);
		h->idle.idle = true;
		h->idle.hart = i;
		h->idle.stack_order = IDLE_STACK_ORDER;
		ksnprintf(h->idle.name, sizeof(h->idle.name), "idle%u", i);
		h->timer_armed = HAL_TIMER_OFF;
		atomic_store(&h->tick_deadline, HAL_TIMER_OFF);
		h->next_id = 1;
	}
	if ((err = sched_stack_alloc(IDLE_STACK_ORDER, &stack)) < 0)
		return err;
	h0->idle.stack_base = stack;
	san_stack_init(&h0->idle.san, stack, SCHED_STACK_BYTES(IDLE_STACK_ORDER));
	sched_ctx_make(&h0->idle.ctx, (char *)stack + SCHED_STACK_BYTES(IDLE_STACK_ORDER),
		       idle_entry, h0);

	task_set_name(&init_task, "init");
	init_task.pinned = true;
	atomic_store(&init_task.id, 0);
	atomic_store(&init_task.on_cpu, true);
	spin_init(&init_task.join_lock);
	san_adopt(&init_task.san);
	h0->current = &init_task;
	h0->boot_sp = (uintptr_t)__builtin_frame_address(0);
	hal_hart_set_local(h0);
	atomic_store_explicit(&sched_ready, true, memory_order_release);
	return 0;
}

_Noreturn void sched_hart_run(void)
{
	struct sched_hart *h;

	KASSERT(atomic_load_explicit(&sched_ready, memory_order_acquire),
		"hart %u entered the scheduler before sched_init", hal_hart_id());
	h = &harts[hal_hart_id()];
	h->boot_sp = (uintptr_t)__builtin_frame_address(0);
	san_adopt(&h->idle.san);
	atomic_store(&h->idle.on_cpu, true);
	h->current = &h->idle;
	atomic_store(&h->in_idle, true);
	hal_hart_set_local(h);
	hal_irq_save();
	idle_loop(h);
}

/* Tasks spawned and not joined yet, summed over the harts' counters. */
static uint64_t tasks_live(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nharts; i++)
		n += atomic_load_explicit(&harts[i].stats.spawned, memory_order_relaxed) -
		     atomic_load_explicit(&harts[i].stats.joined, memory_order_relaxed);
	return n;
}

int sched_deterministic(uint64_t seed)
{
	struct sched_hart *h = sched_this_hart();

	if (h->current != &init_task || tasks_live())
		return -K_EBUSY;
	det_rng = seed ? seed : 0x9e3779b97f4a7c15ull;	/* xorshift needs a non-zero state */
	atomic_store(&det_clock, 0);
	atomic_store(&det_mode, true);
	klog(sched, INFO, "deterministic mode, seed %#llx", (unsigned long long)seed);
	return 0;
}

/* -- Tasks ----------------------------------------------------------------- */

static void task_entry(void *arg, void *pass)
{
	struct sched_task *t = arg;

	finish_switch(pass, t);
	hal_irq_enable();
	sched_exit(t->fn(t->arg));
}

static int stack_order_for(size_t size, unsigned *order)
{
	unsigned o = 0;

	if (size == 0)
		size = SCHED_STACK_DEFAULT;
	if (size > SCHED_STACK_MAX)
		return -K_EINVAL;
	while (SCHED_STACK_BYTES(o) < size)
		o++;
	*order = o;
	return 0;
}

int sched_spawn(sched_task_t *out, sched_fn fn, void *arg, const struct sched_attr *attr)
{
	static const struct sched_attr defaults = { .name = NULL, .hart = -1 };
	struct sched_hart *self, *h;
	struct sched_task *t;
	hal_irqstate_t s;
	unsigned order;
	void *base;
	uintptr_t top;
	int err;

	if (!attr)
		attr = &defaults;
	if ((err = stack_order_for(attr->stack_size, &order)) < 0)
		return err;
	if (attr->hart >= (int)nharts)
		return -K_EINVAL;
	if ((err = sched_stack_alloc(order, &base)) < 0)
		return err;
	/* The record sits at the top of the stack, below it the frames. */
	top = (uintptr_t)base + SCHED_STACK_BYTES(order);
	t = (struct sched_task *)ALIGN_DOWN(top - sizeof(*t), (uintptr_t)64);
	/* Field by field: a reused record needs fewer stores than a memset
	 * (the sleeper links and the context are set before they are read). */
	t->next = NULL;
	atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
	atomic_store_explicit(&t->on_cpu, false, memory_order_relaxed);
	t->idle = false;
	t->exit_value = 0;
	sched_waitq_init(&t->joinq);
	for (unsigned k = 0; k < SCHED_TLS_SLOTS; k++)
		t->tls[k] = NULL;
	t->stack_base = base;
	t->stack_order = order;
	atomic_store_explicit(&t->yield_flag, NULL, memory_order_relaxed);
	t->fn = fn;
	t->arg = arg;
	t->pinned = attr->pinned;
	task_set_name(t, attr->name ? attr->name : "task");
	spin_init(&t->join_lock);
	san_stack_init(&t->san, base, (uintptr_t)t - (uintptr_t)base);
	sched_ctx_make(&t->ctx, t, task_entry, t);

	s = hal_irq_save();
	self = sched_this_hart();
	if (deterministic())
		h = &harts[0];
	else
		h = attr->hart >= 0 ? &harts[attr->hart] : self;
	/* Ids: a per-hart counter with the hart in the low bits. */
	atomic_store_explicit(&t->id, (self->next_id++ << 6) | self->id, memory_order_relaxed);
	atomic_store_explicit(&t->join_key, atomic_load_explicit(&t->id, memory_order_relaxed),
			      memory_order_relaxed);
	t->hart = h->id;
	STAT_INC(self, spawned);
	spin_lock(&h->lock);
	rq_push(h, t);
	if (h == self && hart_busy(h))
		tick_ensure(h);
	spin_unlock(&h->lock);
	kick(h, !t->pinned);
	hal_irq_restore(s);
	out->task = t;
	out->id = atomic_load_explicit(&t->id, memory_order_relaxed);
	return 0;
}

static struct sched_task *current_task(const char *what)
{
	struct sched_hart *h = sched_this_hart();

	if (!hart_busy(h))
		k23_panic("sched: %s from hart %u's idle loop, which cannot block", what, h->id);
	return h->current;
}

void sched_task_yield(void)
{
	hal_irqstate_t s = hal_irq_save();
	struct sched_hart *h = sched_this_hart();
	struct sched_task *self = h->current, *next;

	if (self->idle)
		k23_panic("sched_task_yield: from hart %u's idle loop", h->id);
	atomic_store_explicit(&h->flags.resched, 0, memory_order_relaxed);
	/* Nobody else queued here: nothing to do (a push racing with this
	 * look is only seen at the next yield, as if it came just after). */
	if (!atomic_load_explicit(&h->nr_queued, memory_order_relaxed)) {
		hal_irq_restore(s);
		return;
	}
	spin_lock(&h->lock);
	if (!(next = rq_pop(h))) {
		spin_unlock(&h->lock);
		hal_irq_restore(s);
		return;
	}
	h->requeue = true;
	context_switch(h, self, next);
	hal_irq_restore(s);
}

_Noreturn void sched_exit(intptr_t value)
{
	struct sched_task *self = current_task("sched_exit"), *joiner;
	struct sched_hart *h;

	if (self == &init_task)
		k23_panic("sched_exit: init cannot exit; return from the init function instead");
	hal_irq_save();
	h = sched_this_hart();
	spin_lock(&self->join_lock);
	self->exit_value = value;
	atomic_store_explicit(&self->state, TASK_DONE, memory_order_release);
	joiner = self->joinq.head ? self->joinq.head->task : NULL;
	if (joiner && joiner->hart == h->id) {
		/* The joiner waits on this hart: wake it under the same hold of
		 * the hart lock that switches away (join lock first, INV-SCHED-2). */
		self->joinq.head = self->joinq.head->next;
		if (!self->joinq.head)
			self->joinq.tail = NULL;
		spin_lock(&h->lock);
		wake_locked(h, joiner);
		spin_unlock(&self->join_lock);
	} else {
		sched_waitq_wake_all(&self->joinq);
		spin_unlock(&self->join_lock);
		spin_lock(&h->lock);
	}
	sched_block_locked(h, self);
	k23_panic("sched_exit: task '%s' resumed after exiting", self->name);
}

/* The task a handle names, or a panic saying why it names none. */
static struct sched_task *handle_task(sched_task_t ht, const char *what)
{
	struct sched_task *t = ht.task;

	if (!t || atomic_load_explicit(&t->id, memory_order_relaxed) != ht.id)
		k23_panic("%s: stale handle: task #%llu no longer exists (already joined)",
			  what, (unsigned long long)ht.id);
	return t;
}

/*
 * Become the only joiner of the task ht names, or panic.  One
 * compare-and-swap of the join key both checks and claims: checking the
 * id and then taking the join lock would leave a gap in which a second
 * joiner, past the check, stalls while the task is joined and its record
 * reused, then claims the new task.  The key holds the id only until a
 * joiner claims the task, and a reused record gets a new id, so a second
 * join and a stale handle both fail the swap.  Only its atomicity matters:
 * the join lock orders the rest with the exit.
 */
static struct sched_task *join_claim(struct sched_task *self, sched_task_t ht)
{
	struct sched_task *t = ht.task;
	uint64_t key = ht.id;
	char name[SCHED_NAME_MAX];

	if (t == self && atomic_load_explicit(&self->id, memory_order_relaxed) == ht.id)
		k23_panic("sched_join: task '%s' (#%llu) joins itself", t->name,
			  (unsigned long long)ht.id);
	if (t && atomic_compare_exchange_strong_explicit(&t->join_key, &key, JOIN_TAKEN,
							 memory_order_relaxed,
							 memory_order_relaxed))
		return t;
	if (t && key == JOIN_TAKEN && atomic_load_explicit(&t->id, memory_order_relaxed) == ht.id) {
		/* A copy cut to size: a reuse of the record racing this
		 * message may garble the name, never unterminate it. */
		kmemcpy(name, t->name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		k23_panic("sched_join: task '%s' (#%llu) joined twice (now by '%s')",
			  name, (unsigned long long)ht.id, self->name);
	}
	k23_panic("sched_join: stale handle: task #%llu no longer exists (already joined)",
		  (unsigned long long)ht.id);
}

void sched_join(sched_task_t ht, intptr_t *value)
{
	struct sched_task *self = current_task("sched_join");
	struct sched_task *t = join_claim(self, ht);
	struct sched_hart *h;
	hal_irqstate_t s;

	s = spin_lock_irqsave(&t->join_lock);
	if (atomic_load_explicit(&t->state, memory_order_acquire) != TASK_DONE) {
		/* As sched_waitq_wait(), but only the exit wakes a joiner, so
		 * there is no need to take the join lock again afterwards. */
		struct sched_waiter w = { .next = NULL, .task = self };

		t->joinq.head = t->joinq.tail = &w;
		h = sched_this_hart();
		spin_lock(&h->lock);
		atomic_store_explicit(&self->state, TASK_BLOCKED, memory_order_relaxed);
		spin_unlock(&t->join_lock);
		sched_block_locked(h, self);
		KASSERT(atomic_load_explicit(&t->state, memory_order_acquire) == TASK_DONE,
			"joiner of '%s' woken before it exited", t->name);
	} else {
		spin_unlock(&t->join_lock);
	}
	hal_irq_restore(s);
	/* INV-SCHED-4: its hart may still be switching away from it. */
	while (atomic_load_explicit(&t->on_cpu, memory_order_acquire))
		cpu_relax();
	if (value)
		*value = t->exit_value;
	atomic_store_explicit(&t->state, TASK_FREE, memory_order_relaxed);
	san_stack_fini(&t->san);
	sched_stack_free(t->stack_base, t->stack_order);
	h = sched_this_hart();
	STAT_INC(h, joined);
}

sched_task_t sched_self(void)
{
	struct sched_hart *h = sched_this_hart();
	sched_task_t ht = { NULL, 0 };

	if (hart_busy(h)) {
		ht.task = h->current;
		ht.id = atomic_load_explicit(&h->current->id, memory_order_relaxed);
	}
	return ht;
}

uint64_t sched_task_id(sched_task_t t)
{
	return atomic_load_explicit(&handle_task(t, "sched_task_id")->id, memory_order_relaxed);
}

const char *sched_task_name(sched_task_t t)
{
	return handle_task(t, "sched_task_name")->name;
}

const char *sched_current_name(void)
{
	struct sched_hart *h = sched_this_hart();

	return h ? h->current->name : "(no scheduler)";
}

_Noreturn void sched_stack_overflow(void *base, size_t size, const struct trap_frame *tf)
{
	struct sched_task *t = (struct sched_task *)ALIGN_DOWN((uintptr_t)base + size -
							       sizeof(struct sched_task),
							       (uintptr_t)64);
	const char *name = t->name;
	unsigned long long id = atomic_load_explicit(&t->id, memory_order_relaxed);

	for (unsigned i = 0; i < nharts; i++)
		if (harts[i].idle.stack_base == base) {
			name = harts[i].idle.name;
			id = 0;
		}
	k23_panic("sched: task '%s' (#%llu) overflowed its %zu-byte stack: "
		  "%s at %#llx hit the guard page (pc %p)", name, id, size,
		  tf->cause == TRAP_STORE_PAGE_FAULT ? "store" : "access",
		  (unsigned long long)tf->tval, (void *)tf->pc);
}

/* -- Time ------------------------------------------------------------------ */

uint64_t sched_now(void)
{
	if (deterministic())
		return atomic_load_explicit(&det_clock, memory_order_relaxed);
	return hal_time_mono_ns();
}

void sched_sleep_until(uint64_t deadline_ns)
{
	hal_irqstate_t s;
	struct sched_hart *h;
	struct sched_task *self = current_task("sched_sleep");

	if (deadline_ns <= sched_now())
		return;
	s = hal_irq_save();
	h = sched_this_hart();
	spin_lock(&h->lock);
	self->deadline = deadline_ns;
	atomic_store_explicit(&self->state, TASK_BLOCKED, memory_order_relaxed);
	sched_timerq_insert(&h->sleepers, self);
	if (!deterministic())
		timer_program(h);
	sched_block_locked(h, self);
	hal_irq_restore(s);
}

void sched_sleep(uint64_t ns)
{
	sched_sleep_until(sched_now() + ns);
}

/* -- Task-local storage ---------------------------------------------------- */

int sched_tls_key_create(unsigned *key)
{
	unsigned k = atomic_fetch_add(&tls_keys, 1);

	if (k >= SCHED_TLS_SLOTS) {
		atomic_fetch_sub(&tls_keys, 1);
		return -K_ENOMEM;
	}
	*key = k;
	return 0;
}

void *sched_tls_get(unsigned key)
{
	KASSERT(key < atomic_load_explicit(&tls_keys, memory_order_relaxed), "bad key %u", key);
	return current_task("sched_tls_get")->tls[key];
}

void sched_tls_set(unsigned key, void *value)
{
	KASSERT(key < atomic_load_explicit(&tls_keys, memory_order_relaxed), "bad key %u", key);
	current_task("sched_tls_set")->tls[key] = value;
}

/* -- Yield flags and stacks ------------------------------------------------- */

void sched_set_yield_flag(atomic_uchar *flag)
{
	/* Read by this hart's timer interrupt, which runs on this thread:
	 * relaxed is enough, the task cannot move while it runs. */
	atomic_store_explicit(&sched_this_hart()->current->yield_flag, flag,
			      memory_order_relaxed);
}

uintptr_t sched_stack_low(void)
{
	struct sched_hart *h = sched_this_hart();
	struct sched_task *t = h->current;

	if (t->stack_base)
		return (uintptr_t)t->stack_base;
	/* init (pinned to hart 0) or an idle loop: the hart's boot stack. */
	return h->boot_sp - SCHED_BOOT_STACK_USABLE;
}

/* -- Statistics ------------------------------------------------------------ */

void sched_stats(unsigned hart, struct sched_stats *st)
{
	const struct sched_hart *h = &harts[hart];

	st->switches = atomic_load_explicit(&h->stats.switches, memory_order_relaxed);
	st->steals = atomic_load_explicit(&h->stats.steals, memory_order_relaxed);
	st->idle_waits = atomic_load_explicit(&h->stats.idle_waits, memory_order_relaxed);
	st->preempts = atomic_load_explicit(&h->stats.preempts, memory_order_relaxed);
	st->spawned = atomic_load_explicit(&h->stats.spawned, memory_order_relaxed);
}
