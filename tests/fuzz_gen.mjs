// fuzz_gen.mjs - random modules in the text format for the differential
// fuzzer (tests/fuzz_diff.sh -G), aimed at what a single-pass compiler
// gets wrong: many values live at once in registers and spill slots,
// locals changed while their old value waits on the operand stack,
// operands that x86 wants in fixed registers (shift counts, dividends),
// calls and runtime calls between them, multi-value blocks and calls,
// branches that carry values, and every numeric instruction on edge
// values.  Every module terminates (loops count, calls go to lower
// indices only) and logs values through fuzzing-support's log-*.
//
//	node tests/fuzz_gen.mjs SEED [--denan | --break N] > module.wat
//
// --break N: then N random edits of the text (an instruction, a type, an
// index or a label depth swapped for another), which make the module
// invalid more often than not, for fuzz_diff.sh -V to compare validators
// (wat2wasm --no-check encodes it as it is).
const denan = process.argv[3] === '--denan';
const breaks = process.argv[3] === '--break' ? Number(process.argv[4]) : 0;
let x = (BigInt(process.argv[2] ?? 1) * 0x9e3779b97f4a7c15n + 7n) & ((1n << 64n) - 1n);
function rnd(n) {
	x ^= (x << 13n) & ((1n << 64n) - 1n);
	x ^= x >> 7n;
	x ^= (x << 17n) & ((1n << 64n) - 1n);
	return Number(x % BigInt(n));
}
const pick = (a) => a[rnd(a.length)];
const chance = (p) => rnd(1000) < p * 1000;

const T = ['i32', 'i64', 'f32', 'f64'];
const edge = {
	i32: ['0', '1', '-1', '2', '31', '32', '33', '0x7fffffff', '0x80000000', '0xff', '0x80',
	      '0xffff', '0x8000', '-7', '3', '0x12345678', '63', '64', '-2147483647'],
	i64: ['0', '1', '-1', '63', '64', '65', '0x7fffffffffffffff', '0x8000000000000000',
	      '0xffffffff', '0x80000000', '0x100000000', '-7', '3', '0x123456789abcdef0',
	      '0xff', '0x8000', '0x7fffffff', '-4294967296'],
	f32: ['0', '-0', '1', '-1', '0.5', '-0.5', '1.5', '2.5', '-2.5', 'inf', '-inf', 'nan',
	      '0x1p-149', '3.4028235e38', '2147483648', '-2147483904', '4294967296',
	      '9.2233720e18', '1e10', '-1e10', '0x1.fffffep+30'],
	f64: ['0', '-0', '1', '-1', '0.5', '-0.5', '1.5', '2.5', '-2.5', 'inf', '-inf', 'nan',
	      '0x1p-1074', '1.7976931348623157e308', '2147483648', '-2147483649', '4294967295.5',
	      '9223372036854775808', '-9223372036854775809', '1e19', '18446744073709551616',
	      '-0.9', '4294967296'],
};
function constant(t) {
	if (chance(0.6))
		return `(${t}.const ${pick(edge[t])})`;
	if (t === 'i32')
		return `(i32.const ${rnd(0x100000000) - 0x80000000})`;
	if (t === 'i64')
		return `(i64.const ${BigInt(rnd(0x100000000)) << 32n | BigInt(rnd(0x100000000))})`;
	return `(${t}.const ${(rnd(2000000) - 1000000) / (1 << rnd(20))})`;
}

const ops = {
	i32: {
		bin: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor',
		      'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
		un: ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s'],
		cmp: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
	},
	i64: {
		bin: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor',
		      'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
		un: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'],
		cmp: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
	},
	f32: {
		bin: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
		un: ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'],
		cmp: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
	},
	f64: {
		bin: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
		un: ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'],
		cmp: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
	},
};
// Conversions: [result, operand, instruction].
const convs = [
	['i32', 'i64', 'i32.wrap_i64'], ['i64', 'i32', 'i64.extend_i32_s'],
	['i64', 'i32', 'i64.extend_i32_u'], ['f32', 'f64', 'f32.demote_f64'],
	['f64', 'f32', 'f64.promote_f32'], ['i32', 'f32', 'i32.reinterpret_f32'],
	['f32', 'i32', 'f32.reinterpret_i32'], ['i64', 'f64', 'i64.reinterpret_f64'],
	['f64', 'i64', 'f64.reinterpret_i64'],
];
for (const i of ['i32', 'i64'])
	for (const f of ['f32', 'f64'])
		for (const s of ['s', 'u']) {
			convs.push([i, f, `${i}.trunc_${f}_${s}`]);
			convs.push([i, f, `${i}.trunc_sat_${f}_${s}`]);
			convs.push([f, i, `${f}.convert_${i}_${s}`]);
		}
