/*
 * decode.c - the WebAssembly 2.0 binary format (spec chapter 5): the module
 * header, every section, constant expressions and the name section, checked
 * against the module-level validation rules (spec 3.4) as they are read.
 * Function bodies go to validate.c as the code section reaches them, so a
 * module is decoded and validated in one pass over its bytes.
 */
#include "jit/wasm_internal.h"
#include "kernel/kerr.h"

/* -- Errors and memory ------------------------------------------------ */

bool jit_wasm_fail(struct jit_wasm_decoder *d, const uint8_t *at,
		   bool malformed, const char *fmt, ...)
{
	va_list ap;

	/*
	 * The spec decodes a whole module before validating it, so a
	 * malformed error found after an invalid one is the one to report.
	 */
	if (d->failed && (d->err->malformed || !malformed || d->oom))
		return false;
	d->failed = true;
	d->err->offset = (uint32_t)(at - d->base);
	d->err->malformed = malformed;
	va_start(ap, fmt);
	kvsnprintf(d->err->msg, sizeof(d->err->msg), fmt, ap);
	va_end(ap);
	return false;
}

void *jit_wasm_alloc(struct jit_wasm_decoder *d, size_t size, const uint8_t *at)
{
	const struct jit_wasm_alloc *a = &d->m->alloc;
	void *p = a->alloc(a->ctx, size ? size : 1);

	if (!p) {
		jit_wasm_fail(d, at, false, "out of memory (%zu bytes)", size);
		d->oom = true;
		return NULL;
	}
	kmemset(p, 0, size);
	return p;
}

void jit_wasm_release(struct jit_wasm_decoder *d, void *p)
{
	if (p)
		d->m->alloc.free(d->m->alloc.ctx, p);
}

bool jit_wasm_eof(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	return jit_wasm_fail(d, r->p, true, "unexpected end");
}

/* -- LEB128 (spec 5.2.2) ---------------------------------------------- */

/*
 * An N-bit integer takes at most ceil(N/7) bytes, and the bits of the last
 * byte beyond N must be zero (unsigned) or copies of the sign bit (signed):
 * too many bytes is "integer representation too long", stray bits in the
 * last byte "integer too large".
 */
