// Runs test/integration/suite inside a real VS Code extension host.
//
//   node test/integration/runTest.js                        code-server + headless Chromium (offline)
//   node test/integration/runTest.js --oldest               the same on the oldest VS Code that
//                                                           package.json's engines.vscode admits
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
	const oldest = process.argv.includes('--oldest');
	if (oldest && !desktop) {
		// Read by scripts/vscode-host.js in the code-server-as-vscode process that runTests() spawns.
		process.env.BESTOFN_CODE_SERVER_VERSION = require('../../scripts/vscode-host').OLDEST_CODE_SERVER_VERSION;
	}
	const workspace = path.resolve(process.env.BESTOFN_TEST_WORKSPACE || path.join(ROOT, 'test', 'fixtures', 'workspace'));
	/** @type {Parameters<typeof runTests>[0]} */
	const options = {
		extensionDevelopmentPath: ROOT,
		extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
		// --disable-extensions keeps other extensions (and their start-up work) out of the tests;
		// the extension under development still loads.
		launchArgs: [workspace, '--disable-extensions'],
		extensionTestsEnv: { BESTOFN_TEST_RUNNER: 'integration' },
	};
	if (desktop && oldest) {
		// engines.vscode's minimum, e.g. "^1.99.0" -> "1.99.0"
		options.version = require('../../package.json').engines.vscode.replace(/^\^/, '');
	}
	if (!desktop) {
		// Desktop VS Code is downloaded at test time, which fails offline; code-server comes from npm.
		options.vscodeExecutablePath = path.join(ROOT, 'scripts', 'code-server-as-vscode.js');
	}
	try {
		await runTests(options);
	} catch (err) {
		// runTests rejects with TestRunFailedError { code } when the tests fail; keep that exit code.
		const { message, code } = /** @type {{ message?: string, code?: unknown }} */ (err ?? {});
		console.error(`Integration tests failed: ${message}`);
		process.exit(typeof code === 'number' && code !== 0 ? code : 1);
	}
}

main();
