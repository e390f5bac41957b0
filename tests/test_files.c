/*
 * test_files.c - the hosted file device (hosted/files.c) called directly,
 * without booting the kernel, on a fresh temporary directory: no name
 * resolves past one component, no symlink is followed, errors map to the
 * kernel's, pipes and sockets never block.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../kernel/hal.h"
#include "../kernel/kerr.h"
#include "../hosted/files.h"

static char root_path[64], out_path[64];
static int root = -1;		/* handle of the sandbox directory */

static void rm_rf(const char *path)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
	strcpy(root_path, "/tmp/k23files.XXXXXX");
	strcpy(out_path, "/tmp/k23outside.XXXXXX");
	cr_assert(mkdtemp(root_path) && mkdtemp(out_path));
	root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root, 0);
}

static void teardown(void)
{
	close(root);
	rm_rf(root_path);
	rm_rf(out_path);
}

/* A call that blocks fails its test instead of hanging it. */
TestSuite(files, .init = setup, .fini = teardown, .timeout = 30);

static void put(int dir, const char *name, const char *text)
{
	int fd;

	cr_assert_eq(hal_fd_open(dir, name, HAL_O_WRITE | HAL_O_CREAT | HAL_O_TRUNC, &fd), 0);
	cr_assert_eq(hal_fd_write(fd, text, strlen(text)), (int64_t)strlen(text));
	cr_assert_eq(hal_fd_close(fd), 0);
}

/* Host-side facts, checked around the device rather than through it. */
static bool host_exists(const char *dir, const char *name)
{
	char p[256];
	struct stat s;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &s) == 0;
}

/* -- Symlinks are never followed ------------------------------------------ */

Test(files, opening_a_symlink_is_eloop_whatever_the_flags)
{
	int fd;

	put(root, "file", "data");
	cr_assert_eq(hal_fd_mkdir(root, "sub"), 0);
	cr_assert_eq(symlinkat("file", root, "lfile"), 0);
	cr_assert_eq(symlinkat("sub", root, "lsub"), 0);
	cr_assert_eq(symlinkat("nowhere", root, "dangling"), 0);

	cr_assert_eq(hal_fd_open(root, "lfile", HAL_O_READ, &fd), -K_ELOOP);
	cr_assert_eq(hal_fd_open(root, "lfile", HAL_O_WRITE | HAL_O_TRUNC, &fd), -K_ELOOP);
	/* O_NOFOLLOW|O_DIRECTORY says ENOTDIR on Linux: still a symlink. */
	cr_assert_eq(hal_fd_open(root, "lsub", HAL_O_READ | HAL_O_DIRECTORY, &fd), -K_ELOOP);
	cr_assert_eq(hal_fd_open(root, "file", HAL_O_READ | HAL_O_DIRECTORY, &fd), -K_ENOTDIR);
	/* Creating through a dangling link must not create its target. */
	cr_assert_eq(hal_fd_open(root, "dangling", HAL_O_WRITE | HAL_O_CREAT, &fd), -K_ELOOP);
	cr_assert_eq(hal_fd_open(root, "dangling", HAL_O_WRITE | HAL_O_CREAT | HAL_O_EXCL, &fd),
		     -K_EEXIST);
	cr_assert_not(host_exists(root_path, "nowhere"));
	/* The file is untouched by the truncating attempt. */
	cr_assert_eq(hal_fd_open(root, "file", HAL_O_READ, &fd), 0);
	char buf[8];
	cr_assert_eq(hal_fd_read(fd, buf, sizeof(buf)), 4);
	hal_fd_close(fd);
}

Test(files, a_path_handle_holds_the_symlink_itself)
{
	struct hal_stat st;
	char buf[64];
	int fd, dirfd;

	cr_assert_eq(hal_fd_symlink("some/where/far", root, "link"), 0);
	cr_assert_eq(hal_fd_open(root, "link", HAL_O_PATH, &fd), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.type, HAL_FT_SYMLINK);
	cr_assert_eq(st.size, 14);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(hal_fd_readlink(fd, NULL, buf, sizeof(buf)), 14);
	cr_assert_str_eq(buf, "some/where/far");
	/* Cut short, the whole length still comes back. */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(hal_fd_readlink(fd, NULL, buf, 4), 14);
	cr_assert_str_eq(buf, "some");
	cr_assert_eq(hal_fd_readlink(fd, NULL, buf, 0), 14);
	cr_assert_eq(hal_fd_readlink(root, "link", buf, 4), 14);
	/* A path handle does no I/O. */
	cr_assert_eq(hal_fd_read(fd, buf, 1), -K_EBADF);
	cr_assert_eq(hal_fd_close(fd), 0);
	/* Asking a path handle to write or create is refused, not ignored. */
	cr_assert_eq(hal_fd_open(root, "new", HAL_O_PATH | HAL_O_CREAT, &fd), -K_EINVAL);
	cr_assert_eq(hal_fd_open(root, "link", HAL_O_PATH | HAL_O_WRITE, &fd), -K_EINVAL);
	cr_assert_not(host_exists(root_path, "new"));
	/* As itself a symlink is no directory. */
	cr_assert_eq(hal_fd_open(root, "link", HAL_O_PATH | HAL_O_DIRECTORY, &fd), -K_ENOTDIR);
	/* A path handle to a directory walks on, and readlink says EINVAL of a non-link. */
	cr_assert_eq(hal_fd_mkdir(root, "d"), 0);
	cr_assert_eq(hal_fd_open(root, "d", HAL_O_PATH | HAL_O_DIRECTORY, &dirfd), 0);
	put(dirfd, "inner", "x");
	cr_assert_eq(hal_fd_readlink(dirfd, "inner", buf, sizeof(buf)), -K_EINVAL);
	cr_assert_eq(hal_fd_readlink(dirfd, NULL, buf, sizeof(buf)), -K_EINVAL);
	cr_assert_eq(hal_fd_readlink(dirfd, NULL, buf, 0), -K_EINVAL);
	cr_assert(host_exists(root_path, "d/inner"));
	hal_fd_close(dirfd);
}

