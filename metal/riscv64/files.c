/*
 * files.c - the file device of kernel/hal.h on metal: there is none yet
 * (virtio block and network devices come later), so no handle exists and
 * every call on one fails with -K_EBADF, as a call on a closed handle
 * does.  The kernel's VFS therefore has no preopened directory to hand
 * out on metal.  Also the CPU clocks, without per-hart accounting yet.
 */
#include "../../kernel/hal.h"
#include "../../kernel/kerr.h"

int hal_fd_open(hal_fd_t dir, const char *name, unsigned flags, hal_fd_t *out)
{
	return -K_EBADF;
}

int hal_fd_close(hal_fd_t fd) { return -K_EBADF; }
int hal_fd_dup(hal_fd_t fd, hal_fd_t *out) { return -K_EBADF; }

int64_t hal_fd_read(hal_fd_t fd, void *buf, size_t len)
{
	return -K_EBADF;
}

int64_t hal_fd_write(hal_fd_t fd, const void *buf, size_t len)
{
	return -K_EBADF;
}

int64_t hal_fd_pread(hal_fd_t fd, void *buf, size_t len, uint64_t off)
{
	return -K_EBADF;
}

int64_t hal_fd_pwrite(hal_fd_t fd, const void *buf, size_t len, uint64_t off)
{
	return -K_EBADF;
}

int hal_fd_seek(hal_fd_t fd, int64_t off, int whence, uint64_t *pos)
{
	return -K_EBADF;
}

int hal_fd_sync(hal_fd_t fd, bool data_only) { return -K_EBADF; }

int hal_fd_advise(hal_fd_t fd, uint64_t off, uint64_t len, unsigned advice)
{
	return -K_EBADF;
}

int hal_fd_allocate(hal_fd_t fd, uint64_t off, uint64_t len)
{
	return -K_EBADF;
}

int hal_fd_truncate(hal_fd_t fd, uint64_t size) { return -K_EBADF; }
int hal_fd_get_flags(hal_fd_t fd, unsigned *flags) { return -K_EBADF; }
int hal_fd_set_flags(hal_fd_t fd, unsigned flags) { return -K_EBADF; }
int hal_fd_stat(hal_fd_t fd, struct hal_stat *st) { return -K_EBADF; }

int hal_fd_statat(hal_fd_t dir, const char *name, struct hal_stat *st)
{
	return -K_EBADF;
}

int hal_fd_set_times(hal_fd_t dir, const char *name, uint64_t atime, uint64_t mtime)
{
	return -K_EBADF;
}

int hal_fd_readdir(hal_fd_t dir, uint64_t cookie, hal_dirent_fn fn, void *arg)
{
	return -K_EBADF;
}

int hal_fd_mkdir(hal_fd_t dir, const char *name) { return -K_EBADF; }
int hal_fd_rmdir(hal_fd_t dir, const char *name) { return -K_EBADF; }
int hal_fd_unlink(hal_fd_t dir, const char *name) { return -K_EBADF; }

int hal_fd_rename(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to)
{
	return -K_EBADF;
}

int hal_fd_link(hal_fd_t from_dir, const char *from, hal_fd_t to_dir, const char *to)
{
	return -K_EBADF;
}

int hal_fd_symlink(const char *target, hal_fd_t dir, const char *name)
{
	return -K_EBADF;
}

int64_t hal_fd_readlink(hal_fd_t dir, const char *name, char *buf, size_t len)
{
	return -K_EBADF;
}

int hal_sock_accept(hal_fd_t fd, hal_fd_t *out) { return -K_EBADF; }

int64_t hal_sock_recv(hal_fd_t fd, void *buf, size_t len, unsigned flags)
{
	return -K_EBADF;
}

int64_t hal_sock_send(hal_fd_t fd, const void *buf, size_t len)
{
	return -K_EBADF;
}

int hal_sock_shutdown(hal_fd_t fd, unsigned how) { return -K_EBADF; }

bool hal_fd_isatty(hal_fd_t fd) { return false; }

/* Every handle is invalid: each reports an error, none waits. */
int hal_fd_poll(struct hal_pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i].revents = HAL_POLL_ERR;
	return (int)n;
}

/* No per-hart accounting yet: both are the time since boot. */
uint64_t hal_time_process_ns(void) { return hal_time_mono_ns(); }
uint64_t hal_time_thread_ns(void) { return hal_time_mono_ns(); }
