/*
 * objects.c - what a store holds: linear memories in slots of its
 * address spaces, tables, globals and host functions.
 *
 * Memories (DESIGN.md, "WebAssembly execution"): each has a slot of
 * JIT_MEMORY_RESERVE bytes of guest address space in one of the store's
 * spaces, at a fixed address for its whole life.  Pages [0, size) are a
 * lazy reservation (a frame is allocated on first touch); growing extends
 * the reservation, never moves or copies; the rest of the slot is never
 * mapped, so an access past the end faults, and the store's fault handler
 * (call.c) turns that into a trap.  A space's window holds as_limit() /
 * JIT_MEMORY_RESERVE slots (32 in the hosted 256 GiB windows); a store
 * that needs more creates another space.
 */
#include "jit/runtime.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "kernel/log.h"
#include "kernel/pt.h"

/*
 * Guest pages of linear memory: readable and writable by the kernel's own
 * code (the JIT's), so not PTE_U: compiled code runs in supervisor mode.
 */
#define MEMORY_PERM	(PTE_R | PTE_W)

void jit_store_own(struct jit_store *store, struct jit_obj *obj, uint8_t kind)
{
	obj->store = store;
	obj->kind = kind;
	obj->next = store->objs;
	store->objs = obj;
}

void jit_store_free_objects(struct jit_store *store)
{
	struct jit_obj *obj;
	struct jit_space *sp;

	while ((obj = store->objs)) {
		store->objs = obj->next;
		if (obj->kind == JIT_EXTERN_TABLE)
			kfree(((struct jit_table_obj *)obj)->table.elems);
		kfree(obj);
	}
	/* Memories' frames go with their spaces. */
	while ((sp = store->spaces)) {
		store->spaces = sp->next;
		as_destroy(sp->as);
		kfree(sp);
	}
}

/* -- Memories -------------------------------------------------------------- */

bool jit_store_in_memory(const struct jit_store *store, uint64_t va)
{
	for (const struct jit_obj *o = store->objs; o; o = o->next) {
		const struct jit_memory *m;

		if (o->kind != JIT_EXTERN_MEMORY)
			continue;
		m = &container_of(o, const struct jit_memory_obj, obj)->mem;
		if (va >= m->va && va - m->va < m->size)
			return true;
	}
	return false;
}

/* A space with a free slot, made if needed; NULL and *err if none. */
static struct jit_space *space_with_room(struct jit_store *store, int *err)
{
	struct jit_space *sp;
	struct as *as;
	uint64_t nslots;

	for (sp = store->spaces; sp; sp = sp->next)
		if (sp->used < sp->nslots)
			return sp;
	if ((*err = as_create(&as, 0)) < 0) {
		klog(jit, WARN, "jit: no address space for a linear memory (error %d)", *err);
		return NULL;
	}
	nslots = as_limit(as) / JIT_MEMORY_RESERVE;
	if (nslots == 0) {
		klog(jit, ERROR, "jit: an address space reaches %#llx bytes, less than the "
		     "%#llx a linear memory reserves: no memories on this machine",
		     (unsigned long long)as_limit(as), (unsigned long long)JIT_MEMORY_RESERVE);
		as_destroy(as);
		*err = -K_ENOMEM;
		return NULL;
	}
	if (!(sp = kzalloc(sizeof(*sp)))) {
		as_destroy(as);
		*err = -K_ENOMEM;
		return NULL;
	}
	sp->as = as;
	sp->nslots = (uint32_t)MIN(nslots, (uint64_t)UINT32_MAX);
	as_set_fault_handler(as, jit_store_fault, store);
	sp->next = store->spaces;
	store->spaces = sp;
	return sp;
}