Test(files, statat_link_rename_unlink_touch_only_the_link)
{
	struct hal_stat st, lst, ost;
	char target[128], buf[128];
	int fd;

	/* A link to a directory outside the sandbox, holding a file. */
	snprintf(target, sizeof(target), "%s", out_path);
	snprintf(buf, sizeof(buf), "%s/keep", out_path);
	fd = open(buf, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(hal_fd_symlink(target, root, "esc"), 0);

	cr_assert_eq(hal_fd_statat(root, "esc", &lst), 0);
	cr_assert_eq(lst.type, HAL_FT_SYMLINK);
	cr_assert_eq(lst.size, strlen(target));
	cr_assert_eq(stat(out_path, &(struct stat){0}), 0);

	/* The outside directory's times stay as they were. */
	cr_assert_eq(hal_fd_open(root, "esc", HAL_O_PATH, &fd), 0);
	hal_fd_close(fd);
	struct stat before, after;
	cr_assert_eq(stat(out_path, &before), 0);
	cr_assert_eq(hal_fd_set_times(root, "esc", 1000000000ull, 2000000000ull), 0);
	cr_assert_eq(stat(out_path, &after), 0);
	cr_assert_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	cr_assert_eq(hal_fd_statat(root, "esc", &st), 0);
	cr_assert_eq(st.mtime, 2000000000ull, "the link's own mtime is set");
	cr_assert_eq(hal_fd_open(root, "esc", HAL_O_PATH, &fd), 0);
	cr_assert_eq(hal_fd_set_times(fd, NULL, HAL_TIME_OMIT, 3000000000ull), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.mtime, 3000000000ull, "and through a path handle to it");
	hal_fd_close(fd);
	cr_assert_eq(stat(out_path, &after), 0);
	cr_assert_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	cr_assert_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

	/* link links the symlink, not the directory (which it could not). */
	cr_assert_eq(hal_fd_link(root, "esc", root, "esc2"), 0);
	cr_assert_eq(hal_fd_statat(root, "esc2", &st), 0);
	cr_assert_eq(st.type, HAL_FT_SYMLINK);
	cr_assert_eq(st.ino, lst.ino);
	cr_assert_eq(st.nlink, 2);

	/* Directory operations on the link fail without reaching outside. */
	cr_assert_eq(hal_fd_rmdir(root, "esc"), -K_ENOTDIR);
	cr_assert_eq(hal_fd_mkdir(root, "esc"), -K_EEXIST);

	/* rename moves the link; unlink removes it; the outside is intact. */
	cr_assert_eq(hal_fd_rename(root, "esc", root, "moved"), 0);
	cr_assert_eq(hal_fd_statat(root, "moved", &st), 0);
	cr_assert_eq(st.type, HAL_FT_SYMLINK);
	cr_assert_eq(hal_fd_statat(root, "esc", &st), -K_ENOENT);
	cr_assert_eq(hal_fd_unlink(root, "moved"), 0);
	cr_assert_eq(hal_fd_unlink(root, "esc2"), 0);
	cr_assert_eq(stat(out_path, &(struct stat){0}), 0);
	cr_assert(host_exists(out_path, "keep"));
	cr_assert_eq(hal_fd_statat(root, "moved", &ost), -K_ENOENT);
}

/* -- Names ---------------------------------------------------------------- */

Test(files, bad_names_are_rejected_by_every_call)
{
	static const struct { const char *name; int err; } bad[] = {
		{ "", -K_EINVAL }, { ".", -K_EINVAL }, { "..", -K_ENOTCAPABLE },
		{ "a/b", -K_ENOTCAPABLE }, { "/etc", -K_ENOTCAPABLE },
		{ "a/", -K_ENOTCAPABLE }, { "../x", -K_ENOTCAPABLE },
	};
	struct hal_stat st;
	char buf[8];
	int fd;

	put(root, "a", "x");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *n = bad[i].name;
		int e = bad[i].err;

		if (strcmp(n, "."))	/* "." is the directory itself in open */
			cr_assert_eq(hal_fd_open(root, n, HAL_O_READ, &fd), e, "open '%s'", n);
		cr_assert_eq(hal_fd_statat(root, n, &st), e, "statat '%s'", n);
		cr_assert_eq(hal_fd_mkdir(root, n), e, "mkdir '%s'", n);
		cr_assert_eq(hal_fd_rmdir(root, n), e, "rmdir '%s'", n);
		cr_assert_eq(hal_fd_unlink(root, n), e, "unlink '%s'", n);
		cr_assert_eq(hal_fd_rename(root, "a", root, n), e, "rename to '%s'", n);
		cr_assert_eq(hal_fd_rename(root, n, root, "z"), e, "rename from '%s'", n);
		cr_assert_eq(hal_fd_link(root, "a", root, n), e, "link to '%s'", n);
		cr_assert_eq(hal_fd_link(root, n, root, "z"), e, "link from '%s'", n);
		cr_assert_eq(hal_fd_symlink("a", root, n), e, "symlink '%s'", n);
		cr_assert_eq(hal_fd_readlink(root, n, buf, sizeof(buf)), e, "readlink '%s'", n);
		cr_assert_eq(hal_fd_set_times(root, n, HAL_TIME_NOW, HAL_TIME_NOW), e,
			     "set_times '%s'", n);
	}
	cr_assert_eq(hal_fd_open(root, NULL, HAL_O_READ, &fd), -K_EINVAL);
	cr_assert_eq(hal_fd_statat(root, NULL, &st), -K_EINVAL);
	cr_assert_eq(hal_fd_open(root, "a", 1u << 20, &fd), -K_EINVAL, "unknown flag");
	/* "." in open is a new handle to the directory itself. */
	cr_assert_eq(hal_fd_open(root, ".", HAL_O_READ | HAL_O_DIRECTORY, &fd), 0);
	cr_assert_eq(hal_fd_statat(fd, "a", &st), 0);
	hal_fd_close(fd);
	cr_assert(host_exists(root_path, "a"));
	cr_assert_not(host_exists(root_path, "z"));
}

