/*
 * compile.h - the state of the single-pass compiler, shared by the
 * portable front end (compile.c) and the back end of the target
 * (x86_64.c, ...), which reads the function being compiled from it and
 * emits into its buffer.  Internal to jit/.
 *
 * The front end walks a validated function body once, keeping an
 * abstract operand stack whose entries say where each wasm value is: in a
 * register, a constant not yet materialised, a local not yet read, or in
 * its canonical stack slot in the frame.  Values are materialised only
 * when an instruction needs them somewhere, constants become immediates,
 * and nothing goes to memory unless registers run out or control flow
 * merges (at a label every value lives in its canonical slot).
 */
#ifndef K23_JIT_COMPILE_H
#define K23_JIT_COMPILE_H

#include "jit/buf.h"
#include "jit/module.h"

/* Where a value on the abstract operand stack is. */
enum jit_vkind {
	JIT_V_SLOT,		/* in its canonical stack slot */
	JIT_V_REG,		/* in reg */
	JIT_V_CONST,		/* the constant imm */
	JIT_V_LOCAL,		/* the current value of local `local` */
};

struct jit_cval {
	uint8_t type;		/* value type */
	uint8_t kind;		/* enum jit_vkind */
	uint8_t reg;
	uint32_t local;
	uint64_t imm;		/* bits, as jit_value */
};

/* An operand as the back end receives it. */
enum jit_opnd_kind {
	JIT_OPND_REG,
	JIT_OPND_IMM,
	JIT_OPND_FRAME,		/* memory at frame pointer + off */
	JIT_OPND_ADDR,		/* the address frame pointer + off */
};

struct jit_opnd {
	uint8_t kind;
	uint8_t reg;
	int32_t off;
	uint64_t imm;
};

/*
 * Registers are numbered by the back end: 0-31 general purpose, 32-63
 * floating point.  Masks are 64-bit with bit r for register r.
 */
#define JIT_FPR		32u
#define JIT_NO_REG	0xffu

static inline bool jit_is_fp(uint8_t type)
{
	return type == JIT_F32 || type == JIT_F64;
}

/* A call site to patch once every function's offset is known. */
struct jit_reloc {
	uint32_t at;		/* offset of the rel32 field in the function */
	uint32_t func;		/* callee, a defined function */
};

/* Code placed after the body that jumps back: poll and trap stubs. */
struct jit_stub {
	uint32_t from;		/* patch site of the branch to the stub */
	uint32_t back;		/* where to resume (poll) */
	uint16_t kind;		/* JIT_STUB_POLL, or JIT_STUB_TRAP + trap code */
};

#define JIT_STUB_POLL	0
#define JIT_STUB_TRAP	1

struct jit_cframe;

/* Growable scratch arrays, kept across the functions one task compiles. */
struct jit_scratch {
	struct jit_cval *vals;
	uint32_t vals_cap;
	struct jit_cframe *frames;
	uint32_t frames_cap;
	struct jit_opnd *homes;
	uint32_t homes_cap;
	uint8_t *types;
	uint32_t types_cap;
	uint32_t *refs;
	uint32_t refs_cap;
	struct jit_reloc *relocs;
	uint32_t relocs_cap;
	struct jit_stub *stubs;
	uint32_t stubs_cap;
	uint32_t *patches;	/* branch sites waiting for a label */
	uint32_t patches_cap;
};

struct jit_cc {
	struct jit_buf buf;
	const struct jit_wasm_module *m;
	const struct jit_layout *layout;
	uint32_t func;			/* function index */
	const struct jit_wasm_functype *ft;

	/*
	 * Locals (params first): their types and homes, a register for the
	 * whole body or a frame slot.  hot[class] lists the locals the front
	 * end would most like in registers, busiest first (class 0 integers
	 * and references, 1 floats); the back end homes as many as it has
	 * registers for.
	 */
	uint8_t *local_types;
	struct jit_opnd *local_home;
	uint32_t nlocals;
	uint32_t hot[2][JIT_WASM_HOT_LOCALS];
	uint8_t nhot[2];
	bool uses_memory;		/* the body reads or writes memory 0 */
	/* Back end: the homes a call clobbers, saved around calls to the
	 * frame slots of their locals. */
	uint8_t nsaved;
	uint8_t saved_reg[2 * JIT_WASM_HOT_LOCALS];
	int32_t saved_off[2 * JIT_WASM_HOT_LOCALS];
	/* Their saving [1] and restoring [0] as machine code, encoded at the
	 * function's first call and copied at every other (compile speed). */
	uint8_t saved_code[2][2 * JIT_WASM_HOT_LOCALS * 10];	/* 10: the longest move */
	uint8_t saved_len[2];		/* 0: not encoded yet */
	uint64_t home_regs;		/* every register holding a local */

	/*
	 * The abstract operand stack.  No register value sits below reg_lo,
	 * no local read below local_lo, and refs[x] counts the values still
	 * reading local x: spills and local writes scan only what may need
	 * them, so a deep stack cannot make compiling quadratic.
	 */
	struct jit_cval *vals;
	uint32_t nvals;
	uint32_t reg_lo, local_lo;
	uint32_t *refs;

	/* Register state: free allocatable registers, and for each
	 * register the stack index of the value in it. */
	uint64_t reg_free;
	uint32_t reg_owner[64];

	/* Frame, filled in by the back end's prologue. */
	int32_t slot0;			/* frame offset of stack slot 0 */
	uint32_t out_bytes;		/* largest outgoing stack argument area */
	uint32_t frame_bytes;		/* the frame but for outgoing arguments */
	uint32_t frame_fields[2];	/* where the back end patches the size */

	uint32_t nrelocs;		/* in s->relocs */
	uint32_t nstubs;		/* in s->stubs */

	struct jit_scratch *s;
	bool oom;
	unsigned unsupported;		/* an opcode the compiler lacks, or 0 */
};

/* Frame offset of stack slot i (ascending addresses: i+1 is 8 above i). */
static inline int32_t jit_slot_off(const struct jit_cc *c, uint32_t i)
{
	return c->slot0 + 8 * (int32_t)i;
}

/* -- Front-end services for the back end ---------------------------------- */

/* A free register of the type's class (spilling a value if none is). */
uint8_t jit_ra_alloc(struct jit_cc *c, uint8_t type);
/* Make reg free, spilling the value in it to its slot. */
void jit_ra_evict(struct jit_cc *c, uint8_t reg);
/* Take reg for scratch use (evicting its value); give it back with free. */
void jit_ra_take(struct jit_cc *c, uint8_t reg);
void jit_ra_free(struct jit_cc *c, uint8_t reg);

/* Record a stub (the back end emits them in jit_emit_finish). */
void jit_add_stub(struct jit_cc *c, uint32_t from, uint32_t back, uint16_t kind);
/* Record a direct call site. */
void jit_add_reloc(struct jit_cc *c, uint32_t at, uint32_t func);

/*
 * Compile defined function `func` into c->buf (c->m, c->layout, c->s set):
 * true, or false when the buffer overflowed or memory ran out (c->oom).
 */
bool jit_compile_func(struct jit_cc *c, uint32_t func);

#endif /* K23_JIT_COMPILE_H */
