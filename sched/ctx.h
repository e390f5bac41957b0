/*
 * ctx.h - the architecture's context switch (sched/switch_$(ARCH).S).
 *
 * A context is a stack pointer: a suspended context's callee-saved
 * registers (the only ones a call may not clobber, by each ABI) sit on its
 * own stack, below the address it resumes at.  Nothing else is saved: a
 * switch is an ordinary function call as far as the compiler is concerned.
 *
 *   x86-64 (System V psABI 3.2.1):  rbx rbp r12-r15, MXCSR control bits and
 *                                   the x87 control word, rsp
 *   AArch64 (AAPCS64 6.1.1, 6.1.2): x19-x28 x29 x30, d8-d15, sp
 *   riscv64 (psABI, "Integer/Floating-point Register Convention"):
 *                                   ra s0-s11 fs0-fs11 sp
 */
#ifndef K23_SCHED_CTX_H
#define K23_SCHED_CTX_H

struct sched_ctx {
	void *sp;		/* saved stack pointer while suspended */
};

/*
 * Save the caller's context into *from and resume *to, handing it `pass`.
 * Returns when some other context switches back to *from, with the pass
 * value of that switch (the scheduler hands over its hart this way, which
 * the resumed context would otherwise have to look up).  from and to may
 * not be the same.
 */
void *sched_ctx_switch(struct sched_ctx *from, const struct sched_ctx *to, void *pass);

/*
 * Prepare *ctx to start entry(arg, pass) on the stack that ends at
 * stack_top (exclusive; aligned down to 16 bytes), pass being the value
 * of the first switch to *ctx.  entry must never return (it switches away
 * for good instead).  Floating-point control state is copied from the
 * caller.
 */
void sched_ctx_make(struct sched_ctx *ctx, void *stack_top,
		    void (*entry)(void *arg, void *pass), void *arg);

#endif /* K23_SCHED_CTX_H */
