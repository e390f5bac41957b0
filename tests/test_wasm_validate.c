/*
 * test_wasm_validate.c - the validation algorithm on function bodies:
 * stack typing, unreachable code, blocks and branches, the instructions
 * with rules of their own, and the module context they check against.
 */
#include <criterion/criterion.h>

#include "jit/wasm_internal.h"
#include "kernel/kerr.h"
#include "wasm_builder.h"

WB_SUITE(wasm_validate);

/* A function params -> results with body (locals + code) must validate. */
#define VALID(params, results, ...) do {				\
	reset();							\
	wb_func_module(&w, params, results, WB_BYTES(__VA_ARGS__));	\
	cr_expect_eq(wb_decode(&w, &err, &heap), 0, "line %d: %s",	\
	    __LINE__, err.msg);						\
} while (0)

/* ... must be rejected as invalid with `want` in the message. */
#define INVALID(want, params, results, ...) do {				\
	reset();							\
	wb_func_module(&w, params, results, WB_BYTES(__VA_ARGS__));	\
	cr_expect_eq(wb_decode(&w, &err, &heap), -K_EINVAL,		\
	    "line %d: accepted", __LINE__);				\
	cr_expect_not(err.malformed, "line %d: %s is malformed",	\
	    __LINE__, err.msg);						\
	cr_expect(strstr(err.msg, want), "line %d: \"%s\" lacks \"%s\"", \
	    __LINE__, err.msg, want);					\
} while (0)

Test(wasm_validate, results_must_match_the_function_type)
{
	VALID("ii", "i", 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b);
	INVALID("expected i32 but got nothing", "", "i", 0x00, 0x0b);
	INVALID("values left on the stack", "", "", 0x00, 0x41, 0x00, 0x0b);
	INVALID("type mismatch in i64.add, expected i64 but got i32", "i", "l",
	    0x00, 0x20, 0x00, 0x20, 0x00, 0x7c, 0x0b);
}

Test(wasm_validate, unreachable_code_is_polymorphic)
{
	/* unreachable; i32.add: the operands are Unknown. */
	VALID("", "i", 0x00, 0x00, 0x6a, 0x0b);
	/* br 0 then anything that type-checks on its own. */
	VALID("", "l", 0x00, 0x42, 0x00, 0x0c, 0x00, 0x41, 0x01, 0x1a, 0x0b);
	/* But what is pushed after unreachable is still typed. */
	INVALID("expected i64 but got f32", "", "l", 0x00, 0x00, 0x43, 0, 0,
	    0, 0, 0x0b);
	/* br_if after unreachable pushes the label's types: i64 here. */
	INVALID("type mismatch in i64.extend_i32_u", "", "l", 0x00, 0x00, 0x0d,
	    0x00, 0xad, 0x0b);
}

Test(wasm_validate, blocks_check_their_types)
{
	/* block (result i32) i32.const 1 end */
	VALID("", "i", 0x00, 0x02, 0x7f, 0x41, 0x01, 0x0b, 0x0b);
	INVALID("expected i32 but got nothing", "", "i", 0x00, 0x02, 0x7f,
	    0x0b, 0x0b);
	/* if without else must not change the stack's types. */
	INVALID("if without else", "i", "i", 0x00, 0x20, 0x00, 0x04, 0x7f,
	    0x41, 0x01, 0x0b, 0x0b);
	VALID("i", "i", 0x00, 0x20, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x05, 0x41,
	    0x02, 0x0b, 0x0b);
	/* ... also when it has params: if (type 0 = [i32] -> []) drop end. */
	INVALID("if without else", "i", "", 0x00, 0x20, 0x00, 0x20, 0x00, 0x04,
	    0x00, 0x1a, 0x0b, 0x0b);
	/* A loop's label carries its params (none), a block's its results. */
	VALID("", "i", 0x00, 0x03, 0x7f, 0x0c, 0x00, 0x0b, 0x0b);
	INVALID("type mismatch in br", "", "i", 0x00, 0x02, 0x7f, 0x0c, 0x00,
	    0x0b, 0x0b);
}

