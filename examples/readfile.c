/*
 * readfile - print files from a preopened directory.
 *
 *	./k23sim --dir DIR::/data build/examples/readfile.wasm /data/file.txt...
 *
 * A WASI program can open nothing but what the runtime preopened: wasi-libc
 * matches "/data/file.txt" against the preopen named /data and calls
 * path_open on that directory's descriptor with "file.txt".  A path outside
 * every preopen fails (ENOENT or ENOTCAPABLE from libc, EPERM from the
 * runtime for a ".." that climbs out), which is the sandbox at work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Copy one file to stdout; 0 on success, -1 with a message on stderr. */
static int cat(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "readfile: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			fprintf(stderr, "readfile: write error\n");
			close(fd);
			return -1;
		}
	}
	if (n < 0)
		fprintf(stderr, "readfile: %s: %s\n", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...  (FILE inside a --dir preopen)\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (cat(argv[i]) != 0)
			status = 1;
	return status;
}
