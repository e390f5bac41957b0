/*
 * buf.h - the code buffer every JIT back end emits into.
 *
 * A buffer is a fixed span of memory the caller owns.  Emitting never
 * fails on the spot: a write that does not fit sets the sticky `overflow`
 * flag, and from then on every write is a no-op, so an encoder needs no
 * error path and the caller checks once, when the function is done (and
 * retries with a bigger buffer, or gives up).  The bytes of a buffer that
 * overflowed are garbage.
 *
 * Values are stored little-endian, byte by byte, so the buffer needs no
 * alignment and the code is the same on every host.  Offsets are uint32_t:
 * no buffer holds 4 GiB of code.
 *
 * Freestanding and architecture-neutral: stdint, stdbool and stddef only.
 */
#ifndef K23_JIT_BUF_H
#define K23_JIT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jit_buf {
	uint8_t *start;		/* first byte of the buffer */
	uint8_t *p;		/* next byte to write */
	uint8_t *end;		/* one past the last byte */
	bool overflow;		/* sticky: some write did not fit */
};

/* An empty buffer over the len bytes at mem. */
static inline void jit_buf_init(struct jit_buf *b, void *mem, size_t len)
{
	b->start = mem;
	b->p = b->start;
	b->end = len ? b->start + len : b->start;	/* no arithmetic on NULL */
	b->overflow = false;
}

/* The offset of the next byte to be written (after an overflow, of the
 * first write that did not fit). */
static inline uint32_t jit_buf_pos(const struct jit_buf *b)
{
	return (uint32_t)(b->p - b->start);
}

/* Whether n more bytes may be written; if not, the buffer overflows. */
static inline bool jit_buf_room(struct jit_buf *b, size_t n)
{
	if (b->overflow || (size_t)(b->end - b->p) < n) {
		b->overflow = true;
		return false;
	}
	return true;
}

static inline void jit_buf_put8(struct jit_buf *b, uint8_t v)
{
	if (jit_buf_room(b, 1))
		*b->p++ = v;
}

/* Store the n low bytes of v at p, least significant first. */
static inline void jit_buf_store_le(uint8_t *p, uint64_t v, unsigned n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* One store: the host's own order is the one wanted. */
	if (__builtin_constant_p(n)) {
		__builtin_memcpy(p, &v, n);
		return;
	}
#endif
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void jit_buf_put16(struct jit_buf *b, uint16_t v)
{
	if (jit_buf_room(b, 2)) {
		jit_buf_store_le(b->p, v, 2);
		b->p += 2;
	}
}

static inline void jit_buf_put32(struct jit_buf *b, uint32_t v)
{
	if (jit_buf_room(b, 4)) {
		jit_buf_store_le(b->p, v, 4);
		b->p += 4;
	}
}

static inline void jit_buf_put64(struct jit_buf *b, uint64_t v)
{
	if (jit_buf_room(b, 8)) {
		jit_buf_store_le(b->p, v, 8);
		b->p += 8;
	}
}

/*
 * Overwrite bytes already emitted: the byte, or the four bytes, at offset
 * `at`.  A patch reaching past what was written (an offset an overflowing
 * emit returned, say) overflows the buffer instead.
 */
static inline void jit_buf_patch8(struct jit_buf *b, uint32_t at, uint8_t v)
{
	if (at >= jit_buf_pos(b))
		b->overflow = true;
	else
		b->start[at] = v;
}

static inline void jit_buf_patch32(struct jit_buf *b, uint32_t at, uint32_t v)
{
	if (at > jit_buf_pos(b) || jit_buf_pos(b) - at < 4)
		b->overflow = true;
	else
		jit_buf_store_le(b->start + at, v, 4);
}

#endif /* K23_JIT_BUF_H */
