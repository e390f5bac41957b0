/*
 * spec_runner.c - runs the WebAssembly spec test suite, as converted by
 * wabt's wast2json (`make spec`), through the decoder, the validator and
 * the JIT.
 *
 * Each JSON file runs in a child process of its own (spec_file.c), which
 * boots its own kernel and reports each command's outcome through a pipe
 * as it goes (spec.h), so a crash or a hang costs one file, not the run:
 * a child killed by a signal, one that exits without finishing, or one
 * still running after the timeout is killed and its file's remaining
 * commands count as failed, under a reason naming the signal and the line
 * it was at.  Up to -j children run at once; their output is shown in the
 * order of the files.
 *
 * Usage: spec_runner [-v] [-j JOBS] [-t SECONDS] FILE.json...
 *   -v   every failure with file:line, the command, expected and got, and
 *        a note where a trap's message differs from the expected one
 *   -j   children at once (2)
 *   -t   seconds a file may run (60)
 * Prints one line per file, "FILE: N passed, N failed, N skipped" with the
 * skips by reason and, under it, the failures by reason; then the totals
 * by reason and a last line "N passed, N failed, N skipped".  Exits 1 if
 * anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/spec.h"

#define REASONS_MAX	48
#define OUTPUT_MAX	(4u << 20)	/* bytes of a child's output kept */

/* Counts by reason. */
struct reasons {
	char name[REASONS_MAX][96];
	unsigned count[REASONS_MAX];
	unsigned n;
};

struct tally {
	unsigned passed, failed, skipped;
	struct reasons skips, fails;
};

/* One file and the child running it. */
struct job {
	const char *path, *shown;
	pid_t pid;
	int out_fd, rep_fd;		/* -1 once at EOF */
	char *out;			/* the child's stdout and stderr */
	size_t out_len, out_cap, out_dropped;
	char rec[512];			/* a partial report record */
	size_t rec_len;
	uint64_t deadline_ms;
	unsigned ncmds, nout;		/* commands in the file; outcomes reported */
	int line;			/* the last command started */
	bool started_cmd;		/* a command started and has no outcome */
	bool done, timed_out, finished;
	int status;			/* waitpid's */
	char crash[160];		/* how it ended, if not well */
	unsigned lost;			/* commands counted failed for it */
	struct tally t;
};

static struct spec_opts opts = {
	.verbose = false,
	.harts = 2,
	.memory = 1ull << 30,
	.call_timeout = 5,
};
static unsigned max_jobs = 2, file_timeout = 60;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count(struct reasons *r, const char *name, unsigned n)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->name[i], name))
			break;
	if (i == r->n) {
		if (r->n == REASONS_MAX) {
			name = "other";
			for (i = 0; i < r->n && strcmp(r->name[i], name); i++)
				;
			if (i == r->n)
				i = REASONS_MAX - 1;	/* the last one absorbs the rest */
		} else {
			snprintf(r->name[i], sizeof(r->name[i]), "%s", name);
			r->n++;
		}
	}
	r->count[i] += n;
}

static void print_reasons(const struct reasons *r)
{
	for (unsigned i = 0; i < r->n; i++)
		printf("%s%s %u", i ? ", " : "", r->name[i], r->count[i]);
}

/* -- Children ------------------------------------------------------------------- */

