/*
 * instance.c - instantiation (WebAssembly 2.0 spec 4.5.4): the vmctx
 * layout, import resolution with the spec's matching rules (4.5.2),
 * allocation of what the module defines, element and data segments in
 * order, the start function; and exports.
 */
#include "jit/runtime.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "kernel/log.h"

/*
 * The vmctx is the instance (runtime.h): struct jit_instance, whose first
 * member is the struct jit_vmctx header compiled code reads, then the
 * arrays, 8 bytes an entry.  The offsets depend only on the module's
 * counts, so the compiler fixes them at compile time (mod->layout).
 */
void jit_layout_of(const struct jit_wasm_module *m, struct jit_layout *l)
{
	uint32_t off = (uint32_t)ALIGN_UP(sizeof(struct jit_instance), (size_t)8);

	/* Counts are bounded by wasm.h's limits: 3.1M entries at most. */
	l->funcs = off;
	off += 8 * m->nfuncs;
	l->imports = off;
	off += sizeof(struct jit_import) * m->nfunc_imports;
	l->tables = off;
	off += 8 * m->ntables;
	l->globals = off;
	off += 8 * m->nglobals;
	l->type_ids = off;
	off += 8 * m->ntypes;
	l->size = off;
}

_Static_assert(offsetof(struct jit_instance, vm) == 0,
	       "the vmctx a host function receives is its struct jit_instance *");

/* -- Messages -------------------------------------------------------------- */

/* Append a name as printable text, at most max bytes of it. */
static size_t put_name(char *buf, size_t size, size_t at, struct jit_wasm_name n, uint32_t max)
{
	for (uint32_t i = 0; i < n.len && at + 1 < size; i++) {
		if (i == max) {
			for (int k = 0; k < 3 && at + 1 < size; k++)
				buf[at++] = '.';
			break;
		}
		buf[at++] = n.ptr[i] >= 0x20 && n.ptr[i] < 0x7f && n.ptr[i] != '"' ?
			    (char)n.ptr[i] : '?';
	}
	buf[at] = 0;
	return at;
}

/* err->msg = prefix "module"."name"[: detail]. */
static void import_error(struct jit_link_error *err, const char *prefix,
			 const struct jit_wasm_import *imp, const char *detail)
{
	size_t at = (size_t)ksnprintf(err->msg, sizeof(err->msg), "%s \"", prefix);

	at = MIN(at, sizeof(err->msg) - 1);
	at = put_name(err->msg, sizeof(err->msg), at, imp->module, 40);
	at += (size_t)ksnprintf(err->msg + at, sizeof(err->msg) - at, "\".\"");
	at = MIN(at, sizeof(err->msg) - 1);
	at = put_name(err->msg, sizeof(err->msg), at, imp->name, 40);
	ksnprintf(err->msg + at, sizeof(err->msg) - at, "\"%s%s", detail ? ": " : "",
		  detail ? detail : "");
	err->unlinkable = true;
}

static const char *const kind_names[] = { "func", "table", "memory", "global" };

/* "{min 1, max 2}" or "{min 1, no max}" */
static void limits_text(char *buf, size_t size, uint32_t min, uint32_t max)
{
	if (max == UINT32_MAX)
		ksnprintf(buf, size, "{min %u, no max}", min);
	else
		ksnprintf(buf, size, "{min %u, max %u}", min, max);
}

/* -- Imports --------------------------------------------------------------- */

/*
 * Does ext match import imp (spec 4.5.2, "Import Matching")?  Fills in
 * the instance's entry for it, or err.
 */
