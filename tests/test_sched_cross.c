/*
 * test_sched_cross.c - the shared scheduler unit tests (tests/cross/) on
 * every architecture: build/cross/sched_cases-ARCH runs natively for the
 * host's architecture and under qemu-user (Debian's qemu-aarch64,
 * qemu-riscv64) for the others.  Each case must report "ok".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "cross/sched_cases.h"

#if defined(__x86_64__)
#define HOST_ARCH "x86_64"
#elif defined(__aarch64__)
#define HOST_ARCH "aarch64"
#elif defined(__riscv)
#define HOST_ARCH "riscv64"
#endif

static char out[65536];

/* Run one architecture's program; its output in out, its exit status back. */
static int run_arch(const char *arch)
{
	char cmd[256];
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s%s build/cross/sched_cases-%s 2>&1",
		 strcmp(arch, HOST_ARCH) ? "qemu-" : "", strcmp(arch, HOST_ARCH) ? arch : "", arch);
	p = popen(cmd, "r");
	cr_assert(p, "cannot run %s", cmd);
	while ((n = fread(out + len, 1, sizeof(out) - 1 - len, p)) > 0)
		len += n;
	out[len] = 0;
	return pclose(p);
}

static void check_arch(const char *arch)
{
	int status = run_arch(arch);
	char want[160], missing[2048] = "";

#define EXPECT_OK(name)								\
	snprintf(want, sizeof(want), "case %s: ok\n", #name);			\
	if (!strstr(out, want))							\
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s", #name);
	SCHED_CASES(EXPECT_OK)
#undef EXPECT_OK
	cr_assert(!missing[0], "%s: cases that did not pass:%s\noutput:\n%s", arch, missing, out);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s: status %#x, output:\n%s", arch, status, out);
}

Test(sched_cross, x86_64_passes_every_shared_case)
{
	check_arch("x86_64");
}

Test(sched_cross, aarch64_passes_every_shared_case_under_qemu)
{
	check_arch("aarch64");
}

Test(sched_cross, riscv64_passes_every_shared_case_under_qemu)
{
	check_arch("riscv64");
}
