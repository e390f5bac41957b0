/*
 * dirs - create a directory tree, list it, rename part of it, remove it.
 *
 *	./k23sim --dir /tmp/play::/play build/examples/dirs.wasm /play
 *
 * Every step prints what it did, so the output is the same on every run:
 * mkdir and open(O_CREAT) become path_create_directory and path_open,
 * listing is fd_readdir (sorted here, since directory order is the file
 * system's), rename is path_rename, and the clean-up is path_unlink_file
 * and path_remove_directory.  The tree lives in DIR/demo, which must not
 * exist yet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES	64

static void die(const char *what, const char *path)
{
	fprintf(stderr, "dirs: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0)
		die("mkdir", path);
	printf("mkdir  %s\n", path);
}

static void make_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	size_t len = strlen(text);

	if (fd < 0)
		die("create", path);
	if (write(fd, text, len) != (ssize_t)len)
		die("write", path);
	close(fd);
	printf("create %s (%zu bytes)\n", path, len);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Read the names in directory PATH but "." and ".." into NAMES (strdup'd,
 * the caller frees them), sorted, and return how many.  Reading them all
 * before acting on any also keeps removal apart from reading, as deleting
 * entries during a readdir walk has no specified effect on it.
 */
static int read_names(const char *path, char *names[MAX_ENTRIES])
{
	struct dirent *de;
	int count = 0;
	DIR *dir = opendir(path);

	if (!dir)
		die("opendir", path);
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (count == MAX_ENTRIES) {
			fprintf(stderr, "dirs: %s: more than %d entries\n", path, MAX_ENTRIES);
			exit(1);
		}
		names[count++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, (size_t)count, sizeof(names[0]), by_name);
	return count;
}

/*
 * Print the tree under PATH, one entry a line, indented by DEPTH;
 * directories end in '/', files show their size.
 */
static void list(const char *path, int depth)
{
	char *names[MAX_ENTRIES];
	char child[512];
	struct stat st;
	int count = read_names(path, names);

	for (int i = 0; i < count; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, names[i]);
		if (stat(child, &st) != 0)
			die("stat", child);
		if (S_ISDIR(st.st_mode)) {
			printf("  %*s%s/\n", 2 * depth, "", names[i]);
			list(child, depth + 1);
		} else {
			printf("  %*s%s (%lld bytes)\n", 2 * depth, "", names[i],
			       (long long)st.st_size);
		}
		free(names[i]);
	}
}

/* Remove PATH and everything below it, printing each removal. */
static void remove_tree(const char *path)
{
	char *names[MAX_ENTRIES];
	char child[512];
	struct stat st;
	int count;

	if (lstat(path, &st) != 0)
		die("stat", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0)
			die("unlink", path);
		printf("unlink %s\n", path);
		return;
	}
	count = read_names(path, names);
	for (int i = 0; i < count; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, names[i]);
		remove_tree(child);
		free(names[i]);
	}
	if (rmdir(path) != 0)
		die("rmdir", path);
	printf("rmdir  %s\n", path);
}

int main(int argc, char **argv)
{
	char root[256], path[512], to[512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR  (DIR a --dir preopen; DIR/demo is created)\n", argv[0]);
		return 2;
	}
	snprintf(root, sizeof(root), "%s/demo", argv[1]);

	make_dir(root);
	snprintf(path, sizeof(path), "%s/docs", root);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/docs/drafts", root);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/docs/readme.txt", root);
	make_file(path, "read me first\n");
	snprintf(path, sizeof(path), "%s/docs/drafts/plan.txt", root);
	make_file(path, "step 1: write a kernel\nstep 2: run wasm on it\n");
	snprintf(path, sizeof(path), "%s/empty", root);
	make_dir(path);

	printf("list   %s\n", root);
	list(root, 0);

	snprintf(path, sizeof(path), "%s/docs", root);
	snprintf(to, sizeof(to), "%s/papers", root);
	if (rename(path, to) != 0)
		die("rename", path);
	printf("rename %s -> %s\n", path, to);
	snprintf(path, sizeof(path), "%s/papers/drafts/plan.txt", root);
	snprintf(to, sizeof(to), "%s/plan.txt", root);
	if (rename(path, to) != 0)
		die("rename", path);
	printf("rename %s -> %s\n", path, to);

	printf("list   %s\n", root);
	list(root, 0);

	remove_tree(root);
	if (access(root, F_OK) == 0 || errno != ENOENT)
		die("still there:", root);
	printf("gone   %s\n", root);
	return 0;
}
