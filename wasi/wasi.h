/*
 * wasi.h - WASI preview1 (wasi_snapshot_preview1) for one app.
 *
 * An app's WASI state (its arguments, environment, and file descriptor
 * table) is a struct wasi; wasi_define() makes its functions importable
 * in the app's store as ordinary host functions, called from wasm with no
 * more than a register shuffle.  Files come from the kernel's VFS over the
 * platform's file device (kernel/vfs.h); the app sees only the handles it
 * was given here: stdio, preopened directories and listening sockets.
 */
#ifndef K23_WASI_WASI_H
#define K23_WASI_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jit/jit.h"
#include "kernel/hal.h"

/* Something granted to the app, numbered from fd 3 in the given order. */
struct wasi_preopen {
	hal_fd_t fd;		/* the app's now: closed by wasi_destroy */
	const char *name;	/* a directory's guest path ("/", "data"); NULL: a socket */
};

struct wasi_config {
	const char *const *argv;	/* argv[0] is the program name */
	size_t argc;
	const char *const *env;		/* "NAME=VALUE" strings */
	size_t envc;
	hal_fd_t stdio[3];		/* handles for fds 0, 1, 2 (not closed) */
	const struct wasi_preopen *preopens;
	size_t npreopens;
	/* When trace_fd >= 0, one line per call goes there: name, arguments,
	 * result. */
	hal_fd_t trace_fd;
};

struct wasi;

/* 0 and *out (everything in cfg is copied), -K_ENOMEM or -K_E2BIG when
 * the arguments or environment do not fit a wasm32 app. */
int wasi_create(const struct wasi_config *cfg, struct wasi **out);
void wasi_destroy(struct wasi *w);

/* Define every wasi_snapshot_preview1 function in the store. */
int wasi_define(struct wasi *w, struct jit_store *store);

/* The name of a WASI errno value ("NOENT"), for traces and tests. */
const char *wasi_errno_name(unsigned err);

#endif /* K23_WASI_WASI_H */
