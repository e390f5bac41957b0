/*
 * compile.c - the portable front end of the single-pass compiler: one walk
 * over a validated function body, an abstract operand stack (compile.h)
 * and the control stack, lowering each instruction through the target's
 * emitter (emit.h).
 *
 * Merges: at every label the values a branch carries sit in the canonical
 * slots of their stack positions, and the values below a block's entry
 * height are constants or in their slots (block entry spills them), so
 * every path into a label agrees on where everything is without keeping
 * per-label register states.  Branches that carry nothing jump straight.
 *
 * The body was validated (jit/validate.c), so the readers here check
 * nothing and the types on the stack are known to be right.
 */
#include "jit/emit.h"
#include "jit/wasm_internal.h"
#include "kernel/kheap.h"

/* -- Reading the validated body ------------------------------------------- */

/*
 * LEB128.  Most indices, alignments, offsets and constants fit in one
 * byte, which skips the loop (compile speed: the walk reads one or two
 * per instruction).
 */
static uint32_t get_u32(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint32_t v = *p++;
	unsigned shift = 7;
	uint8_t b;

	if (likely(v < 0x80)) {
		*pp = p;
		return v;
	}
	v &= 0x7f;
	do {
		b = *p++;
		v |= (uint32_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*pp = p;
	return v;
}

static int64_t get_s64(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = *p;

	if (likely(b < 0x80)) {		/* -64 to 63 */
		*pp = p + 1;
		return (int64_t)b - (b & 0x40 ? 0x80 : 0);
	}
	do {
		b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~0ull << shift;
	*pp = p;
	return (int64_t)v;
}

static uint64_t get_le(const uint8_t **pp, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)(*pp)[i] << (8 * i);
	*pp += n;
	return v;
}

/* -- Control frames ------------------------------------------------------- */

enum { FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_FUNC };

struct jit_cframe {
	uint8_t kind;
	bool unreachable;	/* the rest of this block is dead code */
	bool has_else;
	bool if_reachable;	/* IF: the condition was evaluated */
	uint32_t height;	/* operand stack height below the params */
	uint32_t nparams, nresults;
	const uint8_t *params, *results;
	uint32_t target;	/* LOOP: the header */
	uint32_t patches;	/* forward branches to the end: a list in s->patches */
	uint32_t else_site;	/* IF: the branch to the else part */
};

#define NO_PATCH UINT32_MAX

static bool grow_to(struct jit_cc *c, void **buf, uint32_t *cap, uint32_t need,
		    size_t elem)
{
	uint32_t ncap = *cap ? *cap : 64;
	void *n;

	while (ncap < need)
		ncap *= 2;
	if (!(n = kmalloc(elem * ncap))) {
		c->oom = true;
		c->buf.overflow = true;	/* stops the walk (compile_code) */
		return false;
	}
	if (*buf)
		kmemcpy(n, *buf, elem * *cap);
	kfree(*buf);
	*buf = n;
	*cap = ncap;
	return true;
}

/* Room for need elements of elem bytes in *buf (scratch arrays, doubling). */
static inline bool grow(struct jit_cc *c, void **buf, uint32_t *cap, uint32_t need,
			size_t elem)
{
	return likely(need <= *cap) || grow_to(c, buf, cap, need, elem);
}

/* The stubs and relocations a function records, in the scratch arrays. */
void jit_add_stub(struct jit_cc *c, uint32_t from, uint32_t back, uint16_t kind)
{
	if (grow(c, (void **)&c->s->stubs, &c->s->stubs_cap, c->nstubs + 1,
	    sizeof(struct jit_stub)))
		c->s->stubs[c->nstubs++] = (struct jit_stub){ .from = from, .back = back,
							      .kind = kind };
}

void jit_add_reloc(struct jit_cc *c, uint32_t at, uint32_t func)
{
	if (grow(c, (void **)&c->s->relocs, &c->s->relocs_cap, c->nrelocs + 1,
	    sizeof(struct jit_reloc)))
		c->s->relocs[c->nrelocs++] = (struct jit_reloc){ .at = at, .func = func };
}

/* -- Registers and the operand stack -------------------------------------- */

static inline uint64_t class_mask(uint8_t type)
{
	return jit_target_regs & (jit_is_fp(type) ? ~0ull << JIT_FPR :
				  (1ull << JIT_FPR) - 1);
}

#define NO_OWNER UINT32_MAX

static void spill(struct jit_cc *c, uint32_t i)
{
	struct jit_cval *v = &c->vals[i];
	struct jit_opnd dst = { .kind = JIT_OPND_FRAME, .off = jit_slot_off(c, i) };
	struct jit_opnd src;

	switch (v->kind) {
	case JIT_V_REG:
		src = (struct jit_opnd){ .kind = JIT_OPND_REG, .reg = v->reg };
		jit_emit_move(c, v->type, &dst, &src);
		c->reg_owner[v->reg] = NO_OWNER;
		c->reg_free |= 1ull << v->reg;
		break;
	case JIT_V_LOCAL:
		jit_emit_move(c, v->type, &dst, &c->local_home[v->local]);
		c->refs[v->local]--;
		break;
	default:
		return;
	}
	v->kind = JIT_V_SLOT;
}

void jit_ra_evict(struct jit_cc *c, uint8_t reg)
{
	uint32_t owner = c->reg_owner[reg];

	if (owner != NO_OWNER)
		spill(c, owner);
}

uint8_t jit_ra_alloc(struct jit_cc *c, uint8_t type)
{
	uint64_t mask = class_mask(type), free = c->reg_free & mask;
	uint32_t victim = NO_OWNER;
	uint8_t r;

	if (!free) {
		/* Spill the deepest value of the class: the last to be used. */
		for (r = 0; r < 64; r++)
			if ((mask >> r & 1) && c->reg_owner[r] < victim)
				victim = c->reg_owner[r];
		KASSERT(victim != NO_OWNER, "jit_ra_alloc: no register to spill");
		r = c->vals[victim].reg;
		spill(c, victim);
		free = 1ull << r;
	}
	/* The lowest free register (no ctz: bare riscv64 lacks it in libgcc-free code). */
	for (r = 0; !(free >> r & 1); r++)
		;
	c->reg_free &= ~(1ull << r);
	return r;
}

void jit_ra_take(struct jit_cc *c, uint8_t reg)
{
	jit_ra_evict(c, reg);
	c->reg_free &= ~(1ull << reg);
}

void jit_ra_free(struct jit_cc *c, uint8_t reg)
{
	if (reg != JIT_NO_REG && (jit_target_regs >> reg & 1)) {
		c->reg_free |= 1ull << reg;
		c->reg_owner[reg] = NO_OWNER;
	}
}

/*
 * The operand stack's pushes and pop run for nearly every instruction
 * compiled: always inlined (compile speed; callgrind on esbuild.wasm's
 * compile: -4% instructions).  Pushes check no room: the stack holds as
 * many values as validation counted at most (max_operands, which sizes
 * both c->vals and the frame's slots), and it mirrors the wasm stack.
 */
#define HOT static inline __attribute__((always_inline))

HOT void push_reg(struct jit_cc *c, uint8_t type, uint8_t reg)
{
	c->vals[c->nvals] = (struct jit_cval){ .type = type, .kind = JIT_V_REG, .reg = reg };
	c->reg_lo = MIN(c->reg_lo, c->nvals);
	c->reg_owner[reg] = c->nvals++;
	c->reg_free &= ~(1ull << reg);
}

HOT void push_const(struct jit_cc *c, uint8_t type, uint64_t bits)
{
	c->vals[c->nvals++] = (struct jit_cval){ .type = type, .kind = JIT_V_CONST, .imm = bits };
}

static void push_slot(struct jit_cc *c, uint8_t type)
{
	c->vals[c->nvals++] = (struct jit_cval){ .type = type, .kind = JIT_V_SLOT };
}

/* A read of local x, not done yet (local.get, or what a tee leaves). */
HOT void push_local(struct jit_cc *c, uint32_t x)
{
	c->local_lo = MIN(c->local_lo, c->nvals);
	c->refs[x]++;
	c->vals[c->nvals++] = (struct jit_cval){ .type = c->local_types[x],
						 .kind = JIT_V_LOCAL, .local = x };
}

/* Pop the top value; its register (if any) stays taken until freed. */
HOT struct jit_cval pop(struct jit_cc *c)
{
	struct jit_cval v = c->vals[--c->nvals];

	if (v.kind == JIT_V_REG)
		c->reg_owner[v.reg] = NO_OWNER;
	else if (v.kind == JIT_V_LOCAL)
		c->refs[v.local]--;
	return v;
}

static void release(struct jit_cc *c, const struct jit_cval *v)
{
	if (v->kind == JIT_V_REG)
		jit_ra_free(c, v->reg);
}

/* Drop the stack down to height n. */
static void drop_to(struct jit_cc *c, uint32_t n)
{
	while (c->nvals > n) {
		struct jit_cval v = pop(c);

		release(c, &v);
	}
}

/* Where a popped value (at stack position i when it was there) is. */
static struct jit_opnd opnd_of(struct jit_cc *c, const struct jit_cval *v, uint32_t i)
{
	switch (v->kind) {
	case JIT_V_REG:
		return (struct jit_opnd){ .kind = JIT_OPND_REG, .reg = v->reg };
	case JIT_V_CONST:
		return (struct jit_opnd){ .kind = JIT_OPND_IMM, .imm = v->imm };
	case JIT_V_LOCAL:
		return c->local_home[v->local];
	default:
		return (struct jit_opnd){ .kind = JIT_OPND_FRAME, .off = jit_slot_off(c, i) };
	}
}

/* Put a popped value (from position i) in a register of its own. */
static uint8_t to_reg(struct jit_cc *c, const struct jit_cval *v, uint32_t i)
{
	struct jit_opnd src, dst;
	uint8_t r;

	if (v->kind == JIT_V_REG)
		return v->reg;
	src = opnd_of(c, v, i);
	r = jit_ra_alloc(c, v->type);
	dst = (struct jit_opnd){ .kind = JIT_OPND_REG, .reg = r };
	jit_emit_move(c, v->type, &dst, &src);
	return r;
}

/* Every register value below position n in its slot. */
static void spill_regs_below(struct jit_cc *c, uint32_t n)
{
	for (uint32_t i = c->reg_lo; i < n; i++)
		if (c->vals[i].kind == JIT_V_REG)
			spill(c, i);
	c->reg_lo = MAX(c->reg_lo, n);
}

/* Every value of the stack in its slot, or a constant (block entries). */
static void spill_all(struct jit_cc *c)
{
	for (uint32_t i = MIN(c->reg_lo, c->local_lo); i < c->nvals; i++)
		spill(c, i);
	c->reg_lo = c->local_lo = c->nvals;
}

/*
 * Before local x changes: the values still reading it get copied, and
 * with them every other pending local read (each is copied at most once,
 * so a stack full of reads costs linear time, not quadratic).
 */
static void detach_local(struct jit_cc *c, uint32_t x)
{
	if (!c->refs[x])
		return;
	for (uint32_t i = c->local_lo; i < c->nvals; i++)
		if (c->vals[i].kind == JIT_V_LOCAL)
			spill(c, i);
	c->local_lo = c->nvals;
}

/* -- Labels --------------------------------------------------------------- */

static void add_patch(struct jit_cc *c, struct jit_cframe *f, uint32_t site)
{
	uint32_t n = c->s->patches[0];

	if (!grow(c, (void **)&c->s->patches, &c->s->patches_cap, n + 3,
	    sizeof(uint32_t)))
		return;
	c->s->patches[n + 1] = site;
	c->s->patches[n + 2] = f->patches;
	f->patches = n + 1;
	c->s->patches[0] = n + 2;
}

static void bind_patches(struct jit_cc *c, struct jit_cframe *f, uint32_t target)
{
	for (uint32_t i = f->patches; i != NO_PATCH; i = c->s->patches[i + 1])
		jit_emit_patch(c, c->s->patches[i], target);
	f->patches = NO_PATCH;
}

static inline struct jit_cframe *frame_at(struct jit_cc *c, uint32_t nframes,
					  uint32_t depth)
{
	return &c->s->frames[nframes - 1 - depth];
}

/* The types a branch to f carries. */
static uint32_t label_arity(const struct jit_cframe *f, const uint8_t **types)
{
	if (f->kind == FRAME_LOOP) {
		*types = f->params;
		return f->nparams;
	}
	*types = f->results;
	return f->nresults;
}

/* Does branching to f need no moves: its values already in their slots? */
static bool in_place(struct jit_cc *c, const struct jit_cframe *f)
{
	const uint8_t *t;
	uint32_t n = label_arity(f, &t);

	if (f->kind == FRAME_FUNC)
		return false;	/* returns happen on the spot */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = c->nvals - n + k;

		if (i != f->height + k || c->vals[i].kind != JIT_V_SLOT)
			return false;
	}
	return true;
}

/*
 * Move the values a branch to f carries into f's slots, without changing
 * the compile-time stack (the branch may not be taken).  Sources sit at
 * or above their destinations, so copying upwards never overwrites a
 * source before it is read.
 */
static void branch_moves(struct jit_cc *c, const struct jit_cframe *f)
{
	const uint8_t *t;
	uint32_t n = label_arity(f, &t);

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = c->nvals - n + k, j = f->height + k;
		struct jit_opnd src = opnd_of(c, &c->vals[i], i);
		struct jit_opnd dst = { .kind = JIT_OPND_FRAME, .off = jit_slot_off(c, j) };

		if (i == j && c->vals[i].kind == JIT_V_SLOT)
			continue;
		jit_emit_move(c, c->vals[i].type, &dst, &src);
	}
}

