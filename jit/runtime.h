/*
 * runtime.h - what the files of the wasm runtime share (internal to jit/):
 * the store, the instance, the wrappers the store keeps its objects in,
 * and the entry records traps unwind to.
 *
 *   runtime.c   stores, definitions (imports), modules, interrupts
 *   objects.c   memories (address-space slots), tables, globals, host functions
 *   instance.c  the vmctx layout, instantiation, exports, segments
 *   bulk.c      the runtime calls of rt.h (bulk memory and table operations)
 *   call.c      jit_call, traps, the fault handler, backtraces, polls
 *   types.c     canonical signature ids and entry stubs
 *
 * Threads: a store is used by one task at a time (jit.h); nothing here
 * takes a lock but the type table (types.c), the module list (published
 * with release stores for the fault handler) and the interrupt flags
 * (atomics, set from any task).
 */
#ifndef K23_JIT_RUNTIME_H
#define K23_JIT_RUNTIME_H

#include <stdatomic.h>
#include "jit/module.h"
#include "kernel/as.h"

/*
 * Bytes of the task's stack kept from wasm code for the C code it calls
 * (host functions, runtime calls, a nested jit_call's own frames, trap
 * handling on platforms that take traps on the task's stack): the stack
 * limit compiled code checks is the stack's lowest address plus this.
 * A task running wasm needs a stack well above it (jit.h, jit_call).
 */
#define JIT_STACK_MARGIN	(32u << 10)

/* Default store memory budget when RAM is smaller: pages (1 GiB). */
#define JIT_BUDGET_MIN_PAGES	16384u

/* Most elements a table may grow to (80 MB of elements). */
#define JIT_TABLE_MAX_ELEMS	JIT_WASM_MAX_TABLE_SIZE

/*
 * A jit_call in progress, on its C stack: where a trap of code it runs
 * lands.  Innermost first in store->entries.
 */
struct jit_entry {
	void *jb[5];			/* __builtin_setjmp buffer */
	struct jit_entry *outer;
	uintptr_t stack_hi;		/* the wasm frames of this call lie below */
	struct jit_trap_info trap;	/* filled in by whoever traps */
};

/* A header of every object a store owns (store->objs). */
struct jit_obj {
	struct jit_obj *next;
	struct jit_store *store;
	uint8_t kind;			/* enum jit_extern_kind */
};

/* An address space of the store, holding memories in slots. */
struct jit_space {
	struct jit_space *next;
	struct as *as;
	uint32_t nslots;		/* JIT_MEMORY_RESERVE slots the window holds */
	uint32_t used;			/* slots handed out (never reused) */
};

struct jit_memory_obj {
	struct jit_obj obj;
	struct jit_memory mem;
	struct jit_space *space;
};

struct jit_table_obj {
	struct jit_obj obj;
	struct jit_table table;
};

struct jit_global_obj {
	struct jit_obj obj;
	struct jit_global global;
};

struct jit_host_func {
	struct jit_obj obj;
	struct jit_func func;
	uint8_t types[];		/* the signature's params then results */
};

/* A (module, name) the store defines: key holds both, not NUL terminated. */
struct jit_def {
	struct jit_def *next;		/* hash chain */
	uint32_t hash;
	uint32_t mlen, nlen;
	struct jit_extern ext;
	uint8_t key[];
};

/* A module with code in the store (its instances' code), for pc lookups. */
struct jit_modref {
	struct jit_modref *next;
	const struct jit_module *mod;
};

struct jit_store {
	struct jit_hot hot;		/* every instance's vmctx->hot */
	atomic_bool interrupted;	/* jit_store_interrupt() */
	struct jit_entry *entries;	/* jit_calls in progress, innermost first */

	struct jit_space *spaces;
	uint64_t budget_pages;		/* memories' pages, all together, at most */
	uint64_t pages;			/* memories' pages now */

	struct jit_modref *_Atomic modules;	/* read by the fault handler */
	struct jit_instance *instances;
	struct jit_obj *objs;

	struct jit_def **defs;		/* hash table, defs_cap buckets (power of 2) */
	uint32_t ndefs, defs_cap;
};

/*
 * An instance.  The vmctx is its first member, so the caller vmctx a host
 * function receives (rt.h) is the struct jit_instance * of jit.h; the
 * vmctx's arrays follow this struct (jit_layout_of).
 */
