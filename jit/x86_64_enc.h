/*
 * x86_64_enc.h - x86-64 machine-code encoders for the JIT's x86-64 back
 * end: one function per instruction form, each appending the instruction's
 * bytes to a jit_buf (sticky overflow, see jit/buf.h).  Pure encoding: no
 * register allocation, no lowering, no choice the caller did not make,
 * except picking the shortest of equivalent encodings (imm8 forms, the
 * shortest mov of a constant, disp8 vs disp32).
 *
 * Operand order is Intel's, destination first.  `w` selects 64-bit
 * operands (REX.W); otherwise 32-bit, and a 32-bit result zero-extends to
 * 64 bits.  SSE uses the legacy (non-VEX) encodings, SSE4.1 at most.
 *
 * References are to the Intel 64 and IA-32 Architectures Software
 * Developer's Manual (SDM), Volume 2A chapter 2 unless said otherwise.
 * tests/test_x86_64_enc.c checks every form against GNU as.
 *
 * Freestanding: stdint, stdbool and jit/buf.h only.
 */
#ifndef K23_JIT_X86_64_ENC_H
#define K23_JIT_X86_64_ENC_H

#include <stdbool.h>
#include <stdint.h>
#include "jit/buf.h"

/* -- Registers and operands --------------------------------------------- */

/* General-purpose registers, by hardware number (SDM 2.2.1.3: bit 3 goes
 * in REX.R, REX.X or REX.B, bits 0-2 in ModRM, SIB or the opcode). */
enum x64_gpr {
	X64_RAX, X64_RCX, X64_RDX, X64_RBX, X64_RSP, X64_RBP, X64_RSI, X64_RDI,
	X64_R8, X64_R9, X64_R10, X64_R11, X64_R12, X64_R13, X64_R14, X64_R15,
};

enum x64_xmm {
	X64_XMM0, X64_XMM1, X64_XMM2, X64_XMM3, X64_XMM4, X64_XMM5, X64_XMM6,
	X64_XMM7, X64_XMM8, X64_XMM9, X64_XMM10, X64_XMM11, X64_XMM12,
	X64_XMM13, X64_XMM14, X64_XMM15,
};

/* Condition codes, by the number in Jcc/SETcc/CMOVcc (SDM Vol. 1 B.1);
 * the low bit negates, so cc ^ 1 is the opposite condition. */
enum x64_cc {
	X64_CC_O, X64_CC_NO, X64_CC_B, X64_CC_AE, X64_CC_E, X64_CC_NE,
	X64_CC_BE, X64_CC_A, X64_CC_S, X64_CC_NS, X64_CC_P, X64_CC_NP,
	X64_CC_L, X64_CC_GE, X64_CC_LE, X64_CC_G,
};

static inline enum x64_cc x64_cc_invert(enum x64_cc cc)
{
	return (enum x64_cc)(cc ^ 1);
}

/* Operand sizes of loads and stores, as log2 of their bytes. */
enum x64_size { X64_BYTE, X64_WORD, X64_DWORD, X64_QWORD };

/*
 * A memory operand: [base + index << scale + disp], or [rip + disp] when
 * base is X64_RIP (disp counts from the end of the instruction).  The
 * index may be any register but RSP (SDM Table 2-3: index 100 without
 * REX.X means "no index"); scale is 0..3 for *1, *2, *4, *8.
 */
struct x64_mem {
	uint8_t base;		/* enum x64_gpr, or X64_RIP */
	uint8_t index;		/* enum x64_gpr but RSP; if has_index */
	uint8_t scale;		/* log2 of the index's factor; if has_index */
	bool has_index;
	int32_t disp;
};

enum { X64_RIP = 16 };		/* x64_mem.base of a RIP-relative operand */

static inline struct x64_mem x64_mem_bd(enum x64_gpr base, int32_t disp)
{
	return (struct x64_mem){ .base = (uint8_t)base, .disp = disp };
}

static inline struct x64_mem x64_mem_bisd(enum x64_gpr base, enum x64_gpr index,
					  unsigned scale, int32_t disp)
{
	return (struct x64_mem){ .base = (uint8_t)base, .index = (uint8_t)index,
				 .scale = (uint8_t)(scale & 3), .has_index = true,
				 .disp = disp };
}