Test(wasm_validate, multi_value_block_types_use_the_type_section)
{
	/* Type 0 is the function's [] -> [i32 i32]: as a block type too. */
	VALID("", "ii", 0x00, 0x02, 0x00, 0x41, 0x01, 0x41, 0x02, 0x0b, 0x0b);
	INVALID("unknown type 1", "", "ii", 0x00, 0x02, 0x01, 0x0b, 0x0b);
}

Test(wasm_validate, labels_and_br_table)
{
	INVALID("unknown label 1", "", "", 0x00, 0x0c, 0x01, 0x0b);
	/* br_table over labels of different arity. */
	INVALID("labels of 1 and 0 values", "", "i", 0x00, 0x02, 0x40, 0x41,
	    0x00, 0x41, 0x00, 0x0e, 0x01, 0x01, 0x00, 0x0b, 0x41, 0x00, 0x0b);
	VALID("", "", 0x00, 0x02, 0x40, 0x41, 0x00, 0x0e, 0x02, 0x00, 0x01,
	    0x00, 0x0b, 0x0b);
}

Test(wasm_validate, locals_globals_and_calls)
{
	INVALID("unknown local 2", "i", "", 0x01, 0x01, 0x7e, 0x20, 0x02, 0x1a,
	    0x0b);
	VALID("i", "l", 0x01, 0x01, 0x7e, 0x20, 0x01, 0x0b);
	INVALID("unknown global 0", "", "", 0x00, 0x23, 0x00, 0x1a, 0x0b);
	INVALID("unknown function 1", "", "", 0x00, 0x10, 0x01, 0x0b);
	/* call 0 (itself) with its i32 param. */
	VALID("i", "", 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b);
	INVALID("type mismatch in call", "i", "", 0x00, 0x10, 0x00, 0x0b);
}

Test(wasm_validate, memory_instructions_need_a_memory_and_natural_alignment)
{
	static const uint8_t mem[] = { 0x05, 0x03, 0x01, 0x00, 0x01 };
	static const uint8_t load_align3[] = {
		0x00, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1a, 0x0b,
	};

	INVALID("unknown memory 0", "", "", 0x00, 0x41, 0x00, 0x28, 0x02, 0x00,
	    0x1a, 0x0b);
	reset();
	wb_func_module_with(&w, "", "", mem, sizeof(mem), load_align3,
	    sizeof(load_align3));
	cr_expect_eq(wb_decode(&w, &err, &heap), -K_EINVAL);
	cr_expect(strstr(err.msg, "alignment must not be larger than natural"),
	    "%s", err.msg);
}

Test(wasm_validate, select_needs_matching_numeric_operands)
{
	INVALID("type mismatch in select", "", "", 0x00, 0x41, 0x01, 0x42,
	    0x01, 0x41, 0x01, 0x1b, 0x1a, 0x0b);
	/* select t with one type is fine for references... */
	VALID("", "", 0x00, 0xd0, 0x70, 0xd0, 0x70, 0x41, 0x01, 0x1c, 0x01,
	    0x70, 0x1a, 0x0b);
	/* ... but plain select is not. */
	INVALID("need select t", "", "", 0x00, 0xd0, 0x70, 0xd0, 0x70, 0x41,
	    0x01, 0x1b, 0x1a, 0x0b);
	INVALID("invalid result arity 2", "", "", 0x00, 0x41, 0x01, 0x41, 0x01,
	    0x41, 0x01, 0x1c, 0x02, 0x7f, 0x7f, 0x1a, 0x0b);
}

Test(wasm_validate, ref_func_needs_a_declaration_outside_function_bodies)
{
	static const uint8_t export0[] = { 0x07, 0x05, 0x01, 0x01, 'f', 0x00,
		0x00 };
	static const uint8_t body[] = { 0x00, 0xd2, 0x00, 0x1a, 0x0b };

	INVALID("undeclared function reference 0", "", "", 0x00, 0xd2, 0x00,
	    0x1a, 0x0b);
	reset();
	wb_func_module_with(&w, "", "", export0, sizeof(export0), body,
	    sizeof(body));
	cr_expect_eq(wb_decode(&w, &err, &heap), 0, "%s", err.msg);
}

