build/tests/wasi/exitcode.wasm exit 42
