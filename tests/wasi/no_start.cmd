build/tests/wasi/no_start.wasm