Test(wasm_validate, simd_lanes_and_shuffles_are_checked)
{
	/* v128.const 0; i8x16.extract_lane_s 16 */
	INVALID("invalid lane index 16", "", "i", 0x00, 0xfd, 0x0c, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x15, 0x10, 0x0b);
	VALID("", "i", 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0xfd, 0x15, 0x0f, 0x0b);
	/* f64x2.convert_low_i32x4_u: 0xfd 0xff 0x01 (a 2-byte opcode). */
	VALID("v", "v", 0x00, 0x20, 0x00, 0xfd, 0xff, 0x01, 0x0b);
}

Test(wasm_validate, data_count_is_required_for_data_indices)
{
	/* data.drop 0 with no data count section is malformed. */
	reset();
	wb_func_module(&w, "", "", WB_BYTES(0x00, 0xfc, 0x09, 0x00, 0x0b));
	cr_expect_eq(wb_decode(&w, &err, &heap), -K_EINVAL);
	cr_expect(err.malformed && strstr(err.msg, "data count section"),
	    "%s", err.msg);
}

Test(wasm_validate, illegal_opcodes_are_malformed)
{
	static const uint8_t ops[][3] = {
		{ 0x06 }, { 0x27 }, { 0xc5 }, { 0xfc, 0x12 }, { 0xfd, 0x9a, 0x01 },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint8_t body[8] = { 0x00 };
		size_t n = 1 + (ops[i][0] >= 0xfc ? (ops[i][1] & 0x80 ? 3 : 2) : 1);

		memcpy(body + 1, ops[i], n - 1);
		body[n++] = 0x0b;
		reset();
		wb_func_module(&w, "", "", body, n);
		cr_expect_eq(wb_decode(&w, &err, &heap), -K_EINVAL, "op %zu", i);
		cr_expect(err.malformed && strstr(err.msg, "illegal opcode"),
		    "op %zu: %s", i, err.msg);
	}
}

Test(wasm_validate, code_after_the_final_end_is_malformed)
{
	reset();
	wb_func_module(&w, "", "", WB_BYTES(0x00, 0x0b, 0x01));
	cr_expect_eq(wb_decode(&w, &err, &heap), -K_EINVAL);
	cr_expect(err.malformed && strstr(err.msg, "after the function's final"),
	    "%s", err.msg);
	cr_expect_eq(err.offset, w.len - 1);
}

/* -- The opcode table ------------------------------------------------- */

