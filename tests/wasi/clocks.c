/*
 * clocks - the four WASI clocks exist and behave: every one has a
 * resolution between 1 ns and 1 s; the wall clock agrees with the host's
 * (argv[1]: the host's time in seconds since the epoch, from the test
 * harness); the monotonic clock never goes back; the monotonic, process
 * and thread CPU-time clocks advance while the program computes, the
 * thread's by no more than the time that passed; an unknown clock is EINVAL; libc's
 * clock_gettime and time() read the same clocks.
 */
#include <stdlib.h>
#include <time.h>
#include "wasi_test.h"

#define NS	1000000000ull

static const char *const clock_names[] = { "realtime", "monotonic", "process cputime", "thread cputime" };

static uint64_t now(__wasi_clockid_t id)
{
	__wasi_timestamp_t t = 0;

	(void)__wasi_clock_time_get(id, 1, &t);
	return t;
}

static volatile uint64_t sink;

/*
 * Compute until clock ID has advanced by NS_WANTED, or 5 s of monotonic
 * time have passed (a machine busy with other work gives a slice at a
 * time); returns how far ID advanced and sets *ELAPSED to the monotonic
 * time that took.
 */
static uint64_t spin(__wasi_clockid_t id, uint64_t ns_wanted, uint64_t *elapsed)
{
	uint64_t start = now(id), mono0 = now(__WASI_CLOCKID_MONOTONIC), mono;

	do {
		for (int i = 0; i < 10000; i++)
			sink = sink * 31 + (uint64_t)i;
		mono = now(__WASI_CLOCKID_MONOTONIC);
	} while (now(id) - start < ns_wanted && mono - mono0 < 5 * NS);
	*elapsed = now(__WASI_CLOCKID_MONOTONIC) - mono0;
	return now(id) - start;
}

int main(int argc, char **argv)
{
	char what[96];
	__wasi_timestamp_t t, res;
	__wasi_errno_t err;
	uint64_t host_ns, prev, elapsed;
	int backwards = 0;
	struct timespec ts;

	if (argc != 2) {
		fprintf(stderr, "usage: %s HOST_SECONDS\n", argv[0]);
		return 2;
	}
	host_ns = strtoull(argv[1], NULL, 10) * NS;

	for (__wasi_clockid_t id = 0; id < 4; id++) {
		res = 0;
		err = __wasi_clock_res_get(id, &res);
		snprintf(what, sizeof(what), "clock_res_get(%s)", clock_names[id]);
		check_errno(err, 0, what);
		snprintf(what, sizeof(what), "%s resolution is 1 ns to 1 s", clock_names[id]);
		check(res >= 1 && res <= NS, what, "%llu ns", (unsigned long long)res);
		t = 0;
		err = __wasi_clock_time_get(id, 1000, &t);
		snprintf(what, sizeof(what), "clock_time_get(%s)", clock_names[id]);
		check_errno(err, 0, what);
	}
	check_errno(__wasi_clock_res_get(4, &res), __WASI_ERRNO_INVAL, "clock_res_get(4) is EINVAL");
	check_errno(__wasi_clock_time_get(4, 1, &t), __WASI_ERRNO_INVAL, "clock_time_get(4) is EINVAL");
	check_errno(__wasi_clock_time_get(0xffffffff, 1, &t), __WASI_ERRNO_INVAL,
		    "clock_time_get(0xffffffff) is EINVAL");

	t = now(__WASI_CLOCKID_REALTIME);
	check(t + 60 * NS > host_ns && t < host_ns + 60 * NS, "realtime within 60 s of the host's",
	      "realtime %llu s, host %llu s", (unsigned long long)(t / NS),
	      (unsigned long long)(host_ns / NS));

	prev = now(__WASI_CLOCKID_MONOTONIC);
	for (int i = 0; i < 100000; i++) {
		t = now(__WASI_CLOCKID_MONOTONIC);
		backwards += t < prev;
		prev = t;
	}
	check(backwards == 0, "monotonic never goes back in 100000 reads", "%d times", backwards);

	/* Every clock moves while the program computes. */
	for (__wasi_clockid_t id = 1; id < 4; id++) {
		uint64_t used = spin(id, 20000000, &elapsed);

		snprintf(what, sizeof(what), "%s advances while computing", clock_names[id]);
		check(used >= 20000000, what, "%llu ns in %llu ns", (unsigned long long)used,
		      (unsigned long long)elapsed);
		if (id == __WASI_CLOCKID_THREAD_CPUTIME_ID) {
			/* One thread cannot use more CPU than the time that passed. */
			check(used <= elapsed + 1000000, "thread cputime no faster than monotonic",
			      "%llu ns of CPU in %llu ns", (unsigned long long)used,
			      (unsigned long long)elapsed);
		}
	}

	check(clock_gettime(CLOCK_MONOTONIC, &ts) == 0 &&
	      (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec >= prev,
	      "libc CLOCK_MONOTONIC reads the monotonic clock", "%lld.%09ld",
	      (long long)ts.tv_sec, ts.tv_nsec);
	t = now(__WASI_CLOCKID_REALTIME);
	check((uint64_t)time(NULL) + 2 >= t / NS && (uint64_t)time(NULL) <= t / NS + 2,
	      "libc time() reads the realtime clock", "time() %lld, realtime %llu s",
	      (long long)time(NULL), (unsigned long long)(t / NS));
	return test_status();
}
