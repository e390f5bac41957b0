/*
 * test_cli.c - k23sim's command line: help, version, and bad input getting
 * one line of error and exit status 2, never a crash.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdlib.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The k23sim next to this test binary (build/VARIANT/k23sim). */
static const char *k23sim(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert(n > 0);
	self[n] = 0;
	snprintf(path, sizeof(path), "%s/../k23sim", dirname(self));
	return path;
}

struct result {
	int status;
	char out[8192];
	int lines;
};

static void run(struct result *r, const char *args)
{
	char cmd[PATH_MAX + 256];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", k23sim(), args);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(r->out, 1, sizeof(r->out) - 1, p);
	r->out[n] = 0;
	r->status = pclose(p);
	cr_assert(WIFEXITED(r->status), "k23sim %s died by a signal", args);
	r->status = WEXITSTATUS(r->status);
	r->lines = 0;
	for (char *c = r->out; *c; c++)
		r->lines += *c == '\n';
}

Test(cli, help_and_version)
{
	struct result r;

	run(&r, "--help");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: k23sim"));
	cr_assert(strstr(r.out, "--harts"));
	run(&r, "--version");
	cr_assert_eq(r.status, 0);
	cr_assert(!strncmp(r.out, "k23sim ", 7));
}

static void rejects(const char *args, const char *what)
{
	struct result r;

	run(&r, args);
	cr_assert_eq(r.status, 2, "k23sim %s: exit %d, output: %s", args, r.status, r.out);
	cr_assert_eq(r.lines, 1, "k23sim %s: %d lines: %s", args, r.lines, r.out);
	cr_assert(strstr(r.out, what), "k23sim %s: '%s' not in: %s", args, what, r.out);
}

Test(cli, bad_input_is_one_line_and_status_2)
{
	rejects("--frobnicate", "--frobnicate");
	rejects("--harts", "'--harts' needs an argument");
	rejects("-x", "'-x'");
	rejects("--harts 0", "1 to 64");
	rejects("--harts 65", "1 to 64");
	rejects("--harts two", "'two'");
	rejects("--harts 2x", "'2x'");
	rejects("--memory 1K", "too small");
	rejects("--memory lots", "cannot parse");
	rejects("--memory 99999999999999999999G", "cannot parse");
	rejects("--memory 100000G", "too large");
	rejects("--memory 9M", "multiple of 2M");
	rejects("--paging sv32", "sv32");
	rejects("--log mm=loud", "mm=loud");
}

Test(cli, boots_every_paging_mode)
{
	static const char *const modes[] = { "sv39", "sv48", "sv57" };
	struct result r;
	char args[64];

	for (unsigned i = 0; i < 3; i++) {
		snprintf(args, sizeof(args), "--paging %s --harts 3 --memory 32M", modes[i]);
		run(&r, args);
		cr_assert_eq(r.status, 0, "%s: %s", args, r.out);
		cr_assert(strstr(r.out, modes[i]), "%s", r.out);
		cr_assert(strstr(r.out, "3 harts"), "%s", r.out);
		cr_assert(!strstr(r.out, "FAILED"), "%s", r.out);
	}
}

/* -- --invoke ------------------------------------------------------------- */

static char wasm_dir[] = "/tmp/k23-test-cli-XXXXXX";

/* .fini of the tests below: the modules go with the test's process. */
static void remove_wasm_dir(void)
{
	char cmd[PATH_MAX];

	if (strncmp(wasm_dir + strlen(wasm_dir) - 6, "XXXXXX", 6)) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", wasm_dir);
		if (system(cmd) != 0)
			cr_log_warn("could not remove %s", wasm_dir);
	}
}

