/*
 * emit.h - the emitter interface: what the portable front end (compile.c)
 * asks of a target's back end.  Each target implements all of it in one
 * file (x86_64.c; aarch64.c and riscv64.c to come), with its encoders in a
 * header of their own (x86_64_enc.h).
 *
 * The contract:
 * - Registers are the back end's numbers (compile.h): the front end
 *   allocates values only from jit_target_regs and never touches the
 *   back end's scratch registers; the two registers that hold the vmctx
 *   and memory 0's base are never allocated.
 * - Operands (struct jit_opnd) are a register, an immediate (the value's
 *   bits) or a frame slot; the back end takes any of them wherever an
 *   operand is accepted, folding immediates and memory operands where the
 *   machine can.  A destination register may equal the first source
 *   register, never a second operand's.
 * - i32 values in 64-bit registers keep their upper 32 bits zero, so a
 *   register holding an i32 can index memory directly.
 * - Conditions are the back end's own tokens, made by jit_emit_compare
 *   or jit_emit_test and consumed by branch, setcc, select and trap_if
 *   before anything else is emitted.
 * - A back end may need particular registers (shift counts, division):
 *   it takes them with jit_ra_take(), which spills what was there.
 * - Calls: the front end has put every live value in its slot; the back
 *   end moves the arguments, calls (rt.h's convention) and reports where
 *   the result is.  All allocatable registers are caller-saved.
 * - Errors: none at emit time; the buffer overflow flag is checked by the
 *   caller once the function is done.
 */
#ifndef K23_JIT_EMIT_H
#define K23_JIT_EMIT_H

#include "jit/compile.h"

/* Allocatable registers: general purpose, then floating point. */
extern const uint64_t jit_target_regs;

/* How many locals of each class (integer, float) may live in registers. */
extern const uint8_t jit_target_homes[2];

/* The byte that fills the gaps between functions: one that traps if run. */
extern const uint8_t jit_target_fill;

/* Can this machine run the target's code?  false and *why if not. */
bool jit_target_supported(const char **why);

#define JIT_COND_ALWAYS	(-1)

/* -- Frame ---------------------------------------------------------------- */

/*
 * The function's entry: frame, stack limit check, preemption poll, and
 * each local's home (c->local_home) with params moved there and declared
 * locals zeroed; sets c->slot0.
 */
void jit_emit_prologue(struct jit_cc *c);
/* Return with these results (as many as the function has). */
void jit_emit_return(struct jit_cc *c, const struct jit_opnd *results);
/* After the body: the stubs, and the frame size in the prologue. */
void jit_emit_finish(struct jit_cc *c);

/* A poll of the preemption flag at a loop header (the prologue has its own). */
void jit_emit_poll(struct jit_cc *c);
/* Whatever the target wants before a loop's first instruction (alignment). */
void jit_emit_loop_header(struct jit_cc *c);

/* -- Data movement ------------------------------------------------------- */

void jit_emit_move(struct jit_cc *c, uint8_t type, const struct jit_opnd *dst,
		   const struct jit_opnd *src);

/* dst = 64-bit word at vmctx + off. */
void jit_emit_vm_load(struct jit_cc *c, uint8_t dst, uint32_t off);
/* A value of type at base + off, base a register or JIT_BASE_VM (the vmctx). */
#define JIT_BASE_VM	0xfeu
void jit_emit_load_field(struct jit_cc *c, uint8_t type, uint8_t dst,
			 uint8_t base, int32_t off);
void jit_emit_store_field(struct jit_cc *c, uint8_t type, uint8_t base,
			  int32_t off, const struct jit_opnd *src);

/* -- Arithmetic ----------------------------------------------------------- */

/* Unary numeric ops and conversions (op: enum jit_op): dst = op(src). */
void jit_emit_unop(struct jit_cc *c, unsigned op, uint8_t dst,
		   const struct jit_opnd *src);
/* Binary numeric ops: dst = lhs op rhs; dst may be lhs. */
void jit_emit_binop(struct jit_cc *c, unsigned op, uint8_t dst, uint8_t lhs,
		    const struct jit_opnd *rhs);
