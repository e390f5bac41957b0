build/tests/wasi/stdio.wasm
