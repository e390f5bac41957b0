/* smp.c - cross-hart calls through a one-slot mailbox per hart. */
#include <stdatomic.h>
#include "hal.h"
#include "kerr.h"
#include "klib.h"
#include "smp.h"

struct mailbox {
	_Atomic(smp_fn) fn;	/* set by the caller, cleared by the target when done */
	void *arg;
} __attribute__((aligned(64)));

static struct mailbox mailboxes[HAL_MAX_HARTS];

bool smp_poll(void)
{
	struct mailbox *mb = &mailboxes[hal_hart_id()];
	smp_fn fn = atomic_load_explicit(&mb->fn, memory_order_acquire);

	if (!fn)
		return false;
	fn(mb->arg);
	atomic_store_explicit(&mb->fn, NULL, memory_order_release);
	return true;
}

static void post(unsigned hart, smp_fn fn, void *arg)
{
	struct mailbox *mb = &mailboxes[hart];

	KASSERT(!atomic_load(&mb->fn), "hart %u already has a call pending", hart);
	mb->arg = arg;
	atomic_store_explicit(&mb->fn, fn, memory_order_release);
	hal_ipi_send(hart);
}

static void wait_done(unsigned hart)
{
	while (atomic_load_explicit(&mailboxes[hart].fn, memory_order_acquire))
		cpu_relax();
}

int smp_call_on(unsigned hart, smp_fn fn, void *arg)
{
	if (hart >= hal_hart_count() || hart == hal_hart_id())
		return -K_EINVAL;
	post(hart, fn, arg);
	wait_done(hart);
	return 0;
}

void smp_call_all(smp_fn fn, void *arg)
{
	unsigned self = hal_hart_id(), n = hal_hart_count();

	for (unsigned h = 0; h < n; h++)
		if (h != self)
			post(h, fn, arg);
	fn(arg);
	for (unsigned h = 0; h < n; h++)
		if (h != self)
			wait_done(h);
}
