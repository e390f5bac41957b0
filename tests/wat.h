/*
 * wat.h - modules for tests written in the text format: wabt's wat2wasm
 * (with every feature on) into a temporary file, read back.  Every
 * tests/test_*.c is a binary of its own, hence static.
 */
#ifndef K23_TESTS_WAT_H
#define K23_TESTS_WAT_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The binary of module text (malloc'd) and its size; asserts it converts. */
static uint8_t *wat(const char *text, size_t *size)
{
	char dir[] = "/tmp/k23-test-wat-XXXXXX", cmd[256], path[128];
	uint8_t *bytes;
	FILE *f;
	long n;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.wat", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "wat2wasm --enable-all %s/m.wat -o %s/m.wasm", dir, dir);
	cr_assert_eq(system(cmd), 0, "wat2wasm failed on:\n%s", text);
	snprintf(path, sizeof(path), "%s/m.wasm", dir);
	cr_assert_not_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert_not_null(bytes = malloc((size_t)n));
	cr_assert_eq(fread(bytes, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	*size = (size_t)n;
	return bytes;
}

#endif /* K23_TESTS_WAT_H */
