/*
 * chan.h - message channels, the microkernel's IPC.
 *
 * A channel is a bounded queue of small messages (up to msg_max bytes
 * each, msg_max <= SCHED_CHAN_MSG_MAX) with two ends, each named by a
 * handle: a small non-negative integer, the form wasm modules will import
 * it in.  Sending blocks the task while the queue is full, receiving
 * while it is empty; the try variants return -K_EAGAIN instead.  Closing
 * an end wakes every task blocked on the channel: receivers drain what was
 * sent, then get -K_EPIPE; senders to a closed receiver get -K_EPIPE.
 * Handles are checked on every call: a closed, never issued or wrong-end
 * handle is -K_EBADF.  Misuse (sending to a closed receiver, a bad handle)
 * is also logged with the task's name.  Handles are kernel-global for now.
 */
#ifndef K23_SCHED_CHAN_H
#define K23_SCHED_CHAN_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_CHAN_MSG_MAX	256u
#define SCHED_CHAN_CAP_MAX	65536u

typedef int32_t sched_handle_t;

/* A channel holding up to capacity messages: 0 and its two ends, or
 * -K_EINVAL (capacity or msg_max 0 or too large), -K_ENOMEM. */
int sched_chan_create(unsigned capacity, size_t msg_max, sched_handle_t *tx,
		      sched_handle_t *rx);

/* Queue a message of len bytes (len <= msg_max, else -K_E2BIG). */
int sched_chan_send(sched_handle_t tx, const void *msg, size_t len);
int sched_chan_try_send(sched_handle_t tx, const void *msg, size_t len);

/* Take the oldest message into buf (cap bytes; a longer message stays
 * queued and the call returns -K_E2BIG); its length in *len. */
int sched_chan_recv(sched_handle_t rx, void *buf, size_t cap, size_t *len);
int sched_chan_try_recv(sched_handle_t rx, void *buf, size_t cap, size_t *len);

/* Close one end; the handle is invalid afterwards.  The channel is freed
 * when both ends are closed and no call is using it. */
int sched_chan_close(sched_handle_t h);

#endif /* K23_SCHED_CHAN_H */
