/* asm.h - constants entry.S shares with the C side (metal.h, riscv.h). */
#ifndef K23_METAL_ASM_H
#define K23_METAL_ASM_H

#define METAL_MAX_HARTS		64	/* HAL_MAX_HARTS, checked in metal.h */
#define SATP_SV39		(8 << 60)
#define METAL_KOFF_ASM		0xffffffc000000000
#define METAL_BOOT_STACK	(640 << 10)	/* SCHED_BOOT_STACK_USABLE and more */
#define METAL_TRAP_STACK_SHIFT	15		/* 32 KiB, aligned to its size */
#define METAL_TRAP_STACK	(1 << METAL_TRAP_STACK_SHIFT)
#define HART_TRAP_TOP		0		/* offsetof(struct metal_hart, trap_top) */
#define METAL_REGS_SIZE		(72 * 8)
#define REGS_SEPC		(64 * 8)
#define REGS_SSTATUS		(65 * 8)
#define REGS_FCSR		(66 * 8)
#define REGS_SCAUSE		(67 * 8)
#define REGS_STVAL		(68 * 8)
#define REGS_FRAME_FP		(70 * 8)
#define REGS_FRAME_RA		(71 * 8)

#endif /* K23_METAL_ASM_H */
