// run_wasi.mjs - a WASI command under node's node:wasi, for bench_wasi:
//
//   node --no-warnings bench/run_wasi.mjs APP.wasm [ARGS...]
//
// what `k23sim APP.wasm [ARGS...]` does: an empty environment, no
// preopened directories, the app's exit code as the process's.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const args = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args, env: {}, returnOnExit: true });
const module = new WebAssembly.Module(readFileSync(args[0]));
const instance = new WebAssembly.Instance(module, wasi.getImportObject());

process.exitCode = wasi.start(instance);
