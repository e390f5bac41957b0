/*
 * files - the file calls on a scratch directory preopened as /scratch:
 * create (and O_EXCL on an existing file), write, seek and tell from each
 * origin, read, pread and pwrite (which leave the offset alone), a write
 * past the end (the gap reads as zeros), fstat and stat, truncation,
 * O_APPEND and O_TRUNC, fdstat flags (and setting append later), rights
 * (reading a write-only descriptor is EBADF), setting times by path and
 * by descriptor, fd_readdir with cookies, rename (also over an existing
 * file), link, symlink and readlink, unlink, fd_renumber, and 1 MiB
 * written and read back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wasi_test.h"

#define MIB	(1 << 20)

/* Report that a libc call failed (returned -1) with errno WANT. */
static void check_fails(int ret, int want, const char *what)
{
	check(ret == -1 && errno == want, what, "returned %d, errno %s, want %s", ret,
	      ret == -1 ? test_errno_name((unsigned)errno) : "-", test_errno_name((unsigned)want));
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in DIR but "." and "..", sorted, as "a b c". */
static void list_dir(const char *path, char *out, size_t size)
{
	char *names[32];
	int count = 0;
	struct dirent *de;
	DIR *dir = opendir(path);

	out[0] = '\0';
	if (!dir)
		return;
	while ((de = readdir(dir)) && count < 32)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[count++] = strdup(de->d_name);
	closedir(dir);
	qsort(names, (size_t)count, sizeof(names[0]), by_name);
	for (int i = 0; i < count; i++) {
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
}

static void basic_io(void)
{
	char buf[64];
	struct stat st;
	int fd = open("/scratch/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644);

	check(fd >= 0, "create a.txt", "%s", test_errno_name((unsigned)errno));
	check_fails(open("/scratch/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST,
		    "O_CREAT|O_EXCL on an existing file is EEXIST");
	check(write(fd, "hello world\n", 12) == 12, "write 12 bytes", "short write");
	check(lseek(fd, 0, SEEK_CUR) == 12, "tell after the write is 12", "%lld",
	      (long long)lseek(fd, 0, SEEK_CUR));
	check(fstat(fd, &st) == 0 && st.st_size == 12 && S_ISREG(st.st_mode),
	      "fstat: a regular file of 12 bytes", "size %lld", (long long)st.st_size);

	check(lseek(fd, 6, SEEK_SET) == 6, "seek to 6 from the start", "failed");
	memset(buf, 0, sizeof(buf));
	check(read(fd, buf, 5) == 5 && !memcmp(buf, "world", 5), "read 5 bytes at 6: world",
	      "got [%s]", buf);
	check(lseek(fd, 0, SEEK_CUR) == 11, "tell after the read is 11", "%lld",
	      (long long)lseek(fd, 0, SEEK_CUR));
	check(lseek(fd, -2, SEEK_CUR) == 9, "seek -2 from the current offset", "failed");
	check(lseek(fd, -1, SEEK_END) == 11, "seek -1 from the end", "failed");
	check_fails((int)lseek(fd, -100, SEEK_CUR), EINVAL, "seek before the start is EINVAL");
	check(read(fd, buf, sizeof(buf)) == 1 && buf[0] == '\n', "read to the end", "wrong");
	check(read(fd, buf, sizeof(buf)) == 0, "read at the end returns 0", "did not");

	/* pwrite past the end: the gap reads as zeros; offsets stay put. */
	lseek(fd, 3, SEEK_SET);
	check(pwrite(fd, "XYZ", 3, 100) == 3, "pwrite 3 bytes at 100", "failed");
	check(lseek(fd, 0, SEEK_CUR) == 3, "pwrite leaves the offset alone", "offset %lld",
	      (long long)lseek(fd, 0, SEEK_CUR));
	check(fstat(fd, &st) == 0 && st.st_size == 103, "the file grew to 103 bytes", "size %lld",
	      (long long)st.st_size);
	memset(buf, 0x55, sizeof(buf));
	check(pread(fd, buf, 8, 96) == 7 && !memcmp(buf, "\0\0\0\0XYZ", 7), "pread over the gap",
	      "wrong bytes");
	check(lseek(fd, 0, SEEK_CUR) == 3, "pread leaves the offset alone", "moved");

	check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "truncate to 5",
	      "size %lld", (long long)st.st_size);
	check(pread(fd, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "hello", 5), "read it back",
	      "wrong");
	check(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync and fdatasync", "%s",
	      test_errno_name((unsigned)errno));
	check(posix_fadvise(fd, 0, 5, POSIX_FADV_SEQUENTIAL) == 0, "fd_advise", "failed");
	close(fd);

	fd = open("/scratch/a.txt", O_WRONLY | O_APPEND);
	check(fd >= 0 && write(fd, "!!", 2) == 2, "O_APPEND write", "failed");
	check(fcntl(fd, F_GETFL) & O_APPEND, "fdstat has the append flag", "missing");
	check_fails((int)read(fd, buf, 1), EBADF, "reading a write-only descriptor is EBADF");
	close(fd);
	check(stat("/scratch/a.txt", &st) == 0 && st.st_size == 7, "appended at the end: 7 bytes",
	      "size %lld", (long long)st.st_size);
	fd = open("/scratch/a.txt", O_RDONLY);
	check(fd >= 0 && read(fd, buf, 7) == 7 && !memcmp(buf, "hello!!", 7), "hello!!", "wrong");
	check_fails((int)write(fd, "x", 1), EBADF, "writing a read-only descriptor is EBADF");
	close(fd);
	fd = open("/scratch/a.txt", O_WRONLY | O_TRUNC);
	check(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties it", "size %lld",
	      (long long)st.st_size);
	write(fd, "hello", 5);
	close(fd);
	check_fails(open("/scratch/missing.txt", O_RDONLY), ENOENT, "opening a missing file is ENOENT");
}

static void times_and_stat(void)
{
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	struct stat st;

	check(utimensat(AT_FDCWD, "/scratch/a.txt", ts, 0) == 0, "set access and modify times",
	      "%s", test_errno_name((unsigned)errno));
	check(stat("/scratch/a.txt", &st) == 0 && st.st_mtim.tv_sec == 1200000000 &&
	      st.st_atim.tv_sec == 1000000000, "stat reads them back", "atime %lld mtime %lld",
	      (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
	check(stat("/scratch", &st) == 0 && S_ISDIR(st.st_mode), "the preopen is a directory",
	      "mode %o", (unsigned)st.st_mode);
}

/*
 * Walk the fd_readdir records in BUF[0..USED): count the whole entries,
 * note the type of b.txt and sub, and return the cookie of the second
 * entry and of the last one.
 */
struct listing {
	int entries, dots;
	int type_b, type_sub;
	__wasi_dircookie_t second, last;
};

static struct listing parse_dirents(const char *buf, size_t used)
{
	struct listing l = { .type_b = -1, .type_sub = -1 };
	__wasi_dirent_t ent;
	char name[64];

	for (size_t off = 0; off + sizeof(ent) <= used; ) {
		memcpy(&ent, buf + off, sizeof(ent));
		off += sizeof(ent);
		if (off + ent.d_namlen > used || ent.d_namlen >= sizeof(name))
			break;
		memcpy(name, buf + off, ent.d_namlen);
		name[ent.d_namlen] = '\0';
		off += ent.d_namlen;
		l.entries++;
		l.dots += !strcmp(name, ".") || !strcmp(name, "..");
		if (!strcmp(name, "b.txt"))
			l.type_b = ent.d_type;
		if (!strcmp(name, "sub"))
			l.type_sub = ent.d_type;
		if (l.entries == 2)
			l.second = ent.d_next;
		l.last = ent.d_next;
	}
	return l;
}

static void directory_listing(void)
{
	char buf[4096], names[256];
	__wasi_size_t used;
	struct listing all, rest;
	int fd;

	close(open("/scratch/b.txt", O_WRONLY | O_CREAT, 0644));
	close(open("/scratch/c.txt", O_WRONLY | O_CREAT, 0644));
	mkdir("/scratch/sub", 0755);
	list_dir("/scratch", names, sizeof(names));
	check(!strcmp(names, "a.txt b.txt c.txt sub"), "readdir lists a.txt b.txt c.txt sub",
	      "[%s]", names);

	/* Raw fd_readdir: entries, their types, and restarting at a cookie. */
	fd = open("/scratch", O_RDONLY | O_DIRECTORY);
	check_errno(__wasi_fd_readdir((__wasi_fd_t)fd, (uint8_t *)buf, sizeof(buf), 0, &used), 0,
		    "fd_readdir from cookie 0");
	all = parse_dirents(buf, used);
	check(all.entries - all.dots == 4, "fd_readdir returns the 4 entries", "%d entries and %d dots",
	      all.entries, all.dots);
	check(all.type_b == __WASI_FILETYPE_REGULAR_FILE, "b.txt has type regular file", "type %d",
	      all.type_b);
	check(all.type_sub == __WASI_FILETYPE_DIRECTORY, "sub has type directory", "type %d",
	      all.type_sub);
	check_errno(__wasi_fd_readdir((__wasi_fd_t)fd, (uint8_t *)buf, sizeof(buf), all.last, &used),
		    0, "fd_readdir from the last cookie");
	check(used == 0, "nothing after the last cookie", "%u bytes", (unsigned)used);
	check_errno(__wasi_fd_readdir((__wasi_fd_t)fd, (uint8_t *)buf, sizeof(buf), all.second, &used),
		    0, "fd_readdir from the second entry's cookie");
	rest = parse_dirents(buf, used);
	check(rest.entries == all.entries - 2, "restarting at a cookie gives the entries after it",
	      "%d of %d entries", rest.entries, all.entries);
	check_errno(__wasi_fd_readdir((__wasi_fd_t)fd, (uint8_t *)buf, 10, 0, &used), 0,
		    "fd_readdir into a buffer smaller than an entry");
	check(used == 10, "a small buffer is filled to the brim", "%u bytes", (unsigned)used);
	close(fd);
}

static void rename_link_unlink(void)
{
	char buf[16] = { 0 };
	char names[256];
	struct stat st;
	int fd;

	check(rename("/scratch/a.txt", "/scratch/d.txt") == 0, "rename a.txt to d.txt", "%s",
	      test_errno_name((unsigned)errno));
	check_fails(stat("/scratch/a.txt", &st), ENOENT, "a.txt is gone");
	fd = open("/scratch/d.txt", O_RDONLY);
	check(fd >= 0 && read(fd, buf, sizeof(buf)) == 5 && !strcmp(buf, "hello"),
	      "d.txt has the contents", "[%s]", buf);
	close(fd);
	check(rename("/scratch/d.txt", "/scratch/b.txt") == 0, "rename over an existing file",
	      "%s", test_errno_name((unsigned)errno));
	check(stat("/scratch/b.txt", &st) == 0 && st.st_size == 5, "it replaced it", "size %lld",
	      (long long)st.st_size);
	check(link("/scratch/b.txt", "/scratch/e.txt") == 0, "hard link b.txt as e.txt", "%s",
	      test_errno_name((unsigned)errno));
	check(stat("/scratch/e.txt", &st) == 0 && st.st_nlink == 2, "two links", "nlink %llu",
	      (unsigned long long)st.st_nlink);
	check_fails(rename("/scratch/missing", "/scratch/x"), ENOENT, "renaming a missing file is ENOENT");
	check_fails(unlink("/scratch/sub"), EISDIR, "unlinking a directory is EISDIR");
	check(unlink("/scratch/b.txt") == 0 && unlink("/scratch/c.txt") == 0 &&
	      unlink("/scratch/e.txt") == 0 && rmdir("/scratch/sub") == 0, "unlink everything",
	      "%s", test_errno_name((unsigned)errno));
	check_fails(unlink("/scratch/b.txt"), ENOENT, "unlinking it again is ENOENT");
	list_dir("/scratch", names, sizeof(names));
	check(names[0] == '\0', "the directory is empty again", "[%s]", names);
}

/* Flags, times and links through descriptors and paths. */
static void flags_times_links(void)
{
	struct timespec ts[2] = { { 1300000000, 0 }, { 1400000000, 500 } };
	char buf[64] = { 0 };
	struct stat st;
	ssize_t n;
	int fd = open("/scratch/f.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);

	write(fd, "abc", 3);
	check(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND),
	      "fd_fdstat_set_flags turns on append", "flags %x", fcntl(fd, F_GETFL));
	lseek(fd, 0, SEEK_SET);
	write(fd, "def", 3);
	check(pread(fd, buf, sizeof(buf) - 1, 0) == 6 && !strcmp(buf, "abcdef"),
	      "a write after a seek to 0 still appends", "[%s]", buf);
	check(futimens(fd, ts) == 0 && fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1400000000 &&
	      st.st_atim.tv_sec == 1300000000, "fd_filestat_set_times", "atime %lld mtime %lld",
	      (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
	close(fd);

	check(symlink("f.txt", "/scratch/f.link") == 0, "symlink f.link -> f.txt", "%s",
	      test_errno_name((unsigned)errno));
	memset(buf, 0, sizeof(buf));
	n = readlink("/scratch/f.link", buf, sizeof(buf));
	check(n == 5 && !memcmp(buf, "f.txt", 5), "readlink gives f.txt", "%zd [%s]", n, buf);
	check(lstat("/scratch/f.link", &st) == 0 && S_ISLNK(st.st_mode), "lstat sees a symlink",
	      "mode %o", (unsigned)st.st_mode);
	check(stat("/scratch/f.link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6,
	      "stat follows it to the file", "mode %o size %lld", (unsigned)st.st_mode,
	      (long long)st.st_size);
	check_fails((int)readlink("/scratch/f.txt", buf, sizeof(buf)), EINVAL,
		    "readlink of a file is EINVAL");
	check(unlink("/scratch/f.link") == 0 && unlink("/scratch/f.txt") == 0,
	      "unlink the link and the file", "%s", test_errno_name((unsigned)errno));
}

static void renumber(void)
{
	int a = open("/scratch/r1", O_RDWR | O_CREAT, 0644);
	int b = open("/scratch/r2", O_RDWR | O_CREAT, 0644);
	char c = 0;

	write(a, "1", 1);
	check_errno(__wasi_fd_renumber((__wasi_fd_t)a, (__wasi_fd_t)b), 0, "fd_renumber");
	check(pread(b, &c, 1, 0) == 1 && c == '1', "the target now reaches the first file", "[%c]", c);
	check_fails(close(a), EBADF, "the source is closed");
	close(b);
	check_errno(__wasi_fd_renumber(1000, (__wasi_fd_t)b), __WASI_ERRNO_BADF,
		    "fd_renumber of a bad descriptor is EBADF");
	unlink("/scratch/r1");
	unlink("/scratch/r2");
}

static void big_file(void)
{
	unsigned char *out = malloc(MIB), *in = malloc(MIB);
	ssize_t n, got = 0;
	int fd = open("/scratch/big", O_RDWR | O_CREAT | O_TRUNC, 0644);

	for (int i = 0; i < MIB; i++)
		out[i] = (unsigned char)(i * 7 + i / 4096);
	check(write(fd, out, MIB) == MIB, "write 1 MiB at once", "short");
	lseek(fd, 0, SEEK_SET);
	while (got < MIB && (n = read(fd, in + got, 65536)) > 0)
		got += n;
	check(got == MIB && !memcmp(in, out, MIB), "read it back in 64 KiB pieces", "%zd bytes",
	      got);
	close(fd);
	unlink("/scratch/big");
	free(in);
	free(out);
}

int main(void)
{
	if (test_preopen("/scratch") < 0) {
		fprintf(stderr, "files: run with --dir DIR::/scratch\n");
		return 2;
	}
	basic_io();
	times_and_stat();
	directory_listing();
	rename_link_unlink();
	flags_times_links();
	renumber();
	big_file();
	return test_status();
}
