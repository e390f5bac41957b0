/*
 * x86_64.c - the x86-64 back end of the JIT: emit.h implemented with the
 * encoders of x86_64_enc.h.
 *
 * Registers: JIT register r < 16 is GPR r, 32 + n is XMMn.  Operands:
 * rax rcx rdx rdi and xmm0-xmm7, all caller-saved, so a call clobbers
 * nothing the front end still holds; homes of the busiest locals: rbx r12
 * r13 r8 r9 rsi and xmm8-xmm13 (see home_gpr).  r10 and r11, xmm14 and
 * xmm15 are this file's scratch; r14 holds memory 0's base in functions
 * that use memory and r15 the vmctx for the whole body.  Both are
 * callee-saved in C, so host and runtime calls keep them, but a wasm
 * function does not restore them: a direct call stays in the instance,
 * where they hold the same values, so only calls through a table or an
 * import load them back, and the entry stub saves them for its C caller.
 * rbp is the frame pointer, so every frame links to its caller's for
 * backtraces.
 *
 * The frame, from rbp down:
 *	[rbp + 16 + 8k]	stack-passed parameter k (its local's home)
 *	[rbp + 8]	return address
 *	[rbp]		caller's rbp
 *	[rbp - 8]	the vmctx, [rbp - 16] unused
 *	[rbp - 24]	caller's rbx, [rbp - 32] r12, [rbp - 40] r13 (when homes)
 *	[rbp - 48]	where to store results (functions with more than one)
 *	[rbp - 56 - 8i]	local i (register-passed parameters, declared locals;
 *			the slot of a local homed in an xmm register saves it
 *			across calls)
 *	slots		the operand stack's canonical slots, ascending
 *	[rsp]		outgoing stack arguments
 * rsp stays 16-byte aligned in the body, as calls need.
 */
#include "jit/emit.h"
#include "jit/x86_64_enc.h"
#include "jit/wasm_internal.h"
#include "kernel/hal.h"
#include "kernel/klib.h"

#define RAX X64_RAX
#define RCX X64_RCX
#define RDX X64_RDX
#define RSP X64_RSP
#define RBP X64_RBP
#define RSI X64_RSI
#define RDI X64_RDI
#define R8 X64_R8
#define R9 X64_R9
#define R10 X64_R10
#define R11 X64_R11
#define R14 X64_R14
#define R15 X64_R15
#define XS0 X64_XMM15		/* float scratch */
#define XS1 X64_XMM14

#define REG_MEM R14
#define REG_VM R15

const uint64_t jit_target_regs =
	1ull << RAX | 1ull << RCX | 1ull << RDX | 1ull << RDI |
	0xffull << JIT_FPR;

/*
 * Homes of the busiest locals: rbx, r12 and r13, callee-saved, so calls
 * keep them (the first three homes, saved in the prologue); r8, r9, rsi
 * and xmm8-xmm13, which calls clobber, so they are saved to their locals'
 * frame slots around every call.  Six of each: rdi as a seventh integer
 * home made the switch-heavy interpreter benchmark 1.7x slower (three
 * operand registers, two of them taken by shifts and divisions) and
 * quicksort no faster.
 */
static const enum x64_gpr home_gpr[] = { X64_RBX, X64_R12, X64_R13, X64_R8, X64_R9, X64_RSI };
#define CALLEE_SAVED_HOMES	3
#define HOME_FPR0	8
const uint8_t jit_target_homes[2] = { 6, 6 };
const uint8_t jit_target_fill = 0xcc;	/* int3 */

/* Where the callee-saved homes keep the caller's values. */
static const int32_t home_save[CALLEE_SAVED_HOMES] = { -24, -32, -40 };

/* Condition tokens: an x86 cc, or a float equality needing the parity flag. */
enum { COND_FEQ = 16, COND_FNE = 17 };

#define FRAME_VMCTX	(-8)
#define FRAME_RESULTS	(-48)
#define FRAME_LOCALS	(-56)

static inline struct jit_buf *B(struct jit_cc *c)
{
	return &c->buf;
}

static inline enum x64_xmm xmm(uint8_t r)
{
	return (enum x64_xmm)(r - JIT_FPR);
}

static inline enum x64_gpr gpr(uint8_t r)
{
	return (enum x64_gpr)r;
}

static inline struct x64_mem frame(int32_t off)
{
	return x64_mem_bd(RBP, off);
}

static inline bool wide(uint8_t type)
{
	return type != JIT_I32 && type != JIT_F32;
}

static bool fits32(uint64_t v, bool w)
{
	return !w || (int64_t)v == (int32_t)v;
}

/* -- CPU features --------------------------------------------------------- */

/* The platform's answer, the same for every compile of a boot, so code is
 * deterministic. */
static inline bool has(uint64_t feature)
{
	return hal_cpu_features() & feature;
}

bool jit_target_supported(const char **why)
{
	if (!has(HAL_CPU_X86_SSE41) || !has(HAL_CPU_X86_POPCNT)) {
		*why = "the x86-64 back end needs SSE4.1 and POPCNT (x86-64-v2)";
		return false;
	}
	return true;
}

/* -- Moves ---------------------------------------------------------------- */

/* A GPR holding the integer operand: its register, or s loaded with it. */
static enum x64_gpr in_gpr(struct jit_cc *c, const struct jit_opnd *o, bool w,
			   enum x64_gpr s)
{
	switch (o->kind) {
	case JIT_OPND_REG:
		return gpr(o->reg);
	case JIT_OPND_IMM:
		x64_mov_ri(B(c), w, s, w ? o->imm : (uint32_t)o->imm);
		return s;
	case JIT_OPND_ADDR:
		x64_lea(B(c), true, s, frame(o->off));
		return s;
	default:
		x64_load(B(c), w ? X64_QWORD : X64_DWORD, false, false, s, frame(o->off));
		return s;
	}
}

/* An XMM holding the float operand: its register, or s loaded with it. */
static enum x64_xmm in_xmm(struct jit_cc *c, const struct jit_opnd *o, bool f64,
			   enum x64_xmm s)
{
	switch (o->kind) {
	case JIT_OPND_REG:
		return xmm(o->reg);
	case JIT_OPND_IMM:
		if (!o->imm) {
			x64_sse_rr(B(c), X64_XORPS, s, s);
		} else {
			x64_mov_ri(B(c), f64, R11, o->imm);
			x64_movd_xr(B(c), f64, s, R11);
		}
		return s;
	default:
		x64_sse_rm(B(c), f64 ? X64_MOVSD : X64_MOVSS, s, frame(o->off));
		return s;
	}
}

void jit_emit_move(struct jit_cc *c, uint8_t type, const struct jit_opnd *dst,
		   const struct jit_opnd *src)
{
	bool w = wide(type), fp = jit_is_fp(type);
	enum x64_size size = w ? X64_QWORD : X64_DWORD;

	if (dst->kind == JIT_OPND_REG) {
		if (fp) {
			enum x64_xmm x = in_xmm(c, src, w, xmm(dst->reg));

			if (x != xmm(dst->reg))
				x64_sse_rr(B(c), X64_MOVAPS, xmm(dst->reg), x);
		} else {
			enum x64_gpr g = in_gpr(c, src, w, gpr(dst->reg));

			if (g != gpr(dst->reg))
				x64_mov_rr(B(c), w, gpr(dst->reg), g);
		}
		return;
	}
	/* To a frame slot. */
	switch (src->kind) {
	case JIT_OPND_REG:
		if (fp)
			x64_sse_store(B(c), w, frame(dst->off), xmm(src->reg));
		else
			x64_store(B(c), size, frame(dst->off), gpr(src->reg));
		return;
	case JIT_OPND_IMM:
		if (fits32(src->imm, w)) {
			x64_store_imm(B(c), size, frame(dst->off), (int32_t)src->imm);
			return;
		}
		break;
	default:
		if (src->kind == JIT_OPND_FRAME && src->off == dst->off)
			return;
		break;
	}
	x64_store(B(c), size, frame(dst->off), in_gpr(c, src, w, R11));
}

void jit_emit_vm_load(struct jit_cc *c, uint8_t dst, uint32_t off)
{
	x64_load(B(c), X64_QWORD, false, true, gpr(dst), x64_mem_bd(REG_VM, (int32_t)off));
}

static enum x64_gpr base_reg(uint8_t base)
{
	return base == JIT_BASE_VM ? REG_VM : gpr(base);
}

void jit_emit_load_field(struct jit_cc *c, uint8_t type, uint8_t dst,
			 uint8_t base, int32_t off)
{
	struct x64_mem m = x64_mem_bd(base_reg(base), off);

	if (jit_is_fp(type))
		x64_sse_rm(B(c), wide(type) ? X64_MOVSD : X64_MOVSS, xmm(dst), m);
	else
		x64_load(B(c), wide(type) ? X64_QWORD : X64_DWORD, false, false, gpr(dst), m);
}

void jit_emit_store_field(struct jit_cc *c, uint8_t type, uint8_t base,
			  int32_t off, const struct jit_opnd *src)
{
	struct x64_mem m = x64_mem_bd(base_reg(base), off);
	bool w = wide(type);

	if (src->kind == JIT_OPND_REG && jit_is_fp(type)) {
		x64_sse_store(B(c), w, m, xmm(src->reg));
	} else if (src->kind == JIT_OPND_IMM && fits32(src->imm, w)) {
		x64_store_imm(B(c), w ? X64_QWORD : X64_DWORD, m, (int32_t)src->imm);
	} else {
		enum x64_gpr g = src->kind == JIT_OPND_REG && !jit_is_fp(type) ?
				 gpr(src->reg) : in_gpr(c, src, w, R11);

		x64_store(B(c), w ? X64_QWORD : X64_DWORD, m, g);
	}
}

/* -- Branches, stubs and traps -------------------------------------------- */

