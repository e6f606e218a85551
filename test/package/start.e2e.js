// `npm start -- --vsix`: the VS Code that npm start serves, with the extension installed from this
// platform's package instead of linked to the checkout. Started through scripts/start.js's own start()
// with a temporary profile, after `npm run test:package` has made the linux-x64 .vsix (so it is fresh
// and used as it is), then opened at the bare URL: the packaged extension answers a command.
//   node scripts/package.js --build linux-x64 && npx mocha --no-config --timeout 300000 test/package/start.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('../e2e/harness');
const host = require('../../scripts/vscode-host');
const { start } = require('../../scripts/start');

const tsx = require('tsx/cjs/api');
/** @type {typeof import('../fixtures/present')} */
const { at } = tsx.require('../fixtures/present.ts', __filename);

const ROOT = path.resolve(__dirname, '../..');
const WAIT = 60000;

describe('package: npm start -- --vsix', function () {
	this.timeout(240000);
	let tmp;
	let started;
	let context;
	let page;

	before(async function () {
		this.timeout(4 * host.LOAD_TIMEOUT);
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-start-vsix-'));
		const workspace = path.join(tmp, 'workspace');
		fs.mkdirSync(workspace);
		fs.writeFileSync(path.join(workspace, 'notes.md'), '# Notes\n\nSome text.\n');
		// build: false — the package test made the .vsix just now; a stale or missing one is an error here.
		started = await start({ profile: path.join(tmp, 'profile'), workspace, port: 0, vsix: true, build: false });
		context = await host.launchBrowser(started.server.scratch);
		page = context.pages()[0] || (await context.newPage());
		page.setDefaultTimeout(WAIT);
		await page.goto(`${started.server.base}/`, { timeout: host.LOAD_TIMEOUT });
		await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: host.LOAD_TIMEOUT });
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed' || !started) return;
		await h.screenshotOnFailure(this, page);
		console.error(`    server log ${started.server.logPath}:\n${host.tail(started.server.logPath, 20).replace(/^/gm, '      | ')}`);
	});

	after(async () => {
		if (context)
			await host.within(
				10000,
				context.close().catch(() => {}),
			);
		if (started) await started.server.stop();
		if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
	});

	it("installs this platform's package, not a link to the checkout", () => {
		assert.strictEqual(path.basename(started.vsix), `best-of-n-${require(path.join(ROOT, 'package.json')).version}-linux-x64.vsix`);
		const { extensionsDir } = started.server;
		assert.ok(!path.resolve(extensionsDir).startsWith(ROOT + path.sep), `${extensionsDir} is outside the checkout`);
		const installed = fs.readdirSync(extensionsDir).filter(d => d.startsWith('best-of-n.best-of-n-'));
		assert.strictEqual(installed.length, 1, `one installed copy in ${extensionsDir}`);
		const dir = path.join(extensionsDir, at(installed, 0));
		assert.ok(!fs.lstatSync(dir).isSymbolicLink(), 'a copy from the package, not the development link');
		assert.ok(fs.existsSync(path.join(dir, 'dist', 'extension.js')));
		assert.ok(!fs.existsSync(path.join(dir, 'src')), 'no sources');
	});

	it('runs the packaged extension: a command answers with a toast', async () => {
		// Rewrite Selection is offered in the palette while an editor is open.
		await h.openFileFromExplorer(page, 'notes.md', { timeout: WAIT });
		await h.waitForEditorText(page, 'Some text.', { timeout: WAIT });
		const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'select the text to rewrite first' });
		// The extension host may start seconds after the workbench lists the command (see test/e2e/start.e2e.js).
		const notYet = page.locator('.monaco-dialog-box', { hasText: 'not found' });
		await h.until(
			'the toast',
			async () => {
				await h.runCommand(page, 'Best-of-N: Rewrite Selection…', { timeout: WAIT });
				const seen = await Promise.race([
					toast.waitFor({ state: 'visible', timeout: 10000 }).then(() => 'toast'),
					notYet.waitFor({ state: 'visible', timeout: 10000 }).then(() => 'not yet'),
				]).catch(() => 'nothing');
				if (seen === 'not yet') await page.keyboard.press('Escape');
				if (seen !== 'toast') await h.sleep(3000);
				return seen === 'toast';
			},
			{ timeout: 2 * WAIT },
		);
		assert.ok(await toast.isVisible());
	});
});