/* Jump to f's label; the branch site is patched when f's label is bound. */
static void jump_to(struct jit_cc *c, struct jit_cframe *f, int cond, bool negate)
{
	uint32_t site = jit_emit_branch(c, cond, negate);

	if (f->kind == FRAME_LOOP)
		jit_emit_patch(c, site, f->target);
	else
		add_patch(c, f, site);
}

/*
 * Return from the function with the top values as its results: a branch
 * to the function's own label returns on the spot, so results go
 * straight to the return registers, never through memory.
 */
static void do_return(struct jit_cc *c)
{
	uint32_t n = c->ft->nresults, base = c->nvals - n;
	struct jit_opnd *res;

	if (!grow(c, (void **)&c->s->homes, &c->s->homes_cap, c->nlocals + n + 1,
	    sizeof(struct jit_opnd)))
		return;
	c->local_home = c->s->homes;
	res = c->s->homes + c->nlocals;
	for (uint32_t k = 0; k < n; k++)
		res[k] = opnd_of(c, &c->vals[base + k], base + k);
	jit_emit_return(c, res);
}

/* Go to f's label with the values it takes (the stack is not changed). */
static void take_branch(struct jit_cc *c, struct jit_cframe *f)
{
	if (f->kind == FRAME_FUNC) {
		do_return(c);
		return;
	}
	branch_moves(c, f);
	jump_to(c, f, JIT_COND_ALWAYS, false);
}