static bool leb(struct jit_wasm_decoder *d, struct jit_rd *r, unsigned bits,
		bool is_signed, uint64_t *out)
{
	const uint8_t *start = r->p;
	unsigned maxlen = (bits + 6) / 7, shift = 0, i;
	uint64_t v = 0;
	uint8_t b = 0;

	for (i = 0; i < maxlen; i++) {
		if (r->p >= r->end)
			return jit_wasm_eof(d, r);
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (i == maxlen)
		return jit_wasm_fail(d, start, true,
		    "integer representation too long");
	if (i == maxlen - 1 && bits % 7) {
		/* The last byte: the bits past `bits` must be the extension. */
		unsigned used = bits - 7 * (maxlen - 1);
		uint8_t extra = (uint8_t)(b & 0x7f) >> used;
		uint8_t all = (uint8_t)(0x7f >> used);
		bool neg = is_signed && (b >> (used - 1) & 1);

		if (extra != (neg ? all : 0))
			return jit_wasm_fail(d, start, true, "integer too large");
	}
	if (is_signed && shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	*out = v;
	return true;
}

bool jit_wasm_leb_u32(struct jit_wasm_decoder *d, struct jit_rd *r, uint32_t *v)
{
	uint64_t x;

	if (!leb(d, r, 32, false, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

bool jit_wasm_leb_s32(struct jit_wasm_decoder *d, struct jit_rd *r, int32_t *v)
{
	uint64_t x;

	if (!leb(d, r, 32, true, &x))
		return false;
	*v = (int32_t)(uint32_t)x;
	return true;
}

bool jit_wasm_leb_s33(struct jit_wasm_decoder *d, struct jit_rd *r, int64_t *v)
{
	uint64_t x;

	if (!leb(d, r, 33, true, &x))
		return false;
	*v = (int64_t)x;
	return true;
}

bool jit_wasm_leb_s64(struct jit_wasm_decoder *d, struct jit_rd *r, int64_t *v)
{
	uint64_t x;

	if (!leb(d, r, 64, true, &x))
		return false;
	*v = (int64_t)x;
	return true;
}

/* -- Small pieces ----------------------------------------------------- */

bool jit_wasm_valtype(struct jit_wasm_decoder *d, struct jit_rd *r, uint8_t *t)
{
	const uint8_t *at = r->p;

	if (!rd_byte(d, r, t))
		return false;
	if (!is_valtype(*t))
		return jit_wasm_fail(d, at, true, "malformed value type 0x%x", *t);
	return true;
}

static bool reftype(struct jit_wasm_decoder *d, struct jit_rd *r, uint8_t *t)
{
	const uint8_t *at = r->p;

	if (!rd_byte(d, r, t))
		return false;
	if (!is_reftype(*t))
		return jit_wasm_fail(d, at, true, "malformed reference type 0x%x",
		    *t);
	return true;
}

/*
 * A vector length: each element takes at least `min_size` bytes, so a
 * count the rest of the input cannot hold is malformed before anything is
 * allocated for it.
 */
static bool vec_len(struct jit_wasm_decoder *d, struct jit_rd *r,
		    uint32_t min_size, uint32_t *n)
{
	const uint8_t *at = r->p;

	if (!rd_u32(d, r, n))
		return false;
	if ((uint64_t)*n * min_size > (uint64_t)(r->end - r->p))
		return jit_wasm_fail(d, at, true, "unexpected end: %u entries "
		    "do not fit in the %zu bytes left", *n,
		    (size_t)(r->end - r->p));
	return true;
}

/* Past an implementation limit: the module is refused as invalid. */
static bool check_limit(struct jit_wasm_decoder *d, const uint8_t *at,
			uint64_t n, uint64_t max, const char *what)
{
	if (n > max)
		return jit_wasm_fail(d, at, false, "too many %s (%llu, the "
		    "limit is %llu)", what, (unsigned long long)n,
		    (unsigned long long)max);
	return true;
}

/* UTF-8 (spec 5.2.4) without overlong forms, surrogates or past U+10FFFF. */
bool jit_wasm_utf8_ok(const uint8_t *s, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint32_t need, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (len - i <= need)
			return false;
		for (uint32_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static bool read_name(struct jit_wasm_decoder *d, struct jit_rd *r,
		      struct jit_wasm_name *name)
{
	const uint8_t *at = r->p;
	uint32_t len;

	if (!rd_u32(d, r, &len) || !rd_bytes(d, r, len, &name->ptr))
		return false;
	name->len = len;
	if (!jit_wasm_utf8_ok(name->ptr, len))
		return jit_wasm_fail(d, at, true, "malformed UTF-8 encoding");
	return true;
}

static bool read_limits(struct jit_wasm_decoder *d, struct jit_rd *r,
			struct jit_wasm_limits *l)
{
	const uint8_t *at = r->p;
	uint8_t flag;

	if (!rd_byte(d, r, &flag))
		return false;
	if (flag > 1)
		return jit_wasm_fail(d, at, true, "integer too large: limits "
		    "flag 0x%x", flag);
	if (!rd_u32(d, r, &l->min))
		return false;
	l->has_max = flag == 1;
	l->max = UINT32_MAX;
	if (l->has_max && !rd_u32(d, r, &l->max))
		return false;
	if (l->has_max && l->min > l->max)
		return jit_wasm_fail(d, at, false, "size minimum must not be "
		    "greater than maximum");
	return true;
}

static bool table_type(struct jit_wasm_decoder *d, struct jit_rd *r,
		       struct jit_wasm_table *t)
{
	const uint8_t *at = r->p;

	if (!reftype(d, r, &t->elem) || !read_limits(d, r, &t->limits))
		return false;
	if (t->limits.min > JIT_WASM_MAX_TABLE_SIZE)
		return jit_wasm_fail(d, at, false, "table size %u over the "
		    "limit of %u elements", t->limits.min,
		    JIT_WASM_MAX_TABLE_SIZE);
	return true;
}

static bool memory_type(struct jit_wasm_decoder *d, struct jit_rd *r,
			struct jit_wasm_memory *mem)
{
	const uint8_t *at = r->p;

	if (!read_limits(d, r, &mem->limits))
		return false;
	if (mem->limits.min > JIT_WASM_MAX_PAGES ||
	    (mem->limits.has_max && mem->limits.max > JIT_WASM_MAX_PAGES))
		return jit_wasm_fail(d, at, false, "memory size must be at "
		    "most 65536 pages (4GiB)");
	return true;
}

static bool global_type(struct jit_wasm_decoder *d, struct jit_rd *r,
			struct jit_wasm_global *g)
{
	const uint8_t *at;
	uint8_t mut;

	if (!jit_wasm_valtype(d, r, &g->type))
		return false;
	at = r->p;
	if (!rd_byte(d, r, &mut))
		return false;
	if (mut > 1)
		return jit_wasm_fail(d, at, true, "malformed mutability 0x%x",
		    mut);
	g->mut = mut;
	return true;
}

static void declare_ref(struct jit_wasm_decoder *d, uint32_t func)
{
	d->refs[func >> 3] |= (uint8_t)(1u << (func & 7));
}

/*
 * A constant expression of type `want` (spec 3.3.10 in the context C' of
 * 3.4.10: only imported globals are visible), ending with `end`.
 */
static bool const_expr(struct jit_wasm_decoder *d, struct jit_rd *r,
		       uint8_t want, struct jit_wasm_const *c)
{
	const struct jit_wasm_module *m = d->m;
	unsigned depth = 0;
	const uint8_t *at;
	uint8_t op;

	kmemset(c, 0, sizeof(*c));
	for (;;) {
		at = r->p;
		if (!rd_byte(d, r, &op))
			return false;
		if (op == JIT_OP_END)
			break;
		if (depth++)
			return jit_wasm_fail(d, at, false, "type mismatch: "
			    "constant expression leaves more than one value");
		c->op = op;
		switch (op) {
		case JIT_OP_I32_CONST: {
			int32_t v;

			if (!rd_s32(d, r, &v))
				return false;
			c->type = JIT_I32;
			c->bits[0] = (uint32_t)v;
			break;
		}
		case JIT_OP_I64_CONST: {
			int64_t v;

			if (!jit_wasm_leb_s64(d, r, &v))
				return false;
			c->type = JIT_I64;
			c->bits[0] = (uint64_t)v;
			break;
		}
		case JIT_OP_F32_CONST:
		case JIT_OP_F64_CONST: {
			const uint8_t *b;
			uint32_t n = op == JIT_OP_F32_CONST ? 4 : 8;

			if (!rd_bytes(d, r, n, &b))
				return false;
			kmemcpy(&c->bits[0], b, n);
			c->type = op == JIT_OP_F32_CONST ? JIT_F32 : JIT_F64;
			break;
		}
		case 0xfd: {
			uint32_t sub;
			const uint8_t *b;

			if (!rd_u32(d, r, &sub))
				return false;
			if (sub != (JIT_OP_V128_CONST & 0xff))
				goto not_const;
			if (!rd_bytes(d, r, 16, &b))
				return false;
			kmemcpy(c->bits, b, 16);
			c->op = JIT_OP_V128_CONST;
			c->type = JIT_V128;
			break;
		}
		case JIT_OP_REF_NULL:
			if (!reftype(d, r, &c->type))
				return false;
			break;
		case JIT_OP_REF_FUNC:
			if (!rd_u32(d, r, &c->index))
				return false;
			if (c->index >= m->nfuncs)
				return jit_wasm_fail(d, at, false,
				    "unknown function %u", c->index);
			declare_ref(d, c->index);
			c->type = JIT_FUNCREF;
			break;
		case JIT_OP_GLOBAL_GET:
			if (!rd_u32(d, r, &c->index))
				return false;
			if (c->index >= m->nglobal_imports)
				return jit_wasm_fail(d, at, false,
				    "unknown global %u", c->index);
			if (m->globals[c->index].mut)
				return jit_wasm_fail(d, at, false, "constant "
				    "expression required: global %u is "
				    "mutable", c->index);
			c->type = m->globals[c->index].type;
			break;
		default:
		not_const:
			if (op == 0xfc || op == 0xfd || jit_op_name(op))
				return jit_wasm_fail(d, at, false,
				    "constant expression required");
			return jit_wasm_fail(d, at, true, "illegal opcode 0x%x",
			    op);
		}
	}
	if (!depth || c->type != want)
		return jit_wasm_fail(d, at, false, "type mismatch in constant "
		    "expression, expected %s but got %s",
		    jit_valtype_name(want),
		    depth ? jit_valtype_name(c->type) : "nothing");
	return true;
}

/* -- Index spaces ----------------------------------------------------- */

/*
 * Imports are read before the sections that say how many functions,
 * tables, memories and globals the module defines, so they wait in
 * `struct import_desc` until each index space is opened with its final
 * size.
 */
struct import_desc {
	uint8_t kind;
	uint8_t type;		/* table element / global value type */
	bool mut;
	uint32_t typeidx;
	struct jit_wasm_limits limits;
};

struct decode_state {
	struct import_desc *imports;
	uint32_t counts[4];		/* imports of each extern kind */
	bool opened[4];			/* index space allocated */
	uint32_t nfunc_decls;		/* function section entries */
	uint32_t data_count;
	bool seen_code, seen_data;
	const uint8_t *name_section;	/* contents of the "name" section */
	uint32_t name_size;
};

/* Allocate the index space of `kind` with `ndefined` entries after imports. */
static bool open_space(struct jit_wasm_decoder *d, struct decode_state *s,
		       unsigned kind, uint32_t ndefined, const uint8_t *at)
{
	struct jit_wasm_module *m = d->m;
	uint32_t nimp = s->counts[kind], n = nimp + ndefined, k = 0;
	static const uint32_t max[4] = {
		JIT_WASM_MAX_FUNCTIONS, JIT_WASM_MAX_TABLES, 1,
		JIT_WASM_MAX_GLOBALS,
	};
	static const char *const what[4] = {
		"functions", "tables", "memories", "globals",
	};

	s->opened[kind] = true;
	if (kind == JIT_EXTERN_MEMORY && n > 1)
		return jit_wasm_fail(d, at, false, "multiple memories");
	if (!check_limit(d, at, n, max[kind], what[kind]))
		return false;
	switch (kind) {
	case JIT_EXTERN_FUNC:
		m->funcs = jit_wasm_alloc(d, sizeof(*m->funcs) * n, at);
		d->refs = jit_wasm_alloc(d, n / 8 + 1, at);
		if (!m->funcs || !d->refs)
			return false;
		m->nfuncs = n;
		m->nfunc_imports = nimp;
		break;
	case JIT_EXTERN_TABLE:
		if (!(m->tables = jit_wasm_alloc(d, sizeof(*m->tables) * n, at)))
			return false;
		m->ntables = n;
		m->ntable_imports = nimp;
		break;
	case JIT_EXTERN_MEMORY:
		if (!(m->memories = jit_wasm_alloc(d, sizeof(*m->memories) * n,
		    at)))
			return false;
		m->nmemories = n;
		m->nmemory_imports = nimp;
		break;
	default:
		if (!(m->globals = jit_wasm_alloc(d, sizeof(*m->globals) * n,
		    at)))
			return false;
		m->nglobals = n;
		m->nglobal_imports = nimp;
		break;
	}
	for (uint32_t i = 0; i < m->nimports; i++) {
		const struct import_desc *im = &s->imports[i];

		if (im->kind != kind)
			continue;
		m->imports[i].index = k;
		switch (kind) {
		case JIT_EXTERN_FUNC:
			m->funcs[k].type = im->typeidx;
			m->funcs[k].imported = true;
			break;
		case JIT_EXTERN_TABLE:
			m->tables[k].elem = im->type;
			m->tables[k].limits = im->limits;
			m->tables[k].imported = true;
			break;
		case JIT_EXTERN_MEMORY:
			m->memories[k].limits = im->limits;
			m->memories[k].imported = true;
			break;
		default:
			m->globals[k].type = im->type;
			m->globals[k].mut = im->mut;
			m->globals[k].imported = true;
			break;
		}
		k++;
	}
	return true;
}

/* Open, empty, every index space whose section would come before `id`. */
static bool open_spaces_before(struct jit_wasm_decoder *d,
			       struct decode_state *s, unsigned id,
			       const uint8_t *at)
{
	/* Section ids 3..6 define functions, tables, memories, globals. */
	for (unsigned kind = 0; kind < 4; kind++)
		if (!s->opened[kind] && id > 3 + kind &&
		    !open_space(d, s, kind, 0, at))
			return false;
	return true;
}

/* -- Sections --------------------------------------------------------- */

static bool sec_type(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n, used = 0;

	if (!vec_len(d, r, 3, &n) ||
	    !check_limit(d, at, n, JIT_WASM_MAX_TYPES, "types"))
		return false;
	m->types = jit_wasm_alloc(d, sizeof(*m->types) * n, at);
	/* The value types of all types together fit in the section. */
	m->type_pool = jit_wasm_alloc(d, (size_t)(r->end - r->p), at);
	if (!m->types || !m->type_pool)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_functype *ft = &m->types[i];
		uint32_t np, nr;
		uint8_t form;

		at = r->p;
		if (!rd_byte(d, r, &form))
			return false;
		if (form != 0x60)
			return jit_wasm_fail(d, at, true, "malformed function "
			    "type form 0x%x", form);
		at = r->p;
		if (!vec_len(d, r, 1, &np) ||
		    !check_limit(d, at, np, JIT_WASM_MAX_PARAMS, "parameters"))
			return false;
		ft->params = m->type_pool + used;
		for (uint32_t k = 0; k < np; k++)
			if (!jit_wasm_valtype(d, r, &m->type_pool[used++]))
				return false;
		at = r->p;
		if (!vec_len(d, r, 1, &nr) ||
		    !check_limit(d, at, nr, JIT_WASM_MAX_RESULTS, "results"))
			return false;
		ft->results = m->type_pool + used;
		for (uint32_t k = 0; k < nr; k++)
			if (!jit_wasm_valtype(d, r, &m->type_pool[used++]))
				return false;
		ft->nparams = np;
		ft->nresults = nr;
		m->ntypes = i + 1;
	}
	return true;
}

static bool sec_import(struct jit_wasm_decoder *d, struct decode_state *s,
		       struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 4, &n) ||
	    !check_limit(d, at, n, JIT_WASM_MAX_IMPORTS, "imports"))
		return false;
	m->imports = jit_wasm_alloc(d, sizeof(*m->imports) * n, at);
	s->imports = jit_wasm_alloc(d, sizeof(*s->imports) * n, at);
	if (!m->imports || !s->imports)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_import *im = &m->imports[i];
		struct import_desc *desc = &s->imports[i];

		if (!read_name(d, r, &im->module) || !read_name(d, r, &im->name))
			return false;
		at = r->p;
		if (!rd_byte(d, r, &im->kind))
			return false;
		desc->kind = im->kind;
		switch (im->kind) {
		case JIT_EXTERN_FUNC:
			if (!rd_u32(d, r, &desc->typeidx))
				return false;
			if (desc->typeidx >= m->ntypes)
				return jit_wasm_fail(d, at, false,
				    "unknown type %u", desc->typeidx);
			break;
		case JIT_EXTERN_TABLE: {
			struct jit_wasm_table t;

			if (!table_type(d, r, &t))
				return false;
			desc->type = t.elem;
			desc->limits = t.limits;
			break;
		}
		case JIT_EXTERN_MEMORY: {
			struct jit_wasm_memory mem;

			if (!memory_type(d, r, &mem))
				return false;
			desc->limits = mem.limits;
			break;
		}
		case JIT_EXTERN_GLOBAL: {
			struct jit_wasm_global g;

			if (!global_type(d, r, &g))
				return false;
			desc->type = g.type;
			desc->mut = g.mut;
			break;
		}
		default:
			return jit_wasm_fail(d, at, true, "malformed import "
			    "kind 0x%x", im->kind);
		}
		s->counts[im->kind]++;
		m->nimports = i + 1;
	}
	return true;
}

static bool sec_function(struct jit_wasm_decoder *d, struct decode_state *s,
			 struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 1, &n) ||
	    !open_space(d, s, JIT_EXTERN_FUNC, n, at))
		return false;
	s->nfunc_decls = n;
	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
		at = r->p;
		if (!rd_u32(d, r, &m->funcs[i].type))
			return false;
		if (m->funcs[i].type >= m->ntypes)
			return jit_wasm_fail(d, at, false, "unknown type %u",
			    m->funcs[i].type);
	}
	return true;
}

