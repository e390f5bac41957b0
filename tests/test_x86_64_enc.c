/*
 * test_x86_64_enc.c - the x86-64 encoders (jit/x86_64_enc.h) against an
 * independent oracle, GNU as.  Each test writes the same instructions
 * twice, as Intel-syntax assembly text and as encoder calls, assembles the
 * text (as --64, then objcopy of .text) and compares the bytes, naming the
 * first instruction that differs.  Operands cover all sixteen registers
 * (rsp, rbp, r12 and r13 as base and index, spl..dil as byte registers,
 * xmm8-15); displacements and immediates sit on the disp8/imm8 limits.
 * Plus the code buffer (jit/buf.h): sticky overflow and patching.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../jit/x86_64_enc.h"

/* -- The oracle ----------------------------------------------------------- */

#define CODE_MAX (4u << 20)

/* Instructions as text and as bytes, side by side. */
struct golden {
	struct jit_buf b;	/* the encoders' bytes */
	uint8_t *code;
	FILE *text;		/* the assembly, an instruction a line */
	char *text_buf;
	size_t text_len;
	size_t n, cap;		/* instructions */
	uint32_t *start;	/* each one's offset in code */
	long *line;		/* and its line's offset in the text */
};

static void gold_init(struct golden *g)
{
	memset(g, 0, sizeof(*g));
	g->code = malloc(CODE_MAX);
	cr_assert(g->code);
	jit_buf_init(&g->b, g->code, CODE_MAX);
	g->text = open_memstream(&g->text_buf, &g->text_len);
	cr_assert(g->text);
	fputs(".intel_syntax noprefix\n.text\n", g->text);
}

/* Begin an instruction: its text; its bytes are whatever the encoders
 * emit until the next one begins. */
static void __attribute__((format(printf, 2, 3)))
insn(struct golden *g, const char *fmt, ...)
{
	va_list ap;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 4096;
		g->start = realloc(g->start, g->cap * sizeof(*g->start));
		g->line = realloc(g->line, g->cap * sizeof(*g->line));
		cr_assert(g->start && g->line);
	}
	g->start[g->n] = jit_buf_pos(&g->b);
	g->line[g->n] = ftell(g->text);
	g->n++;
	va_start(ap, fmt);
	vfprintf(g->text, fmt, ap);
	va_end(ap);
	fputc('\n', g->text);
}

/* A line of text that is not an instruction of its own (a label, or one
 * more of the nops a single encoder call emits). */
static void __attribute__((format(printf, 2, 3)))
gold_line(struct golden *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(g->text, fmt, ap);
	va_end(ap);
	fputc('\n', g->text);
}

static void hex(char *out, size_t size, const uint8_t *p, size_t n)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && len + 4 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%02x", i ? " " : "", p[i]);
}

/* Read a whole file; NULL if it cannot. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = malloc((size_t)size + 1);
	if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	if (data)
		data[size] = 0;
	fclose(f);
	*len = (size_t)size;
	return data;
}

/*
 * Assemble the text with GNU as and compare its .text with the encoders'
 * bytes.  Until the first difference both hold the same instructions, so
 * the one our bytes start there starts there in as's bytes too.
 */
