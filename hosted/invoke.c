/*
 * invoke.c - `k23sim --invoke NAME APP.wasm [ARGS...]`: compile the module,
 * instantiate it, call one exported function with arguments written as in
 * the WebAssembly text format, and print its results one per line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted/cli.h"
#include "jit/jit.h"
#include "kernel/kerr.h"

/* What the kernel-side run needs from the command line. */
struct invoke {
	const char *path;
	const char *name;
	char **args;
	int nargs;
	uint8_t *bytes;
	size_t size;
	int status;
};

/* The text with '_' separators removed (the text format allows them
 * between digits), or NULL if it does not fit. */
static bool strip(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '_')
			continue;
		if (n + 1 >= cap)
			return false;
		out[n++] = *s;
	}
	out[n] = 0;
	return n > 0;
}

/* An integer literal: [+-]digits or [+-]0xhex, in the range of bits. */
static bool parse_int(const char *text, unsigned bits, uint64_t *v)
{
	char buf[80], *end;
	const char *s = buf;
	bool neg = false;
	unsigned long long x;
	uint64_t max = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;

	if (!strip(text, buf, sizeof(buf)))
		return false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno || *end)
		return false;
	if (neg) {
		/* -2^(bits-1) at most */
		if (x > (max >> 1) + 1)
			return false;
		*v = (uint64_t)-(int64_t)x & max;
		return true;
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

/* A float literal: decimal or hex, inf, nan, nan:0xPAYLOAD; its bits. */
static bool parse_float(const char *text, bool f64, uint64_t *bits)
{
	char buf[128], *end;
	const char *s = buf;
	bool neg = false;

	if (!strip(text, buf, sizeof(buf)))
		return false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!strncmp(s, "nan", 3)) {
		uint64_t payload = f64 ? 1ull << 51 : 1ull << 22, max = f64 ? (1ull << 52) - 1 :
								  (1u << 23) - 1;

		if (s[3] == ':') {
			if (strncmp(s + 4, "0x", 2) || !parse_int(s + 4, 64, &payload) ||
			    !payload || payload > max)
				return false;
		} else if (s[3]) {
			return false;
		}
		*bits = f64 ? (neg ? 1ull << 63 : 0) | 0x7ff0000000000000ull | payload :
			      (neg ? 1u << 31 : 0) | 0x7f800000u | payload;
		return true;
	}
	if (!strcmp(s, "inf")) {
		*bits = f64 ? (neg ? 1ull << 63 : 0) | 0x7ff0000000000000ull :
			      (neg ? 1u << 31 : 0) | 0x7f800000u;
		return true;
	}
	if ((*s < '0' || *s > '9'))
		return false;
	errno = 0;
	if (f64) {
		double d = strtod(s, &end);

		if (*end || (errno == ERANGE && isinf(d)))
			return false;
		d = neg ? -d : d;
		memcpy(bits, &d, 8);
	} else {
		float f = strtof(s, &end);
		uint32_t b;

		if (*end || (errno == ERANGE && isinf(f)))
			return false;
		f = neg ? -f : f;
		memcpy(&b, &f, 4);
		*bits = b;
	}
	return true;
}

static void print_value(const struct jit_value *v)
{
	switch (v->type) {
	case JIT_I32:
		printf("%d\n", (int32_t)(uint32_t)v->bits);
		break;
	case JIT_I64:
		printf("%lld\n", (long long)v->bits);
		break;
	case JIT_F32: {
		uint32_t b = (uint32_t)v->bits;
		float f;

		memcpy(&f, &b, 4);
		if (isnan(f))
			printf("%snan:0x%x\n", b >> 31 ? "-" : "", b & 0x7fffff);
		else
			printf("%.9g\n", f);
		break;
	}
	case JIT_F64: {
		double d;

		memcpy(&d, &v->bits, 8);
		if (isnan(d))
			printf("%snan:0x%llx\n", v->bits >> 63 ? "-" : "",
			       (unsigned long long)(v->bits & ((1ull << 52) - 1)));
		else
			printf("%.17g\n", d);
		break;
	}
	default:
		if (v->bits)
			printf("ref:%#llx\n", (unsigned long long)v->bits);
		else
			printf("ref.null\n");
	}
}

