/*
 * test_jit_runtime.c - the wasm runtime (jit/runtime.h and friends):
 * stores, memories, tables, globals, import matching, instantiation with
 * its segments, the runtime calls of rt.h with the spec's bounds rules,
 * jit_call, traps and their backtraces, preemption.
 *
 * Modules are built byte by byte (wasm_builder.h) and decoded; instead of
 * the compiler's output they carry, where they need code at all, a few
 * hand-written x86-64 functions that follow rt.h's calling convention
 * (below), so the runtime is tested on its own.
 */
#include "harness.h"
#include "wasm_builder.h"
#include "jit/runtime.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "sched/sched.h"

#define PAGE	JIT_PAGE_SIZE
#define RAM	(64ull << 20)

/* -- Modules ---------------------------------------------------------------- */

/*
 * The module w holds, with `code` (code_len bytes, not owned) as the code
 * of its n defined functions at offsets[]; the bytes are copied and kept
 * for the test's life, as the module points into them.
 */
static struct jit_module *module_with_code(const struct wb *w, const uint8_t *code,
					   size_t code_len, const uint32_t *offsets, uint32_t n)
{
	struct jit_module *mod = kzalloc(sizeof(*mod));
	uint8_t *bytes = malloc(w->len);
	struct jit_wasm_error err;

	cr_assert(mod && bytes);
	memcpy(bytes, w->buf, w->len);
	cr_assert_eq(jit_wasm_decode(bytes, w->len, &jit_kernel_heap, &mod->wasm, &err), 0,
		     "decode: %s at %u", err.msg, err.offset);
	jit_layout_of(mod->wasm, &mod->layout);
	mod->code = (uint8_t *)code;
	mod->code_len = code_len;
	mod->ndefined = n;
	if (n) {
		mod->func_offsets = kmalloc(sizeof(uint32_t) * n);
		memcpy(mod->func_offsets, offsets, sizeof(uint32_t) * n);
	}
	return mod;
}

static struct jit_module *module_of(const struct wb *w)
{
	return module_with_code(w, NULL, 0, NULL, 0);
}

/* jit_module_free, but the fake code is the test binary's own; and the
 * module's bytes. */
static void module_free(struct jit_module *mod)
{
	void *bytes = (void *)mod->wasm->bytes;

	mod->code = NULL;
	jit_module_free(mod);
	free(bytes);
}

static void wb_str(struct wb *s, const char *str)
{
	wb_u32(s, (uint32_t)strlen(str));
	wb_bytes(s, str, strlen(str));
}

/* A section from a scratch builder, which is then cleared. */
static void wb_flush(struct wb *w, uint8_t id, struct wb *s)
{
	wb_section(w, id, s->buf, s->len);
	s->len = 0;
}

#define SECTION(w, id, ...) wb_section(w, id, WB_BYTES(__VA_ARGS__))

static struct wb w, s;

static void fresh(void)
{
	w.len = 0;
	s.len = 0;
	wb_header(&w);
}

/* Types 0: (i32) -> i32, 1: () -> (), shared by the import tests. */
static void std_types(void)
{
	SECTION(&w, 1, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00);
}

/* A module importing one thing, "env"."x", of import description desc. */
static struct jit_module *importer(const uint8_t *desc, size_t n)
{
	fresh();
	std_types();
	wb_u32(&s, 1);
	wb_str(&s, "env");
	wb_str(&s, "x");
	wb_bytes(&s, desc, n);
	wb_flush(&w, 2, &s);
	return module_of(&w);
}

static struct jit_store *new_store(void)
{
	struct jit_store *store;

	cr_assert_eq(jit_store_create(&store), 0);
	return store;
}

static struct jit_extern ext_memory(struct jit_memory *m)
{
	return (struct jit_extern){ .kind = JIT_EXTERN_MEMORY, .memory = m };
}

static struct jit_extern ext_table(struct jit_table *t)
{
	return (struct jit_extern){ .kind = JIT_EXTERN_TABLE, .table = t };
}

static struct jit_extern ext_global(struct jit_global *g)
{
	return (struct jit_extern){ .kind = JIT_EXTERN_GLOBAL, .global = g };
}

static struct jit_extern ext_func(struct jit_func *f)
{
	return (struct jit_extern){ .kind = JIT_EXTERN_FUNC, .func = f };
}

static struct jit_value i32v(uint32_t v)
{
	return (struct jit_value){ JIT_I32, v };
}

static struct jit_value i64v(uint64_t v)
{
	return (struct jit_value){ JIT_I64, v };
}

/* -- Layout and types --------------------------------------------------------- */

static int layout_body(void *arg)
{
	struct jit_module *mod;
	struct jit_layout l;

	(void)arg;
	/* 2 types, imports: func, table, global; then 1 table, 2 globals. */
	fresh();
	std_types();
	SECTION(&w, 2, 0x03,
		0x01, 'e', 0x01, 'f', 0x00, 0x01,
		0x01, 'e', 0x01, 't', 0x01, 0x70, 0x00, 0x00,
		0x01, 'e', 0x01, 'g', 0x03, 0x7f, 0x00);
	SECTION(&w, 4, 0x01, 0x6f, 0x00, 0x01);
	SECTION(&w, 6, 0x02, 0x7e, 0x01, 0x42, 0x05, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b);
	mod = module_of(&w);
	jit_layout_of(mod->wasm, &l);
	cr_assert_eq(memcmp(&l, &mod->layout, sizeof(l)), 0);
	cr_assert_geq(l.funcs, sizeof(struct jit_instance));
	cr_assert_eq(l.funcs % 8, 0);
	cr_assert_eq(l.imports, l.funcs + 8 * 1);
	cr_assert_eq(l.tables, l.imports + sizeof(struct jit_import) * 1);
	cr_assert_eq(l.globals, l.tables + 8 * 2);
	cr_assert_eq(l.type_ids, l.globals + 8 * 3);
	cr_assert_eq(l.size, l.type_ids + 8 * 2);
	module_free(mod);
	return 0;
}

Test(jit_runtime, vmctx_layout_puts_the_arrays_after_the_instance)
{
	harness_boot(1, RAM, layout_body);
}

static int types_body(void *arg)
{
	static const uint8_t ii[] = { JIT_I32, JIT_I32 }, i[] = { JIT_I32 };
	uint8_t copy[] = { JIT_I32, JIT_I32 };
	struct jit_sig add = { ii, i, 2, 1 }, add2 = { copy, copy, 2, 1 };
	struct jit_sig one_in = { i, NULL, 1, 0 }, one_out = { NULL, i, 0, 1 };
	struct jit_sig none = { NULL, NULL, 0, 0 };
	uint32_t a, b, c, d, e;

	(void)arg;
	cr_assert_eq(jit_types_intern(&add, &a), 0);
	cr_assert_eq(jit_types_intern(&add2, &b), 0);
	cr_assert_neq(a, 0);
	cr_assert_eq(a, b, "structurally equal types get one id");
	cr_assert_eq(jit_types_intern(&one_in, &c), 0);
	cr_assert_eq(jit_types_intern(&one_out, &d), 0);
	cr_assert_eq(jit_types_intern(&none, &e), 0);
	cr_assert(c != d && c != a && d != a && e != a && e != c && e != d && e != 0,
		  "ids %u %u %u %u", a, c, d, e);
	/* Many distinct types: every one keeps its id. */
	for (uint32_t n = 0; n < 600; n++) {
		uint8_t p[3] = { (uint8_t)(0x7c + n % 4), (uint8_t)(0x7c + n / 4 % 4),
				 (uint8_t)(0x7c + n / 16 % 4) };
		struct jit_sig sig = { p, p, 3, n / 64 % 4 };
		uint32_t x, y;

		cr_assert_eq(jit_types_intern(&sig, &x), 0);
		cr_assert_eq(jit_types_intern(&sig, &y), 0);
		cr_assert_eq(x, y);
	}
	cr_assert_eq(jit_types_intern(&add, &b), 0);
	cr_assert_eq(a, b);
	return 0;
}

Test(jit_runtime, function_types_get_canonical_ids)
{
	harness_boot(1, RAM, types_body);
}

/* -- Memories --------------------------------------------------------------- */

static int memory_grow_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_memory *mem, *big, *tmp;
	uint64_t size;
	uint8_t *base;

	(void)arg;
	cr_assert_eq(jit_memory_new(store, 1, 3, &mem), 0);
	base = jit_memory_data(mem, &size);
	cr_assert_eq(size, PAGE);
	cr_assert_eq(mem->pages, 1);
	/* Host writes, then reads back, at both ends. */
	base[0] = 1;
	base[PAGE - 1] = 2;
	cr_assert_eq(base[0] + base[PAGE - 1], 3);
	cr_assert_eq(jit_memory_grow(mem, 0), 1);
	cr_assert_eq(jit_memory_grow(mem, 1), 1);
	cr_assert_eq(jit_memory_data(mem, &size), base, "the base never moves");
	cr_assert_eq(size, 2 * PAGE);
	cr_assert_eq(base[PAGE + 5], 0, "new pages are zero");
	base[2 * PAGE - 1] = 9;
	cr_assert_eq(base[PAGE - 1], 2, "growing keeps the contents");
	cr_assert_eq(jit_memory_grow(mem, 2), -1, "past the max");
	cr_assert_eq(mem->pages, 2, "a failed grow changes nothing");
	cr_assert_eq(jit_memory_grow(mem, 1), 2);
	cr_assert_eq(jit_memory_grow(mem, 1), -1);
	cr_assert_eq(jit_memory_grow(mem, 0), 3);

	/* No max: the 65536-page limit, and then the store's budget. */
	cr_assert_eq(jit_memory_new(store, 0, UINT32_MAX, &big), 0);
	cr_assert_eq(jit_memory_grow(big, 65537), -1);
	cr_assert_eq(jit_memory_grow(big, UINT32_MAX), -1);
	cr_assert_eq(jit_memory_grow(big, 0), 0);
	cr_assert_eq(jit_memory_grow(big, 4), 0);

	cr_assert_eq(jit_memory_new(store, 2, 1, &tmp), -K_EINVAL);
	cr_assert_eq(jit_memory_new(store, 65537, UINT32_MAX, &tmp), -K_EINVAL);
	cr_assert_eq(jit_memory_new(store, 0, 65537, &tmp), -K_EINVAL);
	cr_assert_eq(jit_memory_new(store, 65536, 65536, &tmp), -K_ENOMEM,
		     "past the default budget on a 64 MiB machine");
	jit_store_set_memory_budget(store, 8ull << 30);
	cr_assert_eq(jit_memory_new(store, 65536, 65536, &tmp), 0,
		     "4 GiB is only address space until touched");
	tmp->base[(4ull << 30) - 1] = 1;
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, memories_grow_in_place_up_to_their_max)
{
	harness_boot(1, RAM, memory_grow_body);
}

