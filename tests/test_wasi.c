/*
 * test_wasi.c - WASI calls that wait: a read on an empty pipe and
 * poll_oneoff block the app's task, never its hart, and end when the
 * data arrives or the clock runs out.  (The calls themselves are run
 * end to end by tests/wasi_run.sh and the conformance suite.)
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <unistd.h>
#include "harness.h"
#include "wat.h"
#include "../hosted/files.h"
#include "../jit/jit.h"
#include "../kernel/kerr.h"
#include "../sched/sched.h"
#include "../wasi/wasi.h"

/*
 * read(buf): fd_read of up to 100 bytes from stdin into buf, the count
 * (or -errno).
 * wait(timeout, with_fd): poll_oneoff on a relative monotonic clock
 * (userdata 0x1234) and, if with_fd, stdin being readable (userdata
 * 0x5678); the first event's userdata.
 */
static const char *waits_wat =
	"(module"
	"  (import \"wasi_snapshot_preview1\" \"fd_read\""
	"    (func $fd_read (param i32 i32 i32 i32) (result i32)))"
	"  (import \"wasi_snapshot_preview1\" \"poll_oneoff\""
	"    (func $poll (param i32 i32 i32 i32) (result i32)))"
	"  (memory (export \"memory\") 1)"
	"  (func (export \"read\") (param $buf i32) (result i32) (local $e i32)"
	"    (i32.store (i32.const 0) (local.get $buf))"
	"    (i32.store (i32.const 4) (i32.const 100))"
	"    (local.set $e (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
	"    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))"
	"    (i32.load (i32.const 8)))"
	"  (func (export \"wait\") (param $t i64) (param $fd i32) (result i64)"
	"    (i64.store (i32.const 256) (i64.const 0x1234))"
	"    (i32.store8 (i32.const 264) (i32.const 0))"
	"    (i32.store (i32.const 272) (i32.const 1))"
	"    (i64.store (i32.const 280) (local.get $t))"
	"    (i64.store (i32.const 288) (i64.const 0))"
	"    (i32.store16 (i32.const 296) (i32.const 0))"
	"    (i64.store (i32.const 304) (i64.const 0x5678))"
	"    (i32.store8 (i32.const 312) (i32.const 1))"
	"    (i32.store (i32.const 320) (i32.const 0))"
	"    (if (call $poll (i32.const 256) (i32.const 512) (i32.add (i32.const 1) (local.get $fd))"
	"                    (i32.const 600))"
	"      (then (return (i64.const -1))))"
	"    (if (i32.ne (i32.load (i32.const 600)) (i32.const 1)) (then (return (i64.const -2))))"
	"    (i64.load (i32.const 512))))";

static int pipefd[2];

/* An app: a module instantiated in a store of its own with WASI. */
struct app {
	uint8_t *bytes;
	struct jit_module *mod;
	struct jit_store *store;
	struct wasi *wasi;
	struct jit_instance *inst;
};

static struct app app;	/* the tests' one app, unless they need two */

static void setup(void)
{
	cr_assert_eq(pipe(pipefd), 0);
}

/* The app text with the pipe's read end as stdin and, if dir is not
 * NULL, that host directory preopened as "/". */
static void load(struct app *a, const char *text, const char *dir)
{
	struct jit_wasm_error err;
	struct jit_link_error lerr;
	struct wasi_preopen pre = { .name = "/" };
	struct wasi_config cfg = { .trace_fd = -1, .preopens = &pre, .npreopens = !!dir };
	size_t size;

	a->bytes = wat(text, &size);
	cr_assert_eq(jit_module_compile(a->bytes, size, NULL, &a->mod, &err), 0, "%s", err.msg);
	cfg.stdio[0] = hosted_fd_adopt(pipefd[0]);
	cfg.stdio[1] = hosted_fd_adopt(1);
	cfg.stdio[2] = hosted_fd_adopt(2);
	cr_assert(cfg.stdio[0] >= 0 && cfg.stdio[1] >= 0 && cfg.stdio[2] >= 0);
	if (dir) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY);

		cr_assert(fd >= 0 && (pre.fd = hosted_fd_adopt(fd)) >= 0, "%s", dir);
		close(fd);
	}
	cr_assert_eq(jit_store_create(&a->store), 0);
	cr_assert_eq(wasi_create(&cfg, &a->wasi), 0);
	cr_assert_eq(wasi_define(a->wasi, a->store), 0);
	cr_assert_eq(jit_instantiate(a->store, a->mod, &a->inst, &lerr), 0, "%s", lerr.msg);
}

