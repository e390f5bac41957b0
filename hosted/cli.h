/*
 * cli.h - the k23sim subcommands besides booting (hosted/main.c dispatches).
 * Each takes the arguments after the subcommand name and returns the
 * process exit status.
 */
#ifndef K23_CLI_H
#define K23_CLI_H

#include <stddef.h>
#include <stdint.h>
#include "hosted.h"
#include "jit/jit.h"

int hosted_cmd_validate(int argc, char **argv);	/* k23sim validate APP.wasm */
int hosted_cmd_inspect(int argc, char **argv);	/* k23sim inspect APP.wasm */

/* What the command line grants an app (k23sim [OPTIONS] APP.wasm). */
struct hosted_app {
	const char **dirs;	/* --dir HOST[::GUEST] */
	size_t ndirs;
	const char **env;	/* --env NAME=VALUE */
	size_t nenv;
	const char **listen;	/* --tcplisten ADDR:PORT */
	size_t nlisten;
	const char *invoke;	/* --invoke NAME, or NULL for _start */
	bool trace;		/* --trace-wasi */
};

/*
 * k23sim [OPTIONS] APP.wasm [ARGS...]: argv[0] is APP.wasm.  Returns the
 * process's exit status: the app's, or 1 when it cannot be loaded, 2 for
 * bad usage, 134 when it traps.
 */
int hosted_cmd_app(const struct hosted_config *cfg, const struct hosted_app *app,
		   int argc, char **argv);

/* Call the export name of inst with argv parsed as its arguments and
 * print its results (--invoke); the exit status. */
int hosted_invoke(struct jit_instance *inst, const char *path, const char *name,
		  char **argv, int argc);

/* Print a trap and its backtrace on stderr: the exit status it gives
 * (an app's exit code for proc_exit, else 134 as wasmtime). */
int hosted_trap_status(const struct jit_trap_info *trap);

/* The decoder's allocator over the process's malloc. */
extern const struct jit_wasm_alloc hosted_heap;

/* The whole file (malloc'd) and its size, or NULL with errno set. */
uint8_t *hosted_read_file(const char *path, size_t *size);

#endif /* K23_CLI_H */
