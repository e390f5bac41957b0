/*
 * bench_wasi.c - what running a WASI command through k23sim costs, each
 * figure next to the same thing done natively or under node:
 *
 *   bench: wasi.hello_ms MS ms            `k23sim hello.wasm`, process start
 *                                         to exit, median of HELLO_RUNS
 *   bench: wasi.hello_ms.node MS ms       `node bench/run_wasi.mjs hello.wasm`
 *                                         (node:wasi), median of NODE_RUNS
 *   bench: wasi.hello_ms.native MS ms     the same C program built by gcc
 *   bench: wasi.call_ns NS ns             one clock_time_get call from wasm
 *   bench: host.clock_gettime_ns NS ns    one clock_gettime(CLOCK_MONOTONIC)
 *   bench: wasi.read_mbps MBPS MB/s       a 100 MB file read through fd_read
 *                                         into a 1 MiB buffer, via --dir
 *   bench: host.cat_mbps MBPS MB/s        `cat FILE > /dev/null`
 *
 * The programs are the C files of bench/wasi/, built by `make bench` into
 * WASI_DIR as NAME.wasm (clang --target=wasm32-wasi, Debian's wasi-libc)
 * and, for hello and clock, natively.  The call and read figures are the programs'
 * own, timed inside them with the monotonic clock (clock.c, read.c), the
 * medians of CALL_RUNS and READ_RUNS processes; cat is timed as a whole
 * process, its start included (about a millisecond of its 10-30).  MB is
 * 10^6 bytes.  The read file is in the page cache (one cat first).
 *
 * Without node the node figure is left out, and without a k23sim that runs
 * WASI commands (hello.wasm printing its line) the k23sim figures, each
 * with a note on stderr.  A k23sim that runs hello but fails another
 * program makes bench_wasi exit 1.  Run from the repository root.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define WASI_DIR	"build/bench-wasi"
#define READ_FILE	"build/bench-data/wasi-read.bin"
#define READ_BYTES	100000000LL	/* the Makefile writes this many */
#define HELLO_OUT	"hello, world\n"
#define HELLO_RUNS	50
#define NODE_RUNS	10
#define CALLS		"10000000"	/* per clock run: 0.2-1 s */
#define CALL_RUNS	5
#define READ_RUNS	5
#ifndef K23SIM_PATH	/* the Makefile passes the k23sim it builds */
#define K23SIM_PATH	"./k23sim"
#endif

extern char **environ;

/* Milliseconds from starting argv to its exit, its output thrown away; -1
 * if it could not start or did not exit with 0. */
static double run_ms(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	double t0, t1;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = bench_now_ns();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	t1 = bench_now_ns();
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (t1 - t0) / 1e6;
}

/* The median of `runs` timings of argv (at most HELLO_RUNS); -1 if any
 * run failed. */
static double median_ms(char *const argv[], unsigned runs)
{
	double t[HELLO_RUNS];

	for (unsigned i = 0; i < runs; i++)
		if ((t[i] = run_ms(argv)) < 0)
			return -1;
	return bench_median(t, runs);
}

/* Whether the shell command `cmd` prints exactly `want` and exits 0; what
 * it printed otherwise goes to stderr, after `why`. */
static int prints(const char *cmd, const char *want, const char *why)
{
	char out[512];
	size_t n;
	FILE *p = popen(cmd, "r");
	int ok;

	if (!p)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	ok = pclose(p) == 0 && !strcmp(out, want);
	if (!ok)
		fprintf(stderr, "bench_wasi: %s: `%s` printed \"%s\"\n", why, cmd, out);
	return ok;
}

/* The median of `runs` runs of a shell command printing one number; -1 if
 * one failed. */
static double median_number(const char *cmd, unsigned runs)
{
	double v[CALL_RUNS];

	for (unsigned i = 0; i < runs; i++)
		if ((v[i] = bench_command_number(cmd)) < 0)
			return -1;
	return bench_median(v, runs);
}

/* One run of read.wasm under k23sim: the MB/s it measured itself, and the
 * process's wall time in *wall_ms; -1 if it failed or read the wrong
 * number of bytes. */