/* -- Directories ---------------------------------------------------------- */

#define NFILES 60

struct ent {
	char name[64];
	uint64_t ino, next;
	uint8_t type;
};

struct listing {
	struct ent e[NFILES + 8];
	int n, stop_after;
};

static bool collect(void *arg, const char *name, size_t len, uint64_t ino,
		    uint8_t type, uint64_t next)
{
	struct listing *l = arg;

	cr_assert_lt(l->n, NFILES + 8);
	cr_assert_lt(len, sizeof(l->e[0].name));
	cr_assert_eq(strlen(name), len);
	memcpy(l->e[l->n].name, name, len + 1);
	l->e[l->n].ino = ino;
	l->e[l->n].type = type;
	l->e[l->n].next = next;
	l->n++;
	return l->n != l->stop_after;
}

static int find(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return i;
	return -1;
}

Test(files, readdir_cookies_resume_where_they_say)
{
	static struct listing all, part, one;
	char name[48];
	int d, i;

	cr_assert_eq(hal_fd_mkdir(root, "d"), 0);
	cr_assert_eq(hal_fd_open(root, "d", HAL_O_READ | HAL_O_DIRECTORY, &d), 0);
	for (i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		put(d, name, "x");
	}
	cr_assert_eq(hal_fd_mkdir(d, "subdir"), 0);
	cr_assert_eq(hal_fd_symlink("subdir", d, "link"), 0);

	cr_assert_eq(hal_fd_readdir(d, 0, collect, &all), 0);
	cr_assert_eq(all.n, NFILES + 4);
	cr_assert_eq(all.e[find(&all, ".")].type, HAL_FT_DIR);
	cr_assert_eq(all.e[find(&all, "..")].type, HAL_FT_DIR);
	cr_assert_eq(all.e[find(&all, "subdir")].type, HAL_FT_DIR);
	cr_assert_eq(all.e[find(&all, "link")].type, HAL_FT_SYMLINK);
	for (i = 0; i < NFILES; i++) {
		struct hal_stat st;
		int k;

		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		k = find(&all, name);
		cr_assert_geq(k, 0, "%s listed", name);
		cr_assert_eq(all.e[k].type, HAL_FT_FILE);
		cr_assert_eq(hal_fd_statat(d, name, &st), 0);
		cr_assert_eq(all.e[k].ino, st.ino);
	}

	/* Resuming after each entry gives exactly the one that followed. */
	for (i = 0; i + 1 < all.n; i++) {
		one.n = 0;
		one.stop_after = 1;
		cr_assert_eq(hal_fd_readdir(d, all.e[i].next, collect, &one), 0);
		cr_assert_eq(one.n, 1);
		cr_assert_str_eq(one.e[0].name, all.e[i + 1].name, "after %s", all.e[i].name);
	}
	one.n = 0;
	one.stop_after = 0;
	cr_assert_eq(hal_fd_readdir(d, all.e[all.n - 1].next, collect, &one), 0);
	cr_assert_eq(one.n, 0, "nothing after the last entry");

	/* Stopping part way and resuming in steps of 7 sees all, once each. */
	uint64_t cookie = 0;
	for (int rounds = 0; rounds < 100; rounds++) {
		int before = part.n;

		part.stop_after = part.n + 7;
		cr_assert_eq(hal_fd_readdir(d, cookie, collect, &part), 0);
		if (part.n == before)
			break;
		cookie = part.e[part.n - 1].next;
	}
	cr_assert_eq(part.n, all.n);
	for (i = 0; i < all.n; i++)
		cr_assert_str_eq(part.e[i].name, all.e[i].name);

	/* The handle's own position is not used, nor moved. */
	uint64_t pos;
	cr_assert_eq(hal_fd_seek(d, 0, 1, &pos), 0);
	cr_assert_eq(pos, 0);

	cr_assert_eq(hal_fd_readdir(root, 0, collect, &(struct listing){ .stop_after = 1 }), 0);
	int f;
	cr_assert_eq(hal_fd_open(d, "link", HAL_O_PATH, &f), 0);
	cr_assert_eq(hal_fd_readdir(f, 0, collect, &one), -K_EBADF, "a path handle reads nothing");
	hal_fd_close(f);
	cr_assert_eq(hal_fd_open(d, "file-with-a-longish-name-000", HAL_O_READ, &f), 0);
	cr_assert_eq(hal_fd_readdir(f, 0, collect, &one), -K_ENOTDIR);
	hal_fd_close(f);
	hal_fd_close(d);
}

