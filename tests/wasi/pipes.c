/*
 * pipes - stdin and stdout are pipes, and the writer on stdin is slow
 * (tests/wasi/pipes.stdin_cmd: a line, 300 ms, a line, 300 ms, the end),
 * so WASI calls must wait for it: poll_oneoff on stdin wakes when the
 * first line arrives, well before its 5 s clock; a read waits for the
 * second line; the last read sees the end of the pipe.
 */
#include "wasi_test.h"

#define MS	1000000ull

static uint64_t mono(void)
{
	__wasi_timestamp_t t = 0;

	(void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
	return t;
}

/* Read what fd 0 has now (up to SIZE - 1 bytes) into BUF, as a string. */
static __wasi_size_t read_stdin(char *buf, size_t size, __wasi_errno_t *err)
{
	__wasi_iovec_t iov = { (uint8_t *)buf, size - 1 };
	__wasi_size_t n = 0;

	*err = __wasi_fd_read(0, &iov, 1, &n);
	buf[n] = '\0';
	return n;
}

int main(void)
{
	__wasi_subscription_t subs[2] = {
		{ .userdata = 1, .u.tag = __WASI_EVENTTYPE_FD_READ, .u.u.fd_read.file_descriptor = 0 },
		{ .userdata = 2, .u.tag = __WASI_EVENTTYPE_CLOCK,
		  .u.u.clock = { .id = __WASI_CLOCKID_MONOTONIC, .timeout = 5000 * MS } },
	};
	__wasi_event_t ev[2];
	__wasi_filestat_t st;
	__wasi_errno_t err;
	__wasi_size_t n = 0;
	char buf[64];
	uint64_t t0, took;

	check(__wasi_fd_filestat_get(0, &st) == 0 && st.filetype != __WASI_FILETYPE_REGULAR_FILE,
	      "stdin is not a regular file", "filetype %u", st.filetype);

	t0 = mono();
	check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll stdin with a 5 s clock");
	took = mono() - t0;
	check(n >= 1 && ev[0].userdata == 1 && ev[0].error == 0, "stdin became readable",
	      "n %u, userdata %llu, error %s", (unsigned)n, (unsigned long long)ev[0].userdata,
	      test_errno_name(ev[0].error));
	check(took < 4000 * MS, "the poll woke with the data, not the clock", "after %llu ms",
	      (unsigned long long)(took / MS));

	read_stdin(buf, sizeof(buf), &err);
	check(err == 0 && !strcmp(buf, "first\n"), "read the first line", "[%s] %s", buf,
	      test_errno_name(err));

	t0 = mono();
	read_stdin(buf, sizeof(buf), &err);
	took = mono() - t0;
	check(err == 0 && !strcmp(buf, "second\n"), "read waits for the second line", "[%s] %s",
	      buf, test_errno_name(err));
	check(took >= 100 * MS, "it waited for the writer", "after %llu ms",
	      (unsigned long long)(took / MS));

	check(read_stdin(buf, sizeof(buf), &err) == 0 && err == 0, "then the end of the pipe",
	      "[%s] %s", buf, test_errno_name(err));
	return test_status();
}
