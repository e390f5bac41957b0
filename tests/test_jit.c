/*
 * test_jit.c - the JIT and the runtime end to end: modules written in the
 * text format (converted with wabt's wat2wasm), compiled, instantiated and
 * run on the booted kernel, with what the spec suite cannot show:
 * preemption of a spinning module, traps that leave everything else
 * running, direct calls between linked modules, deep recursion, and code
 * that does not depend on the number of harts compiling it.
 */
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "wat.h"
#include "../jit/jit.h"
#include "../jit/module.h"
#include "../kernel/kerr.h"
#include "../sched/sched.h"

/* Modules compiled by compile(), and the bytes they point into: freed
 * together at the end of a test body by release_all(). */
static struct {
	struct jit_module *mod;
	uint8_t *bytes;
} compiled[8];
static unsigned ncompiled;

static struct jit_module *compile(const char *text)
{
	struct jit_wasm_error err;
	struct jit_module *mod;
	size_t size;
	uint8_t *bytes = wat(text, &size);
	int rc = jit_module_compile(bytes, size, NULL, &mod, &err);

	cr_assert_eq(rc, 0, "compile: %s", err.msg);
	cr_assert_lt(ncompiled, 8);
	compiled[ncompiled].mod = mod;
	compiled[ncompiled++].bytes = bytes;
	return mod;
}

/* After the stores using them are destroyed. */
static void release_all(void)
{
	while (ncompiled) {
		ncompiled--;
		jit_module_free(compiled[ncompiled].mod);
		free(compiled[ncompiled].bytes);
	}
}

static struct jit_instance *instantiate(struct jit_store *s, struct jit_module *mod)
{
	struct jit_link_error err;
	struct jit_instance *inst;

	cr_assert_eq(jit_instantiate(s, mod, &inst, &err), 0, "instantiate: %s", err.msg);
	return inst;
}

static struct jit_func *export(struct jit_instance *inst, const char *name)
{
	struct jit_extern ex;

	cr_assert_eq(jit_instance_export(inst, name, &ex), 0, "no export %s", name);
	cr_assert_eq(ex.kind, JIT_EXTERN_FUNC);
	return ex.func;
}

/* Call f with i32 arguments; its i32 result, or -1 with *trap on a trap. */
static int64_t call_i32(struct jit_func *f, const uint32_t *a, uint32_t n,
			struct jit_trap_info *trap)
{
	struct jit_value args[4], res = { 0 };
	struct jit_sig sig = jit_func_sig(f);
	int rc;

	for (uint32_t i = 0; i < n; i++)
		args[i] = (struct jit_value){ .type = JIT_I32, .bits = a[i] };
	rc = jit_call(f, args, n, &res, sig.nresults, trap);
	if (rc == -K_EFAULT)
		return -1;
	cr_assert_eq(rc, 0);
	return (uint32_t)res.bits;
}

/* -- Preemption ----------------------------------------------------------- */

static const char *spin_wat =
	"(module (func (export \"spin\") (loop $l (br $l))))";

struct spinner {
	struct jit_store *store;
	struct jit_func *spin;
	struct jit_trap_info trap;
	int rc;
};

static intptr_t run_spin(void *arg)
{
	struct spinner *sp = arg;

	sp->rc = jit_call(sp->spin, NULL, 0, NULL, 0, &sp->trap);
	return 0;
}

static atomic_int steps;

static intptr_t stepper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		atomic_fetch_add(&steps, 1);
		sched_task_yield();
	}
	return 0;
}