Test(files, host_errors_map_to_the_kernels)
{
	int fd;

	cr_assert_eq(hal_fd_open(root, "missing", HAL_O_READ, &fd), -K_ENOENT);
	cr_assert_eq(hal_fd_mkdir(root, "d"), 0);
	cr_assert_eq(hal_fd_mkdir(root, "d"), -K_EEXIST);
	put(root, "f", "x");
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_WRITE | HAL_O_CREAT | HAL_O_EXCL, &fd), -K_EEXIST);
	cr_assert_eq(hal_fd_open(root, "d", HAL_O_PATH | HAL_O_DIRECTORY, &fd), 0);
	put(fd, "inside", "y");
	cr_assert_eq(hal_fd_rmdir(root, "d"), -K_ENOTEMPTY);
	cr_assert_eq(hal_fd_statat(fd, "inside", &(struct hal_stat){0}), 0);
	hal_fd_close(fd);
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_READ | HAL_O_DIRECTORY, &fd), -K_ENOTDIR);
	cr_assert_eq(hal_fd_rmdir(root, "f"), -K_ENOTDIR);
	cr_assert_eq(hal_fd_open(root, "d", HAL_O_WRITE, &fd), -K_EISDIR);
	cr_assert_eq(hal_fd_unlink(root, "d"), -K_EISDIR);
	cr_assert_eq(hal_fd_rename(root, "f", root, "d"), -K_EISDIR);
	cr_assert_eq(hal_fd_rename(root, "d", root, "f"), -K_ENOTDIR);
	cr_assert_eq(hal_fd_open(root, "d", HAL_O_CREAT | HAL_O_DIRECTORY, &fd), -K_EINVAL);
	cr_assert_eq(hal_fd_close(1000), -K_EBADF);
	cr_assert_eq(hal_fd_read(1000, &fd, 1), -K_EBADF);
	cr_assert_eq(hal_fd_mkdir(1000, "x"), -K_EBADF);
}

/* -- Files ---------------------------------------------------------------- */

Test(files, seek_pread_pwrite_truncate_allocate)
{
	char buf[32];
	uint64_t pos;
	struct hal_stat st;
	int fd, fd2;

	cr_assert_eq(hal_fd_open(root, "f", HAL_O_READ | HAL_O_WRITE | HAL_O_CREAT, &fd), 0);
	cr_assert_eq(hal_fd_pwrite(fd, "hello", 5, 100), 5);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.type, HAL_FT_FILE);
	cr_assert_eq(st.size, 105);
	cr_assert_eq(st.nlink, 1);
	cr_assert_eq(hal_fd_seek(fd, 0, 1, &pos), 0);
	cr_assert_eq(pos, 0, "pwrite leaves the offset");
	cr_assert_eq(hal_fd_pread(fd, buf, sizeof(buf), 99), 6);
	cr_assert_eq(memcmp(buf, "\0hello", 6), 0);
	cr_assert_eq(hal_fd_seek(fd, -3, 2, &pos), 0);
	cr_assert_eq(pos, 102);
	cr_assert_eq(hal_fd_read(fd, buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "llo", 3), 0);
	cr_assert_eq(hal_fd_read(fd, buf, sizeof(buf)), 0, "end of file");
	cr_assert_eq(hal_fd_seek(fd, 10, 0, &pos), 0);
	cr_assert_eq(hal_fd_seek(fd, 5, 1, &pos), 0);
	cr_assert_eq(pos, 15);
	cr_assert_eq(hal_fd_seek(fd, 0, 3, &pos), -K_EINVAL, "whence 3");
	cr_assert_eq(hal_fd_seek(fd, -1, 0, &pos), -K_EINVAL);
	cr_assert_eq(hal_fd_pread(fd, buf, 1, UINT64_MAX), -K_EINVAL);

	/* dup shares the offset. */
	cr_assert_eq(hal_fd_dup(fd, &fd2), 0);
	cr_assert_geq(fd2, 3);
	cr_assert_eq(hal_fd_seek(fd2, 50, 0, &pos), 0);
	cr_assert_eq(hal_fd_seek(fd, 0, 1, &pos), 0);
	cr_assert_eq(pos, 50);
	hal_fd_close(fd2);

	cr_assert_eq(hal_fd_truncate(fd, 10), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.size, 10);
	cr_assert_eq(hal_fd_allocate(fd, 0, 4096), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.size, 4096);
	cr_assert_eq(hal_fd_allocate(fd, 0, 100), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.size, 4096, "allocating less keeps the size");
	cr_assert_eq(hal_fd_truncate(fd, UINT64_MAX), -K_EFBIG);
	for (unsigned a = 0; a <= 5; a++)
		cr_assert_eq(hal_fd_advise(fd, 0, 100, a), 0, "advice %u", a);
	cr_assert_eq(hal_fd_advise(fd, 0, 100, 6), -K_EINVAL);
	cr_assert_eq(hal_fd_sync(fd, false), 0);
	cr_assert_eq(hal_fd_sync(fd, true), 0);
	hal_fd_close(fd);

	/* Read-only handles refuse to write. */
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_READ, &fd), 0);
	cr_assert_eq(hal_fd_write(fd, "x", 1), -K_EBADF);
	cr_assert_eq(hal_fd_truncate(fd, 0), -K_EINVAL);
	hal_fd_close(fd);
}

