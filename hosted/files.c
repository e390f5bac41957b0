/*
 * files.c - the platform's file device on Linux: files, directories,
 * pipes, terminals and sockets of the host (kernel/hal.h, "Files and
 * sockets").  A handle is a host descriptor.
 *
 * The sandbox rests on this file as much as on the kernel's VFS: no call
 * here resolves more than one name or follows a symbolic link.  Every
 * name goes to an *at() call relative to a directory handle, opens carry
 * O_NOFOLLOW, and the rest use AT_SYMLINK_NOFOLLOW or calls that never
 * follow (unlinkat, renameat, linkat without AT_SYMLINK_FOLLOW, mkdirat,
 * symlinkat, readlinkat).  Names are checked again here although the VFS
 * never passes a bad one: NULL, "" and "." (outside hal_fd_open) are
 * -K_EINVAL, malformed; ".." and anything with a '/' are -K_ENOTCAPABLE,
 * as they would leave the directory.
 *
 * Every host call runs with the hart's interrupts held off (see hold()),
 * is retried on EINTR, and maps errno to -K_* (kerr_of()).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../kernel/kerr.h"
#include "files.h"
#include "hart.h"

/* -- Errors -------------------------------------------------------------- */

/*
 * Linux errno -> K_*.  Every errno with a K_ equivalent is listed; a few
 * without one map to the nearest (marked); any other errno (ESRCH,
 * ECHILD, ENOEXEC, ENOTBLK, EDOM, EDEADLK, ENOLCK, ESTALE, EADDRNOTAVAIL,
 * ENETUNREACH, EHOSTUNREACH, ECANCELED, ... and whatever a later kernel
 * adds) has no kernel equivalent and becomes K_EIO.  EINTR never gets
 * here: calls are retried.
 */
static const unsigned char kerr_table[] = {
	[EPERM] = K_EPERM,
	[ENOENT] = K_ENOENT,
	[EINTR] = K_EINTR,
	[EIO] = K_EIO,
	[ENXIO] = K_ENXIO,
	[E2BIG] = K_E2BIG,
	[EBADF] = K_EBADF,
	[EAGAIN] = K_EAGAIN,		/* == EWOULDBLOCK */
	[ENOMEM] = K_ENOMEM,
	[EACCES] = K_EACCES,
	[EFAULT] = K_EFAULT,
	[EBUSY] = K_EBUSY,
	[EEXIST] = K_EEXIST,
	[EXDEV] = K_EXDEV,
	[ENODEV] = K_ENXIO,		/* nearest: no such device */
	[ENOTDIR] = K_ENOTDIR,
	[EISDIR] = K_EISDIR,
	[EINVAL] = K_EINVAL,
	[ENFILE] = K_EMFILE,		/* nearest: the system's table is full */
	[EMFILE] = K_EMFILE,
	[ENOTTY] = K_ENOTTY,
	[ETXTBSY] = K_ETXTBSY,
	[EFBIG] = K_EFBIG,
	[ENOSPC] = K_ENOSPC,
	[ESPIPE] = K_ESPIPE,
	[EROFS] = K_EROFS,
	[EMLINK] = K_EMLINK,
	[EPIPE] = K_EPIPE,
	[ERANGE] = K_ERANGE,
	[ENAMETOOLONG] = K_ENAMETOOLONG,
	[ENOSYS] = K_ENOSYS,
	[ENOTEMPTY] = K_ENOTEMPTY,
	[ELOOP] = K_ELOOP,
	[EOVERFLOW] = K_EOVERFLOW,
	[EILSEQ] = K_EILSEQ,
	[ENOTSOCK] = K_ENOTSOCK,
	[EOPNOTSUPP] = K_ENOTSUP,	/* == ENOTSUP */
	[ENOBUFS] = K_ENOMEM,		/* nearest: socket buffers exhausted */
	[EADDRINUSE] = K_EADDRINUSE,
	[ECONNABORTED] = K_ECONNABORTED,
	[ECONNRESET] = K_ECONNRESET,
	[ENOTCONN] = K_ENOTCONN,
	[ESHUTDOWN] = K_EPIPE,		/* nearest: sending after shutdown */
	[ETIMEDOUT] = K_ETIMEDOUT,
	[ECONNREFUSED] = K_ECONNREFUSED,
	[EDQUOT] = K_EDQUOT,
};

