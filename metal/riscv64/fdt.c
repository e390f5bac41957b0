/*
 * fdt.c - the flattened device tree reader (fdt.h).
 *
 * One pass over the structure block.  Properties precede subnodes in every
 * node (DT spec 5.4.1), so a node's #address-cells/#size-cells are known
 * before its children's reg is read; a node's own reg, compatible and so on
 * are kept as (offset, length) pairs and interpreted at its FDT_END_NODE,
 * when all of its properties have been seen.
 */
#include "fdt.h"
#include "../../kernel/klib.h"

#define FDT_MAGIC	0xd00dfeedu
#define FDT_BEGIN_NODE	1u
#define FDT_END_NODE	2u
#define FDT_PROP	3u
#define FDT_NOP		4u
#define FDT_END		9u
#define FDT_HEADER_SIZE	40u
#define FDT_MAX_DEPTH	16

/* What one open node has shown so far (offsets into the blob; 0: absent). */
struct node {
	uint32_t name, name_len;
	uint32_t reg, reg_len;
	uint32_t compat, compat_len;
	uint32_t status, status_len;
	uint32_t dtype, dtype_len;
	uint32_t mmu, mmu_len;
	uint32_t shift, shift_len;
	uint32_t tb, tb_len;
	uint32_t addr_cells, size_cells;	/* for this node's children */
	bool in_cpus, in_resv;			/* child of /cpus, /reserved-memory */
};

