/*
 * validate.c - function bodies: the instructions of WebAssembly 2.0
 * (spec 5.4) decoded and type-checked in one pass with the algorithm of
 * the spec's appendix A.3, an operand stack of value-type bytes and a
 * control stack of frames.
 *
 * Speed matters (every module the kernel runs passes through here first),
 * so there are two paths.  step() checks one instruction with every rule
 * and every message, mostly by one generic path driven by wasm_ops.def;
 * validate_code() runs the common instructions inline on local copies of
 * the stacks, and hands an instruction to step() whenever anything is out
 * of the ordinary.  No allocation per instruction: both stacks grow
 * geometrically and are reused across functions.
 */
#include "jit/wasm_internal.h"

/* A one-element type list for each single-value block type. */
static const uint8_t single_type[256] = {
	[JIT_I32] = JIT_I32, [JIT_I64] = JIT_I64, [JIT_F32] = JIT_F32,
	[JIT_F64] = JIT_F64, [JIT_V128] = JIT_V128,
	[JIT_FUNCREF] = JIT_FUNCREF, [JIT_EXTERNREF] = JIT_EXTERNREF,
};

/* -- The two stacks --------------------------------------------------- */

struct vstate {
	struct jit_wasm_decoder *d;
	const struct jit_wasm_module *m;
	uint8_t *vals;
	uint32_t nvals;
	uint32_t max_vals;
	struct jit_ctrl *cur;	/* top of the control stack */
	uint32_t nctrls;
	uint32_t max_ctrls;
	const uint8_t *at;	/* the instruction being checked */
	unsigned op;
	struct jit_rd r;
	/* For the compiler: a use of local x adds 1 << shift to w[x]; shift
	 * grows by USE_LOOP_SHIFT in each loop.  memory: memory 0 is used. */
	uint64_t *w;
	uint32_t shift;
	bool memory;
};

#define USE_LOOP_SHIFT	3
#define USE_SHIFT_MAX	24	/* 8^8: beyond, loops weigh the same */

/* The weight shift inside a block opened by op. */
static inline uint32_t inner_shift(unsigned op, uint32_t shift)
{
	return op == JIT_OP_LOOP && shift < USE_SHIFT_MAX ? shift + USE_LOOP_SHIFT : shift;
}

static bool grow(struct vstate *v, void **buf, uint32_t *cap, uint32_t need,
		 size_t elem, uint32_t limit, const char *what)
{
	struct jit_wasm_decoder *d = v->d;
	uint32_t ncap = *cap ? *cap : 256;
	void *n;

	if (need > limit)
		return jit_wasm_fail(d, v->at, false, "%s deeper than the limit "
		    "of %u", what, limit);
	while (ncap < need)
		ncap *= 2;
	if (ncap > limit)	/* so that the next push past it comes here */
		ncap = limit;
	if (!(n = jit_wasm_alloc(d, elem * ncap, v->at)))
		return false;
	if (*buf)
		kmemcpy(n, *buf, elem * *cap);
	jit_wasm_release(d, *buf);
	*buf = n;
	*cap = ncap;
	return true;
}

/* Make room for n more operands. */
static inline bool reserve(struct vstate *v, uint32_t n)
{
	struct jit_wasm_decoder *d = v->d;

	if (likely(v->nvals + n <= d->vals_cap))
		return true;
	if (!grow(v, (void **)&d->vals, &d->vals_cap, v->nvals + n, 1,
	    JIT_WASM_MAX_OPERANDS, "operand stack"))
		return false;
	v->vals = d->vals;
	return true;
}

static inline bool push(struct vstate *v, uint8_t t)
{
	if (unlikely(!reserve(v, 1)))
		return false;
	v->vals[v->nvals++] = t;
	if (v->nvals > v->max_vals)
		v->max_vals = v->nvals;
	return true;
}

static bool push_n(struct vstate *v, const uint8_t *types, uint32_t n)
{
	if (!n)
		return true;
	if (!reserve(v, n))
		return false;
	kmemcpy(v->vals + v->nvals, types, n);
	v->nvals += n;
	if (v->nvals > v->max_vals)
		v->max_vals = v->nvals;
	return true;
}

static bool mismatch(struct vstate *v, uint8_t want, uint8_t got)
{
	return jit_wasm_fail(v->d, v->at, false, "type mismatch in %s, "
	    "expected %s but got %s", jit_op_name(v->op),
	    want ? jit_valtype_name(want) : "any",
	    got ? jit_valtype_name(got) : "nothing");
}

/* Pop any operand; *t is JIT_UNKNOWN below an unreachable frame's base. */
static inline bool pop_any(struct vstate *v, uint8_t *t)
{
	if (likely(v->nvals > v->cur->height)) {
		*t = v->vals[--v->nvals];
		return true;
	}
	*t = JIT_UNKNOWN;
	return v->cur->unreachable || mismatch(v, 0, 0);
}

static inline bool pop_expect(struct vstate *v, uint8_t want)
{
	if (likely(v->nvals > v->cur->height)) {
		uint8_t t = v->vals[--v->nvals];

		if (likely(t == want || t == JIT_UNKNOWN))
			return true;
		return mismatch(v, want, t);
	}
	return v->cur->unreachable || mismatch(v, want, 0);
}

static bool pop_n(struct vstate *v, const uint8_t *types, uint32_t n)
{
	while (n--)
		if (!pop_expect(v, types[n]))
			return false;
	return true;
}

/*
 * Check that the top of the stack matches types[0..n) without popping
 * (br_table's pop_vals then push_vals; an unreachable frame's missing
 * values count as Unknown, which matches anything).
 */
static bool peek_n(struct vstate *v, const uint8_t *types, uint32_t n)
{
	uint32_t avail = v->nvals - v->cur->height;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t want = types[n - 1 - i], t;

		if (i >= avail) {
			if (v->cur->unreachable)
				return true;
			return mismatch(v, want, 0);
		}
		t = v->vals[v->nvals - 1 - i];
		if (t != want && t != JIT_UNKNOWN)
			return mismatch(v, want, t);
	}
	return true;
}

