build/examples/hello.wasm k23
