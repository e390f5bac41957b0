#!/bin/bash
# tests/fuzz_diff.sh - differential fuzzing of the JIT against V8.
#
#	tests/fuzz_diff.sh -d build/release/tools/fuzz_diff [-t SECONDS] [-s FIRST-LAST]
#			   [-j JOBS] [-o DIR] [-g WASM_OPT] [-G] [-q]
#
# -G: the modules come from tests/fuzz_gen.mjs (through wabt's wat2wasm)
# instead of binaryen; see there what they aim at.
#
# -M: each module gets up to 4 random byte changes (set, insert, delete,
# copy), and only whether it is valid is compared: the decoder and the
# validator against V8's.  -V: the same with fuzz_gen.mjs --break, edits
# of the text that mostly break its types rather than its encoding.  V8 also accepts proposals k23sim does not have
# (threads, exception handling, tail calls): a module only V8 accepts whose
# rejection names one of their opcodes counts as skipped.
#
# Each seed makes bytes (a deterministic stream, so that the seed alone
# gives the module back), which binaryen's wasm-opt -ttf (-g: which one;
# Debian's by default) turns into a valid module using only what the JIT
# executes: WebAssembly 2.0 without SIMD, and without reference types for
# binaryen 108 (Debian's), whose reference types are the old proposal's,
# with anyref, which no 2.0 engine accepts; later ones (npm's binaryen)
# have them.  Such a module may still use a typed reference (GC), which
# both engines reject: skipped.  One seed in three is also optimised by
# binaryen (-O1 or -O3), for code shaped like a compiler's.
# The module runs under tests/fuzz_diff.c (k23sim) and tests/fuzz_diff.mjs
# (V8, node), which print the same things; the outputs must be equal.
#
# A NaN's bits may differ between correct engines: results and logs print
# "nan", but a NaN stored to memory changes the memory's hash.  So when the
# outputs differ, the module is run again after binaryen's --denan (every
# NaN made 0 at run time; fuzz_gen.mjs --denan for -G); if that agrees, the
# seed counts as skipped.  (FUZZ_DIFF_DUMP=PREFIX makes both drivers write
# each memory after each call to PREFIX.CALL.EXPORT, to see what differs.)  A
# call stack exhausted on one side only is skipped too (depths differ).
#
# Without -s, seeds are random and the run lasts -t seconds (60); with -s,
# exactly those seeds run.  Each disagreement is kept in DIR/SEED/ (the
# bytes, the module, both outputs, their diff); the last line is
# "fuzz-diff: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."

DRIVER=build/release/tools/fuzz_diff
TIME=60
SEEDS=""
JOBS=1
OUT=build/fuzz-diff
QUIET=false
TIMEOUT=20
NODE="node --experimental-wasm-type-reflection --stack-size=900"
FEATURES="--mvp-features --enable-sign-ext --enable-mutable-globals
	  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue"

WASM_OPT=wasm-opt
GEN=false
MUTATE=false
BREAK=false

while getopts "d:t:s:j:o:g:GMVq" opt; do
	case $opt in
	d) DRIVER=$OPTARG ;;
	t) TIME=$OPTARG ;;
	s) SEEDS=$OPTARG ;;
	j) JOBS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	g) WASM_OPT=$OPTARG ;;
	G) GEN=true ;;
	M) MUTATE=true ;;
	V) BREAK=true ;;
	q) QUIET=true ;;
	*) sed -n '4,5p' "$0"; exit 2 ;;
	esac
done
command -v "$WASM_OPT" >/dev/null ||
	{ echo "fuzz-diff: $WASM_OPT not found (.ci/deps installs binaryen)"; exit 1; }
# node is not a Debian package here (see the Makefile's benchmarks): a
# machine without it skips the comparison rather than failing.
if ! command -v node >/dev/null; then
	echo "fuzz-diff: node not found: nothing to compare with"
	echo "fuzz-diff: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