static bool push_ctrl(struct vstate *v, unsigned op, const uint8_t *params,
		      uint32_t np, const uint8_t *results, uint32_t nr)
{
	struct jit_wasm_decoder *d = v->d;
	struct jit_ctrl *c;

	if (unlikely(v->nctrls == d->ctrls_cap)) {
		if (!grow(v, (void **)&d->ctrls, &d->ctrls_cap, v->nctrls + 1,
		    sizeof(*d->ctrls), JIT_WASM_MAX_NESTING, "block nesting"))
			return false;
	}
	c = &d->ctrls[v->nctrls++];
	if (v->nctrls > v->max_ctrls)
		v->max_ctrls = v->nctrls;
	c->op = (uint16_t)op;
	c->params = params;
	c->nparams = np;
	c->results = results;
	c->nresults = nr;
	c->height = v->nvals;
	c->unreachable = false;
	c->shift = (uint8_t)v->shift;
	v->shift = inner_shift(op, v->shift);
	v->cur = c;
	return push_n(v, params, np);
}

/* The end of a frame: its results on top, nothing else above its base. */
static bool close_frame(struct vstate *v)
{
	struct jit_ctrl *c = v->cur;

	if (!pop_n(v, c->results, c->nresults))
		return false;
	if (v->nvals != c->height)
		return jit_wasm_fail(v->d, v->at, false, "type mismatch in %s: "
		    "%u values left on the stack at the end of the block",
		    jit_op_name(v->op), v->nvals - c->height);
	return true;
}

static void set_unreachable(struct vstate *v)
{
	v->nvals = v->cur->height;
	v->cur->unreachable = true;
}

/* The types a branch to label l carries (a loop's start, else its end). */
static inline void label_types(const struct jit_ctrl *c, const uint8_t **t,
			       uint32_t *n)
{
	if (c->op == JIT_OP_LOOP) {
		*t = c->params;
		*n = c->nparams;
	} else {
		*t = c->results;
		*n = c->nresults;
	}
}

/* -- Immediates ------------------------------------------------------- */

/*
 * A u32 index of up to three bytes (2^21) read inline, or NULL when the
 * general reader must decide (the fast loop then goes to step()).
 */
static inline const uint8_t *fast_u32(const uint8_t *p, const uint8_t *end,
				      uint32_t *x)
{
	if (unlikely((size_t)(end - p) < 3))
		return NULL;
	if (likely(!(p[0] & 0x80))) {
		*x = p[0];
		return p + 1;
	}
	if (!(p[1] & 0x80)) {
		*x = (p[0] & 0x7fu) | (uint32_t)p[1] << 7;
		return p + 2;
	}
	if (!(p[2] & 0x80)) {
		*x = (p[0] & 0x7fu) | (p[1] & 0x7fu) << 7 | (uint32_t)p[2] << 14;
		return p + 3;
	}
	return NULL;
}

static inline bool read_u32(struct vstate *v, uint32_t *x)
{
	const uint8_t *q = fast_u32(v->r.p, v->r.end, x);

	if (likely(q)) {
		v->r.p = q;
		return true;
	}
	return rd_u32(v->d, &v->r, x);
}

static bool read_label(struct vstate *v, struct jit_ctrl **c)
{
	const uint8_t *at = v->r.p;
	uint32_t l;

	if (!read_u32(v, &l))
		return false;
	if (l >= v->nctrls)
		return jit_wasm_fail(v->d, at, false, "unknown label %u", l);
	*c = v->cur - l;
	return true;
}

static bool read_index(struct vstate *v, uint32_t *x, uint32_t limit,
		       const char *what)
{
	const uint8_t *at = v->r.p;

	if (!read_u32(v, x))
		return false;
	if (*x >= limit)
		return jit_wasm_fail(v->d, at, false, "unknown %s %u", what, *x);
	return true;
}

/* blocktype (spec 5.4.1): 0x40, a value type, or an s33 type index. */
static bool block_type(struct vstate *v, const uint8_t **params, uint32_t *np,
		       const uint8_t **results, uint32_t *nr)
{
	const struct jit_wasm_module *m = v->m;
	const uint8_t *at = v->r.p;
	int64_t x;

	*np = *nr = 0;
	*params = *results = NULL;
	if (at >= v->r.end)
		return jit_wasm_eof(v->d, &v->r);
	if (*at == 0x40) {
		v->r.p++;
		*nr = 0;
		*results = NULL;
		return true;
	}
	if (is_valtype(*at)) {
		v->r.p++;
		*nr = 1;
		*results = &single_type[*at];
		return true;
	}
	if (!jit_wasm_leb_s33(v->d, &v->r, &x))
		return false;
	if (x < 0)
		return jit_wasm_fail(v->d, at, true, "malformed block type");
	if (x >= m->ntypes)
		return jit_wasm_fail(v->d, at, false, "unknown type %lld",
		    (long long)x);
	*params = m->types[x].params;
	*np = m->types[x].nparams;
	*results = m->types[x].results;
	*nr = m->types[x].nresults;
	return true;
}

static bool need_memory(struct vstate *v, const uint8_t *at)
{
	if (unlikely(!v->m->nmemories))
		return jit_wasm_fail(v->d, at, false, "unknown memory 0");
	return true;
}

static bool zero_byte(struct vstate *v)
{
	const uint8_t *at = v->r.p;
	uint8_t b;

	if (!rd_byte(v->d, &v->r, &b))
		return false;
	if (b != 0)
		return jit_wasm_fail(v->d, at, true, "zero byte expected");
	return need_memory(v, at);
}

static bool memarg(struct vstate *v, unsigned natural)
{
	const uint8_t *at = v->r.p;
	uint32_t align, offset;

	if (!rd_u32(v->d, &v->r, &align) || !rd_u32(v->d, &v->r, &offset))
		return false;
	if (!need_memory(v, at))
		return false;
	if (align > natural)
		return jit_wasm_fail(v->d, at, false, "alignment must not be "
		    "larger than natural (2^%u > %u bytes in %s)", align,
		    1u << natural, jit_op_name(v->op));
	return true;
}

static bool lane(struct vstate *v, unsigned lanes)
{
	const uint8_t *at = v->r.p;
	uint8_t l;

	if (!rd_byte(v->d, &v->r, &l))
		return false;
	if (l >= lanes)
		return jit_wasm_fail(v->d, at, false, "invalid lane index %u "
		    "in %s", l, jit_op_name(v->op));
	return true;
}

