// run_wasi.mjs - a WASI command under node's node:wasi, for bench_wasi and
// for timing tests/real_apps.sh's programs next to k23sim:
//
//   node --no-warnings bench/run_wasi.mjs [--dir HOST[::GUEST]]... [--env NAME=VALUE]...
//        APP.wasm [ARGS...]
//
// what `k23sim` with the same arguments does: only the environment of
// --env, only the directories of --dir preopened (in that order), the
// app's exit code as the process's.  Long runs want node's
// --no-turbo-fast-api-calls too (tests/real_apps.sh says why).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
while (argv.length > 1 && (argv[0] === '--dir' || argv[0] === '--env')) {
	const [opt, value] = argv.splice(0, 2);
	if (opt === '--dir') {
		const [host, guest] = value.split('::');
		preopens[guest ?? host] = host;
	} else {
		const eq = value.indexOf('=');
		if (eq < 1) {
			console.error(`run_wasi: --env ${value}: want NAME=VALUE`);
			process.exit(2);
		}
		env[value.slice(0, eq)] = value.slice(eq + 1);
	}
}
const wasi = new WASI({ version: 'preview1', args: argv, env, preopens, returnOnExit: true });
const module = new WebAssembly.Module(readFileSync(argv[0]));
const instance = new WebAssembly.Instance(module, wasi.getImportObject());

// Node 20 holds the WASI object weakly while start() runs: a garbage
// collection in the middle of a long program (a host call allocating)
// destroyed it and aborted the process.  A global keeps it alive.
globalThis.wasi = wasi;
process.exitCode = wasi.start(instance);
