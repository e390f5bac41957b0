/*
 * entry.S - where OpenSBI enters the kernel, where secondary harts start,
 * and the trap vector.
 *
 * OpenSBI jumps to the physical entry in S-mode with a0 = hartid, a1 = the
 * device tree's physical address, translation off (satp = 0) and
 * interrupts off.  The code below runs at its physical address until it
 * has turned on the boot page table (metal_boot_pt, which maps the kernel
 * both where it is and where it is linked), then jumps to its link
 * address; only PC-relative addressing (lla) is used before that jump.
 */
#include "asm.h"

	.section .text.entry, "ax"
	.globl	_start
_start:
	/* The boot hart lottery: the first hart here boots the kernel.  Under
	 * an SBI with HSM only one hart arrives; without it every hart does
	 * and the losers wait for hal_hart_start() to release them. */
	lla	t0, metal_lottery
	li	t1, 1
	amoswap.w.aqrl t1, t1, (t0)
	bnez	t1, lost_lottery

	/* Clear .bss, at its physical address. */
	lla	t0, _bss_start
	lla	t1, _bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	li	a2, 0			/* kernel hart 0 */
	j	common

	/*
	 * A loser: a second hart came through here.  An SBI without HSM
	 * sends every hart; OpenSBI 1.1 now and then sends a hart started by
	 * hart_start here instead of to metal_secondary_entry (its
	 * hart_start seems to publish START_PENDING before the new start
	 * address, so a hart that wakes early takes the boot entry).  Wait for
	 * metal_release[hartid] to name our kernel hart number (plus one),
	 * which hal_hart_start() sets before it calls hart_start.
	 * metal_release lives in .data, not in .bss, which the winner clears
	 * under our feet.
	 */
lost_lottery:
	li	t1, METAL_MAX_HARTS
	bgeu	a0, t1, park
	lla	t0, metal_release
	slli	t1, a0, 3
	add	t0, t0, t1
3:	ld	t1, 0(t0)
	beqz	t1, 3b
	addi	a2, t1, -1
	li	a1, 0
	j	common
park:	wfi
	j	park

	/* SBI hart_start enters here: a0 = hartid, a1 = our opaque, the
	 * kernel hart number. */
	.globl	metal_secondary_entry
metal_secondary_entry:
	mv	a2, a1
	li	a1, 0

	/* a0 = hartid, a1 = device tree (hart 0) or 0, a2 = kernel hart. */
common:
	csrw	sie, zero
	lla	t0, metal_boot_pt
	srli	t0, t0, 12
	li	t1, SATP_SV39
	or	t0, t0, t1
	sfence.vma
	csrw	satp, t0
	sfence.vma
	li	t2, METAL_KOFF_ASM
	lla	t0, 4f
	add	t0, t0, t2
	jr	t0
4:	/* In the upper half: lla now yields link addresses. */
	bnez	a2, 5f
	lla	sp, metal_boot_stack + METAL_BOOT_STACK
	j	6f
5:	lla	t0, metal_stack_tops
	slli	t1, a2, 3
	add	t0, t0, t1
	ld	sp, 0(t0)		/* set by hal_hart_start() */
6:	li	s0, 0			/* fp 0 ends every backtrace */
	li	ra, 0
	call	metal_start
	unimp

/*
 * The trap vector (stvec, direct mode).  The kernel runs only in S-mode,
 * with tp always its hart's struct metal_hart.  A trap moves to the hart's
 * trap stack (as the hosted platform's signal handlers run on a signal
 * stack), so that a stack overflow, which faults on a guard page, still
 * traps and panics; a trap taken on the trap stack itself (inside
 * kernel_trap()) stays on it.  The frame (struct metal_regs) holds every
 * integer and FP register, since the trap may interrupt any instruction,
 * and ends in a frame record (saved fp, sepc) with s0 pointing past it, so
 * that a frame-pointer backtrace from inside kernel_trap() walks on into
 * the interrupted code.
 */
	.text
	.globl	metal_trap_vector
	.p2align 2
