/*
 * jit.h - running WebAssembly: compile a module, link it into a store,
 * instantiate it and call its functions.
 *
 * A module (jit_module) is a validated, compiled wasm binary: native code
 * that reaches everything of an instance through a context register, so
 * one module's code serves every instance of it.  A store (jit_store) is
 * one app: the address space its linear memories live in, the instances,
 * and the objects (functions, tables, memories, globals) they share
 * through imports and exports.  Instances of one store call each other
 * directly (a cross-module call is a native call with a context switch of
 * one register); host functions are C functions called the same way.
 *
 * Threads: a store runs on one task at a time (WebAssembly 2.0 has no
 * shared memory); different stores run on different tasks concurrently.
 * A module may be shared by stores on any task once compiled.
 *
 * Traps end the call with a trap code and a wasm backtrace; the store
 * stays usable (its state is whatever the trapping code left).
 *
 * Freestanding: kernel memory (kmalloc), frames and address spaces
 * (kernel/as.h), code memory (hal_code_*), tasks (sched/).
 */
#ifndef K23_JIT_JIT_H
#define K23_JIT_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jit/wasm.h"

struct jit_module;
struct jit_store;
struct jit_instance;
struct jit_func;
struct jit_table;
struct jit_memory;
struct jit_global;

/* -- Values -------------------------------------------------------------- */

/*
 * A value as host code sees it: the type (enum jit_valtype) and its bits.
 * i32 and f32 use the low 32 bits (floats as their IEEE bit patterns, so
 * NaN payloads survive); references are pointers (funcref: a struct
 * jit_func *, externref: the host's own pointer), 0 being null.
 */
struct jit_value {
	uint8_t type;
	uint64_t bits;
};

/* -- Traps --------------------------------------------------------------- */

/* Why wasm code stopped; messages are the spec test suite's. */
#define JIT_TRAPS(X)							\
	X(NONE,            "no trap")					\
	X(UNREACHABLE,     "unreachable")				\
	X(MEMORY_OOB,      "out of bounds memory access")		\
	X(TABLE_OOB,       "out of bounds table access")		\
	X(UNDEFINED_ELEM,  "undefined element")				\
	X(UNINIT_ELEM,     "uninitialized element")			\
	X(SIG_MISMATCH,    "indirect call type mismatch")		\
	X(DIV_ZERO,        "integer divide by zero")			\
	X(INT_OVERFLOW,    "integer overflow")				\
	X(BAD_CONVERSION,  "invalid conversion to integer")		\
	X(STACK_EXHAUSTED, "call stack exhausted")			\
	X(OUT_OF_MEMORY,   "out of memory")				\
	X(INTERRUPTED,     "interrupted")				\
	X(HOST,            "host function failed")			\
	X(EXIT,            "exit")

enum jit_trap {
#define X(name, msg) JIT_TRAP_##name,
	JIT_TRAPS(X)
#undef X
	JIT_TRAP_COUNT
};

const char *jit_trap_message(enum jit_trap code);

#define JIT_BACKTRACE_MAX 32

/* One wasm frame of a trap's backtrace, innermost first. */
struct jit_frame {
	const struct jit_module *module;
	uint32_t func;		/* index in the module's function space */
};

struct jit_trap_info {
	enum jit_trap code;
	int32_t host_status;	/* JIT_TRAP_HOST, JIT_TRAP_EXIT: what the host
				 * function said (EXIT: the app's exit code) */
	uint32_t nframes;	/* frames[] filled; more may have existed */
	struct jit_frame frames[JIT_BACKTRACE_MAX];
};

/*
 * Print a trap and its backtrace (function names from the name section,
 * else "func[N]") through the kernel's printf, one line per frame.
 */
void jit_trap_print(const struct jit_trap_info *trap);
/* The same text in buf (always NUL-terminated when size > 0); its full
 * length, which may exceed size. */
size_t jit_trap_text(const struct jit_trap_info *trap, char *buf, size_t size);

/* -- Modules ------------------------------------------------------------- */

struct jit_compile_opts {
	unsigned harts;		/* compile on this many harts at most; 0: all */
};

/*
 * Decode, validate and compile bytes[0..size).  The module keeps pointers
 * into bytes (names, data segments), which must outlive it.  0 and *out;
 * -K_EINVAL with err filled in for a malformed or invalid module; -K_ENOMEM.
 * Must run on a task (it spawns compile tasks and joins them).
 */
int jit_module_compile(const uint8_t *bytes, size_t size,
		       const struct jit_compile_opts *opts,
		       struct jit_module **out, struct jit_wasm_error *err);
void jit_module_free(struct jit_module *mod);

/* The decoded module (types, imports, exports, names). */
const struct jit_wasm_module *jit_module_wasm(const struct jit_module *mod);

/* The generated code: its bytes, for tests that compare compilations. */
const uint8_t *jit_module_code(const struct jit_module *mod, size_t *len);

/* -- Stores -------------------------------------------------------------- */

int jit_store_create(struct jit_store **out);
/* Free the store with every instance and object it holds; its modules are
 * the caller's. */
void jit_store_destroy(struct jit_store *store);

/*
 * How many bytes the store's memories may hold together (memory.grow
 * fails and jit_memory_new says -K_ENOMEM past it); by default the
 * machine's RAM, and at least 1 GiB.  Memories reserve address space and
 * get frames only when touched, so this bounds what a store may ask for.
 */
void jit_store_set_memory_budget(struct jit_store *store, uint64_t bytes);

/*
 * Ask code running in the store to stop: it traps with JIT_TRAP_INTERRUPTED
 * at its next loop back-edge or function entry.  From any task or from an
 * interrupt handler.  The flag stays set until jit_store_clear_interrupt().
 */