int jit_memory_new(struct jit_store *store, uint32_t min_pages,
		   uint32_t max_pages, struct jit_memory **out)
{
	struct jit_memory_obj *m;
	struct jit_space *sp;
	vaddr_t va;
	int err;

	if (min_pages > JIT_WASM_MAX_PAGES ||
	    (max_pages != UINT32_MAX && (max_pages < min_pages || max_pages > JIT_WASM_MAX_PAGES)))
		return -K_EINVAL;
	if (store->pages + min_pages > store->budget_pages) {
		klog(jit, DEBUG, "jit: memory of %u pages over the store's budget (%llu of %llu used)",
		     min_pages, (unsigned long long)store->pages,
		     (unsigned long long)store->budget_pages);
		return -K_ENOMEM;
	}
	if (!(sp = space_with_room(store, &err)))
		return err;
	if (!(m = kzalloc(sizeof(*m))))
		return -K_ENOMEM;
	va = (vaddr_t)sp->used * JIT_MEMORY_RESERVE;
	if (min_pages &&
	    (err = as_reserve_lazy(sp->as, va, (uint64_t)min_pages * JIT_PAGE_SIZE, MEMORY_PERM)) < 0) {
		kfree(m);
		return err;
	}
	sp->used++;
	m->space = sp;
	m->mem.base = as_ptr(sp->as, va);
	m->mem.va = va;
	m->mem.pages = min_pages;
	m->mem.size = (uint64_t)min_pages * JIT_PAGE_SIZE;
	m->mem.max = max_pages;
	m->mem.store = store;
	store->pages += min_pages;
	jit_store_own(store, &m->obj, JIT_EXTERN_MEMORY);
	*out = &m->mem;
	return 0;
}

uint8_t *jit_memory_data(struct jit_memory *mem, uint64_t *size)
{
	*size = mem->size;
	return mem->base;
}

int64_t jit_memory_grow(struct jit_memory *mem, uint32_t delta)
{
	struct jit_memory_obj *m = container_of(mem, struct jit_memory_obj, mem);
	struct jit_store *store = mem->store;
	uint32_t old = mem->pages;
	uint32_t limit = mem->max == UINT32_MAX ? JIT_WASM_MAX_PAGES : mem->max;

	if (delta == 0)
		return old;
	if (delta > limit - old || store->pages + delta > store->budget_pages)
		return -1;
	/* The new pages start where the reservation ends: base never moves. */
	if (as_reserve_lazy(m->space->as, mem->va + mem->size,
			    (uint64_t)delta * JIT_PAGE_SIZE, MEMORY_PERM) < 0)
		return -1;
	mem->pages = old + delta;
	mem->size = (uint64_t)mem->pages * JIT_PAGE_SIZE;
	store->pages += delta;
	return old;
}

/* -- Tables ---------------------------------------------------------------- */

int jit_table_new(struct jit_store *store, uint8_t elem, uint32_t min,
		  uint32_t max, uint64_t init, struct jit_table **out)
{
	struct jit_table_obj *t;

	if ((elem != JIT_FUNCREF && elem != JIT_EXTERNREF) || (max != UINT32_MAX && max < min))
		return -K_EINVAL;
	if (min > JIT_TABLE_MAX_ELEMS)
		return -K_ENOMEM;
	if (!(t = kzalloc(sizeof(*t))))
		return -K_ENOMEM;
	if (min && !(t->table.elems = kmalloc(sizeof(uint64_t) * min))) {
		kfree(t);
		return -K_ENOMEM;
	}
	for (uint32_t i = 0; i < min; i++)
		t->table.elems[i] = init;
	t->table.size = min;
	t->table.cap = min;
	t->table.max = max;
	t->table.elem = elem;
	jit_store_own(store, &t->obj, JIT_EXTERN_TABLE);
	*out = &t->table;
	return 0;
}

uint32_t jit_table_size(const struct jit_table *t)
{
	return t->size;
}

