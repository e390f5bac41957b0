/*
 * bench_run.c - the compute programs of bench/run/, each timed natively
 * (gcc -O2), under V8 and under k23sim, with the checksums compared:
 *
 *   bench: run.NAME.liftoff RATIO x      V8 Liftoff time / native time
 *   bench: run.NAME RATIO x              k23sim time / native time
 *   bench: run.geomean.liftoff RATIO x   geometric means over the programs
 *   bench: run.geomean.turbofan RATIO x
 *   bench: run.geomean RATIO x
 *
 * Each time is the median of REPS runs, a process each (two for k23sim),
 * the engines taking turns so that a noisy spell hits them all alike.
 * Each run times one call of the program's `uint64_t run(uint32_t n)`,
 * after compile and instantiate (bench/run/native_main.c, bench/run_v8.mjs,
 * time_k23sim).
 * The per-engine seconds go to stderr.  A checksum that differs from the
 * native one is a miscompile: its figure is left out and bench_run exits 1.
 *
 * The programs are built by `make bench` into RUN_DIR: NAME (native) and
 * NAME.wasm (clang, wasm32, no imports).  Run from the repository root:
 * bench_run [NAME...] times the named programs only (geometric means over
 * those).
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define RUN_DIR	"build/bench-run"
#define REPS	3
#ifndef K23SIM_PATH	/* the Makefile passes the k23sim it builds */
#define K23SIM_PATH	"./k23sim"
#endif

/* n gives 0.3-0.4 s natively on a 2-core AMD EPYC VM (gcc 12 -O2), so a
 * whole run, k23sim included, stays under two minutes. */
static const struct prog {
	const char *name;
	uint32_t n;
} progs[] = {
	{ "fib", 42 },		/* calls */
	{ "sieve", 160 },	/* 32-bit integer, byte stores */
	{ "bignum", 7000 },	/* 64-bit multiply and carries */
	{ "nbody", 5000000 },	/* f64 arithmetic and sqrt */
	{ "mandel", 32 },	/* f32 arithmetic */
	{ "matmul", 300 },	/* f64 over arrays */
	{ "stream", 2400 },	/* memory streaming */
	{ "chase", 22 },	/* dependent random access */
	{ "hash", 3600 },	/* multiply-rotate hashing */
	{ "sort", 100 },	/* quicksort */
	{ "interp", 14 },	/* switch dispatch */
	{ "strsearch", 420 },	/* byte compares, branches */
};
#define PROGS	(sizeof(progs) / sizeof(progs[0]))

enum engine { NATIVE, LIFTOFF, TURBOFAN, K23SIM, ENGINES };

static const char *const engine_name[ENGINES] = {
	[NATIVE] = "native", [LIFTOFF] = "liftoff", [TURBOFAN] = "turbofan",
	[K23SIM] = "k23sim",
};

/* The shell commands that print "CHECKSUM SECONDS" for a program's name
 * and n.  --no-wasm-lazy-compilation moves V8's compile out of the timed
 * call, where k23sim's is not either (see bench/run_v8.mjs).  Liftoff
 * needs --no-wasm-dynamic-tiering as well as --no-wasm-tier-up: with the
 * first alone (node 20), V8 still recompiles hot functions with TurboFan
 * while the program runs (perf showed sort's time in "quicksort-turbofan"),
 * and "Liftoff" measured a mix of both tiers. */
static const char *const engine_cmd[ENGINES] = {
	[NATIVE] = RUN_DIR "/%s %" PRIu32,
	[LIFTOFF] = "node --liftoff --no-wasm-tier-up --no-wasm-dynamic-tiering "
	    "--no-wasm-lazy-compilation bench/run_v8.mjs " RUN_DIR "/%s.wasm %" PRIu32,
	[TURBOFAN] = "node --no-liftoff --no-wasm-lazy-compilation "
	    "bench/run_v8.mjs " RUN_DIR "/%s.wasm %" PRIu32,
};

/* Run the shell command `cmd`; its last non-empty line of output goes to
 * line[0..size).  0 if it exited with status 0, else -1. */
static int run_command(const char *cmd, char *line, size_t size)
{
	char buf[256];
	FILE *p = popen(cmd, "r");

	line[0] = 0;
	if (!p)
		return -1;
	while (fgets(buf, sizeof(buf), p))
		if (buf[0] != '\n')
			snprintf(line, size, "%s", buf);
	return pclose(p) == 0 ? 0 : -1;
}

/* Wall-clock seconds of one `k23sim --invoke run WASM n`; its last line,
 * the checksum, goes to *sum.  -1 if it failed or printed no number. */
static double k23sim_wall(const char *wasm, uint32_t n, uint64_t *sum)
{
	char cmd[512], line[256], *end;
	double t0 = bench_now_ns();

	snprintf(cmd, sizeof(cmd), "%s -q --invoke run %s %" PRIu32, K23SIM_PATH,
	    wasm, n);
	if (run_command(cmd, line, sizeof(line)))
		return -1;
	/* strtoull also takes the signed decimal an i64 result may print as
	 * and wraps it modulo 2^64, as the native checksum is. */
	*sum = strtoull(line, &end, 10);
	if (end == line || (*end && *end != '\n'))
		return -1;
	return (bench_now_ns() - t0) / 1e9;
}

/*
 * ---- The k23sim measurement: the one place to change. ----
 *
 * Seconds run(n) takes under k23sim, and its checksum; -1 on failure.
 * k23sim prints only the results, so the call's time is the process's wall
 * time with n less its wall time with n = 0: run(0) does no work but set
 * up its inputs (under 1% of run(n)), leaving process start, boot,
 * decode, validate, compile and instantiate - what the V8 and native
 * figures leave out too.  If k23sim ever prints the call's own time, read
 * that here instead.
 */