Test(files, flags_get_and_set)
{
	unsigned fl;
	uint64_t pos;
	int fd;

	cr_assert_eq(hal_fd_open(root, "f", HAL_O_WRITE | HAL_O_CREAT | HAL_O_APPEND, &fd), 0);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, HAL_O_APPEND);
	cr_assert_eq(hal_fd_write(fd, "abc", 3), 3);
	cr_assert_eq(hal_fd_seek(fd, 0, 0, &pos), 0);
	cr_assert_eq(hal_fd_write(fd, "d", 1), 1);
	cr_assert_eq(hal_fd_seek(fd, 0, 1, &pos), 0);
	cr_assert_eq(pos, 4, "appended");
	cr_assert_eq(hal_fd_set_flags(fd, 0), 0);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, 0);
	cr_assert_eq(hal_fd_seek(fd, 0, 0, &pos), 0);
	cr_assert_eq(hal_fd_write(fd, "X", 1), 1);
	cr_assert_eq(hal_fd_seek(fd, 0, 1, &pos), 0);
	cr_assert_eq(pos, 1, "no longer appending");
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_SYNC), -K_ENOTSUP);
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_DSYNC | HAL_O_APPEND), -K_ENOTSUP);
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_READ), -K_EINVAL);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, 0, "a refused change changes nothing");
	hal_fd_close(fd);

	cr_assert_eq(hal_fd_open(root, "f", HAL_O_WRITE | HAL_O_DSYNC, &fd), 0);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, HAL_O_DSYNC);
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_DSYNC | HAL_O_APPEND), 0);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, HAL_O_DSYNC | HAL_O_APPEND);
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_APPEND), -K_ENOTSUP, "clearing DSYNC");
	hal_fd_close(fd);

	/* Linux: O_SYNC holds O_DSYNC's bit and O_RSYNC is O_SYNC. */
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_WRITE | HAL_O_SYNC, &fd), 0);
	cr_assert_eq(hal_fd_get_flags(fd, &fl), 0);
	cr_assert_eq(fl, HAL_O_SYNC | HAL_O_DSYNC | HAL_O_RSYNC);
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_SYNC | HAL_O_APPEND), 0);
	cr_assert_eq(hal_fd_set_flags(fd, fl), 0, "what get_flags said is accepted back");
	cr_assert_eq(hal_fd_set_flags(fd, HAL_O_DSYNC), -K_ENOTSUP);
	hal_fd_close(fd);
}

Test(files, set_times_omit_now_and_exact)
{
	struct hal_stat st, st0;
	uint64_t t0, t1;
	int fd, p;

	put(root, "f", "x");
	cr_assert_eq(hal_fd_statat(root, "f", &st0), 0);
	cr_assert_eq(hal_fd_set_times(root, "f", HAL_TIME_OMIT, 1234567890123456789ull), 0);
	cr_assert_eq(hal_fd_statat(root, "f", &st), 0);
	cr_assert_eq(st.mtime, 1234567890123456789ull);
	cr_assert_eq(st.atime, st0.atime, "OMIT keeps atime");

	cr_assert_eq(hal_fd_open(root, "f", HAL_O_READ, &fd), 0);
	t0 = hal_time_wall_ns();
	cr_assert_eq(hal_fd_set_times(fd, NULL, HAL_TIME_NOW, HAL_TIME_OMIT), 0);
	t1 = hal_time_wall_ns();
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.mtime, 1234567890123456789ull, "OMIT keeps mtime");
	/* The file system's clock is coarse (a jiffy behind at most). */
	cr_assert(st.atime + 20000000ull >= t0 && st.atime <= t1, "atime is now");
	cr_assert_eq(hal_fd_set_times(fd, NULL, 5000000000ull, 6000000001ull), 0);
	cr_assert_eq(hal_fd_stat(fd, &st), 0);
	cr_assert_eq(st.atime, 5000000000ull);
	cr_assert_eq(st.mtime, 6000000001ull);
	hal_fd_close(fd);

	/* Through a path handle (futimens refuses those). */
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_PATH, &p), 0);
	cr_assert_eq(hal_fd_set_times(p, NULL, HAL_TIME_OMIT, 7000000000ull), 0);
	cr_assert_eq(hal_fd_stat(p, &st), 0);
	cr_assert_eq(st.mtime, 7000000000ull);
	cr_assert_eq(st.atime, 5000000000ull);
	hal_fd_close(p);
}