static void gold_check(struct golden *g)
{
	char dir[] = "/tmp/k23-x64enc-XXXXXX", path[4][48], cmd[512];
	char msg[1024] = "", ours[64], theirs[64];
	const char *names[4] = { "t.s", "t.o", "t.bin", "as.err" };
	size_t len = 0, n, i, k;
	uint8_t *as_bytes;
	FILE *f;

	cr_assert(!g->b.overflow, "the code buffer overflowed");
	cr_assert(g->n > 0);
	fclose(g->text);
	cr_assert(mkdtemp(dir), "mkdtemp");
	for (i = 0; i < 4; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
	f = fopen(path[0], "w");
	cr_assert(f);
	fwrite(g->text_buf, 1, g->text_len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "as --64 -o %s %s 2>%s && "
		 "objcopy -O binary --only-section=.text %s %s 2>>%s",
		 path[1], path[0], path[3], path[1], path[2], path[3]);
	if (system(cmd) != 0) {
		uint8_t *err = slurp(path[3], &len);

		snprintf(msg, sizeof(msg), "as failed: %.900s", err ? (char *)err : "?");
		free(err);
	}
	as_bytes = msg[0] ? NULL : slurp(path[2], &len);
	for (i = 0; i < 4; i++)
		unlink(path[i]);
	rmdir(dir);
	cr_assert(!msg[0], "%s", msg);
	cr_assert(as_bytes, "no output from as");

	n = jit_buf_pos(&g->b);
	for (i = 0; i < n && i < len && g->code[i] == as_bytes[i]; i++)
		;
	if (i < n || i < len) {
		size_t at = i < n ? i : n - 1, end;
		const char *text;

		for (k = g->n - 1; k > 0 && g->start[k] > at; k--)
			;
		end = k + 1 < g->n ? g->start[k + 1] : n;
		text = g->text_buf + g->line[k];
		hex(ours, sizeof(ours), g->code + g->start[k], end - g->start[k]);
		hex(theirs, sizeof(theirs), as_bytes + g->start[k],
		    len > g->start[k] ? (len - g->start[k] < 15 ? len - g->start[k] : 15) : 0);
		snprintf(msg, sizeof(msg), "instruction %zu of %zu, `%.*s`: encoder %s, as %s...",
			 k + 1, g->n, (int)strcspn(text, "\n"), text, ours, theirs);
	}
	free(as_bytes);
	cr_assert(!msg[0], "%s", msg);
	free(g->text_buf);
	free(g->start);
	free(g->line);
	free(g->code);
}

/* -- Operand text --------------------------------------------------------- */

static const char *const r64[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const r32[16] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
};
static const char *const r16[16] = {
	"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
	"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
};
static const char *const r8[16] = {
	"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
	"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
};
static const char *const xmm[16] = {
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
};
/* By enum x64_size. */
static const char *const *const reg_of_size[4] = { r8, r16, r32, r64 };
static const char *const ptr[4] = { "byte ptr", "word ptr", "dword ptr", "qword ptr" };

/* By enum x64_cc: checks the enum's numbers too. */
static const char *const cc_name[16] = {
	"o", "no", "b", "ae", "e", "ne", "be", "a",
	"s", "ns", "p", "np", "l", "ge", "le", "g",
};

static const char *gpr(bool w, unsigned r)
{
	return w ? r64[r] : r32[r];
}

/* [base+index*scale+disp] in Intel syntax (a few at a time). */
static const char *mem_text(struct x64_mem m)
{
	static char bufs[4][64];
	static unsigned next;
	char *s = bufs[next++ % 4];

	if (m.base == X64_RIP)
		snprintf(s, 64, "[rip%+d]", m.disp);
	else if (m.has_index)
		snprintf(s, 64, "[%s+%s*%d%+d]", r64[m.base], r64[m.index], 1 << m.scale, m.disp);
	else
		snprintf(s, 64, "[%s%+d]", r64[m.base], m.disp);
	return s;
}

/* Displacements on the disp8 and disp32 limits. */
static const int32_t disps[] = { 0, 127, 128, -128, -129, 0x12345678, 1, INT32_MIN, INT32_MAX };
#define NDISP (sizeof(disps) / sizeof(disps[0]))

/* Immediates on the imm8 and imm32 limits. */
static const int32_t imms[] = { 0, 1, -1, 127, 128, -128, -129, 0x12345678, INT32_MIN, INT32_MAX };
#define NIMM (sizeof(imms) / sizeof(imms[0]))

/*
 * Every base (six displacements each, no index), every index (each base
 * once, with a rotating index, scale and displacement) and RIP-relative:
 * 115 operands, for the instructions whose memory form is only one more
 * opcode over the shared ModRM code.
 */
static size_t mem_sample(struct x64_mem *out)
{
	size_t n = 0;

	for (unsigned base = 0; base < 16; base++)
		for (unsigned d = 0; d < 6; d++)
			out[n++] = x64_mem_bd(base, disps[d]);
	for (unsigned base = 0; base < 16; base++) {
		unsigned index = (base * 7 + 1) % 16;

		out[n++] = x64_mem_bisd(base, index == X64_RSP ? X64_R12 : index,
					base & 3, disps[base % 6]);
	}
	out[n++] = x64_mem_rip(0);
	out[n++] = x64_mem_rip(-129);
	out[n++] = x64_mem_rip(0x1000);
	return n;
}

#define MEM_SAMPLE_MAX 128

/* -- The ModRM/SIB encoder ---------------------------------------------- */

/* Every base (and RIP), every index but rsp, every scale, every boundary
 * displacement, through lea and through an SSE load (prefix before REX). */
Test(x86_64_enc, memory_operands_every_base_index_scale_disp)
{
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (int base = -1; base < 16; base++) {
		for (int index = -1; index < 16; index++) {
			for (unsigned scale = 0; scale < 4; scale++) {
				if (index == X64_RSP || (index < 0 && scale > 0) ||
				    (base < 0 && index >= 0))
					continue;
				for (unsigned d = 0; d < NDISP; d++, k++) {
					struct x64_mem m = base < 0 ? x64_mem_rip(disps[d])
						: index < 0 ? x64_mem_bd(base, disps[d])
						: x64_mem_bisd(base, index, scale, disps[d]);
					unsigned r = (k * 5) % 16;
					bool w = k & 1;

					insn(&g, "lea %s, %s", gpr(w, r), mem_text(m));
					x64_lea(&g.b, w, r, m);
					insn(&g, "movsd %s, qword ptr %s", xmm[r ^ 9], mem_text(m));
					x64_sse_rm(&g.b, X64_MOVSD, r ^ 9, m);
				}
			}
		}
	}
	gold_check(&g);
}

/* -- Integer ALU ---------------------------------------------------------- */

static const char *const alu_name[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

Test(x86_64_enc, alu_reg_reg_every_pair)
{
	struct golden g;

	gold_init(&g);
	for (unsigned op = 0; op < 8; op++)
		for (unsigned w = 0; w < 2; w++)
			for (unsigned dst = 0; dst < 16; dst++)
				for (unsigned src = 0; src < 16; src++) {
					insn(&g, "%s %s, %s", alu_name[op], gpr(w, dst), gpr(w, src));
					x64_alu_rr(&g.b, op, w, dst, src);
				}
	gold_check(&g);
}

/* imm8 when it fits, else imm32 (rax's short form then, as as does). */
Test(x86_64_enc, alu_reg_imm_short_and_long_forms)
{
	struct golden g;

	gold_init(&g);
	for (unsigned op = 0; op < 8; op++)
		for (unsigned w = 0; w < 2; w++)
			for (unsigned r = 0; r < 16; r++)
				for (unsigned i = 0; i < NIMM; i++) {
					insn(&g, "%s %s, %d", alu_name[op], gpr(w, r), imms[i]);
					x64_alu_ri(&g.b, op, w, r, imms[i]);
				}
	gold_check(&g);
}

Test(x86_64_enc, alu_with_memory_operands)
{
	struct x64_mem mems[MEM_SAMPLE_MAX];
	size_t n = mem_sample(mems);
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (unsigned op = 0; op < 8; op++)
		for (unsigned w = 0; w < 2; w++)
			for (size_t i = 0; i < n; i++, k++) {
				unsigned r = (k * 7 + 3) % 16;
				int32_t imm = imms[k % NIMM];
				const char *m = mem_text(mems[i]);

				insn(&g, "%s %s, %s %s", alu_name[op], gpr(w, r), ptr[2 + w], m);
				x64_alu_rm(&g.b, op, w, r, mems[i]);
				insn(&g, "%s %s %s, %s", alu_name[op], ptr[2 + w], m, gpr(w, r));
				x64_alu_mr(&g.b, op, w, mems[i], r);
				insn(&g, "%s %s %s, %d", alu_name[op], ptr[2 + w], m, imm);
				x64_alu_mi(&g.b, op, w, mems[i], imm);
			}
	gold_check(&g);
}

Test(x86_64_enc, test_reg_reg_and_reg_imm)
{
	struct golden g;

	gold_init(&g);
	for (unsigned w = 0; w < 2; w++)
		for (unsigned a = 0; a < 16; a++) {
			for (unsigned c = 0; c < 16; c++) {
				insn(&g, "test %s, %s", gpr(w, a), gpr(w, c));
				x64_test_rr(&g.b, w, a, c);
			}
			for (unsigned i = 0; i < NIMM; i++) {
				insn(&g, "test %s, %d", gpr(w, a), imms[i]);
				x64_test_ri(&g.b, w, a, imms[i]);
			}
		}
	gold_check(&g);
}

/* -- Moves, loads, stores ------------------------------------------------- */

/* mov r32 when the value zero-extends, mov r64 with a sign-extended imm32
 * when it sign-extends, movabs otherwise; w=0 takes the low 32 bits. */
Test(x86_64_enc, mov_reg_reg_and_shortest_mov_of_a_constant)
{
	enum { ZX, SX, ABS };
	static const struct {
		uint64_t imm;
		bool w;
		int form;
	} consts[] = {
		{ 0, false, ZX }, { 0xffffffff, false, ZX }, { 0xffffffff80000000, false, ZX },
		{ 0x123456789, false, ZX },
		{ 0, true, ZX }, { 1, true, ZX }, { 0x7fffffff, true, ZX },
		{ 0x80000000, true, ZX }, { 0xffffffff, true, ZX },
		{ 0x100000000, true, ABS }, { (uint64_t)-1, true, SX },
		{ (uint64_t)INT32_MIN, true, SX }, { (uint64_t)INT32_MIN - 1, true, ABS },
		{ 0x123456789abcdef0, true, ABS }, { (uint64_t)INT64_MIN, true, ABS },
		{ INT64_MAX, true, ABS },
	};
	struct golden g;

	gold_init(&g);
	for (unsigned w = 0; w < 2; w++)
		for (unsigned dst = 0; dst < 16; dst++)
			for (unsigned src = 0; src < 16; src++) {
				insn(&g, "mov %s, %s", gpr(w, dst), gpr(w, src));
				x64_mov_rr(&g.b, w, dst, src);
			}
	for (unsigned r = 0; r < 16; r++)
		for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
			uint64_t imm = consts[i].imm;

			if (consts[i].form == ZX)
				insn(&g, "mov %s, %u", r32[r], (uint32_t)imm);
			else if (consts[i].form == SX)
				insn(&g, "mov %s, %lld", r64[r], (long long)imm);
			else
				insn(&g, "movabs %s, %llu", r64[r], (unsigned long long)imm);
			x64_mov_ri(&g.b, consts[i].w, r, imm);
		}
	gold_check(&g);
}

/* The text of an extending move of `size` bytes from src (register or
 * memory text) into a 32-bit register, 64-bit when w. */
static void extend_text(struct golden *g, enum x64_size size, bool sign, bool w,
			unsigned dst, const char *src)
{
	switch (size) {
	case X64_BYTE:
	case X64_WORD:
		if (sign)
			insn(g, "movsx %s, %s", gpr(w, dst), src);
		else
			insn(g, "movzx %s, %s", r32[dst], src);
		break;
	case X64_DWORD:
		if (sign && w)
			insn(g, "movsxd %s, %s", r64[dst], src);
		else
			insn(g, "mov %s, %s", r32[dst], src);
		break;
	case X64_QWORD:
		insn(g, "mov %s, %s", r64[dst], src);
		break;
	}
}

Test(x86_64_enc, loads_of_every_size_and_extension)
{
	struct x64_mem mems[MEM_SAMPLE_MAX];
	size_t n = mem_sample(mems);
	struct golden g;
	unsigned k = 0;
	char src[80];

	gold_init(&g);
	for (unsigned size = 0; size < 4; size++)
		for (unsigned sign = 0; sign < 2; sign++)
			for (unsigned w = 0; w < 2; w++) {
				if (size == X64_QWORD && !w)
					continue;
				for (size_t i = 0; i < n; i++, k++) {
					unsigned r = (k * 7 + 1) % 16;

					snprintf(src, sizeof(src), "%s %s", ptr[size], mem_text(mems[i]));
					extend_text(&g, size, sign, w, r, src);
					x64_load(&g.b, size, sign, w, r, mems[i]);
				}
			}
	gold_check(&g);
}

/* Including movzx r32, r8 from spl..dil, which needs an empty REX. */
Test(x86_64_enc, register_extensions_including_byte_registers)
{
	struct golden g;

	gold_init(&g);
	for (unsigned size = 0; size < 4; size++)
		for (unsigned sign = 0; sign < 2; sign++)
			for (unsigned w = 0; w < 2; w++) {
				if (size == X64_QWORD && !w)
					continue;
				for (unsigned dst = 0; dst < 16; dst++)
					for (unsigned src = 0; src < 16; src++) {
						extend_text(&g, size, sign, w, dst, reg_of_size[size][src]);
						x64_extend_rr(&g.b, size, sign, w, dst, src);
					}
			}
	gold_check(&g);
}

/* Stores of every register at every size (sil etc. as byte sources) and
 * of immediates. */
Test(x86_64_enc, stores_of_registers_and_immediates)
{
	static const int32_t small[4][4] = {
		{ 0, 127, -128, -1 }, { 0, 0x1234, -32768, -1 },
		{ 0, 127, 128, INT32_MIN }, { -129, -1, INT32_MAX, 0x12345678 },
	};
	struct x64_mem mems[MEM_SAMPLE_MAX];
	size_t n = mem_sample(mems);
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (unsigned size = 0; size < 4; size++)
		for (size_t i = 0; i < n; i++, k++) {
			unsigned r = (k * 5 + 2) % 16;
			int32_t imm = small[size][k % 4];
			const char *m = mem_text(mems[i]);

			insn(&g, "mov %s %s, %s", ptr[size], m, reg_of_size[size][r]);
			x64_store(&g.b, size, mems[i], r);
			insn(&g, "mov %s %s, %d", ptr[size], m, imm);
			x64_store_imm(&g.b, size, mems[i], imm);
		}
	/* Every byte register as a source, for the REX rule. */
	for (unsigned r = 0; r < 16; r++) {
		insn(&g, "mov byte ptr [rax], %s", r8[r]);
		x64_store(&g.b, X64_BYTE, x64_mem_bd(X64_RAX, 0), r);
	}
	gold_check(&g);
}

/* -- Shifts, multiply, divide, bit counts, flags -------------------------- */

Test(x86_64_enc, shifts_and_rotates_by_cl_and_imm)
{
	static const struct { enum x64_shift op; const char *name; } ops[] = {
		{ X64_ROL, "rol" }, { X64_ROR, "ror" }, { X64_SHL, "shl" },
		{ X64_SHR, "shr" }, { X64_SAR, "sar" },
	};
	static const uint8_t counts[] = { 0, 1, 2, 31, 63 };
	struct golden g;

	gold_init(&g);
	for (size_t op = 0; op < 5; op++)
		for (unsigned w = 0; w < 2; w++)
			for (unsigned r = 0; r < 16; r++) {
				insn(&g, "%s %s, cl", ops[op].name, gpr(w, r));
				x64_shift_cl(&g.b, ops[op].op, w, r);
				for (size_t i = 0; i < sizeof(counts); i++) {
					insn(&g, "%s %s, %u", ops[op].name, gpr(w, r), counts[i]);
					x64_shift_ri(&g.b, ops[op].op, w, r, counts[i]);
				}
			}
	gold_check(&g);
}

Test(x86_64_enc, multiply_divide_negate_not)
{
	static const struct { enum x64_unary op; const char *name; } ops[] = {
		{ X64_NOT, "not" }, { X64_NEG, "neg" }, { X64_MUL, "mul" },
		{ X64_DIV, "div" }, { X64_IDIV, "idiv" },
	};
	static const int32_t factors[] = { 3, -128, 128, -129, INT32_MAX };
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned dst = 0; dst < 16; dst++)
			for (unsigned src = 0; src < 16; src++, k++) {
				int32_t imm = factors[k % 5];

				insn(&g, "imul %s, %s", gpr(w, dst), gpr(w, src));
				x64_imul_rr(&g.b, w, dst, src);
				insn(&g, "imul %s, %s, %d", gpr(w, dst), gpr(w, src), imm);
				x64_imul_rri(&g.b, w, dst, src, imm);
			}
		for (size_t op = 0; op < 5; op++)
			for (unsigned r = 0; r < 16; r++) {
				insn(&g, "%s %s", ops[op].name, gpr(w, r));
				x64_unary_r(&g.b, ops[op].op, w, r);
			}
		insn(&g, "%s", w ? "cqo" : "cdq");
		x64_cdq(&g.b, w);
	}
	gold_check(&g);
}

