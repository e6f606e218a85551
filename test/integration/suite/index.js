// The extension-tests module: VS Code loads it inside the extension host (desktop VS Code through
// @vscode/test-electron, or code-server through scripts/code-server-as-vscode.js) and calls run();
// the returned promise decides the exit code of the whole run.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

function run() {
	const mocha = new Mocha({
		ui: 'bdd',
		timeout: 60000, // a real workbench: activation and the first command can take seconds on 2 cores
		color: false, // the output ends up in a CI log or the test runner's terminal, not a TTY
		grep: process.env.BESTOFN_TEST_GREP || undefined, // narrow a run without editing files
	});
	// Every *.test.js below this folder (plain JS harness checks) and the TypeScript suites bundled by
	// esbuild.js into dist/test/integration, in a stable order so runs are comparable. The untrusted
	// suite (runTest.js --untrusted) runs alone, in a window of its own with workspace trust on.
	const dist = path.resolve(__dirname, '..', '..', '..', 'dist', 'test');
	const dirs =
		process.env.BESTOFN_TEST_SUITE === 'untrusted'
			? [path.join(dist, 'integration-untrusted')]
			: [__dirname, path.join(dist, 'integration')];
	for (const dir of dirs) {
		if (!fs.existsSync(dir)) continue;
		const files = fs
			.readdirSync(dir, { recursive: true, encoding: 'utf8' })
			.filter(f => f.endsWith('.test.js'))
			.sort();
		for (const f of files) mocha.addFile(path.join(dir, f));
	}

	return new Promise(
		/** @param {(value?: unknown) => void} resolve @param {(e: unknown) => void} reject */ (resolve, reject) => {
			try {
				mocha.run(failures => (failures ? reject(new Error(`${failures} test(s) failed.`)) : resolve()));
			} catch (err) {
				reject(err); // a test file that throws while loading must fail the run, not hang it
			}
		},
	);
}

module.exports = { run };
