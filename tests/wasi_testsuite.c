/*
 * wasi_testsuite.c - runs the WASI preview1 conformance suite
 * (../shared/wasi-testsuite) against k23sim's command line, as its
 * specification.md describes:
 *
 *   - every SUITE/testsuite/wasm32-wasip1/NAME.wasm under the suite's
 *     tests/ folder is a test, named SUITE/NAME; *.cleanup left behind
 *     there by earlier runs are removed first;
 *   - NAME.json, when present, is its specification: the legacy form
 *     (args, env, root, exit_code, stdout, stderr) or the operation-based
 *     one (proposals, operations: run, read, write, wait); no file means
 *     the defaults (no args, empty environment, exit 0);
 *   - a run is `K23SIM [--dir COPY::/] [--env K=V]... NAME.wasm ARGS...`
 *     with the test's folder as working directory, where COPY is a fresh
 *     copy of the test's `root` (relative to its folder), made in a
 *     temporary directory for each test: the shared tree stays untouched
 *     and no test sees another's leftovers;
 *   - the checks are the suite's own runner's: a read compares the next
 *     bytes of stdout or stderr with its payload (output past them is not
 *     checked: tests print progress), a wait the exit code.  The legacy
 *     form reads stdout and stderr only where it names them.
 *
 * The runner's own environment is passed to k23sim unchanged, so a WASI
 * environment that leaked the host's would show in the environ tests;
 * stdin is a pipe, closed at the wait, as the suite's runner does.  A test
 * that needs a proposal (sockets, http) or an operation this runner does
 * not drive (connect, send, recv, request, kill) is skipped, by name and
 * reason.  Up to -j tests run at once, each with a timeout after which its
 * process group is killed.
 *
 * Usage: wasi_testsuite [-v] [-j JOBS] [-t SECONDS] [-k K23SIM] [-d TESTS]
 *                       [FILTER...]
 *   -v   a line for every test, and for each failure the expected and
 *        the actual output and the first lines of stderr
 *   -j   tests at once (2)
 *   -t   seconds a test may run (20)
 *   -k   the program to run (./k23sim)
 *   -d   the suite's tests/ folder (../shared/wasi-testsuite/tests)
 *   FILTER  run only tests whose name (SUITE/NAME) contains one of them
 * Prints a line per failed or skipped test, then
 * "wasi-testsuite: N passed, N failed, N skipped".  Exits 1 if a test
 * failed, 2 if the suite could not be read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUITE_GLOB	"/*/testsuite/wasm32-wasip1"
#define OUTPUT_MAX	(16u << 20)	/* bytes of a stream kept */
#define STDERR_LINES	8		/* of a failure's stderr, with -v */
#define SHOW_MAX	300		/* bytes of an expected or actual output shown */

enum op_type { OP_RUN, OP_READ, OP_WRITE, OP_WAIT };

/* One operation; the strings point into the test's JSON. */
struct op {
	enum op_type type;
	json_object *args, *env;	/* run: arrays of strings, object of strings */
	const char *root;		/* run: NULL, or relative to the test's folder */
	int stream;			/* read: 1 stdout, 2 stderr */
	const char *payload;		/* read, write */
	size_t payload_len;
	int exit_code;			/* wait */
};

enum verdict { PASSED, FAILED, SKIPPED };

struct test {
	char *name;		/* SUITE/NAME */
	char *dir;		/* its folder */
	char *wasm;		/* NAME.wasm, in dir */
	char *json;		/* NAME.json, or NULL */
	json_object *spec;	/* owns the strings of ops */
	struct op *ops;
	unsigned nops;
	enum verdict verdict;
	char *report;		/* what to print for it */
	size_t report_len;
	bool done;		/* guarded by lock */
};

/* A captured output stream of the running test. */
struct stream {
	int fd;			/* -1 at EOF */
	char *buf;
	size_t len, cap, pos;	/* pos: where the next read operation starts */
	size_t dropped;		/* bytes past OUTPUT_MAX */
};