static bool sec_table(struct jit_wasm_decoder *d, struct decode_state *s,
		      struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 3, &n) ||
	    !open_space(d, s, JIT_EXTERN_TABLE, n, at))
		return false;
	for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
		if (!table_type(d, r, &m->tables[i]))
			return false;
	return true;
}

static bool sec_memory(struct jit_wasm_decoder *d, struct decode_state *s,
		       struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 2, &n) ||
	    !open_space(d, s, JIT_EXTERN_MEMORY, n, at))
		return false;
	for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++)
		if (!memory_type(d, r, &m->memories[i]))
			return false;
	return true;
}

static bool sec_global(struct jit_wasm_decoder *d, struct decode_state *s,
		       struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 3, &n) ||
	    !open_space(d, s, JIT_EXTERN_GLOBAL, n, at))
		return false;
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
		struct jit_wasm_global *g = &m->globals[i];

		if (!global_type(d, r, g) || !const_expr(d, r, g->type, &g->init))
			return false;
	}
	return true;
}

static int name_cmp(struct jit_wasm_name a, struct jit_wasm_name b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len ? kmemcmp(a.ptr, b.ptr, a.len) : 0;
}

/* Sift idx[i] down the max-heap idx[0..n) ordered by export name. */
static void sift(const struct jit_wasm_export *e, uint32_t *idx, uint32_t i,
		 uint32_t n)
{
	for (;;) {
		uint32_t big = i, l = 2 * i + 1, r = l + 1, t;

		if (l < n && name_cmp(e[idx[l]].name, e[idx[big]].name) > 0)
			big = l;
		if (r < n && name_cmp(e[idx[r]].name, e[idx[big]].name) > 0)
			big = r;
		if (big == i)
			return;
		t = idx[i];
		idx[i] = idx[big];
		idx[big] = t;
		i = big;
	}
}

