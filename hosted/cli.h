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

int hosted_cmd_validate(int argc, char **argv);	/* k23sim validate APP.wasm */
int hosted_cmd_inspect(int argc, char **argv);	/* k23sim inspect APP.wasm */

/* k23sim --invoke NAME APP.wasm [ARGS...]: argv[0] is APP.wasm. */
int hosted_cmd_invoke(const struct hosted_config *cfg, const char *name,
		      int argc, char **argv);

/* The whole file (malloc'd) and its size, or NULL with errno set. */
uint8_t *hosted_read_file(const char *path, size_t *size);

#endif /* K23_CLI_H */