static int link_import(struct jit_instance *inst, const struct jit_wasm_import *imp,
		       const struct jit_extern *ext, struct jit_link_error *err)
{
	const struct jit_wasm_module *m = inst->wasm;
	char why[96], want[40], got[40];
	uint32_t min, max, have_min, have_max;

	if (ext->kind != imp->kind) {
		ksnprintf(why, sizeof(why), "expected %s, got %s", kind_names[imp->kind & 3],
			  kind_names[ext->kind & 3]);
		import_error(err, "incompatible import type", imp, why);
		return -K_EINVAL;
	}
	switch (imp->kind) {
	case JIT_EXTERN_FUNC: {
		uint32_t type = m->funcs[imp->index].type;

		if (ext->func->type_id != (uint32_t)jit_inst_type_ids(inst)[type]) {
			import_error(err, "incompatible import type", imp, "function type mismatch");
			return -K_EINVAL;
		}
		jit_inst_funcs(inst)[imp->index] = ext->func;
		jit_inst_imports(inst)[imp->index] = (struct jit_import){ ext->func->code,
									  ext->func->ctx };
		return 0;
	}
	case JIT_EXTERN_TABLE: {
		const struct jit_wasm_table *t = &m->tables[imp->index];

		if (ext->table->elem != t->elem) {
			ksnprintf(why, sizeof(why), "expected table of %s, got %s",
				  jit_valtype_name(t->elem), jit_valtype_name(ext->table->elem));
			import_error(err, "incompatible import type", imp, why);
			return -K_EINVAL;
		}
		min = t->limits.min;
		max = t->limits.has_max ? t->limits.max : UINT32_MAX;
		have_min = ext->table->size;
		have_max = ext->table->max;
		jit_inst_tables(inst)[imp->index] = ext->table;
		break;
	}
	case JIT_EXTERN_MEMORY: {
		const struct jit_wasm_memory *mem = &m->memories[imp->index];

		min = mem->limits.min;
		max = mem->limits.has_max ? mem->limits.max : UINT32_MAX;
		have_min = ext->memory->pages;
		have_max = ext->memory->max;
		inst->memory = ext->memory;
		break;
	}
	case JIT_EXTERN_GLOBAL: {
		const struct jit_wasm_global *g = &m->globals[imp->index];

		if (ext->global->type != g->type || ext->global->mut != g->mut) {
			ksnprintf(why, sizeof(why), "expected global %s%s, got global %s%s",
				  g->mut ? "mut " : "", jit_valtype_name(g->type),
				  ext->global->mut ? "mut " : "",
				  jit_valtype_name(ext->global->type));
			import_error(err, "incompatible import type", imp, why);
			return -K_EINVAL;
		}
		jit_inst_globals(inst)[imp->index] = ext->global;
		return 0;
	}
	default:
		import_error(err, "incompatible import type", imp, "unknown kind");
		return -K_EINVAL;
	}
	/* Limits subtyping: at least the min, and a max no larger if one is
	 * required.  A table or memory's min is its current size. */
	if (have_min < min || (max != UINT32_MAX && (have_max == UINT32_MAX || have_max > max))) {
		limits_text(want, sizeof(want), min, max);
		limits_text(got, sizeof(got), have_min, have_max);
		ksnprintf(why, sizeof(why), "%s limits %s do not fit %s", kind_names[imp->kind],
			  got, want);
		import_error(err, "incompatible import type", imp, why);
		return -K_EINVAL;
	}
	return 0;
}

static int link_imports(struct jit_instance *inst, struct jit_link_error *err)
{
	const struct jit_wasm_module *m = inst->wasm;
	int rc;

	for (uint32_t i = 0; i < m->nimports; i++) {
		const struct jit_wasm_import *imp = &m->imports[i];
		const struct jit_extern *ext = jit_store_lookup(inst->store, imp->module.ptr,
								imp->module.len, imp->name.ptr,
								imp->name.len);

		if (!ext) {
			import_error(err, "unknown import", imp, NULL);
			return -K_ENOENT;
		}
		if ((rc = link_import(inst, imp, ext, err)) < 0)
			return rc;
	}
	return 0;
}

/* -- Definitions ----------------------------------------------------------- */

/* A constant expression's value (spec 3.3.10; validated by the decoder). */
static uint64_t eval_const(struct jit_instance *inst, const struct jit_wasm_const *c)
{
	switch (c->op) {
	case JIT_OP_GLOBAL_GET:
		return jit_inst_globals(inst)[c->index]->bits;
	case JIT_OP_REF_FUNC:
		return (uint64_t)(uintptr_t)jit_inst_funcs(inst)[c->index];
	case JIT_OP_REF_NULL:
		return 0;
	default:
		return c->type == JIT_I32 || c->type == JIT_F32 ? (uint32_t)c->bits[0] : c->bits[0];
	}
}

uint64_t jit_elem_ref(struct jit_instance *inst, const struct jit_wasm_elem *seg, uint32_t i)
{
	uint32_t item = seg->items[i];

	if (item == JIT_ELEM_NULL)
		return 0;
	if (item & JIT_ELEM_GLOBAL)
		return jit_inst_globals(inst)[item & ~JIT_ELEM_GLOBAL]->bits;
	return (uint64_t)(uintptr_t)jit_inst_funcs(inst)[item];
}

