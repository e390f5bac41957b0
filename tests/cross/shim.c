/*
 * shim.c - the smallest platform the scheduler runs on, for the
 * cross-architecture test programs (sched_cases-ARCH under qemu-user):
 * one hart, the process's only thread.  Interrupts are never asynchronous
 * here: a due timer or a pending IPI is delivered when the hart waits in
 * hal_idle() or re-enables interrupts.  Stacks are plain anonymous
 * mappings with an inaccessible guard page below, and the kernel heap is
 * malloc.  No preemption tick can interrupt a spinning task, so the shared
 * cases do not depend on one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "../../kernel/hal.h"
#include "../../kernel/kerr.h"
#include "../../kernel/kheap.h"
#include "../../sched/sched.h"
#include "../../sched/stack.h"

static void *hart_local;
static bool irq_off = true, soft_pending;
static uint64_t timer_deadline = HAL_TIMER_OFF;

unsigned hal_hart_count(void) { return 1; }
unsigned hal_hart_id(void) { return 0; }
void *hal_hart_local(void) { return hart_local; }
void hal_hart_set_local(void *p) { hart_local = p; }

uint64_t hal_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Take what is pending, as kernel_trap() would; interrupts are off. */
static void deliver(void)
{
	if (soft_pending) {
		soft_pending = false;
		sched_irq_soft();
	}
	if (timer_deadline != HAL_TIMER_OFF && hal_time_mono_ns() >= timer_deadline) {
		timer_deadline = HAL_TIMER_OFF;
		sched_irq_timer();
	}
}

hal_irqstate_t hal_irq_save(void)
{
	bool was_off = irq_off;

	irq_off = true;
	return !was_off;
}

void hal_irq_enable(void)
{
	irq_off = true;
	deliver();
	irq_off = false;
}

void hal_irq_restore(hal_irqstate_t s)
{
	if (s)
		hal_irq_enable();
}

void hal_timer_set(uint64_t deadline_ns)
{
	timer_deadline = deadline_ns;
}

void hal_ipi_send(unsigned hartid)
{
	(void)hartid;
	soft_pending = true;
}

void hal_idle(void)
{
	if (!soft_pending) {
		struct timespec ts;

		if (timer_deadline == HAL_TIMER_OFF) {
			/* One hart, nothing pending: nothing can ever wake it. */
			fprintf(stderr, "shim: hal_idle with no timer armed: deadlock\n");
			_exit(3);
		}
		ts.tv_sec = (time_t)(timer_deadline / 1000000000ull);
		ts.tv_nsec = (long)(timer_deadline % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	deliver();
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
