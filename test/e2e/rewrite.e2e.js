// The rewrite flow as a person does it, in a real workbench (code-server + headless Chromium): open a
// file from the explorer, select a line with the keyboard, run "Best-of-N: Rewrite Selection…" from
// the palette, type an instruction, watch candidates stream into the picker webview, move with the
// keyboard, toggle the diff, press 1 to go back to the best, Enter, and see the editor change; then Esc cancelling a slow run.
// A loopback Ollama-API server (in this mocha process) and a tiny ONNX reward model stand in for the
// user's models; they reach the extension host through user and workspace settings.
//   npm run build && npx mocha --no-config --timeout 180000 test/e2e/rewrite.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./harness');

// The fixtures are TypeScript. tsx's scoped require compiles just these files (and what they import)
// without installing a global .ts hook in the mocha process, so other suites load exactly as before.
const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);
const { tinyRewardLogit, writeTinyRewardModel } = tsx.require('../fixtures/tinyRewardModel.ts', __filename);
const { rewardPrompt } = tsx.require('../../src/core/prompt.ts', __filename);

const FILE = 'notes.txt'; // test/fixtures/workspace/notes.txt, in a scratch copy of that workspace
const FIRST_LINE = 'Release notes, draft 2';
const ORIGINAL = 'the function returns a value';
const LAST_LINE = 'Leave this line alone.';
const INSTRUCTION = 'rewrite this line';
const MODEL = 'llama3.1:8b';
const HTML_REPLY = '<img src=x onerror="window.__pwned=1"> good';
// In request order; the fake answers request k (1-based) with REPLIES[(k - 1) % 4]. Their reward order
// (see `expected` below) is great > HTML > "wrong value" > broken, with logits well apart.
const REPLIES = ['the code is broken and wrong', HTML_REPLY, 'the code is great, clear and correct', 'this returns a wrong value'];
const WAIT = 20000; // any single step in this file; the whole file stays well under a minute

const until = (what, check, timeout = WAIT) => h.until(what, check, { timeout });