_Static_assert(K_NERR <= 256, "kerr_table holds K_ codes in bytes");

/* A positive K_ code for a host errno. */
static int kerr_of(int e)
{
	if (e > 0 && (size_t)e < sizeof(kerr_table) && kerr_table[e])
		return kerr_table[e];
	return K_EIO;
}

/* -- Host calls ---------------------------------------------------------- */

/*
 * A hart's timer and IPI signals may switch tasks from inside their
 * handler whenever the hart's interrupts are on.  A switch between a host
 * call and the read of its errno would let another task's call on this
 * hart (this thread) overwrite errno, and a task resumed on another hart
 * would read that hart's.  So each host call runs with the interrupts held
 * off, as hal_irq_save() would, and they are given back (taking what came
 * meanwhile) only if they were on.  A signal during the call only sets a
 * pending bit; a blocking call it interrupts fails with EINTR and is
 * retried.  Off a hart (the unit tests, the command line before boot)
 * there is nothing to hold.
 */
static inline struct hart *hold(void)
{
	struct hart *h = hosted_self;

	if (!h || h->irq_off)
		return NULL;
	h->irq_off = 1;
	__asm__ volatile("" ::: "memory");
	return h;
}

static inline void release(struct hart *h)
{
	if (h)
		hal_irq_enable();
}

/*
 * Evaluate expr, a host call failing with a negative result and errno,
 * with the hart held and again while it fails with EINTR: its result, or
 * -K_* for the errno.
 */
#define HOST(expr) ({							\
	struct hart *h_ = hold();					\
	long r_;							\
									\
	do								\
		r_ = (long)(expr);					\
	while (r_ < 0 && errno == EINTR);				\
	if (r_ < 0)							\
		r_ = -kerr_of(errno);					\
	release(h_);							\
	r_;								\
})

/* For calls that return an error number instead (posix_fadvise, ...). */
#define HOST_ERR(expr) ({						\
	struct hart *h_ = hold();					\
	int e_;								\
									\
	do								\
		e_ = (expr);						\
	while (e_ == EINTR);						\
	release(h_);							\
	e_ ? -kerr_of(e_) : 0;						\
})

/* A name that is one component of dir, see the top of the file. */
static int check_name(const char *name, bool dot_ok)
{
	if (!name || !name[0] || (!dot_ok && !strcmp(name, ".")))
		return -K_EINVAL;
	if (!strcmp(name, "..") || strchr(name, '/'))
		return -K_ENOTCAPABLE;
	return 0;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return 0;	/* before 1970: the type cannot say it */
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/*
 * FIFOs and sockets found by name have no WASI type (a socket's stream or
 * datagram kind is known only once it is open): HAL_FT_UNKNOWN, as in
 * readdir.
 */
static uint8_t ftype_of_mode(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return HAL_FT_FILE;
	case S_IFDIR:	return HAL_FT_DIR;
	case S_IFLNK:	return HAL_FT_SYMLINK;
	case S_IFCHR:	return HAL_FT_CHAR;
	case S_IFBLK:	return HAL_FT_BLOCK;
	default:	return HAL_FT_UNKNOWN;
	}
}

static void fill_stat(struct hal_stat *st, const struct stat *s)
{
	st->dev = s->st_dev;
	st->ino = s->st_ino;
	st->type = ftype_of_mode(s->st_mode);
	st->nlink = s->st_nlink;
	st->size = (uint64_t)s->st_size;
	st->atime = ts_ns(&s->st_atim);
	st->mtime = ts_ns(&s->st_mtim);
	st->ctime = ts_ns(&s->st_ctim);
}

/*
 * SIGPIPE would end k23sim when an app writes to a pipe or socket whose
 * reader is gone; with it ignored the write fails with EPIPE, which the
 * app gets.  Sends also pass MSG_NOSIGNAL, but write() on a pipe has no
 * such flag.  A handler someone installed on purpose is left alone.
 */
