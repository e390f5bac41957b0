#!/bin/bash
# tests/real_apps.sh - big real-world WASI preview1 programs under k23sim:
# Yosys (C++, the @yowasp/yosys module) works on tests/real_apps/design.v,
# and LLVM's clang and wasm-ld (the @yowasp/clang module) compile and link
# tests/real_apps/words.c and tally.cc, whose modules then run under k23sim
# too.  Each check asserts what the program computed (cell counts, a proof,
# the compiled program's output), the same under node's WASI.
# `make real-apps` fetches the packages and runs it; tests/run.sh runs it as
# the real-apps suite.
#
#	tests/real_apps.sh YOSYS_DIR CLANG_DIR
#
# YOSYS_DIR holds yosys.core.wasm and share/ (preopened as /share), CLANG_DIR
# llvm.core.wasm and usr/ (preopened as /usr), as the Makefile unpacks them.
# Every check gets the folders WORK (as /work) and TMP (as /tmp) in a
# temporary folder, removed at the end.  (A yosys script given with -p
# takes a newline, like a semicolon, as the end of a command.)
#
# Environment: K23SIM (default ./k23sim) is the runtime; REAL_APPS_RUNTIME=node
# runs every module under node's WASI instead (bench/run_wasi.mjs, which takes
# the same --dir and --env), to check the expectations or compare the times
# that each PASS line shows (wall clock, one figure per run).
set -u
export LC_ALL=C		# sort's order of the expected lists
cd "$(dirname "$0")/.."
if [ $# != 2 ] || [ ! -f "$1/yosys.core.wasm" ] || [ ! -f "$2/llvm.core.wasm" ]; then
	echo "usage: tests/real_apps.sh YOSYS_DIR CLANG_DIR (run 'make real-apps')"
	echo "real-apps: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
YOSYS_DIR=$(realpath "$1") CLANG_DIR=$(realpath "$2")
SRC=$PWD/tests/real_apps
case ${REAL_APPS_RUNTIME:-k23sim} in
# Node 20's fast calls of WASI functions can start a garbage collection
# inside the call, which crashes it in long runs (nodejs/node#46777).
node)	RUNTIME=(node --no-warnings --no-turbo-fast-api-calls "$PWD/bench/run_wasi.mjs") ;;
*)	RUNTIME=("$(realpath "${K23SIM:-./k23sim}")") ;;
esac
PASS=0 FAIL=0 SKIP=0 FAILED=""
T=$(mktemp -d "${TMPDIR:-/tmp}/k23-real-apps.XXXXXX")
trap 'rm -rf "$T"' EXIT

pass() { PASS=$((PASS + 1)); echo "PASS $1 (${RUNTIME[0]##*/}:$TIMES)"; }
fail() {
	FAIL=$((FAIL + 1)); FAILED="$FAILED $1"
	echo "FAIL $1: $2"
	[ -n "${3:-}" ] && [ -s "$3" ] && head -n 30 "$3" | sed 's/^/     | /'
	return 0
}

# begin NAME: fresh WORK and TMP folders for one check.
begin() {
	NAME=$1 TIMES=""
	WORK=$T/$1/work TMP=$T/$1/tmp
	mkdir -p "$WORK" "$TMP"
}

# run OUT MODULE ARGS...: run a module with WORK and TMP preopened (and
# yosys' share/ or clang's usr/), stdout and stderr in WORK/OUT.stdout and
# WORK/OUT.stderr, its status in RC and its wall time added to TIMES.
run() {
	local out=$WORK/$1 module=$2 start end
	local -a dirs=(--dir "$WORK::/work" --dir "$TMP::/tmp")
	shift 2
	case $module in
	yosys)	module=$YOSYS_DIR/yosys.core.wasm; dirs+=(--dir "$YOSYS_DIR/share::/share") ;;
	llvm)	module=$CLANG_DIR/llvm.core.wasm; dirs+=(--dir "$CLANG_DIR/usr::/usr" --env TMPDIR=/tmp) ;;
	esac
	start=$(date +%s%N)
	timeout -k 5 120 "${RUNTIME[@]}" "${dirs[@]}" "$module" "$@" \
		</dev/null >"$out.stdout" 2>"$out.stderr"
	RC=$?
	end=$(date +%s%N)
	TIMES="$TIMES $(( (end - start) / 1000000 )) ms"
}

