/*
 * hello - the smallest WASI program: one line on stdout, exit status 0.
 *
 *	./k23sim build/examples/hello.wasm [NAME]
 *
 * It is what `make run` runs: printf goes through wasi-libc's stdio to
 * fd_write on fd 1, and returning from main ends in proc_exit(0).
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	const char *who = argc > 1 ? argv[1] : "world";

	printf("Hello, %s! (from WebAssembly, through WASI)\n", who);
	return 0;
}
