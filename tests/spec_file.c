/*
 * spec_file.c - one wast2json file of the spec suite, in a child process
 * of the driver (spec.h): boot the kernel once, then run every command of
 * the file in a task, through the JIT's public API (jit/jit.h), in a
 * store of its own where the suite's `spectest` module is defined.
 *
 *   module                  compile and instantiate; the last one is the
 *                           current module, a named one ("$M") is kept
 *   register                the named or current instance's exports
 *                           become importable under "as"
 *   action, assert_return   invoke a function or get a global of the
 *                           named or current module; results compared
 *                           bit-exact but for the NaN patterns
 *   assert_trap             the call, or the instantiation, must trap (the
 *                           message need not match: a note with -v)
 *   assert_exhaustion       the call must trap "call stack exhausted"
 *   assert_unlinkable       instantiation fails to link
 *   assert_uninstantiable   instantiation traps (segments, start)
 *   assert_malformed/invalid  decoding rejects the binary as such
 *
 * A module that did not compile or instantiate fails its own command,
 * with one line saying why, and every command that uses it.  Text-format
 * modules are skipped (k23 has no text parser).  Files under simd/ are
 * validation only: their modules are decoded, their execution commands
 * skipped by name.
 *
 * A watchdog task interrupts a call that runs past the call timeout
 * (jit_store_interrupt), so one runaway function costs its command, not
 * the file; the driver's own timeout is the backstop.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosted/cli.h"
#include "hosted/hosted.h"
#include "jit/jit.h"
#include "kernel/kerr.h"
#include "sched/sched.h"
#include "sched/sync.h"
#include "tests/spec.h"

/* Lines a file prints without -v (module failures), at most. */
#define LOUD_MAX	12

/* externref N of the suite is the host reference N + EXTERN_BIAS (never 0,
 * which is null). */
#define EXTERN_BIAS	1

struct smod {
	char *name;		/* "$M", or NULL */
	int line;
	uint8_t *bytes;		/* the module points into them */
	struct jit_module *mod;
	struct jit_instance *inst;	/* NULL: why says why */
	char why[256];
};

struct sfile {
	const char *shown, *dir;
	const struct spec_opts *o;
	int fd;			/* the report pipe */
	json_object *cmds;
	bool exec;		/* false: validation only (simd/) */
	struct jit_store *store;
	struct smod *mods;
	size_t nmods, cap;
	long cur;		/* the current module, or -1 */
	unsigned loud;		/* lines printed without -v */
	int line;		/* the command's .wast line */
	const char *cmd;	/* and its type */

	/* The watchdog: the running call's start (sched_now), 0 if none,
	 * and whether it interrupted that call; under dog_lock. */
	struct sched_mutex dog_lock;
	uint64_t call_start;
	bool fired;
	atomic_bool stop;
};

/* -- Reporting -------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* One record to the driver (spec.h), newline added. */
static void __attribute__((format(printf, 2, 3))) report(struct sfile *f, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	buf[n++] = '\n';
	write_all(f->fd, buf, (size_t)n);
}

static void pass(struct sfile *f)
{
	report(f, "P");
}

static void skip(struct sfile *f, const char *reason)
{
	report(f, "S %s", reason);
}

/*
 * The command failed: count it under category and say why, with -v
 * always, without only when loud (a module that would not load: the one
 * line that explains the failures of the commands using it).
 */