metal_trap_vector:
	csrw	sscratch, t0
	ld	t0, HART_TRAP_TOP(tp)
	addi	t0, t0, -1
	xor	t0, t0, sp
	srli	t0, t0, METAL_TRAP_STACK_SHIFT
	beqz	t0, 1f			/* sp is in the trap stack already */
	ld	t0, HART_TRAP_TOP(tp)
	addi	t0, t0, -METAL_REGS_SIZE
	sd	sp, 2*8(t0)		/* the trapped sp, never dereferenced */
	mv	sp, t0
	j	2f
1:	addi	sp, sp, -METAL_REGS_SIZE
	addi	t0, sp, METAL_REGS_SIZE
	sd	t0, 2*8(sp)
2:	csrr	t0, sscratch
	sd	x1, 1*8(sp)
	sd	x3, 3*8(sp)
	sd	x4, 4*8(sp)
	sd	x5, 5*8(sp)
	sd	x6, 6*8(sp)
	sd	x7, 7*8(sp)
	sd	x8, 8*8(sp)
	sd	x9, 9*8(sp)
	sd	x10, 10*8(sp)
	sd	x11, 11*8(sp)
	sd	x12, 12*8(sp)
	sd	x13, 13*8(sp)
	sd	x14, 14*8(sp)
	sd	x15, 15*8(sp)
	sd	x16, 16*8(sp)
	sd	x17, 17*8(sp)
	sd	x18, 18*8(sp)
	sd	x19, 19*8(sp)
	sd	x20, 20*8(sp)
	sd	x21, 21*8(sp)
	sd	x22, 22*8(sp)
	sd	x23, 23*8(sp)
	sd	x24, 24*8(sp)
	sd	x25, 25*8(sp)
	sd	x26, 26*8(sp)
	sd	x27, 27*8(sp)
	sd	x28, 28*8(sp)
	sd	x29, 29*8(sp)
	sd	x30, 30*8(sp)
	sd	x31, 31*8(sp)
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fsd	f\n, (32+\n)*8(sp)
	.endr
	frcsr	t0
	sd	t0, REGS_FCSR(sp)
	csrr	t0, sepc
	sd	t0, REGS_SEPC(sp)
	sd	t0, REGS_FRAME_RA(sp)
	csrr	t0, sstatus
	sd	t0, REGS_SSTATUS(sp)
	csrr	t0, scause
	sd	t0, REGS_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, REGS_STVAL(sp)
	sd	s0, REGS_FRAME_FP(sp)
	addi	s0, sp, METAL_REGS_SIZE
	mv	a0, sp
	call	metal_trap

	ld	t0, REGS_SEPC(sp)
	csrw	sepc, t0
	ld	t0, REGS_SSTATUS(sp)
	csrw	sstatus, t0
	ld	t0, REGS_FCSR(sp)
	fscsr	t0
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fld	f\n, (32+\n)*8(sp)
	.endr
	ld	x1, 1*8(sp)
	ld	x3, 3*8(sp)
	ld	x4, 4*8(sp)
	ld	x5, 5*8(sp)
	ld	x6, 6*8(sp)
	ld	x7, 7*8(sp)
	ld	x8, 8*8(sp)
	ld	x9, 9*8(sp)
	ld	x10, 10*8(sp)
	ld	x11, 11*8(sp)
	ld	x12, 12*8(sp)
	ld	x13, 13*8(sp)
	ld	x14, 14*8(sp)
	ld	x15, 15*8(sp)
	ld	x16, 16*8(sp)
	ld	x17, 17*8(sp)
	ld	x18, 18*8(sp)
	ld	x19, 19*8(sp)
	ld	x20, 20*8(sp)
	ld	x21, 21*8(sp)
	ld	x22, 22*8(sp)
	ld	x23, 23*8(sp)
	ld	x24, 24*8(sp)
	ld	x25, 25*8(sp)
	ld	x26, 26*8(sp)
	ld	x27, 27*8(sp)
	ld	x28, 28*8(sp)
	ld	x29, 29*8(sp)
	ld	x30, 30*8(sp)
	ld	x31, 31*8(sp)
	ld	sp, 2*8(sp)		/* last: the kernel may have moved it */
	sret

	.section .data
	.p2align 3
metal_lottery:
	.word	0
	.p2align 3
	.globl	metal_release
metal_release:
	.zero	8 * METAL_MAX_HARTS

	.section .note.GNU-stack, "", @progbits
