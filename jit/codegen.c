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
#include "jit/wasm_internal.h"
#include "kernel/hal.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "sched/sched.h"
#include "sched/sync.h"

#define CHUNK		64	/* functions a worker claims at a time */
#define FUNC_ALIGN	16u

/*
 * Code is compiled into arenas: a worker's functions go one after the
 * other into its current arena, a new one when it is full.  As soon as the
 * functions of every chunk before it are placed, a chunk's functions are
 * copied out to the module's code in index order, and an arena is freed
 * once its worker has left it and its last function is placed.  On one
 * hart every chunk is placed as soon as it is compiled, so the code exists
 * about once, not twice; on several, only chunks finished ahead of an
 * earlier one wait in their arenas.
 */
#define ARENA_CHUNK	(1u << 20)	/* with its header: a power of two */

struct chunk {
	uint32_t cap, used;
	atomic_uint refs;	/* functions in it not yet placed, +1 while a
				 * worker compiles into it */
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
	bool lazy;			/* workers validate each body first */
	atomic_bool invalid;		/* a body failed validation */
	atomic_uint unsupported;	/* an opcode no back end lowers */
	atomic_uchar *compiled;		/* per chunk: all its functions are */

	/* The code being placed, in index order; place guards it. */
	struct sched_mutex place;
	uint32_t placed;		/* chunks placed */
	uint8_t *code;			/* hal_code_alloc'd, cap bytes */
	size_t cap, used;
	uint32_t *offsets;		/* per defined function */
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

/* A new arena, its worker's reference taken. */
static struct chunk *chunk_new(uint32_t cap)
{
	struct chunk *k = kmalloc(sizeof(*k) + cap);

	if (k) {
		k->cap = cap;
		k->used = 0;
		atomic_init(&k->refs, 1);
	}
	return k;
}

/* A function placed (or given up), or its worker gone: free the arena
 * after the last. */
static void chunk_put(struct chunk *k)
{
	if (k && atomic_fetch_sub(&k->refs, 1) == 1)
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
			atomic_fetch_add(&k->refs, 1);
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
		chunk_put(k);
		*cur = NULL;
	}
}

/* Copy chunk k's functions to the end of the code, which grows (by a
 * copy) when they do not fit.  false when out of memory or past 4 GiB. */
static bool place_chunk(struct job *job, uint32_t k)
{
	uint32_t n = job->m->nfuncs - job->m->nfunc_imports;

	for (uint32_t i = k * CHUNK; i < n && i < (k + 1) * CHUNK; i++) {
		struct cfunc *f = &job->out[i];
		size_t at = job->used, end = ALIGN_UP(at + f->len, (size_t)FUNC_ALIGN);

		if (end > UINT32_MAX)
			return false;
		if (end > job->cap) {
			size_t cap = ALIGN_UP(MAX(2 * job->cap, end), (size_t)HAL_PAGE_SIZE);
			uint8_t *code = hal_code_alloc(cap);

			if (!code)
				return false;
			kmemcpy(code, job->code, job->used);
			hal_code_free(job->code, job->cap);
			job->code = code;
			job->cap = cap;
		}
		kmemcpy(job->code + at, f->chunk->bytes + f->at, f->len);
		kmemset(job->code + at + f->len, jit_target_fill, end - at - f->len);
		job->offsets[i] = (uint32_t)at;
		job->used = end;
		chunk_put(f->chunk);
		f->chunk = NULL;
	}
	return true;
}

/* Place every compiled chunk whose predecessors all are. */
static void place_ready(struct job *job)
{
	sched_mutex_lock(&job->place);
	while (job->placed < job->nchunks && atomic_load(&job->compiled[job->placed]) &&
	       !atomic_load(&job->failed)) {
		if (!place_chunk(job, job->placed)) {
			atomic_store(&job->failed, true);
			break;
		}
		job->placed++;
	}
	sched_mutex_unlock(&job->place);
}

