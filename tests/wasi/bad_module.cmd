build/tests/wasi/bad_module.wasm
