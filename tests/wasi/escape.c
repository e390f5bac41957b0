/*
 * escape - nothing outside the preopen /sandbox can be read, written,
 * created, renamed, linked or removed: ".." past the root (even to come
 * back in), absolute paths, symlinks the host left inside pointing out
 * (absolute, relative, to a directory, through a chain), symlinks the
 * program makes itself, and the root of a directory descriptor opened
 * below the preopen.  Each must fail with EPERM, as in wasmtime; opening
 * a symlink without following it is ELOOP, and a symlink loop ends in
 * ELOOP rather than a hang, as does a chain of 60 symlinks (one of 8
 * works).  Controls beside them (".." and symlinks that stay inside, a
 * 7 KB path) must work, so that a runtime refusing everything fails too;
 * a path with a NUL in it must not open.
 *
 * argv[1] is the host's absolute path of the secret file outside, for the
 * absolute symlink the program makes.  tests/wasi_run.sh lays out:
 *
 *	WORK/outside/secret.txt	"TOP-SECRET..."	WORK/outside/dir/
 *	WORK/sandbox/inside.txt	"inside"	WORK/sandbox/sub/nested.txt
 *	sandbox/host_abs -> WORK/outside/secret.txt
 *	sandbox/host_rel -> ../outside/secret.txt
 *	sandbox/host_dir -> ../outside	sandbox/host_absdir -> WORK/outside
 *	sandbox/sub/deep -> ../../outside/secret.txt
 *	sandbox/ok_link -> inside.txt	sandbox/ok_dirlink -> sub
 *
 * and checks afterwards that nothing in WORK/outside changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "wasi_test.h"

/* path_open with a path given as pointer and length, NULs and all. */
WASI_IMPORT(path_open) int32_t raw_path_open(int32_t, int32_t, int32_t, int32_t, int32_t,
					     int64_t, int64_t, int32_t, int32_t);

#define FOLLOW		__WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define NOFOLLOW	0
#define SECRET		"TOP-SECRET"

static __wasi_fd_t root;

/*
 * path_open PATH (read-only, or created and truncated with WRITE) under
 * DIR; if it opens, read it, count a secret in it as a failure whatever
 * the errno, and close it.  Returns the errno.
 */
static __wasi_errno_t try_open(__wasi_fd_t dir, __wasi_lookupflags_t flags, const char *path,
			       int write, int want_dir)
{
	__wasi_oflags_t oflags = (write ? __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC : 0) |
				 (want_dir ? __WASI_OFLAGS_DIRECTORY : 0);
	char buf[64] = { 0 };
	__wasi_iovec_t iov = { (uint8_t *)buf, sizeof(buf) - 1 };
	__wasi_size_t n;
	__wasi_fd_t fd;
	__wasi_errno_t err = __wasi_path_open(dir, flags, path, oflags,
					      test_rights(dir, 1, write), test_rights(dir, 1, 1),
					      0, &fd);

	if (err != 0)
		return err;
	if (!want_dir && __wasi_fd_read(fd, &iov, 1, &n) == 0 && strstr(buf, SECRET)) {
		printf("FAIL %s: THE SECRET WAS READ\n", path);
		test_failures++;
	}
	(void)__wasi_fd_close(fd);
	return 0;
}

/* Check that opening PATH gives WANT; LABEL names PATH if not null. */
static void open_as(__wasi_errno_t want, __wasi_lookupflags_t flags, const char *path,
		    const char *label)
{
	char what[160];

	snprintf(what, sizeof(what), "open %s%s: %s", label ? label : path,
		 flags & FOLLOW ? "" : " (nofollow)", test_errno_name(want));
	check_errno(try_open(root, flags, path, 0, 0), want, what);
}

static void open_must(__wasi_errno_t want, __wasi_lookupflags_t flags, const char *path)
{
	open_as(want, flags, path, NULL);
}

static void create_must_fail(const char *path)
{
	char what[160];

	snprintf(what, sizeof(what), "create %s: PERM", path);
	check_errno(try_open(root, FOLLOW, path, 1, 0), __WASI_ERRNO_PERM, what);
}

/* Outcomes of calls that must be refused, with a label. */
static void refused(__wasi_errno_t err, const char *what)
{
	check_errno(err, __WASI_ERRNO_PERM, what);
}

/*
 * Make symlink NAME -> TARGET inside the sandbox, as the program may; a
 * runtime may refuse a target that points out (EPERM), or make it and
 * refuse to follow it.  Either way OPEN_PATH must not open.  Returns
 * whether the link was made.
 */
