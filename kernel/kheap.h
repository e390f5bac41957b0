/*
 * kheap.h - the kernel heap: kmalloc/kfree with size classes, backed by the
 * frame allocator.  Small sizes come from per-class slabs of whole frames;
 * larger ones are frame blocks of their own.  Alignment: 16 bytes, and
 * a whole frame for sizes of a frame or more.
 */
#ifndef K23_KHEAP_H
#define K23_KHEAP_H

#include <stddef.h>

void *kmalloc(size_t size);		/* NULL when out of memory or size 0 */
void *kzalloc(size_t size);		/* zeroed */
void kfree(void *p);			/* NULL is ignored */
size_t kmalloc_usable_size(const void *p);

/*
 * Give every per-hart object cache back to the slabs and every empty slab
 * back to the frame allocator (tests, low memory).  Same rules as
 * frame_drain_caches(): each hart drains its own through smp_call_all().
 */
void kheap_drain_caches(void);

#endif /* K23_KHEAP_H */