static int preempt_body(void *arg)
{
	struct spinner sp = { 0 };
	struct sched_attr a = { .hart = 1, .pinned = true, .stack_size = 256u << 10 };
	sched_task_t spin, step;

	(void)arg;
	cr_assert_eq(jit_store_create(&sp.store), 0);
	sp.spin = export(instantiate(sp.store, compile(spin_wat)), "spin");
	/* Both on hart 1: the stepper only finishes if the loop yields. */
	cr_assert_eq(sched_spawn(&spin, run_spin, &sp, &a), 0);
	cr_assert_eq(sched_spawn(&step, stepper, NULL, &a), 0);
	sched_join(step, NULL);
	cr_assert_eq(atomic_load(&steps), 20);
	/* The loop is still running; stopping it is a trap like any other. */
	jit_store_interrupt(sp.store);
	sched_join(spin, NULL);
	cr_assert_eq(sp.rc, -K_EFAULT);
	cr_assert_eq(sp.trap.code, JIT_TRAP_INTERRUPTED);
	jit_store_destroy(sp.store);
	release_all();
	return 0;
}

Test(jit, an_infinite_loop_is_preempted_and_can_be_interrupted, .timeout = 60)
{
	harness_boot(2, 256u << 20, preempt_body);
}

/* -- Traps ---------------------------------------------------------------- */

static const char *trap_wat =
	"(module (memory 1)"
	"  (func $inner (param i32) (result i32) (i32.load (local.get 0)))"
	"  (func (export \"load\") (param i32) (result i32) (call $inner (local.get 0)))"
	"  (func (export \"div\") (param i32 i32) (result i32)"
	"    (i32.div_u (local.get 0) (local.get 1))))";

static int trap_body(void *arg)
{
	struct jit_store *s1, *s2;
	struct jit_module *mod = compile(trap_wat);
	struct jit_instance *a, *b;
	struct jit_trap_info trap;
	uint32_t args[2] = { 65536, 0 };

	(void)arg;
	cr_assert_eq(jit_store_create(&s1), 0);
	cr_assert_eq(jit_store_create(&s2), 0);
	a = instantiate(s1, mod);
	b = instantiate(s2, mod);
	/* Out of bounds: a fault in the guard region becomes a trap, with
	 * both wasm frames in the backtrace. */
	cr_assert_eq(call_i32(export(a, "load"), args, 1, &trap), -1);
	cr_assert_eq(trap.code, JIT_TRAP_MEMORY_OOB);
	cr_assert_geq(trap.nframes, 2);
	cr_assert_eq(trap.frames[0].func, 0);
	cr_assert_eq(trap.frames[1].func, 1);
	cr_assert_eq(call_i32(export(a, "div"), args, 2, &trap), -1);
	cr_assert_eq(trap.code, JIT_TRAP_DIV_ZERO);
	/* The trapping instance and the other one both carry on. */
	args[0] = 65532;
	cr_assert_eq(call_i32(export(a, "load"), args, 1, &trap), 0);
	cr_assert_eq(call_i32(export(b, "load"), args, 1, &trap), 0);
	args[0] = 7;
	args[1] = 2;
	cr_assert_eq(call_i32(export(b, "div"), args, 2, &trap), 3);
	jit_store_destroy(s1);
	jit_store_destroy(s2);
	release_all();
	return 0;
}

Test(jit, a_trap_leaves_its_instance_and_others_working)
{
	harness_boot(2, 256u << 20, trap_body);
}

/* -- Linking -------------------------------------------------------------- */

static const char *even_wat =
	"(module"
	"  (import \"odd\" \"is_odd\" (func $odd (param i32) (result i32)))"
	"  (func (export \"is_even\") (param i32) (result i32)"
	"    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))"
	"      (else (call $odd (i32.sub (local.get 0) (i32.const 1)))))))";

static const char *base_wat =
	"(module"
	"  (func (export \"is_odd\") (param i32) (result i32)"
	"    (i32.and (local.get 0) (i32.const 1))))";