/* A branch on a condition token to a site returned for patching; with
 * negate, on its opposite.  Float equality needs two tests of flags, so
 * it takes a local skip. */
uint32_t jit_emit_branch(struct jit_cc *c, int cond, bool negate)
{
	uint32_t skip, skip2, site;

	if (cond == JIT_COND_ALWAYS)
		return x64_jmp_rel32(B(c));
	if (cond == COND_FEQ || cond == COND_FNE) {
		bool eq = (cond == COND_FEQ) != negate;

		if (eq) {	/* ZF and not PF */
			skip = x64_jcc_rel8(B(c), X64_CC_P);
			site = x64_jcc_rel32(B(c), X64_CC_E);
			x64_patch_rel8(B(c), skip, jit_buf_pos(B(c)));
			return site;
		}
		/* not ZF, or PF */
		skip = x64_jcc_rel8(B(c), X64_CC_P);
		skip2 = x64_jcc_rel8(B(c), X64_CC_E);
		x64_patch_rel8(B(c), skip, jit_buf_pos(B(c)));
		site = x64_jmp_rel32(B(c));
		x64_patch_rel8(B(c), skip2, jit_buf_pos(B(c)));
		return site;
	}
	return x64_jcc_rel32(B(c), (enum x64_cc)(negate ? cond ^ 1 : cond));
}

void jit_emit_patch(struct jit_cc *c, uint32_t site, uint32_t target)
{
	x64_patch_rel32(B(c), site, target);
}

void jit_emit_trap_if(struct jit_cc *c, int cond, unsigned code)
{
	jit_add_stub(c, jit_emit_branch(c, cond, false), 0,
		     (uint16_t)(JIT_STUB_TRAP + code));
}

/* Stub kind of a trap whose code is in eax (returned by a runtime call). */
#define STUB_TRAP_EAX	0xffffu

void jit_emit_trap_if_set(struct jit_cc *c, uint8_t reg)
{
	if (gpr(reg) != RAX)
		x64_mov_rr(B(c), false, RAX, gpr(reg));
	x64_test_rr(B(c), false, RAX, RAX);
	jit_add_stub(c, x64_jcc_rel32(B(c), X64_CC_NE), 0, STUB_TRAP_EAX);
}

static void call_abs(struct jit_cc *c, const void *fn)
{
	x64_mov_ri(B(c), true, RAX, (uint64_t)(uintptr_t)fn);
	x64_call_r(B(c), RAX);
}

/* The poll, with the vmctx's hot pointer in register hot. */
static void poll_through(struct jit_cc *c, enum x64_gpr hot)
{
	uint32_t site;

	/* cmp byte [hot + poll], 0 */
	x64_emit_rm(B(c), 0x80, 0, X64_CMP,
		    x64_mem_bd(hot, (int32_t)offsetof(struct jit_hot, poll)));
	jit_buf_put8(B(c), 0);
	site = x64_jcc_rel32(B(c), X64_CC_NE);
	jit_add_stub(c, site, jit_buf_pos(B(c)), JIT_STUB_POLL);
}

void jit_emit_poll(struct jit_cc *c)
{
	x64_load(B(c), X64_QWORD, false, true, R11,
		 x64_mem_bd(REG_VM, (int32_t)offsetof(struct jit_vmctx, hot)));
	poll_through(c, R11);
}

/*
 * Loop headers start on a 32-byte boundary: the decoded-instruction cache
 * and the branch predictors work in such windows, and a back edge landing
 * mid-window made a hot loop 40% slower depending on what preceded it.
 */
void jit_emit_loop_header(struct jit_cc *c)
{
	x64_align(B(c), 32);
}

/* -- Frame ---------------------------------------------------------------- */

/* Integer argument registers; arg 0 the callee's context, 1 the caller's. */
static const enum x64_gpr int_args[6] = { RDI, RSI, RDX, RCX, R8, R9 };

/*
 * Where the parameters of a call travel, one after the other: integers
 * and references in the integer argument registers left after the
 * context ones (and the results pointer of a function with more than one
 * result), floats in xmm0-7, the rest on the stack in order.
 */
struct argit {
	uint32_t ni, nf, ns;
};

static struct argit args_begin(uint32_t first_int, bool results_ptr)
{
	return (struct argit){ .ni = first_int + results_ptr };
}

/* The next parameter's register, or JIT_NO_REG and its stack word in *k. */
static uint8_t arg_next(struct argit *it, uint8_t type, uint32_t *k)
{
	if (jit_is_fp(type) && it->nf < 8)
		return (uint8_t)(JIT_FPR + it->nf++);
	if (!jit_is_fp(type) && it->ni < 6)
		return (uint8_t)int_args[it->ni++];
	*k = it->ns++;
	return JIT_NO_REG;
}


/* An argument on its way: from its operand to a register or stack word. */
struct argmove {
	struct jit_opnd src;
	uint8_t type;
	uint8_t dst;		/* JIT_NO_REG: the stack word k */
	uint32_t k;
	bool done;
};

static bool reads_reg(const struct argmove *m, uint32_t n, uint8_t reg)
{
	for (uint32_t i = 0; i < n; i++)
		if (!m[i].done && m[i].src.kind == JIT_OPND_REG && m[i].src.reg == reg)
			return true;
	return false;
}

/*
 * Put the arguments in place: a parallel move, since a value may sit in
 * another argument's register.  Stack words first (they overwrite no
 * register), then register moves whose destination no pending move still
 * reads, a cycle broken through a scratch register; constants and memory
 * operands last.  r10 (the callee) is never a source or a destination.
 */
static void place_args(struct jit_cc *c, struct argmove *m, uint32_t n)
{
	uint32_t left = n;

	for (uint32_t i = 0; i < n; i++) {
		struct x64_mem w = x64_mem_bd(RSP, 8 * (int32_t)m[i].k);
		bool q = wide(m[i].type);

		if (m[i].dst != JIT_NO_REG)
			continue;
		if (m[i].src.kind == JIT_OPND_IMM && fits32(m[i].src.imm, q))
			x64_store_imm(B(c), X64_QWORD, w, (int32_t)(q ? m[i].src.imm :
				      (uint32_t)m[i].src.imm));
		else if (m[i].src.kind == JIT_OPND_REG && m[i].src.reg >= JIT_FPR)
			x64_sse_store(B(c), true, w, xmm(m[i].src.reg));
		else
			x64_store(B(c), X64_QWORD, w, in_gpr(c, &m[i].src, true, R11));
		m[i].done = true;
		left--;
	}
	while (left) {
		bool progress = false;

		for (uint32_t i = 0; i < n; i++) {
			struct jit_opnd d = { .kind = JIT_OPND_REG, .reg = m[i].dst };

			if (m[i].done || m[i].src.kind != JIT_OPND_REG ||
			    (m[i].src.reg != m[i].dst && reads_reg(m, n, m[i].dst)))
				continue;
			jit_emit_move(c, m[i].type, &d, &m[i].src);
			m[i].done = true;
			left--;
			progress = true;
		}
		if (progress)
			continue;
		/* Only cycles (or non-register sources) remain. */
		for (uint32_t i = 0; i < n; i++) {
			if (m[i].done || m[i].src.kind != JIT_OPND_REG)
				continue;
			{
				uint8_t from = m[i].src.reg;
				uint8_t tmp = from >= JIT_FPR ? JIT_FPR + XS0 : R11;
				struct jit_opnd d = { .kind = JIT_OPND_REG, .reg = tmp };

				jit_emit_move(c, m[i].type, &d, &m[i].src);
				for (uint32_t j = 0; j < n; j++)
					if (!m[j].done && m[j].src.kind == JIT_OPND_REG &&
					    m[j].src.reg == from)
						m[j].src.reg = tmp;
			}
			progress = true;
			break;
		}
		if (!progress)
			break;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct jit_opnd d = { .kind = JIT_OPND_REG, .reg = m[i].dst };

		if (!m[i].done)
			jit_emit_move(c, m[i].type, &d, &m[i].src);
	}
}

/* The registers chosen for locals: c->local_home of the hot ones. */
static void assign_homes(struct jit_cc *c)
{
	c->nsaved = 0;
	c->saved_len[0] = c->saved_len[1] = 0;
	c->home_regs = 0;
	for (uint32_t i = 0; i < c->nlocals; i++)
		c->local_home[i] = (struct jit_opnd){ .kind = JIT_OPND_FRAME };
	for (unsigned k = 0; k < c->nhot[0]; k++) {
		c->local_home[c->hot[0][k]] = (struct jit_opnd){ .kind = JIT_OPND_REG,
			.reg = (uint8_t)home_gpr[k] };
		c->home_regs |= 1ull << home_gpr[k];
	}
	for (unsigned k = 0; k < c->nhot[1]; k++) {
		uint8_t r = (uint8_t)(JIT_FPR + HOME_FPR0 + k);

		c->local_home[c->hot[1][k]] = (struct jit_opnd){ .kind = JIT_OPND_REG, .reg = r };
		c->home_regs |= 1ull << r;
	}
}

/* Save the homes calls clobber to their slots, or load them back. */
static void homes_around_call(struct jit_cc *c, bool save)
{
	uint8_t *code = c->saved_code[save];

	if (!c->nsaved)
		return;
	if (!c->saved_len[save]) {
		struct jit_buf b;

		jit_buf_init(&b, code, sizeof(c->saved_code[save]));
		for (unsigned k = 0; k < c->nsaved; k++) {
			struct x64_mem m = frame(c->saved_off[k]);
			uint8_t r = c->saved_reg[k];

			if (r < JIT_FPR && save)
				x64_store(&b, X64_QWORD, m, gpr(r));
			else if (r < JIT_FPR)
				x64_load(&b, X64_QWORD, false, true, gpr(r), m);
			else if (save)
				x64_sse_store(&b, true, m, xmm(r));
			else
				x64_sse_rm(&b, X64_MOVSD, xmm(r), m);
		}
		c->saved_len[save] = (uint8_t)jit_buf_pos(&b);
	}
	if (jit_buf_room(B(c), c->saved_len[save])) {
		kmemcpy(B(c)->p, code, c->saved_len[save]);
		B(c)->p += c->saved_len[save];
	}
}

