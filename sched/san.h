/*
 * san.h - telling the sanitizers about stack switches (sched/ only).
 *
 * ASan and TSan track one stack per thread; a task switch moves a hart's
 * thread to another stack.  ASan must learn the new stack's bounds (or it
 * mistakes a task's frames for a wild stack, and the redzones a dead task
 * left poisoned on a reused stack for overflows); TSan keeps its shadow
 * call stack and race clocks per "fiber", one per task.  Without a
 * sanitizer (and in the freestanding build) everything here is empty.
 */
#ifndef K23_SCHED_SAN_H
#define K23_SCHED_SAN_H

#include <stddef.h>

struct san_ctx {
	const void *bottom;	/* lowest address of the context's stack (ASan) */
	size_t size;		/* 0: not known yet (an adopted host stack) */
	void *fake_stack;	/* ASan's per-context save slot */
	void *fiber;		/* TSan fiber */
};

/*
 * How long an idle hart may wait without its timer, 0 for ever.  TSan
 * defers an asynchronous signal that interrupts instrumented code until
 * the interrupted thread's next interceptor, and keeps it with the
 * current fiber: a timer or IPI signal that lands while a task runs, just
 * before that task switches away, waits until the task runs again.  Under
 * TSan the idle loop therefore also arms a backstop timer, so a lost
 * wake-up only delays (sleepers and queued work are found at the next
 * backstop) rather than hangs the hart.
 */
#if defined(__SANITIZE_THREAD__)
#define SAN_IDLE_BACKSTOP_NS	1000000ull
#else
#define SAN_IDLE_BACKSTOP_NS	0ull
#endif

#if defined(__SANITIZE_ADDRESS__)

void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);

static inline void san_stack_init(struct san_ctx *c, void *bottom, size_t size)
{
	c->bottom = bottom;
	c->size = size;
	c->fake_stack = NULL;
	/* A reused stack still carries the redzones of a dead task's frames. */
	__asan_unpoison_memory_region(bottom, size);
}

static inline void san_adopt(struct san_ctx *c)
{
	c->bottom = NULL;
	c->size = 0;
	c->fake_stack = NULL;
}

static inline void san_stack_fini(struct san_ctx *c) { (void)c; }

/* Before switching from `from` (which never runs again if exiting). */
static inline void san_switch_begin(struct san_ctx *from, const struct san_ctx *to,
				    int exiting)
{
	__sanitizer_start_switch_fiber(exiting ? NULL : &from->fake_stack,
				       to->bottom, to->size);
}

/* First thing after a switch lands in `self`; prev is the context left. */
static inline void san_switch_end(struct san_ctx *self, struct san_ctx *prev)
{
	const void *bottom;
	size_t size;

	__sanitizer_finish_switch_fiber(self->fake_stack, &bottom, &size);
	if (prev && !prev->size) {
		prev->bottom = bottom;
		prev->size = size;
	}
}

#elif defined(__SANITIZE_THREAD__)

void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
/*
 * Switch with synchronisation (flags 0): on one hart the old context's
 * accesses really do precede the new one's (the switch hands over the
 * scheduler's state, e.g. a task's hart field written just before).
 * Races between tasks on different harts stay visible.
 */
#define SAN_TSAN_SWITCH_SYNC 0u

static inline void san_stack_init(struct san_ctx *c, void *bottom, size_t size)
{
	c->bottom = bottom;
	c->size = size;
	c->fiber = __tsan_create_fiber(0);
}

static inline void san_adopt(struct san_ctx *c)
{
	c->fiber = __tsan_get_current_fiber();
}

static inline void san_stack_fini(struct san_ctx *c)
{
	__tsan_destroy_fiber(c->fiber);
	c->fiber = NULL;
}

static inline void san_switch_begin(struct san_ctx *from, const struct san_ctx *to,
				    int exiting)
{
	(void)from;
	(void)exiting;
	__tsan_switch_to_fiber(to->fiber, SAN_TSAN_SWITCH_SYNC);
}

static inline void san_switch_end(struct san_ctx *self, struct san_ctx *prev)
{
	(void)self;
	(void)prev;
}

#else

static inline void san_stack_init(struct san_ctx *c, void *bottom, size_t size)
{
	c->bottom = bottom;
	c->size = size;
}
static inline void san_adopt(struct san_ctx *c) { (void)c; }
static inline void san_stack_fini(struct san_ctx *c) { (void)c; }
static inline void san_switch_begin(struct san_ctx *from, const struct san_ctx *to,
				    int exiting)
{
	(void)from;
	(void)to;
	(void)exiting;
}
static inline void san_switch_end(struct san_ctx *self, struct san_ctx *prev)
{
	(void)self;
	(void)prev;
}

#endif

#endif /* K23_SCHED_SAN_H */
