/*
 * rt.h - what compiled code and the runtime share: the objects of a store
 * as compiled code reads them, the instance context (vmctx) with its
 * layout, the calling convention, and the runtime calls compiled code
 * makes.  Internal to jit/.
 *
 * The calling convention (every wasm function, host function and runtime
 * call; on x86-64 it is the SysV ABI's, so host functions are plain C):
 *   arg 0          the callee's context: its vmctx, or a host function's ctx
 *   arg 1          the caller's vmctx (host functions read memory through it;
 *                  a direct call within a module, whose callee is wasm and
 *                  ignores it, leaves it unset)
 *   arg 2          only for functions with more than one result: where the
 *                  callee stores its results, 8 bytes each
 *   then           the wasm parameters, integers and references in the
 *                  integer argument registers left, floats in the float
 *                  ones, the rest on the stack (8 bytes each, in order)
 *   result         one result in the first integer or float return
 *                  register; more: through arg 2
 * A host function's caller argument (jit.h: struct jit_instance *) is
 * this caller's vmctx: the vmctx is the first member of the instance.
 * Inside a wasm function two callee-saved registers hold the vmctx and
 * memory 0's base for the whole body (jit/emit.h names them per target).
 */
#ifndef K23_JIT_RT_H
#define K23_JIT_RT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "jit/jit.h"

#define JIT_PAGE_SIZE		65536u
/*
 * Address space reserved for each linear memory: the 4 GiB index space, and
 * as much again so that index + offset (both u32) of any access lands in
 * the reservation; everything past the memory's size is left unmapped, so
 * the MMU does the bounds checks.
 */
#define JIT_MEMORY_RESERVE	(8ull << 30)

/* -- Objects compiled code reads ------------------------------------------ */

/* A function: what call_indirect, call_ref and imports call. */
struct jit_func {
	void *code;			/* native entry point */
	void *ctx;			/* arg 0: the owner's vmctx, or host ctx */
	uint32_t type_id;		/* canonical signature (jit_types_intern) */
	uint32_t index;			/* in the owner's function space */
	struct jit_instance *inst;	/* owner; NULL for a host function */
	struct jit_sig sig;
};

struct jit_table {
	uint64_t *elems;		/* funcref: struct jit_func *; externref: bits */
	uint32_t size;
	uint32_t max;			/* UINT32_MAX: none */
	uint8_t elem;			/* JIT_FUNCREF or JIT_EXTERNREF */
	uint32_t cap;			/* elems allocated */
};

struct jit_memory {
	uint8_t *base;			/* kernel address of byte 0 */
	uint64_t size;			/* bytes mapped: pages * JIT_PAGE_SIZE */
	uint32_t pages;
	uint32_t max;			/* in pages; UINT32_MAX: none */
	struct jit_store *store;
	uint64_t va;			/* guest address of byte 0 in the store's space */
};

struct jit_global {
	uint64_t bits;			/* first: compiled code addresses the cell */
	uint8_t type;
	bool mut;
};

/*
 * Per store, for every instance's code: the stack bound checked at each
 * function entry and the flag polled at entries and loop back-edges.
 */
struct jit_hot {
	uintptr_t stack_limit;		/* lowest stack pointer wasm may use */
	atomic_uchar poll;		/* nonzero: call jit_rt_poll(); the
					 * task's yield flag (sched) */
};

/*
 * An instance's context, the vmctx register's target.  A fixed header,
 * then arrays whose offsets depend on the module (struct jit_layout).
 * The header is the first member of the runtime's struct jit_instance,
 * whose own fields come next, so the arrays start at
 * sizeof(struct jit_instance), not right after the header.
 */
struct jit_vmctx {
	uint8_t *mem_base;		/* memory 0's base, or NULL */
	struct jit_hot *hot;
	struct jit_memory *mem;		/* memory 0, or NULL */
	struct jit_instance *inst;
	/* followed by the arrays of struct jit_layout */
};

