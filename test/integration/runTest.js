// Runs test/integration/suite inside a real VS Code extension host.
//
//   node test/integration/runTest.js                        code-server + headless Chromium (offline)
//   BESTOFN_DESKTOP_VSCODE=1 node test/integration/runTest.js   desktop VS Code, downloaded by
//                                                               @vscode/test-electron (needs internet)
//
// Both go through the same runTests() call; only vscodeExecutablePath differs. Build first
// (`npm run build`): the extension is loaded from the working tree's package.json and dist/.
//
// env: BESTOFN_TEST_WORKSPACE (folder to open; default test/fixtures/workspace)
//      BESTOFN_TEST_GREP (mocha grep) | BESTOFN_TEST_TIMEOUT_MS (code-server only; default 180000)
// Any other variable set here (e.g. BESTOFN_FAKE_OLLAMA) reaches the extension host: test-electron
// spawns VS Code with process.env + extensionTestsEnv, and in the code-server case the extension
// host is forked from the server and inherits its environment (asserted by suite/smoke.test.js).
'use strict';
const path = require('path');
const { runTests } = require('@vscode/test-electron');

const ROOT = path.resolve(__dirname, '..', '..');

async function main() {
	const desktop = process.env.BESTOFN_DESKTOP_VSCODE === '1';
	const workspace = path.resolve(process.env.BESTOFN_TEST_WORKSPACE || path.join(ROOT, 'test', 'fixtures', 'workspace'));
	const options = {
		extensionDevelopmentPath: ROOT,
		extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
		// --disable-extensions keeps other extensions (and their start-up work) out of the tests;
		// the extension under development still loads.
		launchArgs: [workspace, '--disable-extensions'],
		extensionTestsEnv: { BESTOFN_TEST_RUNNER: 'integration' },
	};
	if (!desktop) {
		// Desktop VS Code is downloaded at test time, which fails offline; code-server comes from npm.
		options.vscodeExecutablePath = path.join(ROOT, 'scripts', 'code-server-as-vscode.js');
	}
	try {
		await runTests(options);
	} catch (err) {
		// runTests rejects with TestRunFailedError { code } when the tests fail; keep that exit code.
		console.error(`Integration tests failed: ${err && err.message}`);
		process.exit(typeof err.code === 'number' && err.code !== 0 ? err.code : 1);
	}
}

main();
