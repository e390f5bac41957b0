/*
 * call.c - running wasm: jit_call, and how a trap ends it.
 *
 * jit_call pushes an entry record (struct jit_entry, on its own C stack)
 * onto the store's list and calls the function through the entry stub of
 * its type.  Every trap lands in the innermost record with
 * __builtin_longjmp (GCC's, no libc: the function holding
 * __builtin_setjmp saves every callee-saved register itself, so the
 * registers compiled code keeps there need no restoring).  Three ways in:
 *  - compiled code calls jit_rt_trap() (unreachable, divide by zero, a
 *    failed runtime call, stack exhaustion at a function entry ...);
 *  - a host function calls jit_host_trap();
 *  - an access past the end of a memory faults in the store's address
 *    space; the store's fault handler records the trap and makes the
 *    faulting context resume in trap_exit(), as if called, which jumps.
 * The backtrace is taken where the trap happens, walking the frame
 * pointers of the wasm frames (rt.h: fp[0] the caller's frame pointer,
 * fp[1] the return address) while the return address is in code of the
 * store's modules.  The walk reads only frames that lie between the
 * trapping context's stack pointer and the jit_call that started it.
 *
 * Preemption: while a store runs, the calling task's yield flag (sched.h)
 * is the store's poll byte, which compiled code polls at function entries
 * and loop headers; the scheduler's tick sets it, jit_store_interrupt()
 * too.
 */
#include "jit/runtime.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "kernel/log.h"
#include "sched/sched.h"

#if defined(__SANITIZE_ADDRESS__)
void __asan_handle_no_return(void);
#endif

/* -- The task's innermost store ---------------------------------------------- */

/*
 * A task-local pointer to the store of the task's innermost jit_call, for
 * jit_host_trap() from a host function that jit_call called directly
 * (which has no caller instance).  The key is made on first use.
 */
enum { TLS_NONE, TLS_MAKING, TLS_READY };
static atomic_uint tls_state;
static unsigned tls_key;

static bool tls_ready(void)
{
	unsigned s = atomic_load_explicit(&tls_state, memory_order_acquire);

	if (s == TLS_READY)
		return true;
	if (s == TLS_NONE &&
	    atomic_compare_exchange_strong(&tls_state, &s, TLS_MAKING)) {
		if (sched_tls_key_create(&tls_key) < 0) {
			atomic_store(&tls_state, TLS_NONE);
			return false;
		}
		atomic_store_explicit(&tls_state, TLS_READY, memory_order_release);
		return true;
	}
	/* Another task makes it; making it never blocks, so it is quick. */
	while ((s = atomic_load_explicit(&tls_state, memory_order_acquire)) == TLS_MAKING)
		cpu_relax();
	return s == TLS_READY;
}

/* -- Backtraces ------------------------------------------------------------ */

static void add_frame(const struct jit_store *store, struct jit_trap_info *t, uintptr_t pc)
{
	uint32_t func;
	const struct jit_module *m = jit_store_code_at(store, pc, &func);

	if (m && t->nframes < JIT_BACKTRACE_MAX) {
		t->frames[t->nframes].module = m;
		t->frames[t->nframes].func = func;
		t->nframes++;
	}
}

/*
 * Fill t's frames: the function holding pc (if any), then the callers
 * found through the frame pointer fp, reading only [lo, hi).  Never
 * faults: every frame read lies in [lo, hi), and frames must ascend.
 * Not instrumented: ASan must not report reads of other functions' frames.
 */
static __attribute__((no_sanitize_address)) void
backtrace(const struct jit_store *store, struct jit_trap_info *t, uintptr_t pc,
	  uintptr_t fp, uintptr_t lo, uintptr_t hi)
{
	t->nframes = 0;
	if (pc)
		add_frame(store, t, pc);
	while (t->nframes < JIT_BACKTRACE_MAX) {
		uintptr_t next, ret;
		uint32_t func;

		if (fp < lo || hi < 16 || fp > hi - 16 || (fp & (sizeof(uintptr_t) - 1)))
			break;
		next = ((const uintptr_t *)fp)[0];
		ret = ((const uintptr_t *)fp)[1];
		/* ret - 1: the call, which may be its function's last instruction;
		 * a return address elsewhere is the entry stub's: the end. */
		if (!jit_store_code_at(store, ret - 1, &func))
			break;
		add_frame(store, t, ret - 1);
		if (next <= fp)
			break;		/* callers' frames are above: no loops */
		fp = next;
	}
}

