/*
 * cpu_x86_64.c - hal_cpu_features() on an x86-64 host: CPUID, read once.
 */
#include <cpuid.h>
#include "../kernel/hal.h"

uint64_t hal_cpu_features(void)
{
	static uint64_t features;
	static int known;
	unsigned a, b, c, d;
	uint64_t f = 0;

	if (__atomic_load_n(&known, __ATOMIC_ACQUIRE))
		return features;
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		f |= c & bit_SSE4_1 ? HAL_CPU_X86_SSE41 : 0;
		f |= c & bit_POPCNT ? HAL_CPU_X86_POPCNT : 0;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		f |= b & bit_BMI ? HAL_CPU_X86_BMI1 : 0;
		f |= b & bit_BMI2 ? HAL_CPU_X86_BMI2 : 0;
	}
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		f |= c & bit_LZCNT ? HAL_CPU_X86_LZCNT : 0;
	features = f;
	__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	return f;
}
