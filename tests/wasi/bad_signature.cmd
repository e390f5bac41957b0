build/tests/wasi/bad_signature.wasm