/*
 * Export names are unique (spec 3.4.10).  Heapsort the names and compare
 * neighbours: O(n log n) whatever the names, where a hash table could be
 * driven quadratic by names chosen to collide.
 */
static bool unique_exports(struct jit_wasm_decoder *d, const uint8_t *at)
{
	const struct jit_wasm_export *e = d->m->exports;
	uint32_t n = d->m->nexports, *idx, t;
	bool ok = true;

	if (n < 2)
		return true;
	if (!(idx = jit_wasm_alloc(d, sizeof(*idx) * n, at)))
		return false;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	for (uint32_t i = n / 2; i-- > 0;)
		sift(e, idx, i, n);
	for (uint32_t end = n - 1; end > 0; end--) {
		t = idx[0];
		idx[0] = idx[end];
		idx[end] = t;
		sift(e, idx, 0, end);
	}
	for (uint32_t i = 1; i < n && ok; i++) {
		if (!name_cmp(e[idx[i - 1]].name, e[idx[i]].name)) {
			/* Report the later of the two in the file. */
			t = MAX(idx[i - 1], idx[i]);
			ok = jit_wasm_fail(d, e[t].name.ptr, false,
			    "duplicate export name");
		}
	}
	jit_wasm_release(d, idx);
	return ok;
}

static bool sec_export(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 3, &n) ||
	    !check_limit(d, at, n, JIT_WASM_MAX_EXPORTS, "exports"))
		return false;
	if (!(m->exports = jit_wasm_alloc(d, sizeof(*m->exports) * n, at)))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_export *e = &m->exports[i];
		static const char *const what[4] = {
			"function", "table", "memory", "global",
		};
		const uint32_t space[4] = {
			m->nfuncs, m->ntables, m->nmemories, m->nglobals,
		};

		if (!read_name(d, r, &e->name))
			return false;
		at = r->p;
		if (!rd_byte(d, r, &e->kind))
			return false;
		if (e->kind > JIT_EXTERN_GLOBAL)
			return jit_wasm_fail(d, at, true, "malformed export "
			    "kind 0x%x", e->kind);
		if (!rd_u32(d, r, &e->index))
			return false;
		if (e->index >= space[e->kind])
			return jit_wasm_fail(d, at, false, "unknown %s %u",
			    what[e->kind], e->index);
		if (e->kind == JIT_EXTERN_FUNC)
			declare_ref(d, e->index);
		m->nexports = i + 1;
	}
	return unique_exports(d, at);
}