/* -- Pipes, polling, terminals -------------------------------------------- */

Test(files, adopted_pipes_do_not_block_and_poll_says_when_ready)
{
	struct hal_pollfd pf[2];
	char buf[16];
	int p[2], r, w;

	cr_assert_eq(pipe(p), 0);
	r = hosted_fd_adopt(p[0]);
	w = hosted_fd_adopt(p[1]);
	cr_assert_geq(r, 3);
	cr_assert_geq(w, 3);
	cr_assert_neq(r, p[0], "a handle of its own");
	/* The description shared with the "parent" stays blocking. */
	cr_assert_eq(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	cr_assert_eq(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	cr_assert_neq(fcntl(r, F_GETFL) & O_NONBLOCK, 0);

	cr_assert_eq(hal_fd_read(r, buf, sizeof(buf)), -K_EAGAIN);
	pf[0] = (struct hal_pollfd){ .fd = r, .events = HAL_POLL_IN };
	pf[1] = (struct hal_pollfd){ .fd = w, .events = HAL_POLL_OUT };
	cr_assert_eq(hal_fd_poll(pf, 2), 1);
	cr_assert_eq(pf[0].revents, 0);
	cr_assert_eq(pf[1].revents, HAL_POLL_OUT);
	cr_assert_eq(hal_fd_write(w, "ping", 4), 4);
	cr_assert_eq(hal_fd_poll(pf, 1), 1);
	cr_assert_eq(pf[0].revents, HAL_POLL_IN);
	cr_assert_eq(hal_fd_read(r, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);

	/* A full pipe says EAGAIN to the writer rather than blocking. */
	static char big[1 << 16];
	int64_t n, total = 0;
	while ((n = hal_fd_write(w, big, sizeof(big))) > 0)
		total += n;
	cr_assert_eq(n, -K_EAGAIN);
	cr_assert_gt(total, 0);
	cr_assert_eq(hal_fd_poll(&pf[1], 1), 0, "full: not writable");
	while (hal_fd_read(r, big, sizeof(big)) > 0)
		;

	/* All writers gone: HUP, and readable (read gives end of file). */
	hal_fd_close(w);
	close(p[1]);
	cr_assert_eq(hal_fd_poll(pf, 1), 1);
	cr_assert_eq(pf[0].revents, HAL_POLL_IN | HAL_POLL_HUP);
	cr_assert_eq(hal_fd_read(r, buf, sizeof(buf)), 0);
	hal_fd_close(r);
	close(p[0]);

	pf[0] = (struct hal_pollfd){ .fd = 1000, .events = HAL_POLL_IN };
	cr_assert_eq(hal_fd_poll(pf, 1), 1);
	cr_assert(pf[0].revents & HAL_POLL_ERR, "a closed handle");
	cr_assert_eq(hal_fd_poll(NULL, 0), 0);
}

Test(files, a_fifo_opens_and_reads_without_blocking)
{
	char buf[8];
	int r, w;

	cr_assert_eq(mkfifoat(root, "fifo", 0600), 0);
	cr_assert_eq(hal_fd_open(root, "fifo", HAL_O_WRITE, &w), -K_ENXIO, "no reader yet");
	cr_assert_eq(hal_fd_open(root, "fifo", HAL_O_READ, &r), 0, "opening does not wait");
	cr_assert_eq(hal_fd_open(root, "fifo", HAL_O_WRITE, &w), 0);
	cr_assert_eq(hal_fd_read(r, buf, sizeof(buf)), -K_EAGAIN);
	cr_assert_eq(hal_fd_statat(root, "fifo", &(struct hal_stat){0}), 0);
	cr_assert_eq(hal_fd_write(w, "ab", 2), 2);
	cr_assert_eq(hal_fd_read(r, buf, sizeof(buf)), 2);
	cr_assert_eq(hal_fd_seek(r, 0, 0, &(uint64_t){0}), -K_ESPIPE);
	cr_assert_not(hal_fd_isatty(r));
	hal_fd_close(w);
	hal_fd_close(r);
	/* Writing to a pipe with no reader is EPIPE, and k23sim lives on. */
	int p[2];
	cr_assert_eq(pipe(p), 0);
	w = hosted_fd_adopt(p[1]);
	cr_assert_geq(w, 0);
	close(p[0]);
	cr_assert_eq(hal_fd_write(w, "x", 1), -K_EPIPE);
	hal_fd_close(w);
	close(p[1]);
}

Test(files, adopting_regular_files_shares_the_offset)
{
	char path[128], buf[8];
	uint64_t pos;
	int hostfd, h;

	put(root, "f", "0123456789");
	snprintf(path, sizeof(path), "%s/f", root_path);
	hostfd = open(path, O_RDONLY);
	cr_assert_geq(hostfd, 0);
	h = hosted_fd_adopt(hostfd);
	cr_assert_geq(h, 3);
	cr_assert_eq(hal_fd_read(h, buf, 4), 4);
	cr_assert_eq(lseek(hostfd, 0, SEEK_CUR), 4);
	cr_assert_eq(hal_fd_close(h), 0);
	cr_assert_eq(read(hostfd, buf, 2), 2, "the host's descriptor stays open");
	cr_assert_eq(hal_fd_seek(hostfd, 0, 1, &pos), 0);
	close(hostfd);
	cr_assert_eq(hosted_fd_adopt(hostfd), -K_EBADF);
}

Test(files, terminals_are_known_and_reopened)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s, h;
	char buf[8];

	if (m < 0 || grantpt(m) || unlockpt(m))
		cr_skip_test("no pseudo-terminal here");
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	cr_assert_geq(s, 0);
	h = hosted_fd_adopt(s);
	cr_assert_geq(h, 3);
	cr_assert(hal_fd_isatty(h));
	cr_assert_eq(fcntl(s, F_GETFL) & O_NONBLOCK, 0, "the shared terminal stays blocking");
	cr_assert_eq(hal_fd_read(h, buf, sizeof(buf)), -K_EAGAIN);
	cr_assert_eq(hal_fd_stat(h, &(struct hal_stat){0}), 0);
	struct hal_stat st;
	cr_assert_eq(hal_fd_stat(h, &st), 0);
	cr_assert_eq(st.type, HAL_FT_CHAR);
	hal_fd_close(h);
	close(s);
	close(m);
	cr_assert_not(hal_fd_isatty(root));
}

/* -- Sockets -------------------------------------------------------------- */

static int connect_to(int listener)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int c;

	cr_assert_eq(getsockname(listener, (struct sockaddr *)&sa, &len), 0);
	c = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c, 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&sa, len), 0);
	return c;
}

