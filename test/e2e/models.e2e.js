// Choosing models as a person does, in a real workbench (code-server + headless Chromium): the status
// bar names the model; "Best-of-N: Select Generation Model" lists the server's models (one loaded);
// typing filters, Enter picks, the scope question saves it in the workspace; the next rewrite uses
// it. With no reward model set up, the picker's notice offers "Set Up Reward Model…", which opens
// the reward model picker. Screenshots of each picker go to .artifacts/.
//   npm run build && npx mocha --no-config --timeout 180000 test/e2e/models.e2e.js
'use strict';
const assert = require('assert');
const h = require('./harness');

const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);

const FILE = 'notes.txt';
const LINE = 'the function returns a value';
const WAIT = 60000; // one UI step; generous because the machine running the tests may be shared
const until = (what, check, timeout = WAIT) => h.until(what, check, { timeout });

describe('e2e: choose the generation model, then rewrite with it', function () {
	this.timeout(h.patient(300000));
	let fake;
	let wb;
	let page;

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT); // server + browser + workbench: 10-20 s on 2 cores, minutes when shared
		fake = new FakeOllama({
			models: ['llama3.1:8b', 'qwen2.5-coder:7b', 'phi3:3.8b'],
			loaded: ['phi3:3.8b'],
			respond: r => `candidate ${r.id} from ${r.model}`,
		});
		await fake.start();
		// The host is machine-overridable, so it goes in workspace settings (see rewrite.e2e.js).
		wb = await h.openWorkbench({
			workspaceSettings: { 'bestOfN.ollama.host': fake.url, 'bestOfN.rewardModel': '' },
			userSettings: { 'bestOfN.model': 'llama3.1:8b', 'bestOfN.ranker': 'auto', 'bestOfN.candidates': 2 },
		});
		page = wb.page;
		page.setDefaultTimeout(h.patient(WAIT));
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		await h.logWebviewText(h.webviewFrame(page), 'picker');
		if (wb) h.logWorkbench(wb);
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
	});

	const quickRows = () => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
	const statusItem = () => page.locator('.statusbar-item', { hasText: '· consensus' }).first();

	it('lists the models, saves the chosen one for the workspace, and the next rewrite uses it', async () => {
		await until('the status bar to name the model', async () => /llama3\.1:8b · consensus/.test(await statusItem().innerText()));

		await h.chooseCommand(page, 'Best-of-N: Select Generation Model', { timeout: WAIT });
		const qwenRow = quickRows().filter({ hasText: 'qwen2.5-coder:7b' }).first();
		await qwenRow.waitFor();
		const phiRow = quickRows().filter({ hasText: 'phi3:3.8b' }).first();
		assert.match(await phiRow.innerText(), /3\.8B · Q4_K_M · [\d.]+ GB · loaded/);
		assert.match(await quickRows().filter({ hasText: 'llama3.1:8b' }).first().innerText(), /current/);
		await h.screenshot(page, 'model-picker');

		await page.keyboard.type('qwen');
		await until('the filter to leave qwen first', async () => /qwen2\.5-coder:7b/.test(await quickRows().first().innerText()));
		await page.keyboard.press('Enter');
		const workspaceRow = quickRows().filter({ hasText: 'Workspace Settings' }).first();
		await workspaceRow.waitFor();
		await h.screenshot(page, 'model-scope');
		await page.keyboard.press('ArrowDown');
		await page.keyboard.press('Enter');
		await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
		await until('the status bar to show the new model', async () =>
			/qwen2\.5-coder:7b · consensus/.test(await statusItem().innerText()),
		);

		await h.openFileFromExplorer(page, FILE);
		await h.waitForEditorText(page, LINE);
		await h.selectLine(page, LINE);
		await h.startRewrite(page, { timeout: WAIT });
		await h.giveInstruction(page, 'shorter', { timeout: WAIT });

		const picker = await h.webviewTitled(page, 'Best-of-N: shorter');
		await h.waitForPhase(picker, 'Done');
		assert.match(await picker.locator('.meta-row .model').textContent(), /qwen2\.5-coder:7b/);
		assert.ok(fake.requests.length === 2 && fake.requests.every(r => r.model === 'qwen2.5-coder:7b'), 'the server was asked for qwen');
		assert.deepStrictEqual(
			(await picker.locator('.list [role=option] .preview').allTextContents()).map(t => t.replace(/candidate \d+/, 'candidate')),
			['candidate from qwen2.5-coder:7b', 'candidate from qwen2.5-coder:7b'],
		);

		// No reward model is set up: the notice says so, with the action that fixes it.
		const notice = picker.locator('.notice');
		await notice.waitFor();
		assert.match(await notice.locator('.notice-text').textContent(), /^Ranked by consensus: no reward model is set up\.$/);
		await h.screenshot(page, 'picker-notice-setup-reward');
		await notice.locator('button', { hasText: 'Set Up Reward Model…' }).click();
		const recommended = quickRows().filter({ hasText: 'OpenAssistant/reward-model-deberta-v3-large-v2' }).first();
		await recommended.waitFor();
		assert.match(await recommended.innerText(), /Weak on code and favours longer answers/);
		await quickRows().filter({ hasText: 'None: rank by consensus' }).first().waitFor();
		await h.screenshot(page, 'reward-picker');
		await page.keyboard.press('Escape');
		await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
	});
});
