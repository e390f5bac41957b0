/*
 * names.c - the "name" custom section (spec 7.4): the module's, the
 * functions' and the locals' names, kept for backtraces and profiles.
 */
#include "jit/wasm_internal.h"

/*
 * Errors in a custom section must not make the module invalid (spec 7.4),
 * so this parser reports failure by returning false with no error
 * recorded, and the caller then drops whatever names it had found.
 */
static bool nm_u32(struct jit_rd *r, uint32_t *v)
{
	uint32_t shift = 0, x = 0;

	for (int i = 0; i < 5; i++) {
		uint8_t b;

		if (r->p >= r->end)
			return false;
		b = *r->p++;
		if (i == 4 && b > 0x0f)
			return false;
		x |= (uint32_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

static bool nm_name(struct jit_rd *r, struct jit_wasm_name *n)
{
	uint32_t len;

	if (!nm_u32(r, &len) || (size_t)(r->end - r->p) < len ||
	    !jit_wasm_utf8_ok(r->p, len))
		return false;
	n->ptr = r->p;
	n->len = len;
	r->p += len;
	return true;
}

static bool nm_funcs(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	uint32_t n, idx, prev = 0;

	if (!nm_u32(r, &n) || n > (size_t)(r->end - r->p) / 2)
		return false;
	if (!(m->func_names = jit_wasm_alloc(d, sizeof(*m->func_names) *
	    (m->nfuncs + 1), r->p)))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct jit_wasm_name name;

		if (!nm_u32(r, &idx) || !nm_name(r, &name) ||
		    idx >= m->nfuncs || (i && idx <= prev))
			return false;
		m->func_names[idx] = name;
		prev = idx;
	}
	return true;
}

static bool nm_locals(struct jit_wasm_decoder *d, struct jit_rd *r)
{
	struct jit_wasm_module *m = d->m;
	struct jit_rd scan = *r;
	uint32_t n, total = 0, func, prevf = 0, k = 0;

	/* Count first, so the names go into one exact allocation. */
	if (!nm_u32(&scan, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nl, idx;
		struct jit_wasm_name name;

		if (!nm_u32(&scan, &func) || !nm_u32(&scan, &nl))
			return false;
		for (uint32_t j = 0; j < nl; j++)
			if (!nm_u32(&scan, &idx) || !nm_name(&scan, &name))
				return false;
		total += nl;
	}
	if (!(m->local_names = jit_wasm_alloc(d, sizeof(*m->local_names) *
	    total, r->p)))
		return false;
	nm_u32(r, &n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nl, idx, previ = 0;

		nm_u32(r, &func);
		nm_u32(r, &nl);
		if (func >= m->nfuncs || (i && func <= prevf))
			return false;
		for (uint32_t j = 0; j < nl; j++, k++) {
			struct jit_wasm_local_name *ln = &m->local_names[k];

			nm_u32(r, &idx);
			nm_name(r, &ln->name);
			if (j && idx <= previ)
				return false;
			ln->func = func;
			ln->local = idx;
			previ = idx;
		}
		prevf = func;
	}
	m->nlocal_names = total;
	return true;
}

static bool nm_section(struct jit_wasm_decoder *d, const uint8_t *p,
		       uint32_t size)
{
	struct jit_rd r = { p, p + size };
	int last = -1;

	while (r.p < r.end) {
		uint8_t id = *r.p++;
		uint32_t len;
		struct jit_rd sub;
		bool ok = true;

		if ((int)id <= last || !nm_u32(&r, &len) ||
		    (size_t)(r.end - r.p) < len)
			return false;
		last = id;
		sub = (struct jit_rd){ r.p, r.p + len };
		r.p += len;
		if (id == 0)
			ok = nm_name(&sub, &d->m->module_name);
		else if (id == 1)
			ok = nm_funcs(d, &sub);
		else if (id == 2)
			ok = nm_locals(d, &sub);
		else
			continue;
		if (!ok || sub.p != sub.end)
			return false;
	}
	return true;
}

void jit_wasm_read_names(struct jit_wasm_decoder *d, const uint8_t *p,
			 uint32_t size)
{
	struct jit_wasm_module *m = d->m;

	if (nm_section(d, p, size) || d->oom)
		return;
	jit_wasm_release(d, m->func_names);
	jit_wasm_release(d, m->local_names);
	m->func_names = NULL;
	m->local_names = NULL;
	m->nlocal_names = 0;
	m->module_name = (struct jit_wasm_name){ NULL, 0 };
}

const char *jit_wasm_name_text(char *buf, size_t size, struct jit_wasm_name n)
{
	size_t i;

	for (i = 0; i < n.len && i + 1 < size; i++)
		buf[i] = n.ptr[i] >= 0x20 && n.ptr[i] < 0x7f ? (char)n.ptr[i] : '?';
	buf[i] = 0;
	return buf;
}

const char *jit_wasm_func_label(const struct jit_wasm_module *m, uint32_t func,
				char *buf, size_t size)
{
	struct jit_wasm_name fname = jit_wasm_func_name(m, func);
	char fbuf[80], mbuf[48];

	ksnprintf(buf, size, "func[%u]%s%s%s%s%s", func, fname.len ? " " : "",
		  jit_wasm_name_text(fbuf, sizeof(fbuf), fname),
		  m->module_name.len ? " in \"" : "",
		  jit_wasm_name_text(mbuf, sizeof(mbuf), m->module_name),
		  m->module_name.len ? "\"" : "");
	return buf;
}

struct jit_wasm_name jit_wasm_func_name(const struct jit_wasm_module *m,
					uint32_t func)
{
	if (!m->func_names || func >= m->nfuncs)
		return (struct jit_wasm_name){ NULL, 0 };
	return m->func_names[func];
}

struct jit_wasm_name jit_wasm_local_name(const struct jit_wasm_module *m,
					 uint32_t func, uint32_t local)
{
	uint32_t lo = 0, hi = m->nlocal_names;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct jit_wasm_local_name *ln = &m->local_names[mid];

		if (ln->func == func && ln->local == local)
			return ln->name;
		if (ln->func < func || (ln->func == func && ln->local < local))
			lo = mid + 1;
		else
			hi = mid;
	}
	return (struct jit_wasm_name){ NULL, 0 };
}
