/*
 * wasm_cli.c - `k23sim validate` and `k23sim inspect`: check a module
 * without running it, and show what is inside.  Both decode and validate
 * the whole module first (jit/wasm.h), exactly as the kernel would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted/cli.h"
#include "jit/wasm.h"
#include "kernel/kerr.h"

static void *cli_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void cli_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

const struct jit_wasm_alloc hosted_heap = { cli_alloc, cli_free, NULL };

uint8_t *hosted_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 1 << 16;
			if (!(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		int e = errno;

		free(buf);
		buf = NULL;
		errno = e;
	}
	fclose(f);
	*size = len;
	return buf;
}

/* Decode path; on failure print why as `path: invalid module at ...`. */
static struct jit_wasm_module *load(const char *path, uint8_t **bytes,
				    int *status)
{
	struct jit_wasm_module *m;
	struct jit_wasm_error err;
	size_t size;
	int rc;

	if (!(*bytes = hosted_read_file(path, &size))) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		*status = 2;
		return NULL;
	}
	rc = jit_wasm_decode(*bytes, size, &hosted_heap, &m, &err);
	if (rc == 0) {
		*status = 0;
		return m;
	}
	if (rc == -K_ENOMEM)
		fprintf(stderr, "%s: out of memory while decoding (%s)\n", path,
		    err.msg);
	else
		fprintf(stderr, "%s: %s module at offset 0x%x: %s\n", path,
		    err.malformed ? "malformed" : "invalid", err.offset, err.msg);
	free(*bytes);
	*bytes = NULL;
	*status = 1;
	return NULL;
}