/* An unconditional branch to f, then dead code. */
static void branch(struct jit_cc *c, uint32_t nframes, uint32_t depth)
{
	struct jit_cframe *cur = frame_at(c, nframes, 0);

	take_branch(c, frame_at(c, nframes, depth));
	drop_to(c, cur->height);
	cur->unreachable = true;
}

/* Put the value at position i in its slot, even a constant: a label's
 * values are in their slots whichever path reaches it. */
static void settle(struct jit_cc *c, uint32_t i)
{
	struct jit_cval *v = &c->vals[i];

	if (v->kind == JIT_V_CONST) {
		struct jit_opnd dst = { .kind = JIT_OPND_FRAME, .off = jit_slot_off(c, i) };
		struct jit_opnd src = { .kind = JIT_OPND_IMM, .imm = v->imm };

		jit_emit_move(c, v->type, &dst, &src);
		v->kind = JIT_V_SLOT;
	} else {
		spill(c, i);
	}
}

/* The fall-through values of f into its slots. */
static void settle_results(struct jit_cc *c, struct jit_cframe *f)
{
	for (uint32_t k = 0; k < f->nresults; k++)
		settle(c, f->height + k);
}

/*
 * Entering a block: everything below it in slots or constant, and its
 * params in their slots (an if's else part and a loop's back-edges start
 * from there).
 */
static void enter_block(struct jit_cc *c, uint32_t nparams)
{
	spill_all(c);
	for (uint32_t k = c->nvals - nparams; k < c->nvals; k++)
		settle(c, k);
}

/* -- Conditions ----------------------------------------------------------- */

/*
 * A condition not yet emitted: an i32 compare (op, lhs, rhs) fused with
 * the br_if, if or select after it, or a plain i32 value (op 0).
 */
struct cond {
	unsigned op;
	bool negated;		/* under an odd number of i32.eqz */
	struct jit_cval lhs, rhs;
	uint32_t at;		/* stack position of lhs */
};

static struct cond pop_cond(struct jit_cc *c)
{
	struct cond k = { .op = 0 };

	k.at = c->nvals - 1;
	k.lhs = pop(c);
	return k;
}

/* Is v a local living in a register (which nothing changes under it)? */
static bool in_home_reg(const struct jit_cc *c, const struct jit_cval *v)
{
	return v->kind == JIT_V_LOCAL && c->local_home[v->local].kind == JIT_OPND_REG;
}

/* Emit the condition; nothing may be emitted between this and its use. */
static int emit_cond(struct jit_cc *c, struct cond *k)
{
	struct jit_opnd rhs;
	uint8_t lhs;
	int cc;

	if (!k->op) {
		rhs = opnd_of(c, &k->lhs, k->at);
		cc = jit_emit_test(c, k->lhs.type, &rhs);
		release(c, &k->lhs);
		return cc;
	}
	/* A local in a register is compared where it is. */
	lhs = in_home_reg(c, &k->lhs) ? c->local_home[k->lhs.local].reg :
	      to_reg(c, &k->lhs, k->at);
	if (k->op == JIT_OP_I32_EQZ || k->op == JIT_OP_I64_EQZ) {
		cc = jit_emit_compare(c, k->op, lhs, NULL);
	} else {
		rhs = opnd_of(c, &k->rhs, k->at + 1);
		cc = jit_emit_compare(c, k->op, lhs, &rhs);
		release(c, &k->rhs);
	}
	if (!in_home_reg(c, &k->lhs))
		jit_ra_free(c, lhs);
	return k->negated ? jit_cond_not(cc) : cc;
}

/*
 * Make sure the condition's operands are in registers or constants before
 * the code that must come between popping it and branching (spills,
 * moves), so that emitting it later emits only the compare.
 */
static void pin_cond(struct jit_cc *c, struct cond *k)
{
	if (k->op && k->lhs.kind != JIT_V_REG && !in_home_reg(c, &k->lhs)) {
		uint8_t r = to_reg(c, &k->lhs, k->at);

		k->lhs.kind = JIT_V_REG;
		k->lhs.reg = r;
	}
	/* Slot and local operands must be read before spills rewrite them. */
	if (!k->op && (k->lhs.kind == JIT_V_LOCAL || k->lhs.kind == JIT_V_SLOT)) {
		uint8_t r = to_reg(c, &k->lhs, k->at);

		k->lhs.kind = JIT_V_REG;
		k->lhs.reg = r;
	}
	if (k->op && k->op != JIT_OP_I32_EQZ && k->op != JIT_OP_I64_EQZ &&
	    (k->rhs.kind == JIT_V_LOCAL || k->rhs.kind == JIT_V_SLOT)) {
		uint8_t r = to_reg(c, &k->rhs, k->at + 1);

		k->rhs.kind = JIT_V_REG;
		k->rhs.reg = r;
	}
}

/* -- Instructions --------------------------------------------------------- */

struct fstate {
	uint32_t nframes;
	struct jit_cframe *top;	/* frames[nframes - 1], kept for every instruction */
	const uint8_t *p;
	const uint8_t *end;	/* of the body */
	/* skip_dead()'s reader, set up once per body (it reports nothing:
	 * the body is valid). */
	struct jit_wasm_decoder dead;
	struct jit_wasm_error dead_err;
};

static void read_blocktype(struct jit_cc *c, const uint8_t **p,
			   struct jit_cframe *f)
{
	static const uint8_t single[256] = {
		[JIT_I32] = JIT_I32, [JIT_I64] = JIT_I64, [JIT_F32] = JIT_F32,
		[JIT_F64] = JIT_F64, [JIT_V128] = JIT_V128,
		[JIT_FUNCREF] = JIT_FUNCREF, [JIT_EXTERNREF] = JIT_EXTERNREF,
	};
	uint8_t b = **p;

	f->nparams = f->nresults = 0;
	f->params = f->results = NULL;
	if (b == 0x40) {
		(*p)++;
	} else if (is_valtype(b)) {
		(*p)++;
		f->results = &single[b];
		f->nresults = 1;
		if (b == JIT_V128) {
			c->unsupported = JIT_OP_V128_CONST;
			c->buf.overflow = true;	/* stops the walk */
		}
	} else {
		const struct jit_wasm_functype *ft = &c->m->types[get_s64(p)];

		f->params = ft->params;
		f->nparams = ft->nparams;
		f->results = ft->results;
		f->nresults = ft->nresults;
	}
}

static struct jit_cframe *push_frame(struct jit_cc *c, struct fstate *st,
				     uint8_t kind)
{
	struct jit_cframe *f;

	if (!grow(c, (void **)&c->s->frames, &c->s->frames_cap, st->nframes + 1,
	    sizeof(struct jit_cframe)))
		return NULL;
	f = st->top = &c->s->frames[st->nframes++];
	*f = (struct jit_cframe){ .kind = kind, .patches = NO_PATCH,
				  .else_site = NO_PATCH };
	return f;
}