/* The process of a run operation. */
struct proc {
	pid_t pid;		/* 0: none running */
	int in_fd;		/* its stdin, -1 once closed */
	struct stream out[3];	/* [1] stdout, [2] stderr */
	uint64_t deadline_ms;
	bool timed_out;
	int status;		/* waitpid's, once reaped */
};

/* What one test's worker builds as it goes. */
struct ctx {
	struct test *t;
	FILE *rep;		/* the report */
	char tmp[PATH_MAX];	/* the test's temporary directory, or "" */
	char *copy;		/* the copy of its root there */
	const char *copied;	/* the root it is a copy of */
	struct proc p;
	bool failed;
	bool told_timeout;	/* a timeout is failed once */
	char why[300];		/* the failures, for the one-line report */
};

static bool verbose;
static unsigned max_jobs = 2, timeout_s = 20;
static const char *k23sim = "./k23sim";
static const char *suite_dir = "../shared/wasi-testsuite/tests";
static char tmp_root[PATH_MAX / 2];	/* per-test folders go in it */

static struct test *tests;
static size_t ntests, next_test;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		perror("wasi_testsuite");
		exit(2);
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		perror("wasi_testsuite");
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

/* -- Specifications ------------------------------------------------------ */

static bool is_string_array(json_object *a)
{
	if (!json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
			return false;
	return true;
}

static bool is_string_object(json_object *o)
{
	if (!json_object_is_type(o, json_type_object))
		return false;
	json_object_object_foreach(o, key, val) {
		(void)key;
		if (!json_object_is_type(val, json_type_string))
			return false;
	}
	return true;
}

/* The run fields of o (a legacy specification or a run operation) into op;
 * NULL, or what is wrong. */
static const char *parse_run(json_object *o, struct op *op)
{
	json_object *v;

	op->type = OP_RUN;
	if (json_object_object_get_ex(o, "args", &v)) {
		if (!is_string_array(v))
			return "\"args\" is not an array of strings";
		op->args = v;
	}
	if (json_object_object_get_ex(o, "env", &v)) {
		if (!is_string_object(v))
			return "\"env\" is not an object of strings";
		op->env = v;
	}
	if (json_object_object_get_ex(o, "root", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string))
			return "\"root\" is not a string";
		op->root = json_object_get_string(v);
	}
	return NULL;
}

static const char *parse_payload(json_object *o, struct op *op)
{
	json_object *v;

	op->payload = "";
	if (!json_object_object_get_ex(o, "payload", &v))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		return "\"payload\" is not a string";
	op->payload = json_object_get_string(v);
	op->payload_len = (size_t)json_object_get_string_len(v);
	return NULL;
}

static const char *parse_exit_code(json_object *o, struct op *op)
{
	json_object *v;

	op->type = OP_WAIT;
	if (!json_object_object_get_ex(o, "exit_code", &v))
		return NULL;
	if (!json_object_is_type(v, json_type_int))
		return "\"exit_code\" is not an integer";
	op->exit_code = json_object_get_int(v);
	return NULL;
}

static const char *const legacy_keys[] = {
	"args", "root", "env", "exit_code", "stderr", "stdout", NULL
};

/* Reads the test's specification into its operations.  NULL, or what is
 * wrong with it; a skip sets *skip to why the test cannot run here. */
