// The package as a person installs it: the linux-x64 .vsix that `npm run package` makes, installed
// into code-server with --install-extension into an extensions folder outside the repository, then
// the rewrite flow in the browser against a loopback Ollama and the tiny reward model. It passes only
// if the packaged bundles, the bundled transformers.js in the worker and the packaged onnxruntime
// binding load from the package alone.
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

const ROOT = path.resolve(__dirname, '../..');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const VSIX = path.join(OUT_DIR, `best-of-n-${version}-linux-x64.vsix`);
const MODEL = 'llama3.1:8b';
const ORIGINAL = 'the function returns a value';
const BEST = 'the code is great, clear and correct';
// Arrival order puts the reward model's favourite third: if the packaged worker could not score,
// the `reward` ranker would leave them in arrival order and the first row would be 'broken'.
const REPLIES = ['the code is broken and wrong', 'this returns a wrong value', BEST, 'a line'];
const WAIT = 30000;

describe('package: the installed linux-x64 .vsix', function () {
	this.timeout(240000);
	let fake;
	let modelDir;
	let wb;

	before(async function () {
		if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing: run node scripts/package.js --build linux-x64`);
		fake = new FakeOllama({ models: [MODEL], respond: r => REPLIES[(r.id - 1) % REPLIES.length], tokenDelayMs: 20 });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-pkg-rm-'));
		writeTinyRewardModel(modelDir);
		wb = await h.openWorkbench({
			vsix: VSIX,
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
	});

	it('is installed from the package, not loaded from the source tree', () => {
		const installed = fs.readdirSync(wb.server.extensionsDir).filter(d => d.startsWith('best-of-n.best-of-n-'));
		assert.strictEqual(installed.length, 1, `one installed copy in ${wb.server.extensionsDir}`);
		const dir = path.join(wb.server.extensionsDir, installed[0]);
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
});
