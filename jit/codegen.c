/*
 * codegen.c - jit_module_compile: decode and validate a module, compile
 * its function bodies as scheduler tasks spread over the harts, and link
 * them into one sealed code region.
 *
 * Each worker takes the next unclaimed chunk of functions, compiles each
 * into a buffer of its own and keeps the bytes and call sites.  A
 * function's code depends on nothing but the function, and the layout is
 * by function index, so the result is the same byte for byte whatever the
 * number of harts or the order the chunks were taken in.
 */
#include <stdatomic.h>
#include "jit/emit.h"
#include "kernel/hal.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "sched/sched.h"

#define CHUNK		64	/* functions a worker claims at a time */
#define FUNC_ALIGN	16u

/*
 * Code is compiled straight into arenas: a worker's functions go one after
 * the other into its current chunk, a new chunk when one is full.  Linking
 * copies them out in index order and frees each chunk once its last
 * function is placed; a worker fills its chunks in increasing index order,
 * so chunks go early and code exists about once, not twice.
 */
#define ARENA_CHUNK	(1u << 20)	/* with its header: a power of two */

struct chunk {
	uint32_t cap, used;
	uint32_t nfuncs;	/* functions in it not yet placed */
	uint8_t bytes[];
};

/* A compiled function, waiting to be placed. */
struct cfunc {
	struct chunk *chunk;
	uint32_t at, len;
	struct jit_reloc *relocs;
	uint32_t nrelocs;
};

struct job {
	const struct jit_wasm_module *m;
	const struct jit_layout *layout;
	struct cfunc *out;		/* per defined function */
	atomic_uint next;		/* next chunk to claim */
	uint32_t nchunks;
	atomic_bool failed;
	atomic_uint unsupported;	/* an opcode no back end lowers */
};

static void scratch_free(struct jit_scratch *s)
{
	kfree(s->vals);
	kfree(s->frames);
	kfree(s->homes);
	kfree(s->types);
	kfree(s->refs);
	kfree(s->relocs);
	kfree(s->stubs);
	kfree(s->patches);
}

static struct chunk *chunk_new(uint32_t cap)
{
	struct chunk *k = kmalloc(sizeof(*k) + cap);

	if (k)
		*k = (struct chunk){ .cap = cap };
	return k;
}

/* A function placed (or given up): free its chunk after the last. */
static void chunk_put(struct chunk *k)
{
	if (k && !--k->nfuncs)
		kfree(k);
}

/*
 * Compile defined function f (its index in the function space) into the
 * worker's chunk *cur, a new one when it does not fit; a function larger
 * than a chunk gets one of its own, doubled until it fits.
 */
static bool compile_one(struct job *job, struct jit_scratch *s, struct chunk **cur,
			uint32_t f)
{
	struct cfunc *out = &job->out[f - job->m->nfunc_imports];
	uint32_t cap = ARENA_CHUNK - sizeof(struct chunk);
	struct jit_cc c;

	for (;;) {
		struct chunk *k = *cur;

		if (!k) {
			if (!(k = *cur = chunk_new(cap)))
				return false;
		}
		c = (struct jit_cc){ .m = job->m, .layout = job->layout, .s = s };
		jit_buf_init(&c.buf, k->bytes + k->used, k->cap - k->used);
		if (jit_compile_func(&c, f)) {
			out->chunk = k;
			out->at = k->used;
			out->len = jit_buf_pos(&c.buf);
			k->used = ALIGN_UP(k->used + out->len, FUNC_ALIGN);
			k->nfuncs++;
			if (c.nrelocs) {
				out->relocs = kmalloc(sizeof(struct jit_reloc) * c.nrelocs);
				if (!out->relocs)
					return false;
				kmemcpy(out->relocs, s->relocs, sizeof(struct jit_reloc) * c.nrelocs);
				out->nrelocs = c.nrelocs;
			}
			return true;
		}
		if (c.unsupported) {
			atomic_store(&job->unsupported, c.unsupported);
			return false;
		}
		if (c.oom || !c.buf.overflow)
			return false;
		/* Full: the next chunk, or a bigger one for a big function. */
		if (k->used)
			cap = ARENA_CHUNK - sizeof(struct chunk);
		else if (k->cap > UINT32_MAX / 4)
			return false;
		else
			cap = 2 * (k->cap + (uint32_t)sizeof(struct chunk)) - sizeof(struct chunk);
		if (!k->nfuncs)
			kfree(k);
		*cur = NULL;
	}
}

static intptr_t worker(void *arg)
{
	struct job *job = arg;
	struct jit_scratch s = { 0 };
	struct chunk *cur = NULL;
	uint32_t first = job->m->nfunc_imports, n = job->m->nfuncs - first;

	for (;;) {
		uint32_t k = atomic_fetch_add(&job->next, 1);

		if (k >= job->nchunks || atomic_load(&job->failed))
			break;
		for (uint32_t i = k * CHUNK; i < n && i < (k + 1) * CHUNK; i++) {
			if (!compile_one(job, &s, &cur, first + i)) {
				atomic_store(&job->failed, true);
				break;
			}
		}
	}
	if (cur && !cur->nfuncs)
		kfree(cur);
	scratch_free(&s);
	return 0;
}

static void *kernel_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return kmalloc(size);
}

static void kernel_free(void *ctx, void *p)
{
	(void)ctx;
	kfree(p);
}

static const struct jit_wasm_alloc kernel_heap = { kernel_alloc, kernel_free, NULL };

