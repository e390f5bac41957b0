/*
 * bench_jit.c - what the JIT costs, next to V8's Liftoff on the same bytes
 * in the same run:
 *
 *   bench: jit.compile_throughput MBPS MB/s
 *	jit_module_compile (decode, validate, compile, link) of esbuild.wasm
 *	on one hart, median of ROUNDS
 *   bench: jit.compile_throughput.allharts MBPS MB/s
 *	the same on every hart: the kernel boots one per CPU, at least 2
 *   bench: jit.compile_peak_mem MIB MiB
 *	one compile on one hart: the module's bytes, the most frames the
 *	kernel held at once (frame_stats().peak: decoded module, code
 *	buffers, scratch) and the generated code (hal_code_alloc, outside
 *	the frames here, but allocated while they peak, at link time)
 *   bench: jit.call_local NS ns	a wasm call within a module
 *   bench: jit.call_import NS ns	a wasm call to a function of another
 *					instance that the module imports
 *   bench: jit.compile_throughput.liftoff_1t MBPS MB/s
 *	V8 Liftoff (node, bench/compile_v8.mjs) on one thread
 *   bench: jit.compile_throughput.liftoff MBPS MB/s
 *	the same with V8's background compile threads
 *
 * MB is 10^6 bytes.  The module and code sizes behind the peak, and its
 * target (module + code + 16 MiB), go to stderr.
 * Usage, from the repository root: bench_jit [MODULE.wasm]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosted/cli.h"
#include "hosted/hosted.h"
#include "jit/jit.h"
#include "kernel/frame.h"
#include "kernel/hal.h"
#include "bench.h"

#define DEFAULT_INPUT	"build/bench-data/esbuild.wasm"
/* Odd, for a true median; 9 as the 2-hart compile times come in spells
 * (seen: 0.083 s four times, then 0.074 s), which 5 rounds may not outlast. */
#define ROUNDS		9
#define CALLS		10000000u
#define CALL_ROUNDS	5
#define MIB		1048576.0

/*
 * The call benchmark's modules.  Each loop's call takes the last result,
 * so calls cannot overlap, and the loop around them is the same for both:
 * nothing is subtracted, the figures are per loop iteration.
 */
static const char callee_wat[] =
	"(module\n"
	"  (func (export \"f\") (param i32) (result i32)\n"
	"    (i32.add (local.get 0) (i32.const 1))))\n";

static const char caller_wat[] =
	"(module\n"
	"  (import \"callee\" \"f\" (func $f (param i32) (result i32)))\n"
	"  (func $g (param i32) (result i32)\n"
	"    (i32.add (local.get 0) (i32.const 1)))\n"
	"  (func (export \"loop_import\") (param $n i32) (result i32) (local $acc i32)\n"
	"    (block $done (loop $next\n"
	"      (br_if $done (i32.eqz (local.get $n)))\n"
	"      (local.set $acc (call $f (local.get $acc)))\n"
	"      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
	"      (br $next)))\n"
	"    (local.get $acc))\n"
	"  (func (export \"loop_local\") (param $n i32) (result i32) (local $acc i32)\n"
	"    (block $done (loop $next\n"
	"      (br_if $done (i32.eqz (local.get $n)))\n"
	"      (local.set $acc (call $g (local.get $acc)))\n"
	"      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
	"      (br $next)))\n"
	"    (local.get $acc)))\n";

/* What the kernel-side run reads and fills in. */
struct run {
	const uint8_t *bytes;
	size_t size;
	uint8_t *callee, *caller;	/* the call modules' binaries */
	size_t callee_size, caller_size;
	double mbps_1, mbps_all, peak_mib, local_ns, import_ns;
};

/* A module from the text format through wabt's wat2wasm, or NULL. */
static uint8_t *wat2wasm(const char *text, size_t *size)
{
	char path[] = "/tmp/k23-bench-jit-XXXXXX", cmd[128];
	uint8_t *bytes = NULL;
	FILE *p;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	close(fd);
	snprintf(cmd, sizeof(cmd), "wat2wasm - --output=%s", path);
	if ((p = popen(cmd, "w"))) {
		fputs(text, p);
		if (pclose(p) == 0)
			bytes = hosted_read_file(path, size);
	}
	unlink(path);
	return bytes;
}

