/*
 * test_thread_faults.c - a fault signal on a thread that is not a hart gets
 * the default action: it ends the process by that signal, there and then,
 * as it would without k23sim's handlers (issue 8, item 5).
 *
 * Each test boots a machine in a child process, where hart 0 starts a
 * plain thread that takes the signal.  Should the process outlive it,
 * hart 0 prints a line and faults itself, which traps and panics.  The
 * handler used to set SIG_DFL for the whole process and return: the plain
 * thread carried on after a raise(), and after its SIGSEGV the hart's
 * fault killed the process instead of trapping.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include "harness.h"

#define MEMORY		(16u << 20)
#define CARRIED_ON	"test_thread_faults: the plain thread carried on"

static int *volatile bad_pointer = (int *)16;
static int plain_signal;	/* what the plain thread raises; 0: it faults */

static void *plain_thread(void *arg)
{
	(void)arg;
	if (plain_signal)
		raise(plain_signal);
	else
		(void)*(volatile int *)bad_pointer;
	return NULL;
}

static int plain_thread_then_hart_fault(void *arg)
{
	struct rlimit no_core = { 0, 0 };
	pthread_t t;

	(void)arg;
	/* This child dies on purpose: no core file for it. */
	setrlimit(RLIMIT_CORE, &no_core);
	cr_assert_eq(pthread_create(&t, NULL, plain_thread, NULL), 0);
	pthread_join(t, NULL);
	printf("%s\n", CARRIED_ON);
	fflush(stdout);
	return *bad_pointer;
}

/* The plain thread raises `raised` (0: makes a memory fault); the process
 * must die of `sig` before the thread could carry on. */
static void expect_death_by(int raised, int sig)
{
	struct harness_outcome o;

	plain_signal = raised;
	harness_boot_child(&o, 2, MEMORY, plain_thread_then_hart_fault);
	cr_assert_null(strstr(o.out, CARRIED_ON), "the process outlived the plain thread's "
		       "signal %d and then ended with status %#x:\n%s", sig, o.status, o.out);
	cr_assert(WIFSIGNALED(o.status) && WTERMSIG(o.status) == sig,
		  "status %#x, not death by signal %d:\n%s", o.status, sig, o.out);
}

Test(thread_faults, raised_sigsegv_ends_the_process)
{
	expect_death_by(SIGSEGV, SIGSEGV);
}

Test(thread_faults, raised_sigtrap_ends_the_process)
{
	expect_death_by(SIGTRAP, SIGTRAP);
}

Test(thread_faults, memory_fault_ends_the_process)
{
	expect_death_by(0, SIGSEGV);
}
