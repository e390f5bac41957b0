/*
 * harts.c - harts as pthreads, interrupts as signals.
 *
 * Interrupt masking: sstatus.SIE is a per-hart flag (hart.irq_off), not the
 * thread's signal mask.  The timer and IPI signals stay unblocked; when one
 * arrives while the flag says "disabled", its handler only records the
 * interrupt as pending, and hal_irq_restore()/hal_irq_enable() deliver it,
 * exactly as a RISC-V hart holds sip bits until SIE is set.  A
 * pthread_sigmask() round trip costs a system call (about 0.5 us on these
 * virtual machines), which would dominate every lock and context switch.
 * The real signal mask is still used where atomicity with sleeping matters
 * (hal_idle) and inside handlers (sa_mask).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../kernel/kerr.h"
#include "hart.h"

struct hart hosted_harts[HAL_MAX_HARTS];
unsigned hosted_nharts;
__thread struct hart *hosted_self;

static atomic_bool machine_stopping;

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static struct hart *self(void)
{
	struct hart *h = hosted_self;

	if (__builtin_expect(!h, 0)) {
		/* Kernel code on a thread that is not a hart: a platform bug. */
		static const char msg[] = "k23sim: kernel entered from a non-hart thread\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		abort();
	}
	return h;
}

unsigned hal_hart_count(void) { return hosted_nharts; }
unsigned hal_hart_id(void) { return self()->id; }
void *hal_hart_local(void) { return self()->local; }
void hal_hart_set_local(void *p) { self()->local = p; }

/* -- Interrupt enable -------------------------------------------------- */

void hosted_deliver_pending(struct hart *h, void *uctx)
{
	unsigned bits;

	while ((bits = atomic_exchange(&h->pending, 0)) != 0) {
		struct trap_frame tf = { .asid = HAL_ASID_NONE, .platform = uctx };

		if (bits & HART_PEND_TIMER) {
			tf.cause = TRAP_IRQ_TIMER;
			kernel_trap(&tf);
		}
		if (bits & HART_PEND_SOFT) {
			tf.cause = TRAP_IRQ_SOFT;
			kernel_trap(&tf);
		}
	}
}

hal_irqstate_t hal_irq_save(void)
{
	struct hart *h = self();
	int was_off = h->irq_off;

	h->irq_off = 1;
	barrier();
	return !was_off;
}

/*
 * Enable, then take what arrived while disabled.  A timer or IPI signal
 * can land between any two instructions here; its handler takes the
 * interrupt itself when irq_off is clear and only sets the pending bit
 * when it is set.  So every clearing of irq_off is followed by a look at
 * pending, and the loop ends only after a look that found nothing with
 * irq_off clear:
 *  - a signal before the clearing leaves its bit to the look after it;
 *  - a signal after the clearing is taken by its handler, which also
 *    takes (and clears) any bit the look has yet to see;
 *  - a signal while hosted_deliver_pending() runs (irq_off set again)
 *    is taken by that function's next exchange or, landing after its
 *    last one, by the next turn of the loop.
 * The last case is why it is a loop: looking only once left that bit set
 * with interrupts enabled, hal_ipi_send() then absorbed every later IPI
 * into it and the one-shot timer did not fire again, until some later
 * enable happened to look.
 * The compiler barriers are enough: the handler runs on this thread and
 * sees its stores in program order.  A bit set by another hart's
 * hal_ipi_send() may be seen late, but its signal follows and finds
 * irq_off clear or the loop still running.
 */
void hal_irq_enable(void)
{
	struct hart *h = self();

	barrier();
	for (;;) {
		h->irq_off = 0;
		barrier();
		if (!atomic_load_explicit(&h->pending, memory_order_relaxed))
			return;
		h->irq_off = 1;
		barrier();
		hosted_deliver_pending(h, NULL);
		barrier();
	}
}

void hal_irq_restore(hal_irqstate_t s)
{
	if (s)
		hal_irq_enable();
}

bool hal_irq_enabled(void)
{
	return !self()->irq_off;
}

/* -- Timer and IPI ------------------------------------------------------- */

void hal_timer_set(uint64_t deadline_ns)
{
	struct hart *h = self();
	struct itimerspec its = { 0 };

	if (deadline_ns != HAL_TIMER_OFF) {
		/* 0 would disarm: a deadline in the past must fire instead. */
		if (deadline_ns == 0)
			deadline_ns = 1;
		its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	}
	timer_settime(h->timer, TIMER_ABSTIME, &its, NULL);
}

