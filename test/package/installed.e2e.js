// The package as a person installs it: the linux-x64 .vsix that `npm run package` makes, installed
// into code-server with --install-extension into an extensions folder outside the repository, then
// the rewrite flow and the explain flow in the browser against a loopback Ollama and the tiny reward
// model. It passes only if the packaged bundles, the bundled transformers.js in the worker and the
// packaged onnxruntime binding load from the package alone.
//   node scripts/package.js --build linux-x64 && npx mocha --no-config --timeout 300000 test/package/installed.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('../e2e/harness');
const { OUT_DIR } = require('../../scripts/package');

const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);
const { writeTinyRewardModel } = tsx.require('../fixtures/tinyRewardModel.ts', __filename);
/** @type {typeof import('../fixtures/present')} */
const { at } = tsx.require('../fixtures/present.ts', __filename);

const ROOT = path.resolve(__dirname, '../..');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const VSIX = path.join(OUT_DIR, `best-of-n-${version}-linux-x64.vsix`);
const MODEL = 'llama3.1:8b';
const ORIGINAL = 'the function returns a value';
const BEST = 'the code is great, clear and correct';
// Arrival order puts the reward model's favourite third: if the packaged worker could not score,
// the `reward` ranker would leave them in arrival order and the first row would be 'broken'.
const REPLIES = ['the code is broken and wrong', 'this returns a wrong value', BEST, 'a line'];
// Explain Selection on a line of Python: Markdown explanations, the reward model's favourite second.
const PY_FILE = 'cart.py';
const PY_LINE = '    return sum(item.price * item.qty for item in items)';
const PY_CODE = ['def total(items):', PY_LINE, ''].join('\n');
const BEST_EXPLANATION = 'A **clear** and correct total: it adds up `price * qty` over the items.';
const EXPLANATIONS = ['It is **wrong**: a broken loop.', BEST_EXPLANATION, 'A **bad** line.'];
const WAIT = 30000;

