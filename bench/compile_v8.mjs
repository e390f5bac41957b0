// compile_v8.mjs - V8's compile time for a module, for bench_jit:
//
//   node [V8 FLAGS] bench/compile_v8.mjs MODULE.wasm ROUNDS
//
// times `new WebAssembly.Module(bytes)` ROUNDS times in this one process
// and prints the median in seconds.
//
// Each round appends a different empty custom section to the bytes: V8
// keeps a cache of compiled modules keyed by their bytes, and compiling
// the same bytes again while the last module is alive takes it from there
// (seen with node 20: 0.29 s, then 0.005-0.013 s).  A few bytes of custom
// section change nothing else; V8 does not compile them.
import { readFileSync } from 'node:fs';

const [file, rounds] = process.argv.slice(2);
const bytes = readFileSync(file);
const times = [];

for (let i = 0; i < Number(rounds); i++) {
	// Section 0 of 3 bytes: a name of 2 bytes, "k" and the round.
	const unique = Buffer.concat([bytes, Buffer.from([0, 3, 2, 0x6b, 0x30 + i])]);
	const t0 = process.hrtime.bigint();

	new WebAssembly.Module(unique);
	times.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
times.sort((a, b) => a - b);
console.log(times[times.length >> 1]);
