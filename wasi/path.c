/*
 * path.c - the calls that name a file by a path relative to a directory
 * descriptor (path_*).  kernel/vfs.c walks the path inside that
 * directory; the operation then acts on the last name in the directory
 * the walk ended in, and the platform never follows a symlink there.
 */
#include "internal.h"
#include "kernel/kheap.h"

/* path_open: write only if it is not a directory (a flag of ours). */
#define HAL_O_MAYBE_DIR	(1u << 31)

/* The directory descriptor fd (with the rights in need) and where the
 * app's path at [ptr, ptr+len) leads from it. */
static unsigned resolve(struct wasi_call *c, uint32_t fd, uint64_t need, uint32_t ptr,
			uint32_t len, unsigned flags, struct vfs_path *out,
			struct wasi_fd **dirp)
{
	unsigned err;
	struct wasi_fd *dir = wasi_fd_get(c->w, fd, need, &err);
	const char *path = wasi_ptr(c, ptr, len);
	int r;

	if (!dir)
		return err;
	if (!path)
		return WASI_EFAULT;
	if (dir->type != HAL_FT_DIR)
		return WASI_ENOTDIR;
	if ((r = vfs_resolve(dir->fd, path, len, flags, out)) < 0)
		return wasi_errno(r);
	if (dirp)
		*dirp = dir;
	return 0;
}

/* vfs_resolve's flags for a lookupflags argument. */
static unsigned follow(uint64_t lookupflags)
{
	return (uint32_t)lookupflags & LOOKUP_SYMLINK_FOLLOW ? VFS_FOLLOW : 0;
}

static bool is_dot(const struct vfs_path *p)
{
	return !kstrcmp(p->name, ".");
}

/* The type of the last name, or -K_*. */
static int type_of(const struct vfs_path *p)
{
	struct hal_stat st;
	int r = is_dot(p) ? hal_fd_stat(p->dir, &st) : hal_fd_statat(p->dir, p->name, &st);

	return r < 0 ? r : st.type;
}

unsigned wasi_path_open(struct wasi_call *c, const uint64_t *a)
{
	uint32_t oflags = (uint32_t)a[4], fdflags = (uint32_t)a[7];
	uint64_t base = a[5], inheriting = a[6];
	uint64_t need = RIGHT_PATH_OPEN | (oflags & OFLAG_CREAT ? RIGHT_PATH_CREATE_FILE : 0) |
			(oflags & OFLAG_TRUNC ? RIGHT_PATH_FILESTAT_SET_SIZE : 0);
	unsigned err, flags = 0;
	struct wasi_fd *dir, *f;
	struct vfs_path p;
	struct hal_stat st;
	hal_fd_t h;
	int64_t fd;
	int r;

	if ((oflags & ~0xfu) || (fdflags & ~0x1fu))
		return WASI_EINVAL;
	if (!wasi_ptr(c, (uint32_t)a[8], 4))
		return WASI_EFAULT;
	if ((err = resolve(c, (uint32_t)a[0], need, (uint32_t)a[2], (uint32_t)a[3],
			   follow(a[1]), &p, &dir)))
		return err;
	/*
	 * The access mode follows the rights asked for.  FD_WRITE asks for
	 * writing, which a directory refuses (ISDIR); the other rights that
	 * need a writable file (datasync, allocate, set size) are dropped
	 * quietly when the file turns out to be a directory, so that a
	 * directory can be reopened with the rights its fdstat shows.
	 */
	if (base & (RIGHT_FD_READ | RIGHT_FD_READDIR))
		flags |= HAL_O_READ;
	if (base & RIGHT_FD_WRITE || oflags & OFLAG_TRUNC)
		flags |= HAL_O_WRITE;
	else if (base & (RIGHT_FD_DATASYNC | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE) &&
		 !(oflags & OFLAG_DIRECTORY) && !is_dot(&p))
		flags |= HAL_O_WRITE | HAL_O_MAYBE_DIR;
	if (!(flags & (HAL_O_READ | HAL_O_WRITE)))
		flags |= HAL_O_READ;
	flags |= oflags & OFLAG_CREAT ? HAL_O_CREAT : 0;
	flags |= oflags & OFLAG_EXCL ? HAL_O_EXCL : 0;
	flags |= oflags & OFLAG_TRUNC ? HAL_O_TRUNC : 0;
	flags |= oflags & OFLAG_DIRECTORY || p.slash ? HAL_O_DIRECTORY : 0;
	flags |= fdflags & FDFLAG_APPEND ? HAL_O_APPEND : 0;
	flags |= fdflags & FDFLAG_DSYNC ? HAL_O_DSYNC : 0;
	flags |= fdflags & FDFLAG_SYNC ? HAL_O_SYNC : 0;
	flags |= fdflags & FDFLAG_RSYNC ? HAL_O_RSYNC : 0;
	if (is_dot(&p)) {
		r = oflags & OFLAG_EXCL && oflags & OFLAG_CREAT ? -K_EEXIST :
		    flags & HAL_O_WRITE ? -K_EISDIR :
		    hal_fd_open(p.dir, ".", HAL_O_READ | HAL_O_DIRECTORY, &h);
	} else if ((oflags & OFLAG_CREAT) && p.slash) {
		r = -K_EISDIR;
	} else {
		r = hal_fd_open(p.dir, p.name, flags & ~HAL_O_MAYBE_DIR, &h);
		if (r == -K_EISDIR && flags & HAL_O_MAYBE_DIR)
			r = hal_fd_open(p.dir, p.name, HAL_O_READ | HAL_O_DIRECTORY, &h);
	}
	vfs_path_done(&p);
	if (r < 0)
		return wasi_errno(r);
	if ((r = hal_fd_stat(h, &st)) < 0 || (fd = wasi_fd_alloc(c->w)) < 0) {
		hal_fd_close(h);
		return r < 0 ? wasi_errno(r) : WASI_EMFILE;
	}
	dir = &c->w->fds[(uint32_t)a[0]];	/* the table may have moved */
	f = &c->w->fds[fd];
	f->used = true;
	f->fd = h;
	f->type = st.type;
	f->flags = (uint16_t)(fdflags & FDFLAG_NONBLOCK);
	f->base = base & dir->inheriting & wasi_rights_of(st.type);
	f->inheriting = st.type == HAL_FT_DIR ? inheriting & dir->inheriting : 0;
	return wasi_put_u32(c, (uint32_t)a[8], (uint32_t)fd);
}