__attribute__((constructor)) static void files_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (!sigaction(SIGPIPE, NULL, &sa) && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

/* -- Opening and closing ------------------------------------------------- */

#define HAL_O_ALL	(HAL_O_READ | HAL_O_WRITE | HAL_O_CREAT | HAL_O_EXCL | \
			 HAL_O_TRUNC | HAL_O_DIRECTORY | HAL_O_APPEND |       \
			 HAL_O_DSYNC | HAL_O_SYNC | HAL_O_RSYNC | HAL_O_PATH)
#define HAL_O_FDFLAGS	(HAL_O_APPEND | HAL_O_DSYNC | HAL_O_SYNC | HAL_O_RSYNC)

/* Linux's bits for the sync flags (O_SYNC includes O_DSYNC's bit, and
 * O_RSYNC is O_SYNC). */
static int sync_oflags(unsigned flags)
{
	return (flags & HAL_O_DSYNC ? O_DSYNC : 0) |
	       (flags & HAL_O_SYNC ? O_SYNC : 0) |
	       (flags & HAL_O_RSYNC ? O_RSYNC : 0);
}

static bool is_symlink(hal_fd_t dir, const char *name)
{
	struct stat s;

	return HOST(fstatat(dir, name, &s, AT_SYMLINK_NOFOLLOW)) == 0 && S_ISLNK(s.st_mode);
}

/*
 * HAL_O_PATH is O_PATH, which ignores every flag but O_DIRECTORY and
 * O_NOFOLLOW: asking it to write, create or truncate is -K_EINVAL rather
 * than silently not done.  Neither HAL_O_READ nor HAL_O_WRITE opens for
 * reading.  Everything is opened O_NONBLOCK, so that a FIFO's open does
 * not wait for its other end (-K_ENXIO for a writer without a reader
 * instead), then regular files and directories go back to blocking (but
 * for HAL_O_DIRECTORY, where the flag means nothing and a check would
 * cost a call).
 */
int hal_fd_open(hal_fd_t dir, const char *name, unsigned flags, hal_fd_t *out)
{
	int oflags = O_CLOEXEC | O_NOFOLLOW, err;
	long fd;
	struct stat s;

	err = check_name(name, true);
	if (err)
		return err;
	if (flags & ~HAL_O_ALL)
		return -K_EINVAL;
	if ((flags & HAL_O_CREAT) && (flags & HAL_O_DIRECTORY))
		return -K_EINVAL;	/* Linux < 6.4 would create a file */
	if (flags & HAL_O_PATH) {
		if (flags & (HAL_O_WRITE | HAL_O_CREAT | HAL_O_EXCL | HAL_O_TRUNC))
			return -K_EINVAL;
		oflags |= O_PATH;
	} else {
		oflags |= O_NONBLOCK | O_NOCTTY | sync_oflags(flags);
		if ((flags & HAL_O_WRITE) && (flags & HAL_O_READ))
			oflags |= O_RDWR;
		else if (flags & HAL_O_WRITE)
			oflags |= O_WRONLY;
		if (flags & HAL_O_CREAT)
			oflags |= O_CREAT;
		if (flags & HAL_O_EXCL)
			oflags |= O_EXCL;
		if (flags & HAL_O_TRUNC)
			oflags |= O_TRUNC;
		if (flags & HAL_O_APPEND)
			oflags |= O_APPEND;
	}
	if (flags & HAL_O_DIRECTORY)
		oflags |= O_DIRECTORY;

	fd = HOST(openat(dir, name, oflags, 0666));
	/*
	 * O_NOFOLLOW makes a symlink ELOOP, except that O_DIRECTORY is
	 * checked first and gives ENOTDIR.  Without HAL_O_PATH the contract
	 * is ELOOP for any symlink.  (With it, the link opens as itself,
	 * which is not a directory: ENOTDIR stands.)
	 */
	if (fd == -K_ENOTDIR && !(flags & HAL_O_PATH) && (flags & HAL_O_DIRECTORY) &&
	    is_symlink(dir, name))
		fd = -K_ELOOP;
	if (fd < 0)
		return (int)fd;
	if (!(flags & (HAL_O_PATH | HAL_O_DIRECTORY))) {
		err = (int)HOST(fstat((int)fd, &s));
		if (!err && (S_ISREG(s.st_mode) || S_ISDIR(s.st_mode)))
			err = (int)HOST(fcntl((int)fd, F_SETFL, oflags & O_APPEND));
		if (err) {
			close((int)fd);
			return err;
		}
	}
	*out = (int)fd;
	return 0;
}

