/*
 * bench_validate.c - decode+validate throughput on a large real module
 * (default build/bench-data/esbuild.wasm, fetched by `make bench`), next to
 * wabt's wasm-validate and V8's WebAssembly.validate on the same bytes,
 * measured in the same run:
 *
 *   bench: validate.throughput MBPS MB/s        jit_wasm_decode, median
 *   bench: validate.throughput.wabt MBPS MB/s   wasm-validate FILE, minus
 *                                               wasm-validate on an empty
 *                                               module (process start)
 *   bench: validate.throughput.v8 MBPS MB/s     WebAssembly.validate in one
 *                                               node process, call only
 *   bench: validate.throughput.v8_1t MBPS MB/s  the same with node
 *                                               --single-threaded: no V8
 *                                               background threads, one core
 *                                               like jit_wasm_decode
 *   bench: validate.peak_mem MIB MiB            the module's bytes plus the
 *                                               decoder's peak allocations
 *
 * MB is 10^6 bytes.  Usage: bench_validate [MODULE.wasm]
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosted/cli.h"
#include "jit/wasm.h"
#include "bench.h"

#define DEFAULT_INPUT	"build/bench-data/esbuild.wasm"
#define RUNS		9
#define WABT_RUNS	3

extern char **environ;

struct heap {
	size_t live, peak;
};

static void *bench_alloc(void *ctx, size_t size)
{
	struct heap *h = ctx;
	size_t *p = malloc(size + 16);

	if (!p)
		return NULL;
	*p = size;
	h->live += size;
	if (h->live > h->peak)
		h->peak = h->live;
	return (char *)p + 16;
}

static void bench_free(void *ctx, void *q)
{
	struct heap *h = ctx;
	size_t *p = (size_t *)((char *)q - 16);

	h->live -= *p;
	free(p);
}

/* Seconds one `argv` run takes, or -1 if it could not run or failed. */
static double time_command(char *const argv[])
{
	double t0 = bench_now_ns();
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ))
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (bench_now_ns() - t0) / 1e9;
}

static double wabt_seconds(const char *path)
{
	static const uint8_t empty[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
	char empty_path[] = "/tmp/k23-empty-XXXXXX.wasm";
	double full[WABT_RUNS], base[WABT_RUNS];
	int fd = mkstemps(empty_path, 5);

	if (fd < 0 || write(fd, empty, sizeof(empty)) != sizeof(empty)) {
		fprintf(stderr, "bench_validate: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	for (int i = 0; i < WABT_RUNS; i++) {
		char *const a[] = { "wasm-validate", (char *)path, NULL };
		char *const b[] = { "wasm-validate", empty_path, NULL };

		full[i] = time_command(a);
		base[i] = time_command(b);
		if (full[i] < 0 || base[i] < 0) {
			unlink(empty_path);
			return -1;
		}
	}
	unlink(empty_path);
	return bench_median(full, WABT_RUNS) - bench_median(base, WABT_RUNS);
}

/* WebAssembly.validate in node: the median of RUNS calls, in seconds.
 * node_flags go before the script ("" for none). */
static double v8_seconds(const char *path, const char *node_flags)
{
	static const char script[] =
	    "const b = require('fs').readFileSync(process.argv[1]);"
	    "const t = [];"
	    "for (let i = 0; i < 9; i++) {"
	    "  const t0 = process.hrtime.bigint();"
	    "  if (!WebAssembly.validate(b)) process.exit(1);"
	    "  t.push(Number(process.hrtime.bigint() - t0) / 1e9);"
	    "}"
	    "t.sort((x, y) => x - y);"
	    "console.log(t[4]);";
	char cmd[4096];

	if (access("/usr/bin/node", X_OK) && system("command -v node >/dev/null 2>&1"))
		return -1;
	snprintf(cmd, sizeof(cmd), "node %s -e \"%s\" '%s'", node_flags, script, path);
	return bench_command_number(cmd);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_INPUT;
	struct heap heap = { 0 };
	struct jit_wasm_alloc a = { bench_alloc, bench_free, &heap };
	double t[RUNS], s;
	size_t size;
	uint8_t *bytes;

	if (strchr(path, '\'') || !(bytes = hosted_read_file(path, &size))) {
		fprintf(stderr, "bench_validate: cannot read %s (make bench fetches "
		    "it)\n", path);
		return 1;
	}
	for (int i = 0; i < RUNS; i++) {
		struct jit_wasm_module *m;
		struct jit_wasm_error err;
		double t0 = bench_now_ns();
		int rc = jit_wasm_decode(bytes, size, &a, &m, &err);

		t[i] = (bench_now_ns() - t0) / 1e9;
		if (rc) {
			fprintf(stderr, "bench_validate: %s: offset 0x%x: %s\n", path,
			    err.offset, err.msg);
			return 1;
		}
		jit_wasm_free(m);
	}
	bench_report("validate.throughput", size / bench_median(t, RUNS) / 1e6, 1, "MB/s");
	bench_report("validate.peak_mem", (size + heap.peak) / 1048576.0, 1, "MiB");
	fflush(stdout);
	if ((s = wabt_seconds(path)) > 0)
		bench_report("validate.throughput.wabt", size / s / 1e6, 1, "MB/s");
	else
		fprintf(stderr, "bench_validate: wasm-validate did not run; no "
		    "wabt figure\n");
	fflush(stdout);
	if ((s = v8_seconds(path, "")) > 0)
		bench_report("validate.throughput.v8", size / s / 1e6, 1, "MB/s");
	else
		fprintf(stderr, "bench_validate: node did not run; no V8 figure\n");
	fflush(stdout);
	/* V8 may validate on background threads too; ours uses one core. */
	if ((s = v8_seconds(path, "--single-threaded")) > 0)
		bench_report("validate.throughput.v8_1t", size / s / 1e6, 1, "MB/s");
	else
		fprintf(stderr, "bench_validate: node --single-threaded did not run; no "
		    "v8_1t figure\n");
	free(bytes);
	return 0;
}
