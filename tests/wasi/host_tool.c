/*
 * host_tool - the host-side helpers of tests/wasi_run.sh:
 *
 *	host_tool freeport
 *		print a TCP port on 127.0.0.1 that was free a moment ago
 *	host_tool swap SECONDS A B [C D]
 *		exchange A with B (and C with D) atomically, over and over, for
 *		SECONDS (at least once) or until killed; the race test's attacker
 *	host_tool mutate IN OUTPREFIX SEED COUNT
 *		write COUNT copies of module IN, OUTPREFIX0.wasm and on, each
 *		with one to four bytes of its code section changed, chosen
 *		from SEED
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int freeport(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
		perror("host_tool freeport");
		return 1;
	}
	printf("%u\n", ntohs(addr.sin_port));
	close(fd);
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int swap(double duration, char **paths, int npaths)
{
	double end = seconds() + duration;
	long swaps = 0;

	do {
		for (int i = 0; i + 1 < npaths; i += 2) {
			if (renameat2(AT_FDCWD, paths[i], AT_FDCWD, paths[i + 1], RENAME_EXCHANGE) != 0) {
				fprintf(stderr, "host_tool swap: %s <-> %s: %s\n", paths[i],
					paths[i + 1], strerror(errno));
				return 1;
			}
			swaps++;
		}
	} while (seconds() < end);
	printf("host_tool swap: %ld exchanges\n", swaps);
	return 0;
}

/* xorshift64: the same mutants from the same seed on every machine. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/*
 * The code section of the module BYTES[0..SIZE) as [*START, *END), or the
 * whole module after its header if there is none: mutants are aimed at
 * the code, which the debug sections of a libc program would outweigh.
 */
static void code_section(const unsigned char *bytes, long size, long *start, long *end)
{
	long pos = 8;

	*start = 8;
	*end = size;
	while (pos < size) {
		int id = bytes[pos++];
		unsigned long len = 0;

		for (int shift = 0; pos < size && shift < 35; shift += 7) {
			len |= (unsigned long)(bytes[pos] & 0x7f) << shift;
			if (!(bytes[pos++] & 0x80))
				break;
		}
		if (len > (unsigned long)(size - pos))
			return;
		if (id == 10) {
			*start = pos;
			*end = pos + (long)len;
			return;
		}
		pos += (long)len;
	}
}

static int mutate(const char *in, const char *prefix, uint64_t seed, int count)
{
	uint64_t state = seed * 2654435761u + 1;
	unsigned char *bytes, *copy;
	char path[4096];
	long size, start, end;
	FILE *f = fopen(in, "rb");

	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 8 || fseek(f, 0, SEEK_SET) != 0) {
		perror(in);
		return 1;
	}
	bytes = malloc((size_t)size);
	copy = malloc((size_t)size);
	if (!bytes || !copy || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
		perror(in);
		return 1;
	}
	fclose(f);
	code_section(bytes, size, &start, &end);
	for (int i = 0; i < count; i++) {
		int flips = 1 + (int)(next_random(&state) % 4);

		memcpy(copy, bytes, (size_t)size);
		for (int j = 0; j < flips; j++) {
			uint64_t where = next_random(&state) % (uint64_t)(end - start);

			copy[start + (long)where] = (unsigned char)next_random(&state);
		}
		snprintf(path, sizeof(path), "%s%d.wasm", prefix, i);
		f = fopen(path, "wb");
		if (!f || fwrite(copy, 1, (size_t)size, f) != (size_t)size || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	free(bytes);
	free(copy);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "freeport"))
		return freeport();
	if ((argc == 5 || argc == 7) && !strcmp(argv[1], "swap"))
		return swap(atof(argv[2]), argv + 3, argc - 3);
	if (argc == 6 && !strcmp(argv[1], "mutate"))
		return mutate(argv[2], argv[3], strtoull(argv[4], NULL, 10), atoi(argv[5]));
	fprintf(stderr, "usage: host_tool freeport | host_tool swap SECONDS A B [C D] |\n"
			"       host_tool mutate IN OUTPREFIX SEED COUNT\n");
	return 2;
}
