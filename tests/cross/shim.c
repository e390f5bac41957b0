/*
 * shim.c - the smallest platform the scheduler runs on, for the
 * cross-architecture test programs under qemu-user: sched_cases-ARCH on
 * one hart, the process's only thread, and sched_stress-ARCH on several,
 * one thread each, started by the hosted_run() below.
 *
 * Interrupts are never asynchronous here: a due timer or a pending IPI is
 * delivered when its hart waits in hal_idle() or re-enables interrupts.
 * No preemption tick can interrupt a spinning task, so neither the shared
 * cases nor the stress scenarios depend on one.  A hart waits in hal_idle()
 * on a futex, its pending word, until an IPI or its timer's deadline: the
 * scheduler's idle protocol (idle_mask, kick) is what decides whether
 * anyone wakes it, as on the hosted platform and on hardware.  Stacks are
 * plain anonymous mappings with an inaccessible guard page below, and the
 * kernel heap is malloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "../../hosted/hosted.h"
#include "../../kernel/hal.h"
#include "../../kernel/kerr.h"
#include "../../kernel/kheap.h"
#include "../../sched/sched.h"
#include "../../sched/stack.h"

struct shim_hart {
	atomic_uint pending;		/* 1: an IPI not taken yet; the futex word */
	bool irq_off;			/* this hart only, as the rest below */
	uint64_t timer_deadline;
	void *local;
} __attribute__((aligned(64)));

/* Hart 0 is ready before hosted_run(): the one-hart programs never call it. */
static struct shim_hart harts[HAL_MAX_HARTS] = {
	[0] = { .irq_off = true, .timer_deadline = HAL_TIMER_OFF },
};
static unsigned nharts = 1;
static __thread struct shim_hart *self = &harts[0];

unsigned hal_hart_count(void) { return nharts; }
unsigned hal_hart_id(void) { return (unsigned)(self - harts); }
void *hal_hart_local(void) { return self->local; }
void hal_hart_set_local(void *p) { self->local = p; }

uint64_t hal_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Take what is pending, as kernel_trap() would; interrupts are off.  The
 * plain load first keeps the common case (nothing pending) free of an
 * atomic read-modify-write. */
static void deliver(struct shim_hart *h)
{
	if (atomic_load_explicit(&h->pending, memory_order_relaxed) &&
	    atomic_exchange(&h->pending, 0))
		sched_irq_soft();
	if (h->timer_deadline != HAL_TIMER_OFF && hal_time_mono_ns() >= h->timer_deadline) {
		h->timer_deadline = HAL_TIMER_OFF;
		sched_irq_timer();
	}
}

hal_irqstate_t hal_irq_save(void)
{
	bool was_off = self->irq_off;

	self->irq_off = true;
	return !was_off;
}

void hal_irq_enable(void)
{
	self->irq_off = true;
	deliver(self);
	self->irq_off = false;
}

void hal_irq_restore(hal_irqstate_t s)
{
	if (s)
		hal_irq_enable();
}

void hal_timer_set(uint64_t deadline_ns)
{
	self->timer_deadline = deadline_ns;
}

void hal_ipi_send(unsigned hartid)
{
	struct shim_hart *h = &harts[hartid];

	/* As on the hosted platform, a second IPI before the first is taken
	 * is absorbed, and only the sender that set the bit wakes the hart. */
	if (!(atomic_fetch_or(&h->pending, 1) & 1))
		syscall(SYS_futex, &h->pending, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleep until the pending word is set (the futex compares it with 0 in the
 * kernel, so an IPI sent after the check below is not slept through) or
 * until the absolute deadline, if any. */
static void wait_pending(struct shim_hart *h, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	syscall(SYS_futex, &h->pending, FUTEX_WAIT_BITSET_PRIVATE, 0,
		deadline_ns == HAL_TIMER_OFF ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

void hal_idle(void)
{
	struct shim_hart *h = self;

	if (!atomic_load(&h->pending)) {
		if (nharts == 1 && h->timer_deadline == HAL_TIMER_OFF) {
			/* One hart, nothing pending: nothing can ever wake it. */
			fprintf(stderr, "shim: hal_idle with no timer armed: deadlock\n");
			_exit(3);
		}
		wait_pending(h, h->timer_deadline);
	}
	deliver(h);
}

void hal_console_write(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
	fflush(stdout);
}

_Noreturn void hal_shutdown(int status)
{
	fflush(stdout);
	_exit(status);
}

void hal_backtrace(void)
{
}

void *kmalloc(size_t size) { return size ? malloc(size) : NULL; }
void *kzalloc(size_t size) { return size ? calloc(1, size) : NULL; }
void kfree(void *p) { free(p); }

int sched_stack_init(void)
{
	return 0;
}

int sched_stack_alloc(unsigned order, void **base)
{
	size_t size = (size_t)HAL_PAGE_SIZE << order;
	char *p = mmap(NULL, size + HAL_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -K_ENOMEM;
	mprotect(p, HAL_PAGE_SIZE, PROT_NONE);
	*base = p + HAL_PAGE_SIZE;
	return 0;
}

void sched_stack_free(void *base, unsigned order)
{
	munmap((char *)base - HAL_PAGE_SIZE, ((size_t)HAL_PAGE_SIZE << order) + HAL_PAGE_SIZE);
}

/* -- Several harts: hosted.h's boot, for the stress scenarios ------------- */

void hosted_config_default(struct hosted_config *cfg)
{
	*cfg = (struct hosted_config){ .harts = 1, .quiet = true };
}

static void *hart_thread(void *arg)
{
	self = arg;
	sched_hart_run();
}

/*
 * What hosted/run.c's hosted_run() does, on this platform: the calling
 * thread becomes hart 0 and runs init(arg) as the init task, the others
 * run their idle loops.  Only cfg->harts is used (memory is malloc's).
 * Returns init's status, or a negative -K_*, leaving the other harts in
 * their idle loops: the program exits next, there is nothing to tear down.
 */
int hosted_run(const struct hosted_config *cfg, int (*init)(void *), void *arg)
{
	pthread_t thread;
	int status;

	if (cfg->harts < 1 || cfg->harts > HAL_MAX_HARTS)
		return -K_EINVAL;
	nharts = cfg->harts;
	for (unsigned i = 1; i < nharts; i++)
		harts[i] = (struct shim_hart){ .irq_off = true, .timer_deadline = HAL_TIMER_OFF };
	if ((status = sched_init(NULL)) < 0)
		return status;
	for (unsigned i = 1; i < nharts; i++)
		if (pthread_create(&thread, NULL, hart_thread, &harts[i]))
			return -K_ENOMEM;
	hal_irq_enable();
	return init(arg);
}
