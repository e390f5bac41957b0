/*
 * switch_x86_64.S - context switch for x86-64 (see ctx.h).
 *
 * Frame of a suspended context, from its saved sp upwards:
 *   +0  MXCSR (4 bytes), x87 control word (2 bytes), padding
 *   +8  r15, r14, r13, r12, rbx, rbp
 *   +56 return address
 * For a new context the return address is ctx_start, rbx holds the entry
 * function, r12 its argument and rbp zero (end of the frame-pointer chain).
 */
	.text

/* void *sched_ctx_switch(struct sched_ctx *from, const struct sched_ctx *to,
 *                        void *pass): pass travels in rdx, returned in rax. */
	.globl	sched_ctx_switch
	.type	sched_ctx_switch, @function
	.p2align 4
sched_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	movq	%rdx, %rax
	ret
	.cfi_endproc
	.size	sched_ctx_switch, .-sched_ctx_switch

/* void sched_ctx_make(struct sched_ctx *ctx, void *stack_top,
 *                     void (*entry)(void *, void *), void *arg) */
	.globl	sched_ctx_make
	.type	sched_ctx_make, @function
	.p2align 4
sched_ctx_make:
	.cfi_startproc
	andq	$-16, %rsi
	/* After the switch's final ret pops the address at top-8, rsp is
	 * 16-byte aligned, so ctx_start's call sees the ABI's alignment. */
	leaq	ctx_start(%rip), %rax
	movq	%rax, -8(%rsi)
	movq	$0, -16(%rsi)		/* rbp */
	movq	%rdx, -24(%rsi)		/* rbx: entry */
	movq	%rcx, -32(%rsi)		/* r12: arg */
	movq	$0, -40(%rsi)		/* r13 */
	movq	$0, -48(%rsi)		/* r14 */
	movq	$0, -56(%rsi)		/* r15 */
	movq	$0, -64(%rsi)
	stmxcsr	-64(%rsi)
	fnstcw	-60(%rsi)
	leaq	-64(%rsi), %rax
	movq	%rax, (%rdi)
	ret
	.cfi_endproc
	.size	sched_ctx_make, .-sched_ctx_make

/* First code of every new context.  The CFI marks the outermost frame so
 * that backtraces of a task end here. */
	.type	ctx_start, @function
	.p2align 4
ctx_start:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	movq	%rdx, %rsi		/* the first switch's pass value */
	callq	*%rbx
	ud2				/* entry returned: a kernel bug */
	.cfi_endproc
	.size	ctx_start, .-ctx_start

	.section .note.GNU-stack, "", @progbits
