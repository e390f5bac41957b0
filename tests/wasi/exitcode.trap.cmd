build/tests/wasi/exitcode.wasm trap