static bool sec_start(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	const struct jit_wasm_functype *ft;

	if (!rd_u32(d, r, &m->start))
		return false;
	if (m->start >= m->nfuncs)
		return jit_wasm_fail(d, at, false, "unknown function %u",
		    m->start);
	ft = &m->types[m->funcs[m->start].type];
	if (ft->nparams || ft->nresults)
		return jit_wasm_fail(d, at, false, "start function must have "
		    "type [] -> []");
	return true;
}

/* One element segment (spec 5.5.12): flags 0-7 choose its shape. */
static bool elem_segment(struct jit_wasm_decoder *d, struct jit_rd *r,
			 struct jit_wasm_elem *e)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t flags, n;
	bool exprs;

	if (!rd_u32(d, r, &flags))
		return false;
	if (flags > 7)
		return jit_wasm_fail(d, at, true, "malformed elements segment "
		    "kind %u", flags);
	exprs = flags & 4;
	e->type = JIT_FUNCREF;
	e->mode = !(flags & 1) ? JIT_SEG_ACTIVE :
	    (flags & 2) ? JIT_SEG_DECLARATIVE : JIT_SEG_PASSIVE;
	if (e->mode == JIT_SEG_ACTIVE) {
		at = r->p;
		if ((flags & 2) && !rd_u32(d, r, &e->table))
			return false;
		if (e->table >= m->ntables)
			return jit_wasm_fail(d, at, false, "unknown table %u",
			    e->table);
		if (!const_expr(d, r, JIT_I32, &e->offset))
			return false;
	}
	if (flags & 3) {
		at = r->p;
		if (exprs) {
			if (!reftype(d, r, &e->type))
				return false;
		} else {
			uint8_t kind;

			if (!rd_byte(d, r, &kind))
				return false;
			if (kind != 0)
				return jit_wasm_fail(d, at, true, "malformed "
				    "element kind 0x%x", kind);
		}
	}
	if (e->mode == JIT_SEG_ACTIVE && m->tables[e->table].elem != e->type)
		return jit_wasm_fail(d, at, false, "type mismatch: %s element "
		    "segment for a table of %s", jit_valtype_name(e->type),
		    jit_valtype_name(m->tables[e->table].elem));
	at = r->p;
	if (!vec_len(d, r, 1, &n))
		return false;
	if (!(e->items = jit_wasm_alloc(d, sizeof(*e->items) * n, at)))
		return false;
	e->count = n;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_const c;

		at = r->p;
		if (!exprs) {
			if (!rd_u32(d, r, &e->items[i]))
				return false;
			if (e->items[i] >= m->nfuncs)
				return jit_wasm_fail(d, at, false,
				    "unknown function %u", e->items[i]);
			declare_ref(d, e->items[i]);
			continue;
		}
		if (!const_expr(d, r, e->type, &c))
			return false;
		e->items[i] = c.op == JIT_OP_REF_NULL ? JIT_ELEM_NULL :
		    c.op == JIT_OP_GLOBAL_GET ? JIT_ELEM_GLOBAL | c.index :
		    c.index;
	}
	return true;
}

