/*
 * wasm_internal.h - what decode.c and validate.c share: the byte reader
 * with its LEB128 rules, the first-error-sticks error report, and the
 * decoder state the validator checks function bodies against.  Not for use
 * outside jit/wasm (the compiler reads struct jit_wasm_module only).
 */
#ifndef K23_JIT_WASM_INTERNAL_H
#define K23_JIT_WASM_INTERNAL_H

#include "jit/wasm.h"
#include "kernel/klib.h"

/* A cursor over [p, end); every read checks end first. */
struct jit_rd {
	const uint8_t *p;
	const uint8_t *end;
};

/* A control frame of the validation algorithm (spec appendix A.3). */
struct jit_ctrl {
	const uint8_t *params;	/* the block type's start types */
	const uint8_t *results;	/* and end types */
	uint32_t nparams, nresults;
	uint32_t height;	/* operand stack height at entry */
	uint16_t op;		/* JIT_OP_BLOCK/LOOP/IF/ELSE; END: the body */
	bool unreachable;
	uint8_t shift;		/* the use weight's shift outside the block */
};

struct jit_wasm_decoder {
	struct jit_wasm_module *m;
	struct jit_wasm_error *err;
	const uint8_t *base;
	bool failed;
	bool oom;
	bool reference;		/* validate with step() alone, no fast path */
	bool lazy;		/* bodies are only located (jit_wasm_decode_lazy) */
	uint8_t *refs;		/* bitmap: functions declared for ref.func */
	/* Validator scratch, grown on demand and reused across functions. */
	uint8_t *vals;		/* operand stack: one value type per slot */
	uint32_t vals_cap;
	struct jit_ctrl *ctrls;
	uint32_t ctrls_cap;
	uint8_t *locals;	/* the current function's params and locals */
	uint32_t locals_cap;
	uint64_t *weights;	/* and how busy each is (jit_wasm_func.hot) */
	uint32_t weights_cap;
};

/*
 * Around a dispatch table that gives every opcode a default and then
 * overrides some entries, which the compilers would warn about.
 */
#ifdef __clang__
#define JIT_OVERRIDES_BEGIN _Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Winitializer-overrides\"")
#else
#define JIT_OVERRIDES_BEGIN _Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Woverride-init\"")
#endif
#define JIT_OVERRIDES_END _Pragma("GCC diagnostic pop")

/* How the bytes after an opcode are read (wasm_ops.def's immediate). */
enum jit_imm {
	JIT_IMM_ILLEGAL,	/* not an instruction */
	JIT_IMM_NONE,
	JIT_IMM_SPECIAL,	/* a case of its own in the validator */
	JIT_IMM_MEMARG,
	JIT_IMM_MEMLANE,
	JIT_IMM_MEMZERO,	/* a 0x00 memory index */
	JIT_IMM_MEMCOPY,	/* two 0x00 memory indices */
	JIT_IMM_MEMINIT,	/* data index, 0x00 */
	JIT_IMM_DATA,
	JIT_IMM_I32,
	JIT_IMM_I64,
	JIT_IMM_F32,
	JIT_IMM_F64,
	JIT_IMM_V128,
	JIT_IMM_SHUFFLE,
	JIT_IMM_LANE,
};

/* What an instruction does with the operand stack (wasm_ops.def's shape). */
enum jit_shape {
	JIT_SHAPE_SPECIAL,	/* rules of its own */
	JIT_SHAPE_NOP,
	JIT_SHAPE_CONST,	/* pushes its immediate */
	JIT_SHAPE_UNARY,	/* operand -> result, no immediate */
	JIT_SHAPE_BINARY,	/* two operands -> result, no immediate */
	JIT_SHAPE_TERNARY,	/* three operands -> result, no immediate */
	JIT_SHAPE_LANE,		/* SIMD operators whose immediate picks lanes */
	JIT_SHAPE_LOAD,		/* address -> value */
	JIT_SHAPE_STORE,	/* address, value -> */
	JIT_SHAPE_LOAD_LANE,	/* address, vector -> vector */
	JIT_SHAPE_STORE_LANE,	/* address, vector -> */
	JIT_SHAPE_MEMORY,	/* size, grow, bulk operations */
	JIT_SHAPE_COUNT
};

