/* test_devices.c - the hosted console, clocks and entropy source. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "../kernel/hal.h"

Test(devices, clocks_are_monotonic_and_wall_clock_is_the_hosts)
{
	uint64_t a = hal_time_mono_ns(), b = hal_time_mono_ns();
	int64_t skew = (int64_t)(hal_time_wall_ns() / 1000000000ull) - (int64_t)time(NULL);

	cr_assert_geq(b, a);
	cr_assert(skew >= -1 && skew <= 1, "wall clock %lld s off", (long long)skew);
}

Test(devices, entropy_fills_every_byte_differently_each_time)
{
	unsigned char x[64], y[64];
	unsigned zeros = 0;

	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	hal_entropy(x, sizeof(x));
	hal_entropy(y, sizeof(y));
	cr_assert_neq(memcmp(x, y, sizeof(x)), 0);
	for (size_t i = 0; i < sizeof(x); i++)
		zeros += !x[i];
	cr_assert_lt(zeros, 8, "%u of 64 bytes left zero", zeros);
}

Test(devices, console_writes_the_bytes_given, .init = cr_redirect_stdout)
{
	hal_console_write("k23 console\n", 12);
	fflush(stdout);
	cr_assert_stdout_eq_str("k23 console\n");
}