Test(x86_64_enc, bit_scans_and_counts)
{
	static const struct { enum x64_bitop op; const char *name; } ops[] = {
		{ X64_BSF, "bsf" }, { X64_BSR, "bsr" }, { X64_TZCNT, "tzcnt" },
		{ X64_LZCNT, "lzcnt" }, { X64_POPCNT, "popcnt" },
	};
	struct golden g;

	gold_init(&g);
	for (size_t op = 0; op < 5; op++)
		for (unsigned w = 0; w < 2; w++)
			for (unsigned dst = 0; dst < 16; dst++)
				for (unsigned src = 0; src < 16; src++) {
					insn(&g, "%s %s, %s", ops[op].name, gpr(w, dst), gpr(w, src));
					x64_bitop_rr(&g.b, ops[op].op, w, dst, src);
				}
	gold_check(&g);
}

Test(x86_64_enc, setcc_and_cmov_every_condition)
{
	struct golden g;

	gold_init(&g);
	for (unsigned cc = 0; cc < 16; cc++)
		for (unsigned r = 0; r < 16; r++) {
			insn(&g, "set%s %s", cc_name[cc], r8[r]);
			x64_setcc(&g.b, cc, r);
			for (unsigned w = 0; w < 2; w++) {
				unsigned src = (r * 3 + cc + w) % 16;

				insn(&g, "cmov%s %s, %s", cc_name[cc], gpr(w, r), gpr(w, src));
				x64_cmov_rr(&g.b, cc, w, r, src);
			}
		}
	gold_check(&g);
}

