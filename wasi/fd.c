/*
 * fd.c - the calls on an open descriptor (fd_*) and on sockets (sock_*).
 *
 * Every buffer the app names is checked against its memory before any
 * I/O starts, so a bad pointer fails the call with FAULT and no effect.
 * Pipes, terminals and sockets are non-blocking underneath; a descriptor
 * without FDFLAG_NONBLOCK waits for them in the scheduler (vfs_wait),
 * which blocks the app's task and lets its hart run others.
 */
#include "internal.h"
#include "kernel/kheap.h"

#define IOVS_MAX	1024	/* iovec entries in one call (IOV_MAX) */

struct iov {
	uint8_t *buf;
	uint32_t len;
};

/* The app's iovec array at p (n entries, checked to lie in memory):
 * each buffer inside memory. */
static unsigned get_iovs(const struct wasi_call *c, const uint8_t *p, uint32_t n,
			 struct iov *iov)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t base = get_u32(p + 8 * i), len = get_u32(p + 8 * i + 4);

		if (!(iov[i].buf = wasi_ptr(c, base, len)))
			return WASI_EFAULT;
		iov[i].len = len;
	}
	return 0;
}

/* Wait until f is ready for events, unless the app asked not to. */
static bool wait_ready(struct wasi_fd *f, uint16_t events)
{
	struct hal_pollfd p = { .fd = f->fd, .events = events };

	if (f->flags & FDFLAG_NONBLOCK)
		return false;
	vfs_wait(&p, 1, UINT64_MAX);
	return true;
}

enum xfer { XFER_READ, XFER_WRITE, XFER_PREAD, XFER_PWRITE, XFER_RECV, XFER_SEND };

static int64_t xfer_one(struct wasi_fd *f, enum xfer op, const struct iov *v,
			uint64_t off, unsigned flags)
{
	switch (op) {
	case XFER_READ:		return hal_fd_read(f->fd, v->buf, v->len);
	case XFER_WRITE:	return hal_fd_write(f->fd, v->buf, v->len);
	case XFER_PREAD:	return hal_fd_pread(f->fd, v->buf, v->len, off);
	case XFER_PWRITE:	return hal_fd_pwrite(f->fd, v->buf, v->len, off);
	case XFER_RECV:		return hal_sock_recv(f->fd, v->buf, v->len, flags);
	default:		return hal_sock_send(f->fd, v->buf, v->len);
	}
}

/*
 * Move bytes through iovs: stop at the first short transfer, as readv
 * and writev do.  Returns the total, or an errno when nothing moved.
 */
static unsigned xfer(struct wasi_call *c, struct wasi_fd *f, enum xfer op, uint32_t iovs,
		     uint32_t n, uint64_t off, unsigned flags, uint32_t *total)
{
	uint16_t ev = op == XFER_READ || op == XFER_PREAD || op == XFER_RECV ? HAL_POLL_IN :
									      HAL_POLL_OUT;
	uint64_t done = 0;
	const uint8_t *arr = wasi_ptr(c, iovs, (uint64_t)n * 8);
	struct iov *iov;
	unsigned err;

	if (n > IOVS_MAX)
		return WASI_EINVAL;
	if (!arr)
		return WASI_EFAULT;
	if (!(iov = kmalloc((n ? n : 1) * sizeof(*iov))))
		return WASI_ENOMEM;
	if ((err = get_iovs(c, arr, n, iov)))
		goto out;
	for (uint32_t i = 0; i < n; i++)
		wasi_touch(iov[i].buf, iov[i].len, ev == HAL_POLL_IN);
	for (uint32_t i = 0; i < n; i++) {
		int64_t r;

		if (!iov[i].len)
			continue;
		while ((r = xfer_one(f, op, &iov[i], off + done, flags)) == -K_EAGAIN && !done &&
		       wait_ready(f, ev))
			;
		if (r < 0) {
			if (!done)
				err = wasi_errno((int)r);
			break;
		}
		done += (uint64_t)r;
		if ((uint64_t)r < iov[i].len || done >= UINT32_MAX / 2)
			break;
	}
	*total = (uint32_t)done;
out:
	kfree(iov);
	return err;
}

