/*
 * wasi.c - the app's WASI state, the host functions that wasm calls, and
 * the calls that touch neither files nor sockets: arguments, environment,
 * clocks, randomness, the process and the scheduler, poll_oneoff.
 */
#include "internal.h"
#include "kernel/kheap.h"
#include "sched/sched.h"

static const char *const errno_names[WASI_NERRNO] = {
#define X(name) #name,
	WASI_ERRNOS(X)
#undef X
};

const char *wasi_errno_name(unsigned err)
{
	return err < WASI_NERRNO ? errno_names[err] : "?";
}

static const uint8_t kerr_to_wasi[K_NERR] = {
	[K_OK] = WASI_ESUCCESS,
#define K23_ERR(name, wasi, msg) [K_##name] = WASI_E##wasi,
#include "kernel/errors.def"
#undef K23_ERR
};

unsigned wasi_errno(int kerr)
{
	return kerr <= 0 && -kerr < K_NERR ? kerr_to_wasi[-kerr] : WASI_EIO;
}

unsigned wasi_put_u32(const struct wasi_call *c, uint32_t off, uint32_t v)
{
	void *p = wasi_ptr(c, off, 4);

	if (!p)
		return WASI_EFAULT;
	put_u32(p, v);
	return 0;
}

unsigned wasi_put_u64(const struct wasi_call *c, uint32_t off, uint64_t v)
{
	void *p = wasi_ptr(c, off, 8);

	if (!p)
		return WASI_EFAULT;
	put_u64(p, v);
	return 0;
}

/* -- Descriptors ------------------------------------------------------------ */

uint64_t wasi_rights_of(uint8_t type)
{
	switch (type) {
	case HAL_FT_DIR:	return RIGHTS_DIR;
	case HAL_FT_FILE:	return RIGHTS_FILE;
	case HAL_FT_STREAM:
	case HAL_FT_DGRAM:	return RIGHTS_SOCKET;
	default:		return RIGHTS_STREAM;
	}
}

struct wasi_fd *wasi_fd_get(struct wasi *w, uint32_t fd, uint64_t need, unsigned *err)
{
	struct wasi_fd *f;

	if (fd >= w->nfds || !w->fds[fd].used) {
		*err = WASI_EBADF;
		return NULL;
	}
	f = &w->fds[fd];
	if ((f->base & need) != need) {
		*err = WASI_ENOTCAPABLE;
		return NULL;
	}
	return f;
}

int64_t wasi_fd_alloc(struct wasi *w)
{
	struct wasi_fd *grown;
	uint32_t n;

	for (uint32_t i = 0; i < w->nfds; i++)
		if (!w->fds[i].used)
			return i;
	if (w->nfds == WASI_FD_MAX)
		return -1;
	n = w->nfds ? MIN(w->nfds * 2, WASI_FD_MAX) : 8;
	if (!(grown = kmalloc(n * sizeof(*grown))))
		return -1;
	kmemset(grown, 0, n * sizeof(*grown));
	if (w->nfds)
		kmemcpy(grown, w->fds, w->nfds * sizeof(*grown));
	kfree(w->fds);
	w->fds = grown;
	n = w->nfds;
	w->nfds = MIN(w->nfds ? w->nfds * 2 : 8, WASI_FD_MAX);
	return n;
}

void wasi_fd_release(struct wasi_fd *f)
{
	kfree(f->preopen);
	kmemset(f, 0, sizeof(*f));
}

/* -- The app ------------------------------------------------------------------ */

/* Strings back to back with their NULs: *out, *len; false past 4 GiB. */
static bool pack(const char *const *v, size_t n, char **out, uint32_t *len)
{
	uint64_t total = 0;
	char *p;

	for (size_t i = 0; i < n; i++)
		total += kstrlen(v[i]) + 1;
	if (total > UINT32_MAX / 2 || n > UINT32_MAX / 8)
		return false;
	if (!(p = kmalloc(total ? total : 1)))
		return false;
	*out = p;
	*len = (uint32_t)total;
	for (size_t i = 0; i < n; i++) {
		size_t l = kstrlen(v[i]) + 1;

		kmemcpy(p, v[i], l);
		p += l;
	}
	return true;
}

