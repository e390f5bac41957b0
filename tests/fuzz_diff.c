/*
 * fuzz_diff.c - one side of the differential fuzzer (tests/fuzz_diff.sh):
 * run a module through k23sim's JIT and print what it did, in the format
 * that tests/fuzz_diff.mjs prints for V8, so that the two outputs can be
 * compared line by line.
 *
 *	fuzz_diff [-v] MODULE.wasm
 *
 * -v only says whether the module is valid ("valid", "invalid").
 *
 * Imports (binaryen's translate-to-fuzz and tests/fuzz_gen.mjs use them),
 * all of module "fuzzing-support" but globals:
 *  - log-i32, log-i64, log-f32, log-f64: print their argument;
 *  - call-export (i32 index, i32 flags): call the index-th exported
 *    function as below, passing its trap on; call-export-catch (i32 index)
 *    -> i32: the same, 1 if it trapped, else 0 (an index past the exports
 *    traps "unreachable");
 *  - call-ref (funcref, i32 flags), call-ref-catch (funcref) -> i32: the
 *    same with a function reference (null traps "unreachable");
 *  - sleep (i32 ms, i32 id) -> i32: returns id at once;
 *  - globals of any module and name: zero (null) of their type.
 * Any other import makes the module "skip".
 *
 * Each exported function is called in export order with zero arguments
 * (null for references), after a call of the export "hangLimitInitializer"
 * when the module has one (binaryen's counter that ends loops and
 * recursions); its results or its trap are printed, then every exported
 * memory (size and a hash of its bytes), table (size, which elements are
 * null) and global.  A trap leaves the store usable: the next export is
 * called as if nothing happened.
 *
 * Values are printed exactly (floats as bits) except NaNs, which print as
 * "nan": a NaN's payload and sign may differ between correct engines.
 * Traps print a class shared with V8's messages, which tell fewer cases
 * apart than the spec suite's (a null entry and a wrong type are one; a
 * float too large to truncate is an "integer overflow" in the suite and
 * the same message as a NaN in V8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted/hosted.h"
#include "jit/jit.h"
#include "jit/rt.h"
#include "kernel/kerr.h"
#include "kernel/klib.h"
#include "sched/sched.h"

struct run {
	const uint8_t *bytes;
	size_t size;
	const struct jit_wasm_module *wm;
	struct jit_instance *inst;
	bool validate_only;	/* -v: say whether it compiles, run nothing */
};

static void print_f32(uint32_t b)
{
	if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu))
		printf("nan");
	else
		printf("0x%08x", b);
}

static void print_f64(uint64_t b)
{
	if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
	    (b & 0xfffffffffffffull))
		printf("nan");
	else
		printf("0x%016llx", (unsigned long long)b);
}

static void print_value(uint8_t type, uint64_t bits)
{
	switch (type) {
	case JIT_I32:
		printf("i32 %d", (int32_t)(uint32_t)bits);
		break;
	case JIT_I64:
		printf("i64 %lld", (long long)bits);
		break;
	case JIT_F32:
		printf("f32 ");
		print_f32((uint32_t)bits);
		break;
	case JIT_F64:
		printf("f64 ");
		print_f64(bits);
		break;
	case JIT_FUNCREF:
		printf("funcref %s", bits ? "nonnull" : "null");
		break;
	case JIT_EXTERNREF:
		printf("externref %s", bits ? "nonnull" : "null");
		break;
	default:
		printf("type 0x%02x", type);
	}
}

/* The trap's class; V8's messages map to the same (tests/fuzz_diff.mjs). */
static const char *trap_class(enum jit_trap code)
{
	switch (code) {
	case JIT_TRAP_UNREACHABLE:
		return "unreachable";
	case JIT_TRAP_MEMORY_OOB:
		return "memory out of bounds";
	case JIT_TRAP_TABLE_OOB:
	case JIT_TRAP_UNDEFINED_ELEM:
		return "table out of bounds";
	case JIT_TRAP_UNINIT_ELEM:
	case JIT_TRAP_SIG_MISMATCH:
		return "null function or signature mismatch";
	case JIT_TRAP_DIV_ZERO:
		return "integer divide by zero";
	case JIT_TRAP_INT_OVERFLOW:
	case JIT_TRAP_BAD_CONVERSION:
		return "integer overflow or invalid conversion";
	case JIT_TRAP_STACK_EXHAUSTED:
		return "call stack exhausted";
	default:
		return jit_trap_message(code);
	}
}

