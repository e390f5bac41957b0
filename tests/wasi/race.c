/*
 * race - a path checked and then opened must be the path opened.  While
 * this program opens "swap/secret.txt" and "swapfile" in /sandbox over
 * and over, tests/wasi_run.sh has a host process (host_tool swap)
 * exchange, as fast as it can and atomically (renameat2 RENAME_EXCHANGE):
 *
 *	sandbox/swap (a directory)  <->  WORK/swap_evil -> WORK/outside
 *	sandbox/swapfile (a file)   <->  WORK/swapfile_evil -> WORK/outside/secret.txt
 *
 * so that each path is sometimes innocent and sometimes a symlink out.  A
 * runtime that resolves a path in one step and opens it in another (check
 * the components, then open the whole host path) opens the secret when
 * the swap lands in between; one that opens component by component,
 * never following a symlink out, does not.  Each open must either read
 * the harmless inside contents or fail; the secret must never be read.
 * Both outcomes must be seen, which shows the swapping really ran.
 *
 * argv[1]: how long to keep trying, in milliseconds.
 */
#include <stdlib.h>
#include "wasi_test.h"

#define SECRET	"TOP-SECRET"

static __wasi_fd_t root;
static long opened, refused, leaked;

static void attempt(const char *path, __wasi_lookupflags_t flags)
{
	char buf[64] = { 0 };
	__wasi_iovec_t iov = { (uint8_t *)buf, sizeof(buf) - 1 };
	__wasi_size_t n;
	__wasi_fd_t fd;

	if (__wasi_path_open(root, flags, path, 0, test_rights(root, 1, 0), 0, 0, &fd) != 0) {
		refused++;
		return;
	}
	if (__wasi_fd_read(fd, &iov, 1, &n) == 0 && strstr(buf, SECRET)) {
		if (leaked++ == 0)
			printf("FAIL %s: THE SECRET WAS READ\n", path);
	} else {
		opened++;
	}
	(void)__wasi_fd_close(fd);
}

int main(int argc, char **argv)
{
	__wasi_timestamp_t start, now;
	int sandbox = test_preopen("/sandbox");

	if (argc != 2 || sandbox < 0) {
		fprintf(stderr, "usage: --dir SANDBOX::/sandbox %s MILLISECONDS\n", argv[0]);
		return 2;
	}
	root = (__wasi_fd_t)sandbox;
	(void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &start);
	do {
		attempt("swap/secret.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
		attempt("swap/secret.txt", 0);
		attempt("swapfile", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
		attempt("./swap/../swapfile", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
		(void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &now);
	} while (now - start < strtoull(argv[1], NULL, 10) * 1000000ull);

	fprintf(stderr, "race: %ld opened inside, %ld refused, %ld leaked\n", opened, refused, leaked);
	check(leaked == 0, "the secret was never read", "read %ld times", leaked);
	check(opened > 0, "some opens found the inside file", "none of %ld", refused);
	check(refused > 0, "some opens met a symlink out and failed", "none of %ld", opened);
	return test_status();
}
