/*
 * types.c - canonical function types: one id per structurally distinct
 * signature for the kernel's whole life, shared by every module and store
 * (call_indirect compares a function's id with the expected type's), and
 * the entry stub of each (how C calls a function of that type).
 *
 * Ids start at 1, so a zero type id never matches.  Entries are never
 * freed: a program's types are few and shared by its modules, and the
 * count is capped (TYPES_MAX).
 *
 * Locking: types_lock guards the hash table and the creation of entries;
 * by_id (id -> entry) is read without it, entries being published with a
 * release store once complete and never moved.  stub_lock serialises
 * the making of stubs and the code pages they go into.
 */
#include "jit/emit.h"
#include "jit/runtime.h"
#include "kernel/kerr.h"
#include "kernel/kheap.h"
#include "kernel/klib.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"

#define TYPES_CHUNK		1024u		/* entries per by_id chunk */
#define TYPES_MAX_CHUNKS	4096u
#define TYPES_MAX		(TYPES_CHUNK * TYPES_MAX_CHUNKS - 1)

/* Code pages for stubs: chunks of this many bytes (or a stub's size). */
#define STUB_CHUNK		(64u << 10)
/* First guess at a stub's size, and the most tried before giving up. */
#define STUB_GUESS		512u
#define STUB_MAX		(1u << 20)

struct type_entry {
	struct type_entry *next;	/* hash chain (types_lock) */
	uint32_t hash;
	uint32_t id;
	jit_entry_stub _Atomic stub;	/* NULL until made (stub_lock) */
	struct jit_sig sig;		/* params and results point into bytes */
	uint8_t bytes[];
};

static struct spinlock types_lock = SPINLOCK_INIT;
static struct type_entry **buckets;	/* nbuckets, a power of two */
static uint32_t nbuckets;
static uint32_t ntypes;			/* ids handed out: 1..ntypes */
static struct type_entry **_Atomic by_id[TYPES_MAX_CHUNKS];

static struct spinlock stub_lock = SPINLOCK_INIT;
static uint8_t *stub_chunk;		/* code memory: [stub_pos, stub_end) unused */
static size_t stub_pos, stub_end;

/* FNV-1a over the counts and the type bytes. */
static uint32_t sig_hash(const struct jit_sig *sig)
{
	uint32_t h = 2166136261u;

	h = (h ^ sig->nparams) * 16777619u;
	h = (h ^ sig->nresults) * 16777619u;
	for (uint32_t i = 0; i < sig->nparams; i++)
		h = (h ^ sig->params[i]) * 16777619u;
	for (uint32_t i = 0; i < sig->nresults; i++)
		h = (h ^ sig->results[i]) * 16777619u;
	return h;
}

static bool sig_equal(const struct jit_sig *a, const struct jit_sig *b)
{
	return a->nparams == b->nparams && a->nresults == b->nresults &&
	       (!a->nparams || kmemcmp(a->params, b->params, a->nparams) == 0) &&
	       (!a->nresults || kmemcmp(a->results, b->results, a->nresults) == 0);
}