/* A module from text into wasm_dir/NAME.wasm (wabt's wat2wasm). */
static void make_wasm(const char *name, const char *wat)
{
	char path[PATH_MAX], cmd[2 * PATH_MAX];
	FILE *f;

	if (!strncmp(wasm_dir + strlen(wasm_dir) - 6, "XXXXXX", 6))
		cr_assert_not_null(mkdtemp(wasm_dir));
	snprintf(path, sizeof(path), "%s/%s.wat", wasm_dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(wat, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "wat2wasm --debug-names %s -o %s/%s.wasm", path,
		 wasm_dir, name);
	cr_assert_eq(system(cmd), 0);
}

/* k23sim with the arguments fmt makes (a module's path in wasm_dir, say):
 * its status must be status, and its output out unless out is NULL. */
static void expect(int status, const char *out, const char *fmt, ...)
{
	char args[PATH_MAX + 256];
	struct result r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	run(&r, args);
	cr_assert_eq(r.status, status, "k23sim %s: exit %d: %s", args, r.status, r.out);
	if (out)
		cr_assert_str_eq(r.out, out, "k23sim %s", args);
}

static const char *math_wat =
	"(module"
	"  (func $div (export \"div\") (param i32 i32) (result i32)"
	"    (i32.div_s (local.get 0) (local.get 1)))"
	"  (func (export \"outer\") (param i32) (result i32)"
	"    (call $div (i32.const 1) (local.get 0)))"
	"  (func (export \"mix\") (param i64 f32 f64) (result i64 f32 f64)"
	"    (i64.mul (local.get 0) (i64.const 2))"
	"    (f32.neg (local.get 1)) (f64.add (local.get 2) (f64.const 0.25))))";

Test(cli, invoke_prints_each_result_on_a_line, .fini = remove_wasm_dir)
{
	make_wasm("math", math_wat);
	expect(0, "-3\n", "--invoke div %s/math.wasm -7 2", wasm_dir);
	/* f32.neg keeps a NaN's payload; f64.add of 1.5 and 0.25 is exact. */
	expect(0, "-32\n-nan:0x1\n1.75\n", "--invoke mix %s/math.wasm -0x10 nan:0x1 1.5",
	       wasm_dir);
}

Test(cli, invoke_reports_a_trap_with_a_backtrace, .fini = remove_wasm_dir)
{
	struct result r;
	char args[PATH_MAX + 64];

	make_wasm("math", math_wat);
	snprintf(args, sizeof(args), "--invoke outer %s/math.wasm 0", wasm_dir);
	run(&r, args);
	cr_assert_eq(r.status, 134, "%s", r.out);
	cr_assert(strstr(r.out, "integer divide by zero"), "%s", r.out);
	cr_assert(strstr(r.out, "div"), "%s", r.out);
}

/* A memory of 2.6 GB, written at both ends: by default the simulated RAM
 * holds what other engines let a wasm32 memory grow to (when the host has
 * the RAM); --memory makes the grow fail as the app's own answer. */
static const char *big_wat =
	"(module (memory 1)"
	"  (func (export \"run\") (result i32)"
	"    (if (i32.eq (memory.grow (i32.const 40000)) (i32.const -1))"
	"      (then (return (i32.const -1))))"
	"    (i32.store (i32.const 2600000000) (i32.const 7))"
	"    (i32.store (i32.const 1000) (i32.const 8))"
	"    (i32.add (i32.load (i32.const 2600000000)) (memory.size))))";

Test(cli, a_memory_of_gigabytes_grows_by_default, .fini = remove_wasm_dir)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	make_wasm("big", big_wat);
	if ((double)pages * (double)size >= 4.0 * (1u << 30))
		expect(0, "40008\n", "--invoke run %s/big.wasm", wasm_dir);
	expect(0, "-1\n", "--memory 1G --invoke run %s/big.wasm", wasm_dir);
}

/* k23sim run through a shell that prints its pid first: *pid, and the
 * rest of the output in r. */
