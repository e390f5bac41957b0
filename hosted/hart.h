/*
 * hart.h - the hosted platform's own shared state (hosted/ only): a hart is
 * a pthread with a per-thread timer, its soft interrupt-enable flag and its
 * pending interrupts.
 */
#ifndef K23_HOSTED_HART_H
#define K23_HOSTED_HART_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "../kernel/hal.h"

#define HART_SIG_TIMER	(SIGRTMIN + 0)
#define HART_SIG_IPI	(SIGRTMIN + 1)

/* Pending interrupt bits (sip). */
#define HART_PEND_SOFT	1u
#define HART_PEND_TIMER	2u

struct hart {
	unsigned id;
	pthread_t thread;
	pid_t tid;
	timer_t timer;
	bool timer_ok;
	bool started;
	void *local;			/* hal_hart_local() */
	void *altstack;			/* signal stack: faults on a blown stack still trap */
	/*
	 * sstatus.SIE, inverted.  Only this hart's thread writes it (in
	 * thread context or its own signal handlers), so a plain volatile
	 * with compiler barriers is enough.
	 */
	volatile int irq_off;
	atomic_uint pending;		/* set by signal handlers and IPI senders */
} __attribute__((aligned(64)));

extern struct hart hosted_harts[HAL_MAX_HARTS];
extern unsigned hosted_nharts;
extern __thread struct hart *hosted_self;

/* hosted/harts.c */
int hosted_harts_init(unsigned nharts);
void hosted_harts_stop(void);
/* Deliver pending interrupts; the hart's interrupts are off (irq_off set). */
void hosted_deliver_pending(struct hart *h, void *uctx);

/* hosted/trap.c */
int hosted_traps_init(void);
int hosted_hart_traps_init(struct hart *h);
void hosted_hart_traps_fini(struct hart *h);

/* hosted/mem.c */
int hosted_mem_init(uint64_t size);
void hosted_mem_fini(void);
/* --perf-map: /tmp/perf-PID.map names the JIT's code for perf. */
int hosted_perf_map_open(void);
void hosted_perf_map_close(void);

#endif /* K23_HOSTED_HART_H */
