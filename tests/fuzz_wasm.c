/*
 * fuzz_wasm.c - libFuzzer target for the decoder and validator (`make
 * fuzz`): any input must be accepted or rejected with an error inside the
 * module, without a crash, a sanitizer report, a leak or a hang; and the
 * validator's fast path must agree with its reference path (every
 * instruction through step() alone) on the verdict, the error and the
 * stack depths it records.
 *
 * An input is a module when its first byte is 0, as a module's is.  Any
 * other input is a recipe for one (recipe() below) whose counts can be
 * huge: br_table labels, locals, nested blocks, operands, params.  Those
 * are where the two paths part ways if a limit is checked on one only,
 * and random bytes alone never spell out a million labels.  A custom
 * mutator writes fresh recipes now and then (LLVMFuzzerCustomMutator()).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit/wasm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *fuzz_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void fuzz_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static const struct jit_wasm_alloc host = { fuzz_alloc, fuzz_free, NULL };

/* -- Recipes ---------------------------------------------------------- */

/*
 * Bodies stop growing here: past JIT_WASM_MAX_BODY_SIZE, so that bodies
 * over the limit are made too, and small enough that a run stays well
 * under a second.
 */
#define RECIPE_MAX	(8u << 20)

#define BYTES(...)	(const uint8_t[]){ __VA_ARGS__ },		\
			sizeof((const uint8_t[]){ __VA_ARGS__ })

/* A growing byte buffer. */
struct out {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct out *o, const uint8_t *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;

		while (cap < o->len + n)
			cap *= 2;
		if (!(o->p = realloc(o->p, cap)))
			abort();
		o->cap = cap;
	}
	if (n)
		memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void put_byte(struct out *o, uint8_t b)
{
	put(o, &b, 1);
}

