/*
 * sieve - 32-bit integer work and byte stores: n rounds of the sieve of
 * Eratosthenes over a 1 MiB table.  Each round's limit differs, so no
 * compiler can prove two rounds alike and skip one.
 */
#include <stdint.h>

#define LIMIT	(1u << 20)
#define ROOT	(1u << 10)	/* sqrt(LIMIT): larger primes mark nothing */

static uint8_t composite[LIMIT];

uint64_t run(uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t r = 0; r < n; r++) {
		uint32_t limit = LIMIT - (r & 1023), count = 0;

		for (uint32_t i = 0; i < limit; i++)
			composite[i] = 0;
		for (uint32_t i = 2; i < limit; i++) {
			if (composite[i])
				continue;
			count++;
			sum += i;
			if (i < ROOT)
				for (uint32_t j = i * i; j < limit; j += i)
					composite[j] = 1;
		}
		sum = sum * 31 + count;
	}
	return sum;
}
