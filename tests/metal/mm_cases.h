/*
 * mm_cases.h - memory checks of the metal test image: the frame allocator,
 * the heap, page tables built by kernel/pt.c as the real MMU walks them,
 * satp, and code memory.  Each returns 0 or reports through sched_case_fail() (CASE_CHECK).
 */
#ifndef K23_TESTS_METAL_MM_CASES_H
#define K23_TESTS_METAL_MM_CASES_H

#define MM_CASES(X)						\
	X(frames_are_aligned_disjoint_in_ram_and_all_come_back)	\
	X(heap_objects_are_aligned_disjoint_and_all_come_back)	\
	X(mmu_walks_the_tables_as_pt_lookup_reads_them)		\
	X(mmu_faults_a_store_to_a_read_only_page)		\
	X(mmu_maps_a_lazy_page_on_first_touch)			\
	X(satp_reaches_the_active_space_directly)		\
	X(code_runs_after_seal_on_every_hart_and_changes_after_unseal) \
	X(clocks_tick_with_the_time_csr_and_the_wall_clock_is_a_date)

#define MM_CASE_DECLARE(name) int mm_case_##name(void);
MM_CASES(MM_CASE_DECLARE)
#undef MM_CASE_DECLARE

#endif /* K23_TESTS_METAL_MM_CASES_H */
