/*
 * argsenv - the program sees exactly the arguments and environment it was
 * given: argv[0] is the module path as typed, the arguments after it
 * arrive untouched (spaces, empty strings, option-like words, UTF-8), and
 * the environment holds the --env variables in order and nothing of the
 * runtime's own.  Prints them, and checks that args_sizes_get and
 * environ_sizes_get agree with what args_get and environ_get return.
 */
#include <stdlib.h>
#include "wasi_test.h"

extern char **environ;

/* COUNT strings behind a sizes_get/get pair, checked against the sizes. */
static void check_vector(const char *what, __wasi_errno_t (*sizes)(__wasi_size_t *, __wasi_size_t *),
			 __wasi_errno_t (*get)(uint8_t **, uint8_t *))
{
	__wasi_size_t count = 0, size = 0, total = 0;
	uint8_t **ptrs;
	uint8_t *buf;
	char label[64];
	__wasi_errno_t err = sizes(&count, &size);

	snprintf(label, sizeof(label), "%s_sizes_get", what);
	check_errno(err, 0, label);
	ptrs = calloc(count + 1, sizeof(*ptrs));
	buf = malloc(size + 1);
	snprintf(label, sizeof(label), "%s_get", what);
	check_errno(get(ptrs, buf), 0, label);
	for (__wasi_size_t i = 0; i < count; i++)
		total += (__wasi_size_t)strlen((char *)ptrs[i]) + 1;
	snprintf(label, sizeof(label), "%s strings fill the size %s_sizes_get gave", what, what);
	check(total == size, label, "they take %u bytes, sizes_get said %u",
	      (unsigned)total, (unsigned)size);
	free(ptrs);
	free(buf);
}

int main(int argc, char **argv)
{
	int n = 0;

	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] [%s]\n", i, argv[i]);
	for (char **e = environ; *e; e++, n++)
		printf("env [%s]\n", *e);
	printf("%d environment variables\n", n);
	check_vector("args", __wasi_args_sizes_get, __wasi_args_get);
	check_vector("environ", __wasi_environ_sizes_get, __wasi_environ_get);
	return test_status();
}
