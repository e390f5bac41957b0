build/tests/wasi/poll.wasm