static inline struct x64_mem x64_mem_rip(int32_t disp)
{
	return (struct x64_mem){ .base = X64_RIP, .disp = disp };
}

/* -- Instruction layout ------------------------------------------------- */

/*
 * REX bits (SDM 2.2.1, Table 2-4).  X64_REX alone asks for a REX byte
 * with no bit set: without one, byte registers 4-7 are AH, CH, DH, BH;
 * with one they are SPL, BPL, SIL, DIL (SDM Vol. 1 3.4.1.1).
 */
enum { X64_REX = 0x40, X64_REX_W = 0x48, X64_REX_R = 4, X64_REX_X = 2, X64_REX_B = 1 };

static inline unsigned x64_rex_w(bool w)
{
	return w ? X64_REX_W : 0;
}

/* The empty REX byte register r needs as a byte register. */
static inline unsigned x64_rex_byte(unsigned r)
{
	return r >= 4 && r < 8 ? X64_REX : 0;
}

static inline bool x64_fits8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/*
 * The prefixes and opcode of an instruction.  `op` packs an optional
 * mandatory or operand-size prefix (66, F2, F3) and one to three opcode
 * bytes, first byte most significant: 0xF20F58 is F2 0F 58 (addsd),
 * 0x660F3A0B is 66 0F 3A 0B (roundsd).  The REX byte goes between them:
 * after the legacy prefixes, immediately before the opcode (SDM 2.2.1).
 * Emitted only if `rex` is not zero.
 */
/*
 * x64_emit_op's bytes at p, where room for them (5) has been made; the
 * byte after them.  The encoders write through a local cursor and store
 * it back once: a byte stored through b->p may alias b->p itself, so
 * writing through it would reload the cursor after every byte.
 */
static inline uint8_t *x64_op_at(uint8_t *p, uint32_t op, unsigned rex)
{
	unsigned n = op > 0xffffff ? 4 : op > 0xffff ? 3 : op > 0xff ? 2 : 1;
	uint8_t first = (uint8_t)(op >> (8 * (n - 1)));

	if (n > 1 && (first == 0x66 || first == 0xf2 || first == 0xf3)) {
		*p++ = first;
		n--;
	}
	if (rex)
		*p++ = (uint8_t)(X64_REX | rex);
	while (n--)
		*p++ = (uint8_t)(op >> (8 * n));
	return p;
}

static inline void x64_emit_op(struct jit_buf *b, uint32_t op, unsigned rex)
{
	unsigned n = (op > 0xffffff ? 4 : op > 0xffff ? 3 : op > 0xff ? 2 : 1) + (rex != 0);

	if (jit_buf_room(b, n))
		b->p = x64_op_at(b->p, op, rex);
}

/* op with a register operand: ModRM mod=11, `reg` (a register or an
 * opcode extension /digit) in ModRM.reg, `rm` in ModRM.rm. */
static inline void x64_emit_rr(struct jit_buf *b, uint32_t op, unsigned rex,
			       unsigned reg, unsigned rm)
{
	rex |= (reg & 8 ? X64_REX_R : 0) | (rm & 8 ? X64_REX_B : 0);
	uint8_t *p;

	if (!jit_buf_room(b, 6))
		return;
	p = x64_op_at(b->p, op, rex);
	*p++ = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	b->p = p;
}

/*
 * op with a memory operand: ModRM, SIB and displacement for m (SDM 2.1.5,
 * Tables 2-2 and 2-3; 2.2.1.2, Table 2-5 for what REX does not change):
 *  - rm=100 means "a SIB byte follows", so base RSP or R12 takes a SIB
 *    with index 100 ("none");
 *  - mod=00 with rm=101 means RIP+disp32 (2.2.1.6), and with SIB base=101
 *    "no base, disp32", so base RBP or R13 takes mod=01 with a disp8 of 0;
 *  - otherwise disp 0 takes no displacement, one in -128..127 a disp8.
 */
