/*
 * test_wasm_decode.c - the binary format: LEB128 rules, sections, error
 * offsets and messages, the implementation limits against hostile sizes,
 * allocation failure, the name section and the module representation.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "kernel/kerr.h"
#include "wasm_builder.h"

WB_SUITE(wasm_decode);

/* Decode w and check the verdict; every allocation must be freed. */
static int decode(void)
{
	int rc = wb_decode(&w, &err, &heap);

	cr_assert_eq(heap.live, 0, "%ld allocations leaked", heap.live);
	return rc;
}

static void expect_error(bool malformed, uint32_t offset, const char *msg)
{
	cr_assert_eq(decode(), -K_EINVAL, "accepted; expected \"%s\"", msg);
	cr_expect_eq(err.malformed, malformed, "\"%s\" should be %s", err.msg,
	    malformed ? "malformed" : "invalid");
	cr_expect_eq(err.offset, offset, "\"%s\" at 0x%x, expected 0x%x",
	    err.msg, err.offset, offset);
	cr_expect(strstr(err.msg, msg), "message \"%s\" lacks \"%s\"", err.msg,
	    msg);
}

Test(wasm_decode, empty_module_is_valid)
{
	wb_header(&w);
	cr_assert_eq(decode(), 0, "%s", err.msg);
}

Test(wasm_decode, bad_magic_and_version_are_malformed_at_their_offsets)
{
	wb_bytes(&w, WB_BYTES(0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0));
	expect_error(true, 0, "magic header not detected");
	reset();
	wb_bytes(&w, WB_BYTES(0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0));
	expect_error(true, 4, "unknown binary version");
	reset();
	wb_bytes(&w, WB_BYTES(0x00, 0x61, 0x73));
	expect_error(true, 0, "magic header not detected");
}