/*
 * An imported function as a call to it reads it: the two words the call
 * needs in the caller's vmctx, so that it loads neither through the
 * function's struct jit_func first (a dependent load on every call).
 */
struct jit_import {
	void *code;
	void *ctx;
};

/* Offsets from the vmctx of its arrays, in this order; they depend only on
 * the module's counts (jit_layout_of). */
struct jit_layout {
	uint32_t funcs;			/* struct jit_func *[nfuncs] */
	uint32_t imports;		/* struct jit_import [nfunc_imports] */
	uint32_t tables;		/* struct jit_table *[ntables] */
	uint32_t globals;		/* uint64_t *[nglobals]: each global's cell */
	uint32_t type_ids;		/* uint64_t [ntypes]: canonical ids */
	uint32_t size;			/* bytes of the whole vmctx */
};

void jit_layout_of(const struct jit_wasm_module *m, struct jit_layout *l);

/*
 * Canonical signature ids: equal types get equal ids in every module of
 * every store (call_indirect compares them).  0 and *id, or -K_ENOMEM.
 */
int jit_types_intern(const struct jit_sig *sig, uint32_t *id);

/* -- Runtime calls from compiled code ------------------------------------- */

/*
 * Each takes the calling instance's vmctx first.  Those returning uint32_t
 * status return 0 or the enum jit_trap code to trap with; compiled code
 * then traps itself (jit_rt_trap), so no C frame is ever unwound.
 */

/*
 * Trap: end the innermost jit_call of the store with code.  fp and pc are
 * the trapping wasm function's frame pointer and a pc inside it, where the
 * backtrace starts (each wasm frame holds the caller's frame pointer at
 * fp[0] and the return address at fp[1]).
 */
_Noreturn void jit_rt_trap(struct jit_vmctx *vm, uint32_t code, uintptr_t fp,
			   uintptr_t pc);
/* The poll flag was set: trap if interrupted, else yield the hart. */
uint32_t jit_rt_poll(struct jit_vmctx *vm);
/* memory.grow: the old size in pages, or -1 (as uint32_t). */
uint32_t jit_rt_memory_grow(struct jit_vmctx *vm, uint32_t delta);
uint32_t jit_rt_memory_fill(struct jit_vmctx *vm, uint32_t dst, uint32_t val, uint32_t n);
uint32_t jit_rt_memory_copy(struct jit_vmctx *vm, uint32_t dst, uint32_t src, uint32_t n);
uint32_t jit_rt_memory_init(struct jit_vmctx *vm, uint32_t seg, uint32_t dst,
			    uint32_t src, uint32_t n);
void jit_rt_data_drop(struct jit_vmctx *vm, uint32_t seg);
/* table.get/set: status; get stores the element at *out. */
uint32_t jit_rt_table_get(struct jit_vmctx *vm, uint32_t table, uint32_t i, uint64_t *out);
uint32_t jit_rt_table_set(struct jit_vmctx *vm, uint32_t table, uint32_t i, uint64_t val);
/* table.grow: the old size, or -1 (as uint32_t). */
uint32_t jit_rt_table_grow(struct jit_vmctx *vm, uint32_t table, uint64_t init, uint32_t delta);
uint32_t jit_rt_table_fill(struct jit_vmctx *vm, uint32_t table, uint32_t dst, uint64_t val,
			   uint32_t n);
uint32_t jit_rt_table_copy(struct jit_vmctx *vm, uint32_t dst_table, uint32_t src_table,
			   uint32_t dst, uint32_t src, uint32_t n);
uint32_t jit_rt_table_init(struct jit_vmctx *vm, uint32_t table, uint32_t seg,
			   uint32_t dst, uint32_t src, uint32_t n);
void jit_rt_elem_drop(struct jit_vmctx *vm, uint32_t seg);

#endif /* K23_JIT_RT_H */
