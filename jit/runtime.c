/*
 * runtime.c - stores: creation and teardown, the (module, name)
 * definitions imports resolve against, the modules whose code runs in a
 * store, interrupts; and the accessors of compiled modules.
 */
#include "jit/runtime.h"
#include "kernel/frame.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "kernel/log.h"

/* -- Modules --------------------------------------------------------------- */

void jit_module_free(struct jit_module *mod)
{
	if (!mod)
		return;
	if (mod->code)
		hal_code_free(mod->code, mod->code_alloc);
	kfree(mod->func_offsets);
	jit_wasm_free(mod->wasm);
	kfree(mod);
}

const struct jit_wasm_module *jit_module_wasm(const struct jit_module *mod)
{
	return mod->wasm;
}

const uint8_t *jit_module_code(const struct jit_module *mod, size_t *len)
{
	*len = mod->code_len;
	return mod->code;
}

int64_t jit_module_func_at(const struct jit_module *mod, uintptr_t pc)
{
	uintptr_t code = (uintptr_t)mod->code;
	uint32_t lo = 0, hi = mod->ndefined, off;

	if (!mod->code || pc < code || pc - code >= mod->code_len || !mod->ndefined)
		return -1;
	off = (uint32_t)(pc - code);
	if (off < mod->func_offsets[0])
		return -1;
	/* The last function starting at or before off. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mod->func_offsets[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)mod->wasm->nfunc_imports + lo;
}

/* -- Stores ---------------------------------------------------------------- */

int jit_store_create(struct jit_store **out)
{
	struct jit_store *store = kzalloc(sizeof(*store));
	struct frame_stats fs;

	if (!store)
		return -K_ENOMEM;
	atomic_init(&store->hot.poll, 0);
	atomic_init(&store->interrupted, false);
	atomic_init(&store->modules, NULL);
	/*
	 * Memories reserve address space, not RAM (pages are allocated when
	 * touched), but a store must not reserve more than the machine could
	 * ever back: its memories may hold as many pages as there is RAM, and
	 * never less than JIT_BUDGET_MIN_PAGES (small test machines).
	 */
	frame_stats(&fs);
	store->budget_pages = MAX(fs.total * FRAME_SIZE / JIT_PAGE_SIZE,
				  (uint64_t)JIT_BUDGET_MIN_PAGES);
	*out = store;
	return 0;
}

void jit_store_set_memory_budget(struct jit_store *store, uint64_t bytes)
{
	store->budget_pages = bytes / JIT_PAGE_SIZE;
}

void jit_store_destroy(struct jit_store *store)
{
	struct jit_instance *inst;
	struct jit_modref *ref;

	if (!store)
		return;
	KASSERT(!store->entries, "jit_store_destroy: store %p is running wasm", (void *)store);
	while ((inst = store->instances)) {
		store->instances = inst->next;
		kfree(inst->defined);
		kfree(inst->dropped);
		kfree(inst);
	}
	while ((ref = atomic_load_explicit(&store->modules, memory_order_relaxed))) {
		atomic_store_explicit(&store->modules, ref->next, memory_order_relaxed);
		kfree(ref);
	}
	for (uint32_t i = 0; i < store->defs_cap; i++) {
		struct jit_def *d, *next;

		for (d = store->defs[i]; d; d = next) {
			next = d->next;
			kfree(d);
		}
	}
	kfree(store->defs);
	jit_store_free_objects(store);
	kfree(store);
}

void jit_store_interrupt(struct jit_store *store)
{
	/* The flag, then the byte; seq_cst, see jit_rt_poll(). */
	atomic_store_explicit(&store->interrupted, true, memory_order_seq_cst);
	atomic_store_explicit(&store->hot.poll, 1, memory_order_seq_cst);
}

void jit_store_clear_interrupt(struct jit_store *store)
{
	atomic_store_explicit(&store->interrupted, false, memory_order_relaxed);
}

/* -- Modules of a store ---------------------------------------------------- */

int jit_store_add_module(struct jit_store *store, const struct jit_module *mod)
{
	struct jit_modref *ref = atomic_load_explicit(&store->modules, memory_order_relaxed);

	for (; ref; ref = ref->next)
		if (ref->mod == mod)
			return 0;
	if (!(ref = kmalloc(sizeof(*ref))))
		return -K_ENOMEM;
	ref->mod = mod;
	ref->next = atomic_load_explicit(&store->modules, memory_order_relaxed);
	atomic_store_explicit(&store->modules, ref, memory_order_release);
	return 0;
}

const struct jit_module *jit_store_code_at(const struct jit_store *store,
					   uintptr_t pc, uint32_t *func)
{
	const struct jit_modref *ref;

	for (ref = atomic_load_explicit(&((struct jit_store *)store)->modules,
					memory_order_acquire); ref; ref = ref->next) {
		int64_t f = jit_module_func_at(ref->mod, pc);

		if (f >= 0) {
			*func = (uint32_t)f;
			return ref->mod;
		}
	}
	return NULL;
}

/* -- Definitions ----------------------------------------------------------- */

static uint32_t def_hash(const uint8_t *module, uint32_t mlen, const uint8_t *name,
			 uint32_t nlen)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < mlen; i++)
		h = (h ^ module[i]) * 16777619u;
	h = (h ^ 0x100u) * 16777619u;	/* ("ab", "c") differs from ("a", "bc") */
	for (uint32_t i = 0; i < nlen; i++)
		h = (h ^ name[i]) * 16777619u;
	return h;
}