/* Lines of /proc/self/maps: the process's host mappings. */
static unsigned host_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned n = 0;
	int c;

	cr_assert(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/*
 * A memory touched a page at a time, as a program fills what it grows,
 * takes consecutive frames, which vm_sim maps as a few host mappings; one
 * per 4 KiB page would reach vm.max_map_count (65530 by default) at
 * 256 MiB, and k23sim would stop with a failed mmap.
 */
static int memory_touch_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_memory *mem;
	unsigned before, after;
	uint64_t size;
	uint8_t *base;

	(void)arg;
	cr_assert_eq(jit_memory_new(store, 0, UINT32_MAX, &mem), 0);
	cr_assert_eq(jit_memory_grow(mem, 512), 0);
	base = jit_memory_data(mem, &size);
	before = host_mappings();
	for (uint64_t off = 0; off < size; off += 4096)
		base[off] = 1;
	after = host_mappings();
	cr_assert_lt(after, before + 64, "32 MiB touched page by page: %u host mappings, were %u",
		     after, before);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, a_memory_touched_page_by_page_takes_few_host_mappings)
{
	harness_boot(1, RAM, memory_touch_body);
}

static int memory_budget_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_memory *a, *b;

	(void)arg;
	jit_store_set_memory_budget(store, 4 * PAGE);
	cr_assert_eq(jit_memory_new(store, 3, UINT32_MAX, &a), 0);
	cr_assert_eq(jit_memory_new(store, 2, UINT32_MAX, &b), -K_ENOMEM);
	cr_assert_eq(jit_memory_new(store, 1, UINT32_MAX, &b), 0);
	cr_assert_eq(jit_memory_grow(a, 1), -1, "the budget is spent");
	cr_assert_eq(jit_memory_grow(b, 0), 1);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, a_store_budget_bounds_all_its_memories)
{
	harness_boot(1, RAM, memory_budget_body);
}

static int many_memories_body(void *arg)
{
	enum { N = 40 };
	struct jit_store *store = new_store();
	struct jit_memory *mems[N];
	unsigned spaces = 0;

	(void)arg;
	for (unsigned i = 0; i < N; i++) {
		uint64_t size;

		cr_assert_eq(jit_memory_new(store, 1, 1, &mems[i]), 0, "memory %u", i);
		jit_memory_data(mems[i], &size)[PAGE - 1] = (uint8_t)i;
	}
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(mems[i]->base[PAGE - 1], (uint8_t)i);
		for (unsigned j = 0; j < i; j++)
			cr_assert_neq(mems[i]->base, mems[j]->base);
	}
	for (struct jit_space *sp = store->spaces; sp; sp = sp->next) {
		cr_assert_leq(sp->used, sp->nslots);
		spaces++;
	}
	cr_assert_geq(spaces, 2, "%u memories in %u spaces", N, spaces);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, memories_past_one_window_go_to_another_space)
{
	harness_boot(1, RAM, many_memories_body);
}

/* A host access past a memory's end is no wasm trap: the kernel panics. */
static int host_fault_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_memory *mem;
	volatile uint8_t *p;

	(void)arg;
	cr_assert_eq(jit_memory_new(store, 1, 2, &mem), 0);
	p = mem->base;
	p[PAGE - 1] = 1;
	printf("touching past the end\n");
	fflush(stdout);
	p[PAGE] = 1;
	printf("not reached\n");
	return 0;
}

Test(jit_runtime, a_fault_past_a_memory_outside_wasm_code_panics)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, RAM, host_fault_body);
	cr_assert(strstr(o.out, "touching past the end"), "%s", o.out);
	cr_assert_null(strstr(o.out, "not reached"), "%s", o.out);
	cr_assert(strstr(o.out, "kernel_trap: unhandled store page fault"), "%s", o.out);
	cr_assert(!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0);
}

/* -- The scheduler's side ----------------------------------------------------- */

static intptr_t stack_low_task(void *arg)
{
	uintptr_t low = sched_stack_low(), here = (uintptr_t)__builtin_frame_address(0);

	(void)arg;
	return low < here && here - low < (256u << 10) && here - low > (128u << 10);
}

static int stack_low_body(void *arg)
{
	struct sched_attr attr = { .name = "low", .stack_size = 256u << 10, .hart = -1 };
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	sched_task_t t;
	intptr_t ok;

	(void)arg;
	/* init runs on the boot stack: SCHED_BOOT_STACK_USABLE below where
	 * kernel_boot() entered the scheduler, a few frames from here. */
	cr_assert_lt(sched_stack_low(), here);
	cr_assert_lt(here - sched_stack_low(), SCHED_BOOT_STACK_USABLE + (16u << 10));
	cr_assert_gt(here - sched_stack_low(), SCHED_BOOT_STACK_USABLE - (16u << 10));
	cr_assert_eq(sched_spawn(&t, stack_low_task, NULL, &attr), 0);
	sched_join(t, &ok);
	cr_assert(ok, "a task's low bound is its stack's base");
	return 0;
}

Test(jit_runtime, sched_stack_low_bounds_the_calling_tasks_stack)
{
	harness_boot(1, RAM, stack_low_body);
}

/* -- Tables and globals --------------------------------------------------------- */

static int tables_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_table *t, *x, *tmp;

	(void)arg;
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 2, 10, 0, &t), 0);
	cr_assert_eq(jit_table_size(t), 2);
	cr_assert_eq(t->elems[0] | t->elems[1], 0);
	t->elems[1] = 5;
	cr_assert_eq(jit_table_grow(t, 3, 7), 2);
	cr_assert_eq(jit_table_size(t), 5);
	cr_assert_eq(t->elems[1], 5);
	for (unsigned i = 2; i < 5; i++)
		cr_assert_eq(t->elems[i], 7);
	cr_assert_eq(jit_table_grow(t, 6, 0), -1, "past the max");
	cr_assert_eq(jit_table_size(t), 5);
	cr_assert_eq(jit_table_grow(t, 5, 1), 5);
	cr_assert_eq(jit_table_grow(t, 0, 1), 10);
	cr_assert_eq(t->elems[9], 1);

	cr_assert_eq(jit_table_new(store, JIT_EXTERNREF, 3, UINT32_MAX, 0xabc, &x), 0);
	cr_assert_eq(x->elems[2], 0xabc);
	for (unsigned i = 0; i < 100; i++)
		cr_assert_eq(jit_table_grow(x, 1, i), 3 + i);
	cr_assert_eq(x->elems[102], 99);
	cr_assert_eq(x->elems[0], 0xabc);
	cr_assert_eq(jit_table_grow(x, UINT32_MAX, 0), -1);

	cr_assert_eq(jit_table_new(store, JIT_I32, 1, 1, 0, &tmp), -K_EINVAL);
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 2, 1, 0, &tmp), -K_EINVAL);
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 0, 0, 0, &tmp), 0);
	cr_assert_eq(jit_table_grow(tmp, 1, 0), -1);
	cr_assert_eq(jit_table_grow(tmp, 0, 0), 0);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, tables_grow_and_keep_their_elements)
{
	harness_boot(1, RAM, tables_body);
}

static int globals_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_global *g, *f, *tmp;
	struct jit_value v;

	(void)arg;
	cr_assert_eq(jit_global_new(store, JIT_I32, true, i32v(5), &g), 0);
	v = jit_global_get(g);
	cr_assert_eq(v.type, JIT_I32);
	cr_assert_eq(v.bits, 5);
	jit_global_set(g, (struct jit_value){ JIT_I32, 0x100000009ull });
	cr_assert_eq(jit_global_get(g).bits, 9, "i32 keeps the low half");
	cr_assert_eq((void *)&g->bits, (void *)g, "compiled code addresses the cell");
	cr_assert_eq(jit_global_new(store, JIT_F64, false,
				    (struct jit_value){ JIT_F64, 0x7ff8000000000001ull }, &f), 0);
	cr_assert_eq(jit_global_get(f).bits, 0x7ff8000000000001ull, "NaN payloads survive");
	cr_assert_eq(jit_global_new(store, JIT_I64, false, i32v(1), &tmp), -K_EINVAL);
	cr_assert_eq(jit_global_new(store, JIT_V128, false,
				    (struct jit_value){ JIT_V128, 0 }, &tmp), -K_ENOSYS);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, globals_hold_typed_values)
{
	harness_boot(1, RAM, globals_body);
}

static int define_body(void *arg)
{
	struct jit_store *store = new_store(), *other = new_store();
	struct jit_memory *mem, *foreign;
	const struct jit_extern *found;

	(void)arg;
	cr_assert_eq(jit_memory_new(store, 1, 1, &mem), 0);
	cr_assert_eq(jit_memory_new(other, 1, 1, &foreign), 0);
	cr_assert_eq(jit_store_define(store, "env", "mem", ext_memory(mem)), 0);
	cr_assert_eq(jit_store_define(store, "env", "mem", ext_memory(mem)), -K_EEXIST);
	cr_assert_eq(jit_store_define(store, "env", "other", ext_memory(foreign)), -K_EINVAL,
		     "objects of another store cannot be linked");
	cr_assert_eq(jit_store_define(store, "en", "vmem", ext_memory(mem)), 0,
		     "(\"en\", \"vmem\") is not (\"env\", \"mem\")");
	found = jit_store_lookup(store, (const uint8_t *)"env", 3, (const uint8_t *)"mem", 3);
	cr_assert(found && found->memory == mem);
	cr_assert_null(jit_store_lookup(store, (const uint8_t *)"env", 3,
					(const uint8_t *)"me", 2));
	/* Enough definitions to rehash a few times. */
	for (unsigned i = 0; i < 500; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%u", i);
		cr_assert_eq(jit_store_define(store, "many", name, ext_memory(mem)), 0);
	}
	for (unsigned i = 0; i < 500; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%u", i);
		cr_assert_not_null(jit_store_lookup(store, (const uint8_t *)"many", 4,
						    (const uint8_t *)name, (uint32_t)strlen(name)));
	}
	jit_store_destroy(other);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, definitions_are_unique_and_of_the_store)
{
	harness_boot(1, RAM, define_body);
}

/* -- Import matching ------------------------------------------------------------ */

/* Instantiating mod in store fails as unlinkable with want in the message. */
static void expect_unlinkable(struct jit_store *store, const struct jit_module *mod,
			      int rc_want, const char *want)
{
	struct jit_instance *inst = (struct jit_instance *)1;
	struct jit_link_error err;
	int rc = jit_instantiate(store, mod, &inst, &err);

	cr_assert_eq(rc, rc_want, "rc %d, message \"%s\"", rc, err.msg);
	cr_assert(err.unlinkable);
	cr_assert_null(inst);
	cr_assert(strstr(err.msg, want), "\"%s\" lacks \"%s\"", err.msg, want);
}

