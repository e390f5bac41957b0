/*
 * fuzz_wasm.c - libFuzzer target for the decoder and validator (`make
 * fuzz`): any input must be accepted or rejected with an error inside the
 * module, without a crash, a sanitizer report, a leak or a hang; and the
 * validator's fast path must agree with its reference path (every
 * instruction through step() alone) on the verdict, the error and the
 * stack depths it records.
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	return 0;
}
