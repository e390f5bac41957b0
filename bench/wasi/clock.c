/*
 * clock.c - the cost of one clock call: `clock N` reads the monotonic clock
 * N times in a loop and prints the nanoseconds per read.
 *
 * As wasm each read is one call of the WASI import clock_time_get, made
 * directly rather than through wasi-libc's clock_gettime, so nothing but
 * the call is timed; natively it is clock_gettime(CLOCK_MONOTONIC), which
 * bench_wasi reports beside it.  The loop times itself with the same clock.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static uint64_t now_ns(void)
{
#ifdef __wasi__
	__wasi_timestamp_t t;

	if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0)
		exit(1);
	return t;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	uint64_t t0, t1, last = 0;

	if (!n) {
		fprintf(stderr, "usage: clock N\n");
		return 2;
	}
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++) {
		uint64_t t = now_ns();

		/* A monotonic clock never goes back: checks every read. */
		if (t < last)
			return 1;
		last = t;
	}
	t1 = now_ns();
	printf("%.2f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