static const char *parse_spec(struct test *t, char *skip, size_t skipsize)
{
	json_object *ops = NULL, *v;
	const char *err;
	bool in_run = false;

	if (!t->json) {
		t->ops = xcalloc(2, sizeof(*t->ops));
		t->ops[0].type = OP_RUN;
		t->ops[1].type = OP_WAIT;
		t->nops = 2;
		return NULL;
	}
	if (!(t->spec = json_object_from_file(t->json)))
		return json_util_get_last_err() ? json_util_get_last_err() : "not JSON";
	if (!json_object_is_type(t->spec, json_type_object))
		return "not a JSON object";

	if (!json_object_object_get_ex(t->spec, "operations", &ops) &&
	    !json_object_object_get_ex(t->spec, "proposals", NULL)) {
		/* Legacy: run, read stdout and stderr where named, wait. */
		t->ops = xcalloc(4, sizeof(*t->ops));
		if ((err = parse_run(t->spec, &t->ops[t->nops++])))
			return err;
		for (int s = 1; s <= 2; s++) {
			if (!json_object_object_get_ex(t->spec, s == 1 ? "stdout" : "stderr", &v) ||
			    json_object_is_type(v, json_type_null))
				continue;
			t->ops[t->nops].type = OP_READ;
			t->ops[t->nops].stream = s;
			if (!json_object_is_type(v, json_type_string))
				return "\"stdout\" or \"stderr\" is not a string";
			t->ops[t->nops].payload = json_object_get_string(v);
			t->ops[t->nops++].payload_len = (size_t)json_object_get_string_len(v);
		}
		return parse_exit_code(t->spec, &t->ops[t->nops++]);
	}

	for (const char *const *k = legacy_keys; *k; k++)
		if (json_object_object_get_ex(t->spec, *k, NULL))
			return "mixes the legacy and the operation-based forms";
	if (json_object_object_get_ex(t->spec, "proposals", &v)) {
		if (!is_string_array(v))
			return "\"proposals\" is not an array of strings";
		if (json_object_array_length(v)) {
			snprintf(skip, skipsize, "needs proposal %s",
				 json_object_get_string(json_object_array_get_idx(v, 0)));
			return NULL;
		}
	}
	if (!ops) {
		/* Proposals but no operations: the default run and wait. */
		t->ops = xcalloc(2, sizeof(*t->ops));
		t->ops[0].type = OP_RUN;
		t->ops[1].type = OP_WAIT;
		t->nops = 2;
		return NULL;
	}
	if (!json_object_is_type(ops, json_type_array))
		return "\"operations\" is not an array";
	t->ops = xcalloc(json_object_array_length(ops) + 1, sizeof(*t->ops));
	for (size_t i = 0; i < json_object_array_length(ops); i++) {
		json_object *o = json_object_array_get_idx(ops, i), *tv;
		struct op *op = &t->ops[t->nops++];
		const char *type;

		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "type", &tv) ||
		    !(type = json_object_get_string(tv)))
			return "an operation without a \"type\"";
		if (!strcmp(type, "run")) {
			if (in_run)
				return "a run before the previous run's wait";
			err = parse_run(o, op);
			in_run = true;
		} else if (!strcmp(type, "wait")) {
			if (!in_run)
				return "a wait without a run";
			err = parse_exit_code(o, op);
			in_run = false;
		} else if (!strcmp(type, "read") || !strcmp(type, "write")) {
			const char *id = "stdout";

			if (json_object_object_get_ex(o, "id", &v) && !(id = json_object_get_string(v)))
				return "a read or write without a stream";
			op->type = type[0] == 'r' ? OP_READ : OP_WRITE;
			if (op->type == OP_READ && !strcmp(id, "stdout"))
				op->stream = 1;
			else if (op->type == OP_READ && !strcmp(id, "stderr"))
				op->stream = 2;
			else if (op->type == OP_READ) {
				snprintf(skip, skipsize, "reads stream \"%s\"", id);
				return NULL;
			}
			if (t->nops == 1)
				return "a read or write before any run";
			err = parse_payload(o, op);
		} else if (!strcmp(type, "connect") || !strcmp(type, "send") ||
			   !strcmp(type, "recv") || !strcmp(type, "request") ||
			   !strcmp(type, "kill")) {
			snprintf(skip, skipsize, "operation %s is not driven by this runner", type);
			return NULL;
		} else {
			return "an operation of unknown type";
		}
		if (err)
			return err;
	}
	if (in_run)
		return "a run without a wait";
	return NULL;
}

/* -- Temporary trees ----------------------------------------------------- */