/* memory.init and data.drop need the data count section (spec 5.5.13). */
static bool data_index(struct vstate *v)
{
	const uint8_t *at = v->r.p;
	uint32_t x;

	if (!rd_u32(v->d, &v->r, &x))
		return false;
	if (!v->m->has_data_count)
		return jit_wasm_fail(v->d, at, true, "data count section "
		    "required");
	if (x >= v->m->ndatas)
		return jit_wasm_fail(v->d, at, false, "unknown data segment %u",
		    x);
	return true;
}

/* The immediates of a generic instruction (everything but SPECIAL). */
static bool immediates(struct vstate *v, const struct jit_op_info *oi)
{
	struct jit_wasm_decoder *d = v->d;
	const uint8_t *b;

	if (oi->width || oi->shape == JIT_SHAPE_MEMORY)
		v->memory = true;
	switch (oi->imm) {
	case JIT_IMM_NONE:
		return true;
	case JIT_IMM_MEMARG:
		return memarg(v, oi->arg);
	case JIT_IMM_MEMLANE:	/* one lane of a v128, 2^arg bytes wide */
		return memarg(v, oi->arg) && lane(v, 16u >> oi->arg);
	case JIT_IMM_MEMZERO:
		return zero_byte(v);
	case JIT_IMM_MEMCOPY:
		return zero_byte(v) && zero_byte(v);
	case JIT_IMM_MEMINIT:
		return data_index(v) && zero_byte(v);
	case JIT_IMM_DATA:
		return data_index(v);
	case JIT_IMM_I32: {
		int32_t x;

		return jit_wasm_leb_s32(d, &v->r, &x);
	}
	case JIT_IMM_I64: {
		int64_t x;

		return jit_wasm_leb_s64(d, &v->r, &x);
	}
	case JIT_IMM_F32:
		return rd_bytes(d, &v->r, 4, &b);
	case JIT_IMM_F64:
		return rd_bytes(d, &v->r, 8, &b);
	case JIT_IMM_V128:
		return rd_bytes(d, &v->r, 16, &b);
	case JIT_IMM_SHUFFLE:
		if (!rd_bytes(d, &v->r, 16, &b))
			return false;
		for (int i = 0; i < 16; i++)
			if (b[i] >= 32)
				return jit_wasm_fail(d, b + i, false, "invalid "
				    "lane index %u in i8x16.shuffle", b[i]);
		return true;
	case JIT_IMM_LANE:
		return lane(v, oi->arg);
	default:
		return jit_wasm_fail(d, v->at, true, "illegal opcode");
	}
}

/* -- Instructions with rules of their own ----------------------------- */

static bool op_block(struct vstate *v)
{
	const uint8_t *params, *results;
	uint32_t np, nr;

	if (!block_type(v, &params, &np, &results, &nr))
		return false;
	if (v->op == JIT_OP_IF && !pop_expect(v, JIT_I32))
		return false;
	return pop_n(v, params, np) &&
	    push_ctrl(v, v->op, params, np, results, nr);
}

static bool op_else(struct vstate *v)
{
	struct jit_ctrl *c = v->cur;

	if (c->op != JIT_OP_IF)
		return jit_wasm_fail(v->d, v->at, true, "else without if");
	if (!close_frame(v))
		return false;
	c->op = JIT_OP_ELSE;
	c->unreachable = false;
	return push_n(v, c->params, c->nparams);
}

/* Returns false on error; *done when the function's own frame closed. */
static bool op_end(struct vstate *v, bool *done)
{
	struct jit_ctrl *c = v->cur;

	/* An if without else passes its params through as its results. */
	if (c->op == JIT_OP_IF) {
		bool same = c->nparams == c->nresults &&
		    (!c->nparams || !kmemcmp(c->params, c->results, c->nparams));

		if (!same)
			return jit_wasm_fail(v->d, v->at, false, "type mismatch "
			    "in if without else: the block type's params and "
			    "results differ");
	}
	if (!close_frame(v))
		return false;
	v->shift = c->shift;
	v->nctrls--;
	if (!v->nctrls) {
		*done = true;
		return true;
	}
	v->cur--;
	return push_n(v, c->results, c->nresults);
}

static bool op_br_table(struct vstate *v)
{
	struct jit_wasm_decoder *d = v->d;
	const uint8_t *at = v->r.p, *t, *checked = NULL;
	uint32_t n, l, arity = 0, nt;

	if (!rd_u32(d, &v->r, &n))
		return false;
	if (n > (size_t)(v->r.end - v->r.p))
		return jit_wasm_fail(d, at, true, "unexpected end: br_table of "
		    "%u labels", n);
	if (n > JIT_WASM_MAX_BR_TABLE)
		return jit_wasm_fail(d, at, false, "br_table of %u labels over "
		    "the limit of %u", n, JIT_WASM_MAX_BR_TABLE);
	if (!pop_expect(v, JIT_I32))
		return false;
	/* The default label comes last; all must carry the same arity. */
	for (uint32_t i = 0; i <= n; i++) {
		at = v->r.p;
		if (!read_u32(v, &l))
			return false;
		if (l >= v->nctrls)
			return jit_wasm_fail(d, at, false, "unknown label %u", l);
		label_types(v->cur - l, &t, &nt);
		if (i && nt != arity)
			return jit_wasm_fail(d, at, false, "type mismatch in "
			    "br_table: labels of %u and %u values", arity, nt);
		arity = nt;
		/*
		 * The stack does not change and every label has this arity,
		 * so a list of types already checked would pass again.
		 */
		if (t != checked && !peek_n(v, t, nt))
			return false;
		checked = t;
	}
	set_unreachable(v);
	return true;
}

static bool call_type(struct vstate *v, const struct jit_wasm_functype *ft)
{
	return pop_n(v, ft->params, ft->nparams) &&
	    push_n(v, ft->results, ft->nresults);
}

static bool op_select(struct vstate *v, uint8_t typed)
{
	uint8_t t1, t2;

	if (!pop_expect(v, JIT_I32))
		return false;
	if (typed)
		return pop_expect(v, typed) && pop_expect(v, typed) &&
		    push(v, typed);
	if (!pop_any(v, &t1) || !pop_any(v, &t2))
		return false;
	if (is_reftype(t1) || is_reftype(t2))
		return jit_wasm_fail(v->d, v->at, false, "type mismatch in "
		    "select: operands of reference type need select t");
	if (t1 != t2 && t1 != JIT_UNKNOWN && t2 != JIT_UNKNOWN)
		return mismatch(v, t1, t2);
	return push(v, t1 == JIT_UNKNOWN ? t2 : t1);
}

