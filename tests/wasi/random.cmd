build/tests/wasi/random.wasm