static void op_block(struct jit_cc *c, struct fstate *st, unsigned op)
{
	struct jit_cframe tmp, *f;
	struct cond k;

	read_blocktype(c, &st->p, &tmp);
	if (op == JIT_OP_IF) {
		k = pop_cond(c);
		pin_cond(c, &k);
	}
	enter_block(c, tmp.nparams);
	if (!(f = push_frame(c, st, op == JIT_OP_LOOP ? FRAME_LOOP :
	    op == JIT_OP_IF ? FRAME_IF : FRAME_BLOCK)))
		return;
	f->params = tmp.params;
	f->nparams = tmp.nparams;
	f->results = tmp.results;
	f->nresults = tmp.nresults;
	f->height = c->nvals - f->nparams;
	if (op == JIT_OP_LOOP) {
		jit_emit_loop_header(c);
		f->target = jit_buf_pos(&c->buf);
		jit_emit_poll(c);
	} else if (op == JIT_OP_IF) {
		f->else_site = jit_emit_branch(c, emit_cond(c, &k), true);
	}
}

/* The compare just compiled feeds the br_if or if that follows it. */
static void op_br_if(struct jit_cc *c, struct fstate *st, struct cond *k)
{
	uint32_t depth = get_u32(&st->p);
	struct jit_cframe *f = frame_at(c, st->nframes, depth);
	uint32_t skip;

	if (in_place(c, f)) {
		jump_to(c, f, emit_cond(c, k), false);
		return;
	}
	pin_cond(c, k);
	skip = jit_emit_branch(c, emit_cond(c, k), true);
	take_branch(c, f);
	jit_emit_patch(c, skip, jit_buf_pos(&c->buf));
}

static void op_else(struct jit_cc *c, struct fstate *st)
{
	struct jit_cframe *f = st->top;

	if (!f->unreachable) {
		settle_results(c, f);
		jump_to(c, f, JIT_COND_ALWAYS, false);
	}
	drop_to(c, f->height);
	jit_emit_patch(c, f->else_site, jit_buf_pos(&c->buf));
	f->else_site = NO_PATCH;
	f->has_else = true;
	f->unreachable = false;
	for (uint32_t i = 0; i < f->nparams; i++)
		push_slot(c, f->params[i]);
}

/* end of a block, loop or if; false at the function's end. */
static bool op_end(struct jit_cc *c, struct fstate *st)
{
	struct jit_cframe *f = st->top;
	bool merges = f->patches != NO_PATCH || f->else_site != NO_PATCH;
	bool reachable = !f->unreachable || merges;

	if (f->kind == FRAME_LOOP)
		merges = false;		/* nothing branches to a loop's end */
	if (!f->unreachable && merges)
		settle_results(c, f);
	if (f->unreachable) {
		drop_to(c, f->height);
		if (merges)
			for (uint32_t i = 0; i < f->nresults; i++)
				push_slot(c, f->results[i]);
	}
	bind_patches(c, f, jit_buf_pos(&c->buf));
	if (f->else_site != NO_PATCH)
		jit_emit_patch(c, f->else_site, jit_buf_pos(&c->buf));
	if (f->kind == FRAME_FUNC) {
		if (!f->unreachable)
			do_return(c);
		st->nframes--;
		return false;
	}
	st->top = frame_at(c, --st->nframes, 0);
	if (!reachable) {
		/* Whatever follows, up to the parent's end, is dead. */
		f = st->top;
		drop_to(c, f->height);
		f->unreachable = true;
	}
	return true;
}

static void op_br_table(struct jit_cc *c, struct fstate *st)
{
	uint32_t n = get_u32(&st->p), table, *stub;
	struct jit_cframe *cur = st->top;
	struct jit_cval idx;
	uint8_t r;

	/* One stub per distinct label (moves, jump), shared by its entries. */
	if (!(stub = kmalloc(sizeof(uint32_t) * st->nframes))) {
		c->oom = true;
		c->buf.overflow = true;	/* stops the walk */
		return;
	}
	for (uint32_t i = 0; i < st->nframes; i++)
		stub[i] = NO_PATCH;
	idx = pop(c);
	r = to_reg(c, &idx, c->nvals);
	table = jit_emit_jump_table(c, r, n);
	jit_ra_free(c, r);
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t depth = get_u32(&st->p);

		if (stub[depth] == NO_PATCH) {
			struct jit_cframe *f = frame_at(c, st->nframes, depth);

			stub[depth] = jit_buf_pos(&c->buf);
			take_branch(c, f);
		}
		jit_emit_jump_table_set(c, table, i, stub[depth]);
	}
	kfree(stub);
	drop_to(c, cur->height);
	cur->unreachable = true;
}

/*
 * A call of any kind: every other live value to its slot, the arguments
 * handed to the back end wherever they are (imm[] first: a runtime call's
 * immediates, then the top nstack values), an indirect call's callee
 * operand (the top value, when elem) too, and the results pushed.
 */
static void do_call(struct jit_cc *c, struct jit_call *call, const uint64_t *imm,
		    uint32_t nimm, bool elem)
{
	uint32_t nstack = call->nparams - nimm;
	uint32_t base = c->nvals - nstack - elem;
	struct jit_opnd *args, callee;
	uint8_t r;

	/* What stays on the stack goes to its slots; the arguments may stay
	 * in registers, the back end moves them into place in parallel. */
	spill_regs_below(c, base);
	if (!grow(c, (void **)&c->s->homes, &c->s->homes_cap,
	    c->nlocals + call->nparams + 1, sizeof(struct jit_opnd)))
		return;
	c->local_home = c->s->homes;
	args = c->s->homes + c->nlocals;
	for (uint32_t i = 0; i < nimm; i++)
		args[i] = (struct jit_opnd){ .kind = JIT_OPND_IMM, .imm = imm[i] };
	for (uint32_t i = 0; i < nstack; i++)
		args[nimm + i] = opnd_of(c, &c->vals[base + i], base + i);
	if (elem) {
		callee = opnd_of(c, &c->vals[c->nvals - 1], c->nvals - 1);
		call->elem = &callee;
	}
	call->args = args;
	call->results_off = jit_slot_off(c, base);
	drop_to(c, base);
	r = jit_emit_call(c, call);
	if (call->nresults == 1 && r != JIT_NO_REG) {
		push_reg(c, call->results[0], r);
		return;
	}
	for (uint32_t i = 0; i < call->nresults; i++)
		push_slot(c, call->results[i]);
}

static void call_func(struct jit_cc *c, uint32_t x)
{
	const struct jit_wasm_functype *ft = &c->m->types[c->m->funcs[x].type];
	struct jit_call call = {
		.kind = c->m->funcs[x].imported ? JIT_CALL_IMPORT : JIT_CALL_DIRECT,
		.index = x, .params = ft->params, .nparams = ft->nparams,
		.results = ft->results, .nresults = ft->nresults,
	};

	do_call(c, &call, NULL, 0, false);
}

static void op_call_indirect(struct jit_cc *c, uint32_t type, uint32_t table)
{
	const struct jit_wasm_functype *ft = &c->m->types[type];
	struct jit_call call = {
		.kind = JIT_CALL_INDIRECT, .index = type, .table = table,
		.params = ft->params, .nparams = ft->nparams,
		.results = ft->results, .nresults = ft->nresults,
	};

	do_call(c, &call, NULL, 0, true);
}

/*
 * A runtime call (rt.h): the immediates imm[0..nimm), then the top
 * nparams - nimm operands, of the types `params`; the result (if any) is
 * an i32 pushed.  `checked`: the call returns a trap code, tested here.
 */
