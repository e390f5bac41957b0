/*
 * invoke.c - `k23sim --invoke NAME APP.wasm [ARGS...]`: call one exported
 * function of an instantiated app (hosted/app.c) with arguments written as
 * in the WebAssembly text format, and print its results one per line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted/cli.h"
#include "jit/jit.h"
#include "kernel/kerr.h"

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

int hosted_invoke(struct jit_instance *inst, const char *path, const char *name,
		  char **argv, int argc)
{
	struct jit_value args[64], results[64];
	struct jit_trap_info trap;
	struct jit_extern ex;
	struct jit_sig sig;
	int rc;

	if (jit_instance_export(inst, name, &ex) < 0 || ex.kind != JIT_EXTERN_FUNC) {
		fprintf(stderr, "%s: no exported function '%s'\n", path, name);
		return 2;
	}
	sig = jit_func_sig(ex.func);
	if ((uint32_t)argc != sig.nparams || sig.nparams > 64 || sig.nresults > 64) {
		fprintf(stderr, "%s: '%s' takes %u argument%s, %d given\n", path,
			name, sig.nparams, sig.nparams == 1 ? "" : "s", argc);
		return 2;
	}
	for (uint32_t i = 0; i < sig.nparams; i++) {
		uint8_t t = sig.params[i];
		bool ok;

		args[i].type = t;
		ok = t == JIT_I32 ? parse_int(argv[i], 32, &args[i].bits) :
		     t == JIT_I64 ? parse_int(argv[i], 64, &args[i].bits) :
		     t == JIT_F32 || t == JIT_F64 ?
			parse_float(argv[i], t == JIT_F64, &args[i].bits) : false;
		if (!ok) {
			fprintf(stderr, "%s: argument %u of '%s': '%s' is not %s %s\n",
				path, i + 1, name, argv[i],
				t == JIT_I32 || t == JIT_I64 ? "an" : "a", jit_valtype_name(t));
			return 2;
		}
	}
	rc = jit_call(ex.func, args, sig.nparams, results, sig.nresults, &trap);
	if (rc == -K_EFAULT)
		return hosted_trap_status(&trap);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot call '%s': %s\n", path, name, kerr_str(rc));
		return 1;
	}
	for (uint32_t i = 0; i < sig.nresults; i++)
		print_value(&results[i]);
	fflush(stdout);
	return 0;
}
