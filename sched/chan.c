/*
 * chan.c - message channels and the handle table (chan.h).
 *
 * Handle = generation << HANDLE_IDX_BITS | index into the table.  A
 * closed entry's generation moves on, so an old handle to a reused entry
 * is refused.  The table grows in chunks that never move, so a looked-up
 * entry stays put; its channel is kept alive by a reference count (one per
 * open end, one per call in progress).
 *
 * Lock order: the table lock and a channel's lock are never held together;
 * a channel's lock comes before the hart locks of the tasks it wakes.
 */
#include <stdatomic.h>
#include "../kernel/kerr.h"
#include "../kernel/kheap.h"
#include "../kernel/klib.h"
#include "../kernel/log.h"
#include "../kernel/spinlock.h"
#include "chan.h"
#include "internal.h"

#define HANDLE_IDX_BITS		20
#define HANDLE_GEN_MASK		0x7ffu		/* handles stay positive int32 */
#define CHUNK_SHIFT		10
#define CHUNK_ENTRIES		(1u << CHUNK_SHIFT)
#define MAX_CHUNKS		((1u << HANDLE_IDX_BITS) / CHUNK_ENTRIES)

enum chan_end { END_TX, END_RX };

struct chan {
	struct spinlock lock;		/* everything below but the constants */
	atomic_uint refs;
	unsigned capacity, slot_size;	/* constant */
	size_t msg_max;			/* constant */
	unsigned head, count;
	bool closed[2];			/* by enum chan_end */
	struct sched_waitq senders, receivers;
	uint8_t *slots;			/* capacity x [uint32 length, message] */
};

struct handle_entry {
	struct chan *chan;		/* NULL: free */
	uint32_t gen;
	uint32_t next_free;		/* free list link (index + 1; 0 ends it) */
	enum chan_end end;
};

static struct spinlock table_lock = SPINLOCK_INIT;
static struct handle_entry *chunks[MAX_CHUNKS];	/* table_lock */
static unsigned nchunks, free_head;			/* table_lock */

static struct handle_entry *entry_at(unsigned idx)
{
	return &chunks[idx >> CHUNK_SHIFT][idx & (CHUNK_ENTRIES - 1)];
}

/* A free entry's index, growing the table if needed.  Table lock held. */
static int entry_alloc(unsigned *idx)
{
	struct handle_entry *chunk;

	if (!free_head) {
		if (nchunks == MAX_CHUNKS || !(chunk = kzalloc(CHUNK_ENTRIES * sizeof(*chunk))))
			return -K_ENOMEM;
		for (unsigned i = 0; i < CHUNK_ENTRIES; i++) {
			chunk[i].gen = 1;
			chunk[i].next_free = i + 1 < CHUNK_ENTRIES ?
					     nchunks * CHUNK_ENTRIES + i + 2 : 0;
		}
		chunks[nchunks] = chunk;
		free_head = nchunks * CHUNK_ENTRIES + 1;
		nchunks++;
	}
	*idx = free_head - 1;
	free_head = entry_at(*idx)->next_free;
	return 0;
}

static sched_handle_t handle_of(unsigned idx, const struct handle_entry *e)
{
	return (sched_handle_t)((e->gen & HANDLE_GEN_MASK) << HANDLE_IDX_BITS | idx);
}

static void chan_put(struct chan *ch)
{
	if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) == 1) {
		kfree(ch->slots);
		kfree(ch);
	}
}

/*
 * The channel of handle h, referenced, with the end it names.  unlink:
 * also retire the handle (close).  NULL for a bad handle.
 */
static struct chan *handle_get(sched_handle_t h, enum chan_end *end, bool unlink)
{
	unsigned idx = (unsigned)h & ((1u << HANDLE_IDX_BITS) - 1);
	struct handle_entry *e;
	struct chan *ch = NULL;
	hal_irqstate_t s;

	if (h < 0)
		return NULL;
	s = spin_lock_irqsave(&table_lock);
	if (idx < nchunks * CHUNK_ENTRIES) {
		e = entry_at(idx);
		if (e->chan && handle_of(idx, e) == h) {
			ch = e->chan;
			*end = e->end;
			atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
			if (unlink) {
				e->chan = NULL;
				e->gen = (e->gen + 1) & HANDLE_GEN_MASK;
				if (!e->gen)
					e->gen = 1;
				e->next_free = free_head;
				free_head = idx + 1;
			}
		}
	}
	spin_unlock_irqrestore(&table_lock, s);
	return ch;
}

static int bad_handle(const char *what, sched_handle_t h)
{
	klog(sched, WARN, "%s: task '%s' used bad channel handle %d (closed, wrong end or never issued)",
	     what, sched_current_name(), (int)h);
	return -K_EBADF;
}