static void unload(struct app *a)
{
	jit_store_destroy(a->store);
	wasi_destroy(a->wasi);
	jit_module_free(a->mod);
	free(a->bytes);
}

static struct jit_value call(struct app *a, const char *name, const struct jit_value *args,
			     uint32_t n)
{
	struct jit_extern ex;
	struct jit_value res;
	struct jit_trap_info trap;

	cr_assert_eq(jit_instance_export(a->inst, name, &ex), 0);
	cr_assert_eq(jit_call(ex.func, args, n, &res, 1, &trap), 0, "%s trapped: %s", name,
		     jit_trap_message(trap.code));
	return res;
}

/* Writes "ping" into the pipe after 100 ms, from outside the kernel. */
static void *writer(void *arg)
{
	usleep(100000);
	cr_assert_eq(write(pipefd[1], "ping", 4), 4);
	return NULL;
}

static atomic_int ticks;
static atomic_bool done;

/* Another task on the same hart, counting while the app waits. */
static intptr_t counter(void *arg)
{
	while (!atomic_load(&done)) {
		atomic_fetch_add(&ticks, 1);
		sched_sleep(1000000);
	}
	return 0;
}

static intptr_t app_read(void *arg)
{
	/* Into a page of the app's memory that nothing touched before: the
	 * host's read must not meet it unmapped. */
	struct jit_value buf = { JIT_I32, 0x8000 };
	struct jit_value v = call(&app, "read", &buf, 1);

	atomic_store(&done, true);
	return (int32_t)v.bits;
}

static int blocking_read(void *arg)
{
	struct sched_attr big = { .stack_size = SCHED_STACK_MAX, .hart = 0 };
	struct sched_attr small = { .hart = 0 };
	sched_task_t a, c;
	pthread_t w;
	intptr_t n;
	uint64_t t0 = harness_now_ms();

	load(&app, waits_wat, NULL);
	cr_assert_eq(pthread_create(&w, NULL, writer, NULL), 0);
	cr_assert_eq(sched_spawn(&c, counter, NULL, &small), 0);
	cr_assert_eq(sched_spawn(&a, app_read, NULL, &big), 0);
	sched_join(a, &n);
	sched_join(c, NULL);
	pthread_join(w, NULL);
	cr_assert_eq(n, 4, "fd_read gave %ld", (long)n);
	cr_assert_geq(harness_now_ms() - t0, 100);
	/* ~100 ticks of 1 ms while the reader waited, on the one hart. */
	cr_assert_gt(atomic_load(&ticks), 20, "only %d ticks: the read blocked the hart",
		     atomic_load(&ticks));
	unload(&app);
	return 0;
}

Test(wasi, a_read_on_an_empty_pipe_blocks_only_its_task, .init = setup)
{
	harness_boot(1, 64ull << 20, blocking_read);
}

static intptr_t app_wait(void *arg)
{
	const struct jit_value *args = arg;

	return (intptr_t)call(&app, "wait", args, 2).bits;
}

static int poll_waits(void *arg)
{
	struct sched_attr big = { .stack_size = SCHED_STACK_MAX };
	struct jit_value args[2] = { { JIT_I64, 50000000 }, { JIT_I32, 0 } };
	sched_task_t a;
	pthread_t w;
	intptr_t ud;
	uint64_t t0;

	load(&app, waits_wat, NULL);
	/* A clock alone: 50 ms pass. */
	t0 = harness_now_ms();
	cr_assert_eq(sched_spawn(&a, app_wait, args, &big), 0);
	sched_join(a, &ud);
	cr_assert_eq(ud, 0x1234, "event %#lx", (long)ud);
	cr_assert_geq(harness_now_ms() - t0, 50);
	cr_assert_lt(harness_now_ms() - t0, 2000);
	/* The pipe becomes readable after 100 ms, long before 10 s. */
	args[0].bits = 10000000000ull;
	args[1].bits = 1;
	t0 = harness_now_ms();
	cr_assert_eq(pthread_create(&w, NULL, writer, NULL), 0);
	cr_assert_eq(sched_spawn(&a, app_wait, args, &big), 0);
	sched_join(a, &ud);
	pthread_join(w, NULL);
	cr_assert_eq(ud, 0x5678, "event %#lx", (long)ud);
	cr_assert_geq(harness_now_ms() - t0, 100);
	cr_assert_lt(harness_now_ms() - t0, 5000);
	unload(&app);
	return 0;
}

