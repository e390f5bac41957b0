/*
 * module.h - a compiled module as the runtime sees it (internal to jit/):
 * the decoded module, the vmctx layout its code was compiled against, and
 * the code with each defined function's entry.
 */
#ifndef K23_JIT_MODULE_H
#define K23_JIT_MODULE_H

#include "jit/rt.h"

struct jit_module {
	struct jit_wasm_module *wasm;
	struct jit_layout layout;
	uint8_t *code;			/* hal_code_alloc'd, sealed */
	size_t code_len;		/* bytes written */
	size_t code_alloc;		/* bytes allocated */
	/* Per defined function (index - nfunc_imports): its entry's offset in
	 * code.  Functions are laid out in index order, so this is sorted and
	 * a function ends where the next begins (or at code_len). */
	uint32_t *func_offsets;
	uint32_t ndefined;
};

/*
 * The function whose code holds pc, as an index in mod's function space,
 * or -1 if pc is outside mod's code.
 */
int64_t jit_module_func_at(const struct jit_module *mod, uintptr_t pc);

/*
 * jit_module_free (jit.h) releases what jit_module_compile made: code
 * with hal_code_free(code, code_alloc) if not NULL, func_offsets with
 * kfree, wasm with jit_wasm_free, the struct with kfree.  NULL is ignored.
 */

/*
 * An entry stub for functions of type sig, callable from C as
 *
 *	void stub(void *code, void *ctx, struct jit_vmctx *caller, uint64_t *vals)
 *
 * It calls code with ctx and caller as args 0 and 1 (rt.h's convention),
 * the parameters taken from vals[0..nparams), and stores the results in
 * vals[0..nresults) (i32/f32 in the low 32 bits).  Stubs are made once per
 * canonical type and kept (jit_types_stub).
 */
typedef void (*jit_entry_stub)(void *code, void *ctx, struct jit_vmctx *caller,
			       uint64_t *vals);

/* The stub for canonical type id, made on first use; NULL if out of memory. */
jit_entry_stub jit_types_stub(uint32_t id);

/* The decoder's allocator over the kernel heap (jit/codegen.c). */
extern const struct jit_wasm_alloc jit_kernel_heap;

#endif /* K23_JIT_MODULE_H */