static void print_name(FILE *out, struct jit_wasm_name n)
{
	for (uint32_t i = 0; i < n.len; i++) {
		uint8_t c = n.ptr[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static int usage(const char *cmd, FILE *out, int status)
{
	if (!strcmp(cmd, "validate"))
		fprintf(out,
		    "usage: k23sim validate [-q] APP.wasm...\n"
		    "Decode and validate each module (WebAssembly 2.0) without "
		    "running it.\n"
		    "  -q   print nothing for valid modules\n"
		    "Exit status: 0 all valid, 1 a module is malformed or invalid "
		    "(the error,\nwith its byte offset, goes to stderr), 2 bad "
		    "usage or an unreadable file.\n");
	else
		fprintf(out,
		    "usage: k23sim inspect [--all] APP.wasm\n"
		    "Validate the module, then summarise it: sections, types, "
		    "imports, exports,\nfunctions and their sizes, tables, "
		    "memories, globals, segments.\n"
		    "  --all  list every entry (default: the first 20 of each "
		    "kind)\n"
		    "Exit status: as for k23sim validate.\n");
	return status;
}

int hosted_cmd_validate(int argc, char **argv)
{
	bool quiet = false;
	int status = 0, nfiles = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage("validate", stdout, 0);
		if (!strcmp(argv[i], "-q"))
			quiet = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage("validate", stderr, 2);
	}
	for (int i = 0; i < argc; i++) {
		struct jit_wasm_module *m;
		uint8_t *bytes;
		int st;

		if (argv[i][0] == '-' && argv[i][1])
			continue;
		nfiles++;
		m = load(argv[i], &bytes, &st);
		if (m && !quiet)
			printf("%s: valid (%u functions, %llu bytes of code)\n",
			    argv[i], m->nfuncs - m->nfunc_imports,
			    (unsigned long long)m->code_bytes);
		jit_wasm_free(m);
		free(bytes);
		if (st > status)
			status = st;
	}
	if (!nfiles)
		return usage("validate", stderr, 2);
	return status;
}

/* -- inspect ---------------------------------------------------------- */

static const char *const section_names[13] = {
	"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "data count",
};

static const char *const kind_names[4] = { "func", "table", "memory", "global" };

static void print_types(const uint8_t *t, uint32_t n)
{
	printf("(");
	for (uint32_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", jit_valtype_name(t[i]));
	printf(")");
}

static void print_functype(const struct jit_wasm_functype *ft)
{
	print_types(ft->params, ft->nparams);
	printf(" -> ");
	print_types(ft->results, ft->nresults);
}

static void print_limits(const struct jit_wasm_limits *l)
{
	printf("min %u", l->min);
	if (l->has_max)
		printf(" max %u", l->max);
}

/* "... and N more" once `shown` reaches the cap. */
static bool more(uint32_t i, uint32_t n, uint32_t cap)
{
	if (i < cap)
		return false;
	printf("  ... and %u more (--all lists them)\n", n - i);
	return true;
}

static void inspect_sections(const struct jit_wasm_module *m)
{
	printf("sections (%u):\n", m->nsections);
	for (uint32_t i = 0; i < m->nsections; i++) {
		const struct jit_wasm_section *s = &m->sections[i];

		printf("  %-10s at 0x%08x, %10u bytes", section_names[s->id],
		    s->offset, s->size);
		if (s->id == 0) {
			printf("  \"");
			print_name(stdout, s->name);
			printf("\"");
		}
		printf("\n");
	}
}

static void inspect_functions(const struct jit_wasm_module *m, uint32_t cap)
{
	uint32_t ndef = m->nfuncs - m->nfunc_imports, top[5] = { 0 }, ntop = 0;

	printf("functions: %u defined, %u imported; %llu bytes of code",
	    ndef, m->nfunc_imports, (unsigned long long)m->code_bytes);
	if (ndef)
		printf(", %llu on average", (unsigned long long)m->code_bytes / ndef);
	printf("\n");
	/* The five largest bodies: where the compiler will spend its time. */
	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
		uint32_t len = m->funcs[i].body_len, k;

		if (ntop == 5 && len <= m->funcs[top[4]].body_len)
			continue;
		k = ntop < 5 ? ntop++ : 4;
		for (; k > 0 && m->funcs[top[k - 1]].body_len < len; k--)
			top[k] = top[k - 1];
		top[k] = i;
	}
	for (uint32_t k = 0; k < ntop && k < cap; k++) {
		const struct jit_wasm_func *f = &m->funcs[top[k]];
		struct jit_wasm_name n = jit_wasm_func_name(m, top[k]);

		printf("  largest: func %u, %u bytes, %u locals, operand stack "
		    "%u, nesting %u", top[k], f->body_len, f->nlocals,
		    f->max_operands, f->max_depth);
		if (n.len) {
			printf("  $");
			print_name(stdout, n);
		}
		printf("\n");
	}
}

static void inspect(const char *path, const struct jit_wasm_module *m,
		    uint32_t cap)
{
	uint64_t data_bytes = 0;
	uint32_t i;

	printf("%s: %u bytes, valid WebAssembly 2.0 module", path, m->size);
	if (m->module_name.len) {
		printf(" \"");
		print_name(stdout, m->module_name);
		printf("\"");
	}
	printf("\n");
	inspect_sections(m);
	printf("types (%u):\n", m->ntypes);
	for (i = 0; i < m->ntypes && !more(i, m->ntypes, cap); i++) {
		printf("  %u: ", i);
		print_functype(&m->types[i]);
		printf("\n");
	}
	printf("imports (%u):\n", m->nimports);
	for (i = 0; i < m->nimports && !more(i, m->nimports, cap); i++) {
		const struct jit_wasm_import *im = &m->imports[i];

		printf("  %-6s ", kind_names[im->kind]);
		print_name(stdout, im->module);
		printf(".");
		print_name(stdout, im->name);
		if (im->kind == JIT_EXTERN_FUNC) {
			printf(" ");
			print_functype(&m->types[m->funcs[im->index].type]);
		}
		printf("\n");
	}
	printf("exports (%u):\n", m->nexports);
	for (i = 0; i < m->nexports && !more(i, m->nexports, cap); i++) {
		const struct jit_wasm_export *e = &m->exports[i];

		printf("  %-6s \"", kind_names[e->kind]);
		print_name(stdout, e->name);
		printf("\" = %u\n", e->index);
	}
	inspect_functions(m, cap);
	printf("tables (%u):\n", m->ntables);
	for (i = 0; i < m->ntables && !more(i, m->ntables, cap); i++) {
		printf("  %u: %s, ", i, jit_valtype_name(m->tables[i].elem));
		print_limits(&m->tables[i].limits);
		printf("%s\n", m->tables[i].imported ? " (imported)" : "");
	}
	printf("memories (%u):\n", m->nmemories);
	for (i = 0; i < m->nmemories; i++) {
		printf("  %u: ", i);
		print_limits(&m->memories[i].limits);
		printf(" pages of 64 KiB%s\n",
		    m->memories[i].imported ? " (imported)" : "");
	}
	printf("globals: %u (%u imported)\n", m->nglobals, m->nglobal_imports);
	for (i = 0; i < m->ndatas; i++)
		data_bytes += m->datas[i].len;
	printf("element segments: %u; data segments: %u, %llu bytes\n",
	    m->nelems, m->ndatas, (unsigned long long)data_bytes);
	if (m->start != JIT_NO_START)
		printf("start: func %u\n", m->start);
}

int hosted_cmd_inspect(int argc, char **argv)
{
	struct jit_wasm_module *m;
	const char *path = NULL;
	uint32_t cap = 20;
	uint8_t *bytes;
	int status;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage("inspect", stdout, 0);
		if (!strcmp(argv[i], "--all"))
			cap = UINT32_MAX;
		else if ((argv[i][0] == '-' && argv[i][1]) || path)
			return usage("inspect", stderr, 2);
		else
			path = argv[i];
	}
	if (!path)
		return usage("inspect", stderr, 2);
	if (!(m = load(path, &bytes, &status)))
		return status;
	inspect(path, m, cap);
	jit_wasm_free(m);
	free(bytes);
	return 0;
}