static bool sec_elem(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 2, &n) ||
	    !check_limit(d, at, n, JIT_WASM_MAX_ELEM_SEGMENTS,
		"element segments"))
		return false;
	if (!(m->elems = jit_wasm_alloc(d, sizeof(*m->elems) * n, at)))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		m->nelems = i + 1;
		if (!elem_segment(d, r, &m->elems[i]))
			return false;
	}
	return true;
}

static bool sec_datacount(struct jit_wasm_decoder *d, struct decode_state *s,
			  struct jit_rd *r)
{
	const uint8_t *at = r->p;

	if (!rd_u32(d, r, &s->data_count) ||
	    !check_limit(d, at, s->data_count, JIT_WASM_MAX_DATA_SEGMENTS,
		"data segments"))
		return false;
	d->m->has_data_count = true;
	d->m->ndatas = s->data_count;
	return true;
}

static bool sec_code(struct jit_wasm_decoder *d, struct decode_state *s,
		     struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 1, &n))
		return false;
	if (n != s->nfunc_decls)
		return jit_wasm_fail(d, at, true, "function and code section "
		    "have inconsistent lengths (%u and %u)", s->nfunc_decls, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t size, func = m->nfunc_imports + i;
		const uint8_t *body;

		at = r->p;
		if (!rd_u32(d, r, &size) || !rd_bytes(d, r, size, &body))
			return false;
		if (size > JIT_WASM_MAX_BODY_SIZE)
			return jit_wasm_fail(d, at, false, "function body of "
			    "%u bytes over the limit of %u", size,
			    JIT_WASM_MAX_BODY_SIZE);
		m->code_bytes += size;
		if (d->lazy) {
			m->funcs[func].body = body;
			m->funcs[func].body_len = size;
			continue;
		}
		if (!d->failed && jit_wasm_validate_body(d, func, body, size))
			continue;
		/*
		 * Invalid: go on decoding without validating, so that a
		 * malformed body or section further on still takes over.
		 */
		if (d->err->malformed || d->oom ||
		    !jit_wasm_skip_body(d, body, size))
			return false;
	}
	return true;
}

