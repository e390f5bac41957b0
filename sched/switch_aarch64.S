/*
 * switch_aarch64.S - context switch for AArch64 (see ctx.h).
 *
 * Frame of a suspended context, from its saved sp upwards (160 bytes):
 *   +0   x19 x20 ... x28 x29 x30 (12 registers)
 *   +96  d8 ... d15
 * x30 is the address the switch returns to: ctx_start for a new context,
 * with the entry function in x19, its argument in x20 and x29 zero.
 */
	.text

/* void *sched_ctx_switch(struct sched_ctx *from, const struct sched_ctx *to,
 *                        void *pass): pass travels in x2, returned in x0. */
	.globl	sched_ctx_switch
	.type	sched_ctx_switch, %function
	.p2align 4
sched_ctx_switch:
	.cfi_startproc
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	mov	x0, x2
	ret
	.cfi_endproc
	.size	sched_ctx_switch, .-sched_ctx_switch

/* void sched_ctx_make(struct sched_ctx *ctx, void *stack_top,
 *                     void (*entry)(void *, void *), void *arg) */
	.globl	sched_ctx_make
	.type	sched_ctx_make, %function
	.p2align 4
sched_ctx_make:
	.cfi_startproc
	and	x1, x1, #~15
	sub	x1, x1, #160
	stp	x2, x3, [x1, #0]		/* x19: entry, x20: arg */
	stp	xzr, xzr, [x1, #16]
	stp	xzr, xzr, [x1, #32]
	stp	xzr, xzr, [x1, #48]
	stp	xzr, xzr, [x1, #64]
	adr	x9, ctx_start
	stp	xzr, x9, [x1, #80]		/* x29 = 0, x30 = ctx_start */
	stp	xzr, xzr, [x1, #96]
	stp	xzr, xzr, [x1, #112]
	stp	xzr, xzr, [x1, #128]
	stp	xzr, xzr, [x1, #144]
	str	x1, [x0]
	ret
	.cfi_endproc
	.size	sched_ctx_make, .-sched_ctx_make

/* First code of every new context; the CFI ends backtraces here. */
	.type	ctx_start, %function
	.p2align 4
ctx_start:
	.cfi_startproc
	.cfi_undefined x30
	mov	x1, x2			/* the first switch's pass value */
	mov	x0, x20
	blr	x19
	brk	#0x1			/* entry returned: a kernel bug */
	.cfi_endproc
	.size	ctx_start, .-ctx_start

	.section .note.GNU-stack, "", %progbits
