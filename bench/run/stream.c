/*
 * stream - memory streaming: n passes over two 2 MiB arrays of 64-bit
 * words (more than the L2 cache), each pass reading one array and writing
 * the other, then the two swap roles.  Not a plain copy, so no compiler
 * turns it into a library memcpy.
 */
#include <stdint.h>

#define WORDS	(1u << 18)

static uint64_t buf[2][WORDS];

uint64_t run(uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < WORDS; i++)
		buf[0][i] = i * 0x9e3779b97f4a7c15ull;
	for (uint32_t r = 0; r < n; r++) {
		const uint64_t *src = buf[r & 1];
		uint64_t *dst = buf[~r & 1];

		for (uint32_t i = 0; i < WORDS; i++) {
			uint64_t v = src[i];

			dst[i] = v + r;
			sum += v;
		}
	}
	return sum;
}