static void log_i32(void *ctx, struct jit_instance *caller, uint32_t a)
{
	printf("log i32 %d\n", (int32_t)a);
}

static void log_i64(void *ctx, struct jit_instance *caller, uint64_t a)
{
	printf("log i64 %lld\n", (long long)a);
}

static void log_f32(void *ctx, struct jit_instance *caller, float a)
{
	uint32_t b;

	memcpy(&b, &a, 4);
	printf("log f32 ");
	print_f32(b);
	printf("\n");
}

static void log_f64(void *ctx, struct jit_instance *caller, double a)
{
	uint64_t b;

	memcpy(&b, &a, 8);
	printf("log f64 ");
	print_f64(b);
	printf("\n");
}

/* The index-th exported function, or NULL (also while instantiating). */
static struct jit_func *export_func(struct run *r, uint32_t index)
{
	struct jit_extern ext;

	for (uint32_t i = 0; r->inst && i < r->wm->nexports; i++) {
		const struct jit_wasm_export *e = &r->wm->exports[i];

		if (e->kind != JIT_EXTERN_FUNC || index--)
			continue;
		if (jit_instance_export_n(r->inst, e->name.ptr, e->name.len, &ext) < 0)
			return NULL;
		return ext.func;
	}
	return NULL;
}

/*
 * Call f with zero arguments: its trap, or NONE.  A module may catch the
 * trap that ends its loops (binaryen's hang limit) and start again, for
 * ever: after CALL_BUDGET such calls, each one traps "unreachable" at once.
 */
#define CALL_BUDGET 1000

static enum jit_trap call_zero(struct jit_func *f, struct jit_instance *caller)
{
	static unsigned calls;
	struct jit_value args[256], results[256];
	struct jit_trap_info trap;
	struct jit_sig sig;

	if (!f || ++calls > CALL_BUDGET)
		return JIT_TRAP_UNREACHABLE;
	sig = jit_func_sig(f);
	if (sig.nparams > 256 || sig.nresults > 256)
		return JIT_TRAP_UNREACHABLE;
	for (uint32_t i = 0; i < sig.nparams; i++)
		args[i] = (struct jit_value){ .type = sig.params[i], .bits = 0 };
	if (jit_call(f, args, sig.nparams, results, sig.nresults, &trap) == -K_EFAULT)
		return trap.code;
	return JIT_TRAP_NONE;
}

/* The nested calls print where they begin and how they end, so that a
 * difference shows where it arose. */
static void call_export(void *ctx, struct jit_instance *caller, uint32_t index,
			uint32_t flags)
{
	enum jit_trap code;

	printf("call-export %u\n", index);
	code = call_zero(export_func(ctx, index), caller);
	printf("call-export %u: %s\n", index, trap_class(code));
	if (code != JIT_TRAP_NONE)
		jit_host_trap(caller, code, 0);
}

static uint32_t call_export_catch(void *ctx, struct jit_instance *caller, uint32_t index)
{
	enum jit_trap code;

	printf("call-export-catch %u\n", index);
	code = call_zero(export_func(ctx, index), caller);
	printf("call-export-catch %u: %s\n", index, trap_class(code));
	return code != JIT_TRAP_NONE;
}

static void call_ref(void *ctx, struct jit_instance *caller, struct jit_func *f,
		     uint32_t flags)
{
	enum jit_trap code;

	printf("call-ref\n");
	code = call_zero(f, caller);
	printf("call-ref: %s\n", trap_class(code));
	if (code != JIT_TRAP_NONE)
		jit_host_trap(caller, code, 0);
}

static uint32_t call_ref_catch(void *ctx, struct jit_instance *caller, struct jit_func *f)
{
	enum jit_trap code;

	printf("call-ref-catch\n");
	code = call_zero(f, caller);
	printf("call-ref-catch: %s\n", trap_class(code));
	return code != JIT_TRAP_NONE;
}

