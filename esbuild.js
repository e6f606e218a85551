// Bundles each runtime separately (extension host, reward worker, CLI on node; picker on browser),
// the shape of the `yo code` esbuild template. Type checking is `tsc --noEmit` beside it (npm run typecheck).
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// transformers.js loads onnxruntime-node's native binding and its own wasm/json files at run time,
// so it is resolved from node_modules instead of bundled; `vscode` is provided by the host.
const nodeExternals = ['vscode', '@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'sharp'];

/** Prints errors in the form VS Code's `$esbuild-watch` problem matcher reads. */
const problemMatcher = {
	name: 'esbuild-problem-matcher',
	setup(build) {
		build.onStart(() => {
			if (watch) console.log('[watch] build started');
		});
		build.onEnd(result => {
			for (const { text, location } of result.errors) {
				console.error(`✘ [ERROR] ${text}`);
				if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
			}
			if (watch) console.log('[watch] build finished');
		});
	},
};

const common = {
	bundle: true,
	minify: production,
	sourcemap: !production,
	sourcesContent: false,
	logLevel: 'silent',
	plugins: [problemMatcher],
};

const targets = [
	{
		...common,
		entryPoints: { extension: 'src/extension.ts' },
		outdir: 'dist',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: nodeExternals,
	},
	{
		...common,
		entryPoints: { rewardWorker: 'src/reward/worker.ts' },
		outdir: 'dist',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: nodeExternals,
	},
	{
		...common,
		entryPoints: { cli: 'src/cli/main.ts' },
		outdir: 'dist',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: nodeExternals,
		banner: { js: '#!/usr/bin/env node' },
	},
	{ ...common, entryPoints: { picker: 'src/webview/picker.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'es2022' },
];

// Extension-host tests are TypeScript too; bundled so they can import the fixtures and core types.
// They are never packaged (.vscodeignore is an allow-list).
if (!production) {
	const fs = require('fs');
	const tests = fs.readdirSync('test/integration').filter(f => f.endsWith('.test.ts'));
	if (tests.length) {
		targets.push({
			...common,
			entryPoints: tests.map(f => `test/integration/${f}`),
			outdir: 'dist/test/integration',
			platform: 'node',
			format: 'cjs',
			target: 'node20',
			external: [...nodeExternals, 'mocha'],
		});
	}
}

async function main() {
	const contexts = await Promise.all(targets.map(t => esbuild.context(t)));
	if (watch) {
		await Promise.all(contexts.map(c => c.watch()));
		return;
	}
	const results = await Promise.all(
		contexts.map(c =>
			c.rebuild().then(
				() => true,
				() => false,
			),
		),
	);
	await Promise.all(contexts.map(c => c.dispose()));
	if (results.includes(false)) process.exit(1);
}

main().catch(e => {
	console.error(e);
	process.exit(1);
});