describe('e2e: rewrite a selection through the picker', function () {
	this.timeout(120000);
	let fake;
	let modelDir;
	let wb;
	let page;
	let picker; // FrameLocator of the picker's content frame

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT); // server + browser + workbench: 10-20 s on 2 cores, minutes when shared
		fake = new FakeOllama({ models: [MODEL], respond: r => REPLIES[(r.id - 1) % REPLIES.length], tokenDelayMs: 500 });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-e2e-rm-'));
		writeTinyRewardModel(modelDir);
		// bestOfN.ollama.host and bestOfN.rewardModel are `machine-overridable`. code-server's window is a
		// remote window, where VS Code ignores machine-scoped values in the (local) user settings.json
		// (they belong in <user-data-dir>/Machine/settings.json, which the harness cannot write yet).
		// Workspace settings may override them (the workspace is trusted: the server runs with
		// --disable-workspace-trust), so they go there.
		wb = await h.openWorkbench({
			workspaceSettings: { 'bestOfN.ollama.host': fake.url, 'bestOfN.rewardModel': modelDir },
			userSettings: {
				'bestOfN.model': MODEL,
				'bestOfN.ranker': 'reward',
				'bestOfN.candidates': 4,
				'bestOfN.concurrency': 1,
			},
		});
		page = wb.page;
		page.setDefaultTimeout(WAIT);
		picker = h.webviewFrame(page);
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		// What the picker showed, what the server saw and what the workbench logged, for the report.
		await h.logWebviewText(picker, 'picker');
		console.error(`    fake Ollama: ${fake.requests.length} requests, ${fake.openRequests} open`);
		if (wb) {
			const editors = await page
				.locator('.editor-instance .view-lines')
				.evaluateAll(els =>
					els.map(el =>
						[...el.querySelectorAll('.view-line')]
							.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
							.map(line => line.textContent.replace(/\u00a0/g, ' '))
							.join('\n'),
					),
				)
				.catch(() => []);
			editors.forEach((text, i) => console.error(`    editor ${i + 1}:\n${text.replace(/^/gm, '      | ')}`));
			h.logWorkbench(wb);
		}
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
		if (modelDir) fs.rmSync(modelDir, { recursive: true, force: true });
	});

	/** Clicks the editor line showing `text` (putting the caret there) and selects it with Home, Shift+End. */
	async function selectLine(text) {
		const line = page
			.locator('.editor-group-container.active .editor-instance .view-line', { hasText: text.replace(/ /g, '\u00a0') })
			.first();
		await line.click();
		await page.keyboard.press('Home');
		await page.keyboard.press('Shift+End');
		// The selection is drawn as .selected-text over the selected line.
		await page.locator('.editor-group-container.active .editor-instance .selected-text').first().waitFor();
	}

	/** "Best-of-N: Rewrite Selection…" from the palette, then the instruction into the box it opens. */
	async function rewriteSelection(instruction) {
		await h.startRewrite(page, { timeout: WAIT });
		await h.giveInstruction(page, instruction, { timeout: WAIT });
	}

	const pickerTab = () => page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' });
	const rowTexts = () => picker.locator('.list [role=option] .preview').allTextContents();
	const phase = () => picker.locator('.status-row .phase').textContent();

	it('streams, ranks by the reward model, moves with the keyboard and digits, and applies with Enter', async () => {
		await h.openFileFromExplorer(page, FILE);
		await h.waitForEditorText(page, ORIGINAL);
		await selectLine(ORIGINAL);
		await rewriteSelection(INSTRUCTION);

		// The picker opens beside the editor; candidates appear while the model is still writing. The
		// fake writes slowly until the picker has shown one streaming (its first page load takes ~3 s
		// here, longer than the whole run at 40 ms a word), then at 40 ms a word.
		await pickerTab().first().waitFor();
		// Read a streaming row's text in the same moment it is seen streaming: on a busy machine the
		// row can finish between two separate locator calls.
		let soFar = null;
		await until('a row to show its candidate streaming', async () => {
			soFar = await picker
				.locator('.list')
				.evaluate(list => list.querySelector('[role=option].status-streaming .preview')?.textContent ?? null)
				.catch(() => null);
			return soFar !== null;
		});
		assert.ok(soFar === '…' || REPLIES.some(r => r.startsWith(soFar)), `a streaming row shows its text so far, not "${soFar}"`);
		assert.strictEqual(await phase(), 'Generating…');
		fake.tokenDelayMs = 40;
		await until(
			'the run to finish ranked by the reward model',
			async () =>
				(await phase()) === 'Done' && /^Ranked by reward model /.test(await picker.locator('.meta-row .ranker').textContent()),
		);
		assert.strictEqual(fake.requests.length, 4, 'four candidates were asked for');
		assert.ok(fake.requests.every(r => r.model === MODEL));
		assert.match(await picker.locator('.status-row .progress').textContent(), /^4 of 4 done/);

		// Best first, in exactly the order the tiny reward model's formula predicts.
		const prompt = rewardPrompt({ instruction: INSTRUCTION, text: ORIGINAL, languageId: 'plaintext' });
		const logit = text => tinyRewardLogit({ prompt, response: text });
		const expected = [...REPLIES].sort((a, b) => logit(b) - logit(a));
		assert.deepStrictEqual(await rowTexts(), expected);
		assert.deepStrictEqual(await picker.locator('.list [role=option] .row-number').allTextContents(), ['1', '2', '3', '4']);
		// Each row shows its raw logit with a sign ("+0.32", "−0.24" with a real minus).
		const scores = await picker.locator('.list [role=option] .score').allTextContents();
		scores.forEach((shown, i) => {
			assert.match(shown, /^[+\u2212]\d+\.\d\d$/, `score of row ${i + 1}`);
			const value = Number(shown.replace('\u2212', '-'));
			assert.ok(
				Math.abs(value - logit(expected[i])) < 0.006,
				`row ${i + 1} shows ${shown}, the model gives ${logit(expected[i]).toFixed(4)}`,
			);
		});

		// Model output is text, never markup: the HTML candidate is shown literally and runs nothing.
		const htmlRow = expected.indexOf(HTML_REPLY);
		assert.strictEqual(htmlRow, 1, 'the fixture puts the HTML candidate second');
		assert.ok((await rowTexts())[htmlRow].includes('<img src=x onerror='));
		const dom = await picker.locator('body').evaluate(() => ({
			imgs: document.querySelectorAll('img').length,
			pwned: typeof (/** @type {any} */ (window).__pwned),
			focusInList: document.hasFocus() && document.activeElement === document.querySelector('.list'),
		}));
		assert.deepStrictEqual({ imgs: dom.imgs, pwned: dom.pwned }, { imgs: 0, pwned: 'undefined' });

		// Keyboard first: the list has focus, the best row is active; ArrowDown moves to the second.
		assert.ok(dom.focusInList, 'the picker list has keyboard focus');
		const rowsL = picker.locator('.list [role=option]');
		assert.strictEqual(await rowsL.nth(0).getAttribute('aria-selected'), 'true');
		await page.keyboard.press('ArrowDown');
		await until(
			'the second row to become active',
			async () =>
				(await rowsL.nth(1).getAttribute('aria-selected')) === 'true' &&
				(await rowsL.nth(0).getAttribute('aria-selected')) === 'false',
		);
		assert.match(await rowsL.nth(1).getAttribute('class'), /\bactive\b/);
		assert.strictEqual(await picker.locator('.list').getAttribute('aria-activedescendant'), await rowsL.nth(1).getAttribute('id'));
		assert.match(await picker.locator('.detail-title').textContent(), /^Candidate 2 · rank 2 · score /);
		// The detail pane shows the second candidate (the HTML one), literally.
		assert.strictEqual(await picker.locator('pre.text-view').textContent(), HTML_REPLY);

		// v: the detail pane switches to the line diff against the selection.
		await page.keyboard.press('v');
		await picker.locator('.diff-view').waitFor({ state: 'visible' });
		assert.ok(await picker.locator('pre.text-view').isHidden());
		assert.strictEqual(await picker.locator('.toggle button', { hasText: 'Diff' }).getAttribute('aria-pressed'), 'true');
		assert.deepStrictEqual(await picker.locator('.diff-view .diff-line.del .line-text').allTextContents(), [ORIGINAL]);
		assert.deepStrictEqual(await picker.locator('.diff-view .diff-line.add .line-text').allTextContents(), [HTML_REPLY]);
		assert.strictEqual(
			await picker
				.locator('body')
				.evaluate(() => document.querySelectorAll('img').length + typeof (/** @type {any} */ (window).__pwned)),
			'0undefined',
		);
		await h.screenshot(page, 'picker');

		// 1 only moves back to the best row: the picker stays open and the file is as it was. Enter
		// then applies it in place of the selected line, and the picker closes.
		await page.keyboard.press('1');
		await until('the first row to become active', async () => (await rowsL.nth(0).getAttribute('aria-selected')) === 'true');
		assert.strictEqual(await pickerTab().count(), 1, 'a digit does not apply');
		assert.ok((await page.locator('.editor-instance .view-lines', { hasText: ORIGINAL.replace(/ /g, '\u00a0') }).count()) > 0);
		await page.keyboard.press('Enter');
		await pickerTab().first().waitFor({ state: 'detached' });
		const text = await h.waitForEditorText(page, expected[0]);
		assert.strictEqual(text, [FIRST_LINE, expected[0], LAST_LINE, ''].join('\n'));
		// The edit lands in the editor the selection came from, not a second copy of the file.
		assert.strictEqual(await page.locator(`.tabs-container .tab[data-resource-name="${FILE}"]`).count(), 1);
	});

	it('Esc cancels a running rewrite and closes every request at the server', async () => {
		fake.tokenDelayMs = 1000; // a candidate takes seconds: the run is surely going when Esc comes
		const before = fake.requests.length;
		await selectLine(LAST_LINE);
		await rewriteSelection('make it shorter');
		await pickerTab().first().waitFor();
		await until('the first request to stream', () => fake.openRequests > 0 && fake.requests.length > before);
		await picker.locator('.list [role=option].status-streaming').first().waitFor();
		assert.strictEqual(await phase(), 'Generating…');

		await page.keyboard.press('Escape');
		await until('the picker to show the run cancelled', async () => (await phase()) === 'Cancelled', 5000);
		await until('the server to see no open request', () => fake.openRequests === 0, 5000);
		assert.deepStrictEqual([...new Set(await picker.locator('.list [role=option] .status').allTextContents())], ['cancelled']);
		assert.ok(fake.requests.length - before < 4, 'cancel stopped the queued requests too');
		// The document is as the first test left it (the picker is the active group now, so read the
		// editor showing the file), and a second Esc closes the picker.
		const fileLines = page.locator('.editor-instance .view-lines', { hasText: LAST_LINE.replace(/ /g, '\u00a0') }).first();
		assert.deepStrictEqual(
			await fileLines.evaluate(el =>
				[...el.querySelectorAll('.view-line')]
					.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
					.map(line => line.textContent.replace(/\u00a0/g, ' ')),
			),
			[FIRST_LINE, 'the code is great, clear and correct', LAST_LINE, ''],
		);
		await page.keyboard.press('Escape');
		await pickerTab().first().waitFor({ state: 'detached' });
	});
});