static int link_body(void *arg)
{
	struct jit_store *s;
	struct jit_instance *base, *even, *odd;
	struct jit_trap_info trap;
	uint32_t n = 1001;

	(void)arg;
	cr_assert_eq(jit_store_create(&s), 0);
	base = instantiate(s, compile(base_wat));
	cr_assert_eq(jit_store_register(s, "odd", base), 0);
	even = instantiate(s, compile(even_wat));
	cr_assert_eq(jit_store_register(s, "even", even), 0);
	odd = instantiate(s, compile(
		"(module"
		"  (import \"even\" \"is_even\" (func $even (param i32) (result i32)))"
		"  (func (export \"odd_via_even\") (param i32) (result i32)"
		"    (i32.xor (call $even (local.get 0)) (i32.const 1))))"));
	/* odd -> even -> base: calls across three instances. */
	cr_assert_eq(call_i32(export(even, "is_even"), &n, 1, &trap), 0);
	cr_assert_eq(call_i32(export(odd, "odd_via_even"), &n, 1, &trap), 1);
	n = 1000;
	cr_assert_eq(call_i32(export(even, "is_even"), &n, 1, &trap), 1);
	cr_assert_eq(call_i32(export(odd, "odd_via_even"), &n, 1, &trap), 0);
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, linked_modules_call_each_other)
{
	harness_boot(1, 256u << 20, link_body);
}

/*
 * After a call into another instance (an import, a shared table) the
 * caller's memory and globals are its own again: the callee brought its
 * own vmctx and memory base, and compiled code does not keep the
 * caller's across calls (x86_64.c), so the call site restores them.
 */
static const char *other_wat =
	"(module"
	"  (memory (export \"mem\") 1)"
	"  (global $g (mut i32) (i32.const 2000))"
	"  (table (export \"tab\") 1 funcref)"
	"  (elem (i32.const 0) $poke)"
	"  (func $poke (export \"poke\") (param i32) (result i32)"
	"    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (local.get 0)))"
	"    (global.set $g (i32.add (global.get $g) (i32.const 1)))"
	"    (i32.load (i32.const 8))))";

static const char *own_wat =
	"(module"
	"  (import \"other\" \"poke\" (func $poke (param i32) (result i32)))"
	"  (import \"other\" \"tab\" (table 1 funcref))"
	"  (type $t (func (param i32) (result i32)))"
	"  (memory 1)"
	"  (global $g (mut i32) (i32.const 100))"
	"  (data (i32.const 8) \"\\07\")"
	"  (func $inner (param i32) (result i32)"
	"    (drop (call $poke (local.get 0)))"
	"    (drop (call_indirect (type $t) (local.get 0) (i32.const 0)))"
	"    (i32.add (i32.load (i32.const 8)) (global.get $g)))"
	"  (func (export \"run\") (param i32) (result i32)"
	"    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (i32.const 1)))"
	"    (i32.add (call $inner (local.get 0))"
	"      (i32.add (i32.load (i32.const 8)) (global.get $g)))))";

static int own_memory_body(void *arg)
{
	struct jit_instance *other, *own;
	struct jit_trap_info trap;
	struct jit_store *s;
	uint32_t n = 5;

	(void)arg;
	cr_assert_eq(jit_store_create(&s), 0);
	other = instantiate(s, compile(other_wat));
	cr_assert_eq(jit_store_register(s, "other", other), 0);
	own = instantiate(s, compile(own_wat));
	/* own: byte 8 is 7 + 1 = 8, the global 100, both read twice; the
	 * other's memory got 5 twice. */
	cr_assert_eq(call_i32(export(own, "run"), &n, 1, &trap), 2 * (8 + 100));
	cr_assert_eq(call_i32(export(other, "poke"), &(uint32_t){ 0 }, 1, &trap), 10);
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, a_call_into_another_instance_comes_back_to_the_callers_memory)
{
	harness_boot(1, 256u << 20, own_memory_body);
}

/* -- Recursion ------------------------------------------------------------ */

static const char *deep_wat =
	"(module (func $down (export \"down\") (param i32) (result i32)"
	"  (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))"
	"    (else (i32.add (i32.const 1)"
	"      (call $down (i32.sub (local.get 0) (i32.const 1))))))))";

struct deep {
	struct jit_func *down;
	int64_t shallow, deep;
	enum jit_trap code;
	struct jit_trap_info trap;
};

