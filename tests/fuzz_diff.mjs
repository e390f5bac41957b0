// fuzz_diff.mjs - the V8 side of the differential fuzzer
// (tests/fuzz_diff.sh): run a module and print what it did exactly as
// tests/fuzz_diff.c prints it for k23sim's JIT; see that file for the
// format.  Needs node's --experimental-wasm-type-reflection, for the
// exports' parameter types.
//
//	node --experimental-wasm-type-reflection tests/fuzz_diff.mjs [-v] MODULE.wasm
import fs from 'node:fs';

const out = [];
const print = (s) => out.push(s);

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

function f32text(x) {
	if (Number.isNaN(x))
		return 'nan';
	f32[0] = x;
	return '0x' + u32[0].toString(16).padStart(8, '0');
}

function f64text(x) {
	if (Number.isNaN(x))
		return 'nan';
	f64[0] = x;
	return '0x' + u64[0].toString(16).padStart(16, '0');
}

function value(type, v) {
	switch (type) {
	case 'i32': return `i32 ${v | 0}`;
	case 'i64': return `i64 ${BigInt.asIntN(64, v)}`;
	case 'f32': return `f32 ${f32text(v)}`;
	case 'f64': return `f64 ${f64text(v)}`;
	case 'funcref':
	case 'anyfunc': return `funcref ${v === null ? 'null' : 'nonnull'}`;
	case 'externref': return `externref ${v === null ? 'null' : 'nonnull'}`;
	default: return `type ${type}`;
	}
}

function zero(type) {
	switch (type) {
	case 'i64': return 0n;
	case 'i32': case 'f32': case 'f64': return 0;
	default: return null;
	}
}

// V8's trap messages, as the classes tests/fuzz_diff.c prints.
const traps = [
	[/^unreachable/, 'unreachable'],
	[/memory access out of bounds|data segment (is )?out of bounds/, 'memory out of bounds'],
	[/table index is out of bounds|element segment (is )?out of bounds|table access out of bounds/,
	 'table out of bounds'],
	[/null function or function signature mismatch/, 'null function or signature mismatch'],
	[/divide by zero|remainder by zero/, 'integer divide by zero'],
	[/divide result unrepresentable|float unrepresentable in integer range/,
	 'integer overflow or invalid conversion'],
	[/Maximum call stack size exceeded/, 'call stack exhausted'],
];

function trapText(e) {
	if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
		for (const [re, name] of traps)
			if (re.test(e.message))
				return name;
	}
	return `unknown: ${e}`;
}

// FNV-1a, 32 bits, as in tests/fuzz_diff.c.
function hash(bytes) {
	let h = 2166136261;
	for (let i = 0; i < bytes.length; i++)
		h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
	return h.toString(16).padStart(8, '0');
}

const logs = {
	'log-i32': (x) => print(`log i32 ${x}`),
	'log-i64': (x) => print(`log i64 ${BigInt.asIntN(64, x)}`),
	'log-f32': (x) => print(`log f32 ${f32text(x)}`),
	'log-f64': (x) => print(`log f64 ${f64text(x)}`),
};

// call-export, call-ref and their -catch forms (see tests/fuzz_diff.c).
let funcExports = null;

// As in tests/fuzz_diff.c, after 1000 calls each one traps at once.
let callBudget = 1000;

function callZero(f) {
	if (f === null || f === undefined || --callBudget < 0)
		throw new WebAssembly.RuntimeError('unreachable');
	f(...WebAssembly.Function.type(f).parameters.map(zero));
}

// Call f as the import called what; its trap (or null) after printing it.
function traced(what, f) {
	print(what);
	try {
		callZero(f);
		print(`${what}: no trap`);
		return null;
	} catch (e) {
		print(`${what}: ${trapText(e)}`);
		return e;
	}
}

