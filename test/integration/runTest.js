// Runs test/integration/suite inside a real VS Code extension host.
//
//   node test/integration/runTest.js                        code-server + headless Chromium (offline)
//   node test/integration/runTest.js --oldest               the same on the oldest VS Code that
//                                                           package.json's engines.vscode admits
//   BESTOFN_DESKTOP_VSCODE=1 node test/integration/runTest.js   desktop VS Code, downloaded by
//                                                               @vscode/test-electron (needs internet)
//   node test/integration/runTest.js --untrusted            test/integration/untrusted/ only, with
//                                                           workspace trust on and the folder untrusted
//                                                           (code-server only: runTests() always passes
//                                                           --disable-workspace-trust to desktop VS Code)
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
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runTests } = require('@vscode/test-electron');
const { freePort } = require('../../scripts/vscode-host');

const ROOT = path.resolve(__dirname, '..', '..');

async function main() {
	const desktop = process.env.BESTOFN_DESKTOP_VSCODE === '1';
	const oldest = process.argv.includes('--oldest');
	if (oldest && !desktop) {
		// Read by scripts/vscode-host.js in the code-server-as-vscode process that runTests() spawns.
		process.env.BESTOFN_CODE_SERVER_VERSION = require('../../scripts/vscode-host').OLDEST_CODE_SERVER_VERSION;
	}
	const untrusted = process.argv.includes('--untrusted');
	if (untrusted && desktop) {
		console.error('--untrusted runs on code-server only: @vscode/test-electron always disables workspace trust');
		process.exit(2);
	}
	const workspace = untrusted
		? await plantedWorkspace()
		: path.resolve(process.env.BESTOFN_TEST_WORKSPACE || path.join(ROOT, 'test', 'fixtures', 'workspace'));
	/** @type {Parameters<typeof runTests>[0]} */
	const options = {
		extensionDevelopmentPath: ROOT,
		extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
		// --disable-extensions keeps other extensions (and their start-up work) out of the tests;
		// the extension under development still loads.
		launchArgs: [workspace, '--disable-extensions'],
		extensionTestsEnv: untrusted
			? { BESTOFN_TEST_RUNNER: 'integration', BESTOFN_TEST_SUITE: 'untrusted', BESTOFN_WORKSPACE_TRUST: '1' }
			: { BESTOFN_TEST_RUNNER: 'integration' },
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
		if (untrusted) fs.rmSync(workspace, { recursive: true, force: true });
	} catch (err) {
		// runTests rejects with TestRunFailedError { code } when the tests fail; keep that exit code.
		const { message, code } = /** @type {{ message?: string, code?: unknown }} */ (err ?? {});
		console.error(`Integration tests failed: ${message}`);
		process.exit(typeof code === 'number' && code !== 0 ? code : 1);
	}
}

// A folder someone else wrote: its .vscode/settings.json sends code to, and loads models from, a
// loopback port that test/integration/untrusted/ listens on as a tripwire. It must be in place
// before the window opens, and outside this checkout (the repository is not what is untrusted).
async function plantedWorkspace() {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-untrusted-'));
	const elsewhere = `http://127.0.0.1:${await freePort()}`;
	fs.mkdirSync(path.join(folder, '.vscode'));
	fs.writeFileSync(
		path.join(folder, '.vscode', 'settings.json'),
		JSON.stringify(
			{
				'bestOfN.backend': 'openai',
				'bestOfN.ollama.host': elsewhere,
				'bestOfN.openai.baseUrl': `${elsewhere}/v1`,
				'bestOfN.rewardModel': elsewhere,
				'bestOfN.builtin.model': 'someone-else/their-model',
				// Not restricted, so it applies even untrusted: proof that the folder's settings were read.
				'bestOfN.candidates': 3,
			},
			null,
			2,
		),
	);
	fs.writeFileSync(path.join(folder, 'sample.txt'), 'the function returns a\n');
	return folder;
}

main();
