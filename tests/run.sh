#!/bin/bash
# tests/run.sh - every test suite of `make test`, with one closing line.
#
# A Criterion binary is counted test by test (its TAP output); any other
# suite either ends with its own "N passed, N failed, N skipped" line, which
# is added in, or counts as one test judged by its exit status.
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
LOG=build/test-logs
mkdir -p "$LOG"
PASS=0 FAIL=0 SKIP=0 FAILED=""

add() { PASS=$((PASS + $1)); FAIL=$((FAIL + $2)); SKIP=$((SKIP + $3)); }

# suite_cmd NAME CMD...: run a command, echo its output, count it.
suite_cmd() {
	local name=$1; shift
	echo "== $name"
	"$@" 2>&1 | tee "$LOG/$name.log"
	local rc=${PIPESTATUS[0]}
	local last
	last=$(grep -E '^([A-Za-z][A-Za-z0-9-]*: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$LOG/$name.log" | tail -n 1)
	if [ -n "$last" ]; then
		set -- $(echo "$last" | sed -E 's/^[A-Za-z][A-Za-z0-9-]*: //; s/[^0-9 ]//g')
		add "$1" "$2" "${3:-0}"
		[ "$2" = 0 ] && [ "$rc" = 0 ] || { FAILED="$FAILED $name"; [ "$2" = 0 ] && add 0 1 0; }
	elif [ "$rc" = 0 ]; then
		add 1 0 0
	else
		add 0 1 0; FAILED="$FAILED $name"
	fi
}

# suite_criterion VARIANT: build and run every unit-test binary of a variant.
suite_criterion() {
	local variant=$1 bin name tap p f s rc
	echo "== unit ($variant)"
	if ! $MAKE -s unit VARIANT="$variant" >"$LOG/build-$variant.log" 2>&1; then
		cat "$LOG/build-$variant.log"; add 0 1 0; FAILED="$FAILED build-$variant"; return
	fi
	for bin in build/"$variant"/tests/test_*; do
		[ -x "$bin" ] && [ -f "$bin" ] || continue
		name=$(basename "$bin")
		tap="$LOG/$variant-$name.tap"
		# A hung test must not hang CI: each binary gets 10 minutes.
		timeout -k 10 600 "$bin" --tap="$tap" >"$LOG/$variant-$name.log" 2>&1
		rc=$?
		touch "$tap"
		p=$(grep -cE '^ok ' "$tap"); s=$(grep -cE '^ok .*# SKIP' "$tap")
		f=$(grep -cE '^not ok ' "$tap")
		p=$((p - s))
		if ! grep -qE '^1\.\.[0-9]+' "$tap" || [ "$f" != 0 ] || [ "$rc" != 0 ]; then
			cat "$LOG/$variant-$name.log"
			[ "$f" = 0 ] && f=1	# crashed before reporting
			FAILED="$FAILED $variant/$name"
		fi
		echo "   $name: $p passed, $f failed, $s skipped"
		add "$p" "$f" "$s"
	done
}

suite_cmd freestanding $MAKE -s freestanding
# The same objects booted on riscv64 in qemu-system (tests/metal/run.sh).
suite_cmd metal $MAKE -s metal-test
suite_criterion release
suite_criterion asan
# The scheduler's stress scenarios under ThreadSanitizer: a plain program,
# since Criterion's runner cannot start under GCC's TSan (sched_stress.c).
suite_cmd tsan-sched-stress sh -c "$MAKE -s VARIANT=tsan build/tsan/tests/sched_stress && build/tsan/tests/sched_stress"
# The same scenarios as an AArch64 program over tests/cross/shim.c, with
# LL/SC atomics (weakly ordered on hardware), under qemu-aarch64 unless
# the host is AArch64; the wake-up scenario runs for 30 s.
case $(uname -m) in aarch64) A64_RUN= ;; *) A64_RUN=qemu-aarch64 ;; esac
suite_cmd aarch64-sched-stress sh -c "$MAKE -s build/cross/sched_stress-aarch64 && \
	$A64_RUN build/cross/sched_stress-aarch64 30"
suite_cmd valgrind-boot valgrind -q --error-exitcode=1 --leak-check=full \
	--suppressions=tests/valgrind.supp \
	--errors-for-leak-kinds=definite build/release/k23sim --harts 2 --memory 64M
# The WASI programs (examples/ and tests/wasi/) under k23sim, their output
# compared with expected files (tests/wasi_run.sh); then again under the
# ASan+UBSan k23sim, since their bad pointers and escape attempts are
# aimed at the WASI layer.
suite_cmd wasi-apps $MAKE -s wasi-apps
suite_cmd wasi-apps-asan sh -c "$MAKE -s VARIANT=asan build/asan/k23sim && \
	K23SIM=build/asan/k23sim tests/wasi_run.sh"
suite_cmd spec $MAKE -s spec
suite_cmd wasi-testsuite $MAKE -s wasi-testsuite
# Yosys and clang, big C++ programs from npm, at work under k23sim
# (tests/real_apps.sh).
suite_cmd real-apps $MAKE -s real-apps
suite_cmd fuzz $MAKE -s fuzz FUZZ_TIME=45
# The JIT against V8 on the same modules every time: 200 from binaryen,
# 150 from tests/fuzz_gen.mjs.
suite_cmd fuzz-diff $MAKE -s fuzz-diff FUZZ_DIFF_FLAGS="-s 1-200 -j 2 -q"
suite_cmd fuzz-diff-gen $MAKE -s fuzz-diff FUZZ_DIFF_FLAGS="-G -s 1-150 -j 2 -q"

echo
[ -n "$FAILED" ] && echo "failed:$FAILED"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