static void __attribute__((format(printf, 4, 5)))
fail(struct sfile *f, const char *category, bool loud, const char *fmt, ...)
{
	va_list ap;

	report(f, "F %s", category);
	if (!f->o->verbose) {
		if (!loud)
			return;
		if (f->loud++ >= LOUD_MAX) {
			if (f->loud == LOUD_MAX + 1)
				printf("  ... (more module failures: -v shows every failure)\n");
			return;
		}
	}
	printf("  FAIL %s:%d: %s: ", f->shown, f->line, f->cmd);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void __attribute__((format(printf, 2, 3))) note(struct sfile *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->o->verbose)
		return;
	printf("  note %s:%d: %s: ", f->shown, f->line, f->cmd);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* -- JSON --------------------------------------------------------------------- */

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* A name for messages: printable ASCII, anything else as \hh. */
static const char *printable(char *buf, size_t size, const char *s, size_t len)
{
	size_t at = 0;

	for (size_t i = 0; i < len && at + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			buf[at++] = (char)c;
		else
			at += (size_t)snprintf(buf + at, size - at, "\\%02x", c);
	}
	buf[at] = 0;
	return buf;
}

/* -- Values -------------------------------------------------------------------- */

enum pattern { PAT_BITS, PAT_NAN_CANONICAL, PAT_NAN_ARITHMETIC, PAT_ANY };

/* A value of the JSON: an argument, or an expected result (a pattern). */
struct sval {
	uint8_t type;
	uint8_t pat;		/* enum pattern */
	uint64_t bits;
};

static int valtype_of(const char *s)
{
	static const struct { const char *name; uint8_t type; } types[] = {
		{ "i32", JIT_I32 }, { "i64", JIT_I64 }, { "f32", JIT_F32 },
		{ "f64", JIT_F64 }, { "funcref", JIT_FUNCREF },
		{ "externref", JIT_EXTERNREF }, { "v128", JIT_V128 },
	};

	for (size_t i = 0; s && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(s, types[i].name))
			return types[i].type;
	return -1;
}

/* Parse v into *out: true, or false with why. */
static bool parse_value(json_object *v, struct sval *out, char *why, size_t whysize)
{
	const char *ts = str(v, "type"), *vs = str(v, "value");
	int type = valtype_of(ts);
	unsigned long long n;
	char *end;

	*out = (struct sval){ .pat = PAT_BITS };
	if (type < 0 || type == JIT_V128) {
		snprintf(why, whysize, "unsupported value type %s", ts ? ts : "(none)");
		return false;
	}
	out->type = (uint8_t)type;
	if (!vs) {
		out->pat = PAT_ANY;	/* assert_trap's results: not compared */
		return true;
	}
	if (type == JIT_FUNCREF || type == JIT_EXTERNREF) {
		if (!strcmp(vs, "null"))
			return true;
		if (type == JIT_FUNCREF) {
			snprintf(why, whysize, "unsupported funcref value \"%s\"", vs);
			return false;
		}
	}
	if ((type == JIT_F32 || type == JIT_F64) && !strncmp(vs, "nan:", 4)) {
		if (!strcmp(vs, "nan:canonical"))
			out->pat = PAT_NAN_CANONICAL;
		else if (!strcmp(vs, "nan:arithmetic"))
			out->pat = PAT_NAN_ARITHMETIC;
		else {
			snprintf(why, whysize, "unknown NaN pattern \"%s\"", vs);
			return false;
		}
		return true;
	}
	errno = 0;
	n = strtoull(vs, &end, 10);
	if (errno || end == vs || *end || *vs == '-' ||
	    ((type == JIT_I32 || type == JIT_F32) && n > UINT32_MAX)) {
		snprintf(why, whysize, "bad %s value \"%s\"", ts, vs);
		return false;
	}
	out->bits = type == JIT_EXTERNREF ? n + EXTERN_BIAS : n;
	return true;
}

static bool value_matches(const struct sval *want, const struct jit_value *got)
{
	uint64_t b = got->bits;

	if (want->type != got->type)
		return false;
	if (want->type == JIT_I32 || want->type == JIT_F32)
		b = (uint32_t)b;
	switch (want->pat) {
	case PAT_ANY:
		return true;
	case PAT_NAN_CANONICAL:
		return want->type == JIT_F32 ? (b & 0x7fffffffu) == 0x7fc00000u :
		       (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
	case PAT_NAN_ARITHMETIC:
		return want->type == JIT_F32 ? (b & 0x7fc00000u) == 0x7fc00000u :
		       (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
	default:
		return b == want->bits;
	}
}

/* "i32:42", "f32:0x3f800000 (1)", "externref:7", "funcref:null" ... */
static void format_value(char *buf, size_t size, uint8_t type, uint8_t pat, uint64_t bits)
{
	const char *tn = jit_valtype_name(type);

	if (pat == PAT_ANY) {
		snprintf(buf, size, "%s:any", tn);
		return;
	}
	if (pat == PAT_NAN_CANONICAL || pat == PAT_NAN_ARITHMETIC) {
		snprintf(buf, size, "%s:nan:%s", tn,
			 pat == PAT_NAN_CANONICAL ? "canonical" : "arithmetic");
		return;
	}
	switch (type) {
	case JIT_I32:
		snprintf(buf, size, "i32:%" PRIu32, (uint32_t)bits);
		break;
	case JIT_I64:
		snprintf(buf, size, "i64:%" PRIu64, bits);
		break;
	case JIT_F32: {
		uint32_t b = (uint32_t)bits;
		float x;

		memcpy(&x, &b, sizeof(x));
		snprintf(buf, size, "f32:0x%08" PRIx32 " (%.9g)", b, (double)x);
		break;
	}
	case JIT_F64: {
		double x;

		memcpy(&x, &bits, sizeof(x));
		snprintf(buf, size, "f64:0x%016" PRIx64 " (%.17g)", bits, x);
		break;
	}
	case JIT_EXTERNREF:
		if (!bits)
			snprintf(buf, size, "externref:null");
		else
			snprintf(buf, size, "externref:%" PRIu64, bits - EXTERN_BIAS);
		break;
	case JIT_FUNCREF:
		if (!bits)
			snprintf(buf, size, "funcref:null");
		else
			snprintf(buf, size, "funcref:%#" PRIx64, bits);
		break;
	default:
		snprintf(buf, size, "%s:%#" PRIx64, tn, bits);
	}
}

/* Append "(v1, v2, ...)" of n values to buf. */
static void format_values(char *buf, size_t size, const struct jit_value *vals,
			  const struct sval *pats, uint32_t n)
{
	size_t at = 0;

	at += (size_t)snprintf(buf, size, "(");
	for (uint32_t i = 0; i < n && at < size; i++) {
		char one[64];

		if (pats)
			format_value(one, sizeof(one), pats[i].type, pats[i].pat, pats[i].bits);
		else
			format_value(one, sizeof(one), vals[i].type, PAT_BITS, vals[i].bits);
		at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", one);
	}
	if (at < size)
		snprintf(buf + at, size - at, ")");
}

/* -- Modules ------------------------------------------------------------------ */

/* The bytes of the command's module file, or NULL with why. */
static uint8_t *module_bytes(struct sfile *f, json_object *c, size_t *size, char *why,
			     size_t whysize)
{
	const char *name = str(c, "filename");
	char path[4096];
	uint8_t *bytes;

	if (!name) {
		snprintf(why, whysize, "no filename");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (!(bytes = hosted_read_file(path, size)))
		snprintf(why, whysize, "cannot read %.120s: %.60s", path, strerror(errno));
	return bytes;
}

/*
 * Compile the command's module into m (bytes and mod): NULL, or the
 * failure's category with m->why.
 */
static const char *compile(struct sfile *f, json_object *c, struct smod *m)
{
	struct jit_wasm_error err = { 0 };
	size_t size = 0;
	int rc;

	if (!(m->bytes = module_bytes(f, c, &size, m->why, sizeof(m->why))))
		return "unreadable module";
	rc = jit_module_compile(m->bytes, size, NULL, &m->mod, &err);
	if (rc == 0)
		return NULL;
	m->mod = NULL;
	if (rc == -K_ENOSYS) {
		snprintf(m->why, sizeof(m->why), "not compiled (ENOSYS): %s", err.msg);
		return "module not compiled (ENOSYS)";
	}
	if (rc == -K_EINVAL) {
		snprintf(m->why, sizeof(m->why), "rejected as %s at offset 0x%x: %s",
			 err.malformed ? "malformed" : "invalid", err.offset, err.msg);
		return "module rejected";
	}
	snprintf(m->why, sizeof(m->why), "jit_module_compile: %s: %s", kerr_str(rc), err.msg);
	return "module not compiled";
}

/* -- The watchdog ------------------------------------------------------------- */

static void call_begin(struct sfile *f)
{
	sched_mutex_lock(&f->dog_lock);
	f->fired = false;
	f->call_start = sched_now() | 1;
	sched_mutex_unlock(&f->dog_lock);
}

/* The call ended; true if the watchdog interrupted it (the store's
 * interrupt is then cleared, before the next call can begin). */
static bool call_end(struct sfile *f)
{
	bool fired;

	sched_mutex_lock(&f->dog_lock);
	f->call_start = 0;
	fired = f->fired;
	if (fired)
		jit_store_clear_interrupt(f->store);
	sched_mutex_unlock(&f->dog_lock);
	return fired;
}

static intptr_t watchdog(void *arg)
{
	struct sfile *f = arg;
	uint64_t limit = (uint64_t)f->o->call_timeout * 1000000000ull;

	while (!atomic_load(&f->stop)) {
		sched_mutex_lock(&f->dog_lock);
		if (f->call_start && !f->fired && sched_now() - f->call_start > limit) {
			f->fired = true;
			jit_store_interrupt(f->store);
		}
		sched_mutex_unlock(&f->dog_lock);
		sched_sleep(100000000ull);
	}
	return 0;
}

/* -- Actions ------------------------------------------------------------------ */

/* What running an action gave. */
struct result {
	int rc;			/* 0 returned, 1 trapped, -1 did not run (why) */
	const char *category;	/* rc -1 */
	struct jit_value *vals;	/* rc 0: nvals results */
	uint32_t nvals;
	struct jit_trap_info trap;	/* rc 1 */
	char why[320];
	char desc[400];		/* the action, for messages */
};

/* The module the command names ("module" or "name"), else the current
 * one: its index, or -1. */
static long find_module(struct sfile *f, const char *name)
{
	if (!name)
		return f->cur;
	for (size_t i = f->nmods; i-- > 0;)
		if (f->mods[i].name && !strcmp(f->mods[i].name, name))
			return (long)i;
	return -1;
}

/* The instance a command acts on, or NULL with r's why and category. */
static struct jit_instance *instance_of(struct sfile *f, const char *name, struct result *r)
{
	long i = find_module(f, name);

	if (i < 0) {
		r->category = "no module";
		snprintf(r->why, sizeof(r->why), "no module %s", name ? name : "defined yet");
		return NULL;
	}
	if (!f->mods[i].inst) {
		r->category = "module unavailable";
		snprintf(r->why, sizeof(r->why), "the module of line %d is unavailable: %s",
			 f->mods[i].line, f->mods[i].why);
		return NULL;
	}
	return f->mods[i].inst;
}

static void run_action(struct sfile *f, json_object *act, struct result *r)
{
	const char *type = str(act, "type"), *mname = str(act, "module");
	json_object *fv, *args = NULL;
	struct jit_instance *inst;
	struct jit_value *argv = NULL;
	struct jit_extern ext;
	const char *field;
	char fbuf[160];
	size_t flen, at;
	uint32_t nargs = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->rc = -1;
	r->category = "bad command";
	if (!type || !json_object_object_get_ex(act, "field", &fv)) {
		snprintf(r->why, sizeof(r->why), "no action");
		return;
	}
	field = json_object_get_string(fv);
	flen = (size_t)json_object_get_string_len(fv);
	at = (size_t)snprintf(r->desc, sizeof(r->desc), "%s%s%s \"%s\"", mname ? mname : "",
			      mname ? " " : "", type, printable(fbuf, sizeof(fbuf), field, flen));
	if (!strcmp(type, "invoke") && json_object_object_get_ex(act, "args", &args)) {
		nargs = (uint32_t)json_object_array_length(args);
		if (!(argv = calloc(nargs + 1, sizeof(*argv)))) {
			snprintf(r->why, sizeof(r->why), "out of memory");
			return;
		}
		for (uint32_t i = 0; i < nargs; i++) {
			struct sval v;

			if (!parse_value(json_object_array_get_idx(args, i), &v, r->why,
					 sizeof(r->why))) {
				r->category = "unsupported value";
				goto out;
			}
			argv[i] = (struct jit_value){ v.type, v.bits };
		}
		if (at < sizeof(r->desc))
			format_values(r->desc + at, sizeof(r->desc) - at, argv, NULL, nargs);
	}
	if (!(inst = instance_of(f, mname, r)))
		goto out;
	if ((rc = jit_instance_export_n(inst, (const uint8_t *)field, flen, &ext)) < 0) {
		r->category = "no export";
		snprintf(r->why, sizeof(r->why), "no export \"%s\": %s", fbuf, kerr_str(rc));
		goto out;
	}
	if (!strcmp(type, "get")) {
		if (ext.kind != JIT_EXTERN_GLOBAL) {
			r->category = "no export";
			snprintf(r->why, sizeof(r->why), "export \"%s\" is not a global", fbuf);
			goto out;
		}
		if (!(r->vals = calloc(1, sizeof(*r->vals))))
			goto out;
		r->vals[0] = jit_global_get(ext.global);
		r->nvals = 1;
		r->rc = 0;
	} else if (!strcmp(type, "invoke")) {
		struct jit_sig sig;

		if (ext.kind != JIT_EXTERN_FUNC) {
			r->category = "no export";
			snprintf(r->why, sizeof(r->why), "export \"%s\" is not a function", fbuf);
			goto out;
		}
		sig = jit_func_sig(ext.func);
		if (!(r->vals = calloc(sig.nresults + 1, sizeof(*r->vals))))
			goto out;
		call_begin(f);
		rc = jit_call(ext.func, argv, nargs, r->vals, sig.nresults, &r->trap);
		if (call_end(f)) {
			r->category = "timed out";
			snprintf(r->why, sizeof(r->why), "interrupted after %u s (rc %s, trap %s)",
				 f->o->call_timeout, rc ? kerr_str(rc) : "0",
				 jit_trap_message(r->trap.code));
		} else if (rc == 0) {
			r->nvals = sig.nresults;
			r->rc = 0;
		} else if (rc == -K_EFAULT) {
			r->rc = 1;
		} else {
			r->category = "call failed";
			snprintf(r->why, sizeof(r->why), "jit_call: %s", kerr_str(rc));
		}
	} else {
		snprintf(r->why, sizeof(r->why), "unknown action type %s", type);
	}
out:
	free(argv);
}

static void result_free(struct result *r)
{
	free(r->vals);
	r->vals = NULL;
}

/* Loose trap message comparison: either is a prefix of the other
 * ("uninitialized element 2" is "uninitialized element"). */
static bool message_matches(const char *want, const char *got)
{
	size_t wl = strlen(want), gl = strlen(got);

	return !strncmp(want, got, wl < gl ? wl : gl);
}

/* -- Commands -------------------------------------------------------------------- */

static struct smod *new_module(struct sfile *f, json_object *c)
{
	const char *name = str(c, "name");
	struct smod *m;

	if (f->nmods == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct smod *n = realloc(f->mods, cap * sizeof(*n));

		if (!n)
			return NULL;
		f->mods = n;
		f->cap = cap;
	}
	m = &f->mods[f->nmods++];
	memset(m, 0, sizeof(*m));
	m->name = name ? strdup(name) : NULL;
	m->line = f->line;
	return m;
}

static void cmd_module(struct sfile *f, json_object *c)
{
	struct jit_link_error err;
	struct smod *m = new_module(f, c);
	const char *category;
	int rc;

	if (!m) {
		fail(f, "out of memory", true, "out of memory");
		return;
	}
	f->cur = (long)f->nmods - 1;
	if ((category = compile(f, c, m))) {
		fail(f, category, true, "%s", m->why);
		return;
	}
	call_begin(f);
	rc = jit_instantiate(f->store, m->mod, &m->inst, &err);
	if (call_end(f)) {
		m->inst = NULL;
		snprintf(m->why, sizeof(m->why), "instantiation interrupted after %u s",
			 f->o->call_timeout);
		fail(f, "timed out", true, "%s", m->why);
		return;
	}
	if (rc < 0) {
		m->inst = NULL;
		snprintf(m->why, sizeof(m->why), "jit_instantiate: %s: %s", kerr_str(rc), err.msg);
		fail(f, rc == -K_EFAULT ? "instantiation trapped" : "not instantiated", true,
		     "%s", m->why);
		return;
	}
	pass(f);
}

static void cmd_register(struct sfile *f, json_object *c)
{
	const char *as = str(c, "as");
	struct result r = { 0 };
	struct jit_instance *inst = instance_of(f, str(c, "name"), &r);
	int rc;

	if (!inst) {
		fail(f, r.category, false, "%s", r.why);
		return;
	}
	if (!as || (rc = jit_store_register(f->store, as, inst)) < 0) {
		fail(f, "register failed", true, "jit_store_register as \"%s\": %s",
		     as ? as : "(none)", as ? kerr_str(rc) : "no name");
		return;
	}
	pass(f);
}

/* action, assert_return, assert_trap, assert_exhaustion on an action. */
static void cmd_action(struct sfile *f, json_object *c, const char *type)
{
	json_object *act, *expected = NULL;
	struct sval *want = NULL;
	struct result r;
	uint32_t nwant = 0;
	char gotbuf[512], wantbuf[512];
	const char *text = str(c, "text");

	if (!json_object_object_get_ex(c, "action", &act)) {
		fail(f, "bad command", true, "no action");
		return;
	}
	run_action(f, act, &r);
	if (r.rc < 0) {
		fail(f, r.category, false, "%s: %s", r.desc, r.why);
		goto out;
	}
	if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
		bool exhaustion = type[7] == 'e';
		const char *got;

		if (r.rc == 0) {
			format_values(gotbuf, sizeof(gotbuf), r.vals, NULL, r.nvals);
			fail(f, "no trap", false, "%s: expected trap \"%s\", got %s", r.desc,
			     text ? text : "", gotbuf);
			goto out;
		}
		got = jit_trap_message(r.trap.code);
		if (exhaustion && r.trap.code != JIT_TRAP_STACK_EXHAUSTED) {
			fail(f, "wrong trap", false, "%s: expected trap \"%s\", got trap \"%s\"",
			     r.desc, jit_trap_message(JIT_TRAP_STACK_EXHAUSTED), got);
			goto out;
		}
		if (text && !message_matches(text, got))
			note(f, "%s: expected trap \"%s\", got trap \"%s\" (counted as passed)",
			     r.desc, text, got);
		pass(f);
		goto out;
	}
	if (r.rc == 1) {
		fail(f, "unexpected trap", false, "%s: trapped \"%s\"", r.desc,
		     jit_trap_message(r.trap.code));
		if (f->o->verbose)
			jit_trap_print(&r.trap);
		goto out;
	}
	if (!strcmp(type, "action")) {
		pass(f);
		goto out;
	}
	/* assert_return */
	if (json_object_object_get_ex(c, "expected", &expected))
		nwant = (uint32_t)json_object_array_length(expected);
	if (!(want = calloc(nwant + 1, sizeof(*want)))) {
		fail(f, "out of memory", false, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < nwant; i++)
		if (!parse_value(json_object_array_get_idx(expected, i), &want[i], r.why,
				 sizeof(r.why))) {
			fail(f, "unsupported value", false, "%s: %s", r.desc, r.why);
			goto out;
		}
	for (uint32_t i = 0; i <= nwant; i++) {
		if (i == nwant) {
			if (nwant == r.nvals) {
				pass(f);
				goto out;
			}
			break;
		}
		if (i >= r.nvals || !value_matches(&want[i], &r.vals[i]))
			break;
	}
	format_values(wantbuf, sizeof(wantbuf), NULL, want, nwant);
	format_values(gotbuf, sizeof(gotbuf), r.vals, NULL, r.nvals);
	fail(f, "wrong result", false, "%s: expected %s, got %s", r.desc, wantbuf, gotbuf);
out:
	free(want);
	result_free(&r);
}

/*
 * assert_unlinkable, assert_uninstantiable, and assert_trap on a module:
 * the module compiles but does not instantiate.  It is kept (modules are
 * freed with the file) but never becomes the current one.
 */
static void cmd_bad_instance(struct sfile *f, json_object *c, const char *type)
{
	bool unlinkable = !strcmp(type, "assert_unlinkable");
	const char *text = str(c, "text"), *category;
	struct jit_link_error err;
	struct jit_instance *inst = NULL;
	struct smod *m = new_module(f, c);
	int rc;

	if (!m) {
		fail(f, "out of memory", true, "out of memory");
		return;
	}
	free(m->name);
	m->name = NULL;		/* never found by name */
	if ((category = compile(f, c, m))) {
		fail(f, category, true, "%s", m->why);
		return;
	}
	call_begin(f);
	rc = jit_instantiate(f->store, m->mod, &inst, &err);
	if (call_end(f)) {
		fail(f, "timed out", false, "instantiation interrupted after %u s",
		     f->o->call_timeout);
		return;
	}
	if (rc == 0) {
		fail(f, "instantiated", false, "expected \"%s\", but the module instantiated",
		     text ? text : "");
		return;
	}
	if (unlinkable ? !err.unlinkable : rc != -K_EFAULT) {
		fail(f, unlinkable ? "not unlinkable" : "not a trap", false,
		     "expected \"%s\", got %s: %s", text ? text : "", kerr_str(rc), err.msg);
		return;
	}
	if (text && !message_matches(text, unlinkable ? err.msg : jit_trap_message(err.trap.code)))
		note(f, "expected \"%s\", got \"%s\" (counted as passed)", text, err.msg);
	pass(f);
}

/* -- Validation only ------------------------------------------------------------ */

enum verdict { VALID, MALFORMED, INVALID, UNREADABLE };

static enum verdict check(struct sfile *f, json_object *c, struct jit_wasm_error *err)
{
	struct jit_wasm_module *m = NULL;
	size_t size = 0;
	uint8_t *bytes = module_bytes(f, c, &size, err->msg, sizeof(err->msg));
	int rc;

	if (!bytes)
		return UNREADABLE;
	rc = jit_wasm_decode(bytes, size, &hosted_heap, &m, err);
	jit_wasm_free(m);
	free(bytes);
	if (rc == 0)
		return VALID;
	return err->malformed ? MALFORMED : INVALID;
}

static const char *const verdicts[] = { "valid", "malformed", "invalid", "unreadable" };

/* assert_malformed / assert_invalid on a binary module. */
static void cmd_reject(struct sfile *f, json_object *c, const char *type)
{
	bool want_malformed = type[7] == 'm';
	const char *text = str(c, "text");
	struct jit_wasm_error err = { 0 };
	enum verdict got = check(f, c, &err);

	/*
	 * wast2json writes no data count section for a text module that uses
	 * data.drop or memory.init without data segments: the binary format
	 * calls the result malformed (spec 5.5.16) where the text test expects
	 * it invalid.  Either is a rejection for the reason the test is about.
	 */
	if (!want_malformed && got == MALFORMED && !strcmp(err.msg, "data count section required"))
		got = INVALID;
	if (got == (want_malformed ? MALFORMED : INVALID)) {
		pass(f);
		if (f->o->verbose)
			printf("  ok %s:%d: %s (expected \"%s\")\n", f->shown, f->line, err.msg,
			       text ? text : "");
		return;
	}
	if (got == VALID)
		fail(f, "not rejected", true, "expected a %s module (\"%s\"), but the module is valid",
		     want_malformed ? "malformed" : "invalid", text ? text : "");
	else
		fail(f, "rejected differently", true,
		     "expected a %s module (\"%s\"), but the module is %s (offset 0x%x: %s)",
		     want_malformed ? "malformed" : "invalid", text ? text : "", verdicts[got],
		     err.offset, err.msg);
}

/* module, assert_unlinkable, assert_uninstantiable without execution:
 * the module must validate. */
static void cmd_validate(struct sfile *f, json_object *c, const char *type)
{
	struct jit_wasm_error err = { 0 };
	enum verdict got = check(f, c, &err);

	if (got != VALID) {
		fail(f, "module rejected", true, "expected a valid module, but it is %s (offset 0x%x: %s)",
		     verdicts[got], err.offset, err.msg);
		return;
	}
	if (strcmp(type, "module"))
		skip(f, type);		/* valid; the linking is not done here */
	else
		pass(f);
}

/* -- A file ---------------------------------------------------------------------- */

static void run_command(struct sfile *f, json_object *c)
{
	const char *type = str(c, "type"), *mtype = str(c, "module_type");
	json_object *lv;
	char reason[64];

	f->line = json_object_object_get_ex(c, "line", &lv) ? json_object_get_int(lv) : 0;
	f->cmd = type = type ? type : "?";
	report(f, "L %d", f->line);
	if (mtype && strcmp(mtype, "binary")) {
		snprintf(reason, sizeof(reason), "%s text", type);
		skip(f, reason);
		return;
	}
	if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid")) {
		cmd_reject(f, c, type);
		return;
	}
	if (!f->exec) {
		if (!strcmp(type, "module") || !strncmp(type, "assert_un", 9))
			cmd_validate(f, c, type);
		else
			skip(f, type);
		return;
	}
	if (!strcmp(type, "module"))
		cmd_module(f, c);
	else if (!strcmp(type, "register"))
		cmd_register(f, c);
	else if (!strcmp(type, "action") || !strcmp(type, "assert_return") ||
		 !strcmp(type, "assert_exhaustion") ||
		 (!strcmp(type, "assert_trap") && json_object_object_get_ex(c, "action", NULL)))
		cmd_action(f, c, type);
	else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable") ||
		 !strcmp(type, "assert_trap"))
		cmd_bad_instance(f, c, type);
	else
		skip(f, type);
}

static void run_commands(struct sfile *f)
{
	for (size_t i = 0; i < json_object_array_length(f->cmds); i++)
		run_command(f, json_object_array_get_idx(f->cmds, i));
}

/* -- spectest --------------------------------------------------------------------- */

/* The suite's host functions print; these stay quiet. */
static void sp_print(void *ctx, struct jit_instance *caller) {}
static void sp_print_i32(void *ctx, struct jit_instance *caller, uint32_t a) {}
static void sp_print_i64(void *ctx, struct jit_instance *caller, uint64_t a) {}
static void sp_print_f32(void *ctx, struct jit_instance *caller, float a) {}
static void sp_print_f64(void *ctx, struct jit_instance *caller, double a) {}
static void sp_print_i32_f32(void *ctx, struct jit_instance *caller, uint32_t a, float b) {}
static void sp_print_f64_f64(void *ctx, struct jit_instance *caller, double a, double b) {}

/* Define the module `spectest` of the suite's reference interpreter in
 * the store: 0 or a -K_* with the failing step in *what. */
static int define_spectest(struct jit_store *s, const char **what)
{
	static const uint8_t i32[] = { JIT_I32 }, i64[] = { JIT_I64 }, f32[] = { JIT_F32 },
		f64[] = { JIT_F64 }, i32_f32[] = { JIT_I32, JIT_F32 },
		f64_f64[] = { JIT_F64, JIT_F64 };
	static const struct { const char *name; void *fn; const uint8_t *params; uint32_t n; }
	funcs[] = {
		{ "print", (void *)sp_print, NULL, 0 },
		{ "print_i32", (void *)sp_print_i32, i32, 1 },
		{ "print_i64", (void *)sp_print_i64, i64, 1 },
		{ "print_f32", (void *)sp_print_f32, f32, 1 },
		{ "print_f64", (void *)sp_print_f64, f64, 1 },
		{ "print_i32_f32", (void *)sp_print_i32_f32, i32_f32, 2 },
		{ "print_f64_f64", (void *)sp_print_f64_f64, f64_f64, 2 },
	};
	float f32v = 666.6f;
	double f64v = 666.6;
	uint32_t f32bits;
	uint64_t f64bits;
	struct { const char *name; struct jit_value v; } globals[] = {
		{ "global_i32", { JIT_I32, 666 } },
		{ "global_i64", { JIT_I64, 666 } },
		{ "global_f32", { JIT_F32, 0 } },
		{ "global_f64", { JIT_F64, 0 } },
	};
	struct jit_extern ext;
	int rc;

	memcpy(&f32bits, &f32v, sizeof(f32bits));
	memcpy(&f64bits, &f64v, sizeof(f64bits));
	globals[2].v.bits = f32bits;
	globals[3].v.bits = f64bits;
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct jit_sig sig = { funcs[i].params, NULL, funcs[i].n, 0 };

		*what = funcs[i].name;
		ext.kind = JIT_EXTERN_FUNC;
		if ((rc = jit_func_new_host(s, &sig, funcs[i].fn, NULL, &ext.func)) < 0 ||
		    (rc = jit_store_define(s, "spectest", funcs[i].name, ext)) < 0)
			return rc;
	}
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		*what = globals[i].name;
		ext.kind = JIT_EXTERN_GLOBAL;
		if ((rc = jit_global_new(s, globals[i].v.type, false, globals[i].v, &ext.global)) < 0 ||
		    (rc = jit_store_define(s, "spectest", globals[i].name, ext)) < 0)
			return rc;
	}
	*what = "table";
	ext.kind = JIT_EXTERN_TABLE;
	if ((rc = jit_table_new(s, JIT_FUNCREF, 10, 20, 0, &ext.table)) < 0 ||
	    (rc = jit_store_define(s, "spectest", "table", ext)) < 0)
		return rc;
	*what = "memory";
	ext.kind = JIT_EXTERN_MEMORY;
	if ((rc = jit_memory_new(s, 1, 2, &ext.memory)) < 0 ||
	    (rc = jit_store_define(s, "spectest", "memory", ext)) < 0)
		return rc;
	return 0;
}

