/*
 * wasm.h - the WebAssembly 2.0 decoder and validator: the module the
 * compiler consumes, and the one call that builds it.
 *
 * jit_wasm_decode() reads a whole binary module in one pass and validates
 * it as it goes (WebAssembly 2.0 spec, chapters 3 and 5): a module it
 * returns is valid, and nothing is compiled or run before that.  Function
 * bodies are checked in place; the module keeps pointers into the caller's
 * bytes (names, bodies, data), so those bytes must outlive the module.
 *
 * Freestanding: memory comes from the caller's allocator (the kernel passes
 * kmalloc/kfree, host tools malloc/free), and the limits below bound every
 * allocation and every loop by the input's size before anything is
 * allocated for it.
 */
#ifndef K23_JIT_WASM_H
#define K23_JIT_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types, with their binary encodings (spec 5.3.1-5.3.3). */
enum jit_valtype {
	JIT_I32 = 0x7f,
	JIT_I64 = 0x7e,
	JIT_F32 = 0x7d,
	JIT_F64 = 0x7c,
	JIT_V128 = 0x7b,
	JIT_FUNCREF = 0x70,
	JIT_EXTERNREF = 0x6f,
};

/* Every instruction, from wasm_ops.def: JIT_OP_I32_ADD = 0x6a, ... */
enum jit_op {
#define OP(id, name, ...) JIT_OP_##name = (id),
#include "jit/wasm_ops.def"
#undef OP
	JIT_OP_LIMIT = 0x300,
};

/* The instruction's text name ("i32.add"), or NULL for an unknown id. */
const char *jit_op_name(unsigned id);

/* The text name of a value type ("i32", "funcref"); "?" if unknown. */
const char *jit_valtype_name(uint8_t type);

/*
 * Implementation limits.  A module past one is rejected as invalid with a
 * message naming the limit; the numbers follow what browsers accept, so
 * real programs fit, while a hostile module cannot make the decoder
 * allocate more than a small multiple of its own size.
 */
enum {
	JIT_WASM_MAX_MODULE_SIZE = 1024u << 20,	/* bytes */
	JIT_WASM_MAX_TYPES = 1000000,
	JIT_WASM_MAX_FUNCTIONS = 1000000,
	JIT_WASM_MAX_IMPORTS = 100000,
	JIT_WASM_MAX_EXPORTS = 100000,
	JIT_WASM_MAX_GLOBALS = 1000000,
	JIT_WASM_MAX_TABLES = 100000,
	JIT_WASM_MAX_ELEM_SEGMENTS = 10000000,
	JIT_WASM_MAX_DATA_SEGMENTS = 100000,
	JIT_WASM_MAX_PARAMS = 1000,
	JIT_WASM_MAX_RESULTS = 1000,
	JIT_WASM_MAX_LOCALS = 50000,		/* per function, params included */
	JIT_WASM_MAX_BODY_SIZE = 7654321,	/* bytes per function body */
	JIT_WASM_MAX_NESTING = 10000,		/* open blocks in one function */
	JIT_WASM_MAX_OPERANDS = 1 << 20,	/* operand stack slots */
	JIT_WASM_MAX_BR_TABLE = 1 << 20,	/* labels of one br_table */
	JIT_WASM_MAX_TABLE_SIZE = 10000000,	/* initial table elements */
	JIT_WASM_MAX_PAGES = 65536,		/* spec: 4 GiB of 64 KiB pages */
	JIT_WASM_HOT_LOCALS = 6,		/* jit_wasm_func.hot per class */
};

/* Memory for the decoder: alloc returns NULL on failure. */
struct jit_wasm_alloc {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
	void *ctx;
};

/*
 * Why a module was rejected.  malformed: the bytes are not a module in the
 * binary format (spec 5, "malformed"); otherwise it decodes but does not
 * validate ("invalid").  offset: the byte where the problem was found.
 */
struct jit_wasm_error {
	uint32_t offset;
	bool malformed;
	char msg[160];
};

