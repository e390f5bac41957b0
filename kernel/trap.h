/*
 * trap.h - what kernel_trap() (hal.h) counts and whom it calls.
 */
#ifndef K23_TRAP_H
#define K23_TRAP_H

#include <stdint.h>

/* Per-hart trap counters, for tests and the self-check. */
struct trap_counts {
	uint64_t timer;		/* TRAP_IRQ_TIMER */
	uint64_t soft;		/* TRAP_IRQ_SOFT (IPIs) */
	uint64_t page_faults;	/* resolved page faults */
};
void trap_counts(unsigned hart, struct trap_counts *out);

/* Human name of an scause value ("load page fault", "timer interrupt"). */
const char *trap_cause_name(uint64_t cause);

#endif /* K23_TRAP_H */
