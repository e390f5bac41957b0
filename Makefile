# k23sim - one Makefile for the hosted build, the freestanding check, the
# tests and the benchmarks.  `make help` lists the targets.

ARCH      ?= $(shell uname -m)
CC        ?= gcc
CROSS_RV  ?= riscv64-linux-gnu-
VARIANT   ?= release
BUILD     := build/$(VARIANT)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_release := -O2 -g
CFLAGS_asan    := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS_tsan    := -O1 -g -fsanitize=thread
CFLAGS    := -std=gnu11 $(WARN) $(CFLAGS_$(VARIANT)) -fno-strict-aliasing -I.
DEPFLAGS  := -MMD -MP
LDFLAGS   := $(filter -fsanitize=%,$(CFLAGS_$(VARIANT)))
LIBS      := -lunwind -lelf -lbsd -lpthread -lrt -lm

# Portable code: freestanding, built for the host here and for bare riscv64
# by `make freestanding`.  Architecture files are named *_$(ARCH).S.
PORTABLE_DIRS := kernel sched jit wasi
PORTABLE_C    := $(foreach d,$(PORTABLE_DIRS),$(wildcard $(d)/*.c))
PORTABLE_S    := $(foreach d,$(PORTABLE_DIRS),$(wildcard $(d)/*_$(ARCH).S))
# Files named *_<arch>.c are built only for that architecture.
ARCHES        := x86_64 aarch64 riscv64
arch_only      = $(filter-out $(foreach a,$(ARCHES),%_$(a).c),$(1)) $(filter %_$(ARCH).c,$(1))
HOSTED_C      := $(call arch_only,$(filter-out hosted/main.c,$(wildcard hosted/*.c vm_sim/*.c)))

LIB_OBJS  := $(patsubst %,$(BUILD)/%.o,$(PORTABLE_C) $(PORTABLE_S) $(HOSTED_C))
LIBK23    := $(BUILD)/libk23.a
K23SIM    := $(BUILD)/k23sim

TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all run test check unit freestanding bench deps clean help
.DEFAULT_GOAL := all

all: deps k23sim

help:
	@echo "make            build ./k23sim"
	@echo "make run        build k23sim and the examples, run build/examples/hello.wasm"
	@echo "make examples   the example WASI programs (examples/*.c) into build/examples/"
	@echo "make wasi-apps  the examples and WASI test programs (tests/wasi/) under k23sim"
	@echo "make test       every test suite (unit, ASan+UBSan, valgrind, freestanding, ...)"
	@echo "make unit       the Criterion unit tests only (VARIANT=release|asan|tsan)"
	@echo "make freestanding  compile the portable code for bare riscv64"
	@echo "make metal      build/metal/k23.elf: the same objects on riscv64 (QEMU virt, OpenSBI)"
	@echo "make qemu       boot it (QEMU_SMP=4, QEMU_APPEND=\"paging=sv48\"); qemu-gdb: wait for gdb"
	@echo "make metal-test the metal suite of make test"
	@echo "make bench      every benchmark, one 'bench: NAME VALUE UNIT' line per figure"
	@echo "make spec       the WebAssembly spec suite (core/, simd/) under ASan+UBSan"
	@echo "                (make spec-run VARIANT=release: without; SPEC_FLAGS=-v: every failure)"
	@echo "make wasi-testsuite  the WASI preview1 conformance suite through ./k23sim"
	@echo "make real-apps  Yosys and clang (big C++ programs from npm) under k23sim"
	@echo "                (REAL_APPS_RUNTIME=node: the same checks under node's WASI)"
	@echo "                (WASI_SUITE_FLAGS=-v: why each failure failed)"
	@echo "make fuzz       fuzz decode+validate for FUZZ_TIME seconds (300)"
	@echo "make fuzz-diff  compare the JIT with V8 on random modules for FUZZ_TIME seconds"
	@echo "make clean"

deps:
	@.ci/deps

k23sim: $(K23SIM)
	@ln -sf $(K23SIM) k23sim

run: all examples
	./k23sim build/examples/hello.wasm

$(BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBK23): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(K23SIM): $(BUILD)/hosted/main.c.o $(LIBK23)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(LIBK23) tests/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBK23) -lcriterion $(LIBS)

$(BUILD)/bench/%: bench/%.c $(LIBK23) $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBK23) $(LIBS)

# -- WASI programs ---------------------------------------------------------
# The examples (examples/*.c) and the WASI integration tests' programs
# (tests/wasi/*.c, and tests/wasi/*.wat for modules a C compiler cannot
# produce) are built to wasm32-wasi by clang against Debian's wasi-libc
# (wasi-libc and libclang-rt-14-dev-wasm32 in .ci/deps).
# tests/wasi_run.sh runs them all under k23sim and compares their output
# with tests/wasi/NAME.stdout and friends; tests/wasi/host_tool.c is its
# native helper (free ports, the symlink-swapping race).
# They compile and link in two steps: a link with -O makes clang run
# binaryen's wasm-opt when it is installed, which drops the name section
# (the function names of a trap's backtrace) and makes the output depend on
# what the machine has.
WASI_CC       := clang
WASI_CFLAGS   := --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
wasi_build     = $(WASI_CC) $(WASI_CFLAGS) -c -o $@.o $< && \
		 $(WASI_CC) --target=wasm32-wasi -o $@ $@.o && rm -f $@.o
EXAMPLES      := $(patsubst examples/%.c,build/examples/%.wasm,$(wildcard examples/*.c))
WASI_TESTS    := $(patsubst tests/wasi/%.c,build/tests/wasi/%.wasm,$(filter-out tests/wasi/host_tool.c,$(wildcard tests/wasi/*.c))) \
		 $(patsubst tests/wasi/%.wat,build/tests/wasi/%.wasm,$(wildcard tests/wasi/*.wat))
WASI_HOSTTOOL := build/tests/wasi/host_tool

.PHONY: examples wasi-apps

build/examples/%.wasm: examples/%.c
	@mkdir -p $(dir $@)
	$(wasi_build)

build/tests/wasi/%.wasm: tests/wasi/%.c $(wildcard tests/wasi/*.h)
	@mkdir -p $(dir $@)
	$(wasi_build)

build/tests/wasi/%.wasm: tests/wasi/%.wat
	@mkdir -p $(dir $@)
	wat2wasm $< -o $@

$(WASI_HOSTTOOL): tests/wasi/host_tool.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -o $@ $<

examples: deps $(EXAMPLES)

wasi-apps: deps $(EXAMPLES) $(WASI_TESTS) $(WASI_HOSTTOOL) k23sim
	@tests/wasi_run.sh

# -- Real applications ---------------------------------------------------
# `make real-apps` runs big C and C++ programs that others built for
# wasm32-wasi under k23sim (tests/real_apps.sh): Yosys 0.55 (30 MB of wasm)
# and LLVM 22's clang and wasm-ld (75 MB), from the YoWASP project's npm
# packages, fetched once with npm at pinned versions.  Each is unpacked
# under build/real-apps/ into a folder named after its version: yosys'
# module and share/ (its techmap libraries, which the package keeps mostly
# in a JavaScript module: tests/real_apps/share.mjs writes them out);
# clang's module and usr/ (clang's headers and the wasi-libc sysroot, which
# it expects at /usr).  npm and node come with the machines, as for the
# benchmarks below.  tar -m: the packages' files are dated 1985, older
# than any prerequisite.
REAL_YOSYS_VER := 0.55.944
REAL_CLANG_VER := 22.0.0-git20542-10
REAL_YOSYS     := build/real-apps/yosys-$(REAL_YOSYS_VER)
REAL_CLANG     := build/real-apps/clang-$(REAL_CLANG_VER)

# real_fetch PKG: npm pack PKG into the target's folder, emptied first.
real_fetch = rm -rf $(dir $@) && mkdir -p $(dir $@) && \
	{ command -v npm >/dev/null || { echo "real-apps: npm is needed to fetch $(1) (apt-get install npm)"; exit 1; }; } && \
	if ! (cd $(dir $@) && npm pack --loglevel=error $(1)) >$(dir $@)npm.log 2>&1; then \
	    echo "real-apps: 'npm pack $(1)' failed (is the npm registry reachable?):"; \
	    cat $(dir $@)npm.log; exit 1; fi

.PHONY: real-apps

$(REAL_YOSYS)/yosys.core.wasm: tests/real_apps/share.mjs
	@$(call real_fetch,@yowasp/yosys@$(REAL_YOSYS_VER))
	@cd $(dir $@) && tar xzmf yowasp-yosys-$(REAL_YOSYS_VER).tgz package && \
	node $(CURDIR)/tests/real_apps/share.mjs package/gen/resources-yosys.js . && \
	mv package/gen/yosys.core.wasm . && rm -rf package *.tgz npm.log

$(REAL_CLANG)/llvm.core.wasm:
	@$(call real_fetch,@yowasp/clang@$(REAL_CLANG_VER))
	@cd $(dir $@) && tar xzmf yowasp-clang-$(REAL_CLANG_VER).tgz package/gen && \
	mkdir usr && tar xmf package/gen/llvm-resources.tar -C usr && \
	mv package/gen/llvm.core.wasm . && rm -rf package *.tgz npm.log

real-apps: deps k23sim $(REAL_YOSYS)/yosys.core.wasm $(REAL_CLANG)/llvm.core.wasm
	@tests/real_apps.sh $(REAL_YOSYS) $(REAL_CLANG)

# -- Freestanding proof --------------------------------------------------
# The portable folders compile for bare riscv64 with only the compiler's
# own headers (-nostdinc), and the objects, linked together, need nothing
# but the platform (hal_*) and the four memory builtins.
FS_BUILD := build/freestanding
FS_CC    := $(CROSS_RV)gcc
FS_FLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -nostdlib -nostdinc -fno-omit-frame-pointer \
	    -isystem $(shell $(FS_CC) -print-file-name=include 2>/dev/null) \
	    -mcmodel=medany -march=rv64gc -mabi=lp64d -I.
FS_OBJS  := $(patsubst %,$(FS_BUILD)/%.o,$(PORTABLE_C) $(foreach d,$(PORTABLE_DIRS),$(wildcard $(d)/*_riscv64.S)))

$(FS_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(FS_CC) $(FS_FLAGS) $(DEPFLAGS) -c $< -o $@

$(FS_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(FS_CC) $(FS_FLAGS) $(DEPFLAGS) -c $< -o $@

freestanding: deps $(FS_OBJS)
	@$(CROSS_RV)ld -r -o $(FS_BUILD)/portable.o $(FS_OBJS)
	@bad=$$($(CROSS_RV)nm -u $(FS_BUILD)/portable.o | awk '{print $$2}' | \
	      grep -Ev '^(hal_[a-z0-9_]+|memcpy|memset|memmove|memcmp)$$'); \
	if [ -n "$$bad" ]; then echo "freestanding: undefined symbols outside the platform interface:"; echo "$$bad"; exit 1; fi
	@echo "freestanding: $(words $(FS_OBJS)) objects in $(PORTABLE_DIRS) build for bare riscv64"

# -- Metal: riscv64 under qemu-system -----------------------------------
# build/metal/k23.elf is the freestanding objects above (FS_OBJS, the
# same files `make freestanding` checks) plus the platform in
# metal/riscv64/ and one program object: metal/riscv64/main.c (boot and
# self-check) or, for build/metal/k23-test.elf, tests/metal/main.c (the
# kernel tests that run on metal).  Linked twice: the second link adds
# the symbol table for backtraces, generated from the first, at the end
# of the image, and the recipe checks that nothing else moved.
METAL_BUILD   := build/metal
METAL_DIR     := metal/riscv64
METAL_OBJS    := $(patsubst %,$(METAL_BUILD)/%.o,$(filter-out $(METAL_DIR)/main.c,\
		 $(wildcard $(METAL_DIR)/*.c)) $(METAL_DIR)/entry.S)
METAL_ELF     := $(METAL_BUILD)/k23.elf
METAL_TEST_ELF := $(METAL_BUILD)/k23-test.elf
METAL_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(METAL_DIR)/kernel.ld -Wl,--build-id=none
QEMU_RV       := qemu-system-riscv64
QEMU_FLAGS    := -machine virt -m 512M -nographic -bios default
QEMU_SMP      ?= 4
QEMU_APPEND   ?=

.PHONY: metal metal-test qemu qemu-gdb

$(METAL_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(FS_CC) $(FS_FLAGS) $(DEPFLAGS) -c $< -o $@

$(METAL_BUILD)/$(METAL_DIR)/string.c.o: private FS_FLAGS += -fno-builtin

$(METAL_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(FS_CC) $(FS_FLAGS) $(DEPFLAGS) -c $< -o $@

# $(call metal_link,OUTPUT,PROGRAM_OBJECTS)
define metal_link
	@$(METAL_DIR)/ksyms.sh >$(1).ksyms0.S
	@$(FS_CC) -c -o $(1).ksyms0.o $(1).ksyms0.S
	$(FS_CC) $(METAL_LDFLAGS) -o $(1).pass1 $(FS_OBJS) $(METAL_OBJS) $(2) $(1).ksyms0.o -lgcc
	@$(METAL_DIR)/ksyms.sh $(CROSS_RV)nm $(1).pass1 >$(1).ksyms.S
	@$(FS_CC) -c -o $(1).ksyms.o $(1).ksyms.S
	$(FS_CC) $(METAL_LDFLAGS) -o $(1) $(FS_OBJS) $(METAL_OBJS) $(2) $(1).ksyms.o -lgcc
	@$(CROSS_RV)nm -n $(1).pass1 | grep -Ev " (metal_ksyms|_kernel_end)" >$(1).syms1; \
	 $(CROSS_RV)nm -n $(1) | grep -Ev " (metal_ksyms|_kernel_end)" >$(1).syms2; \
	 cmp -s $(1).syms1 $(1).syms2 || { echo "metal: symbols moved between the links"; exit 1; }
endef

$(METAL_ELF): $(FS_OBJS) $(METAL_OBJS) $(METAL_BUILD)/$(METAL_DIR)/main.c.o \
	      $(METAL_DIR)/kernel.ld $(METAL_DIR)/ksyms.sh
	$(call metal_link,$@,$(METAL_BUILD)/$(METAL_DIR)/main.c.o)

METAL_TEST_OBJS := $(patsubst %,$(METAL_BUILD)/%.o,tests/metal/main.c tests/metal/mm_cases.c \
		   tests/metal/bench.c tests/cross/sched_cases.c)

$(METAL_TEST_ELF): $(FS_OBJS) $(METAL_OBJS) $(METAL_TEST_OBJS) \
		   $(METAL_DIR)/kernel.ld $(METAL_DIR)/ksyms.sh
	$(call metal_link,$@,$(METAL_TEST_OBJS))

# The host tool of the device-tree tests: corrupts a blob, and fuzzes the
# metal reader (built for the host here) with ASan and UBSan.
METAL_DTB_TOOL := $(METAL_BUILD)/dtb_tool

$(METAL_DTB_TOOL): tests/metal/dtb_tool.c $(METAL_DIR)/fdt.c $(METAL_DIR)/fdt.h kernel/klib.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-I. -o $@ tests/metal/dtb_tool.c $(METAL_DIR)/fdt.c kernel/klib.c

metal: deps $(METAL_ELF) $(METAL_TEST_ELF) $(METAL_DTB_TOOL)

# bench/bench_metal.c boots both images.
bench: $(METAL_ELF) $(METAL_TEST_ELF)

# The metal suite of `make test` (tests/metal/run.sh).
metal-test: metal
	@tests/metal/run.sh

# Boot it as ./k23sim boots: banner and self-check; QEMU's exit code is
# the kernel's status (QEMU_SMP=1..8, QEMU_APPEND="paging=sv48 log=debug").
qemu: metal
	$(QEMU_RV) $(QEMU_FLAGS) -smp $(QEMU_SMP) -kernel $(METAL_ELF) -append "$(QEMU_APPEND)"

# The same, stopped at the first instruction, gdb waiting on port 1234.
qemu-gdb: metal
	@echo "qemu-gdb: in another terminal: gdb-multiarch $(METAL_ELF) -ex 'target remote :1234'"
	$(QEMU_RV) $(QEMU_FLAGS) -smp $(QEMU_SMP) -kernel $(METAL_ELF) -append "$(QEMU_APPEND)" -s -S

-include $(FS_OBJS:.o=.d) $(METAL_OBJS:.o=.d) $(METAL_TEST_OBJS:.o=.d)

# -- Spec suite ----------------------------------------------------------
# `make spec` converts the WebAssembly spec tests of core/ and simd/ in
# ../shared/wasm-testsuite with wabt's wast2json into build/spec/ and runs
# them built with ASan+UBSan: core/ through the decoder, the validator and
# the JIT, simd/ through decoding and validation only (tests/spec_runner.c
# runs each file in a child process that boots its own kernel, two at a
# time; tests/spec_file.c runs one file's commands).  `make spec-run
# VARIANT=release` is the fast run; SPEC_FLAGS=-v shows every failure.
# wast2json 1.0.32 can exit 0 after printing errors, so anything it prints
# counts as a failed conversion.
SPEC_SRC    := ../shared/wasm-testsuite
SPEC_OUT    := build/spec
SPEC_WAST   := $(wildcard $(SPEC_SRC)/core/*.wast $(SPEC_SRC)/simd/*.wast)
SPEC_JSON   := $(patsubst $(SPEC_SRC)/%.wast,$(SPEC_OUT)/%.json,$(SPEC_WAST))
SPEC_RUNNER := $(BUILD)/tools/spec_runner
SPEC_SRCS   := tests/spec_runner.c tests/spec_file.c
SPEC_FLAGS  ?=

.PHONY: spec spec-run fuzz

$(SPEC_OUT)/%.json: $(SPEC_SRC)/%.wast
	@mkdir -p $(dir $@)
	@if ! wast2json $< -o $@ 2>$@.err || [ -s $@.err ]; then \
	    echo "spec: wast2json failed on $<:"; cat $@.err; \
	    rm -f $@ $@.err; exit 1; fi; rm -f $@.err

$(SPEC_RUNNER): $(SPEC_SRCS) tests/spec.h $(LIBK23)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SPEC_SRCS) $(LIBK23) -ljson-c $(LIBS)

spec: deps
	@[ -d $(SPEC_SRC)/core ] || { echo "spec: $(SPEC_SRC)/core not found"; exit 1; }
	@$(MAKE) -s VARIANT=asan spec-run

spec-run: $(SPEC_JSON) $(SPEC_RUNNER)
	@$(SPEC_RUNNER) $(SPEC_FLAGS) $(SPEC_JSON)

# -- Differential fuzzing -----------------------------------------------
# `make fuzz-diff` runs random modules from binaryen's translate-to-fuzz
# through the JIT (tests/fuzz_diff.c) and through V8 (tests/fuzz_diff.mjs)
# for FUZZ_TIME seconds and compares what they print (tests/fuzz_diff.sh);
# a disagreement is kept under build/fuzz-diff/.  FUZZ_DIFF_FLAGS: more
# options of the script (e.g. -s 1-200 for a fixed list of seeds, -j 2).
# Debian's binaryen (108) makes no reference types; FUZZ_BINARYEN=npm uses
# npm's binaryen (installed under build/binaryen/), which does.
FUZZ_DIFF := $(BUILD)/tools/fuzz_diff
FUZZ_DIFF_FLAGS ?=
FUZZ_BINARYEN ?= debian
BINARYEN_NPM := build/binaryen/node_modules/.bin/wasm-opt
FUZZ_WASM_OPT_debian := wasm-opt
FUZZ_WASM_OPT_npm := $(BINARYEN_NPM)

.PHONY: fuzz-diff

$(FUZZ_DIFF): tests/fuzz_diff.c $(LIBK23)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBK23) $(LIBS)

$(BINARYEN_NPM):
	@mkdir -p build/binaryen
	npm install --prefix build/binaryen --no-audit --no-fund binaryen@132

fuzz-diff: deps $(FUZZ_DIFF) $(filter-out wasm-opt,$(FUZZ_WASM_OPT_$(FUZZ_BINARYEN)))
	@tests/fuzz_diff.sh -d $(FUZZ_DIFF) -t $(FUZZ_TIME) \
	    -g $(FUZZ_WASM_OPT_$(FUZZ_BINARYEN)) $(FUZZ_DIFF_FLAGS)

# -- WASI conformance suite ----------------------------------------------
# `make wasi-testsuite` runs the preview1 programs of ../shared/wasi-testsuite
# (C, Rust and AssemblyScript) through ./k23sim's command line, each with its
# folder as working directory and a fresh copy of its root, two at a time
# (tests/wasi_testsuite.c).  WASI_SUITE_FLAGS=-v says why each failure
# failed; names after it (e.g. WASI_SUITE_FLAGS="-v rust/path_") filter.
WASI_SUITE        := ../shared/wasi-testsuite/tests
WASI_SUITE_RUNNER := $(BUILD)/tools/wasi_testsuite
WASI_SUITE_FLAGS  ?=

.PHONY: wasi-testsuite

$(WASI_SUITE_RUNNER): tests/wasi_testsuite.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -ljson-c -lpthread

wasi-testsuite: deps $(WASI_SUITE_RUNNER) $(K23SIM)
	@[ -d $(WASI_SUITE) ] || { echo "wasi-testsuite: $(WASI_SUITE) not found"; exit 1; }
	@$(WASI_SUITE_RUNNER) -k $(K23SIM) -d $(WASI_SUITE) $(WASI_SUITE_FLAGS)

# -- Fuzzing -------------------------------------------------------------
# A libFuzzer target for decode+validate (tests/fuzz_wasm.c), seeded with
# the spec suite's modules and tests/wasm_corpus/, where every input that
# ever crashed it is kept (tests/test_wasm_corpus.c replays them).
# `make fuzz` runs it for FUZZ_TIME seconds; `make test` runs a short one.
FUZZ_BUILD := build/fuzz
FUZZ_SRCS  := tests/fuzz_wasm.c jit/decode.c jit/validate.c jit/wasm_ops.c jit/names.c \
	      kernel/printf.c kernel/klib.c
FUZZ_BIN   := $(FUZZ_BUILD)/fuzz_wasm
FUZZ_TIME  ?= 300
FUZZ_FLAGS := -std=gnu11 $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=undefined -I.

$(FUZZ_BIN): $(FUZZ_SRCS) jit/*.h jit/wasm_ops.def kernel/klib.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS)

fuzz: deps $(FUZZ_BIN) $(SPEC_JSON)
	@mkdir -p $(FUZZ_BUILD)/corpus
	@[ -n "$$(ls -A $(FUZZ_BUILD)/corpus)" ] || cp $(SPEC_OUT)/*/*.wasm $(FUZZ_BUILD)/corpus/
	@echo "fuzz: decode+validate for $(FUZZ_TIME) s (log: $(FUZZ_BUILD)/fuzz.log)"
	@if $(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus tests/wasm_corpus \
	    >$(FUZZ_BUILD)/fuzz.log 2>&1; then \
	    grep -E '^Done [0-9]+ runs' $(FUZZ_BUILD)/fuzz.log; \
	else \
	    tail -n 40 $(FUZZ_BUILD)/fuzz.log; \
	    echo "fuzz: FAILED; add the input from $(FUZZ_BUILD)/crash-* etc. to tests/wasm_corpus/"; \
	    exit 1; \
	fi

# -- Validation and compile benchmark input ------------------------------
# bench_validate times decode+validate, and bench_jit the whole compile
# (next to node's, with bench/compile_v8.mjs), on esbuild.wasm (about 14 MB
# of Go compiled to wasm) from the npm package esbuild-wasm, fetched with
# npm.  node and npm are not in .ci/deps: the machines come with them
# (NodeSource's nodejs, which bundles npm and conflicts with Debian's npm),
# and without node the benchmarks leave out V8's figures.
VALIDATE_PKG   := esbuild-wasm@0.28.2
VALIDATE_INPUT := build/bench-data/esbuild.wasm

$(VALIDATE_INPUT):
	@mkdir -p $(dir $@)
	@command -v npm >/dev/null || { echo "bench: npm is needed to fetch $(VALIDATE_PKG) (apt-get install npm)"; exit 1; }
	@cd $(dir $@) && rm -rf package esbuild-wasm-*.tgz && \
	if ! npm pack --silent $(VALIDATE_PKG) >npm.log 2>&1; then \
	    echo "bench: 'npm pack $(VALIDATE_PKG)' failed (is the npm registry reachable?):"; \
	    cat npm.log; exit 1; fi && \
	tar xzf esbuild-wasm-*.tgz package/esbuild.wasm && \
	mv package/esbuild.wasm esbuild.wasm && rm -rf package esbuild-wasm-*.tgz npm.log

bench: $(VALIDATE_INPUT)

# -- Compute benchmark programs ------------------------------------------
# bench_run times the programs of bench/run/ (no libc, one export `run`)
# natively and as wasm under V8 and k23sim.  Native: gcc -O2 with
# native_main.c; -fno-math-errno as nothing here has errno (nbody's sqrt
# would call libm otherwise).  Wasm: clang -O2 for wasm32; -ffreestanding
# keeps it from turning loops into memset/memcpy calls, which would be
# imports, and wasm-ld rejects any undefined symbol, so every module links
# with no imports, exporting run and its memory.
RUN_DIR    := build/bench-run
RUN_SRCS   := $(filter-out bench/run/native_main.c,$(wildcard bench/run/*.c))
RUN_NATIVE := $(patsubst bench/run/%.c,$(RUN_DIR)/%,$(RUN_SRCS))
RUN_WASM   := $(RUN_NATIVE:=.wasm)

$(RUN_NATIVE): $(RUN_DIR)/%: bench/run/%.c bench/run/native_main.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -fno-math-errno $(WARN) -I. -o $@ $< bench/run/native_main.c

$(RUN_WASM): $(RUN_DIR)/%.wasm: bench/run/%.c
	@mkdir -p $(dir $@)
	clang -O2 --target=wasm32 -ffreestanding -nostdlib $(WARN) \
	    -Wl,--no-entry -Wl,--export=run -o $@ $<

$(BUILD)/bench/bench_run: private CFLAGS += -DK23SIM_PATH=\"$(K23SIM)\"

bench: $(RUN_NATIVE) $(RUN_WASM)

# -- WASI benchmark programs ---------------------------------------------
# bench_wasi times the WASI commands of bench/wasi/ under k23sim and node,
# hello and clock also natively (gcc -O2), and reads a 100 MB file of
# random bytes through fd_read.  Wasm: clang for wasm32-wasi over Debian's
# wasi-libc (the wasi-libc package puts it where clang looks).
WASI_BENCH_DIR    := build/bench-wasi
WASI_BENCH_WASM   := $(patsubst bench/wasi/%.c,$(WASI_BENCH_DIR)/%.wasm,$(wildcard bench/wasi/*.c))
WASI_BENCH_NATIVE := $(WASI_BENCH_DIR)/hello $(WASI_BENCH_DIR)/clock
WASI_READ_FILE    := build/bench-data/wasi-read.bin

$(WASI_BENCH_WASM): $(WASI_BENCH_DIR)/%.wasm: bench/wasi/%.c
	@mkdir -p $(dir $@)
	clang -O2 --target=wasm32-wasi $(WARN) -o $@ $<

$(WASI_BENCH_NATIVE): $(WASI_BENCH_DIR)/%: bench/wasi/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 $(WARN) -o $@ $<

$(WASI_READ_FILE):
	@mkdir -p $(dir $@)
	@head -c 100000000 /dev/urandom >$@.tmp && mv $@.tmp $@

$(BUILD)/bench/bench_wasi: private CFLAGS += -DK23SIM_PATH=\"$(K23SIM)\"

bench: $(WASI_BENCH_WASM) $(WASI_BENCH_NATIVE) $(WASI_READ_FILE)

# -- Cross-arch tests ----------------------------------------------------
# The scheduler's shared unit tests (tests/cross/sched_cases.c) built as
# static programs for each architecture over a one-hart platform shim
# (tests/cross/shim.c) with that architecture's context switch.
# tests/test_sched_cross.c runs them, under qemu-user for the foreign ones.
CROSS_ARCHES     := x86_64 aarch64 riscv64
CROSS_CC_x86_64  := x86_64-linux-gnu-gcc
CROSS_CC_aarch64 := aarch64-linux-gnu-gcc
CROSS_CC_riscv64 := riscv64-linux-gnu-gcc
CROSS_CC_$(ARCH) := $(CC)
CROSS_BUILD      := build/cross
CROSS_SRCS       := $(filter-out sched/stack.c,$(wildcard sched/*.c)) kernel/klib.c \
		    kernel/printf.c kernel/log.c tests/cross/shim.c tests/cross/main.c \
		    tests/cross/sched_cases.c
CROSS_BINS       := $(CROSS_ARCHES:%=$(CROSS_BUILD)/sched_cases-%)

$(CROSS_BUILD)/sched_cases-%: $(CROSS_SRCS) sched/switch_%.S $(wildcard sched/*.h kernel/*.h tests/cross/*.h)
	@mkdir -p $(dir $@)
	$(CROSS_CC_$*) -std=gnu11 $(WARN) -O2 -g -static -I. -o $@ $(CROSS_SRCS) sched/switch_$*.S

# The stress scenarios (tests/sched_stress.c) likewise, over the shim's
# several harts (one thread each); tests/run.sh runs the AArch64 program
# under qemu-aarch64, where the idle loop's handshake with its wakers
# meets weakly ordered atomics.  That program inlines LL/SC atomics rather
# than choosing at run time: LSE's atomics are full barriers on hardware
# that has them, and would hide a missing fence there.
STRESS_SRCS             := $(filter-out tests/cross/main.c tests/cross/sched_cases.c,$(CROSS_SRCS)) \
			   tests/sched_stress_main.c
STRESS_FLAGS_aarch64    := -mno-outline-atomics

$(CROSS_BUILD)/sched_stress-%: $(STRESS_SRCS) tests/sched_stress.c sched/switch_%.S $(wildcard sched/*.h kernel/*.h tests/cross/*.h)
	@mkdir -p $(dir $@)
	$(CROSS_CC_$*) -std=gnu11 $(WARN) -O2 -g -static -pthread $(STRESS_FLAGS_$*) -I. -o $@ \
		$(STRESS_SRCS) sched/switch_$*.S

$(BUILD)/tests/test_sched_cross: $(CROSS_BINS)
$(BUILD)/tests/test_sched_cases: tests/cross/sched_cases.c tests/cross/sched_cases.h
$(BUILD)/tests/test_sched_stress: tests/sched_stress.c

# The stress scenarios without Criterion, for VARIANT=tsan (tests/run.sh):
# Criterion's runner cannot start under GCC's ThreadSanitizer.
$(BUILD)/tests/sched_stress: tests/sched_stress_main.c tests/sched_stress.c tests/cross/*.h $(LIBK23)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBK23) $(LIBS)

# -- Tests ---------------------------------------------------------------
unit: deps $(TEST_BINS) $(K23SIM)

test: deps
	@tests/run.sh

check: test

bench: deps $(BENCH_BINS) $(K23SIM)
	@for b in $(BENCH_BINS); do $$b || exit 1; done

clean:
	rm -rf build k23sim

-include $(LIB_OBJS:.o=.d) $(BUILD)/hosted/main.c.d