Test(files, tcp_accept_recv_send_shutdown)
{
	struct hal_pollfd pf;
	struct hal_stat st;
	char buf[16];
	int l, c, s;

	cr_assert_eq(hosted_tcp_listen("127.0.0.1:0", &l), 0);
	cr_assert_eq(hal_fd_stat(l, &st), 0);
	cr_assert_eq(st.type, HAL_FT_STREAM);
	cr_assert_eq(hal_sock_accept(l, &s), -K_EAGAIN, "nobody yet, and no waiting");
	c = connect_to(l);
	pf = (struct hal_pollfd){ .fd = l, .events = HAL_POLL_IN };
	for (int i = 0; i < 1000 && !hal_fd_poll(&pf, 1); i++)
		usleep(1000);
	cr_assert_eq(pf.revents, HAL_POLL_IN);
	cr_assert_eq(hal_sock_accept(l, &s), 0);
	cr_assert_neq(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
	cr_assert_neq(fcntl(s, F_GETFD) & FD_CLOEXEC, 0);
	cr_assert_eq(hal_fd_stat(s, &st), 0);
	cr_assert_eq(st.type, HAL_FT_STREAM);

	cr_assert_eq(hal_sock_recv(s, buf, sizeof(buf), 0), -K_EAGAIN);
	cr_assert_eq(send(c, "hello", 5, 0), 5);
	pf = (struct hal_pollfd){ .fd = s, .events = HAL_POLL_IN };
	for (int i = 0; i < 1000 && !hal_fd_poll(&pf, 1); i++)
		usleep(1000);
	cr_assert_eq(hal_sock_recv(s, buf, sizeof(buf), HAL_SOCK_PEEK), 5);
	cr_assert_eq(hal_sock_recv(s, buf, 2, HAL_SOCK_WAITALL), 2);
	cr_assert_eq(memcmp(buf, "he", 2), 0, "peeking left the data");
	cr_assert_eq(hal_fd_read(s, buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "llo", 3), 0);
	cr_assert_eq(hal_sock_recv(s, buf, sizeof(buf), 4), -K_EINVAL);

	cr_assert_eq(hal_sock_send(s, "world", 5), 5);
	cr_assert_eq(recv(c, buf, 5, MSG_WAITALL), 5);
	cr_assert_eq(memcmp(buf, "world", 5), 0);

	cr_assert_eq(hal_sock_shutdown(s, 0), -K_EINVAL);
	cr_assert_eq(hal_sock_shutdown(s, 4), -K_EINVAL);
	cr_assert_eq(hal_sock_shutdown(s, HAL_SHUT_WR), 0);
	cr_assert_eq(recv(c, buf, sizeof(buf), 0), 0, "the peer sees the end");
	cr_assert_eq(hal_sock_send(c, "ok", 2), 2, "the other way still works");
	cr_assert_eq(recv(s, buf, 2, MSG_WAITALL), 2);

	cr_assert_eq(hal_sock_accept(root, &s), -K_ENOTSOCK);
	int f;
	put(root, "f", "x");
	cr_assert_eq(hal_fd_open(root, "f", HAL_O_READ, &f), 0);
	cr_assert_eq(hal_sock_send(f, "x", 1), -K_ENOTSOCK);
	cr_assert_eq(hal_sock_shutdown(f, HAL_SHUT_RD), -K_ENOTSOCK);
	close(c);
	hal_fd_close(s);
	hal_fd_close(l);
}

Test(files, an_adopted_socket_is_nonblocking)
{
	struct hal_stat st;
	char buf[8];
	int sv[2], h;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	h = hosted_fd_adopt(sv[0]);
	cr_assert_geq(h, 3);
	cr_assert_eq(hal_fd_stat(h, &st), 0);
	cr_assert_eq(st.type, HAL_FT_DGRAM);
	cr_assert_eq(hal_sock_recv(h, buf, sizeof(buf), 0), -K_EAGAIN);
	cr_assert_eq(hal_fd_read(h, buf, sizeof(buf)), -K_EAGAIN);
	cr_assert_eq(send(sv[1], "dg", 2, 0), 2);
	cr_assert_eq(hal_fd_read(h, buf, sizeof(buf)), 2);
	hal_fd_close(h);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Sending after shutdown, or to a peer that is gone, must be EPIPE (or
 * ECONNRESET) and never SIGPIPE: MSG_NOSIGNAL alone is tested here, with
 * SIGPIPE's default action (death) put back.
 */
Test(files, send_to_a_closed_peer_is_epipe_not_sigpipe)
{
	char buf[4096] = { 0 };
	int l, c, s;
	int64_t r = 0;

	signal(SIGPIPE, SIG_DFL);
	cr_assert_eq(hosted_tcp_listen("127.0.0.1:0", &l), 0);
	c = connect_to(l);
	for (int i = 0; i < 1000 && hal_sock_accept(l, &s); i++)
		usleep(1000);
	cr_assert_eq(hal_sock_shutdown(s, HAL_SHUT_WR), 0);
	cr_assert_eq(hal_sock_send(s, "x", 1), -K_EPIPE);

	int s2;
	int c2 = connect_to(l);
	for (int i = 0; i < 1000 && hal_sock_accept(l, &s2); i++)
		usleep(1000);
	close(c2);
	for (int i = 0; i < 1000 && r >= 0; i++) {
		r = hal_sock_send(s2, buf, sizeof(buf));
		if (r >= 0)
			usleep(1000);
	}
	cr_assert(r == -K_EPIPE || r == -K_ECONNRESET, "send said %lld", (long long)r);
	close(c);
	hal_fd_close(s);
	hal_fd_close(s2);
	hal_fd_close(l);
}

Test(files, sigpipe_is_ignored_once_files_c_is_linked)
{
	struct sigaction sa;

	cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	cr_assert_eq(sa.sa_handler, SIG_IGN);
}

Test(files, tcplisten_parses_addresses_and_says_what_is_wrong)
{
	static const char *bad[] = {
		"", "nonsense", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:99999",
		"127.0.0.1:80x", "127.0.0.1:-1", "[::1", "[::1]8080", "::1:8080",
		"no-such-host.invalid:80", "1.2.3.4.5:80", "127.0.0.1:1234567",
	};
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char addr[64];
	char msg[4096];
	size_t n;
	int l, l2, fd = -1;

	cr_redirect_stderr();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(hosted_tcp_listen(bad[i], &fd), -K_EINVAL, "'%s'", bad[i]);
	cr_assert_eq(fd, -1, "no handle on failure");

	cr_assert_eq(hosted_tcp_listen("localhost:0", &l), 0);
	hal_fd_close(l);
	cr_assert_eq(hosted_tcp_listen("127.0.0.1:0", &l), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	cr_assert_eq(sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_neq(sin.sin_port, 0);
	cr_assert_neq(fcntl(l, F_GETFL) & O_NONBLOCK, 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	cr_assert_eq(hosted_tcp_listen(addr, &l2), -K_EADDRINUSE);
	hal_fd_close(l);

	/* IPv6 where the host has it. */
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	if (probe >= 0 && !bind(probe, (struct sockaddr *)&s6, sizeof(s6))) {
		int c;

		cr_assert_eq(hosted_tcp_listen("[::1]:0", &l), 0);
		c = connect_to(l);
		close(c);
		hal_fd_close(l);
	}
	if (probe >= 0)
		close(probe);

	/* One line per failure, saying what was wrong. */
	fflush(stderr);
	n = fread(msg, 1, sizeof(msg) - 1, cr_get_redirected_stderr());
	msg[n] = 0;
	cr_assert(strstr(msg, "k23sim: --tcplisten ::1:8080: expected ADDR:PORT"), "%s", msg);
	cr_assert(strstr(msg, "k23sim: --tcplisten no-such-host.invalid:80: "), "%s", msg);
	cr_assert(strstr(msg, ": Address already in use\n"), "%s", msg);
	int lines = 0;
	for (char *c = msg; *c; c++)
		lines += *c == '\n';
	cr_assert_eq(lines, sizeof(bad) / sizeof(bad[0]) + 1);
}

/* -- CPU time ------------------------------------------------------------- */

Test(files, cpu_time_counts_work)
{
	uint64_t p0 = hal_time_process_ns(), t0 = hal_time_thread_ns(), p1, t1;
	volatile uint64_t x = 0;

	while (hal_time_thread_ns() - t0 < 20000000ull)
		x++;
	p1 = hal_time_process_ns();
	t1 = hal_time_thread_ns();
	cr_assert_geq(t1 - t0, 20000000ull);
	cr_assert_geq(p1 - p0, t1 - t0 - 1000000ull, "the process ran at least this thread");
	cr_assert_gt(x, 0);
}