const loads = {
	i32: ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'],
	i64: ['i64.load', 'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u',
	      'i64.load32_s', 'i64.load32_u'],
	f32: ['f32.load'], f64: ['f64.load'],
};
const stores = {
	i32: ['i32.store', 'i32.store8', 'i32.store16'],
	i64: ['i64.store', 'i64.store8', 'i64.store16', 'i64.store32'],
	f32: ['f32.store'], f64: ['f64.store'],
};

const NFUNCS = 4 + rnd(8);
const NGLOBALS = 6;
const globals = Array.from({ length: NGLOBALS }, (_, i) => T[i % 4]);
const funcs = [];	// { params, results, locals }
for (let i = 0; i < NFUNCS; i++) {
	const params = Array.from({ length: rnd(8) }, () => pick(T));
	const results = Array.from({ length: chance(0.3) ? rnd(4) : 1 }, () => pick(T));
	const locals = Array.from({ length: rnd(12) }, () => pick(T));
	funcs.push({ params, results, locals });
}
const sig = (f) => f.params.map((t) => `(param ${t})`).join(' ') + ' ' +
	f.results.map((t) => `(result ${t})`).join(' ');

// The function being generated (its locals grow as temporaries and loop
// counters are needed) and what is left of its size.
let cur, budget;

function addr() {
	// Mostly in bounds; now and then near or past the end of the page.
	if (chance(0.03))
		return `(i32.const ${pick(['65532', '65535', '65536', '-1', '65529'])})`;
	return `(i32.and ${expr('i32', 2)} (i32.const 0x3ff8))`;
}

// A local of type t that is not a loop's counter, or -1.
function localOf(t) {
	const all = cur.params.concat(cur.locals);
	const idx = all.map((u, i) => u === t && !cur.counters.has(i) ? i : -1)
		.filter((i) => i >= 0);
	return idx.length ? pick(idx) : -1;
}

// An expression of type t, depth levels at most; with --denan, a float
// one is a NaN no more (made 0 by a helper function), so that NaN bits,
// which may differ between correct engines, show nowhere.
function expr(t, depth) {
	const e = expr1(t, depth);

	return denan && t[0] === 'f' ? `(call ${4 + NFUNCS + (t === 'f64')} ${e})` : e;
}