static unsigned read_common(struct wasi_call *c, const uint64_t *a, enum xfer op,
			    uint64_t need, uint32_t result)
{
	unsigned err;
	uint32_t total = 0;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], need, &err);

	if (!f)
		return err;
	if (!wasi_ptr(c, result, 4))
		return WASI_EFAULT;
	if (f->type == HAL_FT_DIR)
		return WASI_EISDIR;
	if ((err = xfer(c, f, op, (uint32_t)a[1], (uint32_t)a[2], op == XFER_PREAD ||
			op == XFER_PWRITE ? a[3] : 0, 0, &total)))
		return err;
	return wasi_put_u32(c, result, total);
}

unsigned wasi_fd_read(struct wasi_call *c, const uint64_t *a)
{
	return read_common(c, a, XFER_READ, RIGHT_FD_READ, (uint32_t)a[3]);
}

unsigned wasi_fd_write(struct wasi_call *c, const uint64_t *a)
{
	return read_common(c, a, XFER_WRITE, RIGHT_FD_WRITE, (uint32_t)a[3]);
}

unsigned wasi_fd_pread(struct wasi_call *c, const uint64_t *a)
{
	if ((int64_t)a[3] < 0)
		return WASI_EINVAL;
	return read_common(c, a, XFER_PREAD, RIGHT_FD_READ | RIGHT_FD_SEEK, (uint32_t)a[4]);
}

unsigned wasi_fd_pwrite(struct wasi_call *c, const uint64_t *a)
{
	if ((int64_t)a[3] < 0)
		return WASI_EINVAL;
	return read_common(c, a, XFER_PWRITE, RIGHT_FD_WRITE | RIGHT_FD_SEEK, (uint32_t)a[4]);
}

unsigned wasi_fd_advise(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_ADVISE, &err);

	if (!f)
		return err;
	if ((uint32_t)a[3] > 5)
		return WASI_EINVAL;
	return wasi_errno(hal_fd_advise(f->fd, a[1], a[2], (uint32_t)a[3]));
}

unsigned wasi_fd_allocate(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_ALLOCATE, &err);

	if (!f)
		return err;
	if ((int64_t)a[1] < 0 || (int64_t)a[2] <= 0 || a[1] + a[2] > INT64_MAX)
		return WASI_EINVAL;
	return wasi_errno(hal_fd_allocate(f->fd, a[1], a[2]));
}

unsigned wasi_fd_close(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	uint32_t fd = (uint32_t)a[0];
	struct wasi_fd *f = wasi_fd_get(c->w, fd, 0, &err);

	if (!f)
		return err;
	if (fd >= 3)	/* stdio handles are the host's */
		hal_fd_close(f->fd);
	wasi_fd_release(f);
	return 0;
}

static unsigned sync_common(struct wasi_call *c, const uint64_t *a, uint64_t need, bool data)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], need, &err);

	if (!f)
		return err;
	return wasi_errno(hal_fd_sync(f->fd, data));
}

unsigned wasi_fd_datasync(struct wasi_call *c, const uint64_t *a)
{
	return sync_common(c, a, RIGHT_FD_DATASYNC, true);
}

unsigned wasi_fd_sync(struct wasi_call *c, const uint64_t *a)
{
	return sync_common(c, a, RIGHT_FD_SYNC, false);
}

unsigned wasi_fd_fdstat_get(struct wasi_call *c, const uint64_t *a)
{
	unsigned err, hflags = 0;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], 0, &err);
	uint8_t *p = wasi_ptr(c, (uint32_t)a[1], 24);
	uint16_t flags;

	if (!f)
		return err;
	if (!p)
		return WASI_EFAULT;
	if (f->type != HAL_FT_DIR)
		hal_fd_get_flags(f->fd, &hflags);
	flags = f->flags & FDFLAG_NONBLOCK;
	flags |= hflags & HAL_O_APPEND ? FDFLAG_APPEND : 0;
	flags |= hflags & HAL_O_DSYNC ? FDFLAG_DSYNC : 0;
	flags |= hflags & HAL_O_SYNC ? FDFLAG_SYNC : 0;
	flags |= hflags & HAL_O_RSYNC ? FDFLAG_RSYNC : 0;
	kmemset(p, 0, 24);
	p[0] = f->type;
	put_u16(p + 2, flags);
	put_u64(p + 8, f->base);
	put_u64(p + 16, f->inheriting);
	return 0;
}

