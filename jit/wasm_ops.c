/*
 * wasm_ops.c - the instruction tables built from wasm_ops.def, and the
 * table-driven reader that decodes a function body without validating it.
 */
#include "jit/wasm_internal.h"

/* -- The tables ------------------------------------------------------- */

/* Each signature as constants: operand count, result, each operand. */
#define I JIT_I32
#define L JIT_I64
#define F JIT_F32
#define D JIT_F64
#define V JIT_V128
#define SIG(name, r, a, b, c) enum {					\
	SIGN_##name = ((a) != 0) + ((b) != 0) + ((c) != 0),		\
	SIGR_##name = (r),						\
	SIGA_##name = (a),						\
	SIGB_##name = (b),						\
	SIGC_##name = (c),						\
};
#include "jit/wasm_ops.def"
#undef SIG
#undef I
#undef L
#undef F
#undef D
#undef V

/* The access column: bytes, and S for a sign-extending load. */
enum {
	ACCESS_0 = 0, ACCESS_1 = 1, ACCESS_2 = 2, ACCESS_4 = 4, ACCESS_8 = 8,
	ACCESS_16 = 16,
	ACCESS_S = 0x80,
	ACCESS_1S = 1 | ACCESS_S, ACCESS_2S = 2 | ACCESS_S,
	ACCESS_4S = 4 | ACCESS_S, ACCESS_8S = 8 | ACCESS_S,
};
#define WIDTH(access)	(ACCESS_##access & ~ACCESS_S)
#define LOG2(w)		((w) >= 16 ? 4 : (w) >= 8 ? 3 : (w) >= 4 ? 2 :	\
			 (w) >= 2 ? 1 : 0)
#define TRAP		1

/*
 * What each shape promises about the immediate and the signature (the
 * fast validator and the compiler rely on it), held to every row below:
 * IS(imm, x) tests the immediate, TAKES(sig, n, r) the signature's
 * operand count n and whether it has a result r.
 */
#define IS(imm, x)		(JIT_IMM_##imm == JIT_IMM_##x)
#define TAKES(sig, n, r)	(SIGN_##sig == (n) && !SIGR_##sig == !(r))
#define IS_CONST(imm)		(IS(imm, I32) || IS(imm, I64) ||	\
				 IS(imm, F32) || IS(imm, F64) || IS(imm, V128))
#define IS_BULK(imm)		(IS(imm, MEMZERO) || IS(imm, MEMCOPY) || \
				 IS(imm, MEMINIT) || IS(imm, DATA))
#define FITS_SPECIAL(imm, sig)	 IS(imm, SPECIAL)
#define FITS_NOP(imm, sig)	(IS(imm, NONE) && TAKES(sig, 0, 0))
#define FITS_CONST(imm, sig)	(IS_CONST(imm) && TAKES(sig, 0, 1))
#define FITS_UNARY(imm, sig)	(IS(imm, NONE) && TAKES(sig, 1, 1))
#define FITS_BINARY(imm, sig)	(IS(imm, NONE) && TAKES(sig, 2, 1))
#define FITS_TERNARY(imm, sig)	(IS(imm, NONE) && TAKES(sig, 3, 1))
#define FITS_LANE(imm, sig)	((IS(imm, LANE) || IS(imm, SHUFFLE)) &&	\
				 SIGR_##sig != 0)
#define FITS_LOAD(imm, sig)	(IS(imm, MEMARG) && TAKES(sig, 1, 1))
#define FITS_STORE(imm, sig)	(IS(imm, MEMARG) && TAKES(sig, 2, 0))
#define FITS_LOAD_LANE(imm, sig) (IS(imm, MEMLANE) && TAKES(sig, 2, 1))
#define FITS_STORE_LANE(imm, sig)					\
				(IS(imm, MEMLANE) && TAKES(sig, 2, 0))
#define FITS_MEMORY(imm, sig)	 IS_BULK(imm)

/* Loads and stores, and only they, access a power of two of bytes. */
#define ACCESSES(shape)							\
	((shape) == JIT_SHAPE_LOAD || (shape) == JIT_SHAPE_STORE ||	\
	 (shape) == JIT_SHAPE_LOAD_LANE || (shape) == JIT_SHAPE_STORE_LANE)