static void run_with_pid(struct result *r, const char *args, int *pid)
{
	char cmd[PATH_MAX + 256];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "sh -c 'echo $$; exec %s %s' 2>&1", k23sim(), args);
	cr_assert(p = popen(cmd, "r"));
	cr_assert_eq(fscanf(p, "%d\n", pid), 1);
	n = fread(r->out, 1, sizeof(r->out) - 1, p);
	r->out[n] = 0;
	r->status = pclose(p);
	cr_assert(WIFEXITED(r->status));
	r->status = WEXITSTATUS(r->status);
}

Test(cli, perf_map_names_each_compiled_function, .fini = remove_wasm_dir)
{
	static const char *const names[] = { "func[0] div", "func[1]", "func[2]" };
	char args[PATH_MAX + 64], path[64], line[256];
	unsigned long at, size, end = 0;
	struct result r;
	unsigned k = 0;
	int pid;
	FILE *f;

	make_wasm("math", math_wat);
	snprintf(args, sizeof(args), "--perf-map --invoke div %s/math.wasm 7 2", wasm_dir);
	run_with_pid(&r, args, &pid);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert_str_eq(r.out, "3\n");
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", pid);
	cr_assert(f = fopen(path, "r"), "no %s", path);
	/* "START SIZE NAME": the functions in order, none overlapping. */
	while (fgets(line, sizeof(line), f)) {
		int name_at = 0;

		cr_assert_lt(k, 3, "extra line %s", line);
		cr_assert_eq(sscanf(line, "%lx %lx %n", &at, &size, &name_at), 2, "%s", line);
		line[strcspn(line, "\n")] = 0;
		cr_assert_str_eq(line + name_at, names[k]);
		cr_assert_gt(size, 0);
		cr_assert_geq(at, end, "%s overlaps the function before", line);
		end = at + size;
		k++;
	}
	fclose(f);
	unlink(path);
	cr_assert_eq(k, 3);
	/* Without the option, no map. */
	snprintf(args, sizeof(args), "--invoke div %s/math.wasm 7 2", wasm_dir);
	run_with_pid(&r, args, &pid);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", pid);
	cr_assert_neq(access(path, F_OK), 0, "%s written without --perf-map", path);
}

/* An app's task has SCHED_STACK_MAX of stack: 50,000 calls deep fit (V8
 * stops near 20,000), a million trap cleanly. */
static const char *deep_wat =
	"(module (func $down (export \"down\") (param i32) (result i32)"
	"  (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))"
	"    (else (i32.add (i32.const 1)"
	"      (call $down (i32.sub (local.get 0) (i32.const 1))))))))";

Test(cli, an_app_recurses_deeper_than_other_engines, .fini = remove_wasm_dir)
{
	struct result r;
	char args[PATH_MAX + 64];

	make_wasm("deep", deep_wat);
	expect(0, "50000\n", "--invoke down %s/deep.wasm 50000", wasm_dir);
	snprintf(args, sizeof(args), "--invoke down %s/deep.wasm 1000000", wasm_dir);
	run(&r, args);
	cr_assert_eq(r.status, 134, "%s", r.out);
	cr_assert(strstr(r.out, "call stack exhausted"), "%s", r.out);
	/* The smallest machine still runs it, on a smaller stack. */
	expect(0, "1000\n", "--memory 8M --invoke down %s/deep.wasm 1000", wasm_dir);
}

/*
 * A guest touching every other 4 KiB page of a 2 GiB memory: no two pages
 * it touches are neighbours, whatever frames they get.  Mapped a page at a
 * time, that took a host mapping per page, and past vm.max_map_count
 * (65530 by default, 262144 on this project's machines) k23sim died with
 * SIGABRT; memory is now populated 2 MiB at a time in consecutive frames.
 */
static const char *strided_wat =
	"(module (memory 1)"
	"  (func (export \"run\") (result i32) (local $a i32)"
	"    (if (i32.eq (memory.grow (i32.const 32767)) (i32.const -1))"
	"      (then (return (i32.const -1))))"
	"    (loop $l"
	"      (i32.store8 (local.get $a) (i32.const 1))"
	"      (local.set $a (i32.add (local.get $a) (i32.const 8192)))"
	"      (br_if $l (i32.lt_u (local.get $a) (i32.const 0x80000000))))"
	"    (memory.size)))";