/* On hart 0, once the kernel is up. */
static int invoke_main(void *arg)
{
	struct invoke *iv = arg;
	struct jit_value args[64], results[64];
	struct jit_module *mod = NULL;
	struct jit_store *store = NULL;
	struct jit_instance *inst;
	struct jit_wasm_error err;
	struct jit_link_error lerr;
	struct jit_trap_info trap;
	struct jit_extern ex;
	struct jit_sig sig;
	int rc, status = 1;

	rc = jit_module_compile(iv->bytes, iv->size, NULL, &mod, &err);
	if (rc == -K_EINVAL) {
		fprintf(stderr, "%s: %s module at offset 0x%x: %s\n", iv->path,
			err.malformed ? "malformed" : "invalid", err.offset, err.msg);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot compile: %s\n", iv->path, err.msg);
		return 1;
	}
	if ((rc = jit_store_create(&store)) < 0) {
		fprintf(stderr, "k23sim: cannot create a store: %s\n", kerr_str(rc));
		goto out;
	}
	if ((rc = jit_instantiate(store, mod, &inst, &lerr)) < 0) {
		if (lerr.unlinkable) {
			fprintf(stderr, "%s: %s\n", iv->path, lerr.msg);
		} else {
			fprintf(stderr, "%s: instantiation failed: %s\n", iv->path, lerr.msg);
			if (lerr.trap.code != JIT_TRAP_NONE)
				jit_trap_print(&lerr.trap);
		}
		goto out;
	}
	if (jit_instance_export(inst, iv->name, &ex) < 0 || ex.kind != JIT_EXTERN_FUNC) {
		fprintf(stderr, "%s: no exported function '%s'\n", iv->path, iv->name);
		status = 2;
		goto out;
	}
	sig = jit_func_sig(ex.func);
	if ((uint32_t)iv->nargs != sig.nparams || sig.nparams > 64 || sig.nresults > 64) {
		fprintf(stderr, "%s: '%s' takes %u argument%s, %d given\n", iv->path,
			iv->name, sig.nparams, sig.nparams == 1 ? "" : "s", iv->nargs);
		status = 2;
		goto out;
	}
	for (uint32_t i = 0; i < sig.nparams; i++) {
		uint8_t t = sig.params[i];
		bool ok;

		args[i].type = t;
		ok = t == JIT_I32 ? parse_int(iv->args[i], 32, &args[i].bits) :
		     t == JIT_I64 ? parse_int(iv->args[i], 64, &args[i].bits) :
		     t == JIT_F32 || t == JIT_F64 ?
			parse_float(iv->args[i], t == JIT_F64, &args[i].bits) : false;
		if (!ok) {
			fprintf(stderr, "%s: argument %u of '%s': '%s' is not %s %s\n",
				iv->path, i + 1, iv->name, iv->args[i],
				t == JIT_I32 || t == JIT_I64 ? "an" : "a", jit_valtype_name(t));
			status = 2;
			goto out;
		}
	}
	rc = jit_call(ex.func, args, sig.nparams, results, sig.nresults, &trap);
	if (rc == -K_EFAULT) {
		jit_trap_print(&trap);
		status = 134;	/* as wasmtime: 128 + SIGABRT */
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot call '%s': %s\n", iv->path, iv->name, kerr_str(rc));
		goto out;
	}
	for (uint32_t i = 0; i < sig.nresults; i++)
		print_value(&results[i]);
	fflush(stdout);
	status = 0;
out:
	jit_store_destroy(store);
	jit_module_free(mod);
	return status;
}

int hosted_cmd_invoke(const struct hosted_config *cfg, const char *name,
		      int argc, char **argv)
{
	struct invoke iv = { .name = name, .path = argv[0], .args = argv + 1,
			     .nargs = argc - 1 };
	int status;

	if (argc < 1) {
		fprintf(stderr, "k23sim: --invoke needs an APP.wasm (see k23sim --help)\n");
		return 2;
	}
	if (!(iv.bytes = hosted_read_file(iv.path, &iv.size))) {
		fprintf(stderr, "%s: %s\n", iv.path, strerror(errno));
		return 2;
	}
	status = hosted_run(cfg, invoke_main, &iv);
	free(iv.bytes);
	return status < 0 ? 1 : status;
}