struct jit_instance {
	struct jit_vmctx vm;		/* first (see above) */
	struct jit_store *store;
	const struct jit_module *mod;
	const struct jit_wasm_module *wasm;
	struct jit_instance *next;	/* store->instances */
	struct jit_func *defined;	/* the module's own functions */
	struct jit_memory *memory;	/* memory 0 (WebAssembly 2.0 has one) */
	uint8_t *dropped;		/* bits: element segments, then data segments */
	/* followed by the vmctx arrays */
};

/* -- The vmctx arrays ------------------------------------------------------ */

static inline struct jit_func **jit_inst_funcs(struct jit_instance *inst)
{
	return (struct jit_func **)((char *)inst + inst->mod->layout.funcs);
}

static inline struct jit_import *jit_inst_imports(struct jit_instance *inst)
{
	return (struct jit_import *)((char *)inst + inst->mod->layout.imports);
}

static inline struct jit_table **jit_inst_tables(struct jit_instance *inst)
{
	return (struct jit_table **)((char *)inst + inst->mod->layout.tables);
}

/* Each global's cell; a cell is the first member of its struct jit_global. */
static inline struct jit_global **jit_inst_globals(struct jit_instance *inst)
{
	return (struct jit_global **)((char *)inst + inst->mod->layout.globals);
}

static inline uint64_t *jit_inst_type_ids(struct jit_instance *inst)
{
	return (uint64_t *)((char *)inst + inst->mod->layout.type_ids);
}

static inline struct jit_instance *jit_vm_inst(struct jit_vmctx *vm)
{
	return (struct jit_instance *)vm;
}

/* A module type as a struct jit_sig. */
static inline struct jit_sig jit_sig_of(const struct jit_wasm_functype *ft)
{
	return (struct jit_sig){ ft->params, ft->results, ft->nparams, ft->nresults };
}

/* -- Across the runtime's files -------------------------------------------- */

/* runtime.c: the object ext names belongs to this store. */
bool jit_store_owns(const struct jit_store *store, const struct jit_extern *ext);
/* runtime.c: the definition of (module, name), or NULL. */
const struct jit_extern *jit_store_lookup(const struct jit_store *store,
					  const uint8_t *module, uint32_t mlen,
					  const uint8_t *name, uint32_t nlen);
/* runtime.c: record that mod's code runs in the store (idempotent). */
int jit_store_add_module(struct jit_store *store, const struct jit_module *mod);
/* runtime.c: the module of the store whose code holds pc, or NULL; its
 * function in *func. */
const struct jit_module *jit_store_code_at(const struct jit_store *store,
					   uintptr_t pc, uint32_t *func);

/* instance.c: the extern export i of the instance names. */
int jit_instance_export_at(struct jit_instance *inst, uint32_t i, struct jit_extern *out);

/* objects.c: link a new object into the store. */
void jit_store_own(struct jit_store *store, struct jit_obj *obj, uint8_t kind);
/* objects.c: is the guest address inside one of the store's memories
 * (below its size, a page the memory holds)? */
bool jit_store_in_memory(const struct jit_store *store, uint64_t va);
/* objects.c: free every object and address space of the store. */
void jit_store_free_objects(struct jit_store *store);
/* objects.c: grow a table by delta elements set to init; the old size, or
 * -1 past its max, the implementation limit or memory. */
int64_t jit_table_grow(struct jit_table *t, uint32_t delta, uint64_t init);

/* call.c: the store's fault handler (as_set_fault_handler). */
bool jit_store_fault(struct as *as, struct trap_frame *tf, void *arg);

/* instance.c: the reference item i of element segment seg evaluates to. */
uint64_t jit_elem_ref(struct jit_instance *inst, const struct jit_wasm_elem *seg,
		      uint32_t i);
/* instance.c: is element segment i / data segment i dropped? */
bool jit_elem_dropped(const struct jit_instance *inst, uint32_t i);
bool jit_data_dropped(const struct jit_instance *inst, uint32_t i);
void jit_elem_drop(struct jit_instance *inst, uint32_t i);
void jit_data_drop(struct jit_instance *inst, uint32_t i);

/* bulk.c: table.init and memory.init with the spec's checks: 0 or a trap
 * code; nothing is written unless all of it is in bounds. */
uint32_t jit_table_init(struct jit_instance *inst, uint32_t table, uint32_t seg,
			uint32_t dst, uint32_t src, uint32_t n);
uint32_t jit_memory_init(struct jit_instance *inst, uint32_t seg, uint32_t dst,
			 uint32_t src, uint32_t n);

#endif /* K23_JIT_RUNTIME_H */
