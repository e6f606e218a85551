// Proves the integration harness itself: the tests run inside a real extension host with the
// `vscode` API, a workspace folder is open, and the runner's environment reaches this process.
'use strict';
const assert = require('assert');
const vscode = require('vscode');

describe('integration harness', () => {
	it('runs inside a VS Code extension host with a workspace open', () => {
		assert.strictEqual(typeof vscode.version, 'string');
		assert.match(vscode.version, /^\d+\.\d+\.\d+/);
		assert.ok(vscode.env.appName, 'vscode.env.appName is empty');
		const folders = vscode.workspace.workspaceFolders || [];
		assert.ok(folders.length > 0, 'no workspace folder is open');
	});

	it('loads the extension under development from the working tree', () => {
		// Only that it is known to the host: activation needs dist/, which the extension's own tests cover.
		const { publisher, name } = require('../../../package.json');
		const ext = vscode.extensions.getExtension(`${publisher}.${name}`);
		assert.ok(ext, `${publisher}.${name} is not loaded`);
	});

	it('sees environment variables set by the test runner', () => {
		// test/integration/runTest.js sets this through runTests({ extensionTestsEnv }). Later tests
		// rely on the same path for switches such as BESTOFN_FAKE_OLLAMA.
		assert.strictEqual(process.env.BESTOFN_TEST_RUNNER, 'integration');
	});
});
