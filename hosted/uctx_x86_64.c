/* uctx_x86_64.c - signal contexts on x86-64 Linux. */
#define _GNU_SOURCE
#include "uctx.h"

/* Page-fault error code bits (Intel SDM vol. 3, "Page-Fault Exceptions"). */
#define PF_WRITE	(1u << 1)
#define PF_INSN		(1u << 4)

enum hosted_uctx_access hosted_uctx_access(const ucontext_t *uc)
{
	greg_t err = uc->uc_mcontext.gregs[REG_ERR];

	if (err & PF_INSN)
		return UCTX_EXEC;
	return (err & PF_WRITE) ? UCTX_WRITE : UCTX_READ;
}

void hosted_uctx_to_frame(const ucontext_t *uc, struct trap_frame *tf)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	tf->pc = (uintptr_t)g[REG_RIP];
	tf->sp = (uintptr_t)g[REG_RSP];
	tf->fp = (uintptr_t)g[REG_RBP];
	tf->arg0 = (uintptr_t)g[REG_RDI];
	tf->arg1 = (uintptr_t)g[REG_RSI];
}

void hosted_uctx_from_frame(ucontext_t *uc, const struct trap_frame *tf)
{
	greg_t *g = uc->uc_mcontext.gregs;

	g[REG_RIP] = (greg_t)tf->pc;
	g[REG_RSP] = (greg_t)tf->sp;
	g[REG_RBP] = (greg_t)tf->fp;
	g[REG_RDI] = (greg_t)tf->arg0;
	g[REG_RSI] = (greg_t)tf->arg1;
}
