build/examples/webserver.wasm
