/*
 * bulk.c - the runtime calls compiled code makes (rt.h) for the
 * instructions that are not worth inlining: memory.grow and the bulk
 * memory and table instructions, with the spec's bounds rules
 * (WebAssembly 2.0 spec 4.4.6 and 4.4.7):
 *  - every bound is checked before anything is written, so a trapping
 *    instruction changes nothing;
 *  - n == 0 is in bounds up to and including the exact end (dst == size);
 *  - a dropped segment behaves as one of length 0.
 * Offsets are u32 and sizes at most 2^32 (memories) or 2^32 - 1 (tables),
 * so the sums are computed in 64 bits and cannot wrap.
 */
#include "jit/runtime.h"
#include "kernel/klib.h"

static inline bool out_of(uint32_t at, uint32_t n, uint64_t size)
{
	return (uint64_t)at + n > size;
}

/* -- Shared with instantiation --------------------------------------------- */

uint32_t jit_table_init(struct jit_instance *inst, uint32_t table, uint32_t seg,
			uint32_t dst, uint32_t src, uint32_t n)
{
	struct jit_table *t = jit_inst_tables(inst)[table];
	const struct jit_wasm_elem *e = &inst->wasm->elems[seg];
	uint32_t len = jit_elem_dropped(inst, seg) ? 0 : e->count;

	if (out_of(src, n, len) || out_of(dst, n, t->size))
		return JIT_TRAP_TABLE_OOB;
	for (uint32_t i = 0; i < n; i++)
		t->elems[dst + i] = jit_elem_ref(inst, e, src + i);
	return 0;
}

uint32_t jit_memory_init(struct jit_instance *inst, uint32_t seg, uint32_t dst,
			 uint32_t src, uint32_t n)
{
	struct jit_memory *mem = inst->memory;
	const struct jit_wasm_data *d = &inst->wasm->datas[seg];
	uint32_t len = jit_data_dropped(inst, seg) ? 0 : d->len;

	if (out_of(src, n, len) || out_of(dst, n, mem->size))
		return JIT_TRAP_MEMORY_OOB;
	if (n)
		kmemcpy(mem->base + dst, d->bytes + src, n);
	return 0;
}

/* -- Memory ---------------------------------------------------------------- */

uint32_t jit_rt_memory_grow(struct jit_vmctx *vm, uint32_t delta)
{
	return (uint32_t)jit_memory_grow(vm->mem, delta);
}

uint32_t jit_rt_memory_fill(struct jit_vmctx *vm, uint32_t dst, uint32_t val, uint32_t n)
{
	if (out_of(dst, n, vm->mem->size))
		return JIT_TRAP_MEMORY_OOB;
	if (n)
		kmemset(vm->mem->base + dst, (int)(uint8_t)val, n);
	return 0;
}

uint32_t jit_rt_memory_copy(struct jit_vmctx *vm, uint32_t dst, uint32_t src, uint32_t n)
{
	struct jit_memory *mem = vm->mem;

	if (out_of(dst, n, mem->size) || out_of(src, n, mem->size))
		return JIT_TRAP_MEMORY_OOB;
	if (n)
		kmemmove(mem->base + dst, mem->base + src, n);
	return 0;
}

uint32_t jit_rt_memory_init(struct jit_vmctx *vm, uint32_t seg, uint32_t dst,
			    uint32_t src, uint32_t n)
{
	return jit_memory_init(jit_vm_inst(vm), seg, dst, src, n);
}

void jit_rt_data_drop(struct jit_vmctx *vm, uint32_t seg)
{
	jit_data_drop(jit_vm_inst(vm), seg);
}

/* -- Tables ---------------------------------------------------------------- */

uint32_t jit_rt_table_get(struct jit_vmctx *vm, uint32_t table, uint32_t i, uint64_t *out)
{
	struct jit_table *t = jit_inst_tables(jit_vm_inst(vm))[table];

	if (i >= t->size)
		return JIT_TRAP_TABLE_OOB;
	*out = t->elems[i];
	return 0;
}

uint32_t jit_rt_table_set(struct jit_vmctx *vm, uint32_t table, uint32_t i, uint64_t val)
{
	struct jit_table *t = jit_inst_tables(jit_vm_inst(vm))[table];

	if (i >= t->size)
		return JIT_TRAP_TABLE_OOB;
	t->elems[i] = val;
	return 0;
}

uint32_t jit_rt_table_grow(struct jit_vmctx *vm, uint32_t table, uint64_t init, uint32_t delta)
{
	return (uint32_t)jit_table_grow(jit_inst_tables(jit_vm_inst(vm))[table], delta, init);
}

uint32_t jit_rt_table_fill(struct jit_vmctx *vm, uint32_t table, uint32_t dst, uint64_t val,
			   uint32_t n)
{
	struct jit_table *t = jit_inst_tables(jit_vm_inst(vm))[table];

	if (out_of(dst, n, t->size))
		return JIT_TRAP_TABLE_OOB;
	for (uint32_t i = 0; i < n; i++)
		t->elems[dst + i] = val;
	return 0;
}

uint32_t jit_rt_table_copy(struct jit_vmctx *vm, uint32_t dst_table, uint32_t src_table,
			   uint32_t dst, uint32_t src, uint32_t n)
{
	struct jit_instance *inst = jit_vm_inst(vm);
	struct jit_table *d = jit_inst_tables(inst)[dst_table];
	struct jit_table *s = jit_inst_tables(inst)[src_table];

	if (out_of(dst, n, d->size) || out_of(src, n, s->size))
		return JIT_TRAP_TABLE_OOB;
	if (n)
		kmemmove(d->elems + dst, s->elems + src, sizeof(uint64_t) * n);
	return 0;
}

uint32_t jit_rt_table_init(struct jit_vmctx *vm, uint32_t table, uint32_t seg,
			   uint32_t dst, uint32_t src, uint32_t n)
{
	return jit_table_init(jit_vm_inst(vm), table, seg, dst, src, n);
}

void jit_rt_elem_drop(struct jit_vmctx *vm, uint32_t seg)
{
	jit_elem_drop(jit_vm_inst(vm), seg);
}
