/*
 * boot.c - bring the kernel up: hart 0 initialises memory and the other
 * harts join, as on a real machine where every hart enters the kernel.
 */
#include <stdatomic.h>
#include "boot.h"
#include "frame.h"
#include "hal.h"
#include "kerr.h"
#include "klib.h"
#include "log.h"
#include "pt.h"
#include "smp.h"
#include "../sched/sched.h"

static atomic_uint harts_up;
static unsigned boot_paging_mode;

unsigned kernel_paging_mode(void)
{
	return boot_paging_mode;
}

_Noreturn void kernel_hart_entry(unsigned hartid, uintptr_t opaque)
{
	(void)opaque;
	klog(boot, DEBUG, "hart %u up", hartid);
	atomic_fetch_add_explicit(&harts_up, 1, memory_order_release);
	/* Every hart's home once booted: the scheduler's idle loop runs
	 * tasks, cross-hart calls (smp_poll), else waits for an interrupt. */
	sched_hart_run();
}

static void banner(void)
{
	const struct hal_mem_region *r;
	size_t n = hal_mem_regions(&r);
	struct frame_stats st;

	frame_stats(&st);
	kprintf("k23: %u harts, paging %s\n", hal_hart_count(),
		pt_mode_name(boot_paging_mode));
	for (size_t i = 0; i < n; i++)
		kprintf("k23: ram %#llx-%#llx (%llu MiB)\n",
			(unsigned long long)r[i].base,
			(unsigned long long)(r[i].base + r[i].size - 1),
			(unsigned long long)(r[i].size >> 20));
	kprintf("k23: %llu frames free of %llu\n", (unsigned long long)st.free,
		(unsigned long long)st.total);
}

int kernel_boot(const struct hal_boot_info *info)
{
	int err;

	KASSERT(hal_hart_id() == 0, "boot on hart %u", hal_hart_id());
	if (info->log_filter && (err = log_set_filter(info->log_filter)) < 0)
		k23_panic("kernel_boot: bad log filter '%s'", info->log_filter);
	if (!pt_mode_valid(info->paging_mode))
		k23_panic("kernel_boot: paging mode %u unsupported", info->paging_mode);
	boot_paging_mode = info->paging_mode;
	if ((err = frame_init()) < 0)
		k23_panic("kernel_boot: frame_init: %s", kerr_str(err));
	/* Before the other harts start: they enter the scheduler at once.
	 * From here on this context is the task "init". */
	if ((err = sched_init(smp_poll)) < 0)
		k23_panic("kernel_boot: sched_init: %s", kerr_str(err));

	atomic_store(&harts_up, 1);
	for (unsigned h = 1; h < hal_hart_count(); h++)
		if ((err = hal_hart_start(h, 0)) < 0)
			k23_panic("kernel_boot: hart %u did not start: %s", h, kerr_str(err));
	while (atomic_load_explicit(&harts_up, memory_order_acquire) < hal_hart_count())
		cpu_relax();
	if (!info->quiet)
		banner();
	hal_irq_enable();

	if (info->selfcheck && (err = kernel_selfcheck()) != 0)
		return err;
	return info->init ? info->init(info->init_arg) : 0;
}
