/*
 * poll - poll_oneoff with clock subscriptions: a relative timeout sleeps at
 * least that long (and not wildly longer), an absolute deadline likewise,
 * of two clocks the earlier fires alone with its userdata, a zero timeout
 * returns at once; fd subscriptions: stdout is writable at once (before a
 * long clock), a bad descriptor is EBADF;
 * no subscriptions is EINVAL; and libc's nanosleep and sched_yield work.
 */
#include <sched.h>
#include <time.h>
#include "wasi_test.h"

#define MS	1000000ull

static uint64_t mono(void)
{
	__wasi_timestamp_t t = 0;

	(void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
	return t;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, uint64_t timeout, int absolute)
{
	__wasi_subscription_t s = { .userdata = userdata, .u.tag = __WASI_EVENTTYPE_CLOCK };

	s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
	s.u.u.clock.timeout = timeout;
	s.u.u.clock.flags = absolute ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
	return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, __wasi_eventtype_t type, __wasi_fd_t fd)
{
	__wasi_subscription_t s = { .userdata = userdata, .u.tag = type };

	s.u.u.fd_write.file_descriptor = fd;
	return s;
}

int main(void)
{
	__wasi_subscription_t subs[2];
	__wasi_event_t ev[2];
	__wasi_size_t n = 0;
	__wasi_errno_t err;
	uint64_t t0, took;
	struct timespec ts = { 0, 20 * MS };

	subs[0] = clock_sub(42, 50 * MS, 0);
	t0 = mono();
	check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll a relative 50 ms clock");
	took = mono() - t0;
	check(took >= 50 * MS, "it slept at least 50 ms", "%llu ns", (unsigned long long)took);
	check(took < 5000 * MS, "and less than 5 s", "%llu ns", (unsigned long long)took);
	check(n == 1 && ev[0].userdata == 42 && ev[0].type == __WASI_EVENTTYPE_CLOCK &&
	      ev[0].error == 0, "one clock event with its userdata", "n %u userdata %llu type %u",
	      (unsigned)n, (unsigned long long)ev[0].userdata, ev[0].type);

	t0 = mono();
	subs[0] = clock_sub(7, t0 + 30 * MS, 1);
	check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll an absolute deadline 30 ms away");
	took = mono() - t0;
	check(took >= 30 * MS && n == 1 && ev[0].userdata == 7, "it woke at the deadline",
	      "after %llu ns, n %u", (unsigned long long)took, (unsigned)n);

	subs[0] = clock_sub(1, 300 * MS, 0);
	subs[1] = clock_sub(2, 20 * MS, 0);
	t0 = mono();
	check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll clocks of 300 ms and 20 ms");
	took = mono() - t0;
	check(n == 1 && ev[0].userdata == 2 && took < 300 * MS, "the 20 ms clock fires alone",
	      "n %u, userdata %llu, after %llu ns", (unsigned)n, (unsigned long long)ev[0].userdata,
	      (unsigned long long)took);

	subs[0] = clock_sub(3, 0, 0);
	t0 = mono();
	check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll a zero timeout");
	check(n == 1 && mono() - t0 < 100 * MS, "it returns at once", "n %u", (unsigned)n);

	fflush(stdout);
	subs[0] = fd_sub(5, __WASI_EVENTTYPE_FD_WRITE, 1);
	subs[1] = clock_sub(6, 2000 * MS, 0);
	t0 = mono();
	check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll stdout for writing, 2 s clock");
	took = mono() - t0;
	check(n >= 1 && ev[0].userdata == 5 && ev[0].type == __WASI_EVENTTYPE_FD_WRITE &&
	      ev[0].error == 0 && took < 1000 * MS, "stdout is writable at once",
	      "n %u, userdata %llu, type %u, error %s, after %llu ns", (unsigned)n,
	      (unsigned long long)ev[0].userdata, ev[0].type, test_errno_name(ev[0].error),
	      (unsigned long long)took);

	/* wasmtime fails the call; the spec's event error is as good. */
	subs[0] = fd_sub(8, __WASI_EVENTTYPE_FD_READ, 1000);
	err = __wasi_poll_oneoff(subs, ev, 1, &n);
	check(err == __WASI_ERRNO_BADF || (err == 0 && n == 1 && ev[0].userdata == 8 &&
					    ev[0].error == __WASI_ERRNO_BADF),
	      "polling a bad descriptor is EBADF (the call's or its event's)",
	      "poll %s, n %u, event error %s", test_errno_name(err), (unsigned)n,
	      test_errno_name(ev[0].error));

	check_errno(__wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL,
		    "poll with no subscriptions is EINVAL");

	t0 = mono();
	check(nanosleep(&ts, NULL) == 0 && mono() - t0 >= 20 * MS, "nanosleep 20 ms", "too short");
	check(sched_yield() == 0, "sched_yield", "failed");
	return test_status();
}