/*
 * An opcode's entry, built from wasm_ops.def (wasm_ops.c), which explains
 * each column.  Eight bytes, as the fast path loads one per instruction:
 * the signature is flattened to npop operands whose types, deepest first,
 * are pops[0..npop), and the result `push` (0: none).
 */
struct jit_op_info {
	uint8_t imm;		/* enum jit_imm */
	uint8_t shape : 4;	/* enum jit_shape */
	uint8_t npop : 2;
	uint8_t sext : 1;	/* a load that sign-extends what it reads */
	uint8_t traps : 1;	/* executing it can trap */
	uint8_t arg;		/* LANE: lanes; MEMARG, MEMLANE: log2 of width */
	uint8_t width;		/* bytes a load or store accesses, 0: none */
	uint8_t push;
	uint8_t pops[3];
};

_Static_assert(sizeof(struct jit_op_info) == 8, "one load per instruction");
_Static_assert(JIT_SHAPE_COUNT <= 16, "struct jit_op_info's shape is 4 bits");

extern const struct jit_op_info jit_wasm_ops[JIT_OP_LIMIT];

/* The "unknown" operand type of unreachable code (spec A.3: Unknown). */
#define JIT_UNKNOWN	0

/*
 * Record an error at byte `at` unless one is already recorded; always
 * returns false so callers can `return jit_wasm_fail(...)`.
 */
bool jit_wasm_fail(struct jit_wasm_decoder *d, const uint8_t *at,
		   bool malformed, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), cold));

/* Zeroed memory from the module's allocator; failure records the error. */
void *jit_wasm_alloc(struct jit_wasm_decoder *d, size_t size, const uint8_t *at);
void jit_wasm_release(struct jit_wasm_decoder *d, void *p);

/*
 * LEB128 readers with the spec's size and range rules (spec 5.2.2);
 * rd_u32() and rd_s32() below inline their short cases.
 */
bool jit_wasm_leb_u32(struct jit_wasm_decoder *d, struct jit_rd *r, uint32_t *v);
bool jit_wasm_leb_s32(struct jit_wasm_decoder *d, struct jit_rd *r, int32_t *v);
bool jit_wasm_leb_s33(struct jit_wasm_decoder *d, struct jit_rd *r, int64_t *v);
bool jit_wasm_leb_s64(struct jit_wasm_decoder *d, struct jit_rd *r, int64_t *v);

/* "unexpected end" at the reader's position. */
bool jit_wasm_eof(struct jit_wasm_decoder *d, struct jit_rd *r);

static inline bool rd_byte(struct jit_wasm_decoder *d, struct jit_rd *r,
			   uint8_t *v)
{
	if (unlikely(r->p >= r->end)) {
		*v = 0;
		return jit_wasm_eof(d, r);
	}
	*v = *r->p++;
	return true;
}

/* u32 with the one-byte case inline: it is most of every module. */
static inline bool rd_u32(struct jit_wasm_decoder *d, struct jit_rd *r,
			  uint32_t *v)
{
	if (likely(r->p < r->end && *r->p < 0x80)) {
		*v = *r->p++;
		return true;
	}
	*v = 0;
	return jit_wasm_leb_u32(d, r, v);
}

/* s32 with the cases of up to four bytes inline (no range rules apply). */
static inline bool rd_s32(struct jit_wasm_decoder *d, struct jit_rd *r,
			  int32_t *v)
{
	const uint8_t *p = r->p;

	if (likely(r->end - p >= 4)) {
		uint32_t x = 0, shift = 0;

		for (unsigned i = 0; i < 4; i++) {
			uint8_t b = p[i];

			x |= (uint32_t)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80)) {
				if (b & 0x40)	/* sign-extend */
					x |= ~0u << shift;
				*v = (int32_t)x;
				r->p = p + i + 1;
				return true;
			}
		}
	}
	*v = 0;
	return jit_wasm_leb_s32(d, r, v);
}