void hal_ipi_send(unsigned hartid)
{
	struct hart *h;

	if (hartid >= hosted_nharts)
		return;
	h = &hosted_harts[hartid];
	/* Like sip.SSIP, a second IPI before the first is taken is absorbed:
	 * only the sender that sets the bit pays for the signal. */
	if (atomic_fetch_or(&h->pending, HART_PEND_SOFT) & HART_PEND_SOFT)
		return;
	pthread_kill(h->thread, HART_SIG_IPI);
}

void hal_idle(void)
{
	struct hart *h = self();
	sigset_t irqs, old, wait;

	sigemptyset(&irqs);
	sigaddset(&irqs, HART_SIG_TIMER);
	sigaddset(&irqs, HART_SIG_IPI);
	/* Block, check, then sigsuspend: an interrupt arriving after the check
	 * stays pending in the host kernel and ends the sigsuspend at once. */
	pthread_sigmask(SIG_BLOCK, &irqs, &old);
	if (!atomic_load(&h->pending) && !atomic_load(&machine_stopping)) {
		wait = old;
		sigdelset(&wait, HART_SIG_TIMER);
		sigdelset(&wait, HART_SIG_IPI);
		sigsuspend(&wait);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (atomic_load(&machine_stopping) && h->id != 0)
		pthread_exit(NULL);
	hosted_deliver_pending(h, NULL);
}

_Noreturn void hal_shutdown(int status)
{
	fflush(stdout);
	exit(status);
}

/* -- Hart threads ------------------------------------------------------- */

static int hart_setup(struct hart *h)
{
	struct sigevent sev;

	hosted_self = h;
	h->tid = (pid_t)syscall(SYS_gettid);
	h->irq_off = 1;		/* harts start with SIE clear */
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = HART_SIG_TIMER;
	sev._sigev_un._tid = h->tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &h->timer) < 0) {
		fprintf(stderr, "k23sim: hart %u: timer_create: %s\n", h->id, strerror(errno));
		return -K_ENOMEM;
	}
	h->timer_ok = true;
	return hosted_hart_traps_init(h);
}

static void *hart_thread(void *arg)
{
	struct hart *h = arg;

	if (hart_setup(h) < 0)
		hal_shutdown(1);
	kernel_hart_entry(h->id, 0);
}

int hal_hart_start(unsigned hartid, uintptr_t opaque)
{
	struct hart *h;
	pthread_attr_t attr;
	int err;

	(void)opaque;
	if (hartid >= hosted_nharts || hosted_harts[hartid].started)
		return -K_EINVAL;
	h = &hosted_harts[hartid];
	h->started = true;
	pthread_attr_init(&attr);
	/* The boot stack of a hart; tasks run on stacks of their own. */
	pthread_attr_setstacksize(&attr, 1u << 20);
	err = pthread_create(&h->thread, &attr, hart_thread, h);
	pthread_attr_destroy(&attr);
	if (err) {
		h->started = false;
		return -K_ENOMEM;
	}
	return 0;
}

/* The calling thread becomes hart 0. */
int hosted_harts_init(unsigned nharts)
{
	memset(hosted_harts, 0, sizeof(hosted_harts));
	atomic_store(&machine_stopping, false);
	hosted_nharts = nharts;
	for (unsigned i = 0; i < nharts; i++)
		hosted_harts[i].id = i;
	hosted_harts[0].thread = pthread_self();
	hosted_harts[0].started = true;
	return hart_setup(&hosted_harts[0]);
}

static bool join_within(struct hart *h, unsigned seconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	return pthread_timedjoin_np(h->thread, NULL, &deadline) == 0;
}

/* Stop every other hart at its next hal_idle() and reap hart 0's state. */
void hosted_harts_stop(void)
{
	struct hart *h0 = &hosted_harts[0];

	atomic_store(&machine_stopping, true);
	for (unsigned i = 1; i < hosted_nharts; i++) {
		struct hart *h = &hosted_harts[i];

		if (!h->started)
			continue;
		atomic_fetch_or(&h->pending, HART_PEND_SOFT);
		pthread_kill(h->thread, HART_SIG_IPI);
		if (!join_within(h, 5)) {
			/* A hart that never idles (a kernel bug) must not hang the
			 * process: say so and leave it to die with the process. */
			fprintf(stderr, "k23sim: hart %u did not stop within 5 s\n", h->id);
			continue;
		}
		if (h->timer_ok)
			timer_delete(h->timer);
		hosted_hart_traps_fini(h);
	}
	if (h0->timer_ok)
		timer_delete(h0->timer);
	h0->irq_off = 1;
	hosted_hart_traps_fini(h0);
	hosted_self = NULL;
}