unsigned wasi_path_create_directory(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path p;
	unsigned err = resolve(c, (uint32_t)a[0], RIGHT_PATH_CREATE_DIRECTORY, (uint32_t)a[1],
			       (uint32_t)a[2], 0, &p, NULL);
	int r;

	if (err)
		return err;
	r = is_dot(&p) ? -K_EEXIST : hal_fd_mkdir(p.dir, p.name);
	vfs_path_done(&p);
	return wasi_errno(r);
}

unsigned wasi_path_filestat_get(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path p;
	struct hal_stat st;
	unsigned err;
	int r;

	if (!wasi_ptr(c, (uint32_t)a[4], 64))
		return WASI_EFAULT;
	if ((err = resolve(c, (uint32_t)a[0], RIGHT_PATH_FILESTAT_GET, (uint32_t)a[2],
			   (uint32_t)a[3], follow(a[1]),
			   &p, NULL)))
		return err;
	r = is_dot(&p) ? hal_fd_stat(p.dir, &st) : hal_fd_statat(p.dir, p.name, &st);
	if (!r && p.slash && st.type != HAL_FT_DIR)
		r = -K_ENOTDIR;
	vfs_path_done(&p);
	if (r < 0)
		return wasi_errno(r);
	return wasi_put_filestat(c, (uint32_t)a[4], &st);
}

unsigned wasi_path_filestat_set_times(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path p;
	uint64_t at, mt;
	unsigned err;
	int r;

	if ((err = wasi_times(a[4], a[5], (uint32_t)a[6], &at, &mt)))
		return err;
	if ((err = resolve(c, (uint32_t)a[0], RIGHT_PATH_FILESTAT_SET_TIMES, (uint32_t)a[2],
			   (uint32_t)a[3], follow(a[1]),
			   &p, NULL)))
		return err;
	r = hal_fd_set_times(p.dir, is_dot(&p) ? NULL : p.name, at, mt);
	vfs_path_done(&p);
	return wasi_errno(r);
}

unsigned wasi_path_link(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path from, to;
	unsigned err;
	int r, t;

	if ((err = resolve(c, (uint32_t)a[0], RIGHT_PATH_LINK_SOURCE, (uint32_t)a[2],
			   (uint32_t)a[3], follow(a[1]),
			   &from, NULL)))
		return err;
	if ((err = resolve(c, (uint32_t)a[4], RIGHT_PATH_LINK_TARGET, (uint32_t)a[5],
			   (uint32_t)a[6], 0, &to, NULL))) {
		vfs_path_done(&from);
		return err;
	}
	t = type_of(&from);
	if (t < 0)
		r = t;
	else if (t == HAL_FT_DIR || is_dot(&from))
		r = -K_EPERM;	/* no hard links to directories */
	else if (is_dot(&to))
		r = -K_EEXIST;
	else if (from.slash)
		r = -K_ENOTDIR;
	else if (to.slash)	/* "link/" would have to be a directory */
		r = type_of(&to) >= 0 ? -K_EEXIST : -K_ENOENT;
	else
		r = hal_fd_link(from.dir, from.name, to.dir, to.name);
	vfs_path_done(&from);
	vfs_path_done(&to);
	return wasi_errno(r);
}

