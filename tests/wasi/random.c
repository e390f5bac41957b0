/*
 * random - random_get fills what it is given with bytes that look random:
 * two calls differ, nothing is left unwritten (a buffer pre-filled with
 * each of two patterns never keeps one), 64 KiB hold every byte value
 * with counts near the mean, a zero length succeeds, an odd address and
 * length work, and 1 MiB arrives in one call; getentropy() uses it.
 */
#include <stdlib.h>
#include <unistd.h>
#include "wasi_test.h"

#define BIG	(1u << 20)

static unsigned char a[256], b[256];
static unsigned char stats_buf[65536];

int main(void)
{
	unsigned counts[256] = { 0 };
	unsigned min = ~0u, max = 0, unwritten = 0;
	unsigned char *big;

	check_errno(__wasi_random_get(a, sizeof(a)), 0, "random_get 256 bytes");
	check_errno(__wasi_random_get(b, sizeof(b)), 0, "random_get 256 more");
	check(memcmp(a, b, sizeof(a)) != 0, "two calls give different bytes", "identical");

	/* A skipped byte keeps the pattern; a random one matches it once in
	 * 256, about 2 of these 512 bytes, so 16 is far beyond chance. */
	for (int round = 0; round < 2; round++) {
		memset(a, round ? 0xff : 0x00, sizeof(a));
		check_errno(__wasi_random_get(a, sizeof(a)), 0, "random_get over a pattern");
		for (size_t i = 0; i < sizeof(a); i++)
			unwritten += a[i] == (round ? 0xff : 0x00);
	}
	check(unwritten < 16, "every byte is written", "%u of 512 bytes kept their pattern", unwritten);

	check_errno(__wasi_random_get(stats_buf, sizeof(stats_buf)), 0, "random_get 64 KiB");
	for (size_t i = 0; i < sizeof(stats_buf); i++)
		counts[stats_buf[i]]++;
	for (int v = 0; v < 256; v++) {
		min = counts[v] < min ? counts[v] : min;
		max = counts[v] > max ? counts[v] : max;
	}
	/* Mean 256, sigma 16: 128 and 384 are eight sigmas away. */
	check(min > 128 && max < 384, "64 KiB cover every byte value evenly",
	      "counts from %u to %u (mean 256)", min, max);

	check_errno(__wasi_random_get(a, 0), 0, "random_get of 0 bytes");
	memset(a, 0, sizeof(a));
	check_errno(__wasi_random_get(a + 1, 13), 0, "random_get at an odd address");
	check(a[0] == 0 && a[14] == 0, "random_get writes only its range",
	      "a byte beside the range changed");

	big = malloc(BIG);
	check_errno(__wasi_random_get(big, BIG), 0, "random_get 1 MiB at once");
	free(big);

	memset(b, 0, sizeof(b));
	check(getentropy(b, sizeof(b)) == 0, "getentropy(256)", "failed");
	return test_status();
}
