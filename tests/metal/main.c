/*
 * main.c - the program of the metal test image (build/metal/k23-test.elf):
 * the kernel boots as usual and its init task runs the one case named by
 * the boot argument case=NAME, then shuts down with status 0 when it
 * passed.  Each case gets a freshly booted kernel, as each gets a fresh
 * process on the other platforms.  case=list prints every name; case=crash
 * and case=overflow fault on purpose (the panic tests); case=bench times context switches
 * (bench/bench_metal.c).
 *
 * Output, parsed by tests/metal/run.sh:
 *   case NAME: ok
 *   case NAME: FAILED
 * with the failed check on the lines before.
 *
 * The cases: the scheduler's shared cases (tests/cross/sched_cases.c) and
 * the metal checks of the frame allocator, the heap and the page tables
 * against the real MMU (mm_cases.c).
 */
#include "../../kernel/klib.h"
#include "../../kernel/log.h"
#include "../../sched/sched.h"
#include "../../metal/riscv64/metal.h"
#include "../cross/sched_cases.h"
#include "bench.h"
#include "mm_cases.h"

struct test_case {
	const char *name;
	int (*fn)(void);
};

static const struct test_case cases[] = {
#define SCHED_ENTRY(name) { #name, sched_case_##name },
	SCHED_CASES(SCHED_ENTRY)
#undef SCHED_ENTRY
#define MM_ENTRY(name) { #name, mm_case_##name },
	MM_CASES(MM_ENTRY)
#undef MM_ENTRY
};

static char wanted[64];

void sched_case_fail(const char *file, int line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("  %s:%d: %s\n", file, line, buf);
}

/* case=crash: a store to an unmapped kernel address, which the kernel
 * cannot resolve: the host expects the panic and its backtrace. */
static __attribute__((noinline)) void crash_in_a_named_function(void)
{
	static volatile uintptr_t where = 16;	/* hidden from the optimiser */

	*(volatile uint64_t *)where = 1;
	__asm__ volatile("");
}

/* case=overflow: a task that recurses until its stack's guard page (the
 * limit is never reached; it hides the recursion from the compiler). */
static volatile unsigned recursion_limit = ~0u;

static __attribute__((noinline)) unsigned recurse_deep(unsigned depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth == recursion_limit)
		return 0;
	return recurse_deep(depth + 1) + pad[0];
}

static intptr_t overflowing_task(void *arg)
{
	(void)arg;
	return recurse_deep(0);
}

static intptr_t crashing_task(void *arg)
{
	(void)arg;
	crash_in_a_named_function();
	return 0;
}

static int run(void *arg)
{
	(void)arg;
	if (!kstrcmp(wanted, "bench"))
		return metal_bench_switch();
	if (!kstrcmp(wanted, "overflow")) {
		sched_task_t t;

		if (sched_spawn(&t, overflowing_task, NULL, NULL) == 0)
			sched_join(t, NULL);
		return 3;
	}
	if (!kstrcmp(wanted, "crash")) {
		/* In a task: its stack is in the stack space's window. */
		sched_task_t t;

		if (sched_spawn(&t, crashing_task, NULL, NULL) == 0)
			sched_join(t, NULL);
		return 3;
	}
	if (!kstrcmp(wanted, "list")) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
			kprintf("case-list: %s\n", cases[i].name);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (kstrcmp(wanted, cases[i].name))
			continue;
		int failed = cases[i].fn() != 0;

		kprintf("case %s: %s\n", cases[i].name, failed ? "FAILED" : "ok");
		return failed;
	}
	kprintf("metal-test: no case named '%s' (case=list shows them)\n", wanted);
	return 2;
}

void metal_program_setup(struct hal_boot_info *info, const char *bootargs)
{
	const char *p = bootargs;
	size_t n = 0;

	/* case=NAME, anywhere among the boot arguments. */
	for (; *p; p++)
		if ((p == bootargs || p[-1] == ' ') && !kstrncmp(p, "case=", 5))
			break;
	if (*p)
		for (p += 5; *p && *p != ' ' && n + 1 < sizeof(wanted); p++)
			wanted[n++] = *p;
	wanted[n] = 0;
	info->selfcheck = false;
	info->quiet = true;
	info->init = run;
}
