/*
 * getrandom - random bytes from the host's entropy source, in hex.
 *
 *	./k23sim build/examples/getrandom.wasm [COUNT]
 *
 * COUNT bytes (default 32, at most 4096) are read with getentropy(),
 * which wasi-libc implements with random_get and which refuses more than
 * 256 bytes per call, so larger counts are read in pieces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BYTES	4096
#define ENTROPY_MAX	256	/* getentropy's per-call limit */

int main(int argc, char **argv)
{
	static unsigned char buf[MAX_BYTES];
	long count = 32;
	char *end;

	if (argc > 1) {
		count = strtol(argv[1], &end, 10);
		if (*end != '\0' || count < 1 || count > MAX_BYTES) {
			fprintf(stderr, "usage: %s [COUNT]  (1-%d bytes)\n", argv[0], MAX_BYTES);
			return 2;
		}
	}
	for (long done = 0; done < count; done += ENTROPY_MAX) {
		size_t n = (size_t)(count - done < ENTROPY_MAX ? count - done : ENTROPY_MAX);

		if (getentropy(buf + done, n) != 0) {
			fprintf(stderr, "getrandom: getentropy: %s\n", strerror(errno));
			return 1;
		}
	}
	for (long i = 0; i < count; i++)
		printf("%02x%s", buf[i], (i % 32 == 31 || i == count - 1) ? "\n" : "");
	return 0;
}