Test(wasi, poll_oneoff_waits_for_a_clock_or_a_ready_pipe, .init = setup)
{
	harness_boot(2, 64ull << 20, poll_waits);
}

/*
 * Two apps share a directory.  The swapper makes "race.link" ->
 * ../outside and then keeps swapping "race" between the directory it is
 * and that symlink; the reader keeps opening race/file (following
 * symlinks) and reading it.  The reader must never read the secret next
 * to its root.  read(n) gives secrets | opened << 16 | refused << 36.
 */
static const char *swapper_wat =
	"(module"
	"  (import \"wasi_snapshot_preview1\" \"path_rename\""
	"    (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))"
	"  (import \"wasi_snapshot_preview1\" \"path_symlink\""
	"    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))"
	"  (memory (export \"memory\") 1)"
	"  (data (i32.const 100) \"race\")"
	"  (data (i32.const 110) \"race.dir\")"
	"  (data (i32.const 120) \"race.link\")"
	"  (data (i32.const 140) \"../outside\")"
	"  (func (export \"swap\") (param $n i32) (result i32)"
	"    (drop (call $symlink (i32.const 140) (i32.const 10) (i32.const 3)"
	"                         (i32.const 120) (i32.const 9)))"
	"    (loop $again"
	"      (drop (call $rename (i32.const 3) (i32.const 100) (i32.const 4)"
	"                          (i32.const 3) (i32.const 110) (i32.const 8)))"
	"      (drop (call $rename (i32.const 3) (i32.const 120) (i32.const 9)"
	"                          (i32.const 3) (i32.const 100) (i32.const 4)))"
	"      (drop (call $rename (i32.const 3) (i32.const 100) (i32.const 4)"
	"                          (i32.const 3) (i32.const 120) (i32.const 9)))"
	"      (drop (call $rename (i32.const 3) (i32.const 110) (i32.const 8)"
	"                          (i32.const 3) (i32.const 100) (i32.const 4)))"
	"      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))"
	"    (i32.const 0)))";

static const char *reader_wat =
	"(module"
	"  (import \"wasi_snapshot_preview1\" \"path_open\""
	"    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"
	"  (import \"wasi_snapshot_preview1\" \"fd_read\""
	"    (func $read (param i32 i32 i32 i32) (result i32)))"
	"  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))"
	"  (memory (export \"memory\") 1)"
	"  (data (i32.const 100) \"race/file\")"
	"  (func (export \"read\") (param $n i32) (result i64)"
	"    (local $e i32) (local $secrets i64) (local $opened i64) (local $refused i64)"
	"    (i32.store (i32.const 300) (i32.const 400))"
	"    (i32.store (i32.const 304) (i32.const 32))"
	"    (loop $again"
	"      (local.set $e (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 9)"
	"                     (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))"
	"      (if (i32.eq (local.get $e) (i32.const 63))"
	"        (then (local.set $refused (i64.add (local.get $refused) (i64.const 1)))))"
	"      (if (i32.eqz (local.get $e))"
	"        (then"
	"          (i32.store8 (i32.const 400) (i32.const 0))"
	"          (drop (call $read (i32.load (i32.const 200)) (i32.const 300) (i32.const 1)"
	"                            (i32.const 208)))"
	"          (if (i32.eq (i32.load8_u (i32.const 400)) (i32.const 83))"
	"            (then (local.set $secrets (i64.add (local.get $secrets) (i64.const 1)))))"
	"          (local.set $opened (i64.add (local.get $opened) (i64.const 1)))"
	"          (drop (call $close (i32.load (i32.const 200))))))"
	"      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))"
	"    (i64.or (local.get $secrets) (i64.or (i64.shl (local.get $opened) (i64.const 16))"
	"                                         (i64.shl (local.get $refused) (i64.const 36))))))";

static char racedir[] = "/tmp/k23-wasi-race-XXXXXX";
static struct app swapper, reader;

static intptr_t run_swapper(void *arg)
{
	struct jit_value n = { JIT_I32, 20000 };

	return (int32_t)call(&swapper, "swap", &n, 1).bits;
}

static intptr_t run_reader(void *arg)
{
	struct jit_value n = { JIT_I32, 20000 };

	return (intptr_t)call(&reader, "read", &n, 1).bits;
}

