/* uctx_aarch64.c - signal contexts on AArch64 Linux. */
#define _GNU_SOURCE
#include <asm/sigcontext.h>
#include "uctx.h"

/* ESR_ELx (Arm ARM D17.2.40): exception class and, for data aborts, WnR. */
#define ESR_EC(esr)	(((esr) >> 26) & 0x3f)
#define ESR_EC_IABT_LOW	0x20
#define ESR_WNR		(1u << 6)

static uint64_t fault_esr(const ucontext_t *uc)
{
	const struct _aarch64_ctx *h = (const void *)uc->uc_mcontext.__reserved;

	while (h->magic) {
		if (h->magic == ESR_MAGIC)
			return ((const struct esr_context *)h)->esr;
		h = (const void *)((const char *)h + h->size);
	}
	return 0;
}

enum hosted_uctx_access hosted_uctx_access(const ucontext_t *uc)
{
	uint64_t esr = fault_esr(uc);

	if (ESR_EC(esr) == ESR_EC_IABT_LOW)
		return UCTX_EXEC;
	return (esr & ESR_WNR) ? UCTX_WRITE : UCTX_READ;
}

void hosted_uctx_to_frame(const ucontext_t *uc, struct trap_frame *tf)
{
	tf->pc = uc->uc_mcontext.pc;
	tf->sp = uc->uc_mcontext.sp;
	tf->fp = uc->uc_mcontext.regs[29];
	tf->arg0 = uc->uc_mcontext.regs[0];
	tf->arg1 = uc->uc_mcontext.regs[1];
}

void hosted_uctx_from_frame(ucontext_t *uc, const struct trap_frame *tf)
{
	uc->uc_mcontext.pc = tf->pc;
	uc->uc_mcontext.sp = tf->sp;
	uc->uc_mcontext.regs[29] = tf->fp;
	uc->uc_mcontext.regs[0] = tf->arg0;
	uc->uc_mcontext.regs[1] = tf->arg1;
}