static const char *copy_to;	/* nftw has no argument: copy_tree's, under copy_lock */
static size_t copy_from_len;
static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n = 0;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	return close(out) < 0 || n < 0 ? -1 : 0;
}

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char to[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	if (snprintf(to, sizeof(to), "%s%s", copy_to, path + copy_from_len) >= (int)sizeof(to))
		return -1;
	/*
	 * The shared tree is read-only; the copy gets the modes a checkout of
	 * the suite has (files 0644 or 0755, folders 0755), since tests write
	 * into it.
	 */
	switch (flag) {
	case FTW_D:
		return mkdir(to, 0755) < 0 && errno != EEXIST ? -1 : 0;
	case FTW_F:
		if (!S_ISREG(st->st_mode))
			return 0;
		return copy_file(path, to, 0644 | (st->st_mode & 0111));
	case FTW_SL:
	case FTW_SLN:
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			return -1;
		link[n] = 0;
		return symlink(link, to);
	default:
		return -1;
	}
}

/* Copies the tree at `from` to `to` (which must not exist): 0 or -1. */
static int copy_tree(const char *from, const char *to)
{
	int r;

	pthread_mutex_lock(&copy_lock);
	copy_to = to;
	copy_from_len = strlen(from);
	r = nftw(from, copy_one, 16, FTW_PHYS);
	pthread_mutex_unlock(&copy_lock);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* Removes a tree a test left behind (WASI has no way to change a file's
 * permissions, so the copy's modes still allow it). */
static void remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH) != 0)
		fprintf(stderr, "wasi_testsuite: could not remove %s: %s\n", path, strerror(errno));
}

/* The suite's artefacts of earlier runs: every *.cleanup under dir. */
static int remove_cleanup(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t n = strlen(path);

	if (n > 8 && !strcmp(path + n - 8, ".cleanup")) {
		if (flag == FTW_D)
			remove_tree(path);
		else if (unlink(path) < 0)
			fprintf(stderr, "wasi_testsuite: could not remove %s: %s\n", path,
				strerror(errno));
		return flag == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	}
	return FTW_CONTINUE;
}

/* -- Reports ------------------------------------------------------------- */

static void fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	size_t at = strlen(c->why);

	if (at && at < sizeof(c->why) - 2)
		at += (size_t)snprintf(c->why + at, sizeof(c->why) - at, "; ");
	va_start(ap, fmt);
	if (at < sizeof(c->why))
		vsnprintf(c->why + at, sizeof(c->why) - at, fmt, ap);
	va_end(ap);
	c->failed = true;
	if (verbose) {
		va_start(ap, fmt);
		fprintf(c->rep, "    ");
		vfprintf(c->rep, fmt, ap);
		fprintf(c->rep, "\n");
		va_end(ap);
	}
}

/* Shows s[0..n) as a C string, shortened past SHOW_MAX bytes. */
static void show_bytes(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && i < SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
	if (n > SHOW_MAX)
		fprintf(f, "... (%zu bytes)", n);
}

/* With -v, the first lines of what stderr holds. */
static void show_stderr(struct ctx *c)
{
	const struct stream *s = &c->p.out[2];
	size_t at = 0;

	if (!verbose || !s->len)
		return;
	fprintf(c->rep, "    stderr:\n");
	for (unsigned line = 0; line < STDERR_LINES && at < s->len; line++) {
		const char *nl = memchr(s->buf + at, '\n', s->len - at);
		size_t n = nl ? (size_t)(nl - (s->buf + at)) : s->len - at;

		fprintf(c->rep, "      | %.*s\n", (int)(n > 400 ? 400 : n), s->buf + at);
		at += n + 1;
	}
	if (at < s->len)
		fprintf(c->rep, "      | ... (%zu bytes in all)\n", s->len);
}

/* -- Processes ----------------------------------------------------------- */

static void describe_status(int status, char *buf, size_t size)
{
	const char *sig;

	if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by SIG%s",
			 (sig = sigabbrev_np(WTERMSIG(status))) ? sig : "?");
	else
		snprintf(buf, size, "status %#x", status);
}

