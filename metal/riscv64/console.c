/*
 * console.c - console output on the 16550 UART the device tree names,
 * through the direct map; before it is known (or on a machine without
 * one), the SBI debug console, or the legacy SBI putchar.
 *
 * Lines from different harts do not interleave: a lock around each write,
 * which a hart already holding it (a panic while printing) walks through.
 */
#include <stdatomic.h>
#include "../../kernel/klib.h"
#include "metal.h"
#include "riscv.h"

#define UART_THR	0	/* transmit holding register */
#define UART_LSR	5	/* line status */
#define UART_LSR_THRE	0x20	/* THR empty */

static volatile uint8_t *uart;
static unsigned uart_shift;
static bool have_dbcn;
static atomic_uint owner = HAL_MAX_HARTS;	/* holder's hart id; HAL_MAX_HARTS: free */

void metal_console_init(void)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, SBI_EXT_DBCN, 0, 0, 0, 0);

	have_dbcn = !r.error && r.value;
	if (metal_fdt.uart_base) {
		uart_shift = metal_fdt.uart_shift;
		uart = (volatile uint8_t *)(uintptr_t)(METAL_KOFF + metal_fdt.uart_base);
	}
}

static void putc_raw(char c)
{
	if (uart) {
		while (!(uart[UART_LSR << uart_shift] & UART_LSR_THRE))
			;
		uart[UART_THR << uart_shift] = (uint8_t)c;
	} else if (have_dbcn) {
		sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, (uint8_t)c, 0, 0, 0, 0);
	} else {
		sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, (uint8_t)c, 0, 0, 0, 0);
	}
}

void hal_console_write(const char *s, size_t len)
{
	unsigned self = hal_hart_id(), free_ = HAL_MAX_HARTS;
	hal_irqstate_t st = hal_irq_save();
	bool mine = atomic_load_explicit(&owner, memory_order_relaxed) == self;

	if (!mine)
		while (!atomic_compare_exchange_weak_explicit(&owner, &free_, self,
							      memory_order_acquire,
							      memory_order_relaxed)) {
			free_ = HAL_MAX_HARTS;
			cpu_relax();
		}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
	if (!mine)
		atomic_store_explicit(&owner, HAL_MAX_HARTS, memory_order_release);
	hal_irq_restore(st);
}
