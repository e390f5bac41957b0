/*
 * hello.c - the smallest WASI command: bench_wasi times it from process
 * start to exit under k23sim and node, and built natively.
 */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 0;
}
