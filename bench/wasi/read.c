/*
 * read.c - file read throughput: `read FILE` reads FILE to its end with
 * read(2) into a 1 MiB buffer, which wasi-libc passes to fd_read as it
 * is, and prints "MB/s BYTES" (MB = 10^6 bytes) for the read loop alone,
 * timed with the monotonic clock.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long long total = 0;
	double t0, t1;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: read FILE\n");
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0) {
		perror(argv[1]);
		return 1;
	}
	t0 = now_s();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	t1 = now_s();
	if (n < 0) {
		perror(argv[1]);
		return 1;
	}
	close(fd);
	printf("%.1f %lld\n", (double)total / 1e6 / (t1 - t0), total);
	return 0;
}
