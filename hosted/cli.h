/*
 * cli.h - the k23sim subcommands besides booting (hosted/main.c dispatches).
 * Each takes the arguments after the subcommand name and returns the
 * process exit status.
 */
#ifndef K23_CLI_H
#define K23_CLI_H

int hosted_cmd_validate(int argc, char **argv);	/* k23sim validate APP.wasm */
int hosted_cmd_inspect(int argc, char **argv);	/* k23sim inspect APP.wasm */

#endif /* K23_CLI_H */