/* argv of a run operation: k23sim [--dir ROOT::/] [--env K=V]... NAME.wasm ARGS */
static char **run_argv(struct ctx *c, const struct op *op)
{
	size_t n = 4 + (op->args ? json_object_array_length(op->args) : 0) +
		   2 * (op->env ? (size_t)json_object_object_length(op->env) : 0), i = 0;
	char **argv = xmalloc((n + 1) * sizeof(*argv));

	argv[i++] = xstrdup(k23sim);
	if (op->root) {
		argv[i++] = xstrdup("--dir");
		if (asprintf(&argv[i++], "%s::/", c->copy) < 0)
			exit(2);
	}
	if (op->env) {
		json_object_object_foreach(op->env, key, val) {
			argv[i++] = xstrdup("--env");
			if (asprintf(&argv[i++], "%s=%s", key, json_object_get_string(val)) < 0)
				exit(2);
		}
	}
	argv[i++] = xstrdup(c->t->wasm);
	for (size_t a = 0; op->args && a < json_object_array_length(op->args); a++)
		argv[i++] = xstrdup(json_object_get_string(json_object_array_get_idx(op->args, a)));
	argv[i] = NULL;
	return argv;
}

static void free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* Starts the run operation's process; false (and a failure) if it could
 * not.  Every descriptor is close-on-exec, so no child holds another
 * test's pipes open. */
static bool start(struct ctx *c, const struct op *op)
{
	int in[2], out[2], err[2];
	char **argv;

	if (op->root && (!c->copied || strcmp(c->copied, op->root))) {
		char from[PATH_MAX];
		const char *base = strrchr(op->root, '/');

		/* One copy per test, made for its first run. */
		if (c->copy) {
			fail(c, "runs with two different roots");
			return false;
		}
		snprintf(from, sizeof(from), "%s%s%s", op->root[0] == '/' ? "" : c->t->dir,
			 op->root[0] == '/' ? "" : "/", op->root);
		if (asprintf(&c->copy, "%s/%s", c->tmp, base ? base + 1 : op->root) < 0)
			exit(2);
		if (copy_tree(from, c->copy) != 0) {
			fail(c, "could not copy root %s to %s: %s", from, c->copy, strerror(errno));
			return false;
		}
		c->copied = op->root;
	}
	argv = run_argv(c, op);
	if (verbose) {
		/* To run it again by hand: cd there, the root copied over COPY. */
		fprintf(c->rep, "    run in %s:", c->t->dir);
		for (char **a = argv; *a; a++)
			fprintf(c->rep, " %s", *a);
		fprintf(c->rep, "\n");
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		perror("wasi_testsuite: pipe");
		exit(2);
	}
	c->p.pid = fork();
	if (c->p.pid < 0) {
		perror("wasi_testsuite: fork");
		exit(2);
	}
	if (c->p.pid == 0) {
		/* Async-signal-safe calls only: the runner has threads. */
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (chdir(c->t->dir) == 0)
			execvp(argv[0], argv);
		(void)!write(2, "wasi_testsuite: cannot run ", 27);
		(void)!write(2, argv[0], strlen(argv[0]));
		(void)!write(2, "\n", 1);
		_exit(127);
	}
	setpgid(c->p.pid, c->p.pid);
	free_argv(argv);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->p.in_fd = in[1];
	for (int s = 1; s <= 2; s++) {
		free(c->p.out[s].buf);
		c->p.out[s] = (struct stream){ .fd = s == 1 ? out[0] : err[0] };
	}
	c->p.deadline_ms = now_ms() + (uint64_t)timeout_s * 1000;
	c->p.timed_out = false;
	return true;
}

static void read_stream(struct stream *s)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (s->len + (size_t)n > OUTPUT_MAX) {
		s->dropped += (size_t)n;
		return;
	}
	if (s->len + (size_t)n > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;

		while (cap < s->len + (size_t)n)
			cap *= 2;
		if (!(s->buf = realloc(s->buf, cap))) {
			perror("wasi_testsuite: realloc");
			exit(2);
		}
		s->cap = cap;
	}
	memcpy(s->buf + s->len, buf, (size_t)n);
	s->len += (size_t)n;
}