static bool sec_data(struct jit_wasm_decoder *d, struct decode_state *s,
		     struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	const uint8_t *at = r->p;
	uint32_t n;

	if (!vec_len(d, r, 2, &n) ||
	    !check_limit(d, at, n, JIT_WASM_MAX_DATA_SEGMENTS, "data segments"))
		return false;
	if (m->has_data_count && n != s->data_count)
		return jit_wasm_fail(d, at, true, "data count and data section "
		    "have inconsistent lengths (%u and %u)", s->data_count, n);
	if (!(m->datas = jit_wasm_alloc(d, sizeof(*m->datas) * n, at)))
		return false;
	m->ndatas = n;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_data *seg = &m->datas[i];
		uint32_t flags;

		at = r->p;
		if (!rd_u32(d, r, &flags))
			return false;
		if (flags > 2)
			return jit_wasm_fail(d, at, true, "malformed data "
			    "segment kind %u", flags);
		seg->mode = flags == 1 ? JIT_SEG_PASSIVE : JIT_SEG_ACTIVE;
		if (flags != 1) {
			at = r->p;
			if (flags == 2 && !rd_u32(d, r, &seg->memory))
				return false;
			if (seg->memory >= m->nmemories)
				return jit_wasm_fail(d, at, false,
				    "unknown memory %u", seg->memory);
			if (!const_expr(d, r, JIT_I32, &seg->offset))
				return false;
		}
		if (!rd_u32(d, r, &seg->len) ||
		    !rd_bytes(d, r, seg->len, &seg->bytes))
			return false;
	}
	return true;
}

static bool sec_custom(struct jit_wasm_decoder *d, struct decode_state *s,
		       struct jit_rd *r, struct jit_wasm_section *sec)
{
	if (!read_name(d, r, &sec->name))
		return false;
	if (sec->name.len == 4 && !kmemcmp(sec->name.ptr, "name", 4) &&
	    !s->name_section) {
		s->name_section = r->p;
		s->name_size = (uint32_t)(r->end - r->p);
	}
	r->p = r->end;
	return true;
}

/* -- The module ------------------------------------------------------- */

/* Where each section id may appear: the order of spec 5.5.2. */
static const uint8_t section_rank[13] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10,
};

static bool add_section(struct jit_wasm_decoder *d, uint32_t *cap,
			const struct jit_wasm_section *sec)
{
	struct jit_wasm_module *m = d->m;

	if (m->nsections == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		struct jit_wasm_section *n = jit_wasm_alloc(d, sizeof(*n) * ncap,
		    d->base + sec->offset);

		if (!n)
			return false;
		if (m->sections)
			kmemcpy(n, m->sections, sizeof(*n) * m->nsections);
		jit_wasm_release(d, m->sections);
		m->sections = n;
		*cap = ncap;
	}
	m->sections[m->nsections++] = *sec;
	return true;
}

static bool section(struct jit_wasm_decoder *d, struct decode_state *s,
		    struct jit_rd *r, struct jit_wasm_section *sec)
{
	switch (sec->id) {
	case 0: return sec_custom(d, s, r, sec);
	case 1: return sec_type(d, r);
	case 2: return sec_import(d, s, r);
	case 3: return sec_function(d, s, r);
	case 4: return sec_table(d, s, r);
	case 5: return sec_memory(d, s, r);
	case 6: return sec_global(d, s, r);
	case 7: return sec_export(d, r);
	case 8: return sec_start(d, r);
	case 9: return sec_elem(d, r);
	case 10: s->seen_code = true; return sec_code(d, s, r);
	case 11: s->seen_data = true; return sec_data(d, s, r);
	default: return sec_datacount(d, s, r);
	}
}

static bool module(struct jit_wasm_decoder *d, struct decode_state *s,
		   struct jit_rd *r)
{
	static const uint8_t magic[4] = { 0x00, 0x61, 0x73, 0x6d };
	static const uint8_t version[4] = { 0x01, 0x00, 0x00, 0x00 };
	unsigned last_rank = 0;
	uint32_t cap = 0;