# expect_rc WANT OUT: RC is WANT, or why not (stderr's first lines shown).
expect_rc() {
	[ "$RC" = "$1" ] && return 0
	fail "$NAME" "$2: exit status $RC, want $1" "$WORK/$2.stderr"
	return 1
}

# cell_counts FILE: the cell types and counts of the last module of a
# yosys `stat` report (or of its design hierarchy total), one per line.
cell_counts() {
	awk '/^=== /	{ n = 0; cells = "" }
	     /Number of cells:/	{ n = 1; cells = "cells " $4 "\n"; next }
	     n && NF == 2	{ cells = cells $1 " " $2 "\n"; next }
	     n && NF != 2	{ n = 0 }
	     END		{ printf "%s", cells }' "$1"
}

# same WHAT WANT GOT: a check of one figure, or why not.
same() {
	[ "$2" = "$3" ] && return 0
	diff <(echo "$2") <(echo "$3") >"$WORK/same.diff"
	fail "$NAME" "$1 differ (<: want, >: got)" "$WORK/same.diff"
	return 1
}

# -- Yosys ---------------------------------------------------------------

# The RTL passes: counter, adder and detector as word-level cells.  The
# counter's sync reset and enable fold into an $sdffe flip-flop, the
# detector's reset into an $sdff, and its case statement into one $pmux fed
# by four $eq compares.
yosys_rtl() {
	begin yosys-rtl
	cp "$SRC/design.v" "$WORK/"
	run yosys yosys -q -p "read_verilog /work/design.v; hierarchy -top top;
		proc; opt; wreduce; alumacc; opt; memory; opt;
		tee -q -o /work/stat.txt stat; write_json /work/design.json"
	expect_rc 0 yosys || return
	same "design cells" "cells 15
\$alu 2
\$eq 4
\$logic_not 1
\$mux 4
\$pmux 1
\$reduce_or 1
\$sdff 1
\$sdffe 1" "$(cell_counts "$WORK/stat.txt")" || return
	# The same cells, one instance per submodule, in the netlist it wrote.
	same "JSON cell types" "2 \$alu
4 \$eq
1 \$logic_not
4 \$mux
1 \$pmux
1 \$reduce_or
1 \$sdff
1 \$sdffe
1 adder
1 counter
1 detect" "$(grep -o '"type": "[^"]*"' "$WORK/design.json" | sort | uniq -c |
		awk '{ gsub(/"/, "", $3); print $1, $3 }')" || return
	grep -q '"creator": "Yosys 0.55 ' "$WORK/design.json" ||
		{ fail "$NAME" "no Yosys 0.55 creator in design.json" "$WORK/design.json"; return; }
	pass "$NAME"
}

# The adder evaluated by yosys' `eval`: 200 + 100 + 1 = 301 = 256 + 45.
yosys_eval() {
	begin yosys-eval
	cp "$SRC/design.v" "$WORK/"
	run yosys yosys -q -p "read_verilog /work/design.v; hierarchy -top adder; proc;
		tee -q -o /work/eval.txt eval -set a 200 -set b 100 -set ci 1 -show s -show co"
	expect_rc 0 yosys || return
	same "eval results" "Eval result: \\s = 8'00101101.
Eval result: \\co = 1'1." "$(grep '^Eval result' "$WORK/eval.txt")" || return
	pass "$NAME"
}

# `synth` down to gates, through ABC and the techmap libraries of share/:
# 8 flip-flops with reset and enable for the counter and 5 for the
# detector, one-hot recoded by the fsm pass.  The gate counts are ABC's.
yosys_synth() {
	begin yosys-synth
	cp "$SRC/design.v" "$WORK/"
	run yosys yosys -q -p "read_verilog /work/design.v; synth -top top -flatten;
		tee -q -o /work/stat.txt stat; write_verilog -noattr /work/gate.v"
	expect_rc 0 yosys || return
	same "gate counts" "cells 97
\$_ANDNOT_ 20
\$_AND_ 10
\$_DFF_P_ 5
\$_NAND_ 6
\$_NOR_ 10
\$_NOT_ 1
\$_OR_ 11
\$_SDFFE_PP0P_ 8
\$_XNOR_ 11
\$_XOR_ 12
\$scopeinfo 3" "$(cell_counts "$WORK/stat.txt")" || return
	cp "$WORK/gate.v" "$T/gate.v"
	pass "$NAME"
}

