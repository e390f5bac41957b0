#!/bin/bash
# tests/wasi_run.sh - the WASI integration tests: the programs of
# tests/wasi/ and examples/ run under k23sim, their output and exit status
# compared with expected files, then the cases that need a script (bad
# modules, modules with their code mutated, bad usage, the web server).
# `make wasi-apps` builds what it needs and runs it; tests/run.sh runs it
# as the wasi-apps suite (and again under the ASan k23sim).
#
# A case is tests/wasi/NAME.cmd: k23sim's command line (options, module,
# arguments) in shell syntax, with $WORK $SANDBOX $OUTSIDE $SCRATCH $NOW
# $PORT available (below).  Beside it, optional:
#	NAME.stdout	stdout, exactly		NAME.stdout_re	every line matches (ERE)
#	NAME.stderr	stderr, exactly		NAME.stderr_re	each ERE in it matches a line
#	NAME.stderr1	stderr is one line, and it matches (ERE)
#	NAME.exit	exit status (default 0)	NAME.stdin	fed to stdin (else /dev/null)
#	NAME.stdin_cmd	a shell script whose output reaches stdin through a pipe
#			(stdout is then a pipe too)
#	NAME.helper	host_tool arguments, run in the background during the case
# Without NAME.stdout or NAME.stdout_re stdout must be empty; without any
# NAME.stderr* stderr is not compared.
#
# Every case gets a fresh WORK directory:
#	WORK/outside/	secret.txt ("TOP-SECRET ..."), dir/, notes/a.txt
#	WORK/sandbox/	inside.txt, sub/nested.txt, swap/secret.txt, swapfile, and
#			symlinks: host_abs -> WORK/outside/secret.txt,
#			host_rel -> ../outside/secret.txt, host_dir -> ../outside,
#			host_absdir -> WORK/outside, sub/deep -> ../../outside/secret.txt,
#			ok_link -> inside.txt, ok_dirlink -> sub
#	WORK/scratch/	empty
#	WORK/swap_evil -> WORK/outside, WORK/swapfile_evil -> WORK/outside/secret.txt
# and after the case WORK/outside must be exactly as it was (names, types,
# sizes, contents, mtimes and ctimes), WORK must hold no new names, and no
# file may have appeared at /tmp/created-by-escape-test.txt.
#
# Environment: K23SIM (default ./k23sim) is the runtime; WASI_RUN_NO_SOCKETS=1
# skips what needs --tcplisten; WASI_RUN_FILTER=ERE runs only matching cases;
# WASI_RUN_VERBOSE=1 shows every case's output.
set -u
cd "$(dirname "$0")/.."
K23SIM=${K23SIM:-./k23sim}
HOST_TOOL=build/tests/wasi/host_tool
CASES=tests/wasi
LOG=build/tests/wasi/log
FILTER=${WASI_RUN_FILTER:-}
NO_SOCKETS=${WASI_RUN_NO_SOCKETS:-0}
VERBOSE=${WASI_RUN_VERBOSE:-0}
ESCAPE_MARK=/tmp/created-by-escape-test.txt
PASS=0 FAIL=0 SKIP=0 FAILED=""

for need in "$K23SIM" "$HOST_TOOL" build/examples/hello.wasm build/tests/wasi/files.wasm; do
	if [ ! -e "$need" ]; then
		echo "wasi-apps: $need is missing (run 'make wasi-apps')"
		echo "wasi-apps: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
done
rm -rf "$LOG"
mkdir -p "$LOG"
WORK_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/k23-wasi-apps.XXXXXX")
trap 'rm -rf "$WORK_ROOT"' EXIT

pass() { PASS=$((PASS + 1)); echo "PASS $1"; }
skip() { SKIP=$((SKIP + 1)); echo "SKIP $1: $2"; }
fail() {
	FAIL=$((FAIL + 1)); FAILED="$FAILED $1"
	echo "FAIL $1: $2"
	[ -n "${3:-}" ] && [ -s "$3" ] && head -n 30 "$3" | sed 's/^/     | /'
	return 0
}

