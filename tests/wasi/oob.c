/*
 * oob - every WASI function that takes a pointer, given one outside the
 * program's linear memory, returns EFAULT and does nothing else, and the
 * runtime lives on.  Each pointer argument is tried in turn, with:
 *
 *	BAD	0xfffffff0, far past the end of memory
 *	EDGE	a range that starts inside memory and runs past its end
 *	WRAP	an address plus a length that wraps around 2^32
 *
 * The calls are made through raw imports declared here, so the values
 * reach the runtime untouched (wasi-libc's wrappers would take strlen of
 * a path first).  Counts whose byte size overflows 32 bits (iovecs,
 * subscriptions) may be refused as EFAULT or EINVAL.  Beside them:
 * ranges that end exactly at the end of memory work (no off-by-one), and
 * a failing call wrote, read, created and consumed nothing (validate,
 * then act).  With a preopened socket (--tcplisten), the sock_ calls too.
 *
 * Needs --dir DIR::/scratch (an empty directory).
 */
#include "wasi_test.h"

#define I32 int32_t
#define I64 int64_t

WASI_IMPORT(args_get) I32 raw_args_get(I32, I32);
WASI_IMPORT(args_sizes_get) I32 raw_args_sizes_get(I32, I32);
WASI_IMPORT(environ_get) I32 raw_environ_get(I32, I32);
WASI_IMPORT(environ_sizes_get) I32 raw_environ_sizes_get(I32, I32);
WASI_IMPORT(clock_res_get) I32 raw_clock_res_get(I32, I32);
WASI_IMPORT(clock_time_get) I32 raw_clock_time_get(I32, I64, I32);
WASI_IMPORT(fd_fdstat_get) I32 raw_fd_fdstat_get(I32, I32);
WASI_IMPORT(fd_filestat_get) I32 raw_fd_filestat_get(I32, I32);
WASI_IMPORT(fd_prestat_get) I32 raw_fd_prestat_get(I32, I32);
WASI_IMPORT(fd_prestat_dir_name) I32 raw_fd_prestat_dir_name(I32, I32, I32);
WASI_IMPORT(fd_read) I32 raw_fd_read(I32, I32, I32, I32);
WASI_IMPORT(fd_write) I32 raw_fd_write(I32, I32, I32, I32);
WASI_IMPORT(fd_pread) I32 raw_fd_pread(I32, I32, I32, I64, I32);
WASI_IMPORT(fd_pwrite) I32 raw_fd_pwrite(I32, I32, I32, I64, I32);
WASI_IMPORT(fd_readdir) I32 raw_fd_readdir(I32, I32, I32, I64, I32);
WASI_IMPORT(fd_seek) I32 raw_fd_seek(I32, I64, I32, I32);
WASI_IMPORT(fd_tell) I32 raw_fd_tell(I32, I32);
WASI_IMPORT(path_create_directory) I32 raw_path_create_directory(I32, I32, I32);
WASI_IMPORT(path_filestat_get) I32 raw_path_filestat_get(I32, I32, I32, I32, I32);
WASI_IMPORT(path_filestat_set_times) I32 raw_path_filestat_set_times(I32, I32, I32, I32, I64, I64, I32);
WASI_IMPORT(path_link) I32 raw_path_link(I32, I32, I32, I32, I32, I32, I32);
WASI_IMPORT(path_open) I32 raw_path_open(I32, I32, I32, I32, I32, I64, I64, I32, I32);
WASI_IMPORT(path_readlink) I32 raw_path_readlink(I32, I32, I32, I32, I32, I32);
WASI_IMPORT(path_remove_directory) I32 raw_path_remove_directory(I32, I32, I32);
WASI_IMPORT(path_rename) I32 raw_path_rename(I32, I32, I32, I32, I32, I32);
WASI_IMPORT(path_symlink) I32 raw_path_symlink(I32, I32, I32, I32, I32);
WASI_IMPORT(path_unlink_file) I32 raw_path_unlink_file(I32, I32, I32);
WASI_IMPORT(poll_oneoff) I32 raw_poll_oneoff(I32, I32, I32, I32);
WASI_IMPORT(random_get) I32 raw_random_get(I32, I32);
WASI_IMPORT(sock_accept) I32 raw_sock_accept(I32, I32, I32);
WASI_IMPORT(sock_recv) I32 raw_sock_recv(I32, I32, I32, I32, I32, I32);
WASI_IMPORT(sock_send) I32 raw_sock_send(I32, I32, I32, I32, I32);