# prove NAME GOLD: yosys' SAT solver compares GOLD (a Verilog file) with
# the gate netlist of yosys-synth, both reset in the first of 20 clock
# cycles, with any inputs after it; its report is WORK/proof.txt.
prove() {
	begin "$1"
	cp "$2" "$WORK/gold.v"
	cp "$T/gate.v" "$WORK/gate.v"
	run yosys yosys -q -p "read_verilog /work/gold.v; prep -top top -flatten;
		rename top gold; design -stash gold;
		read_verilog /work/gate.v; proc; rename top gate; design -stash gate;
		design -copy-from gold -as gold gold; design -copy-from gate -as gate gate;
		miter -equiv -flatten -make_outputs gold gate miter;
		hierarchy -top miter;
		tee -q -o /work/proof.txt sat -verify -seq 20 -set-at 1 in_rst 1 -prove-skip 1 -prove trigger 0 miter"
}

yosys_prove() {
	if [ ! -f "$T/gate.v" ]; then
		begin yosys-prove; fail "$NAME" "no gate netlist from yosys-synth"; return
	fi
	prove yosys-prove "$SRC/design.v"
	expect_rc 0 yosys || return
	grep -q '^SAT proof finished - no model found: SUCCESS!' "$WORK/proof.txt" ||
		{ fail "$NAME" "no SUCCESS in the proof" "$WORK/proof.txt"; return; }
	pass "$NAME"
}

# The detector with one transition changed (after 101, a 0 goes back to
# idle, not to 10): after 1010 11 only the netlist finds 1011, and the
# solver must find some such inputs and fail the proof.
yosys_prove_mutant() {
	if [ ! -f "$T/gate.v" ]; then
		begin yosys-prove-mutant; fail "$NAME" "no gate netlist from yosys-synth"; return
	fi
	sed 's/S101:\tstate <= x ? S1011 : S10;/S101:\tstate <= x ? S1011 : IDLE;/' \
		"$SRC/design.v" >"$T/mutant.v"
	prove yosys-prove-mutant "$T/mutant.v"
	if cmp -s "$SRC/design.v" "$T/mutant.v"; then
		fail "$NAME" "the mutation of design.v did not apply"; return
	fi
	expect_rc 1 yosys || return
	grep -q '^SAT proof finished - model found: FAIL!' "$WORK/proof.txt" ||
		{ fail "$NAME" "no FAIL in the proof" "$WORK/proof.txt"; return; }
	grep -q 'ERROR: Called with -verify and proof did fail!' "$WORK/yosys.stderr" "$WORK/yosys.stdout" ||
		{ fail "$NAME" "no error for the failed proof" "$WORK/yosys.stderr"; return; }
	pass "$NAME"
}

# A syntax error: yosys' own message, naming the line, and status 1.
yosys_error() {
	begin yosys-error
	cp "$SRC/bad.v" "$WORK/"
	run yosys yosys -q -p "read_verilog /work/bad.v; synth -top broken"
	expect_rc 1 yosys || return
	grep -q '^/work/bad.v:6: ERROR: syntax error' "$WORK/yosys.stderr" ||
		{ fail "$NAME" "no parser error for line 6" "$WORK/yosys.stderr"; return; }
	pass "$NAME"
}

# -- clang and wasm-ld ---------------------------------------------------

# compile OUT LANG SRC FLAGS...: clang -cc1 (the driver would start
# subprocesses, which WASI has not) for wasm32-wasip1 at -O2, as the driver
# would invoke it, SRC (in WORK) to WORK/OUT.o.
compile() {
	local out=$1 lang=$2 src=$3
	local -a inc=(-internal-isystem /usr/include -internal-isystem /usr/include/wasm32-wasip1)
	shift 3
	[ "$lang" = c++ ] && inc=(-internal-isystem /usr/include/wasm32-wasip1/c++/v1
				  -internal-isystem /usr/include/c++/v1 "${inc[@]}")
	run "$out-cc1" llvm clang -cc1 -triple wasm32-unknown-wasip1 -O2 -emit-obj \
		-resource-dir /usr -isysroot /usr "${inc[@]}" -vectorize-loops -vectorize-slp \
		-Wall -Wextra "$@" -o "/work/$out.o" -x "$lang" "/work/$src"
}