static void call_runtime(struct jit_cc *c, const void *fn, const uint8_t *params,
			 uint32_t nparams, const uint64_t *imm, uint32_t nimm,
			 bool result, bool checked)
{
	static const uint8_t i32 = JIT_I32;
	struct jit_call call = {
		.kind = JIT_CALL_RUNTIME, .fn = fn, .params = params,
		.nparams = nparams, .results = &i32,
		.nresults = result || checked,
	};
	struct jit_cval v;
	uint8_t r;

	do_call(c, &call, imm, nimm, false);
	if (checked) {
		v = pop(c);
		r = to_reg(c, &v, c->nvals);
		jit_emit_trap_if_set(c, r);
		jit_ra_free(c, r);
	}
}

/* -- Locals and globals --------------------------------------------------- */

static void op_local_set(struct jit_cc *c, uint32_t x, bool tee)
{
	uint32_t at = c->nvals - 1;
	struct jit_cval v = pop(c);
	struct jit_opnd src;

	if (!(v.kind == JIT_V_LOCAL && v.local == x)) {
		detach_local(c, x);
		src = opnd_of(c, &v, at);
		jit_emit_move(c, v.type, &c->local_home[x], &src);
	}
	if (!tee) {
		release(c, &v);
	} else if (v.kind == JIT_V_REG) {
		push_reg(c, v.type, v.reg);
	} else if (v.kind == JIT_V_LOCAL) {
		push_local(c, v.local);
	} else {
		/* A slot value stays in its slot, a constant as it was. */
		c->vals[c->nvals++] = v;
	}
}

/* A register holding the address of global x's cell. */
static uint8_t global_cell(struct jit_cc *c, uint32_t x)
{
	uint8_t base = jit_ra_alloc(c, JIT_I64);

	jit_emit_vm_load(c, base, c->layout->globals + 8 * x);
	return base;
}

static void op_global_get(struct jit_cc *c, uint32_t x)
{
	uint8_t type = c->m->globals[x].type, base = global_cell(c, x), dst;

	dst = jit_is_fp(type) ? jit_ra_alloc(c, type) : base;
	jit_emit_load_field(c, type, dst, base, 0);
	if (dst != base)
		jit_ra_free(c, base);
	push_reg(c, type, dst);
}

static void op_global_set(struct jit_cc *c, uint32_t x)
{
	uint32_t at = c->nvals - 1;
	struct jit_cval v = pop(c);
	struct jit_opnd src = opnd_of(c, &v, at);
	uint8_t base = global_cell(c, x);

	jit_emit_store_field(c, v.type, base, 0, &src);
	jit_ra_free(c, base);
	release(c, &v);
}

/* -- Numeric and memory instructions -------------------------------------- */

/* The local that a local.set or local.tee right after st->p assigns, if
 * it lives in a register; UINT32_MAX otherwise. */
static uint32_t next_set_in_reg(struct jit_cc *c, const struct fstate *st)
{
	const uint8_t *q = st->p + 1;
	uint32_t x;

	if (*st->p != JIT_OP_LOCAL_SET && *st->p != JIT_OP_LOCAL_TEE)
		return UINT32_MAX;
	x = get_u32(&q);
	return c->local_home[x].kind == JIT_OPND_REG ? x : UINT32_MAX;
}

static bool is_local(const struct jit_cval *v, uint32_t x)
{
	return v->kind == JIT_V_LOCAL && v->local == x;
}

/* Consume the local.set/tee of x that follows (its work done by the
 * caller); true for a tee, whose value the caller pushes. */
static bool take_set(struct fstate *st)
{
	bool tee = *st->p == JIT_OP_LOCAL_TEE;

	st->p++;
	get_u32(&st->p);
	return tee;
}

static void op_load(struct jit_cc *c, struct fstate *st, unsigned op, uint32_t offset)
{
	uint8_t type = jit_wasm_ops[op].push, dst;
	uint32_t at = c->nvals - 1, x = next_set_in_reg(c, st);
	struct jit_cval a = pop(c);
	struct jit_opnd addr = opnd_of(c, &a, at);

	/*
	 * Loaded straight into the local it is assigned to (the address is
	 * read before the local is written, even when it is that local).
	 * Not for a tee: the value it leaves would pin the local, and be
	 * copied out when the local changes while it is still on the stack.
	 */
	if (x != UINT32_MAX && *st->p == JIT_OP_LOCAL_SET) {
		take_set(st);
		detach_local(c, x);
		jit_emit_load(c, op, c->local_home[x].reg, &addr, offset);
		release(c, &a);
		return;
	}
	/* An integer result may take the address's register: the address
	 * is read before the result is written. */
	if (a.kind == JIT_V_REG && !jit_is_fp(type)) {
		dst = a.reg;
	} else {
		dst = jit_ra_alloc(c, type);
		release(c, &a);
	}
	jit_emit_load(c, op, dst, &addr, offset);
	push_reg(c, type, dst);
}

static void op_store(struct jit_cc *c, unsigned op, uint32_t offset)
{
	uint32_t at = c->nvals - 2;
	struct jit_cval v = pop(c), a = pop(c);
	struct jit_opnd val = opnd_of(c, &v, at + 1), addr = opnd_of(c, &a, at);

	jit_emit_store(c, op, &addr, offset, &val);
	release(c, &v);
	release(c, &a);
}

static void op_unary(struct jit_cc *c, unsigned op)
{
	uint8_t type = jit_wasm_ops[op].push, dst;
	uint32_t at = c->nvals - 1;
	struct jit_cval v = pop(c);
	struct jit_opnd src = opnd_of(c, &v, at);

	/* The operand's register serves when the result is of its class. */
	if (v.kind == JIT_V_REG && jit_is_fp(v.type) == jit_is_fp(type)) {
		dst = v.reg;
	} else {
		dst = jit_ra_alloc(c, type);
		release(c, &v);
	}
	jit_emit_unop(c, op, dst, &src);
	push_reg(c, type, dst);
}

static bool commutes(unsigned op)
{
	switch (op) {
	case JIT_OP_I32_ADD: case JIT_OP_I32_MUL: case JIT_OP_I32_AND:
	case JIT_OP_I32_OR: case JIT_OP_I32_XOR:
	case JIT_OP_I64_ADD: case JIT_OP_I64_MUL: case JIT_OP_I64_AND:
	case JIT_OP_I64_OR: case JIT_OP_I64_XOR:
		return true;
	default:
		return false;
	}
}