# make_work NAME: a fresh WORK tree for one case (the layout above).
make_work() {
	WORK=$WORK_ROOT/$1
	OUTSIDE=$WORK/outside SANDBOX=$WORK/sandbox SCRATCH=$WORK/scratch
	mkdir -p "$OUTSIDE/dir" "$OUTSIDE/notes" "$SANDBOX/sub" "$SANDBOX/swap" "$SCRATCH"
	echo "TOP-SECRET outside the sandbox" >"$OUTSIDE/secret.txt"
	echo "a note outside" >"$OUTSIDE/notes/a.txt"
	echo "inside" >"$SANDBOX/inside.txt"
	echo "nested" >"$SANDBOX/sub/nested.txt"
	echo "harmless" >"$SANDBOX/swap/secret.txt"
	echo "harmless" >"$SANDBOX/swapfile"
	ln -s "$OUTSIDE/secret.txt" "$SANDBOX/host_abs"
	ln -s ../outside/secret.txt "$SANDBOX/host_rel"
	ln -s ../outside "$SANDBOX/host_dir"
	ln -s "$OUTSIDE" "$SANDBOX/host_absdir"
	ln -s ../../outside/secret.txt "$SANDBOX/sub/deep"
	ln -s inside.txt "$SANDBOX/ok_link"
	ln -s sub "$SANDBOX/ok_dirlink"
	ln -s "$OUTSIDE" "$WORK/swap_evil"
	ln -s "$OUTSIDE/secret.txt" "$WORK/swapfile_evil"
	# Times in the past, so that a change within this second still shows.
	find "$OUTSIDE" -exec touch -h -d '2001-02-03 04:05:06' {} +
	NOW=$(date +%s)
	PORT=$("$HOST_TOOL" freeport)
}

# snapshot: what must not change outside the sandbox.
snapshot() {
	find "$OUTSIDE" -printf '%p %y %s %m %T@ %C@ %l\n' | sort
	find "$OUTSIDE" -type f -exec sha256sum {} + | sort
	find "$WORK" -maxdepth 1 -printf '%f\n' | sort
	ls -d "$ESCAPE_MARK" 2>/dev/null
}

# check_output BASE STREAM ACTUAL: compare one output (stdout or stderr)
# with its expectation; prints a reason and returns 1 on a mismatch.
check_output() {
	local base=$1 stream=$2 actual=$3
	if [ -f "$base.$stream" ]; then
		if ! diff -u "$base.$stream" "$actual" >"$actual.diff"; then
			echo "$stream differs from $base.$stream"; return 1
		fi
		rm -f "$actual.diff"
	elif [ "$stream" = stdout ] && [ -f "$base.stdout_re" ]; then
		local re; re=$(cat "$base.stdout_re")
		if [ ! -s "$actual" ] || grep -Evq -- "$re" "$actual"; then
			echo "a line of stdout does not match /$re/" ; cp "$actual" "$actual.diff"; return 1
		fi
	elif [ "$stream" = stderr ] && [ -f "$base.stderr_re" ]; then
		local re
		while IFS= read -r re; do
			if ! grep -Eq -- "$re" "$actual"; then
				echo "no line of stderr matches /$re/"; cp "$actual" "$actual.diff"; return 1
			fi
		done <"$base.stderr_re"
	elif [ "$stream" = stderr ] && [ -f "$base.stderr1" ]; then
		local re; re=$(cat "$base.stderr1")
		if [ "$(wc -l <"$actual")" != 1 ] || ! grep -Eq -- "$re" "$actual"; then
			echo "stderr is not one line matching /$re/"; cp "$actual" "$actual.diff"; return 1
		fi
	elif [ "$stream" = stdout ] && [ -s "$actual" ]; then
		echo "unexpected output on stdout"; cp "$actual" "$actual.diff"; return 1
	fi
	return 0
}

# run_case NAME: one tests/wasi/NAME.cmd case.
run_case() {
	local name=$1 base=$CASES/$1 out=$LOG/$1 want=0 rc helper_pid="" why="" before after
	local -a cmd helper
	if [ "$NO_SOCKETS" = 1 ] && grep -q -- --tcplisten "$base.cmd"; then
		skip "$name" "needs --tcplisten"; return
	fi
	make_work "$name"
	eval "cmd=($(grep -v '^#' "$base.cmd"))"
	[ -f "$base.exit" ] && want=$(cat "$base.exit")
	before=$(snapshot)
	if [ -f "$base.helper" ]; then
		eval "helper=($(cat "$base.helper"))"
		"$HOST_TOOL" "${helper[@]}" >"$out.helper" 2>&1 &
		helper_pid=$!
	fi
	if [ -f "$base.stdin_cmd" ]; then
		# Pipes at both ends, the writer as slow as its script.
		sh -c "$(cat "$base.stdin_cmd")" |
			timeout -k 5 30 "$K23SIM" "${cmd[@]}" 2>"$out.stderr" | cat >"$out.stdout"
		rc=${PIPESTATUS[1]}
	else
		timeout -k 5 30 "$K23SIM" "${cmd[@]}" >"$out.stdout" 2>"$out.stderr" \
			<"$( [ -f "$base.stdin" ] && echo "$base.stdin" || echo /dev/null)"
		rc=$?
	fi
	if [ -n "$helper_pid" ]; then
		kill "$helper_pid" 2>/dev/null
		wait "$helper_pid" 2>/dev/null
		# Killed (143) is its normal end; anything else is its own failure.
		case $? in 0|143) ;; *) why="the helper failed: $(head -c 200 "$out.helper")" ;; esac
		# Put the race's pairs back as they were laid out.
		[ -L "$SANDBOX/swap" ] && "$HOST_TOOL" swap 0 "$SANDBOX/swap" "$WORK/swap_evil" >/dev/null
		[ -L "$SANDBOX/swapfile" ] && "$HOST_TOOL" swap 0 "$SANDBOX/swapfile" "$WORK/swapfile_evil" >/dev/null
	fi
	after=$(snapshot)
	if [ "$VERBOSE" = 1 ]; then cat "$out.stdout" "$out.stderr"; fi
	if [ -n "$why" ]; then
		:
	elif grep -Eq 'Sanitizer|runtime error:' "$out.stderr"; then
		why="k23sim's sanitizers reported an error"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after 30 s"
	elif [ "$rc" != "$want" ]; then
		why="exit status $rc, want $want"
	elif ! why=$(check_output "$base" stdout "$out.stdout"); then :
	elif ! why=$(check_output "$base" stderr "$out.stderr"); then :
	else
		why=""
	fi
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") >"$out.outside.diff"
		fail "$name" "SOMETHING OUTSIDE THE SANDBOX CHANGED" "$out.outside.diff"
		rm -f "$ESCAPE_MARK"
		return
	fi
	if [ -z "$why" ]; then
		pass "$name"
		return
	fi
	case $why in
	exit*|timed*|*sanitizers*|*helper*)
		fail "$name" "$why" "$out.stdout"
		[ -s "$out.stderr" ] && head -n 10 "$out.stderr" | sed 's/^/     ! /' ;;
	*)
		if [ -f "$out.stdout.diff" ]; then fail "$name" "$why" "$out.stdout.diff"
		else fail "$name" "$why" "$out.stderr.diff"; fi ;;
	esac
}