static void expect_links(struct jit_store *store, const struct jit_module *mod)
{
	struct jit_instance *inst;
	struct jit_link_error err;

	cr_assert_eq(jit_instantiate(store, mod, &inst, &err), 0, "%s", err.msg);
	cr_assert_not_null(inst);
}

static uint32_t host_id(void *ctx, struct jit_instance *caller, uint32_t x)
{
	(void)ctx;
	(void)caller;
	return x;
}

static int import_memory_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *m12 = importer(WB_BYTES(0x02, 0x01, 0x01, 0x02));	/* memory 1 2 */
	struct jit_module *m2 = importer(WB_BYTES(0x02, 0x00, 0x02));		/* memory 2 */
	struct jit_memory *mem;
	struct jit_table *tab;

	(void)arg;
	expect_unlinkable(store, m12, -K_ENOENT, "unknown import \"env\".\"x\"");
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 1, 1, 0, &tab), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_table(tab)), 0);
	expect_unlinkable(store, m12, -K_EINVAL,
			  "incompatible import type \"env\".\"x\": expected memory, got table");
	jit_store_destroy(store);

	/* Limits: at least the min, a max no larger than the import's. */
	store = new_store();
	cr_assert_eq(jit_memory_new(store, 1, UINT32_MAX, &mem), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_memory(mem)), 0);
	expect_unlinkable(store, m12, -K_EINVAL, "memory limits {min 1, no max} do not fit "
			  "{min 1, max 2}");
	expect_unlinkable(store, m2, -K_EINVAL, "incompatible import type");
	cr_assert_eq(jit_memory_grow(mem, 1), 1);
	expect_links(store, m2);	/* its current size counts */
	jit_store_destroy(store);

	store = new_store();
	cr_assert_eq(jit_memory_new(store, 1, 3, &mem), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_memory(mem)), 0);
	expect_unlinkable(store, m12, -K_EINVAL, "incompatible import type");
	jit_store_destroy(store);

	store = new_store();
	cr_assert_eq(jit_memory_new(store, 2, 2, &mem), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_memory(mem)), 0);
	expect_links(store, m12);
	expect_links(store, m2);
	jit_store_destroy(store);
	module_free(m12);
	module_free(m2);
	return 0;
}

Test(jit_runtime, memory_imports_follow_limits_subtyping)
{
	harness_boot(1, RAM, import_memory_body);
}

static int import_table_global_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *tf = importer(WB_BYTES(0x01, 0x70, 0x01, 0x02, 0x04));	/* funcref 2 4 */
	struct jit_module *gm = importer(WB_BYTES(0x03, 0x7f, 0x01));		/* mut i32 */
	struct jit_module *gc = importer(WB_BYTES(0x03, 0x7f, 0x00));		/* i32 */
	struct jit_table *ext, *small, *fits;
	struct jit_global *g32, *g64, *g32m;

	(void)arg;
	cr_assert_eq(jit_table_new(store, JIT_EXTERNREF, 2, 4, 0, &ext), 0);
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 1, 4, 0, &small), 0);
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 3, 3, 0, &fits), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_table(ext)), 0);
	expect_unlinkable(store, tf, -K_EINVAL, "expected table of funcref, got externref");
	jit_store_destroy(store);
	store = new_store();
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 1, 4, 0, &small), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_table(small)), 0);
	expect_unlinkable(store, tf, -K_EINVAL, "table limits {min 1, max 4} do not fit");
	jit_store_destroy(store);
	store = new_store();
	cr_assert_eq(jit_table_new(store, JIT_FUNCREF, 3, 3, 0, &fits), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_table(fits)), 0);
	expect_links(store, tf);
	jit_store_destroy(store);

	/* Globals: the same type and the same mutability. */
	store = new_store();
	cr_assert_eq(jit_global_new(store, JIT_I32, false, i32v(1), &g32), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_global(g32)), 0);
	expect_unlinkable(store, gm, -K_EINVAL, "expected global mut i32, got global i32");
	expect_links(store, gc);
	jit_store_destroy(store);
	store = new_store();
	cr_assert_eq(jit_global_new(store, JIT_I64, false, i64v(1), &g64), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_global(g64)), 0);
	expect_unlinkable(store, gc, -K_EINVAL, "expected global i32, got global i64");
	jit_store_destroy(store);
	store = new_store();
	cr_assert_eq(jit_global_new(store, JIT_I32, true, i32v(1), &g32m), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_global(g32m)), 0);
	expect_unlinkable(store, gc, -K_EINVAL, "incompatible import type");
	expect_links(store, gm);
	jit_store_destroy(store);
	module_free(tf);
	module_free(gm);
	module_free(gc);
	return 0;
}

Test(jit_runtime, table_and_global_imports_must_match)
{
	harness_boot(1, RAM, import_table_global_body);
}

static int import_func_body(void *arg)
{
	static const uint8_t i[] = { JIT_I32 }, l[] = { JIT_I64 };
	struct jit_sig ii = { i, i, 1, 1 }, ll = { l, l, 1, 1 };
	struct jit_module *fi = importer(WB_BYTES(0x00, 0x00));		/* (i32) -> i32 */
	struct jit_store *store = new_store();
	struct jit_func *f;

	(void)arg;
	cr_assert_eq(jit_func_new_host(store, &ll, (void *)host_id, NULL, &f), 0);
	cr_assert_eq(jit_store_define(store, "env", "x", ext_func(f)), 0);
	expect_unlinkable(store, fi, -K_EINVAL, "function type mismatch");
	jit_store_destroy(store);
	store = new_store();
	cr_assert_eq(jit_func_new_host(store, &ii, (void *)host_id, NULL, &f), 0);
	cr_assert_eq(jit_func_sig(f).nparams, 1);
	cr_assert_eq(jit_func_sig(f).params[0], JIT_I32);
	cr_assert_neq(jit_func_sig(f).params, i, "the signature is copied");
	cr_assert_eq(jit_store_define(store, "env", "x", ext_func(f)), 0);
	expect_links(store, fi);
	jit_store_destroy(store);
	module_free(fi);
	return 0;
}

Test(jit_runtime, function_imports_need_the_exact_type)
{
	harness_boot(1, RAM, import_func_body);
}

/* -- Instantiation -------------------------------------------------------------- */

/*
 * Imports "env"."mem" (memory 1) and "env"."off" (global i32); data
 * segments: "abc" at 10, "hi" at global "off", then `last` (n bytes) at
 * last_at.
 */
static struct jit_module *data_module(uint32_t last_at, const char *last)
{
	fresh();
	SECTION(&w, 2, 0x02, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
		0x03, 'e', 'n', 'v', 0x03, 'o', 'f', 'f', 0x03, 0x7f, 0x00);
	wb_u32(&s, 3);
	wb_bytes(&s, WB_BYTES(0x00, 0x41, 10, 0x0b, 0x03, 'a', 'b', 'c'));
	wb_bytes(&s, WB_BYTES(0x00, 0x23, 0x00, 0x0b, 0x02, 'h', 'i'));
	wb_byte(&s, 0x00);
	wb_byte(&s, 0x41);	/* i32.const last_at, as signed LEB128 */
	{
		int64_t v = (int32_t)last_at;

		for (;;) {
			uint8_t b = v & 0x7f;

			v >>= 7;
			if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
				wb_byte(&s, b);
				break;
			}
			wb_byte(&s, b | 0x80);
		}
	}
	wb_byte(&s, 0x0b);
	wb_str(&s, last);
	wb_flush(&w, 11, &s);
	return module_of(&w);
}

static int data_segments_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *ok = data_module(PAGE - 2, "yz");
	struct jit_module *end = data_module(PAGE, "");
	struct jit_module *past = data_module(PAGE + 1, "");
	struct jit_module *oob = data_module(PAGE - 2, "xyz");
	struct jit_link_error err;
	struct jit_instance *inst;
	struct jit_memory *mem;
	struct jit_global *off;

	(void)arg;
	cr_assert_eq(jit_memory_new(store, 1, UINT32_MAX, &mem), 0);
	cr_assert_eq(jit_global_new(store, JIT_I32, false, i32v(100), &off), 0);
	cr_assert_eq(jit_store_define(store, "env", "mem", ext_memory(mem)), 0);
	cr_assert_eq(jit_store_define(store, "env", "off", ext_global(off)), 0);

	expect_links(store, ok);
	cr_assert_eq(memcmp(mem->base + 10, "abc", 3), 0);
	cr_assert_eq(memcmp(mem->base + 100, "hi", 2), 0);
	cr_assert_eq(memcmp(mem->base + PAGE - 2, "yz", 2), 0);
	memset(mem->base, 0, PAGE);

	expect_links(store, end);	/* an empty segment at the very end fits */
	cr_assert_eq(jit_instantiate(store, past, &inst, &err), -K_EFAULT);

	/* The last segment does not fit: it traps, what came before stays. */
	memset(mem->base, 0, PAGE);
	cr_assert_eq(jit_instantiate(store, oob, &inst, &err), -K_EFAULT);
	cr_assert_null(inst);
	cr_assert_not(err.unlinkable);
	cr_assert_eq(err.trap.code, JIT_TRAP_MEMORY_OOB);
	cr_assert_str_eq(err.msg, "out of bounds memory access");
	cr_assert_eq(memcmp(mem->base + 10, "abc", 3), 0);
	cr_assert_eq(memcmp(mem->base + 100, "hi", 2), 0);
	cr_assert_eq(mem->base[PAGE - 2] | mem->base[PAGE - 1], 0, "nothing of the failed one");
	jit_store_destroy(store);
	module_free(ok);
	module_free(end);
	module_free(past);
	module_free(oob);
	return 0;
}

Test(jit_runtime, data_segments_are_checked_one_by_one)
{
	harness_boot(1, RAM, data_segments_body);
}

/*
 * Imports "env"."tab" (table 4 externref) and "env"."ref" (global
 * externref); element segments (flags 6, externref expressions):
 * [null, global 0] at 1, then [global 0, global 0] at `at`.
 */
static struct jit_module *elem_module(uint8_t at)
{
	fresh();
	SECTION(&w, 2, 0x02, 0x03, 'e', 'n', 'v', 0x03, 't', 'a', 'b', 0x01, 0x6f, 0x00, 0x04,
		0x03, 'e', 'n', 'v', 0x03, 'r', 'e', 'f', 0x03, 0x6f, 0x00);
	SECTION(&w, 9, 0x02,
		0x06, 0x00, 0x41, 0x01, 0x0b, 0x6f, 0x02, 0xd0, 0x6f, 0x0b, 0x23, 0x00, 0x0b,
		0x06, 0x00, 0x41, at, 0x0b, 0x6f, 0x02, 0x23, 0x00, 0x0b, 0x23, 0x00, 0x0b);
	return module_of(&w);
}