/* Run the job on up to `harts` harts: workers on the others, one here. */
static void run_job(struct job *job, unsigned harts)
{
	sched_task_t tasks[HAL_MAX_HARTS];
	unsigned n = 0, self = hal_hart_id();

	for (unsigned h = 0; h < hal_hart_count() && n + 1 < harts; h++) {
		struct sched_attr attr = { .name = "jit-compile", .hart = (int)h,
					   .stack_size = 64u << 10 };

		if (h == self || job->nchunks <= n + 1)
			continue;
		if (sched_spawn(&tasks[n], worker, job, &attr) == 0)
			n++;
	}
	worker(job);
	for (unsigned i = 0; i < n; i++)
		sched_join(tasks[i], NULL);
}

/* Place the functions in index order and patch the direct calls. */
static int link(struct jit_module *mod, struct cfunc *out)
{
	uint32_t n = mod->ndefined;
	size_t total = 0;

	for (uint32_t i = 0; i < n; i++) {
		mod->func_offsets[i] = (uint32_t)total;
		total = ALIGN_UP(total + out[i].len, (size_t)FUNC_ALIGN);
		if (total > UINT32_MAX)
			return -K_E2BIG;
	}
	mod->code_len = total;
	mod->code_alloc = ALIGN_UP(total ? total : 1, (size_t)HAL_PAGE_SIZE);
	if (!(mod->code = hal_code_alloc(mod->code_alloc)))
		return -K_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *at = mod->code + mod->func_offsets[i];
		uint32_t pad = (i + 1 < n ? mod->func_offsets[i + 1] : (uint32_t)total) -
			       mod->func_offsets[i] - out[i].len;

		kmemcpy(at, out[i].chunk->bytes + out[i].at, out[i].len);
		kmemset(at + out[i].len, 0xcc, pad);	/* int3 between functions */
		for (uint32_t k = 0; k < out[i].nrelocs; k++) {
			const struct jit_reloc *r = &out[i].relocs[k];
			uint32_t site = mod->func_offsets[i] + r->at;
			uint32_t target = mod->func_offsets[r->func - mod->wasm->nfunc_imports];
			uint32_t rel = target - (site + 4);

			kmemcpy(mod->code + site, &rel, 4);
		}
		chunk_put(out[i].chunk);
		kfree(out[i].relocs);
		out[i] = (struct cfunc){ 0 };
	}
	return hal_code_seal(mod->code, mod->code_alloc);
}

/* What a failed compile leaves: the functions not placed. */
static void drop_out(struct cfunc *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		chunk_put(out[i].chunk);
		kfree(out[i].relocs);
	}
	kfree(out);
}

/* A v128 in any function type or global: values no compiled code can hold
 * yet (locals, block types and SIMD instructions are caught per function). */
static bool uses_v128(const struct jit_wasm_module *m)
{
	for (uint32_t i = 0; i < m->ntypes; i++) {
		const struct jit_wasm_functype *ft = &m->types[i];

		for (uint32_t k = 0; k < ft->nparams; k++)
			if (ft->params[k] == JIT_V128)
				return true;
		for (uint32_t k = 0; k < ft->nresults; k++)
			if (ft->results[k] == JIT_V128)
				return true;
	}
	for (uint32_t i = 0; i < m->nglobals; i++)
		if (m->globals[i].type == JIT_V128)
			return true;
	return false;
}

int jit_module_compile(const uint8_t *bytes, size_t size,
		       const struct jit_compile_opts *opts,
		       struct jit_module **out, struct jit_wasm_error *err)
{
	struct jit_module *mod;
	struct job job = { 0 };
	const char *why;
	unsigned harts = opts && opts->harts ? opts->harts : hal_hart_count();
	int rc;

	*out = NULL;
	if (!jit_target_supported(&why)) {
		*err = (struct jit_wasm_error){ .offset = 0 };
		ksnprintf(err->msg, sizeof(err->msg), "%s", why);
		return -K_ENOSYS;
	}
	if (!(mod = kzalloc(sizeof(*mod))))
		return -K_ENOMEM;
	if ((rc = jit_wasm_decode(bytes, size, &kernel_heap, &mod->wasm, err)) < 0) {
		kfree(mod);
		return rc;
	}
	if (uses_v128(mod->wasm)) {
		*err = (struct jit_wasm_error){ .offset = 0 };
		ksnprintf(err->msg, sizeof(err->msg), "SIMD (v128) is not supported by "
			  "the compiler yet");
		rc = -K_ENOSYS;
		goto fail;
	}
	jit_layout_of(mod->wasm, &mod->layout);
	mod->ndefined = mod->wasm->nfuncs - mod->wasm->nfunc_imports;
	mod->func_offsets = kzalloc(sizeof(uint32_t) * (mod->ndefined + 1));
	job.out = kzalloc(sizeof(struct cfunc) * (mod->ndefined + 1));
	if (!mod->func_offsets || !job.out) {
		rc = -K_ENOMEM;
		goto fail;
	}
	job.m = mod->wasm;
	job.layout = &mod->layout;
	job.nchunks = (mod->ndefined + CHUNK - 1) / CHUNK;
	run_job(&job, harts);
	if (atomic_load(&job.failed)) {
		unsigned op = atomic_load(&job.unsupported);

		*err = (struct jit_wasm_error){ .offset = 0 };
		if (op) {
			ksnprintf(err->msg, sizeof(err->msg), "SIMD (%s) is not supported "
				  "by the compiler yet", jit_op_name(op));
			rc = -K_ENOSYS;
		} else {
			ksnprintf(err->msg, sizeof(err->msg), "out of memory compiling");
			rc = -K_ENOMEM;
		}
		goto fail;
	}
	if ((rc = link(mod, job.out)) < 0) {
		ksnprintf(err->msg, sizeof(err->msg), "cannot place the code");
		goto fail;
	}
	drop_out(job.out, mod->ndefined);
	*out = mod;
	return 0;
fail:
	if (job.out)
		drop_out(job.out, mod->ndefined);
	jit_module_free(mod);
	return rc;
}