# expect_load_error NAME FILE: k23sim refuses FILE with one line, status 1.
expect_load_error() {
	local name=$1 file=$2 out=$LOG/$1 rc
	timeout -k 5 30 "$K23SIM" "$file" </dev/null >"$out.stdout" 2>"$out.stderr"
	rc=$?
	if [ "$rc" != 1 ]; then
		fail "$name" "exit status $rc, want 1" "$out.stderr"
	elif [ "$(wc -l <"$out.stderr")" != 1 ] || [ -s "$out.stdout" ]; then
		fail "$name" "want one line on stderr and nothing on stdout" "$out.stderr"
	else
		pass "$name"
	fi
}

# expect_usage_error NAME ARGS...: bad usage, one line, status 2.
expect_usage_error() {
	local name=$1 out=$LOG/$1 rc; shift
	timeout -k 5 30 "$K23SIM" "$@" </dev/null >"$out.stdout" 2>"$out.stderr"
	rc=$?
	if [ "$rc" != 2 ]; then
		fail "$name" "exit status $rc, want 2" "$out.stderr"
	elif [ ! -s "$out.stderr" ] || [ "$rc" -ge 128 ]; then
		fail "$name" "want a message on stderr" "$out.stdout"
	else
		pass "$name"
	fi
}

selected() { [ -z "$FILTER" ] || echo "$1" | grep -Eq -- "$FILTER"; }

