build/examples/hello.wasm