void jit_store_interrupt(struct jit_store *store);
void jit_store_clear_interrupt(struct jit_store *store);

/* -- Objects --------------------------------------------------------------- */

/* What an import or an export names. */
struct jit_extern {
	uint8_t kind;		/* enum jit_extern_kind */
	union {
		struct jit_func *func;
		struct jit_table *table;
		struct jit_memory *memory;
		struct jit_global *global;
	};
};

/*
 * A function type for host code: params then results, value type bytes.
 */
struct jit_sig {
	const uint8_t *params;
	const uint8_t *results;
	uint32_t nparams;
	uint32_t nresults;
};

/*
 * A host function, called by wasm exactly like a wasm function: the C
 * function fn is called as
 *
 *	R fn(void *ctx, struct jit_instance *caller, P1 a1, P2 a2, ...)
 *
 * with i32 as uint32_t, i64 as uint64_t, f32 as float, f64 as double and
 * references as pointers, returning its single result (or void).  A
 * function with more than one result takes a uint64_t *results after
 * caller instead, and writes each result's bits there.  A host function
 * ends the wasm call with jit_host_trap().
 */
int jit_func_new_host(struct jit_store *store, const struct jit_sig *sig,
		      void *fn, void *ctx, struct jit_func **out);

/*
 * Trap out of the wasm call that called this host function; status is
 * reported in jit_trap_info.host_status.  JIT_TRAP_EXIT ends the app
 * normally (WASI's proc_exit, status the exit code).
 * caller is the host function's caller argument (NULL when jit_call
 * called it directly).  The wasm backtrace is found through the host
 * function's frame pointer: build host functions that trap with
 * -fno-omit-frame-pointer, or it may miss the innermost wasm frame.
 */
_Noreturn void jit_host_trap(struct jit_instance *caller, enum jit_trap code,
			     int32_t status);

/* The calling instance's memory 0 for host functions: base and bytes;
 * NULL and 0 if it has none. */
uint8_t *jit_instance_memory(struct jit_instance *inst, uint64_t *size);

/* max_pages UINT32_MAX: no max (65536 pages, or the store's budget,
 * bound it).  -K_EINVAL for limits past 65536 pages or min > max;
 * -K_ENOMEM past the budget (jit_store_set_memory_budget). */
int jit_memory_new(struct jit_store *store, uint32_t min_pages,
		   uint32_t max_pages, struct jit_memory **out);
uint8_t *jit_memory_data(struct jit_memory *mem, uint64_t *size);
/* memory.grow: the old size in pages, or -1. */
int64_t jit_memory_grow(struct jit_memory *mem, uint32_t delta);

/* A table of funcref or externref, every element init (bits of a ref);
 * max UINT32_MAX: no max. */
int jit_table_new(struct jit_store *store, uint8_t elem, uint32_t min,
		  uint32_t max, uint64_t init, struct jit_table **out);
uint32_t jit_table_size(const struct jit_table *t);

int jit_global_new(struct jit_store *store, uint8_t type, bool mut,
		   struct jit_value init, struct jit_global **out);
struct jit_value jit_global_get(const struct jit_global *g);
/* Only a mutable global, with a value of its type (else the kernel panics). */
void jit_global_set(struct jit_global *g, struct jit_value v);

/* The function's type. */
struct jit_sig jit_func_sig(const struct jit_func *f);

/* -- Linking and instantiation ------------------------------------------- */

/*
 * Make ext importable as (module, name) in the store; names are copied.
 * -K_EEXIST if that pair is already defined.
 */
int jit_store_define(struct jit_store *store, const char *module,
		     const char *name, struct jit_extern ext);

/* Define every export of inst under module name `as` (spec "register"),
 * replacing what was defined under those names. */
int jit_store_register(struct jit_store *store, const char *as,
		       struct jit_instance *inst);

/* Why instantiation failed. */
struct jit_link_error {
	bool unlinkable;	/* an import was missing or did not match */
	struct jit_trap_info trap;	/* a trap (segments, start function) */
	char msg[160];
};

/*
 * Instantiate mod in the store: resolve its imports from what the store
 * defines, allocate its memory, tables and globals, initialise them from
 * the segments and run the start function.  0 and *out; -K_ENOENT or
 * -K_EINVAL when unlinkable; -K_EFAULT when a segment or the start
 * function trapped (the instance is then not returned, but what it wrote
 * into imported objects stays, as the spec says); -K_ENOMEM.  err may be NULL.
 */
int jit_instantiate(struct jit_store *store, const struct jit_module *mod,
		    struct jit_instance **out, struct jit_link_error *err);

/* An export by name: 0 and *out, or -K_ENOENT. */
int jit_instance_export(struct jit_instance *inst, const char *name,
			struct jit_extern *out);
/* The same for a name of len bytes, which may hold any byte (even NUL). */
int jit_instance_export_n(struct jit_instance *inst, const uint8_t *name,
			  size_t len, struct jit_extern *out);

/*
 * Call f with args (as many as its params, of its types) and store its
 * results in results (as many as its results).  0; -K_EINVAL for wrong
 * argument count or types; -K_EFAULT when the call trapped (trap filled in;
 * may be NULL).  From a task, for the store's task only.  Host functions
 * may call it again (calls nest; a trap ends the innermost).  Wasm code
 * may use the task's stack down to 32 KiB above its lowest address
 * (sched_stack_low(); jit/runtime.h's JIT_STACK_MARGIN keeps the rest for
 * C code) and traps with "call stack exhausted" past that: tasks running
 * wasm need stacks well above the 16 KiB default.
 */
int jit_call(struct jit_func *f, const struct jit_value *args, uint32_t nargs,
	     struct jit_value *results, uint32_t nresults,
	     struct jit_trap_info *trap);

#endif /* K23_JIT_JIT_H */
