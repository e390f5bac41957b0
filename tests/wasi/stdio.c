/*
 * stdio - stdout and stderr stay apart, and stdin reads what the harness
 * feeds it: lines alternate between the two outputs through stdio and
 * through fd_write with several iovecs (a gathered write), the standard
 * descriptors report their rights, and the lines of stdin come back on
 * stdout upper-cased, then end of file.
 */
#include <ctype.h>
#include <unistd.h>
#include "wasi_test.h"

int main(void)
{
	__wasi_ciovec_t iov[3] = {
		{ (const uint8_t *)"gathered ", 9 },
		{ (const uint8_t *)"write on ", 9 },
		{ (const uint8_t *)"stdout\n", 7 },
	};
	__wasi_ciovec_t err_iov[2] = {
		{ (const uint8_t *)"gathered write ", 15 },
		{ (const uint8_t *)"on stderr\n", 10 },
	};
	__wasi_fdstat_t st;
	__wasi_size_t n;
	char line[256];

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("line 1 on stdout\n");
	fprintf(stderr, "line 1 on stderr\n");
	check_errno(__wasi_fd_write(1, iov, 3, &n), 0, "fd_write of three iovecs");
	check(n == 25, "it wrote 25 bytes", "%u", (unsigned)n);
	check_errno(__wasi_fd_write(2, err_iov, 2, &n), 0, "fd_write of two iovecs on stderr");
	check_errno(__wasi_fd_write(1, iov, 0, &n), 0, "fd_write of no iovecs");
	check(n == 0, "it wrote nothing", "%u", (unsigned)n);

	for (__wasi_fd_t fd = 0; fd < 3; fd++) {
		__wasi_rights_t want = fd ? __WASI_RIGHTS_FD_WRITE : __WASI_RIGHTS_FD_READ;
		char what[64];

		snprintf(what, sizeof(what), "fd %u: fdstat with the %s right", (unsigned)fd,
			 fd ? "write" : "read");
		check(__wasi_fd_fdstat_get(fd, &st) == 0 && (st.fs_rights_base & want), what,
		      "rights %llx", (unsigned long long)st.fs_rights_base);
	}

	while (fgets(line, sizeof(line), stdin)) {
		for (char *p = line; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		printf("stdin: %s", line);
	}
	check(feof(stdin) && !ferror(stdin), "stdin ends with end of file", "read error");
	fprintf(stderr, "line 2 on stderr\n");
	return test_status();
}
