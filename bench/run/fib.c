/*
 * fib - calls: doubly recursive Fibonacci, so the time goes into calls,
 * returns and frame set-up rather than arithmetic.  run(n) = fib(n).
 */
#include <stdint.h>

static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint64_t run(uint32_t n)
{
	return fib(n);
}
