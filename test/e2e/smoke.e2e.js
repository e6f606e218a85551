// Proves the e2e harness: a real workbench with the extension loaded from the working tree, a file
// opened from the explorer the way a person would, its text read back from the rendered editor.
//   npx mocha --no-config --timeout 120000 test/e2e/smoke.e2e.js
'use strict';
const assert = require('assert');
const h = require('./harness');

describe('e2e harness', function () {
	this.timeout(4 * h.LOAD_TIMEOUT); // server start + workbench ready is 10-20 s on 2 cores, minutes when shared
	let wb;

	before(async () => {
		wb = await h.openWorkbench();
	});

	afterEach(async function () {
		await h.screenshotOnFailure(this, wb && wb.page);
	});

	after(async () => {
		if (wb) await wb.teardown();
	});

	it('opens a file from the explorer and shows its text', async () => {
		await h.openFileFromExplorer(wb.page, 'sample.txt');
		const text = await h.waitForEditorText(wb.page, 'hello world');
		assert.strictEqual(text.trim(), 'hello world');
		await h.screenshot(wb.page, 'e2e-smoke-sample-opened');
	});

	it('runs a command from the palette', async () => {
		// A built-in command with a visible effect, so this checks runCommand without the extension.
		await h.runCommand(wb.page, 'File: New Untitled Text File');
		await wb.page.locator('.tabs-container .tab.active', { hasText: 'Untitled-1' }).waitFor();
		assert.deepStrictEqual(wb.pageErrors.map(String), []);
	});
});