static inline void x64_emit_rm(struct jit_buf *b, uint32_t op, unsigned rex,
			       unsigned reg, struct x64_mem m)
{
	unsigned r = (reg & 7) << 3, base = m.base & 7, mod;
	uint8_t *p;

	rex |= reg & 8 ? X64_REX_R : 0;
	/* Room for the longest: 5 opcode bytes, ModRM, SIB, disp32. */
	if (!jit_buf_room(b, 11))
		return;
	if (m.base == X64_RIP) {
		p = x64_op_at(b->p, op, rex);
		*p++ = (uint8_t)(0x05 | r);
		jit_buf_store_le(p, (uint32_t)m.disp, 4);
		b->p = p + 4;
		return;
	}
	rex |= m.base & 8 ? X64_REX_B : 0;
	if (m.has_index)
		rex |= m.index & 8 ? X64_REX_X : 0;
	p = x64_op_at(b->p, op, rex);

	if (m.disp == 0 && base != 5)
		mod = 0x00;
	else if (x64_fits8(m.disp))
		mod = 0x40;
	else
		mod = 0x80;
	if (m.has_index || base == 4) {
		unsigned index = m.has_index ? m.index & 7 : 4;
		unsigned scale = m.has_index ? m.scale : 0;

		*p++ = (uint8_t)(mod | r | 4);
		*p++ = (uint8_t)(scale << 6 | index << 3 | base);
	} else {
		*p++ = (uint8_t)(mod | r | base);
	}
	if (mod == 0x40) {
		*p++ = (uint8_t)m.disp;
	} else if (mod == 0x80) {
		jit_buf_store_le(p, (uint32_t)m.disp, 4);
		p += 4;
	}
	b->p = p;
}

/* -- Integer arithmetic ------------------------------------------------- */

/* The ALU group, by its number: the opcodes are 8*op + 1 (r/m, reg) and
 * 8*op + 3 (reg, r/m), and 80-83 /op with an immediate. */
enum x64_alu {
	X64_ADD, X64_OR, X64_ADC, X64_SBB, X64_AND, X64_SUB, X64_XOR, X64_CMP,
};

/* op dst, src (cmp: flags of dst - src). */
static inline void x64_alu_rr(struct jit_buf *b, enum x64_alu op, bool w,
			      enum x64_gpr dst, enum x64_gpr src)
{
	x64_emit_rr(b, 8u * op + 1, x64_rex_w(w), src, dst);
}

/* op dst, imm (sign-extended to 64 bits when w): 83 /op ib when imm fits
 * in a byte, else the short form for rax (8*op + 5) or 81 /op id. */
static inline void x64_alu_ri(struct jit_buf *b, enum x64_alu op, bool w,
			      enum x64_gpr dst, int32_t imm)
{
	if (x64_fits8(imm)) {
		x64_emit_rr(b, 0x83, x64_rex_w(w), op, dst);
		jit_buf_put8(b, (uint8_t)imm);
		return;
	}
	if (dst == X64_RAX)
		x64_emit_op(b, 8u * op + 5, x64_rex_w(w));
	else
		x64_emit_rr(b, 0x81, x64_rex_w(w), op, dst);
	jit_buf_put32(b, (uint32_t)imm);
}

/* op dst, [m] */
static inline void x64_alu_rm(struct jit_buf *b, enum x64_alu op, bool w,
			      enum x64_gpr dst, struct x64_mem m)
{
	x64_emit_rm(b, 8u * op + 3, x64_rex_w(w), dst, m);
}

/* op [m], src */
static inline void x64_alu_mr(struct jit_buf *b, enum x64_alu op, bool w,
			      struct x64_mem m, enum x64_gpr src)
{
	x64_emit_rm(b, 8u * op + 1, x64_rex_w(w), src, m);
}

/* op dword/qword [m], imm: 83 /op ib or 81 /op id.  A RIP-relative disp
 * counts from the end, past the immediate. */
static inline void x64_alu_mi(struct jit_buf *b, enum x64_alu op, bool w,
			      struct x64_mem m, int32_t imm)
{
	bool imm8 = x64_fits8(imm);