/* wasm_ops.def's columns for the compiler, against the spec (4.4). */
Test(wasm_validate, the_opcode_table_knows_widths_signs_and_traps)
{
	static const struct {
		unsigned op, shape, width;
		bool sext, traps;
	} want[] = {
		{ JIT_OP_I32_LOAD, JIT_SHAPE_LOAD, 4, false, true },
		{ JIT_OP_I32_LOAD8_S, JIT_SHAPE_LOAD, 1, true, true },
		{ JIT_OP_I64_LOAD32_U, JIT_SHAPE_LOAD, 4, false, true },
		{ JIT_OP_I64_STORE16, JIT_SHAPE_STORE, 2, false, true },
		{ JIT_OP_V128_LOAD, JIT_SHAPE_LOAD, 16, false, true },
		{ JIT_OP_V128_LOAD16X4_S, JIT_SHAPE_LOAD, 8, true, true },
		{ JIT_OP_V128_STORE32_LANE, JIT_SHAPE_STORE_LANE, 4, false, true },
		{ JIT_OP_I32_ADD, JIT_SHAPE_BINARY, 0, false, false },
		{ JIT_OP_I32_DIV_U, JIT_SHAPE_BINARY, 0, false, true },
		{ JIT_OP_I64_REM_S, JIT_SHAPE_BINARY, 0, false, true },
		{ JIT_OP_F64_DIV, JIT_SHAPE_BINARY, 0, false, false },
		{ JIT_OP_I32_TRUNC_F32_S, JIT_SHAPE_UNARY, 0, false, true },
		{ JIT_OP_I32_TRUNC_SAT_F32_S, JIT_SHAPE_UNARY, 0, false, false },
		{ JIT_OP_I64_EXTEND32_S, JIT_SHAPE_UNARY, 0, false, false },
		{ JIT_OP_MEMORY_GROW, JIT_SHAPE_MEMORY, 0, false, false },
		{ JIT_OP_MEMORY_COPY, JIT_SHAPE_MEMORY, 0, false, true },
		{ JIT_OP_TABLE_GROW, JIT_SHAPE_SPECIAL, 0, false, false },
		{ JIT_OP_TABLE_SET, JIT_SHAPE_SPECIAL, 0, false, true },
		{ JIT_OP_CALL_INDIRECT, JIT_SHAPE_SPECIAL, 0, false, true },
		{ JIT_OP_UNREACHABLE, JIT_SHAPE_SPECIAL, 0, false, true },
		{ JIT_OP_I64_CONST, JIT_SHAPE_CONST, 0, false, false },
		{ JIT_OP_V128_BITSELECT, JIT_SHAPE_TERNARY, 0, false, false },
		{ JIT_OP_I8X16_SHUFFLE, JIT_SHAPE_LANE, 0, false, false },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct jit_op_info *oi = &jit_wasm_ops[want[i].op];
		const char *name = jit_op_name(want[i].op);

		cr_expect_eq(oi->shape, want[i].shape, "%s", name);
		cr_expect_eq(oi->width, want[i].width, "%s", name);
		cr_expect_eq(oi->sext, want[i].sext, "%s", name);
		cr_expect_eq(oi->traps, want[i].traps, "%s", name);
		if (want[i].width)	/* the natural alignment */
			cr_expect_eq(1u << oi->arg, want[i].width, "%s", name);
	}
	/* A lane load's lane index picks from 16 / width lanes. */
	cr_expect_eq(jit_wasm_ops[JIT_OP_V128_LOAD16_LANE].arg, 1);
	cr_expect_eq(jit_wasm_ops[JIT_OP_I16X8_EXTRACT_LANE_S].arg, 8);
}

/* -- Limits, on both validator paths ---------------------------------- */

/*
 * Decode mod[0..len) with the validator's fast path (jit_wasm_decode) and
 * with its reference path alone: the two must agree on the verdict, the
 * offset and the message.  Returns the verdict; err holds the fast path's
 * error.
 */
static int decode_both(const uint8_t *mod, size_t len)
{
	struct jit_wasm_alloc a = { wb_alloc, wb_free, &heap };
	struct jit_wasm_module *m;
	struct jit_wasm_error ref_err;
	int rf, rr;

	rf = jit_wasm_decode(mod, len, &a, &m, &err);
	jit_wasm_free(m);
	rr = jit_wasm_decode_with(mod, len, &a, &m, &ref_err, true);
	jit_wasm_free(m);
	cr_expect_eq(rf, rr, "fast path %d \"%s\", reference path %d \"%s\"",
	    rf, rf ? err.msg : "", rr, rr ? ref_err.msg : "");
	if (rf && rr) {
		cr_expect_eq(err.offset, ref_err.offset);
		cr_expect_str_eq(err.msg, ref_err.msg);
	}
	return rf;
}

/* A function of type [] -> [] with body[0..n) on both paths. */
static int body_on_both_paths(const uint8_t *body, size_t n)
{
	size_t len;
	uint8_t *mod = wb_big_func_module("", "", body, n, &len);
	int rc = decode_both(mod, len);

	free(mod);
	return rc;
}

static size_t put_u32(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		p[n] |= v ? 0x80 : 0;
		n++;
	} while (v);
	return n;
}

/*
 * block; i32.const 0; br_table with `labels` labels (all 0) and the
 * default 0; nop; end: instructions follow the br_table, so a path that
 * skipped the limit would go on past it.
 */