Test(x86_64_enc, cc_invert_gives_the_opposite_condition)
{
	static const enum x64_cc pairs[][2] = {
		{ X64_CC_O, X64_CC_NO }, { X64_CC_B, X64_CC_AE }, { X64_CC_E, X64_CC_NE },
		{ X64_CC_BE, X64_CC_A }, { X64_CC_S, X64_CC_NS }, { X64_CC_P, X64_CC_NP },
		{ X64_CC_L, X64_CC_GE }, { X64_CC_LE, X64_CC_G },
	};

	for (size_t i = 0; i < 8; i++) {
		cr_assert_eq(x64_cc_invert(pairs[i][0]), pairs[i][1]);
		cr_assert_eq(x64_cc_invert(pairs[i][1]), pairs[i][0]);
	}
}

/* -- Stack and control flow ----------------------------------------------- */

Test(x86_64_enc, push_pop_ret_traps_and_indirect_branches)
{
	struct x64_mem mems[MEM_SAMPLE_MAX];
	size_t n = mem_sample(mems);
	struct golden g;

	gold_init(&g);
	for (unsigned r = 0; r < 16; r++) {
		insn(&g, "push %s", r64[r]);
		x64_push(&g.b, r);
		insn(&g, "pop %s", r64[r]);
		x64_pop(&g.b, r);
		insn(&g, "call %s", r64[r]);
		x64_call_r(&g.b, r);
		insn(&g, "jmp %s", r64[r]);
		x64_jmp_r(&g.b, r);
	}
	for (size_t i = 0; i < n; i++) {
		insn(&g, "call qword ptr %s", mem_text(mems[i]));
		x64_call_m(&g.b, mems[i]);
		insn(&g, "jmp qword ptr %s", mem_text(mems[i]));
		x64_jmp_m(&g.b, mems[i]);
	}
	insn(&g, "ret");
	x64_ret(&g.b);
	insn(&g, "ud2");
	x64_ud2(&g.b);
	insn(&g, "int3");
	x64_int3(&g.b);
	gold_check(&g);
}

