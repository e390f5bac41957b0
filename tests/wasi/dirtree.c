/*
 * dirtree - directories in a scratch preopen /scratch: nested creation,
 * ".." and "." inside the preopen, and the errors POSIX and WASI agree
 * on: EEXIST for a directory that exists, ENOTEMPTY for removing or
 * renaming over a non-empty one, ENOTDIR for a file used as a directory,
 * ENOENT for a missing parent, EINVAL for moving a directory into itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wasi_test.h"

static void check_fails(int ret, int want, const char *what)
{
	check(ret == -1 && errno == want, what, "returned %d, errno %s, want %s", ret,
	      ret == -1 ? test_errno_name((unsigned)errno) : "-", test_errno_name((unsigned)want));
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(void)
{
	struct stat st;
	int fd;

	if (test_preopen("/scratch") < 0) {
		fprintf(stderr, "dirtree: run with --dir DIR::/scratch\n");
		return 2;
	}
	check(mkdir("/scratch/d1", 0755) == 0 && mkdir("/scratch/d1/d2", 0755) == 0 &&
	      mkdir("/scratch/d1/d2/d3", 0755) == 0, "mkdir d1/d2/d3 one level at a time", "%s",
	      test_errno_name((unsigned)errno));
	check(is_dir("/scratch/d1/d2/d3"), "d1/d2/d3 is a directory", "it is not");
	check_fails(mkdir("/scratch/d1", 0755), EEXIST, "mkdir of an existing directory is EEXIST");
	check_fails(mkdir("/scratch/no/such", 0755), ENOENT, "mkdir under a missing parent is ENOENT");
	check(is_dir("/scratch/d1/../d1/./d2"), "d1/../d1/./d2 resolves inside the preopen",
	      "%s", test_errno_name((unsigned)errno));

	fd = open("/scratch/d1/file", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0, "create d1/file", "%s", test_errno_name((unsigned)errno));
	close(fd);
	check_fails(mkdir("/scratch/d1/file", 0755), EEXIST, "mkdir over a file is EEXIST");
	check_fails(mkdir("/scratch/d1/file/sub", 0755), ENOTDIR, "mkdir under a file is ENOTDIR");
	check_fails(open("/scratch/d1/file", O_RDONLY | O_DIRECTORY), ENOTDIR,
		    "O_DIRECTORY on a file is ENOTDIR");
	check_fails(stat("/scratch/d1/file/x", &st), ENOTDIR, "a path through a file is ENOTDIR");
	check_fails(rmdir("/scratch/d1/file"), ENOTDIR, "rmdir of a file is ENOTDIR");
	check_fails(rmdir("/scratch/d1"), ENOTEMPTY, "rmdir of a non-empty directory is ENOTEMPTY");
	check_fails(rmdir("/scratch/missing"), ENOENT, "rmdir of a missing directory is ENOENT");

	check(mkdir("/scratch/other", 0755) == 0 && mkdir("/scratch/other/x", 0755) == 0,
	      "mkdir other/x", "%s", test_errno_name((unsigned)errno));
	check_fails(rename("/scratch/d1/d2", "/scratch/other"), ENOTEMPTY,
		    "renaming over a non-empty directory is ENOTEMPTY");
	check_fails(rename("/scratch/d1", "/scratch/d1/d2/d3/inside"), EINVAL,
		    "moving a directory into itself is EINVAL");
	check_fails(rename("/scratch/d1/file", "/scratch/other"), EISDIR,
		    "renaming a file over a directory is EISDIR");
	check(rmdir("/scratch/other/x") == 0, "rmdir other/x", "%s", test_errno_name((unsigned)errno));
	check(rename("/scratch/d1/d2", "/scratch/other") == 0,
	      "renaming a directory over an empty one replaces it", "%s",
	      test_errno_name((unsigned)errno));
	check(is_dir("/scratch/other/d3") && !is_dir("/scratch/d1/d2"), "d2 and its child moved",
	      "they did not");

	check(rmdir("/scratch/other/d3") == 0 && rmdir("/scratch/other") == 0 &&
	      unlink("/scratch/d1/file") == 0 && rmdir("/scratch/d1") == 0, "remove everything",
	      "%s", test_errno_name((unsigned)errno));
	check_fails(stat("/scratch/d1", &st), ENOENT, "d1 is gone");
	return test_status();
}
