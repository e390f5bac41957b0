build/tests/wasi/bare_exit.wasm