/*
 * Jumps, calls and a RIP-relative load, each emitted with a zero
 * displacement and patched afterwards to reach a label: forward and
 * backward, near and far (movabs in between spreads them out).
 */
Test(x86_64_enc, branches_reach_their_labels_once_patched)
{
	enum { N = 600, JMP32, JCC32, CALL32, JMP8, JCC8, FILL };
	uint32_t label[N], field[N], constant;
	unsigned target[N], kind[N];
	struct golden g;

	gold_init(&g);
	for (unsigned i = 0; i < N; i++) {
		enum x64_cc cc = i % 16;

		gold_line(&g, ".L%u:", i);
		label[i] = jit_buf_pos(&g.b);
		kind[i] = JMP32 + i % 6;
		target[i] = kind[i] == JMP8 || kind[i] == JCC8
			? (i + 2 < N ? i + 2 : i - 2) : (i * 37 + 11) % N;
		switch (kind[i]) {
		case JMP32:
			insn(&g, "{disp32} jmp .L%u", target[i]);
			field[i] = x64_jmp_rel32(&g.b);
			break;
		case JCC32:
			insn(&g, "{disp32} j%s .L%u", cc_name[cc], target[i]);
			field[i] = x64_jcc_rel32(&g.b, cc);
			break;
		case CALL32:
			insn(&g, "call .L%u", target[i]);
			field[i] = x64_call_rel32(&g.b);
			break;
		case JMP8:
			insn(&g, "jmp .L%u", target[i]);
			field[i] = x64_jmp_rel8(&g.b);
			break;
		case JCC8:
			insn(&g, "j%s .L%u", cc_name[cc], target[i]);
			field[i] = x64_jcc_rel8(&g.b, cc);
			break;
		default:
			insn(&g, "movabs %s, %llu", r64[i % 16], 0x123456789abcdefull);
			x64_mov_ri(&g.b, true, i % 16, 0x123456789abcdefull);
		}
	}
	insn(&g, "movsd xmm9, qword ptr [rip+.Lconst]");
	x64_sse_rm(&g.b, X64_MOVSD, X64_XMM9, x64_mem_rip(0));
	x64_patch_rel32(&g.b, jit_buf_pos(&g.b) - 4, jit_buf_pos(&g.b) + 1);
	insn(&g, "int3");
	x64_int3(&g.b);
	gold_line(&g, ".Lconst:");
	constant = jit_buf_pos(&g.b);
	insn(&g, "int3");
	x64_int3(&g.b);
	cr_assert_eq(constant, jit_buf_pos(&g.b) - 1);

	for (unsigned i = 0; i < N; i++) {
		if (kind[i] == JMP8 || kind[i] == JCC8)
			cr_assert(x64_patch_rel8(&g.b, field[i], label[target[i]]));
		else if (kind[i] != FILL)
			x64_patch_rel32(&g.b, field[i], label[target[i]]);
	}
	gold_check(&g);
}