/* Linux has released the descriptor even when close() says EINTR:
 * retrying could close one another hart has just opened. */
int hal_fd_close(hal_fd_t fd)
{
	struct hart *h = hold();
	int r = close(fd) < 0 && errno != EINTR ? -kerr_of(errno) : 0;

	release(h);
	return r;
}

/* Handles stay clear of 0, 1 and 2, which stdio writes to. */
int hal_fd_dup(hal_fd_t fd, hal_fd_t *out)
{
	long r = HOST(fcntl(fd, F_DUPFD_CLOEXEC, 3));

	if (r < 0)
		return (int)r;
	*out = (int)r;
	return 0;
}

/* -- Data ---------------------------------------------------------------- */

int64_t hal_fd_read(hal_fd_t fd, void *buf, size_t len)
{
	return HOST(read(fd, buf, len));
}

int64_t hal_fd_write(hal_fd_t fd, const void *buf, size_t len)
{
	return HOST(write(fd, buf, len));
}

int64_t hal_fd_pread(hal_fd_t fd, void *buf, size_t len, uint64_t off)
{
	if (off > INT64_MAX)
		return -K_EINVAL;
	return HOST(pread(fd, buf, len, (off_t)off));
}

int64_t hal_fd_pwrite(hal_fd_t fd, const void *buf, size_t len, uint64_t off)
{
	if (off > INT64_MAX)
		return -K_EINVAL;
	return HOST(pwrite(fd, buf, len, (off_t)off));
}

int hal_fd_seek(hal_fd_t fd, int64_t off, int whence, uint64_t *pos)
{
	static const int host_whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };
	long r;

	if (whence < 0 || whence > 2)
		return -K_EINVAL;
	r = HOST(lseek(fd, off, host_whence[whence]));
	if (r < 0)
		return (int)r;
	*pos = (uint64_t)r;
	return 0;
}

int hal_fd_sync(hal_fd_t fd, bool data_only)
{
	return (int)HOST(data_only ? fdatasync(fd) : fsync(fd));
}

int hal_fd_advise(hal_fd_t fd, uint64_t off, uint64_t len, unsigned advice)
{
	static const int host_advice[] = {
		POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
		POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE,
	};

	if (advice > 5 || off > INT64_MAX || len > INT64_MAX)
		return -K_EINVAL;
	return HOST_ERR(posix_fadvise(fd, (off_t)off, (off_t)len, host_advice[advice]));
}

/* glibc falls back to writing zeros where the file system cannot. */
int hal_fd_allocate(hal_fd_t fd, uint64_t off, uint64_t len)
{
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -K_EFBIG;
	return HOST_ERR(posix_fallocate(fd, (off_t)off, (off_t)len));
}

int hal_fd_truncate(hal_fd_t fd, uint64_t size)
{
	if (size > INT64_MAX)
		return -K_EFBIG;
	return (int)HOST(ftruncate(fd, (off_t)size));
}

/* -- Flags --------------------------------------------------------------- */

/*
 * Linux keeps no separate O_RSYNC (it is O_SYNC) and O_SYNC sets O_DSYNC's
 * bit too, so a handle opened with SYNC or RSYNC reports SYNC, RSYNC and
 * DSYNC: Linux gives all three guarantees to it.  A DSYNC handle reports
 * DSYNC alone.
 */
int hal_fd_get_flags(hal_fd_t fd, unsigned *flags)
{
	long fl = HOST(fcntl(fd, F_GETFL));

	if (fl < 0)
		return (int)fl;
	*flags = (fl & O_APPEND ? HAL_O_APPEND : 0) |
		 (fl & O_DSYNC ? HAL_O_DSYNC : 0) |
		 ((fl & O_SYNC) == O_SYNC ? HAL_O_SYNC | HAL_O_RSYNC : 0);
	return 0;
}

