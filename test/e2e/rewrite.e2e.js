// The rewrite flow as a person does it, in a real workbench (code-server + headless Chromium): open a
// file from the explorer, select a line with the keyboard, run "Best-of-N: Rewrite Selection…" from
// the palette, type an instruction, watch candidates stream into the picker webview, move with the
// keyboard, toggle the diff, press 1 to go back to the best, Enter, and see the editor change; then Esc cancelling a slow run,
// and a second Esc closing the picker and handing the keyboard back to the editor.
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
	this.timeout(h.patient(120000));
	let fake;
	let modelDir;
	let wb;
	let page;
	let picker; // FrameLocator of the picker's content frame

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT); // server + browser + workbench: 10-20 s on 2 cores, minutes when shared
		fake = new FakeOllama({ models: [MODEL], respond: r => REPLIES[(r.id - 1) % REPLIES.length], tokenDelayMs: 5000 });
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
		page.setDefaultTimeout(h.patient(WAIT));
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
		await h.selectLine(page, ORIGINAL);
		await rewriteSelection(INSTRUCTION);

		// The picker opens beside the editor; candidates appear while the model is still writing. The
		// fake writes a word per 5 s until the picker has shown one streaming (its first page load takes
		// ~3 s on an idle machine and more than 12 s on a busy one, longer than the whole run at 40 ms a
		// word), then at 40 ms a word.
		await pickerTab().first().waitFor();
		// Read a streaming row's text in the same moment it is seen streaming: on a busy machine the
		// row can finish between two separate locator calls.
		let soFar = null;
		await until(
			'a row to show its candidate streaming',
			async () => {
				soFar = await picker
					.locator('.list')
					.evaluate(list => list.querySelector('[role=option].status-streaming .preview')?.textContent ?? null)
					.catch(() => null);
				return soFar !== null;
			},
			60000,
		);
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
		await h.selectLine(page, LAST_LINE);
		await rewriteSelection('make it shorter');
		await pickerTab().first().waitFor();
		await until('the first request to stream', () => fake.openRequests > 0 && fake.requests.length > before);
		await picker.locator('.list [role=option].status-streaming').first().waitFor();
		assert.strictEqual(await phase(), 'Generating…');
		// Nothing of the run moves by itself, in the workbench or the picker: a spinner in the status bar
		// and the picker's animations had the browser redraw the whole editor area at the display's rate
		// (in software here), taking a core from the scoring a person waits for. The picker's bar and the
		// status bar's pulse change only when the run does.
		const moving = `document.getAnimations().filter(a => a.playState === 'running').map(a => (a.animationName ?? 'script') + ' on ' + (a.effect?.target?.className ?? ''))`;
		assert.deepStrictEqual(await page.evaluate(moving), [], 'nothing animates in the workbench during the run');
		assert.deepStrictEqual(await picker.locator('html').evaluate(moving), [], 'nothing animates in the picker during the run');
		assert.ok(await picker.locator('.busy-bar').isVisible(), 'the picker shows the run going');

		await page.keyboard.press('Escape');
		await h.waitForPhase(picker, 'Cancelled', { timeout: 5000 });
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
		// Esc gave the keyboard back to the editor that was rewritten: the next keys land in the file.
		await page.keyboard.press('End');
		await page.keyboard.type(' (kept)');
		await h.waitForEditorText(page, `${LAST_LINE} (kept)`);
	});

	it('the pick applied, another file from the explorer at once: that file stays in front', async () => {
		fake.tokenDelayMs = 10;
		await h.openFileFromExplorer(page, FILE);
		await h.selectLine(page, FIRST_LINE);
		await rewriteSelection(INSTRUCTION);
		await h.waitForPhase(picker, 'Done');
		const prompt = rewardPrompt({ instruction: INSTRUCTION, text: FIRST_LINE, languageId: 'plaintext' });
		const [best = ''] = [...REPLIES].sort(
			(a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }),
		);
		await picker.locator('.list').focus();
		await page.keyboard.press('Enter');
		// As soon as the edit shows, with the picker still going: a person who knows where they go next.
		const escaped = best.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
		await h.waitForEditorText(page, new RegExp(`^${escaped}\n`));
		await h.openFileFromExplorer(page, 'sample.txt');
		await pickerTab().first().waitFor({ state: 'detached' });
		// The extension host hears of the new tab late. Whatever it does to give the keyboard back once
		// the picker has gone must not bring the rewritten file back over this one: give it the time that
		// takes on a loaded machine before looking.
		await page.waitForTimeout(1500);
		assert.strictEqual(
			await page.locator('.tabs-container .tab.active', { hasText: 'sample.txt' }).count(),
			1,
			'sample.txt is in front',
		);
		await h.waitForEditorText(page, 'hello world');
		// The rewritten file kept the pick.
		await h.openFileFromExplorer(page, FILE);
		await h.waitForEditorText(page, new RegExp(`^${escaped}\n`));
	});

	it('another file took the preview tab before the pick: nothing replaced, a message says why, that file stays', async () => {
		// The file afresh in a preview tab, as a single click in the explorer opens it.
		await h.runCommand(page, 'File: Save All Files');
		await h.runCommand(page, 'View: Close All Editors');
		await page.locator('.tabs-container .tab').first().waitFor({ state: 'detached' });
		await h.openFileFromExplorer(page, FILE);
		await h.selectLine(page, LAST_LINE); // the whole line, whatever the tests before typed after it
		await rewriteSelection(INSTRUCTION);
		await h.waitForPhase(picker, 'Done');
		// A single click on another file takes the preview tab the rewritten one had: VS Code closes it.
		await h.openFileFromExplorer(page, 'sample.txt');
		const fileTab = page.locator('.tabs-container .tab', { hasText: FILE });
		await fileTab.first().waitFor({ state: 'detached' });
		const onDisk = fs.readFileSync(path.join(wb.folder, FILE), 'utf8');

		await h.runCommand(page, 'Best-of-N: Accept Best Candidate');
		await h.waitForMessage(page, `${FILE} was closed before the pick, so nothing was replaced.`);
		await page.waitForTimeout(1000);
		assert.strictEqual(await fileTab.count(), 0, `${FILE} was not opened behind the person's back`);
		assert.strictEqual(
			await page.locator('.tabs-container .tab.active', { hasText: 'sample.txt' }).count(),
			1,
			'sample.txt is in front',
		);
		assert.strictEqual(fs.readFileSync(path.join(wb.folder, FILE), 'utf8'), onDisk, 'the file is as it was');
		assert.strictEqual(await pickerTab().count(), 1, 'the picker stays, its candidates still there to copy');
		await h.runCommand(page, 'Notifications: Clear All Notifications');
	});
});