Test(cli, a_guest_cannot_run_the_host_out_of_mappings, .fini = remove_wasm_dir, .timeout = 60)
{
	make_wasm("strided", strided_wat);
	expect(0, "32768\n", "--memory 3G --invoke run %s/strided.wasm", wasm_dir);
}

Test(cli, invoke_rejects_bad_input_in_one_line, .fini = remove_wasm_dir)
{
	char args[PATH_MAX + 64];

	make_wasm("math", math_wat);
	snprintf(args, sizeof(args), "--invoke div %s/math.wasm 1", wasm_dir);
	rejects(args, "takes 2 arguments, 1 given");
	snprintf(args, sizeof(args), "--invoke div %s/math.wasm 1 two", wasm_dir);
	rejects(args, "'two' is not an i32");
	snprintf(args, sizeof(args), "--invoke div %s/math.wasm 1 4294967296", wasm_dir);
	rejects(args, "'4294967296' is not an i32");
	snprintf(args, sizeof(args), "--invoke nope %s/math.wasm", wasm_dir);
	rejects(args, "no exported function 'nope'");
	rejects("--invoke div", "needs an APP.wasm");
}

Test(cli, invoke_names_the_offset_of_an_invalid_module, .fini = remove_wasm_dir)
{
	struct result r;
	char path[PATH_MAX], args[PATH_MAX + 64];
	FILE *f;

	make_wasm("math", math_wat);
	snprintf(path, sizeof(path), "%s/bad.wasm", wasm_dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fwrite("\0asm\1\0\0\0\1\5", 1, 10, f);	/* a type section cut short */
	fclose(f);
	snprintf(args, sizeof(args), "--invoke f %s", path);
	run(&r, args);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.out, "malformed module at offset 0x"), "%s", r.out);
}

/* -- Running a WASI command ------------------------------------------------ */

/* _start writes "hi\n" with fd_write, then exits with its first
 * argument's length (proc_exit), or traps if it has none. */
static const char *wasi_wat =
	"(module"
	"  (import \"wasi_snapshot_preview1\" \"fd_write\""
	"    (func $fd_write (param i32 i32 i32 i32) (result i32)))"
	"  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))"
	"  (import \"wasi_snapshot_preview1\" \"args_sizes_get\""
	"    (func $sizes (param i32 i32) (result i32)))"
	"  (memory (export \"memory\") 1)"
	"  (data (i32.const 16) \"hi\\n\")"
	"  (func $start (export \"_start\")"
	"    (i32.store (i32.const 0) (i32.const 16))"
	"    (i32.store (i32.const 4) (i32.const 3))"
	"    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
	"    (drop (call $sizes (i32.const 32) (i32.const 36)))"
	"    (if (i32.lt_u (i32.load (i32.const 32)) (i32.const 2)) (then unreachable))"
	"    (call $exit (i32.sub (i32.load (i32.const 36)) (i32.const 2)))))";

Test(cli, an_app_writes_and_exits_with_its_code, .fini = remove_wasm_dir)
{
	struct result r;
	char args[PATH_MAX + 64];

	make_wasm("app", wasi_wat);
	/* The exit code is the arguments' bytes (with their NULs) minus 2:
	 * argv[0] is the path as given, then "abcd". */
	snprintf(args, sizeof(args), "%s/app.wasm abcd", wasm_dir);
	run(&r, args);
	cr_assert_eq(r.status, (int)(strlen(wasm_dir) + strlen("/app.wasm") + 1 + 5 - 2) & 0xff,
		     "%s", r.out);
	cr_assert_str_eq(r.out, "hi\n");
	/* No argument: unreachable, reported with the function's name. */
	snprintf(args, sizeof(args), "%s/app.wasm", wasm_dir);
	run(&r, args);
	cr_assert_eq(r.status, 134, "%s", r.out);
	cr_assert(strstr(r.out, "hi\nwasm trap: unreachable"), "%s", r.out);
	cr_assert(strstr(r.out, "$start") || strstr(r.out, "start"), "%s", r.out);
}

