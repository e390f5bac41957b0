/*
 * timer.c - each hart's sleeping tasks in a pairing heap on their
 * deadlines: insertion is O(1), removing the earliest O(log n) amortised,
 * and the links live in the task records, so sleeping never allocates.
 * (Fredman, Sedgewick, Sleator, Tarjan: "The pairing heap", 1986.)
 * Callers hold the hart's lock.
 */
#include <stddef.h>
#include "internal.h"

/* Make the later root the first child of the earlier one. */
static struct sched_task *meld(struct sched_task *a, struct sched_task *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (b->deadline < a->deadline) {
		struct sched_task *t = a;

		a = b;
		b = t;
	}
	b->heap_next = a->heap_child;
	a->heap_child = b;
	a->heap_next = NULL;
	return a;
}

void sched_timerq_insert(struct sched_task **root, struct sched_task *t)
{
	t->heap_child = t->heap_next = NULL;
	*root = meld(*root, t);
}

/* Two passes over the children of a removed root: meld pairs left to
 * right, then fold the pairs right to left. */
static struct sched_task *merge_children(struct sched_task *c)
{
	struct sched_task *pairs = NULL, *a, *b, *rest, *heap;

	while (c) {
		a = c;
		b = a->heap_next;
		rest = b ? b->heap_next : NULL;
		a->heap_next = NULL;
		if (b)
			b->heap_next = NULL;
		a = meld(a, b);
		a->heap_next = pairs;	/* stack the pairs (reuses the link) */
		pairs = a;
		c = rest;
	}
	heap = NULL;
	while (pairs) {
		a = pairs;
		pairs = a->heap_next;
		a->heap_next = NULL;
		heap = meld(heap, a);
	}
	return heap;
}

struct sched_task *sched_timerq_pop(struct sched_task **root)
{
	struct sched_task *top = *root;

	if (!top)
		return NULL;
	*root = merge_children(top->heap_child);
	top->heap_child = NULL;
	return top;
}