unsigned wasi_fd_fdstat_set_flags(struct wasi_call *c, const uint64_t *a)
{
	unsigned err, hflags = 0;
	uint32_t flags = (uint32_t)a[1];
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_FDSTAT_SET_FLAGS, &err);
	int r;

	if (!f)
		return err;
	if (flags & ~0x1fu)
		return WASI_EINVAL;
	if (flags & (FDFLAG_DSYNC | FDFLAG_RSYNC | FDFLAG_SYNC))
		return WASI_ENOTSUP;	/* fixed when the file is opened */
	if (f->type != HAL_FT_DIR) {
		hal_fd_get_flags(f->fd, &hflags);
		hflags = (hflags & ~HAL_O_APPEND) | (flags & FDFLAG_APPEND ? HAL_O_APPEND : 0);
		if ((r = hal_fd_set_flags(f->fd, hflags)) < 0)
			return wasi_errno(r);
	}
	f->flags = (uint16_t)(flags & FDFLAG_NONBLOCK);
	return 0;
}

unsigned wasi_fd_fdstat_set_rights(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], 0, &err);

	if (!f)
		return err;
	/* Rights can only be dropped. */
	if ((a[1] & ~f->base) || (a[2] & ~f->inheriting))
		return WASI_ENOTCAPABLE;
	f->base = a[1];
	f->inheriting = a[2];
	return 0;
}

/* A filestat (64 bytes) at off. */
unsigned wasi_put_filestat(const struct wasi_call *c, uint32_t off, const struct hal_stat *st)
{
	uint8_t *p = wasi_ptr(c, off, 64);

	if (!p)
		return WASI_EFAULT;
	kmemset(p, 0, 64);
	put_u64(p, st->dev);
	put_u64(p + 8, st->ino);
	p[16] = st->type;
	put_u64(p + 24, st->nlink);
	put_u64(p + 32, st->size);
	put_u64(p + 40, st->atime);
	put_u64(p + 48, st->mtime);
	put_u64(p + 56, st->ctime);
	return 0;
}

unsigned wasi_fd_filestat_get(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_FILESTAT_GET, &err);
	struct hal_stat st;
	int r;

	if (!f)
		return err;
	if (!wasi_ptr(c, (uint32_t)a[1], 64))
		return WASI_EFAULT;
	if ((r = hal_fd_stat(f->fd, &st)) < 0)
		return wasi_errno(r);
	return wasi_put_filestat(c, (uint32_t)a[1], &st);
}

unsigned wasi_fd_filestat_set_size(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_FILESTAT_SET_SIZE, &err);

	if (!f)
		return err;
	if ((int64_t)a[1] < 0)
		return WASI_EINVAL;
	return wasi_errno(hal_fd_truncate(f->fd, a[1]));
}

unsigned wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, uint64_t *at, uint64_t *mt)
{
	if ((fst & ~0xfu) || ((fst & FST_ATIM) && (fst & FST_ATIM_NOW)) ||
	    ((fst & FST_MTIM) && (fst & FST_MTIM_NOW)))
		return WASI_EINVAL;
	*at = fst & FST_ATIM_NOW ? HAL_TIME_NOW : fst & FST_ATIM ? MIN(atim, HAL_TIME_NOW - 1) :
								  HAL_TIME_OMIT;
	*mt = fst & FST_MTIM_NOW ? HAL_TIME_NOW : fst & FST_MTIM ? MIN(mtim, HAL_TIME_NOW - 1) :
								  HAL_TIME_OMIT;
	return 0;
}

unsigned wasi_fd_filestat_set_times(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_FILESTAT_SET_TIMES, &err);
	uint64_t at, mt;

	if (!f)
		return err;
	if ((err = wasi_times(a[1], a[2], (uint32_t)a[3], &at, &mt)))
		return err;
	return wasi_errno(hal_fd_set_times(f->fd, NULL, at, mt));
}

/* The guest path of preopened directory fd, and len bytes at ptr in
 * memory for the answer: NULL with *err (BADF, FAULT) otherwise. */
