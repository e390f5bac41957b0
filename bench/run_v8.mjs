// run_v8.mjs - a bench/run program's wasm build under V8:
//
//   node [V8 FLAGS] bench/run_v8.mjs NAME.wasm N
//
// calls the export run(N) once and prints "CHECKSUM SECONDS", as the
// native build does (bench/run/native_main.c): the i64 result as an
// unsigned decimal, and the seconds the call took.
//
// What is timed, and why that is fair: the first call alone.  Compile and
// instantiate come before it, as they will for k23sim (timed around the
// call after compile and instantiate) and as gcc's compile does natively;
// bench_run passes --no-wasm-lazy-compilation so V8 compiles everything in
// `new WebAssembly.Module` rather than inside the call.  There is no
// warm-up call: under --liftoff --no-wasm-tier-up --no-wasm-dynamic-tiering
// or --no-liftoff there is one tier only, so nothing would warm but the
// caches and the pages of the module's static arrays, which the native and
// k23sim runs meet cold.
import { readFileSync } from 'node:fs';

const [file, n] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(file));
const { run } = new WebAssembly.Instance(module, {}).exports;
const t0 = process.hrtime.bigint();
const sum = run(Number(n));
const t1 = process.hrtime.bigint();

console.log(`${BigInt.asUintN(64, sum)} ${(Number(t1 - t0) / 1e9).toFixed(6)}`);