/* -- In the kernel ------------------------------------------------------------------- */

/* The task that runs the file: a store, the commands, teardown. */
static intptr_t runner(void *arg)
{
	struct sfile *f = arg;
	const char *what = "";
	int rc;

	if ((rc = jit_store_create(&f->store)) < 0) {
		printf("  FAIL %s: jit_store_create: %s\n", f->shown, kerr_str(rc));
		return 1;
	}
	if ((rc = define_spectest(f->store, &what)) < 0) {
		printf("  FAIL %s: defining spectest.%s: %s\n", f->shown, what, kerr_str(rc));
		return 1;
	}
	run_commands(f);
	jit_store_destroy(f->store);
	f->store = NULL;
	for (size_t i = 0; i < f->nmods; i++) {
		jit_module_free(f->mods[i].mod);
		free(f->mods[i].bytes);
		free(f->mods[i].name);
	}
	free(f->mods);
	return 0;
}

static int spec_init(void *arg)
{
	struct sfile *f = arg;
	struct sched_attr ra = { .name = "spec", .stack_size = SCHED_STACK_MAX, .hart = -1 };
	struct sched_attr wa = { .name = "spec-watchdog", .stack_size = 64u << 10, .hart = -1 };
	sched_task_t run, dog;
	intptr_t status = 1;
	int rc;

	sched_mutex_init(&f->dog_lock);
	if ((rc = sched_spawn(&dog, watchdog, f, &wa)) < 0) {
		printf("  FAIL %s: spawning the watchdog: %s\n", f->shown, kerr_str(rc));
		return 1;
	}
	if ((rc = sched_spawn(&run, runner, f, &ra)) < 0)
		printf("  FAIL %s: spawning the runner: %s\n", f->shown, kerr_str(rc));
	else
		sched_join(run, &status);
	atomic_store(&f->stop, true);
	sched_join(dog, NULL);
	return (int)status;
}