static const char *preopen_of(struct wasi_call *c, uint32_t fd, uint32_t ptr, uint32_t len,
			      uint8_t **p, unsigned *err)
{
	struct wasi_fd *f = wasi_fd_get(c->w, fd, 0, err);

	if (!f)
		return NULL;
	*err = !f->preopen ? WASI_EBADF : !(*p = wasi_ptr(c, ptr, len)) ? WASI_EFAULT : 0;
	return *err ? NULL : f->preopen;
}

unsigned wasi_fd_prestat_get(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	uint8_t *p;
	const char *name = preopen_of(c, (uint32_t)a[0], (uint32_t)a[1], 8, &p, &err);

	if (!name)
		return err;
	kmemset(p, 0, 8);	/* tag 0: a directory */
	put_u32(p + 4, (uint32_t)kstrlen(name));
	return 0;
}

unsigned wasi_fd_prestat_dir_name(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	uint8_t *p;
	const char *name = preopen_of(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], &p, &err);
	size_t len;

	if (!name)
		return err;
	len = kstrlen(name);
	if ((uint32_t)a[2] < len)
		return WASI_ENAMETOOLONG;
	kmemcpy(p, name, len);
	return 0;
}

struct readdir_out {
	uint8_t *buf;
	uint32_t len, used;
};

static bool put_dirent(void *arg, const char *name, size_t len, uint64_t ino, uint8_t type,
		       uint64_t next)
{
	struct readdir_out *o = arg;
	uint8_t ent[24] = { 0 };
	uint32_t n;

	put_u64(ent, next);
	put_u64(ent + 8, ino);
	put_u32(ent + 16, (uint32_t)len);
	ent[20] = type;
	/* Entries that do not fit are cut: the app sees a full buffer and
	 * asks again from the last cookie it read whole. */
	n = MIN(24u, o->len - o->used);
	kmemcpy(o->buf + o->used, ent, n);
	o->used += n;
	n = (uint32_t)MIN((size_t)(o->len - o->used), len);
	kmemcpy(o->buf + o->used, name, n);
	o->used += n;
	return o->used < o->len;
}

unsigned wasi_fd_readdir(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_READDIR, &err);
	struct readdir_out o = { .len = (uint32_t)a[2] };
	int r;

	if (!f)
		return err;
	if (!(o.buf = wasi_ptr(c, (uint32_t)a[1], o.len)) || !wasi_ptr(c, (uint32_t)a[4], 4))
		return WASI_EFAULT;
	if (f->type != HAL_FT_DIR)
		return WASI_ENOTDIR;
	if (o.len && (r = hal_fd_readdir(f->fd, a[3], put_dirent, &o)) < 0)
		return wasi_errno(r);
	return wasi_put_u32(c, (uint32_t)a[4], o.used);
}

unsigned wasi_fd_renumber(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	uint32_t from = (uint32_t)a[0], to = (uint32_t)a[1];
	struct wasi_fd *f = wasi_fd_get(c->w, from, 0, &err), *t;

	if (!f)
		return err;
	if (!(t = wasi_fd_get(c->w, to, 0, &err)))
		return err;
	if (from == to)
		return 0;
	if (to >= 3)
		hal_fd_close(t->fd);
	kfree(t->preopen);
	*t = *f;
	kmemset(f, 0, sizeof(*f));
	return 0;
}

unsigned wasi_fd_seek(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	int64_t off = (int64_t)a[1];
	uint32_t whence = (uint32_t)a[2];
	uint64_t need = off == 0 && whence == 1 ? RIGHT_FD_TELL : RIGHT_FD_SEEK, pos;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], need, &err);
	int r;

	if (!f)
		return err;
	if (whence > 2)
		return WASI_EINVAL;
	if (!wasi_ptr(c, (uint32_t)a[3], 8))
		return WASI_EFAULT;
	if ((r = hal_fd_seek(f->fd, off, (int)whence, &pos)) < 0)
		return wasi_errno(r);
	return wasi_put_u64(c, (uint32_t)a[3], pos);
}

unsigned wasi_fd_tell(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = wasi_fd_get(c->w, (uint32_t)a[0], RIGHT_FD_TELL, &err);
	uint64_t pos;
	int r;

	if (!f)
		return err;
	if (!wasi_ptr(c, (uint32_t)a[1], 8))
		return WASI_EFAULT;
	if ((r = hal_fd_seek(f->fd, 0, 1, &pos)) < 0)
		return wasi_errno(r);
	return wasi_put_u64(c, (uint32_t)a[1], pos);
}