/* Seconds of one jit_module_compile on `harts` harts (0: all); -1 if it
 * failed.  The module is freed unless `keep` asks for it. */
static double compile_once(const struct run *r, unsigned harts, struct jit_module **keep)
{
	struct jit_compile_opts opts = { .harts = harts };
	struct jit_wasm_error err;
	struct jit_module *mod;
	double t0 = bench_now_ns();
	int rc = jit_module_compile(r->bytes, r->size, &opts, &mod, &err);
	double t = (bench_now_ns() - t0) / 1e9;

	if (rc < 0) {
		fprintf(stderr, "bench_jit: compile failed at offset 0x%x: %s\n",
			err.offset, err.msg);
		return -1;
	}
	if (keep)
		*keep = mod;
	else
		jit_module_free(mod);
	return t;
}

/* MB/s of the median of ROUNDS compiles; -1 if one failed. */
static double compile_mbps(const struct run *r, unsigned harts)
{
	double t[ROUNDS];

	for (int i = 0; i < ROUNDS; i++)
		if ((t[i] = compile_once(r, harts, NULL)) < 0)
			return -1;
	return r->size / bench_median(t, ROUNDS) / 1e6;
}

/* MiB one compile on one hart needs at its peak; -1 if it failed.  The
 * sizes behind the figure go to stderr. */
static double compile_peak_mib(const struct run *r)
{
	struct frame_stats before, after;
	struct jit_module *mod;
	size_t code_len, heap;

	frame_reset_peak();
	frame_stats(&before);
	if (compile_once(r, 1, &mod) < 0)
		return -1;
	frame_stats(&after);
	jit_module_code(mod, &code_len);
	jit_module_free(mod);
	heap = (after.peak - (before.total - before.free + before.cached)) * FRAME_SIZE;
	fprintf(stderr, "bench_jit: compile of %.1f MiB: heap peak %.1f MiB, code "
		"%.1f MiB; target peak <= module + code + 16 = %.1f MiB\n",
		r->size / MIB, heap / MIB, code_len / MIB,
		(r->size + code_len) / MIB + 16);
	return (r->size + heap + code_len) / MIB;
}

static struct jit_instance *instantiate(struct jit_store *s, const uint8_t *bytes,
					size_t size, struct jit_module **mod)
{
	struct jit_wasm_error err;
	struct jit_link_error lerr;
	struct jit_instance *inst;

	if (jit_module_compile(bytes, size, NULL, mod, &err) < 0) {
		fprintf(stderr, "bench_jit: call module: %s\n", err.msg);
		return NULL;
	}
	if (jit_instantiate(s, *mod, &inst, &lerr) < 0) {
		fprintf(stderr, "bench_jit: call module: %s\n", lerr.msg);
		return NULL;
	}
	return inst;
}

/* Nanoseconds per iteration of export `name` of inst, looping CALLS
 * times: the best of CALL_ROUNDS; -1 if it failed or miscounted. */
static double ns_per_call(struct jit_instance *inst, const char *name)
{
	struct jit_value arg = { JIT_I32, CALLS }, res;
	struct jit_extern ex;
	double best = -1;

	if (jit_instance_export(inst, name, &ex) < 0)
		return -1;
	for (int i = 0; i < CALL_ROUNDS; i++) {
		double t0 = bench_now_ns(), t;

		if (jit_call(ex.func, &arg, 1, &res, 1, NULL) < 0 || res.bits != CALLS)
			return -1;
		t = (bench_now_ns() - t0) / CALLS;
		best = best < 0 ? t : bench_best(best, t);
	}
	return best;
}

/* The call figures: callee registered as "callee", imported by caller. */
static void time_calls(struct run *r)
{
	struct jit_module *callee_mod = NULL, *caller_mod = NULL;
	struct jit_instance *callee, *caller;
	struct jit_store *s;

	if (jit_store_create(&s) < 0)
		return;
	if ((callee = instantiate(s, r->callee, r->callee_size, &callee_mod)) &&
	    jit_store_register(s, "callee", callee) == 0 &&
	    (caller = instantiate(s, r->caller, r->caller_size, &caller_mod))) {
		r->local_ns = ns_per_call(caller, "loop_local");
		r->import_ns = ns_per_call(caller, "loop_import");
	}
	jit_store_destroy(s);
	jit_module_free(caller_mod);
	jit_module_free(callee_mod);
}