static double k23sim_read(double *wall_ms)
{
	char line[128];
	double mbps = -1, t0 = bench_now_ns();
	long long bytes = 0;
	FILE *p = popen(K23SIM_PATH " --dir build/bench-data::/data " WASI_DIR "/read.wasm "
			"/data/wasi-read.bin", "r");

	if (!p)
		return -1;
	if (!fgets(line, sizeof(line), p) || sscanf(line, "%lf %lld", &mbps, &bytes) != 2)
		mbps = -1;
	if (pclose(p) != 0 || bytes != READ_BYTES) {
		fprintf(stderr, "bench_wasi: read.wasm read %lld bytes of %lld\n", bytes, READ_BYTES);
		return -1;
	}
	*wall_ms = (bench_now_ns() - t0) / 1e6;
	return mbps;
}

int main(void)
{
	char *hello_k23[] = { K23SIM_PATH, WASI_DIR "/hello.wasm", NULL };
	char *hello_node[] = { "node", "--no-warnings", "bench/run_wasi.mjs",
			       WASI_DIR "/hello.wasm", NULL };
	char *hello_native[] = { WASI_DIR "/hello", NULL };
	char *cat[] = { "cat", READ_FILE, NULL };
	double ms, k23_read[READ_RUNS], cat_read[READ_RUNS], wall[READ_RUNS];
	int k23sim, node, failed = 0;

	if (!prints(WASI_DIR "/hello", HELLO_OUT, "is " WASI_DIR " built? (make bench builds it)"))
		return 1;
	k23sim = prints(K23SIM_PATH " " WASI_DIR "/hello.wasm 2>&1", HELLO_OUT,
			"no k23sim figures (wasi.*): " K23SIM_PATH " does not run WASI commands yet");
	node = prints("node --no-warnings bench/run_wasi.mjs " WASI_DIR "/hello.wasm 2>&1",
		      HELLO_OUT, "no node figure (wasi.hello_ms.node): node:wasi did not run");

	if (k23sim) {
		if ((ms = median_ms(hello_k23, HELLO_RUNS)) > 0)
			bench_report("wasi.hello_ms", ms, 2, "ms");
		else
			failed = 1;
	}
	if (node && (ms = median_ms(hello_node, NODE_RUNS)) > 0)
		bench_report("wasi.hello_ms.node", ms, 1, "ms");
	if ((ms = median_ms(hello_native, HELLO_RUNS)) > 0)
		bench_report("wasi.hello_ms.native", ms, 2, "ms");
	fflush(stdout);

	if (k23sim) {
		if ((ms = median_number(K23SIM_PATH " " WASI_DIR "/clock.wasm " CALLS, CALL_RUNS)) > 0)
			bench_report("wasi.call_ns", ms, 1, "ns");
		else
			failed = 1;
	}
	if ((ms = median_number(WASI_DIR "/clock " CALLS, CALL_RUNS)) > 0)
		bench_report("host.clock_gettime_ns", ms, 1, "ns");
	fflush(stdout);

	/* The file into the page cache, then k23sim and cat by turns. */
	if (run_ms(cat) < 0) {
		fprintf(stderr, "bench_wasi: cannot read %s (make bench writes it)\n", READ_FILE);
		return 1;
	}
	for (unsigned i = 0; i < READ_RUNS; i++) {
		if (k23sim && (k23_read[i] = k23sim_read(&wall[i])) < 0) {
			k23sim = 0;
			failed = 1;
		}
		if ((cat_read[i] = run_ms(cat)) < 0)
			return 1;
		cat_read[i] = READ_BYTES / 1e6 / (cat_read[i] / 1e3);
	}
	if (k23sim) {
		ms = bench_median(wall, READ_RUNS);
		fflush(stdout);
		fprintf(stderr, "bench_wasi: k23sim read.wasm: %.1f ms a process, %.0f MB/s "
			"counting the whole process\n", ms, READ_BYTES / 1e6 / (ms / 1e3));
		bench_report("wasi.read_mbps", bench_median(k23_read, READ_RUNS), 0, "MB/s");
	}
	bench_report("host.cat_mbps", bench_median(cat_read, READ_RUNS), 0, "MB/s");
	return failed;
}
