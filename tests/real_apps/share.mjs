// share.mjs - write out Yosys' share/ folder (the techmap and cell
// libraries of `synth`), which @yowasp/yosys ships as a JavaScript module
// of nested objects, one string per file (or for the biggest, the URL of a
// file beside it):
//
//   node tests/real_apps/share.mjs RESOURCES.js DIR
//
// makes DIR/share/... (`make real-apps` preopens it as /share).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [resources, dir] = process.argv.slice(2);
const { filesystem } = await import(pathToFileURL(resolve(resources)));

function write(path, tree) {
	mkdirSync(path, { recursive: true });
	for (const [name, value] of Object.entries(tree)) {
		if (typeof value === 'string' || value instanceof Uint8Array)
			writeFileSync(join(path, name), value);
		else if (value instanceof URL)
			copyFileSync(fileURLToPath(value), join(path, name));
		else
			write(join(path, name), value);
	}
}
write(dir, filesystem);
