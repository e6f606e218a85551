// Bundles each runtime separately (extension host, reward and generator workers, CLI on node; picker on browser),
// the shape of the `yo code` esbuild template. Type checking is `tsc --noEmit` beside it (npm run typecheck).
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// `vscode` is provided by the host. onnxruntime-node is a native addon (its binding and shared
// library are loaded from node_modules at run time, one platform's copy per package), and
// onnxruntime-common must be the very instance onnxruntime-node registers its backend with, so both
// stay external. transformers.js itself is bundled into the worker: its Node build already inlines
// the web runtime, so the package needs neither onnxruntime-web (141 MB) nor the whole package.
const nodeExternals = ['vscode', 'onnxruntime-node', 'onnxruntime-common'];

/**
 * transformers.js requires `sharp` (native image decoding, ~20 MB with its platform binaries) at
 * load time and checks for it before use; text models never touch images. The stub makes that check
 * say "no image library" instead of shipping one.
 */
const noImages = {
	name: 'no-images',
	setup(build) {
		build.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'no-images' }));
		build.onLoad({ filter: /.*/, namespace: 'no-images' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
	},
};

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

/** @type {import('esbuild').BuildOptions} */
const common = {
	bundle: true,
	minify: production,
	sourcemap: !production,
	sourcesContent: false,
	logLevel: 'silent',
	plugins: [problemMatcher, noImages],
	// jsonc-parser's `main` is a UMD build that requires its own files at run time, which a bundle
	// does not have; its ES module build bundles like any other.
	alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

/** @type {import('esbuild').BuildOptions[]} */
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
		entryPoints: { generatorWorker: 'src/generation/builtinWorker.ts' },
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
	{ ...common, entryPoints: { report: 'src/webview/report.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'es2022' },
];

// Extension-host tests are TypeScript too; bundled so they can import the fixtures and core types.
// They are never packaged (.vscodeignore is an allow-list).
if (!production) {
	const fs = require('fs');
	// test/integration/untrusted/ is a suite of its own: it runs in a window with workspace trust on.
	for (const [from, to] of /** @type {const} */ ([
		['test/integration', 'dist/test/integration'],
		['test/integration/untrusted', 'dist/test/integration-untrusted'],
	])) {
		const tests = fs.readdirSync(from).filter(f => f.endsWith('.test.ts'));
		if (!tests.length) continue;
		targets.push({
			...common,
			entryPoints: tests.map(f => `${from}/${f}`),
			outdir: to,
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
