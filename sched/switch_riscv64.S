/*
 * switch_riscv64.S - context switch for riscv64, LP64D (see ctx.h).
 *
 * Frame of a suspended context, from its saved sp upwards (208 bytes):
 *   +0   ra, s0 ... s11
 *   +104 fs0 ... fs11
 * ra is the address the switch returns to: ctx_start for a new context,
 * with the entry function in s1, its argument in s2 and s0 (fp) zero.
 */
	.text

/* void *sched_ctx_switch(struct sched_ctx *from, const struct sched_ctx *to,
 *                        void *pass): pass travels in a2, returned in a0. */
	.globl	sched_ctx_switch
	.type	sched_ctx_switch, @function
	.p2align 2
sched_ctx_switch:
	.cfi_startproc
	addi	sp, sp, -208
	sd	ra, 0(sp)
	sd	s0, 8(sp)
	sd	s1, 16(sp)
	sd	s2, 24(sp)
	sd	s3, 32(sp)
	sd	s4, 40(sp)
	sd	s5, 48(sp)
	sd	s6, 56(sp)
	sd	s7, 64(sp)
	sd	s8, 72(sp)
	sd	s9, 80(sp)
	sd	s10, 88(sp)
	sd	s11, 96(sp)
	fsd	fs0, 104(sp)
	fsd	fs1, 112(sp)
	fsd	fs2, 120(sp)
	fsd	fs3, 128(sp)
	fsd	fs4, 136(sp)
	fsd	fs5, 144(sp)
	fsd	fs6, 152(sp)
	fsd	fs7, 160(sp)
	fsd	fs8, 168(sp)
	fsd	fs9, 176(sp)
	fsd	fs10, 184(sp)
	fsd	fs11, 192(sp)
	sd	sp, 0(a0)
	ld	sp, 0(a1)
	ld	ra, 0(sp)
	ld	s0, 8(sp)
	ld	s1, 16(sp)
	ld	s2, 24(sp)
	ld	s3, 32(sp)
	ld	s4, 40(sp)
	ld	s5, 48(sp)
	ld	s6, 56(sp)
	ld	s7, 64(sp)
	ld	s8, 72(sp)
	ld	s9, 80(sp)
	ld	s10, 88(sp)
	ld	s11, 96(sp)
	fld	fs0, 104(sp)
	fld	fs1, 112(sp)
	fld	fs2, 120(sp)
	fld	fs3, 128(sp)
	fld	fs4, 136(sp)
	fld	fs5, 144(sp)
	fld	fs6, 152(sp)
	fld	fs7, 160(sp)
	fld	fs8, 168(sp)
	fld	fs9, 176(sp)
	fld	fs10, 184(sp)
	fld	fs11, 192(sp)
	addi	sp, sp, 208
	mv	a0, a2
	ret
	.cfi_endproc
	.size	sched_ctx_switch, .-sched_ctx_switch

/* void sched_ctx_make(struct sched_ctx *ctx, void *stack_top,
 *                     void (*entry)(void *, void *), void *arg) */
	.globl	sched_ctx_make
	.type	sched_ctx_make, @function
	.p2align 2
sched_ctx_make:
	.cfi_startproc
	andi	a1, a1, -16
	addi	a1, a1, -208
	/* Zero the whole frame, then fill in what ctx_start needs. */
	mv	t0, a1
	addi	t1, a1, 208
1:	sd	zero, 0(t0)
	addi	t0, t0, 8
	bltu	t0, t1, 1b
	lla	t0, ctx_start
	sd	t0, 0(a1)		/* ra */
	sd	a2, 16(a1)		/* s1: entry */
	sd	a3, 24(a1)		/* s2: arg */
	sd	a1, 0(a0)
	ret
	.cfi_endproc
	.size	sched_ctx_make, .-sched_ctx_make

/* First code of every new context; the CFI ends backtraces here. */
	.type	ctx_start, @function
	.p2align 2
ctx_start:
	.cfi_startproc
	.cfi_undefined ra
	mv	a1, a2			/* the first switch's pass value */
	mv	a0, s2
	jalr	s1
	unimp				/* entry returned: a kernel bug */
	.cfi_endproc
	.size	ctx_start, .-ctx_start

	.section .note.GNU-stack, "", @progbits