static uint32_t sleep_(void *ctx, struct jit_instance *caller, uint32_t ms, uint32_t id)
{
	return id;
}

/* Define the host functions; 0 or a -K_*. */
static int define_imports(struct jit_store *s, struct run *r)
{
	static const uint8_t i32[] = { JIT_I32 }, i64[] = { JIT_I64 },
		f32[] = { JIT_F32 }, f64[] = { JIT_F64 }, i32x2[] = { JIT_I32, JIT_I32 },
		ref_i32[] = { JIT_FUNCREF, JIT_I32 };
	static const struct { const char *name; void *fn; struct jit_sig sig; } calls[] = {
		{ "call-export", (void *)call_export, { i32x2, NULL, 2, 0 } },
		{ "call-export-catch", (void *)call_export_catch, { i32x2, i32, 1, 1 } },
		{ "call-ref", (void *)call_ref, { ref_i32, NULL, 2, 0 } },
		{ "call-ref-catch", (void *)call_ref_catch, { ref_i32, i32, 1, 1 } },
		{ "sleep", (void *)sleep_, { i32x2, i32, 2, 1 } },
	};
	static const struct { const char *name; void *fn; const uint8_t *param; } logs[] = {
		{ "log-i32", (void *)log_i32, i32 },
		{ "log-i64", (void *)log_i64, i64 },
		{ "log-f32", (void *)log_f32, f32 },
		{ "log-f64", (void *)log_f64, f64 },
	};
	struct jit_extern ext = { .kind = JIT_EXTERN_FUNC };
	int rc;

	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		struct jit_sig sig = { logs[i].param, NULL, 1, 0 };

		if ((rc = jit_func_new_host(s, &sig, logs[i].fn, NULL, &ext.func)) < 0 ||
		    (rc = jit_store_define(s, "fuzzing-support", logs[i].name, ext)) < 0)
			return rc;
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if ((rc = jit_func_new_host(s, &calls[i].sig, calls[i].fn, r, &ext.func)) < 0 ||
		    (rc = jit_store_define(s, "fuzzing-support", calls[i].name, ext)) < 0)
			return rc;
	}
	/* Imported globals: zero, of the type and mutability asked for. */
	ext.kind = JIT_EXTERN_GLOBAL;
	for (uint32_t i = 0; i < r->wm->nimports; i++) {
		const struct jit_wasm_import *im = &r->wm->imports[i];
		const struct jit_wasm_global *g = &r->wm->globals[im->index];
		char mod[256], name[256];

		if (im->kind != JIT_EXTERN_GLOBAL)
			continue;
		snprintf(mod, sizeof(mod), "%.*s", (int)im->module.len, (const char *)im->module.ptr);
		snprintf(name, sizeof(name), "%.*s", (int)im->name.len, (const char *)im->name.ptr);
		if ((rc = jit_global_new(s, g->type, g->mut, (struct jit_value){ g->type, 0 },
					 &ext.global)) < 0)
			return rc;
		if ((rc = jit_store_define(s, mod, name, ext)) < 0 && rc != -K_EEXIST)
			return rc;
	}
	return 0;
}

static bool name_is(const struct jit_wasm_name *n, const char *s)
{
	return n->len == strlen(s) && !memcmp(n->ptr, s, n->len);
}

static bool import_supported(const struct jit_wasm_import *im)
{
	if (im->kind == JIT_EXTERN_GLOBAL)
		return im->module.len < 256 && im->name.len < 256 &&
		       !memchr(im->module.ptr, 0, im->module.len) &&
		       !memchr(im->name.ptr, 0, im->name.len);
	return im->kind == JIT_EXTERN_FUNC && name_is(&im->module, "fuzzing-support") &&
	       (name_is(&im->name, "log-i32") || name_is(&im->name, "log-i64") ||
		name_is(&im->name, "log-f32") || name_is(&im->name, "log-f64") ||
		name_is(&im->name, "call-export") || name_is(&im->name, "call-export-catch") ||
		name_is(&im->name, "call-ref") || name_is(&im->name, "call-ref-catch") ||
		name_is(&im->name, "sleep"));
}

