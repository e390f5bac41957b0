build/examples/getrandom.wasm 100