/*
 * Sync flags that Linux would encode as the handle has them already are
 * accepted (so get_flags, then set_flags with APPEND changed, works);
 * any other change of them is -K_ENOTSUP, as F_SETFL ignores them.
 */
int hal_fd_set_flags(hal_fd_t fd, unsigned flags)
{
	long fl;

	if (flags & ~HAL_O_FDFLAGS)
		return -K_EINVAL;
	fl = HOST(fcntl(fd, F_GETFL));
	if (fl < 0)
		return (int)fl;
	if ((fl & O_SYNC) != sync_oflags(flags))
		return -K_ENOTSUP;
	fl = (fl & ~O_APPEND) | (flags & HAL_O_APPEND ? O_APPEND : 0);
	return (int)HOST(fcntl(fd, F_SETFL, (int)fl));
}

/* -- Metadata ------------------------------------------------------------ */

int hal_fd_stat(hal_fd_t fd, struct hal_stat *st)
{
	struct stat s;
	long r = HOST(fstat(fd, &s));

	if (r < 0)
		return (int)r;
	fill_stat(st, &s);
	if (S_ISSOCK(s.st_mode)) {
		int type;
		socklen_t len = sizeof(type);

		if (!HOST(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)))
			st->type = type == SOCK_STREAM ? HAL_FT_STREAM :
				   type == SOCK_DGRAM ? HAL_FT_DGRAM : HAL_FT_UNKNOWN;
	}
	return 0;
}

int hal_fd_statat(hal_fd_t dir, const char *name, struct hal_stat *st)
{
	struct stat s;
	long r = check_name(name, false);

	if (!r)
		r = HOST(fstatat(dir, name, &s, AT_SYMLINK_NOFOLLOW));
	if (r < 0)
		return (int)r;
	fill_stat(st, &s);
	return 0;
}

static void host_time(uint64_t ns, struct timespec *ts)
{
	if (ns == HAL_TIME_OMIT) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_OMIT;
	} else if (ns == HAL_TIME_NOW) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_NOW;
	} else {
		ts->tv_sec = (time_t)(ns / 1000000000ull);
		ts->tv_nsec = (long)(ns % 1000000000ull);
	}
}

/*
 * futimens() refuses an O_PATH handle (EBADF); utimensat() with an empty
 * name and AT_EMPTY_PATH takes one (Linux >= 5.8), the symlink a
 * HAL_O_PATH handle may hold included.
 */
int hal_fd_set_times(hal_fd_t dir, const char *name, uint64_t atime, uint64_t mtime)
{
	struct timespec ts[2];
	long r;

	host_time(atime, &ts[0]);
	host_time(mtime, &ts[1]);
	if (name) {
		r = check_name(name, false);
		return r ? (int)r : (int)HOST(utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW));
	}
	r = HOST(futimens(dir, ts));
	if (r == -K_EBADF) {
		long fl = HOST(fcntl(dir, F_GETFL));

		if (fl >= 0 && (fl & O_PATH))
			r = HOST(utimensat(dir, "", ts, AT_EMPTY_PATH));
	}
	return (int)r;
}

/* -- Directories --------------------------------------------------------- */

static uint8_t ftype_of_dirent(int dirfd, const struct dirent64 *d)
{
	struct stat s;

	switch (d->d_type) {
	case DT_REG:	return HAL_FT_FILE;
	case DT_DIR:	return HAL_FT_DIR;
	case DT_LNK:	return HAL_FT_SYMLINK;
	case DT_CHR:	return HAL_FT_CHAR;
	case DT_BLK:	return HAL_FT_BLOCK;
	case DT_UNKNOWN:
		if (!HOST(fstatat(dirfd, d->d_name, &s, AT_SYMLINK_NOFOLLOW)))
			return ftype_of_mode(s.st_mode);
		return HAL_FT_UNKNOWN;
	default:	return HAL_FT_UNKNOWN;	/* FIFO, socket */
	}
}

/*
 * Cookies are the file system's own directory positions (getdents64's
 * d_off: the position after that entry), so they stay valid across calls
 * as lseek() on the directory promises.  Each call reads through a
 * descriptor of its own (dir's "." opened anew), so calls on one handle
 * from several harts, or from inside fn, do not move each other's
 * position; fn runs with the hart's interrupts as the caller had them.
 * The buffer is small because this runs on a task's stack; it holds
 * several entries and at least one of the longest (19 + 256 bytes).
 */
