/**
 * The check `npm run package` makes on what `vsce ls` lists for each target: only that platform's
 * onnxruntime binding, nothing from the sources or tests. (The real listing is checked by
 * `npm run test:package`, which packages linux-x64 with --check.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pack = require('../../scripts/package.js') as {
	TARGETS: Record<string, { ort: string | null }>;
	strayFiles(target: string, files: string[]): string[];
	readmeImages(readme?: string): string[];
	linkArgs(manifest: { repository?: unknown }, baseImagesUrl?: string): string[];
};

const BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
const SHIPPED = [
	'package.json',
	'README.md',
	'dist/extension.js',
	'dist/rewardWorker.js',
	'media/icon.png',
	'node_modules/onnxruntime-node/dist/index.js',
];

describe('package contents check', () => {
	it('passes a package with its own binding only', () => {
		for (const [target, { ort }] of Object.entries(pack.TARGETS)) {
			const files = ort ? [...SHIPPED, `${BIN}/${ort}/onnxruntime_binding.node`] : SHIPPED;
			assert.deepEqual(pack.strayFiles(target, files), [], target);
		}
	});

	it("flags another platform's binding, sources, tests and what text inference never loads", () => {
		const stray = [
			`${BIN}/win32/x64/onnxruntime.dll`,
			`${BIN}/linux/arm64/libonnxruntime.so.1`,
			'src/extension.ts',
			'test/unit/run.test.ts',
			'scripts/package.js',
			'node_modules/onnxruntime-web/dist/ort.wasm',
			'node_modules/sharp/package.json',
			'node_modules/@huggingface/transformers/package.json',
		];
		assert.deepEqual(pack.strayFiles('linux-x64', [...SHIPPED, `${BIN}/linux/x64/onnxruntime_binding.node`, ...stray]), stray);
	});

	it('flags any binding in the Intel-mac package, which has none', () => {
		assert.deepEqual(pack.strayFiles('darwin-x64', [...SHIPPED, `${BIN}/darwin/arm64/libonnxruntime.dylib`]), [
			`${BIN}/darwin/arm64/libonnxruntime.dylib`,
		]);
	});
});

describe("README's pictures in the package", () => {
	it('finds the relative pictures README shows, not remote or data ones, nor links', () => {
		const md =
			'![a](media/readme/a.png) ![b](https://example.com/b.png) <img src="./media/readme/c.png" width="400"> [d](#d) ![e](data:image/png;base64,AA)';
		assert.deepEqual(pack.readmeImages(md), ['media/readme/a.png', 'media/readme/c.png']);
	});

	it('are files in media/, which the allow-list ships', () => {
		const images = pack.readmeImages();
		for (const image of images) {
			assert.ok(image.startsWith('media/'), `${image} is under media/`);
			assert.ok(fs.existsSync(path.resolve(__dirname, '../..', image)), `${image} exists`);
		}
	});

	it('keeps links relative without a repository or an images URL, and never makes one up', () => {
		assert.deepEqual(pack.linkArgs({}), ['--allow-missing-repository', '--no-rewrite-relative-links']);
		assert.deepEqual(pack.linkArgs({ repository: { url: 'https://example.com/r.git' } }), []);
		assert.deepEqual(pack.linkArgs({}, 'https://example.com/raw/'), [
			'--allow-missing-repository',
			'--baseImagesUrl',
			'https://example.com/raw/',
			'--baseContentUrl',
			'https://example.com/raw/',
		]);
	});
});