	x64_emit_rm(b, imm8 ? 0x83 : 0x81, x64_rex_w(w), op, m);
	if (imm8)
		jit_buf_put8(b, (uint8_t)imm);
	else
		jit_buf_put32(b, (uint32_t)imm);
}

/* test a, c: flags of a & c (85 /r). */
static inline void x64_test_rr(struct jit_buf *b, bool w, enum x64_gpr a,
			       enum x64_gpr c)
{
	x64_emit_rr(b, 0x85, x64_rex_w(w), c, a);
}

/* test r, imm: F7 /0 id, or A9 id for rax (test has no imm8 form). */
static inline void x64_test_ri(struct jit_buf *b, bool w, enum x64_gpr r,
			       int32_t imm)
{
	if (r == X64_RAX)
		x64_emit_op(b, 0xa9, x64_rex_w(w));
	else
		x64_emit_rr(b, 0xf7, x64_rex_w(w), 0, r);
	jit_buf_put32(b, (uint32_t)imm);
}

/* Shifts and rotates: group 2 (C1/D1/D3) /op. */
enum x64_shift { X64_ROL = 0, X64_ROR = 1, X64_SHL = 4, X64_SHR = 5, X64_SAR = 7 };

/* op r, cl */
static inline void x64_shift_cl(struct jit_buf *b, enum x64_shift op, bool w,
				enum x64_gpr r)
{
	x64_emit_rr(b, 0xd3, x64_rex_w(w), op, r);
}

/* op r, imm: D1 /op for a count of 1, else C1 /op ib.  The processor masks
 * the count to 5 bits (6 when w). */
static inline void x64_shift_ri(struct jit_buf *b, enum x64_shift op, bool w,
				enum x64_gpr r, uint8_t imm)
{
	x64_emit_rr(b, imm == 1 ? 0xd1 : 0xc1, x64_rex_w(w), op, r);
	if (imm != 1)
		jit_buf_put8(b, imm);
}

/* imul dst, src: dst = low half of dst * src (0F AF /r). */
static inline void x64_imul_rr(struct jit_buf *b, bool w, enum x64_gpr dst,
			       enum x64_gpr src)
{
	x64_emit_rr(b, 0x0faf, x64_rex_w(w), dst, src);
}

/* imul dst, src, imm: 6B /r ib or 69 /r id. */
static inline void x64_imul_rri(struct jit_buf *b, bool w, enum x64_gpr dst,
				enum x64_gpr src, int32_t imm)
{
	bool imm8 = x64_fits8(imm);

	x64_emit_rr(b, imm8 ? 0x6b : 0x69, x64_rex_w(w), dst, src);
	if (imm8)
		jit_buf_put8(b, (uint8_t)imm);
	else
		jit_buf_put32(b, (uint32_t)imm);
}

/* One-operand group 3 (F7 /op).  mul, div and idiv work on rdx:rax
 * (edx:eax): mul r sets rdx:rax = rax * r, div/idiv r sets rax to the
 * quotient and rdx to the remainder of rdx:rax / r. */
enum x64_unary { X64_NOT = 2, X64_NEG = 3, X64_MUL = 4, X64_DIV = 6, X64_IDIV = 7 };

static inline void x64_unary_r(struct jit_buf *b, enum x64_unary op, bool w,
			       enum x64_gpr r)
{
	x64_emit_rr(b, 0xf7, x64_rex_w(w), op, r);
}

/* cdq (edx = sign of eax), or cqo when w (rdx = sign of rax): before idiv. */
static inline void x64_cdq(struct jit_buf *b, bool w)
{
	x64_emit_op(b, 0x99, x64_rex_w(w));
}

/* Bit scans and counts, dst = f(src), their opcodes as x64_emit_op packs
 * them.  tzcnt and lzcnt are BMI1/LZCNT: without them the processor runs
 * bsf and bsr, whose results differ. */
enum x64_bitop {
	X64_BSF = 0x0fbc, X64_BSR = 0x0fbd,
	X64_TZCNT = 0xf30fbc, X64_LZCNT = 0xf30fbd, X64_POPCNT = 0xf30fb8,
};

