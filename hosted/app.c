/*
 * app.c - `k23sim [OPTIONS] APP.wasm [ARGS...]`: run a WASI command.
 *
 * The host side opens what the command line grants (directories,
 * listening sockets, stdio) and reads the module; the kernel, once up,
 * compiles it, links it against WASI (wasi/) and runs its _start (or the
 * --invoke export) on a task of its own, whose exit is the process's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosted/cli.h"
#include "hosted/files.h"
#include "kernel/kerr.h"
#include "sched/sched.h"
#include "wasi/wasi.h"

struct app_run {
	const struct hosted_app *opts;
	const char *path;
	char **args;		/* after APP.wasm */
	int nargs;
	uint8_t *bytes;
	size_t size;
	struct wasi_config wasi;
	struct jit_instance *inst;
	struct jit_func *entry;	/* _start */
	int status;
};

int hosted_trap_status(const struct jit_trap_info *trap)
{
	char buf[JIT_BACKTRACE_MAX * 160 + 160];
	size_t n;

	if (trap->code == JIT_TRAP_EXIT)
		return trap->host_status & 0xff;
	fflush(stdout);
	n = jit_trap_text(trap, buf, sizeof(buf));
	fwrite(buf, 1, n < sizeof(buf) ? n : sizeof(buf) - 1, stderr);
	return 134;	/* as wasmtime: 128 + SIGABRT */
}

/* The app's own task: its stack is what wasm code may use. */
static intptr_t app_task(void *arg)
{
	struct app_run *r = arg;
	struct jit_trap_info trap;

	if (jit_call(r->entry, NULL, 0, NULL, 0, &trap) == -K_EFAULT)
		return hosted_trap_status(&trap);
	return 0;
}

static intptr_t invoke_task(void *arg)
{
	struct app_run *r = arg;

	return hosted_invoke(r->inst, r->path, r->opts->invoke,
			     r->args, r->nargs);
}

/* The app's stack: SCHED_STACK_MAX (about 80,000 wasm calls), halved while
 * RAM is short, down to this. */
#define APP_STACK_MIN	(64u << 10)

/* On hart 0 once the kernel is up. */
static int app_main(void *arg)
{
	struct app_run *r = arg;
	struct sched_attr attr = { .name = "app", .stack_size = SCHED_STACK_MAX, .hart = -1 };
	struct jit_module *mod = NULL;
	struct jit_store *store = NULL;
	struct wasi *wasi = NULL;
	struct jit_instance *inst;
	struct jit_wasm_error err;
	struct jit_link_error lerr;
	struct jit_extern ex;
	sched_task_t task;
	intptr_t status = 1;
	int rc;

	rc = jit_module_compile(r->bytes, r->size, NULL, &mod, &err);
	if (rc == -K_EINVAL) {
		fprintf(stderr, "%s: %s module at offset 0x%x: %s\n", r->path,
			err.malformed ? "malformed" : "invalid", err.offset, err.msg);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot compile: %s\n", r->path, err.msg);
		return 1;
	}
	if ((rc = jit_store_create(&store)) < 0 || (rc = wasi_create(&r->wasi, &wasi)) < 0 ||
	    (rc = wasi_define(wasi, store)) < 0) {
		fprintf(stderr, "k23sim: cannot set up the app: %s\n", kerr_str(rc));
		goto out;
	}
	if ((rc = jit_instantiate(store, mod, &inst, &lerr)) < 0) {
		if (lerr.unlinkable) {
			fprintf(stderr, "%s: %s\n", r->path, lerr.msg);
		} else if (lerr.trap.code != JIT_TRAP_NONE) {
			status = hosted_trap_status(&lerr.trap);
		} else {
			fprintf(stderr, "%s: instantiation failed: %s\n", r->path, lerr.msg);
		}
		goto out;
	}
	r->inst = inst;
	if (r->opts->invoke) {
		/* invoke_task looks the export up */
	} else if (jit_instance_export(inst, "_start", &ex) < 0 ||
		   ex.kind != JIT_EXTERN_FUNC) {
		fprintf(stderr, "%s: no exported function '_start' (not a WASI command; "
			"--invoke NAME calls another export)\n", r->path);
		goto out;
	} else if (jit_func_sig(ex.func).nparams || jit_func_sig(ex.func).nresults) {
		fprintf(stderr, "%s: '_start' must take and return nothing\n", r->path);
		goto out;
	} else {
		r->entry = ex.func;
	}
	/* The deepest stack there is room for: a small --memory gets less. */
	while ((rc = sched_spawn(&task, r->opts->invoke ? invoke_task : app_task, r,
				 &attr)) == -K_ENOMEM && attr.stack_size > APP_STACK_MIN)
		attr.stack_size /= 2;
	if (rc < 0) {
		fprintf(stderr, "k23sim: cannot start the app: %s\n", kerr_str(rc));
		goto out;
	}
	sched_join(task, &status);
out:
	fflush(stdout);
	jit_store_destroy(store);
	wasi_destroy(wasi);
	jit_module_free(mod);
	return (int)status;
}

