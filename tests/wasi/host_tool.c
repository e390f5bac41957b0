/*
 * host_tool - the host-side helpers of tests/wasi_run.sh:
 *
 *	host_tool freeport
 *		print a TCP port on 127.0.0.1 that was free a moment ago
 *	host_tool swap SECONDS A B [C D]
 *		exchange A with B (and C with D) atomically, over and over, for
 *		SECONDS (at least once) or until killed; the race test's attacker
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "freeport"))
		return freeport();
	if ((argc == 5 || argc == 7) && !strcmp(argv[1], "swap"))
		return swap(atof(argv[2]), argv + 3, argc - 3);
	fprintf(stderr, "usage: host_tool freeport | host_tool swap SECONDS A B [C D]\n");
	return 2;
}
