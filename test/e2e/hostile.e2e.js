// Hostile model text in the real workbench (code-server + headless Chromium): a model that answers
// with script, an image with onerror, javascript: and remote links, Markdown images from a remote host
// (inline, by reference, with brackets in the alt text), a very long line, bidi overrides and terminal
// escapes. It is shown wherever Best-of-N shows model text: the picker (a rewrite, then explanations
// rendered as Markdown), the chosen explanation inline under the code (a comment thread drawn by the
// workbench itself), and the ranking report (ranker names from a preference log anything can write).
// Everything must stay text: nothing runs, nothing is fetched (a beacon server on loopback hears
// every request the page could make), and hidden characters are shown as code points.
//   npm run build && npx mocha --no-config --timeout 180000 test/e2e/hostile.e2e.js
/* eslint-disable no-control-regex -- the tests look for control characters */
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const h = require('./harness');

const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);

const MODEL = 'llama3.1:8b';
const FILE = 'page.js';
const LINE = 'const greeting = "hello";';
const WAIT = 30000;
const LONG = 'x'.repeat(20000);
/** Bidi embeddings, overrides and isolates, and ESC: drawn as they are, they would change what is read. */
const HIDDEN = /[\u202a-\u202e\u2066-\u2069\x1b]/;

/** Records every request made to it: any one means hostile text made the page fetch something. */
function startBeacon() {
	const requests = [];
	const server = http.createServer((req, res) => {
		requests.push(`${req.method} ${req.url}`);
		res.writeHead(204).end();
	});
	return new Promise(resolve =>
		server.listen(0, '127.0.0.1', () =>
			resolve({ requests, url: `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (server.address()).port}`, server }),
		),
	);
}

/** A reply carrying every trick, each pointing at the beacon. */
function hostileReply(beacon) {
	return [
		`<script>window.pwned = 'script'; fetch('${beacon}/script')</script>`,
		`<img src=x onerror="window.pwned = 'onerror'; fetch('${beacon}/onerror')">`,
		`[run me](javascript:fetch('${beacon}/javascript-link'))`,
		'[docs](https://docs.example.invalid/page)',
		`![pixel](${beacon}/pixel.png)`,
		'![ref pixel] and ![nested [bracket] pixel](' + `${beacon}/nested.png)`,
		`<a href="${beacon}/html-link">html link</a>`,
		`bidi /*\u202e } \u2066if (isAdmin)\u2069 \u2066 admins only */`,
		`term \x1b[31mred\x1b[0m \x1b]8;;${beacon}/osc\x07osc link\x1b]8;;\x07`,
		LONG,
		`[ref pixel]: ${beacon}/ref-pixel.png`,
	].join('\n\n');
}

/**
 * What an element (the body of a webview, or a comment thread in the workbench) holds that would make
 * hostile text act rather than show; `pwned` and `scripts` are its window's and document's.
 */
async function liveness(root) {
	return root.evaluate(el => ({
		pwned: /** @type {any} */ (window).pwned,
		scripts: [...document.querySelectorAll('script')].map(s => ({
			src: s.getAttribute('src') || '',
			nonce: !!s.nonce,
			text: s.textContent || '',
		})),
		imgs: [...el.querySelectorAll('img')].map(i => i.getAttribute('src')),
		frames: el.querySelectorAll('iframe, object, embed').length,
		handlers: [...el.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => a.name)),
		hrefs: [...el.querySelectorAll('a')].flatMap(a => ['href', 'data-href'].map(n => a.getAttribute(n)).filter(v => v !== null)),
		text: /** @type {HTMLElement} */ (el).innerText,
	}));
}

/** Nothing in `live` (from `liveness`) can run, load or be clicked into script. */
function assertInert(live, where) {
	assert.strictEqual(live.pwned, undefined, `no script ran in ${where}`);
	assert.deepStrictEqual(live.imgs, [], `no image in ${where}`);
	assert.strictEqual(live.frames, 0, `no frame or object in ${where}`);
	assert.deepStrictEqual(live.handlers, [], `no inline event handler in ${where}`);
	assert.ok(!live.scripts.some(s => s.text.includes('pwned')), `no script element holds the model's text in ${where}`);
	assert.deepStrictEqual(
		live.hrefs.filter(href => /^\s*javascript:/i.test(href)),
		[],
		`no javascript: link in ${where}: ${JSON.stringify(live.hrefs)}`,
	);
	assert.ok(!HIDDEN.test(live.text), `no hidden character is drawn as is in ${where}`);
}

/** A webview's page loads only its own bundle, by nonce (VS Code adds a script of its own to every webview). */
function assertOnlyBundle(live, where) {
	assert.ok(
		live.scripts.filter(s => s.src).every(s => s.nonce && s.src.includes('/dist/')),
		`only the bundle is loaded, by nonce, in ${where}: ${JSON.stringify(live.scripts.map(s => s.src))}`,
	);
}