function expr1(t, depth) {
	budget--;
	if (depth <= 0 || budget <= 0) {
		const l = localOf(t);
		return l >= 0 && chance(0.5) ? `(local.get ${l})` : constant(t);
	}
	const d = depth - 1;
	switch (rnd(27)) {
	case 0: case 1:
		return constant(t);
	case 2: case 3: {
		const l = localOf(t);
		if (l >= 0)
			return `(local.get ${l})`;
		return constant(t);
	}
	case 4: {
		const l = localOf(t);
		if (l >= 0)
			return `(local.tee ${l} ${expr(t, d)})`;
		return constant(t);
	}
	case 5: case 6: case 7: {
		const op = pick(ops[t].bin);
		// A divisor mostly not 0, or the function traps too soon.
		if (/^(div|rem)_/.test(op) && chance(0.85))
			return `(${t}.${op} ${expr(t, d)} (${t}.or ${expr(t, d)} (${t}.const 1)))`;
		return `(${t}.${op} ${expr(t, d)} ${expr(t, d)})`;
	}
	case 8:
		if (t === 'i32' && chance(0.3))
			return `(i64.eqz ${expr('i64', d)})`;
		return t === 'i64' && chance(0.3) ? `(i64.extend_i32_u (i32.eqz ${expr('i32', d)}))` :
		       `(${t}.${pick(ops[t].un)} ${expr(t, d)})`;
	case 9: {
		if (t !== 'i32')
			return `(${t}.${pick(ops[t].bin)} ${expr(t, d)} ${expr(t, d)})`;
		const u = pick(T);
		return `(${u}.${pick(ops[u].cmp)} ${expr(u, d)} ${expr(u, d)})`;
	}
	case 10: {
		const c = pick(convs.filter((v) => v[0] === t));
		// Trapping truncations mostly of values that fit.
		if (/trunc_f/.test(c[2]) && chance(0.7))
			return `(${c[2]} (${c[1]}.${pick(['trunc', 'nearest'])} (${c[1]}.div ` +
			       `${expr(c[1], d)} (${c[1]}.const 1e30))))`;
		return `(${c[2]} ${expr(c[1], d)})`;
	}
	case 11:
		return `(${pick(loads[t])} offset=${pick([0, 1, 2, 4, 7, 8])} ${addr()})`;
	case 12: {
		const g = globals.map((u, i) => u === t ? i : -1).filter((i) => i >= 0);
		return `(global.get ${pick(g)})`;
	}
	case 13:
		return `(select ${expr(t, d)} ${expr(t, d)} ${expr('i32', d)})`;
	case 14:
		return `(if (result ${t}) ${expr('i32', d)} (then ${stmts(1, d)} ${expr(t, d)}) ` +
		       `(else ${expr(t, d)}))`;
	case 15: {
		// A block whose value may leave early through br_if or br_table.
		let body;
		if (chance(0.5))
			body = `(drop (br_if 0 ${expr(t, d)} ${expr('i32', d)})) ${stmts(1, d)} ${expr(t, d)}`;
		else
			body = `(block (result ${t}) ${expr(t, d)} (br_table 0 1 0 1 ${expr('i32', d)}))`;
		return `(block (result ${t}) ${body})`;
	}
	case 16: case 17:
		return call(t, d);
	case 18: {
		// Change a local under a value that read it.
		const l = localOf(t);
		if (l < 0)
			return constant(t);
		return `(${t}.${pick(ops[t].bin)} (local.get ${l}) ` +
		       `(block (result ${t}) (local.set ${l} ${expr(t, d)}) ${expr(t, d)}))`;
	}
	case 19: {
		// Many values live at once.
		let e = expr(t, 1);
		for (let i = 0; i < 6 + rnd(14); i++)
			e = `(${t}.${pick(['add', 'sub', t[0] === 'i' ? 'xor' : 'mul'])} ${expr(t, 1)} ${e})`;
		return e;
	}
	case 20:
		if (t === 'i32')
			return pick(['(memory.size)', `(memory.grow (i32.const ${rnd(3)}))`,
				     `(memory.grow (i32.const ${pick([65536, 4, -1])}))`,
				     `(table.grow 1 ${funcref(d)} (i32.const ${pick([1 << 30, -1])}))`,
				     '(table.size 1)',
				     `(table.grow 1 ${funcref(d)} (i32.const ${rnd(3)}))`,
				     `(ref.is_null ${funcref(d)})`]);
		return constant(t);
	case 21: {
		// Two values out of a block, by br_if or its end; the second logged.
		const u = pick(T);
		return `(block (result ${t}) (block (result ${t} ${u}) ` +
		       `(br_if 0 ${expr(t, d)} ${expr(u, d)} ${expr('i32', d)}) (drop) (drop) ` +
		       `${expr(t, d)} ${expr(u, d)}) (call ${T.indexOf(u)}))`;
	}
	case 22: {
		const u = pick(T);
		return `(block (result ${t}) (if (result ${t} ${u}) ${expr('i32', d)} ` +
		       `(then ${expr(t, d)} ${expr(u, d)}) (else ${stmts(1, d)} ${expr(t, d)} ` +
		       `${expr(u, d)})) (call ${T.indexOf(u)}))`;
	}
	case 23:
		// Code after a branch: unreachable, yet compiled.
		return `(block (result ${t}) (br 0 ${expr(t, d)}) (drop ${expr(pick(T), d)}) ` +
		       `${pick(['', '(unreachable)', '(return ' + cur.results.map((r) => expr(r, 0)).join(' ') + ')'])} ` +
		       `(${t}.${pick(ops[t].bin)}) )`;
	case 24: {
		// A loop carrying a value as its parameter.
		const n = cur.params.length + cur.locals.length;
		cur.locals.push('i32');
		cur.counters.add(n);
		return `(block (result ${t}) (local.set ${n} (i32.const 0)) ${expr(t, d)} ` +
		       `(loop (param ${t}) (result ${t}) ` +
		       `${expr(t, d)} ${t}.${pick(['add', 'sub', t[0] === 'i' ? 'xor' : 'min'])} ` +
		       `(br_if 0 (i32.lt_u (local.tee ${n} (i32.add (local.get ${n}) (i32.const 1))) ` +
		       `(i32.const ${1 + rnd(4)})))))`;
	}
	case 25: {
		// A call through table 1, which statements change.
		const i = rnd(cur.index + 1);
		if (i >= cur.index || !funcs[i].results.length || funcs[i].results[0] !== t)
			return constant(t);
		const f = funcs[i];
		const args = f.params.map((p) => expr(p, Math.min(d, 1))).join(' ');
		let drops = '';
		for (let j = f.results.length - 1; j > 0; j--)
			drops += ` (call ${T.indexOf(f.results[j])})`;
		return `(block (result ${t}) (call_indirect 1 (type $t${i}) ${args} ` +
		       `(i32.const ${rnd(NFUNCS + 1)}))${drops})`;
	}
	default:
		return `(${t}.${pick(ops[t].bin)} ${expr(t, d)} ${expr(t, d)})`;
	}
}