static void kill_group(struct proc *p)
{
	if (!p->timed_out) {
		kill(-p->pid, SIGKILL);
		p->timed_out = true;
	}
}

/* Takes in stdout and stderr until stream `which` holds `want` bytes past
 * its position (which 0: until both end), or the deadline kills the
 * process.  Both are drained, so the process never blocks on the other. */
static void pump(struct proc *p, int which, size_t want)
{
	for (;;) {
		struct pollfd pfd[2];
		struct stream *owner[2];
		nfds_t np = 0;
		uint64_t now = now_ms();

		if (which && p->out[which].len - p->out[which].pos >= want)
			return;
		for (int s = 1; s <= 2; s++)
			if (p->out[s].fd >= 0) {
				pfd[np] = (struct pollfd){ .fd = p->out[s].fd, .events = POLLIN };
				owner[np++] = &p->out[s];
			}
		if (!np || (which && p->out[which].fd < 0))
			return;
		if (now >= p->deadline_ms) {
			kill_group(p);
			/* Its pipes end with it, unless something it started escaped
			 * the group: then stop reading. */
			if (now >= p->deadline_ms + 2000)
				return;
		}
		if (poll(pfd, np, p->timed_out ? 100 : (int)(p->deadline_ms - now)) < 0 &&
		    errno != EINTR) {
			perror("wasi_testsuite: poll");
			exit(2);
		}
		for (nfds_t i = 0; i < np; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				read_stream(owner[i]);
	}
}

/* Ends the running process: stdin closed, its output read to the end, the
 * process reaped, killed at the deadline. */
static void reap(struct proc *p)
{
	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	pump(p, 0, 0);
	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);

		if (r == p->pid || (r < 0 && errno != EINTR))
			break;
		if (now_ms() >= p->deadline_ms)
			kill_group(p);
		usleep(2000);
	}
	for (int s = 1; s <= 2; s++)
		if (p->out[s].fd >= 0) {
			close(p->out[s].fd);
			p->out[s].fd = -1;
		}
	p->pid = 0;
}

/* -- Operations ---------------------------------------------------------- */

static const char *stream_name(int s)
{
	return s == 1 ? "stdout" : "stderr";
}

static void op_read(struct ctx *c, const struct op *op)
{
	struct stream *s = &c->p.out[op->stream];
	size_t n;

	if (c->p.pid)
		pump(&c->p, op->stream, op->payload_len);
	n = s->len - s->pos < op->payload_len ? s->len - s->pos : op->payload_len;
	if (n == op->payload_len && !memcmp(s->buf + s->pos, op->payload, n)) {
		s->pos += n;
		return;
	}
	if (c->p.timed_out) {
		if (!c->told_timeout)
			fail(c, "timed out after %u s reading %s", timeout_s, stream_name(op->stream));
		c->told_timeout = true;
		return;
	}
	fail(c, "%s differs", stream_name(op->stream));
	if (verbose) {
		fprintf(c->rep, "      expected ");
		show_bytes(c->rep, op->payload, op->payload_len);
		fprintf(c->rep, "\n      got      ");
		show_bytes(c->rep, s->buf + s->pos, s->len - s->pos);
		fprintf(c->rep, "\n");
	}
	s->pos += n;
}