static inline void x64_bitop_rr(struct jit_buf *b, enum x64_bitop op, bool w,
				enum x64_gpr dst, enum x64_gpr src)
{
	x64_emit_rr(b, op, x64_rex_w(w), dst, src);
}

/* setcc r8: the byte register r (sil etc. take an empty REX) = cc. */
static inline void x64_setcc(struct jit_buf *b, enum x64_cc cc, enum x64_gpr r)
{
	x64_emit_rr(b, 0x0f90u + cc, x64_rex_byte(r), 0, r);
}

/* cmovcc dst, src */
static inline void x64_cmov_rr(struct jit_buf *b, enum x64_cc cc, bool w,
			       enum x64_gpr dst, enum x64_gpr src)
{
	x64_emit_rr(b, 0x0f40u + cc, x64_rex_w(w), dst, src);
}

/* -- Moves, loads and stores -------------------------------------------- */

/* mov dst, src (89 /r). */
static inline void x64_mov_rr(struct jit_buf *b, bool w, enum x64_gpr dst,
			      enum x64_gpr src)
{
	x64_emit_rr(b, 0x89, x64_rex_w(w), src, dst);
}

/*
 * dst = imm (its low 32 bits unless w), in the shortest form: mov r32,
 * imm32 (B8+r, 5-6 bytes) when the value zero-extends from 32 bits, mov
 * r/m64, imm32 (REX.W C7 /0, 7 bytes) when it sign-extends, else movabs
 * (REX.W B8+r io, 10 bytes).  Flags are left alone.
 */
static inline void x64_mov_ri(struct jit_buf *b, bool w, enum x64_gpr dst,
			      uint64_t imm)
{
	if (!w || imm <= UINT32_MAX) {
		x64_emit_op(b, 0xb8u + (dst & 7), dst & 8 ? X64_REX_B : 0);
		jit_buf_put32(b, (uint32_t)imm);
	} else if ((int64_t)imm < 0 && (int64_t)imm >= INT32_MIN) {
		x64_emit_rr(b, 0xc7, X64_REX_W, 0, dst);
		jit_buf_put32(b, (uint32_t)imm);
	} else {
		x64_emit_op(b, 0xb8u + (dst & 7), X64_REX_W | (dst & 8 ? X64_REX_B : 0));
		jit_buf_put64(b, imm);
	}
}

/*
 * The opcode and REX.W that read `size` bytes from r/m into a 32-bit (or,
 * when w, 64-bit) register, zero- or sign-extending.  Zero-extension never
 * needs REX.W: a 32-bit write clears bits 32-63.
 */
static inline uint32_t x64_extend_op(enum x64_size size, bool sign, bool w,
				     unsigned *rex)
{
	*rex = sign && w ? X64_REX_W : 0;
	switch (size) {
	case X64_BYTE:
		return sign ? 0x0fbe : 0x0fb6;		/* movsx / movzx */
	case X64_WORD:
		return sign ? 0x0fbf : 0x0fb7;
	case X64_DWORD:
		return sign && w ? 0x63 : 0x8b;		/* movsxd / mov */
	default:
		*rex = X64_REX_W;
		return 0x8b;
	}
}

/* Load `size` bytes from m into dst, zero- or sign-extended to 32 bits
 * (64 when w).  A qword load ignores sign and w. */
static inline void x64_load(struct jit_buf *b, enum x64_size size, bool sign,
			    bool w, enum x64_gpr dst, struct x64_mem m)
{
	unsigned rex;
	uint32_t op = x64_extend_op(size, sign, w, &rex);

	x64_emit_rm(b, op, rex, dst, m);
}

/* dst = the low `size` bytes of src, zero- or sign-extended to 32 bits (64
 * when w): movzx/movsx/movsxd, or mov for dword and qword.  A byte source
 * 4-7 is sil etc. (movzx r32, r8 turns a setcc result into a value). */
static inline void x64_extend_rr(struct jit_buf *b, enum x64_size size, bool sign,
				 bool w, enum x64_gpr dst, enum x64_gpr src)
{
	unsigned rex;
	uint32_t op = x64_extend_op(size, sign, w, &rex);

	if (op == 0x8b) {		/* a plain mov: the usual 89 form */
		x64_mov_rr(b, rex != 0, dst, src);
		return;
	}
	if (size == X64_BYTE)
		rex |= x64_rex_byte(src);
	x64_emit_rr(b, op, rex, dst, src);
}