static int elem_segments_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *ok = elem_module(2), *oob = elem_module(3);
	struct jit_link_error err;
	struct jit_instance *inst;
	struct jit_table *tab;
	struct jit_global *ref;

	(void)arg;
	cr_assert_eq(jit_table_new(store, JIT_EXTERNREF, 4, UINT32_MAX, 0x99, &tab), 0);
	cr_assert_eq(jit_global_new(store, JIT_EXTERNREF, false,
				    (struct jit_value){ JIT_EXTERNREF, 0x1234 }, &ref), 0);
	cr_assert_eq(jit_store_define(store, "env", "tab", ext_table(tab)), 0);
	cr_assert_eq(jit_store_define(store, "env", "ref", ext_global(ref)), 0);
	expect_links(store, ok);
	cr_assert_eq(tab->elems[0], 0x99);
	cr_assert_eq(tab->elems[1], 0, "ref.null");
	cr_assert_eq(tab->elems[2], 0x1234);
	cr_assert_eq(tab->elems[3], 0x1234);

	for (unsigned i = 0; i < 4; i++)
		tab->elems[i] = 0x99;
	cr_assert_eq(jit_instantiate(store, oob, &inst, &err), -K_EFAULT);
	cr_assert_eq(err.trap.code, JIT_TRAP_TABLE_OOB);
	cr_assert_str_eq(err.msg, "out of bounds table access");
	cr_assert_eq(tab->elems[1], 0, "the first segment was written");
	cr_assert_eq(tab->elems[2], 0x1234);
	cr_assert_eq(tab->elems[3], 0x99, "the second was not, not even in part");
	jit_store_destroy(store);
	module_free(ok);
	module_free(oob);
	return 0;
}

Test(jit_runtime, element_segments_are_checked_one_by_one)
{
	harness_boot(1, RAM, elem_segments_body);
}

/*
 * A module that defines and exports everything: memory 1 "mem", table
 * externref 4 "tab", global i32 = import "env"."g" ("g"), global mut i64
 * = 5 ("m"); data: passive "hello", active "AB" at 0; elements: passive
 * [null, null, null], declarative funcref (none), active [null] at 0.
 */
static struct jit_module *full_module(void)
{
	fresh();
	SECTION(&w, 2, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x00);
	SECTION(&w, 4, 0x01, 0x6f, 0x00, 0x04);
	SECTION(&w, 5, 0x01, 0x00, 0x01);
	SECTION(&w, 6, 0x02, 0x7f, 0x00, 0x23, 0x00, 0x0b, 0x7e, 0x01, 0x42, 0x05, 0x0b);
	SECTION(&w, 7, 0x04, 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x03, 't', 'a', 'b', 0x01, 0x00,
		0x01, 'g', 0x03, 0x01, 0x01, 'm', 0x03, 0x02);
	SECTION(&w, 9, 0x03,
		0x05, 0x6f, 0x03, 0xd0, 0x6f, 0x0b, 0xd0, 0x6f, 0x0b, 0xd0, 0x6f, 0x0b,
		0x07, 0x70, 0x00,
		0x06, 0x00, 0x41, 0x00, 0x0b, 0x6f, 0x01, 0xd0, 0x6f, 0x0b);
	SECTION(&w, 11, 0x02, 0x01, 0x05, 'h', 'e', 'l', 'l', 'o',
		0x00, 0x41, 0x00, 0x0b, 0x02, 'A', 'B');
	return module_of(&w);
}

static int exports_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = full_module(), *user;
	struct jit_instance *inst;
	struct jit_extern e;
	struct jit_global *g;
	uint64_t size;

	(void)arg;
	cr_assert_eq(jit_global_new(store, JIT_I32, false, i32v(7), &g), 0);
	cr_assert_eq(jit_store_define(store, "env", "g", ext_global(g)), 0);
	expect_links(store, mod);
	inst = store->instances;
	cr_assert_eq(jit_instance_export(inst, "g", &e), 0);
	cr_assert_eq(e.kind, JIT_EXTERN_GLOBAL);
	cr_assert_eq(jit_global_get(e.global).bits, 7, "initialised from the import");
	cr_assert_eq(jit_instance_export(inst, "m", &e), 0);
	cr_assert_eq(jit_global_get(e.global).type, JIT_I64);
	cr_assert_eq(jit_global_get(e.global).bits, 5);
	cr_assert(e.global->mut);
	cr_assert_eq(jit_instance_export(inst, "mem", &e), 0);
	cr_assert_eq(e.kind, JIT_EXTERN_MEMORY);
	cr_assert_eq(jit_instance_memory(inst, &size), e.memory->base);
	cr_assert_eq(size, PAGE);
	cr_assert_eq(memcmp(e.memory->base, "AB", 2), 0);
	cr_assert_eq(inst->vm.mem, e.memory);
	cr_assert_eq(inst->vm.mem_base, e.memory->base);
	cr_assert_eq(inst->vm.hot, &store->hot);
	cr_assert_eq(inst->vm.inst, inst);
	cr_assert_eq(jit_instance_export(inst, "tab", &e), 0);
	cr_assert_eq(e.kind, JIT_EXTERN_TABLE);
	cr_assert_eq(jit_table_size(e.table), 4);
	cr_assert_eq(jit_instance_export(inst, "nope", &e), -K_ENOENT);
	cr_assert_null(jit_instance_memory(NULL, &size));
	cr_assert_eq(size, 0);

	/* Registered, its exports satisfy another module's imports. */
	cr_assert_eq(jit_store_register(store, "M", inst), 0);
	user = importer(WB_BYTES(0x02, 0x00, 0x01));
	expect_unlinkable(store, user, -K_ENOENT, "unknown import");
	module_free(user);
	fresh();
	SECTION(&w, 2, 0x02, 0x01, 'M', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
		0x01, 'M', 0x01, 'm', 0x03, 0x7e, 0x01);
	user = module_of(&w);
	expect_links(store, user);
	cr_assert_eq(jit_store_register(store, "M", inst), 0, "registering again replaces");
	jit_store_destroy(store);
	module_free(user);
	module_free(mod);
	return 0;
}

Test(jit_runtime, instances_export_what_they_define)
{
	harness_boot(1, RAM, exports_body);
}

/* -- Runtime calls (rt.h) ----------------------------------------------------- */