/* A home that calls clobber, saved at the local's frame slot. */
static void clobbered_home(struct jit_cc *c, uint8_t r, int32_t slot)
{
	if (r == X64_RBX || r == X64_R12 || r == X64_R13)
		return;		/* callee-saved: the prologue keeps the caller's */
	c->saved_reg[c->nsaved] = r;
	c->saved_off[c->nsaved++] = slot;
}

void jit_emit_prologue(struct jit_cc *c)
{
	const struct jit_wasm_functype *ft = c->ft;
	uint32_t nframe = 0, ndecl = c->nlocals - ft->nparams;
	struct argit it = args_begin(2, ft->nresults > 1);
	int32_t lo;

	assign_homes(c);
	x64_push(B(c), RBP);
	x64_mov_rr(B(c), true, RBP, RSP);
	x64_push(B(c), RDI);	/* the vmctx, for after calls that change it */
	x64_mov_rr(B(c), true, REG_VM, RDI);

	/* The stack check: the frame must end above the store's limit.  rax
	 * keeps the hot pointer for the poll below (no argument travels in
	 * it, and the moves of parameters to their homes go through r11). */
	x64_load(B(c), X64_QWORD, false, true, RAX,
		 x64_mem_bd(REG_VM, (int32_t)offsetof(struct jit_vmctx, hot)));
	x64_lea(B(c), true, R11, x64_mem_bd(RSP, -0x7fffffff));
	c->frame_fields[0] = jit_buf_pos(B(c)) - 4;
	x64_alu_rm(B(c), X64_CMP, true, R11,
		   x64_mem_bd(RAX, (int32_t)offsetof(struct jit_hot, stack_limit)));
	jit_add_stub(c, x64_jcc_rel32(B(c), X64_CC_B), 0,
		     JIT_STUB_TRAP + JIT_TRAP_STACK_EXHAUSTED);
	x64_alu_ri(B(c), X64_SUB, true, RSP, 0x7fffffff);
	c->frame_fields[1] = jit_buf_pos(B(c)) - 4;
	for (unsigned k = 0; k < CALLEE_SAVED_HOMES; k++)
		if (c->home_regs >> home_gpr[k] & 1)
			x64_store(B(c), X64_QWORD, frame(home_save[k]), home_gpr[k]);
	if (ft->nresults > 1)
		x64_store(B(c), X64_QWORD, frame(FRAME_RESULTS), RDX);
	if (c->uses_memory)
		x64_load(B(c), X64_QWORD, false, true, REG_MEM,
			 x64_mem_bd(REG_VM, (int32_t)offsetof(struct jit_vmctx, mem_base)));

	/*
	 * Every local has a frame slot (where calls save a home they
	 * clobber); a parameter passed on the stack lives where the caller
	 * put it unless it has a register.  Parameters homed in the frame are
	 * stored first, then those homed in registers move there in one
	 * parallel move (a home may be another parameter's register).
	 */
	{
		struct argmove m[JIT_WASM_HOT_LOCALS * 2];
		uint32_t n = 0;

		for (uint32_t i = 0; i < ft->nparams; i++) {
			uint8_t t = ft->params[i];
			uint32_t k = 0;
			uint8_t r = arg_next(&it, t, &k);
			int32_t slot = r == JIT_NO_REG ? 16 + 8 * (int32_t)k :
				       FRAME_LOCALS - 8 * (int32_t)nframe++;
			struct jit_opnd src = r == JIT_NO_REG ?
				(struct jit_opnd){ .kind = JIT_OPND_FRAME, .off = slot } :
				(struct jit_opnd){ .kind = JIT_OPND_REG, .reg = r };

			if (c->local_home[i].kind == JIT_OPND_FRAME) {
				c->local_home[i].off = slot;
				jit_emit_move(c, t, &c->local_home[i], &src);
				continue;
			}
			clobbered_home(c, c->local_home[i].reg, slot);
			m[n++] = (struct argmove){ .src = src, .type = t,
						   .dst = c->local_home[i].reg };
		}
		place_args(c, m, n);
	}
	/* Declared locals start at zero. */
	for (uint32_t i = ft->nparams; i < c->nlocals; i++) {
		int32_t slot = FRAME_LOCALS - 8 * (int32_t)nframe++;
		struct jit_opnd *h = &c->local_home[i];

		if (h->kind == JIT_OPND_FRAME) {
			h->off = slot;
			continue;
		}
		clobbered_home(c, h->reg, slot);
		if (h->reg >= JIT_FPR)
			x64_sse_rr(B(c), X64_XORPS, xmm(h->reg), xmm(h->reg));
		else
			x64_alu_rr(B(c), X64_XOR, false, gpr(h->reg), gpr(h->reg));
	}
	/* Every local is in its home now, which is all a poll needs (the
	 * frame slots zeroed next are read only once the body runs). */
	poll_through(c, RAX);
	lo = FRAME_LOCALS - 8 * (int32_t)(nframe - 1);
	if (ndecl && ndecl <= 8) {
		for (uint32_t i = ft->nparams; i < c->nlocals; i++)
			if (c->local_home[i].kind == JIT_OPND_FRAME)
				x64_store_imm(B(c), X64_QWORD, frame(c->local_home[i].off), 0);
	} else if (ndecl) {
		/* rep stosq: rdi, rcx and rax hold nothing any more. */
		x64_lea(B(c), true, RDI, frame(lo));
		x64_mov_ri(B(c), false, RCX, ndecl);
		x64_alu_rr(B(c), X64_XOR, false, RAX, RAX);
		jit_buf_put8(B(c), 0xf3);
		jit_buf_put8(B(c), 0x48);
		jit_buf_put8(B(c), 0xab);
	}
	c->slot0 = FRAME_LOCALS - 8 * (int32_t)nframe -
		   8 * (int32_t)c->m->funcs[c->func].max_operands + 8;
	c->frame_bytes = (uint32_t)(-c->slot0 - 16);
}

static void epilogue(struct jit_cc *c)
{
	for (unsigned k = 0; k < CALLEE_SAVED_HOMES; k++)
		if (c->home_regs >> home_gpr[k] & 1)
			x64_load(B(c), X64_QWORD, false, true, home_gpr[k], frame(home_save[k]));
	x64_leave(B(c));
	x64_ret(B(c));
}

void jit_emit_return(struct jit_cc *c, const struct jit_opnd *results)
{
	const struct jit_wasm_functype *ft = c->ft;

	if (ft->nresults == 1) {
		struct jit_opnd dst = { .kind = JIT_OPND_REG,
			.reg = jit_is_fp(ft->results[0]) ? JIT_FPR : RAX };

		jit_emit_move(c, ft->results[0], &dst, &results[0]);
	} else if (ft->nresults > 1) {
		/* r10 = where they go; each through r11 or xmm15. */
		x64_load(B(c), X64_QWORD, false, true, R10, frame(FRAME_RESULTS));
		for (uint32_t i = 0; i < ft->nresults; i++) {
			uint8_t t = ft->results[i];
			struct x64_mem m = x64_mem_bd(R10, 8 * (int32_t)i);

			if (jit_is_fp(t))
				x64_sse_store(B(c), true, m, in_xmm(c, &results[i], wide(t), XS0));
			else
				x64_store(B(c), X64_QWORD, m, in_gpr(c, &results[i], wide(t), R11));
		}
	}
	epilogue(c);
}

/* The trap path every stub ends in: jit_rt_trap(vmctx, esi, rbp, pc). */
static void emit_trap_call(struct jit_cc *c)
{
	x64_mov_rr(B(c), true, RDI, REG_VM);
	x64_mov_rr(B(c), true, RDX, RBP);
	x64_lea(B(c), true, RCX, x64_mem_rip(0));
	call_abs(c, jit_rt_trap);
}

void jit_emit_finish(struct jit_cc *c)
{
	/* Below the vmctx's push: the frame, and the unused slot at rbp - 16. */
	uint32_t size = ALIGN_UP(c->frame_bytes + c->out_bytes, 16u) + 8;
	uint32_t trap_site[JIT_TRAP_COUNT + 1];
	uint32_t eax_stub = UINT32_MAX;

	jit_buf_patch32(B(c), c->frame_fields[0], (uint32_t)-(int32_t)size);
	jit_buf_patch32(B(c), c->frame_fields[1], size);

	/* One stub per trap code, shared by every site trapping with it. */
	for (unsigned k = 0; k <= JIT_TRAP_COUNT; k++)
		trap_site[k] = UINT32_MAX;
	for (uint32_t i = 0; i < c->nstubs; i++) {
		const struct jit_stub st = c->s->stubs[i];

		if (st.kind == JIT_STUB_POLL || st.kind == STUB_TRAP_EAX)
			continue;
		if (trap_site[st.kind - JIT_STUB_TRAP] == UINT32_MAX) {
			trap_site[st.kind - JIT_STUB_TRAP] = jit_buf_pos(B(c));
			x64_mov_ri(B(c), false, RSI, st.kind - JIT_STUB_TRAP);
			emit_trap_call(c);
		}
		x64_patch_rel32(B(c), st.from, trap_site[st.kind - JIT_STUB_TRAP]);
	}
	/* Polls: call jit_rt_poll, trap if it says so, else resume.  Each
	 * stub is read by value: recording the trap check may move the array. */
	for (uint32_t i = 0; i < c->nstubs; i++) {
		const struct jit_stub st = c->s->stubs[i];
		uint32_t site;

		if (st.kind != JIT_STUB_POLL)
			continue;
		x64_patch_rel32(B(c), st.from, jit_buf_pos(B(c)));
		homes_around_call(c, true);
		x64_mov_rr(B(c), true, RDI, REG_VM);
		call_abs(c, jit_rt_poll);
		homes_around_call(c, false);
		x64_test_rr(B(c), false, RAX, RAX);
		site = x64_jcc_rel32(B(c), X64_CC_NE);
		jit_add_stub(c, site, 0, STUB_TRAP_EAX);
		x64_patch_rel32(B(c), x64_jmp_rel32(B(c)), st.back);
	}
	for (uint32_t i = 0; i < c->nstubs; i++) {
		const struct jit_stub st = c->s->stubs[i];

		if (st.kind != STUB_TRAP_EAX)
			continue;
		if (eax_stub == UINT32_MAX) {
			eax_stub = jit_buf_pos(B(c));
			x64_mov_rr(B(c), false, RSI, RAX);
			emit_trap_call(c);
		}
		x64_patch_rel32(B(c), st.from, eax_stub);
	}
}

