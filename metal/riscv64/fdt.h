/*
 * fdt.h - a small reader of the flattened device tree (Devicetree
 * Specification v0.4, chapter 5 "Flattened Devicetree (DTB) Format") for
 * what the metal platform needs to know: RAM, reserved ranges, harts, the
 * timebase, the console UART, the test (exit) device, the RTC and the PLIC.
 *
 * The blob comes from firmware and is not trusted: every offset, length
 * and string is checked against the blob's own bounds before it is read,
 * nesting is limited, and the first inconsistency stops the parse with a
 * message and the offset where it was found.  Nothing is written outside
 * struct fdt_info.
 */
#ifndef K23_METAL_FDT_H
#define K23_METAL_FDT_H

#include <stddef.h>
#include <stdint.h>
#include "../../kernel/hal.h"

#define FDT_MAX_RAM		8
#define FDT_MAX_RESERVED	16
#define FDT_MAX_BOOTARGS	256

struct fdt_info {
	struct hal_mem_region ram[FDT_MAX_RAM];		/* /memory reg */
	unsigned nram;
	struct hal_mem_region reserved[FDT_MAX_RESERVED]; /* /memreserve/, /reserved-memory */
	unsigned nreserved;
	uint64_t hartids[HAL_MAX_HARTS];	/* enabled /cpus/cpu nodes, in tree order */
	unsigned nharts;
	unsigned max_paging;		/* best satp mode every hart lists (8/9/10), 0: unknown */
	uint64_t timebase_hz;		/* /cpus timebase-frequency */
	uint64_t uart_base;		/* ns16550(a); 0: none */
	unsigned uart_shift;		/* reg-shift */
	uint64_t test_base;		/* sifive,test0/1 (qemu's exit device); 0: none */
	uint64_t rtc_base;		/* google,goldfish-rtc; 0: none */
	uint64_t plic_base;		/* riscv,plic0 / sifive,plic-1.0.0; 0: none */
	uint64_t plic_size;
	char bootargs[FDT_MAX_BOOTARGS];	/* /chosen bootargs, truncated */

	/* After a failed parse: what was wrong, and where (byte offset in the blob). */
	const char *error;
	uint32_t error_offset;
};

/*
 * Parse the blob at fdt, of which at most max_len bytes may be read.
 * Returns 0, or -1 with info->error set.  On failure, what was read from
 * well-formed nodes before the error stays in *info (the platform uses the
 * console and exit device found there to report the error).
 */
int fdt_parse(const void *fdt, size_t max_len, struct fdt_info *info);

#endif /* K23_METAL_FDT_H */
