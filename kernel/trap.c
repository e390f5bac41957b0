/*
 * trap.c - the kernel's single trap entry.  Every interrupt and exception
 * of every platform arrives here with interrupts disabled on the hart.
 */
#include "as.h"
#include "hal.h"
#include "klib.h"
#include "log.h"
#include "trap.h"
#include "../sched/sched.h"

/* Written only by the owning hart (inside its traps); read by anyone. */
static struct trap_counts counts[HAL_MAX_HARTS] __attribute__((aligned(64)));

void trap_counts(unsigned hart, struct trap_counts *out)
{
	*out = counts[hart];
}

const char *trap_cause_name(uint64_t cause)
{
	switch (cause) {
	case TRAP_IRQ_SOFT:		return "software interrupt";
	case TRAP_IRQ_TIMER:		return "timer interrupt";
	case TRAP_IRQ_EXTERNAL:		return "external interrupt";
	case TRAP_INSN_MISALIGNED:	return "instruction address misaligned";
	case TRAP_INSN_ACCESS:		return "instruction access fault";
	case TRAP_ILLEGAL_INSN:		return "illegal instruction";
	case TRAP_BREAKPOINT:		return "breakpoint";
	case TRAP_LOAD_MISALIGNED:	return "load address misaligned";
	case TRAP_LOAD_ACCESS:		return "load access fault";
	case TRAP_STORE_MISALIGNED:	return "store address misaligned";
	case TRAP_STORE_ACCESS:		return "store access fault";
	case TRAP_INSN_PAGE_FAULT:	return "instruction page fault";
	case TRAP_LOAD_PAGE_FAULT:	return "load page fault";
	case TRAP_STORE_PAGE_FAULT:	return "store page fault";
	default:			return "unknown trap";
	}
}

/* The panic's backtrace runs from here through the signal frame (hosted)
 * or trap vector (metal) into the trapped code. */
static _Noreturn void trap_fatal(const struct trap_frame *tf)
{
	k23_panic("kernel_trap: unhandled %s (scause %#llx) at pc %p, stval %#llx, asid %u",
		  trap_cause_name(tf->cause), (unsigned long long)tf->cause,
		  (void *)tf->pc, (unsigned long long)tf->tval, tf->asid);
}

void kernel_trap(struct trap_frame *tf)
{
	struct trap_counts *c = &counts[hal_hart_id()];

	switch (tf->cause) {
	case TRAP_IRQ_TIMER:
		c->timer++;
		sched_irq_timer();	/* sleepers, preemption tick */
		return;
	case TRAP_IRQ_SOFT:
		/* The IPI's work (smp calls, wakeups) is done by the woken hart's
		 * loop; the interrupt only ends hal_idle() (or, on a busy hart,
		 * makes sure a preemption tick is armed). */
		c->soft++;
		sched_irq_soft();
		return;
	case TRAP_LOAD_PAGE_FAULT:
	case TRAP_STORE_PAGE_FAULT:
	case TRAP_INSN_PAGE_FAULT:
		if (as_handle_fault(tf)) {
			c->page_faults++;
			return;
		}
		break;
	default:
		break;
	}
	trap_fatal(tf);
}