unsigned wasi_path_readlink(struct wasi_call *c, const uint64_t *a)
{
	uint32_t len = (uint32_t)a[4];
	uint8_t *buf = wasi_ptr(c, (uint32_t)a[3], len);
	struct vfs_path p;
	unsigned err;
	char *tmp;
	int64_t n;

	if (!buf || !wasi_ptr(c, (uint32_t)a[5], 4))
		return WASI_EFAULT;
	if ((err = resolve(c, (uint32_t)a[0], RIGHT_PATH_READLINK, (uint32_t)a[1],
			   (uint32_t)a[2], 0, &p, NULL)))
		return err;
	if (!(tmp = kmalloc(VFS_PATH_MAX + 1)))
		n = -K_ENOMEM;
	else if (is_dot(&p) || p.slash)
		n = -K_EINVAL;	/* a directory, not a symlink */
	else
		n = hal_fd_readlink(p.dir, p.name, tmp, VFS_PATH_MAX + 1);
	vfs_path_done(&p);
	if (n >= 0) {
		/* the platform reports the whole target's length */
		n = MIN(MIN((uint64_t)n, (uint64_t)len), (uint64_t)VFS_PATH_MAX + 1);
		kmemcpy(buf, tmp, (size_t)n);
		err = wasi_put_u32(c, (uint32_t)a[5], (uint32_t)n);
	} else {
		err = wasi_errno((int)n);
	}
	kfree(tmp);
	return err;
}

unsigned wasi_path_remove_directory(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path p;
	unsigned err = resolve(c, (uint32_t)a[0], RIGHT_PATH_REMOVE_DIRECTORY, (uint32_t)a[1],
			       (uint32_t)a[2], 0, &p, NULL);
	int r;

	if (err)
		return err;
	r = is_dot(&p) ? -K_EINVAL : hal_fd_rmdir(p.dir, p.name);
	vfs_path_done(&p);
	return wasi_errno(r);
}

unsigned wasi_path_rename(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path from, to;
	unsigned err;
	int r, t;

	if ((err = resolve(c, (uint32_t)a[0], RIGHT_PATH_RENAME_SOURCE, (uint32_t)a[1],
			   (uint32_t)a[2], 0, &from, NULL)))
		return err;
	if ((err = resolve(c, (uint32_t)a[3], RIGHT_PATH_RENAME_TARGET, (uint32_t)a[4],
			   (uint32_t)a[5], 0, &to, NULL))) {
		vfs_path_done(&from);
		return err;
	}
	t = type_of(&from);
	if (t < 0)
		r = t;
	else if (is_dot(&from) || is_dot(&to))
		r = -K_EBUSY;
	else if ((from.slash || to.slash) && t != HAL_FT_DIR)
		r = -K_ENOTDIR;	/* a trailing slash names a directory */
	else
		r = hal_fd_rename(from.dir, from.name, to.dir, to.name);
	vfs_path_done(&from);
	vfs_path_done(&to);
	return wasi_errno(r);
}

unsigned wasi_path_symlink(struct wasi_call *c, const uint64_t *a)
{
	uint32_t tlen = (uint32_t)a[1];
	const char *target = wasi_ptr(c, (uint32_t)a[0], tlen);
	struct vfs_path p;
	unsigned err;
	char *t;
	int r;

	if (!target)
		return WASI_EFAULT;
	if (tlen > VFS_PATH_MAX)
		return WASI_ENAMETOOLONG;
	for (uint32_t i = 0; i < tlen; i++)
		if (!target[i])
			return WASI_EILSEQ;
	/* An absolute target names the host's root: never followable here
	 * (kernel/vfs.c), and refused up front as other runtimes do. */
	if (tlen && target[0] == '/')
		return WASI_EPERM;
	if ((err = resolve(c, (uint32_t)a[2], RIGHT_PATH_SYMLINK, (uint32_t)a[3],
			   (uint32_t)a[4], 0, &p, NULL)))
		return err;
	if (!(t = kmalloc(tlen + 1))) {
		r = -K_ENOMEM;
	} else if (is_dot(&p)) {
		r = -K_EEXIST;
	} else if (p.slash) {
		/* "link/" names a directory that a symlink cannot be */
		r = type_of(&p) >= 0 ? -K_EEXIST : -K_ENOENT;
	} else {
		kmemcpy(t, target, tlen);
		t[tlen] = 0;
		r = hal_fd_symlink(t, p.dir, p.name);
	}
	kfree(t);
	vfs_path_done(&p);
	return wasi_errno(r);
}

unsigned wasi_path_unlink_file(struct wasi_call *c, const uint64_t *a)
{
	struct vfs_path p;
	unsigned err = resolve(c, (uint32_t)a[0], RIGHT_PATH_UNLINK_FILE, (uint32_t)a[1],
			       (uint32_t)a[2], 0, &p, NULL);
	int r, t;

	if (err)
		return err;
	if (is_dot(&p)) {
		r = -K_EISDIR;
	} else if (p.slash) {
		t = type_of(&p);
		r = t < 0 ? t : t == HAL_FT_DIR ? -K_EISDIR : -K_ENOTDIR;
	} else {
		r = hal_fd_unlink(p.dir, p.name);
	}
	vfs_path_done(&p);
	return wasi_errno(r);
}
