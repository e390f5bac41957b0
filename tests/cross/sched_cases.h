/*
 * sched_cases.h - the scheduler unit tests that run on every architecture:
 * natively under Criterion (tests/test_sched_cases.c, on the hosted
 * platform) and as small static programs for x86-64, AArch64 and riscv64
 * (tests/cross/main.c over tests/cross/shim.c), run under qemu-user by
 * tests/test_sched_cross.c.  Each case runs as the init task of a freshly
 * booted scheduler and returns 0, or reports through sched_case_fail().
 */
#ifndef K23_TESTS_SCHED_CASES_H
#define K23_TESTS_SCHED_CASES_H

#define SCHED_CASES(X)						\
	X(ctx_switch_preserves_callee_saved_registers)		\
	X(ctx_new_context_gets_its_argument_and_an_aligned_stack) \
	X(spawn_join_returns_the_exit_value)			\
	X(many_tasks_all_run_and_finish)			\
	X(yield_runs_pinned_tasks_round_robin)			\
	X(task_local_storage_is_per_task)			\
	X(timer_heap_pops_in_deadline_order)			\
	X(sleep_wakes_at_the_deadline_on_the_virtual_clock)	\
	X(sleep_waits_real_time)				\
	X(deterministic_mode_replays_a_seed_exactly)		\
	X(mutex_excludes_and_serves_waiters_in_order)		\
	X(semaphore_bounds_concurrency)				\
	X(waitq_wake_all_wakes_every_waiter)			\
	X(chan_delivers_in_order_and_blocks_when_full)		\
	X(chan_try_ops_report_full_and_empty)			\
	X(chan_close_wakes_the_blocked_receiver)		\
	X(chan_send_to_a_closed_receiver_fails)			\
	X(chan_rejects_bad_handles_and_big_messages)

#define SCHED_CASE_DECLARE(name) int sched_case_##name(void);
SCHED_CASES(SCHED_CASE_DECLARE)
#undef SCHED_CASE_DECLARE

/* Provided by each runner: report a failed check (printf-style). */
void sched_case_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CASE_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		sched_case_fail(__FILE__, __LINE__, "check '" #cond "' failed: " __VA_ARGS__); \
		return 1;						\
	}								\
} while (0)

#endif /* K23_TESTS_SCHED_CASES_H */
