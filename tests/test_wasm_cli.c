/*
 * test_wasm_cli.c - `k23sim validate` and `k23sim inspect`
 * (hosted/wasm_cli.c): exit statuses, and the one-line error naming the
 * file, the kind of error, the byte offset and the reason.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <unistd.h>

#include "hosted/cli.h"
#include "wasm_builder.h"

static char path[64];

static void write_module(const struct wb *w)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/k23-cli-XXXXXX");
	cr_assert_geq(fd = mkstemp(path), 0);
	cr_assert_eq(write(fd, w->buf, w->len), (ssize_t)w->len);
	close(fd);
}

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

static struct wb *add_module(void)
{
	static struct wb w;

	/* (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.add) */
	memset(&w, 0, sizeof(w));
	wb_func_module(&w, "ii", "i", WB_BYTES(0x00, 0x20, 0x00, 0x20, 0x01,
	    0x6a, 0x0b));
	return &w;
}

TestSuite(wasm_cli, .fini = cleanup);

Test(wasm_cli, validate_accepts_a_valid_module, .init = cr_redirect_stdout)
{
	char *argv[] = { NULL, NULL }, want[128];

	write_module(add_module());
	argv[0] = path;
	cr_assert_eq(hosted_cmd_validate(1, argv), 0);
	fflush(stdout);
	snprintf(want, sizeof(want), "%s: valid (1 functions, 7 bytes of code)\n",
	    path);
	cr_assert_stdout_eq_str(want);
}

Test(wasm_cli, validate_reports_file_kind_offset_and_reason,
     .init = cr_redirect_stderr)
{
	struct wb *w = add_module();
	char *argv[] = { NULL, NULL }, want[256];

	/* The second local.get 1 becomes f64.const 0: i32.add sees an f64. */
	w->len = 0;
	wb_func_module(w, "ii", "i", WB_BYTES(0x00, 0x20, 0x00, 0x44, 0, 0, 0,
	    0, 0, 0, 0, 0, 0x6a, 0x0b));
	write_module(w);
	argv[0] = path;
	cr_assert_eq(hosted_cmd_validate(1, argv), 1);
	fflush(stderr);
	snprintf(want, sizeof(want), "%s: invalid module at offset 0x%zx: type "
	    "mismatch in i32.add, expected i32 but got f64\n", path, w->len - 2);
	cr_assert_stderr_eq_str(want);
}

Test(wasm_cli, validate_calls_bad_bytes_malformed, .init = cr_redirect_stderr)
{
	struct wb w = { .len = 0 };
	char *argv[] = { NULL, NULL }, want[128];

	wb_bytes(&w, "\0asm\2\0\0\0", 8);
	write_module(&w);
	argv[0] = path;
	cr_assert_eq(hosted_cmd_validate(1, argv), 1);
	fflush(stderr);
	snprintf(want, sizeof(want), "%s: malformed module at offset 0x4: "
	    "unknown binary version\n", path);
	cr_assert_stderr_eq_str(want);
}

Test(wasm_cli, usage_errors_and_missing_files_exit_2, .init = cr_redirect_stderr)
{
	char *missing[] = { "/nonexistent/app.wasm", NULL };
	char *bad[] = { "--frobnicate", NULL };

	cr_expect_eq(hosted_cmd_validate(0, missing), 2);
	cr_expect_eq(hosted_cmd_validate(1, missing), 2);
	cr_expect_eq(hosted_cmd_validate(1, bad), 2);
	cr_expect_eq(hosted_cmd_inspect(0, missing), 2);
	cr_expect_eq(hosted_cmd_inspect(1, missing), 2);
}

Test(wasm_cli, help_exits_0, .init = cr_redirect_stdout)
{
	char *help[] = { "--help", NULL };

	cr_expect_eq(hosted_cmd_validate(1, help), 0);
	cr_expect_eq(hosted_cmd_inspect(1, help), 0);
}

Test(wasm_cli, inspect_summarises_types_functions_and_sizes,
     .init = cr_redirect_stdout)
{
	char *argv[] = { NULL, NULL }, out[4096] = { 0 };
	FILE *f;

	write_module(add_module());
	argv[0] = path;
	cr_assert_eq(hosted_cmd_inspect(1, argv), 0);
	fflush(stdout);
	f = cr_get_redirected_stdout();
	cr_assert_gt(fread(out, 1, sizeof(out) - 1, f), 0);
	cr_expect(strstr(out, "types (1):\n  0: (i32, i32) -> (i32)\n"), "%s", out);
	cr_expect(strstr(out, "functions: 1 defined, 0 imported; 7 bytes of code"),
	    "%s", out);
	cr_expect(strstr(out, "  code       at 0x"), "%s", out);
	cr_expect(strstr(out, "memories (0):"), "%s", out);
}
