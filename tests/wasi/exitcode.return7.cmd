build/tests/wasi/exitcode.wasm return 7