/* The module's own functions, tables, memory and globals. */
static int define_all(struct jit_instance *inst)
{
	const struct jit_wasm_module *m = inst->wasm;
	const struct jit_module *mod = inst->mod;
	struct jit_store *store = inst->store;
	uint32_t ndefined = m->nfuncs - m->nfunc_imports;
	int err;

	KASSERT(mod->ndefined == ndefined && (!ndefined || (mod->code && mod->func_offsets)),
		"jit_instantiate: module has code for %u of %u functions", mod->ndefined, ndefined);
	if (ndefined && !(inst->defined = kzalloc(sizeof(struct jit_func) * ndefined)))
		return -K_ENOMEM;
	for (uint32_t k = 0; k < ndefined; k++) {
		uint32_t i = m->nfunc_imports + k;
		struct jit_func *f = &inst->defined[k];

		f->code = mod->code + mod->func_offsets[k];
		f->ctx = &inst->vm;
		f->type_id = (uint32_t)jit_inst_type_ids(inst)[m->funcs[i].type];
		f->index = i;
		f->inst = inst;
		f->sig = jit_sig_of(&m->types[m->funcs[i].type]);
		jit_inst_funcs(inst)[i] = f;
	}
	for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
		const struct jit_wasm_table *t = &m->tables[i];

		if ((err = jit_table_new(store, t->elem, t->limits.min,
					 t->limits.has_max ? t->limits.max : UINT32_MAX, 0,
					 &jit_inst_tables(inst)[i])) < 0)
			return err;
	}
	if (m->nmemories > m->nmemory_imports) {
		const struct jit_wasm_memory *mem = &m->memories[0];

		if ((err = jit_memory_new(store, mem->limits.min,
					  mem->limits.has_max ? mem->limits.max : UINT32_MAX,
					  &inst->memory)) < 0)
			return err;
	}
	inst->vm.mem = inst->memory;
	inst->vm.mem_base = inst->memory ? inst->memory->base : NULL;
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
		const struct jit_wasm_global *g = &m->globals[i];
		struct jit_value v = { g->type, eval_const(inst, &g->init) };

		if ((err = jit_global_new(store, g->type, g->mut, v, &jit_inst_globals(inst)[i])) < 0)
			return err;
	}
	return 0;
}

/* -- Segments -------------------------------------------------------------- */

bool jit_elem_dropped(const struct jit_instance *inst, uint32_t i)
{
	return inst->dropped[i / 8] & (1u << (i % 8));
}

bool jit_data_dropped(const struct jit_instance *inst, uint32_t i)
{
	return jit_elem_dropped(inst, inst->wasm->nelems + i);
}

void jit_elem_drop(struct jit_instance *inst, uint32_t i)
{
	inst->dropped[i / 8] |= (uint8_t)(1u << (i % 8));
}

void jit_data_drop(struct jit_instance *inst, uint32_t i)
{
	jit_elem_drop(inst, inst->wasm->nelems + i);
}

/*
 * Element then data segments, in order (spec 4.5.4, steps 14-15): an
 * active one is table.init/memory.init of all of it at its offset, then
 * dropped, like a declarative one.  Each is checked when its turn comes,
 * so a segment that does not fit traps with what came before written.
 */
static uint32_t init_segments(struct jit_instance *inst)
{
	const struct jit_wasm_module *m = inst->wasm;
	uint32_t code;

	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct jit_wasm_elem *e = &m->elems[i];

		if (e->mode == JIT_SEG_ACTIVE &&
		    (code = jit_table_init(inst, e->table, i, (uint32_t)eval_const(inst, &e->offset),
					   0, e->count)))
			return code;
		if (e->mode != JIT_SEG_PASSIVE)
			jit_elem_drop(inst, i);
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		const struct jit_wasm_data *d = &m->datas[i];

		if (d->mode != JIT_SEG_ACTIVE)
			continue;
		if ((code = jit_memory_init(inst, i, (uint32_t)eval_const(inst, &d->offset), 0,
					    d->len)))
			return code;
		jit_data_drop(inst, i);
	}
	return 0;
}

/* -- Instantiation ---------------------------------------------------------- */