static bool select_type(struct vstate *v, uint8_t *t)
{
	const uint8_t *at = v->r.p;
	uint32_t n;

	if (!rd_u32(v->d, &v->r, &n))
		return false;
	if (n != 1)
		return jit_wasm_fail(v->d, at, false, "invalid result arity %u "
		    "in select", n);
	return jit_wasm_valtype(v->d, &v->r, t);
}

static bool op_ref(struct vstate *v)
{
	const uint8_t *at = v->r.p;
	uint32_t x;
	uint8_t t;

	switch (v->op) {
	case JIT_OP_REF_NULL:
		if (!rd_byte(v->d, &v->r, &t))
			return false;
		if (!is_reftype(t))
			return jit_wasm_fail(v->d, at, true, "malformed "
			    "reference type 0x%x", t);
		return push(v, t);
	case JIT_OP_REF_IS_NULL:
		if (!pop_any(v, &t))
			return false;
		if (t != JIT_UNKNOWN && !is_reftype(t))
			return jit_wasm_fail(v->d, v->at, false, "type mismatch "
			    "in ref.is_null, expected a reference but got %s",
			    jit_valtype_name(t));
		return push(v, JIT_I32);
	default:
		if (!read_index(v, &x, v->m->nfuncs, "function"))
			return false;
		if (!(v->d->refs[x >> 3] & (1u << (x & 7))))
			return jit_wasm_fail(v->d, at, false, "undeclared "
			    "function reference %u", x);
		return push(v, JIT_FUNCREF);
	}
}

static bool op_table(struct vstate *v)
{
	const struct jit_wasm_module *m = v->m;
	uint32_t x, y;
	uint8_t t;

	switch (v->op) {
	case JIT_OP_TABLE_INIT: {
		const uint8_t *at = v->r.p;

		if (!read_index(v, &y, m->nelems, "elem segment") ||
		    !read_index(v, &x, m->ntables, "table"))
			return false;
		if (m->elems[y].type != m->tables[x].elem)
			return jit_wasm_fail(v->d, at, false, "type mismatch in "
			    "table.init: %s segment into a table of %s",
			    jit_valtype_name(m->elems[y].type),
			    jit_valtype_name(m->tables[x].elem));
		return pop_expect(v, JIT_I32) && pop_expect(v, JIT_I32) &&
		    pop_expect(v, JIT_I32);
	}
	case JIT_OP_ELEM_DROP:
		return read_index(v, &y, m->nelems, "elem segment");
	case JIT_OP_TABLE_COPY: {
		const uint8_t *at = v->r.p;

		if (!read_index(v, &x, m->ntables, "table") ||
		    !read_index(v, &y, m->ntables, "table"))
			return false;
		if (m->tables[x].elem != m->tables[y].elem)
			return jit_wasm_fail(v->d, at, false, "type mismatch in "
			    "table.copy between tables of %s and %s",
			    jit_valtype_name(m->tables[x].elem),
			    jit_valtype_name(m->tables[y].elem));
		return pop_expect(v, JIT_I32) && pop_expect(v, JIT_I32) &&
		    pop_expect(v, JIT_I32);
	}
	default:
		break;
	}
	if (!read_index(v, &x, m->ntables, "table"))
		return false;
	t = m->tables[x].elem;
	switch (v->op) {
	case JIT_OP_TABLE_GET:
		return pop_expect(v, JIT_I32) && push(v, t);
	case JIT_OP_TABLE_SET:
		return pop_expect(v, t) && pop_expect(v, JIT_I32);
	case JIT_OP_TABLE_GROW:
		return pop_expect(v, JIT_I32) && pop_expect(v, t) &&
		    push(v, JIT_I32);
	case JIT_OP_TABLE_SIZE:
		return push(v, JIT_I32);
	default:	/* table.fill */
		return pop_expect(v, JIT_I32) && pop_expect(v, t) &&
		    pop_expect(v, JIT_I32);
	}
}

/* -- The instruction loop --------------------------------------------- */

static bool op_special(struct vstate *v, uint32_t nlocals, const uint8_t *locals,
		       bool *done)
{
	const struct jit_wasm_module *m = v->m;
	struct jit_ctrl *c;
	const uint8_t *t;
	uint32_t x, n;
	uint8_t ty;

	switch (v->op) {
	case JIT_OP_UNREACHABLE:
		set_unreachable(v);
		return true;
	case JIT_OP_BLOCK:
	case JIT_OP_LOOP:
	case JIT_OP_IF:
		return op_block(v);
	case JIT_OP_ELSE:
		return op_else(v);
	case JIT_OP_END:
		return op_end(v, done);
	case JIT_OP_BR:
		if (!read_label(v, &c))
			return false;
		label_types(c, &t, &n);
		if (!pop_n(v, t, n))
			return false;
		set_unreachable(v);
		return true;
	case JIT_OP_BR_IF:
		/* Pops and pushes the label's types: Unknowns become typed. */
		if (!read_label(v, &c) || !pop_expect(v, JIT_I32))
			return false;
		label_types(c, &t, &n);
		return pop_n(v, t, n) && push_n(v, t, n);
	case JIT_OP_BR_TABLE:
		return op_br_table(v);
	case JIT_OP_RETURN:
		c = &v->d->ctrls[0];
		if (!pop_n(v, c->results, c->nresults))
			return false;
		set_unreachable(v);
		return true;
	case JIT_OP_CALL:
		return read_index(v, &x, m->nfuncs, "function") &&
		    call_type(v, &m->types[m->funcs[x].type]);
	case JIT_OP_CALL_INDIRECT: {
		const uint8_t *at;

		if (!read_index(v, &x, m->ntypes, "type"))
			return false;
		at = v->r.p;
		if (!read_index(v, &n, m->ntables, "table"))
			return false;
		if (m->tables[n].elem != JIT_FUNCREF)
			return jit_wasm_fail(v->d, at, false, "type mismatch in "
			    "call_indirect: table %u is not a funcref table", n);
		return pop_expect(v, JIT_I32) && call_type(v, &m->types[x]);
	}
	case JIT_OP_DROP:
		return pop_any(v, &ty);
	case JIT_OP_SELECT:
		return op_select(v, 0);
	case JIT_OP_SELECT_T:
		return select_type(v, &ty) && op_select(v, ty);
	case JIT_OP_LOCAL_GET:
	case JIT_OP_LOCAL_SET:
	case JIT_OP_LOCAL_TEE:
		if (!read_index(v, &x, nlocals, "local"))
			return false;
		v->w[x] += 1ull << v->shift;
		if (v->op == JIT_OP_LOCAL_GET)
			return push(v, locals[x]);
		return pop_expect(v, locals[x]) &&
		    (v->op == JIT_OP_LOCAL_SET || push(v, locals[x]));
	case JIT_OP_GLOBAL_GET:
		return read_index(v, &x, m->nglobals, "global") &&
		    push(v, m->globals[x].type);
	case JIT_OP_GLOBAL_SET: {
		const uint8_t *at = v->r.p;

		if (!read_index(v, &x, m->nglobals, "global"))
			return false;
		if (!m->globals[x].mut)
			return jit_wasm_fail(v->d, at, false, "global is "
			    "immutable: global.set of global %u", x);
		return pop_expect(v, m->globals[x].type);
	}
	case JIT_OP_REF_NULL:
	case JIT_OP_REF_IS_NULL:
	case JIT_OP_REF_FUNC:
		return op_ref(v);
	default:
		return op_table(v);
	}
}