static int app_symlink_as(const char *target, const char *label, const char *name,
			  const char *open_path)
{
	char what[200];
	__wasi_errno_t made = __wasi_path_symlink(target, root, name);
	__wasi_errno_t opened = made ? made : try_open(root, FOLLOW, open_path, 0, 0);

	snprintf(what, sizeof(what), "own symlink %s -> %s: refused or unusable", name, label);
	check((made == __WASI_ERRNO_PERM) || (made == 0 && opened == __WASI_ERRNO_PERM), what,
	      "symlink %s, then open %s: %s", test_errno_name(made), open_path,
	      test_errno_name(opened));
	return made == 0;
}

static int app_symlink(const char *target, const char *name, const char *open_path)
{
	return app_symlink_as(target, target, name, open_path);
}

/* Symlinks that stay inside work, to a depth; deeper is ELOOP. */
static void inside_symlinks_and_odd_paths(void)
{
	/* A NUL ends no WASI path: these bytes name no file. */
	static const char nul_path[] = "inside.txt\0/../../outside/secret.txt";
	static char deep[8192];
	__wasi_errno_t err;
	__wasi_fd_t got;

	check_errno(__wasi_path_symlink(".", root, "self"), 0, "own symlink self -> .");
	open_must(0, FOLLOW, "self/self/self/inside.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "self/self/../outside/secret.txt");
	for (int i = 0; i < 60; i++) {
		char name[16], target[16];

		snprintf(name, sizeof(name), "c%d", i);
		snprintf(target, sizeof(target), i == 59 ? "inside.txt" : "c%d", i + 1);
		if (__wasi_path_symlink(target, root, name) != 0)
			check(0, "own symlinks c0 -> c1 -> ... c59 -> inside.txt", "c%d failed", i);
	}
	open_must(0, FOLLOW, "c52");
	open_must(__WASI_ERRNO_LOOP, FOLLOW, "c0");

	for (int i = 0; i < 1000; i++)
		strcat(deep, "sub/../");
	strcat(deep, "inside.txt");
	err = try_open(root, FOLLOW, deep, 0, 0);
	check(err == 0 || err == __WASI_ERRNO_NAMETOOLONG,
	      "a 7 KB path of sub/../ opens inside.txt or is NAMETOOLONG", "got %s",
	      test_errno_name(err));

	err = (__wasi_errno_t)raw_path_open(root, FOLLOW, (int32_t)(uintptr_t)nul_path,
					    sizeof(nul_path) - 1, 0,
					    (int64_t)test_rights(root, 1, 0), 0, 0,
					    (int32_t)(uintptr_t)&got);
	check(err != 0, "a path with a NUL in it does not open", "it opened");
	if (err == 0)
		(void)__wasi_fd_close(got);
}

int main(int argc, char **argv)
{
	__wasi_filestat_t st;
	__wasi_errno_t err;
	__wasi_fd_t sub;
	int fd, made;

	if (argc != 2 || test_preopen("/sandbox") < 0) {
		fprintf(stderr, "usage: --dir SANDBOX::/sandbox %s HOST_PATH_OF_SECRET\n", argv[0]);
		return 2;
	}
	root = (__wasi_fd_t)test_preopen("/sandbox");

	/* Controls: what stays inside works. */
	open_must(0, FOLLOW, "inside.txt");
	open_must(0, FOLLOW, "./sub/../inside.txt");
	open_must(0, FOLLOW, "ok_link");
	open_must(0, FOLLOW, "ok_dirlink/nested.txt");
	open_must(0, FOLLOW, "sub/nested.txt");

	/* "..": out of the root, also on the way back in. */
	check_errno(try_open(root, FOLLOW, "..", 0, 1), __WASI_ERRNO_PERM, "open .. (directory): PERM");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "../outside/secret.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "sub/../../outside/secret.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "../sandbox/inside.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "sub/../../../../../../../../etc/passwd");

	/* Absolute paths. */
	open_must(__WASI_ERRNO_PERM, FOLLOW, "/etc/passwd");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "/inside.txt");
	open_as(__WASI_ERRNO_PERM, FOLLOW, argv[1], "(the secret's absolute host path)");

	/* Symlinks the host left inside. */
	open_must(__WASI_ERRNO_PERM, FOLLOW, "host_abs");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "host_rel");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "host_dir/secret.txt");
	open_must(__WASI_ERRNO_PERM, NOFOLLOW, "host_dir/secret.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "host_absdir/secret.txt");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "sub/deep");
	open_must(__WASI_ERRNO_PERM, FOLLOW, "ok_dirlink/deep");
	open_must(__WASI_ERRNO_LOOP, NOFOLLOW, "host_abs");
	refused(__wasi_path_filestat_get(root, FOLLOW, "host_abs", &st), "stat host_abs: PERM");
	refused(__wasi_path_filestat_get(root, FOLLOW, "../outside/secret.txt", &st),
		"stat ../outside/secret.txt: PERM");
	check_errno(__wasi_path_filestat_get(root, NOFOLLOW, "host_abs", &st), 0,
		    "stat host_abs (nofollow) is the link itself");
	check(st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "host_abs is a symlink", "type %u",
	      st.filetype);

	/* Symlinks the program makes. */
	app_symlink_as(argv[1], "(the secret's absolute host path)", "app_abs", "app_abs");
	app_symlink("../outside/secret.txt", "app_rel", "app_rel");
	app_symlink("..", "app_up", "app_up/outside/secret.txt");
	app_symlink("sub/../../outside/secret.txt", "app_mixed", "app_mixed");
	made = app_symlink("../outside/secret.txt", "chain2", "chain2");
	check_errno(__wasi_path_symlink("chain2", root, "chain1"), 0, "own symlink chain1 -> chain2");
	err = try_open(root, FOLLOW, "chain1", 0, 0);
	check(err == __WASI_ERRNO_PERM || (!made && err == __WASI_ERRNO_NOENT),
	      "open chain1 -> chain2 -> out: PERM (NOENT without chain2)", "got %s",
	      test_errno_name(err));
	check_errno(__wasi_path_symlink("loop2", root, "loop1"), 0, "own symlink loop1 -> loop2");
	check_errno(__wasi_path_symlink("loop1", root, "loop2"), 0, "own symlink loop2 -> loop1");
	open_must(__WASI_ERRNO_LOOP, FOLLOW, "loop1");

	inside_symlinks_and_odd_paths();

	/* A directory descriptor below the preopen is a root of its own. */
	check_errno(__wasi_path_open(root, 0, "sub", __WASI_OFLAGS_DIRECTORY, test_rights(root, 1, 0),
				     test_rights(root, 1, 1), 0, &sub), 0, "open sub as a directory");
	check_errno(try_open(sub, FOLLOW, "nested.txt", 0, 0), 0, "sub fd: open nested.txt");
	check_errno(try_open(sub, FOLLOW, "../inside.txt", 0, 0), __WASI_ERRNO_PERM,
		    "sub fd: open ../inside.txt: PERM");
	check_errno(try_open(sub, FOLLOW, "deep", 0, 0), __WASI_ERRNO_PERM, "sub fd: open deep: PERM");
	(void)__wasi_fd_close(sub);

	/* Writes, creations, removals and renames that reach out. */
	create_must_fail("../outside/created.txt");
	create_must_fail("host_dir/created.txt");
	create_must_fail("host_abs");
	create_must_fail("host_rel");
	create_must_fail("/tmp/created-by-escape-test.txt");
	refused(__wasi_path_create_directory(root, "../outside/newdir"), "mkdir ../outside/newdir: PERM");
	refused(__wasi_path_create_directory(root, "host_dir/newdir"), "mkdir host_dir/newdir: PERM");
	refused(__wasi_path_unlink_file(root, "../outside/secret.txt"), "unlink ../outside/secret.txt: PERM");
	refused(__wasi_path_unlink_file(root, "host_dir/secret.txt"), "unlink host_dir/secret.txt: PERM");
	refused(__wasi_path_remove_directory(root, "../outside/dir"), "rmdir ../outside/dir: PERM");
	refused(__wasi_path_remove_directory(root, "host_dir/dir"), "rmdir host_dir/dir: PERM");
	refused(__wasi_path_rename(root, "inside.txt", root, "../outside/stolen.txt"),
		"rename inside.txt to ../outside/stolen.txt: PERM");
	refused(__wasi_path_rename(root, "host_dir/secret.txt", root, "got.txt"),
		"rename host_dir/secret.txt to got.txt: PERM");
	refused(__wasi_path_rename(root, "../outside/dir", root, "gotdir"),
		"rename ../outside/dir to gotdir: PERM");
	refused(__wasi_path_link(root, FOLLOW, "host_abs", root, "hard1"), "link host_abs (follow): PERM");
	refused(__wasi_path_link(root, 0, "../outside/secret.txt", root, "hard2"),
		"link ../outside/secret.txt: PERM");
	refused(__wasi_path_link(root, 0, "inside.txt", root, "../outside/hard3"),
		"link inside.txt as ../outside/hard3: PERM");
	refused(__wasi_path_filestat_set_times(root, FOLLOW, "host_dir/secret.txt", 1, 1,
					       __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
		"set times of host_dir/secret.txt: PERM");
	refused(__wasi_path_filestat_set_times(root, FOLLOW, "host_abs", 1, 1,
					       __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
		"set times of host_abs (follow): PERM");
	refused(__wasi_path_symlink("inside.txt", root, "../outside/evil_link"),
		"symlink at ../outside/evil_link: PERM");
	refused(__wasi_path_symlink("inside.txt", root, "host_dir/evil_link"),
		"symlink at host_dir/evil_link: PERM");

	/* And through libc, as a program would. */
	fd = open("/sandbox/../outside/secret.txt", O_RDONLY);
	check(fd < 0, "libc open /sandbox/../outside/secret.txt fails", "it opened");
	return test_status();
}