Test(cli, trace_wasi_shows_each_call, .fini = remove_wasm_dir)
{
	struct result r;
	char args[PATH_MAX + 64];

	make_wasm("app", wasi_wat);
	snprintf(args, sizeof(args), "--trace-wasi %s/app.wasm 1", wasm_dir);
	run(&r, args);
	cr_assert(strstr(r.out, "wasi: fd_write(1, 0, 1, 8) = 0 SUCCESS\n"), "%s", r.out);
	cr_assert(strstr(r.out, "wasi: args_sizes_get(32, 36) = 0 SUCCESS\n"), "%s", r.out);
	cr_assert(strstr(r.out, "wasi: proc_exit("), "%s", r.out);
}

/* What cannot run is one line on stderr and status 1. */
static void refuses_args(const char *args, const char *what)
{
	struct result r;

	run(&r, args);
	cr_assert_eq(r.status, 1, "%s: exit %d: %s", args, r.status, r.out);
	cr_assert_eq(r.lines, 1, "%s: %s", args, r.out);
	cr_assert(strstr(r.out, what), "%s: '%s' not in: %s", args, what, r.out);
}

static void refuses(const char *file, const char *what)
{
	char args[PATH_MAX + 64];

	snprintf(args, sizeof(args), "%s/%s", wasm_dir, file);
	refuses_args(args, what);
}

Test(cli, an_app_that_cannot_run_gets_one_line, .fini = remove_wasm_dir)
{
	char path[PATH_MAX];
	FILE *f;

	make_wasm("unknown", "(module (import \"wasi_snapshot_preview1\" \"nope\" (func))"
		  " (func (export \"_start\")))");
	refuses("unknown.wasm", "unknown import \"wasi_snapshot_preview1\".\"nope\"");
	make_wasm("badsig", "(module (import \"wasi_snapshot_preview1\" \"fd_close\""
		  " (func (param i64))) (func (export \"_start\")))");
	refuses("badsig.wasm", "\"wasi_snapshot_preview1\".\"fd_close\"");
	make_wasm("nostart", "(module (func (export \"main\")))");
	refuses("nostart.wasm", "no exported function '_start'");
	snprintf(path, sizeof(path), "%s/text.wasm", wasm_dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("#!/bin/sh\necho not wasm\n", f);
	fclose(f);
	refuses("text.wasm", "malformed module at offset 0x0");
	snprintf(path, sizeof(path), "%s/cut.wasm", wasm_dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fwrite("\0asm\1\0\0\0\1\5\1\x60\0", 1, 13, f);
	fclose(f);
	refuses("cut.wasm", "malformed module at offset 0x");
}

Test(cli, app_options_are_checked, .fini = remove_wasm_dir)
{
	char args[PATH_MAX + 64];

	rejects("--env NOEQUALS /x.wasm", "'NOEQUALS' is not NAME=VALUE");
	rejects("--dir /tmp", "need an APP.wasm");
	/* What cannot be opened is status 1, as for a module that cannot run. */
	make_wasm("nostart", "(module)");
	refuses("../nonexistent.wasm", "nonexistent.wasm: No such file or directory");
	snprintf(args, sizeof(args), "--dir /nonexistent-dir %s/nostart.wasm", wasm_dir);
	refuses_args(args, "--dir /nonexistent-dir");
	snprintf(args, sizeof(args), "--tcplisten nonsense %s/nostart.wasm", wasm_dir);
	refuses_args(args, "--tcplisten nonsense");
	snprintf(args, sizeof(args), "--invoke div %s/nonexistent.wasm", wasm_dir);
	refuses_args(args, "nonexistent.wasm");
}
