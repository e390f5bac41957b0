/*
 * test_panic.c - a panic, an assertion or a kernel fault stops the machine
 * with the message, the hart and a backtrace through k23_panic.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../hosted/hosted.h"
#include "../kernel/klib.h"

struct outcome {
	int status;
	char out[16384];
};

/* Boot in a child with stdout captured; return how it ended and what it said. */
static void boot_child(struct outcome *o, unsigned harts, int (*body)(void *))
{
	int fds[2];
	pid_t pid;
	size_t len = 0;
	ssize_t n;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct hosted_config cfg;

		dup2(fds[1], 1);
		close(fds[0]);
		hosted_config_default(&cfg);
		cfg.harts = harts;
		cfg.memory = 16u << 20;
		_exit(hosted_run(&cfg, body, NULL));
	}
	close(fds[1]);
	while ((n = read(fds[0], o->out + len, sizeof(o->out) - 1 - len)) > 0)
		len += (size_t)n;
	o->out[len] = 0;
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &o->status, 0), pid);
}

static int panics(void *arg)
{
	(void)arg;
	k23_panic("test_panic: the %s is %d", "answer", 42);
}

Test(panic, prints_message_hart_and_backtrace)
{
	struct outcome o;

	boot_child(&o, 2, panics);
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
	struct outcome o;

	boot_child(&o, 1, asserts);
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
	struct outcome o;

	boot_child(&o, 2, faults);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 125, "status %#x", o.status);
	cr_assert(strstr(o.out, "unhandled load access fault"), "%s", o.out);
	cr_assert(strstr(o.out, "stval 0x10"), "%s", o.out);
	cr_assert(strstr(o.out, "faults"), "no faulting function in:\n%s", o.out);
}
