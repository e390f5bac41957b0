/*
 * mandel - single precision: n renderings of a 256x256 Mandelbrot image in
 * f32, up to 255 iterations a pixel, each rendering shifted a little.  The
 * checksum mixes every pixel's iteration count.
 */
#include <stdint.h>

#define SIZE	256
#define ITERS	255

uint64_t run(uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t r = 0; r < n; r++) {
		float shift = (float)(r & 63) * (1.0f / 4096);

		for (int y = 0; y < SIZE; y++) {
			float ci = (float)y * (2.5f / SIZE) - 1.25f + shift;

			for (int x = 0; x < SIZE; x++) {
				float cr = (float)x * (3.0f / SIZE) - 2.1f;
				float zr = 0, zi = 0;
				int it = 0;

				while (it < ITERS && zr * zr + zi * zi <= 4.0f) {
					float t = zr * zr - zi * zi + cr;

					zi = 2.0f * zr * zi + ci;
					zr = t;
					it++;
				}
				sum = sum * 31 + (uint64_t)it;
			}
		}
	}
	return sum;
}
