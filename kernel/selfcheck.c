/* selfcheck.c - the boot self-check (see boot.h). */
#include <stdatomic.h>
#include "as.h"
#include "boot.h"
#include "frame.h"
#include "hal.h"
#include "kerr.h"
#include "klib.h"
#include "log.h"
#include "smp.h"
#include "trap.h"

static int report(const char *what, int err)
{
	kprintf("self-check: %-38s %s%s\n", what, err ? "FAILED: " : "ok",
		err ? kerr_str(err) : "");
	return err != 0;
}

static int check_frames(void)
{
	paddr_t small, big;
	int err;

	if ((err = frame_alloc(0, &small)) < 0)
		return err;
	if ((err = frame_alloc(9, &big)) < 0) {
		frame_free(small, 0);
		return err;
	}
	/* Both blocks are writable through the direct map and don't overlap. */
	*(volatile uint64_t *)hal_phys_to_virt(small) = 0x6b3233;
	kmemset(hal_phys_to_virt(big), 0xa5, 2u << 20);
	err = *(volatile uint64_t *)hal_phys_to_virt(small) == 0x6b3233 &&
	      IS_ALIGNED(big, 2u << 20) ? 0 : -K_EFAULT;
	frame_free(big, 9);
	frame_free(small, 0);
	return err;
}

static int check_lazy_page(void)
{
	const vaddr_t va = 0x40000000;
	struct trap_counts before, after;
	struct as *as;
	int err;

	if ((err = as_create(&as, kernel_paging_mode())) < 0)
		return err;
	if ((err = as_reserve_lazy(as, va, 16 * HAL_PAGE_SIZE, PTE_R | PTE_W | PTE_U)) == 0) {
		volatile uint32_t *p = as_ptr(as, va + 5 * HAL_PAGE_SIZE);

		trap_counts(hal_hart_id(), &before);
		*p = 0x23;	/* faults, gets a zeroed frame, resumes */
		trap_counts(hal_hart_id(), &after);
		if (*p != 0x23 || p[1] != 0 || after.page_faults != before.page_faults + 1)
			err = -K_EFAULT;
	}
	as_destroy(as);
	return err;
}

static atomic_uint harts_ticked;

/* On each hart: arm the timer 1 ms ahead and wait for its interrupt. */
static void tick_once(void *arg)
{
	struct trap_counts before, now;
	unsigned hart = hal_hart_id();
	uint64_t give_up = hal_time_mono_ns() + 1000000000ull;
	hal_irqstate_t s;

	(void)arg;
	/* Look before each wait, with interrupts off from before the timer
	 * is armed: the interrupt may come before the first wait (the arming
	 * itself can take longer than 1 ms on a loaded emulator), and
	 * hal_idle() never sleeps through one already pending. */
	s = hal_irq_save();
	trap_counts(hart, &before);
	hal_timer_set(hal_time_mono_ns() + 1000000);
	for (;;) {
		trap_counts(hart, &now);
		if (now.timer != before.timer || hal_time_mono_ns() >= give_up)
			break;
		hal_idle();
	}
	hal_irq_restore(s);
	if (now.timer > before.timer)
		atomic_fetch_add(&harts_ticked, 1);
}

static int check_harts(void)
{
	atomic_store(&harts_ticked, 0);
	smp_call_all(tick_once, NULL);	/* every other hart is reached by IPI */
	return atomic_load(&harts_ticked) == hal_hart_count() ? 0 : -K_ETIMEDOUT;
}

int kernel_selfcheck(void)
{
	int failed = 0;

	failed += report("frame alloc/free", check_frames());
	failed += report("lazy page through the vm window", check_lazy_page());
	failed += report("IPI and timer interrupt on each hart", check_harts());
	return failed;
}