static struct jit_def *def_find(const struct jit_store *store, uint32_t hash,
				const uint8_t *module, uint32_t mlen,
				const uint8_t *name, uint32_t nlen)
{
	struct jit_def *d;

	if (!store->defs_cap)
		return NULL;
	for (d = store->defs[hash & (store->defs_cap - 1)]; d; d = d->next)
		if (d->hash == hash && d->mlen == mlen && d->nlen == nlen &&
		    (!mlen || kmemcmp(d->key, module, mlen) == 0) &&
		    (!nlen || kmemcmp(d->key + mlen, name, nlen) == 0))
			return d;
	return NULL;
}

const struct jit_extern *jit_store_lookup(const struct jit_store *store,
					  const uint8_t *module, uint32_t mlen,
					  const uint8_t *name, uint32_t nlen)
{
	struct jit_def *d = def_find(store, def_hash(module, mlen, name, nlen),
				     module, mlen, name, nlen);

	return d ? &d->ext : NULL;
}

/* Room for one more definition; false if out of memory. */
static bool defs_reserve(struct jit_store *store)
{
	uint32_t n;
	struct jit_def **nb;

	if (store->ndefs < store->defs_cap)
		return true;
	n = store->defs_cap ? store->defs_cap * 2 : 64;
	if (!(nb = kzalloc(sizeof(*nb) * n)))
		return false;
	for (uint32_t i = 0; i < store->defs_cap; i++) {
		struct jit_def *d, *next;

		for (d = store->defs[i]; d; d = next) {
			next = d->next;
			d->next = nb[d->hash & (n - 1)];
			nb[d->hash & (n - 1)] = d;
		}
	}
	kfree(store->defs);
	store->defs = nb;
	store->defs_cap = n;
	return true;
}

/*
 * Define (module, name) as ext; an existing definition is replaced if
 * replace, else -K_EEXIST.
 */
static int store_define(struct jit_store *store, const uint8_t *module, uint32_t mlen,
			const uint8_t *name, uint32_t nlen, struct jit_extern ext,
			bool replace)
{
	uint32_t hash = def_hash(module, mlen, name, nlen);
	struct jit_def *d = def_find(store, hash, module, mlen, name, nlen);

	if (!jit_store_owns(store, &ext))
		return -K_EINVAL;
	if (d) {
		if (!replace)
			return -K_EEXIST;
		d->ext = ext;
		return 0;
	}
	if (!defs_reserve(store) || !(d = kmalloc(sizeof(*d) + (size_t)mlen + nlen)))
		return -K_ENOMEM;
	d->hash = hash;
	d->mlen = mlen;
	d->nlen = nlen;
	d->ext = ext;
	if (mlen)
		kmemcpy(d->key, module, mlen);
	if (nlen)
		kmemcpy(d->key + mlen, name, nlen);
	d->next = store->defs[hash & (store->defs_cap - 1)];
	store->defs[hash & (store->defs_cap - 1)] = d;
	store->ndefs++;
	return 0;
}

int jit_store_define(struct jit_store *store, const char *module,
		     const char *name, struct jit_extern ext)
{
	size_t mlen = kstrlen(module), nlen = kstrlen(name);

	if (mlen > UINT32_MAX / 2 || nlen > UINT32_MAX / 2)
		return -K_EINVAL;
	return store_define(store, (const uint8_t *)module, (uint32_t)mlen,
			    (const uint8_t *)name, (uint32_t)nlen, ext, false);
}

/*
 * The spec's "register": the instance's exports become importable under
 * `as`, replacing what was registered there before (as the reference
 * interpreter's registry does).
 */
int jit_store_register(struct jit_store *store, const char *as,
		       struct jit_instance *inst)
{
	const struct jit_wasm_module *m = inst->wasm;
	size_t alen = kstrlen(as);
	int err;

	if (inst->store != store || alen > UINT32_MAX / 2)
		return -K_EINVAL;
	for (uint32_t i = 0; i < m->nexports; i++) {
		const struct jit_wasm_export *e = &m->exports[i];
		struct jit_extern ext;

		if ((err = jit_instance_export_at(inst, i, &ext)) < 0 ||
		    (err = store_define(store, (const uint8_t *)as, (uint32_t)alen,
					e->name.ptr, e->name.len, ext, true)) < 0)
			return err;
	}
	return 0;
}

bool jit_store_owns(const struct jit_store *store, const struct jit_extern *ext)
{
	const struct jit_obj *obj;

	switch (ext->kind) {
	case JIT_EXTERN_FUNC:
		if (!ext->func)
			return false;
		if (ext->func->inst)
			return ext->func->inst->store == store;
		obj = &container_of(ext->func, struct jit_host_func, func)->obj;
		break;
	case JIT_EXTERN_TABLE:
		if (!ext->table)
			return false;
		obj = &container_of(ext->table, struct jit_table_obj, table)->obj;
		break;
	case JIT_EXTERN_MEMORY:
		if (!ext->memory)
			return false;
		obj = &container_of(ext->memory, struct jit_memory_obj, mem)->obj;
		break;
	case JIT_EXTERN_GLOBAL:
		if (!ext->global)
			return false;
		obj = &container_of(ext->global, struct jit_global_obj, global)->obj;
		break;
	default:
		return false;
	}
	return obj->store == store && obj->kind == ext->kind;
}
