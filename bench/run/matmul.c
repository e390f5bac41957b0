/*
 * matmul - double precision over arrays: n products of two 128x128 f64
 * matrices (384 KiB in all), one entry of b changing between rounds.  Each
 * entry is a dot product of a row of a and a row of b transposed: an
 * ordered f64 sum, which gcc -O2 may not vectorize (that would reorder the
 * additions), so the native side does the same scalar work as wasm.  The
 * checksum is the bit pattern of the sum of every product's diagonal and
 * one varying entry.
 */
#include <stdint.h>

#define N	128

static double a[N][N], bt[N][N], c[N][N];	/* bt[j][k] is b[k][j] */

uint64_t run(uint32_t n)
{
	union { double d; uint64_t u; } sum = { 0 };
	uint32_t seed = 12345;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			seed = seed * 1664525 + 1013904223;
			a[i][j] = (double)(seed >> 8) / (1 << 24);
			seed = seed * 1664525 + 1013904223;
			bt[i][j] = (double)(seed >> 8) / (1 << 24) - 0.5;
		}
	for (uint32_t r = 0; r < n; r++) {
		bt[r % N][(r * 7) % N] += 1.0;
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				double dot = 0;

				for (int k = 0; k < N; k++)
					dot += a[i][k] * bt[j][k];
				c[i][j] = dot;
			}
		for (int i = 0; i < N; i++)
			sum.d += c[i][i];
		sum.d += c[(r * 5) % N][(r * 3) % N];
	}
	return sum.u;
}