static void op_binary(struct jit_cc *c, struct fstate *st, unsigned op)
{
	uint32_t at = c->nvals - 2, lat = at, rat = at + 1, x = next_set_in_reg(c, st);
	struct jit_cval rhs = pop(c), lhs = pop(c), t;
	struct jit_opnd r;
	uint8_t dst, src;

	/*
	 * A commutative op takes a register operand as its destination, or
	 * the local about to be assigned.
	 */
	if (commutes(op) && ((lhs.kind != JIT_V_REG && rhs.kind == JIT_V_REG &&
	    !is_local(&lhs, x)) || (!is_local(&lhs, x) && is_local(&rhs, x)))) {
		t = lhs;
		lhs = rhs;
		rhs = t;
		lat = at + 1;
		rat = at;
	}
	/*
	 * x = x op y, for x in a register: one instruction on x itself; and
	 * x = y op z (z not x, not a tee, as for loads): computed into x.
	 */
	if (x != UINT32_MAX && !is_local(&rhs, x) &&
	    (is_local(&lhs, x) || *st->p == JIT_OP_LOCAL_SET)) {
		uint8_t home = c->local_home[x].reg;
		bool tee = take_set(st);

		detach_local(c, x);
		if (is_local(&lhs, x) || in_home_reg(c, &lhs))
			src = c->local_home[lhs.local].reg;
		else
			src = to_reg(c, &lhs, lat);
		r = opnd_of(c, &rhs, rat);
		jit_emit_binop(c, op, home, src, &r);
		if (!is_local(&lhs, x) && !in_home_reg(c, &lhs))
			jit_ra_free(c, src);
		release(c, &rhs);
		if (tee)
			push_local(c, x);
		return;
	}
	/* A local in a register is read in place, into a new register. */
	if (in_home_reg(c, &lhs)) {
		src = c->local_home[lhs.local].reg;
		dst = jit_ra_alloc(c, lhs.type);
	} else {
		dst = src = to_reg(c, &lhs, lat);
	}
	r = opnd_of(c, &rhs, rat);
	jit_emit_binop(c, op, dst, src, &r);
	release(c, &rhs);
	push_reg(c, jit_wasm_ops[op].push, dst);
}

static void begin_if(struct jit_cc *c, struct fstate *st, struct cond *k)
{
	struct jit_cframe tmp, *f;

	read_blocktype(c, &st->p, &tmp);
	pin_cond(c, k);
	enter_block(c, tmp.nparams);
	if (!(f = push_frame(c, st, FRAME_IF)))
		return;
	f->params = tmp.params;
	f->nparams = tmp.nparams;
	f->results = tmp.results;
	f->nresults = tmp.nresults;
	f->height = c->nvals - f->nparams;
	f->else_site = jit_emit_branch(c, emit_cond(c, k), true);
}

/* A comparison: fused into a following br_if or if, else 0 or 1. */
static void op_compare(struct jit_cc *c, struct fstate *st, unsigned op)
{
	struct cond k = { .op = op };
	uint8_t dst;

	if (op != JIT_OP_I32_EQZ && op != JIT_OP_I64_EQZ)
		k.rhs = pop(c);
	k.at = c->nvals - 1;
	k.lhs = pop(c);
	/* i32.eqz of a compare is the opposite compare (compilers emit
	 * `br_if (i32.eqz (cmp))` for loops). */
	for (; *st->p == JIT_OP_I32_EQZ; st->p++)
		k.negated = !k.negated;
	if (*st->p == JIT_OP_BR_IF) {
		st->p++;
		op_br_if(c, st, &k);
	} else if (*st->p == JIT_OP_IF) {
		st->p++;
		begin_if(c, st, &k);
	} else {
		pin_cond(c, &k);
		dst = jit_ra_alloc(c, JIT_I32);
		jit_emit_setcc(c, emit_cond(c, &k), dst);
		push_reg(c, JIT_I32, dst);
	}
}

static void op_select(struct jit_cc *c)
{
	struct cond k = pop_cond(c);
	uint32_t at = c->nvals - 2;
	struct jit_cval b = pop(c), a = pop(c);
	struct jit_opnd other;
	uint8_t dst;

	pin_cond(c, &k);
	dst = to_reg(c, &a, at);
	other = opnd_of(c, &b, at + 1);
	jit_emit_select(c, a.type, emit_cond(c, &k), dst, &other);
	release(c, &b);
	push_reg(c, a.type, dst);
}

static void op_memory_size(struct jit_cc *c)
{
	uint8_t r = jit_ra_alloc(c, JIT_I64);

	jit_emit_vm_load(c, r, offsetof(struct jit_vmctx, mem));
	jit_emit_load_field(c, JIT_I32, r, r, (int32_t)offsetof(struct jit_memory, pages));
	push_reg(c, JIT_I32, r);
}

/*
 * table.get and table.set: runtime calls (call_indirect is inline).  The
 * runtime stores the element table.get reads in the slot of the index it
 * replaces, passed by address.
 */
static void op_table_access(struct jit_cc *c, unsigned op, uint32_t x)
{
	static const uint8_t types[] = { JIT_I32, JIT_I32, JIT_I64 };
	static const uint8_t i32 = JIT_I32;
	uint64_t imm = x;
	uint32_t at = c->nvals - 1;
	struct jit_call call = {
		.kind = JIT_CALL_RUNTIME, .fn = jit_rt_table_get, .params = types,
		.nparams = 3, .results = &i32, .nresults = 1,
	};
	struct jit_opnd *args;
	uint8_t r;

	if (op == JIT_OP_TABLE_SET) {
		call_runtime(c, jit_rt_table_set, types, 3, &imm, 1, false, true);
		return;
	}
	spill_regs_below(c, c->nvals);
	if (!grow(c, (void **)&c->s->homes, &c->s->homes_cap, c->nlocals + 3,
	    sizeof(struct jit_opnd)))
		return;
	c->local_home = c->s->homes;
	args = c->s->homes + c->nlocals;
	args[0] = (struct jit_opnd){ .kind = JIT_OPND_IMM, .imm = imm };
	args[1] = opnd_of(c, &c->vals[at], at);
	args[2] = (struct jit_opnd){ .kind = JIT_OPND_ADDR, .off = jit_slot_off(c, at) };
	call.args = args;
	drop_to(c, at);
	r = jit_emit_call(c, &call);
	jit_emit_trap_if_set(c, r);
	jit_ra_free(c, r);
	push_slot(c, c->m->tables[x].elem);
}

/* Bulk memory and the tables' 0xFC instructions (compile_code() sends
 * the saturating truncations to op_unary()). */
static void op_misc(struct jit_cc *c, struct fstate *st, unsigned op)
{
	static const uint8_t i32s[] = { JIT_I32, JIT_I32, JIT_I32, JIT_I32, JIT_I32 };
	static const uint8_t grow_t[] = { JIT_I32, JIT_I64, JIT_I32 };
	static const uint8_t fill_t[] = { JIT_I32, JIT_I32, JIT_I64, JIT_I32 };
	uint64_t imm[2];

	switch (op) {
	case JIT_OP_MEMORY_INIT:	/* (seg | d, s, n) */
		imm[0] = get_u32(&st->p);
		st->p++;
		call_runtime(c, jit_rt_memory_init, i32s, 4, imm, 1, false, true);
		return;
	case JIT_OP_DATA_DROP:
		imm[0] = get_u32(&st->p);
		call_runtime(c, jit_rt_data_drop, i32s, 1, imm, 1, false, false);
		return;
	case JIT_OP_MEMORY_COPY:
		st->p += 2;
		call_runtime(c, jit_rt_memory_copy, i32s, 3, NULL, 0, false, true);
		return;
	case JIT_OP_MEMORY_FILL:
		st->p++;
		call_runtime(c, jit_rt_memory_fill, i32s, 3, NULL, 0, false, true);
		return;
	case JIT_OP_TABLE_INIT:		/* (table, seg | d, s, n) */
		imm[1] = get_u32(&st->p);
		imm[0] = get_u32(&st->p);
		call_runtime(c, jit_rt_table_init, i32s, 5, imm, 2, false, true);
		return;
	case JIT_OP_ELEM_DROP:
		imm[0] = get_u32(&st->p);
		call_runtime(c, jit_rt_elem_drop, i32s, 1, imm, 1, false, false);
		return;
	case JIT_OP_TABLE_COPY:		/* (dst table, src table | d, s, n) */
		imm[0] = get_u32(&st->p);
		imm[1] = get_u32(&st->p);
		call_runtime(c, jit_rt_table_copy, i32s, 5, imm, 2, false, true);
		return;
	case JIT_OP_TABLE_GROW:		/* (table | init, delta) */
		imm[0] = get_u32(&st->p);
		call_runtime(c, jit_rt_table_grow, grow_t, 3, imm, 1, true, false);
		return;
	case JIT_OP_TABLE_SIZE: {
		uint8_t r = jit_ra_alloc(c, JIT_I64);

		jit_emit_vm_load(c, r, c->layout->tables + 8 * get_u32(&st->p));
		jit_emit_load_field(c, JIT_I32, r, r, (int32_t)offsetof(struct jit_table, size));
		push_reg(c, JIT_I32, r);
		return;
	}
	case JIT_OP_TABLE_FILL:		/* (table | d, val, n) */
		imm[0] = get_u32(&st->p);
		call_runtime(c, jit_rt_table_fill, fill_t, 4, imm, 1, false, true);
		return;
	}
}

