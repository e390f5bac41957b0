/*
 * sort - comparisons, branches and swaps: n rounds of generating 64 Ki
 * pseudo-random 32-bit keys and sorting them with quicksort (median of
 * three, insertion sort below 16 keys).  The checksum weighs every key by
 * its position, so it only matches a correctly sorted array.
 */
#include <stdint.h>

#define KEYS	(1u << 16)

static uint32_t keys[KEYS];

static void insertion(uint32_t *v, int32_t len)
{
	for (int32_t i = 1; i < len; i++) {
		uint32_t k = v[i];
		int32_t j = i - 1;

		for (; j >= 0 && v[j] > k; j--)
			v[j + 1] = v[j];
		v[j + 1] = k;
	}
}

static void swap(uint32_t *v, int32_t i, int32_t j)
{
	uint32_t t = v[i];

	v[i] = v[j];
	v[j] = t;
}

/* Recurses into the smaller side and loops on the larger, so the depth
 * stays below log2(KEYS) whatever the keys. */
static void quicksort(uint32_t *v, int32_t len)
{
	while (len > 16) {
		int32_t mid = len / 2, i = 0, j = len - 1;
		uint32_t pivot;

		if (v[mid] < v[0])
			swap(v, mid, 0);
		if (v[len - 1] < v[0])
			swap(v, len - 1, 0);
		if (v[len - 1] < v[mid])
			swap(v, len - 1, mid);
		pivot = v[mid];
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			swap(v, i++, j--);
		}
		if (j + 1 < len - j - 1) {
			quicksort(v, j + 1);
			v += j + 1;
			len -= j + 1;
		} else {
			quicksort(v + j + 1, len - j - 1);
			len = j + 1;
		}
	}
	insertion(v, len);
}

uint64_t run(uint32_t n)
{
	uint32_t x = 42;
	uint64_t sum = 0;

	for (uint32_t r = 0; r < n; r++) {
		for (uint32_t i = 0; i < KEYS; i++) {
			x = x * 1664525 + 1013904223;
			keys[i] = x;
		}
		quicksort(keys, KEYS);
		for (uint32_t i = 0; i < KEYS; i++)
			sum += (uint64_t)keys[i] * (i + 1);
	}
	return sum;
}