/* -- Integer arithmetic --------------------------------------------------- */

static enum x64_alu alu_of(unsigned op)
{
	switch (op) {
	case JIT_OP_I32_ADD: case JIT_OP_I64_ADD: return X64_ADD;
	case JIT_OP_I32_SUB: case JIT_OP_I64_SUB: return X64_SUB;
	case JIT_OP_I32_AND: case JIT_OP_I64_AND: return X64_AND;
	case JIT_OP_I32_OR: case JIT_OP_I64_OR: return X64_OR;
	default: return X64_XOR;
	}
}

static enum x64_shift shift_of(unsigned op)
{
	switch (op) {
	case JIT_OP_I32_SHL: case JIT_OP_I64_SHL: return X64_SHL;
	case JIT_OP_I32_SHR_S: case JIT_OP_I64_SHR_S: return X64_SAR;
	case JIT_OP_I32_SHR_U: case JIT_OP_I64_SHR_U: return X64_SHR;
	case JIT_OP_I32_ROTL: case JIT_OP_I64_ROTL: return X64_ROL;
	default: return X64_ROR;
	}
}

/* dst = lhs op rhs for the ALU group, with the rhs folded where it fits. */
static void alu(struct jit_cc *c, enum x64_alu op, bool w, enum x64_gpr dst,
		const struct jit_opnd *rhs)
{
	switch (rhs->kind) {
	case JIT_OPND_REG:
		x64_alu_rr(B(c), op, w, dst, gpr(rhs->reg));
		return;
	case JIT_OPND_IMM:
		if (fits32(rhs->imm, w)) {
			x64_alu_ri(B(c), op, w, dst, (int32_t)rhs->imm);
			return;
		}
		x64_mov_ri(B(c), w, R11, rhs->imm);
		x64_alu_rr(B(c), op, w, dst, R11);
		return;
	default:
		x64_alu_rm(B(c), op, w, dst, frame(rhs->off));
		return;
	}
}

static void shift(struct jit_cc *c, unsigned op, bool w, enum x64_gpr dst,
		  const struct jit_opnd *rhs)
{
	enum x64_gpr target = dst;

	if (rhs->kind == JIT_OPND_IMM) {
		x64_shift_ri(B(c), shift_of(op), w, dst, (uint8_t)(rhs->imm & (w ? 63 : 31)));
		return;
	}
	/* The count must be in cl. */
	x64_mov_rr(B(c), true, R11, in_gpr(c, rhs, false, R11));
	if (dst == RCX) {
		x64_mov_rr(B(c), true, R10, RCX);
		target = R10;
	} else {
		jit_ra_take(c, RCX);
	}
	x64_mov_rr(B(c), false, RCX, R11);
	x64_shift_cl(B(c), shift_of(op), w, target);
	if (dst == RCX)
		x64_mov_rr(B(c), true, RCX, R10);
	else if (!(rhs->kind == JIT_OPND_REG && rhs->reg == RCX))
		jit_ra_free(c, RCX);
}

/* Division and remainder: rdx:rax by r11, with wasm's two traps. */
static void divide(struct jit_cc *c, unsigned op, bool w, enum x64_gpr dst,
		   const struct jit_opnd *rhs)
{
	bool sign = op == JIT_OP_I32_DIV_S || op == JIT_OP_I64_DIV_S ||
		    op == JIT_OP_I32_REM_S || op == JIT_OP_I64_REM_S;
	bool rem = op == JIT_OP_I32_REM_S || op == JIT_OP_I64_REM_S ||
		   op == JIT_OP_I32_REM_U || op == JIT_OP_I64_REM_U;
	bool took_rax = dst != RAX, took_rdx = dst != RDX;
	uint32_t normal = UINT32_MAX, done = UINT32_MAX;

	x64_mov_rr(B(c), true, R11, in_gpr(c, rhs, w, R11));
	if (took_rax)
		jit_ra_take(c, RAX);
	if (took_rdx)
		jit_ra_take(c, RDX);
	if (dst != RAX)
		x64_mov_rr(B(c), w, RAX, dst);
	x64_test_rr(B(c), w, R11, R11);
	jit_emit_trap_if(c, X64_CC_E, JIT_TRAP_DIV_ZERO);
	if (sign) {
		/* INT_MIN / -1 overflows (div traps) or is 0 (rem). */
		x64_alu_ri(B(c), X64_CMP, w, R11, -1);
		normal = x64_jcc_rel8(B(c), X64_CC_NE);
		if (rem) {
			x64_alu_rr(B(c), X64_XOR, false, RDX, RDX);
			done = x64_jmp_rel8(B(c));
		} else {
			if (w) {
				x64_mov_ri(B(c), true, R10, 1ull << 63);
				x64_alu_rr(B(c), X64_CMP, true, RAX, R10);
			} else {
				x64_alu_ri(B(c), X64_CMP, false, RAX, INT32_MIN);
			}
			jit_emit_trap_if(c, X64_CC_E, JIT_TRAP_INT_OVERFLOW);
		}
		x64_patch_rel8(B(c), normal, jit_buf_pos(B(c)));
		x64_cdq(B(c), w);
		x64_unary_r(B(c), X64_IDIV, w, R11);
	} else {
		x64_alu_rr(B(c), X64_XOR, false, RDX, RDX);
		x64_unary_r(B(c), X64_DIV, w, R11);
	}
	if (done != UINT32_MAX)
		x64_patch_rel8(B(c), done, jit_buf_pos(B(c)));
	if (dst != (rem ? RDX : RAX))
		x64_mov_rr(B(c), w, dst, rem ? RDX : RAX);
	if (took_rax)
		jit_ra_free(c, RAX);
	if (took_rdx)
		jit_ra_free(c, RDX);
}

/* -- Floating point ------------------------------------------------------- */

/* xs0 = a constant's bits. */
static void fconst(struct jit_cc *c, bool f64, enum x64_xmm x, uint64_t bits)
{
	x64_mov_ri(B(c), f64, R11, bits);
	x64_movd_xr(B(c), f64, x, R11);
}

#define SIGN32 0x80000000ull
#define SIGN64 0x8000000000000000ull

static void fbinop(struct jit_cc *c, unsigned op, bool f64, enum x64_xmm dst,
		   const struct jit_opnd *rhs)
{
	enum x64_xmm b;
	uint32_t nan, ne, done, done2;

	switch (op) {
	case JIT_OP_F32_ADD: case JIT_OP_F64_ADD:
	case JIT_OP_F32_SUB: case JIT_OP_F64_SUB:
	case JIT_OP_F32_MUL: case JIT_OP_F64_MUL:
	case JIT_OP_F32_DIV: case JIT_OP_F64_DIV: {
		static const enum x64_sse_op ops[2][4] = {
			{ X64_ADDSS, X64_SUBSS, X64_MULSS, X64_DIVSS },
			{ X64_ADDSD, X64_SUBSD, X64_MULSD, X64_DIVSD },
		};
		unsigned k = (op - (f64 ? JIT_OP_F64_ADD : JIT_OP_F32_ADD));

		if (rhs->kind == JIT_OPND_FRAME)
			x64_sse_rm(B(c), ops[f64][k], dst, frame(rhs->off));
		else
			x64_sse_rr(B(c), ops[f64][k], dst, in_xmm(c, rhs, f64, XS0));
		return;
	}
	case JIT_OP_F32_MIN: case JIT_OP_F64_MIN:
	case JIT_OP_F32_MAX: case JIT_OP_F64_MAX: {
		bool min = op == JIT_OP_F32_MIN || op == JIT_OP_F64_MIN;

		/* minss/maxss get NaNs and signed zeros wrong: NaN in either
		 * gives a NaN, and equal operands (+0, -0) combine their bits. */
		b = in_xmm(c, rhs, f64, XS0);
		x64_sse_rr(B(c), f64 ? X64_UCOMISD : X64_UCOMISS, dst, b);
		nan = x64_jcc_rel8(B(c), X64_CC_P);
		ne = x64_jcc_rel8(B(c), X64_CC_NE);
		x64_sse_rr(B(c), min ? (f64 ? X64_ORPD : X64_ORPS) :
			   (f64 ? X64_ANDPD : X64_ANDPS), dst, b);
		done = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), nan, jit_buf_pos(B(c)));
		x64_sse_rr(B(c), f64 ? X64_ADDSD : X64_ADDSS, dst, b);
		done2 = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), ne, jit_buf_pos(B(c)));
		x64_sse_rr(B(c), min ? (f64 ? X64_MINSD : X64_MINSS) :
			   (f64 ? X64_MAXSD : X64_MAXSS), dst, b);
		x64_patch_rel8(B(c), done, jit_buf_pos(B(c)));
		x64_patch_rel8(B(c), done2, jit_buf_pos(B(c)));
		return;
	}
	default: {	/* copysign: magnitude of dst, sign of rhs */
		enum x64_xmm sgn = XS1;

		b = in_xmm(c, rhs, f64, XS1);
		if (b != XS1)
			x64_sse_rr(B(c), X64_MOVAPS, XS1, b);
		fconst(c, f64, XS0, f64 ? SIGN64 : SIGN32);
		x64_sse_rr(B(c), X64_ANDPS, sgn, XS0);	/* sign of b */
		x64_sse_rr(B(c), X64_ANDNPS, XS0, dst);	/* |dst| */
		x64_sse_rr(B(c), X64_ORPS, XS0, sgn);
		x64_sse_rr(B(c), X64_MOVAPS, dst, XS0);
		return;
	}
	}
}