/*
 * The backtrace of a trap raised by a host function that wasm called,
 * from jit_host_trap's own frame at lo: up the frame pointer chain
 * through the C frames (the host function's, any helper's) to the first
 * return address in wasm code, then on through the wasm frames.  Exact
 * when the host function keeps a frame pointer; one built without may
 * leave out the wasm function that called it (or every wasm frame).  The
 * stack is never scanned for return addresses: stale ones from earlier
 * calls would make up frames.
 */
static __attribute__((no_sanitize_address)) void
host_backtrace(const struct jit_store *store, struct jit_trap_info *t, uintptr_t lo,
	       uintptr_t hi)
{
	uintptr_t fp = lo;
	uint32_t func;

	t->nframes = 0;
	for (unsigned k = 0; k < 16; k++) {
		uintptr_t next, ret;

		if (fp < lo || hi < 16 || fp > hi - 16 || (fp & (sizeof(uintptr_t) - 1)))
			return;
		next = ((const uintptr_t *)fp)[0];
		ret = ((const uintptr_t *)fp)[1];
		if (jit_store_code_at(store, ret - 1, &func)) {
			backtrace(store, t, ret - 1, next, fp + 16, hi);
			return;
		}
		if (next <= fp)
			return;
		fp = next;
	}
}

/* -- Ending a call ----------------------------------------------------------- */

/* Jump to the innermost entry of the store; its trap is filled in. */
static _Noreturn __attribute__((noinline)) void trap_unwind(struct jit_store *store)
{
	struct jit_entry *e = store->entries;

	KASSERT(e, "jit: trap in store %p outside jit_call", (void *)store);
#if defined(__SANITIZE_ADDRESS__)
	__asan_handle_no_return();	/* the frames jumped over are dead */
#endif
	__builtin_longjmp(e->jb, 1);
}

/* Where a faulting wasm access resumes (jit_store_fault). */
static _Noreturn __attribute__((noinline, used)) void trap_exit(struct jit_store *store)
{
	trap_unwind(store);
}

_Noreturn void jit_rt_trap(struct jit_vmctx *vm, uint32_t code, uintptr_t fp, uintptr_t pc)
{
	struct jit_store *store = jit_vm_inst(vm)->store;
	struct jit_entry *e = store->entries;

	KASSERT(e, "jit_rt_trap: trap %u outside jit_call", code);
	e->trap.code = code < JIT_TRAP_COUNT ? (enum jit_trap)code : JIT_TRAP_HOST;
	e->trap.host_status = 0;
	backtrace(store, &e->trap, pc, fp, (uintptr_t)__builtin_frame_address(0),
		  e->stack_hi);
	trap_unwind(store);
}

_Noreturn void jit_host_trap(struct jit_instance *caller, enum jit_trap code, int32_t status)
{
	struct jit_store *store = caller ? caller->store :
				  tls_ready() ? sched_tls_get(tls_key) : NULL;
	struct jit_entry *e;

	KASSERT(store && store->entries, "jit_host_trap: not called by wasm");
	e = store->entries;
	e->trap.code = code;
	e->trap.host_status = status;
	host_backtrace(store, &e->trap, (uintptr_t)__builtin_frame_address(0), e->stack_hi);
	trap_unwind(store);
}

/*
 * The fault handler of the store's address spaces, for faults the space
 * could not resolve: an access past a memory's end, or a lazy page no
 * frame was left for.  From wasm code of the store's modules, it is a
 * trap.  From host code called by the store's wasm on this task (a WASI
 * call filling a buffer of the app's that needs more frames than the
 * machine has left), it is a trap too, after the host function's frames:
 * the app's demand, not a kernel bug, so the kernel carries on (what the
 * host function had allocated is lost).  From anywhere else a kernel
 * bug, and false makes the kernel panic.
 */