#define BAD	((I32)0xfffffff0)
#define FAULT	__WASI_ERRNO_FAULT

static I32 end;		/* the end of linear memory */
static I32 edge;	/* END - 4: an 8-byte result there runs past the end */
static I32 pre;		/* the /scratch preopen */

/* Scratch space inside memory, as I32 addresses. */
static uint8_t space[4096] __attribute__((aligned(16)));
#define OK(off)	((I32)(uintptr_t)(space + (off)))
#define OUT	OK(0)		/* a result slot (up to 64 bytes) */
#define OUT2	OK(64)
#define BUF	OK(128)		/* a 1 KiB buffer */
#define IOV	OK(1152)	/* an iovec array */
#define NAME	OK(1280)	/* a path */
#define NAME2	OK(1344)	/* another */

static void fault(I32 err, const char *what)
{
	check_errno((unsigned)err, FAULT, what);
}

static void fault_or_inval(I32 err, const char *what)
{
	check(err == FAULT || err == __WASI_ERRNO_INVAL, what, "got %s, want FAULT or INVAL",
	      test_errno_name((unsigned)err));
}

static void succeeds(I32 err, const char *what)
{
	check_errno((unsigned)err, 0, what);
}

/* Put the string S at NAME and return its length. */
static I32 name(const char *s)
{
	strcpy((char *)(uintptr_t)NAME, s);
	return (I32)strlen(s);
}

/* Point the iovec at IOV to [ADDR, ADDR + LEN). */
static void set_iov(I32 addr, I32 len)
{
	I32 iov[2] = { addr, len };

	memcpy((void *)(uintptr_t)IOV, iov, sizeof(iov));
}

static I32 open_file(const char *path, I32 oflags, int write)
{
	I32 fd = -1;
	I32 len = name(path);

	if (raw_path_open(pre, 0, NAME, len, oflags, (I64)test_rights((__wasi_fd_t)pre, 1, write),
			  (I64)test_rights((__wasi_fd_t)pre, 1, 1), 0, OUT) == 0)
		memcpy(&fd, space, sizeof(fd));
	return fd;
}

static void args_env_clocks_random(void)
{
	fault(raw_args_sizes_get(BAD, OUT), "args_sizes_get(BAD, ok)");
	fault(raw_args_sizes_get(OUT, BAD), "args_sizes_get(ok, BAD)");
	fault(raw_args_sizes_get(edge + 2, OUT), "args_sizes_get(EDGE, ok)");
	fault(raw_args_get(BAD, BUF), "args_get(BAD, ok)");
	fault(raw_args_get(OUT, BAD), "args_get(ok, BAD)");
	fault(raw_args_get(OUT, end - 2), "args_get(ok, EDGE)");
	fault(raw_environ_sizes_get(BAD, OUT), "environ_sizes_get(BAD, ok)");
	fault(raw_environ_sizes_get(OUT, BAD), "environ_sizes_get(ok, BAD)");
	fault(raw_environ_get(BAD, BUF), "environ_get(BAD, ok)");
	fault(raw_environ_get(OUT, BAD), "environ_get(ok, BAD)");
	fault(raw_environ_get(OUT, end - 2), "environ_get(ok, EDGE)");

	fault(raw_clock_res_get(0, BAD), "clock_res_get(BAD)");
	fault(raw_clock_res_get(0, edge), "clock_res_get(EDGE)");
	fault(raw_clock_time_get(1, 1, BAD), "clock_time_get(BAD)");
	fault(raw_clock_time_get(1, 1, edge), "clock_time_get(EDGE)");
	succeeds(raw_clock_time_get(1, 1, end - 8), "clock_time_get into the last 8 bytes");
	fault(raw_clock_time_get(1, 1, end), "clock_time_get at the end");

	memset((void *)(uintptr_t)(end - 16), 0xa5, 16);
	fault(raw_random_get(BAD, 16), "random_get(BAD, 16)");
	fault(raw_random_get(end - 8, 16), "random_get(EDGE, 16)");
	check(((uint8_t *)(uintptr_t)end)[-1] == 0xa5 && ((uint8_t *)(uintptr_t)end)[-8] == 0xa5,
	      "random_get(EDGE) wrote nothing", "the last bytes changed");
	fault(raw_random_get(OK(16), (I32)0xfffffff8), "random_get(WRAP)");
	succeeds(raw_random_get(end - 16, 16), "random_get of the last 16 bytes");
	succeeds(raw_random_get(end, 0), "random_get of 0 bytes at the end");
}