static intptr_t run_deep(void *arg)
{
	struct deep *d = arg;
	uint32_t n = 100;

	d->shallow = call_i32(d->down, &n, 1, &d->trap);
	n = 10000;
	d->deep = call_i32(d->down, &n, 1, &d->trap);
	d->code = d->trap.code;
	/* The task survives and its stack still works. */
	n = 200;
	d->shallow += call_i32(d->down, &n, 1, &d->trap);
	return 0;
}

static int deep_body(void *arg)
{
	struct jit_store *s;
	struct deep d = { 0 };
	/* 64 KiB of stack: 10,000 frames of this function do not fit. */
	struct sched_attr a = { .stack_size = 64u << 10 };
	sched_task_t t;

	(void)arg;
	cr_assert_eq(jit_store_create(&s), 0);
	d.down = export(instantiate(s, compile(deep_wat)), "down");
	cr_assert_eq(sched_spawn(&t, run_deep, &d, &a), 0);
	sched_join(t, NULL);
	cr_assert_eq(d.deep, -1);
	cr_assert_eq(d.code, JIT_TRAP_STACK_EXHAUSTED);
	cr_assert_str_eq(jit_trap_message(d.code), "call stack exhausted");
	cr_assert_eq(d.shallow, 300);
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, deep_recursion_traps_and_the_task_survives)
{
	harness_boot(1, 256u << 20, deep_body);
}

/* -- Determinism ---------------------------------------------------------- */

/* Many functions, so that four harts share the work. */
static char *many_funcs_wat(void)
{
	size_t cap = 1 << 20, len = 0;
	char *s = malloc(cap);

	len += (size_t)snprintf(s + len, cap - len, "(module (memory 1)\n");
	for (int i = 0; i < 600; i++)
		len += (size_t)snprintf(s + len, cap - len,
			"(func $f%d (param i32 i64 f64) (result i64)"
			" (local i32) (local.set 3 (i32.mul (local.get 0) (i32.const %d)))"
			" (if (i32.lt_u (local.get 3) (i32.const 100)) (then (return (i64.const 1))))"
			" (i64.add (i64.extend_i32_u (i32.load offset=%d (local.get 0)))"
			"   (i64.trunc_sat_f64_s (f64.mul (local.get 2) (f64.const %d.5)))))\n",
			i, i + 3, i * 4, i);
	snprintf(s + len, cap - len, ")");
	return s;
}

/*
 * Code much bigger than its wasm (eight call_indirect a function), so that
 * the compiler's first guess at its size is outgrown and the code moves
 * while it is placed; $f2999 calls down the chain to $f0 and returns 3000.
 */
static char *outgrowing_wat(void)
{
	size_t cap = 4 << 20, len = 0;
	char *s = malloc(cap);

	len += (size_t)snprintf(s + len, cap - len,
		"(module (type $t (func (result i32))) (table 1 funcref) (elem (i32.const 0) $f0)\n"
		"(func $f0 (result i32) (i32.const 1))\n");
	for (int i = 1; i < 3000; i++) {
		len += (size_t)snprintf(s + len, cap - len, "(func $f%d %s(result i32)", i,
					i == 2999 ? "(export \"top\") " : "");
		for (int k = 0; k < 8; k++)
			len += (size_t)snprintf(s + len, cap - len,
						" (drop (call_indirect (type $t) (i32.const 0)))");
		len += (size_t)snprintf(s + len, cap - len,
					" (i32.add (call $f%d) (i32.const 1)))\n", i - 1);
	}
	snprintf(s + len, cap - len, ")");
	return s;
}

/* Compile text on one hart and on four: the same code.  Returns the
 * one-hart module, its bytes (*bytes, *size: free them after it). */
static struct jit_module *same_on_one_and_four(const char *text, uint8_t **bytes,
					       size_t *size)
{
	struct jit_compile_opts one = { .harts = 1 }, four = { .harts = 4 };
	struct jit_module *a, *b;
	struct jit_wasm_error err;
	const uint8_t *ca, *cb;
	size_t la, lb;

	*bytes = wat(text, size);
	cr_assert_eq(jit_module_compile(*bytes, *size, &one, &a, &err), 0, "%s", err.msg);
	cr_assert_eq(jit_module_compile(*bytes, *size, &four, &b, &err), 0, "%s", err.msg);
	ca = jit_module_code(a, &la);
	cb = jit_module_code(b, &lb);
	cr_assert_eq(la, lb);
	cr_assert(!memcmp(ca, cb, la), "code differs between 1 and 4 harts");
	jit_module_free(b);
	return a;
}