static int br_table_of(uint32_t labels)
{
	uint8_t *body = malloc(labels + 16), *p = body;
	int rc;

	*p++ = 0x00;
	*p++ = 0x02;
	*p++ = 0x40;
	*p++ = 0x41;
	*p++ = 0x00;
	*p++ = 0x0e;
	p += put_u32(p, labels);
	memset(p, 0x00, labels + 1);
	p += labels + 1;
	*p++ = 0x01;
	*p++ = 0x0b;
	*p++ = 0x0b;
	rc = body_on_both_paths(body, (size_t)(p - body));
	free(body);
	return rc;
}

Test(wasm_validate, br_table_over_the_label_limit_is_invalid_on_both_paths)
{
	cr_expect_eq(br_table_of(1100000), -K_EINVAL);
	cr_expect_not(err.malformed);
	cr_expect(strstr(err.msg, "br_table of 1100000 labels over the limit"),
	    "%s", err.msg);
	cr_expect_eq(br_table_of(JIT_WASM_MAX_BR_TABLE), 0, "%s", err.msg);
	cr_expect_eq(br_table_of(JIT_WASM_MAX_BR_TABLE + 1), -K_EINVAL);
}

/* `depth` nested empty blocks inside the function's own frame. */
static int nested_blocks(uint32_t depth)
{
	uint8_t *body = malloc(3 * (size_t)depth + 2), *p = body;
	int rc;

	*p++ = 0x00;
	for (uint32_t i = 0; i < depth; i++) {
		*p++ = 0x02;
		*p++ = 0x40;
	}
	memset(p, 0x0b, depth + 1);
	p += depth + 1;
	rc = body_on_both_paths(body, (size_t)(p - body));
	free(body);
	return rc;
}

Test(wasm_validate, nesting_over_the_limit_is_invalid_on_both_paths)
{
	/* The function's frame counts as one of the open blocks. */
	cr_expect_eq(nested_blocks(JIT_WASM_MAX_NESTING - 1), 0, "%s", err.msg);
	cr_expect_eq(nested_blocks(JIT_WASM_MAX_NESTING), -K_EINVAL);
	cr_expect(strstr(err.msg, "block nesting deeper than the limit"), "%s",
	    err.msg);
}

/* `count` i32.const 0 then unreachable, which takes them all away. */
static int operands(uint32_t count)
{
	uint8_t *body = malloc(2 * (size_t)count + 3), *p = body;
	int rc;

	*p++ = 0x00;
	for (uint32_t i = 0; i < count; i++) {
		*p++ = 0x41;
		*p++ = 0x00;
	}
	*p++ = 0x00;
	*p++ = 0x0b;
	rc = body_on_both_paths(body, (size_t)(p - body));
	free(body);
	return rc;
}

Test(wasm_validate, operands_over_the_limit_are_invalid_on_both_paths)
{
	cr_expect_eq(operands(JIT_WASM_MAX_OPERANDS), 0, "%s", err.msg);
	cr_expect_eq(operands(JIT_WASM_MAX_OPERANDS + 1), -K_EINVAL);
	cr_expect(strstr(err.msg, "operand stack deeper than the limit"), "%s",
	    err.msg);
}

/* One group of `count` i32 locals, read by local.get at the last one. */
static int locals(uint32_t count)
{
	uint8_t body[32], *p = body;

	*p++ = 0x01;
	p += put_u32(p, count);
	*p++ = 0x7f;
	*p++ = 0x20;
	p += put_u32(p, count - 1);
	*p++ = 0x1a;
	*p++ = 0x0b;
	return body_on_both_paths(body, (size_t)(p - body));
}

Test(wasm_validate, locals_over_the_limit_are_invalid_on_both_paths)
{
	cr_expect_eq(locals(JIT_WASM_MAX_LOCALS), 0, "%s", err.msg);
	cr_expect_eq(locals(JIT_WASM_MAX_LOCALS + 1), -K_EINVAL);
	cr_expect(strstr(err.msg, "too many locals"), "%s", err.msg);
}
