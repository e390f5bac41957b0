/*
 * vfs.c - confined path resolution and readiness waits (see vfs.h).
 *
 * The walk keeps a stack of the directory handles it opened below the
 * root, so `..` is a pop, never a lookup of "..": the platform's idea of
 * a parent is never asked, and popping past the root is refused.  Each
 * intermediate component is opened as itself (HAL_O_PATH never follows a
 * symlink) and then examined through the handle, so a directory swapped
 * for a symlink between two looks is seen as the symlink, whose target is
 * then walked here like any other path.
 */
#include "vfs.h"
#include "kerr.h"
#include "kheap.h"
#include "klib.h"
#include "../sched/sched.h"

struct walk {
	hal_fd_t root;
	hal_fd_t stack[VFS_DEPTH_MAX];
	unsigned depth;
	unsigned links;
	char *buf;		/* the rest of the path, VFS_PATH_MAX + 1 bytes */
	size_t pos, end;
};

static bool has_nul(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			return true;
	return false;
}

static hal_fd_t walk_cur(const struct walk *w)
{
	return w->depth ? w->stack[w->depth - 1] : w->root;
}

/*
 * Replace the walked part of the path (up to w->pos, the component being
 * expanded included) by the symlink's target, read with readlink(dir,
 * name) (name NULL: the link held by handle dir).
 */
static int expand(struct walk *w, hal_fd_t dir, const char *name)
{
	size_t rest = w->end - w->pos;
	char *target;
	int64_t n;

	if (++w->links > VFS_LINKS_MAX)
		return -K_ELOOP;
	if (!(target = kmalloc(VFS_PATH_MAX + 1)))
		return -K_ENOMEM;
	n = hal_fd_readlink(dir, name, target, VFS_PATH_MAX + 1);
	if (n >= 0 && (size_t)n + rest > VFS_PATH_MAX)
		n = -K_ENAMETOOLONG;
	else if (n == 0)
		n = -K_ENOENT;
	else if (n > 0 && target[0] == '/')
		n = -K_EPERM;	/* absolute targets name the host's root */
	else if (n > 0 && has_nul(target, (size_t)n))
		n = -K_EILSEQ;
	if (n < 0) {
		kfree(target);
		return (int)n;
	}
	kmemmove(w->buf + n, w->buf + w->pos, rest);
	kmemcpy(w->buf, target, (size_t)n);
	kfree(target);
	w->pos = 0;
	w->end = (size_t)n + rest;
	return 0;
}

/* One intermediate component: descend into it, or expand it. */
static int step(struct walk *w, const char *name)
{
	struct hal_stat st;
	hal_fd_t h;
	int err;

	if ((err = hal_fd_open(walk_cur(w), name, HAL_O_PATH, &h)) < 0)
		return err;
	if ((err = hal_fd_stat(h, &st)) < 0)
		goto out;
	if (st.type == HAL_FT_SYMLINK) {
		err = expand(w, h, NULL);
		goto out;
	}
	if (st.type != HAL_FT_DIR) {
		err = -K_ENOTDIR;
		goto out;
	}
	if (w->depth == VFS_DEPTH_MAX) {
		err = -K_ENAMETOOLONG;
		goto out;
	}
	w->stack[w->depth++] = h;
	return 0;
out:
	hal_fd_close(h);
	return err;
}

static int finish(struct walk *w, const char *name, bool slash, struct vfs_path *out)
{
	out->dir = walk_cur(w);
	out->own_dir = w->depth > 0;
	out->slash = slash;
	kmemcpy(out->name, name, kstrlen(name) + 1);
	if (w->depth)
		w->depth--;	/* the returned handle is the caller's now */
	return 1;
}

/* 1 when the walk ended (out filled), 0 to go on, or -K_*. */
static int walk_next(struct walk *w, unsigned flags, struct vfs_path *out)
{
	char name[VFS_NAME_MAX + 1];
	size_t start, n;
	bool slash, last;
	struct hal_stat st;
	int err;

	while (w->pos < w->end && w->buf[w->pos] == '/')
		w->pos++;
	if (w->pos == w->end)	/* "a/" after expansion, or a link to "." */
		return finish(w, ".", true, out);
	start = w->pos;
	while (w->pos < w->end && w->buf[w->pos] != '/')
		w->pos++;
	n = w->pos - start;
	slash = w->pos < w->end;
	last = true;
	for (size_t i = w->pos; i < w->end; i++)
		if (w->buf[i] != '/')
			last = false;
	if (n > VFS_NAME_MAX)
		return -K_ENAMETOOLONG;
	kmemcpy(name, w->buf + start, n);
	name[n] = 0;

	if (!kstrcmp(name, "."))
		return last ? finish(w, ".", slash, out) : 0;
	if (!kstrcmp(name, "..")) {
		if (!w->depth)
			return -K_EPERM;
		hal_fd_close(w->stack[--w->depth]);
		return last ? finish(w, ".", slash, out) : 0;
	}
	if (!last)
		return step(w, name);
	if (!(flags & VFS_FOLLOW) && !slash)
		return finish(w, name, false, out);
	/* The last component, to be followed if it is a symlink. */
	err = hal_fd_statat(walk_cur(w), name, &st);
	if (err == -K_ENOENT || (!err && st.type != HAL_FT_SYMLINK))
		return finish(w, name, slash, out);
	if (err < 0)
		return err;
	return expand(w, walk_cur(w), name);
}

int vfs_resolve(hal_fd_t root, const char *path, size_t len, unsigned flags,
		struct vfs_path *out)
{
	struct walk w = { .root = root, .end = len };
	int err = 0;

	if (!len)
		return -K_ENOENT;
	if (len > VFS_PATH_MAX)
		return -K_ENAMETOOLONG;
	if (has_nul(path, len))
		return -K_EILSEQ;
	if (path[0] == '/')
		return -K_EPERM;
	if (!(w.buf = kmalloc(VFS_PATH_MAX + 1)))
		return -K_ENOMEM;
	kmemcpy(w.buf, path, len);
	while (!(err = walk_next(&w, flags, out)))
		;
	while (w.depth)
		hal_fd_close(w.stack[--w.depth]);
	kfree(w.buf);
	return err < 0 ? err : 0;
}

void vfs_path_done(struct vfs_path *p)
{
	if (p->own_dir)
		hal_fd_close(p->dir);
	p->own_dir = false;
}

int vfs_wait(struct hal_pollfd *fds, size_t n, uint64_t deadline_ns)
{
	/*
	 * The platform reports readiness only when asked, so a waiting task
	 * sleeps and looks again, backing off from 20 us to 2 ms: the hart
	 * runs other tasks meanwhile, and a ready handle is noticed within
	 * the backoff.
	 */
	uint64_t nap = 20000;

	for (;;) {
		int ready = hal_fd_poll(fds, n);
		uint64_t now;

		if (ready)
			return ready;
		now = sched_now();
		if (now >= deadline_ns)
			return 0;
		sched_sleep_until(deadline_ns - now < nap ? deadline_ns : now + nap);
		if (nap < 2000000)
			nap *= 2;
	}
}