static size_t leb_len(size_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

static void put_u32(struct out *o, uint32_t v)
{
	do {
		put_byte(o, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void put_section(struct out *o, uint8_t id, const uint8_t *p,
			size_t n)
{
	put_byte(o, id);
	put_u32(o, (uint32_t)n);
	put(o, p, n);
}

/* The recipe's bytes; reading past the end gives zeros. */
struct in {
	const uint8_t *p, *end;
};

static uint8_t next(struct in *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

/*
 * Counts that matter: the limits of jit/wasm.h, the powers of two the
 * validator's stacks grow through, LEB128 length boundaries, 2^32 - 1.
 */
static const uint32_t counts[] = {
	0, 127, 128, 16383, 16384, (1u << 21) - 1,
	256, 512, 1024, 2048, 4096, 8192, 1u << 15, 1u << 16,
	1u << 17, 1u << 18, 1u << 19,
	JIT_WASM_MAX_PARAMS, JIT_WASM_MAX_RESULTS, JIT_WASM_MAX_LOCALS,
	JIT_WASM_MAX_NESTING, JIT_WASM_MAX_OPERANDS,
	JIT_WASM_MAX_BR_TABLE, JIT_WASM_MAX_BODY_SIZE, UINT32_MAX,
};
#define NCOUNTS	(sizeof(counts) / sizeof(counts[0]))

/* One of counts[] plus a signed byte, so both sides of each are reached. */
static uint32_t count(struct in *r)
{
	int64_t n = counts[next(r) % NCOUNTS] + (int8_t)next(r);

	return n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* A value type from a byte. */
static uint8_t valtype(struct in *r)
{
	static const uint8_t types[] = {
		JIT_I32, JIT_I64, JIT_F32, JIT_F64, JIT_V128, JIT_FUNCREF,
		JIT_EXTERNREF,
	};

	return types[next(r) % sizeof(types)];
}

/*
 * A small count from a byte below 0xf0, a count() after one above: most
 * random bytes give few params or locals, and some give a great many.
 */
static uint32_t small_or_huge(struct in *r)
{
	uint8_t b = next(r);

	return b < 0xf0 ? b % 4 : count(r);
}

/*
 * n value types, all of one read from the recipe; n is cut to a little
 * over JIT_WASM_MAX_PARAMS, as more only makes the type section longer.
 */
static void put_types(struct out *o, struct in *r, uint32_t n)
{
	uint8_t t = valtype(r);

	n %= JIT_WASM_MAX_PARAMS + 32;
	put_u32(o, n);
	for (uint32_t i = 0; i < n; i++)
		put_byte(o, t);
}

/*
 * Instructions from the recipe's commands r[0..end) (put_body()).  The
 * commands:
 *   0xf0 k c  the next k bytes (1 to 16), count() c times
 *   0xf1 c l  i32.const 0, then a br_table of count() labels l (l from
 *             small_or_huge()), the default l too
 *   0xf2 c k  count() blocks around the next k bytes' commands (k < 16)
 *   0xf3 c    count() as a LEB128 u32 (a count where the recipe wants it)
 *   0xf4 b    the byte b, for the above, which are no opcodes
 *   other     that byte
 */
static void put_code(struct out *o, struct in *r)
{
	const uint8_t *bytes;
	uint32_t n, k, l;

	while (r->p < r->end && o->len < RECIPE_MAX) {
		uint8_t b = next(r);

		switch (b) {
		case 0xf0:
			k = next(r) % 16 + 1;
			bytes = r->p;
			k = (uint32_t)(r->end - r->p) < k ?
			    (uint32_t)(r->end - r->p) : k;
			r->p += k;
			for (n = count(r); n && k && o->len < RECIPE_MAX; n--)
				put(o, bytes, k);
			break;
		case 0xf1:
			n = count(r);
			l = small_or_huge(r);
			put(o, BYTES(0x41, 0x00, 0x0e));
			put_u32(o, n);
			for (; n && o->len < RECIPE_MAX; n--)
				put_u32(o, l);
			put_u32(o, l);
			break;
		case 0xf2: {
			struct in inner;

			n = count(r);
			k = next(r) % 16;
			inner.p = r->p;
			inner.end = (uint32_t)(r->end - r->p) < k ? r->end :
			    r->p + k;
			r->p = inner.end;
			for (uint32_t i = 0; i < n && o->len < RECIPE_MAX; i++)
				put(o, BYTES(0x02, 0x40));
			put_code(o, &inner);
			for (; n && o->len < RECIPE_MAX; n--)
				put_byte(o, 0x0b);
			break;
		}
		case 0xf3:
			put_u32(o, count(r));
			break;
		case 0xf4:
			put_byte(o, next(r));
			break;
		default:
			put_byte(o, b);
			break;
		}
	}
}

/*
 * The function's body: local groups from the recipe, its commands, and
 * an end, so that a balanced body is complete.
 */
static void put_body(struct out *o, struct in *r)
{
	uint32_t groups = next(r) % 4;

	put_u32(o, groups);
	for (uint32_t i = 0; i < groups; i++) {
		put_u32(o, small_or_huge(r));
		put_byte(o, valtype(r));
	}
	put_code(o, r);
	put_byte(o, 0x0b);
}

/*
 * The module a recipe describes: type 0 is the function's own, from the
 * recipe (params and results, possibly over their limits); types 1 and 2,
 * [i32] -> [i32] and [] -> [i32 i64], serve as block types; a funcref
 * table, a memory, a mutable i32 global, an i64 constant global and one
 * passive data segment give the other instructions something to use.
 */
static void recipe(struct out *o, const uint8_t *data, size_t size)
{
	struct in r = { data + 1, data + size };
	struct out s = { 0 };

	put(o, BYTES(0x00, 'a', 's', 'm', 1, 0, 0, 0));
	put(&s, BYTES(3, 0x60));
	put_types(&s, &r, small_or_huge(&r));
	put_types(&s, &r, small_or_huge(&r));
	put(&s, BYTES(0x60, 1, JIT_I32, 1, JIT_I32, 0x60, 0, 2, JIT_I32,
	    JIT_I64));
	put_section(o, 1, s.p, s.len);
	put_section(o, 3, BYTES(1, 0));
	put_section(o, 4, BYTES(1, JIT_FUNCREF, 0, 1));
	put_section(o, 5, BYTES(1, 0, 1));
	put_section(o, 6, BYTES(2, JIT_I32, 1, 0x41, 0, 0x0b,
	    JIT_I64, 0, 0x42, 0, 0x0b));
	put_section(o, 12, BYTES(1));
	s.len = 0;
	put_body(&s, &r);
	put_byte(o, 10);
	put_u32(o, (uint32_t)(1 + leb_len(s.len) + s.len));
	put_byte(o, 1);
	put_u32(o, (uint32_t)s.len);
	put(o, s.p, s.len);
	put_section(o, 11, BYTES(1, 1, 0));
	free(s.p);
}

/* -- Fresh recipes ---------------------------------------------------- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);

/* xorshift32: a number in [0, n). */
static uint32_t rnd(uint32_t *state, uint32_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state % n;
}

/* count()'s bytes: one of counts[] give or take two. */
static void write_count(struct out *o, uint32_t *g)
{
	put_byte(o, (uint8_t)rnd(g, NCOUNTS));
	put_byte(o, (uint8_t)(rnd(g, 5) - 2));
}

/* small_or_huge()'s bytes: 0 to 3, or one time in four a count(). */
static void write_small_or_huge(struct out *o, uint32_t *g)
{
	if (rnd(g, 4)) {
		put_byte(o, (uint8_t)rnd(g, 4));
		return;
	}
	put_byte(o, 0xf0);
	write_count(o, g);
}

/* A command of put_code() that piles something up to near a limit. */
static void write_command(struct out *o, uint32_t *g, bool nested)
{
	static const uint8_t pieces[][2] = {
		{ 0x41, 0x00 },		/* i32.const 0 */
		{ 0x20, 0x00 },		/* local.get 0 */
		{ 0x02, 0x40 },		/* block */
		{ 0x0b, 0x01 },		/* end, nop */
		{ 0x1a, 0x01 },		/* drop, nop */
	};
	size_t at;

	switch (rnd(g, nested ? 3 : 4)) {
	case 0:		/* a br_table with code after it */
		put_byte(o, 0xf1);
		write_count(o, g);
		write_small_or_huge(o, g);
		put_byte(o, 0x01);
		break;
	case 1:		/* a piece many times; unreachable forgets the rest */
		put(o, BYTES(0xf0, 1));
		put(o, pieces[rnd(g, sizeof(pieces) / sizeof(pieces[0]))], 2);
		write_count(o, g);
		put_byte(o, 0x00);
		break;
	case 2:		/* one piece */
		put(o, pieces[rnd(g, sizeof(pieces) / sizeof(pieces[0]))], 2);
		break;
	default:	/* blocks around another command (under 16 bytes) */
		put_byte(o, 0xf2);
		write_count(o, g);
		at = o->len;
		put_byte(o, 0);
		write_command(o, g, true);
		o->p[at] = (uint8_t)(o->len - at - 1);
		break;
	}
}

/*
 * One mutation in eight writes a fresh recipe instead: the corpus starts
 * as the spec suite's modules, whose first byte a mutation rarely
 * touches, and a recipe that reaches a limit with the rest of the body
 * valid is a shape random bytes seldom take.  Mutations then vary it.
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	uint32_t g = seed | 1, n;
	struct out o = { 0 };

	if (rnd(&g, 8))
		return LLVMFuzzerMutate(data, size, max_size);
	put_byte(&o, 1);
	write_small_or_huge(&o, &g);		/* params */
	put_byte(&o, (uint8_t)rnd(&g, 256));
	if (rnd(&g, 2))				/* results: none, mostly */
		write_small_or_huge(&o, &g);
	else
		put_byte(&o, 0);
	put_byte(&o, (uint8_t)rnd(&g, 256));
	n = rnd(&g, 4);				/* local groups */
	put_byte(&o, (uint8_t)n);
	while (n--) {
		write_small_or_huge(&o, &g);
		put_byte(&o, (uint8_t)rnd(&g, 256));
	}
	for (n = 1 + rnd(&g, 3); n; n--)
		write_command(&o, &g, false);
	n = o.len < max_size ? (uint32_t)o.len : (uint32_t)max_size;
	memcpy(data, o.p, n);
	free(o.p);
	return n;
}

/* -- The target ------------------------------------------------------- */

static void check_module(const struct jit_wasm_module *m, const uint8_t *data,
			 size_t size)
{
	if (m->size != size || (m->nfuncs && !m->funcs))
		abort();
	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
		if (m->funcs[i].body < data ||
		    m->funcs[i].body + m->funcs[i].body_len > data + size ||
		    m->funcs[i].code < m->funcs[i].body ||
		    !m->funcs[i].max_depth)
			abort();
}

static void check(const uint8_t *data, size_t size)
{
	struct jit_wasm_module *fast, *ref;
	struct jit_wasm_error ef, er;
	int rf = jit_wasm_decode_with(data, size, &host, &fast, &ef, false);
	int rr = jit_wasm_decode_with(data, size, &host, &ref, &er, true);

	if (rf != rr)
		abort();
	if (rf == 0) {
		check_module(fast, data, size);
		for (uint32_t i = fast->nfunc_imports; i < fast->nfuncs; i++) {
			const struct jit_wasm_func *f = &fast->funcs[i];
			const struct jit_wasm_func *g = &ref->funcs[i];

			if (f->max_operands != g->max_operands ||
			    f->max_depth != g->max_depth)
				abort();
		}
	} else if (fast || ref || ef.offset > size || !ef.msg[0] ||
		   !memchr(ef.msg, 0, sizeof(ef.msg)) ||
		   ef.offset != er.offset || ef.malformed != er.malformed ||
		   strcmp(ef.msg, er.msg)) {
		abort();
	}
	jit_wasm_free(fast);
	jit_wasm_free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out module = { 0 };

	if (!size || !data[0]) {
		check(data, size);
		return 0;
	}
	recipe(&module, data, size);
	check(module.p, module.len);
	free(module.p);
	return 0;
}
