/*
 * trap.c - host signals become RISC-V style traps.
 *
 * SIGSEGV/SIGBUS inside a vm_sim window -> page fault with the guest
 * virtual address; elsewhere -> access fault with the host address (a
 * kernel bug: kernel_trap panics with a backtrace).  SIGILL -> illegal
 * instruction, SIGTRAP -> breakpoint.  The timer and IPI signals ->
 * interrupts, held pending while the hart has interrupts disabled.
 * The kernel may change pc, sp and the argument registers in the frame;
 * they are written back to the context the handler returns to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../kernel/kerr.h"
#include "../vm_sim/vmsim.h"
#include "hart.h"
#include "uctx.h"

#define ALTSTACK_SIZE (64u << 10)

static void irq_handler(int sig, siginfo_t *si, void *uc)
{
	struct hart *h = hosted_self;
	int saved_errno = errno;

	(void)si;
	if (!h)
		return;		/* not a hart: nothing to interrupt */
	if (sig == HART_SIG_TIMER)
		atomic_fetch_or(&h->pending, HART_PEND_TIMER);
	else
		atomic_fetch_or(&h->pending, HART_PEND_SOFT);
	if (!h->irq_off) {
		h->irq_off = 1;		/* traps run with SIE clear */
		hosted_deliver_pending(h, uc);
		h->irq_off = 0;
	}
	errno = saved_errno;
}

static uint64_t fault_cause(int sig, const ucontext_t *uc, bool in_window)
{
	enum hosted_uctx_access acc = hosted_uctx_access(uc);

	if (sig == SIGILL)
		return TRAP_ILLEGAL_INSN;
	if (sig == SIGTRAP)
		return TRAP_BREAKPOINT;
	if (in_window)
		return acc == UCTX_EXEC ? TRAP_INSN_PAGE_FAULT :
		       acc == UCTX_WRITE ? TRAP_STORE_PAGE_FAULT : TRAP_LOAD_PAGE_FAULT;
	return acc == UCTX_EXEC ? TRAP_INSN_ACCESS :
	       acc == UCTX_WRITE ? TRAP_STORE_ACCESS : TRAP_LOAD_ACCESS;
}

/*
 * A fault signal on a thread that is not a hart (hart 0's thread after
 * the machine stopped, a test's helper thread, a library's) is not the
 * kernel's: it gets the default action, which ends the process with a core
 * dump, as if k23sim were not there.  Handlers are process-wide and the
 * harts keep relying on ours, so this must not set SIG_DFL and carry on:
 * the old way did, and when the thread survived its signal (a raise(), a
 * breakpoint) every later hart fault killed the process instead of
 * trapping.
 *  - A fault of the instruction (SIGSEGV, SIGBUS, SIGILL from the host
 *    kernel) recurs when the handler returns.  Returning with the signal
 *    blocked in the context's mask (this thread's alone) makes the host
 *    kernel, which never leaves a fault pending, deliver the recurrence
 *    with the default action: the process dies of it, the core shows this
 *    thread, and nothing changes for the harts before the host kernel
 *    takes the process down.
 *  - Anything else (a breakpoint, which x86-64 resumes after; a signal
 *    sent with kill() or raise()) does not recur, so it is raised again
 *    under SIG_DFL.  That changes the handler for every thread, but
 *    only as the process dies: the signal is not blocked here (the
 *    handler is SA_NODEFER), so raise() does not return.
 */
static void not_a_hart(int sig, const siginfo_t *si, ucontext_t *uc)
{
	if (si->si_code > 0 && sig != SIGTRAP) {
		sigaddset(&uc->uc_sigmask, sig);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fault_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	struct hart *h = hosted_self;
	struct trap_frame tf = { .asid = HAL_ASID_NONE, .platform = uc };
	uintptr_t addr = (uintptr_t)si->si_addr;
	int saved_errno = errno, was_off;
	uint16_t asid;
	vaddr_t va;
	bool in_window;

	if (!h) {
		not_a_hart(sig, si, uc);
		return;
	}
	in_window = (sig == SIGSEGV || sig == SIGBUS) && vmsim_fault_lookup(addr, &asid, &va);
	tf.cause = fault_cause(sig, uc, in_window);
	tf.tval = in_window ? va : addr;
	if (in_window)
		tf.asid = asid;
	hosted_uctx_to_frame(uc, &tf);

	was_off = h->irq_off;
	h->irq_off = 1;
	kernel_trap(&tf);
	h->irq_off = was_off;
	hosted_uctx_from_frame(uc, &tf);
	errno = saved_errno;
}

int hosted_traps_init(void)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, HART_SIG_TIMER);
	sigaddset(&sa.sa_mask, HART_SIG_IPI);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sa.sa_sigaction = fault_handler;
	/* SA_NODEFER: a fault handler may fault again (nested page fault in
	 * a lazy region touched by the kernel while handling a fault). */
	sa.sa_flags |= SA_NODEFER;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (sigaction(faults[i], &sa, NULL) < 0)
			return -K_EINVAL;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sa.sa_sigaction = irq_handler;
	if (sigaction(HART_SIG_TIMER, &sa, NULL) < 0 || sigaction(HART_SIG_IPI, &sa, NULL) < 0)
		return -K_EINVAL;
	return 0;
}

int hosted_hart_traps_init(struct hart *h)
{
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	sigset_t irqs;

	h->altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->altstack == MAP_FAILED) {
		h->altstack = NULL;
		return -K_ENOMEM;
	}
	ss.ss_sp = h->altstack;
	if (sigaltstack(&ss, NULL) < 0)
		return -K_EINVAL;
	sigemptyset(&irqs);
	sigaddset(&irqs, HART_SIG_TIMER);
	sigaddset(&irqs, HART_SIG_IPI);
	pthread_sigmask(SIG_UNBLOCK, &irqs, NULL);
	return 0;
}

void hosted_hart_traps_fini(struct hart *h)
{
	if (h == hosted_self) {
		stack_t ss = { .ss_flags = SS_DISABLE };
		sigset_t irqs;

		sigaltstack(&ss, NULL);
		sigemptyset(&irqs);
		sigaddset(&irqs, HART_SIG_TIMER);
		sigaddset(&irqs, HART_SIG_IPI);
		pthread_sigmask(SIG_BLOCK, &irqs, NULL);
	}
	if (h->altstack)
		munmap(h->altstack, ALTSTACK_SIZE);
	h->altstack = NULL;
}