static int bulk_memory_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = full_module();
	struct jit_instance *inst;
	struct jit_vmctx *vm;
	struct jit_global *g;
	uint8_t *base;

	(void)arg;
	cr_assert_eq(jit_global_new(store, JIT_I32, false, i32v(7), &g), 0);
	cr_assert_eq(jit_store_define(store, "env", "g", ext_global(g)), 0);
	expect_links(store, mod);
	inst = store->instances;
	vm = &inst->vm;
	base = vm->mem_base;

	/* memory.init from the passive segment "hello" (data 0). */
	cr_assert_eq(jit_rt_memory_init(vm, 0, 100, 1, 4), 0);
	cr_assert_eq(memcmp(base + 100, "ello", 4), 0);
	cr_assert_eq(jit_rt_memory_init(vm, 0, 200, 2, 4), JIT_TRAP_MEMORY_OOB, "src + n > len");
	cr_assert_eq(base[200], 0, "a trap writes nothing");
	cr_assert_eq(jit_rt_memory_init(vm, 0, PAGE - 2, 0, 3), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(base[PAGE - 2], 0);
	cr_assert_eq(jit_rt_memory_init(vm, 0, PAGE, 5, 0), 0, "n == 0 at both ends");
	cr_assert_eq(jit_rt_memory_init(vm, 0, PAGE + 1, 0, 0), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(jit_rt_memory_init(vm, 0, 0, 6, 0), JIT_TRAP_MEMORY_OOB);
	/* The active segment was dropped by instantiation: length 0. */
	cr_assert_eq(jit_rt_memory_init(vm, 1, 0, 0, 0), 0);
	cr_assert_eq(jit_rt_memory_init(vm, 1, 0, 0, 1), JIT_TRAP_MEMORY_OOB);
	jit_rt_data_drop(vm, 0);
	cr_assert_eq(jit_rt_memory_init(vm, 0, 0, 0, 1), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(jit_rt_memory_init(vm, 0, 0, 0, 0), 0);
	jit_rt_data_drop(vm, 0);	/* again: no effect */

	/* memory.fill */
	cr_assert_eq(jit_rt_memory_fill(vm, 10, 0x1ff, 5), 0);
	cr_assert_eq(base[10] + base[14], 2 * 0xff);
	cr_assert_eq(base[15], 0);
	cr_assert_eq(jit_rt_memory_fill(vm, PAGE - 4, 1, 5), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(base[PAGE - 4], 0);
	cr_assert_eq(jit_rt_memory_fill(vm, PAGE, 1, 0), 0);
	cr_assert_eq(jit_rt_memory_fill(vm, PAGE + 1, 1, 0), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(jit_rt_memory_fill(vm, UINT32_MAX, 1, 2), JIT_TRAP_MEMORY_OOB);

	/* memory.copy: overlapping both ways, and the bounds of each side. */
	memcpy(base + 1000, "0123456789", 10);
	cr_assert_eq(jit_rt_memory_copy(vm, 1002, 1000, 6), 0);
	cr_assert_eq(memcmp(base + 1000, "0101234589", 10), 0);
	cr_assert_eq(jit_rt_memory_copy(vm, 1000, 1002, 6), 0);
	cr_assert_eq(memcmp(base + 1000, "0123454589", 10), 0);
	cr_assert_eq(jit_rt_memory_copy(vm, PAGE - 1, 1000, 2), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(jit_rt_memory_copy(vm, 1000, PAGE - 1, 2), JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(base[PAGE - 1], 0);
	cr_assert_eq(jit_rt_memory_copy(vm, PAGE, PAGE, 0), 0);
	cr_assert_eq(jit_rt_memory_copy(vm, PAGE + 1, 0, 0), JIT_TRAP_MEMORY_OOB);

	/* memory.grow */
	cr_assert_eq(jit_rt_memory_grow(vm, 1), 1);
	cr_assert_eq(jit_rt_memory_fill(vm, PAGE, 7, PAGE), 0);
	cr_assert_eq(base[2 * PAGE - 1], 7);
	cr_assert_eq(jit_rt_memory_grow(vm, 70000), UINT32_MAX);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, bulk_memory_calls_check_bounds_before_writing)
{
	harness_boot(1, RAM, bulk_memory_body);
}

static int bulk_table_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = full_module();
	struct jit_instance *inst;
	struct jit_vmctx *vm;
	struct jit_global *g;
	struct jit_table *t;
	uint64_t v = 1;

	(void)arg;
	cr_assert_eq(jit_global_new(store, JIT_I32, false, i32v(7), &g), 0);
	cr_assert_eq(jit_store_define(store, "env", "g", ext_global(g)), 0);
	expect_links(store, mod);
	inst = store->instances;
	vm = &inst->vm;
	t = jit_inst_tables(inst)[0];

	cr_assert_eq(jit_rt_table_set(vm, 0, 3, 0x55), 0);
	cr_assert_eq(jit_rt_table_get(vm, 0, 3, &v), 0);
	cr_assert_eq(v, 0x55);
	cr_assert_eq(jit_rt_table_get(vm, 0, 4, &v), JIT_TRAP_TABLE_OOB);
	cr_assert_eq(jit_rt_table_set(vm, 0, 4, 1), JIT_TRAP_TABLE_OOB);

	cr_assert_eq(jit_rt_table_fill(vm, 0, 1, 0x66, 2), 0);
	cr_assert_eq(t->elems[1] + t->elems[2], 2 * 0x66);
	cr_assert_eq(jit_rt_table_fill(vm, 0, 3, 0x77, 2), JIT_TRAP_TABLE_OOB);
	cr_assert_eq(t->elems[3], 0x55);
	cr_assert_eq(jit_rt_table_fill(vm, 0, 4, 0x77, 0), 0);
	cr_assert_eq(jit_rt_table_fill(vm, 0, 5, 0x77, 0), JIT_TRAP_TABLE_OOB);

	cr_assert_eq(jit_rt_table_copy(vm, 0, 0, 0, 1, 3), 0);
	cr_assert_eq(t->elems[0], 0x66);
	cr_assert_eq(t->elems[2], 0x55);
	cr_assert_eq(jit_rt_table_copy(vm, 0, 0, 2, 0, 3), JIT_TRAP_TABLE_OOB);
	cr_assert_eq(jit_rt_table_copy(vm, 0, 0, 4, 4, 0), 0);

	/* table.init from the passive segment of three nulls (elem 0). */
	cr_assert_eq(jit_rt_table_init(vm, 0, 0, 1, 0, 3), 0);
	cr_assert_eq(t->elems[1] | t->elems[2] | t->elems[3], 0);
	cr_assert_eq(t->elems[0], 0x66);
	cr_assert_eq(jit_rt_table_init(vm, 0, 0, 0, 1, 3), JIT_TRAP_TABLE_OOB);
	cr_assert_eq(jit_rt_table_init(vm, 0, 0, 2, 0, 3), JIT_TRAP_TABLE_OOB);
	cr_assert_eq(jit_rt_table_init(vm, 0, 0, 4, 3, 0), 0);
	/* Declarative and active segments were dropped by instantiation. */
	cr_assert_eq(jit_rt_table_init(vm, 0, 1, 0, 0, 0), 0);
	cr_assert_eq(jit_rt_table_init(vm, 0, 2, 0, 0, 1), JIT_TRAP_TABLE_OOB);
	jit_rt_elem_drop(vm, 0);
	cr_assert_eq(jit_rt_table_init(vm, 0, 0, 0, 0, 1), JIT_TRAP_TABLE_OOB);

	cr_assert_eq(jit_rt_table_grow(vm, 0, 0x88, 2), 4);
	cr_assert_eq(jit_rt_table_get(vm, 0, 5, &v), 0);
	cr_assert_eq(v, 0x88);
	cr_assert_eq(jit_rt_table_grow(vm, 0, 0, UINT32_MAX), UINT32_MAX);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, bulk_table_calls_check_bounds_before_writing)
{
	harness_boot(1, RAM, bulk_table_body);
}

/* -- Host functions through jit_call -------------------------------------------- */

static uint32_t host_add(void *ctx, struct jit_instance *caller, uint32_t a, uint32_t b)
{
	cr_assert_eq(ctx, (void *)0x1234);
	cr_assert_null(caller, "called from the host, not from wasm");
	return a + b;
}

static double host_fma(void *ctx, struct jit_instance *caller, double a, float b, double c)
{
	return a * b + c;
}

static uint64_t host_sum8(void *ctx, struct jit_instance *caller, uint64_t a, uint32_t b,
			  uint64_t c, uint64_t d, uint64_t e, uint64_t f, uint32_t g, uint64_t h)
{
	return a + b + c + d + e + f + g + h;
}

/* (i32, i64) -> (i64, i32): swap. */
static void host_swap(void *ctx, struct jit_instance *caller, uint64_t *results,
		      uint32_t a, uint64_t b)
{
	results[0] = b;
	results[1] = a;
}

static void host_fail(void *ctx, struct jit_instance *caller, uint32_t status)
{
	jit_host_trap(caller, JIT_TRAP_HOST, (int32_t)status);
}

static struct jit_func *fail_fn;

/* Calls fail_fn (nested jit_call), which traps; returns 1 if it did. */
static uint32_t host_nested(void *ctx, struct jit_instance *caller)
{
	struct jit_value arg = i32v(3);
	struct jit_trap_info trap;
	int rc = jit_call(fail_fn, &arg, 1, NULL, 0, &trap);

	return rc == -K_EFAULT && trap.code == JIT_TRAP_HOST && trap.host_status == 3;
}

static struct jit_func *host(struct jit_store *store, const char *params, const char *results,
			     void *fn, void *ctx)
{
	uint8_t p[16], r[16];
	struct jit_sig sig = { p, r, (uint32_t)strlen(params), (uint32_t)strlen(results) };
	struct jit_func *f;

	for (uint32_t i = 0; i < sig.nparams; i++)
		p[i] = wb_type(params[i]);
	for (uint32_t i = 0; i < sig.nresults; i++)
		r[i] = wb_type(results[i]);
	cr_assert_eq(jit_func_new_host(store, &sig, fn, ctx, &f), 0);
	return f;
}

static int host_call_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_func *add = host(store, "ii", "i", (void *)host_add, (void *)0x1234);
	struct jit_func *fma = host(store, "dfd", "d", (void *)host_fma, NULL);
	struct jit_func *sum = host(store, "lilllli" "l", "l", (void *)host_sum8, NULL);
	struct jit_func *swap = host(store, "il", "li", (void *)host_swap, NULL);
	struct jit_value args[8], res[2];
	double d;
	float f = 1.5f;

	(void)arg;
	args[0] = i32v(40);
	args[1] = (struct jit_value){ JIT_I32, 0x100000002ull };	/* the high half is ignored */
	cr_assert_eq(jit_call(add, args, 2, res, 1, NULL), 0);
	cr_assert_eq(res[0].type, JIT_I32);
	cr_assert_eq(res[0].bits, 42);
	cr_assert_eq(jit_call(add, args, 1, res, 1, NULL), -K_EINVAL);
	cr_assert_eq(jit_call(add, args, 2, res, 0, NULL), -K_EINVAL);
	args[1] = i64v(2);
	cr_assert_eq(jit_call(add, args, 2, res, 1, NULL), -K_EINVAL, "an i64 for an i32");

	d = 2.0;
	memcpy(&args[0].bits, &d, 8);
	args[0].type = JIT_F64;
	args[1].type = JIT_F32;
	args[1].bits = 0;
	memcpy(&args[1].bits, &f, 4);
	d = 0.25;
	memcpy(&args[2].bits, &d, 8);
	args[2].type = JIT_F64;
	cr_assert_eq(jit_call(fma, args, 3, res, 1, NULL), 0);
	memcpy(&d, &res[0].bits, 8);
	cr_assert_eq(d, 3.25);

	for (unsigned i = 0; i < 8; i++)
		args[i] = (i == 1 || i == 6) ? i32v(1u << i) : i64v(1ull << (i + 32));
	cr_assert_eq(jit_call(sum, args, 8, res, 1, NULL), 0);
	cr_assert_eq(res[0].bits, 0xbdull << 32 | 0x42, "eight arguments, two on the stack");

	args[0] = i32v(7);
	args[1] = i64v(1ull << 40);
	cr_assert_eq(jit_call(swap, args, 2, res, 2, NULL), 0);
	cr_assert_eq(res[0].type, JIT_I64);
	cr_assert_eq(res[0].bits, 1ull << 40);
	cr_assert_eq(res[1].type, JIT_I32);
	cr_assert_eq(res[1].bits, 7);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, host_functions_are_called_through_their_entry_stub)
{
	harness_boot(1, RAM, host_call_body);
}

static int host_trap_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_func *nested = host(store, "", "i", (void *)host_nested, NULL);
	struct jit_value a = i32v(42), r;
	struct jit_trap_info trap;

	(void)arg;
	fail_fn = host(store, "i", "", (void *)host_fail, NULL);
	memset(&trap, 0xff, sizeof(trap));
	cr_assert_eq(jit_call(fail_fn, &a, 1, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_HOST);
	cr_assert_eq(trap.host_status, 42);
	cr_assert_eq(trap.nframes, 0, "no wasm frames");
	cr_assert_null(store->entries);
	cr_assert_eq(jit_call(fail_fn, &a, 1, NULL, 0, NULL), -K_EFAULT, "trap may be NULL");
	/* A trap ends the innermost call only. */
	cr_assert_eq(jit_call(nested, NULL, 0, &r, 1, &trap), 0);
	cr_assert_eq(r.bits, 1);
	cr_assert_null(store->entries);
	jit_store_destroy(store);
	return 0;
}

Test(jit_runtime, a_host_trap_ends_the_innermost_call)
{
	harness_boot(1, RAM, host_trap_body);
}

static int trap_message_body(void *arg)
{
	(void)arg;
	cr_assert_str_eq(jit_trap_message(JIT_TRAP_STACK_EXHAUSTED), "call stack exhausted");
	cr_assert_str_eq(jit_trap_message(JIT_TRAP_MEMORY_OOB), "out of bounds memory access");
	cr_assert_str_eq(jit_trap_message(JIT_TRAP_COUNT), "unknown trap");
	return 0;
}

Test(jit_runtime, trap_messages_are_the_spec_suites)
{
	harness_boot(1, RAM, trap_message_body);
}

/* -- Wasm code: hand-written x86-64 functions --------------------------------- */
#if defined(__x86_64__)

/*
 * Functions as the compiler would emit them (rt.h): rdi = own vmctx,
 * rsi = caller's vmctx, wasm params from rdx; a frame pointer chain
 * (push rbp; mov rbp, rsp); the vmctx header at its fixed offsets
 * (mem_base 0, hot 8), struct jit_hot's (stack_limit 0, the poll byte 8).
 */
_Static_assert(offsetof(struct jit_vmctx, mem_base) == 0 && offsetof(struct jit_vmctx, hot) == 8 &&
	       offsetof(struct jit_hot, stack_limit) == 0 && offsetof(struct jit_hot, poll) == 8 &&
	       offsetof(struct jit_func, code) == 0 && offsetof(struct jit_func, ctx) == 8,
	       "the offsets the functions below use");
_Static_assert(JIT_TRAP_UNREACHABLE == 1 && JIT_TRAP_STACK_EXHAUSTED == 10,
	       "the trap codes the functions below use");

uint64_t fake_funcs_off;	/* layout.funcs of the fake module */

extern const uint8_t fake_f42[], fake_load[], fake_trap[], fake_nest[], fake_nest_load[],
	fake_recurse[], fake_spin[], fake_call_import[], fake_unreach[], fake_end[];

__asm__(
	".text\n"
	".p2align 4\n"
	"fake_f42:\n"			/* () -> i32: 42 */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov $42, %eax\n"
	"	pop %rbp\n	ret\n"
	".p2align 4\n"
	"fake_load:\n"			/* (i32 addr) -> i32: memory 0 at addr */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov (%rdi), %rax\n"
	"	mov %edx, %edx\n"
	"	mov (%rax,%rdx), %eax\n"
	"	pop %rbp\n	ret\n"
	".p2align 4\n"
	"fake_trap:\n"			/* (i32 code) -> (): trap with code */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov %edx, %esi\n	mov %rbp, %rdx\n	lea 0(%rip), %rcx\n"
	"	call jit_rt_trap\n"
	".p2align 4\n"
	"fake_nest:\n"			/* (i32 code) -> (): fake_trap(code) */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	call fake_trap\n"
	"	pop %rbp\n	ret\n"
	".p2align 4\n"
	"fake_nest_load:\n"		/* (i32 addr) -> i32: fake_load(addr) */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	call fake_load\n"
	"	pop %rbp\n	ret\n"
	".p2align 4\n"
	"fake_recurse:\n"		/* () -> (): itself, until the stack limit */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov 8(%rdi), %rax\n"
	"	cmp (%rax), %rsp\n"
	"	jb 1f\n"
	"	call fake_recurse\n"
	"	pop %rbp\n	ret\n"
	"1:	mov $10, %esi\n	mov %rbp, %rdx\n	lea 0(%rip), %rcx\n"
	"	call jit_rt_trap\n"
	".p2align 4\n"
	"fake_spin:\n"			/* () -> (): loops, polling, until told to trap */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	push %rbx\n	push %r12\n"
	"	mov %rdi, %rbx\n"
	"1:	mov 8(%rbx), %rax\n"
	"	cmpb $0, 8(%rax)\n"
	"	je 1b\n"
	"	mov %rbx, %rdi\n"
	"	call jit_rt_poll\n"
	"	test %eax, %eax\n"
	"	jz 1b\n"
	"	mov %rbx, %rdi\n	mov %eax, %esi\n	mov %rbp, %rdx\n	lea 0(%rip), %rcx\n"
	"	call jit_rt_trap\n"
	".p2align 4\n"
	"fake_call_import:\n"		/* (i32) -> i32: import 0 with the same argument */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov fake_funcs_off(%rip), %rax\n"
	"	mov (%rdi,%rax), %rax\n"
	"	mov %rdi, %rsi\n"
	"	mov 8(%rax), %rdi\n"
	"	call *(%rax)\n"
	"	pop %rbp\n	ret\n"
	".p2align 4\n"
	"fake_unreach:\n"		/* () -> (): unreachable */
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	mov $1, %esi\n	mov %rbp, %rdx\n	lea 0(%rip), %rcx\n"
	"	call jit_rt_trap\n"
	".p2align 4\n"
	"fake_end:\n"
	"	int3\n");

/* Function indices in the fake module (import 0 is "host"."fn"). */
enum { F_IMPORT, F_42, F_LOAD, F_TRAP, F_NEST, F_NEST_LOAD, F_RECURSE, F_SPIN,
       F_CALL_IMPORT, F_UNREACH, F_COUNT };

static const char *const fake_names[F_COUNT] = {
	"fn", "f42", "load", "trap", "nest", "nest_load", "recurse", "spin", "call_import",
	"unreach",
};

/*
 * The fake module: types 0 () -> i32, 1 (i32) -> i32, 2 (i32) -> (),
 * 3 () -> (); import "host"."fn" (i32) -> i32; the functions above,
 * exported by name, each with a body of its type that validates; memory
 * 1 "mem"; table funcref 2 "tab" = [f42, load]; start if start >= 0;
 * names in a name section (module "fakes") if named.
 */
static struct jit_module *fake_module(int start, bool named)
{
	static const uint8_t types[F_COUNT] = { 1, 0, 1, 2, 2, 1, 3, 3, 1, 3 };
	const uint8_t *labels[F_COUNT - 1] = {
		fake_f42, fake_load, fake_trap, fake_nest, fake_nest_load, fake_recurse,
		fake_spin, fake_call_import, fake_unreach,
	};
	uint32_t offsets[F_COUNT - 1];
	struct jit_module *mod;

	fresh();
	SECTION(&w, 1, 0x04, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f,
		0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00);
	SECTION(&w, 2, 0x01, 0x04, 'h', 'o', 's', 't', 0x02, 'f', 'n', 0x00, 0x01);
	wb_u32(&s, F_COUNT - 1);
	for (unsigned i = 1; i < F_COUNT; i++)
		wb_u32(&s, types[i]);
	wb_flush(&w, 3, &s);
	SECTION(&w, 4, 0x01, 0x70, 0x00, 0x02);
	SECTION(&w, 5, 0x01, 0x00, 0x01);
	wb_u32(&s, F_COUNT + 1);
	for (unsigned i = 1; i < F_COUNT; i++) {
		wb_str(&s, fake_names[i]);
		wb_byte(&s, 0x00);
		wb_u32(&s, i);
	}
	wb_bytes(&s, WB_BYTES(0x03, 'm', 'e', 'm', 0x02, 0x00, 0x03, 't', 'a', 'b', 0x01, 0x00));
	wb_flush(&w, 7, &s);
	if (start >= 0)
		SECTION(&w, 8, (uint8_t)start);
	SECTION(&w, 9, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, F_42, F_LOAD);
	wb_u32(&s, F_COUNT - 1);
	for (unsigned i = 1; i < F_COUNT; i++) {
		if (types[i] == 0)
			wb_bytes(&s, WB_BYTES(0x04, 0x00, 0x41, 0x2a, 0x0b));
		else if (types[i] == 1)
			wb_bytes(&s, WB_BYTES(0x04, 0x00, 0x20, 0x00, 0x0b));
		else
			wb_bytes(&s, WB_BYTES(0x02, 0x00, 0x0b));
	}
	wb_flush(&w, 10, &s);
	if (named) {
		struct wb *sub = calloc(1, sizeof(*sub));

		wb_str(&s, "name");
		wb_str(sub, "fakes");
		wb_byte(&s, 0);
		wb_u32(&s, (uint32_t)sub->len);
		wb_bytes(&s, sub->buf, sub->len);
		sub->len = 0;
		wb_u32(sub, F_COUNT);
		for (unsigned i = 0; i < F_COUNT; i++) {
			wb_u32(sub, i);
			wb_str(sub, fake_names[i]);
		}
		wb_byte(&s, 1);
		wb_u32(&s, (uint32_t)sub->len);
		wb_bytes(&s, sub->buf, sub->len);
		free(sub);
		wb_flush(&w, 0, &s);
	}
	for (unsigned i = 0; i < F_COUNT - 1; i++)
		offsets[i] = (uint32_t)(labels[i] - fake_f42);
	mod = module_with_code(&w, fake_f42, (size_t)(fake_end - fake_f42), offsets, F_COUNT - 1);
	fake_funcs_off = mod->layout.funcs;
	return mod;
}

/*
 * What host "fn" does when fake_call_import calls it.  Its frame pointer
 * (which __builtin_frame_address makes it keep) leads a host trap's
 * backtrace to the wasm frames.
 */
static uint32_t host_fn(void *ctx, struct jit_instance *caller, uint32_t x)
{
	uint64_t size;
	uint8_t *mem = jit_instance_memory(caller, &size);

	cr_assert_not_null(__builtin_frame_address(0));
	cr_assert_not_null(caller, "wasm passes its vmctx");
	cr_assert_eq(caller, ctx, "the instance that called");
	if (x == 0xdead)
		jit_host_trap(caller, JIT_TRAP_HOST, 77);
	cr_assert_lt(x, size);
	return mem[x];
}

/* A store with host "fn" and an instance of the fake module; the host
 * function's ctx is the instance, for host_fn's check. */
static struct jit_instance *fake_instance(struct jit_store *store, struct jit_module *mod)
{
	struct jit_func *fn = host(store, "i", "i", (void *)host_fn, NULL);
	struct jit_instance *inst;
	struct jit_link_error err;

	cr_assert_eq(jit_store_define(store, "host", "fn", ext_func(fn)), 0);
	cr_assert_eq(jit_instantiate(store, mod, &inst, &err), 0, "%s", err.msg);
	fn->ctx = inst;
	return inst;
}

static struct jit_func *fake_export(struct jit_instance *inst, unsigned f)
{
	struct jit_extern e;

	cr_assert_eq(jit_instance_export(inst, fake_names[f], &e), 0);
	cr_assert_eq(e.kind, JIT_EXTERN_FUNC);
	cr_assert_eq(e.func->index, f);
	return e.func;
}

/* A trap's frames are these functions of mod, innermost first. */
static void expect_frames(const struct jit_trap_info *t, const struct jit_module *mod,
			  unsigned n, const unsigned *funcs)
{
	cr_assert_eq(t->nframes, n, "%u frames, want %u", t->nframes, n);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(t->frames[i].module, mod);
		cr_assert_eq(t->frames[i].func, funcs[i], "frame %u: func[%u], want func[%u]", i,
			     t->frames[i].func, funcs[i]);
	}
}

static int wasm_call_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = fake_module(-1, false);
	struct jit_instance *inst = fake_instance(store, mod);
	struct jit_value a, r;
	struct jit_trap_info trap;
	struct jit_table *tab;

	(void)arg;
	cr_assert_eq(jit_call(fake_export(inst, F_42), NULL, 0, &r, 1, NULL), 0);
	cr_assert_eq(r.bits, 42);

	/* Traps from code, with the wasm frames. */
	a = i32v(JIT_TRAP_UNREACHABLE);
	cr_assert_eq(jit_call(fake_export(inst, F_TRAP), &a, 1, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_UNREACHABLE);
	expect_frames(&trap, mod, 1, (const unsigned[]){ F_TRAP });
	a = i32v(JIT_TRAP_DIV_ZERO);
	cr_assert_eq(jit_call(fake_export(inst, F_NEST), &a, 1, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_DIV_ZERO);
	expect_frames(&trap, mod, 2, (const unsigned[]){ F_TRAP, F_NEST });
	cr_assert_null(store->entries);

	/* The element segment put function objects into the table. */
	tab = jit_inst_tables(inst)[0];
	cr_assert_eq(tab->elems[0], (uint64_t)(uintptr_t)fake_export(inst, F_42));
	cr_assert_eq(((struct jit_func *)(uintptr_t)tab->elems[1])->code, (void *)fake_load);
	cr_assert_eq(((struct jit_func *)(uintptr_t)tab->elems[1])->ctx, &inst->vm);
	cr_assert_eq(jit_call((struct jit_func *)(uintptr_t)tab->elems[0], NULL, 0, &r, 1, NULL), 0);
	cr_assert_eq(r.bits, 42);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, wasm_functions_run_and_trap_with_a_backtrace)
{
	harness_boot(1, RAM, wasm_call_body);
}

static int memory_fault_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = fake_module(-1, false);
	struct jit_instance *inst = fake_instance(store, mod);
	struct jit_func *load = fake_export(inst, F_NEST_LOAD);
	struct jit_trap_info trap;
	struct jit_value a, r;
	uint64_t size;
	uint8_t *base = jit_instance_memory(inst, &size);

	(void)arg;
	base[PAGE - 4] = 0x11;
	a = i32v(PAGE - 4);
	cr_assert_eq(jit_call(load, &a, 1, &r, 1, &trap), 0);
	cr_assert_eq(r.bits, 0x11);
	for (uint32_t at = PAGE - 3; at < PAGE + 8; at += 3) {
		a = i32v(at);
		cr_assert_eq(jit_call(load, &a, 1, &r, 1, &trap), -K_EFAULT, "load at %#x", at);
		cr_assert_eq(trap.code, JIT_TRAP_MEMORY_OOB);
		expect_frames(&trap, mod, 2, (const unsigned[]){ F_LOAD, F_NEST_LOAD });
	}
	a = i32v(0xfffffffc);
	cr_assert_eq(jit_call(load, &a, 1, &r, 1, &trap), -K_EFAULT, "4 GiB up");
	/* Grown, the same access works; the store survived its traps. */
	cr_assert_eq(jit_memory_grow(inst->memory, 1), 1);
	base[PAGE + 2] = 0x22;
	a = i32v(PAGE + 2);
	cr_assert_eq(jit_call(load, &a, 1, &r, 1, &trap), 0);
	cr_assert_eq(r.bits, 0x22);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, out_of_bounds_accesses_fault_into_a_trap)
{
	harness_boot(1, RAM, memory_fault_body);
}

static struct jit_func *recurse_fn;

static intptr_t recurse_task(void *arg)
{
	struct jit_trap_info trap;

	(void)arg;
	if (jit_call(recurse_fn, NULL, 0, NULL, 0, &trap) != -K_EFAULT ||
	    trap.code != JIT_TRAP_STACK_EXHAUSTED || trap.nframes != JIT_BACKTRACE_MAX)
		return 1;
	return 0;
}

static int recursion_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = fake_module(-1, false);
	struct jit_instance *inst = fake_instance(store, mod);
	struct sched_attr attr = { .name = "deep", .stack_size = 256u << 10, .hart = -1 };
	struct jit_trap_info trap;
	struct jit_value r;
	sched_task_t t;
	intptr_t value;

	(void)arg;
	recurse_fn = fake_export(inst, F_RECURSE);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(jit_call(recurse_fn, NULL, 0, NULL, 0, &trap), -K_EFAULT);
		cr_assert_eq(trap.code, JIT_TRAP_STACK_EXHAUSTED);
		cr_assert_eq(trap.nframes, JIT_BACKTRACE_MAX);
		cr_assert_eq(trap.frames[JIT_BACKTRACE_MAX - 1].func, F_RECURSE);
	}
	cr_assert_eq(jit_call(fake_export(inst, F_42), NULL, 0, &r, 1, NULL), 0);
	cr_assert_eq(r.bits, 42);
	/* On a task's own stack too, and the task goes on. */
	cr_assert_eq(sched_spawn(&t, recurse_task, NULL, &attr), 0);
	sched_join(t, &value);
	cr_assert_eq(value, 0);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, deep_recursion_traps_at_the_stack_limit)
{
	harness_boot(1, RAM, recursion_body);
}

static int host_from_wasm_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = fake_module(-1, false);
	struct jit_instance *inst = fake_instance(store, mod);
	struct jit_func *call = fake_export(inst, F_CALL_IMPORT);
	struct jit_trap_info trap;
	struct jit_value a, r;
	uint64_t size;

	(void)arg;
	jit_instance_memory(inst, &size)[5] = 0x5a;
	a = i32v(5);
	cr_assert_eq(jit_call(call, &a, 1, &r, 1, &trap), 0);
	cr_assert_eq(r.bits, 0x5a);
	a = i32v(0xdead);
	cr_assert_eq(jit_call(call, &a, 1, &r, 1, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_HOST);
	cr_assert_eq(trap.host_status, 77);
	expect_frames(&trap, mod, 1, (const unsigned[]){ F_CALL_IMPORT });
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, host_functions_called_by_wasm_see_their_caller)
{
	harness_boot(1, RAM, host_from_wasm_body);
}

static int start_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *bad = fake_module(F_UNREACH, false);
	struct jit_func *fn = host(store, "i", "i", (void *)host_fn, NULL);
	struct jit_link_error err;
	struct jit_instance *inst;

	(void)arg;
	cr_assert_eq(jit_store_define(store, "host", "fn", ext_func(fn)), 0);
	cr_assert_eq(jit_instantiate(store, bad, &inst, &err), -K_EFAULT);
	cr_assert_null(inst);
	cr_assert_eq(err.trap.code, JIT_TRAP_UNREACHABLE);
	cr_assert_str_eq(err.msg, "unreachable");
	expect_frames(&err.trap, bad, 1, (const unsigned[]){ F_UNREACH });
	jit_store_destroy(store);
	module_free(bad);
	return 0;
}