void jit_emit_binop(struct jit_cc *c, unsigned op, uint8_t dst, uint8_t lhs,
		    const struct jit_opnd *rhs)
{
	uint8_t type = jit_wasm_ops[op].push;
	bool w = wide(type);

	if (jit_is_fp(type)) {
		if (dst != lhs)
			x64_sse_rr(B(c), X64_MOVAPS, xmm(dst), xmm(lhs));
		fbinop(c, op, w, xmm(dst), rhs);
		return;
	}
	/* Adding a constant into another register is one lea. */
	if (dst != lhs && rhs->kind == JIT_OPND_IMM &&
	    (op == JIT_OP_I32_ADD || op == JIT_OP_I64_ADD || op == JIT_OP_I32_SUB ||
	     op == JIT_OP_I64_SUB)) {
		int64_t k = w ? (int64_t)rhs->imm : (int64_t)(int32_t)(uint32_t)rhs->imm;

		if (op == JIT_OP_I32_SUB || op == JIT_OP_I64_SUB)
			k = k == INT64_MIN ? k : -k;
		if (k == (int32_t)k) {
			x64_lea(B(c), w, gpr(dst), x64_mem_bd(gpr(lhs), (int32_t)k));
			return;
		}
	}
	if (dst != lhs)
		x64_mov_rr(B(c), w, gpr(dst), gpr(lhs));
	switch (op) {
	case JIT_OP_I32_MUL: case JIT_OP_I64_MUL:
		if (rhs->kind == JIT_OPND_IMM && fits32(rhs->imm, w))
			x64_imul_rri(B(c), w, gpr(dst), gpr(dst), (int32_t)rhs->imm);
		else
			x64_imul_rr(B(c), w, gpr(dst), in_gpr(c, rhs, w, R11));
		return;
	case JIT_OP_I32_DIV_S: case JIT_OP_I32_DIV_U: case JIT_OP_I32_REM_S:
	case JIT_OP_I32_REM_U: case JIT_OP_I64_DIV_S: case JIT_OP_I64_DIV_U:
	case JIT_OP_I64_REM_S: case JIT_OP_I64_REM_U:
		divide(c, op, w, gpr(dst), rhs);
		return;
	case JIT_OP_I32_SHL: case JIT_OP_I32_SHR_S: case JIT_OP_I32_SHR_U:
	case JIT_OP_I32_ROTL: case JIT_OP_I32_ROTR:
	case JIT_OP_I64_SHL: case JIT_OP_I64_SHR_S: case JIT_OP_I64_SHR_U:
	case JIT_OP_I64_ROTL: case JIT_OP_I64_ROTR:
		shift(c, op, w, gpr(dst), rhs);
		return;
	default:
		alu(c, alu_of(op), w, gpr(dst), rhs);
		return;
	}
}

/* -- Conversions ---------------------------------------------------------- */

/*
 * Float to integer, trapping: NaN is an invalid conversion; a value whose
 * truncation is out of range overflows.  lo is exclusive unless lo_incl.
 */
static void trunc_checked(struct jit_cc *c, bool f64, bool w64, bool sign,
			  enum x64_gpr dst, enum x64_xmm src)
{
	enum x64_sse_op ucom = f64 ? X64_UCOMISD : X64_UCOMISS;
	uint64_t lo, hi;
	bool lo_incl;

	x64_sse_rr(B(c), ucom, src, src);
	jit_emit_trap_if(c, X64_CC_P, JIT_TRAP_BAD_CONVERSION);
	if (sign) {
		/* -2^31 - 1 (exclusive) is exactly representable in f64 only. */
		if (w64) {
			lo = f64 ? 0xc3e0000000000000ull : 0xdf000000ull;	/* -2^63 */
			lo_incl = true;
		} else if (f64) {
			lo = 0xc1e0000000200000ull;	/* -2147483649.0 */
			lo_incl = false;
		} else {
			lo = 0xcf000000ull;		/* -2^31 */
			lo_incl = true;
		}
		hi = w64 ? (f64 ? 0x43e0000000000000ull : 0x5f000000ull) :
			   (f64 ? 0x41e0000000000000ull : 0x4f000000ull);
	} else {
		lo = f64 ? 0xbff0000000000000ull : 0xbf800000ull;	/* -1.0 */
		lo_incl = false;
		hi = w64 ? (f64 ? 0x43f0000000000000ull : 0x5f800000ull) :
			   (f64 ? 0x41f0000000000000ull : 0x4f800000ull);
	}
	fconst(c, f64, XS0, lo);
	x64_sse_rr(B(c), ucom, src, XS0);
	jit_emit_trap_if(c, lo_incl ? X64_CC_B : X64_CC_BE, JIT_TRAP_INT_OVERFLOW);
	fconst(c, f64, XS0, hi);
	x64_sse_rr(B(c), ucom, src, XS0);
	jit_emit_trap_if(c, X64_CC_AE, JIT_TRAP_INT_OVERFLOW);
	if (sign || !w64) {
		/* In range: signed, or unsigned 32 through a 64-bit convert. */
		x64_cvtt_f2si_rr(B(c), f64, w64 || !sign, dst, src);
		if (!w64)
			x64_mov_rr(B(c), false, dst, dst);
		return;
	}
	/* Unsigned 64: values from 2^63 convert after subtracting it. */
	{
		uint32_t big, done;

		fconst(c, f64, XS0, f64 ? 0x43e0000000000000ull : 0x5f000000ull);
		x64_sse_rr(B(c), ucom, src, XS0);
		big = x64_jcc_rel8(B(c), X64_CC_AE);
		x64_cvtt_f2si_rr(B(c), f64, true, dst, src);
		done = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), big, jit_buf_pos(B(c)));
		x64_sse_rr(B(c), X64_MOVAPS, XS1, src);
		x64_sse_rr(B(c), f64 ? X64_SUBSD : X64_SUBSS, XS1, XS0);
		x64_cvtt_f2si_rr(B(c), f64, true, dst, XS1);
		x64_mov_ri(B(c), true, R11, SIGN64);
		x64_alu_rr(B(c), X64_XOR, true, dst, R11);
		x64_patch_rel8(B(c), done, jit_buf_pos(B(c)));
	}
}

/* Float to integer, saturating: NaN gives 0, out of range the nearest bound. */
static void trunc_sat(struct jit_cc *c, bool f64, bool w64, bool sign,
		      enum x64_gpr dst, enum x64_xmm src)
{
	enum x64_sse_op ucom = f64 ? X64_UCOMISD : X64_UCOMISS;

	if (sign) {
		/* cvtt gives INT_MIN for NaN and out of range: fix those up.
		 * dst - 1 overflows only for INT_MIN. */
		uint32_t ok, nan, neg, done;

		x64_cvtt_f2si_rr(B(c), f64, w64, dst, src);
		x64_alu_ri(B(c), X64_CMP, w64, dst, 1);
		ok = x64_jcc_rel8(B(c), X64_CC_NO);
		x64_sse_rr(B(c), ucom, src, src);
		nan = x64_jcc_rel8(B(c), X64_CC_P);
		x64_sse_rr(B(c), X64_XORPS, XS0, XS0);
		x64_sse_rr(B(c), ucom, src, XS0);
		neg = x64_jcc_rel8(B(c), X64_CC_B);		/* keeps INT_MIN */
		x64_mov_ri(B(c), w64, dst, w64 ? INT64_MAX : INT32_MAX);
		done = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), nan, jit_buf_pos(B(c)));
		x64_mov_ri(B(c), false, dst, 0);
		x64_patch_rel8(B(c), ok, jit_buf_pos(B(c)));
		x64_patch_rel8(B(c), neg, jit_buf_pos(B(c)));
		x64_patch_rel8(B(c), done, jit_buf_pos(B(c)));
		return;
	}
	/* Unsigned: NaN and x <= 0 give 0 (trunc of (-1, 0] is 0 anyway). */
	{
		uint32_t zero, max, big = UINT32_MAX, done[3];

		x64_sse_rr(B(c), X64_XORPS, XS0, XS0);
		x64_sse_rr(B(c), ucom, src, XS0);
		zero = x64_jcc_rel8(B(c), X64_CC_BE);		/* also NaN */
		fconst(c, f64, XS0, w64 ? (f64 ? 0x43f0000000000000ull : 0x5f800000ull) :
				      (f64 ? 0x41f0000000000000ull : 0x4f800000ull));
		x64_sse_rr(B(c), ucom, src, XS0);
		max = x64_jcc_rel8(B(c), X64_CC_AE);
		if (w64) {
			fconst(c, f64, XS0, f64 ? 0x43e0000000000000ull : 0x5f000000ull);
			x64_sse_rr(B(c), ucom, src, XS0);
			big = x64_jcc_rel8(B(c), X64_CC_AE);
		}
		x64_cvtt_f2si_rr(B(c), f64, true, dst, src);
		if (!w64)
			x64_mov_rr(B(c), false, dst, dst);
		done[0] = x64_jmp_rel8(B(c));
		if (w64) {
			x64_patch_rel8(B(c), big, jit_buf_pos(B(c)));
			x64_sse_rr(B(c), X64_MOVAPS, XS1, src);
			x64_sse_rr(B(c), f64 ? X64_SUBSD : X64_SUBSS, XS1, XS0);
			x64_cvtt_f2si_rr(B(c), f64, true, dst, XS1);
			x64_mov_ri(B(c), true, R11, SIGN64);
			x64_alu_rr(B(c), X64_XOR, true, dst, R11);
		}
		done[1] = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), max, jit_buf_pos(B(c)));
		x64_mov_ri(B(c), w64, dst, w64 ? UINT64_MAX : UINT32_MAX);
		done[2] = x64_jmp_rel8(B(c));
		x64_patch_rel8(B(c), zero, jit_buf_pos(B(c)));
		x64_mov_ri(B(c), false, dst, 0);
		for (unsigned i = 0; i < 3; i++)
			x64_patch_rel8(B(c), done[i], jit_buf_pos(B(c)));
	}
}