static void fd_calls(void)
{
	I32 file = open_file("data", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 1);
	I32 dir = open_file(".", __WASI_OFLAGS_DIRECTORY, 0);
	I64 size = -1;

	check(file >= 0 && dir >= 0, "open scratch files", "file %d dir %d", file, dir);
	fault(raw_fd_fdstat_get(1, BAD), "fd_fdstat_get(BAD)");
	fault(raw_fd_fdstat_get(1, end - 8), "fd_fdstat_get(EDGE)");
	fault(raw_fd_filestat_get(file, BAD), "fd_filestat_get(BAD)");
	fault(raw_fd_filestat_get(file, end - 32), "fd_filestat_get(EDGE)");
	fault(raw_fd_prestat_get(pre, BAD), "fd_prestat_get(BAD)");
	fault(raw_fd_prestat_get(pre, end - 4), "fd_prestat_get(EDGE)");
	fault(raw_fd_prestat_dir_name(pre, BAD, 8), "fd_prestat_dir_name(BAD)");
	fault(raw_fd_prestat_dir_name(pre, end - 4, 8), "fd_prestat_dir_name(EDGE)");

	/* fd_write: the iovec array, a buffer, the count, the result. */
	set_iov(BUF, 4);
	fault(raw_fd_write(file, BAD, 1, OUT), "fd_write(iovs BAD)");
	fault(raw_fd_write(file, end - 4, 1, OUT), "fd_write(iovs EDGE)");
	fault_or_inval(raw_fd_write(file, IOV, 0x20000001, OUT), "fd_write(iovs_len * 8 wraps)");
	fault(raw_fd_write(file, IOV, 1, BAD), "fd_write(nwritten BAD)");
	set_iov(BAD, 4);
	fault(raw_fd_write(file, IOV, 1, OUT), "fd_write(buf BAD)");
	set_iov(end - 2, 4);
	fault(raw_fd_write(file, IOV, 1, OUT), "fd_write(buf EDGE)");
	set_iov(BUF, (I32)0xfffffff0);
	fault(raw_fd_write(file, IOV, 1, OUT), "fd_write(buf WRAP)");
	set_iov(BUF, 4);
	fault(raw_fd_pwrite(file, IOV, 1, 0, BAD), "fd_pwrite(nwritten BAD)");
	set_iov(BAD, 4);
	fault(raw_fd_pwrite(file, IOV, 1, 0, OUT), "fd_pwrite(buf BAD)");
	check(raw_fd_filestat_get(file, OUT) == 0 && (memcpy(&size, space + 32, 8), size == 0),
	      "no failed write reached the file", "its size is %lld", (long long)size);
	set_iov(end - 4, 4);
	succeeds(raw_fd_write(file, IOV, 1, OUT), "fd_write of the last 4 bytes");

	/* fd_read and fd_pread: a failed read consumes nothing. */
	succeeds(raw_fd_seek(file, 0, __WASI_WHENCE_SET, OUT), "fd_seek to 0");
	set_iov(BUF, 4);
	fault(raw_fd_read(file, BAD, 1, OUT), "fd_read(iovs BAD)");
	fault(raw_fd_read(file, IOV, 1, BAD), "fd_read(nread BAD)");
	set_iov(BAD, 4);
	fault(raw_fd_read(file, IOV, 1, OUT), "fd_read(buf BAD)");
	set_iov(end - 2, 4);
	fault(raw_fd_read(file, IOV, 1, OUT), "fd_read(buf EDGE)");
	set_iov(BUF, (I32)0xfffffff0);
	fault(raw_fd_read(file, IOV, 1, OUT), "fd_read(buf WRAP)");
	fault_or_inval(raw_fd_read(file, IOV, 0x20000001, OUT), "fd_read(iovs_len * 8 wraps)");
	set_iov(BAD, 4);
	fault(raw_fd_pread(file, IOV, 1, 0, OUT), "fd_pread(buf BAD)");
	set_iov(BUF, 4);
	fault(raw_fd_pread(file, IOV, 1, 0, BAD), "fd_pread(nread BAD)");
	check(raw_fd_tell(file, OUT) == 0 && (memcpy(&size, space, 8), size == 0),
	      "no failed read moved the offset", "offset %lld", (long long)size);
	fault(raw_fd_seek(file, 0, __WASI_WHENCE_SET, BAD), "fd_seek(BAD)");
	fault(raw_fd_seek(file, 0, __WASI_WHENCE_SET, end - 4), "fd_seek(EDGE)");
	fault(raw_fd_tell(file, BAD), "fd_tell(BAD)");
	fault(raw_fd_readdir(dir, BAD, 256, 0, OUT), "fd_readdir(buf BAD)");
	fault(raw_fd_readdir(dir, end - 8, 256, 0, OUT), "fd_readdir(buf EDGE)");
	fault(raw_fd_readdir(dir, BUF, 256, 0, BAD), "fd_readdir(bufused BAD)");
	succeeds(raw_fd_readdir(dir, end - 256, 256, 0, OUT), "fd_readdir into the last 256 bytes");
}