int sched_chan_create(unsigned capacity, size_t msg_max, sched_handle_t *tx,
		      sched_handle_t *rx)
{
	struct chan *ch;
	unsigned itx, irx;
	hal_irqstate_t s;
	int err;

	if (!capacity || capacity > SCHED_CHAN_CAP_MAX || !msg_max || msg_max > SCHED_CHAN_MSG_MAX)
		return -K_EINVAL;
	if (!(ch = kzalloc(sizeof(*ch))))
		return -K_ENOMEM;
	spin_init(&ch->lock);
	ch->capacity = capacity;
	ch->msg_max = msg_max;
	ch->slot_size = (unsigned)ALIGN_UP(sizeof(uint32_t) + msg_max, (size_t)8);
	sched_waitq_init(&ch->senders);
	sched_waitq_init(&ch->receivers);
	if (!(ch->slots = kmalloc((size_t)capacity * ch->slot_size))) {
		kfree(ch);
		return -K_ENOMEM;
	}
	atomic_init(&ch->refs, 2);
	s = spin_lock_irqsave(&table_lock);
	if ((err = entry_alloc(&itx)) == 0 && (err = entry_alloc(&irx)) < 0) {
		struct handle_entry *e = entry_at(itx);

		e->next_free = free_head;
		free_head = itx + 1;
	}
	if (err == 0) {
		entry_at(itx)->chan = ch;
		entry_at(itx)->end = END_TX;
		entry_at(irx)->chan = ch;
		entry_at(irx)->end = END_RX;
		*tx = handle_of(itx, entry_at(itx));
		*rx = handle_of(irx, entry_at(irx));
	}
	spin_unlock_irqrestore(&table_lock, s);
	if (err < 0) {
		kfree(ch->slots);
		kfree(ch);
	}
	return err;
}

static int chan_send(sched_handle_t tx, const void *msg, size_t len, bool block)
{
	enum chan_end end;
	struct chan *ch = handle_get(tx, &end, false);
	hal_irqstate_t s;
	int err;

	if (!ch || end != END_TX) {
		if (ch)
			chan_put(ch);
		return bad_handle("sched_chan_send", tx);
	}
	if (len > ch->msg_max) {
		chan_put(ch);
		return -K_E2BIG;
	}
	s = spin_lock_irqsave(&ch->lock);
	for (;;) {
		if (ch->closed[END_RX]) {
			err = -K_EPIPE;
			break;
		}
		if (ch->closed[END_TX]) {
			err = -K_EBADF;	/* our end was closed while we waited */
			break;
		}
		if (ch->count < ch->capacity) {
			uint8_t *slot = ch->slots + (size_t)((ch->head + ch->count) % ch->capacity) *
						    ch->slot_size;

			*(uint32_t *)slot = (uint32_t)len;
			kmemcpy(slot + sizeof(uint32_t), msg, len);
			ch->count++;
			sched_waitq_wake_one(&ch->receivers);
			err = 0;
			break;
		}
		if (!block) {
			err = -K_EAGAIN;
			break;
		}
		sched_waitq_wait(&ch->senders, &ch->lock);
	}
	spin_unlock_irqrestore(&ch->lock, s);
	chan_put(ch);
	if (err == -K_EPIPE)
		klog(sched, WARN, "sched_chan_send: task '%s' sent on handle %d of a channel "
		     "whose receiving end is closed", sched_current_name(), (int)tx);
	else if (err == -K_EBADF)
		return bad_handle("sched_chan_send", tx);
	return err;
}

int sched_chan_send(sched_handle_t tx, const void *msg, size_t len)
{
	return chan_send(tx, msg, len, true);
}

int sched_chan_try_send(sched_handle_t tx, const void *msg, size_t len)
{
	return chan_send(tx, msg, len, false);
}

static int chan_recv(sched_handle_t rx, void *buf, size_t cap, size_t *len, bool block)
{
	enum chan_end end;
	struct chan *ch = handle_get(rx, &end, false);
	hal_irqstate_t s;
	int err;

	if (!ch || end != END_RX) {
		if (ch)
			chan_put(ch);
		return bad_handle("sched_chan_recv", rx);
	}
	s = spin_lock_irqsave(&ch->lock);
	for (;;) {
		if (ch->count) {
			uint8_t *slot = ch->slots + (size_t)ch->head * ch->slot_size;
			uint32_t n = *(uint32_t *)slot;

			if (n > cap) {
				err = -K_E2BIG;
				break;
			}
			kmemcpy(buf, slot + sizeof(uint32_t), n);
			*len = n;
			ch->head = (ch->head + 1) % ch->capacity;
			ch->count--;
			sched_waitq_wake_one(&ch->senders);
			err = 0;
			break;
		}
		if (ch->closed[END_TX]) {
			err = -K_EPIPE;
			break;
		}
		if (ch->closed[END_RX]) {
			err = -K_EBADF;
			break;
		}
		if (!block) {
			err = -K_EAGAIN;
			break;
		}
		sched_waitq_wait(&ch->receivers, &ch->lock);
	}
	spin_unlock_irqrestore(&ch->lock, s);
	chan_put(ch);
	if (err == -K_EBADF)
		return bad_handle("sched_chan_recv", rx);
	return err;
}

int sched_chan_recv(sched_handle_t rx, void *buf, size_t cap, size_t *len)
{
	return chan_recv(rx, buf, cap, len, true);
}

int sched_chan_try_recv(sched_handle_t rx, void *buf, size_t cap, size_t *len)
{
	return chan_recv(rx, buf, cap, len, false);
}

int sched_chan_close(sched_handle_t h)
{
	enum chan_end end;
	struct chan *ch = handle_get(h, &end, true);
	hal_irqstate_t s;

	if (!ch)
		return bad_handle("sched_chan_close", h);
	s = spin_lock_irqsave(&ch->lock);
	ch->closed[end] = true;
	sched_waitq_wake_all(&ch->senders);
	sched_waitq_wake_all(&ch->receivers);
	spin_unlock_irqrestore(&ch->lock, s);
	chan_put(ch);		/* this call's reference */
	chan_put(ch);		/* the end's */
	return 0;
}