int hal_fd_readdir(hal_fd_t dir, uint64_t cookie, hal_dirent_fn fn, void *arg)
{
	char buf[1024] __attribute__((aligned(8)));
	long fl, fd, n, r = 0;

	fl = HOST(fcntl(dir, F_GETFL));
	if (fl < 0)
		return (int)fl;
	if (fl & O_PATH)
		return -K_EBADF;	/* as getdents64 itself says */
	if (cookie > INT64_MAX)
		return -K_EINVAL;
	fd = HOST(openat(dir, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (fd == -K_ENOENT)
		return 0;		/* removed while open: no entries */
	if (fd < 0)
		return (int)fd;
	if (cookie)
		r = HOST(lseek((int)fd, (off_t)cookie, SEEK_SET));
	while (r >= 0 && (n = HOST(getdents64((int)fd, buf, sizeof(buf)))) != 0) {
		if (n < 0) {
			r = n;
			break;
		}
		for (long off = 0; off < n; ) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (!fn(arg, d->d_name, strlen(d->d_name), d->d_ino,
				ftype_of_dirent((int)fd, d), (uint64_t)d->d_off))
				goto out;
		}
	}
out:
	hal_fd_close((int)fd);
	return r < 0 ? (int)r : 0;
}

int hal_fd_mkdir(hal_fd_t dir, const char *name)
{
	int err = check_name(name, false);

	return err ? err : (int)HOST(mkdirat(dir, name, 0777));
}

int hal_fd_rmdir(hal_fd_t dir, const char *name)
{
	int err = check_name(name, false);

	return err ? err : (int)HOST(unlinkat(dir, name, AT_REMOVEDIR));
}

/* Linux says EISDIR for a directory. */
int hal_fd_unlink(hal_fd_t dir, const char *name)
{
	int err = check_name(name, false);

	return err ? err : (int)HOST(unlinkat(dir, name, 0));
}

int hal_fd_rename(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to)
{
	int err = check_name(from, false);

	if (!err)
		err = check_name(to, false);
	return err ? err : (int)HOST(renameat(from_dir, from, to_dir, to));
}

/* Flags 0: a symlink is linked itself, never its target. */
int hal_fd_link(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to)
{
	int err = check_name(from, false);

	if (!err)
		err = check_name(to, false);
	return err ? err : (int)HOST(linkat(from_dir, from, to_dir, to, 0));
}

/* The target is any text: only the kernel ever resolves it. */
int hal_fd_symlink(const char *target, hal_fd_t dir, const char *name)
{
	int err = check_name(name, false);

	if (!err && !target)
		err = -K_EINVAL;
	return err ? err : (int)HOST(symlinkat(target, dir, name));
}

/*
 * readlinkat() fills at most len bytes without saying whether it cut:
 * when it fills them all, the link's st_size gives the whole length
 * (file systems that report 0 there, /proc's, get the bytes read).
 */
int64_t hal_fd_readlink(hal_fd_t dir, const char *name, char *buf, size_t len)
{
	const char *at = name ? name : "";
	struct stat s;
	long n = 0, r;

	if (name) {
		r = check_name(name, false);
		if (r)
			return r;
	}
	if (len) {
		n = HOST(readlinkat(dir, at, buf, len));
		/* The handle itself exists: ENOENT says it is no symlink. */
		if (n == -K_ENOENT && !name)
			return -K_EINVAL;
		if (n < 0 || (size_t)n < len)
			return n;
	}
	r = HOST(fstatat(dir, at, &s, AT_SYMLINK_NOFOLLOW | (name ? 0 : AT_EMPTY_PATH)));
	if (r < 0)
		return r;
	if (!S_ISLNK(s.st_mode))
		return -K_EINVAL;	/* what readlinkat says of the rest */
	return s.st_size > n ? s.st_size : n;
}

/* -- Sockets ------------------------------------------------------------- */

/*
 * Linux hands on errors of the connection being accepted (the peer's
 * network went away): that connection is lost, the listener is fine.
 */
static bool conn_lost(int e)
{
	return e == ENETDOWN || e == EPROTO || e == ENOPROTOOPT || e == EHOSTDOWN ||
	       e == ENONET || e == EHOSTUNREACH || e == ENETUNREACH;
}

int hal_sock_accept(hal_fd_t fd, hal_fd_t *out)
{
	struct hart *h = hold();
	int r;

	do
		r = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		r = conn_lost(errno) ? -K_ECONNABORTED : -kerr_of(errno);
	release(h);
	if (r < 0)
		return r;
	*out = r;
	return 0;
}

int64_t hal_sock_recv(hal_fd_t fd, void *buf, size_t len, unsigned flags)
{
	if (flags & ~(HAL_SOCK_PEEK | HAL_SOCK_WAITALL))
		return -K_EINVAL;
	return HOST(recv(fd, buf, len, (flags & HAL_SOCK_PEEK ? MSG_PEEK : 0) |
				   (flags & HAL_SOCK_WAITALL ? MSG_WAITALL : 0)));
}

int64_t hal_sock_send(hal_fd_t fd, const void *buf, size_t len)
{
	return HOST(send(fd, buf, len, MSG_NOSIGNAL));
}

int hal_sock_shutdown(hal_fd_t fd, unsigned how)
{
	static const int host_how[] = { -1, SHUT_RD, SHUT_WR, SHUT_RDWR };

	if (!how || how > (HAL_SHUT_RD | HAL_SHUT_WR))
		return -K_EINVAL;
	return (int)HOST(shutdown(fd, host_how[how]));
}

/* -- Readiness, terminals, CPU time -------------------------------------- */

bool hal_fd_isatty(hal_fd_t fd)
{
	return HOST(isatty(fd) ? 0 : -1) == 0;
}

/*
 * A hung-up or failed handle is also reported ready for what was asked:
 * the read or write would not wait (it ends or fails at once), so a caller
 * that looks only at HAL_POLL_IN/OUT does not wait forever.  A handle that
 * is not open (POLLNVAL) reports HAL_POLL_ERR.
 */
int hal_fd_poll(struct hal_pollfd *fds, size_t n)
{
	struct pollfd pf[32];
	int ready = 0;

	while (n) {
		size_t k = n < 32 ? n : 32;
		long r;

		for (size_t i = 0; i < k; i++) {
			pf[i].fd = fds[i].fd;
			pf[i].events = (fds[i].events & HAL_POLL_IN ? POLLIN : 0) |
				       (fds[i].events & HAL_POLL_OUT ? POLLOUT : 0);
			pf[i].revents = 0;
		}
		r = HOST(poll(pf, k, 0));
		if (r < 0)
			return (int)r;
		for (size_t i = 0; i < k; i++) {
			short re = pf[i].revents;
			uint16_t out = 0;

			if (re & (POLLIN | POLLPRI))
				out |= HAL_POLL_IN;
			if (re & POLLOUT)
				out |= HAL_POLL_OUT;
			if (re & POLLHUP)
				out |= HAL_POLL_HUP;
			if (re & (POLLERR | POLLNVAL))
				out |= HAL_POLL_ERR;
			if (out & (HAL_POLL_HUP | HAL_POLL_ERR))
				out |= fds[i].events & (HAL_POLL_IN | HAL_POLL_OUT);
			fds[i].revents = out & (fds[i].events | HAL_POLL_HUP | HAL_POLL_ERR);
			ready += out != 0;
		}
		fds += k;
		n -= k;
	}
	return ready;
}

static uint64_t cpu_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts_ns(&ts);
}

