/*
 * cpu_aarch64.c - hal_cpu_features() on an AArch64 host: nothing the JIT
 * uses beyond ARMv8.0 yet.
 */
#include "../kernel/hal.h"

uint64_t hal_cpu_features(void)
{
	return 0;
}