static int add_fd(struct wasi *w, hal_fd_t fd, const char *preopen)
{
	struct hal_stat st = { .type = HAL_FT_UNKNOWN };
	int64_t n = wasi_fd_alloc(w);
	struct wasi_fd *f;

	if (n < 0)
		return -K_ENOMEM;
	f = &w->fds[n];
	hal_fd_stat(fd, &st);
	f->used = true;
	f->fd = fd;
	f->type = st.type;
	f->base = wasi_rights_of(st.type);
	f->inheriting = st.type == HAL_FT_DIR ? RIGHTS_DIR | RIGHTS_FILE : 0;
	if (preopen) {
		size_t l = kstrlen(preopen) + 1;

		if (!(f->preopen = kmalloc(l)))
			return -K_ENOMEM;
		kmemcpy(f->preopen, preopen, l);
	}
	return 0;
}

int wasi_create(const struct wasi_config *cfg, struct wasi **out)
{
	struct wasi *w = kmalloc(sizeof(*w));
	int err = -K_ENOMEM;

	if (!w)
		return -K_ENOMEM;
	kmemset(w, 0, sizeof(*w));
	w->trace_fd = cfg->trace_fd;
	if (!pack(cfg->argv, cfg->argc, &w->args, &w->args_len) ||
	    !pack(cfg->env, cfg->envc, &w->env, &w->env_len)) {
		err = -K_E2BIG;
		goto fail;
	}
	w->argc = (uint32_t)cfg->argc;
	w->envc = (uint32_t)cfg->envc;
	for (int i = 0; i < 3; i++)
		if ((err = add_fd(w, cfg->stdio[i], NULL)) < 0)
			goto fail;
	for (size_t i = 0; i < cfg->npreopens; i++) {
		const struct wasi_preopen *p = &cfg->preopens[i];

		if ((err = add_fd(w, p->fd, p->name)) < 0)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	wasi_destroy(w);
	return err;
}

void wasi_destroy(struct wasi *w)
{
	if (!w)
		return;
	for (uint32_t i = 3; i < w->nfds; i++)
		if (w->fds[i].used) {
			hal_fd_close(w->fds[i].fd);
			wasi_fd_release(&w->fds[i]);
		}
	for (uint32_t i = 0; i < w->nfds && i < 3; i++)
		wasi_fd_release(&w->fds[i]);
	kfree(w->fds);
	kfree(w->args);
	kfree(w->env);
	kfree(w);
}

/* -- Host functions ------------------------------------------------------------ */

enum wasi_call_id {
#define WASI(name, n, types) WASI_CALL_##name,
#include "calls.def"
#undef WASI
	WASI_NCALLS
};

struct wasi_call_def {
	const char *name;
	unsigned (*fn)(struct wasi_call *c, const uint64_t *a);
	uint8_t nparams;
	const char *sig;	/* "(I, P, L)": the parameter types */
};

#define STR(...) #__VA_ARGS__
static const struct wasi_call_def calls[WASI_NCALLS] = {
#define WASI(name, n, types) [WASI_CALL_##name] = { #name, wasi_##name, n, STR types },
#include "calls.def"
#undef WASI
};

/* Up to 48 bytes of a path, with quotes and escapes, as strace shows it. */
static size_t trace_path(const struct wasi_call *c, uint64_t ptr, uint64_t len, char *out,
			 size_t size)
{
	const uint8_t *p = wasi_ptr(c, (uint32_t)ptr, (uint32_t)len);
	size_t n = 0;

	if (!p)
		return (size_t)ksnprintf(out, size, "%llu", (unsigned long long)(uint32_t)ptr);
	n += (size_t)ksnprintf(out + n, size - MIN(n, size), "\"");
	for (uint32_t i = 0; i < (uint32_t)len && i < 48; i++)
		n += (size_t)ksnprintf(out + MIN(n, size), size - MIN(n, size),
				       p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\' ?
				       "%c" : "\\x%02x", p[i]);
	n += (size_t)ksnprintf(out + MIN(n, size), size - MIN(n, size), "%s\"",
			       (uint32_t)len > 48 ? "..." : "");
	return n;
}

static void trace(const struct wasi_call *c, unsigned id, const uint64_t *a, unsigned err)
{
	const struct wasi_call_def *d = &calls[id];
	char line[512];
	size_t n = 0;
	const char *t = d->sig;

#define LEFT	(sizeof(line) - MIN(n, sizeof(line) - 1))
#define AT	(line + MIN(n, sizeof(line) - 1))
	n += (size_t)ksnprintf(AT, LEFT, "wasi: %s(", d->name);
	for (unsigned i = 0; i < d->nparams; i++, t++) {
		while (*t != 'I' && *t != 'L' && *t != 'P')
			t++;
		if (i)
			n += (size_t)ksnprintf(AT, LEFT, ", ");
		if (*t == 'P' && i + 1 < d->nparams)
			n += trace_path(c, a[i], a[i + 1], AT, LEFT);
		else
			n += (size_t)ksnprintf(AT, LEFT, "%llu", (unsigned long long)
					       (*t == 'L' ? a[i] : (uint32_t)a[i]));
	}
	if (id == WASI_CALL_proc_exit)
		n += (size_t)ksnprintf(AT, LEFT, ")\n");
	else
		n += (size_t)ksnprintf(AT, LEFT, ") = %u %s\n", err, wasi_errno_name(err));
#undef LEFT
#undef AT
	n = MIN(n, sizeof(line) - 1);
	line[n - 1] = '\n';	/* a cut line still ends */
	hal_fd_write(c->w->trace_fd, line, n);
}

static uint32_t dispatch(struct wasi *w, struct jit_instance *caller, unsigned id,
			 const uint64_t *a)
{
	struct wasi_call c = { .w = w, .caller = caller };
	unsigned err;

	c.mem = jit_instance_memory(caller, &c.size);
	if (w->trace_fd >= 0 && id == WASI_CALL_proc_exit)
		trace(&c, id, a, 0);
	err = calls[id].fn(&c, a);
	if (w->trace_fd >= 0)
		trace(&c, id, a, err);
	return err;
}

/*
 * One C entry per call with the wasm signature's own parameters (host
 * functions are called like wasm functions: jit.h), gathering them into
 * an array for the implementation.
 */
#define I uint32_t
#define L uint64_t
#define P uint32_t
#define PARAMS0()
#define PARAMS1(t0) , t0 a0
#define PARAMS2(t0, t1) PARAMS1(t0), t1 a1
#define PARAMS3(t0, t1, t2) PARAMS2(t0, t1), t2 a2
#define PARAMS4(t0, t1, t2, t3) PARAMS3(t0, t1, t2), t3 a3
#define PARAMS5(t0, t1, t2, t3, t4) PARAMS4(t0, t1, t2, t3), t4 a4
#define PARAMS6(t0, t1, t2, t3, t4, t5) PARAMS5(t0, t1, t2, t3, t4), t5 a5
#define PARAMS7(t0, t1, t2, t3, t4, t5, t6) PARAMS6(t0, t1, t2, t3, t4, t5), t6 a6
#define PARAMS9(t0, t1, t2, t3, t4, t5, t6, t7, t8) \
	PARAMS7(t0, t1, t2, t3, t4, t5, t6), t7 a7, t8 a8
#define VALUES0()
#define VALUES1(t0) , a0
#define VALUES2(t0, t1) VALUES1(t0), a1
#define VALUES3(t0, t1, t2) VALUES2(t0, t1), a2
#define VALUES4(t0, t1, t2, t3) VALUES3(t0, t1, t2), a3
#define VALUES5(t0, t1, t2, t3, t4) VALUES4(t0, t1, t2, t3), a4
#define VALUES6(t0, t1, t2, t3, t4, t5) VALUES5(t0, t1, t2, t3, t4), a5
#define VALUES7(t0, t1, t2, t3, t4, t5, t6) VALUES6(t0, t1, t2, t3, t4, t5), a6
#define VALUES9(t0, t1, t2, t3, t4, t5, t6, t7, t8) \
	VALUES7(t0, t1, t2, t3, t4, t5, t6), a7, a8
#define WASI(name, n, types)						\
	static uint32_t entry_##name(void *ctx, struct jit_instance *caller \
				     PARAMS##n types)			\
	{								\
		const uint64_t a[] = { 0 VALUES##n types };		\
		return dispatch(ctx, caller, WASI_CALL_##name, a + 1);	\
	}
#include "calls.def"
#undef WASI
#undef I
#undef L
#undef P

static void *const entries[WASI_NCALLS] = {
#define WASI(name, n, types) [WASI_CALL_##name] = (void *)entry_##name,
#include "calls.def"
#undef WASI
};

int wasi_define(struct wasi *w, struct jit_store *store)
{
	static const uint8_t result[1] = { JIT_I32 };

	for (unsigned id = 0; id < WASI_NCALLS; id++) {
		const struct wasi_call_def *d = &calls[id];
		uint8_t params[9];
		struct jit_sig sig = { .params = params, .nparams = d->nparams,
				       .results = result,
				       .nresults = id == WASI_CALL_proc_exit ? 0 : 1 };
		struct jit_extern ext = { .kind = JIT_EXTERN_FUNC };
		unsigned k = 0;
		int err;

		for (const char *t = d->sig; *t; t++)
			if (*t == 'I' || *t == 'L' || *t == 'P')
				params[k++] = *t == 'L' ? JIT_I64 : JIT_I32;
		if ((err = jit_func_new_host(store, &sig, entries[id], w, &ext.func)) < 0 ||
		    (err = jit_store_define(store, "wasi_snapshot_preview1", d->name, ext)) < 0)
			return err;
	}
	return 0;
}

/* -- Arguments and environment ------------------------------------------------- */

/* Pointers to n strings packed in s[0..len) at ptrs, the strings at buf. */
static unsigned put_strings(struct wasi_call *c, uint32_t ptrs, uint32_t buf,
			    const char *s, uint32_t n, uint32_t len)
{
	uint8_t *p = wasi_ptr(c, ptrs, (uint64_t)n * 4), *b = wasi_ptr(c, buf, len);
	uint32_t off = 0;

	if (!p || !b)
		return WASI_EFAULT;
	kmemcpy(b, s, len);
	for (uint32_t i = 0; i < n; i++) {
		put_u32(p + 4 * i, buf + off);
		off += (uint32_t)kstrlen(s + off) + 1;
	}
	return 0;
}

static unsigned put_sizes(struct wasi_call *c, uint32_t pn, uint32_t plen, uint32_t n,
			  uint32_t len)
{
	unsigned err = wasi_put_u32(c, pn, n);

	return err ? err : wasi_put_u32(c, plen, len);
}

unsigned wasi_args_get(struct wasi_call *c, const uint64_t *a)
{
	return put_strings(c, (uint32_t)a[0], (uint32_t)a[1], c->w->args, c->w->argc,
			   c->w->args_len);
}

unsigned wasi_args_sizes_get(struct wasi_call *c, const uint64_t *a)
{
	return put_sizes(c, (uint32_t)a[0], (uint32_t)a[1], c->w->argc, c->w->args_len);
}

unsigned wasi_environ_get(struct wasi_call *c, const uint64_t *a)
{
	return put_strings(c, (uint32_t)a[0], (uint32_t)a[1], c->w->env, c->w->envc,
			   c->w->env_len);
}

unsigned wasi_environ_sizes_get(struct wasi_call *c, const uint64_t *a)
{
	return put_sizes(c, (uint32_t)a[0], (uint32_t)a[1], c->w->envc, c->w->env_len);
}

/* -- Clocks, randomness, the process ---------------------------------------------- */

enum { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS, CLOCK_THREAD };

static bool clock_now(uint32_t id, uint64_t *t)
{
	switch (id) {
	case CLOCK_REALTIME:	*t = hal_time_wall_ns(); return true;
	case CLOCK_MONOTONIC:	*t = hal_time_mono_ns(); return true;
	case CLOCK_PROCESS:	*t = hal_time_process_ns(); return true;
	/* The hart's CPU time: a task may have moved between harts, so
	 * this is the time of the hart running the app now. */
	case CLOCK_THREAD:	*t = hal_time_thread_ns(); return true;
	default:		return false;
	}
}

unsigned wasi_clock_res_get(struct wasi_call *c, const uint64_t *a)
{
	uint64_t t;

	if (!clock_now((uint32_t)a[0], &t))
		return WASI_EINVAL;
	return wasi_put_u64(c, (uint32_t)a[1], 1);	/* the host's clocks count ns */
}

unsigned wasi_clock_time_get(struct wasi_call *c, const uint64_t *a)
{
	uint64_t t;

	if (!clock_now((uint32_t)a[0], &t))
		return WASI_EINVAL;
	return wasi_put_u64(c, (uint32_t)a[2], t);
}

unsigned wasi_random_get(struct wasi_call *c, const uint64_t *a)
{
	uint8_t *p = wasi_ptr(c, (uint32_t)a[0], (uint32_t)a[1]);

	if (!p)
		return WASI_EFAULT;
	wasi_touch(p, (uint32_t)a[1], true);
	hal_entropy(p, (uint32_t)a[1]);
	return 0;
}

unsigned wasi_proc_exit(struct wasi_call *c, const uint64_t *a)
{
	jit_host_trap(c->caller, JIT_TRAP_EXIT, (int32_t)(uint32_t)a[0]);
}

unsigned wasi_proc_raise(struct wasi_call *c, const uint64_t *a)
{
	return WASI_ENOSYS;	/* signals are not part of k23 */
}

unsigned wasi_sched_yield(struct wasi_call *c, const uint64_t *a)
{
	sched_task_yield();
	return 0;
}

/* -- poll_oneoff ----------------------------------------------------------------- */

#define EVENT_CLOCK	0
#define EVENT_FD_READ	1
#define EVENT_FD_WRITE	2
#define SUBCLOCK_ABSTIME 1u
#define EVENT_HANGUP	1u
#define POLL_SUBS_MAX	4096u	/* subscriptions in one call */

unsigned wasi_poll_oneoff(struct wasi_call *c, const uint64_t *a)
{
	uint32_t n = (uint32_t)a[2];
	const uint8_t *in = wasi_ptr(c, (uint32_t)a[0], (uint64_t)n * 48);
	uint8_t *out = wasi_ptr(c, (uint32_t)a[1], (uint64_t)n * 32), *subs;
	struct hal_pollfd *pfd;
	uint32_t *which, npfd = 0, nev = 0;
	uint64_t *when, deadline = UINT64_MAX, now = hal_time_mono_ns();
	unsigned err = 0;

	if (!in || !out || !wasi_ptr(c, (uint32_t)a[3], 4))
		return WASI_EFAULT;
	if (!n)
		return WASI_EINVAL;
	if (n > POLL_SUBS_MAX)
		return WASI_ENOTSUP;
	/* A copy: the events may be written over the subscriptions. */
	subs = kmalloc((size_t)n * 48);
	pfd = kmalloc(n * sizeof(*pfd));
	which = kmalloc(n * sizeof(*which));
	when = kmalloc(n * sizeof(*when));
	if (!subs || !pfd || !which || !when) {
		err = WASI_ENOMEM;
		goto out;
	}
	kmemcpy(subs, in, (size_t)n * 48);
	/* Clocks give the deadline; descriptors that cannot be waited on
	 * (bad, lacking the right, always ready) are answered at once. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = subs + 48 * i;
		uint8_t tag = s[8];
		unsigned e = 0;
		struct wasi_fd *f;

		when[i] = UINT64_MAX;
		if (tag == EVENT_CLOCK) {
			uint64_t timeout = get_u64(s + 24), t;
			uint16_t flags;

			kmemcpy(&flags, s + 40, 2);
			if (clock_now(get_u32(s + 16), &t)) {
				if (flags & SUBCLOCK_ABSTIME)
					when[i] = timeout > t ? now + (timeout - t) : now;
				else
					when[i] = timeout >= UINT64_MAX - now ? UINT64_MAX - 1 :
										now + timeout;
				deadline = MIN(deadline, when[i]);
				continue;
			}
			e = WASI_EINVAL;
		} else if (tag == EVENT_FD_READ || tag == EVENT_FD_WRITE) {
			f = wasi_fd_get(c->w, get_u32(s + 16), RIGHT_POLL_FD_READWRITE, &e);
			if (f && f->type != HAL_FT_FILE && f->type != HAL_FT_DIR) {
				pfd[npfd] = (struct hal_pollfd){ .fd = f->fd,
					.events = tag == EVENT_FD_READ ? HAL_POLL_IN : HAL_POLL_OUT };
				which[npfd++] = i;
				continue;
			}
		} else {
			err = WASI_EINVAL;
			goto out;
		}
		kmemset(out + 32 * nev, 0, 32);
		kmemcpy(out + 32 * nev, s, 8);
		put_u16(out + 32 * nev + 8, (uint16_t)e);
		out[32 * nev + 10] = tag;
		nev++;
	}
	if (nev)
		hal_fd_poll(pfd, npfd);
	else
		vfs_wait(pfd, npfd, deadline);
	for (uint32_t k = 0; k < npfd; k++) {
		const uint8_t *s = subs + 48 * which[k];
		uint8_t *ev = out + 32 * nev;

		if (!pfd[k].revents)
			continue;
		kmemset(ev, 0, 32);
		kmemcpy(ev, s, 8);
		ev[10] = s[8];
		put_u16(ev + 24, pfd[k].revents & HAL_POLL_HUP ? EVENT_HANGUP : 0);
		nev++;
	}
	now = hal_time_mono_ns();
	for (uint32_t i = 0, ready = nev; i < n && !ready; i++) {
		const uint8_t *s = subs + 48 * i;
		uint8_t *ev = out + 32 * nev;

		if (s[8] != EVENT_CLOCK || when[i] > now)
			continue;
		kmemset(ev, 0, 32);
		kmemcpy(ev, s, 8);
		ev[10] = EVENT_CLOCK;
		nev++;
	}
	err = wasi_put_u32(c, (uint32_t)a[3], nev);
out:
	kfree(subs);
	kfree(pfd);
	kfree(which);
	kfree(when);
	return err;
}