// A call of a lower function whose results include t: the other results
// are logged or dropped.
function call(t, d) {
	const cands = [];
	for (let i = 0; i < cur.index; i++)
		if (funcs[i].results.includes(t))
			cands.push(i);
	if (!cands.length)
		return constant(t);
	const i = pick(cands), f = funcs[i];
	const args = f.params.map((p) => expr(p, Math.min(d, 2))).join(' ');
	const callee = chance(0.3) ? `(call_indirect (type $t${i}) ${args} (i32.const ${i}))` :
				     `(call ${i + 4} ${args})`;
	if (f.results.length === 1)
		return callee;
	// Keep one result of type t; the ones above it are logged, below dropped.
	const k = f.results.lastIndexOf(t);
	let tail = '';
	for (let j = f.results.length - 1; j > k; j--)
		tail += ` (call ${T.indexOf(f.results[j])})`;
	const tmp = cur.params.length + cur.locals.length;
	cur.locals.push(t);
	let head = `(local.set ${tmp})`;
	for (let j = k - 1; j >= 0; j--)
		head += ' (drop)';
	return `(block (result ${t}) ${callee}${tail} ${head} (local.get ${tmp}))`;
}

// A funcref: null, a function, or what table 1 or a local holds.
function funcref(d) {
	return pick(['(ref.null func)', `(ref.func ${4 + rnd(NFUNCS)})`,
		     `(table.get 1 (i32.const ${rnd(NFUNCS)}))`,
		     `(select (result funcref) (ref.func ${4 + rnd(NFUNCS)}) (ref.null func) ${expr('i32', Math.min(d, 1))})`]);
}

function stmt(d) {
	budget--;
	switch (rnd(11)) {
	case 10:
		return pick([
			`(table.set 1 (i32.const ${rnd(NFUNCS)}) ${funcref(d)})`,
			`(table.fill 1 (i32.const ${rnd(NFUNCS)}) ${funcref(d)} (i32.const ${rnd(3)}))`,
			`(table.copy 1 0 (i32.const ${rnd(NFUNCS)}) (i32.const ${rnd(NFUNCS)}) (i32.const ${rnd(3)}))`,
			`(table.init 1 0 (i32.const ${rnd(NFUNCS)}) (i32.const ${rnd(NFUNCS)}) (i32.const ${rnd(3)}))`,
			`(table.init 1 2 (i32.const ${rnd(NFUNCS)}) (i32.const ${rnd(3)}) (i32.const ${rnd(3)}))`,
			'(elem.drop 2)',
			`(memory.init 1 ${addr()} (i32.const ${rnd(8)}) (i32.const ${rnd(8)}))`,
			'(data.drop 1)',
		]);
	case 0: case 1: {
		const t = pick(T);
		return `(call ${T.indexOf(t)} ${expr(t, d)})`;
	}
	case 2: {
		const t = pick(T), l = localOf(t);
		return l < 0 ? '(nop)' : `(local.set ${l} ${expr(t, d)})`;
	}
	case 3: {
		const g = rnd(NGLOBALS);
		return `(global.set ${g} ${expr(globals[g], d)})`;
	}
	case 4: {
		const t = pick(T);
		return `(${pick(stores[t])} offset=${pick([0, 3, 8])} ${addr()} ${expr(t, d)})`;
	}
	case 5: {
		// A counted loop.
		const n = cur.params.length + cur.locals.length;
		cur.locals.push('i32');
		cur.counters.add(n);
		return `(local.set ${n} (i32.const 0)) (loop ${stmts(2, d - 1)} ` +
		       `(br_if 0 (i32.lt_u (local.tee ${n} (i32.add (local.get ${n}) (i32.const 1))) ` +
		       `(i32.const ${1 + rnd(4)}))))`;
	}
	case 6:
		return `(if ${expr('i32', d)} (then ${stmts(2, d - 1)}) (else ${stmts(1, d - 1)}))`;
	case 7:
		return pick([
			`(memory.fill ${addr()} ${expr('i32', 1)} (i32.const ${rnd(40)}))`,
			`(memory.copy ${addr()} ${addr()} (i32.const ${rnd(40)}))`,
		]);
	case 8: {
		const t = pick(T);
		return `(drop ${expr(t, d)})`;
	}
	default: {
		const t = pick(T);
		return `(call ${T.indexOf(t)} ${expr(t, d)})`;
	}
	}
}