/* Apply a generic instruction's signature. */
static bool apply_sig(struct vstate *v, const struct jit_op_info *oi)
{
	if (!pop_n(v, oi->pops, oi->npop))
		return false;
	return !oi->push || push(v, oi->push);
}

/*
 * One instruction at v->r.p, every rule checked and every error reported:
 * the reference path, and the fallback of the fast loop below.
 */
static bool step(struct vstate *v, uint32_t nlocals, const uint8_t *locals,
		 bool *done)
{
	struct jit_wasm_decoder *d = v->d;
	const struct jit_op_info *oi;
	unsigned op;

	v->at = v->r.p;
	op = *v->r.p++;
	if (unlikely(op == 0xfc || op == 0xfd)) {
		uint32_t sub;

		if (!rd_u32(d, &v->r, &sub))
			return false;
		if (sub > 0xff)
			return jit_wasm_fail(d, v->at, true, "illegal opcode "
			    "0x%x 0x%x", op, sub);
		op = (op == 0xfc ? 0x100 : 0x200) + sub;
	}
	v->op = op;
	oi = &jit_wasm_ops[op];
	switch (oi->imm) {
	case JIT_IMM_NONE:
		return apply_sig(v, oi);
	case JIT_IMM_SPECIAL:
		return op_special(v, nlocals, locals, done);
	case JIT_IMM_ILLEGAL:
		if (op >= 0x100)
			return jit_wasm_fail(d, v->at, true, "illegal opcode "
			    "0x%x 0x%x", op >> 8 == 1 ? 0xfc : 0xfd, op & 0xff);
		return jit_wasm_fail(d, v->at, true, "illegal opcode 0x%x", op);
	default:
		return immediates(v, oi) && apply_sig(v, oi);
	}
}

/*
 * Skip a LEB128 immediate whose value validation does not need, when it is
 * short enough that its last byte cannot break the range rules (at most
 * 4 bytes of an s32, 9 of an s64); NULL sends the caller to step().
 */
static inline const uint8_t *skip_leb(const uint8_t *p, const uint8_t *end,
				      unsigned max)
{
	if (likely(p < end && !(*p & 0x80)))
		return p + 1;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The first byte without a continuation bit, found in one word. */
	if (likely((size_t)(end - p) >= 8)) {
		uint64_t word, stop;
		unsigned len;

		kmemcpy(&word, p, 8);
		stop = ~word & 0x8080808080808080ull;
		if (!stop)
			return NULL;
		/*
		 * The lowest stop bit is 2^(8k+7) for byte k; multiplying 2^8k
		 * by this constant brings byte 7-k of it, k+1, to the top.
		 * (No ctz: bare riscv64 without Zbb would need libgcc.)
		 */
		stop &= -stop;
		len = (unsigned)(((stop >> 7) * 0x0102030405060708ull) >> 56);
		return len <= max ? p + len : NULL;
	}
#endif /* __ORDER_LITTLE_ENDIAN__ */
	if (unlikely((size_t)(end - p) <= max))
		return NULL;
	for (unsigned i = 0; i < max; i++)
		if (!(p[i] & 0x80))
			return p + i + 1;
	return NULL;
}

/*
 * A memarg of a one-byte alignment no larger than 2^natural and an offset
 * skip_leb() can pass, or NULL for step() to read.
 */
static inline const uint8_t *fast_memarg(const uint8_t *p, const uint8_t *end,
					 unsigned natural)
{
	if (unlikely(p >= end || *p > natural))
		return NULL;
	return skip_leb(p + 1, end, 4);
}

/*
 * The generic shapes, checked and applied on the fast loop's copies of the
 * operand stack (vals, n values, the frame's from height up): false leaves
 * the instruction to step().  fast_binary() checks stores too, which push
 * nothing.
 */
static inline __attribute__((always_inline))
bool fast_unary(uint8_t *vals, uint32_t n, uint32_t height,
		const struct jit_op_info *oi)
{
	if (unlikely(n <= height || vals[n - 1] != oi->pops[0]))
		return false;
	vals[n - 1] = oi->push;
	return true;
}

static inline __attribute__((always_inline))
bool fast_binary(uint8_t *vals, uint32_t *n, uint32_t height,
		 const struct jit_op_info *oi)
{
	uint32_t k = *n;

	if (unlikely(k - height < 2 || vals[k - 2] != oi->pops[0] ||
	    vals[k - 1] != oi->pops[1]))
		return false;
	k -= 2;
	if (oi->push)
		vals[k++] = oi->push;
	*n = k;
	return true;
}

/*
 * The fast loop: the instructions that make up most real code, checked
 * inline on local copies of the stacks when everything is in order.  Any
 * irregularity - an error, unreachable code, a multi-byte index, a growing
 * stack - rewinds to the instruction's first byte and lets step() decide,
 * so the rules and the messages live in one place.  The limits too: the
 * loop never grows a stack, and grow() never makes one larger than its
 * limit, so only step() can take the operand or control stack past
 * JIT_WASM_MAX_OPERANDS or JIT_WASM_MAX_NESTING and report it.
 */
