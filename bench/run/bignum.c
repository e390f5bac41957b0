/*
 * bignum - 64-bit integer work: n rounds of schoolbook multiplication of
 * two 256-limb numbers (32-bit limbs, 64-bit products and carries), each
 * round's product feeding the next round's factors.
 */
#include <stdint.h>

#define LIMBS	256

static uint32_t a[LIMBS], b[LIMBS], prod[2 * LIMBS];

uint64_t run(uint32_t n)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull, sum = 0;

	for (uint32_t i = 0; i < LIMBS; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		a[i] = (uint32_t)(seed >> 32);
		b[i] = (uint32_t)seed;
	}
	for (uint32_t r = 0; r < n; r++) {
		for (uint32_t i = 0; i < 2 * LIMBS; i++)
			prod[i] = 0;
		for (uint32_t i = 0; i < LIMBS; i++) {
			uint64_t carry = 0;

			for (uint32_t j = 0; j < LIMBS; j++) {
				uint64_t t = (uint64_t)a[i] * b[j] + prod[i + j] + carry;

				prod[i + j] = (uint32_t)t;
				carry = t >> 32;
			}
			prod[i + LIMBS] = (uint32_t)carry;
		}
		/* The low half is nearly uniform; the high half's top limbs
		 * shrink, so or in 1 to keep b odd and the chain from dying. */
		for (uint32_t i = 0; i < LIMBS; i++) {
			a[i] = prod[i] ^ r;
			b[i] = prod[LIMBS + i] | 1;
		}
		sum = (sum ^ ((uint64_t)prod[LIMBS] << 32 | prod[LIMBS - 1])) * 0x100000001b3ull;
	}
	return sum;
}