static int outgrowing_body(void *arg)
{
	char *text = outgrowing_wat();
	uint8_t *bytes;
	size_t size, len;
	struct jit_module *mod = same_on_one_and_four(text, &bytes, &size);
	struct jit_store *store;
	struct jit_value r;

	(void)arg;
	jit_module_code(mod, &len);
	cr_assert_gt(len, 2 * size, "code of %zu bytes for %zu of wasm: not outgrown", len, size);
	cr_assert_eq(jit_store_create(&store), 0);
	cr_assert_eq(jit_call(export(instantiate(store, mod), "top"), NULL, 0, &r, 1, NULL), 0);
	cr_assert_eq((uint32_t)r.bits, 3000);
	jit_store_destroy(store);
	jit_module_free(mod);
	free(bytes);
	free(text);
	return 0;
}

Test(jit, code_that_outgrows_its_first_place_is_placed_the_same_way)
{
	harness_boot(4, 256u << 20, outgrowing_body);
}

static int determinism_body(void *arg)
{
	char *text = many_funcs_wat();
	uint8_t *bytes;
	size_t size, len;
	struct jit_module *mod = same_on_one_and_four(text, &bytes, &size);

	(void)arg;
	jit_module_code(mod, &len);
	cr_assert_gt(len, 600 * 16);
	jit_module_free(mod);
	free(bytes);
	free(text);
	return 0;
}

Test(jit, code_is_the_same_on_one_and_on_four_harts)
{
	harness_boot(4, 256u << 20, determinism_body);
}

/* -- Hostile shapes ------------------------------------------------------- */

/*
 * A body that keeps 50,000 reads of a local on the stack and then writes
 * that local, reads it again and calls, 50,000 times: each write and call
 * must not rescan the whole stack (quadratic: many seconds), so the compile
 * finishes well within the test's timeout.  The frame (100,000 slots) is
 * run on a task with the largest stack.
 */
struct deep_stack {
	struct jit_func *f;
	int64_t result;
	struct jit_trap_info trap;
};

static intptr_t run_deep_stack(void *arg)
{
	struct deep_stack *d = arg;

	d->result = call_i32(d->f, NULL, 0, &d->trap);
	return 0;
}

static int deep_stack_body(void *arg)
{
	const int n = 50000;
	size_t cap = (size_t)n * 96, len = 0;
	char *s = malloc(cap);
	struct sched_attr a = { .stack_size = SCHED_STACK_MAX };
	struct deep_stack d = { 0 };
	struct jit_store *st;
	sched_task_t t;

	(void)arg;
	len += (size_t)snprintf(s + len, cap - len,
		"(module (func $nop) (func (export \"f\") (result i32) (local i32)\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "local.get 0\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
					"i32.const %d local.set 0 local.get 0 call $nop\n", i);
	for (int i = 0; i < 2 * n - 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "i32.add\n");
	snprintf(s + len, cap - len, "))");
	cr_assert_eq(jit_store_create(&st), 0);
	d.f = export(instantiate(st, compile(s)), "f");
	cr_assert_eq(sched_spawn(&t, run_deep_stack, &d, &a), 0);
	sched_join(t, NULL);
	/* n zeros read first, then 0 + 1 + ... + n - 1. */
	cr_assert_eq(d.result, (int64_t)n * (n - 1) / 2, "got %lld, trap %s",
		     (long long)d.result, jit_trap_message(d.trap.code));
	jit_store_destroy(st);
	release_all();
	free(s);
	return 0;
}

Test(jit, a_deep_operand_stack_compiles_in_linear_time, .timeout = 10)
{
	harness_boot(1, 512u << 20, deep_stack_body);
}

