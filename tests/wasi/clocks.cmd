build/tests/wasi/clocks.wasm $NOW