Test(jit_runtime, a_trapping_start_function_fails_instantiation)
{
	harness_boot(1, RAM, start_body);
}

static struct jit_store *spin_store;
static atomic_int interrupter_ran;

static intptr_t interrupter(void *arg)
{
	(void)arg;
	atomic_store(&interrupter_ran, 1);
	jit_store_interrupt(spin_store);
	return 0;
}

static int preempt_body(void *arg)
{
	struct jit_module *mod = fake_module(-1, false);
	struct jit_instance *inst;
	struct jit_trap_info trap;
	sched_task_t t;

	(void)arg;
	spin_store = new_store();
	inst = fake_instance(spin_store, mod);
	/* One hart: the interrupter runs only if the spinning code yields. */
	cr_assert_eq(sched_spawn(&t, interrupter, NULL, NULL), 0);
	cr_assert_eq(jit_call(fake_export(inst, F_SPIN), NULL, 0, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_INTERRUPTED);
	expect_frames(&trap, mod, 1, (const unsigned[]){ F_SPIN });
	cr_assert(atomic_load(&interrupter_ran));
	sched_join(t, NULL);
	/* Still interrupted until cleared. */
	cr_assert_eq(jit_call(fake_export(inst, F_SPIN), NULL, 0, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_INTERRUPTED);
	jit_store_clear_interrupt(spin_store);
	cr_assert_eq(jit_call(fake_export(inst, F_RECURSE), NULL, 0, NULL, 0, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_STACK_EXHAUSTED);
	jit_store_destroy(spin_store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, spinning_wasm_yields_and_can_be_interrupted)
{
	harness_boot(1, RAM, preempt_body);
}

static int print_body(void *arg)
{
	struct jit_store *store = new_store();
	struct jit_module *mod = fake_module(-1, true);
	struct jit_instance *inst = fake_instance(store, mod);
	struct jit_trap_info trap;
	struct jit_value a = i32v(PAGE), r;

	(void)arg;
	cr_assert_eq(jit_call(fake_export(inst, F_NEST_LOAD), &a, 1, &r, 1, &trap), -K_EFAULT);
	jit_trap_print(&trap);
	trap.code = JIT_TRAP_HOST;
	trap.host_status = -3;
	trap.nframes = 0;
	jit_trap_print(&trap);
	jit_store_destroy(store);
	module_free(mod);
	return 0;
}

Test(jit_runtime, a_trap_prints_its_backtrace_with_names)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, RAM, print_body);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, "%s", o.out);
	cr_assert(strstr(o.out, "wasm trap: out of bounds memory access\n"
			 "  #0 func[2] load in \"fakes\"\n"
			 "  #1 func[5] nest_load in \"fakes\"\n"), "%s", o.out);
	cr_assert(strstr(o.out, "wasm trap: host function failed (status -3)\n"), "%s", o.out);
}


/* -- Compiled code ---------------------------------------------------------------- */

/*
 * The runtime with the compiler's code (jit_module_compile), from modules
 * wat2wasm --debug-names made of:
 *
 * (module $a
 *   (import "env" "log" (func $log (param i32) (result i32)))
 *   (memory (export "mem") 1)
 *   (global $g (export "count") (mut i32) (i32.const 0))
 *   (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
 *   (func $rec (export "rec") (param i32) (result i32)
 *     (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
 *       (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1)))))))
 *   (func $spin (export "spin") (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l)))
 *   (func $load (export "load") (param i32) (result i32) (i32.load (local.get 0)))
 *   (func $bad (export "bad") unreachable)
 *   (func $calllog (export "calllog") (param i32) (result i32) (call $log (local.get 0))))
 *
 * (module $b
 *   (import "a" "add" (func $add (param i32 i32) (result i32)))
 *   (import "a" "mem" (memory 1))
 *   (func $twice (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0)))
 *   (func $peek (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
 */
static const uint8_t mod_a[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
	0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00,
	0x00, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6c, 0x6f, 0x67,
	0x00, 0x00, 0x03, 0x07, 0x06, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x05,
	0x03, 0x01, 0x00, 0x01, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b,
	0x07, 0x39, 0x08, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x05, 0x63, 0x6f,
	0x75, 0x6e, 0x74, 0x03, 0x00, 0x03, 0x61, 0x64, 0x64, 0x00, 0x01, 0x03,
	0x72, 0x65, 0x63, 0x00, 0x02, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x03,
	0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x04, 0x03, 0x62, 0x61, 0x64, 0x00,
	0x05, 0x07, 0x63, 0x61, 0x6c, 0x6c, 0x6c, 0x6f, 0x67, 0x00, 0x06, 0x0a,
	0x41, 0x06, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x15, 0x00,
	0x20, 0x00, 0x45, 0x04, 0x7f, 0x41, 0x00, 0x05, 0x41, 0x01, 0x20, 0x00,
	0x41, 0x01, 0x6b, 0x10, 0x02, 0x6a, 0x0b, 0x0b, 0x0e, 0x00, 0x03, 0x40,
	0x23, 0x00, 0x41, 0x01, 0x6a, 0x24, 0x00, 0x0c, 0x00, 0x0b, 0x0b, 0x07,
	0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x06,
	0x00, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x00, 0x4c, 0x04, 0x6e, 0x61, 0x6d,
	0x65, 0x00, 0x02, 0x01, 0x61, 0x01, 0x2a, 0x07, 0x00, 0x03, 0x6c, 0x6f,
	0x67, 0x01, 0x03, 0x61, 0x64, 0x64, 0x02, 0x03, 0x72, 0x65, 0x63, 0x03,
	0x04, 0x73, 0x70, 0x69, 0x6e, 0x04, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x05,
	0x03, 0x62, 0x61, 0x64, 0x06, 0x07, 0x63, 0x61, 0x6c, 0x6c, 0x6c, 0x6f,
	0x67, 0x02, 0x0f, 0x07, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00,
	0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x04, 0x01, 0x00, 0x01, 0x67,
};

static const uint8_t mod_b[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60,
	0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x12,
	0x02, 0x01, 0x61, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x01, 0x61, 0x03,
	0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x03, 0x02, 0x01, 0x01, 0x07,
	0x10, 0x02, 0x05, 0x74, 0x77, 0x69, 0x63, 0x65, 0x00, 0x01, 0x04, 0x70,
	0x65, 0x65, 0x6b, 0x00, 0x02, 0x0a, 0x12, 0x02, 0x08, 0x00, 0x20, 0x00,
	0x20, 0x00, 0x10, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00,
	0x0b, 0x00, 0x27, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x02, 0x01, 0x62,
	0x01, 0x13, 0x03, 0x00, 0x03, 0x61, 0x64, 0x64, 0x01, 0x05, 0x74, 0x77,
	0x69, 0x63, 0x65, 0x02, 0x04, 0x70, 0x65, 0x65, 0x6b, 0x02, 0x07, 0x03,
	0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
};

static struct jit_module *compile(const uint8_t *bytes, size_t len)
{
	struct jit_wasm_error err;
	struct jit_module *mod;

	cr_assert_eq(jit_module_compile(bytes, len, NULL, &mod, &err), 0, "%s", err.msg);
	return mod;
}

static uint32_t host_log(void *ctx, struct jit_instance *caller, uint32_t x)
{
	cr_assert_not_null(caller);
	return 2 * x;
}

/* An instance of module A in store, with "env"."log" defined once. */
static struct jit_instance *instance_a(struct jit_store *store, const struct jit_module *a)
{
	struct jit_instance *inst;
	struct jit_link_error err;

	if (!jit_store_lookup(store, (const uint8_t *)"env", 3, (const uint8_t *)"log", 3))
		cr_assert_eq(jit_store_define(store, "env", "log",
					      ext_func(host(store, "i", "i", (void *)host_log,
							    NULL))), 0);
	cr_assert_eq(jit_instantiate(store, a, &inst, &err), 0, "%s", err.msg);
	return inst;
}

static struct jit_func *export_func(struct jit_instance *inst, const char *name)
{
	struct jit_extern e;

	cr_assert_eq(jit_instance_export(inst, name, &e), 0, "%s", name);
	cr_assert_eq(e.kind, JIT_EXTERN_FUNC);
	return e.func;
}

/* inst.name(args) -> i32: 0 and *out, or jit_call's error with *trap. */
static int call_i32(struct jit_instance *inst, const char *name, uint32_t nargs,
		    const uint32_t *args, uint32_t *out, struct jit_trap_info *trap)
{
	struct jit_func *f = export_func(inst, name);
	struct jit_value a[4], r = { 0 };
	int rc;

	for (uint32_t i = 0; i < nargs; i++)
		a[i] = i32v(args[i]);
	rc = jit_call(f, a, nargs, &r, jit_func_sig(f).nresults, trap);
	if (out)
		*out = (uint32_t)r.bits;
	return rc;
}

static int linked_body(void *arg)
{
	struct jit_module *ma = compile(mod_a, sizeof(mod_a)), *mb = compile(mod_b, sizeof(mod_b));
	struct jit_store *store = new_store();
	struct jit_instance *a = instance_a(store, ma), *b;
	struct jit_link_error err;
	struct jit_trap_info trap;
	uint64_t size;
	uint32_t r;

	(void)arg;
	cr_assert_eq(jit_store_register(store, "a", a), 0);
	cr_assert_eq(jit_instantiate(store, mb, &b, &err), 0, "%s", err.msg);
	/* b's import is a's own function object: its code, a's vmctx. */
	cr_assert_eq(jit_inst_funcs(b)[0], export_func(a, "add"));
	cr_assert_eq(jit_inst_funcs(b)[0]->ctx, &a->vm);
	cr_assert_eq(call_i32(b, "twice", 1, (const uint32_t[]){ 21 }, &r, &trap), 0);
	cr_assert_eq(r, 42);
	/* One memory, seen by both. */
	jit_instance_memory(a, &size)[77] = 0xab;
	cr_assert_eq(b->vm.mem_base, a->vm.mem_base);
	cr_assert_eq(call_i32(b, "peek", 1, (const uint32_t[]){ 77 }, &r, &trap), 0);
	cr_assert_eq(r, 0xab);
	cr_assert_eq(call_i32(a, "calllog", 1, (const uint32_t[]){ 5 }, &r, &trap), 0);
	cr_assert_eq(r, 10);
	jit_store_destroy(store);
	jit_module_free(mb);
	jit_module_free(ma);
	return 0;
}

Test(jit_runtime, linked_modules_call_each_other_directly)
{
	harness_boot(1, RAM, linked_body);
}

static int trapping_instance_body(void *arg)
{
	struct jit_module *ma = compile(mod_a, sizeof(mod_a));
	struct jit_store *store = new_store(), *other = new_store();
	struct jit_instance *a1 = instance_a(store, ma), *a2 = instance_a(store, ma);
	struct jit_instance *a3 = instance_a(other, ma);
	struct jit_trap_info trap;
	uint32_t r;

	(void)arg;
	cr_assert_neq(a1->vm.mem_base, a2->vm.mem_base);
	cr_assert_eq(call_i32(a1, "bad", 0, NULL, NULL, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_UNREACHABLE);
	cr_assert_geq(trap.nframes, 1);
	cr_assert_eq(trap.frames[0].module, ma);
	cr_assert_eq(trap.frames[0].func, 5, "func[5] is bad");
	cr_assert_eq(call_i32(a1, "load", 1, (const uint32_t[]){ PAGE }, &r, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_MEMORY_OOB);
	cr_assert_eq(trap.frames[0].func, 4, "func[4] is load");
	for (unsigned i = 0; i < 3; i++) {
		struct jit_instance *inst = i == 0 ? a1 : i == 1 ? a2 : a3;

		cr_assert_eq(call_i32(inst, "add", 2, (const uint32_t[]){ 2, 3 }, &r, &trap), 0);
		cr_assert_eq(r, 5);
		cr_assert_eq(call_i32(inst, "load", 1, (const uint32_t[]){ PAGE - 4 }, &r, &trap), 0);
	}
	jit_store_destroy(other);
	jit_store_destroy(store);
	jit_module_free(ma);
	return 0;
}

Test(jit_runtime, a_trapping_instance_leaves_the_others_working)
{
	harness_boot(1, RAM, trapping_instance_body);
}

static atomic_int workers_done;
static struct jit_store *loop_store;

static intptr_t worker(void *arg)
{
	for (int i = 0; i < 3; i++)
		sched_task_yield();
	atomic_fetch_add(&workers_done, 1);
	return (intptr_t)arg;
}

/* Joins the workers, which finish while wasm spins, then stops it. */
static intptr_t stopper(void *arg)
{
	sched_task_t *workers = arg;
	intptr_t v, sum = 0;

	for (int i = 0; i < 4; i++) {
		sched_join(workers[i], &v);
		sum += v;
	}
	jit_store_interrupt(loop_store);
	return sum;
}

static int loop_body(void *arg)
{
	struct jit_module *ma = compile(mod_a, sizeof(mod_a));
	struct jit_instance *a;
	struct jit_trap_info trap;
	struct jit_extern count;
	sched_task_t workers[4], stop;
	intptr_t sum;

	(void)arg;
	loop_store = new_store();
	a = instance_a(loop_store, ma);
	for (intptr_t i = 0; i < 4; i++)
		cr_assert_eq(sched_spawn(&workers[i], worker, (void *)i, NULL), 0);
	cr_assert_eq(sched_spawn(&stop, stopper, workers, NULL), 0);
	/* One hart: the others run only when the loop yields. */
	cr_assert_eq(call_i32(a, "spin", 0, NULL, NULL, &trap), -K_EFAULT);
	cr_assert_eq(trap.code, JIT_TRAP_INTERRUPTED);
	cr_assert_eq(atomic_load(&workers_done), 4);
	sched_join(stop, &sum);
	cr_assert_eq(sum, 0 + 1 + 2 + 3);
	cr_assert_eq(jit_instance_export(a, "count", &count), 0);
	cr_assert_gt(jit_global_get(count.global).bits, 0, "the loop ran");
	jit_store_destroy(loop_store);
	jit_module_free(ma);
	return 0;
}

Test(jit_runtime, an_infinite_loop_is_preempted_and_other_tasks_finish)
{
	harness_boot(1, RAM, loop_body);
}

static struct jit_instance *deep_inst;

static intptr_t deep_task(void *arg)
{
	struct jit_trap_info trap;
	uint32_t r;

	(void)arg;
	if (call_i32(deep_inst, "rec", 1, (const uint32_t[]){ 10000 }, &r, &trap) != -K_EFAULT ||
	    trap.code != JIT_TRAP_STACK_EXHAUSTED || trap.nframes != JIT_BACKTRACE_MAX ||
	    trap.frames[JIT_BACKTRACE_MAX - 1].func != 2)
		return 1;
	if (call_i32(deep_inst, "rec", 1, (const uint32_t[]){ 100 }, &r, &trap) != 0 || r != 100)
		return 2;
	return 0;
}

static int deep_body(void *arg)
{
	struct jit_module *ma = compile(mod_a, sizeof(mod_a));
	struct jit_store *store = new_store();
	struct sched_attr attr = { .name = "deep", .stack_size = 128u << 10, .hart = -1 };
	struct jit_trap_info trap;
	sched_task_t t;
	intptr_t v;
	uint32_t r;

	(void)arg;
	deep_inst = instance_a(store, ma);
	cr_assert_eq(call_i32(deep_inst, "rec", 1, (const uint32_t[]){ 1000 }, &r, &trap), 0);
	cr_assert_eq(r, 1000);
	cr_assert_eq(sched_spawn(&t, deep_task, NULL, &attr), 0);
	sched_join(t, &v);
	cr_assert_eq(v, 0, "step %ld failed", (long)v);
	jit_store_destroy(store);
	jit_module_free(ma);
	return 0;
}

Test(jit_runtime, ten_thousand_deep_recursion_traps_and_the_task_survives)
{
	harness_boot(1, RAM, deep_body);
}

#endif /* __x86_64__ */