int64_t jit_table_grow(struct jit_table *t, uint32_t delta, uint64_t init)
{
	uint32_t old = t->size, limit = MIN(t->max, (uint32_t)JIT_TABLE_MAX_ELEMS);
	uint32_t size;

	if (old > limit || delta > limit - old)
		return -1;
	size = old + delta;
	if (size > t->cap) {
		/* Doubling, so growing one by one costs amortised O(1). */
		uint32_t cap = (uint32_t)MIN(MAX((uint64_t)t->cap * 2, (uint64_t)size),
					     (uint64_t)limit);
		uint64_t *elems = kmalloc(sizeof(uint64_t) * cap);

		if (!elems)
			return -1;
		if (old)
			kmemcpy(elems, t->elems, sizeof(uint64_t) * old);
		kfree(t->elems);
		t->elems = elems;
		t->cap = cap;
	}
	for (uint32_t i = old; i < size; i++)
		t->elems[i] = init;
	t->size = size;
	return old;
}

/* -- Globals --------------------------------------------------------------- */

/* The canonical bits of a value of type: 32-bit types keep the low half. */
static uint64_t value_bits(uint8_t type, uint64_t bits)
{
	return type == JIT_I32 || type == JIT_F32 ? (uint32_t)bits : bits;
}

/* A value type a store can hold (v128 is not executed yet). */
static bool storable_type(uint8_t t)
{
	return t == JIT_I32 || t == JIT_I64 || t == JIT_F32 || t == JIT_F64 ||
	       t == JIT_FUNCREF || t == JIT_EXTERNREF;
}

int jit_global_new(struct jit_store *store, uint8_t type, bool mut,
		   struct jit_value init, struct jit_global **out)
{
	struct jit_global_obj *g;

	if (type == JIT_V128)
		return -K_ENOSYS;
	if (!storable_type(type) || init.type != type)
		return -K_EINVAL;
	if (!(g = kzalloc(sizeof(*g))))
		return -K_ENOMEM;
	g->global.bits = value_bits(type, init.bits);
	g->global.type = type;
	g->global.mut = mut;
	jit_store_own(store, &g->obj, JIT_EXTERN_GLOBAL);
	*out = &g->global;
	return 0;
}

struct jit_value jit_global_get(const struct jit_global *g)
{
	return (struct jit_value){ .type = g->type, .bits = g->bits };
}

void jit_global_set(struct jit_global *g, struct jit_value v)
{
	KASSERT(g->mut && v.type == g->type,
		"jit_global_set: global of type %#x%s set with a %#x", g->type,
		g->mut ? "" : " (immutable)", v.type);
	g->bits = value_bits(g->type, v.bits);
}

/* -- Host functions -------------------------------------------------------- */

int jit_func_new_host(struct jit_store *store, const struct jit_sig *sig,
		      void *fn, void *ctx, struct jit_func **out)
{
	struct jit_host_func *h;
	uint32_t n;
	int err;

	if (!fn || sig->nparams > JIT_WASM_MAX_PARAMS || sig->nresults > JIT_WASM_MAX_RESULTS)
		return -K_EINVAL;
	for (uint32_t i = 0; i < sig->nparams; i++)
		if (!storable_type(sig->params[i]))
			return sig->params[i] == JIT_V128 ? -K_ENOSYS : -K_EINVAL;
	for (uint32_t i = 0; i < sig->nresults; i++)
		if (!storable_type(sig->results[i]))
			return sig->results[i] == JIT_V128 ? -K_ENOSYS : -K_EINVAL;
	n = sig->nparams + sig->nresults;
	if (!(h = kzalloc(sizeof(*h) + n)))
		return -K_ENOMEM;
	if (sig->nparams)
		kmemcpy(h->types, sig->params, sig->nparams);
	if (sig->nresults)
		kmemcpy(h->types + sig->nparams, sig->results, sig->nresults);
	h->func.sig = (struct jit_sig){ h->types, h->types + sig->nparams,
					sig->nparams, sig->nresults };
	if ((err = jit_types_intern(&h->func.sig, &h->func.type_id)) < 0) {
		kfree(h);
		return err;
	}
	h->func.code = fn;
	h->func.ctx = ctx;
	h->func.index = 0;
	h->func.inst = NULL;
	jit_store_own(store, &h->obj, JIT_EXTERN_FUNC);
	*out = &h->func;
	return 0;
}

struct jit_sig jit_func_sig(const struct jit_func *f)
{
	return f->sig;
}
