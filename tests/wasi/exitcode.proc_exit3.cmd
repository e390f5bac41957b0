build/tests/wasi/exitcode.wasm proc_exit 3
