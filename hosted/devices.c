/* devices.c - console, clocks, entropy and backtraces from the host. */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "hart.h"

void hal_console_write(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(1, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hal_time_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t hal_time_wall_ns(void) { return clock_ns(CLOCK_REALTIME); }

void hal_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* getrandom cannot fail otherwise on Linux >= 3.17 with
			 * len <= 32 MiB; stop rather than hand out zeros. */
			perror("k23sim: getrandom");
			hal_shutdown(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Frames are printed one line each, with the function and offset. */
void hal_backtrace(void)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	char line[256], name[160];
	int depth = 0;

	unw_getcontext(&ctx);
	if (unw_init_local(&cur, &ctx) < 0)
		return;
	hal_console_write("backtrace:\n", 11);
	do {
		unw_word_t pc, off;
		int n;

		if (unw_get_reg(&cur, UNW_REG_IP, &pc) < 0 || !pc)
			break;
		if (unw_get_proc_name(&cur, name, sizeof(name), &off) < 0) {
			strcpy(name, "??");
			off = 0;
		}
		n = snprintf(line, sizeof(line), "  #%-2d %#014lx %s+%#lx\n", depth,
			     (unsigned long)pc, name, (unsigned long)off);
		hal_console_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	} while (++depth < 64 && unw_step(&cur) > 0);
}
