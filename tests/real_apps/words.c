/*
 * words.c - the C program of tests/real_apps.sh, compiled by clang and
 * linked by wasm-ld from @yowasp/clang, both running under k23sim, then run
 * under k23sim itself.  It counts the words of a text it writes to a file
 * in its preopened directory and reads back, sorts them with qsort, and
 * prints figures with floats, so that a wrong instruction anywhere in the
 * compiler or in the program shows in its output.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word {
	char *text;
	int count;
};

static const char text[] =
	"the quick brown fox jumps over the lazy dog\n"
	"the dog sleeps and the fox runs over the hill\n"
	"a lazy afternoon for a quick fox and a lazy dog\n";

static struct word *words;
static int nwords, cap;

static void add_word(const char *s)
{
	for (int i = 0; i < nwords; i++)
		if (strcmp(words[i].text, s) == 0) {
			words[i].count++;
			return;
		}
	if (nwords == cap) {
		cap = cap ? cap * 2 : 4;
		words = realloc(words, cap * sizeof(*words));
		if (!words)
			exit(3);
	}
	words[nwords].text = strdup(s);
	words[nwords].count = 1;
	nwords++;
}

/* Most frequent first, then alphabetical: a total order. */
static int by_count(const void *a, const void *b)
{
	const struct word *x = a, *y = b;

	if (x->count != y->count)
		return y->count - x->count;
	return strcmp(x->text, y->text);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "words.txt";
	char line[256], *tok, *save;
	double sum = 0, sumsq = 0, mean;
	unsigned long long hash = 0xcbf29ce484222325ull;
	int lines = 0, total = 0;
	FILE *f;

	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	f = fopen(path, "r");
	if (!f) {
		printf("cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		lines++;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			size_t len = strlen(tok);

			add_word(tok);
			total++;
			sum += len;
			sumsq += (double)len * len;
		}
	}
	fclose(f);
	qsort(words, nwords, sizeof(*words), by_count);

	mean = sum / total;
	printf("%d lines, %d words, %d distinct\n", lines, total, nwords);
	printf("mean length %.4f, deviation %.4f\n", mean, sqrt(sumsq / total - mean * mean));
	for (int i = 0; i < 5; i++)
		printf("%-10s %d %5.1f%%\n", words[i].text, words[i].count,
		       100.0 * words[i].count / total);
	/* 64-bit FNV-1a over the whole sorted list. */
	for (int i = 0; i < nwords; i++) {
		for (const char *p = words[i].text; *p; p++)
			hash = (hash ^ (unsigned char)*p) * 0x100000001b3ull;
		hash = (hash ^ (unsigned)words[i].count) * 0x100000001b3ull;
		free(words[i].text);
	}
	printf("fnv1a %016llx\n", hash);
	free(words);
	printf("%s %g %e\n", argv[0] ? "ok" : "no argv[0]", exp(1.0), 1.0 / 3.0);
	return 0;
}