	if ((size_t)(r->end - r->p) < 4 || kmemcmp(r->p, magic, 4))
		return jit_wasm_fail(d, r->p, true, "magic header not detected");
	r->p += 4;
	if ((size_t)(r->end - r->p) < 4 || kmemcmp(r->p, version, 4))
		return jit_wasm_fail(d, r->p, true, "unknown binary version");
	r->p += 4;
	while (r->p < r->end) {
		struct jit_wasm_section sec = {
			.offset = (uint32_t)(r->p - d->base),
		};
		const uint8_t *at = r->p;
		struct jit_rd body;

		sec.id = *r->p++;
		if (sec.id > 12)
			return jit_wasm_fail(d, at, true, "malformed section id "
			    "%u", sec.id);
		if (sec.id && section_rank[sec.id] <= last_rank)
			return jit_wasm_fail(d, at, true, "unexpected content "
			    "after last section (section %u out of order)",
			    sec.id);
		if (!rd_u32(d, r, &sec.size))
			return false;
		if (sec.size > (size_t)(r->end - r->p))
			return jit_wasm_fail(d, r->p, true, "unexpected end: "
			    "section size %u past the end of the module",
			    sec.size);
		body = (struct jit_rd){ r->p, r->p + sec.size };
		if (sec.id) {
			last_rank = section_rank[sec.id];
			if (!open_spaces_before(d, s, sec.id, at))
				return false;
		}
		if (!section(d, s, &body, &sec))
			return false;
		if (body.p != body.end)
			return jit_wasm_fail(d, body.p, true,
			    "section size mismatch");
		if (!add_section(d, &cap, &sec))
			return false;
		r->p = body.end;
	}
	if (!open_spaces_before(d, s, 13, r->p))
		return false;
	if (s->nfunc_decls && !s->seen_code)
		return jit_wasm_fail(d, r->p, true, "function and code section "
		    "have inconsistent lengths (%u and 0)", s->nfunc_decls);
	if (s->data_count && !s->seen_data)
		return jit_wasm_fail(d, r->p, true, "data count and data "
		    "section have inconsistent lengths (%u and 0)",
		    s->data_count);
	if (!s->seen_data)
		d->m->ndatas = 0;
	if (s->name_section && !d->failed)
		jit_wasm_read_names(d, s->name_section, s->name_size);
	return !d->failed;
}

static int decode(const uint8_t *bytes, size_t size, const struct jit_wasm_alloc *alloc,
		  struct jit_wasm_module **out, struct jit_wasm_error *err,
		  bool reference, bool lazy)
{
	struct jit_wasm_module *m;
	struct jit_wasm_decoder d = {
		.err = err, .base = bytes, .reference = reference, .lazy = lazy,
	};
	struct decode_state s = { 0 };
	struct jit_rd r = { bytes, bytes + size };
	bool ok;

	*out = NULL;
	kmemset(err, 0, sizeof(*err));
	if (size > JIT_WASM_MAX_MODULE_SIZE) {
		ksnprintf(err->msg, sizeof(err->msg), "module of %zu bytes "
		    "over the limit of %u", size, JIT_WASM_MAX_MODULE_SIZE);
		return -K_EINVAL;
	}
	m = alloc->alloc(alloc->ctx, sizeof(*m));
	if (!m) {
		ksnprintf(err->msg, sizeof(err->msg), "out of memory");
		return -K_ENOMEM;
	}
	kmemset(m, 0, sizeof(*m));
	m->alloc = *alloc;
	m->bytes = bytes;
	m->size = (uint32_t)size;
	m->start = JIT_NO_START;
	d.m = m;
	ok = module(&d, &s, &r);
	if (ok && lazy) {	/* the bodies' validation will need it */
		m->func_refs = d.refs;
		d.refs = NULL;
	}
	jit_wasm_release(&d, s.imports);
	jit_wasm_release(&d, d.refs);
	jit_wasm_validator_free(&d);
	if (!ok) {
		jit_wasm_free(m);
		return d.oom ? -K_ENOMEM : -K_EINVAL;
	}
	*out = m;
	return 0;
}

int jit_wasm_decode_with(const uint8_t *bytes, size_t size,
			 const struct jit_wasm_alloc *alloc,
			 struct jit_wasm_module **out, struct jit_wasm_error *err,
			 bool reference)
{
	return decode(bytes, size, alloc, out, err, reference, false);
}

int jit_wasm_decode(const uint8_t *bytes, size_t size,
		    const struct jit_wasm_alloc *alloc,
		    struct jit_wasm_module **out, struct jit_wasm_error *err)
{
	return decode(bytes, size, alloc, out, err, false, false);
}

int jit_wasm_decode_lazy(const uint8_t *bytes, size_t size,
			 const struct jit_wasm_alloc *alloc,
			 struct jit_wasm_module **out, struct jit_wasm_error *err)
{
	return decode(bytes, size, alloc, out, err, false, true);
}

bool jit_wasm_validate_func(struct jit_wasm_decoder *d, uint32_t func)
{
	const struct jit_wasm_func *f = &d->m->funcs[func];

	return jit_wasm_validate_body(d, func, f->body, f->body_len);
}

void jit_wasm_free(struct jit_wasm_module *m)
{
	void (*release)(void *, void *);
	void *ctx;

	if (!m)
		return;
	release = m->alloc.free;
	ctx = m->alloc.ctx;
	for (uint32_t i = 0; i < m->nelems; i++)
		if (m->elems[i].items)
			release(ctx, m->elems[i].items);
	void *arrays[] = {
		m->types, m->type_pool, m->imports, m->funcs, m->tables,
		m->memories, m->globals, m->exports, m->elems, m->datas,
		m->sections, m->func_names, m->local_names, m->func_refs,
	};
	for (size_t i = 0; i < ARRAY_SIZE(arrays); i++)
		if (arrays[i])
			release(ctx, arrays[i]);
	release(ctx, m);
}
