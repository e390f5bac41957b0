/*
 * native_main.c - the native side of a bench/run program, linked with it:
 *
 *   NAME N    calls run(N) once and prints "CHECKSUM SECONDS", the checksum
 *             as an unsigned decimal and the seconds the call took
 *
 * the same line bench/run_v8.mjs prints for the program's wasm build, so
 * bench_run reads both alike.  Only the call is timed, as under V8 and
 * k23sim: the engines' compile and instantiate are left out there too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"

uint64_t run(uint32_t n);

int main(int argc, char **argv)
{
	uint32_t n;
	uint64_t sum;
	double t0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 2;
	}
	n = (uint32_t)strtoul(argv[1], NULL, 0);
	t0 = bench_now_ns();
	sum = run(n);
	printf("%" PRIu64 " %.6f\n", sum, (bench_now_ns() - t0) / 1e9);
	return 0;
}