static void path_calls(void)
{
	I32 len;
	I32 fd = -1;
	I64 rights = (I64)test_rights((__wasi_fd_t)pre, 1, 1);

	len = name("newdir");
	fault(raw_path_create_directory(pre, BAD, 6), "path_create_directory(BAD)");
	fault(raw_path_create_directory(pre, end - 3, 6), "path_create_directory(EDGE)");
	fault(raw_path_create_directory(pre, NAME, (I32)0xfffffff0), "path_create_directory(WRAP)");
	fault(raw_path_filestat_get(pre, 0, BAD, 4, OUT), "path_filestat_get(path BAD)");
	len = name("data");
	fault(raw_path_filestat_get(pre, 0, NAME, len, BAD), "path_filestat_get(out BAD)");
	fault(raw_path_filestat_get(pre, 0, NAME, len, end - 32), "path_filestat_get(out EDGE)");
	fault(raw_path_filestat_set_times(pre, 0, BAD, 4, 0, 0, 0), "path_filestat_set_times(BAD)");
	fault(raw_path_open(pre, 0, BAD, 4, 0, rights, rights, 0, OUT), "path_open(path BAD)");
	fault(raw_path_open(pre, 0, NAME, (I32)0xfffffff0, 0, rights, rights, 0, OUT),
	      "path_open(path WRAP)");
	len = name("created");
	fault(raw_path_open(pre, 0, NAME, len, __WASI_OFLAGS_CREAT, rights, rights, 0, BAD),
	      "path_open(O_CREAT, fd BAD)");
	fault(raw_path_open(pre, 0, NAME, len, __WASI_OFLAGS_CREAT, rights, rights, 0, end - 2),
	      "path_open(O_CREAT, fd EDGE)");
	check(raw_path_filestat_get(pre, 0, NAME, len, OUT) == __WASI_ERRNO_NOENT,
	      "the failed path_open created nothing", "the file exists");
	check(raw_path_open(pre, 0, NAME, len, __WASI_OFLAGS_CREAT, rights, rights, 0, end - 4) == 0 &&
	      (memcpy(&fd, (void *)(uintptr_t)(end - 4), 4), fd > 2),
	      "path_open with its result in the last 4 bytes", "fd %d", fd);

	len = name("link");
	strcpy((char *)space + 1344, "lnk");
	succeeds(raw_path_symlink(NAME, len, pre, NAME2, 3), "path_symlink lnk -> link");
	fault(raw_path_symlink(BAD, 4, pre, NAME, len), "path_symlink(target BAD)");
	fault(raw_path_symlink(NAME, len, pre, BAD, 4), "path_symlink(name BAD)");
	len = name("lnk");
	fault(raw_path_readlink(pre, BAD, 3, BUF, 64, OUT), "path_readlink(path BAD)");
	fault(raw_path_readlink(pre, NAME, len, BAD, 64, OUT), "path_readlink(buf BAD)");
	fault(raw_path_readlink(pre, NAME, len, end - 2, 64, OUT), "path_readlink(buf EDGE)");
	fault(raw_path_readlink(pre, NAME, len, BUF, 64, BAD), "path_readlink(bufused BAD)");
	fault(raw_path_link(pre, 0, BAD, 4, pre, NAME, len), "path_link(old BAD)");
	len = name("data");
	fault(raw_path_link(pre, 0, NAME, len, pre, BAD, 4), "path_link(new BAD)");
	fault(raw_path_rename(pre, BAD, 4, pre, NAME, len), "path_rename(old BAD)");
	fault(raw_path_rename(pre, NAME, len, pre, BAD, 4), "path_rename(new BAD)");
	fault(raw_path_rename(pre, NAME, len, pre, end - 1, 4), "path_rename(new EDGE)");
	fault(raw_path_unlink_file(pre, BAD, 4), "path_unlink_file(BAD)");
	fault(raw_path_unlink_file(pre, end - 2, 4), "path_unlink_file(EDGE)");
	fault(raw_path_remove_directory(pre, BAD, 4), "path_remove_directory(BAD)");
	check(raw_path_filestat_get(pre, 0, NAME, len, OUT) == 0, "data is still there",
	      "it is gone");
}