/* -- Host functions' results ----------------------------------------------- */

#if defined(__x86_64__)
/*
 * A host function returning the i32 16 with the upper half of rax set, as
 * the ABI allows (only eax is the result) and compilers do, e.g. for
 * (uint32_t)(x >> 3) of a uint64_t x.
 */
uint32_t dirty_i32(void *ctx, struct jit_instance *caller);
__asm__(".text\n"
	".globl dirty_i32\n"
	".type dirty_i32, @function\n"
	"dirty_i32:\n"
	"	movabs $0xdeadbeef00000010, %rax\n"
	"	ret\n"
	".size dirty_i32, . - dirty_i32\n");

static const char *dirty_wat =
	"(module"
	"  (import \"host\" \"dirty\" (func $dirty (result i32)))"
	"  (memory 1)"
	"  (data (i32.const 16) \"\\2a\")"
	"  (func (export \"load\") (result i32) (i32.load8_u (call $dirty)))"
	"  (func (export \"convert\") (result i32)"
	"    (i32.trunc_f64_u (f64.convert_i32_u (call $dirty))))"
	"  (func (export \"extend\") (result i32)"
	"    (i64.eq (i64.extend_i32_u (call $dirty)) (i64.const 16)))"
	"  (func (export \"index\") (param i32) (result i32)"
	"    (i32.load8_u (i32.add (local.get 0) (call $dirty)))))";

static int dirty_body(void *arg)
{
	static const uint8_t i32[] = { JIT_I32 };
	const struct jit_sig sig = { NULL, i32, 0, 1 };
	struct jit_extern ext = { .kind = JIT_EXTERN_FUNC };
	struct jit_trap_info trap;
	struct jit_instance *inst;
	struct jit_store *s;
	uint32_t zero = 0;

	(void)arg;
	cr_assert_eq(jit_store_create(&s), 0);
	cr_assert_eq(jit_func_new_host(s, &sig, (void *)dirty_i32, NULL, &ext.func), 0);
	cr_assert_eq(jit_store_define(s, "host", "dirty", ext), 0);
	inst = instantiate(s, compile(dirty_wat));
	cr_assert_eq(call_i32(export(inst, "load"), NULL, 0, &trap), 42, "trap %s",
		     jit_trap_message(trap.code));
	cr_assert_eq(call_i32(export(inst, "convert"), NULL, 0, &trap), 16);
	cr_assert_eq(call_i32(export(inst, "extend"), NULL, 0, &trap), 1);
	cr_assert_eq(call_i32(export(inst, "index"), &zero, 1, &trap), 42);
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, an_i32_from_a_host_function_is_its_low_half)
{
	harness_boot(1, 256u << 20, dirty_body);
}
#endif

/* A failed memory.grow or table.grow is the i32 -1, which converts as
 * unsigned to 4294967295 (the runtime returns it in eax only). */
static const char *grow_fail_wat =
	"(module"
	"  (memory 1 2)"
	"  (table 1 2 funcref)"
	"  (func (export \"memory\") (result i32)"
	"    (f64.eq (f64.convert_i32_u (memory.grow (i32.const 5))) (f64.const 4294967295)))"
	"  (func (export \"table\") (result i32)"
	"    (f32.eq (f32.convert_i32_u (table.grow 0 (ref.null func) (i32.const 5)))"
	"      (f32.const 4294967296))))";

static int grow_fail_body(void *arg)
{
	struct jit_trap_info trap;
	struct jit_instance *inst;
	struct jit_store *s;

	(void)arg;
	cr_assert_eq(jit_store_create(&s), 0);
	inst = instantiate(s, compile(grow_fail_wat));
	cr_assert_eq(call_i32(export(inst, "memory"), NULL, 0, &trap), 1);
	cr_assert_eq(call_i32(export(inst, "table"), NULL, 0, &trap), 1);
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, a_failed_grow_converts_as_an_unsigned_i32)
{
	harness_boot(1, 256u << 20, grow_fail_body);
}