static void op_write(struct ctx *c, const struct op *op)
{
	size_t at = 0;

	if (!c->p.pid || c->p.in_fd < 0)
		return;
	/* A program that does not read its stdin may leave a large payload
	 * blocked: the process would then time out, which is its failure. */
	while (at < op->payload_len) {
		ssize_t n = write(c->p.in_fd, op->payload + at, op->payload_len - at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		at += (size_t)n;
	}
}

static void op_wait(struct ctx *c, const struct op *op)
{
	char got[64];

	reap(&c->p);
	if (c->p.timed_out) {
		if (!c->told_timeout)
			fail(c, "timed out after %u s", timeout_s);
		c->told_timeout = true;
		return;
	}
	if (WIFEXITED(c->p.status) && WEXITSTATUS(c->p.status) == op->exit_code)
		return;
	describe_status(c->p.status, got, sizeof(got));
	fail(c, "%s, expected exit %d", got, op->exit_code);
}

/* Runs one test and fills in its verdict and report. */
static void run_test(struct test *t)
{
	char skip[160] = "", *buf = NULL;
	struct ctx c = { .t = t, .p.in_fd = -1 };
	const char *bad;
	size_t len = 0;

	c.rep = open_memstream(&buf, &len);
	if (!c.rep) {
		perror("wasi_testsuite: open_memstream");
		exit(2);
	}
	if ((bad = parse_spec(t, skip, sizeof(skip)))) {
		fail(&c, "bad specification %s: %s", t->json, bad);
	} else if (skip[0]) {
		t->verdict = SKIPPED;
		fprintf(c.rep, "SKIP %s: %s\n", t->name, skip);
		goto out;
	} else {
		snprintf(c.tmp, sizeof(c.tmp), "%s/%zu", tmp_root, (size_t)(t - tests));
		if (mkdir(c.tmp, 0755) < 0) {
			fprintf(stderr, "wasi_testsuite: mkdir %s: %s\n", c.tmp, strerror(errno));
			exit(2);
		}
		for (unsigned i = 0; i < t->nops; i++) {
			const struct op *op = &t->ops[i];

			if (op->type == OP_RUN && !start(&c, op))
				break;
			if (op->type == OP_READ)
				op_read(&c, op);
			if (op->type == OP_WRITE)
				op_write(&c, op);
			if (op->type == OP_WAIT)
				op_wait(&c, op);
		}
		if (c.p.pid) {
			kill_group(&c.p);
			reap(&c.p);
		}
		if (c.failed)
			show_stderr(&c);
		remove_tree(c.tmp);
	}
	t->verdict = c.failed ? FAILED : PASSED;
out:
	fclose(c.rep);
	if (t->verdict == FAILED) {
		char *line = NULL;
		/* The one line first; with -v the details follow it. */
		int n = asprintf(&line, "FAIL %s: %s\n%s", t->name, c.why, buf ? buf : "");

		if (n < 0)
			exit(2);
		free(buf);
		buf = line;
		len = (size_t)n;
	} else if (t->verdict == PASSED) {
		if (verbose) {
			free(buf);
			if (asprintf(&buf, "PASS %s\n", t->name) < 0)
				exit(2);
			len = strlen(buf);
		} else {
			len = 0;
		}
	}
	for (int s = 1; s <= 2; s++)
		free(c.p.out[s].buf);
	free(c.copy);
	t->report = buf;
	t->report_len = len;
}

static void *worker(void *arg)
{
	for (;;) {
		size_t i;

		pthread_mutex_lock(&lock);
		i = next_test++;
		pthread_mutex_unlock(&lock);
		if (i >= ntests)
			return NULL;
		run_test(&tests[i]);
		pthread_mutex_lock(&lock);
		tests[i].done = true;
		pthread_cond_broadcast(&done_cond);
		pthread_mutex_unlock(&lock);
	}
}

/* -- Discovery ----------------------------------------------------------- */

static bool wanted(const char *name, char **filters, int nfilters)
{
	if (!nfilters)
		return true;
	for (int i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

/* Every test under suite_dir whose name matches a filter, in name order
 * within each suite. */
static void find_tests(char **filters, int nfilters)
{
	char pattern[PATH_MAX];
	glob_t suites, wasms;

	snprintf(pattern, sizeof(pattern), "%s" SUITE_GLOB, suite_dir);
	if (glob(pattern, GLOB_ONLYDIR, NULL, &suites) != 0) {
		fprintf(stderr, "wasi_testsuite: no suite under %s (%s)\n", suite_dir, pattern);
		exit(2);
	}
	tests = NULL;
	for (size_t s = 0; s < suites.gl_pathc; s++) {
		const char *dir = suites.gl_pathv[s];
		/* SUITE is the folder above testsuite/. */
		size_t end = strlen(dir) - strlen(SUITE_GLOB) + 2, start = end;

		nftw(dir, remove_cleanup, 16, FTW_PHYS | FTW_ACTIONRETVAL);
		while (start && dir[start - 1] != '/')
			start--;
		snprintf(pattern, sizeof(pattern), "%s/*.wasm", dir);
		if (glob(pattern, 0, NULL, &wasms) != 0)
			continue;
		tests = realloc(tests, (ntests + wasms.gl_pathc) * sizeof(*tests));
		if (!tests) {
			perror("wasi_testsuite");
			exit(2);
		}
		for (size_t w = 0; w < wasms.gl_pathc; w++) {
			const char *path = wasms.gl_pathv[w], *base = strrchr(path, '/') + 1;
			struct test *t = &tests[ntests];
			char json[PATH_MAX];

			memset(t, 0, sizeof(*t));
			if (asprintf(&t->name, "%.*s/%.*s", (int)(end - start), dir + start,
				     (int)(strlen(base) - 5), base) < 0)
				exit(2);
			if (!wanted(t->name, filters, nfilters)) {
				free(t->name);
				continue;
			}
			t->dir = xstrdup(dir);
			t->wasm = xstrdup(base);
			snprintf(json, sizeof(json), "%.*s.json", (int)(strlen(path) - 5), path);
			if (access(json, F_OK) == 0)
				t->json = xstrdup(json);
			ntests++;
		}
		globfree(&wasms);
	}
	globfree(&suites);
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0, skipped = 0;
	pthread_t threads[16];
	unsigned nthreads;
	const char *tmpdir = getenv("TMPDIR");
	int c;

	while ((c = getopt(argc, argv, "vj:t:k:d:")) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'j':
			max_jobs = (unsigned)atoi(optarg);
			if (max_jobs < 1 || max_jobs > 16)
				max_jobs = 1;
			break;
		case 't':
			timeout_s = (unsigned)atoi(optarg);
			if (timeout_s < 1)
				timeout_s = 1;
			break;
		case 'k':
			k23sim = optarg;
			break;
		case 'd':
			suite_dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: wasi_testsuite [-v] [-j JOBS] [-t SECONDS] "
				"[-k K23SIM] [-d TESTS] [FILTER...]\n");
			return 2;
		}
	}
	/* Tests run in their own folders: a path relative to here must not
	 * depend on that, and -v shows whole paths to run a test again by
	 * hand.  A bare name is looked up in PATH. */
	if (strchr(k23sim, '/')) {
		char *abs = realpath(k23sim, NULL);

		if (!abs) {
			fprintf(stderr, "wasi_testsuite: %s: %s\n", k23sim, strerror(errno));
			return 2;
		}
		k23sim = abs;
	}
	{
		char *abs = realpath(suite_dir, NULL);

		if (!abs) {
			fprintf(stderr, "wasi_testsuite: %s: %s\n", suite_dir, strerror(errno));
			return 2;
		}
		suite_dir = abs;
	}
	find_tests(argv + optind, argc - optind);
	if (!ntests) {
		fprintf(stderr, "wasi_testsuite: no test matches\n");
		return 2;
	}
	snprintf(tmp_root, sizeof(tmp_root), "%s/wasi-testsuite.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmp_root)) {
		fprintf(stderr, "wasi_testsuite: mkdtemp %s: %s\n", tmp_root, strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nthreads = max_jobs < ntests ? max_jobs : (unsigned)ntests;
	for (unsigned i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "wasi_testsuite: pthread_create failed\n");
			return 2;
		}
	/* The reports in the order of the tests, each as soon as it is done. */
	for (size_t i = 0; i < ntests; i++) {
		pthread_mutex_lock(&lock);
		while (!tests[i].done)
			pthread_cond_wait(&done_cond, &lock);
		pthread_mutex_unlock(&lock);
		fwrite(tests[i].report, 1, tests[i].report_len, stdout);
		fflush(stdout);
		passed += tests[i].verdict == PASSED;
		failed += tests[i].verdict == FAILED;
		skipped += tests[i].verdict == SKIPPED;
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	remove_tree(tmp_root);
	printf("wasi-testsuite: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