/* --dir HOST[::GUEST]: the host directory opened, and the guest name. */
static int open_dir(const char *spec, struct wasi_preopen *p)
{
	const char *sep = strstr(spec, "::");
	char *host = strndup(spec, sep ? (size_t)(sep - spec) : strlen(spec));
	const char *guest = sep ? sep + 2 : spec;
	int fd, h;

	if (!host)
		return -1;
	if (!*host || !*guest) {
		fprintf(stderr, "k23sim: --dir %s: expected HOST[::GUEST]\n", spec);
		free(host);
		return -1;
	}
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "k23sim: --dir %s: %s\n", host, strerror(errno));
		free(host);
		return -1;
	}
	free(host);
	h = hosted_fd_adopt(fd);
	close(fd);
	if (h < 0) {
		fprintf(stderr, "k23sim: --dir %s: %s\n", spec, kerr_str(h));
		return -1;
	}
	p->fd = h;
	p->name = guest;
	return 0;
}

int hosted_cmd_app(const struct hosted_config *cfg, const struct hosted_app *app,
		   int argc, char **argv)
{
	struct app_run r = { .opts = app, .path = argv[0], .args = argv + 1,
			     .nargs = argc - 1 };
	size_t npre = app->nlisten + app->ndirs, n = 0;
	struct wasi_preopen *pre = calloc(npre ? npre : 1, sizeof(*pre));
	int status = 1;

	if (!pre)
		return 1;
	for (size_t i = 0; i < app->nlisten; i++, n++)
		if (hosted_tcp_listen(app->listen[i], &pre[n].fd) < 0)
			goto out;
	for (size_t i = 0; i < app->ndirs; i++, n++)
		if (open_dir(app->dirs[i], &pre[n]) < 0)
			goto out;
	/* main() opened /dev/null on any closed stdio descriptor. */
	for (int i = 0; i < 3; i++) {
		if ((r.wasi.stdio[i] = hosted_fd_adopt(i)) < 0) {
			fprintf(stderr, "k23sim: cannot give the app fd %d: %s\n", i,
				kerr_str(r.wasi.stdio[i]));
			goto out;
		}
	}
	if (!(r.bytes = hosted_read_file(r.path, &r.size))) {
		fprintf(stderr, "k23sim: %s: %s\n", r.path, strerror(errno));
		goto out;
	}
	r.wasi.argv = (const char *const *)argv;
	r.wasi.argc = app->invoke ? 1 : (size_t)argc;
	r.wasi.env = app->env;
	r.wasi.envc = app->nenv;
	r.wasi.preopens = pre;
	r.wasi.npreopens = npre;
	r.wasi.trace_fd = app->trace ? r.wasi.stdio[2] : -1;
	n = 0;		/* the preopens are the app's from here on */
	status = hosted_run(cfg, app_main, &r);
	if (status < 0)
		status = 1;	/* the machine did not come up (said why) */
	free(r.bytes);
out:
	for (size_t i = 0; i < n; i++)
		close(pre[i].fd);
	free(pre);
	return status;
}