BINARYEN=$("$WASM_OPT" --version | sed -E 's/^wasm-opt version ([0-9]+).*/\1/')
[ "$BINARYEN" -gt 108 ] 2>/dev/null && FEATURES="$FEATURES --enable-reference-types"
[ -x "$DRIVER" ] || { echo "fuzz-diff: $DRIVER not built"; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# bytes SEED FILE: 1 to 40 KB of xorshift output from the seed.
bytes() {
	node -e '
		const M = (1n << 64n) - 1n;
		let x = (BigInt(process.argv[1]) * 0x9e3779b97f4a7c15n + 1n) & M;
		const next = () => {
			x ^= (x << 13n) & M; x ^= x >> 7n; x ^= (x << 17n) & M;
			return x;
		};
		const n = 1024 + Number(next() % 40000n);
		const b = Buffer.alloc(n);
		for (let i = 0; i < n; i += 8)
			b.writeBigUInt64LE(next(), Math.min(i, n - 8));
		require("fs").writeFileSync(process.argv[2], b);' "$1" "$2"
}

# run_both WASM DIR: both outputs into DIR/jit.out and DIR/v8.out; the
# k23sim side's exit status (124 on timeout) in DIR/jit.rc.
run_both() {
	timeout -k 5 $TIMEOUT "$DRIVER" "$1" >"$2/jit.out" 2>"$2/jit.err"
	echo $? >"$2/jit.rc"
	timeout -k 5 $TIMEOUT $NODE tests/fuzz_diff.mjs "$1" >"$2/v8.out" 2>"$2/v8.err"
	echo $? >"$2/v8.rc"
}

# mutate SEED IN OUT: OUT is IN with 1 to 4 random changes.
mutate() {
	node -e '
		let x = (BigInt(process.argv[1]) * 0x2545f4914f6cdd1dn + 3n) & ((1n << 64n) - 1n);
		const rnd = (n) => {
			x ^= (x << 13n) & ((1n << 64n) - 1n); x ^= x >> 7n;
			x ^= (x << 17n) & ((1n << 64n) - 1n);
			return Number(x % BigInt(n));
		};
		const fs = require("fs");
		let b = [...fs.readFileSync(process.argv[2])];
		const interesting = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x70, 0x6f,
				     0x7b, 0x7c, 0x7d, 0x7e, 0xfc, 0xfd, 0xd0, 0xd2, 0x1c, 0x11];
		for (let n = 1 + rnd(4); n > 0; n--) {
			const at = 8 + rnd(b.length - 8);
			const v = rnd(2) ? rnd(256) : interesting[rnd(interesting.length)];
			switch (rnd(4)) {
			case 0: b[at] = v; break;
			case 1: b.splice(at, 0, v); break;
			case 2: b.splice(at, 1); break;
			default: b.splice(at, 0, ...b.slice(rnd(b.length), rnd(b.length)).slice(0, 16));
			}
		}
		fs.writeFileSync(process.argv[3], Buffer.from(b));' "$@"
}

# validity DIR: compare whether both take DIR/mutated.wasm as valid.
validity() {
	local d=$1 seed
	seed=$(basename "$d")
	timeout -k 5 $TIMEOUT "$DRIVER" -v "$d/mutated.wasm" >"$d/jit.out" 2>"$d/jit.err"
	echo $? >"$d/jit.rc"
	timeout -k 5 $TIMEOUT $NODE tests/fuzz_diff.mjs -v "$d/mutated.wasm" >"$d/v8.out" 2>"$d/v8.err"
	if agree "$d"; then
		echo pass; rm -rf "$d"; return
	fi
	# Opcodes of proposals V8 has and k23sim has not: atomics (0xfe),
	# exceptions (0x06-0x09, 0x18, 0x19), tail calls (0x12, 0x13).
	if [ "$(cat "$d/v8.out")" = valid ] &&
	   grep -qE "opcode (0xfe|0x[6-9]|0x1[2389])( |$)|prefix 0xfe" "$d/jit.err"; then
		echo "skip a proposal's opcode: $(head -c 200 "$d/jit.err")"; rm -rf "$d"; return
	fi
	rm -rf "${OUT:?}/$seed"; mv "$d" "$OUT/$seed"
	echo "fail jit says $(cat "$OUT/$seed/jit.out") ($(head -c 150 "$OUT/$seed/jit.err")), V8 $(cat "$OUT/$seed/v8.out") ($(head -c 150 "$OUT/$seed/v8.err"))"
}

# agree DIR: the outputs are the same and the JIT side ended well.
agree() {
	[ "$(cat "$1/jit.rc")" = 0 ] && cmp -s "$1/jit.out" "$1/v8.out"
}