# link OUT LIBS...: wasm-ld WORK/OUT.o with crt1, LIBS, wasi-libc and the
# compiler's builtins into WORK/OUT.wasm.
link() {
	local out=$1
	shift
	run "$out-ld" llvm wasm-ld -m wasm32 -L/usr/lib/wasm32-wasip1 \
		/usr/lib/wasm32-wasip1/crt1-command.o "/work/$out.o" "$@" -lc \
		/usr/lib/wasm32-unknown-wasip1/libclang_rt.builtins.a -o "/work/$out.wasm"
}

# built OUT: the compile and link of OUT went well: status 0, no warning,
# and a module that wabt finds valid.
built() {
	expect_rc 0 "$1-ld" || return 1
	if [ -s "$WORK/$1-cc1.stderr" ] || [ -s "$WORK/$1-ld.stderr" ]; then
		cat "$WORK/$1-cc1.stderr" "$WORK/$1-ld.stderr" >"$WORK/said.txt"
		fail "$NAME" "clang or wasm-ld said something" "$WORK/said.txt"; return 1
	fi
	wasm-validate "$WORK/$1.wasm" >"$WORK/validate.out" 2>&1 ||
		{ fail "$NAME" "wasm-validate rejects $1.wasm" "$WORK/validate.out"; return 1; }
}

# words.c: malloc, realloc, qsort, strtok_r, a file written to /work and read
# back, printf of floats and a 64-bit hash; its output as gcc's build gives.
clang_c() {
	begin clang-c
	cp "$SRC/words.c" "$WORK/"
	compile words c words.c
	expect_rc 0 words-cc1 || return
	link words
	built words || return
	run words "$WORK/words.wasm" /work/words.txt
	expect_rc 0 words || return
	same "words' output" "$(cat "$SRC/words.stdout")" "$(cat "$WORK/words.stdout")" || return
	[ "$(wc -l <"$WORK/words.txt")" = 3 ] ||
		{ fail "$NAME" "words.txt is not the 3 lines words wrote" "$WORK/words.txt"; return; }
	pass "$NAME"
}

# tally.cc: libc++'s map, vector, string and algorithms, arguments.
clang_cxx() {
	begin clang-c++
	cp "$SRC/tally.cc" "$WORK/"
	compile tally c++ tally.cc -std=c++17
	expect_rc 0 tally-cc1 || return
	link tally -lc++ -lc++abi
	built tally || return
	run tally "$WORK/tally.wasm" wasm kernel yosys clang linker sandbox
	expect_rc 0 tally || return
	same "tally's output" "$(cat "$SRC/tally.stdout")" "$(cat "$WORK/tally.stdout")" || return
	pass "$NAME"
}

# bad.c: clang's diagnostic with file, line and column, status 1, no object.
clang_error() {
	begin clang-error
	cp "$SRC/bad.c" "$WORK/"
	compile bad c bad.c
	expect_rc 1 bad-cc1 || return
	grep -q "^/work/bad.c:7:17: error: use of undeclared identifier 'undeclared_count'" \
		"$WORK/bad-cc1.stderr" ||
		{ fail "$NAME" "no diagnostic for line 7" "$WORK/bad-cc1.stderr"; return; }
	grep -q '^1 error generated' "$WORK/bad-cc1.stderr" ||
		{ fail "$NAME" "no '1 error generated'" "$WORK/bad-cc1.stderr"; return; }
	[ ! -e "$WORK/bad.o" ] || { fail "$NAME" "bad.o was written"; return; }
	pass "$NAME"
}

echo "real-apps: ${RUNTIME[*]}"
yosys_rtl
yosys_eval
yosys_synth
yosys_prove
yosys_prove_mutant
yosys_error
clang_c
clang_cxx
clang_error

echo
[ -n "$FAILED" ] && echo "failed:$FAILED"
echo "real-apps: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
