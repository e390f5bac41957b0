/*
 * hash - 32-bit hashing: n rounds of an xxHash32-style four-lane hash and
 * FNV-1a over a 64 KiB buffer (it stays in cache: the work is multiply,
 * rotate and xor).  Each round writes its hash into the buffer, so the
 * next round hashes different bytes.
 */
#include <stdint.h>

#define BYTES	(1u << 16)
#define P1	2654435761u
#define P2	2246822519u
#define P3	3266489917u

static uint32_t words[BYTES / 4];

static uint32_t rotl(uint32_t x, int k)
{
	return x << k | x >> (32 - k);
}

static uint32_t lanes(const uint32_t *w, uint32_t count, uint32_t seed)
{
	uint32_t v[4] = { seed + P1 + P2, seed + P2, seed, seed - P1 };
	uint32_t h;

	for (uint32_t i = 0; i < count; i += 4)
		for (int l = 0; l < 4; l++)
			v[l] = rotl(v[l] + w[i + l] * P2, 13) * P1;
	h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
	h ^= h >> 15;
	h *= P2;
	h ^= h >> 13;
	h *= P3;
	return h ^ h >> 16;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

uint64_t run(uint32_t n)
{
	uint32_t x = 7;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < BYTES / 4; i++) {
		x = x * 1664525 + 1013904223;
		words[i] = x;
	}
	for (uint32_t r = 0; r < n; r++) {
		uint32_t h = lanes(words, BYTES / 4, r);
		uint32_t f = fnv1a((const uint8_t *)words, BYTES);

		words[(r * 4099) % (BYTES / 4)] ^= h ^ f;
		sum = sum * 0x100000001b3ull + ((uint64_t)h << 32 | f);
	}
	return sum;
}