/*
 * A memory's hash covers its first 16 MiB: a page the module never
 * touched gets a frame when read, and the simulated RAM may have fewer
 * frames than a grown memory has pages.
 */
#define HASH_MAX (16ull << 20)

/* FNV-1a, 32 bits: tests/fuzz_diff.mjs computes the same. */
static uint32_t hash(const uint8_t *p, uint64_t n)
{
	uint32_t h = 2166136261u;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/*
 * With FUZZ_DIFF_DUMP=PREFIX in the environment, memory i's bytes after
 * call n are written to PREFIX.n.i too, for tests/fuzz_diff.mjs --nan-only
 * to compare.
 */
static void dump(const uint8_t *data, uint64_t size, unsigned n, uint32_t i)
{
	const char *prefix = getenv("FUZZ_DIFF_DUMP");
	char path[4096];
	FILE *f;

	if (!prefix)
		return;
	snprintf(path, sizeof(path), "%s.%u.%u", prefix, n, i);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size)
		perror(path);
	if (f)
		fclose(f);
}

/* Every exported memory and global, as they are now. */
static void print_state(struct run *r)
{
	static unsigned calls;

	calls++;
	for (uint32_t i = 0; i < r->wm->nexports; i++) {
		const struct jit_wasm_export *e = &r->wm->exports[i];
		struct jit_extern ext;
		uint64_t size;
		uint8_t *data;

		if (e->kind == JIT_EXTERN_FUNC)
			continue;
		if (jit_instance_export_n(r->inst, e->name.ptr, e->name.len, &ext) < 0)
			continue;
		printf("%s %.*s ", e->kind == JIT_EXTERN_MEMORY ? "memory" :
		       e->kind == JIT_EXTERN_TABLE ? "table" : "global",
		       (int)e->name.len, (const char *)e->name.ptr);
		if (e->kind == JIT_EXTERN_TABLE) {
			/* Its size and which elements are null (the first 200). */
			printf("size %u ", ext.table->size);
			for (uint32_t k = 0; k < ext.table->size && k < 200; k++)
				putchar(ext.table->elems[k] ? '1' : '0');
			printf("\n");
		} else if (e->kind == JIT_EXTERN_MEMORY) {
			data = jit_memory_data(ext.memory, &size);
			printf("pages %llu hash %08x\n", (unsigned long long)(size >> 16),
			       hash(data, MIN(size, HASH_MAX)));
			dump(data, MIN(size, HASH_MAX), calls, i);
		} else {
			struct jit_value v = jit_global_get(ext.global);

			print_value(v.type, v.bits);
			printf("\n");
		}
	}
}

/* Call f with zero arguments; print its results or its trap. */
static void call(struct jit_func *f, bool quiet)
{
	struct jit_sig sig = jit_func_sig(f);
	struct jit_value args[256], results[256];
	struct jit_trap_info trap;
	int rc;

	if (sig.nparams > 256 || sig.nresults > 256) {
		printf("too many params or results\n");
		return;
	}
	for (uint32_t i = 0; i < sig.nparams; i++)
		args[i] = (struct jit_value){ .type = sig.params[i], .bits = 0 };
	fflush(stdout);
	rc = jit_call(f, args, sig.nparams, results, sig.nresults, &trap);
	if (rc == -K_EFAULT) {
		printf("trap: %s\n", trap_class(trap.code));
		return;
	}
	if (rc < 0) {
		printf("call failed: %s\n", kerr_str(rc));
		return;
	}
	if (quiet)
		return;
	for (uint32_t i = 0; i < sig.nresults; i++) {
		printf("result ");
		print_value(results[i].type, results[i].bits);
		printf("\n");
	}
}

static void run_exports(struct run *r)
{
	struct jit_extern hang = { 0 }, ext;
	bool has_hang = jit_instance_export(r->inst, "hangLimitInitializer", &hang) == 0 &&
			hang.kind == JIT_EXTERN_FUNC;

	for (uint32_t i = 0; i < r->wm->nexports; i++) {
		const struct jit_wasm_export *e = &r->wm->exports[i];

		if (e->kind != JIT_EXTERN_FUNC || name_is(&e->name, "hangLimitInitializer"))
			continue;
		if (jit_instance_export_n(r->inst, e->name.ptr, e->name.len, &ext) < 0)
			continue;
		if (has_hang)
			call(hang.func, true);
		printf("call %.*s\n", (int)e->name.len, (const char *)e->name.ptr);
		call(ext.func, false);
		print_state(r);
	}
}