echo "wasi-apps: $K23SIM"
for cmdfile in "$CASES"/*.cmd; do
	name=$(basename "$cmdfile" .cmd)
	selected "$name" && run_case "$name"
done

# Modules that cannot be loaded: one clear line, status 1, no crash.
BAD=$WORK_ROOT/bad
mkdir -p "$BAD"
echo "this is not a WebAssembly module" >"$BAD/text.wasm"
: >"$BAD/empty.wasm"
head -c 200 build/examples/hello.wasm >"$BAD/truncated.wasm"
head -c "$(( $(stat -c %s build/examples/hello.wasm) - 1 ))" build/examples/hello.wasm >"$BAD/short.wasm"
printf '\0asm\2\0\0\0' >"$BAD/version2.wasm"
selected load-text && expect_load_error load-text "$BAD/text.wasm"
selected load-empty && expect_load_error load-empty "$BAD/empty.wasm"
selected load-truncated && expect_load_error load-truncated "$BAD/truncated.wasm"
selected load-short-by-one && expect_load_error load-short-by-one "$BAD/short.wasm"
selected load-version2 && expect_load_error load-version2 "$BAD/version2.wasm"
selected load-missing && expect_load_error load-missing "$BAD/no-such-file.wasm"
selected load-directory && expect_load_error load-directory "$BAD"

# Modules with a few bytes of their code changed (host_tool mutate, a fixed
# seed): each is refused with one line (status 1), runs, or traps (134),
# and k23sim neither panics (125) nor dies of a signal, nor takes more than
# 10 s (a mutant may loop; none of these does).
mutants_case() {
	local i rc lines bad="" nbad=0 out=$LOG/mutants
	mkdir -p "$BAD/mutants"
	"$HOST_TOOL" mutate build/examples/hello.wasm "$BAD/mutants/m" 23 40 || { fail mutants "host_tool mutate failed"; return; }
	for i in $(seq 0 39); do
		timeout -k 5 10 "$K23SIM" "$BAD/mutants/m$i.wasm" </dev/null >"$out.stdout" 2>"$out.stderr"
		rc=$?
		lines=$(wc -l <"$out.stderr")
		if grep -Eq 'Sanitizer|runtime error:|panic' "$out.stderr" || [ "$rc" = 125 ] ||
		   { [ "$rc" -ge 124 ] && [ "$rc" != 134 ]; } || { [ "$rc" = 1 ] && [ "$lines" != 1 ]; }; then
			nbad=$((nbad + 1))
			[ "$nbad" -le 3 ] && bad="$bad m$i (status $rc: $(head -c 150 "$out.stderr" | tr '\n' ' '))"
		fi
	done
	if [ "$nbad" = 0 ]; then pass mutants; else fail mutants "$nbad of 40, as$bad"; fi
}
selected mutants && mutants_case

# Bad usage: status 2 and a message.
selected usage-harts && expect_usage_error usage-harts --harts 0 build/examples/hello.wasm
selected usage-option && expect_usage_error usage-option --no-such-option build/examples/hello.wasm
selected usage-env && expect_usage_error usage-env --env NOEQUALS build/examples/hello.wasm
selected usage-dir-value && expect_usage_error usage-dir-value --dir

# getrandom gives different bytes each run.
if selected getrandom-differs; then
	a=$("$K23SIM" build/examples/getrandom.wasm 2>&1); b=$("$K23SIM" build/examples/getrandom.wasm 2>&1)
	if [ -n "$a" ] && [ "$a" != "$b" ] && [ ${#a} = 64 ]; then pass getrandom-differs
	else fail getrandom-differs "two runs: [$a] [$b]"; fi
fi

# The web server: start it on a free loopback port, fetch pages with curl,
# and let it exit by itself after the requests it was told to serve.
webserver_case() {
	local out=$LOG/webserver www=$WORK_ROOT/www pid rc port i body code
	mkdir -p "$www"
	printf 'a file served from the preopened directory\n' >"$www/page.txt"
	for i in 1 2 3; do
		port=$("$HOST_TOOL" freeport)
		timeout -k 5 60 "$K23SIM" --tcplisten "127.0.0.1:$port" --dir "$www::/www" \
			build/examples/webserver.wasm 10 >"$out.stdout" 2>"$out.stderr" </dev/null &
		pid=$!
		for _ in $(seq 50); do
			curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && break
		wait "$pid"; pid=""	# it could not listen there: another port
	done
	if [ -z "$pid" ]; then
		fail webserver "k23sim did not start listening" "$out.stderr"; return
	fi
	local why=""
	body=$(curl -s --max-time 10 "http://127.0.0.1:$port/")
	echo "$body" | grep -q "Hello from k23!" || why="GET / gave [$body]"
	body=$(curl -s --max-time 10 --http1.0 "http://127.0.0.1:$port/files/page.txt")
	[ "$body" = "a file served from the preopened directory" ] || why="${why:+$why; }GET /files/page.txt gave [$body]"
	code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
	[ "$code" = 404 ] || why="${why:+$why; }GET /nope gave $code"
	code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$port/files/../../outside")
	[ "$code" = 404 ] || why="${why:+$why; }GET /files/../../outside gave $code"
	code=$(curl -s --max-time 10 -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
	[ "$code" = 200 ] || why="${why:+$why; }HEAD / gave $code"
	code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$port/")
	[ "$code" = 405 ] || why="${why:+$why; }POST / gave $code"
	# A client that hangs up without a request, or before the answer.
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; exec 3>&-" 2>/dev/null
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf 'GET / HTTP/1.0\r\n\r\n' >&3; exec 3>&-" 2>/dev/null
	body=$(curl -s --max-time 10 "http://127.0.0.1:$port/")
	echo "$body" | grep -q "Hello from k23!" || why="${why:+$why; }GET / after clients hung up gave [$body]"
	wait "$pid"; rc=$?
	[ "$rc" = 0 ] || why="${why:+$why; }exit status $rc after its 10 requests, want 0"
	grep -q 'GET /files/page.txt -> 200' "$out.stdout" || why="${why:+$why; }no log line for /files/page.txt"
	if [ -z "$why" ]; then pass webserver; else fail webserver "$why" "$out.stdout"; fi
}
if selected webserver; then
	if [ "$NO_SOCKETS" = 1 ]; then skip webserver "needs --tcplisten"; else webserver_case; fi
fi

echo
[ -n "$FAILED" ] && echo "failed:$FAILED (logs in $LOG)"
echo "wasi-apps: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