/* -- The body ------------------------------------------------------------- */

/*
 * Skip the dead rest of the innermost block (after a branch, return or
 * unreachable) up to its own else or end, which is returned with st->p
 * past it.  The decoder's reader skips each instruction (the body is
 * valid: nothing is reported), blocks opened in between included.
 */
static unsigned skip_dead(struct fstate *st)
{
	struct jit_rd r = { st->p, st->end };
	uint32_t depth = 1;
	unsigned op;

	do {
		op = *r.p++;
		if (op == 0xfc || op == 0xfd)
			op = (op == 0xfc ? 0x100u : 0x200u) + get_u32(&r.p);
		jit_wasm_skip_insn(&st->dead, &r, op, &depth);
	} while (depth && !(depth == 1 && op == JIT_OP_ELSE));
	st->p = r.p;
	return op;
}

static bool compile_code(struct jit_cc *c, struct fstate *st)
{
	/*
	 * Threaded dispatch (GNU labels as values), as in validate_code():
	 * every handler ends in its own indirect jump, which predicts far
	 * better than a switch's one shared jump, and each instruction is
	 * dispatched once.  The table comes from wasm_ops.def: each opcode
	 * goes to the handler of its shape (WALK_<shape>); those with one of
	 * their own override it on purpose, and the SPECIAL and MEMORY ones
	 * left go to op_misc().  0xFC n is at 0x100 + n; SIMD ids share a slot
	 * at 0x200 that is never read, as their 0xFD byte reaches `simd`.
	 */
#define WALK_SPECIAL	&&misc
#define WALK_NOP	&&nop
#define WALK_CONST	&&misc
#define WALK_UNARY	&&unary
#define WALK_BINARY	&&binary
#define WALK_LOAD	&&load
#define WALK_STORE	&&store
#define WALK_MEMORY	&&misc
	/* The SIMD shapes: no opcode below 0x200 has them. */
#define WALK_TERNARY	&&simd
#define WALK_LANE	&&simd
#define WALK_LOAD_LANE	&&simd
#define WALK_STORE_LANE	&&simd
JIT_OVERRIDES_BEGIN
	static const void *const dispatch[0x201] = {
		[0 ... 0x200] = &&misc,
#define OP(id, name, text, imm, lanes, sig, shape, access, traps) \
		[(id) < 0x200 ? (id) : 0x200] = WALK_##shape,
#include "jit/wasm_ops.def"
#undef OP
		/* The comparisons, unary and binary, to op_compare(). */
		[JIT_OP_I32_EQZ ... JIT_OP_F64_GE] = &&compare,
		[0xfc] = &&prefix_fc,
		[0xfd] = &&simd,
		[JIT_OP_I32_CONST] = &&i32_const,
		[JIT_OP_I64_CONST] = &&i64_const,
		[JIT_OP_F32_CONST] = &&f32_const,
		[JIT_OP_F64_CONST] = &&f64_const,
		[JIT_OP_UNREACHABLE] = &&unreachable,
		[JIT_OP_BLOCK] = &&block,
		[JIT_OP_LOOP] = &&block,
		[JIT_OP_IF] = &&block,
		[JIT_OP_ELSE] = &&else_,
		[JIT_OP_END] = &&end_,
		[JIT_OP_BR] = &&br,
		[JIT_OP_BR_IF] = &&br_if,
		[JIT_OP_BR_TABLE] = &&br_table,
		[JIT_OP_RETURN] = &&return_,
		[JIT_OP_CALL] = &&call,
		[JIT_OP_CALL_INDIRECT] = &&call_indirect,
		[JIT_OP_DROP] = &&drop,
		[JIT_OP_SELECT] = &&select,
		[JIT_OP_SELECT_T] = &&select_t,
		[JIT_OP_LOCAL_GET] = &&local_get,
		[JIT_OP_LOCAL_SET] = &&local_set,
		[JIT_OP_LOCAL_TEE] = &&local_tee,
		[JIT_OP_GLOBAL_GET] = &&global_get,
		[JIT_OP_GLOBAL_SET] = &&global_set,
		[JIT_OP_TABLE_GET] = &&table_access,
		[JIT_OP_TABLE_SET] = &&table_access,
		[JIT_OP_MEMORY_SIZE] = &&memory_size,
		[JIT_OP_MEMORY_GROW] = &&memory_grow,
		[JIT_OP_REF_NULL] = &&ref_null,
		[JIT_OP_REF_IS_NULL] = &&ref_is_null,
		[JIT_OP_REF_FUNC] = &&ref_func,
	};
JIT_OVERRIDES_END
#undef WALK_SPECIAL
#undef WALK_NOP
#undef WALK_CONST
#undef WALK_UNARY
#undef WALK_BINARY
#undef WALK_LOAD
#undef WALK_STORE
#undef WALK_MEMORY
#undef WALK_TERNARY
#undef WALK_LANE
#undef WALK_LOAD_LANE
#undef WALK_STORE_LANE
	unsigned op;
	uint32_t x, y;

/*
 * The next instruction.  Running out of memory or meeting what cannot be
 * compiled sets the buffer's flag: one test per instruction.  Code only
 * turns dead at br, br_table, return, unreachable and end, whose handlers
 * go to `dead` instead.  The empty asm, its text made unique by the line,
 * keeps GCC from merging the handlers' identical tails into a few shared
 * indirect jumps (cross-jumping), which would lose the prediction.
 */
#define LINE_TEXT(line)	#line
#define NEXT_AT(line) do {						\
	const void *handler_;						\
									\
	if (unlikely(c->buf.overflow))					\
		return false;						\
	op = *st->p++;							\
	handler_ = dispatch[op];					\
	__asm__ volatile("/* next " LINE_TEXT(line) " */"		\
	    : "+r"(handler_));						\
	goto *handler_;							\
} while (0)
#define NEXT()	NEXT_AT(__LINE__)

	NEXT();
unary:
	op_unary(c, op);
	NEXT();
binary:
	op_binary(c, st, op);
	NEXT();
compare:
	op_compare(c, st, op);
	NEXT();
load:
	get_u32(&st->p);
	op_load(c, st, op, get_u32(&st->p));
	NEXT();
store:
	get_u32(&st->p);
	op_store(c, op, get_u32(&st->p));
	NEXT();
nop:
	NEXT();
local_get:
	push_local(c, get_u32(&st->p));
	NEXT();