bool jit_store_fault(struct as *as, struct trap_frame *tf, void *arg)
{
	struct jit_store *store = arg;
	struct jit_entry *e = store->entries;
	uint32_t func;

	(void)as;
	if (!e)
		return false;
	if (jit_store_code_at(store, tf->pc, &func)) {
		backtrace(store, &e->trap, tf->pc, tf->fp, tf->sp, e->stack_hi);
	} else if (tls_ready() && sched_tls_get(tls_key) == store) {
		klog(jit, WARN, "host code at %p faulted in the app's memory at %#llx: "
		     "the app traps", (void *)tf->pc, (unsigned long long)tf->tval);
		host_backtrace(store, &e->trap, tf->fp, e->stack_hi);
	} else {
		return false;
	}
	/*
	 * A page below a memory's size is reserved, so only a lack of frames
	 * leaves it unmapped: the machine's RAM (--memory hosted) is used up.
	 */
	if (jit_store_in_memory(store, tf->tval)) {
		klog(jit, WARN, "no free frame for a page of the app's memory at %#llx: "
		     "RAM is used up", (unsigned long long)tf->tval);
		e->trap.code = JIT_TRAP_OUT_OF_MEMORY;
	} else {
		e->trap.code = JIT_TRAP_MEMORY_OOB;
	}
	e->trap.host_status = 0;
	/* Resume in trap_exit(store), with a stack pointer as a call leaves it. */
	tf->arg0 = (uintptr_t)store;
	tf->pc = (uintptr_t)trap_exit;
#if defined(__x86_64__)
	tf->sp = ALIGN_DOWN(tf->sp, (uintptr_t)16) - 8;	/* the return address's slot */
#else
	tf->sp = ALIGN_DOWN(tf->sp, (uintptr_t)16);
#endif
	return true;
}

/* -- Calls ----------------------------------------------------------------- */

static struct jit_store *func_store(const struct jit_func *f)
{
	return f->inst ? f->inst->store :
	       container_of(f, struct jit_host_func, func)->obj.store;
}

static uint64_t value_bits(uint8_t type, uint64_t bits)
{
	return type == JIT_I32 || type == JIT_F32 ? (uint32_t)bits : bits;
}

/*
 * Run f through stub with the store's entry record pushed: 0, or -K_EFAULT
 * with *trap filled in.  Not inlined: the frame holding __builtin_setjmp
 * must not be the one holding the caller's locals that live across it.
 */
static __attribute__((noinline)) int call_run(struct jit_store *store, jit_entry_stub stub,
					      struct jit_func *f, uint64_t *vals,
					      struct jit_trap_info *trap)
{
	struct jit_store *outer = sched_tls_get(tls_key);
	uintptr_t saved_limit = store->hot.stack_limit;
	struct jit_entry e;
	int rc = 0;

	e.outer = store->entries;
	e.stack_hi = (uintptr_t)__builtin_frame_address(0);
	e.trap.code = JIT_TRAP_NONE;
	e.trap.host_status = 0;
	e.trap.nframes = 0;
	store->entries = &e;
	sched_tls_set(tls_key, store);
	store->hot.stack_limit = sched_stack_low() + JIT_STACK_MARGIN;
	sched_set_yield_flag(&store->hot.poll);
	if (atomic_load_explicit(&store->interrupted, memory_order_relaxed))
		atomic_store_explicit(&store->hot.poll, 1, memory_order_relaxed);
	if (__builtin_setjmp(e.jb) == 0)
		stub(f->code, f->ctx, f->inst ? (struct jit_vmctx *)f->ctx : NULL, vals);
	else
		rc = -K_EFAULT;
	store->entries = e.outer;
	store->hot.stack_limit = saved_limit;
	sched_tls_set(tls_key, outer);
	sched_set_yield_flag(outer ? &outer->hot.poll : NULL);
	if (rc && trap) {
		trap->code = e.trap.code;
		trap->host_status = e.trap.host_status;
		trap->nframes = e.trap.nframes;
		kmemcpy(trap->frames, e.trap.frames, sizeof(e.trap.frames[0]) * e.trap.nframes);
	}
	return rc;
}