#define ACCESS_FITS(shape, access)					\
	(ACCESSES(shape) == (WIDTH(access) != 0) &&			\
	 WIDTH(access) <= 16 &&						\
	 !(WIDTH(access) & (WIDTH(access) - 1)) &&			\
	 (!(ACCESS_##access & ACCESS_S) || (shape) == JIT_SHAPE_LOAD))

#define OP(id, name, text, immediate, lanes, sig, shp, access, trap)	\
	_Static_assert(FITS_##shp(immediate, sig),			\
	    "wasm_ops.def: the shape of " text " does not fit");	\
	_Static_assert(ACCESS_FITS(JIT_SHAPE_##shp, access),		\
	    "wasm_ops.def: the access of " text " does not fit");	\
	_Static_assert(IS(immediate, LANE) == ((lanes) != 0),		\
	    "wasm_ops.def: the lanes of " text " do not fit");
#include "jit/wasm_ops.def"
#undef OP

const struct jit_op_info jit_wasm_ops[JIT_OP_LIMIT] = {
#define OP(id, name, text, immediate, lanes, sig, shp, access, trap)	\
	[id] = {							\
		.imm = JIT_IMM_##immediate,				\
		.shape = JIT_SHAPE_##shp,				\
		.npop = SIGN_##sig,					\
		.sext = (ACCESS_##access & ACCESS_S) != 0,		\
		.traps = trap,						\
		.arg = WIDTH(access) ? LOG2(WIDTH(access)) : (lanes),	\
		.width = WIDTH(access),					\
		.push = SIGR_##sig,					\
		.pops = { SIGA_##sig, SIGB_##sig, SIGC_##sig },		\
	},
#include "jit/wasm_ops.def"
#undef OP
};

static const char *const op_names[JIT_OP_LIMIT] = {
#define OP(id, name, text, ...) [id] = text,
#include "jit/wasm_ops.def"
#undef OP
};

const char *jit_op_name(unsigned id)
{
	return id < JIT_OP_LIMIT ? op_names[id] : NULL;
}

const char *jit_valtype_name(uint8_t type)
{
	switch (type) {
	case JIT_I32: return "i32";
	case JIT_I64: return "i64";
	case JIT_F32: return "f32";
	case JIT_F64: return "f64";
	case JIT_V128: return "v128";
	case JIT_FUNCREF: return "funcref";
	case JIT_EXTERNREF: return "externref";
	default: return "?";
	}
}

/* -- Decoding without validating -------------------------------------- */

/* The immediates of a SPECIAL instruction, read but not checked. */
static bool skip_special(struct jit_wasm_decoder *d, struct jit_rd *r,
			 unsigned op, uint32_t *depth)
{
	const uint8_t *at = r->p;
	uint32_t x, n;
	int64_t bt;
	uint8_t t;

	switch (op) {
	case JIT_OP_BLOCK:
	case JIT_OP_LOOP:
	case JIT_OP_IF:
		(*depth)++;
		if (r->p < r->end && (*r->p == 0x40 || is_valtype(*r->p))) {
			r->p++;
			return true;
		}
		if (!jit_wasm_leb_s33(d, r, &bt))
			return false;
		return bt >= 0 || jit_wasm_fail(d, at, true, "malformed block "
		    "type");
	case JIT_OP_END:
		(*depth)--;
		return true;
	case JIT_OP_BR_TABLE:
		if (!rd_u32(d, r, &n))
			return false;
		for (uint64_t i = 0; i <= n; i++)
			if (!rd_u32(d, r, &x))
				return false;
		return true;
	case JIT_OP_CALL_INDIRECT:
	case JIT_OP_TABLE_INIT:
	case JIT_OP_TABLE_COPY:
		return rd_u32(d, r, &x) && rd_u32(d, r, &x);
	case JIT_OP_SELECT_T:
		if (!rd_u32(d, r, &n))
			return false;
		for (uint64_t i = 0; i < n; i++)
			if (!jit_wasm_valtype(d, r, &t))
				return false;
		return true;
	case JIT_OP_REF_NULL:
		if (!rd_byte(d, r, &t))
			return false;
		return is_reftype(t) || jit_wasm_fail(d, at, true, "malformed "
		    "reference type 0x%x", t);
	case JIT_OP_UNREACHABLE:
	case JIT_OP_ELSE:
	case JIT_OP_RETURN:
	case JIT_OP_DROP:
	case JIT_OP_SELECT:
	case JIT_OP_REF_IS_NULL:
		return true;
	default:	/* one index: br, call, locals, globals, tables, ... */
		return rd_u32(d, r, &x);
	}
}

static bool skip_immediates(struct jit_wasm_decoder *d, struct jit_rd *r,
			    const struct jit_op_info *oi)
{
	const uint8_t *at = r->p, *b;
	uint32_t x;
	uint8_t zero;
	int32_t y32;
	int64_t y;

	switch (oi->imm) {
	case JIT_IMM_MEMARG:
		return rd_u32(d, r, &x) && rd_u32(d, r, &x);
	case JIT_IMM_MEMLANE:
		return rd_u32(d, r, &x) && rd_u32(d, r, &x) && rd_byte(d, r, &zero);
	case JIT_IMM_MEMCOPY:
		if (!rd_byte(d, r, &zero))
			return false;
		if (zero)
			return jit_wasm_fail(d, at, true, "zero byte expected");
		at = r->p;
		/* fall through */
	case JIT_IMM_MEMZERO:
		if (!rd_byte(d, r, &zero))
			return false;
		return !zero || jit_wasm_fail(d, at, true, "zero byte expected");
	case JIT_IMM_MEMINIT:
	case JIT_IMM_DATA:
		if (!rd_u32(d, r, &x))
			return false;
		if (!d->m->has_data_count)
			return jit_wasm_fail(d, at, true, "data count section "
			    "required");
		at = r->p;
		if (oi->imm == JIT_IMM_DATA)
			return true;
		if (!rd_byte(d, r, &zero))
			return false;
		return !zero || jit_wasm_fail(d, at, true, "zero byte expected");
	case JIT_IMM_I32:
		return jit_wasm_leb_s32(d, r, &y32);
	case JIT_IMM_I64:
		return jit_wasm_leb_s64(d, r, &y);
	case JIT_IMM_F32:
		return rd_bytes(d, r, 4, &b);
	case JIT_IMM_F64:
		return rd_bytes(d, r, 8, &b);
	case JIT_IMM_V128:
	case JIT_IMM_SHUFFLE:
		return rd_bytes(d, r, 16, &b);
	case JIT_IMM_LANE:
		return rd_byte(d, r, &zero);
	default:
		return true;
	}
}

bool jit_wasm_skip_insn(struct jit_wasm_decoder *d, struct jit_rd *r,
			unsigned op, uint32_t *depth)
{
	const struct jit_op_info *oi = &jit_wasm_ops[op];

	return oi->imm == JIT_IMM_SPECIAL ? skip_special(d, r, op, depth) :
	       skip_immediates(d, r, oi);
}

bool jit_wasm_skip_body(struct jit_wasm_decoder *d, const uint8_t *body,
			uint32_t len)
{
	struct jit_rd r = { body, body + len };
	uint32_t ngroups, n, depth = 1;
	uint64_t total = 0;
	uint8_t t;

	if (!rd_u32(d, &r, &ngroups))
		return false;
	for (uint32_t i = 0; i < ngroups; i++) {
		if (!rd_u32(d, &r, &n) || !jit_wasm_valtype(d, &r, &t))
			return false;
		total += n;
	}
	if (total > UINT32_MAX)
		return jit_wasm_fail(d, body, true, "too many locals");
	while (depth && r.p < r.end) {
		const uint8_t *at = r.p;
		unsigned op = *r.p++;
		uint32_t sub;

		if (op == 0xfc || op == 0xfd) {
			if (!rd_u32(d, &r, &sub))
				return false;
			op = sub > 0xff ? JIT_OP_LIMIT :
			    (op == 0xfc ? 0x100 : 0x200) + sub;
		}
		if (op >= JIT_OP_LIMIT || jit_wasm_ops[op].imm == JIT_IMM_ILLEGAL)
			return jit_wasm_fail(d, at, true, "illegal opcode 0x%x",
			    at[0]);
		if (!jit_wasm_skip_insn(d, &r, op, &depth))
			return false;
	}
	if (depth)
		return jit_wasm_fail(d, r.p, true, "unexpected end of section "
		    "or function");
	if (r.p != r.end)
		return jit_wasm_fail(d, r.p, true, "section size mismatch: "
		    "bytes after the function's final end");
	return true;
}