static bool validate_code(struct vstate *v, uint32_t nlocals,
			  const uint8_t *locals)
{
	/*
	 * Threaded dispatch (GNU labels as values): every handler ends in
	 * its own indirect jump, which predicts far better than one shared
	 * switch.  The table comes from wasm_ops.def: each one-byte opcode
	 * goes to the handler of its shape (FAST_<shape>), the commonest to
	 * copies of it (see UNARY below); the prefixed ones
	 * share a slot at 0x100 that is never read, as their 0xfc and 0xfd
	 * bytes reach `slow`.  SPECIAL instructions go to step() as well,
	 * except the common ones: their handlers below override the shape's
	 * on purpose.  br_table has none: its label loop costs the same in
	 * op_br_table(), and there its limit and rules exist once (a copy
	 * here once skipped the limit).
	 */
#define FAST_SPECIAL	&&slow
#define FAST_NOP	&&nop
#define FAST_CONST	&&slow	/* but for i32.const and i64.const */
#define FAST_UNARY	&&unary
#define FAST_BINARY	&&binary
#define FAST_LOAD	&&load
#define FAST_STORE	&&store
#define FAST_MEMORY	&&slow
	/* The SIMD shapes: no one-byte opcode has them. */
#define FAST_TERNARY	&&slow
#define FAST_LANE	&&slow
#define FAST_LOAD_LANE	&&slow
#define FAST_STORE_LANE	&&slow
JIT_OVERRIDES_BEGIN
	static const void *const dispatch[0x101] = {
		[0 ... 0xff] = &&slow,
#define OP(id, name, text, imm, lanes, sig, shape, access, traps) \
		[(id) < 0x100 ? (id) : 0x100] = FAST_##shape,
#include "jit/wasm_ops.def"
#undef OP
		[JIT_OP_LOCAL_GET] = &&local_get,
		[JIT_OP_LOCAL_SET] = &&local_set,
		[JIT_OP_LOCAL_TEE] = &&local_set,
		[JIT_OP_GLOBAL_GET] = &&global_get,
		[JIT_OP_GLOBAL_SET] = &&global_set,
		[JIT_OP_DROP] = &&drop,
		[JIT_OP_CALL] = &&call,
		[JIT_OP_BLOCK] = &&block,
		[JIT_OP_LOOP] = &&block,
		[JIT_OP_IF] = &&block,
		[JIT_OP_ELSE] = &&else_,
		[JIT_OP_END] = &&end_,
		[JIT_OP_BR] = &&branch,
		[JIT_OP_BR_IF] = &&branch,
		[JIT_OP_RETURN] = &&branch,
		[JIT_OP_I32_CONST] = &&i32_const,
		[JIT_OP_I64_CONST] = &&i64_const,
		[JIT_OP_I32_WRAP_I64] = &&i32_wrap_i64,
		[JIT_OP_I64_EXTEND_I32_U] = &&i64_extend_i32_u,
		[JIT_OP_I32_ADD] = &&i32_add,
		[JIT_OP_I64_ADD] = &&i64_add,
		[JIT_OP_I32_LOAD] = &&i32_load,
		[JIT_OP_I64_LOAD] = &&i64_load,
		[JIT_OP_I32_STORE] = &&i32_store,
		[JIT_OP_I64_STORE] = &&i64_store,
	};
JIT_OVERRIDES_END
#undef FAST_SPECIAL
#undef FAST_NOP
#undef FAST_CONST
#undef FAST_UNARY
#undef FAST_BINARY
#undef FAST_LOAD
#undef FAST_STORE
#undef FAST_MEMORY
#undef FAST_TERNARY
#undef FAST_LANE
#undef FAST_LOAD_LANE
#undef FAST_STORE_LANE
	struct jit_wasm_decoder *d = v->d;
	const struct jit_wasm_module *m = v->m;
	const uint8_t *p = v->r.p, *end = v->r.end, *at = p, *q;
	uint8_t *vals = v->vals;
	uint32_t n = v->nvals, cap = d->vals_cap, height = v->cur->height;
	uint32_t maxv = v->max_vals, x, np;
	uint64_t *w = v->w, inc = 1ull << v->shift;
	bool has_mem = m->nmemories != 0, done = false;
	struct jit_ctrl *cur = v->cur;
	const struct jit_op_info *oi;
	const struct jit_wasm_functype *ft;
	unsigned op = 0;

/*
 * The empty asm, its text made unique by the line, keeps GCC from merging
 * the handlers' identical tails into a few shared indirect jumps (cross-
 * jumping), which lose the prediction the threading is for: about 5% of
 * the speed on esbuild.wasm.
 */
#define LINE_TEXT(line)	#line
#define DISPATCH_AT(line) do {						\
	const void *handler_;						\
									\
	if (unlikely(p >= end))						\
		goto out;						\
	at = p;								\
	op = *p++;							\
	handler_ = dispatch[op];					\
	__asm__ volatile("/* dispatch " LINE_TEXT(line) " */"		\
	    : "+r"(handler_));						\
	goto *handler_;							\
} while (0)
#define DISPATCH()	DISPATCH_AT(__LINE__)
#define PUSHED() do { if (n > maxv) maxv = n; } while (0)

	DISPATCH();
local_get:
	q = fast_u32(p, end, &x);
	if (unlikely(!q || x >= nlocals || n >= cap))
		goto slow;
	p = q;
	vals[n++] = locals[x];
	w[x] += inc;
	PUSHED();
	DISPATCH();
local_set:	/* and local.tee */
	q = fast_u32(p, end, &x);
	if (unlikely(!q || x >= nlocals || n <= height ||
	    vals[n - 1] != locals[x]))
		goto slow;
	p = q;
	w[x] += inc;
	n -= op == JIT_OP_LOCAL_SET;
	DISPATCH();
global_get:
	q = fast_u32(p, end, &x);
	if (unlikely(!q || x >= m->nglobals || n >= cap))
		goto slow;
	p = q;
	vals[n++] = m->globals[x].type;
	PUSHED();
	DISPATCH();
global_set:
	q = fast_u32(p, end, &x);
	if (unlikely(!q || x >= m->nglobals || !m->globals[x].mut ||
	    n <= height || vals[n - 1] != m->globals[x].type))
		goto slow;
	p = q;
	n--;
	DISPATCH();
i32_const:	/* the floats' raw bytes go to step() */
	q = skip_leb(p, end, 4);
	if (unlikely(!q || n >= cap))
		goto slow;
	p = q;
	vals[n++] = JIT_I32;
	PUSHED();
	DISPATCH();