int jit_call(struct jit_func *f, const struct jit_value *args, uint32_t nargs,
	     struct jit_value *results, uint32_t nresults, struct jit_trap_info *trap)
{
	const struct jit_sig *sig = &f->sig;
	uint32_t n = MAX(sig->nparams, sig->nresults);
	uint64_t small[16], *vals = small;
	jit_entry_stub stub;
	int rc;

	if (nargs != sig->nparams || nresults != sig->nresults)
		return -K_EINVAL;
	for (uint32_t i = 0; i < nargs; i++)
		if (args[i].type != sig->params[i])
			return -K_EINVAL;
	if (!tls_ready() || !(stub = jit_types_stub(f->type_id)))
		return -K_ENOMEM;
	if (n > ARRAY_SIZE(small) && !(vals = kmalloc(sizeof(uint64_t) * n)))
		return -K_ENOMEM;
	for (uint32_t i = 0; i < nargs; i++)
		vals[i] = value_bits(args[i].type, args[i].bits);
	rc = call_run(func_store(f), stub, f, vals, trap);
	if (rc == 0)
		for (uint32_t i = 0; i < nresults; i++)
			results[i] = (struct jit_value){ sig->results[i],
							 value_bits(sig->results[i], vals[i]) };
	if (vals != small)
		kfree(vals);
	return rc;
}

/* -- Preemption ------------------------------------------------------------ */

uint32_t jit_rt_poll(struct jit_vmctx *vm)
{
	struct jit_store *store = jit_vm_inst(vm)->store;

	/*
	 * Sequentially consistent, with jit_store_interrupt's two stores: if
	 * the flag reads false here, the interrupt's store to the poll byte
	 * comes after this clearing, and the next poll sees it.  (A byte
	 * exchange would need libatomic on riscv64.)
	 */
	atomic_store_explicit(&store->hot.poll, 0, memory_order_seq_cst);
	if (atomic_load_explicit(&store->interrupted, memory_order_seq_cst)) {
		atomic_store_explicit(&store->hot.poll, 1, memory_order_relaxed);
		return JIT_TRAP_INTERRUPTED;
	}
	sched_task_yield();
	return 0;
}

/* -- Messages -------------------------------------------------------------- */

static const char *const trap_messages[] = {
#define X(name, msg) msg,
	JIT_TRAPS(X)
#undef X
};

const char *jit_trap_message(enum jit_trap code)
{
	return (unsigned)code < JIT_TRAP_COUNT ? trap_messages[code] : "unknown trap";
}

size_t jit_trap_text(const struct jit_trap_info *trap, char *buf, size_t size)
{
	size_t n;

#define ADD(...) (n += (size_t)ksnprintf(buf + MIN(n, size), size - MIN(n, size), __VA_ARGS__))
	n = 0;
	if (trap->code == JIT_TRAP_HOST || trap->code == JIT_TRAP_EXIT)
		ADD("wasm trap: %s (status %d)\n", jit_trap_message(trap->code),
		    (int)trap->host_status);
	else
		ADD("wasm trap: %s\n", jit_trap_message(trap->code));
	for (uint32_t i = 0; i < trap->nframes && i < JIT_BACKTRACE_MAX; i++) {
		char label[160];

		ADD("  #%u %s\n", i, jit_wasm_func_label(trap->frames[i].module->wasm,
			trap->frames[i].func, label, sizeof(label)));
	}
#undef ADD
	return n;
}

void jit_trap_print(const struct jit_trap_info *trap)
{
	char buf[JIT_BACKTRACE_MAX * 160 + 160];

	jit_trap_text(trap, buf, sizeof(buf));
	kprintf("%s", buf);
}
