/*
 * spec.h - the spec test runner's two halves (`make spec`):
 *
 *   spec_runner.c  the driver: runs each JSON file in a child process of
 *                  its own, with a timeout, a few at a time, and adds up
 *                  what the children report
 *   spec_file.c    one file, in that child: boots the kernel (hosted_run)
 *                  and runs the file's commands through the JIT (jit/jit.h)
 *
 * The child reports to the driver through a pipe, one text record per
 * line, written as it goes so that a crash loses nothing already counted:
 *
 *   T <n>          the file has n commands (first)
 *   L <line>       the command at this .wast line starts
 *   P              it passed
 *   F <category>   it failed, for a reason of this category
 *   S <reason>     it was skipped, for this reason
 *   D              the file is done (last; without it the child crashed)
 *
 * What the child prints on stdout or stderr (failures, notes, a panic) the
 * driver shows above the file's summary line, in file order.
 */
#ifndef K23_TESTS_SPEC_H
#define K23_TESTS_SPEC_H

#include <stdbool.h>
#include <stdint.h>

struct spec_opts {
	bool verbose;		/* -v: every failure with expected and got */
	unsigned harts;		/* the child's machine */
	uint64_t memory;	/* bytes of simulated RAM */
	unsigned call_timeout;	/* seconds one call or instantiation may run */
};

/*
 * Run the commands of the wast2json file at path, in this (child)
 * process, reporting to report_fd as above; shown is its name for the
 * messages ("core/i32.json").  Files in a directory named simd/ are only
 * decoded and validated; their execution commands are skipped.  The
 * process's exit status: 0 (failures are reported, not returned), or
 * nonzero when the kernel could not boot.  Once per process.
 */
int spec_file_run(const char *path, const char *shown, const struct spec_opts *opts,
		  int report_fd);

#endif /* K23_TESTS_SPEC_H */
