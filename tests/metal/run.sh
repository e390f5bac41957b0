#!/bin/bash
# tests/metal/run.sh - the metal suite of `make test`: the kernel booted in
# qemu-system-riscv64 (virt, OpenSBI), every run under a timeout so that
# nothing can hang CI.  Ends with "N passed, N failed, N skipped".
#
#   boot      k23.elf on 1 and 4 harts, Sv39 and Sv48: banner, self-check,
#             QEMU exit code 0 (the test device)
#   status    a panic at boot reaches QEMU's exit code (125)
#   crash     a kernel fault in a task panics with the trap and a named
#             backtrace through the trap frame and the task's stack; a
#             task's stack overflow panics (traps run on a trap stack)
#   dtb       device trees with a truncated structure block, a lying
#             property length and unbalanced nodes: one panic line naming
#             the problem, exit code 125, no hang; the reader fuzzed on the
#             host (build/metal/dtb_tool, ASan+UBSan)
#   cases     the metal test image: the scheduler's shared cases and the
#             frame, heap, MMU, satp and code-memory cases, each in a
#             freshly booted kernel (memory cases in Sv39 and in Sv48 on 2
#             harts)
set -u
cd "$(dirname "$0")/../.."
ELF=build/metal/k23.elf
TEST_ELF=build/metal/k23-test.elf
DTB_TOOL=build/metal/dtb_tool
OUT=build/test-logs/metal
QEMU=(qemu-system-riscv64 -machine virt -nographic -bios default)
mkdir -p "$OUT"
PASS=0 FAIL=0 SKIP=0

ok() { PASS=$((PASS + 1)); echo "   ok $1"; }
bad() { FAIL=$((FAIL + 1)); echo "   FAILED $1: $2"; [ -f "${3:-}" ] && sed 's/^/     | /' "$3" | tail -n 25; }

# boot LOG TIMEOUT QEMU-ARGS...: run QEMU, the console in LOG (without
# carriage returns); sets RC.
boot() {
	local log=$1 t=$2
	shift 2
	timeout -k 5 "$t" "${QEMU[@]}" "$@" </dev/null 2>&1 | tr -d '\r' >"$log"
	RC=${PIPESTATUS[0]}
}

# panicked_once LOG PATTERN: the boot ended in exactly one panic, whose
# line matches PATTERN (grep), with QEMU's exit code 125.
panicked_once() {
	[ "$RC" = 125 ] && [ "$(grep -c '^panic:' "$1")" = 1 ] && grep -q "$2" "$1"
}