Test(x86_64_enc, patch_rel8_refuses_a_distance_past_a_byte)
{
	uint8_t mem[512];
	struct jit_buf b;
	uint32_t at;

	memset(mem, 0xcc, sizeof(mem));
	jit_buf_init(&b, mem, sizeof(mem));
	for (unsigned i = 0; i < 200; i++)
		x64_int3(&b);
	at = x64_jmp_rel8(&b);
	cr_assert_eq(at, 201);
	for (unsigned i = 0; i < 200; i++)
		x64_int3(&b);
	cr_assert(x64_patch_rel8(&b, at, at + 1 + 127));
	cr_assert_eq(mem[at], 0x7f);
	cr_assert(x64_patch_rel8(&b, at, at + 1 - 128));
	cr_assert_eq(mem[at], 0x80);
	cr_assert_not(x64_patch_rel8(&b, at, at + 1 + 128));
	cr_assert_not(x64_patch_rel8(&b, at, at + 1 - 129));
	cr_assert_eq(mem[at], 0x80, "a refused patch changed the byte");
	cr_assert_not(b.overflow);
}

/* Each nop length against its instruction, then padding from every
 * misalignment: nine-byte nops and one shorter, nothing if aligned. */
Test(x86_64_enc, nops_of_every_length_and_alignment_padding)
{
	static const char *const nop_text[10] = {
		NULL, "nop", "xchg ax, ax", "nop dword ptr [rax]",
		"{disp8} nop dword ptr [rax]", "{disp8} nop dword ptr [rax+rax*1]",
		"{disp8} nop word ptr [rax+rax*1]", "{disp32} nop dword ptr [rax]",
		"{disp32} nop dword ptr [rax+rax*1]", "{disp32} nop word ptr [rax+rax*1]",
	};
	static const uint32_t aligns[] = { 1, 2, 4, 8, 16, 32, 64 };
	struct golden g;

	gold_init(&g);
	for (unsigned len = 1; len <= 9; len++) {
		insn(&g, "%s", nop_text[len]);
		x64_nop(&g.b, len);
	}
	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
		for (uint32_t skew = 0; skew < aligns[a] + 2; skew++) {
			uint32_t pad;

			insn(&g, "int3");
			x64_int3(&g.b);
			for (uint32_t i = 0; i < skew; i++) {
				gold_line(&g, "int3");
				x64_int3(&g.b);
			}
			pad = -jit_buf_pos(&g.b) & (aligns[a] - 1);
			insn(&g, "# align %u", aligns[a]);
			for (; pad >= 9; pad -= 9)
				gold_line(&g, "%s", nop_text[9]);
			if (pad)
				gold_line(&g, "%s", nop_text[pad]);
			x64_align(&g.b, aligns[a]);
			cr_assert_eq(jit_buf_pos(&g.b) % aligns[a], 0);
		}
	gold_check(&g);
}

