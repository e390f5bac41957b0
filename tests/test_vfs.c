/*
 * test_vfs.c - confined path resolution (kernel/vfs.c) over the hosted
 * file device: every way out of a root is refused, the ways within it
 * work, and a directory swapped for a symlink while the walk runs never
 * leads outside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "../hosted/files.h"
#include "../kernel/kerr.h"
#include "../kernel/vfs.h"

static char top[64];		/* holds root/ and the secrets beside it */
static char rootpath[96];
static hal_fd_t root;

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_not_null(f = fopen(p, "w"), "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "%s: %s", p, strerror(errno));
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_eq(symlink(target, p), 0, "%s: %s", p, strerror(errno));
}

/*
 * top/secret, top/outside/file: what no walk may reach.
 * top/root/a/b/file, a/up -> ../.., abs -> /etc, loop -> loop,
 * dirlink -> a, selfdir -> ., race/file: the root's own tree.
 */
static void setup(void)
{
	int fd;

	strcpy(top, "/tmp/k23-vfs-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	snprintf(rootpath, sizeof(rootpath), "%s/root", top);
	put("secret", "SECRET\n");
	mk("outside");
	put("outside/file", "SECRET\n");
	mk("root");
	mk("root/a");
	mk("root/a/b");
	put("root/a/b/file", "inside\n");
	ln("../..", "root/a/up");
	ln("/etc", "root/abs");
	ln("loop", "root/loop");
	ln("a", "root/dirlink");
	ln(".", "root/selfdir");
	mk("root/race");
	put("root/race/file", "inside\n");
	cr_assert((fd = open(rootpath, O_RDONLY | O_DIRECTORY)) >= 0);
	cr_assert((root = hosted_fd_adopt(fd)) >= 0);
	close(fd);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	cr_assert_eq(system(cmd), 0);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Resolve path (flags), expecting err; on success, the name it ends at. */
static void expect(const char *path, unsigned flags, int err, const char *name, bool slash)
{
	struct vfs_path p;
	int r = vfs_resolve(root, path, strlen(path), flags, &p);

	cr_expect_eq(r, err, "'%s': got %d (%s), want %d (%s)", path, r, kerr_str(r), err,
		     kerr_str(err));
	if (r || err)
		return;
	cr_expect_str_eq(p.name, name, "'%s'", path);
	cr_expect_eq(p.slash, slash, "'%s': slash", path);
	vfs_path_done(&p);
}

/* Resolve path, open what it names and return its first line. */
static int read_through(const char *path, char *buf, size_t len)
{
	struct vfs_path p;
	hal_fd_t h;
	int64_t n;
	int r;

	if ((r = vfs_resolve(root, path, strlen(path), VFS_FOLLOW, &p)) < 0)
		return r;
	r = hal_fd_open(p.dir, p.name, HAL_O_READ, &h);
	vfs_path_done(&p);
	if (r < 0)
		return r;
	n = hal_fd_read(h, buf, len - 1);
	hal_fd_close(h);
	buf[n > 0 ? n : 0] = 0;
	return n < 0 ? (int)n : 0;
}

static int walks(void *arg)
{
	char buf[300], line[32];
	int before = open_fds();

	expect("a/b/file", 0, 0, "file", false);
	expect("a/b/", 0, 0, "b", true);
	expect("a//b///file", 0, 0, "file", false);
	expect(".", 0, 0, ".", false);
	expect("a/..", 0, 0, ".", false);
	expect("a/b/../../a/./b/file", 0, 0, "file", false);
	expect("dirlink/b/file", 0, 0, "file", false);
	expect("selfdir/selfdir/a/b/file", 0, 0, "file", false);
	expect("dirlink", 0, 0, "dirlink", false);	/* not followed */
	expect("dirlink/", 0, 0, "a", true);		/* a trailing slash follows */
	expect("abs", 0, 0, "abs", false);
	expect("newfile", VFS_FOLLOW, 0, "newfile", false);

	/* Every way out. */
	expect("..", 0, -K_EPERM, NULL, false);
	expect("../secret", 0, -K_EPERM, NULL, false);
	expect("a/../../secret", 0, -K_EPERM, NULL, false);
	expect("a/b/../../../root/a", 0, -K_EPERM, NULL, false);
	expect("/etc/passwd", 0, -K_EPERM, NULL, false);
	expect("abs/passwd", 0, -K_EPERM, NULL, false);
	expect("abs", VFS_FOLLOW, -K_EPERM, NULL, false);
	expect("a/up/secret", 0, -K_EPERM, NULL, false);
	expect("a/up", VFS_FOLLOW, -K_EPERM, NULL, false);
	expect("dirlink/up/outside/file", 0, -K_EPERM, NULL, false);

	/* Bad paths. */
	expect("loop/x", 0, -K_ELOOP, NULL, false);
	expect("loop", VFS_FOLLOW, -K_ELOOP, NULL, false);
	expect("a/b/file/x", 0, -K_ENOTDIR, NULL, false);
	expect("nothere/x", 0, -K_ENOENT, NULL, false);
	expect("", 0, -K_ENOENT, NULL, false);
	cr_expect_eq(vfs_resolve(root, "a\0b", 3, 0, &(struct vfs_path){ 0 }), -K_EILSEQ);
	memset(buf, 'x', 256);
	buf[256] = 0;
	expect(buf, 0, -K_ENAMETOOLONG, NULL, false);
	for (int i = 0; i < 140; i++)
		memcpy(buf + 2 * i, "a/", 2);
	buf[280] = 0;	/* deeper than any walk may hold, and missing */
	cr_expect_neq(vfs_resolve(root, buf, 280, 0, &(struct vfs_path){ 0 }), 0);

	cr_assert_eq(read_through("dirlink/b/file", line, sizeof(line)), 0);
	cr_expect_str_eq(line, "inside\n");
	cr_expect_eq(open_fds(), before, "the walks leaked handles");
	return 0;
}

Test(vfs, every_walk_out_of_the_root_is_refused, .init = setup, .fini = teardown)
{
	harness_boot(1, 64ull << 20, walks);
}

/* Swap root/race between the directory and a symlink to ../outside. */
static atomic_bool stop;

static void *swapper(void *arg)
{
	char dir[160], link[160], aside[160];

	snprintf(dir, sizeof(dir), "%s/root/race", top);
	snprintf(link, sizeof(link), "%s/root/race.link", top);
	snprintf(aside, sizeof(aside), "%s/root/race.dir", top);
	if (symlink("../outside", link) < 0)
		return NULL;
	while (!atomic_load(&stop)) {
		/* race: directory -> symlink -> directory, each an atomic rename */
		rename(dir, aside);
		rename(link, dir);
		rename(dir, link);
		rename(aside, dir);
	}
	return NULL;
}

static int race(void *arg)
{
	pthread_t t;
	char line[32];
	int inside = 0, refused = 0, other = 0;
	uint64_t t0 = harness_now_ms();

	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, swapper, NULL), 0);
	/* 20,000 walks, and on until both outcomes were seen (a loaded host
	 * may not run the swapper for a while), for at most 30 s. */
	for (int i = 0; i < 20000 || ((!inside || !refused) && harness_now_ms() - t0 < 30000); i++) {
		int r = read_through("race/file", line, sizeof(line));

		if (!r) {
			cr_assert_str_eq(line, "inside\n", "read outside the root");
			inside++;
		} else if (r == -K_EPERM) {
			refused++;
		} else {
			other++;	/* ENOENT while the name is between renames */
		}
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	cr_log_info("race: %d inside, %d refused, %d missing", inside, refused, other);
	cr_expect_gt(inside, 0);
	cr_expect_gt(refused, 0, "the symlink was never seen: no race took place");
	return 0;
}

Test(vfs, a_directory_swapped_for_a_symlink_never_leads_out, .init = setup, .fini = teardown)
{
	harness_boot(1, 64ull << 20, race);
}