for f in "$ELF" "$TEST_ELF" "$DTB_TOOL"; do
	[ -f "$f" ] || { echo "metal: $f missing (make metal)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done

echo "-- boot"
for smp in 1 4; do
	for mode in sv39 sv48; do
		name="boot-smp$smp-$mode" log="$OUT/$name.log"
		boot "$log" 60 -m 512M -smp "$smp" -kernel "$ELF" -append "paging=$mode"
		if [ "$RC" != 0 ]; then
			bad "$name" "exit code $RC" "$log"
		elif ! grep -qx "k23: $smp harts, paging $mode" "$log"; then
			bad "$name" "no banner for $smp harts, $mode" "$log"
		elif [ "$(grep -cE '^self-check: .* ok$' "$log")" != 3 ] || grep -q FAILED "$log"; then
			bad "$name" "self-check did not pass" "$log"
		else
			ok "$name"
		fi
	done
done

echo "-- status"
log="$OUT/status.log"
boot "$log" 60 -m 128M -smp 1 -kernel "$ELF" -append "paging=sv99"
if [ "$RC" = 125 ] && grep -q '^panic: hart 0: metal_start: bad paging=sv99' "$log"; then
	ok "panic-exit-code"
else
	bad "panic-exit-code" "exit code $RC, want 125 and the panic" "$log"
fi

echo "-- crash"
log="$OUT/crash.log"
boot "$log" 60 -m 128M -smp 1 -kernel "$TEST_ELF" -append "case=crash"
if [ "$RC" = 125 ] &&
   grep -q '^panic: hart 0: kernel_trap: unhandled store page fault .* stval 0x10,' "$log" &&
   grep -qE '^  #[0-9]+ +0x[0-9a-f]+ metal_trap_vector\+' "$log" &&
   grep -qE '^  #[0-9]+ +0x[0-9a-f]+ crash_in_a_named_function\+' "$log" &&
   grep -qE '^  #[0-9]+ +0x[0-9a-f]+ crashing_task\+' "$log" &&
   grep -qE '^  #[0-9]+ +0x[0-9a-f]+ task_entry\+' "$log"; then
	ok "panic-backtrace-through-the-trap"
else
	bad "panic-backtrace-through-the-trap" "exit code $RC, or the backtrace misses a frame" "$log"
fi

log="$OUT/overflow.log"
boot "$log" 60 -m 128M -smp 1 -kernel "$TEST_ELF" -append "case=overflow"
if panicked_once "$log" "^panic: hart 0: sched: task 'task' (#[0-9]*) overflowed its [0-9]*-byte stack"; then
	ok "stack-overflow-panics"
else
	bad "stack-overflow-panics" "exit code $RC (124: hung), want the overflow panic" "$log"
fi

echo "-- dtb"
dtb="$OUT/virt.dtb"
rm -f "$dtb"
timeout 30 "${QEMU[@]}" -machine virt,dumpdtb="$dtb" -m 512M -smp 4 >/dev/null 2>&1
if [ ! -s "$dtb" ]; then
	bad "dtb-dump" "QEMU did not dump its device tree"
else
	for kind in truncate badlen unbalanced; do
		name="dtb-$kind" log="$OUT/$name.log"
		if ! "$DTB_TOOL" corrupt "$kind" "$dtb" "$OUT/$kind.dtb"; then
			bad "$name" "dtb_tool failed"
			continue
		fi
		boot "$log" 30 -m 512M -smp 4 -dtb "$OUT/$kind.dtb" -kernel "$ELF"
		if panicked_once "$log" '^panic: hart 0: metal_start: malformed device tree at 0x[0-9a-f]*: .* at offset 0x'; then
			ok "$name"
		else
			bad "$name" "exit code $RC (124: timed out), want one panic line and 125" "$log"
		fi
	done
	log="$OUT/dtb-fuzz.log"
	if "$DTB_TOOL" fuzz "$dtb" 20000 >"$log" 2>&1 && grep -q '^fuzz: [0-9]* passed, 0 failed$' "$log"; then
		ok "dtb-fuzz ($(sed -n 's/^fuzz: \([0-9]*\) passed.*/\1/p' "$log") parses)"
	else
		bad "dtb-fuzz" "the reader crashed or misjudged a blob" "$log"
	fi
fi

echo "-- cases"
boot "$OUT/list.log" 30 -m 128M -smp 1 -kernel "$TEST_ELF" -append "case=list"
cases=$(sed -n 's/^case-list: //p' "$OUT/list.log")
[ -n "$cases" ] || bad "case-list" "the test image listed no cases" "$OUT/list.log"
# run_case NAME SMP MODE
run_case() {
	local name=$1 log="$OUT/case-$1-$3.log"
	boot "$log" 60 -m 128M -smp "$2" -kernel "$TEST_ELF" -append "case=$1 paging=$3"
	if [ "$RC" = 0 ] && grep -qx "case $1: ok" "$log"; then
		ok "$1 ($3)"
	else
		bad "$1 ($3)" "exit code $RC" "$log"
	fi
}
for c in $cases; do
	case $c in
	frames_*|heap_*|mmu_*|satp_*|code_*|clocks_*)
		run_case "$c" 2 sv39
		run_case "$c" 2 sv48 ;;
	*)
		run_case "$c" 1 sv39 ;;
	esac
done

echo "metal: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
