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
 * and, for hello and clock, natively.  The call and read figures are the
 * programs' own, timed inside them with the monotonic clock (clock.c,
 * read.c), the medians of CALL_RUNS and READ_RUNS processes; the read's
 * whole process time goes to stderr.  cat is timed as a whole process, its
 * start included (about a millisecond of its 15-30).  MB is 10^6 bytes.
 * The read file is in the page cache (one cat first).  Each figure and the
 * one it is compared to are measured by turns.
 *
 * Without node the node figure is left out, and without a k23sim that runs
 * WASI commands (hello.wasm printing its line) the k23sim figures, each
 * with a note on stderr.  A k23sim that runs hello but fails another run
 * makes bench_wasi exit 1.  Run from the repository root.
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

/*
 * A figure's samples.  Each figure is gathered by turns with the one it is
 * compared to, so that a noisy spell on the shared machine hits both: a
 * series that fails once is switched off and keeps its note.
 */
struct series {
	const char *name;
	int on, failed;
	unsigned n;
	double v[HELLO_RUNS];
};

static void sample(struct series *s, double v)
{
	if (!s->on)
		return;
	if (v < 0) {
		fprintf(stderr, "bench_wasi: %s: a run failed\n", s->name);
		s->on = 0;
		s->failed = 1;
		return;
	}
	s->v[s->n++] = v;
}

/* Prints the series' median, if it has one; 1 if a run failed. */
static int report(struct series *s, int decimals, const char *unit)
{
	if (s->on && s->n)
		bench_report(s->name, bench_median(s->v, s->n), decimals, unit);
	return s->failed;
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
	struct series hello = { .name = "wasi.hello_ms" };
	struct series hello_node_ms = { .name = "wasi.hello_ms.node" };
	struct series hello_native_ms = { .name = "wasi.hello_ms.native", .on = 1 };
	struct series call = { .name = "wasi.call_ns" };
	struct series call_native = { .name = "host.clock_gettime_ns", .on = 1 };
	struct series rd = { .name = "wasi.read_mbps" };
	struct series rd_cat = { .name = "host.cat_mbps", .on = 1 };
	double wall[READ_RUNS], ms;
	int failed;

	if (!prints(WASI_DIR "/hello", HELLO_OUT, "is " WASI_DIR " built? (make bench builds it)"))
		return 1;
	hello.on = call.on = rd.on = prints(K23SIM_PATH " " WASI_DIR "/hello.wasm 2>&1", HELLO_OUT,
			"no k23sim figures (wasi.*): " K23SIM_PATH " does not run WASI commands yet");
	hello_node_ms.on = prints("node --no-warnings bench/run_wasi.mjs " WASI_DIR "/hello.wasm 2>&1",
			    HELLO_OUT, "no node figure (wasi.hello_ms.node): node:wasi did not run");

	for (unsigned i = 0; i < HELLO_RUNS; i++) {
		sample(&hello, hello.on ? run_ms(hello_k23) : 0);
		sample(&hello_native_ms, run_ms(hello_native));
		if (i < NODE_RUNS)
			sample(&hello_node_ms, hello_node_ms.on ? run_ms(hello_node) : 0);
	}
	for (unsigned i = 0; i < CALL_RUNS; i++) {
		sample(&call, call.on ? bench_command_number(K23SIM_PATH " " WASI_DIR
							     "/clock.wasm " CALLS) : 0);
		sample(&call_native, bench_command_number(WASI_DIR "/clock " CALLS));
	}
	/* The file into the page cache first. */
	if (run_ms(cat) < 0) {
		fprintf(stderr, "bench_wasi: cannot read %s (make bench writes it)\n", READ_FILE);
		return 1;
	}
	for (unsigned i = 0; i < READ_RUNS; i++) {
		sample(&rd, rd.on ? k23sim_read(&wall[i]) : 0);
		ms = run_ms(cat);
		sample(&rd_cat, ms > 0 ? READ_BYTES / 1e6 / (ms / 1e3) : -1);
	}

	failed = report(&hello, 2, "ms");
	report(&hello_node_ms, 1, "ms");
	failed |= report(&hello_native_ms, 2, "ms");
	failed |= report(&call, 1, "ns");
	failed |= report(&call_native, 1, "ns");
	if (rd.on && rd.n) {
		ms = bench_median(wall, rd.n);
		fflush(stdout);
		fprintf(stderr, "bench_wasi: k23sim read.wasm: %.1f ms a process, %.0f MB/s "
			"counting the whole process\n", ms, READ_BYTES / 1e6 / (ms / 1e3));
	}
	failed |= report(&rd, 0, "MB/s");
	failed |= report(&rd_cat, 0, "MB/s");
	return failed;
}