/* -- SSE ------------------------------------------------------------------ */

/* Every op of enum x64_sse_op, with the size of its memory operand. */
static const struct {
	enum x64_sse_op op;
	const char *name, *mem;
} sse_ops[] = {
	{ X64_MOVSS, "movss", "dword ptr" }, { X64_MOVSD, "movsd", "qword ptr" },
	{ X64_ADDSS, "addss", "dword ptr" }, { X64_ADDSD, "addsd", "qword ptr" },
	{ X64_SUBSS, "subss", "dword ptr" }, { X64_SUBSD, "subsd", "qword ptr" },
	{ X64_MULSS, "mulss", "dword ptr" }, { X64_MULSD, "mulsd", "qword ptr" },
	{ X64_DIVSS, "divss", "dword ptr" }, { X64_DIVSD, "divsd", "qword ptr" },
	{ X64_MINSS, "minss", "dword ptr" }, { X64_MINSD, "minsd", "qword ptr" },
	{ X64_MAXSS, "maxss", "dword ptr" }, { X64_MAXSD, "maxsd", "qword ptr" },
	{ X64_SQRTSS, "sqrtss", "dword ptr" }, { X64_SQRTSD, "sqrtsd", "qword ptr" },
	{ X64_UCOMISS, "ucomiss", "dword ptr" }, { X64_UCOMISD, "ucomisd", "qword ptr" },
	{ X64_CVTSS2SD, "cvtss2sd", "dword ptr" }, { X64_CVTSD2SS, "cvtsd2ss", "qword ptr" },
	{ X64_ANDPS, "andps", "xmmword ptr" }, { X64_ANDPD, "andpd", "xmmword ptr" },
	{ X64_ANDNPS, "andnps", "xmmword ptr" }, { X64_ANDNPD, "andnpd", "xmmword ptr" },
	{ X64_ORPS, "orps", "xmmword ptr" }, { X64_ORPD, "orpd", "xmmword ptr" },
	{ X64_XORPS, "xorps", "xmmword ptr" }, { X64_XORPD, "xorpd", "xmmword ptr" },
	{ X64_MOVAPS, "movaps", "xmmword ptr" }, { X64_MOVAPD, "movapd", "xmmword ptr" },
};
#define NSSE (sizeof(sse_ops) / sizeof(sse_ops[0]))

Test(x86_64_enc, sse_reg_reg_every_op_and_pair)
{
	struct golden g;

	gold_init(&g);
	for (size_t op = 0; op < NSSE; op++)
		for (unsigned dst = 0; dst < 16; dst++)
			for (unsigned src = 0; src < 16; src++) {
				insn(&g, "%s %s, %s", sse_ops[op].name, xmm[dst], xmm[src]);
				x64_sse_rr(&g.b, sse_ops[op].op, dst, src);
			}
	gold_check(&g);
}

Test(x86_64_enc, sse_memory_operands_and_stores)
{
	struct x64_mem mems[MEM_SAMPLE_MAX];
	size_t n = mem_sample(mems);
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (size_t op = 0; op < NSSE; op++)
		for (size_t i = 0; i < n; i++, k++) {
			unsigned r = (k * 11 + 5) % 16;

			insn(&g, "%s %s, %s %s", sse_ops[op].name, xmm[r], sse_ops[op].mem,
			     mem_text(mems[i]));
			x64_sse_rm(&g.b, sse_ops[op].op, r, mems[i]);
		}
	for (unsigned f64 = 0; f64 < 2; f64++)
		for (size_t i = 0; i < n; i++, k++) {
			unsigned r = (k * 11 + 5) % 16;

			insn(&g, "%s %s %s, %s", f64 ? "movsd" : "movss", ptr[2 + f64],
			     mem_text(mems[i]), xmm[r]);
			x64_sse_store(&g.b, f64, mems[i], r);
		}
	gold_check(&g);
}