/*
 * i32.eqz of a compare is compiled as the opposite compare, fused into
 * the br_if, if or value after it: for floats that is the opposite flags
 * test, true when an operand is NaN, never the opposite relation.
 */
static const char *const negated_ops[] = {
	"f64.eq", "f64.ne", "f64.lt", "f64.gt", "f64.le", "f64.ge",
	"f32.lt", "f32.ge", "i32.lt_s", "i32.ge_u", "i64.gt_u", "i64.le_s",
};
#define NEGATED_OPS	(sizeof(negated_ops) / sizeof(negated_ops[0]))

/* Each shape returns the compare's value, the last two its opposite
 * (an odd number of eqz). */
static const char *const negated_shapes[] = {
	"(block (br_if 0 (i32.eqz (%s (local.get 0) (local.get 1)))) (return (i32.const 1)))"
	" (i32.const 0)",
	"(if (result i32) (i32.eqz (%s (local.get 0) (local.get 1)))"
	" (then (i32.const 0)) (else (i32.const 1)))",
	"(i32.eqz (i32.eqz (%s (local.get 0) (local.get 1))))",
	"(i32.eqz (%s (local.get 0) (local.get 1)))",
	"(i32.eqz (i32.eqz (i32.eqz (%s (local.get 0) (local.get 1)))))",
};
#define NEGATED_SHAPES	(sizeof(negated_shapes) / sizeof(negated_shapes[0]))

static bool compare_in_c(const char *op, double a, double b)
{
	const char *rel = strchr(op, '.') + 1;
	bool ints = op[0] == 'i';
	bool sgn = ints && strstr(rel, "_s");
	int64_t sa = (int64_t)a, sb = (int64_t)b;
	uint64_t ua = (uint64_t)sa, ub = (uint64_t)sb;

	if (!strcmp(op, "i32.ge_u"))
		ua = (uint32_t)ua, ub = (uint32_t)ub;
	if (!strncmp(rel, "eq", 2))
		return ints ? ua == ub : a == b;
	if (!strncmp(rel, "ne", 2))
		return ints ? ua != ub : a != b;
	if (!strncmp(rel, "lt", 2))
		return ints ? (sgn ? sa < sb : ua < ub) : a < b;
	if (!strncmp(rel, "gt", 2))
		return ints ? (sgn ? sa > sb : ua > ub) : a > b;
	if (!strncmp(rel, "le", 2))
		return ints ? (sgn ? sa <= sb : ua <= ub) : a <= b;
	return ints ? (sgn ? sa >= sb : ua >= ub) : a >= b;
}

static struct jit_value value_of(const char *op, double v)
{
	struct jit_value x = { 0 };

	if (!strncmp(op, "f64", 3)) {
		x.type = JIT_F64;
		memcpy(&x.bits, &v, 8);
	} else if (!strncmp(op, "f32", 3)) {
		float f = (float)v;

		x.type = JIT_F32;
		memcpy(&x.bits, &f, 4);
	} else {
		x.type = op[1] == '3' ? JIT_I32 : JIT_I64;
		x.bits = op[1] == '3' ? (uint32_t)(int64_t)v : (uint64_t)(int64_t)v;
	}
	return x;
}