# one SEED: prints "pass", "skip WHY" or "fail WHY".
one() {
	local seed=$1 d="$WORK/$1" opt=""
	mkdir -p "$d"
	case $((seed % 6)) in
	1) opt=-O1 ;;
	4) opt=-O3 ;;
	esac
	if $GEN; then
		if ! node tests/fuzz_gen.mjs "$seed" >"$d/module.wat" ||
		   ! wat2wasm "$d/module.wat" -o "$d/module.wasm" 2>"$d/wat2wasm.err"; then
			# A generator bug: kept, but not the JIT's failure.
			rm -rf "${OUT:?}/$seed"; mv "$d" "$OUT/$seed"
			echo "skip generator failed"; return
		fi
	else
		bytes "$seed" "$d/input.dat"
		if ! "$WASM_OPT" -ttf "$d/input.dat" $FEATURES $opt -o "$d/module.wasm" \
		     2>"$d/wasm-opt.err"; then
			echo "skip wasm-opt failed"; rm -rf "$d"; return
		fi
	fi
	if $MUTATE; then
		mutate "$seed" "$d/module.wasm" "$d/mutated.wasm"
		validity "$d"
		return
	fi
	if $BREAK; then
		node tests/fuzz_gen.mjs "$seed" --break $((1 + seed % 3)) >"$d/broken.wat"
		if ! wat2wasm --no-check "$d/broken.wat" -o "$d/mutated.wasm" 2>"$d/wat2wasm.err"; then
			echo "skip not encodable"; rm -rf "$d"; return
		fi
		validity "$d"
		return
	fi
	run_both "$d/module.wasm" "$d"
	if agree "$d"; then
		if [ "$(head -n 1 "$d/jit.out")" = invalid ]; then
			echo "skip invalid for both: $(head -c 200 "$d/v8.err")"
		else
			echo pass
		fi
		rm -rf "$d"; return
	fi
	if [ "$(cat "$d/v8.rc")" != 0 ]; then
		echo "skip V8 failed ($(cat "$d/v8.rc")): $(head -c 200 "$d/v8.err")"
		rm -rf "$d"; return
	fi
	if grep -q 'call stack exhausted' "$d/jit.out" "$d/v8.out"; then
		echo "skip call stack exhausted"; rm -rf "$d"; return
	fi
	if [ "$(cat "$d/jit.rc")" = 0 ] &&
	   if $GEN; then
		node tests/fuzz_gen.mjs "$seed" --denan >"$d/denan.wat" &&
		wat2wasm "$d/denan.wat" -o "$d/denan.wasm"
	   else
		"$WASM_OPT" "$d/module.wasm" $FEATURES --denan -o "$d/denan.wasm" 2>/dev/null
	   fi; then
		mkdir -p "$d/denan"
		run_both "$d/denan.wasm" "$d/denan"
		if agree "$d/denan"; then
			# NaNs stored to memory are expected to differ; a first
			# difference elsewhere may be NaN bits read back as
			# integers, or a NaN wrongly handled: kept to be looked at.
			if diff "$d/jit.out" "$d/v8.out" | sed -n 2p | grep -q '^< memory '; then
				echo "skip NaN bits"; rm -rf "$d"; return
			fi
			rm -rf "${OUT:?}/nan-$seed"; mv "$d" "$OUT/nan-$seed"
			echo "skip NaN bits, first seen outside memory (kept in $OUT/nan-$seed/)"
			return
		fi
	fi
	diff "$d/jit.out" "$d/v8.out" >"$d/diff"
	echo "$seed" >"$d/seed"
	rm -rf "${OUT:?}/$seed"
	mv "$d" "$OUT/$seed"
	echo "fail jit exit $(cat "$OUT/$seed/jit.rc"), first difference: $(sed -n 2p "$OUT/$seed/diff")"
}

PASS=0 FAIL=0 SKIP=0 RAN=0
START=$(date +%s)
if [ -n "$SEEDS" ]; then
	seq_first=${SEEDS%-*} seq_last=${SEEDS#*-}
	next_seed() {
		[ "$seq_first" -le "$seq_last" ] || return 1
		seed=$seq_first; seq_first=$((seq_first + 1))
	}
else
	next_seed() {
		[ $(($(date +%s) - START)) -lt "$TIME" ] || return 1
		seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	}
fi

# Run JOBS seeds at a time; each writes its verdict to WORK/SEED.verdict.
count() {
	local f v s
	for f in "$WORK"/*.verdict; do
		[ -e "$f" ] || continue
		s=$(basename "$f" .verdict); v=$(cat "$f"); rm -f "$f"
		RAN=$((RAN + 1))
		case $v in
		pass) PASS=$((PASS + 1)) ;;
		skip*) SKIP=$((SKIP + 1)); $QUIET || echo "fuzz-diff: seed $s: $v" ;;
		*) FAIL=$((FAIL + 1)); echo "fuzz-diff: seed $s: $v (kept in $OUT/$s/)" ;;
		esac
	done
}

summary() {
	echo "fuzz-diff: $RAN modules from $($GEN && echo fuzz_gen.mjs || echo "binaryen $BINARYEN") in $(($(date +%s) - START)) s"
	echo "fuzz-diff: $PASS passed, $FAIL failed, $SKIP skipped"
}
# Stopped early: what ran until then.
trap 'count; summary; exit 1' INT TERM

running=0
while next_seed; do
	( one "$seed" >"$WORK/$seed.verdict.tmp"; mv "$WORK/$seed.verdict.tmp" "$WORK/$seed.verdict" ) &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	count
done
wait
count
summary
[ $FAIL = 0 ]
