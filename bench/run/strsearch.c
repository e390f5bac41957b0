/*
 * strsearch - byte loads and unpredictable branches: n searches, each
 * counting every occurrence of a 6-13 byte pattern (cut from the text, so
 * it occurs at least once) in 256 KiB of text over a four-letter alphabet,
 * comparing naively from each position.
 */
#include <stdint.h>

#define TEXT	(1u << 18)

static uint8_t text[TEXT];

uint64_t run(uint32_t n)
{
	uint32_t x = 3;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < TEXT; i++) {
		x = x * 1664525 + 1013904223;
		text[i] = (uint8_t)("ACGT"[x >> 30]);
	}
	for (uint32_t r = 0; r < n; r++) {
		const uint8_t *pat = text + (r * 7919u) % (TEXT - 16);
		uint32_t len = 6 + r % 8, count = 0;

		for (uint32_t i = 0; i + len <= TEXT; i++) {
			uint32_t j = 0;

			while (j < len && text[i + j] == pat[j])
				j++;
			count += j == len;
		}
		sum = sum * 31 + count;
	}
	return sum;
}
