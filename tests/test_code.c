/*
 * test_code.c - code memory: written while writable, run once sealed, and
 * never writable and executable at once (W^X).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "../kernel/hal.h"

/* Functions returning 42 and 7, in the host's machine code. */
#if defined(__x86_64__)
static const unsigned char ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };	/* mov eax,42; ret */
static const unsigned char ret7[] = { 0xb8, 7, 0, 0, 0, 0xc3 };
#elif defined(__aarch64__)
static const unsigned char ret42[] = { 0x40, 0x05, 0x80, 0x52,	/* mov w0,#42 */
				       0xc0, 0x03, 0x5f, 0xd6 };	/* ret */
static const unsigned char ret7[] = { 0xe0, 0x00, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6 };
#else
#error "test_code.c: no machine code for this host"
#endif

/* The permissions /proc/self/maps shows for the mapping holding p. */
static void perms_of(const void *p, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];

	cr_assert(f);
	strcpy(out, "none");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, out) == 3 &&
		    (unsigned long)p >= lo && (unsigned long)p < hi)
			break;
	fclose(f);
}

Test(code, sealed_code_runs_and_is_never_writable_and_executable)
{
	size_t len = HAL_PAGE_SIZE;
	unsigned char *code = hal_code_alloc(len);
	char perms[5];
	int (*fn)(void);

	cr_assert(code);
	perms_of(code, perms);
	cr_assert_eq(strncmp(perms, "rw-", 3), 0, "fresh code memory is %s", perms);
	memcpy(code, ret42, sizeof(ret42));
	cr_assert_eq(hal_code_seal(code, len), 0);
	perms_of(code, perms);
	cr_assert_eq(strncmp(perms, "r-x", 3), 0, "sealed code memory is %s", perms);
	fn = (int (*)(void))(void *)code;
	cr_assert_eq(fn(), 42);

	cr_assert_eq(hal_code_unseal(code, len), 0);
	perms_of(code, perms);
	cr_assert_eq(strncmp(perms, "rw-", 3), 0, "unsealed code memory is %s", perms);
	memcpy(code, ret7, sizeof(ret7));
	cr_assert_eq(hal_code_seal(code, len), 0);
	cr_assert_eq(fn(), 7, "patched code did not take effect after sealing");
	hal_code_free(code, len);
}

Test(code, sealing_a_bad_range_fails_cleanly)
{
	cr_assert_neq(hal_code_seal((void *)0x1001, HAL_PAGE_SIZE), 0);
}