/* A name: UTF-8 bytes inside the module, not NUL terminated. */
struct jit_wasm_name {
	const uint8_t *ptr;
	uint32_t len;
};

/* A function type: params then results in the module's type pool. */
struct jit_wasm_functype {
	const uint8_t *params;
	const uint8_t *results;
	uint32_t nparams;
	uint32_t nresults;
};

struct jit_wasm_limits {
	uint32_t min;
	uint32_t max;		/* UINT32_MAX when has_max is false */
	bool has_max;
};

/*
 * A constant expression (spec 3.3.10): one of t.const, ref.null, ref.func
 * or global.get of an imported immutable global.
 */
struct jit_wasm_const {
	uint16_t op;		/* JIT_OP_I32_CONST, ..., JIT_OP_GLOBAL_GET */
	uint8_t type;		/* its result type */
	uint32_t index;		/* ref.func / global.get index */
	uint64_t bits[2];	/* the value; v128 uses both words */
};

enum jit_extern_kind {
	JIT_EXTERN_FUNC = 0,
	JIT_EXTERN_TABLE = 1,
	JIT_EXTERN_MEMORY = 2,
	JIT_EXTERN_GLOBAL = 3,
};

struct jit_wasm_import {
	struct jit_wasm_name module, name;
	uint8_t kind;		/* enum jit_extern_kind */
	uint32_t index;		/* in the function/table/memory/global space */
};

struct jit_wasm_export {
	struct jit_wasm_name name;
	uint8_t kind;
	uint32_t index;
};

/*
 * A function.  Imports come first in the function index space and have no
 * body.  For a defined function, body/body_len is its code entry (local
 * declarations, then the instructions up to and including the final end)
 * and code is where the instructions start.  max_operands and max_depth are
 * the deepest operand and control stacks validation saw, so the compiler
 * can size its own stacks before it starts.
 */
struct jit_wasm_func {
	uint32_t type;
	bool imported;
	uint32_t nlocals;	/* declared locals, params not included */
	const uint8_t *body;
	uint32_t body_len;
	const uint8_t *code;
	uint32_t max_operands;
	uint32_t max_depth;
	/*
	 * What validation learned for the compiler: the busiest locals
	 * (params included) of each class, integers and references first,
	 * then floats, busiest first, a use inside n loops counting 8^n;
	 * and whether the body touches memory at all.
	 */
	uint32_t hot[2][JIT_WASM_HOT_LOCALS];
	uint8_t nhot[2];
	bool uses_memory;
};

struct jit_wasm_table {
	uint8_t elem;		/* JIT_FUNCREF or JIT_EXTERNREF */
	bool imported;
	struct jit_wasm_limits limits;
};

struct jit_wasm_memory {
	bool imported;
	struct jit_wasm_limits limits;	/* in 64 KiB pages */
};

struct jit_wasm_global {
	uint8_t type;
	bool mut;
	bool imported;
	struct jit_wasm_const init;	/* defined globals only */
};

enum jit_seg_mode {
	JIT_SEG_ACTIVE,
	JIT_SEG_PASSIVE,
	JIT_SEG_DECLARATIVE,	/* element segments only */
};

/* An element's entry in jit_wasm_elem.items. */
#define JIT_ELEM_NULL		UINT32_MAX	/* ref.null */
#define JIT_ELEM_GLOBAL		0x80000000u	/* | index: global.get index */

/*
 * An element segment.  items[i] is a function index, JIT_ELEM_NULL, or
 * JIT_ELEM_GLOBAL | a global index (function indices stay below 2^31 by
 * JIT_WASM_MAX_FUNCTIONS).
 */
struct jit_wasm_elem {
	uint8_t mode;		/* enum jit_seg_mode */
	uint8_t type;		/* JIT_FUNCREF or JIT_EXTERNREF */
	uint32_t table;		/* active only */
	struct jit_wasm_const offset;	/* active only */
	uint32_t count;
	uint32_t *items;
};