/* Double the bucket array (types_lock held); false if out of memory. */
static bool types_rehash(void)
{
	uint32_t n = nbuckets ? nbuckets * 2 : 256;
	struct type_entry **nb = kzalloc(sizeof(*nb) * n);

	if (!nb)
		return false;
	for (uint32_t i = 0; i < nbuckets; i++) {
		struct type_entry *e, *next;

		for (e = buckets[i]; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	kfree(buckets);
	buckets = nb;
	nbuckets = n;
	return true;
}

/* A new entry for sig with the next id (types_lock held), or NULL. */
static struct type_entry *types_add(const struct jit_sig *sig, uint32_t hash)
{
	uint32_t id = ntypes + 1, chunk = id / TYPES_CHUNK;
	struct type_entry **ids;
	struct type_entry *e;

	if (id > TYPES_MAX)
		return NULL;
	if (ntypes >= nbuckets && !types_rehash())
		return NULL;
	if (!(ids = atomic_load_explicit(&by_id[chunk], memory_order_relaxed))) {
		if (!(ids = kzalloc(sizeof(*ids) * TYPES_CHUNK)))
			return NULL;
		atomic_store_explicit(&by_id[chunk], ids, memory_order_release);
	}
	if (!(e = kmalloc(sizeof(*e) + sig->nparams + sig->nresults)))
		return NULL;
	if (sig->nparams)
		kmemcpy(e->bytes, sig->params, sig->nparams);
	if (sig->nresults)
		kmemcpy(e->bytes + sig->nparams, sig->results, sig->nresults);
	e->sig = (struct jit_sig){ e->bytes, e->bytes + sig->nparams,
				   sig->nparams, sig->nresults };
	e->hash = hash;
	e->id = id;
	atomic_init(&e->stub, NULL);
	e->next = buckets[hash & (nbuckets - 1)];
	buckets[hash & (nbuckets - 1)] = e;
	/* Complete before anyone can find it by id. */
	__atomic_store_n(&ids[id % TYPES_CHUNK], e, __ATOMIC_RELEASE);
	ntypes = id;
	return e;
}

int jit_types_intern(const struct jit_sig *sig, uint32_t *id)
{
	uint32_t hash = sig_hash(sig);
	struct type_entry *e = NULL;

	spin_lock(&types_lock);
	if (nbuckets)
		for (e = buckets[hash & (nbuckets - 1)]; e; e = e->next)
			if (e->hash == hash && sig_equal(&e->sig, sig))
				break;
	if (!e)
		e = types_add(sig, hash);
	spin_unlock(&types_lock);
	if (!e)
		return -K_ENOMEM;
	*id = e->id;
	return 0;
}

/* The entry of id, or NULL for an id never handed out. */
static struct type_entry *types_entry(uint32_t id)
{
	struct type_entry **ids;

	if (id == 0 || id > TYPES_MAX)
		return NULL;
	ids = atomic_load_explicit(&by_id[id / TYPES_CHUNK], memory_order_acquire);
	return ids ? __atomic_load_n(&ids[id % TYPES_CHUNK], __ATOMIC_ACQUIRE) : NULL;
}

/*
 * Emit the stub for e into code memory and seal it (stub_lock held).  The
 * stub is emitted in place, not copied, so the back end may use
 * pc-relative references.  Each stub starts on a page of its own that it
 * seals, and nothing sealed is written again (W^X, and other harts may
 * be running the stubs before it).
 */
static jit_entry_stub stub_make(const struct type_entry *e)
{
	size_t room = STUB_GUESS;

	for (;;) {
		struct jit_buf b;
		size_t len, sealed;

		if (stub_end - stub_pos < room) {
			size_t size = MAX((size_t)STUB_CHUNK, ALIGN_UP(room, (size_t)HAL_PAGE_SIZE));
			uint8_t *chunk = hal_code_alloc(size);

			if (!chunk)
				return NULL;
			/* The old chunk's tail is never used: stubs are few. */
			stub_chunk = chunk;
			stub_pos = 0;
			stub_end = size;
		}
		jit_buf_init(&b, stub_chunk + stub_pos, stub_end - stub_pos);
		if (jit_emit_entry_stub(&b, &e->sig) && !b.overflow) {
			uint8_t *code = stub_chunk + stub_pos;

			len = jit_buf_pos(&b);
			sealed = ALIGN_UP(MAX(len, (size_t)1), (size_t)HAL_PAGE_SIZE);
			if (hal_code_seal(code, sealed) < 0)
				return NULL;
			stub_pos += sealed;
			klog(jit, DEBUG, "types: stub for type %u, %zu bytes at %p",
			     e->id, len, (void *)code);
			return (jit_entry_stub)(void *)code;
		}
		/* Did not fit in what was left: a bigger, fresh chunk. */
		if (room >= STUB_MAX)
			return NULL;
		room = MAX(room * 2, stub_end - stub_pos + 1);
		stub_pos = stub_end;
	}
}

jit_entry_stub jit_types_stub(uint32_t id)
{
	struct type_entry *e = types_entry(id);
	jit_entry_stub stub;

	if (!e)
		return NULL;
	if ((stub = atomic_load_explicit(&e->stub, memory_order_acquire)))
		return stub;
	spin_lock(&stub_lock);
	if (!(stub = atomic_load_explicit(&e->stub, memory_order_relaxed)) &&
	    (stub = stub_make(e)))
		atomic_store_explicit(&e->stub, stub, memory_order_release);
	spin_unlock(&stub_lock);
	return stub;
}