struct parser {
	const uint8_t *b;
	uint32_t size;			/* totalsize */
	uint32_t st_off, st_size;	/* structure block */
	uint32_t str_off, str_size;	/* strings block */
	struct fdt_info *info;
	struct node stack[FDT_MAX_DEPTH];
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The first error sticks: later ones are its consequences. */
static int fail(struct parser *ps, uint32_t off, const char *why)
{
	if (!ps->info->error) {
		ps->info->error = why;
		ps->info->error_offset = off;
	}
	return -1;
}

/* A value of `cells` 32-bit cells (1 or 2) at p. */
static uint64_t cells_value(const uint8_t *p, uint32_t cells)
{
	return cells == 2 ? be64(p) : be32(p);
}

static bool str_eq(const struct parser *ps, uint32_t off, uint32_t len, const char *s)
{
	size_t n = kstrlen(s);

	return len == n + 1 && kmemcmp(ps->b + off, s, n) == 0 && ps->b[off + n] == 0;
}

/* Is s one of the NUL-separated strings of a property (a compatible list)? */
static bool list_has(const struct parser *ps, uint32_t off, uint32_t len, const char *s)
{
	size_t n = kstrlen(s);
	uint32_t i = 0;

	while (i < len) {
		uint32_t j = i;

		while (j < len && ps->b[off + j])
			j++;
		if (j - i == n && kmemcmp(ps->b + off + i, s, n) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

/* A node name without its unit address ("memory@80000000" -> "memory"). */
static bool name_is(const struct parser *ps, const struct node *n, const char *s)
{
	size_t len = kstrlen(s);

	return n->name_len >= len && kmemcmp(ps->b + n->name, s, len) == 0 &&
	       (n->name_len == len || ps->b[n->name + len] == '@');
}

/* The i-th (address, size) pair of a node's reg, with the parent's cells. */
static int reg_pair(struct parser *ps, const struct node *n, const struct node *parent,
		    uint32_t i, uint64_t *addr, uint64_t *size)
{
	uint32_t ac = parent->addr_cells, sc = parent->size_cells;
	uint32_t stride = 4 * (ac + sc);

	if (ac < 1 || ac > 2 || sc > 2)
		return fail(ps, n->reg, "unsupported #address-cells/#size-cells");
	if (n->reg_len % stride)
		return fail(ps, n->reg, "reg length is not a whole number of entries");
	if ((i + 1) * stride > n->reg_len)
		return 1;	/* no such entry */
	*addr = cells_value(ps->b + n->reg + i * stride, ac);
	*size = sc ? cells_value(ps->b + n->reg + i * stride + 4 * ac, sc) : 0;
	return 0;
}

static int add_region(struct parser *ps, struct hal_mem_region *list, unsigned *count,
		      unsigned max, uint64_t base, uint64_t size, uint32_t off)
{
	if (size == 0)
		return 0;
	if (base + size < base)
		return fail(ps, off, "region wraps around the address space");
	if (*count == max)
		return fail(ps, off, "too many memory regions");
	list[*count].base = base;
	list[*count].size = size;
	(*count)++;
	return 0;
}

static bool enabled(const struct parser *ps, const struct node *n)
{
	return !n->status || str_eq(ps, n->status, n->status_len, "okay") ||
	       str_eq(ps, n->status, n->status_len, "ok");
}

/* A u32 (or u64) property such as timebase-frequency. */
static int prop_uint(struct parser *ps, uint32_t off, uint32_t len, uint64_t *v)
{
	if (len == 4)
		*v = be32(ps->b + off);
	else if (len == 8)
		*v = be64(ps->b + off);
	else
		return fail(ps, off, "integer property of bad length");
	return 0;
}

/* A node's properties are all known: record what it describes. */
static int node_done(struct parser *ps, struct node *n, struct node *parent, unsigned depth)
{
	struct fdt_info *info = ps->info;
	uint64_t addr, size;
	int r = 0;

	if (depth == 1 && (name_is(ps, n, "memory") ||
			   (n->dtype && str_eq(ps, n->dtype, n->dtype_len, "memory")))) {
		for (uint32_t i = 0; n->reg && (r = reg_pair(ps, n, parent, i, &addr, &size)) == 0; i++)
			if (add_region(ps, info->ram, &info->nram, FDT_MAX_RAM, addr, size, n->reg) < 0)
				return -1;
		return n->reg && r < 0 ? -1 : 0;
	}
	if (n->in_resv && n->reg) {
		for (uint32_t i = 0; (r = reg_pair(ps, n, parent, i, &addr, &size)) == 0; i++)
			if (add_region(ps, info->reserved, &info->nreserved, FDT_MAX_RESERVED,
				       addr, size, n->reg) < 0)
				return -1;
		return r < 0 ? -1 : 0;
	}
	if (n->in_cpus && n->dtype && str_eq(ps, n->dtype, n->dtype_len, "cpu")) {
		unsigned mode = 0;

		if (!n->reg || reg_pair(ps, n, parent, 0, &addr, &size) != 0)
			return fail(ps, n->name, "cpu node without a hart id");
		if (!enabled(ps, n))
			return 0;
		if (info->nharts == HAL_MAX_HARTS)
			return fail(ps, n->name, "more harts than the kernel supports");
		info->hartids[info->nharts++] = addr;
		if (n->mmu) {
			mode = str_eq(ps, n->mmu, n->mmu_len, "riscv,sv39") ? 8 :
			       str_eq(ps, n->mmu, n->mmu_len, "riscv,sv48") ? 9 :
			       str_eq(ps, n->mmu, n->mmu_len, "riscv,sv57") ? 10 : 0;
		}
		/* The best mode every hart has. */
		if (info->nharts == 1 || mode < info->max_paging)
			info->max_paging = mode;
		if (n->tb && !info->timebase_hz)
			return prop_uint(ps, n->tb, n->tb_len, &info->timebase_hz);
		return 0;
	}
	if (!n->compat || !enabled(ps, n))
		return 0;
	if (!info->uart_base && (list_has(ps, n->compat, n->compat_len, "ns16550a") ||
				 list_has(ps, n->compat, n->compat_len, "ns16550"))) {
		uint64_t shift = 0;

		if (!n->reg || reg_pair(ps, n, parent, 0, &addr, &size) != 0)
			return fail(ps, n->name, "uart without reg");
		if (n->shift && prop_uint(ps, n->shift, n->shift_len, &shift) < 0)
			return -1;
		if (shift > 3)
			return fail(ps, n->shift, "uart reg-shift out of range");
		info->uart_base = addr;
		info->uart_shift = (unsigned)shift;
	} else if (!info->test_base && (list_has(ps, n->compat, n->compat_len, "sifive,test0") ||
					list_has(ps, n->compat, n->compat_len, "sifive,test1"))) {
		if (!n->reg || reg_pair(ps, n, parent, 0, &addr, &size) != 0)
			return fail(ps, n->name, "test device without reg");
		info->test_base = addr;
	} else if (!info->rtc_base && list_has(ps, n->compat, n->compat_len, "google,goldfish-rtc")) {
		if (!n->reg || reg_pair(ps, n, parent, 0, &addr, &size) != 0)
			return fail(ps, n->name, "rtc without reg");
		info->rtc_base = addr;
	} else if (!info->plic_base && (list_has(ps, n->compat, n->compat_len, "riscv,plic0") ||
					list_has(ps, n->compat, n->compat_len, "sifive,plic-1.0.0"))) {
		if (!n->reg || reg_pair(ps, n, parent, 0, &addr, &size) != 0)
			return fail(ps, n->name, "plic without reg");
		info->plic_base = addr;
		info->plic_size = size;
	}
	return 0;
}

/* One property of node n (the innermost open node) at depth. */
static int prop(struct parser *ps, struct node *n, unsigned depth, uint32_t name_off,
		uint32_t val, uint32_t len)
{
	const char *name;
	uint32_t end;

	if (name_off >= ps->str_size)
		return fail(ps, val - 8, "property name outside the strings block");
	/* The name must end inside the strings block. */
	for (end = name_off; end < ps->str_size && ps->b[ps->str_off + end]; end++)
		;
	if (end == ps->str_size)
		return fail(ps, val - 8, "property name not terminated");
	name = (const char *)ps->b + ps->str_off + name_off;

#define IS(s) (kstrcmp(name, s) == 0)
	if (IS("#address-cells") || IS("#size-cells")) {
		if (len != 4)
			return fail(ps, val, "#cells property of bad length");
		if (IS("#address-cells"))
			n->addr_cells = be32(ps->b + val);
		else
			n->size_cells = be32(ps->b + val);
	} else if (IS("reg")) {
		n->reg = val, n->reg_len = len;
	} else if (IS("compatible")) {
		n->compat = val, n->compat_len = len;
	} else if (IS("status")) {
		n->status = val, n->status_len = len;
	} else if (IS("device_type")) {
		n->dtype = val, n->dtype_len = len;
	} else if (IS("mmu-type")) {
		n->mmu = val, n->mmu_len = len;
	} else if (IS("reg-shift")) {
		n->shift = val, n->shift_len = len;
	} else if (IS("timebase-frequency")) {
		if (n->in_cpus)
			n->tb = val, n->tb_len = len;
		else if (depth == 2 && name_is(ps, n, "cpus") &&
			 prop_uint(ps, val, len, &ps->info->timebase_hz) < 0)
			return -1;
	} else if (IS("bootargs") && depth == 2 && name_is(ps, n, "chosen")) {
		uint32_t i;

		/* Copied up to its NUL or the buffer's end, never past len. */
		for (i = 0; i < len && i < FDT_MAX_BOOTARGS - 1 && ps->b[val + i]; i++)
			ps->info->bootargs[i] = (char)ps->b[val + i];
		ps->info->bootargs[i] = 0;
	}
#undef IS
	return 0;
}

static int walk(struct parser *ps)
{
	uint32_t off = ps->st_off, end = ps->st_off + ps->st_size;
	unsigned depth = 0;
	bool root_seen = false;

	for (;;) {
		uint32_t tok, tok_off = off;

		if (end - off < 4)
			return fail(ps, off, "structure block ends without FDT_END");
		tok = be32(ps->b + off);
		off += 4;
		switch (tok) {
		case FDT_BEGIN_NODE: {
			struct node *n;
			uint32_t name = off;

			if (depth == 0 && root_seen)
				return fail(ps, tok_off, "second root node");
			if (depth == FDT_MAX_DEPTH)
				return fail(ps, tok_off, "nodes nested too deeply");
			while (off < end && ps->b[off])
				off++;
			if (off == end)
				return fail(ps, name, "node name runs off the structure block");
			n = &ps->stack[depth];
			kmemset(n, 0, sizeof(*n));
			n->name = name;
			n->name_len = off - name;
			/* DT spec 2.3.5: 2 and 1 when a parent does not say. */
			n->addr_cells = 2;
			n->size_cells = 1;
			if (depth >= 2) {
				struct node *parent = &ps->stack[depth - 1];

				n->in_cpus = depth == 2 && name_is(ps, parent, "cpus");
				n->in_resv = depth == 2 && name_is(ps, parent, "reserved-memory");
			}
			off = ALIGN_UP(off + 1, 4u);
			if (off > end)
				return fail(ps, name, "node name runs off the structure block");
			depth++;
			root_seen = true;
			break;
		}
		case FDT_END_NODE:
			if (depth == 0)
				return fail(ps, tok_off, "FDT_END_NODE without a node");
			depth--;
			if (depth > 0 &&
			    node_done(ps, &ps->stack[depth], &ps->stack[depth - 1], depth) < 0)
				return -1;
			break;
		case FDT_PROP: {
			uint32_t len, name_off;

			if (depth == 0)
				return fail(ps, tok_off, "property outside any node");
			if (end - off < 8)
				return fail(ps, tok_off, "property header runs off the structure block");
			len = be32(ps->b + off);
			name_off = be32(ps->b + off + 4);
			off += 8;
			if (len > end - off)
				return fail(ps, tok_off, "property value runs off the structure block");
			if (prop(ps, &ps->stack[depth - 1], depth, name_off, off, len) < 0)
				return -1;
			off = ALIGN_UP(off + len, 4u);
			if (off > end)
				return fail(ps, tok_off, "property value runs off the structure block");
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			if (depth != 0 || !root_seen)
				return fail(ps, tok_off, "FDT_END inside an open node");
			return 0;
		default:
			return fail(ps, tok_off, "unknown token in the structure block");
		}
	}
}

/* The memory reservation block: (address, size) pairs up to a zero pair. */
static int memreserve(struct parser *ps, uint32_t off)
{
	for (;;) {
		uint64_t addr, size;

		if (off > ps->size || ps->size - off < 16)
			return fail(ps, off, "memory reservation block runs off the blob");
		addr = be64(ps->b + off);
		size = be64(ps->b + off + 8);
		if (!addr && !size)
			return 0;
		if (add_region(ps, ps->info->reserved, &ps->info->nreserved,
			       FDT_MAX_RESERVED, addr, size, off) < 0)
			return -1;
		off += 16;
	}
}

int fdt_parse(const void *fdt, size_t max_len, struct fdt_info *info)
{
	struct parser ps = { .b = fdt, .info = info };
	uint32_t rsv;

	kmemset(info, 0, sizeof(*info));
	if (max_len < FDT_HEADER_SIZE)
		return fail(&ps, 0, "no room for a header");
	if (be32(ps.b) != FDT_MAGIC)
		return fail(&ps, 0, "bad magic");
	ps.size = be32(ps.b + 4);
	ps.st_off = be32(ps.b + 8);
	ps.str_off = be32(ps.b + 12);
	rsv = be32(ps.b + 16);
	ps.str_size = be32(ps.b + 32);
	ps.st_size = be32(ps.b + 36);
	if (ps.size < FDT_HEADER_SIZE || ps.size > max_len)
		return fail(&ps, 4, "totalsize out of range");
	/* Version 17 has size_dt_struct; 16 is accepted by the spec's
	 * last_comp_version rule. */
	if (be32(ps.b + 20) < 17 || be32(ps.b + 24) > 17)
		return fail(&ps, 20, "unsupported version");
	if (ps.str_off > ps.size || ps.str_size > ps.size - ps.str_off)
		return fail(&ps, 12, "strings block outside the blob");
	if (rsv % 8)
		return fail(&ps, 16, "misaligned memory reservation block");
	if (ps.st_off % 4 || ps.st_off > ps.size)
		return fail(&ps, 8, "structure block outside the blob");
	/*
	 * A structure block that is misaligned or longer than the blob is an
	 * error, but the walk still runs over the part inside the blob: the
	 * console and exit device it may find there are how the error gets
	 * reported (fdt.h).  Everything read stays bounds-checked.
	 */
	if (ps.st_size % 4)
		fail(&ps, 36, "structure block size not a multiple of 4");
	if (ps.st_size > ps.size - ps.st_off)
		fail(&ps, 36, "structure block runs past the end of the blob");
	ps.st_size = ALIGN_DOWN(MIN(ps.st_size, ps.size - ps.st_off), 4u);
	memreserve(&ps, rsv);
	walk(&ps);
	if (info->error)
		return -1;
	if (!info->nram)
		return fail(&ps, ps.st_off, "no memory node");
	if (!info->nharts)
		return fail(&ps, ps.st_off, "no cpu node");
	if (!info->timebase_hz)
		return fail(&ps, ps.st_off, "no timebase-frequency");
	return 0;
}