static void start(struct job *j, struct job *jobs, size_t njobs)
{
	int out[2], rep[2];

	if (pipe(out) < 0 || pipe(rep) < 0) {
		perror("spec_runner: pipe");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	j->pid = fork();
	if (j->pid < 0) {
		perror("spec_runner: fork");
		exit(2);
	}
	if (j->pid == 0) {
		/* The other children's pipes are not this one's business. */
		for (size_t i = 0; i < njobs; i++) {
			if (jobs[i].out_fd >= 0 && &jobs[i] != j)
				close(jobs[i].out_fd);
			if (jobs[i].rep_fd >= 0 && &jobs[i] != j)
				close(jobs[i].rep_fd);
		}
		close(out[0]);
		close(rep[0]);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(out[1]);
		setvbuf(stdout, NULL, _IOLBF, 0);
		_exit(spec_file_run(j->path, j->shown, &opts, rep[1]));
	}
	close(out[1]);
	close(rep[1]);
	j->out_fd = out[0];
	j->rep_fd = rep[0];
	j->deadline_ms = now_ms() + (uint64_t)file_timeout * 1000;
}

/* One record of the child (spec.h). */
static void record(struct job *j, char *rec)
{
	char *arg = rec[0] && rec[1] == ' ' ? rec + 2 : rec + 1;

	switch (rec[0]) {
	case 'T':
		j->ncmds = (unsigned)strtoul(arg, NULL, 10);
		break;
	case 'L':
		j->line = atoi(arg);
		j->started_cmd = true;
		break;
	case 'P':
		j->t.passed++;
		j->nout++;
		j->started_cmd = false;
		break;
	case 'F':
		j->t.failed++;
		j->nout++;
		j->started_cmd = false;
		count(&j->t.fails, *arg ? arg : "?", 1);
		break;
	case 'S':
		j->t.skipped++;
		j->nout++;
		j->started_cmd = false;
		count(&j->t.skips, *arg ? arg : "?", 1);
		break;
	case 'D':
		j->done = true;
		break;
	default:
		break;
	}
}

static void read_output(struct job *j)
{
	char buf[16384];
	ssize_t n = read(j->out_fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(j->out_fd);
		j->out_fd = -1;
		return;
	}
	if (j->out_len + (size_t)n > OUTPUT_MAX) {
		j->out_dropped += (size_t)n;
		return;
	}
	if (j->out_len + (size_t)n > j->out_cap) {
		size_t cap = j->out_cap ? j->out_cap : 65536;

		while (cap < j->out_len + (size_t)n)
			cap *= 2;
		if (!(j->out = realloc(j->out, cap))) {
			perror("spec_runner: realloc");
			exit(2);
		}
		j->out_cap = cap;
	}
	memcpy(j->out + j->out_len, buf, (size_t)n);
	j->out_len += (size_t)n;
}

static void read_records(struct job *j)
{
	char buf[4096];
	ssize_t n = read(j->rep_fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(j->rep_fd);
		j->rep_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (j->rec_len < sizeof(j->rec) - 1)
				j->rec[j->rec_len++] = buf[i];
			continue;
		}
		j->rec[j->rec_len] = 0;
		record(j, j->rec);
		j->rec_len = 0;
	}
}

/* The child is gone: count what it did not finish. */
static void finish(struct job *j)
{
	unsigned left = j->ncmds > j->nout ? j->ncmds - j->nout : 0;
	size_t at;
	const char *sig;

	while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
		;
	j->finished = true;
	if (j->done && !j->timed_out && WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0)
		return;
	if (j->timed_out)
		snprintf(j->crash, sizeof(j->crash), "timed out after %u s", file_timeout);
	else if (WIFSIGNALED(j->status))
		snprintf(j->crash, sizeof(j->crash), "killed by SIG%s",
			 (sig = sigabbrev_np(WTERMSIG(j->status))) ? sig : "?");
	else
		snprintf(j->crash, sizeof(j->crash), "exited with status %d%s%s",
			 WEXITSTATUS(j->status),
			 WEXITSTATUS(j->status) == 125 ? " (a kernel panic)" : "",
			 j->done ? " after its last command" : "");
	at = strlen(j->crash);
	if (!j->done && (j->started_cmd || j->nout))
		snprintf(j->crash + at, sizeof(j->crash) - at, " at line %d", j->line);
	/* At least the file itself fails, even when every command had run. */
	j->lost = left ? left : 1;
	j->t.failed += j->lost;
	count(&j->t.fails, "crashed or timed out", j->lost);
}

static void show(const struct job *j)
{
	if (j->out_len)
		fwrite(j->out, 1, j->out_len, stdout);
	if (j->out_len && j->out[j->out_len - 1] != '\n')
		printf("\n");
	if (j->out_dropped)
		printf("  [%zu more bytes of output dropped]\n", j->out_dropped);
	printf("%s: %u passed, %u failed, %u skipped", j->shown, j->t.passed, j->t.failed,
	       j->t.skipped);
	if (j->t.skips.n) {
		printf(" (");
		print_reasons(&j->t.skips);
		printf(")");
	}
	printf("\n");
	if (j->t.fails.n) {
		printf("  failed: ");
		print_reasons(&j->t.fails);
		printf("\n");
	}
	if (j->crash[0])
		printf("  CRASH %s: %s; %u command%s not finished counted as failed\n", j->shown,
		       j->crash, j->lost, j->lost == 1 ? "" : "s");
	fflush(stdout);
}