int jit_instantiate(struct jit_store *store, const struct jit_module *mod,
		    struct jit_instance **out, struct jit_link_error *err)
{
	const struct jit_wasm_module *m = mod->wasm;
	struct jit_link_error scratch;
	struct jit_instance *inst;
	struct jit_layout l;
	uint32_t code;
	int rc;

	if (!err)
		err = &scratch;
	kmemset(err, 0, sizeof(*err));
	*out = NULL;
	jit_layout_of(m, &l);
	KASSERT(kmemcmp(&l, &mod->layout, sizeof(l)) == 0,
		"jit_instantiate: module compiled against another vmctx layout");
	if (!(inst = kzalloc(l.size)))
		return -K_ENOMEM;
	inst->vm.inst = inst;
	inst->vm.hot = &store->hot;
	inst->store = store;
	inst->mod = mod;
	inst->wasm = m;
	for (uint32_t t = 0; t < m->ntypes; t++) {
		uint32_t id;
		struct jit_sig sig = jit_sig_of(&m->types[t]);

		if ((rc = jit_types_intern(&sig, &id)) < 0)
			goto fail_free;
		jit_inst_type_ids(inst)[t] = id;
	}
	if ((rc = link_imports(inst, err)) < 0)
		goto fail_free;
	if (!(inst->dropped = kzalloc(((size_t)m->nelems + m->ndatas + 7) / 8 + 1))) {
		rc = -K_ENOMEM;
		goto fail_free;
	}
	/*
	 * From here on the instance belongs to the store even if it fails:
	 * its functions may already be in imported tables (the spec keeps
	 * what segments wrote before a trap).
	 */
	inst->next = store->instances;
	store->instances = inst;
	if ((rc = define_all(inst)) < 0 || (rc = jit_store_add_module(store, mod)) < 0)
		goto fail_msg;
	if ((code = init_segments(inst))) {
		err->trap.code = code;
		ksnprintf(err->msg, sizeof(err->msg), "%s", jit_trap_message(code));
		return -K_EFAULT;
	}
	if (m->start != JIT_NO_START) {
		rc = jit_call(jit_inst_funcs(inst)[m->start], NULL, 0, NULL, 0, &err->trap);
		if (rc == -K_EFAULT) {
			ksnprintf(err->msg, sizeof(err->msg), "%s",
				  jit_trap_message(err->trap.code));
			return rc;
		}
		if (rc < 0)
			goto fail_msg;
	}
	*out = inst;
	return 0;

fail_free:
	kfree(inst->dropped);
	kfree(inst);
	if (rc != -K_ENOMEM)
		return rc;
fail_msg:
	ksnprintf(err->msg, sizeof(err->msg), "instantiation failed: %s", kerr_str(rc));
	return rc;
}

/* -- Exports ---------------------------------------------------------------- */

int jit_instance_export_at(struct jit_instance *inst, uint32_t i, struct jit_extern *out)
{
	const struct jit_wasm_export *e = &inst->wasm->exports[i];

	out->kind = e->kind;
	switch (e->kind) {
	case JIT_EXTERN_FUNC:
		out->func = jit_inst_funcs(inst)[e->index];
		return 0;
	case JIT_EXTERN_TABLE:
		out->table = jit_inst_tables(inst)[e->index];
		return 0;
	case JIT_EXTERN_MEMORY:
		out->memory = inst->memory;
		return 0;
	case JIT_EXTERN_GLOBAL:
		out->global = jit_inst_globals(inst)[e->index];
		return 0;
	default:
		return -K_EINVAL;
	}
}

int jit_instance_export(struct jit_instance *inst, const char *name,
			struct jit_extern *out)
{
	return jit_instance_export_n(inst, (const uint8_t *)name, kstrlen(name), out);
}

int jit_instance_export_n(struct jit_instance *inst, const uint8_t *name,
			  size_t len, struct jit_extern *out)
{
	const struct jit_wasm_module *m = inst->wasm;

	for (uint32_t i = 0; i < m->nexports; i++) {
		const struct jit_wasm_export *e = &m->exports[i];

		if (e->name.len == len && (!len || kmemcmp(e->name.ptr, name, len) == 0))
			return jit_instance_export_at(inst, i, out);
	}
	return -K_ENOENT;
}

uint8_t *jit_instance_memory(struct jit_instance *inst, uint64_t *size)
{
	if (!inst || !inst->memory) {
		*size = 0;
		return NULL;
	}
	*size = inst->memory->size;
	return inst->memory->base;
}
