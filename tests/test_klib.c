/* test_klib.c - the kernel's formatter, string helpers and log filter. */
#include <criterion/criterion.h>
#include <stdio.h>
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/log.h"

/* ksnprintf must agree with the C library on every conversion it supports. */
#define SAME(fmt, ...) do {						\
	char a[128], b[128];						\
	int na = ksnprintf(a, sizeof(a), fmt, __VA_ARGS__);		\
	int nb = snprintf(b, sizeof(b), fmt, __VA_ARGS__);		\
	cr_assert_str_eq(a, b, "format \"%s\"", fmt);			\
	cr_assert_eq(na, nb, "length for \"%s\"", fmt);			\
} while (0)

Test(klib, ksnprintf_matches_libc)
{
	SAME("%d %i %u", -42, 2147483647, 4000000000u);
	SAME("%ld %lld", -9000000000l, (long long)-9223372036854775807ll - 1);
	SAME("%x %X %lx", 0xbeefu, 0xbeefu, 0xfeedfacecafeul);
	SAME("%08x|%-6d|%6s|%-6s|", 0x1234u, 7, "ab", "cd");
	SAME("%05d %c %% %s", -42, 'z', "str");
	SAME("%zu %p", (size_t)12345, (void *)0x1000);
	SAME("%*d", 5, 42);
	SAME("%#x %#llx %#x", 0x1fu, 0x10ull, 0u);
}

Test(klib, ksnprintf_truncates_and_reports_full_length)
{
	char buf[8];

	cr_assert_eq(ksnprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	cr_assert_str_eq(buf, "0123456");
	cr_assert_eq(ksnprintf(buf, 0, "abc"), 3);
}

Test(klib, error_names_come_from_the_table)
{
	cr_assert_str_eq(kerr_str(-K_ENOMEM), "out of memory");
	cr_assert_str_eq(kerr_str(K_EINVAL), "invalid argument");
	cr_assert_str_eq(kerr_str(-1000), "unknown error");
}

Test(klib, log_filter_sets_levels_per_subsystem)
{
	cr_assert_eq(log_set_filter("error,mm=debug"), 0);
	cr_assert(log_enabled(LOG_mm, LOG_DEBUG));
	cr_assert(!log_enabled(LOG_mm, LOG_TRACE));
	cr_assert(!log_enabled(LOG_sched, LOG_WARN));
	cr_assert(log_enabled(LOG_sched, LOG_ERROR));
}

Test(klib, bad_log_filter_is_rejected_whole)
{
	cr_assert_eq(log_set_filter("info"), 0);
	cr_assert_eq(log_set_filter("mm=debug,nosuch=info"), -K_EINVAL);
	cr_assert(!log_enabled(LOG_mm, LOG_DEBUG), "partial filter applied");
	cr_assert_eq(log_set_filter("mm=loud"), -K_EINVAL);
	cr_assert_eq(log_set_filter("verbose"), -K_EINVAL);
}

Test(klib, string_helpers)
{
	cr_assert_eq(kstrlen(""), 0);
	cr_assert_eq(kstrlen("k23"), 3);
	cr_assert(kstrcmp("abc", "abd") < 0);
	cr_assert_eq(kstrcmp("abc", "abc"), 0);
	cr_assert_eq(kstrncmp("abcx", "abcy", 3), 0);
	cr_assert(kstrncmp("ab", "abc", 3) < 0);
}
