/* bench.h - the guest half of bench/bench_metal.c (tests/metal/bench.c). */
#ifndef K23_TESTS_METAL_BENCH_H
#define K23_TESTS_METAL_BENCH_H

/* Print "metal-bench: switch_ns N.N" and "metal-bench: switch_asm_ns N.N";
 * 0, or 1 when a task could not be spawned. */
int metal_bench_switch(void);

#endif /* K23_TESTS_METAL_BENCH_H */
