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

/* A frame pointer we may read: 16-byte aligned inside the direct map. */
static bool fp_ok(uintptr_t fp)
{
	return fp % 16 == 0 && fp >= (uintptr_t)_kernel_start &&
	       fp < METAL_KOFF + ((uint64_t)METAL_DIRECT_GB << 30);
}

void metal_backtrace_from(uintptr_t fp, uintptr_t pc)
{
	char line[160];

	hal_console_write("backtrace:\n", 11);
	for (int depth = 0; depth < 48 && pc; depth++) {
		const struct ksym *s = lookup(pc - (depth ? 1 : 0));
		int n;

		if (s && pc < (uintptr_t)_text_end)
			n = ksnprintf(line, sizeof(line), "  #%-2d %#018lx %s+%#lx\n", depth,
				      (unsigned long)pc, s->name, (unsigned long)(pc - s->addr));
		else
			n = ksnprintf(line, sizeof(line), "  #%-2d %#018lx ??\n", depth,
				      (unsigned long)pc);
		hal_console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
		if (!fp_ok(fp))
			break;
		pc = ((const uintptr_t *)fp)[-1];
		/* Frames lie above their callees' on one stack. */
		if (((const uintptr_t *)fp)[-2] <= fp)
			break;
		fp = ((const uintptr_t *)fp)[-2];
	}
}

void hal_backtrace(void)
{
	metal_backtrace_from((uintptr_t)__builtin_frame_address(0), (uintptr_t)&hal_backtrace);
}