describe('e2e: hostile model text stays inert', function () {
	this.timeout(h.patient(300000));
	let beacon;
	let fake;
	let wb;
	let page;
	let workspace;
	let reply;
	let shownFrame; // the webview the running test looks at, for a failure's report

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT);
		beacon = await startBeacon();
		reply = hostileReply(beacon.url);
		fake = new FakeOllama({ models: [MODEL], respond: () => reply, tokenDelayMs: 0, chunkSize: 400 });
		await fake.start();
		workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-hostile-ws-'));
		fs.cpSync(h.FIXTURE_WORKSPACE, workspace, { recursive: true });
		fs.writeFileSync(path.join(workspace, FILE), `${LINE}\n`);
		wb = await h.openWorkbench({
			workspace,
			copyWorkspace: false,
			userSettings: {
				'bestOfN.ollama.host': fake.url,
				'bestOfN.model': MODEL,
				'bestOfN.ranker': 'consensus',
				'bestOfN.candidates': 2,
				// Room for two replies with the long line: below it, the run's cap stops the second one.
				'bestOfN.maxTokens': 8192,
			},
		});
		page = wb.page;
		page.setDefaultTimeout(h.patient(WAIT));
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		if (shownFrame) await h.logWebviewText(shownFrame, 'webview');
		if (wb) h.logWorkbench(wb);
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
		if (beacon) beacon.server.close();
		if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
	});

	it('the picker shows a rewrite’s script, links, escapes and bidi overrides as text', async () => {
		await h.openFileFromExplorer(page, FILE);
		await h.selectLine(page, LINE);
		await h.startRewrite(page);
		await h.giveInstruction(page, 'make it friendlier');
		const picker = (shownFrame = await h.webviewTitled(page, 'Best-of-N: make it friendlier'));
		await h.waitForPhase(picker, 'Done');
		const shown = await picker.locator('pre.text-view').textContent();
		assert.ok(shown.includes(`<script>window.pwned = 'script'`), 'the script is shown as text');
		assert.ok(shown.includes(LONG), 'the long line is shown whole');
		assert.ok(shown.includes('/*<U+202E> } <U+2066>if (isAdmin)<U+2069>'), 'bidi controls are shown as code points');
		assert.ok(shown.includes('term <U+001B>[31mred'), 'terminal escapes are shown as code points');
		assert.ok(!HIDDEN.test(shown), 'no hidden character is drawn as is');
		const preview = await picker.locator('.list [role=option] .preview').first().textContent();
		assert.ok(!HIDDEN.test(preview), `the row preview shows none either: ${preview}`);
		const live = await liveness(picker.locator('body'));
		assertInert(live, 'the picker');
		assertOnlyBundle(live, 'the picker');
		assert.deepStrictEqual(live.hrefs, [], 'no link in code');
		assert.deepStrictEqual(beacon.requests, [], 'nothing was fetched');
		await page.keyboard.press('Escape');
		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor({ state: 'detached' });
	});

	it('the explanations picker renders the reply’s Markdown inertly, and so does the thread that shows the chosen one inline', async () => {
		await h.openFileFromExplorer(page, FILE);
		await h.selectLine(page, LINE);
		await h.runCommand(page, 'Best-of-N: Explain Selection');
		const picker = (shownFrame = await h.webviewTitled(page, `Best-of-N: Explain ${FILE}:1`));
		await h.waitForPhase(picker, 'Done');
		const detail = picker.locator('.markdown-view');
		await detail.locator('code, p', { hasText: 'bidi' }).first().waitFor();
		const markdown = await liveness(detail);
		assert.ok(markdown.text.includes(`<script>window.pwned = 'script'`), `raw HTML is shown as text:\n${markdown.text.slice(0, 2000)}`);
		assert.ok(markdown.text.includes(`<img src=x onerror=`), 'an HTML image is shown as text');
		assert.ok(markdown.text.includes('[image: pixel]'), 'a Markdown image is shown as its alt text');
		assert.ok(markdown.text.includes('/*<U+202E> } <U+2066>if (isAdmin)<U+2069>'), 'bidi controls are shown as code points');
		assert.ok(markdown.text.includes('term <U+001B>[31mred'), 'terminal escapes are shown as code points');
		assert.ok(markdown.text.includes(LONG), 'the long line is shown whole');
		assertInert(markdown, 'the rendered explanation');
		assert.deepStrictEqual(markdown.hrefs, [], 'links carry no href: a click asks VS Code, which opens only http, https and mailto');
		const live = await liveness(picker.locator('body'));
		assertInert(live, 'the explanations picker');
		assertOnlyBundle(live, 'the explanations picker');
		const previews = await picker.locator('.list [role=option] .preview').allTextContents();
		assert.ok(previews.length > 0 && !previews.some(p => HIDDEN.test(p)), `the row previews show no hidden character: ${previews}`);
		await h.screenshot(page, 'e2e-hostile-explain-picker');

		// Enter shows it inline under the line: a comment thread the workbench renders from Markdown.
		await page.keyboard.press('Enter');
		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor({ state: 'detached' });
		const thread = page.locator('.review-widget', { hasText: 'admins only' }).first();
		await thread.waitFor();
		const inline = await liveness(thread);
		assertInert(inline, 'the inline explanation');
		assert.ok(
			inline.text.includes('bidi /*<U+202E> } <U+2066>if (isAdmin)<U+2069>'),
			`bidi controls are shown as code points:\n${inline.text}`,
		);
		assert.ok(inline.text.includes('term <U+001B>[31mred'), 'terminal escapes are shown as code points');
		// VS Code would drop raw HTML from the thread; it is shown as text, as the picker shows it.
		assert.ok(
			inline.text.includes(`<script>window.pwned = 'script'`),
			`raw HTML is shown as text inline:\n${inline.text.slice(0, 2000)}`,
		);
		assert.ok(inline.text.includes('<img src=x onerror='), 'an HTML image is shown as text inline');
		for (const alt of ['[image: pixel]', '[image: ref pixel]', 'nested [bracket] pixel'])
			assert.ok(inline.text.includes(alt), `an image is shown as its alt text, ${alt}:\n${inline.text.slice(0, 2000)}`);
		assert.strictEqual(await page.evaluate(() => /** @type {any} */ (window).pwned), undefined, 'nothing ran in the workbench');
		await thread.scrollIntoViewIfNeeded();
		await h.screenshot(page, 'e2e-hostile-explain-inline');
		// The Comments panel lists the thread too, by its first line.
		await h.runCommand(page, 'Comments: Focus on Comments View');
		const listed = page.locator('.comments-panel .monaco-list-row', { hasText: 'Best-of-N' }).first();
		await listed.waitFor();
		assertInert(await liveness(page.locator('.comments-panel')), 'the Comments panel');
		assert.deepStrictEqual(beacon.requests, [], 'nothing was fetched');
	});

	it('the ranking report shows hostile ranker names from the preference log as text', async () => {
		// The log is anyone's to write: ranker labels, reward model ids and candidates carry the reply.
		const hostileName = `<img src=x onerror="window.pwned = 'report'; fetch('${beacon.url}/report')">\u202e evil \x1b[31m`;
		const records = [];
		for (let i = 0; i < 6; i++) {
			const reward = i % 2 === 0;
			records.push({
				v: 1,
				time: new Date(Date.parse('2026-03-02T09:00:00Z') + i * 3600_000).toISOString(),
				task: 'rewrite',
				instruction: reply.slice(0, 400),
				messages: [{ role: 'user', content: reply }],
				prompt: reply,
				languageId: 'javascript',
				model: hostileName,
				backend: 'ollama',
				host: 'http://127.0.0.1:11434',
				ranker: reward ? { kind: 'reward', label: hostileName } : { kind: 'consensus', label: `${hostileName} consensus` },
				...(reward ? { rewardModel: hostileName } : {}),
				candidates: [reply, `${reply}\nsecond`].map((text, id) => ({ id, text, seed: id, score: 1 - id, rank: id + 1, count: 1 })),
				chosen: i % 3 === 0 ? 1 : 0,
			});
		}
		const log = h.preferenceLogPath(wb);
		fs.mkdirSync(path.dirname(log), { recursive: true });
		fs.appendFileSync(log, `${records.map(r => JSON.stringify(r)).join('\n')}\n`);

		await h.runCommand(page, 'Best-of-N: Show Ranking Report');
		const report = (shownFrame = await h.webviewTitled(page, 'Best-of-N: Ranking Report'));
		await report.locator('h2', { hasText: 'Top-1 agreement per ranker' }).waitFor();
		const names = await report.locator('table').first().locator('tbody th').allTextContents();
		const shownName = `<img src=x onerror="window.pwned = 'report'; fetch('${beacon.url}/report')"><U+202E> evil <U+001B>[31m`;
		assert.ok(
			names.includes(shownName),
			`the reward model's id is shown as text, hidden characters as code points: ${JSON.stringify(names)}`,
		);
		assert.ok(names.includes(`${shownName} consensus`), 'and so is the consensus ranker’s label');
		const labels = await report.locator('svg.chart text.name').allTextContents();
		assert.ok(
			labels.length > 0 && !labels.some(l => HIDDEN.test(l)),
			`chart labels show no hidden character: ${JSON.stringify(labels)}`,
		);
		const live = await liveness(report.locator('body'));
		assertInert(live, 'the report');
		assertOnlyBundle(live, 'the report');
		assert.deepStrictEqual(live.hrefs, [], 'no link in the report');
		await h.screenshot(page, 'e2e-hostile-report');
		assert.deepStrictEqual(beacon.requests, [], 'nothing was fetched');
	});
});