/* Unsigned i64 to float: halve values with the top bit set (keeping the
 * low bit, so rounding stays right), convert, double. */
static void convert_u64(struct jit_cc *c, bool f64, enum x64_xmm dst, enum x64_gpr src)
{
	uint32_t neg, done;

	x64_sse_rr(B(c), X64_XORPS, dst, dst);
	x64_test_rr(B(c), true, src, src);
	neg = x64_jcc_rel8(B(c), X64_CC_S);
	x64_cvt_si2f_rr(B(c), f64, true, dst, src);
	done = x64_jmp_rel8(B(c));
	x64_patch_rel8(B(c), neg, jit_buf_pos(B(c)));
	x64_mov_rr(B(c), true, R10, src);
	x64_shift_ri(B(c), X64_SHR, true, R10, 1);
	x64_mov_rr(B(c), true, R11, src);
	x64_alu_ri(B(c), X64_AND, true, R11, 1);
	x64_alu_rr(B(c), X64_OR, true, R10, R11);
	x64_cvt_si2f_rr(B(c), f64, true, dst, R10);
	x64_sse_rr(B(c), f64 ? X64_ADDSD : X64_ADDSS, dst, dst);
	x64_patch_rel8(B(c), done, jit_buf_pos(B(c)));
}

void jit_emit_unop(struct jit_cc *c, unsigned op, uint8_t dst,
		   const struct jit_opnd *src)
{
	const struct jit_op_info *oi = &jit_wasm_ops[op];
	uint8_t from = oi->pops[0];
	bool w = wide(oi->push), fw = wide(from);
	enum x64_gpr g;
	enum x64_xmm x;

	switch (op) {
	case JIT_OP_I32_CLZ: case JIT_OP_I64_CLZ:
		g = in_gpr(c, src, w, R11);
		if (has(HAL_CPU_X86_LZCNT)) {
			x64_bitop_rr(B(c), X64_LZCNT, w, gpr(dst), g);
		} else {
			/* bsr leaves dst alone for 0: make that come out as the width. */
			x64_mov_ri(B(c), false, R10, w ? 127 : 63);
			x64_bitop_rr(B(c), X64_BSR, w, gpr(dst), g);
			x64_cmov_rr(B(c), X64_CC_E, w, gpr(dst), R10);
			x64_alu_ri(B(c), X64_XOR, w, gpr(dst), w ? 63 : 31);
		}
		return;
	case JIT_OP_I32_CTZ: case JIT_OP_I64_CTZ:
		g = in_gpr(c, src, w, R11);
		if (has(HAL_CPU_X86_BMI1)) {
			x64_bitop_rr(B(c), X64_TZCNT, w, gpr(dst), g);
		} else {
			x64_mov_ri(B(c), false, R10, w ? 64 : 32);
			x64_bitop_rr(B(c), X64_BSF, w, gpr(dst), g);
			x64_cmov_rr(B(c), X64_CC_E, w, gpr(dst), R10);
		}
		return;
	case JIT_OP_I32_POPCNT: case JIT_OP_I64_POPCNT:
		x64_bitop_rr(B(c), X64_POPCNT, w, gpr(dst), in_gpr(c, src, w, R11));
		return;
	case JIT_OP_I32_WRAP_I64: case JIT_OP_I64_EXTEND_I32_U:
		x64_mov_rr(B(c), false, gpr(dst), in_gpr(c, src, false, R11));
		return;
	case JIT_OP_I64_EXTEND_I32_S: case JIT_OP_I64_EXTEND32_S:
		x64_extend_rr(B(c), X64_DWORD, true, true, gpr(dst), in_gpr(c, src, fw, R11));
		return;
	case JIT_OP_I32_EXTEND8_S: case JIT_OP_I64_EXTEND8_S:
		x64_extend_rr(B(c), X64_BYTE, true, w, gpr(dst), in_gpr(c, src, w, R11));
		return;
	case JIT_OP_I32_EXTEND16_S: case JIT_OP_I64_EXTEND16_S:
		x64_extend_rr(B(c), X64_WORD, true, w, gpr(dst), in_gpr(c, src, w, R11));
		return;
	case JIT_OP_I32_REINTERPRET_F32: case JIT_OP_I64_REINTERPRET_F64:
		if (src->kind == JIT_OPND_REG)
			x64_movd_rx(B(c), w, gpr(dst), xmm(src->reg));
		else
			jit_emit_move(c, oi->push, &(struct jit_opnd){ .kind = JIT_OPND_REG,
				      .reg = dst }, src);
		return;
	case JIT_OP_F32_REINTERPRET_I32: case JIT_OP_F64_REINTERPRET_I64:
		if (src->kind == JIT_OPND_REG)
			x64_movd_xr(B(c), w, xmm(dst), gpr(src->reg));
		else
			jit_emit_move(c, oi->push, &(struct jit_opnd){ .kind = JIT_OPND_REG,
				      .reg = dst }, src);
		return;
	case JIT_OP_F32_CONVERT_I32_S: case JIT_OP_F64_CONVERT_I32_S:
	case JIT_OP_F32_CONVERT_I64_S: case JIT_OP_F64_CONVERT_I64_S:
	case JIT_OP_F32_CONVERT_I32_U: case JIT_OP_F64_CONVERT_I32_U:
		g = in_gpr(c, src, fw, R11);
		x64_sse_rr(B(c), X64_XORPS, xmm(dst), xmm(dst));	/* no false dependency */
		/* An unsigned i32 converts as the non-negative i64 it is. */
		x64_cvt_si2f_rr(B(c), w, fw || op == JIT_OP_F32_CONVERT_I32_U ||
				op == JIT_OP_F64_CONVERT_I32_U, xmm(dst), g);
		return;
	case JIT_OP_F32_CONVERT_I64_U: case JIT_OP_F64_CONVERT_I64_U:
		convert_u64(c, w, xmm(dst), in_gpr(c, src, true, R11));
		return;
	case JIT_OP_F32_DEMOTE_F64:
		x64_sse_rr(B(c), X64_CVTSD2SS, xmm(dst), in_xmm(c, src, true, XS0));
		return;
	case JIT_OP_F64_PROMOTE_F32:
		x64_sse_rr(B(c), X64_CVTSS2SD, xmm(dst), in_xmm(c, src, false, XS0));
		return;
	case JIT_OP_F32_ABS: case JIT_OP_F64_ABS:
	case JIT_OP_F32_NEG: case JIT_OP_F64_NEG:
		x = in_xmm(c, src, w, XS1);
		if (x != xmm(dst))
			x64_sse_rr(B(c), X64_MOVAPS, xmm(dst), x);
		if (op == JIT_OP_F32_ABS || op == JIT_OP_F64_ABS) {
			fconst(c, w, XS0, w ? ~SIGN64 : ~SIGN32 & 0xffffffffull);
			x64_sse_rr(B(c), X64_ANDPS, xmm(dst), XS0);
		} else {
			fconst(c, w, XS0, w ? SIGN64 : SIGN32);
			x64_sse_rr(B(c), X64_XORPS, xmm(dst), XS0);
		}
		return;
	case JIT_OP_F32_SQRT: case JIT_OP_F64_SQRT:
		x64_sse_rr(B(c), w ? X64_SQRTSD : X64_SQRTSS, xmm(dst), in_xmm(c, src, w, XS0));
		return;
	case JIT_OP_F32_CEIL: case JIT_OP_F64_CEIL:
	case JIT_OP_F32_FLOOR: case JIT_OP_F64_FLOOR:
	case JIT_OP_F32_TRUNC: case JIT_OP_F64_TRUNC:
	case JIT_OP_F32_NEAREST: case JIT_OP_F64_NEAREST: {
		uint8_t mode = op == JIT_OP_F32_CEIL || op == JIT_OP_F64_CEIL ? 2 :
			       op == JIT_OP_F32_FLOOR || op == JIT_OP_F64_FLOOR ? 1 :
			       op == JIT_OP_F32_TRUNC || op == JIT_OP_F64_TRUNC ? 3 : 0;

		x64_sse_round_rr(B(c), w, xmm(dst), in_xmm(c, src, w, XS0), mode | 8);
		return;
	}
	default:
		break;
	}
	/* The float-to-integer truncations, trapping and saturating. */
	{
		bool f64 = from == JIT_F64, sat = op >= 0x100;
		bool sign = op == JIT_OP_I32_TRUNC_F32_S || op == JIT_OP_I32_TRUNC_F64_S ||
			    op == JIT_OP_I64_TRUNC_F32_S || op == JIT_OP_I64_TRUNC_F64_S ||
			    op == JIT_OP_I32_TRUNC_SAT_F32_S || op == JIT_OP_I32_TRUNC_SAT_F64_S ||
			    op == JIT_OP_I64_TRUNC_SAT_F32_S || op == JIT_OP_I64_TRUNC_SAT_F64_S;

		/* XS0 holds the bounds; XS1 may hold src, which the 2^63
		 * adjustment overwrites only once src is no longer needed. */
		x = in_xmm(c, src, f64, XS1);
		if (sat)
			trunc_sat(c, f64, w, sign, gpr(dst), x);
		else
			trunc_checked(c, f64, w, sign, gpr(dst), x);
	}
}

/* -- Conditions ----------------------------------------------------------- */