Test(wasm_decode, leb_u32_takes_five_bytes_at_most)
{
	/* A type section whose count 0 is padded to 5 bytes: still valid. */
	wb_header(&w);
	wb_section(&w, 1, WB_BYTES(0x80, 0x80, 0x80, 0x80, 0x00));
	cr_assert_eq(decode(), 0, "%s", err.msg);
	reset();
	wb_header(&w);
	wb_section(&w, 1, WB_BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
	expect_error(true, 10, "integer representation too long");
}

Test(wasm_decode, leb_u32_unused_bits_of_fifth_byte_must_be_zero)
{
	/* 0x10 in the fifth byte is bit 32. */
	wb_header(&w);
	wb_section(&w, 1, WB_BYTES(0x80, 0x80, 0x80, 0x80, 0x10));
	expect_error(true, 10, "integer too large");
}

Test(wasm_decode, leb_s32_fifth_byte_must_sign_extend)
{
	/* i32.const -1 in five bytes: 0x7f in the last byte is fine. */
	size_t at = wb_func_module(&w, "", "i", WB_BYTES(0x00, 0x41, 0xff, 0xff,
	    0xff, 0xff, 0x7f, 0x0b));

	cr_assert_eq(decode(), 0, "%s", err.msg);
	reset();
	/* 0x4f: bit 31 clear but bits above it set. */
	at = wb_func_module(&w, "", "i", WB_BYTES(0x00, 0x41, 0xff, 0xff, 0xff,
	    0xff, 0x4f, 0x0b));
	expect_error(true, (uint32_t)at + 2, "integer too large");
}

Test(wasm_decode, leb_s64_tenth_byte_is_sign_or_nothing)
{
	size_t at = wb_func_module(&w, "", "l", WB_BYTES(0x00, 0x42, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f, 0x0b));

	cr_assert_eq(decode(), 0, "INT64_MIN: %s", err.msg);
	reset();
	at = wb_func_module(&w, "", "l", WB_BYTES(0x00, 0x42, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x0b));
	expect_error(true, (uint32_t)at + 2, "integer too large");
	reset();
	at = wb_func_module(&w, "", "l", WB_BYTES(0x00, 0x42, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b));
	expect_error(true, (uint32_t)at + 2, "integer representation too long");
}

Test(wasm_decode, type_mismatch_names_instruction_types_and_offset)
{
	/* (func (result i32) i32.const 0  f64.const 0  i32.add) */
	size_t at = wb_func_module(&w, "", "i", WB_BYTES(0x00, 0x41, 0x00, 0x44,
	    0, 0, 0, 0, 0, 0, 0, 0, 0x6a, 0x0b));

	expect_error(false, (uint32_t)at + 12,
	    "type mismatch in i32.add, expected i32 but got f64");
}

Test(wasm_decode, sections_out_of_order_are_malformed)
{
	wb_header(&w);
	wb_section(&w, 3, WB_BYTES(0x00));
	wb_section(&w, 1, WB_BYTES(0x00));
	expect_error(true, 11, "section 1 out of order");
}

Test(wasm_decode, section_size_must_match_contents)
{
	wb_header(&w);
	wb_section(&w, 1, WB_BYTES(0x00, 0x00));
	expect_error(true, 11, "section size mismatch");
	reset();
	wb_header(&w);
	wb_bytes(&w, WB_BYTES(0x01, 0x05, 0x00));
	expect_error(true, 10, "past the end of the module");
}

Test(wasm_decode, unknown_section_id_is_malformed)
{
	wb_header(&w);
	wb_section(&w, 13, WB_BYTES(0x00));
	expect_error(true, 8, "malformed section id 13");
}

Test(wasm_decode, huge_vector_count_is_refused_before_allocating)
{
	/* 4 billion functions announced in a 5-byte section. */
	wb_header(&w);
	wb_section(&w, 3, WB_BYTES(0xff, 0xff, 0xff, 0xff, 0x0f));
	expect_error(true, 10, "unexpected end");
	cr_expect_lt(heap.peak_bytes, 4096, "%zu bytes allocated",
	    heap.peak_bytes);
}

Test(wasm_decode, function_and_code_counts_must_agree)
{
	wb_header(&w);
	wb_type_section(&w, "", "");
	wb_section(&w, 3, WB_BYTES(0x01, 0x00));
	expect_error(true, (uint32_t)w.len, "inconsistent lengths");
}

Test(wasm_decode, names_must_be_utf8)
{
	static const uint8_t bad[][3] = {
		{ 0xc0, 0x80, 0 },	/* overlong NUL */
		{ 0xed, 0xa0, 0x80 },	/* surrogate U+D800 */
		{ 0xf4, 0x90, 0x80 },	/* truncated, and past U+10FFFF */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset();
		wb_header(&w);
		wb_byte(&w, 0);		/* custom section named bad[i] */
		wb_u32(&w, 4);
		wb_u32(&w, 3);
		wb_bytes(&w, bad[i], 3);
		expect_error(true, 10, "malformed UTF-8 encoding");
	}
	reset();
	wb_header(&w);
	wb_section(&w, 0, WB_BYTES(0x04, 0xf0, 0x9f, 0x98, 0x80));	/* U+1F600 */
	cr_assert_eq(decode(), 0, "%s", err.msg);
}

Test(wasm_decode, memory_limits_are_checked)
{
	wb_header(&w);
	wb_section(&w, 5, WB_BYTES(0x01, 0x00, 0x81, 0x80, 0x04));	/* 65537 */
	expect_error(false, 11, "at most 65536 pages");
	reset();
	wb_header(&w);
	wb_section(&w, 5, WB_BYTES(0x01, 0x01, 0x02, 0x01));
	expect_error(false, 11, "minimum must not be greater than maximum");
	reset();
	wb_header(&w);
	wb_section(&w, 5, WB_BYTES(0x02, 0x00, 0x01, 0x00, 0x01));
	expect_error(false, 10, "multiple memories");
}

Test(wasm_decode, too_many_locals_is_an_implementation_limit)
{
	/* 50001 locals: over our limit, within the format's. */
	size_t at = wb_func_module(&w, "", "", WB_BYTES(0x01, 0xd1, 0x86, 0x03,
	    0x7f, 0x0b));

	expect_error(false, (uint32_t)at, "too many locals");
	cr_expect_lt(heap.peak_bytes, 8192, "%zu bytes allocated",
	    heap.peak_bytes);
}

Test(wasm_decode, more_than_2_32_locals_is_malformed)
{
	size_t at = wb_func_module(&w, "", "", WB_BYTES(0x02,
	    0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02, 0x7e, 0x0b));

	expect_error(true, (uint32_t)at, "too many locals");
}

Test(wasm_decode, deep_nesting_is_refused)
{
	static uint8_t body[3 * JIT_WASM_MAX_NESTING + 8];
	size_t n = 0, at;

	/* With the function's own frame, one block too many. */
	body[n++] = 0;
	for (int i = 0; i < JIT_WASM_MAX_NESTING; i++) {
		body[n++] = 0x02;	/* block */
		body[n++] = 0x40;
	}
	for (int i = 0; i <= JIT_WASM_MAX_NESTING; i++)
		body[n++] = 0x0b;
	at = wb_func_module(&w, "", "", body, n);
	expect_error(false, (uint32_t)(at + 1 + 2 * (JIT_WASM_MAX_NESTING - 1)),
	    "block nesting deeper than");
}

Test(wasm_decode, nesting_just_under_the_limit_is_fine)
{
	static uint8_t body[3 * JIT_WASM_MAX_NESTING + 8];
	size_t n = 0;

	body[n++] = 0;
	for (int i = 0; i < JIT_WASM_MAX_NESTING - 1; i++) {
		body[n++] = 0x02;
		body[n++] = 0x40;
	}
	for (int i = 0; i < JIT_WASM_MAX_NESTING; i++)
		body[n++] = 0x0b;
	wb_func_module(&w, "", "", body, n);
	cr_assert_eq(decode(), 0, "%s", err.msg);
}

Test(wasm_decode, every_allocation_failure_is_reported_and_cleaned_up)
{
	/* A module touching most allocations: types, imports, exports ... */
	struct wb *sec = calloc(1, sizeof(*sec));
	long calls;

	wb_header(&w);
	wb_type_section(&w, "i", "i");
	wb_section(&w, 2, WB_BYTES(0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00));
	wb_section(&w, 3, WB_BYTES(0x01, 0x00));
	wb_section(&w, 7, WB_BYTES(0x01, 0x01, 'g', 0x00, 0x01));
	wb_section(&w, 10, WB_BYTES(0x01, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b));
	wb_section(&w, 0, WB_BYTES(0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01,
	    0x01, 0x01, 'g'));
	free(sec);
	cr_assert_eq(decode(), 0, "%s", err.msg);
	calls = heap.calls;
	cr_assert_gt(calls, 3);
	for (long i = 0; i < calls; i++) {
		memset(&heap, 0, sizeof(heap));
		heap.fail_at = i;
		cr_assert_eq(decode(), -K_ENOMEM, "allocation %ld of %ld", i, calls);
		cr_expect(strstr(err.msg, "out of memory"), "%s", err.msg);
	}
}

Test(wasm_decode, module_representation_points_into_the_input)
{
	struct jit_wasm_alloc a = { wb_alloc, wb_free, &heap };
	struct jit_wasm_module *m;
	struct jit_wasm_name n;
	size_t at;

	/* (func (param i32) (result i32) (local i64 i64) local.get 0) */
	at = wb_func_module_with(&w, "i", "i", WB_BYTES(0x07, 0x05, 0x01, 0x01,
	    'f', 0x00, 0x00), WB_BYTES(0x01, 0x02, 0x7e, 0x20, 0x00, 0x0b));
	wb_section(&w, 0, WB_BYTES(0x04, 'n', 'a', 'm', 'e',
	    0x01, 0x06, 0x01, 0x00, 0x03, 'a', 'd', 'd',	/* function names */
	    0x02, 0x06, 0x01, 0x00, 0x01, 0x02, 0x01, 'x'));	/* local 2: x */
	cr_assert_eq(jit_wasm_decode(w.buf, w.len, &a, &m, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(m->nfuncs, 1);
	cr_expect_eq(m->funcs[0].body, w.buf + at);
	cr_expect_eq(m->funcs[0].body_len, 6);
	cr_expect_eq(m->funcs[0].code, w.buf + at + 3);
	cr_expect_eq(m->funcs[0].nlocals, 2);
	cr_expect_eq(m->funcs[0].max_operands, 1);
	cr_expect_eq(m->funcs[0].max_depth, 1);
	cr_expect_eq(m->nexports, 1);
	cr_expect_eq(m->exports[0].name.len, 1);
	cr_expect_eq(m->exports[0].name.ptr[0], 'f');
	n = jit_wasm_func_name(m, 0);
	cr_expect(n.len == 3 && !memcmp(n.ptr, "add", 3));
	n = jit_wasm_local_name(m, 0, 2);
	cr_expect(n.len == 1 && n.ptr[0] == 'x');
	cr_expect_eq(jit_wasm_local_name(m, 0, 1).len, 0);
	cr_expect_eq(m->nsections, 5);
	jit_wasm_free(m);
	cr_expect_eq(heap.live, 0);
}

Test(wasm_decode, segments_globals_and_start_are_represented)
{
	struct jit_wasm_alloc a = { wb_alloc, wb_free, &heap };
	struct jit_wasm_module *m;
	static const uint8_t sections[] = {
		0x04, 0x04, 0x01, 0x70, 0x00, 0x02,		/* table 2 funcref */
		0x05, 0x03, 0x01, 0x00, 0x01,			/* memory 1 */
		/* global (mut i64) (i64.const -2) */
		0x06, 0x06, 0x01, 0x7e, 0x01, 0x42, 0x7e, 0x0b,
		0x08, 0x01, 0x00,				/* start 0 */
		/* elem (table 0) (offset i32.const 1) funcref (ref.null) (ref.func 0) */
		0x09, 0x0e, 0x01, 0x06, 0x00, 0x41, 0x01, 0x0b, 0x70, 0x02,
		0xd0, 0x70, 0x0b, 0xd2, 0x00, 0x0b,
	};

	wb_header(&w);
	wb_type_section(&w, "", "");
	wb_section(&w, 3, WB_BYTES(0x01, 0x00));
	wb_bytes(&w, sections, sizeof(sections));
	wb_section(&w, 12, WB_BYTES(0x01));			/* data count 1 */
	wb_section(&w, 10, WB_BYTES(0x01, 0x02, 0x00, 0x0b));
	wb_section(&w, 11, WB_BYTES(0x01, 0x01, 0x03, 'a', 'b', 'c'));	/* passive */
	cr_assert_eq(jit_wasm_decode(w.buf, w.len, &a, &m, &err), 0, "%s @0x%x",
	    err.msg, err.offset);
	cr_expect_eq(m->ntables, 1);
	cr_expect_eq(m->tables[0].limits.min, 2);
	cr_expect_not(m->tables[0].limits.has_max);
	cr_expect_eq(m->nmemories, 1);
	cr_expect_eq(m->nglobals, 1);
	cr_expect(m->globals[0].mut);
	cr_expect_eq(m->globals[0].init.op, JIT_OP_I64_CONST);
	cr_expect_eq((int64_t)m->globals[0].init.bits[0], -2);
	cr_expect_eq(m->start, 0);
	cr_assert_eq(m->nelems, 1);
	cr_expect_eq(m->elems[0].mode, JIT_SEG_ACTIVE);
	cr_expect_eq(m->elems[0].offset.bits[0], 1);
	cr_assert_eq(m->elems[0].count, 2);
	cr_expect_eq(m->elems[0].items[0], JIT_ELEM_NULL);
	cr_expect_eq(m->elems[0].items[1], 0);
	cr_expect(m->has_data_count);
	cr_assert_eq(m->ndatas, 1);
	cr_expect_eq(m->datas[0].mode, JIT_SEG_PASSIVE);
	cr_expect(m->datas[0].len == 3 && !memcmp(m->datas[0].bytes, "abc", 3));
	jit_wasm_free(m);
	cr_expect_eq(heap.live, 0);
}

Test(wasm_decode, malformed_name_section_is_ignored)
{
	struct jit_wasm_alloc a = { wb_alloc, wb_free, &heap };
	struct jit_wasm_module *m;

	wb_func_module(&w, "", "", WB_BYTES(0x00, 0x0b));
	/* Function names for function 7 of 1, and a truncated entry. */
	wb_section(&w, 0, WB_BYTES(0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01,
	    0x07, 0x05, 'x'));
	cr_assert_eq(jit_wasm_decode(w.buf, w.len, &a, &m, &err), 0, "%s",
	    err.msg);
	cr_expect_null(m->func_names);
	cr_expect_eq(jit_wasm_func_name(m, 0).len, 0);
	jit_wasm_free(m);
	cr_expect_eq(heap.live, 0);
}

Test(wasm_decode, duplicate_export_names_are_invalid)
{
	wb_func_module_with(&w, "", "", WB_BYTES(0x07, 0x0b, 0x02,
	    0x02, 'a', 'b', 0x00, 0x00, 0x02, 'a', 'b', 0x00, 0x00),
	    WB_BYTES(0x00, 0x0b));
	cr_assert_eq(decode(), -K_EINVAL);
	cr_expect(strstr(err.msg, "duplicate export name"), "%s", err.msg);
	cr_expect_not(err.malformed);
}

Test(wasm_decode, duplicate_among_many_export_names_is_found)
{
	struct wb *sec = calloc(1, sizeof(*sec));
	char name[16];
	int n = 10000;

	wb_u32(sec, (uint32_t)n + 1);
	for (int i = 0; i <= n; i++) {
		/* The last one repeats name 4321. */
		int len = snprintf(name, sizeof(name), "e%d", i < n ? i : 4321);

		wb_u32(sec, (uint32_t)len);
		wb_bytes(sec, name, (size_t)len);
		wb_bytes(sec, WB_BYTES(0x00, 0x00));
	}
	wb_header(&w);
	wb_type_section(&w, "", "");
	wb_section(&w, 3, WB_BYTES(0x01, 0x00));
	wb_section(&w, 7, sec->buf, sec->len);
	wb_section(&w, 10, WB_BYTES(0x01, 0x02, 0x00, 0x0b));
	/* The repeated name, 13 bytes from the end (code section: 6). */
	expect_error(false, (uint32_t)(w.len - 6 - 2 - 5), "duplicate export name");
	free(sec);
}

Test(wasm_decode, malformed_body_after_invalid_one_is_reported_as_malformed)
{
	/* Function 0 is invalid (drop on an empty stack); function 1 has an
	 * illegal opcode, which the spec reports first. */
	wb_header(&w);
	wb_type_section(&w, "", "");
	wb_section(&w, 3, WB_BYTES(0x02, 0x00, 0x00));
	wb_section(&w, 10, WB_BYTES(0x02, 0x03, 0x00, 0x1a, 0x0b,
	    0x03, 0x00, 0xff, 0x0b));
	expect_error(true, (uint32_t)w.len - 2, "illegal opcode 0xff");
}
