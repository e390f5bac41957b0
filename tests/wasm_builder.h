/*
 * wasm_builder.h - for the decoder tests: build small binary modules byte
 * by byte, decode them through an allocator that counts, limits and can
 * fail on demand, and the state of a test file doing both (WB_SUITE).
 */
#ifndef K23_TESTS_WASM_BUILDER_H
#define K23_TESTS_WASM_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "jit/wasm.h"

struct wb {
	uint8_t buf[1 << 17];
	size_t len;
};

#define WB_BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ })

static inline void wb_bytes(struct wb *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->buf))
		abort();
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void wb_byte(struct wb *w, uint8_t b)
{
	wb_bytes(w, &b, 1);
}

static inline void wb_u32(struct wb *w, uint32_t v)
{
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		wb_byte(w, b | (v ? 0x80 : 0));
	} while (v);
}

static inline void wb_header(struct wb *w)
{
	wb_bytes(w, WB_BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
}

static inline void wb_section(struct wb *w, uint8_t id, const uint8_t *p,
			      size_t n)
{
	wb_byte(w, id);
	wb_u32(w, (uint32_t)n);
	wb_bytes(w, p, n);
}

/* "ilfdv" -> value type bytes, for function types. */
static inline uint8_t wb_type(char c)
{
	switch (c) {
	case 'i': return JIT_I32;
	case 'l': return JIT_I64;
	case 'f': return JIT_F32;
	case 'd': return JIT_F64;
	case 'v': return JIT_V128;
	case 'r': return JIT_FUNCREF;
	default: return JIT_EXTERNREF;
	}
}

/* A type section with one function type. */
static inline void wb_type_section(struct wb *w, const char *params,
				   const char *results)
{
	struct wb *s = calloc(1, sizeof(*s));

	wb_u32(s, 1);
	wb_byte(s, 0x60);
	wb_u32(s, (uint32_t)strlen(params));
	for (const char *c = params; *c; c++)
		wb_byte(s, wb_type(*c));
	wb_u32(s, (uint32_t)strlen(results));
	for (const char *c = results; *c; c++)
		wb_byte(s, wb_type(*c));
	wb_section(w, 1, s->buf, s->len);
	free(s);
}

/*
 * The whole module of one function of type params -> results whose code
 * entry (local declarations, instructions, final end) is body[0..n),
 * with `extra` sections (already encoded) between function and code.
 * Returns the offset of the body's first byte in the module.
 */
static inline size_t wb_func_module_with(struct wb *w, const char *params,
					 const char *results, const uint8_t *extra,
					 size_t nextra, const uint8_t *body,
					 size_t n)
{
	struct wb *s = calloc(1, sizeof(*s));
	size_t at;

	wb_header(w);
	wb_type_section(w, params, results);
	wb_section(w, 3, WB_BYTES(0x01, 0x00));
	wb_bytes(w, extra, nextra);
	wb_u32(s, 1);
	wb_u32(s, (uint32_t)n);
	at = s->len;
	wb_bytes(s, body, n);
	wb_byte(w, 10);
	wb_u32(w, (uint32_t)s->len);
	at += w->len;
	wb_bytes(w, s->buf, s->len);
	free(s);
	return at;
}

static inline size_t wb_func_module(struct wb *w, const char *params,
				    const char *results, const uint8_t *body,
				    size_t n)
{
	return wb_func_module_with(w, params, results, NULL, 0, body, n);
}

/*
 * The module of wb_func_module() for bodies of any size (struct wb holds
 * 128 KiB): malloc'd, its length in *len; the caller frees it.
 */
static inline uint8_t *wb_big_func_module(const char *params,
					  const char *results,
					  const uint8_t *body, size_t n,
					  size_t *len)
{
	struct wb *head = calloc(1, sizeof(*head));
	struct wb *sizes = calloc(1, sizeof(*sizes));
	uint8_t *mod;

	wb_header(head);
	wb_type_section(head, params, results);
	wb_section(head, 3, WB_BYTES(0x01, 0x00));
	/* Code section: one entry of n bytes, both sizes as LEB128. */
	wb_u32(sizes, 1);
	wb_u32(sizes, (uint32_t)n);
	wb_byte(head, 10);
	wb_u32(head, (uint32_t)(sizes->len + n));
	*len = head->len + sizes->len + n;
	if (!(mod = malloc(*len)))
		abort();
	memcpy(mod, head->buf, head->len);
	memcpy(mod + head->len, sizes->buf, sizes->len);
	memcpy(mod + head->len + sizes->len, body, n);
	free(head);
	free(sizes);
	return mod;
}

/* An allocator that counts, and fails from allocation number fail_at on. */
struct wb_heap {
	size_t live_bytes, peak_bytes;
	long live, calls, fail_at;	/* fail_at < 0: never */
};

static inline void *wb_alloc(void *ctx, size_t size)
{
	struct wb_heap *h = ctx;
	size_t *p;

	if (h->fail_at >= 0 && h->calls >= h->fail_at)
		return NULL;
	h->calls++;
	if (!(p = malloc(size + sizeof(size_t))))
		return NULL;
	*p = size;
	h->live++;
	h->live_bytes += size;
	if (h->live_bytes > h->peak_bytes)
		h->peak_bytes = h->live_bytes;
	return p + 1;
}

static inline void wb_free(void *ctx, void *q)
{
	struct wb_heap *h = ctx;
	size_t *p = (size_t *)q - 1;

	h->live--;
	h->live_bytes -= *p;
	free(p);
}

/* Decode w with a fresh counting heap; the module, if any, is freed. */
static inline int wb_decode(const struct wb *w, struct jit_wasm_error *err,
			    struct wb_heap *heap)
{
	struct jit_wasm_alloc a = { wb_alloc, wb_free, heap };
	struct jit_wasm_module *m;
	int rc = jit_wasm_decode(w->buf, w->len, &a, &m, err);

	jit_wasm_free(m);
	return rc;
}

/*
 * WB_SUITE(name): the Criterion suite `name` of a decoder test file, and
 * the file's state: the module being built (w), the decoder's verdict
 * (err) and a counting heap that never fails unless told (heap), all
 * cleared by reset() before each test and wherever a test starts afresh.
 */
#define WB_SUITE(name)							\
	static struct wb w;						\
	static struct jit_wasm_error err;				\
	static struct wb_heap heap;					\
									\
	static void reset(void)						\
	{								\
		memset(&w, 0, sizeof(w));				\
		memset(&err, 0, sizeof(err));				\
		memset(&heap, 0, sizeof(heap));				\
		heap.fail_at = -1;					\
	}								\
									\
	TestSuite(name, .init = reset)

#endif /* K23_TESTS_WASM_BUILDER_H */