static double time_k23sim(const struct prog *p, uint64_t *sum)
{
	char wasm[256];
	uint64_t unused;
	double with_n, without;

	snprintf(wasm, sizeof(wasm), RUN_DIR "/%s.wasm", p->name);
	if ((with_n = k23sim_wall(wasm, p->n, sum)) < 0 ||
	    (without = k23sim_wall(wasm, 0, &unused)) < 0)
		return -1;
	return with_n - without;
}

/* k23sim runs programs once `--help` mentions --invoke. */
static int k23sim_can_invoke(void)
{
	char buf[256];
	int found = 0;
	FILE *p = popen(K23SIM_PATH " --help 2>&1", "r");

	if (!p)
		return 0;
	while (fgets(buf, sizeof(buf), p))
		if (strstr(buf, "--invoke"))
			found = 1;
	pclose(p);
	return found;
}

/* Seconds of one timed run of p under engine e, its checksum in *sum; -1
 * if it failed. */
static double time_once(const struct prog *p, enum engine e, uint64_t *sum)
{
	char cmd[512], line[256];
	double secs;

	if (e == K23SIM)
		return time_k23sim(p, sum);
	snprintf(cmd, sizeof(cmd), engine_cmd[e], p->name, p->n);
	if (run_command(cmd, line, sizeof(line)) ||
	    sscanf(line, "%" SCNu64 " %lf", sum, &secs) != 2)
		return -1;
	return secs;
}

/* Is the program named on the command line (or is none named)? */
static bool chosen(const char *name, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return argc < 2;
}

int main(int argc, char **argv)
{
	int on[ENGINES] = { [NATIVE] = 1 }, failed = 0, all_ok[ENGINES];
	double log_sum[ENGINES] = { 0 };
	unsigned nprogs = 0;
	char line[256];

	for (int i = 1; i < argc; i++) {
		size_t k = 0;

		while (k < PROGS && strcmp(progs[k].name, argv[i]))
			k++;
		if (k == PROGS) {
			fprintf(stderr, "bench_run: no program '%s' (usage: bench_run [NAME...])\n",
			    argv[i]);
			return 2;
		}
	}

	if (!run_command("node --version", line, sizeof(line)))
		on[LIFTOFF] = on[TURBOFAN] = 1;
	else
		fprintf(stderr, "bench_run: node did not run; no V8 figures\n");
	if (k23sim_can_invoke())
		on[K23SIM] = 1;
	else
		fprintf(stderr, "bench_run: %s has no --invoke yet; no k23sim "
		    "figures (run.NAME, run.geomean)\n", K23SIM_PATH);
	for (int e = 0; e < ENGINES; e++)
		all_ok[e] = on[e];

	for (size_t i = 0; i < PROGS; i++) {
		const struct prog *p = &progs[i];
		double t[ENGINES][REPS], med[ENGINES];
		uint64_t sum[ENGINES];
		int ok[ENGINES];

		if (!chosen(p->name, argc, argv))
			continue;
		nprogs++;
		for (int e = 0; e < ENGINES; e++)
			ok[e] = on[e];
		for (int r = 0; r < REPS; r++)
			for (int e = 0; e < ENGINES; e++) {
				uint64_t s;

				if (!ok[e])
					continue;
				t[e][r] = time_once(p, e, &s);
				if (t[e][r] <= 0 || (r && s != sum[e])) {
					fprintf(stderr, "bench_run: %s did not run under %s\n",
					    p->name, engine_name[e]);
					ok[e] = 0;
				}
				sum[e] = s;
			}
		if (!ok[NATIVE]) {
			fprintf(stderr, "bench_run: is %s/%s built? (make bench builds "
			    "it)\n", RUN_DIR, p->name);
			return 1;
		}
		med[NATIVE] = bench_median(t[NATIVE], REPS);
		fprintf(stderr, "bench_run: %s n=%" PRIu32 ": native %.3f s", p->name,
		    p->n, med[NATIVE]);
		for (int e = NATIVE + 1; e < ENGINES; e++) {
			if (ok[e] && sum[e] != sum[NATIVE]) {
				fprintf(stderr, " [%s checksum %" PRIu64 ", native %" PRIu64
				    "]", engine_name[e], sum[e], sum[NATIVE]);
				ok[e] = 0;
			}
			if (!ok[e]) {
				failed |= on[e];
				all_ok[e] = 0;
				continue;
			}
			med[e] = bench_median(t[e], REPS);
			log_sum[e] += log(med[e] / med[NATIVE]);
			fprintf(stderr, ", %s %.3f s", engine_name[e], med[e]);
		}
		fprintf(stderr, "\n");
		snprintf(line, sizeof(line), "run.%s.liftoff", p->name);
		if (ok[LIFTOFF])
			bench_report(line, med[LIFTOFF] / med[NATIVE], 2, "x");
		snprintf(line, sizeof(line), "run.%s", p->name);
		if (ok[K23SIM])
			bench_report(line, med[K23SIM] / med[NATIVE], 2, "x");
		fflush(stdout);
	}
	if (all_ok[LIFTOFF])
		bench_report("run.geomean.liftoff", exp(log_sum[LIFTOFF] / nprogs), 2, "x");
	if (all_ok[TURBOFAN])
		bench_report("run.geomean.turbofan", exp(log_sum[TURBOFAN] / nprogs), 2, "x");
	if (all_ok[K23SIM])
		bench_report("run.geomean", exp(log_sum[K23SIM] / nprogs), 2, "x");
	return failed;
}
