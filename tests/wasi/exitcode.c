/*
 * exitcode - how a program ends becomes k23sim's exit status:
 *
 *	exitcode return N	return N from main (wasi-libc: proc_exit(N))
 *	exitcode exit N		exit(N) after buffered output, which is flushed
 *	exitcode proc_exit N	proc_exit(N) at once: buffered output is lost
 *	exitcode trap		an unreachable instruction: a trap, status 134
 *
 * Each prints a line on stdout and on stderr first.
 */
#include <stdlib.h>
#include <string.h>
#include "wasi_test.h"

__attribute__((noinline)) static void fall_into_a_trap(void)
{
	__builtin_trap();
}

int main(int argc, char **argv)
{
	int code = argc > 2 ? atoi(argv[2]) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s return|exit|proc_exit N | trap\n", argv[0]);
		return 2;
	}
	fprintf(stderr, "exitcode: %s %d\n", argv[1], code);
	printf("buffered line before %s\n", argv[1]);
	if (!strcmp(argv[1], "exit"))
		exit(code);
	if (!strcmp(argv[1], "proc_exit")) {
		/* Written out, then a line that stays in stdio's buffer. */
		fflush(stdout);
		printf("this line is never written\n");
		__wasi_proc_exit((__wasi_exitcode_t)code);
	}
	if (!strcmp(argv[1], "trap")) {
		fflush(stdout);
		fall_into_a_trap();
	}
	return code;
}
