/*
 * test_panic.c - a panic, an assertion or a kernel fault stops the machine
 * with the message, the hart and a backtrace through k23_panic.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "../kernel/klib.h"
#include "harness.h"

#define MEMORY (16u << 20)

static int panics(void *arg)
{
	(void)arg;
	k23_panic("test_panic: the %s is %d", "answer", 42);
}

Test(panic, prints_message_hart_and_backtrace)
{
	struct harness_outcome o;

	harness_boot_child(&o, 2, MEMORY, panics);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x", o.status);
	cr_assert(strstr(o.out, "panic: hart 0: test_panic: the answer is 42"), "%s", o.out);
	cr_assert(strstr(o.out, "backtrace:"), "%s", o.out);
	cr_assert(strstr(o.out, "k23_panic"), "no k23_panic frame in:\n%s", o.out);
	cr_assert(strstr(o.out, "panics"), "no caller frame in:\n%s", o.out);
}

static int asserts(void *arg)
{
	int x = 3;

	(void)arg;
	KASSERT(x == 4, "x is %d", x);
	return 0;
}

Test(panic, kassert_names_file_line_function_and_condition)
{
	struct harness_outcome o;

	harness_boot_child(&o, 1, MEMORY, asserts);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125);
	cr_assert(strstr(o.out, "test_panic.c:"), "%s", o.out);
	cr_assert(strstr(o.out, "asserts: assertion 'x == 4' failed: x is 3"), "%s", o.out);
}

static int *volatile bad_pointer = (int *)16;

static int faults(void *arg)
{
	(void)arg;
	return *bad_pointer;
}

Test(panic, kernel_fault_outside_windows_is_reported_not_a_crash)
{
	struct harness_outcome o;

	harness_boot_child(&o, 2, MEMORY, faults);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x", o.status);
	cr_assert(strstr(o.out, "unhandled load access fault"), "%s", o.out);
	cr_assert(strstr(o.out, "stval 0x10"), "%s", o.out);
	cr_assert(strstr(o.out, "faults"), "no faulting function in:\n%s", o.out);
}
