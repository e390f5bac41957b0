/*
 * wasi_test.h - what the WASI test programs of tests/wasi/ share: one
 * line per checked fact on stdout ("ok   WHAT" or "FAIL WHAT: detail"), so
 * that tests/wasi_run.sh can compare the output with NAME.stdout and a diff
 * names the fact that broke; WASI errno names; finding a preopen by name;
 * and raw imports for calls whose wasi-libc wrappers would touch an
 * argument before the runtime sees it.
 *
 * Every test program is a module of its own, hence static inline.
 */
#ifndef K23_TESTS_WASI_TEST_H
#define K23_TESTS_WASI_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

/* A function of wasi_snapshot_preview1 by its own name, called with raw
 * i32/i64 arguments: nothing is read or checked on the program's side. */
#define WASI_IMPORT(name) \
	__attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

static int test_failures;

/* The WASI errno names, indexed by value (the spec's order). */
static const char *const test_errno_names[] = {
	"SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT",
	"AGAIN", "ALREADY", "BADF", "BADMSG", "BUSY", "CANCELED", "CHILD",
	"CONNABORTED", "CONNREFUSED", "CONNRESET", "DEADLK", "DESTADDRREQ",
	"DOM", "DQUOT", "EXIST", "FAULT", "FBIG", "HOSTUNREACH", "IDRM", "ILSEQ",
	"INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR", "LOOP", "MFILE",
	"MLINK", "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET",
	"NETUNREACH", "NFILE", "NOBUFS", "NODEV", "NOENT", "NOEXEC", "NOLCK",
	"NOLINK", "NOMEM", "NOMSG", "NOPROTOOPT", "NOSPC", "NOSYS", "NOTCONN",
	"NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP", "NOTTY",
	"NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO",
	"PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH", "STALE",
	"TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
};

static inline const char *test_errno_name(unsigned err)
{
	static char other[24];

	if (err < sizeof(test_errno_names) / sizeof(test_errno_names[0]))
		return test_errno_names[err];
	snprintf(other, sizeof(other), "errno %u", err);
	return other;
}

/*
 * Report one fact: "ok   WHAT" if OK, else "FAIL WHAT: " and the detail.
 * Flushed at once, so that a run that hangs or crashes shows how far it
 * got.
 */
__attribute__((format(printf, 3, 4)))
static inline void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok   %s\n", what);
		fflush(stdout);
		return;
	}
	test_failures++;
	printf("FAIL %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Report that a call returned errno WANT (a __WASI_ERRNO_* value). */
static inline void check_errno(unsigned got, unsigned want, const char *what)
{
	check(got == want, what, "got %s, want %s", test_errno_name(got), test_errno_name(want));
}

/*
 * The descriptor of the preopened directory named NAME, or -1.  Not every
 * descriptor from 3 up is a directory preopen (a preopened socket comes
 * first, and says EBADF), so a fixed range is searched.
 */
static inline int test_preopen(const char *name)
{
	__wasi_prestat_t pre;
	char buf[256];

	for (__wasi_fd_t fd = 3; fd < 64; fd++) {
		size_t len;

		if (__wasi_fd_prestat_get(fd, &pre) != 0 || pre.tag != __WASI_PREOPENTYPE_DIR)
			continue;
		len = pre.u.dir.pr_name_len;
		if (len >= sizeof(buf))
			continue;
		if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, len) != 0)
			continue;
		buf[len] = '\0';
		if (!strcmp(buf, name))
			return (int)fd;
	}
	return -1;
}

/*
 * The rights to ask for in a path_open under directory DIR, as wasi-libc's
 * open() computes them: what DIR passes on, less the reading rights
 * unless READ and the writing rights unless WRITE (a runtime that checks
 * rights refuses more than DIR passes on with ENOTCAPABLE, and one that
 * maps them to the host's open modes refuses a writable directory).
 */
static inline __wasi_rights_t test_rights(__wasi_fd_t dir, int read, int write)
{
	const __wasi_rights_t reading = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR;
	const __wasi_rights_t writing = __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_WRITE |
					__WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE;
	__wasi_fdstat_t st;

	if (__wasi_fd_fdstat_get(dir, &st) != 0)
		return 0;
	return st.fs_rights_inheriting & ~((read ? 0 : reading) | (write ? 0 : writing));
}

/* The exit status of a test program: 0 when every check passed. */
static inline int test_status(void)
{
	printf("%s\n", test_failures ? "some checks FAILED" : "all checks passed");
	return test_failures ? 1 : 0;
}

#endif /* K23_TESTS_WASI_TEST_H */
