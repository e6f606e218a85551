/** `npm start -- --vsix`: which package it installs, and when it repackages first. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const start = require('../../scripts/start.js') as {
	vsixState(file: string, inputs: string[]): 'missing' | 'stale' | 'fresh';
	vsixArgument(argv: string[]): string | true | undefined;
};

describe('npm start -- --vsix', () => {
	let dir: string;
	beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-vsix-state-'))));
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	it('repackages when the .vsix is missing or older than any source file, not when it is newer', () => {
		const src = path.join(dir, 'src');
		fs.mkdirSync(path.join(src, 'core'), { recursive: true });
		const source = path.join(src, 'core', 'run.ts');
		fs.writeFileSync(source, '');
		const vsix = path.join(dir, 'x.vsix');
		assert.equal(start.vsixState(vsix, [src]), 'missing');
		fs.writeFileSync(vsix, '');
		fs.utimesSync(source, new Date(1000_000), new Date(1000_000));
		fs.utimesSync(vsix, new Date(2000_000), new Date(2000_000));
		assert.equal(start.vsixState(vsix, [src]), 'fresh');
		fs.utimesSync(source, new Date(3000_000), new Date(3000_000)); // edited after packaging, in a subfolder
		assert.equal(start.vsixState(vsix, [src]), 'stale');
	});

	it('reads --vsix alone or with a file, and not a following flag as one', () => {
		assert.equal(start.vsixArgument([]), undefined);
		assert.equal(start.vsixArgument(['--vsix']), true);
		assert.equal(start.vsixArgument(['--vsix', '--no-build']), true);
		assert.equal(start.vsixArgument(['--no-build', '--vsix', 'a.vsix']), 'a.vsix');
	});
});