static int race(void *arg)
{
	struct sched_attr on0 = { .stack_size = SCHED_STACK_MAX, .hart = 0 };
	struct sched_attr on1 = { .stack_size = SCHED_STACK_MAX, .hart = 1 };
	char root[64], path[96];
	uint64_t opened = 0, refused = 0;
	sched_task_t s, r;
	intptr_t sv, rv;
	struct stat st;
	FILE *f;

	cr_assert_not_null(mkdtemp(racedir));
	snprintf(root, sizeof(root), "%s/root", racedir);
	snprintf(path, sizeof(path), "%s/outside", racedir);
	cr_assert_eq(mkdir(root, 0755) | mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/outside/file", racedir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("SECRET\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/race", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/race/file", root);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("inside\n", f);
	fclose(f);

	load(&swapper, swapper_wat, root);
	load(&reader, reader_wat, root);
	/* Rounds of both apps at once on two harts, until the reader met
	 * the symlink (a loaded host may run the two one after the other). */
	for (int round = 0; round < 20 && !(refused && opened); round++) {
		cr_assert_eq(sched_spawn(&s, run_swapper, NULL, &on1), 0);
		cr_assert_eq(sched_spawn(&r, run_reader, NULL, &on0), 0);
		sched_join(s, &sv);
		sched_join(r, &rv);
		cr_assert_eq(rv & 0xffff, 0, "the reader read the secret outside its root");
		opened += (uint64_t)rv >> 16 & 0xfffff;
		refused += (uint64_t)rv >> 36;
	}
	snprintf(path, sizeof(path), "%s/race.link", root);
	cr_assert_eq(lstat(path, &st), 0, "the swapper could not make its symlink");
	cr_assert(S_ISLNK(st.st_mode));
	cr_log_info("race: %lu opened, %lu refused", (unsigned long)opened,
		    (unsigned long)refused);
	cr_assert_gt(opened, 0, "never opened race/file");
	cr_assert_gt(refused, 0, "never met the symlink: no race took place");
	unload(&swapper);
	unload(&reader);
	snprintf(path, sizeof(path), "rm -rf %s", racedir);
	cr_assert_eq(system(path), 0);
	return 0;
}

Test(wasi, an_app_racing_symlinks_cannot_lead_another_outside, .init = setup)
{
	harness_boot(2, 64ull << 20, race);
}

/*
 * fill(pages, len): grow memory by pages, then random_get len bytes at
 * 64 KiB; the errno.  More bytes than the machine has frames: the host
 * side's first touch of a page it cannot have must trap the app, not
 * panic the kernel.
 */
static const char *fill_wat =
	"(module"
	"  (import \"wasi_snapshot_preview1\" \"random_get\""
	"    (func $random (param i32 i32) (result i32)))"
	"  (memory (export \"memory\") 1)"
	"  (func (export \"fill\") (param $pages i32) (param $len i32) (result i32)"
	"    (if (i32.lt_s (memory.grow (local.get $pages)) (i32.const 0))"
	"      (then (return (i32.const -1))))"
	"    (call $random (i32.const 65536) (local.get $len))))";

static int fill_beyond_ram(void *arg)
{
	struct jit_value args[2] = { { JIT_I32, 4096 }, { JIT_I32, 200u << 20 } };
	struct jit_trap_info trap;
	struct jit_extern ex;
	struct jit_value res;

	load(&app, fill_wat, NULL);
	cr_assert_eq(jit_instance_export(app.inst, "fill", &ex), 0);
	/* 200 MiB on a 64 MiB machine */
	cr_assert_eq(jit_call(ex.func, args, 2, &res, 1, &trap), -K_EFAULT,
		     "random_get of 200 MiB on 64 MiB returned %d", (int)(int32_t)res.bits);
	/* Not "out of bounds": the pages are the memory's, RAM ran out. */
	cr_assert_eq(trap.code, JIT_TRAP_OUT_OF_MEMORY, "%s", jit_trap_message(trap.code));
	cr_assert_str_eq(jit_trap_message(trap.code), "out of memory");
	unload(&app);
	/* The kernel carries on, its frames back. */
	load(&app, fill_wat, NULL);
	args[0].bits = 1;
	args[1].bits = 4096;
	cr_assert_eq(jit_instance_export(app.inst, "fill", &ex), 0);
	cr_assert_eq(jit_call(ex.func, args, 2, &res, 1, &trap), 0);
	cr_assert_eq((uint32_t)res.bits, 0);
	unload(&app);
	return 0;
}

Test(wasi, a_call_filling_more_memory_than_the_machine_has_traps_the_app, .init = setup)
{
	harness_boot(1, 64ull << 20, fill_beyond_ram);
}