describe('package: the installed linux-x64 .vsix', function () {
	this.timeout(240000);
	let fake;
	let modelDir;
	let workspace;
	let wb;

	before(async function () {
		if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing: run node scripts/package.js --build linux-x64`);
		// The explain prompt opens with the file's name; every other request is a rewrite. Replies are
		// counted per task, so each run's candidates arrive in the order above.
		const served = { explain: 0, rewrite: 0 };
		const respond = r => {
			const explain = r.prompt.startsWith(`File: ${PY_FILE}`);
			const list = explain ? EXPLANATIONS : REPLIES;
			return list[served[explain ? 'explain' : 'rewrite']++ % list.length];
		};
		fake = new FakeOllama({ models: [MODEL], respond, tokenDelayMs: 20 });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-pkg-rm-'));
		writeTinyRewardModel(modelDir);
		// The fixture workspace and a Python file, there before the window opens as a person's project is.
		workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-pkg-ws-'));
		fs.cpSync(h.FIXTURE_WORKSPACE, workspace, { recursive: true });
		fs.writeFileSync(path.join(workspace, PY_FILE), PY_CODE);
		wb = await h.openWorkbench({
			vsix: VSIX,
			workspace,
			workspaceSettings: { 'bestOfN.ollama.host': fake.url, 'bestOfN.rewardModel': modelDir },
			userSettings: { 'bestOfN.model': MODEL, 'bestOfN.ranker': 'reward', 'bestOfN.candidates': 4 },
		});
		wb.page.setDefaultTimeout(WAIT);
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed' || !wb) return;
		await h.screenshotOnFailure(this, wb.page);
		await h.logWebviewText(h.webviewFrame(wb.page), 'picker');
		h.logWorkbench(wb);
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
		if (modelDir) fs.rmSync(modelDir, { recursive: true, force: true });
		if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
	});

	it('is installed from the package, not loaded from the source tree', () => {
		const installed = fs.readdirSync(wb.server.extensionsDir).filter(d => d.startsWith('best-of-n.best-of-n-'));
		assert.strictEqual(installed.length, 1, `one installed copy in ${wb.server.extensionsDir}`);
		const dir = path.join(wb.server.extensionsDir, at(installed, 0));
		assert.ok(fs.existsSync(path.join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node')));
		assert.ok(!fs.existsSync(path.join(dir, 'node_modules/@huggingface')), 'transformers.js is bundled, not shipped');
		// Only what runs: no sources, tests, other platforms' bindings, web runtime or image library.
		const BIN = 'node_modules/onnxruntime-node/bin/napi-v6/';
		const ours = f => [`${BIN}linux`, `${BIN}linux/x64`].includes(f) || f.startsWith(`${BIN}linux/x64/`);
		const files = fs.readdirSync(dir, { recursive: true }).map(f => f.split(path.sep).join('/'));
		const stray = files.filter(
			f => /^(src|test|scripts)\//.test(f) || /onnxruntime-web|sharp|@img/.test(f) || (f.startsWith(BIN) && !ours(f)),
		);
		assert.deepStrictEqual(stray, []);
	});

	it('rewrites a selection ranked by the packaged reward worker', async () => {
		const { page } = wb;
		await h.openFileFromExplorer(page, 'notes.txt');
		await h.waitForEditorText(page, ORIGINAL);
		const line = page
			.locator('.editor-group-container.active .editor-instance .view-line', { hasText: ORIGINAL.replace(/ /g, '\u00a0') })
			.first();
		await line.click();
		await page.keyboard.press('Home');
		await page.keyboard.press('Shift+End');
		await h.startRewrite(page, { timeout: WAIT });
		await h.giveInstruction(page, 'rewrite this line', { timeout: WAIT });
		const picker = h.webviewFrame(page);
		const rows = picker.locator('.list [role=option]');
		await h.until(
			'four ranked candidates',
			async () => (await rows.count()) === 4 && (await rows.first().textContent()).includes(BEST),
			{
				timeout: 60000,
			},
		);
		await h.screenshot(page, 'installed-vsix-picker');
		await picker.locator('.list').focus();
		await page.keyboard.press('Enter');
		const text = await h.waitForEditorText(page, BEST);
		assert.ok(text.includes(BEST) && !text.includes(ORIGINAL), text);
		assert.strictEqual(fake.openRequests, 0);
	});

	it('explains a selection ranked by the packaged reward worker and shows the pick inline', async () => {
		const { page } = wb;
		await h.openFileFromExplorer(page, PY_FILE);
		await h.waitForEditorText(page, 'def total');
		const line = page.locator('.editor-group-container.active .editor-instance .view-line', { hasText: 'return\u00a0sum' }).first();
		await line.click();
		await page.keyboard.press('End');
		await page.keyboard.press('Shift+Home');
		await page.keyboard.press('Shift+Home');
		await page.locator('.editor-group-container.active .editor-instance .selected-text').first().waitFor();
		await h.runCommand(page, 'Best-of-N: Explain Selection');
		await page
			.locator('.tabs-container .tab', { hasText: `Best-of-N: Explain ${PY_FILE}:2` })
			.first()
			.waitFor();
		const picker = h.webviewFrame(page);
		const rows = picker.locator('.list [role=option]');
		await h.until(
			"three explanations, the reward model's favourite first",
			async () =>
				(await picker.locator('.status-row .phase').textContent()) === 'Done' &&
				(await rows.count()) === 3 &&
				(await rows.first().textContent()).includes('clear'),
			{ timeout: 60000 },
		);
		// Rendered by the packaged webview bundle: Markdown, not its source.
		await picker.locator('.markdown-view strong', { hasText: 'clear' }).waitFor();
		await h.screenshot(page, 'installed-vsix-explain-picker');

		await picker.locator('.list').focus();
		await page.keyboard.press('Enter');
		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor({ state: 'detached' });
		const thread = page.locator('.review-widget', { hasText: 'adds up' }).first();
		await thread.waitFor();
		await thread.locator('strong', { hasText: 'clear' }).waitFor();
		assert.ok(!(await page.locator('.tabs-container .tab.active').getAttribute('class')).includes('dirty'), 'the file is not modified');
		assert.strictEqual(await h.editorText(page), PY_CODE);
		await h.screenshot(page, 'installed-vsix-explain-inline');
		assert.strictEqual(fake.openRequests, 0);
	});
});
