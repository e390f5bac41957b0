/*
 * test_cli.c - k23sim's command line: help, version, and bad input getting
 * one line of error and exit status 2, never a crash.
 */
#include <criterion/criterion.h>
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