local_set:
	op_local_set(c, get_u32(&st->p), false);
	NEXT();
local_tee:
	op_local_set(c, get_u32(&st->p), true);
	NEXT();
global_get:
	op_global_get(c, get_u32(&st->p));
	NEXT();
global_set:
	op_global_set(c, get_u32(&st->p));
	NEXT();
i32_const:
	push_const(c, JIT_I32, (uint32_t)get_s64(&st->p));
	NEXT();
i64_const:
	push_const(c, JIT_I64, (uint64_t)get_s64(&st->p));
	NEXT();
f32_const:
	push_const(c, JIT_F32, get_le(&st->p, 4));
	NEXT();
f64_const:
	push_const(c, JIT_F64, get_le(&st->p, 8));
	NEXT();
block:	/* and loop and if */
	op_block(c, st, op);
	NEXT();
else_:
	op_else(c, st);
	NEXT();
end_:
	if (!op_end(c, st))
		return !c->oom && !c->buf.overflow;
	if (st->top->unreachable)
		goto dead;
	NEXT();
br:
	branch(c, st->nframes, get_u32(&st->p));
	goto dead;
br_if: {
	struct cond k = pop_cond(c);

	op_br_if(c, st, &k);
	NEXT();
}
br_table:
	op_br_table(c, st);
	goto dead;
return_:
	branch(c, st->nframes, st->nframes - 1);
	goto dead;
unreachable:
	jit_emit_trap_if(c, JIT_COND_ALWAYS, JIT_TRAP_UNREACHABLE);
	drop_to(c, st->top->height);
	st->top->unreachable = true;
	goto dead;
call:
	call_func(c, get_u32(&st->p));
	NEXT();
call_indirect:
	x = get_u32(&st->p);
	y = get_u32(&st->p);
	op_call_indirect(c, x, y);
	NEXT();
drop: {
	struct jit_cval v = pop(c);

	release(c, &v);
	NEXT();
}
select_t:
	x = get_u32(&st->p);	/* one type, validated */
	if (*st->p == JIT_V128) {
		c->unsupported = JIT_OP_V128_CONST;
		return false;
	}
	st->p += x;
	/* fall through */
select:
	op_select(c);
	NEXT();
table_access:	/* table.get and table.set */
	op_table_access(c, op, get_u32(&st->p));
	NEXT();
memory_size:
	st->p++;
	op_memory_size(c);
	NEXT();
memory_grow: {
	static const uint8_t i32 = JIT_I32;

	st->p++;
	call_runtime(c, jit_rt_memory_grow, &i32, 1, NULL, 0, true, false);
	NEXT();
}
ref_null:
	push_const(c, *st->p++, 0);
	NEXT();
ref_is_null: {
	struct cond k = pop_cond(c);
	struct jit_opnd one = { .kind = JIT_OPND_IMM, .imm = 1 };
	uint8_t dst;

	pin_cond(c, &k);
	dst = jit_ra_alloc(c, JIT_I32);
	/* "is null" is "not (v is not null)": set, then flip. */
	jit_emit_setcc(c, emit_cond(c, &k), dst);
	jit_emit_binop(c, JIT_OP_I32_XOR, dst, dst, &one);
	push_reg(c, JIT_I32, dst);
	NEXT();
}
ref_func: {
	uint8_t r = jit_ra_alloc(c, JIT_I64);

	jit_emit_vm_load(c, r, c->layout->funcs + 8 * get_u32(&st->p));
	push_reg(c, JIT_FUNCREF, r);
	NEXT();
}
prefix_fc:
	op = 0x100 + get_u32(&st->p);
	goto *dispatch[op];
misc:	/* bulk memory and the tables' 0xFC instructions */
	op_misc(c, st, op);
	NEXT();
simd:	/* the validator accepts it, the compiler does not yet */
	c->unsupported = 0x200 + get_u32(&st->p);
	return false;
dead:
	/* Up to the dead block's own else or end, which are compiled (a
	 * handler that failed may not have left its block dead). */
	if (unlikely(c->buf.overflow))
		return false;
	if (skip_dead(st) == JIT_OP_ELSE)
		goto else_;
	goto end_;
#undef NEXT
#undef NEXT_AT
#undef LINE_TEXT
}

/* Does the list of value types hold a v128? */
static bool has_v128(const uint8_t *types, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (types[i] == JIT_V128)
			return true;
	return false;
}

bool jit_compile_func(struct jit_cc *c, uint32_t func)
{
	const struct jit_wasm_func *fn = &c->m->funcs[func];
	struct jit_scratch *s = c->s;
	struct fstate st = {
		.nframes = 0, .p = fn->code, .end = fn->body + fn->body_len,
		.dead = { .m = (struct jit_wasm_module *)c->m, .err = &st.dead_err },
	};
	struct jit_cframe *f;
	uint32_t k;

	c->func = func;
	c->ft = &c->m->types[fn->type];
	c->nlocals = c->ft->nparams + fn->nlocals;
	c->nvals = 0;
	c->nrelocs = 0;
	c->nstubs = 0;
	c->out_bytes = 0;
	c->reg_free = jit_target_regs;
	for (unsigned r = 0; r < 64; r++)
		c->reg_owner[r] = NO_OWNER;
	if (!grow(c, (void **)&s->types, &s->types_cap, c->nlocals + 1, 1) ||
	    !grow(c, (void **)&s->homes, &s->homes_cap, c->nlocals + 1,
		  sizeof(struct jit_opnd)) ||
	    !grow(c, (void **)&s->vals, &s->vals_cap, fn->max_operands + 1,
		  sizeof(struct jit_cval)) ||
	    !grow(c, (void **)&s->patches, &s->patches_cap, 1, sizeof(uint32_t)))
		return false;
	if (!grow(c, (void **)&s->refs, &s->refs_cap, c->nlocals + 1, sizeof(uint32_t)))
		return false;
	kmemset(s->refs, 0, sizeof(uint32_t) * c->nlocals);
	c->refs = s->refs;
	c->reg_lo = c->local_lo = 0;
	c->vals = s->vals;
	c->local_home = s->homes;
	c->local_types = s->types;
	s->patches[0] = 0;

	/* The locals' types: params, then the declarations again (validated). */
	kmemcpy(c->local_types, c->ft->params, c->ft->nparams);
	k = c->ft->nparams;
	{
		const uint8_t *p = fn->body;
		uint32_t ngroups = get_u32(&p);

		for (uint32_t i = 0; i < ngroups; i++) {
			uint32_t n = get_u32(&p);

			kmemset(c->local_types + k, *p++, n);
			k += n;
		}
	}

	if (has_v128(c->local_types, c->nlocals)) {
		c->unsupported = JIT_OP_V128_CONST;
		return false;
	}
	/* The locals validation found busiest, as many as the target homes. */
	for (unsigned cls = 0; cls < 2; cls++) {
		c->nhot[cls] = (uint8_t)MIN(fn->nhot[cls], jit_target_homes[cls]);
		for (unsigned h = 0; h < c->nhot[cls]; h++)
			c->hot[cls][h] = fn->hot[cls][h];
	}
	c->uses_memory = fn->uses_memory;
	jit_emit_prologue(c);
	f = push_frame(c, &st, FRAME_FUNC);
	if (!f)
		return false;
	f->results = c->ft->results;
	f->nresults = c->ft->nresults;
	if (!compile_code(c, &st))
		return false;
	jit_emit_finish(c);
	return !c->oom && !c->buf.overflow;
}
