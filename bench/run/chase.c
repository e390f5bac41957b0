/*
 * chase - random access: n million dependent loads and stores at random
 * places in a 4 MiB table (more than the L2 cache).  The next index mixes
 * an LCG with the value just loaded, so each access waits for the last one,
 * as in pointer chasing.
 */
#include <stdint.h>

#define SLOTS	(1u << 20)

static uint32_t table[SLOTS];

uint64_t run(uint32_t n)
{
	uint32_t x = 1, i = 0;
	uint64_t sum = 0;

	for (uint32_t s = 0; s < SLOTS; s++)
		table[s] = s * 2654435761u;
	for (uint64_t step = 0; step < (uint64_t)n * 1000000; step++) {
		uint32_t v = table[i];

		table[i] = v + x;
		sum += v;
		x = x * 1664525 + 1013904223;
		i = (x ^ v) & (SLOTS - 1);
	}
	return sum ^ x;
}