uint64_t hal_time_process_ns(void) { return cpu_ns(CLOCK_PROCESS_CPUTIME_ID); }
uint64_t hal_time_thread_ns(void) { return cpu_ns(CLOCK_THREAD_CPUTIME_ID); }

/* -- The command line's handles ------------------------------------------ */

/*
 * When there is no description of our own to be had (a socket; no /proc),
 * the shared one is made non-blocking and its flags are put back at a
 * normal exit, for the first eight (0, 1 and 2 are what the command line
 * adopts).  keep is a descriptor of our own on it: the app may close the
 * handle, and the host number may be reused.  The command line adopts
 * before the harts start: nothing here is locked.
 */
static struct { int keep, flags; } restore[8];
static unsigned nrestore;

static void restore_flags(void)
{
	for (unsigned i = 0; i < nrestore; i++)
		fcntl(restore[i].keep, F_SETFL, restore[i].flags);
}

static int adopt_shared(int hostfd, int fl)
{
	int fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -kerr_of(errno);
	if (fl & O_NONBLOCK)
		return fd;
	if (nrestore < sizeof(restore) / sizeof(restore[0])) {
		int keep = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);

		if (keep >= 0) {
			if (!nrestore)
				atexit(restore_flags);
			restore[nrestore].keep = keep;
			restore[nrestore++].flags = fl;
		}
	}
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;

		close(fd);
		return -kerr_of(e);
	}
	return fd;
}