/* Store the low `size` bytes of src to m (88, 66 89, 89, REX.W 89); a byte
 * source 4-7 is sil etc., which takes an empty REX. */
static inline void x64_store(struct jit_buf *b, enum x64_size size,
			     struct x64_mem m, enum x64_gpr src)
{
	switch (size) {
	case X64_BYTE:
		x64_emit_rm(b, 0x88, x64_rex_byte(src), src, m);
		break;
	case X64_WORD:
		x64_emit_rm(b, 0x6689, 0, src, m);
		break;
	default:
		x64_emit_rm(b, 0x89, x64_rex_w(size == X64_QWORD), src, m);
	}
}

/* Store imm to the `size` bytes at m: C6 /0 ib, 66 C7 /0 iw, C7 /0 id,
 * REX.W C7 /0 id (sign-extended); byte and word keep imm's low bits.  A
 * RIP-relative disp counts from the end, past the immediate. */
static inline void x64_store_imm(struct jit_buf *b, enum x64_size size,
				 struct x64_mem m, int32_t imm)
{
	switch (size) {
	case X64_BYTE:
		x64_emit_rm(b, 0xc6, 0, 0, m);
		jit_buf_put8(b, (uint8_t)imm);
		break;
	case X64_WORD:
		x64_emit_rm(b, 0x66c7, 0, 0, m);
		jit_buf_put16(b, (uint16_t)imm);
		break;
	default:
		x64_emit_rm(b, 0xc7, x64_rex_w(size == X64_QWORD), 0, m);
		jit_buf_put32(b, (uint32_t)imm);
	}
}

/* lea dst, [m] */
static inline void x64_lea(struct jit_buf *b, bool w, enum x64_gpr dst,
			   struct x64_mem m)
{
	x64_emit_rm(b, 0x8d, x64_rex_w(w), dst, m);
}

/* -- Stack and control flow --------------------------------------------- */

/* push r / pop r (50+r / 58+r, always 64-bit). */
static inline void x64_push(struct jit_buf *b, enum x64_gpr r)
{
	x64_emit_op(b, 0x50u + (r & 7), r & 8 ? X64_REX_B : 0);
}

static inline void x64_pop(struct jit_buf *b, enum x64_gpr r)
{
	x64_emit_op(b, 0x58u + (r & 7), r & 8 ? X64_REX_B : 0);
}

static inline void x64_ret(struct jit_buf *b)
{
	jit_buf_put8(b, 0xc3);
}

/* leave: rsp = rbp, pop rbp. */
static inline void x64_leave(struct jit_buf *b)
{
	jit_buf_put8(b, 0xc9);
}

/* ud2 raises #UD (SIGILL hosted): a trap the handler recognises. */
static inline void x64_ud2(struct jit_buf *b)
{
	x64_emit_op(b, 0x0f0b, 0);
}

static inline void x64_int3(struct jit_buf *b)
{
	jit_buf_put8(b, 0xcc);
}

/*
 * Branches with a displacement: op, then a rel8 or rel32 of 0, whose
 * offset they return for x64_patch_rel8/32.  A displacement counts from
 * the end of the instruction, which is the end of the field.
 */
static inline uint32_t x64_emit_branch(struct jit_buf *b, uint32_t op, bool rel32)
{
	uint32_t at;

	x64_emit_op(b, op, 0);
	at = jit_buf_pos(b);
	if (rel32)
		jit_buf_put32(b, 0);
	else
		jit_buf_put8(b, 0);
	return at;
}

/* call rel32 (E8) */
static inline uint32_t x64_call_rel32(struct jit_buf *b)
{
	return x64_emit_branch(b, 0xe8, true);
}

/* jmp rel32 (E9) / jmp rel8 (EB) */
static inline uint32_t x64_jmp_rel32(struct jit_buf *b)
{
	return x64_emit_branch(b, 0xe9, true);
}