static intptr_t worker(void *arg)
{
	struct job *job = arg;
	struct jit_scratch s = { 0 };
	struct chunk *cur = NULL;
	struct jit_wasm_module *m = (struct jit_wasm_module *)job->m;
	uint32_t first = m->nfunc_imports, n = m->nfuncs - first;
	/* On several harts each body is validated right before it is
	 * compiled (the module was decoded lazily); which error it was, a
	 * decode reports later. */
	struct jit_wasm_error verr;
	struct jit_wasm_decoder vd = { .m = m, .err = &verr, .base = m->bytes,
				       .refs = m->func_refs };

	for (;;) {
		uint32_t k = atomic_fetch_add(&job->next, 1);
		bool ok = true;

		if (k >= job->nchunks || atomic_load(&job->failed))
			break;
		for (uint32_t i = k * CHUNK; ok && i < n && i < (k + 1) * CHUNK; i++) {
			if (job->lazy && !jit_wasm_validate_func(&vd, first + i)) {
				atomic_store(&job->invalid, !vd.oom);
				ok = false;
				break;
			}
			ok = compile_one(job, &s, &cur, first + i);
		}
		if (!ok) {
			atomic_store(&job->failed, true);
			break;
		}
		atomic_store(&job->compiled[k], 1);
		place_ready(job);
	}
	chunk_put(cur);
	scratch_free(&s);
	jit_wasm_validator_free(&vd);
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

const struct jit_wasm_alloc jit_kernel_heap = { kernel_alloc, kernel_free, NULL };

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

/* Every function placed: patch the direct calls and seal the code. */
static int link(struct jit_module *mod, struct job *job)
{
	mod->code = job->code;
	mod->code_alloc = job->cap;
	mod->code_len = job->used;
	job->code = NULL;
	for (uint32_t i = 0; i < mod->ndefined; i++) {
		struct cfunc *f = &job->out[i];

		for (uint32_t k = 0; k < f->nrelocs; k++) {
			const struct jit_reloc *r = &f->relocs[k];
			uint32_t site = mod->func_offsets[i] + r->at;
			uint32_t target = mod->func_offsets[r->func - mod->wasm->nfunc_imports];
			uint32_t rel = target - (site + 4);

			kmemcpy(mod->code + site, &rel, 4);
		}
	}
	if (hal_code_symbols_wanted()) {
		for (uint32_t i = 0; i < mod->ndefined; i++) {
			char label[160];

			hal_code_symbol(mod->code + mod->func_offsets[i], job->out[i].len,
					jit_wasm_func_label(mod->wasm, mod->wasm->nfunc_imports + i,
							    label, sizeof(label)));
		}
	}
	return hal_code_seal(mod->code, mod->code_alloc);
}

/*
 * The code's first size: the bodies' bytes and a half (x86-64 makes about
 * 1.3 bytes of a wasm byte), so that it rarely has to grow by a copy.
 */
static size_t code_estimate(const struct jit_wasm_module *m)
{
	uint64_t body = 0;

	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
		body += m->funcs[i].body_len;
	return ALIGN_UP((size_t)MIN(body + body / 2, (uint64_t)UINT32_MAX) + (64u << 10),
			(size_t)HAL_PAGE_SIZE);
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

/*
 * The error of a module that the lazy decode or a body's validation
 * rejected: the one a whole decode reports, which follows the module's
 * order (jit_wasm_decode_lazy).  -K_EINVAL, or -K_ENOMEM.
 */
static int decode_error(const uint8_t *bytes, size_t size, struct jit_wasm_error *err)
{
	struct jit_wasm_module *m;
	int rc = jit_wasm_decode(bytes, size, &jit_kernel_heap, &m, err);

	if (rc == 0) {		/* cannot be: the two decoders disagree */
		jit_wasm_free(m);
		ksnprintf(err->msg, sizeof(err->msg), "internal error: lazy decoding "
			  "rejected a module the decoder accepts");
		rc = -K_EINVAL;
	}
	return rc;
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
	/*
	 * On several harts, validation is spread over them with the compile
	 * (each body just before its compile); on one, validating every body
	 * first measured 3% faster than alternating the two walks.
	 */
	job.lazy = harts > 1;
	rc = job.lazy ? jit_wasm_decode_lazy(bytes, size, &jit_kernel_heap, &mod->wasm, err) :
			jit_wasm_decode(bytes, size, &jit_kernel_heap, &mod->wasm, err);
	if (rc < 0) {
		kfree(mod);
		return rc == -K_EINVAL && job.lazy ? decode_error(bytes, size, err) : rc;
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
	job.offsets = mod->func_offsets;
	job.cap = code_estimate(mod->wasm);
	sched_mutex_init(&job.place);
	job.compiled = kzalloc(job.nchunks + 1);
	if (!job.compiled || !(job.code = hal_code_alloc(job.cap))) {
		rc = -K_ENOMEM;
		goto fail;
	}
	run_job(&job, harts);
	if (atomic_load(&job.invalid)) {
		rc = decode_error(bytes, size, err);
		goto fail;
	}
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
	KASSERT(job.placed == job.nchunks, "jit: %u of %u chunks placed", job.placed,
		job.nchunks);
	if ((rc = link(mod, &job)) < 0) {
		ksnprintf(err->msg, sizeof(err->msg), "cannot place the code");
		goto fail;
	}
	drop_out(job.out, mod->ndefined);
	kfree(job.compiled);
	*out = mod;
	return 0;
fail:
	if (job.out)
		drop_out(job.out, mod->ndefined);
	if (job.code)
		hal_code_free(job.code, job.cap);
	kfree(job.compiled);
	jit_module_free(mod);
	return rc;
}
