build/tests/wasi/bad_import.wasm