static inline uint32_t x64_jmp_rel8(struct jit_buf *b)
{
	return x64_emit_branch(b, 0xeb, false);
}

/* jcc rel32 (0F 80+cc) / jcc rel8 (70+cc) */
static inline uint32_t x64_jcc_rel32(struct jit_buf *b, enum x64_cc cc)
{
	return x64_emit_branch(b, 0x0f80u + cc, true);
}

static inline uint32_t x64_jcc_rel8(struct jit_buf *b, enum x64_cc cc)
{
	return x64_emit_branch(b, 0x70u + cc, false);
}

/* Make the rel32 field at `at` reach buffer offset `target`.  Also for a
 * RIP-relative disp32 that ends its instruction (no immediate after it):
 * patch jit_buf_pos(b) - 4 right after emitting. */
static inline void x64_patch_rel32(struct jit_buf *b, uint32_t at, uint32_t target)
{
	jit_buf_patch32(b, at, target - (at + 4));	/* mod 2^32 */
}

/* Make the rel8 field at `at` reach `target`; false, changing nothing,
 * if the distance does not fit in -128..127. */
static inline bool x64_patch_rel8(struct jit_buf *b, uint32_t at, uint32_t target)
{
	int64_t d = (int64_t)target - ((int64_t)at + 1);

	if (!x64_fits8(d))
		return false;
	jit_buf_patch8(b, at, (uint8_t)d);
	return true;
}

/* call r / call [m] / jmp r / jmp [m]: FF /2 and FF /4, 64-bit targets. */
static inline void x64_call_r(struct jit_buf *b, enum x64_gpr r)
{
	x64_emit_rr(b, 0xff, 0, 2, r);
}

static inline void x64_call_m(struct jit_buf *b, struct x64_mem m)
{
	x64_emit_rm(b, 0xff, 0, 2, m);
}

static inline void x64_jmp_r(struct jit_buf *b, enum x64_gpr r)
{
	x64_emit_rr(b, 0xff, 0, 4, r);
}

static inline void x64_jmp_m(struct jit_buf *b, struct x64_mem m)
{
	x64_emit_rm(b, 0xff, 0, 4, m);
}

/* One nop of len bytes, 1..9 (SDM Vol. 2B, NOP, Table 4-12: the
 * recommended multi-byte sequences, nop/nopw with [rax + rax*1 + 0]). */
static inline void x64_nop(struct jit_buf *b, unsigned len)
{
	static const uint8_t nops[9][9] = {
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};

	if (len < 1 || len > 9)
		return;
	for (unsigned i = 0; i < len; i++)
		jit_buf_put8(b, nops[len - 1][i]);
}

/* Pad with nops to the next multiple of n, a power of two, as few as
 * possible: 9-byte ones, then one shorter. */
static inline void x64_align(struct jit_buf *b, uint32_t n)
{
	uint32_t pad = -jit_buf_pos(b) & (n - 1);

	while (pad > 0 && !b->overflow) {
		uint32_t len = pad < 9 ? pad : 9;

		x64_nop(b, len);
		pad -= len;
	}
}

/* -- SSE scalar floating point ------------------------------------------ */

/*
 * SSE/SSE2 instructions of the form op xmm, xmm/m, their opcodes as
 * x64_emit_op packs them (F3: ss, F2: sd, none: ps, 66: pd).  ss and sd
 * forms touch the low lane only; a memory operand of ss is 4 bytes, of sd
 * 8, of the packed logic ops 16 and aligned.
 */