static void add(struct tally *total, const struct tally *t)
{
	total->passed += t->passed;
	total->failed += t->failed;
	total->skipped += t->skipped;
	for (unsigned i = 0; i < t->skips.n; i++)
		count(&total->skips, t->skips.name[i], t->skips.count[i]);
	for (unsigned i = 0; i < t->fails.n; i++)
		count(&total->fails, t->fails.name[i], t->fails.count[i]);
}

/* Run every job, -j at a time; print each as soon as those before it are. */
static void run_all(struct job *jobs, size_t n, struct tally *total)
{
	size_t next = 0, shown = 0;
	unsigned running = 0;

	while (shown < n) {
		struct pollfd pfd[2 * 64];
		struct job *owner[2 * 64];
		nfds_t np = 0;
		uint64_t now;
		int timeout = -1;

		while (running < max_jobs && next < n) {
			start(&jobs[next++], jobs, n);
			running++;
		}
		now = now_ms();
		for (size_t i = 0; i < next; i++) {
			struct job *j = &jobs[i];

			if (j->finished)
				continue;
			if (j->out_fd < 0 && j->rep_fd < 0) {
				finish(j);
				running--;
				continue;
			}
			if (!j->timed_out && now >= j->deadline_ms) {
				kill(j->pid, SIGKILL);
				j->timed_out = true;
			}
			if (!j->timed_out) {
				uint64_t left = j->deadline_ms - now;

				if (timeout < 0 || left < (uint64_t)timeout)
					timeout = (int)left;
			}
			if (j->out_fd >= 0) {
				pfd[np] = (struct pollfd){ .fd = j->out_fd, .events = POLLIN };
				owner[np++] = j;
			}
			if (j->rep_fd >= 0) {
				pfd[np] = (struct pollfd){ .fd = j->rep_fd, .events = POLLIN };
				owner[np++] = j;
			}
		}
		while (shown < next && jobs[shown].finished) {
			show(&jobs[shown]);
			add(total, &jobs[shown].t);
			free(jobs[shown].out);
			jobs[shown].out = NULL;
			shown++;
		}
		if (running < max_jobs && next < n)
			continue;	/* start the next before waiting */
		if (!np)
			continue;
		if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
			perror("spec_runner: poll");
			exit(2);
		}
		for (nfds_t i = 0; i < np; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == owner[i]->out_fd)
				read_output(owner[i]);
			else if (pfd[i].fd == owner[i]->rep_fd)
				read_records(owner[i]);
		}
	}
}

int main(int argc, char **argv)
{
	struct tally total = { 0 };
	struct job *jobs;
	size_t n;
	int c;

	while ((c = getopt(argc, argv, "vj:t:")) != -1) {
		switch (c) {
		case 'v':
			opts.verbose = true;
			break;
		case 'j':
			max_jobs = (unsigned)atoi(optarg);
			if (max_jobs < 1 || max_jobs > 64)
				max_jobs = 1;
			break;
		case 't':
			file_timeout = (unsigned)atoi(optarg);
			if (file_timeout < 1)
				file_timeout = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	n = (size_t)(argc - optind);
	if (!(jobs = calloc(n, sizeof(*jobs)))) {
		perror("spec_runner");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].path = argv[optind + (int)i];
		jobs[i].shown = jobs[i].path;
		if (!strncmp(jobs[i].shown, "build/spec/", 11))
			jobs[i].shown += 11;
		jobs[i].out_fd = jobs[i].rep_fd = -1;
	}
	/* A runaway call is interrupted well before its file is killed. */
	if (opts.call_timeout * 2 > file_timeout)
		opts.call_timeout = file_timeout > 2 ? file_timeout / 2 : 1;
	signal(SIGPIPE, SIG_IGN);
	run_all(jobs, n, &total);
	if (total.skips.n) {
		printf("skipped: ");
		print_reasons(&total.skips);
		printf("\n");
	}
	if (total.fails.n) {
		printf("failed: ");
		print_reasons(&total.fails);
		printf("\n");
	}
	printf("%u passed, %u failed, %u skipped\n", total.passed, total.failed, total.skipped);
	free(jobs);
	return total.failed ? 1 : 0;

usage:
	fprintf(stderr, "usage: spec_runner [-v] [-j JOBS] [-t SECONDS] FILE.json...\n");
	return 2;
}
