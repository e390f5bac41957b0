build/tests/wasi/pipes.wasm