// What a person reads in the picker on a realistic run: eight rewrites of a 12-line JavaScript
// function as chat models write them (one chatty, one 99 lines long, one whose reply is HTML with an
// `onerror` in it, one that opens with a doc comment, one with a directive), at 1440×900 beside the
// editor; saved as .artifacts/picker-light.png and picker-dark.png.
describe('e2e: the picker on a realistic rewrite, light and dark', function () {
	this.timeout(h.patient(240000));
	const SOURCE = 'cart.js';
	const FUNCTION = [
		'function formatCart(items, currency) {',
		'  var lines = [];',
		'  var sum = 0;',
		'  for (var i = 0; i < items.length; i++) {',
		'    var item = items[i];',
		'    var total = item.price * item.qty;',
		'    sum += total;',
		"    lines.push(item.name + ' x' + item.qty + ': ' + total.toFixed(2) + ' ' + currency);",
		'  }',
		"  lines.push('Total: ' + sum.toFixed(2) + ' ' + currency);",
		"  return lines.join('\\n');",
		'}',
	];
	const FILE_TEXT = ["'use strict';", '', ...FUNCTION, '', 'module.exports = { formatCart };', ''].join('\n');
	const LOOP = [
		'function formatCart(items, currency) {',
		'  const lines = [];',
		'  let sum = 0;',
		'  for (const { name, price, qty } of items) {',
		'    const total = price * qty;',
		'    sum += total;',
		'    lines.push(`${name} x${qty}: ${total.toFixed(2)} ${currency}`);',
		'  }',
		'  lines.push(`Total: ${sum.toFixed(2)} ${currency}`);',
		"  return lines.join('\\n');",
		'}',
	].join('\n');
	const MAP_REDUCE = [
		'function formatCart(items, currency) {',
		'  const lines = items.map(({ name, price, qty }) => `${name} x${qty}: ${(price * qty).toFixed(2)} ${currency}`);',
		'  const sum = items.reduce((acc, { price, qty }) => acc + price * qty, 0);',
		"  return [...lines, `Total: ${sum.toFixed(2)} ${currency}`].join('\\n');",
		'}',
	].join('\n');
	const CHATTY_CODE = [
		'function formatCart(items, currency) {',
		'  let sum = 0;',
		'  const lines = [];',
		'  for (const { name, price, qty } of items) {',
		'    sum += price * qty;',
		'    lines.push(`${name} x${qty}: ${(price * qty).toFixed(2)} ${currency}`);',
		'  }',
		"  return [...lines, `Total: ${sum.toFixed(2)} ${currency}`].join('\\n');",
		'}',
	].join('\n');
	// How llama3.1 and most chat models answer: a preamble, the code in a fence, a closing sentence.
	const CHATTY = `Here is a more concise version using modern JavaScript:\n\n\`\`\`javascript\n${CHATTY_CODE}\n\`\`\`\n\nThis uses destructuring, \`const\` and template literals, and keeps a single loop.`;
	const HTML = [
		'function formatCart(items, currency) {',
		'  const rows = items.map(i => `<li>${i.name} x${i.qty}: ${(i.price * i.qty).toFixed(2)} ${currency}</li>`);',
		'  return `<ul>${rows.join("")}</ul><img src=x onerror="window.__pwned=1">`;',
		'}',
	].join('\n');
	const DOC_COMMENTED = `/**\n * One line per item and a total, each amount in \`currency\`.\n */\n${MAP_REDUCE}`;
	const INTL = [
		'function formatCart(items, currency) {',
		"  const money = new Intl.NumberFormat('en-US', { style: 'currency', currency });",
		'  let sum = 0;',
		'  const lines = items.map(item => {',
		'    sum += item.price * item.qty;',
		'    return `${item.name} x${item.qty}: ${money.format(item.price * item.qty)}`;',
		'  });',
		"  return [...lines, `Total: ${money.format(sum)}`].join('\\n');",
		'}',
	].join('\n');
	const STRICT = `'use strict';\n\n${LOOP}`;
	/** @type {[field: string, kind: string, bad: string][]} */
	const FIELDS = [
		['name', 'string', "typeof item.name !== 'string' || item.name === ''"],
		['price', 'finite number', "typeof item.price !== 'number' || !Number.isFinite(item.price)"],
		['qty', 'positive integer', '!Number.isInteger(item.qty) || item.qty <= 0'],
	];
	// The long, over-engineered answer some models give: helpers, validation, comments everywhere.
	const LONG = [
		'/**',
		' * Formats a shopping cart as plain text: one line per item with its quantity and line total, then the total of the whole cart, every amount followed by the currency code.',
		' *',
		' * @param {Array<{ name: string, price: number, qty: number }>} items The items in the cart, in the order they should be listed.',
		' * @param {string} currency An ISO 4217 code such as "EUR", printed after each amount.',
		' * @returns {string} The lines joined with newlines.',
		' * @throws {TypeError} When the cart is not an array or an item has a missing or mistyped field.',
		" * @example formatCart([{ name: 'tea', price: 2.5, qty: 2 }], 'EUR') // 'tea x2: 5.00 EUR\\nTotal: 5.00 EUR'",
		' */',
		'function formatCart(items, currency) {',
		'  validateCart(items, currency);',
		'  const lines = [];',
		'  let sum = 0;',
		'  // One pass: each line and the running total.',
		'  for (const item of items) {',
		'    const total = lineTotal(item);',
		'    sum += total;',
		'    lines.push(formatLine(item, total, currency));',
		'  }',
		'  lines.push(formatTotal(sum, currency));',
		"  return lines.join('\\n');",
		'}',
		'',
		'/**',
		' * Checks the whole cart before anything is formatted, so a bad item fails loudly instead of printing NaN.',
		' */',
		'function validateCart(items, currency) {',
		'  if (!Array.isArray(items)) {',
		"    throw new TypeError('formatCart: items must be an array of { name, price, qty } objects, got ' + typeof items);",
		'  }',
		"  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {",
		"    throw new TypeError('formatCart: currency must be a three-letter ISO 4217 code such as EUR or USD');",
		'  }',
		'  items.forEach((item, index) => validateItem(item, index));',
		'}',
		'',
		...FIELDS.flatMap(([field, kind, bad]) => [
			'',
			'/**',
			` * Checks that item.${field} is a ${kind}.`,
			' *',
			' * @param {object} item The item to check.',
			' * @param {number} index Its position in the cart, for the message.',
			' */',
			`function check${field.charAt(0).toUpperCase()}${field.slice(1)}(item, index) {`,
			`  if (${bad}) {`,
			`    throw new TypeError(\`formatCart: item \${index} has no valid ${field} (expected a ${kind})\`);`,
			'  }',
			'}',
		]),
		'',
		'function validateItem(item, index) {',
		"  if (item === null || typeof item !== 'object') {",
		'    throw new TypeError(`formatCart: item ${index} is not an object`);',
		'  }',
		'  checkName(item, index);',
		'  checkPrice(item, index);',
		'  checkQty(item, index);',
		'}',
		'',
		'/** The price of one line: unit price times quantity. */',
		'function lineTotal(item) {',
		'  return item.price * item.qty;',
		'}',
		'',
		'/** Two decimals, as the original printed them. */',
		'function formatAmount(amount, currency) {',
		'  return `${amount.toFixed(2)} ${currency}`;',
		'}',
		'',
		'function formatLine(item, total, currency) {',
		'  return `${item.name} x${item.qty}: ${formatAmount(total, currency)}`;',
		'}',
		'',
		'function formatTotal(sum, currency) {',
		'  return `Total: ${formatAmount(sum, currency)}`;',
		'}',
	].join('\n');
	const CANDIDATES = [LOOP, CHATTY, LONG, HTML, DOC_COMMENTED, INTL, STRICT, MAP_REDUCE];
	const INSTRUCTION = 'use modern JavaScript';
	let fake;
	let modelDir;
	let workspace;
	let wb;
	let page;
	let picker;

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT);
		assert.strictEqual(LONG.split('\n').length, 99, 'the long candidate is 99 lines, as in the issue');
		fake = new FakeOllama({ models: [MODEL], respond: r => CANDIDATES[(r.id - 1) % CANDIDATES.length], tokenDelayMs: 1 });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-e2e-rm-'));
		// A tiny reward model that likes what "modern JavaScript" asks for and dislikes throwing and
		// markup, so the eight are scored apart as a real reward model would score them.
		writeTinyRewardModel(modelDir, {
			positive: ['const', 'of', 'map', 'reduce'],
			negative: ['var', 'throw', 'img', 'onerror'],
			weight: 40,
		});
		// The file is in the workspace before the window opens, as a person's project is.
		workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-picker-ws-'));
		fs.cpSync(h.FIXTURE_WORKSPACE, workspace, { recursive: true });
		fs.writeFileSync(path.join(workspace, SOURCE), FILE_TEXT);
		wb = await h.openWorkbench({
			workspace,
			viewport: { width: 1440, height: 900 },
			workspaceSettings: { 'bestOfN.ollama.host': fake.url, 'bestOfN.rewardModel': modelDir },
			userSettings: {
				'bestOfN.model': MODEL,
				'bestOfN.ranker': 'reward',
				'bestOfN.candidates': CANDIDATES.length,
				'bestOfN.concurrency': 2,
				'workbench.colorTheme': 'Default Light Modern',
			},
		});
		page = wb.page;
		page.setDefaultTimeout(h.patient(WAIT));
		picker = h.webviewFrame(page);
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		await h.logWebviewText(picker, 'picker');
		console.error(`    fake Ollama: ${fake.requests.length} requests, ${fake.openRequests} open`);
		if (wb) h.logWorkbench(wb);
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
		for (const dir of [modelDir, workspace]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	const rows = () => picker.locator('.list [role=option]');

	/** The colours the detail pane gives a keyword and plain text, as the person sees them. */
	const keywordColours = () =>
		picker.locator('pre.text-view').evaluate(pre => {
			const keyword = [...pre.querySelectorAll('.hljs-keyword')].find(k => k.textContent === 'function');
			return { keyword: keyword && getComputedStyle(keyword).color, text: getComputedStyle(pre).color };
		});

	it('shows every candidate numbered and scored, cleaned and highlighted, six rows or more beside the editor', async () => {
		await h.openFileFromExplorer(page, SOURCE);
		await h.waitForEditorText(page, 'function formatCart');
		// The function, line by line with the keyboard, as a person selects it.
		await page.locator('.editor-group-container.active .view-line', { hasText: 'function\u00a0formatCart' }).first().click();
		await page.keyboard.press('Home');
		for (let i = 1; i < FUNCTION.length; i++) await page.keyboard.press('Shift+ArrowDown');
		await page.keyboard.press('Shift+End');
		await h.startRewrite(page);
		await h.giveInstruction(page, INSTRUCTION);

		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor();
		await until(
			'the run to finish ranked by the reward model',
			async () =>
				(await picker.locator('.status-row .phase').textContent()) === 'Done' &&
				/^Ranked by reward model /.test(await picker.locator('.meta-row .ranker').textContent()),
			60000,
		);
		assert.strictEqual(await rows().count(), CANDIDATES.length);

		// Numbered 1–8, so the digit keys mean what they show; scores signed, best first, each explained.
		assert.deepStrictEqual(
			await picker.locator('.list [role=option] .row-number').allTextContents(),
			CANDIDATES.map((_, i) => String(i + 1)),
		);
		const scores = await picker
			.locator('.list [role=option] .score')
			.evaluateAll(els => els.map(e => [e.textContent, e.getAttribute('title')]));
		const values = scores.map(([shown]) => Number(String(shown).replace('\u2212', '-')));
		scores.forEach(([shown, title], i) => {
			assert.match(String(shown), /^([+\u2212]\d+\.\d\d|0\.00)$/, `score of row ${i + 1}`);
			assert.match(String(title), /^Reward model .*: its raw logit for this candidate\. Higher is better/, `tooltip of row ${i + 1}`);
		});
		assert.deepStrictEqual(
			values,
			[...values].sort((a, b) => b - a),
			'best first',
		);
		// Equal scores as shown are marked as a tie, not passed off as a ranking.
		const tied = values.filter((v, i) => values.indexOf(v) !== i || values.lastIndexOf(v) !== i).length;
		assert.strictEqual(await picker.locator('.list [role=option] .tie:visible').count(), tied);

		// Each row previews the first line that differs from the selection and says something.
		const previews = await picker.locator('.list [role=option] .preview').allTextContents();
		for (const preview of previews) {
			assert.ok(!['/**', "'use strict';", '}', ''].includes(preview.trim()), `a preview that says nothing: "${preview}"`);
			assert.ok(!/Here is|```/.test(preview), `the chatty reply is previewed as code: "${preview}"`);
		}

		// At least six rows fully on screen, in a picker beside the editor that still shows the file.
		const viewport = page.viewportSize();
		const list = await picker.locator('.list').boundingBox();
		const boxes = await Promise.all((await rows().all()).map(r => r.boundingBox()));
		const visible = boxes.filter(
			b => b && b.y >= list.y && b.y + b.height <= list.y + list.height + 0.5 && b.y + b.height <= viewport.height,
		);
		assert.ok(visible.length >= 6, `${visible.length} rows fully visible at 1440×900`);
		const editor = await page
			.locator('.editor-instance', { has: page.locator('.view-line', { hasText: 'module.exports' }) })
			.first()
			.boundingBox();
		assert.ok(editor && editor.x + editor.width <= list.x + 1, 'the picker is beside the editor, not over it');

		// Each candidate in the detail pane, moved to with its digit as a person looks through the rows.
		const details = [];
		for (let i = 0; i < CANDIDATES.length; i++) {
			await page.keyboard.press(String(i + 1));
			await until(`row ${i + 1} to be active`, async () => (await rows().nth(i).getAttribute('aria-selected')) === 'true');
			details.push(await picker.locator('pre.text-view').textContent());
		}
		assert.strictEqual(await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).count(), 1, 'digits only move');
		// The chatty reply is only its code; nothing else kept a preamble or a fence.
		const chattyRow = details.indexOf(CHATTY_CODE);
		assert.ok(chattyRow >= 0, `the chatty reply as clean code, among:\n${details.join('\n----\n')}`);
		assert.ok(!details.some(d => /Here is|```/.test(d)));
		// Model output is text: the reply with HTML in it is shown literally, in its row and in full, and runs nothing.
		const htmlRow = details.findIndex(d => d.includes('<img src=x onerror="window.__pwned=1">'));
		assert.ok(htmlRow >= 0 && previews[htmlRow].includes('`<li>${i.name}'), `the HTML reply, literally: ${previews[htmlRow]}`);
		const inert = await picker.locator('body').evaluate(() => ({
			imgs: document.querySelectorAll('img').length,
			pwned: typeof (/** @type {any} */ (window).__pwned),
		}));
		assert.deepStrictEqual(inert, { imgs: 0, pwned: 'undefined' });
		await page.keyboard.press(String(chattyRow + 1));
		await until('the chatty row to be active', async () => (await rows().nth(chattyRow).getAttribute('aria-selected')) === 'true');

		// Highlighted in the selection's language: keywords in a colour of their own.
		const light = await keywordColours();
		assert.ok(light.keyword && light.keyword !== light.text, `keyword ${light.keyword} on text ${light.text}`);

		// The 99-line candidate: wrapped, so no line is cut off at the pane's edge.
		const longRow = details.findIndex(d => d.split('\n').length === 99);
		assert.ok(longRow >= 0, 'the long candidate is listed whole');
		await page.keyboard.press(String(longRow + 1));
		await until('the long one in the detail pane', async () => (await rows().nth(longRow).getAttribute('aria-selected')) === 'true');
		assert.ok(await picker.locator('pre.text-view').evaluate(pre => pre.scrollWidth <= pre.clientWidth + 1), 'long lines wrap');
		await page.keyboard.press('1');
		await until('the best row to be active again', async () => (await rows().nth(0).getAttribute('aria-selected')) === 'true');
		await h.screenshot(page, 'picker-light');

		// The same picker in the dark theme: the webview follows it, highlighting included.
		await h.setColorTheme(page, 'Dark Modern', 'vs-dark');
		await until('the picker in the dark theme', async () =>
			(await picker.locator('body').getAttribute('class')).includes('vscode-dark'),
		);
		await until('the highlighting to follow the theme', async () => (await keywordColours()).keyword !== light.keyword);
		const dark = await keywordColours();
		assert.ok(dark.keyword && dark.keyword !== dark.text);
		assert.strictEqual(await rows().count(), CANDIDATES.length, 'the picker kept its rows');
		await h.screenshot(page, 'picker-dark');
	});
});