/* Comparisons (and eqz, rhs NULL): the condition "lhs op rhs". */
int jit_emit_compare(struct jit_cc *c, unsigned op, uint8_t lhs,
		     const struct jit_opnd *rhs);
/* The condition "v != 0" for an i32 (or a reference: "v is not null"). */
int jit_emit_test(struct jit_cc *c, uint8_t type, const struct jit_opnd *v);
/* The opposite condition (of the same flags: a float compare's opposite
 * holds when an operand is NaN, as i32.eqz of the compare does). */
int jit_cond_not(int cond);
/* dst (i32) = cond ? 1 : 0. */
void jit_emit_setcc(struct jit_cc *c, int cond, uint8_t dst);
/* dst = cond ? dst : other. */
void jit_emit_select(struct jit_cc *c, uint8_t type, int cond, uint8_t dst,
		     const struct jit_opnd *other);

/* -- Memory --------------------------------------------------------------- */

/* Loads and stores of memory 0 at addr (an i32) + offset. */
void jit_emit_load(struct jit_cc *c, unsigned op, uint8_t dst,
		   const struct jit_opnd *addr, uint32_t offset);
void jit_emit_store(struct jit_cc *c, unsigned op, const struct jit_opnd *addr,
		    uint32_t offset, const struct jit_opnd *val);

/* -- Control -------------------------------------------------------------- */

/* A branch on cond (or JIT_COND_ALWAYS), negated if asked; returns its
 * patch site for jit_emit_patch. */
uint32_t jit_emit_branch(struct jit_cc *c, int cond, bool negate);
void jit_emit_patch(struct jit_cc *c, uint32_t site, uint32_t target);

/*
 * An indirect jump through a table of n + 1 targets: entry idx if idx < n,
 * else entry n.  Returns the table's position; set each entry with
 * jit_emit_jump_table_set once its target is known.
 */
uint32_t jit_emit_jump_table(struct jit_cc *c, uint8_t idx, uint32_t n);
void jit_emit_jump_table_set(struct jit_cc *c, uint32_t table, uint32_t i,
			     uint32_t target);

/* Trap with code if cond holds (JIT_COND_ALWAYS: unconditionally). */
void jit_emit_trap_if(struct jit_cc *c, int cond, unsigned code);
/* Trap with the code a runtime call returned in reg, if it is not 0. */
void jit_emit_trap_if_set(struct jit_cc *c, uint8_t reg);

/* -- Calls ---------------------------------------------------------------- */

enum jit_call_kind {
	JIT_CALL_DIRECT,	/* a defined function of this module */
	JIT_CALL_IMPORT,	/* an imported function, through vmctx funcs[] */
	JIT_CALL_INDIRECT,	/* through a table, with the signature check */
	JIT_CALL_REF,		/* a funcref operand (elem), null-checked */
	JIT_CALL_RUNTIME,	/* a C runtime call: vmctx, then the args */
};

struct jit_call {
	uint8_t kind;
	uint32_t index;		/* DIRECT, IMPORT: function; INDIRECT: type */
	uint32_t table;		/* INDIRECT */
	const struct jit_opnd *elem;	/* INDIRECT: table index; REF: funcref */
	const void *fn;		/* RUNTIME */
	const uint8_t *params;
	uint32_t nparams;
	const struct jit_opnd *args;
	const uint8_t *results;
	uint32_t nresults;
	int32_t results_off;	/* > 1 result: frame offset of the buffer */
};

/* Emit the call; returns the register holding its single result (free
 * for the front end to own), or JIT_NO_REG. */
uint8_t jit_emit_call(struct jit_cc *c, const struct jit_call *call);

/* -- Entry stubs ---------------------------------------------------------- */

/* The stub module.h describes (jit_entry_stub), for functions of type sig;
 * returns false if b overflowed. */
bool jit_emit_entry_stub(struct jit_buf *b, const struct jit_sig *sig);

#endif /* K23_JIT_EMIT_H */