static inline bool rd_bytes(struct jit_wasm_decoder *d, struct jit_rd *r,
			    uint32_t n, const uint8_t **out)
{
	if (unlikely((size_t)(r->end - r->p) < n)) {
		*out = NULL;
		return jit_wasm_fail(d, r->p, true, "unexpected end");
	}
	*out = r->p;
	r->p += n;
	return true;
}

static inline bool is_numtype(uint8_t t)
{
	return t >= JIT_V128 && t <= JIT_I32;
}

static inline bool is_reftype(uint8_t t)
{
	return t == JIT_FUNCREF || t == JIT_EXTERNREF;
}

static inline bool is_valtype(uint8_t t)
{
	return is_numtype(t) || is_reftype(t);
}

/* Well-formed UTF-8 (spec 5.2.4). */
bool jit_wasm_utf8_ok(const uint8_t *s, uint32_t len);

/*
 * Read the name section's contents p[0..size) into the module.  Errors in
 * it leave the module without names but valid (custom sections must not
 * invalidate a module, spec 7.4).
 */
void jit_wasm_read_names(struct jit_wasm_decoder *d, const uint8_t *p,
			 uint32_t size);

/* Read a value type byte; anything else is malformed. */
bool jit_wasm_valtype(struct jit_wasm_decoder *d, struct jit_rd *r, uint8_t *t);

/*
 * Validate one code entry, body[0..len) (spec 3.3 and A.3), as the body of
 * function `func`, filling in funcs[func].nlocals, code, max_operands and
 * max_depth.  Needs every section before the code section decoded.
 */
bool jit_wasm_validate_body(struct jit_wasm_decoder *d, uint32_t func,
			    const uint8_t *body, uint32_t len);

/*
 * Decode a code entry without validating it: after a function turned out
 * invalid, the rest must still be checked for malformed bytes (which the
 * spec reports first).  Returns false with the malformed error recorded.
 */
bool jit_wasm_skip_body(struct jit_wasm_decoder *d, const uint8_t *body,
			uint32_t len);

/*
 * Step over the immediates of instruction op (its opcode already read) at
 * r, checking only the binary format; *depth goes up at block, loop and
 * if and down at end.  Also how the compiler skips dead code.
 */
bool jit_wasm_skip_insn(struct jit_wasm_decoder *d, struct jit_rd *r,
			unsigned op, uint32_t *depth);

/*
 * jit_wasm_decode, optionally (reference) checking every instruction on
 * the validator's reference path only: the fuzzer compares the two.
 */
int jit_wasm_decode_with(const uint8_t *bytes, size_t size,
			 const struct jit_wasm_alloc *alloc,
			 struct jit_wasm_module **out, struct jit_wasm_error *err,
			 bool reference);

/* Free the validator's scratch stacks. */
void jit_wasm_validator_free(struct jit_wasm_decoder *d);

/*
 * jit_wasm_decode, leaving each function body unvalidated (only its place
 * and size are read), so that the compiler validates each body just before
 * compiling it, on whichever hart compiles it, while its bytes are in the
 * cache.  A module this rejects, or one with a body that
 * jit_wasm_validate_func() rejects, must be decoded again with
 * jit_wasm_decode() for the error to report: that one follows the
 * module's order (a malformed body beats an invalid section after it).
 */
int jit_wasm_decode_lazy(const uint8_t *bytes, size_t size,
			 const struct jit_wasm_alloc *alloc,
			 struct jit_wasm_module **out, struct jit_wasm_error *err);

/*
 * Validate defined function func of a lazily decoded module, filling in
 * what jit_wasm_decode does for it (m->funcs[func]).  d: the caller's own
 * decoder, { .m = m, .err = ..., .base = m->bytes, .refs = m->func_refs },
 * its scratch reused from call to call (jit_wasm_validator_free).
 */
bool jit_wasm_validate_func(struct jit_wasm_decoder *d, uint32_t func);

#endif /* K23_JIT_WASM_INTERNAL_H */