struct jit_wasm_data {
	uint8_t mode;		/* JIT_SEG_ACTIVE or JIT_SEG_PASSIVE */
	uint32_t memory;
	struct jit_wasm_const offset;	/* active only */
	const uint8_t *bytes;
	uint32_t len;
};

/* A section as it appears in the file, for `k23sim inspect`. */
struct jit_wasm_section {
	uint8_t id;		/* 0 custom, 1 type ... 12 data count */
	uint32_t offset;	/* of the id byte */
	uint32_t size;		/* of the contents */
	struct jit_wasm_name name;	/* custom sections */
};

/* A local's name from the name section. */
struct jit_wasm_local_name {
	uint32_t func;
	uint32_t local;
	struct jit_wasm_name name;
};

#define JIT_NO_START	UINT32_MAX

/* A decoded, valid module.  Index spaces hold imports first. */
struct jit_wasm_module {
	const uint8_t *bytes;
	uint32_t size;

	struct jit_wasm_functype *types;
	uint32_t ntypes;
	struct jit_wasm_import *imports;
	uint32_t nimports;
	struct jit_wasm_func *funcs;
	uint32_t nfuncs, nfunc_imports;
	struct jit_wasm_table *tables;
	uint32_t ntables, ntable_imports;
	struct jit_wasm_memory *memories;
	uint32_t nmemories, nmemory_imports;
	struct jit_wasm_global *globals;
	uint32_t nglobals, nglobal_imports;
	struct jit_wasm_export *exports;
	uint32_t nexports;
	uint32_t start;		/* JIT_NO_START if none */
	struct jit_wasm_elem *elems;
	uint32_t nelems;
	struct jit_wasm_data *datas;
	uint32_t ndatas;
	bool has_data_count;
	struct jit_wasm_section *sections;
	uint32_t nsections;
	uint64_t code_bytes;	/* sum of the function bodies */

	/* From the "name" custom section; empty if absent or malformed. */
	struct jit_wasm_name module_name;
	struct jit_wasm_name *func_names;	/* nfuncs entries, or NULL */
	struct jit_wasm_local_name *local_names;	/* by (func, local) */
	uint32_t nlocal_names;

	struct jit_wasm_alloc alloc;
	uint8_t *type_pool;	/* the value types of all function types */
	uint8_t *func_refs;	/* decoded lazily: the bitmap of functions
				 * declared for ref.func, which validating a
				 * body needs (else NULL) */
};

/*
 * Decode and validate the module in bytes[0..size).  On success returns 0
 * and sets *out (free it with jit_wasm_free); otherwise returns -K_EINVAL
 * with err filled in (or -K_ENOMEM if allocation failed, err says where),
 * and *out is NULL.  Uses only the memory alloc gives it, all of it freed
 * before an error return.
 */
int jit_wasm_decode(const uint8_t *bytes, size_t size,
		    const struct jit_wasm_alloc *alloc,
		    struct jit_wasm_module **out, struct jit_wasm_error *err);

/* Free a module from jit_wasm_decode; NULL is ignored. */
void jit_wasm_free(struct jit_wasm_module *m);

/* The function's name from the name section, or a zero-length name. */
struct jit_wasm_name jit_wasm_func_name(const struct jit_wasm_module *m,
					uint32_t func);

/* A name as text for messages: at most size - 1 bytes, anything but
 * printable ASCII as '?', NUL-terminated; returns buf. */
const char *jit_wasm_name_text(char *buf, size_t size, struct jit_wasm_name n);

/* How backtraces and profiles name a function: func[N], then its name and
 * the module's from the name section if any (func[3] parse in "lib").
 * Returns buf, NUL-terminated within size. */
const char *jit_wasm_func_label(const struct jit_wasm_module *m, uint32_t func,
				char *buf, size_t size);

/* A local's name from the name section, or a zero-length name. */
struct jit_wasm_name jit_wasm_local_name(const struct jit_wasm_module *m,
					 uint32_t func, uint32_t local);

#endif /* K23_JIT_WASM_H */
