/*
 * test_wasm_corpus.c - replays tests/wasm_corpus/: every input the fuzzer
 * ever crashed on, and other hostile modules, each named for the verdict
 * it must get: NAME.valid.wasm, NAME.invalid.wasm or NAME.malformed.wasm,
 * the same from the validator's fast path and from its reference path.
 * Run from the repository root (as tests/run.sh does).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>

#include "jit/wasm_internal.h"
#include "kernel/kerr.h"
#include "wasm_builder.h"

#define CORPUS "tests/wasm_corpus"

/* The fast path and the reference path agree on everything they record. */
static void same_on_both_paths(const char *name, const struct wb *w)
{
	struct wb_heap heap = { .fail_at = -1 };
	struct jit_wasm_alloc a = { wb_alloc, wb_free, &heap };
	struct jit_wasm_module *fast, *ref;
	struct jit_wasm_error ef, er;
	int rf = jit_wasm_decode_with(w->buf, w->len, &a, &fast, &ef, false);
	int rr = jit_wasm_decode_with(w->buf, w->len, &a, &ref, &er, true);

	cr_expect_eq(rf, rr, "%s: verdicts differ", name);
	if (rf || rr) {
		cr_expect_eq(ef.offset, er.offset, "%s", name);
		cr_expect_str_eq(ef.msg, er.msg, "%s", name);
	} else {
		for (uint32_t i = fast->nfunc_imports; i < fast->nfuncs; i++) {
			cr_expect_eq(fast->funcs[i].max_operands,
			    ref->funcs[i].max_operands, "%s: func %u", name, i);
			cr_expect_eq(fast->funcs[i].max_depth,
			    ref->funcs[i].max_depth, "%s: func %u", name, i);
		}
	}
	jit_wasm_free(fast);
	jit_wasm_free(ref);
}

static void check_file(const char *name)
{
	char path[512];
	struct wb *w = calloc(1, sizeof(*w));
	struct wb_heap heap = { .fail_at = -1 };
	struct jit_wasm_error err;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), CORPUS "/%s", name);
	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	w->len = fread(w->buf, 1, sizeof(w->buf), f);
	cr_assert(feof(f), "%s is larger than %zu bytes", path, sizeof(w->buf));
	fclose(f);
	rc = wb_decode(w, &err, &heap);
	cr_expect_eq(heap.live, 0, "%s: %ld allocations leaked", name, heap.live);
	same_on_both_paths(name, w);
	if (strstr(name, ".valid.wasm")) {
		cr_expect_eq(rc, 0, "%s: %s", name, err.msg);
	} else {
		bool malformed = strstr(name, ".malformed.wasm") != NULL;

		cr_expect(strstr(name, ".invalid.wasm") || malformed,
		    "%s: name the expected verdict", name);
		cr_expect_eq(rc, -K_EINVAL, "%s was accepted", name);
		cr_expect_eq(err.malformed, malformed, "%s: %s", name, err.msg);
		cr_expect_leq(err.offset, w->len, "%s", name);
	}
	free(w);
}

Test(wasm_corpus, every_corpus_module_gets_its_verdict_without_a_crash)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(dir, "run from the repository root: " CORPUS);
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		check_file(e->d_name);
		n++;
	}
	closedir(dir);
	cr_expect_gt(n, 0, "empty corpus");
}
