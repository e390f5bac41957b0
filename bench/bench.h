/*
 * bench.h - what every benchmark program (bench/bench_*.c) shares: the
 * clock, keeping the best of several rounds, order statistics, and the one
 * output line per figure that `make bench` promises:
 *
 *   bench: NAME VALUE UNIT
 *
 * Every bench_*.c is a program of its own, hence static inline.
 */
#ifndef K23_BENCH_H
#define K23_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC, in nanoseconds. */
static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The better (smaller) of two timings: each figure is the best of a few
 * rounds, because the machine is shared. */
static inline double bench_best(double a, double b)
{
	return a < b ? a : b;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The 99th percentile of v[0..n), n > 0; sorts v. */
static inline double bench_p99(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return v[n * 99 / 100];
}

/* The median of v[0..n), n > 0; sorts v. */
static inline double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Print the line "bench: NAME VALUE UNIT", VALUE with `decimals` digits
 * after the point. */
static inline void bench_report(const char *name, double value, int decimals, const char *unit)
{
	printf("bench: %s %.*f %s\n", name, decimals, value, unit);
}

/* Run a shell command and read the number its first line starts with:
 * the number, or -1 if the command failed or printed none above 0. */
static inline double bench_command_number(const char *cmd)
{
	char line[64];
	double v = -1;
	FILE *p = popen(cmd, "r");

	if (!p)
		return -1;
	if (fgets(line, sizeof(line), p))
		v = strtod(line, NULL);
	if (pclose(p) != 0)
		return -1;
	return v > 0 ? v : -1;
}

#endif /* K23_BENCH_H */