static int int_cc(unsigned op)
{
	switch (op) {
	case JIT_OP_I32_EQZ: case JIT_OP_I64_EQZ:
	case JIT_OP_I32_EQ: case JIT_OP_I64_EQ: return X64_CC_E;
	case JIT_OP_I32_NE: case JIT_OP_I64_NE: return X64_CC_NE;
	case JIT_OP_I32_LT_S: case JIT_OP_I64_LT_S: return X64_CC_L;
	case JIT_OP_I32_LT_U: case JIT_OP_I64_LT_U: return X64_CC_B;
	case JIT_OP_I32_GT_S: case JIT_OP_I64_GT_S: return X64_CC_G;
	case JIT_OP_I32_GT_U: case JIT_OP_I64_GT_U: return X64_CC_A;
	case JIT_OP_I32_LE_S: case JIT_OP_I64_LE_S: return X64_CC_LE;
	case JIT_OP_I32_LE_U: case JIT_OP_I64_LE_U: return X64_CC_BE;
	case JIT_OP_I32_GE_S: case JIT_OP_I64_GE_S: return X64_CC_GE;
	default: return X64_CC_AE;
	}
}

int jit_cond_not(int cond)
{
	if (cond == COND_FEQ || cond == COND_FNE)
		return cond == COND_FEQ ? COND_FNE : COND_FEQ;
	return cond ^ 1;	/* x86 condition codes come in opposite pairs */
}

int jit_emit_compare(struct jit_cc *c, unsigned op, uint8_t lhs,
		     const struct jit_opnd *rhs)
{
	uint8_t type = jit_wasm_ops[op].pops[0];
	bool w = wide(type);

	if (!rhs) {
		x64_test_rr(B(c), w, gpr(lhs), gpr(lhs));
		return X64_CC_E;
	}
	if (!jit_is_fp(type)) {
		alu(c, X64_CMP, w, gpr(lhs), rhs);
		return int_cc(op);
	}
	{
		/*
		 * ucomis sets CF for "below" and ZF for "equal", and all of ZF,
		 * PF and CF for unordered: a < b is tested as b > a ("above",
		 * false when unordered), likewise a <= b as b >= a.
		 */
		enum x64_sse_op ucom = w ? X64_UCOMISD : X64_UCOMISS;
		enum x64_xmm a = xmm(lhs), b;

		switch (op) {
		case JIT_OP_F32_LT: case JIT_OP_F64_LT:
		case JIT_OP_F32_LE: case JIT_OP_F64_LE:
			b = in_xmm(c, rhs, w, XS0);
			x64_sse_rr(B(c), ucom, b, a);
			return op == JIT_OP_F32_LT || op == JIT_OP_F64_LT ? X64_CC_A : X64_CC_AE;
		default:
			if (rhs->kind == JIT_OPND_FRAME)
				x64_sse_rm(B(c), ucom, a, frame(rhs->off));
			else
				x64_sse_rr(B(c), ucom, a, in_xmm(c, rhs, w, XS0));
			switch (op) {
			case JIT_OP_F32_EQ: case JIT_OP_F64_EQ: return COND_FEQ;
			case JIT_OP_F32_NE: case JIT_OP_F64_NE: return COND_FNE;
			case JIT_OP_F32_GT: case JIT_OP_F64_GT: return X64_CC_A;
			default: return X64_CC_AE;
			}
		}
	}
}

int jit_emit_test(struct jit_cc *c, uint8_t type, const struct jit_opnd *v)
{
	bool w = wide(type);

	if (v->kind == JIT_OPND_FRAME)
		x64_alu_mi(B(c), X64_CMP, w, frame(v->off), 0);
	else {
		enum x64_gpr g = in_gpr(c, v, w, R11);

		x64_test_rr(B(c), w, g, g);
	}
	return X64_CC_NE;
}

/* r11d = cond ? 1 : 0, for the float equalities (two flags to combine). */
static void float_eq_to_r11(struct jit_cc *c, int cond)
{
	x64_setcc(B(c), cond == COND_FEQ ? X64_CC_E : X64_CC_NE, R11);
	x64_setcc(B(c), cond == COND_FEQ ? X64_CC_NP : X64_CC_P, R10);
	x64_extend_rr(B(c), X64_BYTE, false, false, R11, R11);
	x64_extend_rr(B(c), X64_BYTE, false, false, R10, R10);
	x64_alu_rr(B(c), cond == COND_FEQ ? X64_AND : X64_OR, false, R11, R10);
}

void jit_emit_setcc(struct jit_cc *c, int cond, uint8_t dst)
{
	if (cond == COND_FEQ || cond == COND_FNE) {
		float_eq_to_r11(c, cond);
		x64_mov_rr(B(c), false, gpr(dst), R11);
		return;
	}
	x64_setcc(B(c), (enum x64_cc)cond, gpr(dst));
	x64_extend_rr(B(c), X64_BYTE, false, false, gpr(dst), gpr(dst));
}

void jit_emit_select(struct jit_cc *c, uint8_t type, int cond, uint8_t dst,
		     const struct jit_opnd *other)
{
	bool w = wide(type);
	uint32_t skip;

	if (cond == COND_FEQ || cond == COND_FNE) {
		float_eq_to_r11(c, cond);
		x64_test_rr(B(c), false, R11, R11);
		cond = X64_CC_NE;
	}
	if (!jit_is_fp(type)) {
		/* mov leaves the flags alone, so the operand may load first. */
		enum x64_gpr g = in_gpr(c, other, w, R10);

		x64_cmov_rr(B(c), (enum x64_cc)(cond ^ 1), w, gpr(dst), g);
		return;
	}
	skip = x64_jcc_rel32(B(c), (enum x64_cc)cond);
	{
		struct jit_opnd d = { .kind = JIT_OPND_REG, .reg = dst };

		jit_emit_move(c, type, &d, other);
	}
	x64_patch_rel32(B(c), skip, jit_buf_pos(B(c)));
}

/* -- Memory --------------------------------------------------------------- */

/* [membase + addr + offset], with addr an i32 operand; may use r10. */
static struct x64_mem mem_at(struct jit_cc *c, const struct jit_opnd *addr,
			     uint32_t offset)
{
	enum x64_gpr a;

	if (addr->kind == JIT_OPND_IMM) {
		uint64_t ea = (uint32_t)addr->imm + (uint64_t)offset;

		if (ea <= INT32_MAX)
			return x64_mem_bd(REG_MEM, (int32_t)ea);
		x64_mov_ri(B(c), true, R10, ea);
		return x64_mem_bisd(REG_MEM, R10, 0, 0);
	}
	a = addr->kind == JIT_OPND_REG ? gpr(addr->reg) : in_gpr(c, addr, false, R10);
	if (offset <= INT32_MAX)
		return x64_mem_bisd(REG_MEM, a, 0, (int32_t)offset);
	/* Past 2 GiB: the sum in a register (both halves are below 2^32). */
	x64_mov_ri(B(c), false, R11, offset);
	x64_alu_rr(B(c), X64_ADD, true, R11, a);
	return x64_mem_bisd(REG_MEM, R11, 0, 0);
}

void jit_emit_load(struct jit_cc *c, unsigned op, uint8_t dst,
		   const struct jit_opnd *addr, uint32_t offset)
{
	const struct jit_op_info *oi = &jit_wasm_ops[op];
	struct x64_mem m = mem_at(c, addr, offset);
	enum x64_size size = oi->width == 1 ? X64_BYTE : oi->width == 2 ? X64_WORD :
			     oi->width == 4 ? X64_DWORD : X64_QWORD;

	if (jit_is_fp(oi->push))
		x64_sse_rm(B(c), oi->push == JIT_F64 ? X64_MOVSD : X64_MOVSS, xmm(dst), m);
	else
		x64_load(B(c), size, oi->sext, oi->push == JIT_I64, gpr(dst), m);
}

void jit_emit_store(struct jit_cc *c, unsigned op, const struct jit_opnd *addr,
		    uint32_t offset, const struct jit_opnd *val)
{
	const struct jit_op_info *oi = &jit_wasm_ops[op];
	uint8_t type = oi->pops[1];
	enum x64_size size = oi->width == 1 ? X64_BYTE : oi->width == 2 ? X64_WORD :
			     oi->width == 4 ? X64_DWORD : X64_QWORD;
	struct x64_mem m;
	enum x64_gpr v;

	if (val->kind == JIT_OPND_REG && jit_is_fp(type)) {
		m = mem_at(c, addr, offset);
		x64_sse_store(B(c), type == JIT_F64, m, xmm(val->reg));
		return;
	}
	if (val->kind == JIT_OPND_IMM && fits32(val->imm, size == X64_QWORD)) {
		m = mem_at(c, addr, offset);
		x64_store_imm(B(c), size, m, (int32_t)val->imm);
		return;
	}
	/*
	 * The value in a scratch mem_at leaves alone: it takes r10 for an
	 * address in the frame or a constant one, r11 for an offset past
	 * 2 GiB; both at once (a frame address, a huge offset) need rax.
	 */
	if (val->kind == JIT_OPND_REG) {
		v = gpr(val->reg);
	} else if (offset > INT32_MAX && addr->kind == JIT_OPND_FRAME) {
		jit_ra_take(c, RAX);
		v = in_gpr(c, val, size == X64_QWORD, RAX);
		x64_store(B(c), size, mem_at(c, addr, offset), v);
		jit_ra_free(c, RAX);
		return;
	} else {
		v = in_gpr(c, val, size == X64_QWORD,
			   offset > INT32_MAX && addr->kind == JIT_OPND_REG ? R10 : R11);
	}
	x64_store(B(c), size, mem_at(c, addr, offset), v);
}

/* -- Calls ---------------------------------------------------------------- */

/* After a call that may have left the instance (an import, a table): this
 * one's vmctx and memory base back, which wasm callees do not keep. */