enum x64_sse_op {
	X64_MOVSS = 0xf30f10, X64_MOVSD = 0xf20f10,	/* load, or move the low lane */
	X64_ADDSS = 0xf30f58, X64_ADDSD = 0xf20f58,
	X64_SUBSS = 0xf30f5c, X64_SUBSD = 0xf20f5c,
	X64_MULSS = 0xf30f59, X64_MULSD = 0xf20f59,
	X64_DIVSS = 0xf30f5e, X64_DIVSD = 0xf20f5e,
	X64_MINSS = 0xf30f5d, X64_MINSD = 0xf20f5d,	/* src if either is NaN */
	X64_MAXSS = 0xf30f5f, X64_MAXSD = 0xf20f5f,
	X64_SQRTSS = 0xf30f51, X64_SQRTSD = 0xf20f51,
	X64_UCOMISS = 0x0f2e, X64_UCOMISD = 0x660f2e,	/* unordered: ZF PF CF = 111 */
	X64_CVTSS2SD = 0xf30f5a, X64_CVTSD2SS = 0xf20f5a,
	X64_ANDPS = 0x0f54, X64_ANDPD = 0x660f54,
	X64_ANDNPS = 0x0f55, X64_ANDNPD = 0x660f55,	/* dst = ~dst & src */
	X64_ORPS = 0x0f56, X64_ORPD = 0x660f56,
	X64_XORPS = 0x0f57, X64_XORPD = 0x660f57,
	X64_MOVAPS = 0x0f28, X64_MOVAPD = 0x660f28,	/* all 128 bits */
};

/* op dst, src */
static inline void x64_sse_rr(struct jit_buf *b, enum x64_sse_op op,
			      enum x64_xmm dst, enum x64_xmm src)
{
	x64_emit_rr(b, op, 0, dst, src);
}

/* op dst, [m] */
static inline void x64_sse_rm(struct jit_buf *b, enum x64_sse_op op,
			      enum x64_xmm dst, struct x64_mem m)
{
	x64_emit_rm(b, op, 0, dst, m);
}

/* movss [m], src (F3 0F 11), or movsd when f64 (F2 0F 11). */
static inline void x64_sse_store(struct jit_buf *b, bool f64, struct x64_mem m,
				 enum x64_xmm src)
{
	x64_emit_rm(b, f64 ? 0xf20f11 : 0xf30f11, 0, src, m);
}

/* roundss dst, src, mode, or roundsd when f64 (SSE4.1, 66 0F 3A 0A/0B ib).
 * mode: 0 nearest-even, 1 floor, 2 ceil, 3 trunc; | 8 keeps quiet. */
static inline void x64_sse_round_rr(struct jit_buf *b, bool f64, enum x64_xmm dst,
				    enum x64_xmm src, uint8_t mode)
{
	x64_emit_rr(b, f64 ? 0x660f3a0b : 0x660f3a0a, 0, dst, src);
	jit_buf_put8(b, mode);
}

/* cvtsi2ss dst, src, or cvtsi2sd when f64; src is 32-bit, 64-bit when w
 * (both signed).  Writes the low lane only. */
static inline void x64_cvt_si2f_rr(struct jit_buf *b, bool f64, bool w,
				   enum x64_xmm dst, enum x64_gpr src)
{
	x64_emit_rr(b, f64 ? 0xf20f2a : 0xf30f2a, x64_rex_w(w), dst, src);
}

/* cvttss2si dst, src, or cvttsd2si when f64: truncate to a signed 32-bit
 * (64 when w) integer; NaN and out-of-range give INT_MIN of that width. */
static inline void x64_cvtt_f2si_rr(struct jit_buf *b, bool f64, bool w,
				    enum x64_gpr dst, enum x64_xmm src)
{
	x64_emit_rr(b, f64 ? 0xf20f2c : 0xf30f2c, x64_rex_w(w), dst, src);
}

/* movd dst, src (movq when w): the bits of a GPR into an XMM's low lane,
 * zeroing the rest (66 REX.W? 0F 6E). */
static inline void x64_movd_xr(struct jit_buf *b, bool w, enum x64_xmm dst,
			       enum x64_gpr src)
{
	x64_emit_rr(b, 0x660f6e, x64_rex_w(w), dst, src);
}

/* movd dst, src (movq when w): an XMM's low 32 (64) bits into a GPR
 * (66 REX.W? 0F 7E; the XMM is in ModRM.reg). */
static inline void x64_movd_rx(struct jit_buf *b, bool w, enum x64_gpr dst,
			       enum x64_xmm src)
{
	x64_emit_rr(b, 0x660f7e, x64_rex_w(w), src, dst);
}

#endif /* K23_JIT_X86_64_ENC_H */
