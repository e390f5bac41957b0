build/tests/wasi/argsenv.wasm