static int negated_body(void *arg)
{
	static const double vals[] = { 1.0, 2.0, -1.0, -0.0, 0.0, NAN };
	static char text[16384];
	size_t len = 0;
	struct jit_instance *inst;
	struct jit_store *s;

	(void)arg;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "(module");
	for (unsigned i = 0; i < NEGATED_OPS; i++)
		for (unsigned k = 0; k < NEGATED_SHAPES; k++) {
			char body[256];
			const char *t = negated_ops[i];

			snprintf(body, sizeof(body), negated_shapes[k], t);
			len += (size_t)snprintf(text + len, sizeof(text) - len,
				" (func (export \"%u.%u\") (param %.3s %.3s) (result i32) %s)",
				i, k, t, t, body);
		}
	snprintf(text + len, sizeof(text) - len, ")");
	cr_assert_eq(jit_store_create(&s), 0);
	inst = instantiate(s, compile(text));
	for (unsigned i = 0; i < NEGATED_OPS; i++)
		for (unsigned k = 0; k < NEGATED_SHAPES; k++)
			for (unsigned a = 0; a < 6; a++)
				for (unsigned b = 0; b < 6; b++) {
					const char *op = negated_ops[i];
					struct jit_value args[2] = { value_of(op, vals[a]),
								     value_of(op, vals[b]) };
					struct jit_value res = { 0 };
					struct jit_trap_info trap;
					char name[16];
					bool want = compare_in_c(op, vals[a], vals[b]);

					if (op[0] == 'i' && (isnan(vals[a]) || isnan(vals[b])))
						continue;
					snprintf(name, sizeof(name), "%u.%u", i, k);
					cr_assert_eq(jit_call(export(inst, name), args, 2, &res, 1,
							      &trap), 0);
					cr_assert_eq(res.bits, k >= 3 ? !want : want,
						     "%s shape %u of (%g, %g): %" PRIu64, op, k,
						     vals[a], vals[b], res.bits);
				}
	jit_store_destroy(s);
	release_all();
	return 0;
}

Test(jit, eqz_of_a_compare_is_its_opposite_even_with_nan)
{
	harness_boot(1, 256u << 20, negated_body);
}

/*
 * A module the compiler rejects gets the error the decoder gives it,
 * whether its bodies were validated before the compile (one hart) or by
 * the harts compiling them (several): the first malformed thing in the
 * module if any, else the first invalid one.
 */
static const uint8_t two_funcs[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00,		/* type () -> () */
	0x03, 0x03, 0x02, 0x00, 0x00,			/* two functions */
	0x05, 0x03, 0x01, 0x00, 0x01,			/* memory 1 */
	0x0a, 0x08, 0x02, 0x02, 0x00, 0x0b,		/* code: a valid body, */
	0x03, 0x00, 0x6a, 0x0b,				/* i32.add of nothing */
};
static const uint8_t bad_data_malformed[] = {
	0x0b, 0x03, 0x01, 0x00, 0x41,			/* i32.const cut off */
};
static const uint8_t bad_data_invalid[] = {
	0x0b, 0x07, 0x01, 0x00, 0x42, 0x00, 0x0b, 0x01, 0x2a,	/* an i64 offset */
};

static void rejected_alike(const uint8_t *tail, size_t tail_len, bool malformed)
{
	uint8_t bytes[64];
	size_t size = sizeof(two_funcs) + tail_len;
	struct jit_wasm_module *m;
	struct jit_wasm_error want, got;

	memcpy(bytes, two_funcs, sizeof(two_funcs));
	if (tail_len)
		memcpy(bytes + sizeof(two_funcs), tail, tail_len);
	cr_assert_eq(jit_wasm_decode(bytes, size, &jit_kernel_heap, &m, &want), -K_EINVAL);
	cr_assert_eq(want.malformed, malformed, "%s", want.msg);
	for (unsigned harts = 1; harts <= 4; harts *= 4) {
		struct jit_compile_opts o = { .harts = harts };
		struct jit_module *mod;

		memset(&got, 0, sizeof(got));
		cr_assert_eq(jit_module_compile(bytes, size, &o, &mod, &got), -K_EINVAL);
		cr_assert_eq(got.offset, want.offset, "%u harts: offset %#x, decoder %#x (%s)",
			     harts, got.offset, want.offset, got.msg);
		cr_assert_eq(got.malformed, want.malformed);
		cr_assert_str_eq(got.msg, want.msg);
	}
}

static int rejected_body(void *arg)
{
	(void)arg;
	rejected_alike(NULL, 0, false);
	rejected_alike(bad_data_malformed, sizeof(bad_data_malformed), true);
	rejected_alike(bad_data_invalid, sizeof(bad_data_invalid), false);
	return 0;
}

Test(jit, a_rejected_module_gets_the_decoders_error_on_any_number_of_harts)
{
	harness_boot(4, 256u << 20, rejected_body);
}