i64_const:
	q = skip_leb(p, end, 9);
	if (unlikely(!q || n >= cap))
		goto slow;
	p = q;
	vals[n++] = JIT_I64;
	PUSHED();
	DISPATCH();

/*
 * The generic shapes' handlers, each instantiated for the shape and again
 * for its commonest instructions: a copy is all it takes for them to
 * dispatch through an indirect jump of their own, whose history predicts
 * what follows far better than the shape's shared one (an i64.const
 * follows an i64.extend_i32_u, a load or a local.set an i32.wrap_i64).
 * esbuild.wasm validates 6% faster with these eight and the constants'
 * two handlers; more copies (i32.sub, the eqz, narrow loads) gained
 * nothing there.
 */
#define UNARY(label)							\
label:									\
	if (unlikely(!fast_unary(vals, n, height, &jit_wasm_ops[op])))	\
		goto slow;						\
	DISPATCH();
#define BINARY(label)							\
label:									\
	if (unlikely(!fast_binary(vals, &n, height, &jit_wasm_ops[op])))	\
		goto slow;						\
	DISPATCH();
#define LOAD(label)							\
label:									\
	oi = &jit_wasm_ops[op];						\
	if (unlikely(!has_mem || !(q = fast_memarg(p, end, oi->arg)) ||	\
	    !fast_unary(vals, n, height, oi)))				\
		goto slow;						\
	p = q;								\
	v->memory = true;						\
	DISPATCH();
#define STORE(label)							\
label:									\
	oi = &jit_wasm_ops[op];						\
	if (unlikely(!has_mem || !(q = fast_memarg(p, end, oi->arg)) ||	\
	    !fast_binary(vals, &n, height, oi)))			\
		goto slow;						\
	p = q;								\
	v->memory = true;						\
	DISPATCH();
	UNARY(unary)
	UNARY(i32_wrap_i64)
	UNARY(i64_extend_i32_u)
	BINARY(binary)
	BINARY(i32_add)
	BINARY(i64_add)
	LOAD(load)
	LOAD(i32_load)
	LOAD(i64_load)
	STORE(store)
	STORE(i32_store)
	STORE(i64_store)
#undef UNARY
#undef BINARY
#undef LOAD
#undef STORE

nop:
	DISPATCH();
drop:
	if (unlikely(n <= height))
		goto slow;
	n--;
	DISPATCH();
call:
	q = fast_u32(p, end, &x);
	if (unlikely(!q || x >= m->nfuncs))
		goto slow;
	ft = &m->types[m->funcs[x].type];
	np = ft->nparams;
	if (unlikely(n - height < np || cap - n + np < ft->nresults ||
	    (np && kmemcmp(vals + n - np, ft->params, np))))
		goto slow;
	p = q;
	n -= np;
	if (ft->nresults) {
		kmemcpy(vals + n, ft->results, ft->nresults);
		n += ft->nresults;
		PUSHED();
	}
	DISPATCH();
block:	/* and loop and if, with block types without params */
	if (unlikely(p >= end || v->nctrls >= d->ctrls_cap ||
	    (*p != 0x40 && !is_valtype(*p))))
		goto slow;
	if (op == JIT_OP_IF) {
		if (unlikely(n <= height || vals[n - 1] != JIT_I32))
			goto slow;
		n--;
	}
	cur = &d->ctrls[v->nctrls++];
	if (v->nctrls > v->max_ctrls)
		v->max_ctrls = v->nctrls;
	cur->op = (uint16_t)op;
	cur->params = NULL;
	cur->nparams = 0;
	cur->results = *p == 0x40 ? NULL : &single_type[*p];
	cur->nresults = *p != 0x40;
	cur->height = height = n;
	cur->unreachable = false;
	cur->shift = (uint8_t)v->shift;
	v->shift = inner_shift(op, v->shift);
	inc = 1ull << v->shift;
	v->cur = cur;
	p++;
	DISPATCH();
else_:
	np = cur->nresults;
	if (unlikely(cur->op != JIT_OP_IF || cur->nparams || cur->unreachable ||
	    n - height != np ||
	    (np && kmemcmp(vals + height, cur->results, np))))
		goto slow;
	n = height;
	cur->op = JIT_OP_ELSE;
	DISPATCH();
end_:
	/*
	 * Exactly the frame's results left; or none after a branch, when the
	 * results are pushed as they are (but not for the function's frame,
	 * as in op_end()).
	 */
	np = cur->nresults;
	if (unlikely(cur->op == JIT_OP_IF && (np || cur->nparams)))
		goto slow;
	if (cur->unreachable && n == height) {
		if (unlikely(cap - n < np))
			goto slow;
		if (np && v->nctrls > 1) {
			kmemcpy(vals + n, cur->results, np);
			n += np;
			PUSHED();
		}
	} else if (unlikely(n - height != np ||
		   (np && kmemcmp(vals + height, cur->results, np)))) {
		goto slow;
	}
	v->shift = cur->shift;
	inc = 1ull << v->shift;
	if (!--v->nctrls) {
		done = true;
		goto out;
	}
	v->cur = --cur;
	height = cur->height;
	DISPATCH();
branch: {	/* br, br_if, return */
	const struct jit_ctrl *c;
	const uint8_t *t;
	uint32_t nt, cond = op == JIT_OP_BR_IF;

	if (op == JIT_OP_RETURN) {
		q = p;
		c = d->ctrls;
	} else {
		q = fast_u32(p, end, &x);
		if (unlikely(!q || x >= v->nctrls))
			goto slow;
		c = cur - x;
	}
	if (cond && unlikely(n <= height || vals[n - 1] != JIT_I32))
		goto slow;
	label_types(c, &t, &nt);
	if (unlikely(n - cond - height < nt ||
	    (nt && kmemcmp(vals + n - cond - nt, t, nt))))
		goto slow;
	p = q;
	if (cond) {
		n--;
		DISPATCH();
	}
	/* br and return: the rest of the block is unreachable. */
	n = height;
	cur->unreachable = true;
	DISPATCH();
}
slow:
	v->r.p = at;
	v->nvals = n;
	v->max_vals = maxv;
	if (!step(v, nlocals, locals, &done))
		return false;
	p = v->r.p;
	n = v->nvals;
	maxv = v->max_vals;
	vals = v->vals;
	cap = d->vals_cap;
	inc = 1ull << v->shift;
	if (done)
		goto out;
	cur = v->cur;
	height = cur->height;
	DISPATCH();