static void poll_calls(void)
{
	__wasi_subscription_t sub = { .userdata = 1, .u.tag = __WASI_EVENTTYPE_CLOCK };
	I32 in = OK(2048), out = OK(2304);

	sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
	sub.u.u.clock.timeout = 1000;
	memcpy((void *)(uintptr_t)in, &sub, sizeof(sub));
	fault(raw_poll_oneoff(BAD, out, 1, OUT), "poll_oneoff(in BAD)");
	fault(raw_poll_oneoff(end - 24, out, 1, OUT), "poll_oneoff(in EDGE)");
	fault(raw_poll_oneoff(in, BAD, 1, OUT), "poll_oneoff(out BAD)");
	fault(raw_poll_oneoff(in, end - 16, 1, OUT), "poll_oneoff(out EDGE)");
	fault(raw_poll_oneoff(in, out, 1, BAD), "poll_oneoff(nevents BAD)");
	fault_or_inval(raw_poll_oneoff(in, out, 0x05555556, OUT), "poll_oneoff(nsubscriptions * 48 wraps)");
	memcpy((void *)(uintptr_t)(end - sizeof(sub)), &sub, sizeof(sub));
	succeeds(raw_poll_oneoff(end - (I32)sizeof(sub), end - 32 - (I32)sizeof(sub), 1, OUT),
		 "poll_oneoff with its subscription in the last bytes");
}

/* With a preopened listening socket, the sock_ calls' pointers too. */
static void sock_calls(void)
{
	__wasi_fdstat_t st;
	I32 sock = -1;

	for (I32 fd = 3; fd < 64 && sock < 0; fd++)
		if (__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0 &&
		    st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
			sock = fd;
	if (sock < 0)
		return;
	set_iov(BUF, 16);
	fault(raw_sock_accept(sock, 0, BAD), "sock_accept(fd BAD)");
	fault(raw_sock_recv(sock, BAD, 1, 0, OUT, OUT2), "sock_recv(iovs BAD)");
	fault(raw_sock_recv(sock, IOV, 1, 0, BAD, OUT2), "sock_recv(datalen BAD)");
	fault(raw_sock_send(sock, BAD, 1, 0, OUT), "sock_send(iovs BAD)");
	fault(raw_sock_send(sock, IOV, 1, 0, BAD), "sock_send(datalen BAD)");
}

int main(void)
{
	/* A page of our own at the end of memory, which nothing else uses. */
	end = (I32)(__builtin_wasm_memory_grow(0, 1) + 1) * 65536;
	edge = end - 4;
	pre = test_preopen("/scratch");
	if (pre < 0) {
		fprintf(stderr, "oob: run with --dir DIR::/scratch\n");
		return 2;
	}
	args_env_clocks_random();
	fd_calls();
	path_calls();
	poll_calls();
	sock_calls();
	printf("the runtime survived\n");
	return test_status();
}