static intptr_t runner(void *arg)
{
	struct run *r = arg;
	struct jit_module *mod = NULL;
	struct jit_store *store = NULL;
	struct jit_wasm_error err = { 0 };
	struct jit_link_error lerr = { 0 };
	int rc;

	rc = jit_module_compile(r->bytes, r->size, NULL, &mod, &err);
	if (rc == -K_EINVAL) {
		printf("invalid\n");
		fprintf(stderr, "fuzz_diff: %s at offset 0x%x: %s\n",
			err.malformed ? "malformed" : "invalid", err.offset, err.msg);
		return 0;
	}
	if (rc == -K_ENOSYS && r->validate_only) {
		/* Valid, with what the JIT does not execute yet (SIMD). */
		printf("valid\n");
		fprintf(stderr, "fuzz_diff: not compiled: %s\n", err.msg);
		return 0;
	}
	if (rc < 0) {
		printf("not compiled: %s: %s\n", kerr_str(rc), err.msg);
		return 0;
	}
	if (r->validate_only) {
		printf("valid\n");
		goto out;
	}
	r->wm = jit_module_wasm(mod);
	for (uint32_t i = 0; i < r->wm->nimports; i++) {
		if (!import_supported(&r->wm->imports[i])) {
			printf("skip: import %.*s.%.*s\n", (int)r->wm->imports[i].module.len,
			       (const char *)r->wm->imports[i].module.ptr,
			       (int)r->wm->imports[i].name.len,
			       (const char *)r->wm->imports[i].name.ptr);
			goto out;
		}
	}
	if ((rc = jit_store_create(&store)) < 0 || (rc = define_imports(store, r)) < 0) {
		printf("store: %s\n", kerr_str(rc));
		goto out;
	}
	/* memory.grow up to 4 GiB as in V8 (frames only for pages touched):
	 * the default budget, the RAM or 1 GiB, fails grows V8 makes. */
	jit_store_set_memory_budget(store, 65536ull << 16);
	printf("valid\n");
	rc = jit_instantiate(store, mod, &r->inst, &lerr);
	if (rc == -K_EFAULT) {
		printf("instantiate: trap: %s\n", trap_class(lerr.trap.code));
		goto out;
	}
	if (rc < 0) {
		printf("instantiate: %s: %s\n", kerr_str(rc), lerr.msg);
		goto out;
	}
	run_exports(r);
out:
	fflush(stdout);
	if (store)
		jit_store_destroy(store);
	jit_module_free(mod);
	return 0;
}

static int fuzz_init(void *arg)
{
	struct sched_attr ra = { .name = "fuzz-diff", .stack_size = SCHED_STACK_MAX, .hart = -1 };
	sched_task_t t;
	intptr_t status = 1;
	int rc;

	if ((rc = sched_spawn(&t, runner, arg, &ra)) < 0) {
		fprintf(stderr, "fuzz_diff: spawning the runner: %s\n", kerr_str(rc));
		return 1;
	}
	sched_join(t, &status);
	return (int)status;
}

int main(int argc, char **argv)
{
	struct hosted_config cfg;
	struct run r = { 0 };
	FILE *f;
	uint8_t *bytes;
	long n;
	int status;

	if (argc == 3 && !strcmp(argv[1], "-v")) {
		r.validate_only = true;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_diff [-v] MODULE.wasm\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")) || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(bytes = malloc(n ? n : 1)) ||
	    fread(bytes, 1, n, f) != (size_t)n) {
		perror(argv[1]);
		return 2;
	}
	fclose(f);
	r.bytes = bytes;
	r.size = n;
	hosted_config_default(&cfg);
	cfg.harts = 2;	/* as k23sim: compile tasks on both */
	cfg.quiet = true;
	status = hosted_run(&cfg, fuzz_init, &r);
	free(bytes);
	return status;
}
