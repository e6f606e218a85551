// The VS Code that `npm start` serves, as a person meets it: started through scripts/start.js's own
// start() (the same code path, with a temporary profile), opened at the bare URL in headless Chromium.
// No smoke-test driver here, so a message is a toast on screen, and the extension is the installed
// one, not a development payload. A chatty reply from the loopback Ollama server is applied as code.
//   npm run build && npx mocha --no-config --timeout 240000 test/e2e/start.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./harness');
const host = require('../../scripts/vscode-host');
const { start } = require('../../scripts/start');

const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);

const MODEL = 'llama3.1:8b';
const FILE = 'sum.js';
const ORIGINAL = [
	'function sum(items) {',
	'  let total = 0;',
	'  for (let i = 0; i < items.length; i++) {',
	'    total += items[i];',
	'  }',
	'  return total;',
	'}',
	'',
].join('\n');
const CODE = 'const sum = items => items.reduce((total, x) => total + x, 0);';
// How llama3.1 and most chat models answer, whatever the system prompt says.
const CHATTY = `Here is a more concise version:\n\n\`\`\`js\n${CODE}\n\`\`\`\n\nThis uses the \`reduce\` method and an arrow function.`;
const WAIT = 60000; // one UI step; generous, the machine may be shared

describe('e2e: the VS Code npm start serves', function () {
	this.timeout(240000);
	let fake;
	let tmp;
	let server;
	let context;
	let page;

	before(async function () {
		this.timeout(4 * host.LOAD_TIMEOUT); // build, server, browser, workbench: 30 s idle, minutes when the machine is busy
		fake = new FakeOllama({ models: [MODEL], respond: () => CHATTY });
		await fake.start();
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-start-'));
		const workspace = path.join(tmp, 'workspace');
		fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
		fs.writeFileSync(path.join(workspace, FILE), ORIGINAL);
		// The host is machine-overridable: a remote window reads it from workspace (or Remote) settings.
		fs.writeFileSync(
			path.join(workspace, '.vscode', 'settings.json'),
			JSON.stringify({
				'bestOfN.ollama.host': fake.url,
				'bestOfN.model': MODEL,
				'bestOfN.candidates': 2,
				'bestOfN.ranker': 'consensus',
			}),
		);
		({ server } = await start({ profile: path.join(tmp, 'profile'), workspace, port: 0 }));
		context = await host.launchBrowser(server.scratch, { viewport: { width: 1440, height: 900 } });
		page = context.pages()[0] || (await context.newPage());
		page.setDefaultTimeout(WAIT);
		// The bare URL, as printed: the workspace comes from the server's command line.
		await page.goto(`${server.base}/`, { timeout: host.LOAD_TIMEOUT });
		await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: host.LOAD_TIMEOUT });
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		console.error(`    fake Ollama: ${fake.requests.length} requests`);
		if (!server) return;
		console.error(`    server log ${server.logPath}:\n${host.tail(server.logPath, 20).replace(/^/gm, '      | ')}`);
		const log = h.findExtensionLog(server.userDataDir);
		if (log) console.error(`    extension log ${log}:\n${host.tail(log, 25).replace(/^/gm, '      | ')}`);
	});

	after(async () => {
		if (context)
			await host.within(
				10000,
				context.close().catch(() => {}),
			);
		if (server) await server.stop();
		if (fake) await fake.close();
		if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
	});

	it('shows a toast, not just the bell, when nothing is selected', async () => {
		await h.openFileFromExplorer(page, FILE, { timeout: WAIT });
		await h.waitForEditorText(page, 'return total;', { timeout: WAIT });
		const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'select the text to rewrite first' });
		// The extension host may start seconds after the workbench lists the command: ask until it answers.
		await h.runCommandUntil(page, 'Best-of-N: Rewrite Selection…', toast);
		assert.ok(await toast.isVisible());
		await h.screenshot(page, 'start-toast-empty-selection');
	});

	it('applies a chatty reply as clean code', async () => {
		await page.locator('.editor-group-container.active .editor-instance .view-lines').click();
		await page.keyboard.press('ControlOrMeta+A');
		await page.locator('.editor-group-container.active .editor-instance .selected-text').first().waitFor();
		await h.startRewrite(page, { timeout: WAIT });
		await h.giveInstruction(page, 'make it more concise', { timeout: WAIT });

		const picker = await h.webviewTitled(page, 'Best-of-N: make it more concise');
		await h.waitForPhase(picker, 'Done', { timeout: WAIT });
		// The picker already shows the cleaned text: no preamble, fence or closing sentence.
		assert.strictEqual((await picker.locator('pre.text-view').textContent()).trim(), CODE);
		await h.screenshot(page, 'start-picker-chatty-reply');

		await page.keyboard.press('Enter');
		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor({ state: 'detached' });
		assert.strictEqual(await h.waitForEditorText(page, CODE, { timeout: WAIT }), `${CODE}\n`);
		await h.screenshot(page, 'start-applied-clean-code');
		assert.ok(fake.requests.length >= 1 && fake.requests.every(r => r.model === MODEL));
	});
});