/* On hart 0, once the kernel is up. */
static int bench_main(void *arg)
{
	struct run *r = arg;

	r->mbps_1 = compile_mbps(r, 1);
	r->mbps_all = compile_mbps(r, 0);
	r->peak_mib = compile_peak_mib(r);
	time_calls(r);
	return 0;
}

/* V8's compile throughput with node_flags, MB/s; -1 if node did not run. */
static double v8_mbps(const char *path, size_t size, const char *node_flags)
{
	char cmd[4096];
	double s;

	snprintf(cmd, sizeof(cmd), "node %s bench/compile_v8.mjs '%s' %d 2>/dev/null",
		 node_flags, path, ROUNDS);
	s = bench_command_number(cmd);
	return s > 0 ? size / s / 1e6 : -1;
}

/* Print a figure, or why there is none. */
static void report(const char *name, double value, int decimals, const char *unit)
{
	if (value >= 0)
		bench_report(name, value, decimals, unit);
	else
		fprintf(stderr, "bench_jit: no %s figure\n", name);
	fflush(stdout);
}

/*
 * The Liftoff flags: --liftoff --no-wasm-tier-up keeps V8 to its baseline
 * tier, and --no-wasm-lazy-compilation compiles every function inside
 * `new WebAssembly.Module` (node 20's V8 compiles lazily by default).
 * Checked with node 20 on esbuild.wasm: --trace-wasm-compilation-times
 * shows 5307 Liftoff compiles in the call, one per defined function, with
 * or without --single-threaded, and none with --wasm-lazy-compilation;
 * the call takes 0.29 s single-threaded, 0.17 s with background threads
 * on 2 CPUs, 0.03-0.06 s lazily (validation only), 0.1 ms for a 2 KB
 * module.
 */
#define LIFTOFF	"--liftoff --no-wasm-tier-up --no-wasm-lazy-compilation"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_INPUT;
	struct run r = { .mbps_1 = -1, .mbps_all = -1, .peak_mib = -1,
			 .local_ns = -1, .import_ns = -1 };
	struct hosted_config cfg;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint8_t *bytes;

	if (strchr(path, '\'') || !(bytes = hosted_read_file(path, &r.size))) {
		fprintf(stderr, "bench_jit: cannot read %s (make bench fetches it)\n", path);
		return 1;
	}
	r.bytes = bytes;
	if (!(r.callee = wat2wasm(callee_wat, &r.callee_size)) ||
	    !(r.caller = wat2wasm(caller_wat, &r.caller_size))) {
		fprintf(stderr, "bench_jit: wat2wasm (wabt) did not run\n");
		return 1;
	}
	hosted_config_default(&cfg);
	cfg.harts = cpus < 2 ? 2 : cpus > HAL_MAX_HARTS ? HAL_MAX_HARTS : (unsigned)cpus;
	cfg.memory = 2ull << 30;
	if (hosted_run(&cfg, bench_main, &r) != 0)
		return 1;
	report("jit.compile_throughput", r.mbps_1, 1, "MB/s");
	report("jit.compile_throughput.allharts", r.mbps_all, 1, "MB/s");
	report("jit.compile_peak_mem", r.peak_mib, 1, "MiB");
	report("jit.call_local", r.local_ns, 2, "ns");
	report("jit.call_import", r.import_ns, 2, "ns");
	/* After the kernel is down, so that node has the machine to itself. */
	report("jit.compile_throughput.liftoff_1t", v8_mbps(path, r.size, LIFTOFF
		" --single-threaded"), 1, "MB/s");
	report("jit.compile_throughput.liftoff", v8_mbps(path, r.size, LIFTOFF), 1, "MB/s");
	free(r.callee);
	free(r.caller);
	free(bytes);
	return r.mbps_1 < 0 || r.mbps_all < 0 || r.peak_mib < 0 || r.local_ns < 0 ||
	       r.import_ns < 0;
}