/*
 * Regular files and directories are dup'ed: blocking is right for them,
 * and the shared offset is what `(k23sim app; cat) < file` expects.  A
 * socket's description is made non-blocking in place: whoever passed it
 * (a supervisor's socket activation) expects that of a server.  Pipes,
 * terminals and character devices are reopened (see files.h); O_NOCTTY so
 * that reopening a terminal never makes it our controlling one.
 */
int hosted_fd_adopt(int hostfd)
{
	struct stat s, s2;
	char path[32];
	int fl, fd;

	if (fstat(hostfd, &s) < 0 || (fl = fcntl(hostfd, F_GETFL)) < 0)
		return -kerr_of(errno);
	if (S_ISREG(s.st_mode) || S_ISDIR(s.st_mode) || S_ISBLK(s.st_mode)) {
		fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -kerr_of(errno) : fd;
	}
	if (S_ISSOCK(s.st_mode))
		return adopt_shared(hostfd, fl);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", hostfd);
	fd = open(path, (fl & (O_ACCMODE | O_APPEND)) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		/* The same object, and a handle clear of 0..2. */
		if (!fstat(fd, &s2) && s2.st_dev == s.st_dev && s2.st_ino == s.st_ino &&
		    s2.st_rdev == s.st_rdev) {
			int moved = fd >= 3 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);

			if (moved != fd)
				close(fd);
			if (moved >= 0)
				return moved;
		} else {
			close(fd);
		}
	}
	return adopt_shared(hostfd, fl);
}

/* "HOST:PORT" or "[V6]:PORT" split in place; false when malformed. */
static bool split_addr(char *s, char **host, char **port)
{
	char *colon;

	if (*s == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return false;
		*end = 0;
		*host = s + 1;
		*port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return false;	/* none, or an IPv6 address without [] */
		*colon = 0;
		*host = s;
		*port = colon + 1;
	}
	if (!**host || !**port || strlen(*port) > 5 || strspn(*port, "0123456789") != strlen(*port))
		return false;
	return atoi(*port) <= 65535;
}

int hosted_tcp_listen(const char *addr_port, int *handle)
{
	struct addrinfo hints, *res, *ai;
	char buf[300], *host, *port;
	int err, fd = -1, one = 1, e = 0;

	if (strlen(addr_port) >= sizeof(buf) - 1) {
		fprintf(stderr, "k23sim: --tcplisten: address too long\n");
		return -K_EINVAL;
	}
	strcpy(buf, addr_port);
	if (!split_addr(buf, &host, &port)) {
		fprintf(stderr, "k23sim: --tcplisten %s: expected ADDR:PORT with a port "
			"0..65535, e.g. 127.0.0.1:8080 or [::1]:8080\n", addr_port);
		return -K_EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "k23sim: --tcplisten %s: %s\n", addr_port,
			err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		return err == EAI_MEMORY ? -K_ENOMEM : err == EAI_AGAIN ? -K_EAGAIN : -K_EINVAL;
	}
	/* The first address that binds ("localhost" may give ::1 and 127.0.0.1). */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (!setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
		    !bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, SOMAXCONN))
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "k23sim: --tcplisten %s: %s\n", addr_port, strerror(e));
		return -kerr_of(e);
	}
	*handle = fd;
	return 0;
}