#undef DISPATCH
#undef DISPATCH_AT
#undef LINE_TEXT
#undef PUSHED
out:
	v->r.p = p;
	v->nvals = n;
	v->max_vals = maxv;
	if (!done)
		return jit_wasm_fail(d, p, true, "unexpected end of section or "
		    "function");
	if (p != end)
		return jit_wasm_fail(d, p, true, "section size mismatch: bytes "
		    "after the function's final end");
	return true;
}

/* The reference path alone, for comparing with validate_code(). */
static bool validate_steps(struct vstate *v, uint32_t nlocals,
			   const uint8_t *locals)
{
	bool done = false;

	while (!done && v->r.p < v->r.end)
		if (!step(v, nlocals, locals, &done))
			return false;
	if (!done)
		return jit_wasm_fail(v->d, v->r.p, true, "unexpected end of "
		    "section or function");
	if (v->r.p != v->r.end)
		return jit_wasm_fail(v->d, v->r.p, true, "section size "
		    "mismatch: bytes after the function's final end");
	return true;
}

/*
 * The local declarations (spec 5.5.13): read twice, first to add the counts
 * up (more than 2^32 - 1 is malformed, more than JIT_WASM_MAX_LOCALS over
 * our limit) and only then to fill the types in.
 */
static bool read_locals(struct vstate *v, const struct jit_wasm_functype *ft,
			uint32_t *nlocals)
{
	struct jit_wasm_decoder *d = v->d;
	struct jit_rd scan = v->r;
	const uint8_t *at = v->r.p;
	uint64_t total = 0;
	uint32_t ngroups, n, k;
	uint8_t t;

	if (!rd_u32(d, &scan, &ngroups))
		return false;
	for (uint32_t i = 0; i < ngroups; i++) {
		if (!rd_u32(d, &scan, &n) || !jit_wasm_valtype(d, &scan, &t))
			return false;
		total += n;
	}
	if (total > UINT32_MAX)
		return jit_wasm_fail(d, at, true, "too many locals");
	total += ft->nparams;
	if (total > JIT_WASM_MAX_LOCALS)
		return jit_wasm_fail(d, at, false, "too many locals (%llu, the "
		    "limit is %u)", (unsigned long long)total,
		    JIT_WASM_MAX_LOCALS);
	if (total > d->locals_cap && !grow(v, (void **)&d->locals,
	    &d->locals_cap, (uint32_t)total, 1, JIT_WASM_MAX_LOCALS, "locals"))
		return false;
	/* One more than the locals, so that the array exists when there
	 * are none. */
	if (total + 1 > d->weights_cap && !grow(v, (void **)&d->weights,
	    &d->weights_cap, (uint32_t)total + 1, sizeof(uint64_t),
	    JIT_WASM_MAX_LOCALS + 1, "locals"))
		return false;
	kmemset(d->weights, 0, sizeof(uint64_t) * total);
	v->w = d->weights;
	if (ft->nparams)
		kmemcpy(d->locals, ft->params, ft->nparams);
	k = ft->nparams;
	rd_u32(d, &v->r, &ngroups);
	for (uint32_t i = 0; i < ngroups; i++) {
		rd_u32(d, &v->r, &n);
		rd_byte(d, &v->r, &t);
		if (n)	/* d->locals is still NULL if every group is empty */
			kmemset(d->locals + k, t, n);
		k += n;
	}
	*nlocals = k;
	return true;
}

/*
 * The busiest locals of each class (integers and references, floats) into
 * f->hot, those used more than once only (a register pays for itself from
 * the second use): one pass, each kept list sorted, ties to the lower index.
 */
static void rank_locals(struct jit_wasm_func *f, const uint8_t *types,
			const uint64_t *w, uint32_t nlocals)
{
	uint64_t hw[2][JIT_WASM_HOT_LOCALS];

	f->nhot[0] = f->nhot[1] = 0;
	for (uint32_t i = 0; i < nlocals; i++) {
		unsigned cls = types[i] == JIT_F32 || types[i] == JIT_F64;
		unsigned n = f->nhot[cls], k;

		if (w[i] < 2 || (n == JIT_WASM_HOT_LOCALS && w[i] <= hw[cls][n - 1]))
			continue;
		k = n < JIT_WASM_HOT_LOCALS ? n++ : n - 1;
		for (; k && hw[cls][k - 1] < w[i]; k--) {
			hw[cls][k] = hw[cls][k - 1];
			f->hot[cls][k] = f->hot[cls][k - 1];
		}
		hw[cls][k] = w[i];
		f->hot[cls][k] = i;
		f->nhot[cls] = (uint8_t)n;
	}
}

bool jit_wasm_validate_body(struct jit_wasm_decoder *d, uint32_t func,
			    const uint8_t *body, uint32_t len)
{
	struct jit_wasm_func *f = &d->m->funcs[func];
	const struct jit_wasm_functype *ft = &d->m->types[f->type];
	struct vstate v = {
		.d = d, .m = d->m, .vals = d->vals, .at = body,
		.op = JIT_OP_BLOCK, .r = { body, body + len },
	};
	uint32_t nlocals = 0;

	if (!read_locals(&v, ft, &nlocals))
		return false;
	f->body = body;
	f->body_len = len;
	f->code = v.r.p;
	f->nlocals = nlocals - ft->nparams;
	/* The function's own frame: a block of its result types. */
	if (!push_ctrl(&v, JIT_OP_END, NULL, 0, ft->results, ft->nresults))
		return false;
	if (!(d->reference ? validate_steps(&v, nlocals, d->locals) :
	    validate_code(&v, nlocals, d->locals)))
		return false;
	f->max_operands = v.max_vals;
	f->max_depth = v.max_ctrls;
	f->uses_memory = v.memory;
	rank_locals(f, d->locals, d->weights, nlocals);
	return true;
}

void jit_wasm_validator_free(struct jit_wasm_decoder *d)
{
	jit_wasm_release(d, d->vals);
	jit_wasm_release(d, d->ctrls);
	jit_wasm_release(d, d->locals);
	jit_wasm_release(d, d->weights);
	d->vals = NULL;
	d->ctrls = NULL;
	d->locals = NULL;
	d->weights = NULL;
}
