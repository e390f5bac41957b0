/*
 * spec_runner.c - runs the WebAssembly spec test suite, as converted by
 * wabt's wast2json (`make spec`), against the decoder and validator.
 *
 * Each JSON file lists commands.  This runner checks what decoding and
 * validation decide:
 *   module                       must decode and validate
 *   assert_malformed (binary)    must be rejected as malformed
 *   assert_invalid (binary)      must be rejected as invalid (decodes, but
 *                                does not validate)
 * Text-format modules (`module quote`) test a text parser k23 does not
 * have, and the execution commands (assert_return, assert_trap, ...) need
 * the JIT: both are counted as skipped and listed by command name.  The
 * modules of assert_unlinkable and assert_uninstantiable must still
 * validate (a failure if not); their linking is skipped.
 *
 * Usage: spec_runner [-v] FILE.json...   Prints one line per file and a
 * last line "N passed, N failed, N skipped"; exits 1 if anything failed.
 */
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/wasm.h"

struct tally {
	unsigned passed, failed, skipped;
	/* Skips by reason, for the per-file line. */
	char reasons[32][40];
	unsigned reason_count[32];
	unsigned nreasons;
};

static bool verbose;

static void *host_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void host_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static const struct jit_wasm_alloc host = { host_alloc, host_free, NULL };

static void skip(struct tally *t, const char *reason)
{
	unsigned i;

	t->skipped++;
	for (i = 0; i < t->nreasons; i++)
		if (!strcmp(t->reasons[i], reason))
			break;
	if (i == t->nreasons) {
		if (t->nreasons == 32)
			return;
		snprintf(t->reasons[i], sizeof(t->reasons[i]), "%s", reason);
		t->nreasons++;
	}
	t->reason_count[i]++;
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*size = (size_t)n;
		fclose(f);
		return buf;
	}
	free(buf);
	fclose(f);
	return NULL;
}

enum outcome { VALID, MALFORMED, INVALID, NOFILE };

static enum outcome check(const char *dir, const char *name,
			  struct jit_wasm_error *err)
{
	char path[4096];
	struct jit_wasm_module *m;
	size_t size = 0;
	uint8_t *bytes;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(bytes = read_file(path, &size))) {
		snprintf(err->msg, sizeof(err->msg), "cannot read %.100s: %.40s",
		    path, strerror(errno));
		return NOFILE;
	}
	rc = jit_wasm_decode(bytes, size, &host, &m, err);
	jit_wasm_free(m);
	free(bytes);
	if (rc == 0)
		return VALID;
	return err->malformed ? MALFORMED : INVALID;
}

static const char *str(json_object *cmd, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(cmd, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void fail(struct tally *t, const char *file, int line,
		 const char *what, const struct jit_wasm_error *err,
		 enum outcome got)
{
	static const char *const names[] = {
		"valid", "malformed", "invalid", "unreadable",
	};

	t->failed++;
	printf("  FAIL %s:%d: %s, but the module is %s", file, line, what,
	    names[got]);
	if (got != VALID)
		printf(" (offset 0x%x: %s)", err->offset, err->msg);
	printf("\n");
}

static void run_command(struct tally *t, const char *file, const char *dir,
			json_object *cmd)
{
	const char *type = str(cmd, "type"), *mtype = str(cmd, "module_type");
	const char *name = str(cmd, "filename"), *text = str(cmd, "text");
	json_object *lv;
	int line = json_object_object_get_ex(cmd, "line", &lv) ?
	    json_object_get_int(lv) : 0;
	struct jit_wasm_error err;
	enum outcome got;
	char reason[64];

	if (!type)
		type = "?";
	if (!strcmp(type, "module") || !strncmp(type, "assert_un", 9)) {
		if (mtype && strcmp(mtype, "binary")) {
			snprintf(reason, sizeof(reason), "%s text", type);
			skip(t, reason);
			return;
		}
		got = check(dir, name, &err);
		if (got != VALID) {
			fail(t, file, line, "a valid module", &err, got);
			return;
		}
		if (strcmp(type, "module"))
			skip(t, type);	/* valid; the linking is the JIT's */
		else
			t->passed++;
		return;
	}
	if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid")) {
		bool want_malformed = type[7] == 'm';

		if (mtype && strcmp(mtype, "binary")) {
			snprintf(reason, sizeof(reason), "%s text", type);
			skip(t, reason);
			return;
		}
		got = check(dir, name, &err);
		/*
		 * wast2json writes no data count section for a text module
		 * that uses data.drop or memory.init without data segments:
		 * the binary format calls the result malformed (spec 5.5.16)
		 * where the text test expects it invalid.  Either is a
		 * rejection for the reason the test is about.
		 */
		if (!want_malformed && got == MALFORMED &&
		    !strcmp(err.msg, "data count section required"))
			got = INVALID;
		if (got == (want_malformed ? MALFORMED : INVALID)) {
			t->passed++;
			if (verbose)
				printf("  ok %s:%d: %s (expected \"%s\")\n", file,
				    line, err.msg, text ? text : "");
			return;
		}
		snprintf(reason, sizeof(reason), "%s module (\"%s\")",
		    want_malformed ? "a malformed" : "an invalid",
		    text ? text : "");
		fail(t, file, line, reason, &err, got);
		return;
	}
	skip(t, type);
}

static int run_file(const char *path, struct tally *total)
{
	json_object *root = json_object_from_file(path), *cmds;
	char dirbuf[4096], *dir;
	struct tally t = { 0 };
	const char *shown = path;

	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	dir = dirname(dirbuf);
	if (!strncmp(shown, "build/spec/", 11))
		shown += 11;
	if (!root || !json_object_object_get_ex(root, "commands", &cmds)) {
		printf("%s: cannot read the commands\n", shown);
		total->failed++;
		json_object_put(root);
		return 1;
	}
	for (size_t i = 0; i < json_object_array_length(cmds); i++)
		run_command(&t, shown, dir, json_object_array_get_idx(cmds, i));
	printf("%s: %u passed, %u failed, %u skipped", shown, t.passed,
	    t.failed, t.skipped);
	for (unsigned i = 0; i < t.nreasons; i++)
		printf("%s%s %u", i ? ", " : " (", t.reasons[i],
		    t.reason_count[i]);
	printf("%s\n", t.nreasons ? ")" : "");
	total->passed += t.passed;
	total->failed += t.failed;
	total->skipped += t.skipped;
	json_object_put(root);
	return t.failed != 0;
}

int main(int argc, char **argv)
{
	struct tally total = { 0 };
	int i = 1;

	if (i < argc && !strcmp(argv[i], "-v")) {
		verbose = true;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: spec_runner [-v] FILE.json...\n");
		return 2;
	}
	for (; i < argc; i++)
		run_file(argv[i], &total);
	printf("%u passed, %u failed, %u skipped\n", total.passed,
	    total.failed, total.skipped);
	return total.failed ? 1 : 0;
}
