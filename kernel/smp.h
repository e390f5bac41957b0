/*
 * smp.h - running a function on other harts.  The function runs in the
 * target hart's idle loop (thread context, interrupts enabled), not inside
 * the IPI handler: the IPI only wakes the hart.  Used at boot, by tests and
 * by benchmarks that must load every hart at once.
 */
#ifndef K23_SMP_H
#define K23_SMP_H

#include <stdbool.h>

typedef void (*smp_fn)(void *arg);

/*
 * Run fn(arg) on every hart, the caller included, at the same time, and
 * return when all have finished.  One smp_call_all at a time.
 */
void smp_call_all(smp_fn fn, void *arg);

/* Run fn(arg) on one other hart and wait for it.  -K_EINVAL for a bad hart. */
int smp_call_on(unsigned hart, smp_fn fn, void *arg);

/* Idle loops call this: run the hart's pending call, if any.  true if one ran. */
bool smp_poll(void);

#endif /* K23_SMP_H */
