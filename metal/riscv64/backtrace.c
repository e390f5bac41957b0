/*
 * backtrace.c - frame-pointer backtraces with symbol names.
 *
 * The portable objects are built with frame pointers (the freestanding
 * flags), so every frame holds its return address at fp-8 and the
 * caller's fp at fp-16 (RISC-V psABI, "Frame Pointer Convention").  The
 * trap vector leaves such a record too, so a walk from inside
 * kernel_trap() continues into the trapped code.  Names come from
 * metal_ksyms, a table of the image's functions that the build generates
 * from a first link and places at the end of the second (kernel.ld).
 */
#include "../../kernel/klib.h"
#include "metal.h"

struct ksym {
	uint64_t addr;
	const char *name;
};
/* Sorted by address (ksyms.sh); empty in the first link. */
extern const struct ksym metal_ksyms[];
extern const uint64_t metal_ksyms_count;

static const struct ksym *lookup(uintptr_t pc)
{
	size_t lo = 0, hi = metal_ksyms_count;

	if (!hi || pc < metal_ksyms[0].addr)
		return NULL;
	while (hi - lo > 1) {		/* the last entry at or below pc */
		size_t mid = lo + (hi - lo) / 2;

		if (metal_ksyms[mid].addr <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return &metal_ksyms[lo];
}

/* A frame pointer whose record (the 16 bytes below it) we may read. */
static bool fp_ok(uintptr_t fp)
{
	return fp % 16 == 0 && metal_readable(fp - 16, 16);
}

static bool is_text(uintptr_t pc)
{
	return pc >= (uintptr_t)_kernel_start && pc < (uintptr_t)_text_end;
}

static void print_frame(int depth, uintptr_t pc, bool exact)
{
	const struct ksym *s = is_text(pc) ? lookup(pc - (exact ? 0 : 1)) : NULL;
	char line[160];
	int n;

	if (s)
		n = ksnprintf(line, sizeof(line), "  #%-2d %#018lx %s+%#lx\n", depth,
			      (unsigned long)pc, s->name, (unsigned long)(pc - s->addr));
	else
		n = ksnprintf(line, sizeof(line), "  #%-2d %#018lx ??\n", depth, (unsigned long)pc);
	hal_console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

/*
 * Walk from a frame: fp is its frame pointer, pc where it is.  A frame
 * record whose return address is in the trap vector is a trap frame: the
 * walk goes on at the trapped pc with the trapped registers, which also
 * covers a trapped leaf function (its record holds only the caller's fp,
 * its return address is still in ra).
 */
void metal_backtrace_from(uintptr_t fp, uintptr_t pc)
{
	const struct metal_regs *regs = NULL;
	bool exact = true;

	hal_console_write("backtrace:\n", 11);
	for (int depth = 0; depth < 48 && pc; depth++) {
		const uintptr_t *rec = (const uintptr_t *)fp;
		const struct ksym *s;

		print_frame(depth, pc, exact);
		exact = false;
		if (!fp_ok(fp))
			break;
		if (regs && !is_text(rec[-1]) && fp_ok(rec[-1]) && rec[-1] > fp) {
			/* The trapped function is a leaf. */
			pc = regs->x[1];
			fp = rec[-1];
			regs = NULL;
			continue;
		}
		regs = NULL;
		pc = rec[-1];
		if (rec[-2] <= fp)	/* frames lie above their callees' */
			break;
		fp = rec[-2];
		s = is_text(pc) ? lookup(pc - 1) : NULL;
		if (s && s->addr == (uintptr_t)metal_trap_vector) {
			print_frame(++depth, pc, false);
			regs = (const struct metal_regs *)(fp - METAL_REGS_SIZE);
			if (!metal_readable((uintptr_t)regs, 8) ||
			    !metal_readable((uintptr_t)&regs->sepc, 8) ||
			    !metal_readable((uintptr_t)&regs->frame_ra, 8))
				break;
			pc = regs->sepc;
			fp = regs->x[8];
			exact = true;
		}
	}
}

/*
 * Starts at the caller's frame.  The empty asm after the call keeps it
 * from being a tail call, so this function has a frame record of its own
 * (a leaf function's RISC-V frame holds fp alone, no return address).
 */
__attribute__((noinline)) void hal_backtrace(void)
{
	const uintptr_t *fp = __builtin_frame_address(0);

	metal_backtrace_from(fp[-2], fp[-1]);
	__asm__ volatile("");
}