static void instance_back(struct jit_cc *c)
{
	x64_load(B(c), X64_QWORD, false, true, REG_VM, frame(FRAME_VMCTX));
	if (c->uses_memory)
		x64_load(B(c), X64_QWORD, false, true, REG_MEM,
			 x64_mem_bd(REG_VM, (int32_t)offsetof(struct jit_vmctx, mem_base)));
}

uint8_t jit_emit_call(struct jit_cc *c, const struct jit_call *call)
{
	bool runtime = call->kind == JIT_CALL_RUNTIME;
	struct argit it = args_begin(runtime ? 1 : 2, !runtime && call->nresults > 1);
	/* An import's code and context: its slot in the vmctx. */
	int32_t slot = (int32_t)(c->layout->imports + sizeof(struct jit_import) * call->index);

	/* r10: an import's code, loaded before the arguments are placed so
	 * that the call's target is known early (1.91 -> 1.64 ns a call in
	 * bench_jit); a table's callee, its struct jit_func. */
	switch (call->kind) {
	case JIT_CALL_IMPORT:
		x64_load(B(c), X64_QWORD, false, true, R10,
			 x64_mem_bd(REG_VM, slot + (int32_t)offsetof(struct jit_import, code)));
		break;
	case JIT_CALL_INDIRECT: {
		struct jit_opnd idx = *call->elem;

		x64_mov_rr(B(c), false, R11, in_gpr(c, &idx, false, R11));
		x64_load(B(c), X64_QWORD, false, true, R10,
			 x64_mem_bd(REG_VM, (int32_t)(c->layout->tables + 8 * call->table)));
		x64_alu_rm(B(c), X64_CMP, false, R11,
			   x64_mem_bd(R10, (int32_t)offsetof(struct jit_table, size)));
		jit_emit_trap_if(c, X64_CC_AE, JIT_TRAP_UNDEFINED_ELEM);
		x64_load(B(c), X64_QWORD, false, true, R10,
			 x64_mem_bd(R10, (int32_t)offsetof(struct jit_table, elems)));
		x64_load(B(c), X64_QWORD, false, true, R10, x64_mem_bisd(R10, R11, 3, 0));
		x64_test_rr(B(c), true, R10, R10);
		jit_emit_trap_if(c, X64_CC_E, JIT_TRAP_UNINIT_ELEM);
		x64_load(B(c), X64_DWORD, false, false, R11,
			 x64_mem_bd(REG_VM, (int32_t)(c->layout->type_ids + 8 * call->index)));
		x64_alu_rm(B(c), X64_CMP, false, R11,
			   x64_mem_bd(R10, (int32_t)offsetof(struct jit_func, type_id)));
		jit_emit_trap_if(c, X64_CC_NE, JIT_TRAP_SIG_MISMATCH);
		break;
	}
	default:
		break;
	}

	/* Homes the call clobbers to their slots (arguments may still read
	 * them in their registers, and may overwrite them). */
	homes_around_call(c, true);
	/* The arguments: those going to the stack at once (they only read
	 * registers), then at most 14 register ones as one parallel move. */
	{
		struct argmove m[6 + 8];
		uint32_t n = 0;

		for (uint32_t i = 0; i < call->nparams; i++) {
			struct argmove a = { .src = call->args[i], .type = call->params[i] };

			a.dst = arg_next(&it, a.type, &a.k);
			if (a.dst == JIT_NO_REG)
				place_args(c, &a, 1);
			else
				m[n++] = a;
		}
		place_args(c, m, n);
	}
	if (8 * it.ns > c->out_bytes)
		c->out_bytes = 8 * it.ns;
	if (!runtime && call->nresults > 1)
		x64_lea(B(c), true, RDX, frame(call->results_off));

	switch (call->kind) {
	case JIT_CALL_DIRECT:
		/* A wasm callee ignores arg 1 (the caller's vmctx, for host
		 * functions), so only arg 0 is set. */
		x64_mov_rr(B(c), true, RDI, REG_VM);
		jit_add_reloc(c, x64_call_rel32(B(c)), call->index);
		break;
	case JIT_CALL_RUNTIME:
		x64_mov_rr(B(c), true, RDI, REG_VM);
		call_abs(c, call->fn);
		break;
	case JIT_CALL_IMPORT:
		x64_load(B(c), X64_QWORD, false, true, RDI,
			 x64_mem_bd(REG_VM, slot + (int32_t)offsetof(struct jit_import, ctx)));
		x64_mov_rr(B(c), true, RSI, REG_VM);
		x64_call_r(B(c), R10);
		instance_back(c);
		break;
	default:
		x64_load(B(c), X64_QWORD, false, true, RDI,
			 x64_mem_bd(R10, (int32_t)offsetof(struct jit_func, ctx)));
		x64_mov_rr(B(c), true, RSI, REG_VM);
		x64_call_m(B(c), x64_mem_bd(R10, (int32_t)offsetof(struct jit_func, code)));
		instance_back(c);
		break;
	}
	homes_around_call(c, false);
	if (call->nresults != 1)
		return JIT_NO_REG;
	/*
	 * An i32 from C code (a host function behind an import or a table,
	 * the runtime) is eax only: the ABI leaves the upper half of rax
	 * undefined, and compilers leave whatever was there.  The register
	 * must hold it zero-extended (emit.h).  Wasm callees already do.
	 */
	if (call->kind != JIT_CALL_DIRECT && call->results[0] == JIT_I32)
		x64_mov_rr(B(c), false, RAX, RAX);
	return jit_is_fp(call->results[0]) ? JIT_FPR : RAX;
}

/* -- Jump tables ---------------------------------------------------------- */

uint32_t jit_emit_jump_table(struct jit_cc *c, uint8_t idx, uint32_t n)
{
	uint32_t lea, table;

	/* idx = min(idx, n), unsigned. */
	x64_mov_ri(B(c), false, R11, n);
	x64_alu_rr(B(c), X64_CMP, false, gpr(idx), R11);
	x64_cmov_rr(B(c), X64_CC_A, false, gpr(idx), R11);
	x64_lea(B(c), true, R11, x64_mem_rip(0));
	lea = jit_buf_pos(B(c)) - 4;
	x64_load(B(c), X64_DWORD, true, true, R10, x64_mem_bisd(R11, gpr(idx), 2, 0));
	x64_alu_rr(B(c), X64_ADD, true, R10, R11);
	x64_jmp_r(B(c), R10);
	table = jit_buf_pos(B(c));
	x64_patch_rel32(B(c), lea, table);
	for (uint32_t i = 0; i <= n; i++)
		jit_buf_put32(B(c), 0);
	return table;
}

void jit_emit_jump_table_set(struct jit_cc *c, uint32_t table, uint32_t i,
			     uint32_t target)
{
	jit_buf_patch32(B(c), table + 4 * i, target - table);
}

/* -- Entry stubs ---------------------------------------------------------- */

bool jit_emit_entry_stub(struct jit_buf *b, const struct jit_sig *sig)
{
	struct argit it = args_begin(2, sig->nresults > 1);
	struct jit_cc cc = { .buf = *b };
	struct jit_cc *c = &cc;
	uint32_t frame_size;

	/* Count the stack words first: the frame must hold them. */
	for (uint32_t i = 0, k; i < sig->nparams; i++)
		arg_next(&it, sig->params[i], &k);
	frame_size = ALIGN_UP(8 * it.ns, 16u);
	it = args_begin(2, sig->nresults > 1);

	/* stub(code = rdi, ctx = rsi, caller = rdx, vals = rcx) */
	x64_push(B(c), RBP);
	x64_mov_rr(B(c), true, RBP, RSP);
	x64_push(B(c), X64_RBX);
	x64_push(B(c), X64_R12);
	x64_push(B(c), R14);	/* wasm code keeps neither (see the top) */
	x64_push(B(c), R15);
	if (frame_size)
		x64_alu_ri(B(c), X64_SUB, true, RSP, (int32_t)frame_size);
	x64_mov_rr(B(c), true, X64_RBX, RCX);
	x64_mov_rr(B(c), true, X64_R12, RDI);
	x64_mov_rr(B(c), true, R10, RSI);
	x64_mov_rr(B(c), true, R11, RDX);
	for (uint32_t i = 0; i < sig->nparams; i++) {
		struct x64_mem m = x64_mem_bd(X64_RBX, 8 * (int32_t)i);
		uint8_t t = sig->params[i];
		uint32_t k = 0;
		uint8_t r = arg_next(&it, t, &k);

		if (r == JIT_NO_REG) {
			x64_load(B(c), X64_QWORD, false, true, RAX, m);
			x64_store(B(c), X64_QWORD, x64_mem_bd(RSP, 8 * (int32_t)k), RAX);
		} else if (r >= JIT_FPR) {
			x64_sse_rm(B(c), wide(t) ? X64_MOVSD : X64_MOVSS, xmm(r), m);
		} else {
			x64_load(B(c), wide(t) ? X64_QWORD : X64_DWORD, false, false, gpr(r), m);
		}
	}
	if (sig->nresults > 1)
		x64_mov_rr(B(c), true, RDX, X64_RBX);
	x64_mov_rr(B(c), true, RDI, R10);
	x64_mov_rr(B(c), true, RSI, R11);
	x64_call_r(B(c), X64_R12);
	if (sig->nresults == 1) {
		if (jit_is_fp(sig->results[0]))
			x64_sse_store(B(c), true, x64_mem_bd(X64_RBX, 0), X64_XMM0);
		else
			x64_store(B(c), X64_QWORD, x64_mem_bd(X64_RBX, 0), RAX);
	}
	x64_lea(B(c), true, RSP, frame(-32));
	x64_pop(B(c), R15);
	x64_pop(B(c), R14);
	x64_pop(B(c), X64_R12);
	x64_pop(B(c), X64_RBX);
	x64_pop(B(c), RBP);
	x64_ret(B(c));
	*b = cc.buf;
	return !b->overflow;
}