/* roundss/sd, and the moves and conversions between GPRs and XMMs. */
Test(x86_64_enc, sse_rounding_and_gpr_conversions)
{
	static const uint8_t modes[] = { 0, 1, 2, 3, 8, 11 };
	static const char *const sfx[2] = { "ss", "sd" };
	struct golden g;
	unsigned k = 0;

	gold_init(&g);
	for (unsigned f64 = 0; f64 < 2; f64++)
		for (unsigned w = 0; w < 2; w++)
			for (unsigned x = 0; x < 16; x++)
				for (unsigned r = 0; r < 16; r++, k++) {
					uint8_t mode = modes[k % 6];

					insn(&g, "round%s %s, %s, %u", sfx[f64], xmm[x], xmm[r], mode);
					x64_sse_round_rr(&g.b, f64, x, r, mode);
					insn(&g, "cvtsi2%s %s, %s", sfx[f64], xmm[x], gpr(w, r));
					x64_cvt_si2f_rr(&g.b, f64, w, x, r);
					insn(&g, "cvtt%s2si %s, %s", sfx[f64], gpr(w, r), xmm[x]);
					x64_cvtt_f2si_rr(&g.b, f64, w, r, x);
					if (f64)
						continue;
					insn(&g, "%s %s, %s", w ? "movq" : "movd", xmm[x], gpr(w, r));
					x64_movd_xr(&g.b, w, x, r);
					insn(&g, "%s %s, %s", w ? "movq" : "movd", gpr(w, r), xmm[x]);
					x64_movd_rx(&g.b, w, r, x);
				}
	gold_check(&g);
}

/* -- The code buffer ------------------------------------------------------ */

Test(x86_64_enc, buffer_stores_little_endian)
{
	static const uint8_t want[15] = {
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x01, 0x02, 0x03, 0x04,
		0x05, 0x06, 0x07, 0x08,
	};
	uint8_t mem[15];
	struct jit_buf b;

	jit_buf_init(&b, mem, sizeof(mem));
	jit_buf_put8(&b, 0x11);
	jit_buf_put16(&b, 0x3322);
	jit_buf_put32(&b, 0x77665544);
	jit_buf_put64(&b, 0x0807060504030201);
	cr_assert_eq(jit_buf_pos(&b), 15);
	cr_assert_not(b.overflow);
	cr_assert_arr_eq(mem, want, sizeof(want));
	jit_buf_patch32(&b, 11, 0xdeadbeef);
	cr_assert_eq(mem[11], 0xef);
	cr_assert_eq(mem[14], 0xde);
	cr_assert_not(b.overflow);
}

/* A write that does not fit writes nothing, and neither does any after it,
 * even one that would fit; the flag stays set. */
Test(x86_64_enc, overflow_is_sticky_and_writes_nothing_past_it)
{
	uint8_t mem[16];
	struct jit_buf b;

	memset(mem, 0xaa, sizeof(mem));
	jit_buf_init(&b, mem, 6);
	jit_buf_put32(&b, 0);
	jit_buf_put32(&b, 0x11111111);		/* 2 bytes left: does not fit */
	cr_assert(b.overflow);
	cr_assert_eq(jit_buf_pos(&b), 4);
	jit_buf_put8(&b, 0x22);			/* would fit, but the flag is set */
	jit_buf_put16(&b, 0x3333);
	cr_assert(b.overflow);
	cr_assert_eq(jit_buf_pos(&b), 4);
	for (unsigned i = 4; i < sizeof(mem); i++)
		cr_assert_eq(mem[i], 0xaa, "byte %u written after the overflow", i);

	/* An instruction that does not fit: movabs is 10 bytes. */
	memset(mem, 0xaa, sizeof(mem));
	jit_buf_init(&b, mem, 8);
	x64_mov_ri(&b, true, X64_R9, 0x123456789abcdefull);
	cr_assert(b.overflow);
	for (unsigned i = 8; i < sizeof(mem); i++)
		cr_assert_eq(mem[i], 0xaa, "byte %u written past the end", i);

	/* An empty buffer overflows at once. */
	jit_buf_init(&b, mem, 0);
	x64_ret(&b);
	cr_assert(b.overflow);
	cr_assert_eq(jit_buf_pos(&b), 0);
}

/* A patch of bytes not yet written, or of a branch field an overflowing
 * emit returned, overflows instead of writing. */
Test(x86_64_enc, patch_outside_the_written_bytes_overflows)
{
	uint8_t mem[16];
	struct jit_buf b;
	uint32_t at;

	memset(mem, 0xaa, sizeof(mem));
	jit_buf_init(&b, mem, sizeof(mem));
	jit_buf_put32(&b, 0);
	jit_buf_put16(&b, 0);
	jit_buf_patch32(&b, 2, 0x11223344);		/* bytes 2..5: fine */
	cr_assert_not(b.overflow);
	jit_buf_patch32(&b, 3, 0x55667788);		/* byte 6 is not written yet */
	cr_assert(b.overflow);
	cr_assert_eq(mem[3], 0x33);			/* from the first patch */
	cr_assert_eq(mem[6], 0xaa);

	memset(mem, 0xaa, sizeof(mem));
	jit_buf_init(&b, mem, 8);
	jit_buf_put32(&b, 0);
	at = x64_jcc_rel32(&b, X64_CC_E);	/* 0F 84 fit, the rel32 does not */
	cr_assert(b.overflow);
	cr_assert_eq(at, 6);
	x64_patch_rel32(&b, at, 0);
	for (unsigned i = 6; i < sizeof(mem); i++)
		cr_assert_eq(mem[i], 0xaa, "byte %u written", i);
	jit_buf_patch8(&b, 6, 0);
	cr_assert_eq(mem[6], 0xaa);
}