/* -- Sockets ------------------------------------------------------------------ */

static struct wasi_fd *sock_get(struct wasi_call *c, uint32_t fd, uint64_t need, unsigned *err)
{
	struct wasi_fd *f = wasi_fd_get(c->w, fd, 0, err);

	if (!f)
		return NULL;
	if (f->type != HAL_FT_STREAM && f->type != HAL_FT_DGRAM) {
		*err = WASI_ENOTSOCK;
		return NULL;
	}
	return wasi_fd_get(c->w, fd, need, err);
}

unsigned wasi_sock_accept(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	struct wasi_fd *f = sock_get(c, (uint32_t)a[0], RIGHT_SOCK_ACCEPT, &err), *n;
	uint32_t flags = (uint32_t)a[1];
	hal_fd_t h;
	int64_t fd;
	int r;

	if (!f)
		return err;
	if (flags & ~FDFLAG_NONBLOCK)
		return WASI_EINVAL;
	if (!wasi_ptr(c, (uint32_t)a[2], 4))
		return WASI_EFAULT;
	while ((r = hal_sock_accept(f->fd, &h)) == -K_EAGAIN && wait_ready(f, HAL_POLL_IN))
		;
	if (r < 0)
		return wasi_errno(r);
	if ((fd = wasi_fd_alloc(c->w)) < 0) {
		hal_fd_close(h);
		return WASI_EMFILE;
	}
	f = NULL;	/* the table may have moved */
	n = &c->w->fds[fd];
	n->used = true;
	n->fd = h;
	n->type = HAL_FT_STREAM;
	n->flags = (uint16_t)flags;
	n->base = RIGHTS_SOCKET & ~RIGHT_SOCK_ACCEPT;
	return wasi_put_u32(c, (uint32_t)a[2], (uint32_t)fd);
}

unsigned wasi_sock_recv(struct wasi_call *c, const uint64_t *a)
{
	unsigned err, flags = 0;
	uint32_t ri = (uint32_t)a[3], total = 0;
	struct wasi_fd *f = sock_get(c, (uint32_t)a[0], RIGHT_FD_READ, &err);

	if (!f)
		return err;
	if (ri & ~3u)
		return WASI_EINVAL;
	if (!wasi_ptr(c, (uint32_t)a[4], 4) || !wasi_ptr(c, (uint32_t)a[5], 2))
		return WASI_EFAULT;
	flags |= ri & 1 ? HAL_SOCK_PEEK : 0;
	flags |= ri & 2 ? HAL_SOCK_WAITALL : 0;
	if ((err = xfer(c, f, XFER_RECV, (uint32_t)a[1], (uint32_t)a[2], 0, flags, &total)))
		return err;
	put_u16(wasi_ptr(c, (uint32_t)a[5], 2), 0);
	return wasi_put_u32(c, (uint32_t)a[4], total);
}

unsigned wasi_sock_send(struct wasi_call *c, const uint64_t *a)
{
	unsigned err;
	uint32_t total = 0;
	struct wasi_fd *f = sock_get(c, (uint32_t)a[0], RIGHT_FD_WRITE, &err);

	if (!f)
		return err;
	if ((uint32_t)a[3])
		return WASI_EINVAL;	/* no siflags are defined */
	if (!wasi_ptr(c, (uint32_t)a[4], 4))
		return WASI_EFAULT;
	if ((err = xfer(c, f, XFER_SEND, (uint32_t)a[1], (uint32_t)a[2], 0, 0, &total)))
		return err;
	return wasi_put_u32(c, (uint32_t)a[4], total);
}

unsigned wasi_sock_shutdown(struct wasi_call *c, const uint64_t *a)
{
	unsigned err, how = (uint32_t)a[1];
	struct wasi_fd *f = sock_get(c, (uint32_t)a[0], RIGHT_SOCK_SHUTDOWN, &err);

	if (!f)
		return err;
	if (!how || how & ~3u)
		return WASI_EINVAL;
	return wasi_errno(hal_sock_shutdown(f->fd, (how & 1 ? HAL_SHUT_RD : 0) |
					    (how & 2 ? HAL_SHUT_WR : 0)));
}