int spec_file_run(const char *path, const char *shown, const struct spec_opts *opts,
		  int report_fd)
{
	static struct sfile f;
	json_object *root = json_object_from_file(path);
	char dirbuf[4096], parent[4096];
	struct hosted_config cfg;
	int status = 0;

	f.shown = shown;
	f.o = opts;
	f.fd = report_fd;
	f.cur = -1;
	f.cmd = "file";
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	f.dir = dirname(dirbuf);
	snprintf(parent, sizeof(parent), "%s", f.dir);
	f.exec = strcmp(basename(parent), "simd") != 0;
	if (!root || !json_object_object_get_ex(root, "commands", &f.cmds) ||
	    !json_object_is_type(f.cmds, json_type_array)) {
		report(&f, "T 1");
		report(&f, "L 0");
		fail(&f, "unreadable file", true, "cannot read the commands of %s", path);
		report(&f, "D");
		json_object_put(root);
		return 0;
	}
	report(&f, "T %zu", json_object_array_length(f.cmds));
	if (!f.exec) {
		run_commands(&f);
	} else {
		hosted_config_default(&cfg);
		cfg.harts = opts->harts;
		cfg.memory = opts->memory;
		status = hosted_run(&cfg, spec_init, &f);
	}
	if (status == 0)
		report(&f, "D");
	json_object_put(root);
	fflush(stdout);
	return status;
}
