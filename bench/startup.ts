/**
 * Figure 6: what activation costs. Each measure runs in a fresh Node process: requiring
 * dist/extension.js (with a stub for the `vscode` module, which only the host provides) against
 * requiring transformers.js, which must not load at activation (nor must the worker start); and the
 * size of each bundle.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median } from './raw';

const PROBE = `
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
	if (request === 'vscode') return new Proxy({}, { get: () => new Proxy(function () {}, { get: (_t, k) => (k === 'then' ? undefined : {}) }) });
	return load.call(this, request, ...rest);
};
const t0 = performance.now();
require(process.argv[1]);
const ms = performance.now() - t0;
const loaded = Object.keys(require.cache).filter(f => /onnxruntime|@huggingface[\\\\/]transformers|rewardWorker|generatorWorker/.test(f));
process.stdout.write(JSON.stringify({ ms, loaded }));
`;

export interface StartupFigures {
	readonly extensionMs: number;
	readonly transformersMs: number;
	/** Heavy modules found in the require cache after requiring the extension (should be none). */
	readonly heavyLoaded: readonly string[];
	readonly bundles: ReadonlyArray<{ readonly file: string; readonly bytes: number }>;
}

export function measureStartup(root: string, repeats: number): StartupFigures {
	const probe = (target: string) =>
		JSON.parse(execFileSync(process.execPath, ['-e', PROBE, target], { cwd: root, encoding: 'utf8' })) as {
			ms: number;
			loaded: string[];
		};
	const extension = path.join(root, 'dist', 'extension.js');
	const transformers = require.resolve('@huggingface/transformers', { paths: [root] });
	const ext: number[] = [];
	const tf: number[] = [];
	let heavy: string[] = [];
	for (let i = 0; i < repeats; i++) {
		const e = probe(extension);
		heavy = e.loaded;
		ext.push(e.ms);
		tf.push(probe(transformers).ms);
	}
	const dist = path.join(root, 'dist');
	const bundles = fs
		.readdirSync(dist)
		.filter(f => f.endsWith('.js'))
		.sort()
		.map(file => ({ file, bytes: fs.statSync(path.join(dist, file)).size }));
	return { extensionMs: median(ext), transformersMs: median(tf), heavyLoaded: heavy, bundles };
}