function stmts(n, d) {
	let s = '';
	for (let i = 0; i < n && budget > 0; i++)
		s += ' ' + stmt(Math.max(d, 1));
	return s;
}

const out = [];
out.push('(module');
for (const t of T)
	out.push(`  (import "fuzzing-support" "log-${t}" (func (param ${t})))`);
funcs.forEach((f, i) => out.push(`  (type $t${i} (func ${sig(f)}))`));
out.push('  (memory (export "memory") 1 4)');
out.push(`  (table (export "t0") ${NFUNCS} funcref)`);
out.push(`  (table (export "t1") ${NFUNCS} funcref)`);
out.push(`  (elem (i32.const 0) func ${funcs.map((_, i) => i + 4).join(' ')})`);
out.push(`  (elem declare func ${funcs.map((_, i) => i + 4).join(' ')})`);
out.push(`  (elem funcref (ref.func 4) (ref.null func) (ref.func ${3 + NFUNCS}))`);
globals.forEach((t, i) => out.push(`  (global (export "g${i}") (mut ${t}) ${constant(t)})`));
out.push('  (data (i32.const 0) "\\01\\80\\ff\\7f\\00\\00\\80\\3f\\de\\ad\\be\\ef\\00\\00\\f8\\ff")');
out.push('  (data "\\00\\00\\c0\\7f\\01\\00\\00\\80")');
funcs.forEach((f, i) => {
	cur = { ...f, locals: f.locals.slice(), index: i, counters: new Set() };
	budget = 60 + rnd(200);
	const body = stmts(3 + rnd(6), 4) + ' ' +
		f.results.map((t) => expr(t, 4)).join(' ');
	const locals = cur.locals.map((t) => `(local ${t})`).join(' ');
	out.push(`  (func (export "f${i}") (type $t${i}) ${locals}\n   ${body})`);
});
for (const t of ['f32', 'f64'])
	out.push(`  (func (param ${t}) (result ${t}) (select (local.get 0) (${t}.const 0) ` +
		 `(${t}.eq (local.get 0) (local.get 0))))`);
out.push(')');
let text = out.join('\n');
for (let n = 0; n < breaks; n++) {
	// Edit the k-th match of a random pattern.
	const edits = [
		[/\b(i32|i64|f32|f64)\.(add|sub|mul|and|or|xor|eq|ne|min|max)\b/g,
		 () => `${pick(T)}.${pick(['add', 'sub', 'mul', 'and', 'eq', 'min'])}`],
		[/\(result (i32|i64|f32|f64)\)/g, () => `(result ${pick(T)})`],
		[/\((local|global)\.(get|set|tee) \d+/g,
		 (m) => `${m.replace(/\d+$/, '')}${rnd(20)}`],
		[/\(br(_if)? \d+/g, (m) => `${m.replace(/\d+$/, '')}${rnd(6)}`],
		[/\(call \d+/g, () => `(call ${rnd(4 + NFUNCS + 3)}`],
		[/\((drop|nop)\)/g, () => pick(['(drop)', '(nop)', '(unreachable)', '(return)', ''])],
		[/\b(i32|i64|f32|f64)\.(load|store)(8|16|32)?(_[su])?\b/g,
		 () => pick(['i32.load', 'i64.load8_s', 'f32.store', 'i64.store32', 'i32.load16_u'])],
		[/\(type \$t\d+\)/g, () => `(type $t${rnd(NFUNCS)})`],
		[/\(table\.(get|set|size|grow|fill) \d/g, (m) => `${m.slice(0, -1)}${rnd(3)}`],
	];
	const [re, by] = pick(edits);
	const all = [...text.matchAll(re)];
	if (!all.length)
		continue;
	const m = pick(all);
	text = text.slice(0, m.index) + by(m[0]) + text.slice(m.index + m[0].length);
}
console.log(text);