const exported = (index) => funcExports?.[index >>> 0];
logs['call-export'] = (index, flags) => {
	const e = traced(`call-export ${index >>> 0}`, exported(index));
	if (e)
		throw e;
};
logs['call-export-catch'] = (index) =>
	traced(`call-export-catch ${index >>> 0}`, exported(index)) ? 1 : 0;
logs['call-ref'] = (f, flags) => {
	const e = traced('call-ref', f);
	if (e)
		throw e;
};
logs['call-ref-catch'] = (f) => traced('call-ref-catch', f) ? 1 : 0;

logs.sleep = (ms, id) => id;

function run(bytes) {
	let mod, inst;
	try {
		mod = new WebAssembly.Module(bytes);
	} catch (e) {
		print('invalid');
		console.error(`fuzz_diff.mjs: ${e.message}`);
		return;
	}
	// Functions are imported as WebAssembly.Functions of the type asked
	// for: a reference to one that comes back to call-ref has a type.
	const imports = { 'fuzzing-support': {} };
	for (const im of WebAssembly.Module.imports(mod)) {
		if (im.kind === 'global') {
			imports[im.module] ??= {};
			imports[im.module][im.name] = new WebAssembly.Global(im.type,
									      zero(im.type.value));
		} else if (im.kind === 'function' && im.module === 'fuzzing-support' &&
			   im.name in logs) {
			imports[im.module][im.name] = new WebAssembly.Function(im.type, logs[im.name]);
		} else {
			print(`skip: import ${im.module}.${im.name}`);
			return;
		}
	}
	print('valid');
	try {
		inst = new WebAssembly.Instance(mod, imports);
	} catch (e) {
		print(`instantiate: trap: ${trapText(e)}`);
		return;
	}
	const exports = WebAssembly.Module.exports(mod);
	const ex = inst.exports;
	const hang = ex.hangLimitInitializer;

	funcExports = exports.filter((e) => e.kind === 'function').map((e) => ex[e.name]);

	let calls = 0;
	const state = () => {
		calls++;
		exports.forEach((e, i) => {
			if (e.kind === 'memory') {
				// The first 16 MiB, as tests/fuzz_diff.c hashes.
				const all = new Uint8Array(ex[e.name].buffer);
				const b = all.subarray(0, Math.min(all.length, 16 << 20));
				print(`memory ${e.name} pages ${all.length / 65536} hash ${hash(b)}`);
				if (process.env.FUZZ_DIFF_DUMP)
					fs.writeFileSync(`${process.env.FUZZ_DIFF_DUMP}.${calls}.${i}`, b);
			} else if (e.kind === 'table') {
				const t = ex[e.name];
				let nulls = '';
				for (let k = 0; k < t.length && k < 200; k++)
					nulls += t.get(k) === null ? '0' : '1';
				print(`table ${e.name} size ${t.length} ${nulls}`);
			} else if (e.kind === 'global') {
				print(`global ${e.name} ${value(e.type.value, ex[e.name].value)}`);
			}
		});
	};

	for (const e of exports) {
		if (e.kind !== 'function' || e.name === 'hangLimitInitializer')
			continue;
		if (typeof hang === 'function') {
			try {
				hang();
			} catch (err) {
				print(`trap: ${trapText(err)}`);
			}
		}
		print(`call ${e.name}`);
		const { parameters, results } = e.type;
		try {
			let r = ex[e.name](...parameters.map(zero));
			if (results.length === 1)
				r = [r];
			results.forEach((t, i) => print(`result ${value(t, r[i])}`));
		} catch (err) {
			print(`trap: ${trapText(err)}`);
		}
		state();
	}
}

if (process.argv[2] === '-v') {
	// Only whether the module is valid, as fuzz_diff -v says it.
	try {
		new WebAssembly.Module(fs.readFileSync(process.argv[3]));
		print('valid');
	} catch (e) {
		print('invalid');
		console.error(`fuzz_diff.mjs: ${e.message}`);
	}
} else {
	run(fs.readFileSync(process.argv[2]));
}
process.stdout.write(out.length ? out.join('\n') + '\n' : '');
